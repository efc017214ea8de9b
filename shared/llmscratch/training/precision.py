"""Mixed precision: use bfloat16 autocast where the hardware makes it faster, float32 elsewhere.

Under ``torch.autocast(device_type, dtype=torch.bfloat16)`` matrix multiplications run in
bfloat16 (8 bits of mantissa instead of 23) while weights, gradients and the optimizer stay in
float32. Whether that helps depends on the machine: a CPU with bfloat16 matrix units (Intel AMX)
multiplies bf16 several times faster than fp32, while a CPU without them converts every tensor
back and forth and trains *slower*. ``avx512_bf16`` alone is not enough: on one of our machines
(a Xeon with ``avx512_bf16`` but no AMX, torch 2.13) a 124M training step took 4.6 s under bf16
autocast against 3.4 s in float32 (2 threads, best of 3). So the choice is made per machine:

- CUDA: bf16 when ``torch.cuda.is_bf16_supported()`` (Ampere and newer), else fp32 (fp16 would
  need a gradient scaler; not worth it here);
- Apple MPS: fp32 (bf16 autocast support varies with the macOS and torch version);
- CPU: bf16 when ``/proc/cpuinfo`` lists ``amx_bf16``; fp32 when it lists no bf16 flag at all;
  otherwise (``avx512_bf16`` without AMX, or no ``/proc/cpuinfo`` as on macOS and Windows) a ~1 s
  probe times a linear layer's forward and backward with and without bf16 autocast (casts
  included) and the answer is cached in
  ``cache_dir()/precision_probe.json``.

``choose_precision(device)`` returns a ``PrecisionChoice`` (the dtype or None, and the reason in
one line); ``autocast(device, dtype)`` is the matching context manager (a no-op for None).
"""

from __future__ import annotations

import contextlib
import json
import platform
import time
from dataclasses import dataclass
from pathlib import Path

import torch

from ..fileio import atomic_write
from ..settings import cache_dir

BF16_CPU_FLAGS = ("amx_bf16", "avx512_bf16")
PROBE_SPEEDUP = 1.3  # the probe calls bf16 worth it when its layer step is at least this much faster
PROBE_VERSION = "linear fwd+bwd v2"  # part of the cache key: a new probe is not answered by an old one


@dataclass(frozen=True)
class PrecisionChoice:
    """The autocast dtype (``None`` = plain float32) and why it was chosen."""

    dtype: torch.dtype | None
    reason: str

    def __str__(self) -> str:
        name = "bfloat16 autocast" if self.dtype is torch.bfloat16 else "float32 (no autocast)"
        return f"precision: {name} ({self.reason})"


def cpu_bf16_flags(cpuinfo: str | Path = "/proc/cpuinfo") -> list[str] | None:
    """The bf16 matrix-unit flags the CPU lists, or None when ``cpuinfo`` cannot be read."""
    try:
        text = Path(cpuinfo).read_text(errors="replace")
    except OSError:
        return None
    flags = set()
    for line in text.splitlines():
        if line.startswith("flags"):
            flags.update(line.split(":", 1)[-1].split())
    return [f for f in BF16_CPU_FLAGS if f in flags]


def _time_linear_step(
    dtype: torch.dtype | None, *, tokens: int = 512, d_in: int = 768, d_out: int = 3072
) -> float:
    """Seconds of one forward + backward ``F.linear`` with float32 weights, under ``autocast(dtype)``.

    What a training step does per layer, casts included: autocast converts the float32 weight to
    bf16 on every call, which a plain bf16 matmul timing would leave out.
    """
    x = torch.randn(tokens, d_in)
    w = torch.randn(d_out, d_in, requires_grad=True)
    start = time.perf_counter()
    with autocast("cpu", dtype):
        y = torch.nn.functional.linear(x, w)
    y.float().sum().backward()
    return time.perf_counter() - start


def probe_bf16_speedup(cache_file: Path | None = None, repeats: int = 7) -> float:
    """fp32 time / bf16-autocast time of a linear layer's forward + backward, cached per machine.

    The two are timed alternately (best of ``repeats`` each, after a warm-up), so a busy moment
    slows both rather than one. Cached per CPU, OS and torch version in ``precision_probe.json``.
    """
    cache_file = cache_file or cache_dir() / "precision_probe.json"
    key = f"{PROBE_VERSION}|{platform.machine()}|{platform.processor()}|{platform.system()}|torch {torch.__version__}"
    try:
        cached = json.loads(cache_file.read_text())
        if cached.get("key") == key:
            return float(cached["speedup"])
    except (OSError, ValueError, KeyError):
        pass
    best = {torch.float32: float("inf"), torch.bfloat16: float("inf")}
    for i in range(repeats + 1):
        for dtype in best:
            seconds = _time_linear_step(None if dtype is torch.float32 else dtype)
            if i:  # the first round warms up
                best[dtype] = min(best[dtype], seconds)
    speedup = best[torch.float32] / best[torch.bfloat16]

    with atomic_write(cache_file, "w", encoding="utf-8") as f:
        json.dump({"key": key, "speedup": speedup}, f)
    return speedup


def choose_precision(device: torch.device | str, *, cpuinfo: str | Path = "/proc/cpuinfo") -> PrecisionChoice:
    """Pick bf16 autocast where it helps on ``device``, else float32 (see the module docstring)."""
    device = torch.device(device)
    if device.type == "cuda":
        if torch.cuda.is_bf16_supported():
            return PrecisionChoice(torch.bfloat16, f"{torch.cuda.get_device_name(device)} supports bfloat16")
        return PrecisionChoice(None, "this GPU has no fast bfloat16")
    if device.type != "cpu":
        return PrecisionChoice(None, f"autocast is not used on {device.type}")
    flags = cpu_bf16_flags(cpuinfo)
    if flags and "amx_bf16" in flags:
        return PrecisionChoice(torch.bfloat16, f"the CPU has bfloat16 matrix units: {', '.join(flags)}")
    if flags == []:  # /proc/cpuinfo was read and lists no bf16 flag
        return PrecisionChoice(None, "the CPU has no bfloat16 matrix units (no amx_bf16 / avx512_bf16)")
    speedup = probe_bf16_speedup()  # avx512_bf16 without AMX, or no /proc/cpuinfo: measure
    seen = f"{', '.join(flags)} but no AMX: " if flags else ""
    if speedup >= PROBE_SPEEDUP:
        return PrecisionChoice(
            torch.bfloat16, f"{seen}a bf16 layer step ran {speedup:.1f}x faster than fp32 here"
        )
    return PrecisionChoice(
        None, f"{seen}a bf16 layer step ran at {speedup:.1f}x the fp32 speed here, not worth it"
    )


def autocast(device: torch.device | str, dtype: torch.dtype | None):
    """``torch.autocast(device.type, dtype)``, or a no-op context when ``dtype`` is None."""
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(torch.device(device).type, dtype=dtype)
