"""The exact moment recursion of Part III, derived in SymPy from the model.

One SGD step moves ``e = w - w~`` (``w~`` is SGD's target, its fixed point in
mean) by ``(gamma/B) sum_k x~_k u_k`` over the batch rows ``k``, where
``x~_k`` is the (possibly quantized) data row and ``u_k`` the (possibly
quantized) output gradient of row ``k``. With ``H`` diagonal, coordinate
``i`` of the mean ``m = E[e]`` and of the diagonal ``v_i = E[e_i^2]`` of the
second moment obey a closed affine recursion. This module derives it:

1. Two batch rows and two coordinates are enough. Rows are exchangeable and
   any two of them (with the quantizer noise they share) have the same joint
   law for every ``B``, so ``E[(sum_k x~_ki u_k)^2] = B M + B(B-1) C`` with
   ``M = E[(x~_1i u_1)^2]`` and ``C = E[x~_1i u_1 x~_2i u_2]``. Coordinate
   ``i`` is kept; one coordinate ``j`` stands for each other coordinate:
   every term is at most quadratic in the fresh randomness of the other
   coordinates, and products over two different ones average to zero, so
   the other coordinates contribute ``sum_{j != i}`` of what ``j`` does.
   A marker ``tau`` multiplies ``x_j`` (and the additive data noise of
   coordinate ``j``) to separate that part.
2. All randomness is a polynomial in independent standard normals (the
   idealized quantizers of :mod:`quantheory.lr.model` are Gaussian), whose
   expectations are ``E[z^k] = (k-1)!!`` (Isserlis).
3. ``e`` is independent of the fresh step, so after the expectation over
   the step, ``e_i -> m_i``, ``e_i^2 -> v_i``, ``e_j -> m_j``,
   ``e_j^2 -> v_j``; the cross moment ``E[e_i e_j]`` is checked to drop out
   (the recursion is closed) and the mean's drift to be ``-lambda~_i e_i``.

:func:`step_coefficients` lambdifies the result so that
:mod:`quantheory.lr.recursion` iterates the SymPy objects themselves.
For the chapters: ``Formula(v_update(target, kind))`` and ``m_update`` show
the derived step; :data:`QUANTIZED_SPECTRUM_STATEMENT`,
:data:`APPROXIMATION_ERROR_STATEMENT` and :data:`QUANTIZED_INPUT_GAP_STATEMENT`
are checked against :func:`quantized_data_covariance`,
:func:`approximation_error` and :func:`quantized_input_gap`, and
:func:`data_fourth_moments` gives the sketch's ``mu``, ``nu``, ``rho``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import numpy as np
import sympy as sp

from quantheory.lr.model import KINDS, TARGETS
from quantheory.validation import one_of

# ---- Symbols ------------------------------------------------------------------
gamma = sp.Symbol("gamma", positive=True)  # step size
B = sp.Symbol("B", positive=True)  # batch size
eps = sp.Symbol("epsilon", positive=True)  # quantizer's second moment
s2 = sp.Symbol("s^2", nonnegative=True)  # label-noise variance
lam_i, lam_j = sp.symbols("lambda_i lambda_j", positive=True)  # eigenvalues of H
ws_i, ws_j = sp.symbols("w^*_i w^*_j", real=True)  # true parameter
wt_i, wt_j = sp.symbols("wt_i wt_j", real=True)  # SGD's target w~
m_i, m_j = sp.symbols("m_i m_j", real=True)  # E[e]
v_i, v_j = sp.symbols("v_i v_j", nonnegative=True)  # E[e^2]
c_ij = sp.Symbol("c_ij", real=True)  # E[e_i e_j], must drop out
tau = sp.Symbol("tau")  # marks coordinate j's fresh randomness
# square roots as symbols keep the expansions polynomial (fast); put back after expectation
root_eps, root_lam_i, root_lam_j, root_s2 = sp.symbols("r_eps r_lam_i r_lam_j r_s2", positive=True)
_ROOTS = {root_eps: sp.sqrt(eps), root_lam_i: sp.sqrt(lam_i), root_lam_j: sp.sqrt(lam_j)}
_ROOTS[root_s2] = sp.sqrt(s2)

#: how the symbols are typeset in the book
LATEX_NAMES = {
    s2: "s^2",
    wt_i: r"\tilde w_i",
    wt_j: r"\tilde w_j",
    ws_i: "w^*_i",
    ws_j: "w^*_j",
    eps: r"\varepsilon",
}


# ---- Gaussian expectations -------------------------------------------------------
def gaussian_expectation(expr: sp.Expr, normals: list[sp.Symbol]) -> sp.Expr:
    """``E[expr]`` for a polynomial in independent standard normals ``normals``.

    Each monomial ``prod z^k`` has expectation ``prod (k-1)!!`` (zero for odd
    ``k``); the other symbols are constants. When ``expr`` is a polynomial in
    all its symbols (this module writes square roots as the symbols
    ``root_*``, replaced after the expectation) it is expanded in a sparse
    polynomial ring, much faster than SymPy's ``expand``; otherwise (e.g.
    ``sqrt(c)`` in a coefficient) by :class:`sympy.Poly` in ``normals``.

    Examples
    --------
    >>> z1, z2, c = sp.symbols("z1 z2 c")
    >>> gaussian_expectation((c + z1 * z2) ** 2 + z1**4, [z1, z2])
    c**2 + 4
    >>> gaussian_expectation((c + sp.sqrt(c) * z1) ** 2, [z1])
    c**2 + c
    """

    def weight(powers):  # prod (p-1)!!, zero if some p is odd
        if any(p % 2 for p in powers):
            return 0
        return math.prod(math.prod(range(p - 1, 0, -2)) for p in powers)

    k = len(normals)
    constants = sorted(sp.sympify(expr).free_symbols - set(normals), key=str)
    ring, *_ = sp.ring([*normals, *constants], sp.QQ)
    try:
        poly = ring.from_expr(expr)
    except ValueError:  # not a polynomial in the constants
        terms = sp.Poly(sp.expand(expr), *normals).terms()
        return sp.expand(sp.Add(*(coeff * weight(powers) for powers, coeff in terms)))
    mean: dict[tuple, object] = {}
    for powers, coeff in poly.terms():
        if factor := weight(powers[:k]):
            key = (0,) * k + powers[k:]
            mean[key] = mean.get(key, 0) + coeff * factor
    return sp.expand(ring.from_dict(mean).as_expr().subs(_ROOTS))


class _Noise:
    """Fresh standard normals, created on demand and remembered."""

    def __init__(self) -> None:
        self.normals: list[sp.Symbol] = []

    def new(self, name: str) -> sp.Symbol:
        z = sp.Symbol(f"{name}_{len(self.normals)}", real=True)
        self.normals.append(z)
        return z


def _quantize(kind: str | None, vector: list[sp.Expr], noise: _Noise, marks=None) -> list:
    """Apply the idealized quantizer ``kind`` to one vector (its listed entries).

    ``marks`` (one factor per entry) multiplies the additive noise, so that the
    noise of coordinate ``j`` carries the marker ``tau`` like ``x_j`` does.
    """
    root = root_eps
    marks = marks or [1] * len(vector)
    if kind is None:
        return list(vector)
    if kind == "additive":
        return [u + mark * root * noise.new("g") for u, mark in zip(vector, marks, strict=True)]
    if kind == "mult_vector":
        z = noise.new("z")
        return [(1 + root * z) * u for u in vector]
    return [(1 + root * noise.new("c")) * u for u in vector]


@dataclass(frozen=True)
class StepMoments:
    """One step's expectations, conditional on ``e`` (``e_i``, ``e_j`` symbols).

    Attributes
    ----------
    drift
        ``E[x~_i u]`` for one row: the mean update is ``e_i + gamma drift``.
    same_row
        ``E[(x~_1i u_1)^2]``.
    cross_row
        ``E[x~_1i u_1 x~_2i u_2]`` for two different rows of one batch.
    """

    drift: sp.Expr
    same_row: sp.Expr
    cross_row: sp.Expr


def _representative_rows(target: str | None, kind: str | None, e_i, e_j) -> StepMoments:
    """Build two batch rows over coordinates ``i`` and ``j`` and take expectations."""
    noise = _Noise()
    kinds = {name: (kind if name == target else None) for name in TARGETS}
    w = [wt_i + e_i, wt_j + e_j]
    w_used = _quantize(kinds["params"], w, noise)  # one vector, shared by the rows
    x_rows, x_used, labels, activations = [], [], [], []
    for _ in range(2):
        x = [root_lam_i * noise.new("x"), tau * root_lam_j * noise.new("x")]
        x_q = _quantize(kinds["data"], x, noise, marks=[1, tau])  # one vector per row
        x_rows.append(x)
        x_used.append(x_q)
        labels.append(ws_i * x[0] + ws_j * x[1] + root_s2 * noise.new("xi"))
        activations.append(x_q[0] * w_used[0] + x_q[1] * w_used[1])
    # labels, activations and output gradients are vectors over the batch
    labels = _quantize(kinds["labels"], labels, noise)
    activations = _quantize(kinds["activations"], activations, noise)
    residuals = [y - a for y, a in zip(labels, activations, strict=True)]
    grads = _quantize(kinds["gradients"], residuals, noise)
    step = [x_q[0] * u for x_q, u in zip(x_used, grads, strict=True)]

    def expect(expr):
        return gaussian_expectation(expr, noise.normals)

    return StepMoments(expect(step[0]), expect(step[0] ** 2), expect(step[0] * step[1]))


def _moments_of_e(expr: sp.Expr, e_i: sp.Symbol, e_j: sp.Symbol) -> sp.Expr:
    """Replace the monomials of ``e`` (degree <= 2) by the moments of ``e``."""
    table = {
        (0, 0): 1,
        (1, 0): m_i,
        (0, 1): m_j,
        (2, 0): v_i,
        (0, 2): v_j,
        (1, 1): c_ij,
    }
    total = sp.Integer(0)
    for powers, coeff in sp.Poly(sp.expand(expr), e_i, e_j).terms():
        total += coeff * table[powers]
    return sp.expand(total)


@dataclass(frozen=True)
class Recursion:
    """The derived one-step recursion for one target and kind.

    Attributes
    ----------
    target_value
        ``w~_i`` in terms of ``lambda_i``, ``w*_i``, ``eps``.
    lam_tilde
        ``lambda~_i``, the eigenvalue of ``H~ = E[x~ x~^T]``: ``m'_i = (1 - gamma lambda~_i) m_i``.
    own
        The part of ``v'_i`` made by coordinate ``i`` alone (symbols ``*_i``).
    per_other
        What each other coordinate ``j != i`` adds to ``v'_i``.
    """

    target_value: sp.Expr
    lam_tilde: sp.Expr
    own: sp.Expr
    per_other: sp.Expr


@cache
def derive(target: str | None = None, kind: str | None = None) -> Recursion:
    """Derive the recursion of ``m_i`` and ``v_i`` (``target=None``: no quantization).

    Raises if the derivation finds the recursion not closed (a cross moment
    ``E[e_i e_j]`` survives) or the drift not ``-lambda~_i e_i``.
    """
    if target is not None or kind is not None:
        one_of("target", target, TARGETS)
        one_of("kind", kind, KINDS)
    e_i, e_j = sp.symbols("e_i e_j", real=True)
    rows = _representative_rows(target, kind, e_i, e_j)
    drift = sp.Poly(rows.drift, e_i, e_j, tau)
    lam_tilde = -drift.coeff_monomial(e_i)
    fixed_point = drift.coeff_monomial(1)
    if sp.expand(rows.drift - (fixed_point - lam_tilde * e_i)) != 0:
        raise ArithmeticError(f"drift of {target}/{kind} is not -lambda~ e_i: {rows.drift}")
    (target_value,) = sp.solve(fixed_point, wt_i) if fixed_point.has(wt_i) else (ws_i,)
    # E[e'_i^2 | e] = e_i^2 + 2 gamma e_i drift + gamma^2 (M/B + (1 - 1/B) C)
    conditional = (
        e_i**2
        + 2 * gamma * e_i * rows.drift
        + gamma**2 * (rows.same_row / B + (1 - 1 / B) * rows.cross_row)
    )
    update = _moments_of_e(conditional, e_i, e_j)
    by_marker = sp.Poly(update, tau)
    if by_marker.coeff_monomial(tau) != 0 or by_marker.degree() > 2:
        raise ArithmeticError(f"coordinate j enters {target}/{kind} other than squared")
    own, per_other = by_marker.coeff_monomial(1), by_marker.coeff_monomial(tau**2)
    if sp.expand(own + per_other).has(c_ij):
        raise ArithmeticError(f"the recursion of {target}/{kind} is not closed in v")
    target_value = sp.simplify(target_value)
    if target_value == ws_i:  # only data quantization moves the target
        own = sp.expand(own.subs(wt_i, ws_i))
        per_other = sp.expand(per_other.subs(wt_j, ws_j))
    return Recursion(target_value, sp.factor(lam_tilde), own, per_other)


# ---- Numeric coefficients ------------------------------------------------------------
_PARAMS = (gamma, B, eps, s2)
_I_ARGS = (lam_i, ws_i, wt_i)
_J_ARGS = (lam_j, ws_j, wt_j)


@dataclass(frozen=True)
class Term:
    """A lambdified separable term ``left(i) * right(j) * moment_j`` of ``v'_i``.

    ``moment`` is ``"v"``, ``"m"`` or ``"1"``; ``left`` takes
    ``(lambda_i, w*_i, w~_i, gamma, B, eps, s2)`` and ``right``
    ``(lambda_j, w*_j, w~_j)``, both vectorised.
    """

    moment: str
    left: Callable
    right: Callable


@dataclass(frozen=True)
class StepCoefficients:
    """The lambdified recursion: ``own`` terms (``right = 1``) and ``other`` terms (``j != i``)."""

    lam_tilde: Callable
    target_value: Callable
    own: tuple[Term, ...]
    other: tuple[Term, ...]


def _separate(expr: sp.Expr, moments: dict, j_args: tuple) -> list[tuple[str, sp.Expr, sp.Expr]]:
    """Split ``expr`` into ``(moment, left, right)`` pieces, ``right`` a monomial in ``j_args``."""
    symbols = list(moments)
    pieces = []
    for powers, coeff in sp.Poly(sp.expand(expr), *symbols, *j_args).terms():
        moment = next((moments[m] for m, p in zip(symbols, powers, strict=False) if p), "1")
        right = sp.Mul(*(x**p for x, p in zip(j_args, powers[len(symbols) :], strict=True)))
        pieces.append((moment, sp.factor(coeff), right))
    return pieces


def _lambdify(args: tuple, expr: sp.Expr) -> Callable:
    function = sp.lambdify(args, expr, "numpy")

    def vectorised(*values):
        shape = np.broadcast_shapes(*(np.shape(v) for v in values))
        return np.broadcast_to(np.asarray(function(*values), dtype=float), shape)

    return vectorised


@cache
def step_coefficients(target: str | None = None, kind: str | None = None) -> StepCoefficients:
    """Lambdify :func:`derive`'s recursion into separable vectorised terms."""
    rec = derive(target, kind)

    def terms(expr, moments, j_args):
        return tuple(
            Term(moment, _lambdify(_I_ARGS + _PARAMS, left), _lambdify(_J_ARGS, right))
            for moment, left, right in _separate(expr, moments, j_args)
        )

    return StepCoefficients(
        _lambdify((lam_i, eps), rec.lam_tilde),
        _lambdify((lam_i, ws_i, eps), rec.target_value),
        terms(rec.own, {v_i: "v", m_i: "m"}, ()),
        terms(rec.per_other, {v_j: "v", m_j: "m"}, _J_ARGS),
    )


# ---- Display ---------------------------------------------------------------------------
i, j, d = sp.symbols("i j d", positive=True, integer=True)
LAM, WS, WT = sp.IndexedBase("lambda"), sp.IndexedBase("w^*"), sp.IndexedBase(r"\tilde{w}")
M, V = sp.IndexedBase("m"), sp.IndexedBase("v")
_AT_I = {lam_i: LAM[i], ws_i: WS[i], wt_i: WT[i], m_i: M[i], v_i: V[i]}
_AT_J = {lam_j: LAM[j], ws_j: WS[j], wt_j: WT[j], m_j: M[j], v_j: V[j]}
_J_AS_I = {lam_j: lam_i, ws_j: ws_i, wt_j: wt_i, m_j: m_i, v_j: v_i}


class Formula:
    """A SymPy expression shown as typeset maths in the page and as text in a terminal."""

    def __init__(self, expr: sp.Basic) -> None:
        self.expr = expr

    def _repr_latex_(self) -> str:
        return "$$" + sp.latex(self.expr, symbol_names=LATEX_NAMES) + "$$"

    def as_text(self) -> str:
        return str(self.expr)


def v_update(target: str | None = None, kind: str | None = None) -> sp.Eq:
    """The derived ``v'_i`` as ``own_i + sum_k left_k(i) sum_{j=1}^d right_k(j)``.

    ``w~`` is replaced by its value and indexed symbols (``lambda[i]``,
    ``v[j]``, ...) are used, for display with :class:`Formula`; the ``j = i``
    terms of the sums are moved into the own part.
    """
    rec = derive(target, kind)
    values = {wt_i: rec.target_value, wt_j: rec.target_value.subs({lam_i: lam_j, ws_i: ws_j})}
    own = sp.expand((rec.own - rec.per_other.subs(_J_AS_I, simultaneous=True)).subs(values))
    per_other = sp.expand(rec.per_other.subs(values))
    result = sp.collect(own, [v_i, m_i], sp.factor).subs(_AT_I)
    for moment in (v_j, m_j, 1):
        group = per_other.coeff(moment) if moment != 1 else per_other.subs({v_j: 0, m_j: 0})
        left, right = sp.factor(group).as_independent(*_AT_J, as_Add=False)
        result += left.subs(_AT_I) * sp.Sum((right * moment).subs(_AT_J), (j, 1, d))
    return sp.Eq(sp.IndexedBase("v'")[i], result)


def m_update(target: str | None = None, kind: str | None = None) -> sp.Eq:
    """The derived ``m'_i = (1 - gamma lambda~_i) m_i``, indexed for display."""
    rec = derive(target, kind)
    return sp.Eq(sp.IndexedBase("m'")[i], ((1 - gamma * rec.lam_tilde) * m_i).subs(_AT_I))


# ---- Statements for the data-quantization (spectra) chapter ----------------------------
#: eigenvalue lambda~_i of H~ = E[x~ x~^T] (H~ is diagonal): a floor, or a scaled spectrum
QUANTIZED_SPECTRUM_STATEMENT = {
    "additive": lam_i + eps,
    "mult_vector": (1 + eps) * lam_i,
    "mult_coord": (1 + eps) * lam_i,
}
#: coordinate i of the risk E(w~) = |w~ - w*|_H^2 / 2 of SGD's target, on clean data
APPROXIMATION_ERROR_STATEMENT = {
    "additive": eps**2 * lam_i * ws_i**2 / (2 * (lam_i + eps) ** 2),
    "mult_vector": eps**2 * lam_i * ws_i**2 / (2 * (1 + eps) ** 2),
    "mult_coord": eps**2 * lam_i * ws_i**2 / (2 * (1 + eps) ** 2),
}
#: coordinate i of min_w (E[(y - <w, x~>)^2] - s^2) / 2, the loss gap on quantized inputs
QUANTIZED_INPUT_GAP_STATEMENT = {
    "additive": eps * lam_i * ws_i**2 / (2 * (lam_i + eps)),
    "mult_vector": eps * lam_i * ws_i**2 / (2 * (1 + eps)),
    "mult_coord": eps * lam_i * ws_i**2 / (2 * (1 + eps)),
}


def _data_row(kind: str, marked: bool = False):
    """One quantized data row over coordinates ``(i, j)`` and the residual ``r0``.

    Returns ``(x~, r0, normals, at_target)``: ``r0`` uses the symbols ``w~_i``,
    ``w~_j``, which ``at_target`` replaces by their derived values (after an
    expectation: the expansion stays polynomial).
    """
    one_of("kind", kind, KINDS)
    noise = _Noise()
    mark = tau if marked else 1
    x = [root_lam_i * noise.new("x"), mark * root_lam_j * noise.new("x")]
    x_q = _quantize(kind, x, noise, marks=[1, mark])
    residual = sum(
        ws * u - wt * u_q for ws, wt, u, u_q in zip((ws_i, ws_j), (wt_i, wt_j), x, x_q, strict=True)
    )
    target = derive("data", kind).target_value
    values = {wt_i: target, wt_j: target.subs({lam_i: lam_j, ws_i: ws_j}, simultaneous=True)}

    def at_target(expr: sp.Expr) -> sp.Expr:
        return sp.factor(expr.subs(values))

    return x_q, residual + root_s2 * noise.new("xi"), noise.normals, at_target


def quantized_data_covariance(kind: str) -> sp.Matrix:
    """Derived ``E[x~ x~^T]`` over two coordinates ``(i, j)``: diagonal, ``lambda~``."""
    x_q, _, normals, _ = _data_row(kind)
    return sp.Matrix(2, 2, lambda r, c: sp.factor(gaussian_expectation(x_q[r] * x_q[c], normals)))


def approximation_error(kind: str) -> sp.Expr:
    """Derived coordinate ``i`` of ``E(w~)`` for quantized data of ``kind``."""
    return sp.factor(lam_i * (derive("data", kind).target_value - ws_i) ** 2 / 2)


def quantized_input_gap(kind: str) -> sp.Expr:
    """Derived coordinate ``i`` of ``(E[r0^2] - s^2) / 2``, ``r0 = y - <w~, x~>``."""
    _, residual, normals, at_target = _data_row(kind, marked=True)
    own = sp.Poly(gaussian_expectation(residual**2, normals), tau).coeff_monomial(1)
    return at_target((own - s2) / 2)


def data_fourth_moments(kind: str) -> dict[str, sp.Expr]:
    """The quantized-data moments of the lead's sketch, derived at ``w~``.

    ``mu_ii = E[x~_i^4]``, ``mu_ij = E[x~_i^2 x~_j^2]``, ``nu_ii = E[x~_i^3 r0]``,
    ``nu_ij = E[x~_i^2 x~_j r0]`` (``j != i``), and ``rho_i = E[x~_i^2 r0^2]`` as
    ``rho_own + sum_{j != i} rho_other``; ``r0 = <w*, x> + xi - <w~, x~>``.
    """
    x_q, residual, normals, at_target = _data_row(kind, marked=True)

    def expect(expr):
        return at_target(gaussian_expectation(expr, normals).subs(tau, 1))

    rho = sp.Poly(gaussian_expectation(x_q[0] ** 2 * residual**2, normals), tau)
    return {
        "mu_ii": expect(x_q[0] ** 4),
        "mu_ij": expect(x_q[0] ** 2 * x_q[1] ** 2),
        "nu_ii": expect(x_q[0] ** 3 * residual.subs(tau, 0)),
        "nu_ij": expect(x_q[0] ** 2 * x_q[1] * residual),
        "rho_own": at_target(rho.coeff_monomial(1)),
        "rho_other": at_target(rho.coeff_monomial(tau**2)),
    }
