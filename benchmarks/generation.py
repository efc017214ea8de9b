"""Tokens per second of greedy generation, with and without the KV cache, for a GPT-2 preset.

    python benchmarks/generation.py                       # GPT-2 124M, 20-token prompt, 200 new tokens
    python benchmarks/generation.py --preset tiny --new-tokens 50
    python benchmarks/generation.py --tiny                # a smoke run in seconds (the test suite runs it)
    python benchmarks/generation.py --no-reference        # skip HuggingFace transformers
    python benchmarks/generation.py --wall --threads 2    # wall-clock time on 2 threads

The weights are random (GPT-2's initialization): speed does not depend on what the weights are,
and nothing is downloaded. Both runs must produce exactly the same tokens (checked). For scale,
the same model in HuggingFace ``transformers`` (``GPT2LMHeadModel.generate``, greedy, with and
without its cache) is timed in the same run when it is installed.

By default the model runs on ONE CPU thread and the clock is the process's CPU time
(``time.process_time``), so other programs competing for the CPU do not distort the result; pass
``--wall`` (and ``--threads N``) for wall-clock time, e.g. on a GPU or an idle machine.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "shared"))

from llmscratch.config import PRESETS  # noqa: E402
from llmscratch.device import describe_device, get_device  # noqa: E402
from llmscratch.generate import generate  # noqa: E402
from llmscratch.model import GPTModel, count_parameters  # noqa: E402


CLOCK = time.process_time  # CPU seconds of this process; main() switches to perf_counter for --wall


def timed(fn) -> tuple[torch.Tensor, float]:
    start = CLOCK()
    out = fn()
    if out.device.type == "cuda":
        torch.cuda.synchronize()
    return out, CLOCK() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", default="gpt2-124M", choices=sorted(PRESETS))
    parser.add_argument("--prompt-tokens", type=int, default=20)
    parser.add_argument("--new-tokens", type=int, default=200)
    parser.add_argument("--device", default=None, help="cpu, cuda or mps (default: best available)")
    parser.add_argument("--threads", type=int, default=1, help="CPU threads for torch (default 1)")
    parser.add_argument("--wall", action="store_true", help="wall-clock time instead of process CPU time")
    parser.add_argument("--no-reference", action="store_true", help="do not time HuggingFace transformers")
    parser.add_argument("--tiny", action="store_true", help="smoke run: tiny preset, 4-token prompt, 8 new tokens, no reference")
    args = parser.parse_args()
    if args.tiny:
        args.preset, args.prompt_tokens, args.new_tokens, args.no_reference = "tiny", 4, 8, True

    global CLOCK
    torch.set_num_threads(args.threads)
    CLOCK = time.perf_counter if args.wall else time.process_time
    device = get_device(args.device)
    cfg = PRESETS[args.preset].with_(drop_rate=0.0)
    torch.manual_seed(123)
    model = GPTModel(cfg).to(device).eval()
    prompt = torch.randint(0, cfg.vocab_size, (1, args.prompt_tokens), device=device)
    print(f"{args.preset}: {count_parameters(model):,} parameters (random init), {describe_device(device)}, torch {torch.__version__}")
    clock = "wall-clock time" if args.wall else "process CPU time"
    print(f"greedy, batch 1, {args.prompt_tokens}-token prompt, {args.new_tokens} new tokens; {clock}\n")

    generate(model, prompt, 5)  # warm-up (allocations, kernel selection)
    rates = {}
    no_cache, seconds = timed(lambda: generate(model, prompt, args.new_tokens, use_cache=False))
    rates["ours, no cache"] = args.new_tokens / seconds
    cached, seconds = timed(lambda: generate(model, prompt, args.new_tokens, use_cache=True))
    rates["ours, KV cache"] = args.new_tokens / seconds
    if not torch.equal(cached, no_cache):
        print("ERROR: the KV-cache tokens differ from the cache-free tokens")
        return 1
    teaching = GPTModel(cfg.with_(attn_impl="teaching")).to(device).eval()  # same weights, chapter 3's arithmetic
    teaching.load_state_dict(model.state_dict())
    _, seconds = timed(lambda: generate(teaching, prompt, args.new_tokens, use_cache=True))
    rates["ours, KV cache, teaching attention"] = args.new_tokens / seconds

    if not args.no_reference:
        try:
            import transformers
        except ImportError:
            print("(transformers not installed: no reference timing)")
        else:
            from llmscratch.weights import hf_config_kwargs, to_gpt2_state_dict

            hf = transformers.GPT2LMHeadModel(transformers.GPT2Config(**hf_config_kwargs(cfg))).to(device).eval()
            hf.load_state_dict(to_gpt2_state_dict(model))
            kwargs = dict(attention_mask=torch.ones_like(prompt), max_new_tokens=args.new_tokens,
                          min_new_tokens=args.new_tokens, do_sample=False, pad_token_id=0)
            with torch.no_grad():
                hf.generate(prompt, **{**kwargs, "max_new_tokens": 5, "min_new_tokens": 5})  # warm-up
                hf_no_cache, seconds = timed(lambda: hf.generate(prompt, use_cache=False, **kwargs))
                rates[f"transformers {transformers.__version__}, no cache"] = args.new_tokens / seconds
                hf_cached, seconds = timed(lambda: hf.generate(prompt, use_cache=True, **kwargs))
                rates[f"transformers {transformers.__version__}, KV cache"] = args.new_tokens / seconds
            same = torch.equal(hf_cached, cached) and torch.equal(hf_no_cache, cached)
            print(f"transformers generated the same tokens: {same}")

    width = max(map(len, rates))
    for name, rate in rates.items():
        print(f"{name:<{width}}  {rate:8.1f} tokens/s")
    print(f"\nKV cache speed-up (ours): {rates['ours, KV cache'] / rates['ours, no cache']:.1f}x")
    print(f"sdpa / teaching attention (ours, KV cache): {rates['ours, KV cache'] / rates['ours, KV cache, teaching attention']:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
