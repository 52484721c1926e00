"""Figures of the Theorem 3 chapter."""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import NullFormatter

from quantheory.plotting import COLORS, figure
from quantheory.ste.recurrence import CellStatistics, RecurrenceRuns
from quantheory.ste.symbolic import population_loss_numeric


def plot_trajectory(runs: RecurrenceRuns, trial: int, window: int) -> plt.Figure:
    """The paper's Figure 1 (right): distance to w* and loss along one noisy run."""
    fig, (top, bottom) = figure(nrows=2, width=7.0, height=2.3, sharex=True)
    distance = runs.distance[trial, : window + 1]
    t = np.arange(distance.size)
    top.plot(t, 2 * np.sqrt(distance), color=COLORS["measured"], lw=0.8)
    top.set_ylabel(r"$\|u^t - w^*\|$")
    theta = np.arccos(1 - 2 * distance / runs.n)
    population = population_loss_numeric(theta, runs.batch.v, runs.noise_std)
    bottom.plot(t, population, color=COLORS["accent"], lw=0.8, label="population loss $L(u^t)$")
    bottom.plot(
        t,
        runs.empirical_loss[trial, : window + 1],
        color=COLORS["muted"],
        lw=0.8,
        label="training loss $L_N(u^t)$",
    )
    bottom.axhline(
        runs.noise_std**2 / 2, color=COLORS["theory"], lw=1, ls="--", label="$L(w^*) = s^2/2$"
    )
    bottom.set_xlabel("step $t$")
    bottom.set_ylabel("loss")
    bottom.legend(loc="upper right", ncols=3, fontsize=8)
    return fig


def plot_recurrence_statistics(runs: RecurrenceRuns) -> plt.Figure:
    """Left: running occupation of w* per training set. Right: return-time distribution."""
    fig, (left, right) = figure(ncols=2, width=4.3, height=3.3)
    at = runs.at_star
    steps = np.arange(1, at.shape[1] + 1)
    for row in at:
        left.plot(steps, np.cumsum(row) / steps, lw=0.7, alpha=0.7)
    left.set_xscale("log")
    left.set_xlabel("step $t$")
    left.set_ylabel("fraction of steps at $w^*$ so far")
    lengths = np.sort(runs.return_times())
    survival = 1.0 - np.arange(lengths.size) / lengths.size
    right.step(lengths, survival, where="post", color=COLORS["measured"])
    right.set_xscale("log")
    right.set_yscale("log")
    right.set_xlabel("length $r$ of an excursion away from $w^*$ (steps)")
    right.set_ylabel("fraction of excursions longer than or equal to $r$")
    return fig


def plot_recurrence_map(table: Mapping[tuple[int, float], CellStatistics]) -> plt.Figure:
    """Mean occupation of w* against the noise level, one line per N.

    Thick bars: 95 % t intervals over training sets; thin bars: the book's
    error-budget intervals. Filled markers: cells where recurrence is shown.
    """
    fig, ax = figure(width=6.0, height=3.6)
    sizes = sorted({cell[0] for cell in table})
    shades = [COLORS["muted"], COLORS["measured"], COLORS["theory"], COLORS["accent"]]
    for index, N in enumerate(sizes):
        rows = [table[cell] for cell in sorted(table) if cell[0] == N]
        x = np.array([r.noise_std for r in rows]) * (1 + 0.04 * (index - 1))
        mean = np.array([r.occupation for r in rows])
        color = shades[index % len(shades)]
        for low, high, width in (("budget_low", "budget_high", 0.8), ("low", "high", 2.4)):
            lows = np.array([max(getattr(r, low), 0.0) for r in rows])
            highs = np.array([min(getattr(r, high), 1.0) for r in rows])
            ax.vlines(x, lows, highs, color=color, lw=width)
        ax.plot(x, mean, "-", color=color, lw=1, label=f"N = {N}")
        shown = np.array([r.recurrent for r in rows])
        ax.plot(x[shown], mean[shown], "o", color=color)
        ax.plot(x[~shown], mean[~shown], "o", mfc="white", color=color)
    ax.set_xscale("log")
    levels = sorted({cell[1] for cell in table})
    ax.set_xticks(levels, [f"{s:g}" for s in levels])
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("label-noise level $s$")
    ax.set_ylabel("mean fraction of steps at $w^*$")
    ax.set_ylim(-0.02, 1.0)
    ax.legend(title="filled: recurrence shown")
    return fig
