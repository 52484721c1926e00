"""The examples in the docstrings of the book's package are right, in every module."""

import doctest
import importlib
import pkgutil

import pytest

import quantheory


def modules_with_examples() -> list[str]:
    """Every module of ``quantheory`` whose source holds a doctest example."""
    names = []
    for info in pkgutil.walk_packages(quantheory.__path__, prefix="quantheory."):
        spec = importlib.util.find_spec(info.name)
        if spec and spec.origin and ">>> " in open(spec.origin, encoding="utf-8").read():
            names.append(info.name)
    return sorted(names)


def test_the_modules_with_examples_include_the_shared_ones():
    assert {"quantheory.stats", "quantheory.scale", "quantheory.margins"} <= set(
        modules_with_examples()
    )


@pytest.mark.parametrize("name", modules_with_examples())
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name))
    assert result.attempted > 0 and result.failed == 0
