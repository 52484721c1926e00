"""The scale switch: ``QUANTHEORY_SCALE=quick|full`` sizes every experiment.

``quick`` is for unit tests and fast looks; ``full`` (the default) is what the
book is built with.
"""

from __future__ import annotations

import os
from typing import TypeVar

from quantheory.validation import one_of

SCALES = ("quick", "full")
ENV_VAR = "QUANTHEORY_SCALE"

T = TypeVar("T")


def current_scale() -> str:
    """Return the scale named by ``QUANTHEORY_SCALE`` (``"full"`` when unset)."""
    return one_of(ENV_VAR, os.environ.get(ENV_VAR, "full"), SCALES)


def by_scale(*, quick: T, full: T, scale: str | None = None) -> T:
    """Pick the size of an experiment for ``scale`` (default: :func:`current_scale`).

    Examples
    --------
    >>> by_scale(quick=1_000, full=100_000, scale="quick")
    1000
    """
    scale = current_scale() if scale is None else one_of("scale", scale, SCALES)
    return quick if scale == "quick" else full
