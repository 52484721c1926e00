"""Claims of the Theorem 2 chapter: the last iterate of the STE-gradient method.

The N50 comparisons use the joint (paired) binomial bootstrap of
:func:`quantheory.ste.last_iterate.compare_last_and_ergodic` and the normal
quantile at the book's error budget: each N50 rests on hundreds of runs, so
its bootstrap SE is well determined (as for the Theorem 1 claims).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from quantheory import stats
from quantheory.claims import Claim
from quantheory.ste.engine import TrialBatch
from quantheory.ste.last_iterate import (
    LastVsErgodic,
    absorbing_violations,
    model_absorbing_gradients,
)
from quantheory.ste.sample_complexity import SuccessGrid

#: fixed before the measurement: the two N50s count as equal when their ratio
#: lies within a factor 1.5 either way, about one step of the grid of N
#: (neighbouring sample sizes differ by a factor 2^(1/2) = 1.41)
RATIO_TOLERANCE = 1.5


def _z(log_ratio: np.ndarray, se: np.ndarray) -> np.ndarray:
    """log ratio / SE; 0 where both vanish (identical counts), +-inf for a gap with SE 0."""
    gap = np.where(log_ratio > 0, np.inf, np.where(log_ratio < 0, -np.inf, 0.0))
    return np.where(se > 0, log_ratio / np.where(se > 0, se, 1.0), gap)


def last_iterate_claim(
    comparison: LastVsErgodic,
    grid: SuccessGrid,
    absorbing_batches: Sequence[TrialBatch],
    absorbing_steps: int,
) -> Claim:
    """``ste.thm2_last_iterate``: w* absorbing without noise; the last iterate needs no fewer N.

    Exact parts, by code independent of the engine: ``g_N(w*) = 0`` from the
    model's formula on the raw layout, and the plain reference loop started at
    w* never moves. Exact lemmas on the grid: a run frozen at a fixed point is
    at w*, and a last-only success reached w* after T/2 (one that arrives by
    T/2 makes the ergodic estimate succeed too). Statistical part: at every n
    the last-iterate N50 is not below the ergodic N50 beyond the budget,
    ``log(N50_last / N50_ergodic) / SE >= -z`` (one test per n).
    """
    gradients = model_absorbing_gradients(absorbing_batches)
    violations = sum(absorbing_violations(b, absorbing_steps) for b in absorbing_batches)
    n_absorbing = gradients.size
    nonzero = int(np.count_nonzero(gradients))
    early = int(grid.last_only_early.sum())
    fixed_elsewhere = int(grid.fixed_not_at_star.sum())
    exact = nonzero == 0 and violations == 0 and early == 0 and fixed_elsewhere == 0
    z = stats.z_threshold(comparison.ns.size)
    scores = _z(comparison.log_ratio, comparison.log_ratio_se)
    worst = float(scores.min())
    ratios = np.exp(comparison.log_ratio)
    total = grid.n_trials * grid.ergodic.size
    return Claim(
        id="ste.thm2_last_iterate",
        statement=(
            "without noise g_N(w*) = 0, so w* is absorbing; the last iterate needs at least "
            "as many samples as the ergodic average (N50_last >= N50_ergodic at every n)"
        ),
        passed=bool(exact and worst >= -z),
        measured={
            "training sets with g_N(w*) != 0 (model formula)": f"{nonzero} of {n_absorbing}",
            "trials started at w* that moved (reference loop)": f"{violations} of {n_absorbing}",
            "last-only successes that hit w* by T/2": early,
            "runs frozen at a point other than w*": fixed_elsewhere,
            "N50_last / N50_ergodic over n": ", ".join(f"{r:.3f}" for r in ratios),
            "smallest log ratio / SE": worst,
        },
        expected={
            "training sets with g_N(w*) != 0 (model formula)": f"0 of {n_absorbing}",
            "trials started at w* that moved (reference loop)": f"0 of {n_absorbing}",
            "last-only successes that hit w* by T/2": 0,
            "runs frozen at a point other than w*": 0,
            "smallest log ratio / SE": f">= {-z:.2f}",
        },
        method=(
            f"exact checks: {n_absorbing} fresh training sets, g_N(w*) from the model's "
            f"formula and {absorbing_steps} steps of the plain loop from w*; the grid of the "
            f"Theorem 1 chapter ({total} runs of {grid.n_steps} steps) for the rest, N50 by "
            f"logistic fits, SE from {comparison.draws_last.shape[0]} joint binomial "
            f"resamples of the cells, normal quantile at the budget ({comparison.ns.size} tests)."
        ),
        seed=grid.seed,
        summary=(
            f"g_N(w*) = 0 and no move in {n_absorbing - max(nonzero, violations)}/{n_absorbing}; "
            f"late arrivals only: {'yes' if early == 0 else 'NO'}; N50 ratio "
            f"{ratios.min():.2f} to {ratios.max():.2f} (smallest {worst:.2f} SE)"
        ),
        margin=("exact parts hold" if exact else "an exact part FAILS")
        + f"; ratio: {stats.margin(worst, -z, passes_below=False)}",
    )


def last_vs_ergodic_claim(comparison: LastVsErgodic, tolerance: float = RATIO_TOLERANCE) -> Claim:
    """``ste.thm2_last_vs_ergodic`` (finding): both N50s agree within ``tolerance`` at every n.

    An equivalence test: at every n the ratio's interval at the budget level
    (two tests per n) must lie inside ``[1/tolerance, tolerance]``.
    """
    z = stats.z_threshold(2 * comparison.ns.size)
    low, high = comparison.ratio_interval(z)
    log_tol = np.log(tolerance)
    # distance of the interval's ends from the tolerance band, in SE
    spare = (log_tol - np.abs(comparison.log_ratio)) / np.maximum(comparison.log_ratio_se, 1e-300)
    closest = float(spare.min())
    passed = bool(np.all(low > 1 / tolerance) and np.all(high < tolerance))
    return Claim(
        id="ste.thm2_last_vs_ergodic",
        statement=(
            f"the last iterate and the ergodic average have the same N50 within a factor "
            f"{tolerance:g} at every n"
        ),
        passed=passed,
        measured={
            "N50_last / N50_ergodic, budget interval": ", ".join(
                f"n={n}: [{lo:.2f}, {hi:.2f}]"
                for n, lo, hi in zip(comparison.ns, low, high, strict=True)
            ),
        },
        expected={"every interval inside": f"[{1 / tolerance:.2f}, {tolerance:.2f}]"},
        method=(
            f"paired binomial bootstrap of the grid ({comparison.draws_last.shape[0]} resamples), "
            f"normal quantile at the budget ({2 * comparison.ns.size} tests); tolerance fixed "
            "in advance."
        ),
        seed=None,
        kind="finding",
        summary=(
            f"ratio intervals from {low.min():.2f} to {high.max():.2f}, inside "
            f"[{1 / tolerance:.2f}, {tolerance:.2f}]: {'yes' if passed else 'NO'}"
        ),
        margin=stats.margin(closest, z, passes_below=False),
    )
