"""Figures of the Theorem 1 and Theorem 2 chapters."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import NullFormatter, ScalarFormatter

from quantheory.display import Table
from quantheory.plotting import COLORS, figure
from quantheory.ste.sample_complexity import (
    DeviationGrowth,
    DeviationSample,
    ExponentFit,
    LocalExponents,
    N50Sweep,
    SuccessGrid,
)


def plot_deviation(sample: DeviationSample, fitted: float) -> plt.Figure:
    """Uniform deviation against N in log-log: replicates, their mean, the fit, N^-1/2."""
    fig, ax = figure(width=5.0, height=3.6)
    sizes = sample.sample_sizes
    for row in sample.deviations:
        ax.plot(sizes, row, color=COLORS["muted"], lw=0.7, alpha=0.6)
    mean = sample.deviations.mean(axis=0)
    ax.plot(sizes, mean, "o-", color=COLORS["measured"], label="mean over training sets")
    intercept = np.mean(np.log(mean) - fitted * np.log(sizes))
    ax.plot(
        sizes,
        np.exp(intercept) * sizes**fitted,
        color=COLORS["accent"],
        ls="--",
        label=f"fit: slope {fitted:.3f}",
    )
    anchor = mean[0] * np.sqrt(sizes[0])
    ax.plot(sizes, anchor / np.sqrt(sizes), color=COLORS["theory"], lw=1, label=r"$N^{-1/2}$")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("number of samples $N$")
    ax.set_ylabel(r"$\max_u \|g_N(u) - \mathbb{E}g(u)\|_\infty$")
    ax.legend()
    return fig


def plot_deviation_growth(growth: DeviationGrowth, fitted: float) -> plt.Figure:
    """Uniform deviation at fixed N against n: replicates, mean, fit, and sqrt(n) for scale."""
    fig, ax = figure(width=5.0, height=3.6)
    for column, n in zip(growth.deviations.T, growth.ns, strict=True):
        ax.plot(np.full(column.size, n), column, ".", color=COLORS["muted"], alpha=0.5)
    mean = growth.deviations.mean(axis=0)
    ax.plot(growth.ns, mean, "o-", color=COLORS["measured"], label="mean over training sets")
    intercept = np.mean(np.log(mean) - fitted * np.log(growth.ns))
    ax.plot(
        growth.ns,
        np.exp(intercept) * growth.ns**fitted,
        color=COLORS["accent"],
        ls="--",
        label=f"fit: slope {fitted:.2f}",
    )
    ax.plot(
        growth.ns,
        mean[0] * np.sqrt(growth.ns / growth.ns[0]),
        color=COLORS["theory"],
        lw=1,
        label=r"$\propto n^{1/2}$ (what the union bound allows)",
    )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.xaxis.set_major_formatter(ScalarFormatter())
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xticks(growth.ns)
    ax.set_xlabel("dimension $n$")
    ax.set_ylabel(rf"$\max_u \|g_N(u) - \mathbb{{E}}g(u)\|_\infty$, $N = {growth.n_samples}$")
    ax.legend(fontsize=8)
    return fig


def plot_local_exponents(
    local: LocalExponents,
    fit: ExponentFit,
    ns: np.ndarray,
    c_min: np.ndarray,
    c_interval: tuple[np.ndarray, np.ndarray],
) -> plt.Figure:
    """Local exponents of N50 by n-range (left) and the smallest constant C'(n) (right).

    ``c_min`` and the two arrays of ``c_interval`` have shape (I,): C'(n) and
    the ends of its interval.
    """
    fig, (left, right) = figure(ncols=2, width=4.2, height=3.4)
    left.errorbar(
        local.n_mid,
        local.slope,
        yerr=[local.slope - local.low, local.high - local.slope],
        xerr=[local.n_mid - local.n_low, local.n_high - local.n_mid],
        fmt="o",
        capsize=3,
        color=COLORS["measured"],
        label="slope between consecutive n (95% interval)",
    )
    left.axhline(2.0, color=COLORS["theory"], ls="--", lw=1.5, label="Theorem 1: 2")
    left.axhline(
        fit.alpha, color=COLORS["accent"], lw=1, label=rf"one fit: $\alpha$ = {fit.alpha:.2f}"
    )
    left.set_xscale("log")
    left.set_xlabel("dimension $n$")
    left.set_ylabel(r"local exponent $d \log N_{50} / d \log n$")
    left.legend(fontsize=7)
    right.errorbar(
        ns,
        c_min,
        yerr=[c_min - c_interval[0], c_interval[1] - c_min],
        fmt="o-",
        capsize=3,
        color=COLORS["measured"],
    )
    right.set_xscale("log")
    right.set_yscale("log")
    right.set_xlabel("dimension $n$")
    right.set_ylabel(r"smallest $C'$ with bound $\geq N_{50}$")
    for ax in (left, right):
        ax.set_xticks(ns)
        ax.xaxis.set_major_formatter(ScalarFormatter())
        ax.xaxis.set_minor_formatter(NullFormatter())
    return fig


def _heat_map(
    ax: plt.Axes,
    grid: SuccessGrid,
    values: np.ndarray,
    title: str,
    cmap: str = "viridis",
    limits: tuple[float, float] = (0.0, 1.0),
) -> plt.Artist:
    """Draw ``values`` (shape (I, J), one cell per (n, N)) on the grid's axes."""
    image = ax.pcolormesh(
        np.arange(grid.ns.size + 1) - 0.5,
        np.arange(grid.sample_sizes.size + 1) - 0.5,
        values.T,
        cmap=cmap,
        vmin=limits[0],
        vmax=limits[1],
        shading="flat",
    )
    ax.set_xticks(np.arange(grid.ns.size), [str(n) for n in grid.ns])
    ax.set_yticks(np.arange(grid.sample_sizes.size)[::2], [str(N) for N in grid.sample_sizes[::2]])
    ax.set_xlabel("dimension $n$")
    ax.set_ylabel("number of samples $N$")
    ax.set_title(title)
    ax.grid(False)
    return image


def _grid_position(grid: SuccessGrid, sizes: np.ndarray) -> np.ndarray:
    """Map sample sizes to the heat map's row coordinate (log-linear interpolation)."""
    return np.interp(np.log(sizes), np.log(grid.sample_sizes), np.arange(grid.sample_sizes.size))


def plot_phase_transition(grid: SuccessGrid, fit: ExponentFit) -> plt.Figure:
    """Heat map of ergodic success with N50(n), its 95% profile intervals and a power law.

    Censored rows (N50 outside the grid) have no point.
    """
    fig, ax = figure(width=5.6, height=4.2)
    image = _heat_map(
        ax, grid, grid.ergodic / grid.n_trials, r"recovery by $Q(\bar w^T)$ (ergodic)"
    )
    x = np.arange(grid.ns.size)
    low, high = fit.n50_interval()
    y = _grid_position(grid, fit.n50)
    err = [y - _grid_position(grid, low), _grid_position(grid, high) - y]
    ax.errorbar(
        x,
        y,
        yerr=err,
        fmt="o",
        color="white",
        mec="black",
        ecolor="white",
        ms=6,
        capsize=3,
        label="N50 (95% CI)",
    )
    dense = np.linspace(grid.ns[0], grid.ns[-1], 100)
    ax.plot(
        np.interp(dense, grid.ns, x),
        _grid_position(grid, np.exp(fit.log_c) * dense**fit.alpha),
        color=COLORS["accent"],
        label=rf"fit $N_{{50}} \propto n^{{{fit.alpha:.2f}}}$",
    )
    quadratic = fit.n50[0] * (dense / grid.ns[0]) ** 2
    ax.plot(
        np.interp(dense, grid.ns, x),
        _grid_position(grid, quadratic),
        color="C1",
        ls="--",
        lw=1.5,
        label=r"$\propto n^2$ through the first N50",
    )
    ax.set_ylim(-0.5, grid.sample_sizes.size - 0.5)
    fig.colorbar(image, ax=ax, label="success rate")
    fig.legend(*ax.get_legend_handles_labels(), loc="outside lower center", ncols=3, fontsize=8)
    return fig


def _n50_points(ax: plt.Axes, x: np.ndarray, sweep: N50Sweep, fmt: str) -> None:
    """N50 of each variant of a sweep at ``x``, with its 95 % profile interval."""
    low, high = sweep.profile.interval(0.05)
    ax.errorbar(
        x,
        sweep.n50,
        yerr=[sweep.n50 - low, high - sweep.n50],
        fmt=fmt,
        capsize=3,
        color=COLORS["measured"],
        label="measured N50 (95% CI)",
    )


def plot_n50_dependence(
    ratios: np.ndarray,
    by_shape: N50Sweep,
    noise_levels: np.ndarray,
    by_noise: N50Sweep,
    bound_noise_ratio: np.ndarray,
) -> plt.Figure:
    """N50 at n = 20 against |v|_1^2/|v|_2^2 (left) and the noise level (right).

    ``bound_noise_ratio`` (shape (S,)) is the bound's value at each noise level
    divided by its value without noise.
    """
    fig, (left, right) = figure(ncols=2, width=4.2, height=3.4)
    _n50_points(left, ratios, by_shape, "o")
    predicted = by_shape.n50[np.argmin(ratios)] * (ratios / ratios.min()) ** 2
    left.plot(
        ratios,
        predicted,
        color=COLORS["accent"],
        ls="--",
        label=r"bound's growth, $\propto (|v|_1^2/|v|_2^2)^2$",
    )
    left.set_xscale("log")
    left.set_yscale("log")
    left.set_xlabel(r"$\|v\|_1^2 / \|v\|_2^2$ (at $\|v\|_2 = 1$)")
    left.set_ylabel("N50 at n = 20")
    left.legend(fontsize=8)
    _n50_points(right, noise_levels, by_noise, "o-")
    right.plot(
        noise_levels,
        by_noise.n50[0] * bound_noise_ratio,
        color=COLORS["accent"],
        ls="--",
        label="bound's growth (C' = C'' = 1)",
    )
    right.legend(fontsize=8)
    right.set_xlabel("label-noise level $s$")
    right.set_ylabel("N50 at n = 20")
    right.set_yscale("log")
    for axis in (left.yaxis, right.yaxis):
        axis.set_major_formatter(ScalarFormatter())
        axis.set_minor_formatter(NullFormatter())
    return fig


def plot_last_vs_ergodic(grid: SuccessGrid) -> plt.Figure:
    """Heat maps of last-iterate success and of ergodic minus last-iterate success."""
    fig, (left, right) = figure(ncols=2, width=4.6, height=3.8)
    image = _heat_map(left, grid, grid.last / grid.n_trials, r"recovery by $Q(w^T)$ (last iterate)")
    fig.colorbar(image, ax=left, label="success rate")
    difference = (grid.ergodic - grid.last) / grid.n_trials
    limit = max(0.05, float(np.abs(difference).max()))
    mesh = _heat_map(
        right,
        grid,
        difference,
        "ergodic minus last-iterate success",
        cmap="RdBu",
        limits=(-limit, limit),
    )
    fig.colorbar(mesh, ax=right, label="ergodic - last (blue: ergodic ahead)")
    return fig


def local_exponent_table(estimates: dict[str, LocalExponents]) -> Table:
    """The local exponents of N50 by n-range, with 95 % and error-budget intervals.

    ``estimates`` maps a label (e.g. "ergodic", "last iterate") to its
    :class:`LocalExponents`; one row per label and range.
    """
    rows = [
        [
            label,
            f"{a} to {b}",
            f"{s:.2f}",
            f"[{lo:.2f}, {hi:.2f}]",
            f"[{blo:.2f}, {bhi:.2f}]",
        ]
        for label, local in estimates.items()
        for a, b, s, lo, hi, blo, bhi in zip(
            local.n_low,
            local.n_high,
            local.slope,
            local.low,
            local.high,
            local.budget_low,
            local.budget_high,
            strict=True,
        )
    ]
    return Table(["estimate", "n-range", "local exponent", "95% interval", "budget interval"], rows)
