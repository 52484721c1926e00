"""Figures of the Theorem 2 chapter."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import NullFormatter

from quantheory.plotting import COLORS, figure
from quantheory.ste.last_iterate import HorizonRuns, LastVsErgodic, outcome_counts
from quantheory.ste.sample_complexity import SuccessGrid


def plot_n50_last_vs_ergodic(
    comparison: LastVsErgodic, z_budget: float, band: tuple[float, float], tested_max_n: int
) -> plt.Figure:
    """Left: N50(n) of both estimates (95 % intervals). Right: their ratio.

    The ratio's bars are the error-budget intervals (critical value
    ``z_budget``), the shaded band ``band`` is the theorem check's; the line
    is the ratio's least-squares trend in log n over the tested rows
    (``n <= tested_max_n``). Rows above ``tested_max_n`` are drawn as open grey
    markers (reported, not tested); the slopes in the left panel's legend are
    those of the tested rows.
    """
    fig, (left, right) = figure(ncols=2, width=4.2, height=3.3)
    ns = comparison.ns
    tested = comparison.up_to(tested_max_n)
    for which, n50, color, shift in (
        ("ergodic", comparison.n50_ergodic, COLORS["measured"], 0.97),
        ("last", comparison.n50_last, COLORS["accent"], 1.03),
    ):
        low, high = comparison.n50_interval(which)
        alpha, _ = tested.exponent(which)
        label = "ergodic $Q(\\bar w^T)$" if which == "ergodic" else "last $Q(w^T)$"
        left.errorbar(
            ns * shift,
            n50,
            yerr=[n50 - low, high - n50],
            fmt="o-",
            capsize=3,
            color=color,
            label=f"{label}: slope {alpha:.2f} ($n \\leq {tested_max_n}$)",
        )
    left.set_xscale("log")
    left.set_yscale("log")
    left.set_xticks(ns, [str(n) for n in ns])
    left.xaxis.set_minor_formatter(NullFormatter())
    left.set_xlabel("dimension $n$")
    left.set_ylabel("$N_{50}$")
    left.legend()
    ratio = np.exp(comparison.log_ratio)
    low, high = comparison.ratio_interval(z_budget)
    right.axhline(1.0, color=COLORS["theory"], lw=1)
    right.axhspan(*band, color=COLORS["theory"], alpha=0.08, label="band of the check")
    inside = ns <= tested_max_n
    for rows, style, label in (
        (inside, {"color": COLORS["measured"]}, "tested"),
        (
            ~inside,
            {"color": COLORS["muted"], "mfc": "white"},
            f"$n > {tested_max_n}$: reported, not tested",
        ),
    ):
        if rows.any():
            right.errorbar(
                ns[rows],
                ratio[rows],
                yerr=[ratio[rows] - low[rows], high[rows] - ratio[rows]],
                fmt="o",
                capsize=3,
                label=label,
                **style,
            )
    slope, _ = tested.ratio_slope()
    log_n = np.log(tested.ns)
    intercept = np.mean(tested.log_ratio - slope * log_n)
    right.plot(
        tested.ns,
        np.exp(intercept + slope * log_n),
        color=COLORS["accent"],
        label=f"trend ($n \\leq {tested_max_n}$): slope {slope:.2f}",
    )
    right.legend()
    right.set_xscale("log")
    right.set_xticks(ns, [str(n) for n in ns])
    right.xaxis.set_minor_formatter(NullFormatter())
    right.set_xlabel("dimension $n$")
    right.set_ylabel("$N_{50}$ last / $N_{50}$ ergodic")
    return fig


def plot_horizon(runs: HorizonRuns) -> plt.Figure:
    """Fraction of the runs absorbed at w* by each step, against the ergodic estimate.

    The line is the last iterate's success after t steps (runs absorbed by
    t); the dots are the ergodic estimate's success at the two horizons and
    the dashed lines mark the horizons.
    """
    fig, ax = figure(width=5.6, height=3.3)
    steps = np.unique(np.geomspace(1, runs.long_steps, 400).astype(int))
    k = runs.n_trials
    ax.step(
        steps,
        runs.absorbed_by(steps) / k,
        where="post",
        color=COLORS["accent"],
        label="last iterate $Q(w^t)$ (absorbed at $w^*$)",
    )
    ax.plot(
        [runs.short_steps, runs.long_steps],
        [runs.ergodic_short.mean(), runs.ergodic_long.mean()],
        "o",
        color=COLORS["measured"],
        label="ergodic $Q(\\bar w^t)$",
    )
    for steps_at, name in ((runs.short_steps, "short"), (runs.long_steps, "long")):
        ax.axvline(steps_at, color=COLORS["muted"], ls="--", lw=1)
        ax.annotate(
            f"{name}: {steps_at}", (steps_at, 0.02), rotation=90, ha="right", color=COLORS["muted"]
        )
    ax.set_xscale("log")
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("step $t$")
    ax.set_ylabel(f"fraction of {k} runs right")
    ax.set_title(f"n = {runs.n}, N = {runs.n_samples}")
    ax.legend(loc="upper left")
    return fig


def untested_rows_note(grid: SuccessGrid, tested_max_n: int) -> str:
    """A caption sentence on the grid's rows above ``tested_max_n`` (reported, not tested).

    For each such row, the cell in which the most runs are right for the
    ergodic average only; without such rows, a pointer to the full scale's.
    """
    counts = outcome_counts(grid)[..., 1]
    rows = [
        f"the row n = {n} differs strongly: in its cell N = {grid.sample_sizes[j]} "
        f"{counts[i, j]} of {grid.n_trials} runs are right for the ergodic average only"
        for i, n in enumerate(grid.ns)
        if n > tested_max_n
        for j in [int(np.argmax(counts[i]))]
    ]
    if not rows:
        return (
            f"This grid has no row above n = {tested_max_n}; at full scale the row "
            "n = 200 differs strongly (the horizon, below)."
        )
    text = "; ".join(rows)
    return (
        f"Above n = {tested_max_n} (reported, not tested) {text}: the grid's "
        f"{grid.n_steps} steps are too short for the last iterate there (the horizon, below)."
    )
