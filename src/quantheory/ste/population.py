"""Monte Carlo experiments for Part I's population facts.

Each experiment draws its own samples from an explicit seed, streams them in
chunks (so memory stays bounded at any sample size) and returns plain data;
:mod:`quantheory.ste.population_claims` turns the data into claims.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial

import numpy as np

from quantheory import stats
from quantheory.executor import map_cells
from quantheory.seeding import SeedLike, describe, generator
from quantheory.ste.model import (
    TeacherProblem,
    angle,
    network_output,
    second_layer,
    sign,
)
from quantheory.ste.symbolic import population_gradient_numeric
from quantheory.validation import positive_float, positive_int, real_vector

CHUNK_ENTRIES = 4_000_000  # floats per chunk of inputs (32 MB)


def _chunk_sizes(total: int, per_sample: int) -> list[int]:
    size = max(2, CHUNK_ENTRIES // per_sample)
    return [min(size, total - start) for start in range(0, total, size)]


def orthonormal_pair(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Two random orthonormal vectors in R^n (n >= 2); each of shape (n,)."""
    n = positive_int("n", n)
    if n < 2:
        raise ValueError(f"n must be at least 2 to hold two orthonormal vectors, got {n}")
    q, _ = np.linalg.qr(rng.standard_normal((n, 2)))
    return q[:, 0], q[:, 1]


def gaussian_draws(rng: np.random.Generator, size: int, dim: int) -> np.ndarray:
    """``size`` draws of z ~ N(0, I_dim) for the two lemmas; shape (size, dim).

    One named function so that a test can replace the distribution (a
    violated hypothesis) and see the claims fail.
    """
    return rng.standard_normal((size, dim))


# ---- E[sign(<z,u>) z] ------------------------------------------------------------
@dataclass(frozen=True)
class SignMomentSample:
    """Monte Carlo estimate of E[sign(<z,u>) z] for one direction u.

    Attributes
    ----------
    u : numpy.ndarray, shape (n,)
    moment : MeanEstimate
        Estimate of the vector E[sign(<z,u>) z], shape (n,).
    constant : MeanEstimate
        Estimate of E|<z, u/|u|>|, the coefficient of u/|u| (a scalar).
    seed : str
    """

    u: np.ndarray
    moment: stats.MeanEstimate
    constant: stats.MeanEstimate
    seed: str


def sample_sign_moment(dim: int, n_samples: int, seed: SeedLike) -> SignMomentSample:
    """Estimate E[sign(<z,u>) z] for z ~ N(0, I_dim) and a random direction u.

    The direction ``u`` (iid Gaussian entries, shape (dim,)) and the
    ``n_samples`` draws of z both come from ``seed``.
    """
    dim = positive_int("dim", dim)
    n_samples = positive_int("n_samples", n_samples)
    rng = generator(seed)
    u = rng.standard_normal(dim)
    unit = u / np.linalg.norm(u)
    sums = np.zeros((2, dim))
    proj_sums = np.zeros(2)
    for size in _chunk_sizes(n_samples, dim):
        z = gaussian_draws(rng, size, dim)
        x = sign(z @ u)[:, None] * z
        sums += (x.sum(axis=0), (x**2).sum(axis=0))
        proj = np.abs(z @ unit)
        proj_sums += (proj.sum(), (proj**2).sum())
    return SignMomentSample(
        u=u,
        moment=stats.pooled_mean_estimate(sums[0], sums[1], n_samples),
        constant=stats.pooled_mean_estimate(proj_sums[0], proj_sums[1], n_samples),
        seed=describe(seed),
    )


def _sign_moment_cell(dim: int, seed: SeedLike, *, n_samples: int) -> SignMomentSample:
    """:func:`sample_sign_moment` with the seed last, as a cell of a sweep."""
    return sample_sign_moment(dim, n_samples, seed)


def sign_moment_experiment(
    dims: Sequence[int], n_samples: int, seed: SeedLike
) -> list[SignMomentSample]:
    """:func:`sample_sign_moment` in each dimension of ``dims``, one child seed each.

    The dimensions are the cells of a :func:`~quantheory.executor.map_cells` sweep.
    """
    cell = partial(_sign_moment_cell, n_samples=positive_int("n_samples", n_samples))
    return map_cells(cell, dims, seed, desc="sign moment")


# ---- P(sign<z,u> != sign<z,w>) -------------------------------------------------------
@dataclass(frozen=True)
class DisagreementSample:
    """Disagreement counts of sign<z,u> and sign<z,w> at several angles.

    Attributes
    ----------
    angles : numpy.ndarray, shape (K,)
        The exact angles between u and w, radians.
    disagreements : numpy.ndarray, shape (K,)
        Number of draws with sign<z,u> != sign<z,w>.
    n_samples : int
        Draws per angle.
    """

    angles: np.ndarray
    disagreements: np.ndarray
    n_samples: int
    n: int
    seed: str

    @property
    def rates(self) -> np.ndarray:
        return self.disagreements / self.n_samples


def sample_sign_disagreement(
    angles: np.ndarray, n: int, n_samples: int, seed: SeedLike
) -> DisagreementSample:
    """Count sign disagreements for pairs (u, w) in R^n at the given exact angles.

    For each angle a random orthonormal pair (q1, q2) is drawn and
    ``u = r1 q1``, ``w = r2 (cos(angle) q1 + sin(angle) q2)`` with random
    lengths r1, r2, so that only the angle matters.
    """
    angles = real_vector("angles", angles)
    if np.any((angles < 0) | (angles > np.pi)):
        raise ValueError(f"angles must lie in [0, pi], got {angles!r}")
    n = positive_int("n", n)
    n_samples = positive_int("n_samples", n_samples)
    rng = generator(seed)
    counts = np.zeros(len(angles), dtype=np.int64)
    for i, ang in enumerate(angles):
        q1, q2 = orthonormal_pair(rng, n)
        r1, r2 = rng.uniform(0.5, 2.0, size=2)
        u, w = r1 * q1, r2 * (np.cos(ang) * q1 + np.sin(ang) * q2)
        for size in _chunk_sizes(n_samples, n):
            z = gaussian_draws(rng, size, n)
            counts[i] += int(np.count_nonzero(sign(z @ u) != sign(z @ w)))
    return DisagreementSample(angles, counts, n_samples, n, describe(seed))


# ---- Population gradient and loss ----------------------------------------------------
@dataclass(frozen=True)
class PopulationConfig:
    """One setting of the Part I model for the population checks."""

    n: int
    m: int
    v_shape: str
    noise_std: float
    n_flipped: int
    v_norm: float = 1.0

    def __post_init__(self) -> None:
        positive_int("n", self.n)
        positive_int("m", self.m)
        positive_float("v_norm", self.v_norm)
        if not 0 <= self.n_flipped <= self.n:
            raise ValueError(f"n_flipped must lie in [0, n={self.n}], got {self.n_flipped!r}")

    @property
    def label(self) -> str:
        return (
            f"n={self.n}, m={self.m}, v {self.v_shape} |v|={self.v_norm:g}, "
            f"s={self.noise_std:g}, {self.n_flipped} flipped"
        )


DEFAULT_POPULATION_CONFIGS = (
    PopulationConfig(n=8, m=16, v_shape="uniform", noise_std=0.0, n_flipped=2),
    PopulationConfig(n=12, m=32, v_shape="geometric", noise_std=0.5, n_flipped=5, v_norm=1.5),
    PopulationConfig(n=20, m=8, v_shape="alternating", noise_std=1.0, n_flipped=10, v_norm=0.7),
    PopulationConfig(n=5, m=128, v_shape="linear", noise_std=0.2, n_flipped=4),
)


@dataclass(frozen=True)
class PopulationSample:
    """Monte Carlo estimates of E[g(u)] and L(u) for one configuration.

    Attributes
    ----------
    problem : TeacherProblem
    u : numpy.ndarray, shape (n,)
        The binary weights at which gradient and loss are estimated.
    gradient : MeanEstimate, shape (n,)
    loss : MeanEstimate, scalar
    """

    config: PopulationConfig
    problem: TeacherProblem
    u: np.ndarray
    gradient: stats.MeanEstimate
    loss: stats.MeanEstimate
    seed: str

    @property
    def angle(self) -> float:
        return angle(self.u, self.problem.w_star)


def sample_population(config: PopulationConfig, n_samples: int, seed: SeedLike) -> PopulationSample:
    """Estimate E[g(u)] and L(u) for ``config`` from ``n_samples`` fresh samples.

    The teacher ``w_star`` is random, ``u`` is ``w_star`` with ``n_flipped``
    random coordinates flipped, and the gradient and loss use the same draws.
    """
    n_samples = positive_int("n_samples", n_samples)
    rng = generator(seed)
    w_star = rng.choice([-1.0, 1.0], size=config.n)
    u = w_star.copy()
    u[rng.choice(config.n, size=config.n_flipped, replace=False)] *= -1
    v = second_layer(config.m, config.v_shape, config.v_norm)
    problem = TeacherProblem(w_star, v, config.noise_std)
    grad_sums = np.zeros((2, config.n))
    loss_sums = np.zeros(2)
    for size in _chunk_sizes(n_samples, config.m * config.n):
        Z = problem.sample_inputs(rng, size)
        residual = network_output(Z, u, problem.v) - problem.sample_labels(rng, Z)
        grad = residual[:, None] * np.einsum("kmn,m->kn", Z, problem.v)
        loss = 0.5 * residual**2
        grad_sums += (grad.sum(axis=0), (grad**2).sum(axis=0))
        loss_sums += (loss.sum(), (loss**2).sum())
    return PopulationSample(
        config=config,
        problem=problem,
        u=u,
        gradient=stats.pooled_mean_estimate(grad_sums[0], grad_sums[1], n_samples),
        loss=stats.pooled_mean_estimate(loss_sums[0], loss_sums[1], n_samples),
        seed=describe(seed),
    )


def _population_cell(
    config: PopulationConfig, seed: SeedLike, *, n_samples: int
) -> PopulationSample:
    """:func:`sample_population` with the seed last, as a cell of a sweep."""
    return sample_population(config, n_samples, seed)


def population_experiment(
    configs: Sequence[PopulationConfig], n_samples: int, seed: SeedLike
) -> list[PopulationSample]:
    """:func:`sample_population` for each configuration, one child seed each.

    The configurations are the cells of a :func:`~quantheory.executor.map_cells` sweep.
    """
    cell = partial(_population_cell, n_samples=positive_int("n_samples", n_samples))
    return map_cells(cell, configs, seed, desc="population")


# ---- Population dynamics ---------------------------------------------------------------
@dataclass(frozen=True)
class DynamicsRun:
    """The population STE-gradient method from many starts, all at once.

    Attributes
    ----------
    problem : TeacherProblem
    step_size : float
    w0 : numpy.ndarray, shape (S, n)
        Starting latent weights.
    hitting_time : numpy.ndarray of int, shape (S,)
        First t with sign(w^t) = w_star (-1 if never within ``n_steps``).
    left_after_hit : numpy.ndarray of bool, shape (S,)
        True if sign(w^t) differed from w_star at some step after hitting.
    n_steps : int
        Steps simulated.
    """

    problem: TeacherProblem
    step_size: float
    w0: np.ndarray
    hitting_time: np.ndarray
    left_after_hit: np.ndarray
    n_steps: int


@dataclass(frozen=True)
class DynamicsSetting:
    """Dimension ``n``, step size ``eta`` and spread of the N(0, spread^2) starts."""

    n: int
    step_size: float
    spread: float

    def __post_init__(self) -> None:
        positive_int("n", self.n)
        positive_float("step_size", self.step_size)
        positive_float("spread", self.spread)


def run_population_dynamics(
    problem: TeacherProblem,
    w0: np.ndarray,
    step_size: float,
    extra_steps: int = 20,
    max_steps: int = 100_000,
) -> DynamicsRun:
    """Iterate ``w <- w - eta E[g(sign(w))]`` from every row of ``w0``.

    Runs until every start has reached ``w_star`` and then ``extra_steps`` more
    (to see that it stays), or until ``max_steps``. Vectorised over starts and
    exact (no randomness). The population gradient is the NumPy version of the
    stated formula, :func:`quantheory.ste.symbolic.population_gradient_numeric`.
    """
    w0 = np.asarray(w0, dtype=float)
    if w0.ndim != 2 or w0.shape[1] != problem.n:
        raise ValueError(f"w0 must have shape (S, n={problem.n}), got {w0.shape}")
    step_size = positive_float("step_size", step_size)
    extra_steps = positive_int("extra_steps", extra_steps)
    max_steps = positive_int("max_steps", max_steps)
    w = w0.copy()
    hit = np.full(w.shape[0], -1)
    left = np.zeros(w.shape[0], dtype=bool)
    t = 0
    while True:
        u = sign(w)
        at_star = np.all(u == problem.w_star, axis=1)
        hit[(hit < 0) & at_star] = t
        left |= (hit >= 0) & ~at_star
        if t == max_steps or (np.all(hit >= 0) and t >= hit.max() + extra_steps):
            break
        w -= step_size * population_gradient_numeric(u, problem.w_star, problem.v)
        t += 1
    return DynamicsRun(problem, step_size, w0, hit, left, t)


def setting_dynamics(
    setting: DynamicsSetting, seed: SeedLike, *, n_starts: int, m: int
) -> DynamicsRun:
    """Population dynamics in one setting, from ``n_starts`` random starts.

    A random teacher, ``v = 1/sqrt(m)`` and iid N(0, spread^2) starting
    weights (shape (n_starts, n)), all from ``seed``.
    """
    rng = generator(seed)
    problem = TeacherProblem(rng.choice([-1.0, 1.0], size=setting.n), second_layer(m))
    w0 = setting.spread * rng.standard_normal((n_starts, setting.n))
    return run_population_dynamics(problem, w0, setting.step_size)


def dynamics_experiment(
    settings: Sequence[DynamicsSetting], n_starts: int, m: int, seed: SeedLike
) -> list[DynamicsRun]:
    """:func:`setting_dynamics` in each setting, from its own child of ``seed``.

    The settings are the cells of a :func:`~quantheory.executor.map_cells` sweep.
    """
    cell = partial(setting_dynamics, n_starts=positive_int("n_starts", n_starts), m=m)
    return map_cells(cell, settings, seed, desc="population dynamics")
