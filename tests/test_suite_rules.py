"""Rules for the test suite itself.

- Every ``pytest.raises`` names the message it expects (``match=``): an error test without it passes
  for *any* exception of that type, including one raised by the wrong line for the wrong reason, so it
  cannot catch a regression in the message we promise.
- CI runs the README's test command (b) verbatim, and the README's two install commands say what
  they promise: (a) what readers need, (b) that plus the test extras, the CPU-torch note first.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent


def _raises_without_match(path: Path) -> list[int]:
    lines = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "raises"
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "pytest"
            and not any(k.arg == "match" for k in node.keywords)
        ):
            lines.append(node.lineno)
    return lines


def test_every_pytest_raises_has_a_match():
    offenders = {
        str(p.relative_to(TESTS)): ln for p in sorted(TESTS.rglob("*.py")) if (ln := _raises_without_match(p))
    }
    assert not offenders, f"pytest.raises without match= (file: lines): {offenders}"


def test_the_rule_catches_a_bare_raises(tmp_path):
    sample = tmp_path / "test_sample.py"
    sample.write_text(
        "import pytest\n\ndef test_x():\n    with pytest.raises(ValueError):\n        int('x')\n",
        encoding="utf-8",
    )
    assert _raises_without_match(sample) == [4]


def readme_commands(readme: str) -> dict[str, str]:
    """The README's install commands, by label: ``{"a": "pip install ...", "b": ...}`` (the text before ``# (x)``)."""
    return {m[2]: m[1].strip() for m in re.finditer(r"^(pip install .+?)\s+# \((\w)\)", readme, re.MULTILINE)}


def test_ci_runs_the_readme_test_command_verbatim():
    commands = readme_commands((ROOT / "README.md").read_text(encoding="utf-8"))
    assert set(commands) == {"a", "b"}, f"README.md should hold commands (a) and (b), found {commands}"
    run_lines = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert commands["b"] in run_lines, f".ci/run must run README command (b) verbatim: {commands['b']}"
    workflow = (ROOT / ".github" / "workflows" / "ci.yml").read_text(encoding="utf-8")
    assert f"run: {commands['b']}\n" in workflow, (
        f"ci.yml's test job must run README command (b) verbatim: {commands['b']}"
    )


def test_readme_installs_readers_then_test_extras_after_the_cpu_torch_note():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    a, b = readme_commands(readme)["a"], readme_commands(readme)["b"]
    assert readme.index("download.pytorch.org/whl/cpu") < readme.index("# (a)"), (
        "the CPU-torch note must come before the commands"
    )
    assert "-r requirements.txt" in a and "-r requirements.txt" in b
    assert "[test]" not in a and '-e ".[test]"' in b, (
        "(a) installs what readers need, (b) adds the test extras"
    )
    assert a.endswith("&& jupyter lab") and b.endswith("&& python -m pytest")
    test_only = {
        "pytest",
        "nbval",
        "pytest-xdist",
        "hypothesis",
        "transformers",
        "rouge-score",
        "gguf",
        "accelerate",
    }
    reader = {
        re.split(r"[<>=\s#;\[]", line, maxsplit=1)[0].lower()
        for line in (ROOT / "requirements.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert not reader & test_only, (
        f"requirements.txt is what readers need; move {sorted(reader & test_only)} to the test extra"
    )
