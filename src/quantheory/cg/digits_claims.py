"""Claims of the digits chapter: Table 2 and the weight-norm growth of Figure 6."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from scipy import stats

from quantheory.cg.digits import FULL_PRECISION, TrainingRun
from quantheory.cg.surrogates import LABELS
from quantheory.claims import Claim
from quantheory.display import Table

#: the paper's Table 2 (MNIST, LeNet-5), validation accuracy in percent
PAPER_TABLE2 = {
    (FULL_PRECISION, 32): 99.45,
    ("relu", 2): 99.10,
    ("relu", 4): 99.38,
    ("reverse_exponential", 2): 99.17,
    ("reverse_exponential", 4): 99.46,
    ("log_tailed_relu", 2): 99.24,
    ("log_tailed_relu", 4): 99.36,
}
#: finite differences must agree with the backward pass to this relative error
GRADIENT_TOLERANCE = 1e-6

Row = tuple[str, int]


def row_label(row: Row) -> str:
    """``"full precision"`` or e.g. ``"ReLU, 2-bit"``."""
    name, bits = row
    return "full precision" if name == FULL_PRECISION else f"{LABELS[name]}, {bits}-bit"


def table2(runs: Mapping[Row, TrainingRun]) -> Table:
    """Table 2 in the paper's layout: surrogate, bit-width, mean +- std accuracy (%),
    with the paper's MNIST number of the same row beside it."""
    cells = []
    for (name, bits), run in runs.items():
        accuracy = 100 * run.accuracy
        cells.append(
            [
                "— (full precision)" if name == FULL_PRECISION else LABELS[name],
                bits,
                f"{accuracy.mean():.2f} ± {accuracy.std(ddof=1):.2f}",
                f"{PAPER_TABLE2[(name, bits)]:.2f}",
            ]
        )
    return Table(["g(x)", "bit-width b", "digits accuracy (%)", "paper, MNIST (%)"], cells)


def accuracy_gap(full: np.ndarray, quantized: np.ndarray) -> tuple[float, float, float]:
    """Mean gap ``full - quantized`` in points with a 95% Welch interval."""
    gap = 100 * (full.mean() - quantized.mean())
    va, vb = (
        np.var(100 * full, ddof=1) / full.size,
        np.var(100 * quantized, ddof=1) / quantized.size,
    )
    se = np.sqrt(va + vb)
    if se == 0:
        return gap, gap, gap
    dof = (va + vb) ** 2 / (va**2 / (full.size - 1) + vb**2 / (quantized.size - 1))
    half = float(stats.t.isf(0.025, dof)) * se
    return gap, gap - half, gap + half


def table2_claim(
    runs: Mapping[Row, TrainingRun], margin: float, gradient_error: float, seed_label: str
) -> Claim:
    """``cg.table2_digits``: every quantized row within ``margin`` points of full precision.

    Passes when the upper end of the 95% interval of every gap is at most
    ``margin`` and the backward pass agrees with finite differences.
    """
    full = runs[(FULL_PRECISION, 32)].accuracy
    rows, ok, worst = {}, gradient_error <= GRADIENT_TOLERANCE, -np.inf
    for (name, bits), run in runs.items():
        if name == FULL_PRECISION:
            continue
        gap, low, high = accuracy_gap(full, run.accuracy)
        ok &= high <= margin
        worst = max(worst, high)
        rows[f"{row_label((name, bits))}: gap (95% CI), points"] = (
            f"{gap:.2f} ({low:.2f}, {high:.2f})"
        )
    rows["backward pass vs finite differences, relative"] = gradient_error
    seeds = full.size
    return Claim(
        id="cg.table2_digits",
        statement=(
            "on scikit-learn's digits, networks with 2- and 4-bit quantized ReLU trained by the "
            f"coarse gradient with each surrogate come within {margin:g} points of full precision"
        ),
        passed=bool(ok),
        measured=rows,
        expected={
            "upper end of every gap's 95% CI": f"<= {margin:g} points",
            "backward pass vs finite differences, relative": f"<= {GRADIENT_TOLERANCE:g}",
        },
        method=(
            f"{seeds} seeds per row (independent initialisations and batch orders); held-out "
            "accuracy after the last epoch; Welch t interval of the difference of means."
        ),
        seed=seed_label,
        summary=(
            f"full precision {100 * full.mean():.2f}%; largest gap's upper 95% bound "
            f"{worst:.2f} points (margin {margin:g})"
        ),
    )


def growth_halves(run: TrainingRun) -> tuple[np.ndarray, np.ndarray]:
    """Norm growth over the first and the second half of training, (S, layers) each."""
    norms = run.weight_norms
    half = norms.shape[0] // 2
    return norms[half] - norms[0], norms[-1] - norms[half]


def growth_halves_ratio(run: TrainingRun) -> float:
    """Largest (over seeds and layers) growth in the second half over the first half."""
    first, second = growth_halves(run)
    return float(np.max(second / np.where(first > 0, first, np.nan)))


def norm_growth_claim(runs: Mapping[Row, TrainingRun], saturation: float, seed_label: str) -> Claim:
    """``cg.fig6_norm_growth``: every weight norm ends above its start and levels off.

    "Levels off" is measured as the growth over the second half of training
    divided by the growth over the first half; it must stay below ``saturation``.
    """
    rows, ok, worst_ratio, smallest_growth = {}, True, 0.0, np.inf
    for (name, bits), run in runs.items():
        norms = run.weight_norms
        first, _ = growth_halves(run)
        growth = norms[-1] - norms[0]
        ratio = growth_halves_ratio(run)
        ok &= bool(np.all(growth > 0)) and bool(np.all(first > 0)) and ratio < saturation
        worst_ratio = max(worst_ratio, ratio)
        relative = growth / norms[0]
        smallest_growth = min(smallest_growth, float(relative.min()))
        label = row_label((name, bits))
        rows[f"{label}: growth, % (smallest layer)"] = f"{100 * relative.min():.1f}"
        rows[f"{label}: second-half / first-half growth"] = ratio
    return Claim(
        id="cg.fig6_norm_growth",
        statement=(
            "without weight decay every layer's weight norm grows over training and levels "
            "off (bounded), as Lemma 5.5 predicts"
        ),
        passed=bool(ok),
        measured=rows,
        expected={
            "growth": "> 0 for every layer, seed and row",
            "second-half / first-half growth": f"< {saturation:g}",
        },
        method=(
            "Frobenius norm of each weight matrix at the start and after every epoch; "
            "growth compared between the two halves of training."
        ),
        seed=seed_label,
        summary=(
            f"all norms grow (smallest {100 * smallest_growth:.1f}%); second half adds at most "
            f"{worst_ratio:.2f} of the first half's growth"
        ),
    )
