"""Claims of the digits chapter on Table 2: the admissible surrogates and their controls.

Every row of Table 2 is trained on the same ``S`` independent stratified
splits with the same initialisations and batch orders (see
:func:`quantheory.cg.digits.train`), so two rows are compared slot by slot:
the paired differences are ``S`` independent replicates, and their mean gets
a Student t interval at the error budget's level
(:func:`quantheory.stats.t_threshold`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from scipy import stats as sps

from quantheory import stats
from quantheory.cg.digits import FROZEN_HIDDEN, FULL_PRECISION, TrainingRun
from quantheory.cg.surrogates import ADMISSIBLE, LABELS
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
#: the surrogates of the controls, which violate Assumption 2
INADMISSIBLE = ("clipped_relu", "identity")
#: how the controls are named in Table 2
CONTROL_LABELS = {
    "clipped_relu": "clipped ReLU",
    "identity": "identity",
    FROZEN_HIDDEN: "none (hidden layers frozen)",
}

Row = tuple[str, int]


def surrogate_label(name: str) -> str:
    """How Table 2 names the surrogate of a row (a control's without "(fails)")."""
    return CONTROL_LABELS[name] if name in CONTROL_LABELS else LABELS[name]


def row_label(row: Row) -> str:
    """``"full precision"`` or e.g. ``"ReLU, 2-bit"``."""
    name, bits = row
    return "full precision" if name == FULL_PRECISION else f"{surrogate_label(name)}, {bits}-bit"


def clipped_window_share(tau: float) -> float:
    """``P(0 < u <= tau | u > 0)`` for ``u ~ N(0, 1)``: the positive pre-activations
    through which the clipped ReLU surrogate (``g' = 0`` above ``x = 1``) passes gradient."""
    return float(2 * (sps.norm.cdf(tau) - 0.5))


def row_role(name: str) -> str:
    """What a row is in Table 2: baseline, admissible surrogate or a control."""
    if name == FULL_PRECISION:
        return "baseline"
    if name in ADMISSIBLE:
        return "Assumption 2 holds"
    if name == FROZEN_HIDDEN:
        return "control: no gradient to hidden layers"
    return "control: violates Assumption 2"


@dataclass(frozen=True)
class PairedDifference:
    """Mean of ``S`` paired differences (in points) with its error-budget interval.

    Attributes
    ----------
    mean, low, high : the mean and the ends of its t interval at the budget's
        level for one of ``comparisons`` comparisons.
    se : standard error of the mean.
    """

    mean: float
    se: float
    low: float
    high: float

    def text(self) -> str:
        return f"{self.mean:.2f} ({self.low:.2f}, {self.high:.2f})"


def paired_difference(a: np.ndarray, b: np.ndarray, comparisons: int) -> PairedDifference:
    """``a - b`` slot by slot, in percentage points; ``a`` and ``b`` are (S,) accuracies."""
    diff = 100 * (np.asarray(a) - np.asarray(b))
    if diff.ndim != 1 or diff.size < 2:
        raise ValueError(f"need at least 2 paired slots, got shape {diff.shape}")
    mean, low, high = stats.budget_t_interval(diff, comparisons)
    return PairedDifference(mean, float(diff.std(ddof=1) / np.sqrt(diff.size)), low, high)


def admissible_mean(runs: Mapping[Row, TrainingRun], bits: int) -> np.ndarray:
    """Accuracy per slot averaged over the three admissible surrogates at ``bits``, (S,)."""
    return np.mean([runs[(name, bits)].accuracy for name in ADMISSIBLE], axis=0)


def table2(runs: Mapping[Row, TrainingRun], comparisons: int) -> Table:
    """Table 2 with its controls: accuracy (mean +- std over slots), the paired gap to
    full precision with its budget-level interval, and the paper's MNIST number."""
    full = runs[(FULL_PRECISION, 32)].accuracy
    cells = []
    for (name, bits), run in runs.items():
        accuracy = 100 * run.accuracy
        gap = (
            ""
            if name == FULL_PRECISION
            else paired_difference(full, run.accuracy, comparisons).text()
        )
        cells.append(
            [
                "— (full precision)" if name == FULL_PRECISION else surrogate_label(name),
                bits,
                row_role(name),
                f"{accuracy.mean():.2f} ± {accuracy.std(ddof=1):.2f}",
                gap,
                f"{PAPER_TABLE2[(name, bits)]:.2f}" if (name, bits) in PAPER_TABLE2 else "—",
            ]
        )
    return Table(
        [
            "g(x)",
            "bit-width b",
            "row",
            "digits accuracy (%)",
            "gap to full precision, points (interval)",
            "paper, MNIST (%)",
        ],
        cells,
    )


def table2_comparisons(runs: Mapping[Row, TrainingRun]) -> int:
    """Comparisons inside ``cg.table2_digits``: every admissible row and the frozen control."""
    return sum(name in ADMISSIBLE or name == FROZEN_HIDDEN for name, _ in runs)


def table2_claim(
    runs: Mapping[Row, TrainingRun], margin: float, gradient_error: float, seed_label: str
) -> Claim:
    """``cg.table2_digits``: every admissible row within ``margin`` points of full precision.

    Passes when the upper end of the budget-level interval of every admissible
    row's paired gap is at most ``margin``, the control with frozen hidden
    layers lies beyond it (lower end above ``margin``: the margin can fail),
    and the backward pass agrees with finite differences.
    """
    full = runs[(FULL_PRECISION, 32)].accuracy
    k = table2_comparisons(runs)
    ok, worst, rows = gradient_error <= GRADIENT_TOLERANCE, -np.inf, {}
    for (name, bits), run in runs.items():
        if name not in ADMISSIBLE:
            continue
        gap = paired_difference(full, run.accuracy, k)
        ok &= gap.high <= margin
        worst = max(worst, gap.high)
        rows[f"{row_label((name, bits))}: gap (interval), points"] = gap.text()
    frozen = [key for key in runs if key[0] == FROZEN_HIDDEN]
    for key in frozen:
        gap = paired_difference(full, runs[key].accuracy, k)
        ok &= gap.low > margin
        rows[f"control {row_label(key)}: gap (interval), points"] = gap.text()
    rows["backward pass vs finite differences, relative"] = gradient_error
    slots = full.size
    return Claim(
        id="cg.table2_digits",
        statement=(
            "on scikit-learn's digits, networks with 2- and 4-bit quantized ReLU trained by the "
            f"coarse gradient with each admissible surrogate come within {margin:g} points of "
            "full precision (and a network whose hidden layers cannot learn does not)"
        ),
        passed=bool(ok and frozen),
        measured=rows,
        expected={
            "upper end of every admissible gap's interval": f"<= {margin:g} points",
            "lower end of the frozen control's gap": f"> {margin:g} points",
            "backward pass vs finite differences, relative": f"<= {GRADIENT_TOLERANCE:g}",
        },
        method=(
            f"{slots} independent stratified train/test splits, each with its own "
            "initialisation and batch order, shared by every row (paired); held-out accuracy "
            f"after the last epoch; Student t interval (dof {slots - 1}) of the mean paired gap "
            f"at the error budget's level for one of {k} comparisons."
        ),
        seed=seed_label,
        summary=(
            f"full precision {100 * full.mean():.2f}%; largest admissible gap's upper bound "
            f"{worst:.2f} points (margin {margin:g})"
        ),
        margin=stats.margin(worst, margin, unit="points"),
    )


def controls_claim(runs: Mapping[Row, TrainingRun], tolerance: float, seed_label: str) -> Claim:
    """``cg.table2_controls`` (finding): how the inadmissible surrogates train.

    The deficit of a control is the admissible surrogates' mean accuracy at
    the same bit-width minus the control's, paired by slot. The finding:

    * identity (``g != 0`` for ``x <= 0``): the deficit's interval lies inside
      ``+-tolerance`` at both bit-widths (equivalence, two one-sided tests at
      the budget's level);
    * clipped ReLU (``g' = 0`` for ``x > 1``): the 4-bit deficit is positive,
      and larger than the 2-bit deficit (its gradient window ``(0, tau]``
      narrows with the bit-width).
    """
    k = 4
    deficits = {
        (name, bits): paired_difference(admissible_mean(runs, bits), runs[(name, bits)].accuracy, k)
        for name in INADMISSIBLE
        for bits in (2, 4)
    }
    clipped_growth = paired_difference(
        runs[("clipped_relu", 2)].accuracy, runs[("clipped_relu", 4)].accuracy, k
    )
    identity = [deficits[("identity", bits)] for bits in (2, 4)]
    equivalent = all(-tolerance <= d.low and d.high <= tolerance for d in identity)
    clipped_worse = deficits[("clipped_relu", 4)].low > 0 and clipped_growth.low > 0
    identity_room = min(tolerance - max(abs(d.low), abs(d.high)) for d in identity)
    clipped_room = min(deficits[("clipped_relu", 4)].low, clipped_growth.low)
    rows = {
        f"{row_label(key)}: deficit (interval), points": d.text() for key, d in deficits.items()
    }
    rows["clipped ReLU: 4-bit deficit minus 2-bit deficit, points"] = clipped_growth.text()
    slots = runs[(FULL_PRECISION, 32)].accuracy.size
    return Claim(
        id="cg.table2_controls",
        statement=(
            "trained the same way, the identity surrogate (which violates Assumption 2) trains "
            f"within {tolerance:g} points of the admissible surrogates at 2 and 4 bits, so "
            "Assumption 2 is sufficient, not necessary, here; the clipped ReLU (which also "
            "violates it) trains worse at 4 bits, and worse at 4 bits than at 2"
        ),
        passed=bool(equivalent and clipped_worse),
        measured=rows,
        expected={
            "identity deficits' intervals": f"inside (-{tolerance:g}, {tolerance:g}) points",
            "clipped ReLU 4-bit deficit and its growth from 2 bits": "lower ends > 0",
        },
        method=(
            "deficit = mean accuracy of the three admissible surrogates at the same bit-width "
            f"minus the control's, paired over {slots} splits; Student t intervals "
            f"(dof {slots - 1}) at the error budget's level for one of {k} comparisons; the "
            "clipped ReLU at 2 bits enters only through the 4-bit minus 2-bit difference."
        ),
        seed=seed_label,
        summary=(
            f"identity deficits {identity[0].mean:.2f}, {identity[1].mean:.2f} points "
            f"(tolerance {tolerance:g}); clipped ReLU 2-/4-bit "
            f"{deficits[('clipped_relu', 2)].mean:.2f}/{deficits[('clipped_relu', 4)].mean:.2f}"
        ),
        margin=(
            f"identity: {identity_room:.2f} points to spare inside +-{tolerance:g}; clipped "
            f"ReLU: smallest lower end {clipped_room:.2f} points, fails below 0"
        ),
        kind="finding",
    )
