"""Sweeps of the STE-gradient method over sample sizes, and what is fitted to them.

* :func:`success_grid` runs the method on fresh training sets for every
  (n, N) pair and counts exact recoveries by the ergodic and by the last
  iterate estimate.
* :func:`fit_n50` fits a logistic curve in log N to each row of successes and
  returns N50(n), the sample size at 50 % success; :func:`fit_exponent` fits
  ``N50 = c n^alpha`` and bootstraps alpha.
* :func:`local_exponents` gives the slope of log N50 against log n between
  consecutive n, with bootstrap intervals.
* :func:`uniform_deviation` measures ``max_u |g_N(u) - E g(u)|_inf`` over
  every binary u, for nested sample sizes; :func:`deviation_by_dimension`
  measures it at one N for several n.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import optimize

from quantheory import stats
from quantheory.display import in_notebook
from quantheory.memo import cached
from quantheory.scale import by_scale
from quantheory.seeding import SeedLike, chapter_seed, describe, generator, paired, seed_sequence
from quantheory.ste.engine import run_ste_method, sample_trials, single_threaded
from quantheory.ste.model import second_layer, sign
from quantheory.ste.symbolic import population_gradient_numeric
from quantheory.validation import positive_int

BATCH_BYTES = 400e6  # memory for the inputs of one batch of trials


@dataclass(frozen=True)
class SuccessGrid:
    """Exact-recovery counts over a grid of (n, N).

    Attributes
    ----------
    ns : numpy.ndarray of int, shape (I,)
    sample_sizes : numpy.ndarray of int, shape (J,)
    n_trials : int
        Independent trials per cell (fresh teacher and training set each).
    n_steps : int
    ergodic : numpy.ndarray of int, shape (I, J)
        Trials in which ``Q(mean_t u^t) = w*``.
    last : numpy.ndarray of int, shape (I, J)
        Trials in which ``Q(w^T) = w*``.
    last_only : numpy.ndarray of int, shape (I, J)
        Trials in which the last iterate recovered ``w*`` but the ergodic one did not.
    fixed : numpy.ndarray of int, shape (I, J)
        Trials whose gradient became exactly zero (fixed for ever).
    fixed_not_at_star : numpy.ndarray of int, shape (I, J)
        Fixed trials whose fixed point is not ``w*``.
    last_only_early : numpy.ndarray of int, shape (I, J)
        Last-only trials that reached ``w*`` (and stayed) by step ``n_steps / 2``;
        a lemma says there are none.
    """

    ns: np.ndarray
    sample_sizes: np.ndarray
    n_trials: int
    n_steps: int
    noise_std: float
    ergodic: np.ndarray
    last: np.ndarray
    last_only: np.ndarray
    fixed: np.ndarray
    fixed_not_at_star: np.ndarray
    last_only_early: np.ndarray
    seed: str


def _batches(n: int, n_samples: int, m: int, n_trials: int) -> list[int]:
    per_trial = 8.0 * n * n_samples * m
    size = max(1, int(BATCH_BYTES // per_trial))
    return [min(size, n_trials - start) for start in range(0, n_trials, size)]


def success_grid(
    ns: Sequence[int],
    sample_sizes: Sequence[int],
    n_trials: int,
    n_steps: int,
    seed: SeedLike,
    *,
    m: int = 128,
    v: np.ndarray | None = None,
    noise_std: float = 0.0,
    family: str = "gaussian",
    standardize: bool = False,
) -> SuccessGrid:
    """Run the STE-gradient method (``w0 = 0``) for every (n, N) and count recoveries.

    Each cell gets its own child seed; trials are run in batches that keep
    the inputs of one batch under :data:`BATCH_BYTES`. In a terminal a tqdm
    progress bar shows the sweep; in the rendered page nothing is printed.
    """
    from tqdm import tqdm

    ns = [positive_int("n", n) for n in ns]
    sample_sizes = [positive_int("N", N) for N in sample_sizes]
    n_trials = positive_int("n_trials", n_trials)
    shape = (len(ns), len(sample_sizes))
    counts = {
        key: np.zeros(shape, dtype=int)
        for key in ("ergodic", "last", "last_only", "fixed", "fixed_not_at_star", "last_only_early")
    }
    cells = list(itertools.product(range(len(ns)), range(len(sample_sizes))))
    bar = tqdm(paired(cells, seed), desc="(n, N) grid", disable=in_notebook(), leave=False)
    with single_threaded():
        _count_cells(
            bar,
            ns,
            sample_sizes,
            n_trials,
            n_steps,
            counts,
            m=m,
            v=v,
            noise_std=noise_std,
            family=family,
            standardize=standardize,
        )
    return SuccessGrid(
        np.array(ns),
        np.array(sample_sizes),
        n_trials,
        n_steps,
        noise_std,
        seed=describe(seed),
        **counts,
    )


def _count_cells(
    cells: Iterator,
    ns: list[int],
    sample_sizes: list[int],
    n_trials: int,
    n_steps: int,
    counts: dict[str, np.ndarray],
    **setting,
) -> None:
    """Run every ``((i, j), seed)`` cell and add its recoveries to ``counts`` in place."""
    m = setting["m"]
    for (i, j), child in cells:
        n, N = ns[i], sample_sizes[j]
        for size, batch_seed in paired(_batches(n, N, m, n_trials), child):
            batch = sample_trials(
                n,
                N,
                size,
                batch_seed,
                **setting,
            )
            run = run_ste_method(batch, n_steps)
            ergodic_ok = np.all(run.ergodic_estimate() == batch.w_star, axis=1)
            last_ok = np.all(run.last_iterate() == batch.w_star, axis=1)
            fixed = run.frozen_at >= 0
            counts["ergodic"][i, j] += ergodic_ok.sum()
            counts["last"][i, j] += last_ok.sum()
            counts["last_only"][i, j] += (last_ok & ~ergodic_ok).sum()
            counts["fixed"][i, j] += fixed.sum()
            counts["fixed_not_at_star"][i, j] += (fixed & ~last_ok).sum()
            early = fixed & (run.frozen_at <= n_steps // 2)
            counts["last_only_early"][i, j] += (last_ok & ~ergodic_ok & early).sum()


# ---- N50 and the scaling exponent --------------------------------------------------
def _logistic_fit(log_sizes: np.ndarray, successes: np.ndarray, trials: int) -> tuple[float, float]:
    """Maximum-likelihood (intercept, slope) of P(success) = expit(a + b log N)."""

    def negative_log_likelihood(params: np.ndarray) -> float:
        eta = params[0] + params[1] * log_sizes
        return float(np.sum(trials * np.logaddexp(0, eta) - successes * eta))

    centre = float(np.mean(log_sizes))
    start = np.array([-4.0 * centre, 4.0])
    result = optimize.minimize(
        negative_log_likelihood,
        start,
        method="Nelder-Mead",
        options={"xatol": 1e-8, "fatol": 1e-10, "maxiter": 4000},
    )
    return float(result.x[0]), float(result.x[1])


def fit_n50(sample_sizes: np.ndarray, successes: np.ndarray, trials: int) -> np.ndarray:
    """N50 for every row of ``successes`` (shape (I, J)) by a logistic fit in log N.

    Raises ``ValueError`` for a row that never crosses 50 % inside the grid
    (N50 would be an extrapolation).
    """
    log_sizes = np.log(np.asarray(sample_sizes, dtype=float))
    rates = np.asarray(successes) / trials
    n50 = np.empty(rates.shape[0])
    for i, row in enumerate(np.asarray(successes)):
        if not (rates[i].min() < 0.5 < rates[i].max()):
            raise ValueError(
                f"row {i} of the grid never crosses 50 % success (rates from "
                f"{rates[i].min():.2f} to {rates[i].max():.2f}); widen the range of N"
            )
        a, b = _logistic_fit(log_sizes, row, trials)
        n50[i] = np.exp(-a / b)
    return n50


@dataclass(frozen=True)
class ExponentFit:
    """``N50 = c n^alpha`` fitted by least squares in log-log, with a bootstrap.

    Attributes
    ----------
    n50 : numpy.ndarray, shape (I,)
    n50_low, n50_high : numpy.ndarray, shape (I,)
        95 % bootstrap intervals of N50.
    alpha, log_c : float
    alpha_se : float
        Bootstrap standard error of alpha.
    alpha_samples : numpy.ndarray, shape (B,)
    n50_samples : numpy.ndarray, shape (B, I)
        The bootstrap's N50 of every row.
    """

    ns: np.ndarray
    n50: np.ndarray
    n50_low: np.ndarray
    n50_high: np.ndarray
    alpha: float
    log_c: float
    alpha_se: float
    alpha_samples: np.ndarray
    n50_samples: np.ndarray | None = None

    def alpha_interval(self, level: float = 0.95) -> tuple[float, float]:
        tail = 100 * (1 - level) / 2
        low, high = np.percentile(self.alpha_samples, [tail, 100 - tail])
        return float(low), float(high)

    def log_n50_se(self) -> np.ndarray:
        """Bootstrap standard error of log N50 for every row; shape (I,)."""
        if self.n50_samples is None:
            raise ValueError("this fit keeps no bootstrap samples of N50")
        return np.std(np.log(self.n50_samples), axis=0, ddof=1)

    def n50_budget_interval(self, n_comparisons: int) -> tuple[np.ndarray, np.ndarray]:
        """N50 intervals at the error budget's level for one of ``n_comparisons`` tests.

        ``log N50 +- z SE`` with the bootstrap SE of log N50 and the normal
        quantile :func:`quantheory.stats.z_threshold`: the binomial bootstrap
        redraws every cell of many trials, so the SE is well determined, but
        its B resamples cannot reach a 1 - 1e-8 percentile directly.
        """
        half = stats.z_threshold(n_comparisons) * self.log_n50_se()
        return self.n50 * np.exp(-half), self.n50 * np.exp(half)


def _power_law(ns: np.ndarray, n50: np.ndarray) -> tuple[float, float]:
    slope, intercept = np.polyfit(np.log(ns), np.log(n50), 1)
    return float(slope), float(intercept)


def _bootstrap_n50(
    sample_sizes: np.ndarray,
    successes: np.ndarray,
    trials: int,
    n_boot: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """N50 of every row for ``n_boot`` binomial resamples of every cell; shape (B, I).

    A resample in which some row no longer crosses 50 % is dropped.
    """
    rates = np.asarray(successes) / trials
    draws = []
    for _ in range(n_boot):
        try:
            draws.append(fit_n50(sample_sizes, rng.binomial(trials, rates), trials))
        except ValueError:
            continue
    if len(draws) < n_boot // 2:
        raise ValueError("most bootstrap resamples have no N50; widen the grid of N")
    return np.array(draws)


def n50_with_samples(
    sample_sizes: np.ndarray, successes: np.ndarray, trials: int, n_boot: int, seed: SeedLike
) -> tuple[np.ndarray, np.ndarray]:
    """N50 of every row (shape (I,)) and its binomial-bootstrap samples (shape (B, I))."""
    n50 = fit_n50(sample_sizes, successes, trials)
    draws = _bootstrap_n50(
        sample_sizes, successes, trials, positive_int("n_boot", n_boot), generator(seed)
    )
    return n50, draws


def n50_intervals(
    sample_sizes: np.ndarray, successes: np.ndarray, trials: int, n_boot: int, seed: SeedLike
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """N50 of every row with a 95 % binomial-bootstrap interval: (n50, low, high)."""
    n50, draws = n50_with_samples(sample_sizes, successes, trials, n_boot, seed)
    return n50, np.percentile(draws, 2.5, axis=0), np.percentile(draws, 97.5, axis=0)


def fit_exponent(
    grid_ns: np.ndarray,
    sample_sizes: np.ndarray,
    successes: np.ndarray,
    trials: int,
    n_boot: int,
    seed: SeedLike,
) -> ExponentFit:
    """Fit N50(n) per row and ``N50 = c n^alpha``; bootstrap by resampling every cell.

    The bootstrap redraws each cell's success count as Binomial(trials, rate)
    (the cells are independent), refits every N50 and alpha.
    """
    n50, draws = n50_with_samples(sample_sizes, successes, trials, n_boot, seed)
    alpha, log_c = _power_law(grid_ns, n50)
    alphas = np.array([_power_law(grid_ns, row)[0] for row in draws])
    return ExponentFit(
        np.asarray(grid_ns),
        n50,
        np.percentile(draws, 2.5, axis=0),
        np.percentile(draws, 97.5, axis=0),
        alpha,
        log_c,
        float(np.std(alphas, ddof=1)),
        alphas,
        draws,
    )


@dataclass(frozen=True)
class LocalExponents:
    """Slopes of log N50 against log n between consecutive n of a grid.

    Attributes
    ----------
    n_low, n_high : numpy.ndarray of int, shape (I - 1,)
        The two ends of each n-range.
    slope : numpy.ndarray, shape (I - 1,)
        ``log(N50(n_high) / N50(n_low)) / log(n_high / n_low)``.
    low, high : numpy.ndarray, shape (I - 1,)
        95 % bootstrap percentile intervals.
    se : numpy.ndarray, shape (I - 1,)
        Bootstrap standard errors.
    """

    n_low: np.ndarray
    n_high: np.ndarray
    slope: np.ndarray
    low: np.ndarray
    high: np.ndarray
    se: np.ndarray

    @property
    def n_mid(self) -> np.ndarray:
        """Geometric midpoint of each n-range; shape (I - 1,)."""
        return np.sqrt(self.n_low * self.n_high)


def local_exponents(fit: ExponentFit) -> LocalExponents:
    """The exponent of N50 in n on each range between consecutive n, with intervals."""
    if fit.n50_samples is None:
        raise ValueError("local exponents need the bootstrap samples of N50")
    log_n = np.log(fit.ns.astype(float))

    def slopes(n50: np.ndarray) -> np.ndarray:
        return np.diff(np.log(n50), axis=-1) / np.diff(log_n)

    draws = slopes(fit.n50_samples)
    return LocalExponents(
        fit.ns[:-1],
        fit.ns[1:],
        slopes(fit.n50),
        np.percentile(draws, 2.5, axis=0),
        np.percentile(draws, 97.5, axis=0),
        np.std(draws, axis=0, ddof=1),
    )


# ---- Uniform concentration of the STE gradient ------------------------------------
def all_binary_vectors(n: int) -> np.ndarray:
    """Every u in {-1, +1}^n; shape (2^n, n)."""
    n = positive_int("n", n)
    if n > 16:
        raise ValueError(f"n must be at most 16 to list all 2^n binary vectors, got {n}")
    bits = (np.arange(2**n)[:, None] >> np.arange(n)) & 1
    return np.where(bits == 1, 1.0, -1.0)


@dataclass(frozen=True)
class DeviationSample:
    """``D_N = max_u |g_N(u) - E g(u)|_inf`` over all binary u, per replicate and N.

    Attributes
    ----------
    sample_sizes : numpy.ndarray of int, shape (J,)
    deviations : numpy.ndarray, shape (R, J)
        One row per independent replicate; the sample sizes are nested
        (the first N samples of one training set of size max N).
    """

    n: int
    m: int
    noise_std: float
    sample_sizes: np.ndarray
    deviations: np.ndarray
    seed: str


def uniform_deviation(
    n: int,
    m: int,
    sample_sizes: Sequence[int],
    n_replicates: int,
    seed: SeedLike,
    noise_std: float = 0.0,
    chunk: int = 256,
    expected_gradient: Callable[..., np.ndarray] = population_gradient_numeric,
) -> DeviationSample:
    """Measure the uniform l-inf deviation of the STE gradient over all 2^n binary u.

    For each replicate one training set of ``max(sample_sizes)`` samples is
    drawn; the deviation at every smaller N uses its first N samples.
    ``expected_gradient(U, w_star, v)`` (shape (chunk, n)) is the prediction
    ``E g(u)`` the deviation is measured from; by default the SymPy-lambdified
    statement of :mod:`quantheory.ste.symbolic`, which shares no code with
    the sampling here.
    """
    sizes = np.array(sorted(positive_int("N", N) for N in sample_sizes))
    n_replicates = positive_int("n_replicates", n_replicates)
    u_all = all_binary_vectors(n)
    rng = generator(seed)
    v = second_layer(m)
    deviations = np.zeros((n_replicates, sizes.size))
    for r in range(n_replicates):
        w_star = rng.choice([-1.0, 1.0], size=n)
        Z = rng.standard_normal((sizes[-1], m, n))
        y = sign(Z @ w_star) @ v + noise_std * rng.standard_normal(sizes[-1])
        projections = Z.transpose(0, 2, 1) @ v  # (N, n)
        worst = np.zeros(sizes.size)
        for start in range(0, len(u_all), chunk):
            U = u_all[start : start + chunk]
            residual = sign(Z @ U.T).transpose(0, 2, 1) @ v - y[:, None]  # (N, chunk)
            expected = expected_gradient(U, w_star, v)  # (chunk, n)
            cumulative = np.cumsum(projections[:, None, :] * residual[:, :, None], axis=0)
            for j, N in enumerate(sizes):
                gap = np.abs(cumulative[N - 1] / N - expected).max()
                worst[j] = max(worst[j], gap)
        deviations[r] = worst
    return DeviationSample(n, m, noise_std, sizes, deviations, describe(seed))


@dataclass(frozen=True)
class DeviationGrowth:
    """``D = max_u |g_N(u) - E g(u)|_inf`` at one N for several n.

    Attributes
    ----------
    ns : numpy.ndarray of int, shape (I,)
    n_samples : int
    deviations : numpy.ndarray, shape (R, I)
        Column i holds R independent replicates at ``ns[i]``.
    """

    ns: np.ndarray
    m: int
    n_samples: int
    deviations: np.ndarray
    seed: str


def deviation_by_dimension(
    ns: Sequence[int],
    m: int,
    n_samples: int,
    n_replicates: int,
    seed: SeedLike,
    expected_gradient: Callable[..., np.ndarray] = population_gradient_numeric,
) -> DeviationGrowth:
    """:func:`uniform_deviation` at one N for each n (all 2^n binary u, exactly).

    Every n gets its own child seed, so the columns are independent.
    """
    ns = [positive_int("n", n) for n in ns]
    columns = [
        uniform_deviation(
            n, m, (n_samples,), n_replicates, child, expected_gradient=expected_gradient
        ).deviations[:, 0]
        for n, child in paired(ns, seed)
    ]
    return DeviationGrowth(
        np.array(ns),
        m,
        positive_int("n_samples", n_samples),
        np.stack(columns, axis=1),
        describe(seed),
    )


# ---- The book's sweeps ---------------------------------------------------------------
#: the shared grid's salt: its seed is the master seed with this spawn key
PHASE_GRID_SALT = 20250524


def phase_grid_parameters() -> dict:
    """The (n, N) grid shared by the Theorem 1 and Theorem 2 chapters, sized by scale."""
    return by_scale(
        quick={
            "ns": (10, 25, 50),
            "sample_sizes": log2_grid(4, 16),
            "n_trials": 16,
            "n_steps": 400,
        },
        full={
            "ns": (10, 15, 25, 35, 50, 70, 100),
            "sample_sizes": log2_grid(4, 19),
            "n_trials": 32,
            "n_steps": 500,
        },
    )


def log2_grid(first: int, last: int) -> tuple[int, ...]:
    """Sample sizes ``round(2^(k/2))`` for k = first..last (half-octave steps)."""
    return tuple(round(2 ** (k / 2)) for k in range(first, last + 1))


def phase_transition_grid() -> SuccessGrid:
    """The noiseless (n, N) grid at m = 128, computed once per build (see :mod:`memo`)."""
    params = phase_grid_parameters()
    seed = chapter_seed(PHASE_GRID_SALT)
    return cached(
        "phase_grid",
        {**params, "seed": describe(seed)},
        lambda: success_grid(seed=seed, **params),
    )


def sweep_at_fixed_n(
    n: int,
    sample_sizes: Sequence[int],
    n_trials: int,
    n_steps: int,
    seed: SeedLike,
    variants: Sequence[dict],
) -> list[SuccessGrid]:
    """One row of the grid (fixed n) for each variant of the keyword arguments.

    ``variants`` are keyword arguments of :func:`success_grid` (``v``,
    ``noise_std``, ``family``, ``standardize``); each gets its own child seed.
    """
    return [
        success_grid([n], sample_sizes, n_trials, n_steps, child, **variant)
        for variant, child in paired(variants, seed)
    ]


@dataclass(frozen=True)
class N50Sweep:
    """N50 at fixed n for several variants of the setting, with 95 % intervals.

    Attributes
    ----------
    rows : list of SuccessGrid
        One single-row grid per variant.
    n50, low, high : numpy.ndarray, shape (V,)
    samples : numpy.ndarray, shape (B, V)
        The binomial bootstrap's N50 of every variant.
    """

    rows: list
    n50: np.ndarray
    low: np.ndarray
    high: np.ndarray
    samples: np.ndarray | None = None


def n50_sweep(
    n: int, grid_parameters: dict, variants: Sequence[dict], seed: SeedLike, n_boot: int
) -> N50Sweep:
    """Run :func:`sweep_at_fixed_n` on the N grid of ``grid_parameters`` and fit N50s."""
    run_seed, boot_seed = seed_sequence(seed).spawn(2)
    rows = sweep_at_fixed_n(
        n,
        grid_parameters["sample_sizes"],
        grid_parameters["n_trials"],
        grid_parameters["n_steps"],
        run_seed,
        variants,
    )
    counts = np.vstack([row.ergodic for row in rows])
    n50, draws = n50_with_samples(
        np.asarray(grid_parameters["sample_sizes"]),
        counts,
        grid_parameters["n_trials"],
        n_boot,
        boot_seed,
    )
    return sweep_from_samples(rows, n50, draws)


def sweep_from_samples(rows: list, n50: np.ndarray, draws: np.ndarray) -> N50Sweep:
    """An :class:`N50Sweep` with 95 % percentile intervals from bootstrap ``draws`` (B, V)."""
    low, high = np.percentile(draws, [2.5, 97.5], axis=0)
    return N50Sweep(rows, n50, low, high, draws)
