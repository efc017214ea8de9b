"""Every ``previous_chapters.py`` is a pure re-export of the package, and chapters only grow.

- no ``def``/``class`` (code lives once, in ``shared/llmscratch``);
- every exported name resolves to an object defined in the package;
- each chapter exports a superset of the previous chapter's names.
"""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FILES = sorted(ROOT.glob("*/previous_chapters.py"))
CHAPTER_FILES = [p for p in FILES if p.parent.name.startswith("ch")]


def _load(path: Path):
    spec = importlib.util.spec_from_file_location(f"previous_chapters_{path.parent.name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_there_are_re_export_files():
    assert len(CHAPTER_FILES) >= 3, FILES


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.parent.name)
def test_defines_no_code(path: Path):
    tree = ast.parse(path.read_text())
    defined = [
        n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
    ]
    assert not defined, f"{path} defines {defined}; move them into shared/llmscratch and import them here"
    assert ast.get_docstring(tree), f"{path} needs a docstring saying what it re-exports"


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.parent.name)
def test_every_name_comes_from_the_package(path: Path):
    module = _load(path)
    assert module.__all__, f"{path} exports nothing"
    for name in module.__all__:
        obj = getattr(module, name)  # AttributeError: __all__ names something not imported
        origin = getattr(obj, "__module__", None)
        if origin is None:  # constants (ints, strings) carry no __module__: find them in the package
            tree = ast.parse(path.read_text())
            sources = {
                a.asname or a.name: n.module
                for n in ast.walk(tree)
                if isinstance(n, ast.ImportFrom)
                for a in n.names
            }
            origin = sources.get(name)
        assert origin and origin.startswith("llmscratch"), (
            f"{path}: {name} comes from {origin!r}, not the package"
        )


def test_each_chapter_exports_a_superset_of_the_previous():
    previous_names, previous_path = set(), None
    for path in CHAPTER_FILES:
        names = set(_load(path).__all__)
        missing = previous_names - names
        assert not missing, f"{path} drops {sorted(missing)} that {previous_path} exported"
        previous_names, previous_path = names, path
