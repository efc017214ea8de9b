"""Pick the compute device once, the same way everywhere: CUDA, then Apple MPS, then CPU.

Every notebook and script calls ``get_device()`` instead of repeating the ``if cuda ... elif mps``
ladder. Pass a name to force a device (``get_device("cpu")``), e.g. to compare speeds.
"""

from __future__ import annotations

import torch


def get_device(name: str | None = None) -> torch.device:
    """Return ``torch.device(name)`` if given, else the best available accelerator.

    >>> get_device("cpu")
    device(type='cpu')
    """
    if name is not None:
        return torch.device(name)
    if torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def describe_device(device: torch.device | None = None) -> str:
    """A one-line human description, e.g. ``'cpu (2 threads)'`` or ``'cuda: NVIDIA A100'``."""
    device = device or get_device()
    if device.type == "cuda":
        return f"cuda: {torch.cuda.get_device_name(device)}"
    if device.type == "mps":
        return "mps: Apple silicon GPU"
    n = torch.get_num_threads()
    return f"cpu ({n} thread{'' if n == 1 else 's'})"
