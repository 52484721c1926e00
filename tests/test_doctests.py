"""The examples in the docstrings of the book's helper modules are right."""

import doctest

import pytest

from quantheory import scale, stats


@pytest.mark.parametrize("module", [stats, scale], ids=lambda m: m.__name__)
def test_docstring_examples(module):
    result = doctest.testmod(module)
    assert result.attempted > 0 and result.failed == 0
