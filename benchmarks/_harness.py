"""What every benchmark script shares: machine information, interleaved A/B timing, machine peaks.

Not a benchmark itself (the leading underscore keeps it out of ``run_all.py``'s list). The scripts
next to it put ``shared/`` on ``sys.path`` and import this module by name.

- ``machine_info()``: CPU model and the flags that matter for PyTorch kernels, cores, torch version,
  threads, precision, load average: printed at the top of every benchmark's output.
- ``interleaved(fns, rounds, warmup)``: times several callables in turn, round after round, so that
  load from other processes on a shared machine hits all of them alike; ratios of the medians are
  what to read, absolute times depend on the machine and its load.
- ``matmul_peak_flops()`` and ``memory_bandwidth()``: this machine's measured float32 matrix-multiply
  rate and memory read rate, the yardsticks for achieved FLOP/s (training) and the bandwidth bound
  of batch-1 generation.
"""

from __future__ import annotations

import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT / "shared") not in sys.path:
    sys.path.insert(0, str(ROOT / "shared"))

import torch  # noqa: E402

# CPU flags that decide which kernels PyTorch can use (vector width, bf16/int8 matrix units).
INTERESTING_FLAGS = (
    "avx2",
    "fma",
    "avx512f",
    "avx512_bf16",
    "avx512_fp16",
    "avx512_vnni",
    "amx_tile",
    "amx_bf16",
    "amx_int8",
)


def cpu_model() -> str:
    """The CPU's marketing name (Linux ``/proc/cpuinfo``, else ``platform.processor()``)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def cpu_flags() -> list[str]:
    """The ``INTERESTING_FLAGS`` this CPU has (empty where ``/proc/cpuinfo`` does not exist)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                have = set(line.split(":", 1)[1].split())
                return [f for f in INTERESTING_FLAGS if f in have]
    except OSError:
        pass
    return []


def load_average() -> str:
    """``os.getloadavg()`` as text (1, 5, 15 minutes), or "n/a" where it does not exist."""
    try:
        return ", ".join(f"{x:.2f}" for x in os.getloadavg())
    except (OSError, AttributeError):
        return "n/a"


def machine_info(precision: str = "float32") -> str:
    """Several lines describing this machine and run; every benchmark prints them first."""
    lines = [
        f"cpu: {cpu_model()} | {os.cpu_count()} logical cores | flags: {' '.join(cpu_flags()) or 'n/a'}",
        f"torch {torch.__version__} | threads: {torch.get_num_threads()} | precision: {precision} | "
        f"python {platform.python_version()} | load average: {load_average()}",
    ]
    if torch.cuda.is_available():
        lines.append(f"cuda: {torch.cuda.get_device_name()}")
    return "\n".join(lines)


def sync(device: torch.device | str = "cpu") -> None:
    """Wait for queued GPU work, so a wall-clock timer measures it (no-op on a CPU)."""
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize()


def interleaved(
    fns: dict[str, Callable[[], object]],
    *,
    rounds: int,
    warmup: int = 1,
    per_round: int = 1,
    device: torch.device | str = "cpu",
    progress: bool = True,
    clock: Callable[[], float] = time.perf_counter,
) -> dict[str, list[float]]:
    """Wall-clock seconds of each callable: ``warmup`` untimed calls each, then ``rounds`` rounds in
    which every callable runs ``per_round`` timed calls in turn (A, B, C, A, B, C, ...).

    Returns ``{name: [seconds, ...]}`` with ``rounds * per_round`` times per name; take the
    median. The order inside a round rotates, so no callable always runs right after the same
    other one. ``clock`` is wall-clock time by default; ``time.process_time`` (this process's CPU
    seconds) is steadier on a crowded machine but, with several threads, also counts their waiting.
    """
    names = list(fns)
    for name in names:
        for _ in range(warmup):
            fns[name]()
        sync(device)
    times: dict[str, list[float]] = {name: [] for name in names}
    for r in range(rounds):
        order = names[r % len(names) :] + names[: r % len(names)]
        for name in order:
            for _ in range(per_round):
                sync(device)
                start = clock()
                fns[name]()
                sync(device)
                times[name].append(clock() - start)
        if progress:
            done = ", ".join(f"{n} {statistics.median(t):.3g}s" for n, t in times.items())
            print(f"  round {r + 1}/{rounds}: medians so far {done}", file=sys.stderr, flush=True)
    return times


def median(values: list[float]) -> float:
    return statistics.median(values)


def spread(values: list[float]) -> str:
    """``median (min-max)`` in seconds, for the log."""
    return (
        f"{statistics.median(values):.4g} s (min {min(values):.4g}, max {max(values):.4g}, n={len(values)})"
    )


def matmul_peak_flops(
    dtype: torch.dtype = torch.float32,
    n: int = 2048,
    repeats: int = 5,
    clock: Callable[[], float] = time.perf_counter,
) -> float:
    """This machine's best measured ``n x n @ n x n`` matrix-multiply rate in FLOP/s (2 n^3 per product).

    The best of ``repeats`` runs (after a warm-up) on the current number of threads: the rate the
    matrix units reach on large, well-shaped products, against which a model's achieved rate is read.
    """
    a, b = torch.randn(n, n).to(dtype), torch.randn(n, n).to(dtype)
    out = torch.empty(n, n, dtype=dtype)
    torch.mm(a, b, out=out)
    best = float("inf")
    for _ in range(repeats):
        start = clock()
        torch.mm(a, b, out=out)
        best = min(best, clock() - start)
    return 2 * n**3 / best


def memory_bandwidth(
    n_bytes: int = 1 << 30, repeats: int = 5, clock: Callable[[], float] = time.perf_counter
) -> float:
    """Best measured memory *read* rate in bytes/s: summing a float32 tensor of ``n_bytes`` (far larger
    than any cache), on the current number of threads. Generation at batch 1 reads every weight once
    per token, so this rate bounds its tokens/s."""
    x = torch.ones(n_bytes // 4)
    x.sum()
    best = float("inf")
    for _ in range(repeats):
        start = clock()
        x.sum()
        best = min(best, clock() - start)
    return n_bytes / best


def fmt_ratio(ours: float, theirs: float) -> str:
    """``theirs / ours`` for times (so > 1 means ours is faster), as ``1.23x``."""
    return f"{theirs / ours:.2f}x"
