"""Theorem 2: the last iterate against the ergodic estimate, on the same runs.

* :func:`model_absorbing_gradients` computes ``g_N(w*)`` of fresh training sets
  from the model's formula (not from the engine's state); without label noise
  it must be exactly zero.
* :func:`compare_last_and_ergodic` fits N50(n) of both estimates on the
  shared (n, N) grid and bootstraps the pair jointly: each run recorded both
  estimates, so each cell's four outcomes (both succeed, only the ergodic,
  only the last, neither) are redrawn together, which keeps the strong
  correlation between the two estimates in the ratio's interval.
* :func:`simulated_grid` draws a grid's counts run by run from two logistic
  curves in log N, with the real grid's design (n, N and trials per cell):
  the test bed on which the chapter and the tests show what the claims can
  detect with binomial noise of the real size.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from quantheory.seeding import SeedLike, describe, generator
from quantheory.ste.engine import TrialBatch, run_ste_method_reference
from quantheory.ste.escape import model_gradient_at_star
from quantheory.ste.sample_complexity import SuccessGrid, fit_n50
from quantheory.validation import positive_int


def absorbing_violations(batch: TrialBatch, n_steps: int) -> int:
    """Start the plain per-trial loop at ``w*`` and count trials whose iterate ever moves.

    Uses :func:`run_ste_method_reference`, which never freezes, so it checks the
    absorbing property independently of the engine's shortcut.
    """
    run = run_ste_method_reference(batch, n_steps, w0=batch.w_star)
    stayed = np.all(run.ergodic_sum == n_steps * batch.w_star, axis=1)
    return int(np.sum(~stayed | np.any(run.w_last != batch.w_star, axis=1)))


def model_absorbing_gradients(batches: Sequence[TrialBatch]) -> np.ndarray:
    """``max_j |g_N(w*)_j|`` of every trial of every batch, from the model's formula; (sum T,)."""
    return np.concatenate([np.abs(model_gradient_at_star(b)).max(axis=1) for b in batches])


def outcome_counts(grid: SuccessGrid) -> np.ndarray:
    """Each cell's runs split by outcome; shape (I, J, 4).

    The last axis counts runs in which both estimates, only the ergodic one,
    only the last iterate, or neither recovered ``w*``.
    """
    both = grid.last - grid.last_only
    ergodic_only = grid.ergodic - both
    neither = grid.n_trials - grid.ergodic - grid.last_only
    counts = np.stack([both, ergodic_only, grid.last_only, neither], axis=-1)
    if np.any(counts < 0):
        raise ValueError("the grid's counts are inconsistent (a negative outcome count)")
    return counts


def swap_estimates(grid: SuccessGrid) -> SuccessGrid:
    """The grid with the roles of the two estimates exchanged (a mutation for the tests)."""
    counts = outcome_counts(grid)
    return SuccessGrid(
        **{
            **grid.__dict__,
            "ergodic": grid.last.copy(),
            "last": grid.ergodic.copy(),
            "last_only": counts[..., 1].copy(),
        }
    )


def simulated_grid(
    grid: SuccessGrid,
    n50_ergodic: np.ndarray,
    n50_last: np.ndarray,
    steepness: float,
    seed: SeedLike,
) -> SuccessGrid:
    """A grid with ``grid``'s design whose counts are drawn from two logistic curves.

    In cell (n_i, N_j) each of ``grid.n_trials`` runs draws one uniform U; the
    ergodic estimate succeeds if ``U < expit(steepness (log N - log n50_ergodic[i]))``,
    the last iterate if U is below the same curve at ``n50_last[i]``. The
    shared U pairs the two estimates as strongly as two success rates allow
    (as on the real grid, where both come from the same run). Without noise a
    last-iterate success is absorption at w*, so ``fixed = last``.

    Parameters
    ----------
    grid : SuccessGrid
        Supplies ``ns`` (I,), ``sample_sizes`` (J,), ``n_trials`` and ``n_steps``.
    n50_ergodic, n50_last : numpy.ndarray, shape (I,)
        The true N50 of the two curves in each row.
    steepness : float
        Slope of the logit of the success rate in log N (about 3 to 5 on the
        real grids).
    seed : SeedLike
    """
    n50_ergodic = np.asarray(n50_ergodic, dtype=float)
    n50_last = np.asarray(n50_last, dtype=float)
    if n50_ergodic.shape != (grid.ns.size,) or n50_last.shape != (grid.ns.size,):
        raise ValueError(
            f"n50_ergodic and n50_last must have shape ({grid.ns.size},), "
            f"got {n50_ergodic.shape} and {n50_last.shape}"
        )
    log_n = np.log(np.asarray(grid.sample_sizes, dtype=float))

    def rate(n50: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-steepness * (log_n[None, :] - np.log(n50)[:, None])))

    u = generator(seed).random((grid.ns.size, log_n.size, grid.n_trials))
    ergodic = u < rate(n50_ergodic)[..., None]
    last = u < rate(n50_last)[..., None]
    zeros = np.zeros(ergodic.shape[:2], dtype=int)
    last_count = last.sum(axis=-1)
    return SuccessGrid(
        **{
            **grid.__dict__,
            "ergodic": ergodic.sum(axis=-1),
            "last": last_count,
            "last_only": (last & ~ergodic).sum(axis=-1),
            "fixed": last_count,
            "fixed_not_at_star": zeros,
            "last_only_early": zeros,
            "seed": describe(seed),
        }
    )


@dataclass(frozen=True)
class LastVsErgodic:
    """N50 of both estimates over n, their ratio and the exponents, with a paired bootstrap.

    Attributes
    ----------
    ns : numpy.ndarray of int, shape (I,)
    n50_ergodic, n50_last : numpy.ndarray, shape (I,)
    draws_ergodic, draws_last : numpy.ndarray, shape (B, I)
        N50 of both estimates in the joint bootstrap resamples (a resample in
        which some row does not cross 50 % is dropped).
    """

    ns: np.ndarray
    n50_ergodic: np.ndarray
    n50_last: np.ndarray
    draws_ergodic: np.ndarray
    draws_last: np.ndarray

    def up_to(self, n_max: int) -> LastVsErgodic:
        """The same comparison restricted to the rows with ``n <= n_max``."""
        rows = self.ns <= n_max
        if not rows.any():
            raise ValueError(f"no row with n <= {n_max} (n = {self.ns.tolist()})")
        return LastVsErgodic(
            self.ns[rows],
            self.n50_ergodic[rows],
            self.n50_last[rows],
            self.draws_ergodic[:, rows],
            self.draws_last[:, rows],
        )

    @property
    def log_ratio(self) -> np.ndarray:
        """``log(N50_last / N50_ergodic)`` per n; shape (I,)."""
        return np.log(self.n50_last / self.n50_ergodic)

    @property
    def log_ratio_se(self) -> np.ndarray:
        """Bootstrap standard error of :attr:`log_ratio`; shape (I,)."""
        return np.std(np.log(self.draws_last / self.draws_ergodic), axis=0, ddof=1)

    def ratio_slope(self) -> tuple[float, float]:
        """Least-squares slope of :attr:`log_ratio` on log n, and its bootstrap SE."""
        log_n = np.log(self.ns)
        ratios = np.log(self.draws_last / self.draws_ergodic)
        slopes = [np.polyfit(log_n, row, 1)[0] for row in ratios]
        return float(np.polyfit(log_n, self.log_ratio, 1)[0]), float(np.std(slopes, ddof=1))

    def ratio_interval(self, z: float) -> tuple[np.ndarray, np.ndarray]:
        """``exp(log ratio -+ z SE)``: the ratio's interval at critical value z; (I,) each."""
        return (
            np.exp(self.log_ratio - z * self.log_ratio_se),
            np.exp(self.log_ratio + z * self.log_ratio_se),
        )

    def n50_interval(self, which: str) -> tuple[np.ndarray, np.ndarray]:
        """95 % percentile interval of N50 for ``"ergodic"`` or ``"last"``; (I,) each."""
        draws = {"ergodic": self.draws_ergodic, "last": self.draws_last}[which]
        low, high = np.percentile(draws, [2.5, 97.5], axis=0)
        return low, high

    def exponent(self, which: str) -> tuple[float, float]:
        """Least-squares slope of log N50 on log n, and its bootstrap SE."""
        n50 = {"ergodic": self.n50_ergodic, "last": self.n50_last}[which]
        draws = {"ergodic": self.draws_ergodic, "last": self.draws_last}[which]
        log_n = np.log(self.ns)
        slopes = [np.polyfit(log_n, np.log(row), 1)[0] for row in draws]
        return float(np.polyfit(log_n, np.log(n50), 1)[0]), float(np.std(slopes, ddof=1))


def logistic_n50(
    sample_sizes: np.ndarray, successes: np.ndarray, trials: int, iterations: int = 60
) -> np.ndarray:
    """N50 of many rows at once: maximum likelihood of ``expit(a + b log N)`` by Newton.

    The same fit as :func:`quantheory.ste.sample_complexity.fit_n50`, vectorised
    over any leading axes so that a bootstrap of thousands of rows takes
    seconds. ``successes`` has shape (..., J); returns shape (...). A row
    that does not cross 50 % gets ``nan``. Steps are damped, so a row with
    (nearly) separated data still returns the crossing point.
    """
    x = np.log(np.asarray(sample_sizes, dtype=float))
    centre = x.mean()
    x = x - centre
    k = np.asarray(successes, dtype=float)
    rates = k / trials
    crosses = (rates.min(axis=-1) < 0.5) & (rates.max(axis=-1) > 0.5)
    # start at the first grid point at or above 50 %: from a = 0 (the grid's middle)
    # a row whose transition sits at one end of a long grid can diverge
    first_above = np.argmax(rates >= 0.5, axis=-1)
    b = np.full(k.shape[:-1], 4.0)
    a = -b * x[first_above]
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-(a[..., None] + b[..., None] * x)))
        residual = k - trials * p
        weight = trials * p * (1 - p) + 1e-9
        g_a, g_b = residual.sum(-1), (residual * x).sum(-1)
        h_aa, h_ab, h_bb = weight.sum(-1), (weight * x).sum(-1), (weight * x * x).sum(-1)
        det = h_aa * h_bb - h_ab**2
        step_a = (h_bb * g_a - h_ab * g_b) / det
        step_b = (h_aa * g_b - h_ab * g_a) / det
        scale = 2.0 / np.maximum(np.maximum(np.abs(step_a), np.abs(step_b)), 2.0)
        a, b = a + scale * step_a, b + scale * step_b
    log_n50 = np.where(crosses, centre - a / np.where(crosses, b, 1.0), 0.0)
    return np.where(crosses, np.exp(log_n50), np.nan)


def compare_last_and_ergodic(grid: SuccessGrid, n_boot: int, seed: SeedLike) -> LastVsErgodic:
    """Fit N50(n) of both estimates and bootstrap them jointly over the binomial cells.

    Each resample redraws every cell's four outcome counts from a multinomial
    with the observed proportions, then refits both rows of N50.
    """
    n_boot = positive_int("n_boot", n_boot)
    counts = outcome_counts(grid)
    proportions = counts / grid.n_trials
    redrawn = generator(seed).multinomial(
        grid.n_trials, np.broadcast_to(proportions, (n_boot, *proportions.shape))
    )  # (B, I, J, 4)
    draws_ergodic = logistic_n50(
        grid.sample_sizes, redrawn[..., 0] + redrawn[..., 1], grid.n_trials
    )
    draws_last = logistic_n50(grid.sample_sizes, redrawn[..., 0] + redrawn[..., 2], grid.n_trials)
    kept = np.all(np.isfinite(draws_ergodic) & np.isfinite(draws_last), axis=1)
    if kept.sum() < n_boot // 2:
        raise ValueError("most bootstrap resamples have no N50; widen the grid of N")
    return LastVsErgodic(
        np.asarray(grid.ns),
        fit_n50(grid.sample_sizes, grid.ergodic, grid.n_trials),
        fit_n50(grid.sample_sizes, grid.last, grid.n_trials),
        draws_ergodic[kept],
        draws_last[kept],
    )
