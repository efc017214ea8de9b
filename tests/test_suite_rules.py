"""Rules for the test suite itself: every ``pytest.raises`` names the message it expects (``match=``).

An error test without ``match=`` passes for *any* exception of that type, including one raised by
the wrong line for the wrong reason, so it cannot catch a regression in the message we promise.
"""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent


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
    offenders = {str(p.relative_to(TESTS)): ln for p in sorted(TESTS.rglob("*.py")) if (ln := _raises_without_match(p))}
    assert not offenders, f"pytest.raises without match= (file: lines): {offenders}"


def test_the_rule_catches_a_bare_raises(tmp_path):
    sample = tmp_path / "test_sample.py"
    sample.write_text("import pytest\n\ndef test_x():\n    with pytest.raises(ValueError):\n        int('x')\n", encoding="utf-8")
    assert _raises_without_match(sample) == [4]
