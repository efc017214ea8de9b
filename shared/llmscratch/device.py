"""Pick the compute device once, the same way everywhere: CUDA, then Apple MPS, then CPU.

Every notebook and script calls ``get_device()`` instead of repeating the ``if cuda ... elif mps``
ladder. Pass a name to force a device (``get_device("cpu")``), e.g. to compare speeds; a device
this machine does not have is refused at once with ``DeviceUnavailable`` (a ``ValueError`` that
says which devices there are), instead of an ``AssertionError`` from deep inside the first ``.to()``.
"""

from __future__ import annotations

import torch


class DeviceUnavailable(ValueError):
    """A device name that is malformed or names hardware this machine (or this PyTorch build) lacks."""


def available_devices() -> list[str]:
    """The device types usable here, best first, e.g. ``['cuda', 'cpu']``."""
    mps = getattr(torch.backends, "mps", None)
    found = ["cuda"] if torch.cuda.is_available() else []
    found += ["mps"] if mps is not None and mps.is_available() else []
    return found + ["cpu"]


def get_device(name: str | None = None) -> torch.device:
    """Return ``torch.device(name)`` if given (checked: it must exist here), else the best available one.

    >>> get_device("cpu")
    device(type='cpu')
    """
    if name is not None:
        return _checked_device(name)
    if torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def _checked_device(name: str) -> torch.device:
    try:
        device = torch.device(name)
    except (RuntimeError, TypeError):
        raise DeviceUnavailable(
            f"device {name!r} is not a device name; use one of: {', '.join(available_devices())}"
        ) from None
    if device.type == "cpu":
        return device
    if device.type not in available_devices():
        raise DeviceUnavailable(
            f"device {name!r} is not available on this machine (available: {', '.join(available_devices())})"
        )
    if device.type == "cuda" and device.index is not None and device.index >= torch.cuda.device_count():
        raise DeviceUnavailable(
            f"device {name!r}: this machine has {torch.cuda.device_count()} CUDA device(s), numbered from 0"
        )
    return device


def describe_device(device: torch.device | None = None) -> str:
    """A one-line human description, e.g. ``'cpu (2 threads)'`` or ``'cuda: NVIDIA A100'``."""
    device = device or get_device()
    if device.type == "cuda":
        return f"cuda: {torch.cuda.get_device_name(device)}"
    if device.type == "mps":
        return "mps: Apple silicon GPU"
    n = torch.get_num_threads()
    return f"cpu ({n} thread{'' if n == 1 else 's'})"
