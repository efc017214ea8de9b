"""Root pytest configuration: every pytest run is quick, offline and single-threaded per process.

These are set with ``setdefault`` before any notebook kernel starts, so the kernels nbval launches
inherit them (and so do the pytest-xdist workers, which share one cache folder).
``llmscratch.settings`` is the only code that reads them.
"""

import atexit
import os
import shutil
import tempfile

os.environ.setdefault("LLMSCRATCH_QUICK", "1")  # small models, few steps (see settings.py)
os.environ.setdefault("LLMSCRATCH_OFFLINE", "1")  # tests never touch the network
os.environ.setdefault("MPLBACKEND", "Agg")  # figures render without a display
# pytest-xdist runs two workers on two cores: one math thread each avoids oversubscription.
for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")
# A fresh cache folder for the whole run, removed at the end: the notebooks the tests execute save their
# quick-mode checkpoints there instead of over a reader's full-size ones in ~/.cache/llmscratch, and no
# test depends on what an earlier run (or a reader's download) left behind.
if "LLMSCRATCH_HOME" not in os.environ:
    os.environ["LLMSCRATCH_HOME"] = tempfile.mkdtemp(prefix="llmscratch-tests-")
    atexit.register(shutil.rmtree, os.environ["LLMSCRATCH_HOME"], ignore_errors=True)
