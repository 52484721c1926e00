"""Theorem 3, second part: recurrence to w* under label noise.

Long noisy runs started at w* show the iterate leaving w* and coming back
again and again. :func:`recurrence_map` runs them over a grid of sample sizes
N and noise levels s, one set of independent training sets per cell. (The
first escape, predicted in closed form, is in :mod:`quantheory.ste.escape`.)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats as sps

from quantheory import stats
from quantheory.display import in_notebook
from quantheory.seeding import SeedLike, describe, paired
from quantheory.ste.engine import TrialBatch, run_ste_method, sample_trials, single_threaded
from quantheory.validation import positive_int


@dataclass(frozen=True)
class RecurrenceRuns:
    """Long noisy runs started at w*, one per training set.

    Attributes
    ----------
    distance : numpy.ndarray of int, shape (T, steps + 1)
        Coordinates in which ``u^t`` differs from ``w*``.
    empirical_loss : numpy.ndarray, shape (T, steps + 1)
    """

    n: int
    n_samples: int
    noise_std: float
    batch: TrialBatch
    distance: np.ndarray
    empirical_loss: np.ndarray
    seed: str

    @property
    def at_star(self) -> np.ndarray:
        return self.distance == 0

    def returns(self, start: int = 0, stop: int | None = None) -> np.ndarray:
        """Arrivals at w* (from elsewhere) in steps ``start+1 .. stop``, per trial."""
        at = self.at_star[:, start:stop]
        return np.sum(at[:, 1:] & ~at[:, :-1], axis=1)

    def occupation(self, start: int = 0, stop: int | None = None) -> np.ndarray:
        """Fraction of steps spent at w*, per trial."""
        return self.at_star[:, start:stop].mean(axis=1)

    def return_times(self) -> np.ndarray:
        """Lengths of all completed excursions away from w*, pooled over trials."""
        lengths = []
        for row in self.at_star:
            changes = np.flatnonzero(np.diff(row.astype(np.int8)))
            leaves = changes[row[changes]]  # last step at w* before leaving
            arrivals = changes[~row[changes]]  # last step away before arriving
            for leave in leaves:
                later = arrivals[arrivals > leave]
                if later.size:
                    lengths.append(later[0] - leave)
        return np.array(lengths, dtype=int)


def recurrence_runs(
    n: int,
    n_samples: int,
    noise_std: float,
    n_trials: int,
    n_steps: int,
    seed: SeedLike,
    progress: bool = False,
) -> RecurrenceRuns:
    """Run ``n_trials`` independent noisy training sets from ``w0 = w*`` for ``n_steps``."""
    n_steps = positive_int("n_steps", n_steps)
    batch = sample_trials(n, n_samples, n_trials, seed, noise_std=noise_std)
    with single_threaded():
        run = run_ste_method(
            batch, n_steps, w0=batch.w_star, record=True, progress=progress and not in_notebook()
        )
    return RecurrenceRuns(
        n, n_samples, noise_std, batch, run.distance, run.empirical_loss, describe(seed)
    )


def recurrence_map(
    n: int,
    sample_sizes: Sequence[int],
    noise_levels: Sequence[float],
    n_runs: int,
    n_steps: int,
    seed: SeedLike,
) -> dict[tuple[int, float], RecurrenceRuns]:
    """Long runs from ``w0 = w*`` for every (N, s) of the grid, one child seed per cell.

    Returns
    -------
    dict
        ``(N, s) -> RecurrenceRuns`` with ``n_runs`` independent training sets
        of ``n_steps`` steps each, in the order N-major.
    """
    cells = [(int(N), float(s)) for N in sample_sizes for s in noise_levels]
    return {
        (N, s): recurrence_runs(n, N, s, n_runs, n_steps, child)
        for (N, s), child in paired(cells, seed)
    }


def _t_statistic(samples: np.ndarray) -> float:
    """|mean| / SE over runs; 0 when both vanish, inf for a constant non-zero value."""
    estimate = stats.mean_estimate(samples)
    mean, se = abs(float(estimate.mean)), float(estimate.se)
    if se == 0:
        return 0.0 if mean == 0 else float("inf")
    return mean / se


@dataclass(frozen=True)
class CellStatistics:
    """Recurrence statistics of one (N, s) cell, over its independent training sets.

    The first fifth of each run is left out as burn-in; the rest is split into
    two halves. ``threshold`` is the book's error-budget critical value (Student
    t with ``n_runs - 1`` degrees of freedom); ``budget_low``/``budget_high``
    are the occupation's interval at that level, ``low``/``high`` its 95 %
    t interval.

    Attributes
    ----------
    occupation, occupation_se : float
        Mean fraction of steps at w* after burn-in, and its standard error.
    returns_first, returns_second : numpy.ndarray of int, shape (R,)
        Arrivals at w* in the first and in the second half, per run.
    log_returns_low : float
        Lower end of the budget interval of the mean of ``log(1 + returns)``
        in the second half (the log tames the spread of return counts over
        training sets; it is 0 exactly when a run never returns).
    returns_t, occupation_t : float
        |second - first half| / SE (paired over runs) for returns and occupation.
    """

    n: int
    n_samples: int
    noise_std: float
    n_runs: int
    n_steps: int
    threshold: float
    occupation: float
    occupation_se: float
    low: float
    high: float
    returns_first: np.ndarray
    returns_second: np.ndarray
    log_returns_low: float
    returns_t: float
    occupation_t: float

    seed: str

    @property
    def budget_low(self) -> float:
        return self.occupation - self.threshold * self.occupation_se

    @property
    def budget_high(self) -> float:
        return self.occupation + self.threshold * self.occupation_se

    @property
    def occupation_z(self) -> float:
        """Mean occupation / SE (inf when every run has the same positive occupation)."""
        if self.occupation_se == 0:
            return 0.0 if self.occupation == 0 else float("inf")
        return self.occupation / self.occupation_se

    @property
    def recurrent(self) -> bool:
        """Occupation and second-half returns both positive at the budget level.

        Positive occupation: the iterate spends time at w*; positive returns:
        it keeps leaving and coming back (a noiseless run sits at w* for ever,
        with occupation 1 and no returns).
        """
        return self.budget_low > 0 and self.log_returns_low > 0

    @property
    def steady(self) -> bool:
        """Neither returns nor occupation change between the halves (budget level)."""
        return self.returns_t <= self.threshold and self.occupation_t <= self.threshold

    @property
    def returns_per_1000(self) -> float:
        """Mean returns per 1000 steps after burn-in."""
        steps = self.n_steps - (self.n_steps + 1) // 5
        total = self.returns_first + self.returns_second
        return float(1000 * total.mean() / steps)


def cell_statistics(runs: RecurrenceRuns, n_comparisons: int) -> CellStatistics:
    """Summarise one cell at the budget level of one of ``n_comparisons`` tests."""
    length = runs.distance.shape[1]
    burn = length // 5
    middle = (burn + length) // 2
    first, second = runs.returns(burn, middle + 1), runs.returns(middle)
    occupation = runs.occupation(burn)
    n_runs = occupation.size
    threshold = stats.t_threshold(n_runs - 1, n_comparisons)
    occ = stats.mean_estimate(occupation)
    log_returns = stats.mean_estimate(np.log1p(second))
    t95 = float(sps.t.isf(0.025, n_runs - 1))
    return CellStatistics(
        n=runs.n,
        n_samples=runs.n_samples,
        noise_std=runs.noise_std,
        n_runs=n_runs,
        n_steps=length - 1,
        threshold=threshold,
        occupation=float(occ.mean),
        occupation_se=float(occ.se),
        low=float(occ.mean - t95 * occ.se),
        high=float(occ.mean + t95 * occ.se),
        returns_first=first,
        returns_second=second,
        log_returns_low=float(log_returns.mean - threshold * log_returns.se),
        returns_t=_t_statistic((second - first).astype(float)),
        occupation_t=_t_statistic(runs.occupation(middle) - runs.occupation(burn, middle)),
        seed=runs.seed,
    )
