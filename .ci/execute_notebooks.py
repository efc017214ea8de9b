"""Re-execute notebooks in place so their committed outputs come from a real run.

    python .ci/execute_notebooks.py                      # every notebook, full size
    python .ci/execute_notebooks.py ch02_text_data/*.ipynb
    python .ci/execute_notebooks.py --quick ch02_text_data/ch02_text_data.ipynb   # timing only, not saved
    python .ci/execute_notebooks.py --list ch07_instruction_finetune/*.ipynb       # what would run, nothing runs

A relative path is looked up from the current folder, then from the repository root.

Full mode is the default (what readers get). Offline mode stays on unless you pass --online, so the
committed outputs show the offline path honestly. Prints each notebook's wall time.

Before saving, each cell's stream outputs are merged and carriage returns applied (what a terminal
would show): a progress bar keeps only its final line, not every half-drawn redraw. Every notebook
gets the Python 3 kernelspec, so Jupyter and Colab open it without asking.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
KERNELSPEC = {
    "display_name": "Python 3 (ipykernel)",
    "language": "python",
    "name": "python3",
}  # what ipykernel writes: saving changes nothing


PROGRESS_BAR = re.compile(r"\d+%\|")


def resolve_carriage_returns(text: str) -> str:
    """Keep, on every line, only what follows its last carriage return.

    >>> resolve_carriage_returns("\\rbar  10%\\rbar 100%\\n")
    'bar 100%\\n'
    """
    return "\n".join(line.rsplit("\r", 1)[-1] for line in text.split("\n"))


def bar_key(line: str) -> str | None:
    """A progress bar's description, or None if the line is not a bar.

    >>> bar_key("plain:  40%|####      | 12/30 [00:40<01:00]"), bar_key("step 30: train 5.9")
    ('plain:', None)
    """
    match = PROGRESS_BAR.search(line)
    return line[: match.start()].rstrip() if match else None


def clean_streams(nb) -> None:
    """Merge consecutive stream outputs of the same name and resolve carriage returns."""
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        merged = []
        for out in cell.get("outputs", []):
            if (
                out.output_type == "stream"
                and merged
                and merged[-1].output_type == "stream"
                and merged[-1].name == out.name
            ):
                merged[-1].text += out.text
            else:
                merged.append(out)
        for out in merged:
            if out.output_type == "stream":
                out.text = resolve_carriage_returns(out.text)
        # A bar interrupted by printed lines (tqdm.write, evaluation logs) leaves one stderr output per
        # interruption, each holding the bar as it was then: keep only each bar's last state. Bars are told
        # apart by their description (the text before the percentage), so a cell with two runs keeps both.
        seen = set()
        for out in reversed([o for o in merged if o.output_type == "stream" and o.name == "stderr"]):
            kept = []
            for line in reversed(out.text.split("\n")):
                key = bar_key(line)
                if key is not None:
                    if key in seen:
                        continue
                    seen.add(key)
                kept.append(line)
            out.text = "\n".join(reversed(kept))
        cell.outputs = [
            o for o in merged if not (o.output_type == "stream" and not o.text.strip())
        ]  # e.g. a bar's closing newline


def clean_file(path: Path) -> None:
    """Apply ``clean_streams`` to a saved notebook (for one executed by other means)."""
    nb = nbformat.read(path, as_version=4)
    clean_streams(nb)
    nbformat.write(nb, path)


def find(path: Path) -> Path:
    """A notebook path as given, else relative to the repository root; a clear error if neither exists."""
    for candidate in (path, ROOT / path):
        if candidate.is_file():
            return candidate.resolve()
    raise SystemExit(f"no notebook at {path} (looked in {Path.cwd()} and {ROOT})")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("notebooks", nargs="*", type=Path)
    parser.add_argument("--quick", action="store_true", help="quick mode; outputs are NOT saved (timing run)")
    parser.add_argument("--online", action="store_true", help="allow downloads")
    parser.add_argument("--list", action="store_true", help="print the notebooks that would run; run nothing")
    parser.add_argument("--timeout", type=int, default=7200, help="seconds per cell")
    args = parser.parse_args()

    os.environ["LLMSCRATCH_QUICK"] = "1" if args.quick else "0"
    os.environ["LLMSCRATCH_OFFLINE"] = "0" if args.online else "1"
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    paths = [find(p) for p in args.notebooks] or sorted(
        p for p in ROOT.glob("*/*.ipynb") if ".ipynb_checkpoints" not in p.parts
    )
    if args.list:
        print("\n".join(p.relative_to(ROOT).as_posix() for p in paths))
        return 0
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        start = time.perf_counter()
        NotebookClient(
            nb,
            timeout=args.timeout,
            kernel_name="python3",
            record_timing=False,
            resources={"metadata": {"path": str(path.parent)}},
        ).execute()
        elapsed = time.perf_counter() - start
        mode = "quick" if args.quick else "full"
        if not args.quick:
            nb.metadata.pop("widgets", None)
            nb.metadata["kernelspec"] = dict(KERNELSPEC)
            clean_streams(nb)
            nbformat.write(nb, path)
        print(
            f"{path.relative_to(ROOT)}: {elapsed:.1f} s ({mode} mode{'' if args.quick else ', saved'})",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
