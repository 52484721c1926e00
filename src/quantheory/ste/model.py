"""The two-layer binary network of Part I and its STE gradient.

Model (the book's reconstruction of Jeong, Xin and Yin)
------------------------------------------------------
* teacher weights ``w_star`` in {-1, +1}^n and a fixed second layer ``v`` in R^m;
* input ``Z`` in R^{m x n} with iid N(0, 1) entries;
* network ``f(Z; u) = v^T sign(Z u)`` with ``sign(0) = +1``;
* labels ``y = f(Z; w_star) + xi`` with ``xi ~ N(0, s^2)``;
* STE gradient ``g_N(u) = (1/N) sum_k (f(Z_k; u) - y_k) Z_k^T v``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from quantheory.validation import (
    binary_vector,
    nonnegative_float,
    one_of,
    positive_float,
    positive_int,
    real_vector,
)

V_SHAPES = ("uniform", "linear", "geometric", "spike", "alternating", "power")


def sign(x: np.ndarray) -> np.ndarray:
    """Elementwise sign with ``sign(0) = +1`` (the book's convention), as float64."""
    return np.where(np.asarray(x) >= 0, 1.0, -1.0)


def second_layer(
    m: int, shape: str = "uniform", norm: float = 1.0, exponent: float = 1.0
) -> np.ndarray:
    """A second-layer vector ``v`` of length ``m`` with Euclidean norm ``norm``.

    Parameters
    ----------
    m
        Number of hidden units.
    shape
        ``"uniform"`` (all entries ``norm/sqrt(m)``, the default of the paper),
        ``"linear"`` (entries proportional to 1..m), ``"geometric"`` (ratio 0.9),
        ``"spike"`` (one large entry over a small floor) or ``"alternating"``
        (equal magnitudes, alternating signs) or ``"power"`` (entries
        proportional to ``i^-exponent``; exponent 0 is uniform, large exponents
        concentrate v on its first entries).
    norm
        The Euclidean norm ``|v|_2`` (> 0).

    Returns
    -------
    numpy.ndarray, shape (m,)
    """
    m = positive_int("m", m)
    one_of("shape", shape, V_SHAPES)
    norm = positive_float("norm", norm)
    exponent = nonnegative_float("exponent", exponent)
    index = np.arange(1, m + 1, dtype=float)
    raw = {
        "uniform": np.ones(m),
        "linear": index,
        "geometric": 0.9 ** (index - 1),
        "spike": np.where(index == 1, 1.0, 0.1),
        "alternating": (-1.0) ** (index - 1),
        "power": index**-exponent,
    }[shape]
    return norm * raw / np.linalg.norm(raw)


def angle(u: np.ndarray, w: np.ndarray) -> float:
    """The angle between two non-zero vectors, in radians, in [0, pi]."""
    u = real_vector("u", u)
    w = real_vector("w", w, len(u))
    nu, nw = np.linalg.norm(u), np.linalg.norm(w)
    if nu == 0 or nw == 0:
        raise ValueError("u and w must be non-zero vectors to have an angle")
    return float(np.arccos(np.clip(u @ w / (nu * nw), -1.0, 1.0)))


@dataclass(frozen=True)
class TeacherProblem:
    """A teacher network and its label noise: everything that defines the data.

    Attributes
    ----------
    w_star : numpy.ndarray, shape (n,)
        Binary teacher weights in {-1, +1}.
    v : numpy.ndarray, shape (m,)
        Fixed second layer.
    noise_std : float
        Standard deviation ``s`` of the Gaussian label noise (>= 0).
    """

    w_star: np.ndarray
    v: np.ndarray
    noise_std: float = 0.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "w_star", binary_vector("w_star", self.w_star))
        object.__setattr__(self, "v", real_vector("v", self.v))
        if not np.any(self.v):
            raise ValueError("v must have at least one non-zero entry")
        object.__setattr__(self, "noise_std", nonnegative_float("noise_std", self.noise_std))

    @property
    def n(self) -> int:
        return self.w_star.shape[0]

    @property
    def m(self) -> int:
        return self.v.shape[0]

    def check_weights(self, name: str, u: np.ndarray) -> np.ndarray:
        """Validate binary weights ``u`` (shape (n,)) against this problem."""
        return binary_vector(name, u, self.n)

    def sample_inputs(self, rng: np.random.Generator, n_samples: int) -> np.ndarray:
        """Draw ``n_samples`` inputs; returns shape (n_samples, m, n), iid N(0, 1)."""
        n_samples = positive_int("n_samples", n_samples)
        return rng.standard_normal((n_samples, self.m, self.n))

    def sample_labels(self, rng: np.random.Generator, Z: np.ndarray) -> np.ndarray:
        """Teacher labels ``f(Z; w_star) + xi`` for inputs of shape (N, m, n); returns (N,)."""
        clean = network_output(Z, self.w_star, self.v)
        if self.noise_std == 0:
            return clean
        return clean + self.noise_std * rng.standard_normal(clean.shape)


def network_output(Z: np.ndarray, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """``f(Z; u) = v^T sign(Z u)`` for a batch of inputs.

    Parameters
    ----------
    Z : numpy.ndarray, shape (N, m, n)
    u : numpy.ndarray, shape (n,)
    v : numpy.ndarray, shape (m,)

    Returns
    -------
    numpy.ndarray, shape (N,)
    """
    return sign(Z @ u) @ v


def per_sample_ste_gradient(
    Z: np.ndarray, y: np.ndarray, u: np.ndarray, v: np.ndarray
) -> np.ndarray:
    """Per-sample STE gradients ``(f(Z_k; u) - y_k) Z_k^T v``; shape (N, n)."""
    residual = network_output(Z, u, v) - y
    return residual[:, None] * np.einsum("kmn,m->kn", Z, v)


def ste_gradient(Z: np.ndarray, y: np.ndarray, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """The empirical STE gradient ``g_N(u)``; shape (n,)."""
    return per_sample_ste_gradient(Z, y, u, v).mean(axis=0)


def per_sample_loss(Z: np.ndarray, y: np.ndarray, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Per-sample squared loss ``(f(Z_k; u) - y_k)^2 / 2``; shape (N,)."""
    return 0.5 * (network_output(Z, u, v) - y) ** 2
