"""Run-wide settings: the quick-mode switch, the cache folder and seeding.

This is the only module that reads environment variables, so there is exactly one place to look
when a notebook behaves differently on your machine and in CI:

- ``LLMSCRATCH_QUICK=1``   quick mode: smaller models and fewer steps. The root ``conftest.py``
  turns it on for every pytest run; readers get the full-size defaults.
- ``LLMSCRATCH_OFFLINE=1`` never touch the network; downloads fail at once with a clear message
  and notebooks take their offline path. Also on in every pytest run.
- ``LLMSCRATCH_HOME``      where downloads and checkpoints are cached
  (default ``~/.cache/llmscratch``). Nothing large is ever written into the repository.
- ``LLMSCRATCH_WEIGHT_FORMAT`` ``auto`` (default: a short measured probe picks), ``fp32``, ``bf16``
  or ``int8``: the weight format for generation (``formats.choose_weight_format``).

Notebooks write ``num_epochs = pick(full=10, quick=1)`` so a reader sees both sizes side by side.
"""

from __future__ import annotations

import os
import random
from pathlib import Path
from typing import TypeVar

import numpy as np
import torch

T = TypeVar("T")

_TRUE = {"1", "true", "yes", "on"}


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in _TRUE


def is_quick() -> bool:
    """True when ``LLMSCRATCH_QUICK`` is set to 1/true/yes/on (read at each call, not cached)."""
    return _flag("LLMSCRATCH_QUICK")


def is_offline() -> bool:
    """True when ``LLMSCRATCH_OFFLINE`` is set: downloads must not be attempted."""
    return _flag("LLMSCRATCH_OFFLINE")


def pick(*, full: T, quick: T) -> T:
    """Return ``quick`` in quick mode and ``full`` otherwise.

    In a notebook: ``num_epochs = pick(full=10, quick=1)`` gives 10 to readers and 1 under pytest.
    """
    return quick if is_quick() else full


def mode_banner() -> str:
    """One line saying which mode is on; the first cell of every notebook prints it."""
    if is_quick():
        return "Quick mode is ON (LLMSCRATCH_QUICK=1): small models, few steps. Numbers will differ from the text."
    return "Full mode: full-size settings (set LLMSCRATCH_QUICK=1 for a fast smoke run)."


def weight_format() -> str:
    """``LLMSCRATCH_WEIGHT_FORMAT`` lower-cased, ``"auto"`` when unset (checked by ``formats.choose_weight_format``)."""
    return os.environ.get("LLMSCRATCH_WEIGHT_FORMAT", "").strip().lower() or "auto"


def cache_dir() -> Path:
    """The cache folder for downloads and checkpoints, created on first use.

    ``$LLMSCRATCH_HOME`` if set, else ``~/.cache/llmscratch``.
    """
    root = os.environ.get("LLMSCRATCH_HOME") or Path.home() / ".cache" / "llmscratch"
    path = Path(root).expanduser()
    path.mkdir(parents=True, exist_ok=True)
    return path


def seed_everything(seed: int = 123) -> None:
    """Seed Python, NumPy and PyTorch (CPU and all GPUs) in one call."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds every CUDA device
