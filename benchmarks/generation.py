"""Tokens per second of greedy generation: ours with and without the KV cache, vs ``transformers``.

    python benchmarks/generation.py                       # GPT-2 124M, 16-token prompt, 128 new tokens
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

The variants run in turn, one generation each per round, ``--rounds`` rounds after a warm-up;
the medians give the ratios. At batch 1 every step reads every weight once (the output layer
alone, the tied 50,257 x 768 token table, is 154 MB in float32), so the bound is
``bytes read per token / memory bandwidth``: the weights that take part in matrix multiplies
(all but the position table) plus the KV cache read at the average position, against this
machine's measured read bandwidth (``_harness.memory_bandwidth``). The printout says how close
each variant gets to that bound.
"""

from __future__ import annotations

import argparse
import sys
import time

import _harness as H  # noqa: F401  (puts shared/ on sys.path)
import torch

from llmscratch.device import get_device  # noqa: E402
from llmscratch.model.config import PRESETS  # noqa: E402
from llmscratch.model.generate import generate  # noqa: E402
from llmscratch.model.gpt import GPTModel, count_parameters  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", default="gpt2-124M", choices=sorted(PRESETS))
    parser.add_argument("--prompt-tokens", type=int, default=16)
    parser.add_argument("--new-tokens", type=int, default=128)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--device", default=None, help="cpu, cuda or mps (default: best available)")
    parser.add_argument("--threads", type=int, default=None, help="CPU threads for torch (default: torch's choice)")
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                        help="wall-clock time (default) or process CPU time (steadier under load with 1 thread)")
    parser.add_argument("--no-reference", action="store_true", help="do not time HuggingFace transformers")
    parser.add_argument("--tiny", action="store_true", help="smoke run: tiny preset, 4-token prompt, 8 new tokens, 1 round")
    args = parser.parse_args()
    if args.tiny:
        args.preset, args.prompt_tokens, args.new_tokens, args.rounds = "tiny", 4, 8, 1
    if args.threads:
        torch.set_num_threads(args.threads)
    clock = time.process_time if args.clock == "cpu" else time.perf_counter

    device = get_device(args.device)
    cfg = PRESETS[args.preset].with_(drop_rate=0.0)
    torch.manual_seed(123)
    model = GPTModel(cfg).to(device).eval()
    prompt = torch.randint(0, cfg.vocab_size, (1, args.prompt_tokens), device=device)
    print(H.machine_info("float32"))
    print(f"{args.preset}: {count_parameters(model):,} parameters (random init), device {device}; greedy, batch 1, "
          f"{args.prompt_tokens}-token prompt, {args.new_tokens} new tokens; "
          f"{'process CPU time' if args.clock == 'cpu' else 'wall-clock time'}; {args.rounds} interleaved rounds, medians\n")

    teaching = GPTModel(cfg.with_(attn_impl="teaching")).to(device).eval()  # same weights, chapter 3's arithmetic
    teaching.load_state_dict(model.state_dict())
    outputs: dict[str, torch.Tensor] = {}

    def run(name, fn):
        def call():
            outputs[name] = fn()
        return call

    variants = {
        "ours, KV cache": run("ours, KV cache", lambda: generate(model, prompt, args.new_tokens)),
        "ours, KV cache, teaching attention": run("ours, KV cache, teaching attention", lambda: generate(teaching, prompt, args.new_tokens)),
        "ours, no cache": run("ours, no cache", lambda: generate(model, prompt, args.new_tokens, use_cache=False)),
    }
    hf_name = None
    if not args.no_reference:
        try:
            import transformers
        except ImportError:
            print("(transformers not installed: no reference timing)")
        else:
            from llmscratch.weights.gpt2 import hf_config_kwargs, to_gpt2_state_dict

            hf = transformers.GPT2LMHeadModel(transformers.GPT2Config(**hf_config_kwargs(cfg))).to(device).eval()
            hf.load_state_dict(to_gpt2_state_dict(model))
            kwargs = dict(attention_mask=torch.ones_like(prompt), max_new_tokens=args.new_tokens,
                          min_new_tokens=args.new_tokens, do_sample=False, pad_token_id=0, use_cache=True)
            hf_name = f"transformers {transformers.__version__}, KV cache"

            @torch.no_grad()
            def hf_generate():
                return hf.generate(prompt, **kwargs)

            variants[hf_name] = run(hf_name, hf_generate)

    times = H.interleaved(variants, rounds=args.rounds, warmup=1, device=device, clock=clock)
    rate = {name: args.new_tokens / H.median(t) for name, t in times.items()}
    reference = outputs["ours, KV cache"]
    for name, out in outputs.items():
        if not torch.equal(out, reference):
            print(f"ERROR: {name} generated different tokens from ours with the KV cache")
            return 1
    print(f"identical tokens from all {len(outputs)} variants: True")

    weight_bytes = sum(p.numel() * p.element_size() for p in model.parameters()) - model.emb.pos_emb.weight.numel() * 4
    mean_len = args.prompt_tokens + args.new_tokens / 2
    kv_bytes = 2 * cfg.n_layers * mean_len * cfg.emb_dim * 4  # keys and values of every layer, float32
    bandwidth = H.memory_bandwidth(1 << 26 if args.tiny else 1 << 30, clock=clock)
    bound = bandwidth / (weight_bytes + kv_bytes)
    print(f"bound: {(weight_bytes + kv_bytes) / 1e6:.0f} MB read per token ({weight_bytes / 1e6:.0f} MB weights + "
          f"{kv_bytes / 1e6:.1f} MB KV cache at the mean position) / {bandwidth / 1e9:.1f} GB/s measured read bandwidth "
          f"= {bound:.1f} tokens/s\n")
    width = max(map(len, rate))
    for name, r in rate.items():
        print(f"{name:<{width}}  {r:8.1f} tokens/s  ({100 * r / bound:5.1f}% of the bandwidth bound)")
    print(f"\nKV cache speed-up (ours, cached / uncached): {rate['ours, KV cache'] / rate['ours, no cache']:.2f}x")
    print(f"sdpa / teaching attention (ours, KV cache): {rate['ours, KV cache'] / rate['ours, KV cache, teaching attention']:.2f}x")
    if hf_name:
        print(f"ours / transformers (KV cache, tokens/s): {rate['ours, KV cache'] / rate[hf_name]:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
