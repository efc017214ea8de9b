"""Notebook hygiene: what a reader opens must be executed, portable and self-contained.

Checked on every committed notebook (found automatically, no hand-kept list):
executed outputs present with execution counts (nbval needs them), no committed error outputs
(unless the cell is tagged ``raises-exception``), no absolute paths, no remote images, a first
code cell that prints the quick/full mode banner, and a sane size.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted(p for p in ROOT.glob("*/*.ipynb") if ".ipynb_checkpoints" not in p.parts)
ABSOLUTE_PATH = re.compile(r"(?<![\w.])/(root|home|Users|work|tmp|mnt)/\w")
REMOTE_IMAGE = re.compile(r"!\[[^\]]*\]\(\s*https?:|<img[^>]+src=[\"']https?:", re.I)


def _cells(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def _src(cell: dict) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def test_notebooks_exist():
    assert len(NOTEBOOKS) >= 3, NOTEBOOKS


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_executed_with_counts_and_no_errors(path: Path):
    code = [c for c in _cells(path) if c["cell_type"] == "code" and _src(c).strip()]
    assert code, f"{path.name} has no code"
    assert sum(bool(c.get("outputs")) for c in code) >= len(code) // 2, f"{path.name}: most cells have no output; execute it (see .ci/execute_notebooks.py)"
    for i, cell in enumerate(code):
        assert cell.get("execution_count"), f"{path.name} code cell {i} was never executed (nbval needs execution counts)"
        tags = cell.get("metadata", {}).get("tags", [])
        errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        assert not errors or "raises-exception" in tags, f"{path.name} code cell {i} has a committed error: {errors[0].get('ename')}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_portable_and_self_contained(path: Path):
    text = path.read_text(encoding="utf-8")
    assert len(text) < 3_000_000, f"{path.name} is {len(text) // 1_000_000} MB; shrink its outputs"
    for i, cell in enumerate(_cells(path)):
        src = _src(cell)
        assert not ABSOLUTE_PATH.search(src), f"{path.name} cell {i}: absolute path {ABSOLUTE_PATH.search(src).group()!r}"
        assert not REMOTE_IMAGE.search(src), f"{path.name} cell {i}: remote image (fails offline; draw it or ship it)"
        for out in cell.get("outputs", []):
            shown = json.dumps(out.get("text", "")) + json.dumps(out.get("data", {}).get("text/plain", ""))
            assert not ABSOLUTE_PATH.search(shown), f"{path.name} cell {i}: output shows an absolute path"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_first_code_cell_prints_the_mode(path: Path):
    first = next(c for c in _cells(path) if c["cell_type"] == "code")
    assert "mode_banner()" in _src(first), f"{path.name}: the first code cell must print(mode_banner())"
