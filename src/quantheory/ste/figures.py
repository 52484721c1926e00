"""Figures of the Part I chapters, drawn in the book's shared style."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np

from quantheory import stats
from quantheory.plotting import COLORS, figure
from quantheory.ste import symbolic as sym
from quantheory.ste.population import DisagreementSample, DynamicsRun, PopulationSample
from quantheory.ste.population_claims import dynamics_step_bounds


def plot_sign_disagreement(sample: DisagreementSample) -> plt.Figure:
    """Measured disagreement rates with 95% Wilson intervals against angle/pi."""
    fig, ax = figure(width=5.0, height=3.4)
    grid = np.linspace(0, np.pi, 200)
    ax.plot(
        grid / np.pi,
        sym.disagreement_numeric(grid),
        color=COLORS["theory"],
        label=r"theory $\theta/\pi$",
    )
    low, high = stats.wilson_interval(sample.disagreements, sample.n_samples, 0.05)
    ax.errorbar(
        sample.angles / np.pi,
        sample.rates,
        yerr=[sample.rates - low, high - sample.rates],
        fmt="o",
        ms=4,
        color=COLORS["measured"],
        capsize=2,
        label=f"Monte Carlo, {sample.n_samples:,} draws (95% CI)",
    )
    ax.set_xlabel(r"angle between $u$ and $w$, in units of $\pi$")
    ax.set_ylabel(r"$P(\mathrm{sign}\langle z,u\rangle \neq \mathrm{sign}\langle z,w\rangle)$")
    ax.legend(loc="upper left")
    return fig


def plot_population_checks(samples: Sequence[PopulationSample]) -> plt.Figure:
    """Left: gradient coordinates, measured vs predicted. Right: the same for the loss."""
    fig, (left, right) = figure(ncols=2, width=4.2, height=3.6)
    markers = "osD^v"
    for i, s in enumerate(samples):
        predicted = sym.population_gradient_numeric(s.u, s.problem.w_star, s.problem.v)
        lo, hi = s.gradient.interval(0.95)
        left.errorbar(
            predicted,
            s.gradient.mean,
            yerr=[s.gradient.mean - lo, hi - s.gradient.mean],
            fmt=markers[i % len(markers)],
            ms=4,
            capsize=2,
            label=s.config.label,
        )
        loss_pred = sym.population_loss_numeric(s.angle, s.problem.v, s.problem.noise_std)
        llo, lhi = s.loss.interval(0.95)
        right.errorbar(
            loss_pred,
            float(s.loss.mean),
            yerr=[[float(s.loss.mean - llo)], [float(lhi - s.loss.mean)]],
            fmt=markers[i % len(markers)],
            ms=5,
            capsize=2,
        )
    for ax, title in (
        (left, r"coordinates of $\mathbb{E}[g(u)]$"),
        (right, r"population loss $L(u)$"),
    ):
        lims = np.array(ax.get_xlim() + ax.get_ylim())
        span = [lims.min(), lims.max()]
        ax.plot(span, span, color=COLORS["muted"], lw=1, zorder=0, label="measured = predicted")
        ax.set_xlabel("predicted by the theorem")
        ax.set_ylabel("Monte Carlo estimate (95% CI)")
        ax.set_title(title)
    fig.legend(*left.get_legend_handles_labels(), loc="outside lower center", ncols=2)
    return fig


def plot_hitting_times(runs: Sequence[DynamicsRun]) -> plt.Figure:
    """Hitting time of w* against the stated bound, one point per start."""
    fig, ax = figure(width=5.0, height=3.6)
    top = 1.0
    for run in runs:
        bound = dynamics_step_bounds(run)
        ax.scatter(
            bound,
            run.hitting_time,
            s=8,
            alpha=0.5,
            label=f"n = {run.problem.n}, eta = {run.step_size:g}",
        )
        top = max(top, float(bound.max()))
    ax.plot([1, top], [1, top], color=COLORS["theory"], lw=1, label="hitting time = bound")
    ax.plot([1, top], [0, top - 1], color=COLORS["muted"], lw=1, ls="--", label="bound - 1")
    ax.set_xscale("log")
    ax.set_yscale("symlog", linthresh=1)
    ax.set_xlabel("stated bound on the number of steps")
    ax.set_ylabel(r"steps until $\mathrm{sign}(w^t) = w^*$")
    ax.legend(loc="upper left")
    return fig
