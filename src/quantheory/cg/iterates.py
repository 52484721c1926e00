"""Coarse-gradient descent plane by plane, with the norm of every iterate recorded.

By Lemmas 4.1 and 4.3 the descent (8) splits into ``n`` independent problems:
class ``i``'s loss depends on ``W`` only through ``U_i = Q_i^T W`` (2, k), the
columns projected on its plane ``V_i`` (orthonormal basis ``Q_i``), and a step
changes only ``U_i``, by ``-(eta / n)`` times the class-``i`` mean coarse
gradient in plane coordinates. The component of ``W`` in ``V_{n+1}`` never
moves. This module runs those 2-D problems in compiled loops (one thread per
run and class), records ``|u_{j,i}^t|`` at every step, and rebuilds ``W^t`` and
the paper's ``|W^t| = sum_j |w_j^t|`` from them. The result equals
:func:`quantheory.cg.network.coarse_gradient_descent` on the full inputs up to
the order of floating-point sums (``tests/test_cg_iterates.py``).

The smooth surrogate derivatives are written out by hand here (not
lambdified from SymPy), so the tests compare two independent implementations
of ``g'``; the piecewise-constant ones (ReLU, the two-slope ramp) are read off
the SymPy expressions of :mod:`quantheory.cg.surrogates`, so that their
slopes and breakpoints are defined once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy as sp
from numba import njit, prange

from quantheory.cg import network as nw
from quantheory.cg.population import AnnulusPopulation
from quantheory.cg.surrogates import max_level, surrogate_expression, x
from quantheory.validation import one_of, positive_float, positive_int

#: surrogates the compiled loop knows: code 0 is a piecewise-constant g'
#: (ReLU and the two-slope ramp), 1 the reverse exponential, 2 the log-tailed ReLU
COMPILED_SURROGATES = ("relu", "reverse_exponential", "log_tailed_relu", "two_slope")
#: the surrogates whose g' is piecewise constant (code 0)
PIECEWISE_CONSTANT = ("relu", "two_slope")


def piecewise_constant_derivative(name: str, bits: int) -> tuple[np.ndarray, np.ndarray]:
    """``(breaks, slopes)`` of a piecewise-constant ``g'``, read from its SymPy expression.

    SymPy's ``g'`` must be ``0`` for ``x <= 0``, then constant pieces with
    conditions ``x <= c`` in increasing ``c``, the last piece open to the
    right; ``breaks`` (m,) is ``0`` followed by the ``c``, ``slopes`` (m,)
    the pieces' values.
    """
    one_of("name", name, PIECEWISE_CONSTANT)
    derivative = sp.piecewise_fold(sp.diff(surrogate_expression(name, bits), x))
    (zero, negatives), *pieces = derivative.args
    bounds = [condition for _, condition in pieces[:-1]]
    well_formed = (
        zero == 0
        and negatives == (x <= 0)
        and pieces[-1][1] == sp.true
        and all(isinstance(c, sp.LessThan) and c.lhs == x for c in bounds)
        and all(value.is_number for value, _ in pieces)
    )
    if not well_formed:
        raise ValueError(f"g' of {name} is not piecewise constant in the expected form")
    breaks = np.array([0.0, *(float(c.rhs) for c in bounds)])
    if np.any(np.diff(breaks) <= 0):
        raise ValueError(f"g' of {name} has breakpoints out of order: {breaks}")
    return breaks, np.array([float(value) for value, _ in pieces])


def surrogate_code(name: str, bits: int) -> tuple[int, np.ndarray, np.ndarray]:
    """``(code, breaks, slopes)`` describing ``g'`` to the compiled loop.

    For code 0, ``g'(h) = slopes[m]`` for ``breaks[m] < h <= breaks[m + 1]``
    (``breaks[0] = 0``, the last piece open to the right), 0 for ``h <= 0``.
    """
    one_of("name", name, COMPILED_SURROGATES)
    if name in PIECEWISE_CONSTANT:
        return 0, *piecewise_constant_derivative(name, bits)
    q = float(max_level(bits))
    return (1 if name == "reverse_exponential" else 2), np.array([0.0]), np.array([q])


@njit(cache=True)
def _derivative(h, code, breaks, slopes):  # pragma: no cover - compiled
    if h <= 0.0:
        return 0.0
    if code == 1:
        return np.exp(-h / slopes[0])
    if code == 2:
        return 1.0 if h <= slopes[0] else 1.0 / (h - slopes[0] + 1.0)
    value = slopes[0]
    for m in range(1, breaks.size):
        if h > breaks[m]:
            value = slopes[m]
    return value


@njit(cache=True)
def class_gradient(
    weights, z, mass, i, v, owner, top, code, breaks, slopes, resolution, grad
):  # pragma: no cover - compiled
    """Write ``sum_s mass_s c_{s,j} z_s`` (2, k) into ``grad``; return the mass with
    positive loss. ``z`` (N, 2) are class ``i``'s inputs in its plane coordinates,
    ``weights`` (2, k) the columns of ``W`` projected on that plane."""
    classes, units = v.shape
    outputs = np.empty(classes)
    h = np.empty(units)
    grad[:, :] = 0.0
    positive = 0.0
    for s in range(z.shape[0]):
        z0 = z[s, 0]
        z1 = z[s, 1]
        outputs[:] = 0.0
        for j in range(units):
            h[j] = z0 * weights[0, j] + z1 * weights[1, j]
            if h[j] > 0.0:  # unit j adds v_{owner, j} sigma(h_j) to its own class only
                outputs[owner[j]] += v[owner[j], j] * min(np.ceil(h[j]), top)
        for c in range(classes):
            outputs[c] = np.rint(outputs[c] / resolution) * resolution
        rival = -1
        for c in range(classes):
            if c != i and (rival < 0 or outputs[c] > outputs[rival]):
                rival = c
        if 1.0 - outputs[i] + outputs[rival] > 0.0:
            positive += mass[s]
            for j in range(units):
                if h[j] > 0.0 and (owner[j] == i or owner[j] == rival):
                    coefficient = -(v[i, j] - v[rival, j]) * _derivative(h[j], code, breaks, slopes)
                    grad[0, j] += mass[s] * coefficient * z0
                    grad[1, j] += mass[s] * coefficient * z1
    return positive


@njit(cache=True, parallel=True)
def _plane_descent(
    u, z, v, owner, top, step, max_steps, code, breaks, slopes, resolution, norms, steps
):  # pragma: no cover - compiled
    runs, classes, _, units = u.shape
    mass = np.full(z.shape[2], 1.0 / z.shape[2])
    for task in prange(runs * classes):
        r = task // classes
        i = task % classes
        weights = u[r, i]
        grad = np.empty((2, units))
        last = max_steps
        for t in range(max_steps + 1):
            for j in range(units):
                norms[r, t, i, j] = np.sqrt(weights[0, j] ** 2 + weights[1, j] ** 2)
            positive = class_gradient(
                weights, z[r, i], mass, i, v, owner, top, code, breaks, slopes, resolution, grad
            )
            if positive == 0.0:
                steps[r, i] = t
                last = t
                break
            if t == max_steps:
                break
            weights -= step * grad
        for t in range(last + 1, max_steps + 1):
            for j in range(units):
                norms[r, t, i, j] = norms[r, last, i, j]


@dataclass(frozen=True)
class IterateRun:
    """Descent runs with the norms of every iterate.

    Attributes
    ----------
    w : (R, d, k) final weights.
    plane_norms : (T + 1, R, n, k) ``|w_{j,i}^t|``, the component in class i's plane.
    column_norms : (T + 1, R, k) ``|w_j^t|``.
    steps_to_zero : (R,) first step with zero loss on the whole sample (-1: never).
    """

    w: np.ndarray
    plane_norms: np.ndarray
    column_norms: np.ndarray
    steps_to_zero: np.ndarray

    @property
    def converged(self) -> np.ndarray:
        return self.steps_to_zero >= 0

    @property
    def total_norm(self) -> np.ndarray:
        """The paper's ``|W^t| = sum_j |w_j^t|``, shape (T + 1, R)."""
        return self.column_norms.sum(axis=-1)


def plane_coordinates(population: AnnulusPopulation, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Each class's inputs in its own plane's coordinates, shape (n, N_per_class, 2)."""
    counts = np.bincount(y, minlength=population.n_classes)
    if np.any(counts != counts[0]) or counts.size != population.n_classes:
        raise ValueError(f"need the same number of samples of every class, got {counts}")
    return np.stack([x[y == i] @ population.plane(i) for i in range(population.n_classes)])


def plane_descent(
    population: AnnulusPopulation,
    w0: np.ndarray,
    z: np.ndarray,
    v: np.ndarray,
    bits: int,
    surrogate: str,
    eta: float,
    max_steps: int,
) -> IterateRun:
    """Run (8) from ``w0`` (R, d, k) on plane coordinates ``z``.

    ``z`` is (n, N, 2), one sample shared by every run, or (R, n, N, 2), one
    sample per run (see :func:`plane_coordinates`). A class stops once its
    loss is exactly zero (its coarse gradient is then zero); the run's
    ``steps_to_zero`` is the step at which the last class stopped.
    """
    v = nw.check_second_layer(v)
    w0 = np.asarray(w0, dtype=float)
    n = population.n_classes
    if w0.ndim != 3 or w0.shape[1:] != (population.dim, v.shape[1]) or v.shape[0] != n:
        raise ValueError(
            f"w0 must be (R, {population.dim}, {v.shape[1]}) and V must have {n} rows, "
            f"got {w0.shape} and {v.shape}"
        )
    runs, max_steps = w0.shape[0], positive_int("max_steps", max_steps)
    z = np.asarray(z, dtype=float)
    if z.ndim == 3:
        z = np.broadcast_to(z, (runs, *z.shape))
    if z.shape[:2] != (runs, n) or z.shape[-1] != 2:
        raise ValueError(f"z must be (n, N, 2) or (R, n, N, 2), got {z.shape}")
    planes = np.stack([population.plane(i) for i in range(n)])  # (n, d, 2)
    u = np.ascontiguousarray(np.einsum("nda,rdk->rnak", planes, w0))
    code, breaks, slopes = surrogate_code(surrogate, bits)
    norms = np.zeros((runs, max_steps + 1, n, v.shape[1]))
    steps = np.full((runs, n), -1)
    _plane_descent(
        u,
        np.ascontiguousarray(z),
        v,
        v.argmax(axis=0),
        float(max_level(bits)),
        positive_float("eta", eta) / n,
        max_steps,
        code,
        breaks,
        slopes,
        nw.OUTPUT_RESOLUTION,
        norms,
        steps,
    )
    done = np.where(np.all(steps >= 0, axis=1), steps.max(axis=1), -1)
    return assemble(population, w0, u, norms, done)


def assemble(
    population: AnnulusPopulation,
    w0: np.ndarray,
    u: np.ndarray,
    norms: np.ndarray,
    steps_to_zero: np.ndarray,
) -> IterateRun:
    """Rebuild ``W`` and ``|w_j^t|`` from the plane components.

    ``u`` (R, n, 2, k) final plane components, ``norms`` (R, T + 1, n, k) their
    norms along the run; the component of ``w0`` in ``V_{n+1}`` never moves.
    """
    planes = np.stack([population.plane(i) for i in range(population.n_classes)])
    rest = population.component(w0, population.n_classes)
    w = rest + np.einsum("nda,rnak->rdk", planes, u)
    plane_norms = np.moveaxis(norms, 1, 0)
    column = np.sqrt(np.sum(plane_norms**2, axis=2) + np.linalg.norm(rest, axis=-2)[None] ** 2)
    return IterateRun(
        w=w, plane_norms=plane_norms, column_norms=column, steps_to_zero=steps_to_zero
    )


def growth_exponent(total_norm: np.ndarray) -> np.ndarray:
    """``log2(|W^T| / |W^{T/2}|)`` per run from a (T + 1, R) history of ``|W^t|``.

    The local exponent of ``|W^t| ~ t^alpha`` over the second half of the run:
    0 for a run that stopped moving, 1 for linear growth, 1/2 for ``sqrt t``,
    ``log2(log T / log(T/2))`` for ``log t`` (0.14 at T = 2,000).
    """
    total_norm = np.asarray(total_norm, dtype=float)
    return np.log2(total_norm[-1] / total_norm[(total_norm.shape[0] - 1) // 2])


def bound_holds(total_norm: np.ndarray, exponent: float) -> np.ndarray:
    """(R,) whether ``|W^t| <= R = 2^exponent |W^{T/2}|`` at every ``t`` in ``[T/2, T]``.

    ``R`` is fixed from the iterate at the middle of the run and checked
    against every later iterate of a (T + 1, R) history.
    """
    total_norm = np.asarray(total_norm, dtype=float)
    middle = (total_norm.shape[0] - 1) // 2
    bound = 2.0 ** positive_float("exponent", exponent) * total_norm[middle]
    return np.all(total_norm[middle:] <= bound, axis=0)


@dataclass(frozen=True)
class FreshCounts:
    """Fresh inputs misclassified and with positive loss, per run.

    Attributes
    ----------
    errors, positive_loss : (R,) counts out of ``size`` inputs.
    size : fresh inputs per run (the same inputs for every run).
    """

    errors: np.ndarray
    positive_loss: np.ndarray
    size: int


def fresh_counts(
    w: np.ndarray, fresh: tuple[np.ndarray, np.ndarray], v: np.ndarray, bits: int
) -> FreshCounts:
    """Evaluate weights ``w`` (R, d, k) on fresh inputs ``(x (N, d), y (N,))`` with the
    NumPy forward pass of :mod:`quantheory.cg.network`, independent of the compiled
    descent and of the quadrature."""
    x, y = fresh
    state = nw.forward(w, x, y, v, bits)
    return FreshCounts(
        errors=np.sum(state.predicted != y, axis=-1),
        positive_loss=np.sum(state.loss > 0, axis=-1),
        size=int(y.size),
    )
