"""Figure 6 on the digits: weight-norm growth, its controls and its claims.

Three training settings share the initialisations, batch orders and splits
(so they are paired slot by slot, and identical until the learning rate
first drops): the paper's schedule with batch normalisation, a constant
learning rate with batch normalisation, and the paper's schedule without
batch normalisation. Growth is measured relative to the initial norm and,
to compare schedules, per unit of learning rate: the growth over a window of
epochs divided by the sum of the learning rates of its epochs.

The tolerances, fixed before any run:

* the step-length identity (:class:`quantheory.cg.digits.StepGrowth`) to 1%:
  batch normalisation's ``eps`` breaks exact scale invariance by about
  ``eps / var``, near 1e-5 of a step, so 1% leaves room for it to add up;
* the order in the learning rate, as ``log10`` of a growth ratio at a 10x
  rate ratio: 1 if the growth of a step is second order in the rate (scale
  invariance), 0 if first order (Lemma 5.5's bound); the tolerance 0.5 is
  half the distance, so an interval can lie inside the band of one at most;
* the late window starts with the first epoch at least :func:`momentum_steps`
  steps after the drop, when less than 1% of the squared velocity at the
  drop is left (its squared length is 10^2 times the new steps').
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from quantheory import stats
from quantheory.cg.digits import FROZEN_HIDDEN, FULL_PRECISION, TrainingRun
from quantheory.cg.digits_claims import Row, resampled_t_interval, row_label
from quantheory.cg.surrogates import ADMISSIBLE
from quantheory.claims import Claim

#: the squared velocity left from before the drop, relative to the new steps', when the
#: late window may start
MOMENTUM_LEFT = 0.01
#: largest relative error of the step-length identity where the loss is scale-invariant
IDENTITY_TOLERANCE = 0.01
#: half-width of the band around ``log10`` growth ratio 1 (second order in the rate)
ORDER_TOLERANCE = 0.5


def interval(samples: np.ndarray, run: TrainingRun, comparisons: int) -> tuple[float, float, float]:
    """Mean of (S,) per-split ``samples`` of ``run`` and its corrected resampled t interval
    (the splits share their images: :func:`quantheory.cg.digits_claims.resampled_t_interval`)."""
    return resampled_t_interval(samples, run.test_train_ratio, comparisons)[:3]


def relative_growth(run: TrainingRun) -> np.ndarray:
    """Final over initial norm minus 1, shape (S, layers)."""
    return run.weight_norms[-1] / run.weight_norms[0] - 1


def growth_per_rate_by_epoch(run: TrainingRun) -> np.ndarray:
    """Relative growth of every epoch per unit of its learning rate, (epochs, S, layers)."""
    return np.diff(run.weight_norms, axis=0) / run.weight_norms[0] / run.rates[:, None, None]


def squared_growth_per_rate(run: TrainingRun, start: int, stop: int) -> np.ndarray:
    """``(|W_stop|^2 - |W_start|^2) / |W_0|^2`` per unit of learning rate, (S, layers)."""
    if not 0 <= start < stop <= run.rates.size:
        raise ValueError(f"need 0 <= start < stop <= {run.rates.size}, got {start}, {stop}")
    squared = run.weight_norms**2
    return (squared[stop] - squared[start]) / squared[0] / run.rates[start:stop].sum()


def step_identity_ratio(run: TrainingRun) -> np.ndarray:
    """Measured growth of each squared norm over training over the step-length prediction
    (:class:`quantheory.cg.digits.StepGrowth`), (S, layers); 1 where the loss is scale-invariant.
    """
    squared = run.weight_norms**2
    return (squared[-1] - squared[0]) / run.step_growth.sum(axis=0)


def momentum_steps(momentum: float, drop: float = 10.0) -> int:
    """Steps after a ``drop``-fold rate cut until ``momentum^(2n) drop^2 < MOMENTUM_LEFT``.

    >>> momentum_steps(0.9)
    44
    """
    return int(np.ceil(np.log(MOMENTUM_LEFT / drop**2) / (2 * np.log(momentum))))


def late_window(
    run: TrainingRun, decay_every: int, steps_per_epoch: int, momentum: float
) -> tuple[int, int]:
    """The epochs from the first whole epoch :func:`momentum_steps` after the drop to the
    end; a readable error if none is left."""
    start = decay_every + int(np.ceil(momentum_steps(momentum) / steps_per_epoch))
    if start >= run.rates.size:
        raise ValueError(
            f"no late window: momentum's memory of the drop at epoch {decay_every} lasts to "
            f"epoch {start}, and training has {run.rates.size} epochs"
        )
    return start, run.rates.size


def norm_growth_claim(
    runs: Mapping[Row, TrainingRun], control: TrainingRun, bound: float, seed_label: str
) -> Claim:
    """``cg.fig6_norm_growth`` (finding): the weight norms grow, by less than ``bound`` x.

    For full precision and every admissible row, the budget-level interval of
    each layer's mean relative growth must lie inside ``(0, bound - 1)``: the
    norms grow, and end within ``bound`` times their start. The control, the
    2-bit ReLU network trained without batch normalisation, must break the
    bound (the lower end of its mean log growth above ``log(bound)`` in its
    fastest growing layer), so that the bound can fail.
    """
    rows = {key: run for key, run in runs.items() if key[0] in (FULL_PRECISION, *ADMISSIBLE)}
    layers = next(iter(rows.values())).weight_norms.shape[-1]
    k = len(rows) * layers + 1
    ok, lowest, highest, measured = True, np.inf, -np.inf, {}
    for key, run in rows.items():
        growth = relative_growth(run)
        ends = [interval(growth[:, layer], run, k) for layer in range(layers)]
        low, high = min(e[1] for e in ends), max(e[2] for e in ends)
        ok &= low > 0 and high < bound - 1
        lowest, highest = min(lowest, low), max(highest, high)
        measured[f"{row_label(key)}: growth, % (smallest lower end, largest upper end)"] = (
            f"{100 * growth.mean(axis=0).min():.1f} to {100 * growth.mean(axis=0).max():.1f} "
            f"({100 * low:.1f}, {100 * high:.1f})"
        )
    log_growth = np.log(control.weight_norms[-1] / control.weight_norms[0])
    fastest = int(np.argmax(log_growth.mean(axis=0)))
    mean, low, _ = interval(log_growth[:, fastest], control, k)
    ok &= low > np.log(bound)
    measured[f"control without batch norm, layer {fastest + 1}: final / initial (lower end)"] = (
        f"{np.exp(mean):.1f} ({np.exp(low):.1f})"
    )
    slots = control.accuracy.size
    return Claim(
        id="cg.fig6_norm_growth",
        statement=(
            "under the paper's schedule with batch normalisation and no weight decay, every "
            f"weight norm grows over training and ends within {bound:g}x its start, for the "
            "full-precision network as for the coarse-gradient ones (so the growth is not the "
            "coarse gradient's; why: cg.fig6_controls); without batch normalisation the 2-bit "
            f"ReLU network's first layer ends beyond {bound:g}x"
        ),
        passed=bool(ok),
        measured=measured,
        expected={
            "every layer's mean relative growth, interval": f"inside (0, {bound - 1:g})",
            "control's final / initial norm, lower end": f"> {bound:g}",
        },
        method=(
            f"Frobenius norm of each weight matrix at the start and after the last epoch, {slots} "
            f"Monte Carlo splits of the same images; corrected resampled t intervals (Nadeau and "
            f"Bengio 2003, dof {slots - 1}) at the error budget's level for one of {k} "
            "comparisons (the control's on the log scale)."
        ),
        seed=seed_label,
        summary=(
            f"growth interval ends {100 * lowest:.1f}% to {100 * highest:.1f}% (inside 0 to "
            f"{100 * (bound - 1):g}%); control {np.exp(mean):.0f}x"
        ),
        margin=(
            f"smallest lower end {100 * lowest:.1f}%, fails below 0; largest upper end "
            f"{100 * highest:.1f}%, fails above {100 * (bound - 1):g}%"
        ),
        kind="finding",
    )


def identity_part(
    invariant: Mapping[str, TrainingRun], not_invariant: Mapping[str, np.ndarray]
) -> tuple[bool, float, float, dict[str, str]]:
    """The step-length identity: within :data:`IDENTITY_TOLERANCE` where the loss is
    scale-invariant (hidden layers under batch norm), outside it elsewhere.

    ``invariant`` maps a label to a run whose hidden layers are checked;
    ``not_invariant`` maps a label to (S,) ratios that must depart from 1.
    Returns whether both hold, the worst error, the smallest departure and
    the measured rows.
    """
    worst, departure, measured = 0.0, np.inf, {}
    for label, run in invariant.items():
        error = float(np.abs(step_identity_ratio(run)[:, :-1] - 1).max())
        worst = max(worst, error)
        measured[f"{label}, hidden layers: largest |measured / steps - 1|"] = f"{error:.1e}"
    for label, ratio in not_invariant.items():
        gap = float(np.abs(ratio - 1).min())
        departure = min(departure, gap)
        measured[f"{label}: measured / steps (smallest |.. - 1|)"] = (
            f"{np.median(ratio):.2f} ({gap:.2f})"
        )
    ok = worst <= IDENTITY_TOLERANCE < departure
    return ok, worst, departure, measured


def controls_claim(
    schedule: Mapping[Row, TrainingRun],
    constant: Mapping[Row, TrainingRun],
    no_batch_norm: Mapping[Row, TrainingRun],
    decay_every: int,
    steps_per_epoch: int,
    momentum: float,
    seed_label: str,
) -> Claim:
    """``cg.fig6_controls`` (finding): what Lemma 5.5 does and does not explain.

    * Growth: where batch normalisation makes the loss scale-invariant (the
      hidden layers) every momentum step lengthens the weights by what the
      step lengths alone give (:func:`step_identity_ratio` within
      :data:`IDENTITY_TOLERANCE` of 1, true and coarse gradients alike); the
      output layer and the 2-bit network without batch norm depart from it.
      (The full-precision network without batch norm comes within a few
      percent of it: reported, not tested; the chapter says why.)
    * Not bounded: with a constant rate the hidden norms still grow in the late
      window, more slowly: late over early squared growth per unit of rate
      has its interval inside (0, 1).
    * The drop: ``log10`` of the late squared growth per unit of rate at a
      constant rate over that under the schedule has its interval within
      :data:`ORDER_TOLERANCE` of 1 (second order in the rate).
    * Without batch norm the full-precision hidden layers grow as well.
    """
    rows = [key for key in constant if key in schedule]
    layers = next(iter(constant.values())).weight_norms.shape[-1]
    k = 2 * len(rows) * (layers - 1) + layers - 1
    invariant = {
        f"{setting}, {row_label(key)}": run
        for setting, runs in (("schedule", schedule), ("constant rate", constant))
        for key, run in runs.items()
        if key[0] != FROZEN_HIDDEN
    }
    not_invariant = {
        f"schedule, {row_label(key)}, output layer": step_identity_ratio(run)[:, -1]
        for key, run in schedule.items()
        if key in rows
    }
    not_invariant |= {
        f"no batch norm, {row_label(key)}, layer {layer + 1}": step_identity_ratio(run)[:, layer]
        for key, run in no_batch_norm.items()
        if key[0] != FULL_PRECISION
        for layer in range(layers - 1)
    }
    ok, worst, departure, measured = identity_part(invariant, not_invariant)
    for layer in range(layers - 1):  # reported, not tested (see the chapter)
        ratio = step_identity_ratio(no_batch_norm[(FULL_PRECISION, 32)])[:, layer]
        measured[f"no batch norm, full precision, layer {layer + 1}: measured / steps"] = (
            f"{np.median(ratio):.3f} (range {ratio.min():.3f} to {ratio.max():.3f}; not tested)"
        )
    slowest, order_room, undecided = np.inf, np.inf, 0
    for key in rows:
        start, stop = late_window(constant[key], decay_every, steps_per_epoch, momentum)
        late = squared_growth_per_rate(constant[key], start, stop)
        early = squared_growth_per_rate(constant[key], 0, decay_every)
        scheduled = squared_growth_per_rate(schedule[key], start, stop)
        for layer in range(layers - 1):
            mean, low, high = interval(late[:, layer] / early[:, layer], constant[key], k)
            ok &= high > 0 and low < 1  # fails only when decided outside (0, 1)
            undecided += not (0 < low and high < 1)
            slowest = min(slowest, low, 1 - high)
            where = f"{row_label(key)}, layer {layer + 1}"
            measured[f"constant rate, {where}: late / early per unit rate"] = (
                f"{mean:.3f} ({low:.3f}, {high:.3f})"
            )
            pair = np.stack([late[:, layer], scheduled[:, layer]])
            if np.any(pair <= 0):
                ok = False
                measured[f"{where}: log10 constant / schedule"] = (
                    f"not measurable: the norm shrank in the late window in "
                    f"{int(np.any(pair <= 0, axis=0).sum())} slots"
                )
                continue
            mean, low, high = interval(np.log10(pair[0] / pair[1]), constant[key], k)
            # fails only when decided outside the band; undecided when it reaches past it
            ok &= high > 1 - ORDER_TOLERANCE and low < 1 + ORDER_TOLERANCE
            undecided += not stats.equivalent_within(low - 1, high - 1, ORDER_TOLERANCE)
            order_room = min(order_room, ORDER_TOLERANCE - max(abs(low - 1), abs(high - 1)))
            measured[f"{where}: log10 constant / schedule, late, per unit rate"] = (
                f"{mean:.2f} ({low:.2f}, {high:.2f})"
            )
    full = no_batch_norm[(FULL_PRECISION, 32)]
    growth = relative_growth(full)
    grows = np.inf
    for layer in range(layers - 1):
        mean, low, high = interval(growth[:, layer], full, k)
        grows = min(grows, low)
        ok &= high > 0  # fails only when decided not to grow
        undecided += not low > 0
        measured[f"no batch norm, full precision, layer {layer + 1}: growth, %"] = (
            f"{100 * mean:.1f} ({100 * low:.1f}, {100 * high:.1f})"
        )
    slots = full.accuracy.size
    start, stop = late_window(full, decay_every, steps_per_epoch, momentum)
    return Claim(
        id="cg.fig6_controls",
        statement=(
            "what Lemma 5.5 does and does not explain: batch normalisation makes the loss "
            "invariant to the scale of each hidden weight matrix, so every momentum step, with "
            "the true or the coarse gradient, lengthens it by what the step lengths alone give "
            f"(to {IDENTITY_TOLERANCE:g}; not so for the output layer, nor for the 2-bit "
            "network without batch norm; the full-precision network grows without batch norm "
            "too); with a constant rate the norms keep "
            "growing, more slowly (late over early growth per unit rate inside (0, 1)): slow "
            "growth, not a bound; after the 10x drop the growth per unit rate is "
            f"10^(1 +- {ORDER_TOLERANCE:g}) times smaller than at a constant rate, second order "
            "in the rate as scale invariance gives, not first order as in Lemma 5.5's bound: "
            "the levelling off is the drop; the intervals over splits fail these statements "
            "only where they decide against them, and "
            f"{undecided} of them the data cannot decide"
        ),
        passed=bool(ok),
        measured=measured,
        expected={
            "hidden layers under batch norm: |measured / steps - 1|": f"<= {IDENTITY_TOLERANCE:g}",
            "output layer, 2-bit without batch norm: |measured / steps - 1|": (
                f"> {IDENTITY_TOLERANCE:g}"
            ),
            "constant rate: late / early per unit rate, interval": (
                "inside (0, 1); fails when wholly outside it, else undecided"
            ),
            "log10 constant / schedule, interval": (
                f"inside ({1 - ORDER_TOLERANCE:g}, {1 + ORDER_TOLERANCE:g}); fails when wholly "
                "outside it, else undecided"
            ),
            "no batch norm: hidden growth, interval": (
                "above 0; fails when wholly below, else undecided"
            ),
        },
        method=(
            "steps: the squared-norm growth that the momentum steps give a matrix orthogonal to "
            "its gradient, booked during training from the step lengths alone; growth per unit "
            "of rate = (|W_b|^2 - |W_a|^2) / |W_0|^2 over the sum of the rates of epochs "
            f"[a, b); early [0, {decay_every}), late [{start}, {stop}); {slots} paired Monte "
            f"Carlo splits of the same images; corrected resampled t intervals (Nadeau and "
            f"Bengio 2003, dof {slots - 1}) at the error budget's level for one of {k} "
            "comparisons."
        ),
        seed=seed_label,
        summary=(
            f"identity error at most {worst:.1e} (departure elsewhere at least {departure:.2f}); "
            f"{undecided} interval(s) undecided; late/early {slowest:.3f} inside (0, 1) "
            f"(negative: undecided); log10 ratio {order_room:.2f} inside its band (negative: "
            "undecided)"
        ),
        margin=(
            f"identity {worst:.1e}, fails above {IDENTITY_TOLERANCE:g}; late/early "
            f"{slowest:.3f} from 0 or 1, log10 ratio {order_room:.2f} from 1 +- "
            f"{ORDER_TOLERANCE:g}, no-batch-norm growth lower end {100 * grows:.1f}%: each "
            f"undecided when negative, failing only when the whole interval is outside; "
            f"{undecided} undecided"
        ),
        kind="finding",
    )
