"""Re-execute notebooks in place so their committed outputs come from a real run.

    python .ci/execute_notebooks.py                      # every notebook, full size
    python .ci/execute_notebooks.py ch02_text_data/*.ipynb
    python .ci/execute_notebooks.py --quick ch02_text_data/ch02_text_data.ipynb   # timing only, not saved

Full mode is the default (what readers get). Offline mode stays on unless you pass --online, so the
committed outputs show the offline path honestly. Prints each notebook's wall time.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", nargs="*", type=Path)
    parser.add_argument("--quick", action="store_true", help="quick mode; outputs are NOT saved (timing run)")
    parser.add_argument("--online", action="store_true", help="allow downloads")
    parser.add_argument("--timeout", type=int, default=7200, help="seconds per cell")
    args = parser.parse_args()

    os.environ["LLMSCRATCH_QUICK"] = "1" if args.quick else "0"
    os.environ["LLMSCRATCH_OFFLINE"] = "0" if args.online else "1"
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    paths = args.notebooks or sorted(p for p in ROOT.glob("*/*.ipynb") if ".ipynb_checkpoints" not in p.parts)
    for path in paths:
        path = path.resolve()
        nb = nbformat.read(path, as_version=4)
        start = time.perf_counter()
        NotebookClient(nb, timeout=args.timeout, kernel_name="python3", record_timing=False, resources={"metadata": {"path": str(path.parent)}}).execute()
        elapsed = time.perf_counter() - start
        mode = "quick" if args.quick else "full"
        if not args.quick:
            nb.metadata.pop("widgets", None)
            nbformat.write(nb, path)
        print(f"{path.relative_to(ROOT)}: {elapsed:.1f} s ({mode} mode{'' if args.quick else ', saved'})", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
