"""Figures of the chapter "Integer vs floating point" (``book/lr_formats.py``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np

from quantheory import stats
from quantheory.lr.compare_claims import (
    DIMENSION_EPS,
    FLAT_TOLERANCE,
    FLOAT_KIND,
    FORMAT_TOLERANCE,
    INTEGER_KIND,
    PAPER_DIMENSION,
    PAPER_EPS,
    BitMap,
    DimensionCheck,
    FormatResult,
    PaperExperiments,
    PointResult,
)
from quantheory.lr.simulate import SimulatedRisk
from quantheory.plotting import COLORS, figure, style

#: how each idealized kind is named in the figures
KIND_NAMES = {INTEGER_KIND: "additive (integer-like)", FLOAT_KIND: "multiplicative (float-like)"}


def _eps_colors() -> dict[float, str]:
    shades = plt.get_cmap("viridis")(np.linspace(0.0, 0.85, len(PAPER_EPS)))
    return {eps: shades[i] for i, eps in enumerate(PAPER_EPS)}


def plot_risk_vs_samples(
    experiments: PaperExperiments, simulated: Mapping[str, SimulatedRisk], comparisons: int
) -> plt.Figure:
    """Experiment 1: averaged-iterate risk vs N at d = 200, one panel per kind, log-log.

    ``simulated[kind]`` (at ``eps = 0.01``) is drawn as points with Student t
    intervals at the book's budget for ``comparisons`` comparisons.
    """
    colors = _eps_colors()
    with style():
        fig, axes = figure(ncols=2, width=4.0, height=3.3, sharey=True)
        for ax, kind in zip(axes, (INTEGER_KIND, FLOAT_KIND), strict=True):
            for eps in PAPER_EPS:
                key = ("none", 0.0) if eps == 0 else (kind, eps)
                curve = experiments.by_eps[key]
                ax.plot(curve.steps, curve.average, color=colors[eps], label=f"eps = {eps:g}")
            sim = simulated[kind]
            for k, n in enumerate(sim.steps):
                mean, low, high = stats.budget_t_interval(sim.average[:, k], comparisons)
                ax.errorbar(
                    n,
                    mean,
                    yerr=[[mean - low], [high - mean]],
                    fmt="o",
                    ms=4,
                    color=colors[DIMENSION_EPS],
                    mec="black",
                    capsize=2,
                    label="simulation, eps = 0.01" if k == 0 else None,
                )
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_xlabel("samples N (B = 1)")
            ax.set_title(f"{KIND_NAMES[kind]}, d = {PAPER_DIMENSION}")
        axes[0].set_ylabel("excess risk of the averaged iterate")
        axes[1].legend(loc="lower left")
    return fig


def plot_risk_vs_dimension(experiments: PaperExperiments, check: DimensionCheck) -> plt.Figure:
    """Experiment 2 at eps = 0.01: risk vs N by d (left, middle) and the excess vs d (right)."""
    dims = check.dimensions
    shades = plt.get_cmap("plasma")(np.linspace(0.0, 0.8, dims.size))
    with style():
        fig, axes = figure(ncols=3, width=3.5, height=3.2)
        for ax, kind in zip(axes[:2], (INTEGER_KIND, FLOAT_KIND), strict=True):
            for d, color in zip(dims, shades, strict=True):
                curve = experiments.by_dimension[(kind, int(d))]
                base = experiments.by_dimension[("none", int(d))]
                ax.plot(curve.steps, curve.average, color=color, label=f"d = {d}")
                ax.plot(base.steps, base.average, color=color, ls=":", lw=1.0)
            ax.axvline(check.samples, color=COLORS["muted"], lw=0.8)
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_xlabel("samples N")
            ax.set_title(f"{KIND_NAMES[kind]}, eps = {DIMENSION_EPS:g}")
        axes[0].set_ylabel("excess risk (dotted: unquantized)")
        axes[0].legend(loc="lower left")
        ax = axes[2]
        for kind, color in ((INTEGER_KIND, COLORS["accent"]), (FLOAT_KIND, COLORS["measured"])):
            excess = check.excess[kind]
            ax.plot(dims, excess / excess[0], "o-", color=color, label=KIND_NAMES[kind])
        ax.axhspan(1 - FLAT_TOLERANCE, 1 + FLAT_TOLERANCE, color=COLORS["muted"], alpha=0.3)
        ax.set_xscale("log", base=2)
        ax.set_xticks(dims, [str(d) for d in dims])
        ax.set_xlabel("dimension d")
        ax.set_ylabel(f"excess at N = {check.samples:,}, relative to d = {dims[0]}")
        ax.set_title("what quantization adds, by d")
        ax.legend(loc="upper left")
    return fig


def plot_bit_map(maps: Sequence[BitMap], points: Sequence[PointResult]) -> plt.Figure:
    """One panel per exponent: which class wins at (integer bits b, mantissa bits m).

    Colour: ``(R_float - R_int) / R_none`` clipped to ``[-1, 1]`` (blue: the
    float wins). Black: the recursion's boundary ``m*(b)``; dashed: the
    summaries' rule ``m = b - (a/2) log2 d``; dotted: equal total bits with 4
    and 5 exponent bits (``m = b - 5``, ``b - 6``); circles: simulated pairs.
    """
    with style():
        fig, axes = figure(ncols=len(maps), width=3.4, height=3.3, sharey=True)
        axes = np.atleast_1d(axes)
        for ax, bm in zip(axes, maps, strict=True):
            diff = np.clip(bm.relative_difference(), -1, 1)
            mesh = ax.pcolormesh(
                bm.int_bits, bm.mantissa_bits, diff.T, cmap="RdBu_r", vmin=-1, vmax=1
            )
            star = bm.boundary()
            finite = np.isfinite(star)
            ax.plot(bm.int_bits[finite], star[finite], color="black", lw=2, label="recursion m*")
            ax.plot(bm.int_bits, bm.rule(), color="black", ls="--", label="rule")
            for e in (4, 5):
                ax.plot(bm.int_bits, bm.int_bits - 1 - e, color="black", ls=":", lw=1)
            for r in points:
                if r.point.a == bm.a:
                    ax.plot(r.point.int_bits, r.point.mantissa_bits, "o", mfc="none", mec="black")
            ax.set_ylim(bm.mantissa_bits[0] - 0.5, bm.mantissa_bits[-1] + 0.5)
            ax.set_xlabel("integer bits b")
            ax.set_title(f"a = {bm.a:g}, d = {bm.d}, N = {bm.samples:,}")
        axes[0].set_ylabel("float mantissa bits m")
        axes[0].legend(loc="upper left", fontsize=8)
        fig.colorbar(mesh, ax=axes, shrink=0.85, label="(R_float - R_int) / R_none")
    return fig


def plot_real_formats(results: Sequence[FormatResult]) -> plt.Figure:
    """Each real format: measured / predicted excess risk, with intervals at the budget.

    Filled markers: formats the design resolves (tested); open: not resolved
    (reported). Crosses: the trace-matched ``eps``'s prediction over the derived one's.
    """
    k = len(results)
    with style():
        fig, ax = figure(width=6.0, height=3.4)
        ax.axhspan(1 - FORMAT_TOLERANCE, 1 + FORMAT_TOLERANCE, color=COLORS["muted"], alpha=0.3)
        ax.axhline(1.0, color=COLORS["theory"], lw=1)
        ax.axhline(0.0, color=COLORS["muted"], lw=0.8, ls=":")
        for i, r in enumerate(results):
            mid, low, high = r.ratio(k)
            color = COLORS["measured"] if r.fmt.rounding == "stochastic" else COLORS["accent"]
            face = color if r.resolved(k) else "white"
            ax.errorbar(
                i, mid, yerr=[[mid - low], [high - mid]], fmt="o", color=color, mfc=face, capsize=3
            )
            if r.predicted_matched is not None:
                matched = (r.predicted_matched - r.predicted_none) / r.predicted_excess
                ax.plot(i, matched, "x", color=COLORS["theory"], ms=6)
        ax.axvline(
            sum(r.fmt.family == "integer" for r in results) - 0.5, color=COLORS["muted"], lw=0.8
        )
        ax.set_xticks(range(k), [r.fmt.label for r in results], rotation=45, ha="right")
        ax.set_ylabel("measured / predicted excess risk")
        ax.set_title("real formats on the data (blue SR, red RN; open: not resolved)")
    return fig
