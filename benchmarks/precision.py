"""Training-step time in float32 vs bfloat16 autocast, and what ``choose_precision`` picks here.

    python benchmarks/precision.py                     # GPT-2 124M architecture, context 256, batch 2
    python benchmarks/precision.py --preset tiny --steps 5
    python benchmarks/precision.py --wall --threads 2  # wall-clock time on 2 threads

One step is forward + loss + backward + AdamW update on random token ids (speed does not depend on
the weights). The two settings alternate (fp32, bf16, fp32, bf16, ...) so that a change in the
machine's load hits both alike; the best step of each is reported, and their ratio. On a CPU with
bf16 matrix units (AMX, AVX-512 BF16) bf16 should win; on one without, autocast only adds
conversions and loses, which is why ``llmscratch.training.precision`` decides per machine.

By default the model runs on ONE CPU thread and the clock is the process's CPU time, so other
programs competing for the CPU do not distort the ratio; ``--wall`` measures wall-clock time.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "shared"))

from llmscratch.device import describe_device, get_device  # noqa: E402
from llmscratch.model.config import PRESETS  # noqa: E402
from llmscratch.model.gpt import GPTModel, count_parameters  # noqa: E402
from llmscratch.training.losses import lm_loss  # noqa: E402
from llmscratch.training.precision import autocast, choose_precision  # noqa: E402


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--preset", default="gpt2-124M", choices=sorted(PRESETS))
    p.add_argument("--context-length", type=int, default=256)
    p.add_argument("--batch-size", type=int, default=2)
    p.add_argument(
        "--steps", type=int, default=3, help="timed steps per setting (after one warm-up step each)"
    )
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--wall", action="store_true", help="wall-clock time instead of process CPU time")
    p.add_argument("--device", default=None)
    p.add_argument(
        "--tiny", action="store_true", help="smoke run: the tiny preset, context 32, one timed step"
    )
    args = p.parse_args(argv)
    if args.tiny:
        args.preset, args.context_length, args.steps = "tiny", 32, 1
    clock = time.perf_counter if args.wall else time.process_time
    torch.set_num_threads(args.threads)
    device = get_device(args.device)
    cfg = PRESETS[args.preset].with_(context_length=args.context_length, drop_rate=0.0)
    torch.manual_seed(0)
    model = GPTModel(cfg).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    ids = torch.randint(0, cfg.vocab_size, (args.batch_size, cfg.context_length), device=device)

    def step(dtype) -> float:
        start = clock()
        with autocast(device, dtype):
            loss = lm_loss(model(ids), ids)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if device.type == "cuda":
            torch.cuda.synchronize()
        return clock() - start

    step(None), step(torch.bfloat16)  # warm-up
    times = {"fp32": [], "bf16": []}
    for _ in range(args.steps):
        times["fp32"].append(step(None))
        times["bf16"].append(step(torch.bfloat16))
    best = {k: min(v) for k, v in times.items()}
    ratio = best["fp32"] / best["bf16"]
    print(
        f"{args.preset} ({count_parameters(model) / 1e6:.0f}M parameters), context {cfg.context_length}, batch {args.batch_size}, "
        f"{describe_device(device)}, {'wall' if args.wall else 'CPU'} time"
    )
    print(
        f"best step: fp32 {best['fp32']:.3f} s, bf16 autocast {best['bf16']:.3f} s -> bf16 is {ratio:.2f}x "
        f"{'faster' if ratio >= 1 else 'slower'}"
    )
    print(choose_precision(device))
    return {"ratio": ratio, **best}


if __name__ == "__main__":
    main()
