"""Theorem 3: escape from and recurrence to w* under label noise.

With label noise ``g_N(w*) != 0``. Started at a latent ``w0`` with
``sign(w0) = w*``, the latent weights move on the straight line
``w0 - t eta g_N(w*)`` until the first coordinate changes sign; that step is
predicted in closed form by :func:`predicted_escape_time`. Long runs then
show the iterate leaving w* and coming back again and again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from quantheory import stats
from quantheory.display import in_notebook
from quantheory.seeding import SeedLike, describe, paired
from quantheory.ste.engine import TrialBatch, gradient_at, run_ste_method, sample_trials
from quantheory.validation import positive_float, positive_int


def predicted_escape_time(
    w0: np.ndarray, w_star: np.ndarray, gradient: np.ndarray, step_size: float
) -> np.ndarray:
    """First step at which ``sign(w0 - t eta g) != w*``, per trial; shape (T,).

    Coordinate j moves towards zero when ``w*_j g_j > 0``. With ``sign(0) = +1``
    a coordinate with ``w*_j = +1`` flips once ``w0_j - t eta g_j < 0``, i.e. at
    ``t = floor(w0_j / (eta g_j)) + 1``, and one with ``w*_j = -1`` flips once
    ``w0_j - t eta g_j >= 0``, at ``t = ceil(|w0_j| / (eta |g_j|))``. The escape
    time is the smallest of these (``inf`` if no coordinate moves towards zero).
    """
    step_size = positive_float("step_size", step_size)
    w0, w_star, gradient = (np.asarray(x, dtype=float) for x in (w0, w_star, gradient))
    if np.any(np.sign(w0) != w_star):
        raise ValueError("w0 must have the signs of w_star (the run must start at w*)")
    towards_zero = w_star * gradient > 0
    with np.errstate(divide="ignore"):
        ratio = np.abs(w0) / (step_size * np.abs(gradient))
    times = np.where(w_star > 0, np.floor(ratio) + 1, np.ceil(ratio))
    return np.min(np.where(towards_zero, times, np.inf), axis=1)


@dataclass(frozen=True)
class EscapeCheck:
    """Predicted and simulated first escape times for one noise level."""

    noise_std: float
    predicted: np.ndarray
    simulated: np.ndarray
    seed: str


def escape_experiment(
    n: int,
    n_samples: int,
    noise_levels: Sequence[float],
    n_trials: int,
    step_size: float,
    seed: SeedLike,
    max_steps: int = 2000,
) -> list[EscapeCheck]:
    """For each noise level: start at ``w0 = w*`` and compare escape times."""
    checks = []
    for noise, child in paired(noise_levels, seed):
        batch = sample_trials(n, n_samples, n_trials, child, noise_std=noise)
        predicted = predicted_escape_time(
            batch.w_star, batch.w_star, gradient_at(batch, batch.w_star), step_size
        )
        steps = int(min(max_steps, np.max(predicted[np.isfinite(predicted)], initial=1) + 2))
        run = run_ste_method(batch, steps, step_size, w0=batch.w_star, record=True)
        left = run.distance > 0
        simulated = np.where(left.any(axis=1), np.argmax(left, axis=1), np.inf)
        checks.append(EscapeCheck(noise, predicted, simulated, describe(child)))
    return checks


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
    n: int, n_samples: int, noise_std: float, n_trials: int, n_steps: int, seed: SeedLike
) -> RecurrenceRuns:
    """Run ``n_trials`` independent noisy training sets from ``w0 = w*`` for ``n_steps``."""
    n_steps = positive_int("n_steps", n_steps)
    batch = sample_trials(n, n_samples, n_trials, seed, noise_std=noise_std)
    run = run_ste_method(batch, n_steps, w0=batch.w_star, record=True, progress=not in_notebook())
    return RecurrenceRuns(
        n, n_samples, noise_std, batch, run.distance, run.empirical_loss, describe(seed)
    )


@dataclass(frozen=True)
class OccupationSummary:
    """Mean occupation of w* over training sets with a normal-approximation interval."""

    label: float
    mean: float
    low: float
    high: float

    def __str__(self) -> str:
        return (
            f"{self.label:>6g}: occupation {self.mean:.3f} "
            f"(95% CI {self.low:.3f} to {self.high:.3f})"
        )


def occupation_summary(runs: RecurrenceRuns, label: float) -> OccupationSummary:
    """Mean occupation over training sets with its 95 % interval."""
    estimate = stats.mean_estimate(runs.occupation())
    low, high = estimate.interval(0.95)
    return OccupationSummary(label, float(estimate.mean), float(low), float(high))


def occupation_sweep(
    n: int,
    settings: Sequence[tuple[int, float]],
    n_runs: int,
    n_steps: int,
    seed: SeedLike,
    label: str,
) -> list[OccupationSummary]:
    """Mean occupation of w* for each (N, s) in ``settings``, one child seed each.

    ``label`` says which of the two varies (``"samples"`` or ``"noise"``); it
    becomes the summary's label.
    """
    if label not in ("samples", "noise"):
        raise ValueError(f"label must be 'samples' or 'noise', got {label!r}")
    summaries = []
    for (n_samples, noise), child in paired(settings, seed):
        runs = recurrence_runs(n, n_samples, noise, n_runs, n_steps, child)
        summaries.append(occupation_summary(runs, n_samples if label == "samples" else noise))
    return summaries
