"""The linear-regression model of Part III and its quantizers, as data.

The book's reconstruction of Zhang, Su and Zou (2025) from the abstract and
public summaries: inputs ``x ~ N(0, H)`` with ``H = diag(i^-a)`` in dimension
``d``, labels ``y = <w*, x> + xi`` with ``xi ~ N(0, s^2)``, and one-pass
minibatch SGD with batch ``B`` and constant step ``gamma``,

    w_t = w_{t-1} + (gamma/B) Q_d(X_t)^T Q_o(Q_l(y_t) - Q_a(Q_d(X_t) Q_p(w_{t-1}))),

where one of the five *targets* (data ``Q_d``, labels ``Q_l``, parameters
``Q_p``, activations ``Q_a``, output gradient ``Q_o``) passes through an
unbiased quantizer and the others are the identity. The full-precision ``w``
is kept. The excess risk is ``E(w) = (w - w*)^T H (w - w*) / 2``.

The idealized quantizers are defined by the error's conditional second moment
``eps`` and, because the exact recursion also needs fourth moments (only for
data quantization), by a Gaussian error:

- ``additive``: ``Q(u) = u + sqrt(eps) g``, ``g ~ N(0, I)`` (integer-like,
  error covariance ``eps I``);
- ``mult_vector``: ``Q(u) = (1 + sqrt(eps) z) u`` with one ``z ~ N(0, 1)``
  per vector (error covariance exactly ``eps u u^T``);
- ``mult_coord``: ``Q(u)_i = (1 + sqrt(eps) z_i) u_i`` with independent
  ``z_i`` per coordinate (error covariance ``eps diag(u^2)``).

The *vector* a quantizer acts on is a data row ``x_k`` (length ``d``) for
data, the parameter vector ``w`` (length ``d``) for parameters, and the
batch's ``B``-vector for labels, activations and the output gradient.
This module only describes problems; it samples nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from quantheory.validation import nonnegative_float, one_of, positive_float, positive_int

#: what can be quantized, in the order of the update's operators
TARGETS: tuple[str, ...] = ("data", "labels", "params", "activations", "gradients")

#: the idealized quantizer classes
KINDS: tuple[str, ...] = ("additive", "mult_vector", "mult_coord")


@dataclass(frozen=True)
class Quantization:
    """One quantized target with an idealized unbiased quantizer.

    Attributes
    ----------
    target
        One of :data:`TARGETS`.
    kind
        One of :data:`KINDS`.
    eps
        The error's conditional second moment (``eps I`` or ``eps u u^T``),
        ``>= 0``; ``eps = 0`` is no quantization.
    """

    target: str
    kind: str
    eps: float

    def __post_init__(self) -> None:
        one_of("target", self.target, TARGETS)
        one_of("kind", self.kind, KINDS)
        object.__setattr__(self, "eps", nonnegative_float("eps", self.eps))


def _power_law_exponent(value: float) -> float:
    a = positive_float("a", value)
    if a <= 1:
        raise ValueError(f"a must be > 1 (the spectrum i^-a must be summable), got {a!r}")
    return a


@dataclass(frozen=True)
class Problem:
    """A linear-regression problem and the SGD run on it.

    Attributes
    ----------
    d
        Dimension, ``>= 1``.
    a
        Decay exponent of the spectrum ``lambda_i = i^-a``, ``> 1``.
    gamma
        Constant step size, ``> 0``.
    batch
        Batch size ``B``, ``>= 1``.
    noise_var
        Label-noise variance ``s^2``, ``>= 0``.
    w_star
        Shape ``(d,)``: the true parameter; all ones when not given (the
        paper's experiments).
    w_init
        Shape ``(d,)``: the starting point ``w_0``; zeros when not given.
    """

    d: int
    a: float
    gamma: float
    batch: int = 1
    noise_var: float = 1.0
    w_star: np.ndarray = field(default=None, repr=False)  # type: ignore[assignment]
    w_init: np.ndarray = field(default=None, repr=False)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        d = positive_int("d", self.d)
        object.__setattr__(self, "d", d)
        object.__setattr__(self, "a", _power_law_exponent(self.a))
        object.__setattr__(self, "gamma", positive_float("gamma", self.gamma))
        object.__setattr__(self, "batch", positive_int("batch", self.batch))
        object.__setattr__(self, "noise_var", nonnegative_float("noise_var", self.noise_var))
        for name, default in (("w_star", 1.0), ("w_init", 0.0)):
            value = getattr(self, name)
            vector = np.full(d, default) if value is None else np.asarray(value, dtype=float)
            if vector.shape != (d,) or not np.all(np.isfinite(vector)):
                raise ValueError(
                    f"{name} must be a finite vector of length d = {d}, got shape {vector.shape}"
                )
            vector = vector.copy()
            vector.setflags(write=False)
            object.__setattr__(self, name, vector)

    @property
    def spectrum(self) -> np.ndarray:
        """Shape ``(d,)``: the eigenvalues ``lambda_i = i^-a`` of ``H``, decreasing."""
        return np.arange(1, self.d + 1, dtype=float) ** -self.a


def steps_for_samples(samples: int, batch: int) -> int:
    """The number of SGD steps ``N / B`` that one pass over ``samples`` makes.

    Raises a readable error when ``batch > samples`` or ``batch`` does not
    divide ``samples``.

    Examples
    --------
    >>> steps_for_samples(1024, 8)
    128
    """
    samples = positive_int("N", samples)
    batch = positive_int("B", batch)
    if batch > samples:
        raise ValueError(
            f"B must be <= N (one pass over N samples), got B = {batch} > N = {samples}"
        )
    if samples % batch:
        raise ValueError(f"B must divide N, got N = {samples}, B = {batch}")
    return samples // batch


def step_counts(steps: object) -> np.ndarray:
    """Check a grid of SGD step counts ``T`` and return it as ``int64``, shape ``(k,)``.

    The one check of :func:`quantheory.lr.recursion.risk_curve` and
    :func:`quantheory.lr.simulate.simulate_risk`: a non-empty 1-D array of
    strictly increasing integers ``>= 1`` (``T = 0`` has no averaged iterate).
    Integer arrays and finite integer-valued floats (``2.0``) are accepted;
    anything else raises a :class:`ValueError` naming ``steps``.

    Examples
    --------
    >>> step_counts([1, 2.0, 10]).tolist()
    [1, 2, 10]
    """
    array = np.asarray(steps)
    if array.ndim != 1 or array.size == 0:
        raise ValueError(
            f"steps must be a non-empty 1-D array of step counts, got shape {array.shape}"
        )
    integral = np.issubdtype(array.dtype, np.integer)
    if not integral and not (
        np.issubdtype(array.dtype, np.floating)
        and np.all(np.isfinite(array))
        and np.all(array == np.round(array))
    ):
        raise ValueError(
            "steps must be integers (or integer-valued floats), "
            f"got {array[:5].tolist()!r} (dtype {array.dtype})"
        )
    counts = array.astype(np.int64)
    if counts[0] < 1:
        raise ValueError(
            f"steps must be >= 1 (T = 0 has no averaged iterate), got {counts[0]} first"
        )
    if np.any(np.diff(counts) <= 0):
        bad = int(np.flatnonzero(np.diff(counts) <= 0)[0])
        raise ValueError(
            f"steps must be strictly increasing, got {counts[bad]} then {counts[bad + 1]}"
        )
    return counts
