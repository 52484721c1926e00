"""Claims of the Theorem 3 chapter: escape time and recurrence under label noise."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from quantheory import stats
from quantheory.claims import Claim
from quantheory.ste.recurrence import EscapeCheck, RecurrenceRuns


def escape_time_claim(checks: Sequence[EscapeCheck]) -> Claim:
    """``ste.thm3_escape_time``: the closed-form first escape time equals the simulated one."""
    predicted = np.concatenate([c.predicted for c in checks])
    simulated = np.concatenate([c.simulated for c in checks])
    exact = predicted == simulated
    levels = ", ".join(f"{c.noise_std:g}" for c in checks)
    return Claim(
        id="ste.thm3_escape_time",
        statement=(
            "with label noise, started at w*, the latent weights drift with velocity "
            "-eta g_N(w*) until the first coordinate crosses zero, at the predicted step"
        ),
        passed=bool(exact.all() and np.isfinite(simulated).all()),
        measured={
            "trials whose escape step equals the prediction": f"{int(exact.sum())} of {exact.size}",
            "escape steps, smallest to largest": f"{simulated.min():.0f} to {simulated.max():.0f}",
        },
        expected={
            "trials whose escape step equals the prediction": f"{exact.size} of {exact.size}"
        },
        method=(
            f"exact comparison, {checks[0].predicted.size} training sets at each noise level "
            f"s = {levels}; w0 = w*, eta = 1, prediction from g_N(w*) in closed form."
        ),
        seed=", ".join(c.seed for c in checks),
        summary=f"{int(exact.sum())}/{exact.size} escape steps predicted exactly (s = {levels})",
    )


def _z_score(estimate: stats.MeanEstimate) -> float:
    """|mean| / SE; 0 when both vanish (identical halves), inf for a constant non-zero gap."""
    mean, se = abs(float(estimate.mean)), float(estimate.se)
    if se == 0:
        return 0.0 if mean == 0 else float("inf")
    return mean / se


def recurrence_claim(runs: RecurrenceRuns, min_returns: int = 10) -> Claim:
    """``ste.thm3_recurrence``: the iterate leaves w* and returns again and again.

    Exact part: in every training set the iterate comes back to w* at least
    ``min_returns`` times in each half of the run after a burn-in of a tenth of
    the steps (so it keeps leaving and returning, and spends a positive
    fraction of each half at w*). Statistical
    part (book error budget, over training sets): neither the occupation nor the
    number of returns differs between the two halves, as they must if returns
    grow linearly in T and the occupation has a limit. The mean occupation is
    reported with its 95 % interval.
    """
    length = runs.distance.shape[1]
    burn, half = length // 10, (length + length // 10) // 2
    first, second = runs.returns(burn, half + 1), runs.returns(half)
    occupation = stats.mean_estimate(runs.occupation(burn))
    occ_diff = stats.mean_estimate(runs.occupation(half) - runs.occupation(burn, half))
    ret_diff = stats.mean_estimate((second - first).astype(float))
    z = stats.z_threshold(2)
    low, high = occupation.interval(0.95)
    occ_diff_z, ret_diff_z = _z_score(occ_diff), _z_score(ret_diff)
    fewest = int(min(first.min(), second.min()))
    occupation_text = f"{float(occupation.mean):.3f} [{low:.3f}, {high:.3f}]"
    passed = fewest >= min_returns and occ_diff_z <= z and ret_diff_z <= z
    steps = runs.distance.shape[1] - 1
    return Claim(
        id="ste.thm3_recurrence",
        statement=(
            "with label noise the iterate leaves w* and returns to it repeatedly: returns "
            "grow linearly in T and the occupation of w* tends to a positive limit"
        ),
        passed=bool(passed),
        measured={
            "fewest returns in one half of a run": fewest,
            "mean occupation of w* (95% CI)": occupation_text,
            "|second - first half| occupation / SE": occ_diff_z,
            "|second - first half| returns / SE": ret_diff_z,
            "mean returns per 1000 steps": float(1000 * (first + second).mean() / steps),
        },
        expected={
            "fewest returns in one half of a run": f">= {min_returns}",
            "|second - first half| occupation / SE": f"<= {z:.2f}",
            "|second - first half| returns / SE": f"<= {z:.2f}",
        },
        method=(
            f"{runs.distance.shape[0]} training sets, m = {runs.batch.m}, n = {runs.n}, "
            f"N = {runs.n_samples}, s = {runs.noise_std:g}, {steps} steps from w0 = w*, "
            f"the first {burn} left out as burn-in; "
            "halves compared by paired means over training sets (book error budget, 2 tests)."
        ),
        seed=runs.seed,
        summary=(
            f"occupation {float(occupation.mean):.3f} (95% CI {low:.3f}-{high:.3f}); "
            f"at least {fewest} returns in every half-run; halves agree "
            f"({occ_diff_z:.1f} and {ret_diff_z:.1f} SE)"
        ),
    )
