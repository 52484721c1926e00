"""Argument checks that raise readable :class:`ValueError` messages.

Each helper names the argument, shows the bad value and says what is allowed.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def positive_int(name: str, value: Any) -> int:
    """Return ``value`` as an ``int`` if it is an integer >= 1, else raise."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {_show(value)}")
    return int(value)


def positive_float(name: str, value: Any) -> float:
    """Return ``value`` as a ``float`` if it is finite and > 0, else raise."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.number):
        raise ValueError(f"{name} must be a finite number > 0, got {_show(value)}")
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a finite number > 0, got {_show(value)}")
    return float(value)


def nonnegative_float(name: str, value: Any) -> float:
    """Return ``value`` as a ``float`` if it is finite and >= 0, else raise."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.number):
        raise ValueError(f"{name} must be a finite number >= 0, got {_show(value)}")
    if not np.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {_show(value)}")
    return float(value)


def one_of(name: str, value: Any, allowed: Iterable[Any]) -> Any:
    """Return ``value`` if it is one of ``allowed``, else raise."""
    allowed = tuple(allowed)
    if value not in allowed:
        raise ValueError(
            f"{name} must be one of {', '.join(map(repr, allowed))}; got {_show(value)}"
        )
    return value


def real_vector(name: str, value: Any, length: int | None = None) -> np.ndarray:
    """Return ``value`` as a finite 1-D float64 array (of ``length`` if given), else raise."""
    array = np.asarray(value, dtype=float)
    if array.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array, got shape {array.shape}")
    if length is not None and array.shape[0] != length:
        raise ValueError(f"{name} must have length {length}, got length {array.shape[0]}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must contain only finite numbers, got {_show(value)}")
    return array


def binary_vector(name: str, value: Any, length: int | None = None) -> np.ndarray:
    """Return ``value`` as a float64 array with entries in {-1, +1}, else raise."""
    array = real_vector(name, value, length)
    bad = ~np.isin(array, (-1.0, 1.0))
    if bad.any():
        index = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"{name} must have entries in {{-1, +1}}, got {float(array[index])!r} at index {index}"
        )
    return array
