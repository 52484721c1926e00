"""The exact risk of quantized SGD in linear regression, by its moment recursion.

With ``H`` diagonal, the mean ``m = E[e]`` and the diagonal ``v_i = E[e_i^2]``
of the second moment of ``e = w - w~`` (``w~`` is SGD's target, see
:func:`sgd_target`) obey a closed affine recursion (derived in
:mod:`quantheory.lr.symbolic`, whose lambdified coefficients are iterated
here):

    m' = q * m,                    q_i = 1 - gamma lambda~_i,
    v' = a * v + P^T (K v) + a_m * m + P_m^T (K_m m) + c,

``P, K`` of shape ``(r, d)`` with ``r`` at most a few (the coordinates
couple only through sums such as ``sum_j lambda_j v_j``), so a step costs
``O(d)``. The excess risk ``E(w) = (w - w*)^T H (w - w*) / 2`` has
expectation ``(1/2) sum_i lambda_i (v_i + 2 b_i m_i + b_i^2)`` with
``b = w~ - w*``.

The averaged iterate ``w_bar_T = (w_0 + ... + w_{T-1}) / T`` uses
``E[e_t,i e_s,i] = q_i^(t-s) v_s,i`` for ``t >= s`` (the drift given the past
is exactly ``-gamma lambda~_i e_i``), so
``E[e_bar_i^2] = (sum_{t<T} v_t,i + 2 sum_{t<T} S_t,i) / T^2`` with
``S_0 = 0``, ``S_{t+1} = q (S_t + v_t)``: every horizon costs ``O(d)`` per step.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from quantheory.lr import symbolic
from quantheory.lr.model import Problem, Quantization, step_counts

#: largest dimension for which :func:`stability_radius` forms the dense d x d matrix
DENSE_LIMIT = 1000


@dataclass(frozen=True)
class RiskCurve:
    """Expected excess risk at a grid of step counts.

    Attributes
    ----------
    steps : numpy.ndarray of int, shape (k,)
        Step counts ``T``, increasing, ``>= 1``.
    last : numpy.ndarray, shape (k,)
        ``E[E(w_T)]``, the last iterate.
    average : numpy.ndarray, shape (k,)
        ``E[E(w_bar_T)]``, ``w_bar_T`` the mean of ``w_0, ..., w_{T-1}``.
    """

    steps: np.ndarray
    last: np.ndarray
    average: np.ndarray


@dataclass(frozen=True)
class AffineStep:
    """The numeric one-step map of ``(m, v)`` for one problem and quantization.

    Attributes (all shape ``(d,)`` unless said)
    ----------
    q
        ``m' = q * m``.
    a_v, coupling_left, coupling_right
        Linear part in ``v``: ``a_v * v + coupling_left.T @ (coupling_right @ v)``,
        the coupling matrices of shape ``(r, d)``.
    a_m, mean_left, mean_right
        The same for the mean's term in ``v'``.
    c
        The constant term.
    target
        ``w~``, SGD's target.
    """

    q: np.ndarray
    a_v: np.ndarray
    coupling_left: np.ndarray
    coupling_right: np.ndarray
    a_m: np.ndarray
    mean_left: np.ndarray
    mean_right: np.ndarray
    c: np.ndarray
    target: np.ndarray

    def apply(self, m: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """One step: ``(m, v) -> (m', v')``, shapes ``(d,)``."""
        v_next = (
            self.a_v * v
            + self.coupling_left.T @ (self.coupling_right @ v)
            + self.a_m * m
            + self.mean_left.T @ (self.mean_right @ m)
            + self.c
        )
        return self.q * m, v_next

    def matrix(self) -> np.ndarray:
        """The ``(d, d)`` linear part of ``v -> v'``."""
        return np.diag(self.a_v) + self.coupling_left.T @ self.coupling_right


def _check(problem: Problem, quant: Quantization | None) -> tuple[str | None, str | None, float]:
    if not isinstance(problem, Problem):
        raise ValueError(f"problem must be a quantheory.lr.model.Problem, got {type(problem)!r}")
    if quant is None:
        return None, None, 0.0
    if not isinstance(quant, Quantization):
        raise ValueError(
            f"quant must be a quantheory.lr.model.Quantization or None, got {type(quant)!r}"
        )
    return quant.target, quant.kind, quant.eps


def affine_step(problem: Problem, quant: Quantization | None) -> AffineStep:
    """Evaluate the lambdified recursion of :mod:`quantheory.lr.symbolic` for a problem."""
    target, kind, eps = _check(problem, quant)
    coefficients = symbolic.step_coefficients(target, kind)
    lam, w_star = problem.spectrum, problem.w_star
    w_target = coefficients.target_value(lam, w_star, eps).copy()
    params = (problem.gamma, float(problem.batch), eps, problem.noise_var)
    d = problem.d
    diagonal = {"v": np.zeros(d), "m": np.zeros(d), "1": np.zeros(d)}
    left = {"v": [], "m": []}
    right = {"v": [], "m": []}
    for term in coefficients.own:
        diagonal[term.moment] += term.left(lam, w_star, w_target, *params)
    for term in coefficients.other:
        lhs = term.left(lam, w_star, w_target, *params)
        rhs = term.right(lam, w_star, w_target)
        if term.moment == "1":  # sum over j != i of a constant
            diagonal["1"] += lhs * (rhs.sum() - rhs)
        else:
            diagonal[term.moment] -= lhs * rhs  # the coupling below includes j = i
            left[term.moment].append(lhs)
            right[term.moment].append(rhs)

    def stack(rows):
        return np.array(rows, dtype=float).reshape(len(rows), d)

    lam_tilde = coefficients.lam_tilde(lam, eps)
    return AffineStep(
        q=1.0 - problem.gamma * lam_tilde,
        a_v=diagonal["v"],
        coupling_left=stack(left["v"]),
        coupling_right=stack(right["v"]),
        a_m=diagonal["m"],
        mean_left=stack(left["m"]),
        mean_right=stack(right["m"]),
        c=diagonal["1"],
        target=w_target,
    )


def sgd_target(problem: Problem, quant: Quantization | None) -> np.ndarray:
    """Shape ``(d,)``: ``w~ = H~^{-1} H w*``, where SGD's mean drift vanishes.

    ``w~ = w*`` unless the data are quantized; then ``H~ = E[x~ x~^T]`` is
    ``H + eps I`` (additive) or ``(1 + eps) H`` (both multiplicative kinds).
    """
    target, kind, eps = _check(problem, quant)
    coefficients = symbolic.step_coefficients(target, kind)
    return coefficients.target_value(problem.spectrum, problem.w_star, eps).copy()


def approximation_error(problem: Problem, quant: Quantization | None) -> float:
    """The excess risk ``E(w~)`` of SGD's target on clean data (0 unless data are quantized)."""
    bias = sgd_target(problem, quant) - problem.w_star
    return float(0.5 * np.sum(problem.spectrum * bias**2))


def _perron_root(step: AffineStep) -> float:
    """Largest eigenvalue of ``diag(a_v) + P^T K`` for entrywise nonnegative parts.

    For ``lam > max(a_v)``, ``lam`` is an eigenvalue iff the ``(r, r)`` matrix
    ``M(lam) = K diag(1 / (lam - a_v)) P^T`` has eigenvalue 1; ``M`` decreases
    entrywise in ``lam``, so the Perron root is where its spectral radius
    crosses 1 (found by Brent's method), or ``max(a_v)`` if it never does.
    """
    from scipy.optimize import brentq

    diagonal, left, right = step.a_v, step.coupling_left, step.coupling_right
    top = float(diagonal.max())
    row_sum = float(np.max(diagonal + left.T @ right.sum(axis=1)))
    upper = row_sum + 1e-12 * max(row_sum, 1.0)  # the root is <= the largest row sum

    def excess(lam: float) -> float:
        reduced = (right / (lam - diagonal)) @ left.T
        return float(np.max(np.abs(np.linalg.eigvals(reduced)))) - 1.0

    lower = top + 1e-15 * max(top, 1.0)
    if upper <= lower or excess(lower) <= 0:
        return top
    return float(brentq(excess, lower, upper, xtol=1e-16, rtol=4 * np.finfo(float).eps))


def stability_radius(problem: Problem, quant: Quantization | None) -> float:
    """Spectral radius of the linear part ``diag(a_v) + P^T K`` of ``v -> v'``.

    A radius ``< 1`` makes the expected risk converge for every start (the
    matrix is entrywise nonnegative with diagonal ``a_v,i >= q_i^2``, so the
    radius also bounds the mean's factors ``q_i^2``); above 1 the second
    moments grow geometrically from a generic start. Computed in ``O(d r^2)``
    per trial value as the Perron root (:func:`_perron_root`) when ``a_v``,
    ``P`` and ``K`` are nonnegative (every target and kind of the model), else
    from the dense ``d x d`` matrix (``d <= DENSE_LIMIT``).

    The radius is a second-moment statement, and it is at least the slowest
    coordinate's factor, about ``1 - 2 gamma lambda_d`` with
    ``lambda_d = d^-a``: close to 1 in high dimension however small the step,
    so its distance from 1 is not a safety margin.
    """
    return _radius(affine_step(problem, quant), quant)


def _nonnegative(step: AffineStep) -> bool:
    return all(np.all(part >= 0) for part in (step.a_v, step.coupling_left, step.coupling_right))


def _radius(step: AffineStep, quant: Quantization | None) -> float:
    if _nonnegative(step):
        return _perron_root(step)
    d = step.a_v.size
    if d > DENSE_LIMIT:
        raise ValueError(
            f"the v-recursion of {quant} has negative coefficients and d = {d} > "
            f"{DENSE_LIMIT}: its radius needs the dense matrix; use d <= {DENSE_LIMIT}"
        )
    return float(np.max(np.abs(np.linalg.eigvals(step.matrix()))))


def _require_stable(step: AffineStep, problem: Problem, quant: Quantization | None) -> None:
    """Raise a readable error unless the v-recursion's stability radius is ``< 1``.

    The largest row sum bounds the radius of a nonnegative matrix, so the
    exact radius is computed only when that cheap bound is not below 1.
    """
    if _nonnegative(step):
        rows = step.a_v + step.coupling_left.T @ step.coupling_right.sum(axis=1)
        if float(rows.max()) < 1:
            return
    radius = _radius(step, quant)
    if not radius < 1:
        raise ValueError(
            f"risk_curve needs a stable recursion (stability radius < 1), got radius "
            f"{radius:.6g} for gamma = {problem.gamma}, B = {problem.batch}, d = {problem.d}, "
            f"a = {problem.a}, {quant or 'no quantization'}: the expected risk grows "
            "geometrically; "
            "use a smaller gamma (or eps)"
        )


@njit(cache=True, fastmath={"reassoc", "contract"})
def _iterate(q, a_v, pv, kv, a_m, pm, km, c, lam, bias, m0, record):  # pragma: no cover
    d = m0.size
    n = record.size
    last = np.empty(n)
    average = np.empty(n)
    m = m0.copy()
    v = m0 * m0
    tail = np.zeros(d)  # S_t
    sum_v = np.zeros(d)
    sum_tail = np.zeros(d)
    sum_m = np.zeros(d)
    v_next = np.empty(d)
    k = 0
    t = 0
    while True:
        if t == record[k]:
            risk_last = 0.0
            risk_average = 0.0
            for i in range(d):
                risk_last += lam[i] * (v[i] + 2.0 * bias[i] * m[i] + bias[i] ** 2)
                second = (sum_v[i] + 2.0 * sum_tail[i]) / (t * t)
                risk_average += lam[i] * (second + 2.0 * bias[i] * sum_m[i] / t + bias[i] ** 2)
            last[k] = 0.5 * risk_last
            average[k] = 0.5 * risk_average
            k += 1
            if k == n:
                break
        for i in range(d):
            sum_v[i] += v[i]
            sum_tail[i] += tail[i]
            sum_m[i] += m[i]
            tail[i] = q[i] * (tail[i] + v[i])
            v_next[i] = a_v[i] * v[i] + a_m[i] * m[i] + c[i]
        for left, right, x in ((pv, kv, v), (pm, km, m)):
            for r in range(right.shape[0]):
                total = 0.0
                for i in range(d):
                    total += right[r, i] * x[i]
                for i in range(d):
                    v_next[i] += left[r, i] * total
        v, v_next = v_next, v
        for i in range(d):
            m[i] *= q[i]
        t += 1
    return last, average


def risk_curve(problem: Problem, quant: Quantization | None, steps) -> RiskCurve:
    """The expected excess risk of the last and the averaged iterate at ``steps``.

    Parameters
    ----------
    problem
        The regression problem and SGD's step size and batch.
    quant
        The quantized target, or ``None`` for full-precision SGD.
    steps
        Shape ``(k,)``: strictly increasing integers ``>= 1`` (SGD steps ``T``;
        ``N = T B`` samples).

    Returns
    -------
    RiskCurve
        ``last[k] = E[E(w_T)]``, ``average[k] = E[E((w_0 + ... + w_{T-1})/T)]``.

    Raises
    ------
    ValueError
        Bad arguments (``steps``: see :func:`quantheory.lr.model.step_counts`),
        a recursion whose :func:`stability_radius` is not below 1, or a
        non-finite risk.
    """
    record = step_counts(steps)
    step = affine_step(problem, quant)
    _require_stable(step, problem, quant)
    m0 = problem.w_init - step.target
    last, average = _iterate(
        step.q,
        step.a_v,
        np.ascontiguousarray(step.coupling_left),
        np.ascontiguousarray(step.coupling_right),
        step.a_m,
        np.ascontiguousarray(step.mean_left),
        np.ascontiguousarray(step.mean_right),
        step.c,
        problem.spectrum,
        step.target - problem.w_star,
        m0,
        record,
    )
    if not (np.all(np.isfinite(last)) and np.all(np.isfinite(average))):
        raise ValueError(
            f"the risk diverges (non-finite) for gamma = {problem.gamma}, {quant}: "
            f"stability radius {_radius(step, quant):.4g} must be < 1"
        )
    return RiskCurve(record, last, average)


def moment_path(
    problem: Problem, quant: Quantization | None, steps: int
) -> tuple[np.ndarray, np.ndarray]:
    """``m_t`` and ``v_t`` for ``t = 0..steps`` by plain NumPy steps, shapes ``(steps+1, d)``."""
    if isinstance(steps, bool) or not isinstance(steps, int | np.integer) or steps < 0:
        raise ValueError(f"steps must be an integer >= 0, got {steps!r}")
    step = affine_step(problem, quant)
    m = problem.w_init - step.target
    v = m**2
    means, seconds = [m], [v]
    for _ in range(steps):
        m, v = step.apply(m, v)
        means.append(m)
        seconds.append(v)
    return np.array(means), np.array(seconds)
