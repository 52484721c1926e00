"""One plotting style for every figure of the book."""

from __future__ import annotations

from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt

#: colour roles used across chapters
COLORS = {
    "theory": "#1b1b1b",
    "measured": "#1f6fb2",
    "accent": "#d1495b",
    "muted": "#9aa5b1",
    "pass": "#2e7d32",
}

STYLE: dict[str, Any] = {
    "figure.dpi": 110,
    "savefig.dpi": 150,
    "font.size": 10,
    "axes.titlesize": 10.5,
    "axes.labelsize": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "legend.frameon": False,
    "legend.fontsize": 9,
    "lines.linewidth": 1.6,
}


def figure(
    ncols: int = 1, nrows: int = 1, width: float = 4.2, height: float = 3.2, **kwargs: Any
) -> tuple[plt.Figure, Any]:
    """A new figure in the book's style; ``width``/``height`` are per panel, in inches."""
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(
            nrows, ncols, figsize=(width * ncols, height * nrows), layout="constrained", **kwargs
        )
    return fig, axes


def style() -> Any:
    """Context manager applying the book's rcParams while drawing."""
    return plt.rc_context(STYLE)
