"""Confidence intervals and the book's error budget.

The error budget
----------------
A statistical claim can fail by bad luck even when its theorem is true. The book
allows a total probability of :data:`BOOK_FAILURE_PROBABILITY` (one in a million)
that a correct theorem fails some build. It is split evenly over at most
:data:`STATISTICAL_CLAIMS_IN_BOOK` statistical claims, and within a claim evenly
(Bonferroni) over its comparisons. That share becomes a critical value with the
quantile the sample size calls for:

* :func:`z_threshold`, a normal quantile (about 5.7 for one comparison), for a
  mean over many independent samples (hundreds or more);
* :func:`t_threshold`, Student's t with ``dof`` degrees of freedom, for a
  standard error estimated from few replicates (16 replicates need about 14
  standard errors where the normal quantile would say 5.7);
* :func:`budget_wilson_interval`, a Wilson interval at the budget's level, for
  a rate.

:func:`margin` phrases how far a statistic was from its threshold, for the
claim's ``margin`` line.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats as sps

from quantheory.validation import positive_int

BOOK_FAILURE_PROBABILITY = 1e-6
STATISTICAL_CLAIMS_IN_BOOK = 100


def claim_alpha() -> float:
    """The probability that one correct statistical claim may fail by chance."""
    return BOOK_FAILURE_PROBABILITY / STATISTICAL_CLAIMS_IN_BOOK


def comparison_alpha(n_comparisons: int) -> float:
    """The two-sided tail probability allowed for each of ``n_comparisons`` tests."""
    return claim_alpha() / positive_int("n_comparisons", n_comparisons)


def z_threshold(n_comparisons: int = 1) -> float:
    """Critical |z| for one of ``n_comparisons`` normal tests inside one claim.

    Examples
    --------
    >>> round(z_threshold(1), 2)
    5.73
    """
    return float(sps.norm.isf(comparison_alpha(n_comparisons) / 2))


def t_threshold(dof: int, n_comparisons: int = 1) -> float:
    """Critical |t| with ``dof`` degrees of freedom for one of ``n_comparisons`` tests.

    Use it where a standard error comes from ``dof + 1`` replicates.

    Examples
    --------
    >>> t_threshold(1000) > z_threshold() and t_threshold(15) > 1.9 * z_threshold()
    True
    """
    dof = positive_int("dof", dof)
    return float(sps.t.isf(comparison_alpha(n_comparisons) / 2, dof))


def budget_t_interval(samples: np.ndarray, n_comparisons: int = 1) -> tuple[float, float, float]:
    """Mean of (S,) independent replicates with its Student-t interval at the budget's level.

    Returns ``(mean, low, high)``; the half-width is ``t_threshold(S - 1, k)`` standard errors.
    """
    samples = np.asarray(samples, dtype=float)
    if samples.ndim != 1 or samples.size < 2:
        raise ValueError(f"need at least 2 replicates in a 1-D array, got shape {samples.shape}")
    mean = float(samples.mean())
    half = t_threshold(samples.size - 1, n_comparisons) * float(samples.std(ddof=1))
    half /= np.sqrt(samples.size)
    return mean, mean - half, mean + half


def budget_wilson_interval(
    successes: np.ndarray | int, trials: np.ndarray | int, n_comparisons: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """Wilson interval for a rate at the error budget's level for one of ``n_comparisons``."""
    return wilson_interval(successes, trials, alpha=comparison_alpha(n_comparisons))


def margin(statistic: float, threshold: float, unit: str = "SE", passes_below: bool = True) -> str:
    """One line on how far ``statistic`` was from failing at ``threshold``.

    Examples
    --------
    >>> margin(2.5, 5.9)
    '2.5 SE, fails above 5.9 (3.4 to spare)'
    >>> margin(1.27, 1.0, unit="", passes_below=False)
    '1.27, fails below 1 (0.27 to spare)'
    """
    spare = threshold - statistic if passes_below else statistic - threshold
    side = "above" if passes_below else "below"
    unit_text = f" {unit}" if unit else ""
    return f"{statistic:.3g}{unit_text}, fails {side} {threshold:.3g} ({spare:.2g} to spare)"


@dataclass(frozen=True)
class MeanEstimate:
    """A Monte Carlo mean with its standard error.

    Attributes
    ----------
    mean, se
        Arrays of the same shape: the sample mean and its standard error.
    n
        Number of independent samples behind each mean.
    """

    mean: np.ndarray
    se: np.ndarray
    n: int

    def interval(self, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
        """Normal-approximation confidence interval at ``level``."""
        z = float(sps.norm.isf((1 - level) / 2))
        return self.mean - z * self.se, self.mean + z * self.se


def mean_estimate(samples: np.ndarray, axis: int = 0) -> MeanEstimate:
    """Mean and standard error of ``samples`` along ``axis`` (ddof = 1)."""
    samples = np.asarray(samples, dtype=float)
    n = samples.shape[axis]
    if n < 2:
        raise ValueError(f"samples must have at least 2 entries along axis {axis}, got {n}")
    mean = samples.mean(axis=axis)
    se = samples.std(axis=axis, ddof=1) / np.sqrt(n)
    return MeanEstimate(mean=mean, se=se, n=n)


def pooled_mean_estimate(sums: np.ndarray, sums_sq: np.ndarray, n: int) -> MeanEstimate:
    """Mean and standard error from running sums of x and x**2 over ``n`` samples.

    Lets a sampler stream chunks without keeping every sample in memory.
    """
    n = positive_int("n", n)
    if n < 2:
        raise ValueError(f"n must be at least 2 to estimate a standard error, got {n}")
    mean = np.asarray(sums, dtype=float) / n
    var = (np.asarray(sums_sq, dtype=float) - n * mean**2) / (n - 1)
    return MeanEstimate(mean=mean, se=np.sqrt(np.maximum(var, 0.0) / n), n=n)


def wilson_interval(
    successes: np.ndarray | int, trials: np.ndarray | int, alpha: float = 0.05
) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for a binomial proportion, two-sided level 1 - alpha.

    Parameters
    ----------
    successes, trials
        Counts (broadcastable arrays); ``0 <= successes <= trials`` and ``trials >= 1``.
    alpha
        Total two-sided miss probability, in (0, 1).
    """
    k = np.asarray(successes, dtype=float)
    n = np.asarray(trials, dtype=float)
    if np.any(n < 1) or np.any(k < 0) or np.any(k > n):
        raise ValueError(
            f"need 0 <= successes <= trials and trials >= 1, got successes={successes!r}, "
            f"trials={trials!r}"
        )
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must lie in (0, 1), got {alpha!r}")
    z = float(sps.norm.isf(alpha / 2))
    p = k / n
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / (1 + z**2 / n)
    # the ends are exactly 0 at k = 0 and 1 at k = n; set them so, not off by rounding
    return np.where(k == 0, 0.0, centre - half)[()], np.where(k == n, 1.0, centre + half)[()]


def budget_newcombe_interval(
    successes_a: int, trials_a: int, successes_b: int, trials_b: int, n_comparisons: int = 1
) -> tuple[float, float, float]:
    """Difference of two rates ``p_a - p_b`` with Newcombe's hybrid score interval.

    Each rate gets its Wilson interval at the budget's level for one of
    ``n_comparisons``; Newcombe (1998, method 10) combines them. Unlike the pooled
    two-proportion z test it keeps its level at rates near 0 or 1.

    Returns ``(difference, low, high)``.

    Examples
    --------
    >>> d, lo, hi = budget_newcombe_interval(80, 80, 20, 80)
    >>> round(d, 2), lo > 0.3, hi <= 1
    (0.75, True, True)
    """
    alpha = comparison_alpha(n_comparisons)
    pa, pb = successes_a / trials_a, successes_b / trials_b
    la, ua = wilson_interval(successes_a, trials_a, alpha=alpha)
    lb, ub = wilson_interval(successes_b, trials_b, alpha=alpha)
    diff = pa - pb
    low = diff - np.sqrt((pa - la) ** 2 + (ub - pb) ** 2)
    high = diff + np.sqrt((ua - pa) ** 2 + (pb - lb) ** 2)
    return float(diff), float(low), float(high)


def equivalent_within(low: float, high: float, tolerance: float) -> bool:
    """Two one-sided tests: is the interval ``[low, high]`` inside ``[-tolerance, tolerance]``?

    An equivalence claim passes only when the data show the difference is small,
    not merely when they fail to detect one; ``tolerance`` must be fixed before
    the data are seen.

    Examples
    --------
    >>> equivalent_within(-0.02, 0.03, 0.05), equivalent_within(-0.2, 0.2, 0.05)
    (True, False)
    """
    if not tolerance > 0:
        raise ValueError(f"tolerance must be positive, got {tolerance!r}")
    return bool(-tolerance <= low and high <= tolerance)
