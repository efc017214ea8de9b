"""Notebook hygiene: what a reader opens must be executed, portable and self-contained.

Checked on every committed notebook (found automatically, no hand-kept list):
executed outputs present with execution counts (nbval needs them), no committed error outputs
(unless the cell is tagged ``raises-exception``), no absolute paths, no remote images, the Colab
setup cell first (``.ci/colab_cells.py``; ``test_colab.py`` checks it is current) and then a code cell
that prints the quick/full mode banner, ipykernel's own kernelspec, and a sane size.
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
    assert sum(bool(c.get("outputs")) for c in code) >= len(code) // 2, (
        f"{path.name}: most cells have no output; execute it (see .ci/execute_notebooks.py)"
    )
    for i, cell in enumerate(code):
        assert cell.get("execution_count"), (
            f"{path.name} code cell {i} was never executed (nbval needs execution counts)"
        )
        tags = cell.get("metadata", {}).get("tags", [])
        errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        assert not errors or "raises-exception" in tags, (
            f"{path.name} code cell {i} has a committed error: {errors[0].get('ename')}"
        )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_portable_and_self_contained(path: Path):
    text = path.read_text(encoding="utf-8")
    assert len(text) < 3_000_000, f"{path.name} is {len(text) // 1_000_000} MB; shrink its outputs"
    for i, cell in enumerate(_cells(path)):
        src = _src(cell)
        assert not ABSOLUTE_PATH.search(src), (
            f"{path.name} cell {i}: absolute path {ABSOLUTE_PATH.search(src).group()!r}"
        )
        assert not REMOTE_IMAGE.search(src), (
            f"{path.name} cell {i}: remote image (fails offline; draw it or ship it)"
        )
        for out in cell.get("outputs", []):
            shown = json.dumps(out.get("text", "")) + json.dumps(out.get("data", {}).get("text/plain", ""))
            assert not ABSOLUTE_PATH.search(shown), f"{path.name} cell {i}: output shows an absolute path"


def _is_colab_setup(cell: dict) -> bool:
    return "colab-setup" in cell.get("metadata", {}).get("tags", [])


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_colab_setup_then_the_mode(path: Path):
    code = [c for c in _cells(path) if c["cell_type"] == "code"]
    assert _is_colab_setup(code[0]), (
        f"{path.name}: the first code cell must be the Colab setup cell (run: python .ci/colab_cells.py)"
    )
    assert not code[0].get("outputs"), (
        f"{path.name}: the Colab setup cell prints nothing outside Colab; clear its outputs"
    )
    assert "mode_banner()" in _src(code[1]), (
        f"{path.name}: the code cell after the Colab setup must print(mode_banner())"
    )


# A float printed with this many digits is machine noise: float32 carries about 7 significant
# digits, and the last ones change with the CPU's vector kernels, the GPU, the BLAS and the torch
# version. Pinned outputs round to where the value is stable (4 decimals, or ``:.1e``).
NOISY_FLOAT = re.compile(r"(?<![\w.])[-+]?(\d+)\.(\d+)(?:[eE][-+]?\d+)?")
# "max abs difference 0.0" is a raw float too: on another machine it reads 1.5e-08. Print a verdict.
RAW_DIFFERENCE = re.compile(r"difference\W{0,3}[-+]?\d+\.\d+(?:[eE][-+]?\d+)?\s*$", re.I | re.M)
PROGRESS_BAR = re.compile(r"(\d+)%\|")


def noisy_floats(text: str) -> list[str]:
    """Floats in ``text`` with 7+ decimals or 7+ significant digits (too many to be stable).

    Zeros at either end are not significant: ``rope_base=100000.0`` is an exact setting, not noise.

    >>> noisy_floats("sum 1.0000001192092896, diff 1.4901161193847656e-08, loss 0.3367, n 1,251, base 100000.0")
    ['1.0000001192092896', '1.4901161193847656e-08']
    """
    noisy = []
    for m in NOISY_FLOAT.finditer(text):
        whole, decimals = m.group(1), m.group(2)
        significant = len((whole + decimals).strip("0"))
        if len(decimals) >= 7 or significant >= 7:
            noisy.append(m.group(0))
    return noisy


def _pinned_text(cell: dict) -> str:
    return "".join(
        "".join(o.get("text", "")) + "".join(o.get("data", {}).get("text/plain", ""))
        for o in cell.get("outputs", [])
    )


def pinned_output_problems(cells: list[dict]) -> list[str]:
    """Why each ``# NBVAL_CHECK_OUTPUT`` cell's committed output would differ on another machine."""
    problems = []
    for i, cell in enumerate(cells):
        if cell["cell_type"] != "code" or "NBVAL_CHECK_OUTPUT" not in _src(cell):
            continue
        text = _pinned_text(cell)
        if noisy_floats(text):
            problems.append(
                f"cell {i} pins the float(s) {noisy_floats(text)[:3]}: round them (e.g. :.4f) or print a verdict"
            )
        if RAW_DIFFERENCE.search(text):
            problems.append(
                f"cell {i} pins a raw difference {RAW_DIFFERENCE.search(text).group()!r}: print the verdict against the tolerance"
            )
    return problems


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_pinned_outputs_are_portable(path: Path):
    problems = pinned_output_problems(_cells(path))
    assert not problems, f"{path.name}: " + "; ".join(problems)


def test_the_pin_check_catches_fragile_pins():
    fragile = {
        "cell_type": "code",
        "source": "# NBVAL_CHECK_OUTPUT\nprint(w.sum().item())",
        "outputs": [
            {"output_type": "stream", "name": "stdout", "text": "sum of weights: 1.0000001192092896\n"}
        ],
    }
    raw_diff = {
        "cell_type": "code",
        "source": "# NBVAL_CHECK_OUTPUT\n",
        "outputs": [{"output_type": "stream", "name": "stdout", "text": "max abs difference: 0.0\n"}],
    }
    stable = {
        "cell_type": "code",
        "source": "# NBVAL_CHECK_OUTPUT\n",
        "outputs": [
            {
                "output_type": "stream",
                "name": "stdout",
                "text": "tensor([0.1609, 0.1817])\n1,251 parameters\nidentical within atol=1e-06: True\n",
            }
        ],
    }
    unpinned = {
        "cell_type": "code",
        "source": "print(x)",
        "outputs": [{"output_type": "stream", "name": "stdout", "text": "1.0000001192092896\n"}],
    }
    assert len(pinned_output_problems([fragile, raw_diff])) == 2
    assert pinned_output_problems([stable, unpinned]) == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_kernelspec_is_ipykernels_python3(path: Path):
    # Exactly what ipykernel writes on save: any other display_name (e.g. "Python 3") makes JupyterLab
    # open every notebook as modified and rewrite that line in git.
    spec = json.loads(path.read_text(encoding="utf-8"))["metadata"].get("kernelspec", {})
    assert spec == {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}, (
        f"{path.name}: kernelspec metadata is {spec!r}; set {{'name': 'python3', 'display_name': 'Python 3 (ipykernel)', "
        "'language': 'python'}} so Jupyter and Colab open it without asking (and saving changes nothing)"
    )


def stream_noise(cells: list[dict]) -> list[str]:
    """Half-drawn progress bars in committed outputs: carriage returns, or a bar that stops short of 100%."""
    noise = []
    for i, cell in enumerate(cells):
        for out in cell.get("outputs", []):
            if out.get("output_type") != "stream":
                continue
            text = "".join(out.get("text", ""))
            if "\r" in text:
                noise.append(
                    f"cell {i}: a carriage return in {out['name']} (a progress bar redrawn in place)"
                )
            unfinished = [m.group(1) for m in PROGRESS_BAR.finditer(text) if m.group(1) != "100"]
            if unfinished:
                noise.append(f"cell {i}: a progress bar stopped at {unfinished[0]}%")
    return noise


def test_the_stream_check_catches_partial_bars():
    partial = {
        "cell_type": "code",
        "outputs": [{"output_type": "stream", "name": "stderr", "text": "\repochs:  26%|██▋       | 21/80"}],
    }
    finished = {
        "cell_type": "code",
        "outputs": [{"output_type": "stream", "name": "stderr", "text": "epochs: 100%|██████████| 80/80\n"}],
    }
    assert len(stream_noise([partial])) == 2
    assert stream_noise([finished]) == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_progress_bar_fragments(path: Path):
    noise = stream_noise(_cells(path))
    assert not noise, (
        f"{path.name}: "
        + "; ".join(noise)
        + " (re-execute with .ci/execute_notebooks.py, which keeps only each bar's final state)"
    )
