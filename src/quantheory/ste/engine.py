"""The STE-gradient method, run for many independent trials at once.

One :class:`TrialBatch` holds the training sets of ``T`` independent trials of
one setting (n, m, N). :func:`run_ste_method` iterates

    u^t = sign(w^t),   w^{t+1} = w^t - eta g_N(u^t),
    g_N(u) = (1/N) sum_k (f(Z_k; u) - y_k) Z_k^T v,

for all trials and keeps only what the chapters need: the ergodic sum of the
iterates, the last iterate, and optionally per-step traces.

Speed
-----
* Whole trajectories run in compiled code (numba), one trial per thread: the
  step loop, the flips, the ergodic sums, the freezing and the traces; no
  Python runs per step.
* The pre-activations ``P_k = Z_k u`` are kept between steps. Only a few
  coordinates of ``u`` flip in a step, so ``P`` is updated by the flipped
  columns of ``Z`` (cost ``N m`` per flip) instead of being recomputed
  (cost ``N m n``); the residuals and the gradient then cost ``N (m + n)``.
  A step in which nothing flips costs ``O(n)``: the gradient has not changed.
* ``Z_k^T v`` does not depend on ``u`` and is computed once.
* Memory layout: the inputs of a trial are stored as ``(n, m, N)`` (the
  sample index fastest), although :attr:`TrialBatch.Z` has the logical
  shape ``(T, n, N, m)``. A flipped column is one contiguous block, and the
  residual and gradient loops run along contiguous rows without reordering
  any sum (so the compiled loops vectorise and stay deterministic).
* A trial whose gradient is exactly zero is fixed for ever (nothing changes
  any more); it stops, and its ergodic sum is completed in closed form.
  Without label noise ``g_N(w*) = 0`` exactly, because the residual is
  computed as ``(sign(P) - sign(P*)) v - xi``.
* Gaussian inputs are drawn by a compiled loop from the same
  :class:`numpy.random.Generator`, which gives exactly NumPy's
  ``standard_normal`` stream about three times faster.

Memory
------
A trial's inputs take ``8 n N m`` bytes (:func:`trial_bytes` adds the
engine's workspace). Sweeps process a grid cell's trials in chunks that fit
:data:`MEMORY_BUDGET` (:func:`trials_per_chunk`), each trial drawn from its
own seed (:func:`sample_trials_per_seed`), so the chunking never changes a
result.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

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
#: default memory for the trials of one chunk of a sweep, in bytes (4 GB)
MEMORY_BUDGET = 4e9
#: how the inputs can be stored: draws in double precision, kept as drawn or rounded once
INPUT_DTYPES = ("float64", "float32")


@dataclass(frozen=True)
class IncrementalUpdate:
    """How the engine updates its state after coordinates flip (the start is from scratch).

    ``flip_step``: a coordinate flipping to ``s`` changes ``u`` by
    ``flip_step * s`` (``u_new - u_old = 2 s``); ``noise_weight``: the label
    noise enters the recomputed residuals with this weight (1). The method
    has the defaults; the mutation tests break one of them
    (``monkeypatch.setattr(engine, "INCREMENTAL_UPDATE", IncrementalUpdate(flip_step=1.0))``),
    which :func:`run_ste_method` reads at every call.
    """

    flip_step: float = 2.0
    noise_weight: float = 1.0


#: the engine's update after a flip (read by :func:`run_ste_method` at every call)
INCREMENTAL_UPDATE = IncrementalUpdate()


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


@njit(cache=True, nogil=True)
def _fill_standard_normal(rng, out):  # pragma: no cover - compiled
    """Fill ``out`` (shape (T, n, m, N)) with NumPy's stream of shape (T, n, N, m).

    The draws come in the order ``rng.standard_normal((T, n, N, m))`` makes
    them (C order) and land at ``out[t, j, i, k]``: the same numbers, stored
    with the sample index fastest.
    """
    trials, n, m, n_samples = out.shape
    for t in range(trials):
        for j in range(n):
            for k in range(n_samples):
                for i in range(m):
                    out[t, j, i, k] = rng.standard_normal()


def _draw_into(rng: np.random.Generator, family: str, shift: float, stored: np.ndarray) -> None:
    """Fill ``stored`` (shape (T, n, m, N)) with :func:`draw_inputs` of shape (T, n, N, m).

    The draws are the same double-precision numbers whatever ``stored``'s
    dtype; a ``float32`` array rounds each once.
    """
    T, n, m, N = stored.shape
    if family == "gaussian":
        _fill_standard_normal(rng, stored)
    elif family == "shifted_gaussian":
        drawn = stored if stored.dtype == np.float64 else np.empty(stored.shape)
        _fill_standard_normal(rng, drawn)
        drawn += float(shift)
        stored[...] = drawn
    else:
        stored[...] = draw_inputs(rng, family, (T, n, N, m), shift=shift).transpose(0, 1, 3, 2)


def in_engine_layout(Z: np.ndarray) -> np.ndarray:
    """``Z`` (logical shape (T, n, N, m)) stored with the sample index fastest.

    Returns a view of ``Z`` if it is already stored that way, else a copy.
    """
    return np.ascontiguousarray(Z.transpose(0, 1, 3, 2)).transpose(0, 1, 3, 2)


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


@njit(cache=True, nogil=True)
def _teacher_signs(stored, w_star, out):  # pragma: no cover - compiled
    """``out[t, i, k] = sign(sum_j w*_tj Z[t, j, k, i])`` for ``stored`` (T, n, m, N).

    The sum runs over j in order, as the engine's ``Z u`` from scratch does.
    """
    trials, n, m, n_samples = stored.shape
    pre = np.empty(n_samples)
    for t in range(trials):
        for i in range(m):
            pre[:] = 0.0
            for j in range(n):
                c = w_star[t, j]
                for k in range(n_samples):
                    pre[k] += c * stored[t, j, i, k]
            for k in range(n_samples):
                out[t, i, k] = 1 if pre[k] >= 0 else -1


def _label_signs(Z: np.ndarray, w_star: np.ndarray) -> np.ndarray:
    """``sign(Z w*)`` of every trial; Z (T, n, N, m) -> int8 (T, N, m), stored as (T, m, N)."""
    T, _, N, m = Z.shape
    out = np.empty((T, m, N), dtype=np.int8)
    _teacher_signs(Z.transpose(0, 1, 3, 2), w_star, out)
    return out.transpose(0, 2, 1)


@contextmanager
def single_threaded() -> Iterator[None]:
    """Run the engine's compiled code on one thread inside the block.

    The engine runs one trial per thread; on a busy machine, or for a batch of
    one trial, a single thread avoids the cost of waking the others.
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
        :func:`sample_trials` stores it with the sample index fastest (see
        :func:`in_engine_layout`); any other layout is copied once by the engine.
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


@dataclass(frozen=True)
class _Setting:
    """What every trial of a batch shares (validated arguments of :func:`sample_trials`)."""

    n: int
    n_samples: int
    m: int
    v: np.ndarray
    noise_std: float
    family: str
    standardize: bool
    shift: float
    teacher_inputs: str
    dtype: str

    def draw(self, rng: np.random.Generator, stored: np.ndarray) -> tuple[np.ndarray, ...]:
        """Draw ``T = len(stored)`` trials from one generator; returns (w_star, signs, noise).

        The network's inputs are written into ``stored`` (shape (T, n, m, N),
        the engine's layout); ``signs`` has shape (T, N, m).
        """
        n_trials = stored.shape[0]
        w_star = rng.choice(np.array([-1.0, 1.0]), size=(n_trials, self.n))
        raw = np.empty_like(stored) if self.standardize else stored
        _draw_into(rng, self.family, self.shift, raw)
        if self.standardize:
            stored[...] = standardize_features(raw.transpose(0, 1, 3, 2)).transpose(0, 1, 3, 2)
        teacher = raw if self.teacher_inputs == "raw" else stored
        signs = _label_signs(teacher.transpose(0, 1, 3, 2), w_star)
        noise = self.noise_std * rng.standard_normal((n_trials, self.n_samples))
        return w_star, signs, noise

    def empty(self, n_trials: int) -> np.ndarray:
        """Room for the inputs of ``n_trials`` trials in the engine's layout (T, n, m, N)."""
        return np.empty((n_trials, self.n, self.m, self.n_samples), dtype=self.dtype)


def _setting(
    n: int,
    n_samples: int,
    m: int,
    v: np.ndarray | None,
    noise_std: float,
    family: str,
    standardize: bool,
    shift: float,
    teacher_inputs: str,
    dtype: str,
) -> _Setting:
    m = positive_int("m", m)
    return _Setting(
        positive_int("n", n),
        positive_int("n_samples", n_samples),
        m,
        second_layer(m) if v is None else real_vector("v", v, m),
        nonnegative_float("noise_std", noise_std),
        one_of("family", family, INPUT_FAMILIES),
        bool(standardize),
        float(shift),
        one_of("teacher_inputs", teacher_inputs, TEACHER_INPUTS),
        one_of("dtype", dtype, INPUT_DTYPES),
    )


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
    dtype: str = "float64",
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
    ``dtype="float32"`` stores the inputs rounded once to single precision
    (half the memory and memory traffic; the engine's sums stay in double
    precision, and the teacher's labels are computed from the stored inputs).

    One generator draws, in this order, every teacher (shape (T, n)), every
    input (NumPy's C order of (T, n, N, m)) and the noise (T, N).
    """
    setting = _setting(
        n, n_samples, m, v, noise_std, family, standardize, shift, teacher_inputs, dtype
    )
    stored = setting.empty(positive_int("n_trials", n_trials))
    w_star, signs, noise = setting.draw(generator(seed), stored)
    return TrialBatch(stored.transpose(0, 1, 3, 2), signs, noise, setting.v, w_star, describe(seed))


def sample_trials_per_seed(
    n: int,
    n_samples: int,
    seeds: Sequence[SeedLike],
    *,
    m: int = 128,
    v: np.ndarray | None = None,
    noise_std: float = 0.0,
    family: str = "gaussian",
    standardize: bool = False,
    shift: float = SHIFT,
    teacher_inputs: str = "network",
    dtype: str = "float64",
    out: np.ndarray | None = None,
) -> TrialBatch:
    """One trial per seed: trial t is ``sample_trials(n, n_samples, 1, seeds[t], ...)``.

    So a trial does not depend on which other trials share its batch, and a
    sweep can split a cell's trials into chunks of any size without changing
    a number. The inputs are written straight into one array of the engine's
    layout: ``out`` if given (shape (T, n, m, N) and ``dtype``, e.g. one
    buffer reused for every chunk of a cell, which saves the operating
    system's work of providing fresh memory), else a new array. The batch's
    ``seed`` lists the trials' seeds.
    """
    setting = _setting(
        n, n_samples, m, v, noise_std, family, standardize, shift, teacher_inputs, dtype
    )
    T = len(seeds)
    if T == 0:
        raise ValueError("seeds must name at least one trial")
    stored = setting.empty(T) if out is None else out
    expected = (T, setting.n, setting.m, setting.n_samples)
    if stored.shape != expected or stored.dtype != np.dtype(setting.dtype):
        raise ValueError(
            f"out must have shape (T, n, m, N) = {expected} and dtype {setting.dtype}, got "
            f"{stored.shape} and {stored.dtype}"
        )
    signs = np.empty((T, setting.m, setting.n_samples), dtype=np.int8).transpose(0, 2, 1)
    w_star, noise = np.empty((T, setting.n)), np.empty((T, setting.n_samples))
    for t, seed in enumerate(seeds):
        drawn = setting.draw(generator(seed), stored[t : t + 1])
        w_star[t], signs[t], noise[t] = (part[0] for part in drawn)
    label = ",".join(describe(seed) for seed in seeds)
    return TrialBatch(stored.transpose(0, 1, 3, 2), signs, noise, setting.v, w_star, label)


def trial_bytes(
    n: int, n_samples: int, m: int, standardize: bool = False, dtype: str = "float64"
) -> float:
    """Memory one trial needs while it is drawn and run, in bytes.

    Its inputs (``n N m`` entries of ``dtype``, twice with ``standardize``),
    the labels' signs (``N m``), the pre-activations (``8 N m``) and the
    projections (``16 N n``, built once in two layouts).
    """
    itemsize = np.dtype(one_of("dtype", dtype, INPUT_DTYPES)).itemsize
    inputs = float(itemsize) * n * n_samples * m * (2 if standardize else 1)
    return inputs + 9.0 * n_samples * m + 16.0 * n_samples * n


def trials_per_chunk(
    n: int,
    n_samples: int,
    m: int,
    budget: float = MEMORY_BUDGET,
    standardize: bool = False,
    dtype: str = "float64",
) -> int:
    """How many trials fit ``budget`` bytes at once (:func:`trial_bytes` each).

    Raises ``ValueError`` if not even one trial fits.
    """
    budget = positive_float("budget", budget)
    need = trial_bytes(n, n_samples, m, standardize, dtype)
    if need > budget:
        raise ValueError(
            f"one trial at n={n}, N={n_samples}, m={m} needs {need / 1e9:.2f} GB, more than "
            f"the memory budget of {budget / 1e9:.2f} GB; raise the budget"
        )
    return int(budget // need)


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
    flips : int
        Coordinates that changed sign, summed over steps and trials.
    moving_steps : int
        Steps in which at least one coordinate changed sign, summed over trials
        (the steps that cost ``N (m + n)``; the others cost ``O(n)``).
    """

    ergodic_sum: np.ndarray
    w_last: np.ndarray
    frozen_at: np.ndarray
    n_steps: int
    distance: np.ndarray | None = None
    empirical_loss: np.ndarray | None = None
    flips: int = 0
    moving_steps: int = 0

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
    P = np.einsum("tjkm,tj->tkm", batch.Z, u)
    projections = np.einsum("tjkm,m->tkj", batch.Z, batch.v)
    residual = (_sign(P) - batch.label_signs) @ batch.v - batch.noise
    return np.matmul(residual[:, None, :], projections)[:, 0, :] / batch.n_samples


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
        Show a tqdm progress bar over the trials (for long runs in script
        mode); the trials then run in groups of numba's thread count.

    Notes
    -----
    Each trial's whole trajectory runs in compiled code (:func:`_run_trials`),
    trials in parallel. The gradient only changes when ``u`` changes; it is
    recomputed only after a flip, from the pre-activations updated by the
    flipped columns. A trial whose gradient is exactly zero never moves again;
    it stops and its ergodic sum is completed in closed form.
    """
    n_steps = positive_int("n_steps", n_steps)
    step_size = positive_float("step_size", step_size)
    T, n = batch.n_trials, batch.n
    w = np.zeros((T, n))
    if w0 is not None:
        w[:] = real_vector_or_matrix("w0", w0, n)
    stored = in_engine_layout(batch.Z).transpose(0, 1, 3, 2)  # (T, n, m, N), contiguous
    target = np.ascontiguousarray(batch.label_signs.transpose(0, 2, 1), dtype=np.int8)
    trace = n_steps + 1 if record else 0
    ergodic = np.zeros((T, n))
    frozen_at = np.full(T, -1, dtype=np.int64)
    flips, moves = np.zeros(T, dtype=np.int64), np.zeros(T, dtype=np.int64)
    distance = np.zeros((T, trace), dtype=np.int32)
    loss = np.zeros((T, trace))
    arrays = (stored, target, np.ascontiguousarray(batch.noise, dtype=float))
    outputs = (w, ergodic, frozen_at, flips, moves, distance, loss)
    v, w_star = np.ascontiguousarray(batch.v, dtype=float), batch.w_star.astype(float)
    for group in _trial_groups(T, progress, f"STE n={n} N={batch.n_samples}"):
        _run_trials(
            *(array[group] for array in arrays),
            v,
            w_star[group],
            step_size,
            n_steps,
            record,
            INCREMENTAL_UPDATE.flip_step,
            INCREMENTAL_UPDATE.noise_weight,
            *(array[group] for array in outputs),
        )
    return SteRun(
        ergodic,
        w,
        frozen_at,
        n_steps,
        distance if record else None,
        loss if record else None,
        int(flips.sum()),
        int(moves.sum()),
    )


def _trial_groups(n_trials: int, progress: bool, desc: str) -> Iterator[slice]:
    """All trials at once, or groups of numba's thread count behind a progress bar."""
    if not progress:
        yield slice(0, n_trials)
        return
    from tqdm import tqdm

    size = numba.get_num_threads()
    with tqdm(total=n_trials, desc=desc, leave=False) as bar:
        for start in range(0, n_trials, size):
            yield slice(start, min(start + size, n_trials))
            bar.update(min(size, n_trials - start))


@njit(cache=True, parallel=True)
def _run_trials(
    stored,
    target,
    noise,
    v,
    w_star,
    step_size,
    n_steps,
    record,
    flip_step,
    noise_weight,
    w,
    ergodic,
    frozen_at,
    flips,
    moves,
    distance,
    loss,
):  # pragma: no cover - compiled
    """Run every trial's whole trajectory; one trial per thread, outputs in place.

    ``stored`` (T, n, m, N) are the inputs, ``target`` (T, m, N) the teacher's
    signs, ``w`` (T, n) the starting weights (overwritten by the last ones);
    ``flip_step`` and ``noise_weight`` are those of :class:`IncrementalUpdate`.
    """
    for t in prange(stored.shape[0]):
        frozen_at[t], flips[t], moves[t] = _run_trial(
            stored[t],
            target[t],
            noise[t],
            v,
            w_star[t],
            step_size,
            n_steps,
            record,
            flip_step,
            noise_weight,
            w[t],
            ergodic[t],
            distance[t],
            loss[t],
        )


@njit(cache=True)
def _start(Z, u, v, P, projections):  # pragma: no cover - compiled
    """``P = Z u`` (m, N) and ``projections[k, j] = (Z_k^T v)_j`` (N, n) from scratch.

    ``P`` adds the columns in order j = 0, 1, ... (:func:`_add_columns`, four
    per pass); each row of the projections is summed over i in order.
    """
    n, m, n_samples = Z.shape
    P[:] = 0.0
    _add_columns(Z, P.reshape(-1), np.arange(n), u, n)
    by_column = np.zeros((n, n_samples))
    for j in range(n):
        row = by_column[j]
        for i in range(m):
            vi, source = v[i], Z[j, i]
            for k in range(n_samples):
                row[k] += vi * source[k]
    projections[:] = by_column.T


@njit(cache=True)
def _add_columns(Z, P, flipped, coefficients, n_flipped):  # pragma: no cover - compiled
    """``P += sum_f coefficients[f] Z[flipped[f]]`` over the flattened (m N) entries.

    Each column is one contiguous stream; up to four are added in one pass over
    ``P`` (fewer passes over it), in the order of ``flipped``, so every entry
    gets exactly the sums of adding the columns one by one.
    """
    f = 0
    while f + 4 <= n_flipped:
        a, b = Z[flipped[f]].reshape(-1), Z[flipped[f + 1]].reshape(-1)
        c, d = Z[flipped[f + 2]].reshape(-1), Z[flipped[f + 3]].reshape(-1)
        ca, cb = coefficients[f], coefficients[f + 1]
        cc, cd = coefficients[f + 2], coefficients[f + 3]
        for k in range(P.size):
            P[k] = (((P[k] + ca * a[k]) + cb * b[k]) + cc * c[k]) + cd * d[k]
        f += 4
    while f < n_flipped:
        a, ca = Z[flipped[f]].reshape(-1), coefficients[f]
        for k in range(P.size):
            P[k] += ca * a[k]
        f += 1


@njit(cache=True)
def _residual_and_gradient(
    Z,
    P,
    target,
    noise,
    noise_weight,
    v,
    projections,
    flipped,
    coefficients,
    n_flipped,
    residual,
    grad,
):  # pragma: no cover - compiled
    """Add the flipped columns to ``P``, then recompute the residuals and the gradient.

    ``P += sum_f coefficients[f] Z[flipped[f]]`` (:func:`_add_columns`), the
    residual ``(sign(P) - sign(P*)) v - xi`` summed over i in order for every
    sample, and ``grad = projections^T residual / N``, summed over k in order
    for every coordinate (both loops run along contiguous rows); the noise
    enters the residual times ``noise_weight`` (1). Returns whether the
    gradient is exactly zero.
    """
    m, n_samples = P.shape
    _add_columns(Z, P.reshape(-1), flipped, coefficients, n_flipped)
    residual[:] = 0.0
    for i in range(m):
        row, vi = P[i], v[i]
        for k in range(n_samples):
            s = 1.0 if row[k] >= 0 else -1.0
            residual[k] += vi * (s - target[i, k])
    for k in range(n_samples):
        residual[k] -= noise_weight * noise[k]
    grad[:] = 0.0
    for k in range(n_samples):
        r = residual[k]
        for j in range(grad.size):
            grad[j] += projections[k, j] * r
    zero = True
    for j in range(grad.size):
        grad[j] /= n_samples
        if grad[j] != 0.0:
            zero = False
    return zero


@njit(cache=True)
def _trace(u, w_star, residual, distance, loss, step):  # pragma: no cover - compiled
    """Record the distance of ``u`` to ``w*`` and ``L_N(u)`` at ``step``."""
    count = 0
    for j in range(u.size):
        if u[j] != w_star[j]:
            count += 1
    distance[step] = count
    loss[step] = 0.5 * np.mean(residual**2)


@njit(cache=True)
def _run_trial(
    Z,
    target,
    noise,
    v,
    w_star,
    step_size,
    n_steps,
    record,
    flip_step,
    noise_weight,
    w,
    ergodic,
    distance,
    loss,
):  # pragma: no cover - compiled
    """One trial's trajectory; returns (frozen_at, flips, moving steps).

    The start is computed from scratch; after a flip, ``P`` moves by
    ``flip_step * u_new_j`` times the flipped column and the residual takes
    the noise times ``noise_weight`` (see :class:`IncrementalUpdate`).
    """
    n, m, n_samples = Z.shape
    u = np.where(w >= 0, 1.0, -1.0)
    P = np.empty((m, n_samples))
    projections = np.empty((n_samples, n))
    residual, grad = np.empty(n_samples), np.empty(n)
    flipped, coefficients = np.empty(n, dtype=np.int64), np.empty(n)
    _start(Z, u, v, P, projections)
    frozen = (
        0
        if _residual_and_gradient(
            Z, P, target, noise, 1.0, v, projections, flipped, coefficients, 0, residual, grad
        )
        else -1
    )
    flips, moves, stop = 0, 0, n_steps
    for step in range(n_steps):
        if record:
            _trace(u, w_star, residual, distance, loss, step)
        if frozen >= 0:
            stop = step
            break
        n_flipped = 0
        for j in range(n):
            w[j] -= step_size * grad[j]
            s = 1.0 if w[j] >= 0 else -1.0
            if s != u[j]:
                flipped[n_flipped] = j
                coefficients[n_flipped] = flip_step * s
                n_flipped += 1
                u[j] = s
        if n_flipped:
            flips += n_flipped
            moves += 1
            if _residual_and_gradient(
                Z,
                P,
                target,
                noise,
                noise_weight,
                v,
                projections,
                flipped,
                coefficients,
                n_flipped,
                residual,
                grad,
            ):
                frozen = step + 1
        for j in range(n):
            ergodic[j] += u[j]
    for j in range(n):
        ergodic[j] += (n_steps - stop) * u[j]
    if record:
        for step in range(stop, n_steps + 1):
            _trace(u, w_star, residual, distance, loss, step)
    return frozen, flips, moves


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
    vectorisation over trials, no freezing, no compiled code. Each trial's
    inputs are first copied to the (N, m, n) layout its ``Z @ u`` reads
    fastest, in double precision (exact for single-precision inputs). ``w0``
    has shape (T, n) (default 0).
    """
    T, n, N = batch.n_trials, batch.n, batch.n_samples
    ergodic = np.zeros((T, n))
    w_last = np.zeros((T, n))
    for trial in range(T):
        Z = np.ascontiguousarray(batch.Z[trial].transpose(1, 2, 0), dtype=float)  # (N, m, n)
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
