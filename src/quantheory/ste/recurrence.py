"""Theorem 3, second part: recurrence to w* under label noise.

Long noisy runs started at w* show the iterate leaving w* and coming back
again and again. :func:`recurrence_map` runs them over a grid of sample sizes
N and noise levels s, one set of independent training sets per cell, and
:func:`cell_statistics` summarises a cell: the fraction of time spent at w*,
the returns to it in the two halves of the runs, and how many training sets
keep returning. (The first escape, predicted in closed form, is in
:mod:`quantheory.ste.escape`.)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial

import numpy as np
from scipy import stats as sps

from quantheory import stats
from quantheory.display import in_notebook
from quantheory.executor import map_cells
from quantheory.seeding import SeedLike, describe
from quantheory.ste.engine import run_ste_method, sample_trials, single_threaded
from quantheory.validation import one_of, positive_int

#: arrivals at w* a run needs in each half for its training set to count as recurrent
RECURRENT_ARRIVALS = 2
#: where a run starts: at the teacher's weights, or at zero (the start of Theorems 1 and 2)
STARTS = ("w*", "zero")


@dataclass(frozen=True)
class RecurrenceRuns:
    """Long runs, one per training set, with the distance to w* at every step.

    Attributes
    ----------
    v : numpy.ndarray, shape (m,)
        The second layer (the training sets themselves are not kept).
    distance : numpy.ndarray of int, shape (T, steps + 1)
        Coordinates in which ``u^t`` differs from ``w*``.
    empirical_loss : numpy.ndarray, shape (T, steps + 1)
    start : str
        ``"w*"`` or ``"zero"``: the latent weights the runs started from.
    """

    n: int
    n_samples: int
    noise_std: float
    v: np.ndarray
    distance: np.ndarray
    empirical_loss: np.ndarray
    seed: str
    start: str = "w*"

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

    def reached(self) -> np.ndarray:
        """Whether each trial was at w* at some step; shape (T,)."""
        return self.at_star.any(axis=1)

    def left_after_arrival(self) -> np.ndarray:
        """Whether each trial was away from w* at some step after it first was there; (T,)."""
        first = np.argmax(self.at_star, axis=1)
        later = np.arange(self.distance.shape[1])[None, :] > first[:, None]
        return self.reached() & np.any(later & ~self.at_star, axis=1)

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
    start: str = "w*",
    progress: bool = False,
) -> RecurrenceRuns:
    """Run ``n_trials`` independent training sets for ``n_steps`` from ``w*`` or from zero."""
    n_steps = positive_int("n_steps", n_steps)
    start = one_of("start", start, STARTS)
    batch = sample_trials(n, n_samples, n_trials, seed, noise_std=noise_std)
    w0 = batch.w_star if start == "w*" else None
    with single_threaded():
        run = run_ste_method(
            batch, n_steps, w0=w0, record=True, progress=progress and not in_notebook()
        )
    return RecurrenceRuns(
        n, n_samples, noise_std, batch.v, run.distance, run.empirical_loss, describe(seed), start
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
    runs = map_cells(
        partial(_recurrence_cell, n=n, n_runs=n_runs, n_steps=n_steps),
        cells,
        seed,
        desc="(N, s) grid",
    )
    return dict(zip(cells, runs, strict=True))


def _recurrence_cell(
    cell: tuple[int, float], seed: np.random.SeedSequence, *, n: int, n_runs: int, n_steps: int
) -> RecurrenceRuns:
    """:func:`recurrence_runs` from ``w*`` of one ``(N, s)`` cell of :func:`recurrence_map`."""
    n_samples, noise_std = cell
    return recurrence_runs(n, n_samples, noise_std, n_runs, n_steps, seed)


def ratio_interval(
    numerator: np.ndarray, denominator: np.ndarray, critical: float
) -> tuple[float, float, float]:
    """Ratio of the means of paired samples, with Fieller's interval at ``critical``.

    The interval holds every rho with ``|mean(a - rho b)| <= critical * SE(a - rho b)``
    for ``a = numerator``, ``b = denominator`` (shape (R,) each). It is bounded
    only when the denominator's mean is more than ``critical`` standard errors
    from zero; otherwise it is returned as ``(-inf, inf)``, so that too few
    returns make an equivalence test fail rather than pass.

    Returns ``(ratio, low, high)``.

    Examples
    --------
    >>> a = np.array([10.0, 12.0, 11.0, 9.0]); b = np.array([10.0, 11.0, 12.0, 9.0])
    >>> ratio, low, high = ratio_interval(a, b, 2.0)
    >>> round(ratio, 3), bool(low < 1 < high)
    (1.0, True)
    >>> ratio_interval(np.array([1.0, 0.0, 2.0]), np.array([0.0, 3.0, 0.0]), 4.0)[1:]
    (-inf, inf)
    """
    a, b = (np.asarray(x, dtype=float) for x in (numerator, denominator))
    if a.shape != b.shape or a.ndim != 1 or a.size < 2:
        raise ValueError(
            f"need two paired 1-D samples of the same length >= 2, got shapes {a.shape}, {b.shape}"
        )
    cov = np.cov(a, b, ddof=1) / a.size
    mean_a, mean_b = float(a.mean()), float(b.mean())
    t2 = critical**2
    quad = mean_b**2 - t2 * cov[1, 1]
    ratio = mean_a / mean_b if mean_b != 0 else float("nan")
    if quad <= 0:
        return ratio, -np.inf, np.inf
    half = mean_a * mean_b - t2 * cov[0, 1]
    disc = max(half**2 - quad * (mean_a**2 - t2 * cov[0, 0]), 0.0)
    return ratio, (half - np.sqrt(disc)) / quad, (half + np.sqrt(disc)) / quad


@dataclass(frozen=True)
class CellStatistics:
    """Recurrence statistics of one (N, s) cell, over its independent training sets.

    The first fifth of each run is left out as burn-in; the rest is split into
    two halves. A training set is *recurrent* when its run arrives at w* at
    least :data:`RECURRENT_ARRIVALS` times in each half.

    Attributes
    ----------
    occupation : numpy.ndarray, shape (R,)
        Fraction of steps at w* after burn-in, per run.
    occupation_first, occupation_second : numpy.ndarray, shape (R,)
        The same in the first and in the second half.
    returns_first, returns_second : numpy.ndarray of int, shape (R,)
        Arrivals at w* in the first and in the second half, per run.
    """

    n: int
    n_samples: int
    noise_std: float
    n_steps: int
    occupation: np.ndarray
    occupation_first: np.ndarray
    occupation_second: np.ndarray
    returns_first: np.ndarray
    returns_second: np.ndarray
    seed: str

    @property
    def n_runs(self) -> int:
        return int(self.occupation.size)

    @property
    def mean_occupation(self) -> float:
        return float(self.occupation.mean())

    def occupation_interval(self, n_comparisons: int | None = None) -> tuple[float, float]:
        """Student-t interval of the mean occupation: 95 %, or the budget's for one of k."""
        if n_comparisons is None:
            half = float(sps.t.isf(0.025, self.n_runs - 1)) * float(
                stats.mean_estimate(self.occupation).se
            )
            return self.mean_occupation - half, self.mean_occupation + half
        _, low, high = stats.budget_t_interval(self.occupation, n_comparisons)
        return low, high

    @property
    def recurrent_runs(self) -> int:
        """Training sets whose run arrives at w* at least twice in each half."""
        enough = np.minimum(self.returns_first, self.returns_second) >= RECURRENT_ARRIVALS
        return int(np.sum(enough))

    def recurrent_interval(self) -> tuple[float, float]:
        """95 % Wilson interval of the fraction of recurrent training sets."""
        low, high = stats.wilson_interval(self.recurrent_runs, self.n_runs)
        return float(low), float(high)

    @property
    def window(self) -> int:
        """Steps after burn-in."""
        return self.n_steps - (self.n_steps + 1) // 5

    @property
    def returns_per_1000(self) -> np.ndarray:
        """Returns per 1000 steps after burn-in, per run; shape (R,)."""
        return 1000 * (self.returns_first + self.returns_second) / self.window

    def returns_interval(self) -> tuple[float, float, float]:
        """Mean returns per 1000 steps with its 95 % t interval."""
        rate = self.returns_per_1000
        half = float(sps.t.isf(0.025, self.n_runs - 1)) * float(stats.mean_estimate(rate).se)
        return float(rate.mean()), float(rate.mean() - half), float(rate.mean() + half)

    def returns_ratio(self, critical: float | None = None) -> tuple[float, float, float]:
        """Second-half over first-half returns (ratio of means) with Fieller's interval.

        ``critical`` defaults to the two-sided 95 % t quantile.
        """
        if critical is None:
            critical = float(sps.t.isf(0.025, self.n_runs - 1))
        return ratio_interval(self.returns_second, self.returns_first, critical)


def cell_statistics(runs: RecurrenceRuns) -> CellStatistics:
    """Summarise one cell: occupation and returns after burn-in, in two halves."""
    length = runs.distance.shape[1]
    burn = length // 5
    middle = (burn + length) // 2
    return CellStatistics(
        n=runs.n,
        n_samples=runs.n_samples,
        noise_std=runs.noise_std,
        n_steps=length - 1,
        occupation=runs.occupation(burn),
        occupation_first=runs.occupation(burn, middle),
        occupation_second=runs.occupation(middle),
        returns_first=runs.returns(burn, middle + 1),
        returns_second=runs.returns(middle),
        seed=runs.seed,
    )


def pooled(cells: Sequence[CellStatistics], field: str) -> np.ndarray:
    """One per-run array of ``field``, concatenated over ``cells``."""
    return np.concatenate([getattr(c, field) for c in cells])
