"""Population expectations over a class's annulus by polar quadrature.

Class ``i`` is uniform on ``{m_x < |z| < M}`` in its plane: radius with density
``2 r / (M^2 - m_x^2)`` on ``(m_x, M)``, angle uniform on ``(0, 2 pi)``. Every
quantity of the lemmas is an expectation of a function that, at fixed radius
``r``, is smooth in the angle except where some pre-activation
``h_j = r |u_j| cos(phi - theta_j)`` crosses a *level* ``a`` (0, where
``h_j`` changes sign; the quantizer's jumps 1, .., q_b - 1; the kinks of
``g'``): at ``phi = theta_j +- arccos(a / (r |u_j|))``. The rule built here
splits the circle at all of these angles (plus a uniform grid, so that no
piece is long) and puts Gauss-Legendre nodes on every piece; in the radius it
splits at ``a / |u_j|`` (where the crossings appear) and puts Gauss-Legendre
nodes on every radial piece. The rule depends on ``W``: it is rebuilt for
every ``W``.

:func:`plane_rule` returns nodes and weights (summing to 1), so any
expectation is a weighted sum that NumPy code can evaluate on its own;
:func:`population_descent` uses the same rule inside compiled descent.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit, prange

from quantheory.cg import iterates as it
from quantheory.cg import network as nw
from quantheory.cg.population import AnnulusPopulation
from quantheory.cg.surrogates import SCALE, SCALED_RELU, max_level
from quantheory.validation import positive_float, positive_int


@dataclass(frozen=True)
class RuleSize:
    """How fine the rule is.

    Attributes
    ----------
    radial : Gauss-Legendre nodes on each radial piece.
    angular : Gauss-Legendre nodes on each angular piece.
    grid : uniform angles added to the breakpoints (the longest piece is
        at most ``2 pi / grid``).
    """

    radial: int = 8
    angular: int = 3
    grid: int = 32

    def __post_init__(self) -> None:
        for name in ("radial", "angular", "grid"):
            positive_int(name, getattr(self, name))


def surrogate_code(surrogate: str, bits: int) -> tuple[int, np.ndarray, np.ndarray]:
    """The compiled loop's description of ``g'`` (:func:`iterates.surrogate_code`), with
    the scaled ReLU (``g' = SCALE`` on x > 0) added."""
    if surrogate == SCALED_RELU:
        return 0, np.array([0.0]), np.array([float(SCALE)])
    return it.surrogate_code(surrogate, bits)


def surrogate_levels(surrogate: str, bits: int) -> np.ndarray:
    """Every ``h`` at which the integrand may jump or kink: 0, the quantizer's
    jumps ``1 .. q_b - 1`` and the kinks of ``g'`` (``q_b`` for the log-tailed
    ReLU, the breaks of the two-slope ramp)."""
    q = max_level(bits)
    code, breaks, _ = surrogate_code(surrogate, bits)
    kinks = [float(q)] if code == 2 else list(breaks) if code == 0 else []
    return np.unique(np.concatenate([np.arange(q, dtype=float), kinks]))


@njit(cache=True)
def _rule(u, levels, inner, outer, xr, wr, xa, wa, grid):  # pragma: no cover - compiled
    units = u.shape[1]
    rho = np.sqrt(u[0] ** 2 + u[1] ** 2)
    theta = np.arctan2(u[1], u[0])
    splits = [inner, outer]
    for j in range(units):
        for a in levels:
            if a > 0.0 and rho[j] > 0.0 and inner < a / rho[j] < outer:
                splits.append(a / rho[j])
    edges = np.unique(np.array(splits))
    normaliser = 0.5 * (outer**2 - inner**2)
    count = 0
    capacity = (edges.size - 1) * xr.size * (grid + 2 * units * levels.size + 1) * xa.size
    z = np.empty((capacity, 2))
    mass = np.empty(capacity)
    cuts = np.empty(grid + 2 * units * levels.size + 1)
    for piece in range(edges.size - 1):
        low, high = edges[piece], edges[piece + 1]
        for m in range(xr.size):
            r = low + 0.5 * (high - low) * (xr[m] + 1.0)
            radial_mass = 0.5 * (high - low) * wr[m] * r / normaliser
            n_cuts = 0
            for g in range(grid):
                cuts[n_cuts] = 2.0 * np.pi * g / grid
                n_cuts += 1
            for j in range(units):
                for a in levels:
                    if rho[j] > 0.0 and a < r * rho[j]:
                        spread = np.arccos(a / (r * rho[j]))
                        for sign in (-1.0, 1.0):
                            cuts[n_cuts] = (theta[j] + sign * spread) % (2.0 * np.pi)
                            n_cuts += 1
            cuts[n_cuts] = 2.0 * np.pi
            n_cuts += 1
            ordered = np.sort(cuts[:n_cuts])
            for c in range(n_cuts - 1):
                width = ordered[c + 1] - ordered[c]
                if width <= 0.0:
                    continue
                for p in range(xa.size):
                    phi = ordered[c] + 0.5 * width * (xa[p] + 1.0)
                    z[count, 0] = r * np.cos(phi)
                    z[count, 1] = r * np.sin(phi)
                    mass[count] = radial_mass * 0.5 * width * wa[p] / (2.0 * np.pi)
                    count += 1
    return z[:count], mass[:count]


def plane_rule(
    u: np.ndarray,
    levels: np.ndarray,
    inner: float,
    outer: float,
    size: RuleSize = RuleSize(),
) -> tuple[np.ndarray, np.ndarray]:
    """Quadrature nodes ``z`` (P, 2) and weights (P,) for the uniform annulus,
    adapted to the plane components ``u`` (2, k) of ``W``; the weights sum to 1."""
    u = np.ascontiguousarray(u, dtype=float)
    if u.ndim != 2 or u.shape[0] != 2:
        raise ValueError(f"u must be (2, k), got {u.shape}")
    xr, wr = np.polynomial.legendre.leggauss(size.radial)
    xa, wa = np.polynomial.legendre.leggauss(size.angular)
    return _rule(
        u,
        np.asarray(levels, dtype=float),
        positive_float("inner", inner),
        positive_float("outer", outer),
        xr,
        wr,
        xa,
        wa,
        size.grid,
    )


@njit(cache=True, parallel=True)
def _population_descent(
    u,
    v,
    owner,
    top,
    step,
    max_steps,
    code,
    breaks,
    slopes,
    resolution,
    levels,
    rule,
    norms,
    mass,
    grads,
):  # pragma: no cover - compiled
    runs, classes, _, units = u.shape
    inner, outer, xr, wr, xa, wa, grid = rule
    for task in prange(runs * classes):
        r = task // classes
        i = task % classes
        weights = u[r, i]  # descends in place: u holds the final plane components
        grad = np.empty((2, units))
        last = max_steps
        for t in range(max_steps + 1):
            for j in range(units):
                norms[r, t, i, j] = np.sqrt(weights[0, j] ** 2 + weights[1, j] ** 2)
            z, w = _rule(weights, levels, inner, outer, xr, wr, xa, wa, grid)
            mass[r, t, i] = it.class_gradient(
                weights, z, w, i, v, owner, top, code, breaks, slopes, resolution, grad
            )
            if t < max_steps:
                for j in range(units):
                    grads[r, t, i, j] = np.sqrt(grad[0, j] ** 2 + grad[1, j] ** 2)
            if mass[r, t, i] == 0.0 or t == max_steps:
                last = t
                break
            weights -= step * grad
        for t in range(last + 1, max_steps + 1):
            for j in range(units):
                norms[r, t, i, j] = norms[r, last, i, j]


@dataclass(frozen=True)
class PopulationRun:
    """Coarse-gradient descent on the population (the coarse gradient by quadrature).

    Attributes
    ----------
    iterates : the :class:`~quantheory.cg.iterates.IterateRun` (``steps_to_zero``:
        first step at which every class has zero population loss).
    loss_mass : (T + 1, R, n) ``P_{D_i}(loss > 0)`` at every step (by quadrature;
        frozen once a class reaches zero).
    """

    iterates: it.IterateRun
    loss_mass: np.ndarray


def _descend(
    population: AnnulusPopulation,
    w0: np.ndarray,
    v: np.ndarray,
    bits: int,
    surrogate: str,
    eta: float,
    max_steps: int,
    size: RuleSize,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Run the compiled population descent; the shared set-up of both public runners.

    Returns the final plane components ``u`` (R, n, 2, k), the norms
    ``|w_{j,i}^t|`` (R, T + 1, n, k), the loss masses (R, T + 1, n) and the
    class-gradient norms (R, T, n, k), each frozen once its class has zero loss.
    """
    v = nw.check_second_layer(v)
    n = population.n_classes
    w0 = np.asarray(w0, dtype=float)
    if w0.ndim != 3 or w0.shape[1:] != (population.dim, v.shape[1]) or v.shape[0] != n:
        raise ValueError(
            f"w0 must be (R, {population.dim}, {v.shape[1]}) and V must have {n} rows, "
            f"got {w0.shape} and {v.shape}"
        )
    runs, max_steps = w0.shape[0], positive_int("max_steps", max_steps)
    planes = np.stack([population.plane(i) for i in range(n)])
    u = np.ascontiguousarray(np.einsum("nda,rdk->rnak", planes, w0))
    code, breaks, slopes = surrogate_code(surrogate, bits)
    xr, wr = np.polynomial.legendre.leggauss(size.radial)
    xa, wa = np.polynomial.legendre.leggauss(size.angular)
    norms = np.zeros((runs, max_steps + 1, n, v.shape[1]))
    mass = np.zeros((runs, max_steps + 1, n))
    grads = np.zeros((runs, max_steps, n, v.shape[1]))
    _population_descent(
        u,
        v,
        v.argmax(axis=0),
        float(max_level(bits)),
        positive_float("eta", eta) / n,
        max_steps,
        code,
        breaks,
        slopes,
        nw.OUTPUT_RESOLUTION,
        surrogate_levels(surrogate, bits),
        (population.inner, population.outer, xr, wr, xa, wa, size.grid),
        norms,
        mass,
        grads,
    )
    return u, norms, mass, grads


def population_descent(
    population: AnnulusPopulation,
    w0: np.ndarray,
    v: np.ndarray,
    bits: int,
    surrogate: str,
    eta: float,
    max_steps: int,
    size: RuleSize = RuleSize(),
) -> PopulationRun:
    """Iterate (8) with the population coarse gradient ``E_{D}[grad l]`` by quadrature."""
    u, norms, mass, _ = _descend(population, w0, v, bits, surrogate, eta, max_steps, size)
    w0, runs, n = np.asarray(w0, dtype=float), u.shape[0], population.n_classes
    zero = mass == 0.0
    first = np.where(zero.any(axis=1), zero.argmax(axis=1), -1)  # (R, n)
    done = np.where(np.all(first >= 0, axis=1), first.max(axis=1), -1)
    for r in range(runs):
        for i in range(n):
            stop = first[r, i] if first[r, i] >= 0 else max_steps
            mass[r, stop:, i] = mass[r, stop, i]
    iterates = it.assemble(population, w0, u, norms, done)
    return PopulationRun(iterates=iterates, loss_mass=np.moveaxis(mass, 1, 0))


@dataclass(frozen=True)
class TrackedRun:
    """Population descent with the per-class quantities of Lemma 5.5 and Proposition 1.

    Attributes
    ----------
    components : (T + 1, R, n, k) ``|w_{j,i}^t|``.
    class_gradients : (T, R, n, k) ``|grad_j l_i(W^t)|``, the population coarse
        gradient by quadrature (0 once class ``i`` has zero population loss).
    largest_weight : (R, k) ``max_t |w_j^t|`` (every plane and ``V_{n+1}``), the
        observed R of Proposition 1.
    """

    components: np.ndarray
    class_gradients: np.ndarray
    largest_weight: np.ndarray

    @property
    def increments(self) -> np.ndarray:
        """``|w_{j,i}^{t+1}| - |w_{j,i}^t|``, shape (T, R, n, k)."""
        return np.diff(self.components, axis=0)


def tracked_population_descent(
    population: AnnulusPopulation,
    w0: np.ndarray,
    v: np.ndarray,
    bits: int,
    surrogate: str,
    eta: float,
    max_steps: int,
    size: RuleSize = RuleSize(),
) -> TrackedRun:
    """Iterate (8) with the population coarse gradient and record, at every step,
    ``|w_{j,i}^t|`` and ``|grad_j l_i(W^t)|`` for every class and unit."""
    _, norms, _, grads = _descend(population, w0, v, bits, surrogate, eta, max_steps, size)
    w0, n = np.asarray(w0, dtype=float), population.n_classes
    idle = np.linalg.norm(population.plane(n).T @ w0, axis=-2)  # (R, k), never moves
    total = np.sqrt(np.sum(norms**2, axis=2) + idle[:, None, :] ** 2)  # (R, T + 1, k)
    return TrackedRun(
        components=np.moveaxis(norms, 1, 0),
        class_gradients=np.moveaxis(grads, 1, 0),
        largest_weight=total.max(axis=1),
    )
