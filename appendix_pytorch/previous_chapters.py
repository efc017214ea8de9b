"""The toolbox the appendix uses, re-exported from the ``llmscratch`` package.

The appendix teaches PyTorch itself, so it needs only the run-wide helpers every chapter starts with
(quick mode, seeding, device) plus ``assert_close``, which reports how far apart two tensors are.
No code lives here: ``tests/notebooks`` checks that this file only re-exports.
"""

import sys
from pathlib import Path

# The package in this clone comes first (so your edits count); an installed copy is the fallback
# (e.g. on Colab after `pip install`).
_SHARED = Path(__file__).resolve().parent.parent / "shared"
if _SHARED.is_dir() and str(_SHARED) not in sys.path:
    sys.path.insert(0, str(_SHARED))

# The toolbox: quick mode, cache folder, seeding, device
from llmscratch.device import describe_device, get_device
from llmscratch.settings import cache_dir, is_offline, is_quick, mode_banner, pick, seed_everything

# Several processes: rank, world size, set-up and tear-down, print on rank 0 (used by ddp_train.py)
from llmscratch.training import distributed

# Checks: compare two tensors and report the max/mean difference when they disagree
from llmscratch.testing import assert_close

__all__ = [
    "cache_dir", "describe_device", "get_device", "is_offline", "is_quick", "mode_banner", "pick", "seed_everything",
    "distributed",
    "assert_close",
]
