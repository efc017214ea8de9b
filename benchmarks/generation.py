"""Tokens per second of greedy generation: ours with and without the KV cache, batched, int8, vs ``transformers``.

    python benchmarks/generation.py                       # every part: GPT-2 124M, 16-token prompt, 256 new tokens, ...
    python benchmarks/generation.py --parts batch formats # only some parts (cache, batch, kernels, formats, eval)
    python benchmarks/generation.py --preset tiny --new-tokens 50
    python benchmarks/generation.py --tiny                # a smoke run in seconds (the test suite runs it)
    python benchmarks/generation.py --no-reference        # skip HuggingFace transformers
    python benchmarks/generation.py --threads 1 --clock cpu   # one thread, process CPU time (crowded machine)

Batch 1, float32, greedy. The weights are random (GPT-2's initialization): speed does not depend on
what the weights are, and nothing is downloaded. The same model in HuggingFace ``transformers``
(``GPT2LMHeadModel.generate``, greedy, its own KV cache) gets our weights, and every variant must
produce exactly the same tokens (checked; a mismatch prints ERROR). Variants:

- ours, KV cache (``generate``'s default), SDPA attention (the package default);
- ours, KV cache, chapter 3's teaching attention (``attn_impl="teaching"``, same weights);
- ours without the cache (the whole sequence again at every step);
- transformers with its cache.

The variants run in turn, one generation each per round, ``--rounds`` rounds after a short warm-up;
the medians give the ratios (part ``cache``). At batch 1 every step reads every weight once (the output layer
alone, the tied 50,257 x 768 token table, is 154 MB in float32), so the bound is
``bytes read per token / memory bandwidth``: the weights that take part in matrix multiplies
(all but the position table) plus the KV cache read at the average position, against this
machine's measured read bandwidth (``_harness.memory_bandwidth``). The printout says how close
each variant gets to that bound.

The other parts, in the same run:

- ``batch``: batches of 1, 8 and 32 ragged prompts (left-padded), ours (``generate`` with an
  ``attention_mask``) against transformers' batched ``generate`` on the same weights, tokens/s and
  identical greedy tokens per row; also ours with the weights stored ``(in, out)``
  (``weights.layout.to_in_out_layout``, the layout of transformers' ``Conv1D``: the BLAS kernel
  differs, see ``profile_generation.py``'s ``kernel`` part);
- ``kernels``: one 768 x 3072 layer at batch 1 in every int8 path PyTorch offers (and bf16), as a
  ratio to fp32; 48 copies in turn, so the weights come from memory, not from a cache;
- ``formats``: SmolLM2-135M-Instruct (real weights; the offline model of chapters 6-7) in fp32,
  bf16 and int8 (the default ``int8pack`` kernel, and the opt-in ``dynamic`` one): tokens/s at
  batch 1, weight memory, the largest logit difference and greedy-token agreement with fp32 over
  128 tokens on 8 held-out prompts (``formats.greedy_agreement``), and the probe's choice;
- ``eval``: chapter 7's evaluation (``respond_all`` over the test split, 32 new tokens, SmolLM2)
  one prompt at a time against batched; identical answers checked.
"""

from __future__ import annotations

import argparse
import sys
import time

import _harness as H  # noqa: F401  (puts shared/ on sys.path)
import torch

from llmscratch.device import get_device  # noqa: E402
from llmscratch.model.batched import left_pad  # noqa: E402
from llmscratch.model.config import PRESETS  # noqa: E402
from llmscratch.model.generate import generate  # noqa: E402
from llmscratch.model.gpt import GPTModel, count_parameters  # noqa: E402

PARTS = ("cache", "batch", "kernels", "formats", "eval")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--parts", nargs="+", default=list(PARTS), choices=PARTS)
    parser.add_argument("--preset", default="gpt2-124M", choices=sorted(PRESETS))
    parser.add_argument("--prompt-tokens", type=int, default=16)
    parser.add_argument("--new-tokens", type=int, default=256)
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument("--batch-new-tokens", type=int, default=64)
    parser.add_argument(
        "--eval-entries", type=int, default=48, help="test prompts of chapter 7 in the eval part"
    )
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--device", default=None, help="cpu, cuda or mps (default: best available)")
    parser.add_argument(
        "--threads", type=int, default=None, help="CPU threads for torch (default: torch's choice)"
    )
    parser.add_argument(
        "--clock",
        choices=("wall", "cpu"),
        default="wall",
        help="wall-clock time (default) or process CPU time (steadier under load with 1 thread)",
    )
    parser.add_argument("--no-reference", action="store_true", help="do not time HuggingFace transformers")
    parser.add_argument("--tiny", action="store_true", help="smoke run: tiny models, a few tokens, 1 round")
    args = parser.parse_args()
    if args.tiny:
        args.preset, args.prompt_tokens, args.new_tokens, args.rounds = "tiny", 4, 8, 1
        args.batches, args.batch_new_tokens, args.eval_entries = [1, 3], 6, 6
    if args.threads:
        torch.set_num_threads(args.threads)
    args.clock_fn = time.process_time if args.clock == "cpu" else time.perf_counter
    args.device = get_device(args.device)
    print(H.machine_info("float32 (and bf16 / int8 in the formats part)"))
    status = 0
    for part in args.parts:
        print(f"\n=== {part}: load average {H.load_average()} ===")
        status |= {
            "cache": part_cache,
            "batch": part_batch,
            "kernels": part_kernels,
            "formats": part_formats,
            "eval": part_eval,
        }[part](args)
    return status


def _gpt_model(args):
    cfg = PRESETS[args.preset].with_(drop_rate=0.0)
    torch.manual_seed(123)
    return GPTModel(cfg).to(args.device).eval()


def _hf_gpt2(model, device):
    try:
        import transformers
    except ImportError:
        return None
    from llmscratch.weights.gpt2 import hf_config_kwargs, to_gpt2_state_dict

    hf = (
        transformers.GPT2LMHeadModel(transformers.GPT2Config(**hf_config_kwargs(model.cfg))).to(device).eval()
    )
    hf.load_state_dict(to_gpt2_state_dict(model))
    return hf


def part_cache(args) -> int:
    """Batch 1: ours with and without the cache, teaching attention, transformers."""
    device, clock = args.device, args.clock_fn
    model = _gpt_model(args)
    cfg = model.cfg
    prompt = torch.randint(0, cfg.vocab_size, (1, args.prompt_tokens), device=device)
    print(
        f"{args.preset}: {count_parameters(model):,} parameters (random init), device {device}; greedy, batch 1, "
        f"{args.prompt_tokens}-token prompt, {args.new_tokens} new tokens; "
        f"{'process CPU time' if args.clock == 'cpu' else 'wall-clock time'}; {args.rounds} interleaved rounds, medians\n"
    )
    teaching = (
        GPTModel(cfg.with_(attn_impl="teaching")).to(device).eval()
    )  # same weights, chapter 3's arithmetic
    teaching.load_state_dict(model.state_dict())
    outputs: dict[str, torch.Tensor] = {}

    def run(name, fn):
        def call():
            outputs[name] = fn()

        return call

    def calls(n: int) -> dict:
        """Each variant generating ``n`` new tokens."""
        fns = {
            "ours, KV cache": lambda: generate(model, prompt, n),
            "ours, KV cache, teaching attention": lambda: generate(teaching, prompt, n),
            "ours, no cache": lambda: generate(model, prompt, n, use_cache=False),
        }
        if hf is not None:
            kwargs = dict(
                attention_mask=torch.ones_like(prompt),
                max_new_tokens=n,
                min_new_tokens=n,
                do_sample=False,
                pad_token_id=0,
                use_cache=True,
            )
            fns[hf_name] = torch.no_grad()(lambda: hf.generate(prompt, **kwargs))
        return fns

    hf, hf_name = None, None
    if not args.no_reference:
        hf = _hf_gpt2(model, device)
        if hf is None:
            print("(transformers not installed: no reference timing)")
        else:
            import transformers

            hf_name = f"transformers {transformers.__version__}, KV cache"
    # Warm-up: 8 new tokens per variant, not a whole run (the uncached one would take as long as a timed round).
    for fn in calls(min(8, args.new_tokens)).values():
        fn()
    variants = {name: run(name, fn) for name, fn in calls(args.new_tokens).items()}
    times = H.interleaved(variants, rounds=args.rounds, warmup=0, device=device, clock=clock)
    rate = {name: args.new_tokens / H.median(t) for name, t in times.items()}
    reference = outputs["ours, KV cache"]
    for name, out in outputs.items():
        if not torch.equal(out, reference):
            print(f"ERROR: {name} generated different tokens from ours with the KV cache")
            return 1
    print(f"identical tokens from all {len(outputs)} variants: True")

    weight_bytes = (
        sum(p.numel() * p.element_size() for p in model.parameters()) - model.emb.pos_emb.weight.numel() * 4
    )
    mean_len = args.prompt_tokens + args.new_tokens / 2
    kv_bytes = 2 * cfg.n_layers * mean_len * cfg.emb_dim * 4  # keys and values of every layer, float32
    bandwidth = H.memory_bandwidth(1 << 26 if args.tiny else 1 << 30, clock=clock)
    bound = bandwidth / (weight_bytes + kv_bytes)
    print(
        f"bound: {(weight_bytes + kv_bytes) / 1e6:.0f} MB read per token ({weight_bytes / 1e6:.0f} MB weights + "
        f"{kv_bytes / 1e6:.1f} MB KV cache at the mean position) / {bandwidth / 1e9:.1f} GB/s measured read bandwidth "
        f"= {bound:.1f} tokens/s\n"
    )
    width = max(map(len, rate))
    for name, r in rate.items():
        print(f"{name:<{width}}  {r:8.1f} tokens/s  ({100 * r / bound:5.1f}% of the bandwidth bound)")
    print(
        f"\nKV cache speed-up (ours, cached / uncached): {rate['ours, KV cache'] / rate['ours, no cache']:.2f}x"
    )
    print(
        f"sdpa / teaching attention (ours, KV cache): {rate['ours, KV cache'] / rate['ours, KV cache, teaching attention']:.2f}x"
    )
    if hf_name:
        print(f"ours / transformers (KV cache, tokens/s): {rate['ours, KV cache'] / rate[hf_name]:.2f}x")
    return 0


def part_batch(args) -> int:
    """Batches of ragged prompts: ours against transformers' batched generate, same weights, same prompts."""
    device, n = args.device, args.batch_new_tokens
    import copy

    from llmscratch.weights.layout import to_in_out_layout

    model = _gpt_model(args)
    hf = None if args.no_reference else _hf_gpt2(model, device)
    moved = to_in_out_layout(copy.deepcopy(model))  # same weights stored (in, out), as GPT-2's Conv1D
    g = torch.Generator().manual_seed(0)
    shortest, longest = (2, 5) if args.tiny else (8, 24)
    print(
        f"{args.preset} (random init), greedy, prompts of {shortest} to {longest} tokens left-padded with an attention "
        f"mask, {n} new tokens (no end token); {args.rounds} interleaved rounds, medians"
    )
    status, first = 0, None
    for b in args.batches:
        lengths = torch.randint(shortest, longest + 1, (b,), generator=g).tolist()
        ids, mask = left_pad(
            [torch.randint(0, model.cfg.vocab_size, (k,), generator=g).tolist() for k in lengths]
        )
        ids, mask = ids.to(device), mask.to(device)
        outputs: dict[str, torch.Tensor] = {}
        fns = {
            "ours": lambda outputs=outputs, ids=ids, mask=mask: outputs.__setitem__(
                "ours", generate(model, ids, n, attention_mask=mask)
            ),
            "ours (in, out)": lambda outputs=outputs, ids=ids, mask=mask: outputs.__setitem__(
                "ours (in, out)", generate(moved, ids, n, attention_mask=mask)
            ),
        }
        if hf is not None:
            fns["transformers"] = lambda outputs=outputs, ids=ids, mask=mask: outputs.__setitem__(
                "transformers",
                hf.generate(
                    ids,
                    attention_mask=mask,
                    max_new_tokens=n,
                    min_new_tokens=n,
                    do_sample=False,
                    pad_token_id=0,
                ),
            )
        times = H.interleaved(fns, rounds=args.rounds, warmup=1, device=device, clock=args.clock_fn)
        rate = {name: b * n / H.median(t) for name, t in times.items()}
        first = first or rate["ours"]
        line = f"batch {b:>3}: ours {rate['ours']:7.1f} tokens/s ({rate['ours'] / first:4.1f}x batch {args.batches[0]})"
        if hf is not None:
            same = torch.equal(outputs["ours"].cpu(), outputs["transformers"].cpu())
            line += f" | transformers {rate['transformers']:7.1f} tokens/s | identical tokens: {same}"
            line += f"\nbatch {b}: ours / transformers (batched generate, tokens/s): {rate['ours'] / rate['transformers']:.2f}x"
            line += (
                f"\nbatch {b}: ours with (in, out) weights (weights.layout) / transformers: "
                f"{rate['ours (in, out)'] / rate['transformers']:.2f}x; same tokens as ours: "
                f"{torch.equal(outputs['ours (in, out)'].cpu(), outputs['ours'].cpu())}"
            )
            if not same:
                print(f"ERROR: batch {b}: transformers generated different tokens")
                status = 1
        print(line)
    return status


def part_kernels(args) -> int:
    """One linear layer at batch 1 in every int8 path PyTorch offers, as a ratio to fp32 (same process)."""
    import warnings

    import torch.nn.functional as F

    from llmscratch.weights.quantize import Int8Linear, quantize_per_channel

    k_in, k_out, copies = (64, 256, 2) if args.tiny else (768, 3072, 48)
    torch.manual_seed(0)
    linears = [torch.nn.Linear(k_in, k_out, bias=False) for _ in range(copies)]
    x = torch.randn(1, k_in)
    xb = x.bfloat16()
    qs = [quantize_per_channel(lin.weight) for lin in linears]
    wb = [lin.weight.detach().bfloat16() for lin in linears]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dynamic = [Int8Linear(q, s, kernel="dynamic") for q, s in qs]
    sb = [s.bfloat16() for _, s in qs]
    xq = torch.clamp(torch.round(x / (x.abs().max() / 127)), -127, 127).to(torch.int8)

    candidates = {
        "fp32 F.linear": lambda: [F.linear(x, lin.weight) for lin in linears],
        "bf16 weights + activations, F.linear": lambda: [F.linear(xb, w) for w in wb],
        "aten._weight_int8pack_mm, fp32 activations": lambda: [
            torch.ops.aten._weight_int8pack_mm(x, q, s) for q, s in qs
        ],
        "aten._weight_int8pack_mm, bf16 activations": lambda: [
            torch.ops.aten._weight_int8pack_mm(xb, q, s2) for (q, _), s2 in zip(qs, sb)
        ],
        f"quantized.linear_dynamic ({torch.backends.quantized.engine} engine, int8 activations)": lambda: [
            m(x) for m in dynamic
        ],
        "dequantize to fp32, then F.linear": lambda: [F.linear(x, q.float() * s[:, None]) for q, s in qs],
        "dequantize to bf16, then F.linear": lambda: [
            F.linear(xb, q.bfloat16() * s2[:, None]) for (q, _), s2 in zip(qs, sb)
        ],
        "torch._int_mm (int8 x int8 -> int32)": lambda: [torch._int_mm(xq, q.t()) for q, _ in qs],
    }
    usable = {}
    for name, fn in candidates.items():
        try:
            fn()
            usable[name] = fn
        except (RuntimeError, NotImplementedError) as err:
            print(f"{name}: unavailable here ({str(err).splitlines()[0][:90]})")
    times = H.interleaved(usable, rounds=args.rounds, warmup=1, clock=args.clock_fn, progress=False)
    base = H.median(times["fp32 F.linear"]) / copies
    print(
        f"one {k_in} x {k_out} layer (as {k_in} -> {k_out}) at batch 1, {copies} different copies in turn "
        f"({copies * k_in * k_out * 4 / 1e6:.0f} MB in fp32); speed as a ratio to fp32:"
    )
    for name, t in times.items():
        per = H.median(t) / copies
        print(f"  {name:<62} {per * 1e6:8.1f} us   {base / per:5.2f}x")
    return 0


def _llama_for_formats(args):
    """SmolLM2-135M-Instruct and its tokenizer; a tiny random Llama and a byte tokenizer with --tiny."""
    if args.tiny:
        from llmscratch.model.llama import LLAMA_TINY, LlamaModel

        torch.manual_seed(0)
        model = LlamaModel(LLAMA_TINY.with_(context_length=512)).eval()

        class Bytes:
            eos_id = 0

            def encode(self, text):
                return list(text.encode("utf-8"))

            def decode(self, ids):
                return bytes(ids).decode("utf-8", errors="replace")

        return model, Bytes(), "a tiny random Llama (smoke run)"
    from llmscratch.weights.smollm import load_smollm2

    model, tok = load_smollm2()
    return model.eval(), tok, "SmolLM2-135M-Instruct (GGUF Q4 weights, dequantized to fp32)"


HELD_OUT = [  # prompts we wrote for this benchmark (not from any training set)
    "Explain why the sky looks blue during the day and red at sunset.",
    "Write a short story about a lighthouse keeper who finds a message in a bottle.",
    "List five things to check before a long bicycle ride, and say why each matters.",
    "What is the difference between weather and climate? Give an example of each.",
    "Describe how a bread dough rises, step by step.",
    "Give three tips for learning to play the guitar as an adult.",
    "Why do cats purr? Answer in a short paragraph.",
    "Write a polite email asking a neighbour to move their car from my driveway.",
]


def part_formats(args) -> int:
    """fp32 / bf16 / int8 weights: speed at batch 1, memory, logit difference, greedy agreement on held-out prompts."""
    import copy

    from llmscratch.weights.formats import choose_weight_format, greedy_agreement
    from llmscratch.weights.quantize import default_int8_kernel, quantize_for_generation, weight_bytes

    model, tok, name = _llama_for_formats(args)
    n = 8 if args.tiny else 128
    if args.tiny:
        prompts = [torch.tensor([tok.encode(p)[:20]]) for p in HELD_OUT]
    else:
        from llmscratch.weights.smollm import encode_chat

        prompts = [torch.tensor([encode_chat(tok, [{"role": "user", "content": p}])]) for p in HELD_OUT]
    default = default_int8_kernel()
    print(
        f"{name}; greedy, batch 1, {n} new tokens; {len(HELD_OUT)} held-out prompts of our own for agreement: "
        f"each format is fed fp32's greedy tokens one at a time through its KV cache (as when decoding) and "
        f"scored on whether it picks the same next token; identical prefix = tokens before the first "
        f"disagreement (what free-running greedy shares with fp32). int8 kernels: {default} is the default, "
        f"dynamic (8-bit activations too) is opt-in"
    )
    variants = {"fp32": model}
    for fmt, kernel in (("bf16", default), ("int8", "int8pack"), ("int8", "dynamic")):
        variants[f"{fmt}" + ("" if fmt == "bf16" else f" {kernel}")] = quantize_for_generation(
            copy.deepcopy(model), fmt, kernel=kernel
        )
    reference = [generate(model, p, n)[0, p.shape[1] :] for p in prompts]  # fp32's greedy tokens
    fp32_bytes = weight_bytes(model)
    rows = {}
    for label, m in variants.items():
        if m is model:  # the reference agrees with itself by definition
            rows[label] = (None, None, 0.0, 1.0)
            continue
        agree, same_prefix, diff = 0, 0, 0.0
        for p, ref in zip(prompts, reference):
            scored = greedy_agreement(m, p, ref)
            agree, same_prefix = agree + scored.agreed, same_prefix + scored.identical_prefix
            with torch.no_grad():  # the logits over the whole sequence, teacher-forced, against fp32's
                full = torch.cat([p[0], ref]).unsqueeze(0)[:, :-1]
                diff = max(diff, float((m(full).float() - model(full)).abs().max()))
        rows[label] = (
            agree / (n * len(prompts)),
            same_prefix / (n * len(prompts)),
            diff,
            weight_bytes(m) / fp32_bytes,
        )
    outputs = {}
    fns = {
        label: (lambda m=m, label=label: outputs.__setitem__(label, generate(m, prompts[1], n)))
        for label, m in variants.items()
    }
    times = H.interleaved(fns, rounds=args.rounds, warmup=1, clock=args.clock_fn)
    fp32_rate = n / H.median(times["fp32"])
    print(
        f"{'format':<14} {'tokens/s':>9} {'vs fp32':>8} {'weight memory':>14} {'max |logit diff|':>17} "
        f"{'greedy agreement':>17} {'identical prefix':>17}"
    )
    pct = lambda v: "(reference)" if v is None else f"{100 * v:.1f}%"  # noqa: E731
    for label, (agree, prefix, diff, mem) in rows.items():
        rate = n / H.median(times[label])
        print(
            f"{label:<14} {rate:9.1f} {rate / fp32_rate:7.2f}x {mem:13.3f}x {diff:17.3f} {pct(agree):>17} {pct(prefix):>17}"
        )
    label = f"int8 {default}"  # the kernel int8 uses unless told otherwise: the one the targets are about
    if label in rows:
        print(
            f"int8 ({label.split()[1]} kernel, the default) / fp32 tokens/s: {(n / H.median(times[label])) / fp32_rate:.2f}x; "
            f"weight memory {rows[label][3]:.3f}x; greedy-token agreement {100 * rows[label][0]:.1f}% over {n} tokens "
            f"x {len(prompts)} prompts"
        )
    fmt, kernel = choose_weight_format(model, batch=1)
    chosen = fmt if fmt != "int8" else f"int8 {kernel}"
    print(
        f"automatic weight format: {chosen}; its speed in the table above: "
        f"{(n / H.median(times[chosen])) / fp32_rate:.2f}x fp32"
    )
    return 0


def part_eval(args) -> int:
    """Chapter 7's evaluation: respond_all one prompt at a time against batched, same answers."""
    from llmscratch.finetune.instruct import respond_all
    from llmscratch.finetune.instruct_data import load_instructions, split_instructions

    model, tok, name = _llama_for_formats(args)
    entries = split_instructions(load_instructions(), seed=123).test
    subset = entries[: args.eval_entries]
    kwargs = {"max_new_tokens": 8 if args.tiny else 32, "eos_id": tok.eos_id, "progress": False}
    print(
        f"{name}; chapter 7's test split: the first {len(subset)} of its {len(entries)} prompts (a subset, to keep the "
        f"one-by-one run short), {kwargs['max_new_tokens']} new tokens, greedy, stopping at the end token"
    )
    start = args.clock_fn()
    one = respond_all(model, subset, tok.encode, tok.decode, batch_size=1, **kwargs)
    t_one = args.clock_fn() - start
    print(f"one by one:     {t_one:7.1f} s")
    status, best = 0, None
    for batch_size in [4] if args.tiny else [8, 16, 32]:
        start = args.clock_fn()
        batched = respond_all(model, subset, tok.encode, tok.decode, batch_size=batch_size, **kwargs)
        t = args.clock_fn() - start
        same = batched == one
        print(
            f"batch size {batch_size:>2}:  {t:7.1f} s   {t_one / t:5.2f}x faster   identical answers: {same} "
            f"({sum(a == b for a, b in zip(batched, one))} of {len(one)})"
        )
        if not same:
            status = 1
            print(
                f"ERROR: batched answers differ at {[i for i, (a, b) in enumerate(zip(batched, one)) if a != b][:10]}"
            )
        best = max(best or 0, t_one / t)
    print(f"chapter 7 evaluation, batched / one by one (best batch size): {best:.2f}x")
    return status


if __name__ == "__main__":
    sys.exit(main())
