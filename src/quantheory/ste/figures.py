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
    """Left: rates with 95% Wilson intervals against angle/pi. Right: rate minus theory.

    The right panel also shades the band the claim allows at each angle (the
    Wilson interval at the book's error-budget level).
    """
    fig, (left, right) = figure(ncols=2, width=4.2, height=3.4)
    x = sample.angles / np.pi
    grid = np.linspace(0, np.pi, 200)
    left.plot(
        grid / np.pi,
        sym.disagreement_numeric(grid),
        color=COLORS["theory"],
        label=r"theory $\theta/\pi$",
    )
    predicted = sym.disagreement_numeric(sample.angles)
    low, high = stats.wilson_interval(sample.disagreements, sample.n_samples, 0.05)
    # at rates of exactly 0 or 1, rounding can put the bound a hair past the rate
    yerr = [np.maximum(sample.rates - low, 0.0), np.maximum(high - sample.rates, 0.0)]
    label = f"Monte Carlo, {sample.n_samples:,} draws (95% CI)"
    left.errorbar(
        x, sample.rates, yerr=yerr, fmt="o", ms=4, color=COLORS["measured"], capsize=2, label=label
    )
    left.set_xlabel(r"angle between $u$ and $w$, in units of $\pi$")
    left.set_ylabel(r"$P(\mathrm{sign}\langle z,u\rangle \neq \mathrm{sign}\langle z,w\rangle)$")
    left.legend(loc="upper left")
    budget_low, budget_high = stats.wilson_interval(
        sample.disagreements, sample.n_samples, stats.comparison_alpha(len(sample.angles))
    )
    right.fill_between(
        x,
        budget_low - sample.rates,
        budget_high - sample.rates,
        color=COLORS["muted"],
        alpha=0.35,
        label="allowed by the error budget",
    )
    right.errorbar(
        x,
        sample.rates - predicted,
        yerr=yerr,
        fmt="o",
        ms=4,
        color=COLORS["measured"],
        capsize=2,
        label="measured - theory (95% CI)",
    )
    right.axhline(0, color=COLORS["theory"], lw=1)
    right.set_xlabel(r"angle between $u$ and $w$, in units of $\pi$")
    right.set_ylabel(r"rate $-\ \theta/\pi$")
    right.legend(loc="lower center")
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
    """Hitting time of w* divided by the stated bound, against the bound; one point a start.

    Filled markers: starts whose largest coordinate has the wrong sign (the
    bound is tight for them); hollow markers: the other starts.
    """
    fig, ax = figure(width=6.0, height=3.6)
    for i, run in enumerate(runs):
        bound = dynamics_step_bounds(run)
        largest = np.argmax(np.abs(run.w0), axis=1)
        wrong = np.sign(run.w0[np.arange(len(bound)), largest]) != run.problem.w_star[largest]
        color = f"C{i}"
        ratio = run.hitting_time / bound
        ax.scatter(
            bound[wrong],
            ratio[wrong],
            s=9,
            color=color,
            alpha=0.6,
            label=f"n = {run.problem.n}, eta = {run.step_size:g}, largest sign wrong",
        )
        ax.scatter(
            bound[~wrong],
            ratio[~wrong],
            s=9,
            facecolors="none",
            edgecolors=color,
            alpha=0.4,
            label=f"n = {run.problem.n}, eta = {run.step_size:g}, right",
        )
    ax.axhline(1.0, color=COLORS["theory"], lw=1.2, label="the bound")
    ax.set_xscale("log")
    ax.set_ylim(-0.05, 1.1)
    ax.set_xlabel("stated bound on the number of steps")
    ax.set_ylabel("steps to reach $w^*$ / bound")
    fig.legend(*ax.get_legend_handles_labels(), loc="outside right center", fontsize=8)
    return fig
