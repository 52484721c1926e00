"""Beyond Gaussian inputs: where the STE fails and how normalization restores it.

The second version of the paper (seed 001) reports that the STE fails for
general non-Gaussian data and that normalization restores it. The book's
reconstruction: inputs with iid entries from a non-centred family (N(2, 1),
or Exp(1)) against Gaussian inputs, and the same non-centred inputs
standardized per feature by a normalization layer that both the teacher and
the trained network apply.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np

from quantheory import stats
from quantheory.claims import Claim
from quantheory.plotting import COLORS, figure
from quantheory.ste.sample_complexity import SuccessGrid, fit_n50

FAMILY_LABELS = {
    "gaussian": "Gaussian N(0, 1)",
    "shifted_gaussian": "shifted Gaussian N(2, 1)",
    "exponential": "exponential Exp(1)",
    "uniform": "uniform, centred",
    "rademacher": "Rademacher +-1",
}


FAMILY_COLORS = {
    "gaussian": COLORS["theory"],
    "shifted_gaussian": "C1",
    "exponential": "C3",
    "uniform": "C5",
    "rademacher": "C6",
}


@dataclass(frozen=True)
class FamilyRow:
    """Ergodic recovery counts of one input family at fixed n, over the N grid."""

    family: str
    standardized: bool
    grid: SuccessGrid

    @property
    def label(self) -> str:
        return FAMILY_LABELS[self.family] + (", normalized" if self.standardized else "")

    @property
    def successes(self) -> np.ndarray:
        return self.grid.ergodic[0]

    def interval(self, alpha: float) -> tuple[np.ndarray, np.ndarray]:
        return stats.wilson_interval(self.successes, self.grid.n_trials, alpha)

    def n50_text(self) -> str:
        """N50 from a logistic fit, or where it lies if the row never crosses 50 %."""
        rates = self.successes / self.grid.n_trials
        if rates.max() <= 0.5:
            return f"> {self.grid.sample_sizes[-1]}"
        if rates.min() >= 0.5:
            return f"< {self.grid.sample_sizes[0]}"
        n50 = fit_n50(self.grid.sample_sizes, self.successes[None, :], self.grid.n_trials)
        return f"{n50[0]:.0f}"


def _budget_alpha(row: FamilyRow) -> float:
    # two families compared at every N of the grid
    return stats.comparison_alpha(2 * row.grid.sample_sizes.size)


def failing_sizes(gaussian: FamilyRow, other: FamilyRow) -> np.ndarray:
    """Sample sizes at which Gaussian inputs succeed and ``other`` fails, significantly.

    Both at the book's error-budget level: the Gaussian rate's lower bound is
    above 1/2, the other rate's upper bound below 1/2.
    """
    alpha = _budget_alpha(gaussian)
    gauss_low, _ = gaussian.interval(alpha)
    _, other_high = other.interval(alpha)
    return gaussian.grid.sample_sizes[(gauss_low > 0.5) & (other_high < 0.5)]


def _rates_at(row: FamilyRow, sizes: np.ndarray) -> str:
    index = np.searchsorted(row.grid.sample_sizes, sizes)
    return ", ".join(
        f"N={N}: {row.successes[i]}/{row.grid.n_trials}" for N, i in zip(sizes, index, strict=True)
    )


def nongaussian_failure_claim(
    gaussian: FamilyRow, noncentred: FamilyRow, others: Sequence[FamilyRow] = ()
) -> Claim:
    """``ste.nongaussian_failure``: non-centred inputs fail where Gaussian ones succeed."""
    sizes = failing_sizes(gaussian, noncentred)
    shown = sizes if sizes.size else gaussian.grid.sample_sizes[-1:]
    return Claim(
        id="ste.nongaussian_failure",
        statement=(
            "with non-centred inputs the ergodic estimate fails to recover w* at sample "
            "sizes where Gaussian inputs succeed"
        ),
        passed=bool(sizes.size > 0),
        measured={
            "N where Gaussian succeeds and non-centred fails": ", ".join(map(str, sizes)) or "none",
            "Gaussian recoveries there": _rates_at(gaussian, shown),
            f"{noncentred.label} recoveries there": _rates_at(noncentred, shown),
            "N50, Gaussian": gaussian.n50_text(),
            f"N50, {noncentred.label}": noncentred.n50_text(),
            **{f"N50, {row.label}": row.n50_text() for row in others},
        },
        expected={"N where Gaussian succeeds and non-centred fails": "at least one"},
        method=(
            f"n = {gaussian.grid.ns[0]}, m = 128, {gaussian.grid.n_trials} trials per N, "
            f"{gaussian.grid.n_steps} steps; 'succeeds'/'fails': Wilson bound above/below "
            "1/2 at the book's error-budget level."
        ),
        seed=", ".join(r.grid.seed for r in (gaussian, noncentred, *others)),
        summary=(
            f"fails at N = {', '.join(map(str, sizes)) or 'none'} where Gaussian "
            f"succeeds; N50 {noncentred.n50_text()} vs {gaussian.n50_text()}"
        ),
    )


def normalization_restores_claim(
    noncentred: FamilyRow, normalized: FamilyRow, gaussian: FamilyRow, centred: Sequence[FamilyRow]
) -> Claim:
    """``ste.normalization_restores``: standardizing succeeds wherever the raw inputs fail.

    At every N where the raw non-centred inputs fail and Gaussian ones
    succeed, the normalized inputs must succeed (Wilson lower bound above 1/2
    at the error-budget level).
    """
    sizes = failing_sizes(gaussian, noncentred)
    alpha = _budget_alpha(gaussian)
    low, _ = normalized.interval(alpha)
    index = np.searchsorted(normalized.grid.sample_sizes, sizes)
    restored = low[index] > 0.5
    return Claim(
        id="ste.normalization_restores",
        statement=(
            "standardizing the inputs (per feature, by a normalization layer) restores "
            "recovery where the non-centred inputs fail"
        ),
        passed=bool(sizes.size > 0 and restored.all()),
        measured={
            "N where raw inputs fail": ", ".join(map(str, sizes)) or "none",
            "normalized recoveries there": _rates_at(normalized, sizes) if sizes.size else "-",
            "N where normalization succeeds": f"{int(restored.sum())} of {sizes.size}",
            f"N50, {normalized.label}": normalized.n50_text(),
            "N50, Gaussian": gaussian.n50_text(),
            **{f"N50, {row.label}": row.n50_text() for row in centred},
        },
        expected={"N where normalization succeeds": f"{sizes.size} of {sizes.size}"},
        method=(
            "same grid and trials as ste.nongaussian_failure; 'succeeds': Wilson lower "
            "bound above 1/2 at the book's error-budget level."
        ),
        seed=normalized.grid.seed,
        summary=(
            f"normalized inputs succeed at {int(restored.sum())}/{sizes.size} of the N "
            f"where raw ones fail; N50 {normalized.n50_text()} (Gaussian "
            f"{gaussian.n50_text()})"
        ),
    )


def plot_family_curves(rows: Sequence[FamilyRow]) -> plt.Figure:
    """Ergodic recovery rate against N for every input family, 95% Wilson intervals."""
    fig, ax = figure(width=6.4, height=3.8)
    styles = {False: "-", True: "--"}
    for row in rows:
        sizes = row.grid.sample_sizes
        rates = row.successes / row.grid.n_trials
        low, high = row.interval(0.05)
        color = FAMILY_COLORS[row.family]  # one colour per family, dashed when normalized
        ax.plot(
            sizes, rates, styles[row.standardized], marker="o", ms=3, color=color, label=row.label
        )
        ax.fill_between(sizes, low, high, color=color, alpha=0.12)
    ax.set_xscale("log")
    ax.set_xlabel("number of samples $N$")
    ax.set_ylabel(r"recovery rate of $Q(\bar w^T)$")
    ax.axhline(0.5, color=COLORS["muted"], lw=0.8)
    fig.legend(*ax.get_legend_handles_labels(), loc="outside right center", fontsize=8)
    return fig
