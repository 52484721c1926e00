"""Claims of the Theorem 1 chapter (finite-sample STE).

Each function compares measurements (from :mod:`quantheory.ste.sample_complexity`)
with a stated prediction passed as an argument, so that a deliberately wrong
prediction makes the claim fail; the tests do that. Every pass/fail decision
uses an interval at the error budget's level (:mod:`quantheory.stats`):

* fits over few independent replicates (the deviation experiments) use the
  bootstrap SE over replicates with Student's t on ``R - 1`` degrees of freedom;
* N50 and everything fitted to it use the SE of the binomial bootstrap of every
  cell with the normal quantile (each cell holds many trials, so the SE is well
  determined; its B resamples cannot reach a 1 - 1e-8 percentile directly).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from quantheory import stats
from quantheory.claims import Claim
from quantheory.seeding import SeedLike, generator
from quantheory.ste.sample_complexity import (
    DeviationGrowth,
    DeviationSample,
    ExponentFit,
    N50Sweep,
    SuccessGrid,
    local_exponents,
)

#: the rate of the uniform deviation of the STE gradient
CONCENTRATION_EXPONENT = -0.5
#: Theorem 1's sufficient sample size grows like n^2
THEOREM1_EXPONENT = 2.0
#: the book's choice of the theorem's universal constants C' and C''
THEOREM1_CONSTANTS = (1.0, 1.0)
#: the union bound behind Theorem 1 allows the uniform deviation to grow like sqrt(n)
UNION_BOUND_N_EXPONENT = 0.5
#: fixed before the measurement: the log-log slope of N50 against |v|_1^2/|v|_2^2
#: counts as flat if it lies within +-0.2, a change of N50 by at most 128^0.2 = 2.6
#: over the whole range of the ratio, a tenth of the bound's slope 2
V_SHAPE_TOLERANCE = 0.2

BoundFunction = Callable[..., np.ndarray]


# ---- Step 1: uniform concentration ---------------------------------------------------
def _log_log_slope(x: np.ndarray, y: np.ndarray) -> float:
    return float(np.polyfit(np.log(x), np.log(y), 1)[0])


def deviation_slope(
    sample: DeviationSample, n_boot: int, seed: SeedLike
) -> tuple[float, float, np.ndarray]:
    """Log-log slope of the mean deviation against N, its bootstrap SE and samples.

    The bootstrap resamples whole replicates (rows), which keeps the nesting
    of the sample sizes within a replicate.
    """
    rng = generator(seed)
    reps = sample.deviations.shape[0]

    def slope(rows: np.ndarray) -> float:
        return _log_log_slope(sample.sample_sizes, rows.mean(axis=0))

    boot = np.array([slope(sample.deviations[rng.integers(0, reps, reps)]) for _ in range(n_boot)])
    return slope(sample.deviations), float(boot.std(ddof=1)), boot


def linf_concentration_claim(
    sample: DeviationSample, n_boot: int, seed: SeedLike, exponent: float = CONCENTRATION_EXPONENT
) -> Claim:
    """``ste.linf_concentration``: the uniform deviation decays like ``N^exponent``.

    ``|fitted - exponent| / SE`` is compared with Student's t on ``R - 1``
    degrees of freedom at the budget's level (the SE comes from R replicates).
    """
    fitted, se, boot = deviation_slope(sample, n_boot, seed)
    reps = sample.deviations.shape[0]
    threshold = stats.t_threshold(reps - 1)
    t = abs(fitted - exponent) / se
    low, high = np.percentile(boot, [2.5, 97.5])
    scaled = sample.deviations.mean(axis=0) * np.sqrt(sample.sample_sizes)
    return Claim(
        id="ste.linf_concentration",
        statement="max over all binary u of |g_N(u) - E g(u)|_inf shrinks like N^(-1/2)",
        passed=bool(t <= threshold),
        measured={
            "fitted exponent (95% CI)": f"{fitted:.3f} [{low:.3f}, {high:.3f}]",
            "|fitted - predicted| / SE": t,
            "sqrt(N) x mean deviation, smallest to largest N": (
                f"{scaled[0]:.2f} ... {scaled[-1]:.2f}"
            ),
        },
        expected={"exponent": exponent, "|fitted - predicted| / SE": f"<= {threshold:.3g}"},
        method=(
            f"all 2^{sample.n} binary u, m = {sample.m}, noise s = {sample.noise_std:g}; "
            f"{reps} independent training sets with nested N = "
            f"{', '.join(map(str, sample.sample_sizes))}; E g(u) from the SymPy-lambdified "
            f"statement; least squares in log-log, SE from {n_boot} bootstrap resamples "
            f"of the training sets, Student t with {reps - 1} dof at the error budget."
        ),
        seed=sample.seed,
        summary=f"exponent {fitted:.3f} (95% CI {low:.3f} to {high:.3f}) vs {exponent}",
        margin=stats.margin(t, threshold),
    )


def deviation_growth_slope(
    growth: DeviationGrowth, n_boot: int, seed: SeedLike
) -> tuple[float, float, np.ndarray]:
    """Log-log slope of the mean deviation against n at fixed N, its SE and samples.

    The columns (one per n) are independent, so the bootstrap resamples the
    replicates of every column separately.
    """
    rng = generator(seed)
    reps, columns = growth.deviations.shape

    def slope(values: np.ndarray) -> float:
        return _log_log_slope(growth.ns, values.mean(axis=0))

    picks = rng.integers(0, reps, (n_boot, reps, columns))
    boot = np.array([slope(np.take_along_axis(growth.deviations, p, axis=0)) for p in picks])
    return slope(growth.deviations), float(boot.std(ddof=1)), boot


def union_bound_slope(ns: np.ndarray) -> float:
    """Log-log slope over ``ns`` of ``sqrt(log(n 2^n))``, the union bound's growth."""
    ns = np.asarray(ns, dtype=float)
    return _log_log_slope(ns, np.sqrt(np.log(ns) + ns * np.log(2.0)))


def linf_n_growth_claim(
    growth: DeviationGrowth,
    n_boot: int,
    seed: SeedLike,
    max_exponent: float = UNION_BOUND_N_EXPONENT,
) -> Claim:
    """``ste.linf_n_growth``: at fixed N the uniform deviation grows no faster than n^(1/2).

    Fails when the lower end of the fitted n-exponent's budget-level interval
    (bootstrap SE over replicates, Student t on ``R - 1`` dof) exceeds
    ``max_exponent``.
    """
    fitted, se, boot = deviation_growth_slope(growth, n_boot, seed)
    reps = growth.deviations.shape[0]
    threshold = stats.t_threshold(reps - 1)
    lower, upper = fitted - threshold * se, fitted + threshold * se
    low, high = np.percentile(boot, [2.5, 97.5])
    return Claim(
        id="ste.linf_n_growth",
        statement=(
            "at fixed N the uniform deviation max_u |g_N(u) - E g(u)|_inf grows no faster "
            "in n than the sqrt(n) the union bound behind Theorem 1 allows"
        ),
        passed=bool(lower <= max_exponent),
        measured={
            "fitted n-exponent b in D ~ n^b (95% CI)": f"{fitted:.3f} [{low:.3f}, {high:.3f}]",
            "b's error-budget interval": f"[{lower:.3f}, {upper:.3f}]",
            "sqrt(log(n 2^n)): slope over the same n": union_bound_slope(growth.ns),
        },
        expected={"lower end of b's error-budget interval": f"<= {max_exponent:g}"},
        method=(
            f"all 2^n binary u for n = {', '.join(map(str, growth.ns))}, m = {growth.m}, "
            f"N = {growth.n_samples}, no noise; {reps} independent training sets per n; "
            "E g(u) from the SymPy-lambdified statement; least squares of log mean "
            f"deviation on log n; SE from {n_boot} bootstrap resamples of the training "
            f"sets of every n, Student t with {reps - 1} dof at the error budget."
        ),
        seed=growth.seed,
        summary=(
            f"b = {fitted:.3f} (95% CI {low:.3f} to {high:.3f}; budget interval "
            f"{lower:.2f} to {upper:.2f}), at most {max_exponent:g}"
        ),
        margin=stats.margin(lower, max_exponent, unit=""),
    )


# ---- Step 2: the bound's n^2 against N50(n) --------------------------------------------
def theorem1_bound(
    ns: np.ndarray,
    v: np.ndarray,
    noise_norm: float,
    constants: tuple[float, float] = THEOREM1_CONSTANTS,
    exponent: float = THEOREM1_EXPONENT,
) -> np.ndarray:
    """Theorem 1's sufficient N: ``(n (C'|v|_1^2 + C'' K |v|_1) / |v|_2^2)^2``.

    ``exponent`` replaces the square (for the tests' wrong predictions).
    """
    c1, c2 = constants
    l1, l2sq = np.abs(v).sum(), float(v @ v)
    return (np.asarray(ns, dtype=float) * (c1 * l1**2 + c2 * noise_norm * l1) / l2sq) ** exponent


def _n50_table(ns: np.ndarray, values: np.ndarray, digits: str = ".0f") -> str:
    return ", ".join(f"{n}: {value:{digits}}" for n, value in zip(ns, values, strict=True))


def phase_transition_claim(
    grid: SuccessGrid, fit: ExponentFit, v: np.ndarray, exponent: float = THEOREM1_EXPONENT
) -> Claim:
    """``ste.thm1_phase_transition``: N50 grows no faster than the bound's n^2.

    The bound is scaled through the first point (its constant calibrated so
    that it equals the upper end of N50's budget interval at the smallest
    n); at every larger n it must stay above the lower end of N50's budget
    interval. It fails when N50 grows faster than the bound's power of n.
    """
    k = fit.ns.size  # the calibration interval and one comparison per larger n
    low_budget, high_budget = fit.n50_budget_interval(k)
    shape = theorem1_bound(fit.ns, v, 0.0, (1.0, 0.0), exponent)
    calibrated = high_budget[0] * shape / shape[0]
    ratio = calibrated[1:] / low_budget[1:]
    c_prime = (calibrated[0] / shape[0]) ** (1 / exponent)
    local = local_exponents(fit)
    alpha_low, alpha_high = fit.alpha_interval(0.95)
    ranges = ", ".join(
        f"{a}-{b}: {s:.2f} [{lo:.2f}, {hi:.2f}]"
        for a, b, s, lo, hi in zip(
            local.n_low, local.n_high, local.slope, local.low, local.high, strict=True
        )
    )
    return Claim(
        id="ste.thm1_phase_transition",
        statement=(
            "the sample size N50 at which the ergodic estimate recovers w* half the time "
            "grows no faster than Theorem 1's n^2: the bound scaled through the smallest n "
            "stays above N50 at every larger n (m = 128, no noise)"
        ),
        passed=bool(np.all(ratio >= 1.0)),
        measured={
            "N50 by n": _n50_table(fit.ns, fit.n50),
            "calibrated bound / lower end of N50's budget interval, by n": _n50_table(
                fit.ns[1:], ratio, ".2f"
            ),
            "calibrated C'": float(c_prime),
            "alpha in N50 = c n^alpha over all n (95% CI)": (
                f"{fit.alpha:.2f} [{alpha_low:.2f}, {alpha_high:.2f}]"
            ),
            "local exponent by n-range (95% CI)": ranges,
        },
        expected={"calibrated bound / lower end of N50's interval": ">= 1 at every n"},
        method=(
            f"{grid.n_trials} trials per cell on an (n, N) grid with n = "
            f"{', '.join(map(str, grid.ns))} and {grid.sample_sizes.size} values of N "
            f"from {grid.sample_sizes[0]} to {grid.sample_sizes[-1]}; {grid.n_steps} "
            "steps from w0 = 0; N50 from a logistic fit in log N per n; budget intervals "
            f"log N50 +- {stats.z_threshold(k):.2f} SE (SE from "
            f"{fit.alpha_samples.size} binomial bootstrap resamples of every cell); bound "
            f"(n C'|v|_1^2/|v|_2^2)^{exponent:g} with C' the smallest that keeps it above "
            f"the upper end at n = {fit.ns[0]}."
        ),
        seed=grid.seed,
        summary=(
            f"calibrated n^{exponent:g} bound / N50 (lower end) from {ratio.min():.2f} to "
            f"{ratio.max():.2f}; alpha = {fit.alpha:.2f}; N50 {_n50_table(fit.ns, fit.n50)}"
        ),
        margin=stats.margin(float(ratio.min()), 1.0, unit="", passes_below=False),
    )


def smallest_constant(
    ns: np.ndarray, n50: np.ndarray, v: np.ndarray, bound: BoundFunction = theorem1_bound
) -> np.ndarray:
    """The smallest C' (with K = 0) for which the bound reaches ``n50`` at each n.

    For K = 0 the bound is ``C'^2`` times its value at C' = 1, so
    ``C'_min = sqrt(N50 / bound(n; C' = 1))``.
    """
    return np.sqrt(np.asarray(n50) / bound(ns, v, 0.0, (1.0, 0.0)))


def bound_vs_empirical_claim(
    fit: ExponentFit,
    v: np.ndarray,
    constants: tuple[float, float] = THEOREM1_CONSTANTS,
    bound: BoundFunction = theorem1_bound,
) -> Claim:
    """``ste.thm1_bound_vs_empirical``: the bound lies above N50, and C'_min does not grow.

    Two parts, both at the error budget: (a) the bound with the book's
    constants lies above the upper end of N50's budget interval at every n;
    (b) the log-log slope of ``C'_min(n)`` against n, whose lower budget end
    must not exceed 0 (a sufficient rate of n^2 means the constant needed
    does not grow with n).
    """
    k = fit.ns.size + 1
    z = stats.z_threshold(k)
    _, high_budget = fit.n50_budget_interval(k)
    values = bound(fit.ns, v, 0.0, constants)
    ratio = values / high_budget
    c_min = smallest_constant(fit.ns, high_budget, v, bound)
    point = _log_log_slope(fit.ns, smallest_constant(fit.ns, fit.n50, v, bound))
    draws = np.array(
        [
            _log_log_slope(fit.ns, smallest_constant(fit.ns, row, v, bound))
            for row in fit.n50_samples
        ]
    )
    se = float(draws.std(ddof=1))
    lower = point - z * se
    passed = bool(np.all(ratio > 1.0) and lower <= 0.0)
    return Claim(
        id="ste.thm1_bound_vs_empirical",
        statement=(
            "Theorem 1's sufficient sample size (C' = C'' = 1) lies above N50 at every n, "
            "and the smallest C' for which it does, C'_min(n), does not grow with n"
        ),
        passed=passed,
        measured={
            "bound / upper end of N50's budget interval, smallest to largest": (
                f"{ratio.min():.3g} ... {ratio.max():.3g}"
            ),
            "C'_min by n": _n50_table(fit.ns, c_min, ".2g"),
            "slope of log C'_min on log n": point,
            "its error-budget interval": f"[{lower:.3f}, {point + z * se:.3f}]",
        },
        expected={
            "bound / upper end of N50's interval": "> 1 at every n",
            "lower end of the slope's budget interval": "<= 0",
        },
        method=(
            f"bound (n (C'|v|_1^2 + C'' K |v|_1)/|v|_2^2)^2 with C' = {constants[0]:g}, "
            f"C'' = {constants[1]:g}, K = 0, v = 1/sqrt(m), m = {v.size}; N50 from the "
            f"phase-transition grid, budget intervals log N50 +- {z:.2f} SE; C'_min(n) = "
            "sqrt(N50_high(n) / bound(n; C' = 1)); slope by least squares on the point "
            f"N50, SE from {fit.n50_samples.shape[0]} binomial bootstrap resamples."
        ),
        summary=(
            f"bound / N50 from {ratio.min():.3g} to {ratio.max():.3g}; C'_min from "
            f"{c_min[0]:.2g} (n = {fit.ns[0]}) to {c_min[-1]:.2g} (n = {fit.ns[-1]}), "
            f"slope {point:.2f} (budget interval from {lower:.2f})"
        ),
        margin=(
            f"smallest bound / N50 {ratio.min():.3g} (fails below 1); slope's lower end "
            + stats.margin(lower, 0.0, unit="")
        ),
    )


# ---- Step 3: what N50 depends on -------------------------------------------------------
def _log_ratio_se(samples: np.ndarray, i: int, j: int) -> float:
    """Bootstrap SE of ``log N50_i - log N50_j`` from samples of shape (B, V)."""
    return float(np.std(np.log(samples[:, i]) - np.log(samples[:, j]), ddof=1))


def v_shape_claim(
    vs: Sequence[np.ndarray],
    sweep: N50Sweep,
    n: int,
    tolerance: float = V_SHAPE_TOLERANCE,
) -> Claim:
    """``ste.thm1_v_shape`` (finding): N50 does not move with ``|v|_1^2/|v|_2^2``.

    Equivalence within the tolerance fixed in advance: both ends of the
    budget-level interval of the log-log slope of N50 against the ratio lie
    in ``[-tolerance, tolerance]``. The bound's slope, from
    :func:`theorem1_bound` on the same vectors, is reported beside it.
    """
    ratios = np.array([np.abs(v).sum() ** 2 / float(v @ v) for v in vs])
    point = _log_log_slope(ratios, sweep.n50)
    draws = np.array([_log_log_slope(ratios, row) for row in sweep.samples])
    z = stats.z_threshold(1)
    se = float(draws.std(ddof=1))
    lower, upper = point - z * se, point + z * se
    low, high = np.percentile(draws, [2.5, 97.5])
    bounds = np.array([theorem1_bound([n], v, 0.0)[0] for v in vs])
    bound_slope = _log_log_slope(ratios, bounds)
    return Claim(
        id="ste.thm1_v_shape",
        kind="finding",
        statement=(
            f"at n = {n} and fixed |v|_2, N50 does not move with |v|_1^2/|v|_2^2: its "
            f"log-log slope lies within +-{tolerance:g}, far below the bound's "
            f"{bound_slope:.0f}"
        ),
        passed=bool(-tolerance <= lower and upper <= tolerance),
        measured={
            "N50 by |v|_1^2/|v|_2^2": _n50_table(np.round(ratios, 3), sweep.n50),
            "log-log slope (95% CI)": f"{point:.3f} [{low:.3f}, {high:.3f}]",
            "its error-budget interval": f"[{lower:.3f}, {upper:.3f}]",
            "the bound's slope": bound_slope,
        },
        expected={"slope's error-budget interval": f"inside [-{tolerance:g}, {tolerance:g}]"},
        method=(
            f"v_i proportional to i^-p at |v|_2 = 1, m = {vs[0].size}, no noise; "
            f"{sweep.rows[0].n_trials} trials per cell, {sweep.rows[0].n_steps} steps; N50 "
            "by a logistic fit in log N; slope by least squares in log-log; SE from "
            f"{sweep.samples.shape[0]} binomial bootstrap resamples, budget interval at "
            f"{z:.2f} SE; tolerance fixed before the run."
        ),
        seed=sweep.rows[0].seed,
        summary=(
            f"slope {point:.3f} (budget interval {lower:.2f} to {upper:.2f}) within "
            f"+-{tolerance:g}; bound's slope {bound_slope:.0f}"
        ),
        margin=stats.margin(max(-lower, upper), tolerance, unit=""),
    )


def noise_growth_claim(levels: Sequence[float], sweep: N50Sweep, v: np.ndarray, n: int) -> Claim:
    """``ste.thm1_noise_growth`` (finding): N50 increases from each noise level to the next.

    Every increase ``log N50(s_i) - log N50(s_{i-1})`` must be positive at the
    budget's level (bootstrap SE, normal quantile, one comparison per step).
    The ratio ``N50(s)/N50(0)`` is reported with 95 % intervals, beside the
    ratio the bound predicts with C' = C'' = 1 and K = s.
    """
    levels = np.asarray(levels, dtype=float)
    if levels.size < 2 or levels[0] != 0 or np.any(np.diff(levels) <= 0):
        raise ValueError(f"levels must start at 0 and increase, got {levels}")
    steps = levels.size - 1
    z = stats.z_threshold(steps)
    log_n50 = np.log(sweep.n50)
    increase = np.diff(log_n50)
    se = np.array([_log_ratio_se(sweep.samples, i + 1, i) for i in range(steps)])
    scores = increase / se
    ratio = sweep.n50[1:] / sweep.n50[0]
    ratio_draws = sweep.samples[:, 1:] / sweep.samples[:, :1]
    low, high = np.percentile(ratio_draws, [2.5, 97.5], axis=0)
    predicted = np.array([theorem1_bound([n], v, s)[0] for s in levels[1:]]) / theorem1_bound(
        [n], v, 0.0
    )
    ratios = ", ".join(
        f"s={s:g}: {r:.2f} [{lo:.2f}, {hi:.2f}]"
        for s, r, lo, hi in zip(levels[1:], ratio, low, high, strict=True)
    )
    return Claim(
        id="ste.thm1_noise_growth",
        kind="finding",
        statement=(
            f"at n = {n}, N50 grows with the label-noise level s, as the bound predicts: "
            "it increases from each level to the next"
        ),
        passed=bool(np.all(scores >= z)),
        measured={
            "N50(s) / N50(0) (95% CI)": ratios,
            "increase of log N50 per step / SE, smallest": float(scores.min()),
            "the bound's ratio (C' = C'' = 1, K = s)": _n50_table(levels[1:], predicted, ".3f"),
        },
        expected={"increase / SE at every step": f">= {z:.3g}"},
        method=(
            f"noise N(0, s^2) with s = {', '.join(f'{s:g}' for s in levels)}; m = "
            f"{v.size}, v = 1/sqrt(m); {sweep.rows[0].n_trials} trials per cell, "
            f"{sweep.rows[0].n_steps} steps; SE of the log N50 differences from "
            f"{sweep.samples.shape[0]} binomial bootstrap resamples; normal quantile for "
            f"{steps} comparisons."
        ),
        seed=sweep.rows[0].seed,
        summary=f"N50(s)/N50(0): {ratios}",
        margin=stats.margin(float(scores.min()), z, passes_below=False),
    )
