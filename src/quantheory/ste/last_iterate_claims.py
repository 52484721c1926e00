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


def last_vs_ergodic_claim(comparison: LastVsErgodic) -> Claim:
    """``ste.thm2_last_vs_ergodic`` (finding): the last iterate does not catch up as n grows.

    At a fixed horizon the ratio ``N50_last / N50_ergodic`` does not fall with
    n: the least-squares slope of its log against log n is not negative
    beyond the budget (``slope / SE >= -z``, one test). A slope significantly
    above 0 (the last iterate falling further behind) passes; one below fails.
    """
    slope, se = comparison.ratio_slope()
    score = float(_z(np.array(slope), np.array(se)))
    z = stats.z_threshold(1)
    low, high = slope - z * se, slope + z * se
    return Claim(
        id="ste.thm2_last_vs_ergodic",
        statement=(
            "at a fixed horizon the last iterate does not catch up with the ergodic average "
            "as n grows: N50_last / N50_ergodic does not fall with n"
        ),
        passed=bool(score >= -z),
        measured={
            "slope of log(N50_last / N50_ergodic) against log n": slope,
            "budget interval of the slope": f"[{low:.3f}, {high:.3f}]",
            "slope / SE": score,
        },
        expected={"slope / SE": f">= {-z:.2f}"},
        method=(
            f"least squares over n = {', '.join(str(n) for n in comparison.ns)}; SE from "
            f"{comparison.draws_last.shape[0]} joint binomial resamples of the grid, normal "
            "quantile at the budget (1 test)."
        ),
        seed=None,
        kind="finding",
        summary=f"ratio slope {slope:.3f} (budget interval {low:.3f} to {high:.3f})",
        margin=stats.margin(score, -z, passes_below=False),
    )
