"""Figures of the chapter "SGD on a power-law spectrum, exact": theory lines over MC bands."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np

from quantheory.lr.model import KINDS, TARGETS
from quantheory.lr.recursion_claims import ESTIMATORS, Comparison
from quantheory.plotting import COLORS, figure

#: 95% normal quantile of the bands drawn around the Monte Carlo means
BAND_Z = 1.96
KIND_COLORS = {
    None: COLORS["muted"],
    "additive": COLORS["accent"],
    "mult_vector": COLORS["measured"],
    "mult_coord": COLORS["pass"],
}
KIND_LABELS = {
    None: "none",
    "additive": "additive",
    "mult_vector": "mult. per vector",
    "mult_coord": "mult. per coordinate",
}


def _curve(ax: plt.Axes, c: Comparison, estimator: str, color: str, label: str) -> None:
    """The recursion's line and the simulated mean's 95% band against samples N = B T.

    Points where the predicted risk is 0 (the average at T = 1 started at w*)
    have no place on a log scale and are not drawn.
    """
    predicted = getattr(c.predicted, estimator)
    keep = predicted > 0
    samples = (c.simulated.steps * c.case.problem.batch)[keep]
    mean, se = c.mean(estimator)[keep], c.standard_error(estimator)[keep]
    low = np.maximum(mean - BAND_Z * se, 0.5 * mean)
    ax.fill_between(samples, low, mean + BAND_Z * se, color=color, alpha=0.25, lw=0)
    ax.plot(samples, mean, "o", ms=2.5, color=color)
    ax.plot(samples, predicted[keep], "-", color=color, lw=1.2, label=label)


def _ratio(ax: plt.Axes, c: Comparison, plain: Comparison, estimator: str, color: str) -> None:
    """Risk over the unquantized risk: the recursion's line and the simulated ratio's 95% band.

    The simulated ratio is the ratio of the two independent Monte Carlo means,
    its standard error by the delta method.
    """
    samples = c.simulated.steps * c.case.problem.batch
    a, b = c.mean(estimator), plain.mean(estimator)
    ratio = a / b
    se = ratio * np.hypot(c.standard_error(estimator) / a, plain.standard_error(estimator) / b)
    ax.fill_between(
        samples, ratio - BAND_Z * se, ratio + BAND_Z * se, color=color, alpha=0.25, lw=0
    )
    ax.plot(samples, ratio, "o", ms=2.5, color=color)
    predicted = getattr(c.predicted, estimator) / getattr(plain.predicted, estimator)
    ax.plot(samples, predicted, "-", color=color, lw=1.2, label=KIND_LABELS[c.case.quant.kind])


def _log_axes(ax: plt.Axes) -> None:
    ax.set_xscale("log")
    ax.set_yscale("log")


def plot_unquantized(comparisons: Sequence[Comparison]) -> plt.Figure:
    """No quantization at B = 1: whole risk, bias part and variance part, both iterates."""
    parts = [
        next(c for c in comparisons if c.case.problem.batch == 1 and c.case.part == part)
        for part in ("whole", "bias", "variance")
    ]
    colors = [COLORS["theory"], COLORS["accent"], COLORS["measured"]]
    names = ["whole risk", "bias part ($s^2 = 0$)", "variance part ($w_0 = w^*$)"]
    fig, axes = figure(ncols=2, width=3.9, height=3.1, sharey=True)
    for ax, estimator in zip(axes, ESTIMATORS, strict=True):
        for c, color, name in zip(parts, colors, names, strict=True):
            _curve(ax, c, estimator, color, name)
        _log_axes(ax)
        ax.set_xlabel("samples $N$ (= steps $T$)")
        ax.set_title("last iterate $w_T$" if estimator == "last" else r"average $\bar w_T$")
    axes[0].set_ylabel("expected excess risk")
    axes[0].legend(loc="lower left")
    return fig


def plot_targets(comparisons: Sequence[Comparison], estimator: str = "average") -> plt.Figure:
    """Risk with quantization over the risk without, per target (columns) and batch (rows)."""
    batches = sorted({c.case.problem.batch for c in comparisons})
    fig, axes = figure(
        ncols=len(TARGETS), nrows=len(batches), width=2.5, height=2.3, sharex=True, sharey="row"
    )
    axes = np.atleast_2d(axes)
    for row, batch in enumerate(batches):
        here = [c for c in comparisons if c.case.problem.batch == batch]
        (plain,) = [c for c in here if c.case.quant is None and c.case.part == "whole"]
        for col, target in enumerate(TARGETS):
            ax = axes[row, col]
            ax.axhline(1.0, color=KIND_COLORS[None], lw=1)
            for kind in KINDS:
                (c,) = [
                    c
                    for c in here
                    if c.case.quant is not None
                    and (c.case.quant.target, c.case.quant.kind) == (target, kind)
                ]
                _ratio(ax, c, plain, estimator, KIND_COLORS[kind])
            ax.set_xscale("log")
            if row == 0:
                ax.set_title(target)
            if row == len(batches) - 1:
                ax.set_xlabel("samples $N = BT$")
            if col == 0:
                ax.set_ylabel(f"B = {batch}: risk / unquantized")
    axes[0, 0].legend(loc="upper left", fontsize=7)
    return fig


def plot_z_scores(comparisons: Sequence[Comparison], threshold: float) -> plt.Figure:
    """Every statistical point's z against samples, with the budget's threshold."""
    fig, ax = figure(width=7.0, height=2.8)
    for c in comparisons:
        kind = None if c.case.quant is None else c.case.quant.kind
        samples = c.simulated.steps * c.case.problem.batch
        for estimator, marker in zip(ESTIMATORS, ("o", "^"), strict=True):
            keep = ~c.deterministic(estimator)
            ax.plot(
                samples[keep],
                c.z(estimator)[keep],
                marker,
                ms=2.5,
                alpha=0.6,
                color=KIND_COLORS[kind],
            )
    for sign in (-1, 1):
        ax.axhline(sign * threshold, color=COLORS["theory"], ls="--", lw=1)
    ax.set_xscale("log")
    ax.set_xlabel("samples $N = BT$")
    ax.set_ylabel("$z$ = (MC mean - recursion) / SE")
    handles = [
        plt.Line2D([], [], marker="o", ls="", color=KIND_COLORS[k], label=KIND_LABELS[k])
        for k in KIND_COLORS
    ]
    handles.append(plt.Line2D([], [], ls="--", color=COLORS["theory"], label="threshold"))
    ax.legend(handles=handles, ncols=5, loc="upper center", fontsize=8)
    ax.set_ylim(-1.25 * threshold, 1.6 * threshold)
    return fig
