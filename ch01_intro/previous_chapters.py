"""The toolbox every chapter starts with, re-exported from the ``llmscratch`` package.

Chapter 1 builds nothing yet; this file gives its notebook the same starting point as the others.
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

__all__ = ["cache_dir", "describe_device", "get_device", "is_offline", "is_quick", "mode_banner", "pick", "seed_everything"]
