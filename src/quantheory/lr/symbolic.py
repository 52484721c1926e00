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
"""

from __future__ import annotations

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

#: how the symbols are typeset in the book
LATEX_NAMES = {
    s2: "s^2",
    wt_i: r"\tilde w_i",
    wt_j: r"\tilde w_j",
    ws_i: "w^*_i",
    ws_j: "w^*_j",
    eps: r"\varepsilon",
}

#: the per-coordinate symbols of coordinate j and their numeric names
J_SYMBOLS = {lam_j: "lam", ws_j: "w_star", wt_j: "w_target"}
I_SYMBOLS = {lam_i: "lam", ws_i: "w_star", wt_i: "w_target"}


# ---- Gaussian expectations -------------------------------------------------------
def gaussian_expectation(expr: sp.Expr, normals: list[sp.Symbol]) -> sp.Expr:
    """``E[expr]`` for a polynomial in independent standard normals ``normals``.

    Each monomial ``prod z^k`` has expectation ``prod (k-1)!!`` (zero for odd
    ``k``); the other symbols are constants.

    Examples
    --------
    >>> z1, z2, c = sp.symbols("z1 z2 c")
    >>> gaussian_expectation((c + z1 * z2) ** 2 + z1**4, [z1, z2])
    c**2 + 4
    """
    total = sp.Integer(0)
    for powers, coeff in sp.Poly(sp.expand(expr), *normals).terms():
        if any(p % 2 for p in powers):
            continue
        total += coeff * sp.Mul(*(sp.factorial2(p - 1) for p in powers))
    return sp.expand(total)


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
    root = sp.sqrt(eps)
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
        x = [sp.sqrt(lam_i) * noise.new("x"), tau * sp.sqrt(lam_j) * noise.new("x")]
        x_q = _quantize(kinds["data"], x, noise, marks=[1, tau])  # one vector per row
        x_rows.append(x)
        x_used.append(x_q)
        labels.append(ws_i * x[0] + ws_j * x[1] + sp.sqrt(s2) * noise.new("xi"))
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
    symbolic: tuple[sp.Expr, sp.Expr]


@dataclass(frozen=True)
class StepCoefficients:
    """The lambdified recursion: ``own`` terms (``right = 1``, ``j = i``) and ``other`` terms."""

    lam_tilde: Callable
    target_value: Callable
    own: tuple[Term, ...]
    other: tuple[Term, ...]


def _separate(expr: sp.Expr, moment_i: dict, j_args: tuple) -> list[tuple[str, sp.Expr, sp.Expr]]:
    """Split ``expr`` into ``left * right * moment`` pieces (moment in v, m, 1)."""
    pieces = []
    moments = list(moment_i)
    poly = sp.Poly(sp.expand(expr), *moments, *j_args)
    grouped: dict[tuple, sp.Expr] = {}
    for powers, coeff in poly.terms():
        grouped[powers] = grouped.get(powers, 0) + coeff
    for powers, coeff in grouped.items():
        which = [moment_i[m] for m, p in zip(moments, powers, strict=False) if p]
        right = sp.Mul(*(s**p for s, p in zip(j_args, powers[len(moments) :], strict=True)))
        pieces.append((which[0] if which else "1", sp.factor(coeff), right))
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
    left_args = _I_ARGS + _PARAMS

    def terms(expr, moments, j_args):
        return tuple(
            Term(
                moment,
                _lambdify(left_args, left),
                _lambdify(_J_ARGS, right),
                (left, right),
            )
            for moment, left, right in _separate(expr, moments, j_args)
        )

    own = terms(rec.own, {v_i: "v", m_i: "m"}, ())
    other = terms(rec.per_other, {v_j: "v", m_j: "m"}, _J_ARGS)
    return StepCoefficients(
        _lambdify((lam_i, eps), rec.lam_tilde),
        _lambdify((lam_i, ws_i, eps), rec.target_value),
        own,
        other,
    )
