"""Mixed precision: use bfloat16 autocast where the hardware makes it faster, float32 elsewhere.

Under ``torch.autocast(device_type, dtype=torch.bfloat16)`` matrix multiplications run in
bfloat16 (8 bits of mantissa instead of 23) while weights, gradients and the optimizer stay in
float32. Whether that helps depends on the machine: a CPU with bfloat16 matrix units (Intel AMX,
``avx512_bf16``) multiplies bf16 several times faster than fp32, while a CPU without them converts
every tensor back and forth and trains *slower*. So the choice is made per machine:

- CUDA: bf16 when ``torch.cuda.is_bf16_supported()`` (Ampere and newer), else fp32 (fp16 would
  need a gradient scaler; not worth it here);
- Apple MPS: fp32 (bf16 autocast support varies with the macOS and torch version);
- CPU: bf16 when ``/proc/cpuinfo`` lists ``amx_bf16`` or ``avx512_bf16``; where there is no
  ``/proc/cpuinfo`` (macOS, Windows) a ~1 s probe times a bf16 and an fp32 matrix product and the
  answer is cached in ``cache_dir()/precision_probe.json``.

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
PROBE_SPEEDUP = 1.3  # the probe calls bf16 worth it when its matmul is at least this much faster


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


def _time_matmul(dtype: torch.dtype, n: int = 512, repeats: int = 5) -> float:
    a = torch.randn(n, n).to(dtype)
    b = torch.randn(n, n).to(dtype)
    a @ b  # warm-up
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - start)
    return best


def probe_bf16_speedup(cache_file: Path | None = None) -> float:
    """fp32 time / bf16 time of a 512x512 CPU matmul, cached per CPU, OS and torch version."""
    cache_file = cache_file or cache_dir() / "precision_probe.json"
    key = f"{platform.machine()}|{platform.processor()}|{platform.system()}|torch {torch.__version__}"
    try:
        cached = json.loads(cache_file.read_text())
        if cached.get("key") == key:
            return float(cached["speedup"])
    except (OSError, ValueError, KeyError):
        pass
    speedup = _time_matmul(torch.float32) / _time_matmul(torch.bfloat16)

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
    if flags:
        return PrecisionChoice(torch.bfloat16, f"the CPU has bfloat16 matrix units: {', '.join(flags)}")
    if flags is not None:  # /proc/cpuinfo was read and lists none of them
        return PrecisionChoice(None, "the CPU has no bfloat16 matrix units (no amx_bf16 / avx512_bf16)")
    speedup = probe_bf16_speedup()
    if speedup >= PROBE_SPEEDUP:
        return PrecisionChoice(torch.bfloat16, f"a bf16 matmul ran {speedup:.1f}x faster than fp32 here")
    return PrecisionChoice(None, f"a bf16 matmul ran at {speedup:.1f}x the fp32 speed here, not worth it")


def autocast(device: torch.device | str, dtype: torch.dtype | None):
    """``torch.autocast(device.type, dtype)``, or a no-op context when ``dtype`` is None."""
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(torch.device(device).type, dtype=dtype)
