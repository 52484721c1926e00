"""Figures of the Part II chapters."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from quantheory.cg import surrogates as sg
from quantheory.plotting import COLORS, figure

LABELS = {
    "relu": "ReLU",
    "reverse_exponential": "reverse exponential",
    "log_tailed_relu": "log-tailed ReLU",
    "clipped_relu": "clipped ReLU (fails)",
    "identity": "identity (fails)",
}


def plot_sigma(bits_values: tuple[int, ...] = (1, 2)) -> plt.Figure:
    """The b-bit quantized ReLU for a few bit-widths (the paper's Figure 1)."""
    fig, axes = figure(ncols=len(bits_values), width=3.2, height=2.8)
    for ax, bits in zip(np.atleast_1d(axes), bits_values, strict=True):
        q = sg.max_level(bits)
        grid = np.linspace(-1.5, q + 1.5, 2001)
        ax.plot(grid, sg.quantized_relu(grid, bits), color=COLORS["measured"])
        ax.set_title(f"{bits}-bit quantized ReLU ($q_b = {q}$)")
        ax.set_xlabel("$x$")
        ax.set_ylabel(r"$\sigma(x)$")
    return fig


def plot_surrogates(bits: int, bound: float) -> plt.Figure:
    """Each surrogate g (top) and its derivative g' (bottom) on [-1, B] (Figure 2)."""
    fig, axes = figure(ncols=len(sg.SURROGATES), nrows=2, width=2.3, height=2.2, sharex=True)
    grid = np.linspace(-1.0, bound, 2001)
    for column, name in enumerate(sg.SURROGATES):
        g, dg = sg.surrogate_functions(name, bits)
        color = COLORS["measured"] if name in sg.ADMISSIBLE else COLORS["accent"]
        axes[0, column].plot(grid, g(grid), color=color)
        axes[0, column].set_title(LABELS[name], fontsize=9)
        axes[1, column].plot(grid, dg(grid), color=color)
        axes[1, column].set_xlabel("$x$")
        axes[1, column].set_ylim(-0.1, 1.2)
    axes[0, 0].set_ylabel("$g(x)$")
    axes[1, 0].set_ylabel("$g'(x)$")
    return fig
