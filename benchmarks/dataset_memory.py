"""Peak memory of a stride-1 next-token dataset over one million tokens: copies vs views.

    python benchmarks/dataset_memory.py [--tokens 1000000] [--max-length 256]
    python benchmarks/dataset_memory.py --tiny    # a smoke run in seconds (the test suite runs it)

Each variant runs in a fresh Python process that builds the token tensor, builds the dataset and
reads every window once; we report that process's peak resident memory (``ru_maxrss``) minus the
peak of a baseline process that only builds the token tensor. The "copying" variant is the
obvious implementation (one input and one target tensor per window), shown in chapter 2; "views"
is ``llmscratch.text.dataset.NextTokenDataset``. Linux/macOS only (uses ``resource``).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _harness as H  # noqa: E402

SHARED = Path(__file__).resolve().parent.parent / "shared"

CHILD = r"""
import resource, sys, time
sys.path.insert(0, {shared!r})
import torch
from llmscratch.text.dataset import NextTokenDataset
n, L, variant = {n}, {L}, {variant!r}
g = torch.Generator().manual_seed(0)
ids = torch.randint(0, 50257, (n,), generator=g)
start = time.perf_counter()
if variant == "views":
    ds = NextTokenDataset(ids, max_length=L, stride=1)
    total = sum(int(ds[i][1][-1]) for i in range(0, len(ds), 997))
elif variant == "copies":
    as_list = ids.tolist()
    inputs = [torch.tensor(as_list[s:s + L]) for s in range(n - L)]
    targets = [torch.tensor(as_list[s + 1:s + L + 1]) for s in range(n - L)]
    total = sum(int(targets[i][-1]) for i in range(0, len(targets), 997))
seconds = time.perf_counter() - start
scale = 1 if sys.platform == "darwin" else 1024  # ru_maxrss: bytes on macOS, KiB on Linux
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale, seconds)
"""


def peak(variant: str, n: int, max_length: int) -> tuple[int, float]:
    code = CHILD.format(shared=str(SHARED), n=n, L=max_length, variant=variant)
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    return int(out[0]), float(out[1])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tokens", type=int, default=1_000_000)
    parser.add_argument("--max-length", type=int, default=256)
    parser.add_argument("--skip-copies", action="store_true", help="skip the slow, memory-hungry variant")
    parser.add_argument("--tiny", action="store_true", help="smoke run: 5,000 tokens, max_length 16")
    args = parser.parse_args()
    print(H.machine_info("n/a (memory)"))
    if args.tiny:
        args.tokens, args.max_length = 5_000, 16
    base, _ = peak("baseline", args.tokens, args.max_length)
    print(
        f"{args.tokens:,} tokens, max_length={args.max_length}, stride=1 "
        f"({args.tokens - args.max_length:,} windows); token tensor alone: {8 * args.tokens / 1e6:.1f} MB"
    )
    variants = ["views"] + ([] if args.skip_copies else ["copies"])
    results = {}
    for variant in variants:
        rss, seconds = peak(variant, args.tokens, args.max_length)
        results[variant] = rss - base
        print(
            f"{variant:>7}: peak memory above baseline {(rss - base) / 1e6:9.1f} MB  (build + read: {seconds:6.1f} s)"
        )
    if "copies" in results:
        print(f"copies / views memory ratio: {results['copies'] / max(results['views'], 1):,.0f}x")


if __name__ == "__main__":
    main()
