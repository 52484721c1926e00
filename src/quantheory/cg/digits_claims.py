"""Claims of the digits chapter on Table 2: the admissible surrogates and their controls.

Every row of Table 2 is trained on the same ``S`` stratified Monte Carlo
splits, so two rows are compared slot by slot (paired by split); each row
draws its own initialisations and batch orders (see
:func:`quantheory.cg.digits.train_rows`), so the pairing removes the splits'
variation, not the training's.
The splits all draw from the same 1,797 images, so their paired differences
are correlated, not independent replicates, and a plain t interval over them
is too narrow. Their mean gets the corrected resampled t interval of Nadeau
and Bengio (2003): variance ``s^2 (1/S + n_test / n_train)`` in place of
``s^2 / S``, with the error budget's t quantile on ``S - 1`` degrees of freedom
(:func:`resampled_t_interval`).
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
#: verdicts of a gap at the margin (Table 2) and of a control's deficit (its controls)
WITHIN, BEYOND = "within", "beyond"
AS_WELL, WORSE, BETTER, UNDECIDED = "as well", "worse", "better", "undecided"


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


def resampled_t_interval(
    samples: np.ndarray, test_train_ratio: float, comparisons: int
) -> tuple[float, float, float, float]:
    """Mean of ``S`` Monte Carlo split results and its corrected resampled t interval.

    Nadeau and Bengio's correction for splits that share their images: the
    variance of the mean is ``s^2 (1/S + n_test / n_train)``, not ``s^2 / S``;
    the half-width is :func:`quantheory.stats.t_threshold` ``(S - 1, comparisons)``
    standard errors.

    Parameters
    ----------
    samples : (S,) one result per split.
    test_train_ratio : ``n_test / n_train`` of every split.
    comparisons : how many intervals share the error budget.

    Returns
    -------
    mean, low, high, standard error.

    >>> mean, low, high, se = resampled_t_interval(np.array([1.0, 2.0, 3.0]), 0.0, 1)
    >>> bool(np.isclose(se, 1 / np.sqrt(3)))
    True
    """
    samples = np.asarray(samples, dtype=float)
    if samples.ndim != 1 or samples.size < 2:
        raise ValueError(f"need at least 2 splits, got shape {samples.shape}")
    if not test_train_ratio >= 0:
        raise ValueError(f"test_train_ratio must be >= 0, got {test_train_ratio}")
    se = float(samples.std(ddof=1) * np.sqrt(1 / samples.size + test_train_ratio))
    half = stats.t_threshold(samples.size - 1, comparisons) * se
    mean = float(samples.mean())
    return mean, mean - half, mean + half, se


def split_ratio(runs: Mapping[Row, TrainingRun]) -> float:
    """The ``n_test / n_train`` the runs share; a readable error if they differ."""
    ratios = {run.test_train_ratio for run in runs.values()}
    if len(ratios) != 1:
        raise ValueError(f"runs trained on different splits: test/train ratios {sorted(ratios)}")
    return ratios.pop()


@dataclass(frozen=True)
class PairedDifference:
    """Mean of ``S`` paired differences (in points) with its error-budget interval.

    Attributes
    ----------
    mean, low, high : the mean and the ends of its corrected resampled t
        interval (:func:`resampled_t_interval`) at the budget's level for one of
        ``comparisons`` comparisons.
    se : corrected standard error of the mean.
    """

    mean: float
    se: float
    low: float
    high: float

    def text(self) -> str:
        return f"{self.mean:.2f} ({self.low:.2f}, {self.high:.2f})"


def paired_difference(
    a: np.ndarray, b: np.ndarray, test_train_ratio: float, comparisons: int
) -> PairedDifference:
    """``a - b`` slot by slot, in percentage points; ``a`` and ``b`` are (S,) accuracies
    on the same splits, whose ``n_test / n_train`` is ``test_train_ratio``."""
    diff = 100 * (np.asarray(a) - np.asarray(b))
    mean, low, high, se = resampled_t_interval(diff, test_train_ratio, comparisons)
    return PairedDifference(mean, se, low, high)


def admissible_mean(runs: Mapping[Row, TrainingRun], bits: int) -> np.ndarray:
    """Accuracy per slot averaged over the three admissible surrogates at ``bits``, (S,)."""
    return np.mean([runs[(name, bits)].accuracy for name in ADMISSIBLE], axis=0)


def gap_verdict(gap: PairedDifference, margin: float) -> str:
    """What the interval of a gap to full precision says at ``margin``: ``"within"``
    (upper end at most ``margin``), ``"beyond"`` (lower end above it) or ``"undecided"``."""
    if gap.high <= margin:
        return WITHIN
    if gap.low > margin:
        return BEYOND
    return UNDECIDED


def table2(runs: Mapping[Row, TrainingRun], comparisons: int, margin: float) -> Table:
    """Table 2 with its controls: accuracy (mean +- std over slots), the paired gap to
    full precision with its budget-level interval and what it says at ``margin``, and
    the paper's MNIST number."""
    full = runs[(FULL_PRECISION, 32)].accuracy
    ratio = split_ratio(runs)
    cells = []
    for (name, bits), run in runs.items():
        accuracy = 100 * run.accuracy
        gap, word = "", ""
        if name != FULL_PRECISION:
            difference = paired_difference(full, run.accuracy, ratio, comparisons)
            gap, word = difference.text(), gap_verdict(difference, margin)
        cells.append(
            [
                "— (full precision)" if name == FULL_PRECISION else surrogate_label(name),
                bits,
                row_role(name),
                f"{accuracy.mean():.2f} ± {accuracy.std(ddof=1):.2f}",
                gap,
                word,
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
            f"at {margin:g} points",
            "paper, MNIST (%)",
        ],
        cells,
    )


def admissible_bit_widths(runs: Mapping[Row, TrainingRun]) -> list[int]:
    """The bit-widths with an admissible row, in order."""
    return sorted({bits for name, bits in runs if name in ADMISSIBLE})


def table2_comparisons(runs: Mapping[Row, TrainingRun]) -> int:
    """Intervals inside ``cg.table2_digits``: two per admissible row (its gap, and its
    accuracy over the frozen control's), the pooled gap at each bit-width, and the gap
    of each frozen control."""
    admissible = sum(name in ADMISSIBLE for name, _ in runs)
    frozen = sum(name == FROZEN_HIDDEN for name, _ in runs)
    return 2 * admissible + len(admissible_bit_widths(runs)) + frozen


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


def frozen_control(runs: Mapping[Row, TrainingRun], bits: int) -> TrainingRun:
    """The frozen-hidden-layer control at ``bits``; a readable error if there is none."""
    if (FROZEN_HIDDEN, bits) not in runs:
        raise ValueError(f"no frozen-hidden-layer control at {bits} bits among the runs")
    return runs[(FROZEN_HIDDEN, bits)]


def table2_claim(
    runs: Mapping[Row, TrainingRun],
    margin: float,
    gradient_error: float,
    backward_checks: Mapping[Row, BackwardCheck],
    seed_label: str,
) -> Claim:
    """``cg.table2_digits``: what this data size can decide of "within ``margin`` points".

    With corrected resampled t intervals (:func:`resampled_t_interval`) at the
    error budget's level, passes when

    (a) no admissible row is shown not to train: its accuracy over the frozen
        control's at the same bit-width gets a :func:`trains_verdict`, and
        "does not train" fails ("undecided" is counted and reported);
    (b) no admissible row's gap to full precision is shown to exceed
        ``margin`` (lower end at most ``margin``); each row's :func:`gap_verdict`
        (within, undecided) is reported;
    (c) the gap of the admissible surrogates' mean accuracy at each bit-width
        is not shown to exceed ``margin`` either; its verdict is reported;
    (d) no frozen control is shown within ``margin`` (the margin can fail;
        "undecided" is counted and reported);
    (e) the backward pass agrees with finite differences, and every row's
        trained network's coarse gradient is the formula with that row's own
        ``g'`` (:func:`backward_part`; ``backward_checks`` must cover every row).
    """
    missing = [row_label(key) for key in runs if key not in backward_checks]
    if missing:
        raise ValueError(f"no backward check for rows {missing}")
    full = runs[(FULL_PRECISION, 32)].accuracy
    ratio = split_ratio(runs)
    k = table2_comparisons(runs)
    ok, rows = gradient_error <= GRADIENT_TOLERANCE, {}
    largest_low, least_trained, verdicts, undecided_training = -np.inf, np.inf, {}, 0
    for (name, bits), run in runs.items():
        if name not in ADMISSIBLE:
            continue
        gap = paired_difference(full, run.accuracy, ratio, k)
        trained = paired_difference(run.accuracy, frozen_control(runs, bits).accuracy, ratio, k)
        # fails only where the data decide against: a row shown not to train (within the
        # margin of the frozen control or below it), or a gap shown beyond the margin
        ok &= trains_verdict(trained, margin) != NOT_TRAINED and gap.low <= margin
        undecided_training += trains_verdict(trained, margin) == UNDECIDED
        largest_low = max(largest_low, gap.low)
        least_trained = min(least_trained, trained.low)
        verdicts[(name, bits)] = gap_verdict(gap, margin)
        rows[f"{row_label((name, bits))}: gap (interval), points"] = (
            f"{gap.text()}: {verdicts[(name, bits)]}; over the frozen control {trained.text()}"
        )
    pooled = {}
    for bits in admissible_bit_widths(runs):
        gap = paired_difference(full, admissible_mean(runs, bits), ratio, k)
        ok &= gap.low <= margin
        largest_low = max(largest_low, gap.low)
        pooled[bits] = gap_verdict(gap, margin)
        rows[f"admissible mean, {bits}-bit: gap (interval), points"] = (
            f"{gap.text()}: {pooled[bits]}"
        )
    frozen = [key for key in runs if key[0] == FROZEN_HIDDEN]
    least_beyond = np.inf
    for key in frozen:
        gap = paired_difference(full, runs[key].accuracy, ratio, k)
        ok &= gap.high > margin  # fails only when shown within the margin
        undecided_training += gap_verdict(gap, margin) != BEYOND
        least_beyond = min(least_beyond, gap.low - margin)
        rows[f"control {row_label(key)}: gap (interval), points"] = gap.text()
    rows["backward pass vs finite differences, relative"] = gradient_error
    own, backward_error, nearest, backward_rows = backward_part(backward_checks)
    rows |= backward_rows
    slots = full.size
    undecided = [row_label(key) for key, word in verdicts.items() if word == UNDECIDED]
    pooled_text = ", ".join(f"{bits}-bit {word}" for bits, word in pooled.items())
    return Claim(
        id="cg.table2_digits",
        statement=(
            "on scikit-learn's digits, networks with 2- and 4-bit quantized ReLU trained by the "
            "coarse gradient with each admissible surrogate train (above the frozen-hidden-layer "
            f"control at the same bit-width; {undecided_training} such comparison(s) undecided), "
            f"and none is shown to fall more than {margin:g} "
            f"points below full precision; 'within {margin:g} points' is decided for "
            f"{len(verdicts) - len(undecided)} of {len(verdicts)} rows (undecided: "
            f"{', '.join(undecided) or 'none'}): with 1,797 images the data are too small to "
            f"show it for single rows at the book's error budget; the admissible mean: "
            f"{pooled_text}; a network whose hidden layers cannot learn lies beyond "
            f"{margin:g} points; every row's backward pass uses its own surrogate's g'"
        ),
        passed=bool(ok and own and frozen),
        measured=rows,
        expected={
            "admissible row over the frozen control": (
                f"lower end > 0 trains; upper end < {margin:g} does not train (fails); else "
                "undecided"
            ),
            "lower end of every admissible gap and of the admissible mean's": (
                f"<= {margin:g} points (within: upper end <= {margin:g}; else undecided)"
            ),
            "every frozen control's gap": (
                f"lower end > {margin:g} points beyond; upper end <= {margin:g} fails; else "
                "undecided"
            ),
            "backward pass vs finite differences, relative": f"<= {GRADIENT_TOLERANCE:g}",
            "backward pass vs forward mode with the row's g', relative": (
                f"<= {BACKWARD_TOLERANCE:g}"
            ),
            "forward mode with another surrogate's g', relative": f"> {APART:g} apart",
        },
        method=(
            f"{slots} stratified Monte Carlo train/test splits of the same 1,797 images (test/"
            f"train {ratio:.3f}), shared by every row (paired by split; each row draws its own "
            "initialisations and batch orders); held-out accuracy after the last epoch; "
            "corrected resampled t "
            f"interval (Nadeau and Bengio 2003: variance s^2 (1/{slots} + {ratio:.3f}), dof "
            f"{slots - 1}) of each mean paired difference at the error budget's level for one "
            f"of {k} comparisons. The backward pass of each row's trained network (split 0) on "
            "a fixed training batch, along random directions in the hidden weights, against "
            "forward-mode derivatives written apart with g' differentiated symbolically from "
            "the surrogate's formula."
        ),
        seed=seed_label,
        summary=(
            f"full precision {100 * full.mean():.2f}%; {len(undecided)} of {len(verdicts)} "
            f"admissible rows undecided at {margin:g} points, the rest within; admissible mean "
            f"{pooled_text}; backward vs own g' {backward_error:.0e}, other g' at least "
            f"{nearest:.0e} apart"
        ),
        margin=stats.margin(largest_low, margin, unit="points")
        + f" (largest lower end of a gap); smallest lower end over the frozen control "
        f"{least_trained:.2f} points (undecided below 0); frozen control beyond {margin:g} by "
        f"{least_beyond:.2f} (undecided below 0); {undecided_training} of these undecided; "
        f"backward vs own g' {backward_error:.0e} (fails "
        f"above {BACKWARD_TOLERANCE:g})",
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
    ratio = split_ratio(runs)
    return {
        key: paired_difference(admissible_mean(runs, key[1]), run.accuracy, ratio, comparisons)
        for key, run in runs.items()
        if key[0] in INADMISSIBLE
    }


#: verdicts of a control against the frozen control
TRAINS, NOT_TRAINED = "trains", "does not train"


def trains_verdict(over_frozen: PairedDifference, margin: float) -> str:
    """Does a control train? Its accuracy over the frozen control's at the same bit-width:
    ``"trains"`` if the interval is above 0, ``"does not train"`` if it lies below
    ``margin`` points (shown to be no better than a network whose hidden layers cannot
    learn, to within the margin), else ``"undecided"``."""
    if over_frozen.low > 0:
        return TRAINS
    if over_frozen.high < margin:
        return NOT_TRAINED
    return UNDECIDED


def controls_comparisons(runs: Mapping[Row, TrainingRun]) -> int:
    """Intervals inside ``cg.table2_controls``: two per control (its deficit to the
    admissible surrogates, and its accuracy over the frozen control)."""
    return 2 * sum(name in INADMISSIBLE for name, _ in runs)


def controls_statement(
    verdicts: Mapping[Row, str], trains: Mapping[Row, str], margin: float
) -> str:
    """The finding the verdicts make, in words (what the data say, not a direction set
    beforehand)."""
    parts = "; ".join(f"{row_label(key)}: {word}" for key, word in verdicts.items())
    trains_parts = "; ".join(f"{row_label(key)}: {word}" for key, word in trains.items())
    if AS_WELL in verdicts.values():
        conclusion = (
            "a surrogate that violates Assumption 2 trains as well as the admissible ones, so "
            "Assumption 2 is sufficient, not necessary, on this task"
        )
    elif UNDECIDED in verdicts.values():
        conclusion = (
            "where undecided, the 1,797 images are too few to say at the book's error budget "
            "whether Assumption 2 is needed"
        )
    else:
        conclusion = "no surrogate that violates Assumption 2 trains as well as the admissible ones"
    return (
        "against the frozen-hidden-layer control at the same bit-width (trains: above it; "
        f"does not train: within {margin:g} points of it or below): {trains_parts}; "
        "against the admissible surrogates at the same "
        f"bit-width (as well: within {margin:g} points; worse or better: a difference; "
        f"undecided: neither shown): {parts}; {conclusion}"
    )


def controls_claim(runs: Mapping[Row, TrainingRun], margin: float, seed_label: str) -> Claim:
    """``cg.table2_controls`` (finding): do the inadmissible surrogates train, and as well?

    Each control's accuracy over the frozen control at the same bit-width gets
    a :func:`trains_verdict`; the claim fails only if the data decide that a
    control does not train. Each control's deficit (the admissible surrogates'
    mean accuracy at the same bit-width minus the control's, paired by slot)
    gets a two-sided :func:`verdict` at ``margin``, fixed in advance:
    equivalence, a difference, or undecided when the data cannot say; the
    statement reports whichever it is. All intervals are corrected resampled
    t intervals (:func:`resampled_t_interval`).
    """
    k = controls_comparisons(runs)
    deficits = control_deficits(runs, k)
    if not deficits:
        raise ValueError(f"no control rows ({', '.join(INADMISSIBLE)}) among the runs")
    ratio = split_ratio(runs)
    trained = {
        key: paired_difference(runs[key].accuracy, frozen_control(runs, key[1]).accuracy, ratio, k)
        for key in deficits
    }
    verdicts = {key: verdict(d, margin) for key, d in deficits.items()}
    trains = {key: trains_verdict(t, margin) for key, t in trained.items()}
    least = min(t.low for t in trained.values())
    most = min(t.high for t in trained.values())
    slots = runs[(FULL_PRECISION, 32)].accuracy.size
    return Claim(
        id="cg.table2_controls",
        statement=controls_statement(verdicts, trains, margin),
        passed=NOT_TRAINED not in trains.values(),
        measured={
            f"{row_label(key)}: deficit (interval), points": (
                f"{d.text()}: {verdicts[key]}; over the frozen control {trained[key].text()}: "
                f"{trains[key]}"
            )
            for key, d in deficits.items()
        },
        expected={
            "every control over the frozen control at its bit-width": (
                f"lower end > 0 trains; upper end < {margin:g} points does not train (fails); "
                "else undecided"
            ),
            "every deficit's interval": (
                f"reported: inside (-{margin:g}, {margin:g}) as well; above 0 worse; below 0 "
                f"better; holding 0 and reaching past +-{margin:g} undecided"
            ),
        },
        method=(
            "deficit = mean accuracy of the three admissible surrogates at the same bit-width "
            f"minus the control's, paired over {slots} Monte Carlo splits of the same images; "
            f"corrected resampled t intervals (Nadeau and Bengio 2003: variance s^2 (1/{slots} "
            f"+ {ratio:.3f}), dof {slots - 1}) at the error budget's level for one of {k} "
            f"comparisons; margin {margin:g} points fixed before any run (Table 2's own margin)."
        ),
        seed=seed_label,
        summary=", ".join(
            f"{row_label(key)} {d.mean:.2f} ({verdicts[key]})" for key, d in deficits.items()
        ),
        margin=(
            f"smallest upper end over the frozen control {most:.2f} points, fails below "
            f"{margin:g} ({most - margin:.2f} to spare); smallest lower end {least:.2f} (trains "
            "above 0); "
            + "; ".join(
                f"{row_label(key)}: {verdicts[key]}, room {room(d, margin):.2f} points"
                for key, d in deficits.items()
            )
        ),
        kind="finding",
    )
