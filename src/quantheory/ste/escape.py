"""Theorem 3, first part: the first escape from w* under label noise, predicted exactly.

Two predictions, neither of which uses the engine.

**The distribution of the escape step, without data.** The paper's update is
``w^{t+1} = w^t - eta g_N(u^t)`` with ``u^t = sign(w^t)`` (``sign(0) = +1``).
From ``w0 = w*`` the quantized weights stay at ``w*`` until a coordinate changes
sign, so the gradient is the constant ``g = g_N(w*)`` and ``w^t = w* - t eta g``.
Coordinate j moves towards zero when ``w*_j g_j > 0`` and then changes sign at
``ceil(1/(eta |g_j|))`` (``floor(1/(eta g_j)) + 1`` for ``w*_j = +1``; the two
differ only when ``1/(eta g_j)`` is an integer, an event of probability 0).
At ``w*`` the residuals are the noise, so
``g = -(1/N) sum_k xi_k a_k`` with ``a_k = Z_k^T v``. Given the noise, the
``a_k`` are independent of it and of each other, with iid ``N(0, |v|^2)``
coordinates (the columns of ``Z_k`` are independent standard normal vectors),
hence, exactly,

    g | xi ~ N(0, |v|^2 |xi|^2 / N^2 I_n),   |xi|^2 = s^2 chi^2_N,

i.e. ``g = (s |v| / N) R X`` with ``R ~ chi_N`` and ``X ~ N(0, I_n)``
independent: variance ``s^2 |v|^2 / N`` per coordinate, with a scale common to
all coordinates. As ``w*`` is uniform and independent of ``g`` and ``X`` is
symmetric, ``w*_j g_j`` has the law of ``g_j``, and the escape step is
``T = ceil(N / (eta s |v| R max_j X_j))`` (``inf`` when every ``X_j <= 0``).
For ``t >= 1``

    P(T <= t) = 1 - E_R[Phi(N / (eta s |v| t R))^n],

one integral over the chi distribution (:func:`escape_step_cdf`). It depends on
the data only through ``(n, N, s, |v|, eta)``, so it sees a wrong noise level
or a wrong number of samples in the data path.

**The escape step of each trial.** The closed form above applied to each
trial's own ``g_N(w*)``, computed with no code shared with the engine:

* :func:`model_gradient_at_star` computes ``g_N(w*)`` per trial with
  :func:`quantheory.ste.model.ste_gradient`, on the raw ``(N, m, n)`` layout of
  the inputs and with the labels recomputed from the model's own network
  (the engine keeps ``Z`` as ``(T, n, N, m)``, caches the teacher's hidden
  signs and forms the residual as ``(sign(P) - sign(P*)) v - xi``);
* :func:`first_crossing_step` finds, in closed form, the first step at which
  the straight line ``w^t = w0 - t eta g`` leaves the orthant of ``w*``.

:func:`escape_experiment` then runs the engine from ``w0 = w*`` for a horizon
that does not depend on the prediction, and records the first step at which
``u^t != w*``. It also follows the first trials of each batch for
:data:`AFTER_ESCAPE` steps past the predicted escape, in the engine and in
:func:`reference_trajectory`, a plain per-trial loop over the model's
formulas, so that the whole trajectory up to the escape and the steps after
it (where the engine's incremental updates start) are compared too.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import partial

import numpy as np
from scipy import stats as sps

from quantheory.executor import map_cells
from quantheory.seeding import SeedLike, describe, generator, spawn
from quantheory.ste.engine import TrialBatch, run_ste_method, sample_trials, single_threaded
from quantheory.ste.model import network_output, second_layer, sign, ste_gradient
from quantheory.validation import nonnegative_float, positive_float, positive_int

#: a prediction of the escape step of every trial of a batch, given eta
EscapePredictor = Callable[[TrialBatch, float], np.ndarray]

#: longest horizon of the simulated escape (a trial still at w* then has escape step inf)
MAX_STEPS = 4096
#: Gauss-Legendre nodes of the quadrature in :func:`escape_step_cdf`
QUADRATURE_NODES = 200
#: steps past the latest predicted escape over which trajectories are compared (fixed in advance)
AFTER_ESCAPE = 50


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


def escape_step_cdf(
    steps: np.ndarray,
    n: int,
    n_samples: int,
    noise_std: float,
    v_norm: float,
    step_size: float,
) -> np.ndarray:
    """``P(T <= t)`` for the first escape step ``T`` from ``w0 = w*``, from the model alone.

    ``1 - E_R[Phi(N / (eta s |v| t R))^n]`` with ``R ~ chi_N`` (see the module
    docstring), by Gauss-Legendre quadrature over the chi distribution's range
    (tails beyond probability 1e-15 left out); 0 for ``t < 1``. Shape of
    ``steps`` kept.

    Examples
    --------
    >>> cdf = escape_step_cdf(np.array([0, 1, 10**9]), 25, 140, 0.5, 1.0, 1.0)
    >>> float(cdf[0]), bool(cdf[1] < 1e-12), bool(abs(cdf[2] - (1 - 2.0**-25)) < 1e-6)
    (0.0, True, True)
    """
    n, n_samples = positive_int("n", n), positive_int("n_samples", n_samples)
    noise_std = positive_float("noise_std", noise_std)
    v_norm, step_size = positive_float("v_norm", v_norm), positive_float("step_size", step_size)
    chi = sps.chi(n_samples)
    nodes, weights = np.polynomial.legendre.leggauss(QUADRATURE_NODES)
    low, high = chi.ppf(1e-15), chi.isf(1e-15)
    r = low + (high - low) * (nodes + 1) / 2
    weights = weights * (high - low) / 2 * chi.pdf(r)
    scale = n_samples / (step_size * noise_std * v_norm)
    steps = np.asarray(steps, dtype=float)
    t = np.maximum(steps, 1.0)[..., None]
    stay = np.exp(n * sps.norm.logcdf(scale / (t * r))) @ weights
    return np.where(steps >= 1, 1.0 - stay, 0.0)


def escape_step_median(
    n: int, n_samples: int, noise_std: float, v_norm: float, step_size: float
) -> int:
    """Smallest integer ``t`` with ``P(T <= t) >= 1/2`` (see :func:`escape_step_cdf`)."""
    t = 1
    while escape_step_cdf(np.array(t), n, n_samples, noise_std, v_norm, step_size) < 0.5:
        t *= 2
    low, high = t // 2, t  # F(low) < 1/2 <= F(high) (low = 0 when t = 1)
    while high - low > 1:
        mid = (low + high) // 2
        below = escape_step_cdf(np.array(mid), n, n_samples, noise_std, v_norm, step_size) < 0.5
        low, high = (mid, high) if below else (low, mid)
    return high


def randomized_pit(
    steps: np.ndarray,
    cdf: Callable[[np.ndarray], np.ndarray],
    horizon: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """``F(T - 1) + V (F(T) - F(T - 1))`` with ``V ~ U(0, 1)``: uniform iff ``T ~ F``; (S,).

    The randomized probability integral transform of integer steps ``T``;
    ``T = inf`` means "no escape within ``horizon`` steps" and is mapped to
    ``F(horizon) + V (1 - F(horizon))``. ``cdf`` maps integer steps to
    ``P(T <= t)``.
    """
    steps = np.asarray(steps, dtype=float)
    finite = np.isfinite(steps)
    safe = np.where(finite, steps, horizon + 1.0)
    upper = np.where(finite, cdf(safe), 1.0)
    lower = cdf(np.where(finite, safe - 1, float(horizon)))
    return lower + rng.uniform(size=steps.shape) * (upper - lower)


def predicted_escape_steps(batch: TrialBatch, step_size: float) -> np.ndarray:
    """The independent prediction: model gradient at w*, first crossing from ``w0 = w*``."""
    return first_crossing_step(batch.w_star, batch.w_star, model_gradient_at_star(batch), step_size)


def simulated_escape_steps(
    batch: TrialBatch, step_size: float, max_steps: int = MAX_STEPS
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


def reference_trajectory(
    batch: TrialBatch, trial: int, step_size: float, n_steps: int
) -> tuple[np.ndarray, np.ndarray]:
    """One trial of the method from ``w0 = w*``, as a plain loop over the model's formulas.

    Every step recomputes ``g_N(u)`` with :func:`ste_gradient` on the (N, m, n)
    layout and labels ``f(Z; w*) + xi`` from :func:`network_output`; nothing
    is cached or updated incrementally.

    Returns
    -------
    distance : numpy.ndarray of int, shape (n_steps + 1,)
        Coordinates where ``u^t`` differs from ``w*``, t = 0 .. n_steps.
    w_last : numpy.ndarray, shape (n,)
        Latent weights after ``n_steps`` steps.
    """
    n_steps = positive_int("n_steps", n_steps)
    Z = np.transpose(batch.Z[trial], (1, 2, 0))  # (n, N, m) -> (N, m, n)
    w_star = batch.w_star[trial]
    y = network_output(Z, w_star, batch.v) + batch.noise[trial]
    w = w_star.astype(float)
    distance = np.empty(n_steps + 1, dtype=int)
    for t in range(n_steps + 1):
        u = sign(w)
        distance[t] = np.count_nonzero(u != w_star)
        if t < n_steps:
            w = w - step_size * ste_gradient(Z, y, u, batch.v)
    return distance, w


@dataclass(frozen=True)
class TrajectoryCheck:
    """Engine and reference loop over the same steps, for the first trials of a batch.

    Attributes
    ----------
    n_steps : int
        Steps compared: the latest predicted escape plus :data:`AFTER_ESCAPE`.
    engine_distance, reference_distance : numpy.ndarray of int, shape (K, n_steps + 1)
    weights_gap : float
        Largest |difference| of the latent weights after ``n_steps`` steps.
    """

    n_steps: int
    engine_distance: np.ndarray
    reference_distance: np.ndarray
    weights_gap: float

    @property
    def matching(self) -> np.ndarray:
        """Whether each trial's distance to w* agrees at every step; shape (K,)."""
        return np.all(self.engine_distance == self.reference_distance, axis=1)


def compare_trajectories(
    batch: TrialBatch, predicted: np.ndarray, step_size: float, n_trials: int
) -> TrajectoryCheck:
    """Run the first ``n_trials`` trials in the engine and in :func:`reference_trajectory`.

    Both go from ``w0 = w*`` for the latest finite predicted escape step of
    these trials plus :data:`AFTER_ESCAPE` steps.
    """
    n_trials = positive_int("n_trials", n_trials)
    if n_trials > batch.n_trials:
        raise ValueError(f"n_trials must be at most {batch.n_trials}, got {n_trials}")
    first = predicted[:n_trials]
    n_steps = int(np.max(np.where(np.isfinite(first), first, 0))) + AFTER_ESCAPE
    sub = replace(
        batch,
        Z=batch.Z[:n_trials],
        label_signs=batch.label_signs[:n_trials],
        noise=batch.noise[:n_trials],
        w_star=batch.w_star[:n_trials],
    )
    with single_threaded():
        run = run_ste_method(sub, n_steps, step_size, w0=sub.w_star, record=True)
    reference = [reference_trajectory(sub, t, step_size, n_steps) for t in range(n_trials)]
    reference_distance = np.array([d for d, _ in reference])
    gap = float(np.max(np.abs(run.w_last - np.array([w for _, w in reference]))))
    return TrajectoryCheck(n_steps, run.distance, reference_distance, gap)


@dataclass(frozen=True)
class EscapeCheck:
    """Escape steps for one cell (N, s); arrays of shape (T,).

    Attributes
    ----------
    predicted, simulated : numpy.ndarray
        Per trial: the closed form on the trial's own ``g_N(w*)``, and the engine.
    pit : numpy.ndarray
        Randomized probability integral transform of ``simulated`` through the
        data-free law :func:`escape_step_cdf`; uniform on (0, 1) if the law holds.
    predicted_median : int
        Median of the data-free law.
    trajectory : TrajectoryCheck
        The engine against the reference loop on the first trials, through the
        escape and :data:`AFTER_ESCAPE` steps beyond.
    """

    n_samples: int
    noise_std: float
    predicted: np.ndarray
    simulated: np.ndarray
    pit: np.ndarray
    predicted_median: int
    trajectory: TrajectoryCheck
    seed: str

    @property
    def simulated_median(self) -> float:
        return float(np.median(self.simulated))


def escape_cell(
    cell: tuple[int, float],
    seed: SeedLike,
    *,
    n: int,
    n_trials: int,
    step_size: float,
    reference_trials: int,
    predictor: EscapePredictor = predicted_escape_steps,
) -> EscapeCheck:
    """One cell (N, s) of :func:`escape_experiment`, from its own ``seed``.

    ``seed`` is split into the training sets and an independent stream for
    the randomization of :func:`randomized_pit`.
    """
    n_samples, noise = cell
    streams = spawn(seed, ["trials", "randomization"])
    batch = sample_trials(n, n_samples, n_trials, streams["trials"], noise_std=noise)
    predicted = predictor(batch, step_size)
    simulated = simulated_escape_steps(batch, step_size)
    v_norm = float(np.linalg.norm(second_layer(batch.v.size)))
    law = partial(
        escape_step_cdf,
        n=n,
        n_samples=n_samples,
        noise_std=noise,
        v_norm=v_norm,
        step_size=step_size,
    )
    pit = randomized_pit(simulated, law, MAX_STEPS, generator(streams["randomization"]))
    return EscapeCheck(
        n_samples,
        noise,
        predicted,
        simulated,
        pit,
        escape_step_median(n, n_samples, noise, v_norm, step_size),
        compare_trajectories(batch, predicted, step_size, reference_trials),
        describe(seed),
    )


def escape_experiment(
    n: int,
    cells: Sequence[tuple[int, float]],
    n_trials: int,
    step_size: float,
    seed: SeedLike,
    reference_trials: int = 10,
    predictor: EscapePredictor = predicted_escape_steps,
) -> list[EscapeCheck]:
    """For each cell (N, s): fresh training sets, escape steps predicted and simulated.

    The cells are those of a :func:`~quantheory.executor.map_cells` sweep, each
    computed by :func:`escape_cell` from its own child of ``seed``. The first
    ``reference_trials`` trials of each cell are also followed past the escape
    in the engine and in the reference loop. ``predictor`` maps (batch, eta)
    to predicted steps; the default is the independent closed form (a test may
    pass a broken one; on a Dask cluster it must be a module-level function).
    """
    cells = [(n_samples, nonnegative_float("noise_std", noise)) for n_samples, noise in cells]
    cell = partial(
        escape_cell,
        n=n,
        n_trials=n_trials,
        step_size=positive_float("step_size", step_size),
        reference_trials=reference_trials,
        predictor=predictor,
    )
    return map_cells(cell, cells, seed, desc="escape")
