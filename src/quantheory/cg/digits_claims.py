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
from quantheory.cg.digits import (
    FROZEN_HIDDEN,
    FULL_PRECISION,
    BackwardCheck,
    TrainingRun,
    check_backward,
)
from quantheory.cg.surrogates import ADMISSIBLE, LABELS
from quantheory.claims import Claim
from quantheory.display import Table
from quantheory.seeding import SeedLike

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
#: forward mode with a row's own g' must agree with its backward pass to this relative
#: error (float64 rounding, ~1e-16, over a few thousand terms)
BACKWARD_TOLERANCE = 1e-9
#: every other surrogate's g' must move the forward-mode derivatives by more than this,
#: a thousand times the tolerance, for the check to tell the surrogates apart
APART = 1000 * BACKWARD_TOLERANCE
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


def backward_part(checks: Mapping[Row, BackwardCheck]) -> tuple[bool, float, float, dict]:
    """Every row's backward pass equals the formula with its own ``g'`` (to
    :data:`BACKWARD_TOLERANCE`), and every other surrogate's ``g'`` gives
    something else on the same batch (by more than :data:`APART`).

    Returns whether both hold, the largest error, the smallest distance to
    another surrogate's formula and the measured rows.
    """
    worst, nearest, measured = 0.0, np.inf, {}
    for key, check in checks.items():
        worst = max(worst, check.error)
        text = f"{check.error:.1e}"
        if check.apart:
            name, distance = min(check.apart.items(), key=lambda item: item[1])
            nearest = min(nearest, distance)
            text += f"; nearest other g' ({surrogate_label(name)}) {distance:.1e} apart"
        measured[f"{row_label(key)}: backward vs formula with its g'"] = text
    return worst <= BACKWARD_TOLERANCE and nearest > APART, worst, nearest, measured


def table2_claim(
    runs: Mapping[Row, TrainingRun],
    margin: float,
    gradient_error: float,
    backward_checks: Mapping[Row, BackwardCheck],
    seed_label: str,
) -> Claim:
    """``cg.table2_digits``: every admissible row within ``margin`` points of full precision.

    Passes when the upper end of the budget-level interval of every admissible
    row's paired gap is at most ``margin``, the control with frozen hidden
    layers lies beyond it (lower end above ``margin``: the margin can fail),
    the backward pass agrees with finite differences, and every row's trained
    network's coarse gradient is the formula with that row's own ``g'``
    (:func:`backward_part`; ``backward_checks`` must cover every row).
    """
    missing = [row_label(key) for key in runs if key not in backward_checks]
    if missing:
        raise ValueError(f"no backward check for rows {missing}")
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
    own, backward_error, nearest, backward_rows = backward_part(backward_checks)
    rows |= backward_rows
    slots = full.size
    return Claim(
        id="cg.table2_digits",
        statement=(
            "on scikit-learn's digits, networks with 2- and 4-bit quantized ReLU trained by the "
            f"coarse gradient with each admissible surrogate come within {margin:g} points of "
            "full precision (and a network whose hidden layers cannot learn does not); every "
            "row's backward pass uses its own surrogate's g'"
        ),
        passed=bool(ok and own and frozen),
        measured=rows,
        expected={
            "upper end of every admissible gap's interval": f"<= {margin:g} points",
            "lower end of the frozen control's gap": f"> {margin:g} points",
            "backward pass vs finite differences, relative": f"<= {GRADIENT_TOLERANCE:g}",
            "backward pass vs forward mode with the row's g', relative": (
                f"<= {BACKWARD_TOLERANCE:g}"
            ),
            "forward mode with another surrogate's g', relative": f"> {APART:g} apart",
        },
        method=(
            f"{slots} independent stratified train/test splits, each with its own "
            "initialisation and batch order, shared by every row (paired); held-out accuracy "
            f"after the last epoch; Student t interval (dof {slots - 1}) of the mean paired gap "
            f"at the error budget's level for one of {k} comparisons. The backward pass of each "
            "row's trained network (split 0) on a fixed training batch, along random directions "
            "in the hidden weights, against forward-mode derivatives written apart with g' "
            "differentiated symbolically from the surrogate's formula."
        ),
        seed=seed_label,
        summary=(
            f"full precision {100 * full.mean():.2f}%; largest admissible gap's upper bound "
            f"{worst:.2f} points (margin {margin:g}); backward vs own g' {backward_error:.0e}, "
            f"other g' at least {nearest:.0e} apart"
        ),
        margin=stats.margin(worst, margin, unit="points")
        + f"; backward vs own g' {backward_error:.0e} (fails above {BACKWARD_TOLERANCE:g})",
    )


def backward_checks(
    runs: Mapping[Row, TrainingRun],
    x: np.ndarray,
    labels: np.ndarray,
    directions: int,
    seed: SeedLike,
) -> dict[Row, BackwardCheck]:
    """:func:`quantheory.cg.digits.check_backward` of every row, on the same batch and
    directions."""
    return {key: check_backward(run, x, labels, directions, seed) for key, run in runs.items()}


#: verdicts of a control's deficit at the margin
AS_WELL, WORSE, BETTER, UNDECIDED = "as well", "worse", "better", "undecided"


def verdict(deficit: PairedDifference, margin: float) -> str:
    """What the interval of a control's deficit says: equivalence at ``margin`` or a
    difference.

    ``"as well"``: inside ``(-margin, margin)`` (equivalence, two one-sided
    tests); otherwise ``"worse"`` / ``"better"`` if it excludes 0 (a
    difference); ``"undecided"`` if it holds 0 and reaches past ``+-margin``.
    """
    if stats.equivalent_within(deficit.low, deficit.high, margin):
        return AS_WELL
    if deficit.low > 0:
        return WORSE
    if deficit.high < 0:
        return BETTER
    return UNDECIDED


def room(deficit: PairedDifference, margin: float) -> float:
    """How far the interval is from being undecided, in points (<= 0: undecided): the
    room inside ``+-margin``, or how far it is from 0."""
    return max(
        margin - max(abs(deficit.low), abs(deficit.high)),
        deficit.low,
        -deficit.high,
    )


def control_deficits(
    runs: Mapping[Row, TrainingRun], comparisons: int
) -> dict[Row, PairedDifference]:
    """Admissible surrogates' mean accuracy minus each inadmissible row's, paired by slot."""
    return {
        key: paired_difference(admissible_mean(runs, key[1]), run.accuracy, comparisons)
        for key, run in runs.items()
        if key[0] in INADMISSIBLE
    }


def controls_statement(verdicts: Mapping[Row, str], margin: float) -> str:
    """The finding the verdicts make, in words (what the data say, not a direction set
    beforehand)."""
    parts = "; ".join(f"{row_label(key)}: {word}" for key, word in verdicts.items())
    if AS_WELL in verdicts.values():
        conclusion = (
            "a surrogate that violates Assumption 2 trains as well as the admissible ones, so "
            "Assumption 2 is sufficient, not necessary, on this task"
        )
    else:
        conclusion = "no surrogate that violates Assumption 2 trains as well as the admissible ones"
    return (
        "against the admissible surrogates at the same bit-width (as well: within "
        f"{margin:g} points; worse or better: a difference, not within them): {parts}; "
        f"{conclusion}"
    )


def controls_claim(runs: Mapping[Row, TrainingRun], margin: float, seed_label: str) -> Claim:
    """``cg.table2_controls`` (finding): do the inadmissible surrogates train as well?

    Each control's deficit (the admissible surrogates' mean accuracy at the
    same bit-width minus the control's, paired by slot) gets a two-sided
    :func:`verdict`: equivalence at ``margin``, fixed in advance, or a
    difference. The finding is whatever the verdicts are; it fails when an
    interval holds 0 and reaches past ``+-margin``, so that the data cannot
    say which.
    """
    k = sum(name in INADMISSIBLE for name, _ in runs)
    deficits = control_deficits(runs, k)
    if not deficits:
        raise ValueError(f"no control rows ({', '.join(INADMISSIBLE)}) among the runs")
    verdicts = {key: verdict(d, margin) for key, d in deficits.items()}
    closest = min(room(d, margin) for d in deficits.values())
    slots = runs[(FULL_PRECISION, 32)].accuracy.size
    return Claim(
        id="cg.table2_controls",
        statement=controls_statement(verdicts, margin),
        passed=UNDECIDED not in verdicts.values(),
        measured={
            f"{row_label(key)}: deficit (interval), points": f"{d.text()}: {verdicts[key]}"
            for key, d in deficits.items()
        },
        expected={
            "every deficit's interval": (
                f"inside (-{margin:g}, {margin:g}) (as well), else above 0 (worse) or below 0 "
                f"(better); holding 0 and reaching past +-{margin:g} fails"
            ),
        },
        method=(
            "deficit = mean accuracy of the three admissible surrogates at the same bit-width "
            f"minus the control's, paired over {slots} splits; Student t intervals "
            f"(dof {slots - 1}) at the error budget's level for one of {k} comparisons; "
            f"margin {margin:g} points fixed before any run (Table 2's own margin)."
        ),
        seed=seed_label,
        summary=", ".join(
            f"{row_label(key)} {d.mean:.2f} ({verdicts[key]})" for key, d in deficits.items()
        ),
        margin=(
            f"least room {closest:.2f} points (inside +-{margin:g}, or from 0 for a difference); "
            "fails below 0"
        ),
        kind="finding",
    )
