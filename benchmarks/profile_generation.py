"""Where the time of generation goes, measured: op groups per decode step, bytes moved, the bound.

    python benchmarks/profile_generation.py --threads 1        # every part (a few minutes at one thread)
    python benchmarks/profile_generation.py --parts batch int8 # only some parts (kernel, batch, int8, eval)
    python benchmarks/profile_generation.py --tiny             # a smoke run in seconds (the test suite runs it)

``generation.py`` measures the ratios; this script explains the ones that miss their target, on the
same models and prompts, in one run. ``torch.profiler`` (CPU) records every op while the model
generates; forward hooks mark each forward pass as *prefill* (more than one new token) or *decode*
(one). Each op that is not inside another op is put in a group (``_profiling.GROUPS``); what is left of the
wall time is Python and dispatcher work between ops. A decode step is one decode forward pass plus
its share of the loop around it (picking the token, growing the sequence).

Bytes per decode step: every weight a matrix multiply reads (once per step, whatever the batch)
plus the keys and values the cache holds at the mean position; divided by the measured step time
(without the profiler) this is the achieved GB/s, compared with the machine's read bandwidth
measured in the same run (``_harness.memory_bandwidth``). FLOPs per step (2 per weight per row)
against the measured matmul peak likewise. The verdict line names the bound those numbers show.

Parts: ``kernel`` (one 768 x 3072 linear at batch 1, 8 and 32 in both weight layouts: ours,
``F.linear`` on ``(out, in)``, and transformers GPT-2's ``Conv1D``, ``addmm`` on ``(in, out)``);
``batch`` (GPT-2 124M, batch 8, ours vs transformers' batched ``generate``, generation.py's
prompts); ``int8`` (SmolLM2 fp32 vs int8 ``int8pack`` at batch 1); ``eval`` (chapter 7's
evaluation, one by one vs batched: prefill, padding, finished rows, decode, the loop). Only ratios and
shares are meant to be read; absolute times depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import copy
import sys
import time

import _harness as H  # noqa: F401  (puts shared/ on sys.path)
import torch
from _profiling import (
    NO_OP,
    PHASES,
    Marked,
    bytes_line,
    linear_weight_bytes,
    profiled,
    step_table,
    unprofiled_step,
)

PARTS = ("kernel", "batch", "int8", "eval")


def part_kernel(args) -> int:
    """One linear layer in both weight layouts at the batch sizes of generation.py."""
    import torch.nn.functional as F

    k_in, k_out, copies = (64, 256, 2) if args.tiny else (768, 3072, 24)
    torch.manual_seed(0)
    w = [torch.randn(k_out, k_in) for _ in range(copies)]
    wt = [x.t().contiguous() for x in w]
    bias = torch.zeros(k_out)
    print(
        f"one {k_in} -> {k_out} linear, {copies} copies in turn (weights from memory), fp32; GB/s of weights read"
    )
    for m in (1, 8, 32):
        x = torch.randn(m, k_in)
        fns = {
            "ours (F.linear, (out, in))": lambda x=x: [F.linear(x, a, bias) for a in w],
            "transformers GPT-2 Conv1D (addmm, (in, out))": lambda x=x: [torch.addmm(bias, x, a) for a in wt],
        }
        t = {
            k: H.median(v) / copies
            for k, v in H.interleaved(fns, rounds=args.rounds, clock=args.clock_fn, progress=False).items()
        }
        a, b = t.values()
        gbs = [k_in * k_out * 4 / s / 1e9 for s in (a, b)]
        print(
            f"  batch {m:>2}: ours {gbs[0]:5.2f} GB/s, Conv1D layout {gbs[1]:5.2f} GB/s; ours / Conv1D speed {b / a:.2f}x"
        )
    return 0


def _gpt_batch(args):
    """generation.py's GPT-2 (random init, seed 123) and its batch-``args.batch`` prompts (same generator draws)."""
    from generation import _gpt_model, _hf_gpt2

    from llmscratch.model.batched import left_pad

    model = _gpt_model(args)
    g = torch.Generator().manual_seed(0)
    shortest, longest = (2, 5) if args.tiny else (8, 24)
    for b in [1, args.batch] if args.batch != 1 else [1]:  # generation.py draws batch 1's prompts first
        lengths = torch.randint(shortest, longest + 1, (b,), generator=g).tolist()
        ids, mask = left_pad(
            [torch.randint(0, model.cfg.vocab_size, (k,), generator=g).tolist() for k in lengths]
        )
    return model, _hf_gpt2(model, "cpu"), ids, mask


def part_batch(args) -> int:
    """Batch 8 decode step: ours vs transformers, same weights and prompts as generation.py's batch part."""
    from llmscratch.model.generate import generate

    model, hf, ids, mask = _gpt_batch(args)
    k = args.decode_steps
    b, cfg = ids.shape[0], model.cfg
    print(
        f"{args.preset} (random init), batch {b}, generation.py's prompts ({ids.shape[1]} columns left-padded), {k} decode steps"
    )

    def ours(n):
        return lambda: generate(model, ids, n, attention_mask=mask)

    def theirs(n):
        kw = dict(attention_mask=mask, max_new_tokens=n, min_new_tokens=n, do_sample=False, pad_token_id=0)
        return lambda: hf.generate(ids, **kw)

    out_ours, out_hf = ours(1 + k)(), theirs(1 + k)()
    print(f"  identical tokens: {torch.equal(out_ours, out_hf)}")
    t = unprofiled_step(
        {"o1": ours(1), "oK": ours(1 + k), "h1": theirs(1), "hK": theirs(1 + k)}, args.clock_fn, args.rounds
    )
    step = {"ours": (t["oK"] - t["o1"]) / k, "transformers": (t["hK"] - t["h1"]) / k}
    print(
        f"  decode step without the profiler, ours / transformers speed: {step['transformers'] / step['ours']:.2f}x"
    )
    rows = {"ours": profiled(model, ours(1 + k)), "transformers": profiled(hf, theirs(1 + k))}
    per = step_table(rows, "ours", step)
    bw, peak = args.bandwidth, args.peak
    weights = sum(p.numel() * 4 for p in model.parameters()) - model.emb.pos_emb.weight.numel() * 4
    mean_len = ids.shape[1] + k / 2
    kv = b * 2 * cfg.n_layers * mean_len * cfg.emb_dim * 4
    flops = 2 * (weights / 4) * b
    for name in rows:
        python = per[name][NO_OP] / sum(per[name].values())
        bytes_line(name, step[name], weights, kv, flops, bw, peak, python)
    lin = {n: per[n]["linear"] for n in per}
    rest = {n: sum(per[n].values()) - lin[n] for n in per}
    print(
        f"  linear time per step, ours / transformers: {lin['ours'] / lin['transformers']:.2f}x; everything else, "
        f"ours / transformers: {rest['ours'] / rest['transformers']:.2f}x"
    )
    print(
        f"batch {b} decode step: linear share ours {100 * lin['ours'] / sum(per['ours'].values()):.0f}%, "
        f"transformers {100 * lin['transformers'] / sum(per['transformers'].values()):.0f}%; "
        f"ceiling for ours / transformers with our linear time and no other cost: "
        f"{sum(per['transformers'].values()) / lin['ours']:.2f}x"
    )
    return 0


def part_int8(args) -> int:
    """SmolLM2 at batch 1: fp32 vs int8 (int8pack) decode step."""
    from generation import HELD_OUT, _llama_for_formats

    from llmscratch.model.generate import generate
    from llmscratch.weights.quantize import quantize_for_generation

    model, tok, name = _llama_for_formats(args)
    if args.tiny:
        prompt = torch.tensor([tok.encode(HELD_OUT[1])[:20]])
    else:
        from llmscratch.weights.smollm import encode_chat

        prompt = torch.tensor([encode_chat(tok, [{"role": "user", "content": HELD_OUT[1]}])])
    int8 = quantize_for_generation(copy.deepcopy(model), "int8", kernel="int8pack")
    k, cfg = args.decode_steps, model.cfg
    print(f"{name}, batch 1, generation.py's formats prompt ({prompt.shape[1]} tokens), {k} decode steps")
    variants = {"fp32": model, "int8pack": int8}
    fns = {
        f"{v}{n}": (lambda m=m, n=n: generate(m, prompt, n)) for v, m in variants.items() for n in (1, 1 + k)
    }
    t = unprofiled_step(fns, args.clock_fn, args.rounds)
    step = {v: (t[f"{v}{1 + k}"] - t[f"{v}1"]) / k for v in variants}
    print(
        f"  decode step without the profiler, int8pack / fp32 speed: {step['fp32'] / step['int8pack']:.2f}x"
    )
    rows = {v: profiled(m, lambda m=m: generate(m, prompt, 1 + k)) for v, m in variants.items()}
    per = step_table(rows, "fp32", step)
    kv = 2 * cfg.n_layers * (prompt.shape[1] + k / 2) * cfg.n_kv_heads * cfg.head_dim * 4
    fp32_weights = linear_weight_bytes(model)
    for v, m in variants.items():
        python = per[v][NO_OP] / sum(per[v].values())
        bytes_line(
            v, step[v], linear_weight_bytes(m), kv, 2 * fp32_weights / 4, args.bandwidth, args.peak, python
        )
        lin_gbs = linear_weight_bytes(m) / (per[v]["linear"] / sum(per[v].values()) * step[v]) / 1e9
        print(
            f"    its linear ops alone read weights at {lin_gbs:.2f} GB/s ({100 * lin_gbs * 1e9 / args.bandwidth:.0f}% of the bandwidth)"
        )
    lin = {v: per[v]["linear"] for v in per}
    rest = {v: sum(per[v].values()) - lin[v] for v in per}
    need = lin["fp32"] / (sum(per["fp32"].values()) / 1.5 - rest["int8pack"])
    print(
        f"int8pack / fp32 at batch 1: linear ops {lin['fp32'] / lin['int8pack']:.2f}x faster, the rest "
        f"{rest['fp32'] / rest['int8pack']:.2f}x (share of fp32's step outside linear ops: "
        f"{100 * rest['fp32'] / sum(per['fp32'].values()):.0f}%); 1.5x overall needs linear ops "
        + (f"{need:.2f}x faster" if need > 0 else "impossibly fast (the rest alone exceeds the budget)")
    )
    return 0


def part_eval(args) -> int:
    """Chapter 7's evaluation: where one-by-one and batched spend their time."""
    from generation import _llama_for_formats

    from llmscratch.finetune.instruct import respond_all
    from llmscratch.finetune.instruct_data import load_instructions, split_instructions

    model, tok, name = _llama_for_formats(args)
    subset = split_instructions(load_instructions(), seed=123).test[: args.eval_entries]
    bs = len(subset)
    kw = {"max_new_tokens": 8 if args.tiny else 32, "eos_id": tok.eos_id, "progress": False}
    print(
        f"{name}; chapter 7's first {len(subset)} test prompts, {kw['max_new_tokens']} new tokens, greedy; one by one vs batch size {bs}"
    )
    result, answers = {}, {}
    for label, size in (("one by one", 1), (f"batch {bs}", bs)):
        marked = Marked(model, clock=args.clock_fn)
        try:
            start = args.clock_fn()
            answers[size] = respond_all(model, subset, tok.encode, tok.decode, batch_size=size, **kw)
            result[label] = (args.clock_fn() - start, marked.calls)
        finally:
            marked.remove()
    print(f"  identical answers: {answers[1] == answers[bs]}")
    one, bat = result["one by one"], result[f"batch {bs}"]
    phase = lambda r, p: (
        sum(c[4] for c in r[1] if c[0] == p) if p in PHASES else r[0] - sum(c[4] for c in r[1])
    )  # noqa: E731
    print(
        f"  {'time (clock: ' + args.clock + '), % of the one-by-one total':<48}{'one by one':>12}{f'batch {bs}':>12}"
    )
    for p, what in (
        ("prefill", "prefill passes"),
        ("decode", "decode passes"),
        ("loop", "outside the model (loop, sampling, text)"),
    ):
        print(f"  {what:<48}{100 * phase(one, p) / one[0]:11.1f}%{100 * phase(bat, p) / one[0]:11.1f}%")
    for label, r in (("one by one", one), (f"batch {bs}", bat)):
        pre = [c for c in r[1] if c[0] == "prefill"]
        dec = [c for c in r[1] if c[0] == "decode"]
        padded, real = sum(c[1] * c[2] for c in pre), sum(c[3] for c in pre)
        rows = sum(c[1] for c in dec)
        print(
            f"  {label}: {len(pre)} prefill passes, {real} real + {padded - real} padding tokens "
            f"({100 * (padded - real) / padded:.0f}% padding); {len(dec)} decode passes, {rows} row-steps "
            f"(mean batch {rows / max(1, len(dec)):.1f}); per real prefill token "
            f"{1e3 * phase(r, 'prefill') / real:.2f} ms, per decode row-step {1e3 * phase(r, 'decode') / max(1, rows):.2f} ms"
        )
    width, kept = 0, 0  # row-steps if finished rows stayed in the batch to its last step
    for c in bat[1]:
        width = c[1] if c[0] == "prefill" else width
        kept += width if c[0] == "decode" else 0
    rows = sum(c[1] for c in bat[1] if c[0] == "decode")
    print(
        f"  finished rows leave the batch: {rows} row-steps computed, {kept} if they stayed ({100 * (1 - rows / max(1, kept)):.0f}% saved)"
    )
    print(f"  speed-up batched / one by one (this run): {one[0] / bat[0]:.2f}x")
    print(
        f"chapter 7 evaluation: prefill is {100 * phase(bat, 'prefill') / bat[0]:.0f}% of the batched run "
        f"({100 * phase(one, 'prefill') / one[0]:.0f}% one by one); ceiling with free decode steps: "
        f"{one[0] / (bat[0] - phase(bat, 'decode')):.2f}x"
    )
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--parts", nargs="+", default=list(PARTS), choices=PARTS)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--decode-steps", type=int, default=16, help="decode steps profiled per run")
    parser.add_argument(
        "--eval-entries", type=int, default=16, help="chapter 7 test prompts (also the batch size)"
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall")
    parser.add_argument("--tiny", action="store_true", help="smoke run: tiny models, a few steps, 1 round")
    args = parser.parse_args()
    args.preset, args.device, args.no_reference = "gpt2-124M", torch.device("cpu"), False
    if args.tiny:
        args.preset, args.decode_steps, args.rounds, args.eval_entries, args.batch = "tiny", 3, 1, 4, 3
    if args.threads:
        torch.set_num_threads(args.threads)
    args.clock_fn = time.process_time if args.clock == "cpu" else time.perf_counter
    print(H.machine_info("float32 (int8 in the int8 part)"))
    args.bandwidth = H.memory_bandwidth(1 << 26 if args.tiny else 1 << 29, clock=args.clock_fn)
    args.peak = H.matmul_peak_flops(n=256 if args.tiny else 1024, clock=args.clock_fn)
    print(
        f"measured: read bandwidth {args.bandwidth / 1e9:.1f} GB/s, fp32 matmul peak {args.peak / 1e9:.0f} GFLOP/s ({torch.get_num_threads()} threads)"
    )
    for part in args.parts:
        print(f"\n=== {part}: load average {H.load_average()} ===")
        {"kernel": part_kernel, "batch": part_batch, "int8": part_int8, "eval": part_eval}[part](args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
