"""The worked examples in the package's docstrings are run as doctests, so they stay true."""

import doctest
import importlib
import pkgutil

import pytest

import llmscratch

MODULES = sorted(m.name for m in pkgutil.walk_packages(llmscratch.__path__, prefix="llmscratch."))


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} doctest(s) failed in {name}"
