"""Theorem 3, first part: the first escape from w* under label noise, predicted exactly.

The prediction here shares no code with the engine that simulates the run:

* :func:`model_gradient_at_star` computes ``g_N(w*)`` per trial with
  :func:`quantheory.ste.model.ste_gradient`, on the raw ``(N, m, n)`` layout of
  the inputs and with the labels recomputed from the model's own network
  (the engine keeps ``Z`` as ``(T, n, N, m)``, caches the teacher's hidden
  signs and forms the residual as ``(sign(P) - sign(P*)) v - xi``);
* :func:`first_crossing_step` finds, in closed form, the first step at which
  the straight line ``w^t = w0 - t eta g`` leaves the orthant of ``w*``.

:func:`escape_experiment` then runs the engine from ``w0 = w*`` for a horizon
that does not depend on the prediction, and records the first step at which
``u^t != w*``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from quantheory.seeding import SeedLike, describe, paired
from quantheory.ste.engine import TrialBatch, run_ste_method, sample_trials, single_threaded
from quantheory.ste.model import network_output, ste_gradient
from quantheory.validation import positive_float, positive_int

#: a prediction of the escape step of every trial of a batch, given eta
EscapePredictor = Callable[[TrialBatch, float], np.ndarray]


def model_gradient_at_star(batch: TrialBatch) -> np.ndarray:
    """``g_N(w*)`` of every trial from the model's formula; shape (T, n).

    For trial t the inputs are rearranged to the model's layout (N, m, n), the
    labels are ``f(Z_k; w*) + xi_k`` with ``f`` from :func:`network_output`, and
    the gradient is :func:`ste_gradient` at ``u = w*``.
    """
    gradients = np.empty((batch.n_trials, batch.n))
    for trial in range(batch.n_trials):
        Z = np.transpose(batch.Z[trial], (1, 2, 0))  # (n, N, m) -> (N, m, n)
        w_star = batch.w_star[trial]
        y = network_output(Z, w_star, batch.v) + batch.noise[trial]
        gradients[trial] = ste_gradient(Z, y, w_star, batch.v)
    return gradients


def first_crossing_step(
    w0: np.ndarray, w_star: np.ndarray, gradient: np.ndarray, step_size: float
) -> np.ndarray:
    """First step ``t >= 1`` with ``sign(w0 - t eta g) != w*``; shapes (T, n) -> (T,).

    Coordinate j moves towards zero when ``w*_j g_j > 0``. With ``sign(0) = +1``
    a coordinate with ``w*_j = +1`` flips once ``w0_j - t eta g_j < 0``, i.e. at
    ``t = floor(w0_j / (eta g_j)) + 1``, and one with ``w*_j = -1`` flips once
    ``w0_j - t eta g_j >= 0``, at ``t = ceil(|w0_j| / (eta |g_j|))``. The escape
    step is the smallest of these (``inf`` if no coordinate moves towards zero).
    """
    step_size = positive_float("step_size", step_size)
    w0, w_star, gradient = (np.asarray(x, dtype=float) for x in (w0, w_star, gradient))
    if np.any(np.where(w0 >= 0, 1.0, -1.0) != w_star):
        raise ValueError("w0 must have the signs of w_star (the run must start at w*)")
    towards_zero = w_star * gradient > 0
    with np.errstate(divide="ignore"):
        ratio = np.abs(w0) / (step_size * np.abs(gradient))
    times = np.where(w_star > 0, np.floor(ratio) + 1, np.ceil(ratio))
    return np.min(np.where(towards_zero, times, np.inf), axis=1)


def predicted_escape_steps(batch: TrialBatch, step_size: float) -> np.ndarray:
    """The independent prediction: model gradient at w*, first crossing from ``w0 = w*``."""
    return first_crossing_step(batch.w_star, batch.w_star, model_gradient_at_star(batch), step_size)


def simulated_escape_steps(
    batch: TrialBatch, step_size: float, max_steps: int = 4096
) -> np.ndarray:
    """First step with ``u^t != w*`` in the engine's run from ``w0 = w*``; shape (T,).

    The horizon starts at 64 steps and doubles until every trial has left w*
    (or reaches ``max_steps``; a trial still at w* then gets ``inf``). It never
    looks at a prediction.
    """
    max_steps = positive_int("max_steps", max_steps)
    steps = min(64, max_steps)
    while True:
        with single_threaded():
            run = run_ste_method(batch, steps, step_size, w0=batch.w_star, record=True)
        left = run.distance > 0
        if left.any(axis=1).all() or steps >= max_steps:
            return np.where(left.any(axis=1), np.argmax(left, axis=1), np.inf)
        steps = min(2 * steps, max_steps)


@dataclass(frozen=True)
class EscapeCheck:
    """Predicted and simulated first escape steps for one noise level; arrays of shape (T,)."""

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
    predictor: EscapePredictor = predicted_escape_steps,
) -> list[EscapeCheck]:
    """For each noise level: fresh training sets, escape steps predicted and simulated.

    ``predictor`` maps (batch, eta) to predicted steps; the default is the
    independent closed form (a test may pass a broken one).
    """
    checks = []
    for noise, child in paired(noise_levels, seed):
        batch = sample_trials(n, n_samples, n_trials, child, noise_std=noise)
        checks.append(
            EscapeCheck(
                noise,
                predictor(batch, step_size),
                simulated_escape_steps(batch, step_size),
                describe(child),
            )
        )
    return checks
