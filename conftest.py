"""Root pytest configuration: every pytest run is quick, offline and single-threaded per process.

These are set with ``setdefault`` before any notebook kernel starts, so the kernels nbval launches
inherit them. ``llmscratch.settings`` is the only code that reads them.
"""

import os

os.environ.setdefault("LLMSCRATCH_QUICK", "1")  # small models, few steps (see settings.py)
os.environ.setdefault("LLMSCRATCH_OFFLINE", "1")  # tests never touch the network
os.environ.setdefault("MPLBACKEND", "Agg")  # figures render without a display
# pytest-xdist runs two workers on two cores: one math thread each avoids oversubscription.
for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")
