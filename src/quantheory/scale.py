"""The scale switch: ``QUANTHEORY_SCALE=quick|full|large`` sizes every experiment.

``quick`` is for unit tests and fast looks; ``full`` (the default) is what the
book is built with; ``large`` is for a cluster (see the README's Dask section):
an experiment that names no ``large`` size runs at its ``full`` size.
"""

from __future__ import annotations

import os
from typing import TypeVar

from quantheory.validation import one_of

SCALES = ("quick", "full", "large")
ENV_VAR = "QUANTHEORY_SCALE"

T = TypeVar("T")


def current_scale() -> str:
    """Return the scale named by ``QUANTHEORY_SCALE`` (``"full"`` when unset)."""
    return one_of(ENV_VAR, os.environ.get(ENV_VAR, "full"), SCALES)


def by_scale(*, quick: T, full: T, large: T | None = None, scale: str | None = None) -> T:
    """Pick the size of an experiment for ``scale`` (default: :func:`current_scale`).

    ``large`` defaults to ``full``.

    Examples
    --------
    >>> by_scale(quick=1_000, full=100_000, scale="quick")
    1000
    >>> by_scale(quick=1_000, full=100_000, scale="large")
    100000
    >>> by_scale(quick=1_000, full=100_000, large=10**7, scale="large")
    10000000
    """
    scale = current_scale() if scale is None else one_of("scale", scale, SCALES)
    if scale == "quick":
        return quick
    if scale == "large" and large is not None:
        return large
    return full
