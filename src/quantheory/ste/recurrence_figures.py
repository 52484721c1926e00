"""Figures of the Theorem 3 chapter."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import NullFormatter

from quantheory.plotting import COLORS, figure
from quantheory.ste.recurrence import OccupationSummary, RecurrenceRuns
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


def plot_occupation_sweeps(
    by_noise: Sequence[OccupationSummary], by_samples: Sequence[OccupationSummary]
) -> plt.Figure:
    """Mean occupation of w* (95% CI) against the noise level and against N."""
    fig, (left, right) = figure(ncols=2, width=4.2, height=3.2)
    for ax, rows, label in (
        (left, by_noise, "label-noise level $s$ (N = 140)"),
        (right, by_samples, "number of samples $N$ (s = 0.5)"),
    ):
        x = np.array([r.label for r in rows])
        mean = np.array([r.mean for r in rows])
        err = [mean - np.array([r.low for r in rows]), np.array([r.high for r in rows]) - mean]
        ax.errorbar(x, mean, yerr=err, fmt="o-", capsize=3, color=COLORS["measured"])
        ax.set_xlabel(label)
        ax.set_ylabel("mean occupation of $w^*$")
        ax.set_ylim(bottom=0)
    right.set_xscale("log")
    sizes = [r.label for r in by_samples]
    right.set_xticks(sizes, [f"{s:g}" for s in sizes])
    right.xaxis.set_minor_formatter(NullFormatter())
    return fig
