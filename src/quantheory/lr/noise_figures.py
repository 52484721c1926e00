"""Figures of the noise-amplification chapter: risk against eps, and the term against B."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np

from quantheory.lr.model import KINDS
from quantheory.lr.noise_claims import AMPLIFIED_TARGETS, ExponentCheck, SweepCheck
from quantheory.plotting import COLORS, figure

KIND_COLORS = {
    "additive": COLORS["accent"],
    "mult_vector": COLORS["measured"],
    "mult_coord": COLORS["pass"],
}
KIND_LABELS = {
    "additive": "additive",
    "mult_vector": "mult. per vector",
    "mult_coord": "mult. per coordinate",
}
ITERATE_LABELS = {"average": "averaged iterate", "last": "last iterate"}
#: colours of the batch sweeps, by (target, kind)
SWEEP_COLORS = {
    ("activations", "additive"): COLORS["accent"],
    ("gradients", "additive"): "#f28e2b",
    ("params", "additive"): COLORS["theory"],
    ("activations", "mult_vector"): COLORS["measured"],
    ("activations", "mult_coord"): COLORS["pass"],
}


def _interval(samples: np.ndarray, threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """Shapes ``(k,)``: mean and half-width ``threshold`` SE of ``(runs, k)`` samples."""
    se = samples.std(axis=0, ddof=1) / np.sqrt(samples.shape[0])
    return samples.mean(axis=0), threshold * se


def _power_of_ten(value: float) -> int:
    """The exponent ``k`` with ``10^k <= value < 10^(k+1)`` (``value > 0``)."""
    return int(np.floor(np.log10(value)))


def plot_risk_vs_eps(
    checks: Sequence[SweepCheck],
    lines: Mapping[tuple[str, str], tuple[np.ndarray, np.ndarray, np.ndarray]],
    threshold: float,
) -> plt.Figure:
    """Rise of the risk over ``eps = 0`` against ``eps``: a column per target, a row per iterate.

    Parameters
    ----------
    checks
        The sweeps with their predictions.
    lines
        ``(target, kind) -> (eps (m,), last rise (m,), averaged rise (m,))``: the
        recursion on a fine grid.
    threshold
        Half-width of the drawn intervals, in standard errors (the claim's).
    """
    fig, axes = figure(ncols=len(AMPLIFIED_TARGETS), nrows=2, width=3.0, height=2.5, sharex=True)
    by_key = {(c.sweep.target, c.sweep.kind): c for c in checks}
    for row, iterate in enumerate(("average", "last")):
        index = 2 if iterate == "average" else 1
        power = _power_of_ten(max(float(np.max(line[index])) for line in lines.values()))
        for column, target in enumerate(AMPLIFIED_TARGETS):
            ax = axes[row, column]
            for offset, kind in enumerate(KINDS):
                check = by_key.get((target, kind))
                if check is None:
                    continue
                color = KIND_COLORS[kind]
                eps = lines[(target, kind)][0]
                rise = lines[(target, kind)][index]
                ax.plot(
                    1e3 * eps, rise / 10.0**power, "-", color=color, lw=1.2, label=KIND_LABELS[kind]
                )
                measured, _ = check.increments(iterate)
                mean, half = _interval(measured, threshold)
                x = 1e3 * check.sweep.eps[1:] * (1 + 0.03 * (offset - 1))
                ax.errorbar(
                    x,
                    mean / 10.0**power,
                    yerr=half / 10.0**power,
                    fmt="o",
                    ms=3,
                    color=color,
                    lw=1.2,
                    capsize=0,
                )
            ax.axhline(0.0, color=COLORS["muted"], lw=0.8)
            if row == 0:
                ax.set_title(target)
            if row == 1:
                ax.set_xlabel(r"quantization variance $10^3\,\varepsilon$")
            if column == 0:
                ax.set_ylabel(f"rise of the risk / $10^{{{power}}}$\n({ITERATE_LABELS[iterate]})")
    axes[0, 0].legend(loc="upper left", fontsize=8)
    return fig


def _fitted_line(batches: np.ndarray, terms: np.ndarray) -> np.ndarray:
    """Shape ``(k,)``: the least-squares power law through the log mean terms."""
    x, y = np.log(batches.astype(float)), np.log(terms.mean(axis=0))
    slope = np.polyfit(x, y, 1)
    return np.exp(np.polyval(slope, x))


def plot_batch_terms(checks: Sequence[ExponentCheck], threshold: float) -> plt.Figure:
    """The quantization term against B on log-log axes; left averaged, right last iterate.

    Points: Monte Carlo means with intervals of ``threshold`` SE (drawn down
    to a tenth of the mean at most, for the log axis); solid: the fitted power
    law; dashed: the recursion. The legend gives both exponents.
    """
    fig, axes = figure(ncols=2, width=4.2, height=3.4, sharex=True)
    for ax, iterate in zip(axes, ("average", "last"), strict=True):
        for c in checks:
            key = (c.sweep.target, c.sweep.kind)
            color = SWEEP_COLORS.get(key, COLORS["muted"])
            batches = c.sweep.batches
            terms = getattr(c.sweep, iterate)
            mean, half = _interval(terms, threshold)
            low = np.minimum(half, 0.9 * mean)
            ax.errorbar(batches, mean, yerr=(low, half), fmt="o", ms=3, color=color, capsize=0)
            slope, _ = c.fitted(iterate)
            if np.isfinite(slope):
                ax.plot(
                    batches,
                    _fitted_line(batches, terms),
                    "-",
                    color=color,
                    lw=1.2,
                    label=f"{c.sweep.label}: {slope:.2f} ({c.theory(iterate):.2f})",
                )
            ax.plot(batches, getattr(c, f"predicted_{iterate}"), "--", color=color, lw=1.0)
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel("batch size $B$ (at fixed $N$, $T = N/B$)")
        ax.set_ylabel(f"quantization term ({ITERATE_LABELS[iterate]})")
        ax.legend(
            loc="upper center",
            bbox_to_anchor=(0.5, -0.28),
            fontsize=7,
            title="fitted (recursion) exponent",
            title_fontsize=7,
        )
    return fig
