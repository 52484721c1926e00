"""Figure 6 on the digits: weight-norm growth, its controls and its claims.

Three training settings share the initialisations, batch orders and splits
(so they are paired slot by slot, and identical until the learning rate
first drops): the paper's schedule with batch normalisation, a constant
learning rate with batch normalisation, and the paper's schedule without
batch normalisation. Growth is measured relative to the initial norm and,
to compare schedules, per unit of learning rate: the relative growth over a
window of epochs divided by the sum of the learning rates of its epochs.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from quantheory import stats
from quantheory.cg.digits import FULL_PRECISION, TrainingRun
from quantheory.cg.digits_claims import Row, row_label
from quantheory.cg.surrogates import ADMISSIBLE
from quantheory.claims import Claim
from quantheory.validation import positive_int


def relative_growth(run: TrainingRun) -> np.ndarray:
    """Final over initial norm minus 1, shape (S, layers)."""
    return run.weight_norms[-1] / run.weight_norms[0] - 1


def growth_per_rate(run: TrainingRun, start: int, stop: int) -> np.ndarray:
    """Relative growth over epochs ``start .. stop - 1`` per unit of learning rate, (S, layers).

    ``(|W_stop| - |W_start|) / |W_0|`` divided by the sum of the learning
    rates of those epochs.
    """
    if not 0 <= start < stop <= run.rates.size:
        raise ValueError(f"need 0 <= start < stop <= {run.rates.size}, got {start}, {stop}")
    norms = run.weight_norms
    return (norms[stop] - norms[start]) / norms[0] / run.rates[start:stop].sum()


def growth_per_rate_by_epoch(run: TrainingRun) -> np.ndarray:
    """Relative growth of every epoch per unit of its learning rate, (epochs, S, layers)."""
    return np.diff(run.weight_norms, axis=0) / run.weight_norms[0] / run.rates[:, None, None]


def levelling_ratio(run: TrainingRun, split_epoch: int) -> np.ndarray:
    """Growth per unit of learning rate after ``split_epoch`` over that before, (S, layers).

    About 1 when the norms grow at a steady rate per unit of learning rate,
    near 0 when they level off.
    """
    split = positive_int("split_epoch", split_epoch)
    return growth_per_rate(run, split, run.rates.size) / growth_per_rate(run, 0, split)


def norm_growth_claim(
    runs: Mapping[Row, TrainingRun], control: TrainingRun, bound: float, seed_label: str
) -> Claim:
    """``cg.fig6_norm_growth``: the weight norms grow and stay within ``bound`` x their start.

    For full precision and every admissible row, each layer's mean relative
    growth must have its budget-level lower end above 0 and no slot may end
    above ``bound`` times its initial norm. The control, the 2-bit ReLU
    network trained without batch normalisation, must break the bound (the
    lower end of its mean log growth above ``log(bound)`` in its fastest
    growing layer), so that the bound can fail.
    """
    rows = {key: run for key, run in runs.items() if key[0] in (FULL_PRECISION, *ADMISSIBLE)}
    layers = next(iter(rows.values())).weight_norms.shape[-1]
    k = len(rows) * layers + 1
    ok, smallest, largest, measured = True, np.inf, 0.0, {}
    for key, run in rows.items():
        growth = relative_growth(run)
        lows = [stats.budget_t_interval(growth[:, layer], k)[1] for layer in range(layers)]
        ratio = float((run.weight_norms[-1] / run.weight_norms[0]).max())
        ok &= min(lows) > 0 and ratio <= bound
        smallest, largest = min(smallest, min(lows)), max(largest, ratio)
        measured[f"{row_label(key)}: growth, % (lower end, smallest layer)"] = (
            f"{100 * growth.mean(axis=0).min():.1f} ({100 * min(lows):.1f})"
        )
        measured[f"{row_label(key)}: largest final / initial norm"] = ratio
    log_growth = np.log(control.weight_norms[-1] / control.weight_norms[0])
    fastest = int(np.argmax(log_growth.mean(axis=0)))
    mean, low, _ = stats.budget_t_interval(log_growth[:, fastest], k)
    ok &= low > np.log(bound)
    measured[f"control without batch norm, layer {fastest + 1}: final / initial (lower end)"] = (
        f"{np.exp(mean):.1f} ({np.exp(low):.1f})"
    )
    slots = control.accuracy.size
    return Claim(
        id="cg.fig6_norm_growth",
        statement=(
            "without weight decay every weight norm grows over training and stays within "
            f"{bound:g}x its start under batch normalisation, as Lemma 5.5 and the bounded-"
            "iterate hypothesis picture it (this check cannot tell the coarse gradient's "
            "growth from batch norm's; see cg.fig6_controls)"
        ),
        passed=bool(ok),
        measured=measured,
        expected={
            "lower end of every layer's mean growth": "> 0",
            "final / initial norm, every slot": f"<= {bound:g}",
            "control's final / initial norm, lower end": f"> {bound:g}",
        },
        method=(
            f"Frobenius norm of each weight matrix at the start and after every epoch, {slots} "
            f"paired splits; Student t intervals (dof {slots - 1}) at the error budget's level "
            f"for one of {k} comparisons (the control's on the log scale)."
        ),
        seed=seed_label,
        summary=(
            f"smallest lower end of the growth {100 * smallest:.1f}%; largest final / initial "
            f"{largest:.2f} (bound {bound:g}); control {np.exp(mean):.0f}x"
        ),
        margin=stats.margin(largest, bound, unit="x", passes_below=True)
        + f"; growth lower end {100 * smallest:.1f}%, fails below 0",
    )


def controls_claim(
    constant: Mapping[Row, TrainingRun],
    no_batch_norm: TrainingRun,
    split_epoch: int,
    tolerance: float,
    seed_label: str,
) -> Claim:
    """``cg.fig6_controls`` (finding): the norms level off without a schedule, and grow
    without batch normalisation.

    * Constant learning rate: in every layer of every row, the growth per unit
      of learning rate after ``split_epoch`` is below ``tolerance`` times that
      before (upper end of the mean ratio's interval).
    * No batch normalisation (full precision, :math:`\\mathcal{L}` not
      scale-invariant): every hidden layer's mean relative growth has its lower
      end above 0.
    """
    layers = no_batch_norm.weight_norms.shape[-1]
    k = len(constant) * layers + layers - 1
    measured, worst, smallest = {}, 0.0, np.inf
    for key, run in constant.items():
        ratio = levelling_ratio(run, split_epoch)
        for layer in range(layers):
            mean, _, high = stats.budget_t_interval(ratio[:, layer], k)
            worst = max(worst, high)
            measured[f"constant rate, {row_label(key)}, layer {layer + 1}: late / early"] = (
                f"{mean:.3f} (upper end {high:.3f})"
            )
    growth = relative_growth(no_batch_norm)
    for layer in range(layers - 1):
        mean, low, _ = stats.budget_t_interval(growth[:, layer], k)
        smallest = min(smallest, low)
        measured[f"no batch norm, full precision, layer {layer + 1}: growth, %"] = (
            f"{100 * mean:.1f} (lower end {100 * low:.1f})"
        )
    slots = no_batch_norm.accuracy.size
    return Claim(
        id="cg.fig6_controls",
        statement=(
            "with a constant learning rate the weight norms still level off (growth per unit "
            f"of learning rate after epoch {split_epoch} below {tolerance:g} of that before), "
            "and without batch normalisation the hidden layers of the full-precision network "
            "still grow: neither the schedule nor scale invariance is needed for Figure 6's "
            "picture"
        ),
        passed=bool(worst < tolerance and smallest > 0),
        measured=measured,
        expected={
            "constant rate: late / early growth per unit rate, upper end": f"< {tolerance:g}",
            "no batch norm: hidden growth, lower end": "> 0",
        },
        method=(
            "growth per unit of learning rate = relative norm growth over a window of epochs "
            f"divided by the sum of their learning rates; windows [0, {split_epoch}) and "
            f"[{split_epoch}, end); {slots} paired splits; Student t intervals "
            f"(dof {slots - 1}) at the error budget's level for one of {k} comparisons."
        ),
        seed=seed_label,
        summary=(
            f"constant rate: late / early at most {worst:.2f} (tolerance {tolerance:g}); no "
            f"batch norm: smallest hidden growth lower end {100 * smallest:.1f}%"
        ),
        margin=stats.margin(worst, tolerance, unit="")
        + f"; no-batch-norm growth lower end {100 * smallest:.1f}%, fails below 0",
        kind="finding",
    )
