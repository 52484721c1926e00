"""Figures of the Theorem 3 chapter."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

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
    population = population_loss_numeric(theta, runs.v, runs.noise_std)
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


def _cell_panel(
    ax: plt.Axes,
    table: Mapping[tuple[int, float], CellStatistics],
    value: Callable[[CellStatistics], tuple[float, float, float]],
    regime: Sequence[tuple[int, float]],
) -> None:
    """One line per N against the noise level: ``value`` gives (estimate, low, high).

    Filled markers: the regime cells; open markers: the rest.
    """
    sizes = sorted({cell[0] for cell in table})
    shades = [COLORS["muted"], COLORS["measured"], COLORS["theory"], COLORS["accent"]]
    for index, N in enumerate(sizes):
        cells = [cell for cell in sorted(table) if cell[0] == N]
        x = np.array([cell[1] for cell in cells]) * (1 + 0.04 * (index - 1))
        values = np.array([value(table[cell]) for cell in cells], dtype=float)
        color = shades[index % len(shades)]
        ax.vlines(x, values[:, 1], values[:, 2], color=color, lw=2.0)
        ax.plot(x, values[:, 0], "-", color=color, lw=1, label=f"N = {N}")
        inside = np.array([cell in regime for cell in cells])
        ax.plot(x[inside], values[inside, 0], "o", color=color)
        ax.plot(x[~inside], values[~inside, 0], "o", mfc="white", color=color)
    ax.set_xscale("log")
    levels = sorted({cell[1] for cell in table})
    ax.set_xticks(levels, [f"{s:g}" for s in levels])
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("label-noise level $s$")


def plot_recurrence_map(
    table: Mapping[tuple[int, float], CellStatistics],
    regime: Sequence[tuple[int, float]],
    tolerance: float,
) -> plt.Figure:
    """Occupation, recurrent training sets and the halves' return ratio, against s, per N.

    Bars are 95 % intervals: Student t over training sets for the occupation,
    Wilson for the fraction of recurrent training sets, Fieller for the ratio
    of the mean returns in the second and first halves (clipped to the
    panel when unbounded). Filled markers: the ``regime`` cells. The grey
    band in the right panel is the equivalence tolerance ``[1/tolerance, tolerance]``.
    """
    fig, (left, middle, right) = figure(ncols=3, width=3.3, height=3.3)

    def occupation(c: CellStatistics) -> tuple[float, float, float]:
        return (c.mean_occupation, *c.occupation_interval())

    def recurrent(c: CellStatistics) -> tuple[float, float, float]:
        return (c.recurrent_runs / c.n_runs, *c.recurrent_interval())

    def halves(c: CellStatistics) -> tuple[float, float, float]:
        ratio, low, high = c.returns_ratio()
        return (ratio, max(low, 0.5), min(high, 1.6))

    _cell_panel(left, table, occupation, regime)
    left.set_ylabel("mean fraction of steps at $w^*$")
    left.set_ylim(-0.02, 1.0)
    left.legend(title="filled: regime")
    _cell_panel(middle, table, recurrent, regime)
    middle.set_ylabel("fraction of training sets recurrent")
    middle.set_ylim(-0.02, 1.02)
    right.axhspan(1 / tolerance, tolerance, color=COLORS["muted"], alpha=0.25, lw=0)
    _cell_panel(right, table, halves, regime)
    right.axhline(1.0, color=COLORS["theory"], lw=0.8, ls="--")
    right.set_ylabel("returns, second half / first half")
    right.set_ylim(0.5, 1.6)
    return fig
