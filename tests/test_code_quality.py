"""The package's layering (import-linter) and the code style (ruff) are checked by the test suite.

``pyproject.toml`` declares both: the layers contract under ``[tool.importlinter]`` (an import only
ever points down the course's map) and the ruff rules under ``[tool.ruff]``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "shared" / "llmscratch"
STYLE_PATHS = ["shared", "tests", "benchmarks", ".ci"]
MAX_MODULE_LINES = 420  # "no module over ~400 lines" (after `ruff format`), with a little slack


def _run(cmd: list[str]) -> tuple[int, str]:
    """Exit code and output of a tool run in the repository root."""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "shared")}  # lint-imports must see this checkout's package
    result = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env=env, timeout=300)
    return result.returncode, result.stdout + result.stderr


def _tool(name: str) -> str:
    path = shutil.which(name) or shutil.which(name, path=str(Path(sys.executable).parent))
    if path is None:
        pytest.skip(
            f"{name} is not installed (pip install {'import-linter' if name == 'lint-imports' else name})"
        )
    return path


def test_import_layers_hold():
    code, output = _run([_tool("lint-imports"), "--no-cache"])
    assert code == 0, output


def test_ruff_check_passes():
    code, output = _run([_tool("ruff"), "check", *STYLE_PATHS])
    assert code == 0, output


def test_ruff_format_is_applied():
    code, output = _run([_tool("ruff"), "format", "--check", *STYLE_PATHS])
    would = [line for line in output.splitlines() if line.startswith("Would reformat")]
    assert code == 0, (
        "\n".join(would[:40] or [output[-3000:]]) + "\n(fix: ruff format " + " ".join(STYLE_PATHS) + ")"
    )


def test_no_module_is_too_long():
    sizes = {
        str(p.relative_to(PACKAGE)): len(p.read_text(encoding="utf-8").splitlines())
        for p in PACKAGE.rglob("*.py")
    }
    too_long = {name: n for name, n in sizes.items() if n > MAX_MODULE_LINES}
    assert not too_long, f"split these modules (over {MAX_MODULE_LINES} lines): {too_long}"
