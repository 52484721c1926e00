"""Claims of the Theorem 1 chapter (finite-sample STE).

Each function compares measurements (from :mod:`quantheory.ste.sample_complexity`)
with a stated prediction passed as an argument, so that a deliberately wrong
prediction makes the claim fail; the tests do that.
"""

from __future__ import annotations

import numpy as np

from quantheory import stats
from quantheory.claims import Claim
from quantheory.seeding import SeedLike, generator
from quantheory.ste.sample_complexity import DeviationSample, ExponentFit, SuccessGrid

#: the rate of the uniform deviation of the STE gradient
CONCENTRATION_EXPONENT = -0.5
#: Theorem 1's sufficient sample size grows like n^2
THEOREM1_EXPONENT = 2.0
#: the book's choice of the theorem's universal constants C' and C''
THEOREM1_CONSTANTS = (1.0, 1.0)


def deviation_slope(
    sample: DeviationSample, n_boot: int, seed: SeedLike
) -> tuple[float, float, np.ndarray]:
    """Log-log slope of the mean deviation against N, its bootstrap SE and samples.

    The bootstrap resamples whole replicates (rows), which keeps the nesting
    of the sample sizes within a replicate.
    """
    log_n = np.log(sample.sample_sizes)

    def slope(rows: np.ndarray) -> float:
        return float(np.polyfit(log_n, np.log(rows.mean(axis=0)), 1)[0])

    rng = generator(seed)
    reps = sample.deviations.shape[0]
    boot = np.array([slope(sample.deviations[rng.integers(0, reps, reps)]) for _ in range(n_boot)])
    return slope(sample.deviations), float(boot.std(ddof=1)), boot


def linf_concentration_claim(
    sample: DeviationSample, n_boot: int, seed: SeedLike, exponent: float = CONCENTRATION_EXPONENT
) -> Claim:
    """``ste.linf_concentration``: the uniform deviation decays like ``N^exponent``."""
    fitted, se, boot = deviation_slope(sample, n_boot, seed)
    z = abs(fitted - exponent) / se
    low, high = np.percentile(boot, [2.5, 97.5])
    scaled = sample.deviations.mean(axis=0) * np.sqrt(sample.sample_sizes)
    return Claim(
        id="ste.linf_concentration",
        statement="max over all binary u of |g_N(u) - E g(u)|_inf shrinks like N^(-1/2)",
        passed=bool(z <= stats.z_threshold(1)),
        measured={
            "fitted exponent (95% CI)": f"{fitted:.3f} [{low:.3f}, {high:.3f}]",
            "|fitted - predicted| / SE": z,
            "sqrt(N) x mean deviation, smallest to largest N": (
                f"{scaled[0]:.2f} ... {scaled[-1]:.2f}"
            ),
        },
        expected={"exponent": exponent, "|fitted - predicted| / SE": stats.z_threshold(1)},
        method=(
            f"all 2^{sample.n} binary u, m = {sample.m}, noise s = {sample.noise_std:g}; "
            f"{sample.deviations.shape[0]} independent training sets with nested N = "
            f"{', '.join(map(str, sample.sample_sizes))}; least squares in log-log, "
            f"SE from {n_boot} bootstrap resamples of the training sets."
        ),
        seed=sample.seed,
        summary=(
            f"exponent {fitted:.3f} (95% CI {low:.3f} to {high:.3f}) vs {exponent}; "
            f"{z:.1f} SE <= {stats.z_threshold(1):.1f}"
        ),
    )


def phase_transition_claim(
    grid: SuccessGrid, fit: ExponentFit, max_exponent: float = THEOREM1_EXPONENT
) -> Claim:
    """``ste.thm1_phase_transition``: N50 ~ c n^alpha with alpha at most ``max_exponent``.

    Passes unless the data show alpha above ``max_exponent``: the lower end of
    alpha's interval at the book's error-budget level must not exceed it.
    """
    z = stats.z_threshold(1)
    lower_budget = fit.alpha - z * fit.alpha_se
    low, high = fit.alpha_interval(0.95)
    n50 = ", ".join(f"{n}: {v:.0f}" for n, v in zip(fit.ns, fit.n50, strict=True))
    return Claim(
        id="ste.thm1_phase_transition",
        statement=(
            "the sample size N50 at which the ergodic estimate recovers w* half the "
            "time grows at most quadratically in n (m = 128, no noise)"
        ),
        passed=bool(lower_budget <= max_exponent),
        measured={
            "alpha in N50 = c n^alpha (95% CI)": f"{fit.alpha:.3f} [{low:.3f}, {high:.3f}]",
            "lower end of alpha's error-budget interval": lower_budget,
            "N50 by n": n50,
        },
        expected={"lower end of alpha's error-budget interval": f"<= {max_exponent:g}"},
        method=(
            f"{grid.n_trials} trials per cell on an (n, N) grid with n = "
            f"{', '.join(map(str, grid.ns))} and {grid.sample_sizes.size} values of N "
            f"from {grid.sample_sizes[0]} to {grid.sample_sizes[-1]}; {grid.n_steps} "
            f"steps from w0 = 0; N50 from a logistic fit in log N per n; alpha by least "
            f"squares in log-log; intervals from {fit.alpha_samples.size} binomial "
            f"bootstrap resamples of every cell; error-budget interval at {z:.2f} SE."
        ),
        seed=grid.seed,
        summary=(
            f"alpha = {fit.alpha:.2f} (95% CI {low:.2f} to {high:.2f}), at most "
            f"{max_exponent:g}; N50 {n50}"
        ),
    )


def theorem1_bound(
    ns: np.ndarray,
    v: np.ndarray,
    noise_norm: float,
    constants: tuple[float, float] = THEOREM1_CONSTANTS,
) -> np.ndarray:
    """Theorem 1's sufficient N: ``(n (C'|v|_1^2 + C'' K |v|_1) / |v|_2^2)^2``."""
    c1, c2 = constants
    l1, l2sq = np.abs(v).sum(), float(v @ v)
    return (np.asarray(ns, dtype=float) * (c1 * l1**2 + c2 * noise_norm * l1) / l2sq) ** 2


def bound_vs_empirical_claim(
    fit: ExponentFit,
    v: np.ndarray,
    shape_n50: dict[str, float],
    noise_n50: dict[float, float],
    constants: tuple[float, float] = THEOREM1_CONSTANTS,
) -> Claim:
    """``ste.thm1_bound_vs_empirical``: the bound lies above the empirical N50 at every n.

    The comparison uses the upper end of each N50's 95 % interval. The
    dependence of N50 on the shape of v and on the noise is reported beside it.
    """
    bound = theorem1_bound(fit.ns, v, 0.0, constants)
    ratio = bound / fit.n50_high
    shapes = "; ".join(f"{k}: {val:.0f}" for k, val in shape_n50.items())
    noises = "; ".join(f"s={k:g}: {val:.0f}" for k, val in noise_n50.items())
    return Claim(
        id="ste.thm1_bound_vs_empirical",
        statement=(
            "Theorem 1's sufficient sample size (C' = C'' = 1) lies above the "
            "empirical N50 at every n"
        ),
        passed=bool(np.all(ratio > 1)),
        measured={
            "smallest bound / N50 (upper 95% end)": float(ratio.min()),
            "largest bound / N50": float(ratio.max()),
            "N50 at n = 20 by |v|_1^2/|v|_2^2": shapes,
            "N50 at n = 20 by noise level": noises,
        },
        expected={"smallest bound / N50 (upper 95% end)": "> 1"},
        method=(
            f"bound (n (C'|v|_1^2 + C'' K |v|_1)/|v|_2^2)^2 with C' = {constants[0]:g}, "
            f"C'' = {constants[1]:g}, K = 0 (no noise), v = 1/sqrt(m), m = {v.size}; "
            "N50 from the phase-transition grid; the shape and noise sweeps use n = 20 "
            "with the same N grid."
        ),
        summary=(
            f"bound / N50 from {ratio.min():.3g} to {ratio.max():.3g}; N50 vs shape of v: "
            f"{shapes}; vs noise: {noises}"
        ),
    )
