"""Claims of the Theorem 1 chapter (finite-sample STE).

Each function compares measurements (from :mod:`quantheory.ste.sample_complexity`)
with a stated prediction passed as an argument, so that a deliberately wrong
prediction makes the claim fail; the tests do that. Every pass/fail decision
uses an interval at the error budget's level (:mod:`quantheory.stats`):

* fits over few independent replicates (the deviation experiments) use the
  bootstrap SE over replicates with Student's t on ``R - 1`` degrees of freedom;
* N50 uses its profile-likelihood interval at the budget's level
  (:class:`~quantheory.ste.sample_complexity.N50Profile`), one comparison per
  N50 of a claim so that all of them hold together; anything computed from
  several N50 (a slope, a ratio) takes the worst ends of their intervals, which
  keeps the level without assumptions. A row that never crosses 50 % success
  (censored N50) fails its claim with that reason.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from quantheory import stats
from quantheory.claims import Claim
from quantheory.scale import current_scale
from quantheory.seeding import SeedLike, generator
from quantheory.ste.sample_complexity import (
    DeviationGrowth,
    DeviationSample,
    ExponentFit,
    N50Sweep,
    StoragePairing,
    SuccessGrid,
    local_exponents,
    logistic_slope,
)

#: the rate of the uniform deviation of the STE gradient
CONCENTRATION_EXPONENT = -0.5
#: Theorem 1's sufficient sample size grows like n^2
THEOREM1_EXPONENT = 2.0
#: the book's choice of the theorem's universal constants C' and C''
THEOREM1_CONSTANTS = (1.0, 1.0)
#: fixed after seeing data (see the chapter): at every noise level s > 0 the lower end
#: of N50(s)/N50(0)'s budget interval must exceed this multiple of the bound's own ratio
NOISE_BOUND_FACTOR = 1.1
#: fixed after seeing data (see the chapter): its upper end must stay below 1 + c s^2
#: with this c (an envelope, not a claimed shape: the data cannot tell s^2 from s)
NOISE_UPPER_COEFFICIENT = 20.0
#: fixed before the first paired run (a hypothesis of the sweeps, checked with
#: ``ste.thm1_phase_transition``): storing the inputs in float32 instead of float64 may
#: change the success decision of at most this fraction of the trials of a cell near N50
#: (a trial counts if its ergodic or its last-iterate decision differs). What it bounds:
#: a mismatch rate r moves every cell's success rate by at most r, so it moves the
#: crossing of a logistic success curve with slope b in log N (rising b/4 per unit of
#: log N at 1/2) by at most about 4 r / b in log N50; the claim reports that shift at
#: the tolerance and the fitted slope of the check's row, against the width in log of
#: that row's N50 budget interval (the shift must be the smaller for the tolerance to
#: be harmless; see :func:`storage_shift`)
STORAGE_MISMATCH_TOLERANCE = 0.10
#: fixed before any large-scale run: the n-range on which the large scale (n to 400)
#: tests the local exponent of N50 (part (d) of ``ste.thm1_phase_transition``). Its
#: log-range is twice that of 100 -> 200, whose budget interval (about 0.4 to 2.0 at
#: full scale) could not tell n^1.5 from n^2
EXPONENT_TEST_RANGE = (100, 400)
#: the exponents that range is to tell apart: the book's measurement below n = 100 and
#: the paper's summary (reported: which of them the exponent's budget interval excludes)
EXPONENT_CANDIDATES = (1.5, 2.0)
#: history, recorded at commit 75116f5: how the noise finding fared under other master
#: seeds, at full scale, without retuning (after the trials' seeds moved to their own
#: branch)
NOISE_SEED_RECORD = (
    "fragile at 32 trials a cell (full scale, master seeds 0 to 3 run without retuning: "
    "failed under seed 3, the lower end of the interval at s = 0.5 0.02 in log below "
    "1.1 x the bound's ratio); given 96 trials a cell after that failure, band unchanged, "
    "it passed under master seeds 0 to 7 at full scale (4 to 7 fresh), with 0.31 to 0.43 "
    "in log to spare at the lower end"
)
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


def coordinate_max_slope(ns: np.ndarray) -> float:
    """Log-log slope over ``ns`` of ``sqrt(log n)``: a maximum over the n coordinates alone."""
    ns = np.asarray(ns, dtype=float)
    return _log_log_slope(ns, np.sqrt(np.log(ns)))


def linf_n_growth_claim(growth: DeviationGrowth, n_boot: int, seed: SeedLike) -> Claim:
    """``ste.linf_n_growth`` (finding): the deviation grows with n, slower than n.

    Two-sided: the budget-level interval ``[lo, hi]`` of the fitted n-exponent
    ``b`` in ``D ~ n^b`` (bootstrap SE over replicates, Student t on ``R - 1``
    dof) must exclude 0 (no growth) and 1, and contain the union bound's slope
    over the same n, the slope of ``sqrt(log(n 2^n))`` (about 0.43 for n from
    4 to 14, tending to 1/2). The claim lists which of 0, ``sqrt(log n)``'s
    slope (growth from the maximum over the n coordinates alone), the union
    bound's slope, 1/2 and 1 the interval contains; when it contains both
    ``sqrt(log n)``'s and the union bound's slope, the statement says the data
    cannot separate them.
    """
    fitted, se, boot = deviation_growth_slope(growth, n_boot, seed)
    reps = growth.deviations.shape[0]
    threshold = stats.t_threshold(reps - 1)
    lower, upper = fitted - threshold * se, fitted + threshold * se
    low, high = np.percentile(boot, [2.5, 97.5])
    union = union_bound_slope(growth.ns)
    coordinate = coordinate_max_slope(growth.ns)
    candidates = {
        "0 (no growth)": 0.0,
        "sqrt(log n) (coordinates alone)": coordinate,
        "union bound": union,
        "1/2": 0.5,
        "1": 1.0,
    }
    supported = [name for name, b in candidates.items() if lower <= b <= upper]
    passed = bool(lower <= union <= upper and lower > 0.0 and upper < 1.0)
    spare = min(union - lower, upper - union, lower, 1.0 - upper)
    separated = not lower <= coordinate <= upper
    verdict = (
        "excludes growth over the coordinates alone"
        if separated
        else "cannot separate it from growth over the n coordinates alone at these n"
    )
    return Claim(
        id="ste.linf_n_growth",
        kind="finding",
        statement=(
            "at fixed N the uniform deviation max_u |g_N(u) - E g(u)|_inf grows with n, "
            f"like n^b with b in [{lower:.2f}, {upper:.2f}] (0 and 1 excluded); this "
            f"supports the union bound's sqrt(log(n 2^n)) ~ sqrt(n), but {verdict} "
            "(sqrt(log n))"
        ),
        passed=passed,
        measured={
            "fitted n-exponent b in D ~ n^b (95% CI)": f"{fitted:.3f} [{low:.3f}, {high:.3f}]",
            "b's error-budget interval": f"[{lower:.3f}, {upper:.3f}]",
            "slopes inside it": ", ".join(supported) or "none of the candidates",
        },
        expected={
            "union bound's slope over the same n (inside the interval)": f"{union:.3f}",
            "0 and 1 (outside the interval)": "below the lower end, above the upper end",
            "sqrt(log n)'s slope (reported)": f"{coordinate:.3f}",
        },
        method=(
            f"all 2^n binary u for n = {', '.join(map(str, growth.ns))}, m = {growth.m}, "
            f"N = {growth.n_samples}, no noise; {reps} independent training sets per n; "
            "E g(u) from the SymPy-lambdified statement; least squares of log mean "
            f"deviation on log n; SE from {n_boot} bootstrap resamples of the training "
            f"sets of every n, Student t with {reps - 1} dof at the error budget."
        ),
        seed=growth.seed,
        summary=(
            f"b = {fitted:.3f} (budget interval {lower:.2f} to {upper:.2f}) against the "
            f"union bound's {union:.2f} and sqrt(log n)'s {coordinate:.2f}; inside: "
            f"{', '.join(supported) or 'none'}"
        ),
        margin=(
            f"{spare:.3g} from the nearest end (union bound's slope {union:.2f} in "
            f"[{lower:.2f}, {upper:.2f}], 0 below it, 1 above it)"
        ),
    )


# ---- Step 2: the theorem's bound, written from its statement -----------------------
def theorem1_bound(
    ns: np.ndarray,
    v: np.ndarray,
    noise_norm: float,
    constants: tuple[float, float] = THEOREM1_CONSTANTS,
    exponent: float = THEOREM1_EXPONENT,
) -> np.ndarray:
    """Theorem 1's sufficient N: ``(n (C'|v|_1^2 + C'' K |v|_1) / |v|_2^2)^2``.

    The informal statement has no logarithmic factor. ``exponent`` replaces
    the square (for the tests' wrong bounds).
    """
    c1, c2 = constants
    l1, l2sq = np.abs(v).sum(), float(v @ v)
    return (np.asarray(ns, dtype=float) * (c1 * l1**2 + c2 * noise_norm * l1) / l2sq) ** exponent


def _n50_table(ns: np.ndarray, values: np.ndarray, digits: str = ".0f") -> str:
    return ", ".join(f"{n}: {value:{digits}}" for n, value in zip(ns, values, strict=True))


def _interval_table(ns: np.ndarray, low: np.ndarray, high: np.ndarray, digits: str) -> str:
    return ", ".join(
        f"{n}: [{lo:{digits}}, {hi:{digits}}]" for n, lo, hi in zip(ns, low, high, strict=True)
    )


def _censored_reason(ns: np.ndarray, fit: ExponentFit, sizes: np.ndarray) -> str:
    rows = [str(n) for n, c in zip(ns, fit.censored, strict=True) if c]
    if not rows:
        return ""
    return (
        f"N50 censored at n = {', '.join(rows)}: the success rate never crosses 1/2 "
        f"for N from {sizes[0]} to {sizes[-1]}"
    )


def phase_transition_comparisons(fit: ExponentFit) -> int:
    """Tests inside ``ste.thm1_phase_transition``: one per row's N50, one for the storage."""
    return fit.ns.size + 1


def storage_test_end(trials: int, n_comparisons: int, tolerance: float) -> str:
    """Which end of the mismatch rate's budget interval part (c) compares with ``tolerance``.

    ``"upper"`` (the rate must be *shown* below the tolerance) if the design
    can pass that test, i.e. if 0 mismatches of ``trials`` give an upper end
    at most ``tolerance``; otherwise ``"lower"`` (the claim fails only if the
    rate is shown *above* it). A property of the design, not of the data.
    """
    _, high = stats.budget_wilson_interval(0, trials, n_comparisons)
    return "upper" if float(high) <= tolerance else "lower"


def storage_check(
    storage: StoragePairing, n_comparisons: int, tolerance: float = STORAGE_MISMATCH_TOLERANCE
) -> dict:
    """The paired float32/float64 mismatch rate with its 95 % and budget Wilson intervals.

    The rate counts the trials whose ergodic or last-iterate decision
    differs (:attr:`StoragePairing.any_mismatches`); ``end`` is the end
    tested (:func:`storage_test_end`) and ``passed`` its verdict.
    """
    trials = storage.cell.n_trials
    count = storage.any_mismatches
    low95, high95 = stats.wilson_interval(count, trials)
    low, high = stats.budget_wilson_interval(count, trials, n_comparisons)
    end = storage_test_end(trials, n_comparisons, tolerance)
    tested = float(high) if end == "upper" else float(low)
    return {
        "rate": count / trials,
        "low95": float(low95),
        "high95": float(high95),
        "low": float(low),
        "high": float(high),
        "end": end,
        "tested": tested,
        "passed": tested <= tolerance,
    }


def storage_shift(
    grid: SuccessGrid, fit: ExponentFit, n: int, n_comparisons: int, tolerance: float
) -> tuple[float, float, float] | None:
    """How far a mismatch rate ``tolerance`` could move log N50 at row ``n`` of ``grid``.

    Returns (b, shift, width): the row's fitted logistic slope b in log N,
    the shift ``4 tolerance / b`` of log N50 that moving every cell's rate by
    ``tolerance`` allows (to first order), and the width in log of the row's
    N50 budget interval; None if ``n`` is not a row of the grid.
    """
    ns = list(fit.ns)
    if n not in ns:
        return None
    row = ns.index(n)
    b = logistic_slope(grid.sample_sizes, grid.ergodic[row], grid.n_trials)
    low, high = fit.n50_budget_interval(n_comparisons)
    return b, 4.0 * tolerance / b, float(np.log(high[row] / low[row]))


def range_exponent(
    fit: ExponentFit,
    low: np.ndarray,
    high: np.ndarray,
    n_range: tuple[int, int] = EXPONENT_TEST_RANGE,
) -> tuple[float, float, float] | None:
    """The exponent of N50 between the two n of ``n_range``, with the interval its ends give.

    ``low`` and ``high`` (shape (I,)) are N50 intervals that hold together
    (the claim's), so the slope's interval, from their worst ends, holds with
    them. Returns (slope, low, high), or None if an end of ``n_range`` is not
    a row of the grid.
    """
    ns = list(fit.ns)
    if not all(n in ns for n in n_range):
        return None
    a, b = (ns.index(n) for n in n_range)
    span = np.log(n_range[1] / n_range[0])
    with np.errstate(divide="ignore"):
        slope = np.log(fit.n50[b] / fit.n50[a]) / span
        return (
            float(slope),
            float(np.log(low[b] / high[a]) / span),
            float(np.log(high[b] / low[a]) / span),
        )


def _range_text(exponent: tuple[float, float, float] | None) -> str:
    first, last = EXPONENT_TEST_RANGE
    if exponent is None:
        return f"not tested: n = {first} and {last} are not both rows of this grid (large only)"
    slope, low, high = exponent
    excluded = ", ".join(
        f"{c:g}: {'yes' if not low <= c <= high else 'no'}" for c in EXPONENT_CANDIDATES
    )
    return f"{slope:.2f} (budget interval {low:.2f} to {high:.2f}); excludes {excluded}"


def _storage_text(storage: StoragePairing, check: dict, tolerance: float) -> str:
    cell = storage.cell
    if check["end"] == "upper":
        test = f"shown below the tolerance {tolerance:g} (upper end): "
    else:
        test = (
            f"too few pairs to show it below {tolerance:g}; tested only that it is not "
            "shown above (lower end), which catches only a large rate: "
        )
    return (
        f"{storage.any_mismatches} of {cell.n_trials} trials (n = {cell.n}, N = "
        f"{cell.n_samples}) decide differently with float32 and float64 inputs "
        f"({storage.mismatches} ergodic, {storage.last_mismatches} last iterate): rate "
        f"{check['rate']:.3f} (95% Wilson [{check['low95']:.3f}, {check['high95']:.3f}]; "
        f"budget [{check['low']:.3f}, {check['high']:.3f}]); {test}"
        f"{'yes' if check['passed'] else 'NO'}"
    )


def _shift_text(shift: tuple[float, float, float] | None, n: int, tolerance: float) -> str:
    if shift is None:
        return f"n = {n} is not a row of this grid"
    b, moved, width = shift
    return (
        f"logistic slope {b:.2f} in log N at n = {n}: a mismatch rate {tolerance:g} moves "
        f"log N50 by at most about {moved:.3f}, against the width {width:.3f} of its "
        "budget interval"
    )


def phase_transition_claim(
    grid: SuccessGrid,
    fit: ExponentFit,
    v: np.ndarray,
    *,
    storage: StoragePairing,
    exponent: float = THEOREM1_EXPONENT,
    tolerance: float = STORAGE_MISMATCH_TOLERANCE,
) -> Claim:
    """``ste.thm1_phase_transition``: N50 grows with n, and no faster than the bound's n^2.

    With every row's N50 inside its profile-likelihood interval at the
    budget's level (one comparison per row and one for (c), so all hold
    together):

    (a) the bound, calibrated on the *upper* end of N50's interval at the
        smallest n, stays above the *lower* end of N50's interval at every
        larger n; it fails if N50 grows faster than the bound's power of n;
    (b) the lower end of N50's interval at the largest n lies above the
        upper end at the smallest n: the transition moves with n;
    (c) the grid's hypothesis that float32 storage changes few decisions:
        with enough pairs (:func:`storage_test_end`; the full scale's 512)
        the upper end of the budget interval of the paired mismatch rate
        (``storage``, a cell near N50; a trial counts if its ergodic or its
        last-iterate decision differs) must be at most ``tolerance``; with
        too few for that (the quick scale's 64) the claim fails only if the
        lower end lies above it. The shift of log N50 the tolerance allows
        is reported (:func:`storage_shift`);
    (d) on a grid with the rows of :data:`EXPONENT_TEST_RANGE` (the large
        scale), the exponent of N50 between them is not shown above the
        bound's: the lower end of its interval (from the two N50 intervals)
        stays at most ``exponent``. Which of :data:`EXPONENT_CANDIDATES` its
        interval excludes is reported, not tested. At the large scale a grid
        without those rows is a ``ValueError``.

    A row whose success never crosses 1/2 (censored N50), or an unbounded
    upper end at the smallest n, fails the claim with that reason.
    """
    k = fit.ns.size
    comparisons = phase_transition_comparisons(fit)
    low, high = fit.n50_budget_interval(comparisons)
    shape = theorem1_bound(fit.ns, v, 0.0, (1.0, 0.0), exponent)
    reasons = [_censored_reason(fit.ns, fit, grid.sample_sizes)]
    if not np.isfinite(high[0]):
        reasons.append(f"N50's interval at n = {fit.ns[0]} has no upper end inside the grid")
    with np.errstate(divide="ignore", invalid="ignore"):
        calibrated = high[0] * shape / shape[0]
        ratio = calibrated[1:] / low[1:]
        growth = low[-1] / high[0]
    reasons = [r for r in reasons if r]
    passed_a = bool(np.all(ratio >= 1.0))
    passed_b = bool(growth > 1.0)
    check = storage_check(storage, comparisons, tolerance)
    passed_c = bool(check["passed"])
    shift = storage_shift(grid, fit, storage.cell.n, comparisons, tolerance)
    by_range = range_exponent(fit, low, high)
    if by_range is None and current_scale() == "large":
        raise ValueError(
            "at the large scale the grid must have the rows n = {} and {} (part (d)); "
            "its rows are {}".format(*EXPONENT_TEST_RANGE, list(fit.ns))
        )
    passed_d = by_range is None or bool(by_range[1] <= exponent)
    passed = bool(not reasons and passed_a and passed_b and passed_c and passed_d)
    local = local_exponents(fit)
    ranges = ", ".join(
        f"{a}-{b}: {s:.2f} [{lo:.2f}, {hi:.2f}]"
        for a, b, s, lo, hi in zip(
            local.n_low, local.n_high, local.slope, local.budget_low, local.budget_high, strict=True
        )
    )
    c_calibrated = high[0] / shape[0]
    power = smallest_accepted_exponent(fit.ns, low, high)
    return Claim(
        id="ste.thm1_phase_transition",
        statement=(
            "the sample size N50 at which the ergodic estimate recovers w* half the time "
            "grows with n and no faster than Theorem 1's n^2: the bound calibrated at the "
            "smallest n stays above N50 at every larger n (m = 128, no noise)"
        ),
        passed=passed,
        measured={
            "N50 by n (maximum likelihood)": _n50_table(fit.ns, fit.n50),
            "N50's budget interval by n": _interval_table(fit.ns, low, high, ".0f"),
            "(a) calibrated bound / lower end of N50's interval, by n": _n50_table(
                fit.ns[1:], ratio, ".2f"
            ),
            "(b) lower end at the largest n / upper end at the smallest": f"{growth:.2f}",
            "(c) float32 against float64 storage, paired": _storage_text(storage, check, tolerance),
            "(c) what the tolerance allows": _shift_text(shift, storage.cell.n, tolerance),
            "(d) exponent from n = {} to {}".format(*EXPONENT_TEST_RANGE): _range_text(by_range),
            "local exponent by n-range (budget interval)": ranges,
            "one power law over all n (for reading)": f"alpha = {fit.alpha:.2f}",
            "(a)'s power: smallest bound exponent it accepts": f"{power:.2f}",
            "reason for failure": "; ".join(reasons) or "none",
        },
        expected={
            "(a) calibrated bound / lower end of N50's interval": ">= 1 at every larger n",
            "(b) lower end at the largest n / upper end at the smallest": "> 1",
            f"(c) {check['end']} end of the mismatch rate's budget interval": f"<= {tolerance:g}",
            "(d) lower end of the exponent's interval (large scale only)": f"<= {exponent:g}",
            "every row": "crosses 1/2 inside the grid",
        },
        method=(
            f"{grid.n_trials} trials per cell on an (n, N) grid with n = "
            f"{', '.join(map(str, grid.ns))} and {grid.sample_sizes.size} values of N "
            f"from {grid.sample_sizes[0]} to {grid.sample_sizes[-1]} (the range fixed in "
            f"advance from n); {grid.n_steps} steps from w0 = 0; inputs stored in float32 "
            "(every sum in float64); N50 by maximum likelihood of a logistic curve in log N "
            "per n; intervals from the profile likelihood at the error budget, one "
            f"comparison per n ({k}) and one for (c); bound "
            f"(n C'|v|_1^2/|v|_2^2)^{exponent:g} with C'^{exponent:g} = "
            f"{c_calibrated:.3g} set by the upper end at n = {fit.ns[0]}. (c) runs "
            f"{storage.cell.n_trials} other trials at n = {storage.cell.n}, N = "
            f"{storage.cell.n_samples} twice from the same seeds, inputs stored in float32 "
            "and in float64, and counts the trials whose ergodic or last-iterate decision "
            f"differs; tolerance {tolerance:g} fixed before its first run; tested on the "
            f"{check['end']} end of the budget interval (the upper end whenever 0 "
            "mismatches could pass it; that direction was chosen after a review, once 0 "
            "mismatches had been seen under the lower-end test: it only makes passing "
            "harder)."
        ),
        seed=grid.seed,
        summary=(
            f"(a) calibrated n^{exponent:g} bound / N50 (lower end) from {np.nanmin(ratio):.2f} "
            f"to {np.nanmax(ratio):.2f}; (b) growth {growth:.2f}; (c) float32/float64 "
            f"decisions differ in {storage.any_mismatches}/{storage.cell.n_trials}; N50 "
            f"{_n50_table(fit.ns, fit.n50)}" + (f"; {'; '.join(reasons)}" if reasons else "")
        ),
        margin=(
            f"(a) {stats.margin(float(np.nanmin(ratio)), 1.0, unit='', passes_below=False)}; "
            f"(b) {stats.margin(float(growth), 1.0, unit='', passes_below=False)}; "
            f"(c) {check['end']} end {stats.margin(check['tested'], tolerance, unit='')}; "
            + (f"(d) {stats.margin(by_range[1], exponent, unit='')}; " if by_range else "")
            + f"(a) accepts a bound n^e for every e >= {power:.2f}"
        ),
    )


def smallest_accepted_exponent(ns: np.ndarray, low: np.ndarray, high: np.ndarray) -> float:
    """The smallest e for which part (a) accepts a bound growing like ``n^e``.

    Part (a) accepts ``n^e`` when ``high[0] (n_i/n_0)^e >= low[i]`` at every
    larger n, i.e. ``e >= log(low[i]/high[0]) / log(n_i/n_0)``; the claim's
    power against a bound that grows too slowly. ``ns`` increasing, shapes (I,).
    """
    ns = np.asarray(ns, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        needed = np.log(np.asarray(low[1:]) / high[0]) / np.log(ns[1:] / ns[0])
    return float(np.max(needed))


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
    """``ste.thm1_bound_vs_empirical`` (finding): how the constant the bound needs moves with n.

    ``C'(n)``, the smallest C' for which Theorem 1's bound (K = 0) covers N50
    at n, gets the interval that N50's budget interval gives it (one
    comparison per row for the table; the decision uses only the smallest and
    largest n, so its two N50 take one comparison each). Finding, two-sided:
    from the smallest to the largest n, ``C'`` falls, but by less than
    ``(n_min/n_max)^(1/2)``: the budget interval of ``C'(n_max)/C'(n_min)``
    lies strictly inside ``((n_min/n_max)^(1/2), 1)``. (The bound's n^2 is
    loose in n, and N50 grows faster than n.) The ratio of the bound with the
    book's constants to N50 is reported, not tested.
    """
    k = fit.ns.size
    low, high = fit.n50_budget_interval(k)
    reason = _censored_reason(fit.ns, fit, fit.profile.sample_sizes)
    c_low = smallest_constant(fit.ns, low, v, bound)
    c_high = smallest_constant(fit.ns, high, v, bound)
    c_point = smallest_constant(fit.ns, fit.n50, v, bound)
    # the decision uses two N50 (smallest and largest n): two comparisons
    ends_low, ends_high = fit.n50_budget_interval(2)
    c_ends_low = smallest_constant(fit.ns, ends_low, v, bound)
    c_ends_high = smallest_constant(fit.ns, ends_high, v, bound)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio_low = c_ends_low[-1] / c_ends_high[0]
        ratio_high = c_ends_high[-1] / c_ends_low[0]
    floor = float(np.sqrt(fit.ns[0] / fit.ns[-1]))
    passed = bool(not reason and floor < ratio_low and ratio_high < 1.0)
    slack = bound(fit.ns, v, 0.0, constants) / fit.n50
    with np.errstate(divide="ignore"):
        spare = min(np.log(ratio_low / floor), -np.log(ratio_high))
    return Claim(
        id="ste.thm1_bound_vs_empirical",
        kind="finding",
        statement=(
            "the smallest constant C'(n) with which Theorem 1's bound covers N50 falls with "
            f"n, but more slowly than n^(-1/2): from n = {fit.ns[0]} to {fit.ns[-1]} N50 "
            "grows faster than n and slower than n^2"
        ),
        passed=passed,
        measured={
            "C'(n) (maximum likelihood)": _n50_table(fit.ns, c_point, ".2e"),
            f"C'(n) budget interval ({k} comparisons, for reading)": _interval_table(
                fit.ns, c_low, c_high, ".2e"
            ),
            "C'(n_max) / C'(n_min), budget interval (2 comparisons)": (
                f"[{ratio_low:.3f}, {ratio_high:.3f}]"
            ),
            "bound with C' = C'' = 1 / N50 (reported, not tested)": (
                f"{np.nanmin(slack):.3g} ... {np.nanmax(slack):.3g}"
            ),
            "reason for failure": reason or "none",
        },
        expected={
            "C'(n_max) / C'(n_min), budget interval (2 comparisons)": (f"inside ({floor:.3f}, 1)"),
        },
        method=(
            f"bound (n (C'|v|_1^2 + C'' K |v|_1)/|v|_2^2)^2 from the theorem's statement, K = "
            f"0, v = 1/sqrt(m), m = {v.size}, so C'(n) = sqrt(N50(n) / bound(n; C' = 1)); N50 "
            "and its profile-likelihood interval at the error budget from the phase-transition "
            "grid; the ratio's interval takes the worst ends of the two N50 it uses (smallest "
            "and largest n, one comparison each); the band (1, 2) for N50's growth was set "
            "knowing alpha ~ 1.5 from earlier runs."
        ),
        summary=(
            f"C'(n) from {c_point[0]:.2g} (n = {fit.ns[0]}) to {c_point[-1]:.2g} (n = "
            f"{fit.ns[-1]}); C'(n_max)/C'(n_min) in [{ratio_low:.2f}, {ratio_high:.2f}] "
            f"inside ({floor:.2f}, 1); bound / N50 {np.nanmin(slack):.3g} to "
            f"{np.nanmax(slack):.3g}"
        ),
        margin=(
            f"{spare:.3g} in log from the nearer end of ({floor:.3f}, 1)"
            + (f"; {reason}" if reason else "")
        ),
    )


# ---- Step 3: what N50 depends on -------------------------------------------------------
def _least_squares_bounds(x: np.ndarray, low: np.ndarray, high: np.ndarray) -> tuple[float, float]:
    """Range of the least-squares slope of ``y`` on ``x`` when each ``y_i`` is in its interval."""
    weights = (x - x.mean()) / np.sum((x - x.mean()) ** 2)
    lower = np.sum(np.where(weights > 0, weights * low, weights * high))
    upper = np.sum(np.where(weights > 0, weights * high, weights * low))
    return float(lower), float(upper)


def v_shape_claim(
    vs: Sequence[np.ndarray],
    sweep: N50Sweep,
    n: int,
    tolerance: float = V_SHAPE_TOLERANCE,
) -> Claim:
    """``ste.thm1_v_shape`` (finding): N50 does not move with ``|v|_1^2/|v|_2^2``.

    First, every row of the sweep must have been run with its own v: the
    ``|v|_1^2/|v|_2^2`` the engine's trials used (recorded in the row) must
    equal the design's. Then equivalence within the tolerance fixed in
    advance: the log-log slope of N50 against the ratio, over every N50 in
    its budget-level profile interval (one comparison per variant, so all
    hold together), lies in ``[-tolerance, tolerance]``. The bound's slope,
    from :func:`theorem1_bound` on the same vectors, is reported beside it.
    """
    ratios = np.array([np.abs(v).sum() ** 2 / float(v @ v) for v in vs])
    recorded = np.array([row.v_shape for row in sweep.rows])
    same_v = bool(recorded.shape == ratios.shape and np.allclose(recorded, ratios, rtol=1e-9))
    reason = "" if same_v else "the rows were not run with the design's v"
    censored = [f"{r:.3g}" for r, c in zip(ratios, sweep.profile.censored, strict=True) if c]
    if censored:
        reason = "; ".join(filter(None, [reason, f"N50 censored at ratio {', '.join(censored)}"]))
    x = np.log(ratios)
    point = _log_log_slope(ratios, sweep.n50)
    low, high = sweep.profile.budget_interval(len(vs))
    with np.errstate(divide="ignore"):
        lower, upper = _least_squares_bounds(x, np.log(low), np.log(high))
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
        passed=bool(not reason and stats.equivalent_within(lower, upper, tolerance)),
        measured={
            "N50 by |v|_1^2/|v|_2^2": _n50_table(np.round(ratios, 3), sweep.n50),
            "|v|_1^2/|v|_2^2 the rows ran with": _n50_table(
                np.arange(recorded.size), recorded, ".3f"
            ),
            "log-log slope (maximum likelihood N50)": f"{point:.3f}",
            "its error-budget interval": f"[{lower:.3f}, {upper:.3f}]",
            "the bound's slope": bound_slope,
            "reason for failure": reason or "none",
        },
        expected={
            "slope's error-budget interval": f"inside [-{tolerance:g}, {tolerance:g}]",
            "|v|_1^2/|v|_2^2 of each row": "the design's",
        },
        method=(
            f"v_i proportional to i^-p at |v|_2 = 1, m = {vs[0].size}, no noise; "
            f"{sweep.rows[0].n_trials} trials per cell, {sweep.rows[0].n_steps} steps; N50 "
            "by maximum likelihood of a logistic curve in log N with profile-likelihood "
            f"intervals at the error budget (one comparison per variant, {len(vs)}); the "
            "slope's interval is the range of the least-squares slope over those intervals; "
            "tolerance fixed before the run."
        ),
        seed=sweep.rows[0].seed,
        summary=(
            f"slope {point:.3f} (budget interval {lower:.2f} to {upper:.2f}) within "
            f"+-{tolerance:g}; bound's slope {bound_slope:.0f}" + (f"; {reason}" if reason else "")
        ),
        margin=stats.margin(max(-lower, upper), tolerance, unit=""),
    )


def noise_growth_claim(
    levels: Sequence[float],
    sweep: N50Sweep,
    v: np.ndarray,
    n: int,
    factor: float = NOISE_BOUND_FACTOR,
    upper_coefficient: float = NOISE_UPPER_COEFFICIENT,
) -> Claim:
    """``ste.thm1_noise_growth`` (finding): noise raises N50 by more than the bound says.

    Two-sided, at every level s > 0: the budget-level interval of
    ``N50(s)/N50(0)`` lies strictly between ``factor`` times the bound's own
    ratio (C' = C'' = 1, K = s, :func:`theorem1_bound`) and
    ``1 + upper_coefficient s^2``. Each ratio's interval takes the worst ends
    of the two N50 intervals (one comparison per level, so all hold
    together). The shape of the growth in s is not claimed.
    """
    levels = np.asarray(levels, dtype=float)
    if levels.size < 2 or levels[0] != 0 or np.any(np.diff(levels) <= 0):
        raise ValueError(f"levels must start at 0 and increase, got {levels}")
    noisy = levels[1:]
    low, high = sweep.profile.budget_interval(levels.size)
    censored = [f"{s:g}" for s, c in zip(levels, sweep.profile.censored, strict=True) if c]
    reason = f"N50 censored at s = {', '.join(censored)}" if censored else ""
    ratio = sweep.n50[1:] / sweep.n50[0]
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio_low, ratio_high = low[1:] / high[0], high[1:] / low[0]
    predicted = np.array([theorem1_bound([n], v, s)[0] for s in noisy]) / theorem1_bound(
        [n], v, 0.0
    )
    band_low, band_high = factor * predicted, 1 + upper_coefficient * noisy**2
    passed = bool(not reason and np.all(band_low < ratio_low) and np.all(ratio_high < band_high))
    with np.errstate(divide="ignore", invalid="ignore"):
        spare_low = np.log(ratio_low / band_low)
        spare_high = np.log(band_high / ratio_high)
    rows = ", ".join(
        f"s={s:g}: {r:.2f} [{lo:.2f}, {hi:.2f}] in ({bl:.3f}, {bh:.2f})"
        for s, r, lo, hi, bl, bh in zip(
            noisy, ratio, ratio_low, ratio_high, band_low, band_high, strict=True
        )
    )
    excess = ", ".join(
        f"s={s:g}: {x:.2f}" for s, x in zip(noisy, ratio_low / predicted, strict=True)
    )
    return Claim(
        id="ste.thm1_noise_growth",
        kind="finding",
        statement=(
            f"at n = {n}, label noise of level s raises N50 by more than {factor:g} times "
            f"the bound's own factor (C' = C'' = 1, K = s) and by less than 1 + "
            f"{upper_coefficient:g} s^2; the shape of the growth in s is not tested"
        ),
        passed=passed,
        measured={
            "N50(s) / N50(0) (budget interval) in (lower, upper end)": rows,
            "the bound's ratio (C' = C'' = 1, K = s)": _n50_table(noisy, predicted, ".3f"),
            "lower end of the interval / the bound's ratio": excess,
            "reason for failure": reason or "none",
        },
        expected={
            "N50(s) / N50(0)": (
                f"inside ({factor:g} x the bound's ratio, 1 + {upper_coefficient:g} s^2)"
            )
        },
        method=(
            f"noise N(0, s^2) with s = {', '.join(f'{s:g}' for s in levels)}; m = "
            f"{v.size}, v = 1/sqrt(m); {sweep.rows[0].n_trials} trials per cell, "
            f"{sweep.rows[0].n_steps} steps; N50 by maximum likelihood with profile-likelihood "
            f"intervals at the error budget (one comparison per level, {levels.size}); both "
            "ends set after seeing data: earlier runs had shown ratios of 2.5 (s = 0.5) and "
            "5.3 to 5.9 (s = 1), and a full-scale run a lower end of about 1.34 at s = 0.5. "
            f"The finding is {NOISE_SEED_RECORD}."
        ),
        seed=sweep.rows[0].seed,
        summary=f"N50(s)/N50(0): {rows}" + (f"; {reason}" if reason else ""),
        margin=(
            f"{float(np.min(spare_low)):.3g} in log above {factor:g} x the bound's ratio, "
            f"{float(np.min(spare_high)):.3g} below the upper end"
        ),
    )
