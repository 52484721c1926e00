"""The STE-gradient method, run for many independent trials at once.

One :class:`TrialBatch` holds the training sets of ``T`` independent trials of
one setting (n, m, N). :func:`run_ste_method` iterates

    u^t = sign(w^t),   w^{t+1} = w^t - eta g_N(u^t),
    g_N(u) = (1/N) sum_k (f(Z_k; u) - y_k) Z_k^T v,

for all trials together and keeps only what the chapters need: the ergodic
sum of the iterates, the last iterate, and optionally per-step traces.

Speed
-----
* The pre-activations ``P_k = Z_k u`` are kept between steps. Only a few
  coordinates of ``u`` flip in a step, so ``P`` is updated by the flipped
  columns of ``Z`` (cost ``N m`` per flip) instead of being recomputed
  (cost ``N m n``). ``Z`` is stored as ``(T, n, N, m)`` so that a column is one
  contiguous block.
* ``Z_k^T v`` does not depend on ``u`` and is computed once.
* A trial whose gradient is exactly zero is fixed for ever (nothing changes
  any more); it is frozen and dropped from the work, and its ergodic sum is
  completed in closed form. Without label noise ``g_N(w*) = 0`` exactly,
  because the residual is computed as ``(sign(P) - sign(P*)) v - xi``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import numba
import numpy as np
from numba import njit, prange

from quantheory.seeding import SeedLike, describe, generator
from quantheory.ste.model import second_layer
from quantheory.validation import (
    nonnegative_float,
    one_of,
    positive_float,
    positive_int,
    real_vector,
)

INPUT_FAMILIES = (
    "gaussian",
    "shifted_gaussian",
    "exponential",
    "uniform",
    "rademacher",
    "student_t",
)
#: families whose entries have mean 0 and variance 1 (the others are not centred)
CENTRED_FAMILIES = ("gaussian", "uniform", "rademacher", "student_t")
SHIFT = 2.0  # default mean of the entries of the shifted Gaussian family
STUDENT_DOF = 5  # degrees of freedom of the Student t family
#: whose inputs the teacher's labels are computed on (see :func:`sample_trials`)
TEACHER_INPUTS = ("network", "raw")


def draw_inputs(
    rng: np.random.Generator, family: str, shape: tuple[int, ...], *, shift: float = SHIFT
) -> np.ndarray:
    """iid input entries of ``shape`` from one of :data:`INPUT_FAMILIES`.

    ``gaussian``: N(0, 1). ``shifted_gaussian``: N(shift, 1) (default
    N(2, 1)). ``exponential``: Exp(1) (mean 1, variance 1). ``uniform``:
    U(-sqrt 3, sqrt 3) (mean 0, variance 1). ``rademacher``: +-1 with
    probability 1/2 each. ``student_t``: Student t with :data:`STUDENT_DOF`
    degrees of freedom scaled to variance 1 (heavy tails, kurtosis 9).
    """
    one_of("family", family, INPUT_FAMILIES)
    if family == "gaussian":
        return rng.standard_normal(shape)
    if family == "shifted_gaussian":
        return float(shift) + rng.standard_normal(shape)
    if family == "exponential":
        return rng.standard_exponential(shape)
    if family == "uniform":
        return rng.uniform(-np.sqrt(3.0), np.sqrt(3.0), shape)
    if family == "student_t":
        return rng.standard_t(STUDENT_DOF, shape) * np.sqrt((STUDENT_DOF - 2) / STUDENT_DOF)
    return rng.choice(np.array([-1.0, 1.0]), size=shape)


def standardize_features(Z: np.ndarray) -> np.ndarray:
    """Subtract each feature's empirical mean and divide by its empirical std.

    A feature is one input coordinate ``j``; its statistics are taken over the
    N samples and m rows of one training set. ``Z`` has shape (T, n, N, m).
    """
    mean = Z.mean(axis=(2, 3), keepdims=True)
    std = Z.std(axis=(2, 3), keepdims=True)
    if np.any(std == 0):
        raise ValueError("a feature is constant in its training set and cannot be standardized")
    return (Z - mean) / std


@contextmanager
def single_threaded() -> Iterator[None]:
    """Run the engine's compiled flip update on one thread inside the block.

    A step updates only the few trials whose iterate moved, so each call of
    the kernel does little work; spreading it over threads costs more in
    synchronisation than it gains, badly so on a busy machine (a 5 s grid cell
    instead of 0.1 s).
    """
    previous = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        yield
    finally:
        numba.set_num_threads(previous)


@dataclass(frozen=True)
class TrialBatch:
    """The training sets of ``T`` independent trials of one setting.

    Attributes
    ----------
    Z : numpy.ndarray, shape (T, n, N, m)
        Training inputs; ``Z[t, j]`` is column j of all N inputs of trial t.
    label_signs : numpy.ndarray of int8, shape (T, N, m)
        ``sign(Z w*)``: the teacher's hidden activations.
    noise : numpy.ndarray, shape (T, N)
        Label noise; labels are ``y = label_signs @ v + noise``.
    v : numpy.ndarray, shape (m,)
    w_star : numpy.ndarray, shape (T, n)
    seed : str
    """

    Z: np.ndarray
    label_signs: np.ndarray
    noise: np.ndarray
    v: np.ndarray
    w_star: np.ndarray
    seed: str = ""

    @property
    def n_trials(self) -> int:
        return self.Z.shape[0]

    @property
    def n(self) -> int:
        return self.Z.shape[1]

    @property
    def n_samples(self) -> int:
        return self.Z.shape[2]

    @property
    def m(self) -> int:
        return self.Z.shape[3]

    def labels(self) -> np.ndarray:
        """The labels ``y``; shape (T, N)."""
        return self.label_signs @ self.v + self.noise


def sample_trials(
    n: int,
    n_samples: int,
    n_trials: int,
    seed: SeedLike,
    *,
    m: int = 128,
    v: np.ndarray | None = None,
    noise_std: float = 0.0,
    family: str = "gaussian",
    standardize: bool = False,
    shift: float = SHIFT,
    teacher_inputs: str = "network",
) -> TrialBatch:
    """Draw ``n_trials`` independent training sets of ``n_samples`` samples.

    Each trial has its own random teacher ``w*`` in {-1, +1}^n. With
    ``standardize=True`` the trained network sees the standardized inputs
    (see :func:`standardize_features`). ``teacher_inputs`` says what the
    teacher's labels are computed on: ``"network"`` (the default) on the
    inputs the network sees, as in a network with a normalization layer that
    the teacher shares; ``"raw"`` on the raw inputs, so that with
    ``standardize=True`` the labels come from other inputs than the network
    is trained on. ``shift`` is the mean of the ``shifted_gaussian`` family.
    """
    n = positive_int("n", n)
    n_samples = positive_int("n_samples", n_samples)
    n_trials = positive_int("n_trials", n_trials)
    m = positive_int("m", m)
    v = second_layer(m) if v is None else real_vector("v", v, m)
    noise_std = nonnegative_float("noise_std", noise_std)
    one_of("family", family, INPUT_FAMILIES)
    one_of("teacher_inputs", teacher_inputs, TEACHER_INPUTS)
    rng = generator(seed)
    w_star = rng.choice(np.array([-1.0, 1.0]), size=(n_trials, n))
    raw = draw_inputs(rng, family, (n_trials, n, n_samples, m), shift=shift)
    Z = standardize_features(raw) if standardize else raw
    pre = np.einsum("tjkm,tj->tkm", raw if teacher_inputs == "raw" else Z, w_star)
    label_signs = np.where(pre >= 0, 1, -1).astype(np.int8)
    noise = noise_std * rng.standard_normal((n_trials, n_samples))
    return TrialBatch(Z, label_signs, noise, v, w_star, describe(seed))


@dataclass
class SteRun:
    """What :func:`run_ste_method` keeps of a batch of trials.

    Attributes
    ----------
    ergodic_sum : numpy.ndarray, shape (T, n)
        ``sum_{t=1}^{n_steps} u^t``; its sign is the ergodic estimate.
    w_last : numpy.ndarray, shape (T, n)
        Latent weights ``w^{n_steps}``; their sign is the last-iterate estimate.
    frozen_at : numpy.ndarray of int, shape (T,)
        First step t with ``g_N(u^t) = 0`` exactly (the trial is fixed from
        then on), or -1.
    n_steps : int
    distance : numpy.ndarray of int, shape (T, n_steps + 1), optional
        Number of coordinates where ``u^t`` differs from ``w*`` (t = 0..n_steps).
    empirical_loss : numpy.ndarray, shape (T, n_steps + 1), optional
        ``L_N(u^t)``.
    """

    ergodic_sum: np.ndarray
    w_last: np.ndarray
    frozen_at: np.ndarray
    n_steps: int
    distance: np.ndarray | None = None
    empirical_loss: np.ndarray | None = None
    flips: int = field(default=0)

    def ergodic_estimate(self) -> np.ndarray:
        """``Q(mean_t u^t)`` with ``sign(0) = +1``; shape (T, n)."""
        return np.where(self.ergodic_sum >= 0, 1.0, -1.0)

    def last_iterate(self) -> np.ndarray:
        """``Q(w^T)``; shape (T, n)."""
        return np.where(self.w_last >= 0, 1.0, -1.0)


def _sign(x: np.ndarray) -> np.ndarray:
    return np.where(x >= 0, 1.0, -1.0)


def gradient_at(batch: TrialBatch, u: np.ndarray) -> np.ndarray:
    """The empirical STE gradient ``g_N(u)`` of every trial; ``u`` and result (T, n).

    The residual is ``(sign(Z u) - sign(Z_raw w*)) v - xi``, so it is exactly
    zero wherever the hidden signs agree and there is no noise.
    """
    u = np.asarray(u, dtype=float)
    if u.shape != (batch.n_trials, batch.n):
        raise ValueError(f"u must have shape (T, n) = {(batch.n_trials, batch.n)}, got {u.shape}")
    return _full_state(batch, u)[3]


def _full_state(
    batch: TrialBatch, u: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Everything the method needs at ``u`` (shape (T, n)), computed from scratch.

    Returns the pre-activations ``P = Z u`` (T, N, m), the projections
    ``Z_k^T v`` (T, N, n), the residuals (T, N) and the gradient ``g_N(u)`` (T, n).
    """
    P = np.einsum("tjkm,tj->tkm", batch.Z, u)
    projections = np.einsum("tjkm,m->tkj", batch.Z, batch.v)
    residual = (_sign(P) - batch.label_signs) @ batch.v - batch.noise
    grad = np.matmul(residual[:, None, :], projections)[:, 0, :] / batch.n_samples
    return P, projections, residual, grad


def run_ste_method(
    batch: TrialBatch,
    n_steps: int,
    step_size: float = 1.0,
    w0: np.ndarray | None = None,
    record: bool = False,
    progress: bool = False,
) -> SteRun:
    """Run the STE-gradient method on every trial of ``batch`` for ``n_steps`` steps.

    Parameters
    ----------
    batch
        The trials' training sets.
    n_steps
        Number of updates T; the ergodic sum runs over ``u^1 .. u^T``.
    step_size
        eta > 0. With ``w0 = 0`` the iterates ``u^t`` do not depend on eta
        (the latent weights scale with it), so the default 1 loses nothing.
    w0
        Starting latent weights, shape (T, n) or (n,); default zeros.
    record
        Keep per-step distance to ``w*`` and empirical loss (memory T x steps).
    progress
        Show a tqdm progress bar (for long runs in script mode).

    Notes
    -----
    The gradient only changes when ``u`` changes, so it is cached per trial and
    recomputed only for the trials in which some coordinate flipped, from the
    pre-activations updated by the flipped columns. A trial whose gradient is
    exactly zero never moves again; when every trial is in that state the loop
    stops and the ergodic sums are completed in closed form.
    """
    n_steps = positive_int("n_steps", n_steps)
    step_size = positive_float("step_size", step_size)
    T, n, N = batch.n_trials, batch.n, batch.n_samples
    w = np.zeros((T, n))
    if w0 is not None:
        w[:] = real_vector_or_matrix("w0", w0, n)
    v = batch.v
    target = batch.label_signs.astype(float)
    Z_flat = batch.Z.reshape(T, n, -1)  # column j of trial t is Z_flat[t, j]
    u = _sign(w)
    P, projections, residual, grad = _full_state(batch, u)
    ergodic = np.zeros((T, n))
    frozen_at = np.where(np.any(grad != 0, axis=1), -1, 0)
    distance = np.zeros((T, n_steps + 1), dtype=np.int32) if record else None
    loss = np.zeros((T, n_steps + 1)) if record else None
    flips = 0
    steps = range(n_steps)
    if progress:
        from tqdm import tqdm

        steps = tqdm(steps, desc=f"STE n={n} N={N}", leave=False)
    t = 0
    for t in steps:
        if record:
            distance[:, t] = np.count_nonzero(u != batch.w_star, axis=1)
            loss[:, t] = 0.5 * np.mean(residual**2, axis=1)
        if np.all(frozen_at >= 0):
            break
        w -= step_size * grad
        new_u = _sign(w)
        rows, cols = np.nonzero(new_u != u)
        if rows.size:
            flips += rows.size
            changed, starts = np.unique(rows, return_index=True)
            bounds = np.append(starts, rows.size)
            _apply_flips(
                changed,
                bounds,
                cols,
                2.0 * new_u[rows, cols],
                P,
                Z_flat,
                target,
                v,
                batch.noise,
                projections,
                residual,
                grad,
            )
            frozen_at[changed[~np.any(grad[changed] != 0, axis=1)]] = t + 1
        u = new_u
        ergodic += u
    else:
        t = n_steps
    if t < n_steps:  # every trial is fixed: complete the sums in closed form
        ergodic += (n_steps - t) * u
        if record:
            distance[:, t:] = np.count_nonzero(u != batch.w_star, axis=1)[:, None]
            loss[:, t:] = 0.5 * np.mean(residual**2, axis=1)[:, None]
    elif record:
        distance[:, n_steps] = np.count_nonzero(u != batch.w_star, axis=1)
        loss[:, n_steps] = 0.5 * np.mean(residual**2, axis=1)
    return SteRun(ergodic, w, frozen_at, n_steps, distance, loss, flips)


@njit(cache=True, parallel=True)
def _apply_flips(
    trials, bounds, cols, coefficients, P, Z_flat, target, v, noise, projections, residual, grad
):  # pragma: no cover - compiled
    """After some coordinates of ``u`` flipped: update P, residual and gradient in place.

    For trial ``trials[g]`` the flipped columns are ``cols[bounds[g]:bounds[g+1]]``
    and ``P += sum_j coefficient_j Z[:, j]`` with ``coefficient_j = u_new_j - u_old_j``
    (= +-2). One fused pass per trial updates P, takes its signs and
    accumulates the residual ``(sign(P) - sign(P*)) v - xi``; the gradient
    ``projections^T residual / N`` follows. Only the flipped columns of Z are read.
    """
    n_samples, m = target.shape[1], target.shape[2]
    for g in prange(trials.size):  # trials are independent: one thread each
        trial = trials[g]
        first, last = bounds[g], bounds[g + 1]
        block = P[trial].reshape(-1)
        for a in range(first, last):
            column = Z_flat[trial, cols[a]]
            c = coefficients[a]
            for index in range(block.size):
                block[index] += c * column[index]
        for k in range(n_samples):
            acc = 0.0
            for i in range(m):
                s = 1.0 if block[k * m + i] >= 0 else -1.0
                acc += v[i] * (s - target[trial, k, i])
            residual[trial, k] = acc - noise[trial, k]
        for j in range(grad.shape[1]):
            total = 0.0
            for k in range(n_samples):
                total += projections[trial, k, j] * residual[trial, k]
            grad[trial, j] = total / n_samples


def real_vector_or_matrix(name: str, value: np.ndarray, n: int) -> np.ndarray:
    """Validate starting weights: shape (n,) or (T, n), finite."""
    array = np.asarray(value, dtype=float)
    if array.shape[-1:] != (n,) or array.ndim > 2 or not np.all(np.isfinite(array)):
        raise ValueError(
            f"{name} must be a finite array of shape (n,) or (T, n) with n={n}, "
            f"got shape {array.shape}"
        )
    return array


def run_ste_method_reference(
    batch: TrialBatch, n_steps: int, step_size: float = 1.0, w0: np.ndarray | None = None
) -> SteRun:
    """The same method as a plain per-trial loop with a full ``Z u`` every step.

    For the benchmark and the exact checks: no incremental update, no
    vectorisation over trials, no freezing. ``w0`` has shape (T, n) (default 0).
    """
    T, n, N = batch.n_trials, batch.n, batch.n_samples
    ergodic = np.zeros((T, n))
    w_last = np.zeros((T, n))
    for trial in range(T):
        Z = batch.Z[trial].transpose(1, 2, 0)  # (N, m, n)
        target = batch.label_signs[trial].astype(float)
        projections = Z.transpose(0, 2, 1) @ batch.v  # (N, n)
        w = np.zeros(n) if w0 is None else np.array(w0[trial], dtype=float)
        for _ in range(n_steps):
            u = _sign(w)
            residual = (_sign(Z @ u) - target) @ batch.v - batch.noise[trial]
            w = w - step_size * projections.T @ residual / N
            ergodic[trial] += _sign(w)
        w_last[trial] = w
    return SteRun(ergodic, w_last, np.full(T, -1), n_steps)
