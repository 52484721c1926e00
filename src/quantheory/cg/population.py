"""The data model of section 2.1: one class per orthogonal plane, uniform annuli.

Class ``i`` lives in a 2-D subspace ``V_i`` of R^d, spanned by two columns of a
random orthogonal matrix, so no coordinate is special; the remaining
``d - 2n`` directions form ``V_{n+1}``, which no input touches. Inside ``V_i``
the input is uniform on the annulus ``{m_x < |x| < M}``: a continuous density
bounded above and below, so the paper's data assumptions (1)-(3) hold and
``C_p = 2 / (pi sqrt(M^2 - m_x^2))``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from quantheory.cg import annulus
from quantheory.seeding import SeedLike, generator
from quantheory.validation import positive_float, positive_int


@dataclass(frozen=True)
class AnnulusPopulation:
    """``n`` classes, each uniform on an annulus in its own plane of R^d.

    Attributes
    ----------
    basis : (d, d) orthogonal matrix; columns ``2i, 2i + 1`` span ``V_i``.
    inner, outer : the radii ``m_x < M`` of every annulus.
    """

    basis: np.ndarray
    n_classes: int
    inner: float
    outer: float

    @property
    def dim(self) -> int:
        return self.basis.shape[0]

    @property
    def cp(self) -> float:
        """``C_p`` of Lemma 5.3, from the SymPy statement :data:`annulus.CP_STATEMENT`."""
        return float(
            annulus.CP_STATEMENT.subs({annulus.inner: self.inner, annulus.outer: self.outer})
        )

    def plane(self, i: int) -> np.ndarray:
        """Orthonormal basis of ``V_i``, shape (d, 2); ``i = n`` gives ``V_{n+1}``."""
        if not 0 <= i <= self.n_classes:
            raise ValueError(f"subspace index must be in [0, {self.n_classes}], got {i}")
        if i == self.n_classes:
            return self.basis[:, 2 * self.n_classes :]
        return self.basis[:, 2 * i : 2 * i + 2]

    def projector(self, i: int) -> np.ndarray:
        """Orthogonal projector onto ``V_i`` (d, d)."""
        q = self.plane(i)
        return q @ q.T

    def component(self, w: np.ndarray, i: int) -> np.ndarray:
        """``W_i``: every column of ``w`` (..., d, k) projected onto ``V_i``."""
        return self.projector(i) @ w

    def sample(self, per_class: int, seed: SeedLike) -> tuple[np.ndarray, np.ndarray]:
        """``per_class`` inputs of every class: ``x`` (n * per_class, d), labels ``y``.

        Radii are drawn with density proportional to r on (m_x, M) (uniform on
        the annulus), angles uniformly.
        """
        per = positive_int("per_class", per_class)
        rng = generator(seed)
        xs, ys = [], []
        for i in range(self.n_classes):
            r = np.sqrt(rng.uniform(self.inner**2, self.outer**2, per))
            phi = rng.uniform(0, 2 * np.pi, per)
            xs.append(
                (r * np.cos(phi))[:, None] * self.plane(i)[:, 0]
                + (r * np.sin(phi))[:, None] * self.plane(i)[:, 1]
            )
            ys.append(np.full(per, i))
        return np.concatenate(xs), np.concatenate(ys)


def annulus_population(
    n_classes: int, dim: int, inner: float, outer: float, seed: SeedLike
) -> AnnulusPopulation:
    """A population with a random orthogonal basis (QR of a Gaussian matrix)."""
    n = positive_int("n_classes", n_classes)
    d = positive_int("dim", dim)
    if d < 2 * n:
        raise ValueError(f"dim must be at least 2 * n_classes = {2 * n}, got {d}")
    m_x, big = positive_float("inner", inner), positive_float("outer", outer)
    if m_x >= big:
        raise ValueError(f"inner must be below outer, got {m_x} >= {big}")
    q, r = np.linalg.qr(generator(seed).standard_normal((d, d)))
    return AnnulusPopulation(basis=q * np.sign(np.diag(r)), n_classes=n, inner=m_x, outer=big)


def random_weights(shape: tuple[int, ...], scales: np.ndarray, seed: SeedLike) -> np.ndarray:
    """Gaussian weights of shape ``(R, d, k)``, run ``r`` scaled by ``scales[r]``."""
    scales = np.asarray(scales, dtype=float)
    if scales.shape != shape[:1] or np.any(scales <= 0):
        raise ValueError(f"scales must be {shape[:1]} positive numbers, got shape {scales.shape}")
    return generator(seed).standard_normal(shape) * scales[:, None, None]


def log_uniform(low: float, high: float, size: int, seed: SeedLike) -> np.ndarray:
    """``size`` numbers log-uniform on [low, high]."""
    low, high = positive_float("low", low), positive_float("high", high)
    if low > high:
        raise ValueError(f"low must not exceed high, got {low} > {high}")
    return np.exp(generator(seed).uniform(np.log(low), np.log(high), positive_int("size", size)))
