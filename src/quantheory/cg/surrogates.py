"""The b-bit quantized ReLU and the surrogate derivatives of the coarse gradient.

Long, Yin and Xin train a network whose activation is the b-bit quantized ReLU
``sigma`` (zero derivative almost everywhere) with a *coarse gradient*: the
backward pass uses the derivative of a surrogate ``g`` instead. Their
Assumption 2 asks that ``g = 0`` on ``x <= 0`` and ``delta <= g' <= delta~`` on
``x > 0`` with ``0 < delta <= delta~ < inf``. Every surrogate is defined here
once, in SymPy; the NumPy versions are lambdified from the same expressions.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import sympy as sp

from quantheory.validation import one_of, positive_float, positive_int

x = sp.Symbol("x", real=True)

#: the paper's five surrogates (its Figure 2 and Table 2)
SURROGATES = ("relu", "reverse_exponential", "log_tailed_relu", "clipped_relu", "identity")
#: an admissible surrogate of the book's own with delta = 1/2 and delta~ = 3/2, so that
#: the lemmas' bounds are exercised where delta and delta~ enter them (not in the paper)
TWO_SLOPE = "two_slope"
#: ReLU scaled by :data:`SCALE` (delta = delta~ = SCALE): stepped at eta / SCALE its
#: coarse-gradient descent is ReLU's exactly, so every ratio of the lemmas is ReLU's
#: (not in the paper)
SCALED_RELU = "scaled_relu"
#: the factor c of :data:`SCALED_RELU` (a power of 2, so the scaling is exact in floating point)
SCALE = 2
#: every surrogate defined here
ALL_SURROGATES = (*SURROGATES, TWO_SLOPE, SCALED_RELU)
#: how the book names each surrogate in tables and legends
LABELS = {
    "relu": "ReLU",
    "reverse_exponential": "reverse exponential",
    "log_tailed_relu": "log-tailed ReLU",
    "clipped_relu": "clipped ReLU (fails)",
    "identity": "identity (fails)",
    TWO_SLOPE: "two-slope ramp",
    SCALED_RELU: f"{SCALE} x ReLU",
}
#: the three surrogates of the paper that satisfy Assumption 2 on a bounded range
ADMISSIBLE = ("relu", "reverse_exponential", "log_tailed_relu")
#: the surrogates the lemmas are checked with: the paper's three, the two-slope ramp and
#: the scaled ReLU
LEMMA_SURROGATES = (*ADMISSIBLE, TWO_SLOPE, SCALED_RELU)


def max_level(bits: int) -> int:
    """``q_b = 2^b - 1``, the largest value of the b-bit quantized ReLU."""
    return 2 ** positive_int("bits", bits) - 1


def quantized_relu(values: np.ndarray, bits: int) -> np.ndarray:
    """The paper's b-bit quantized ReLU: 0 for x <= 0, ceil(x) up to q_b, then q_b."""
    return np.clip(np.ceil(np.asarray(values, dtype=float)), 0.0, max_level(bits))


def staircase(values: np.ndarray, bits: int) -> np.ndarray:
    """``sum_{a=0}^{q_b - 1} 1{x > a}``, the staircase form of the quantized ReLU."""
    values = np.asarray(values, dtype=float)
    levels = np.arange(max_level(bits), dtype=float)
    return np.sum(values[..., None] > levels, axis=-1).astype(float)


def surrogate_expression(name: str, bits: int) -> sp.Expr:
    """The surrogate ``g(x)`` as a SymPy expression (q_b = 2^bits - 1).

    The two-slope ramp has ``g' = 1/2`` on (0, 1], ``3/2`` on (1, q_b] and
    ``1/2`` beyond, so ``delta = 1/2`` and ``delta~ = 3/2`` on every range
    (0, B] with B > 1 (for b = 1, q_b = 1 and only the slope 1/2 remains).
    """
    one_of("name", name, ALL_SURROGATES)
    q = sp.Integer(max_level(bits))
    half, steep = sp.Rational(1, 2), sp.Rational(3, 2)
    return {
        "relu": sp.Piecewise((0, x <= 0), (x, True)),
        "reverse_exponential": sp.Piecewise((0, x <= 0), (q * (1 - sp.exp(-x / q)), True)),
        "log_tailed_relu": sp.Piecewise((0, x <= 0), (x, x <= q), (q + sp.log(x - q + 1), True)),
        "clipped_relu": sp.Piecewise((0, x <= 0), (x, x <= 1), (1, True)),
        "identity": x,
        SCALED_RELU: sp.Piecewise((0, x <= 0), (SCALE * x, True)),
        TWO_SLOPE: sp.Piecewise(
            (0, x <= 0),
            (half * x, x <= 1),
            (half + steep * (x - 1), x <= q),
            (half + steep * (q - 1) + half * (x - q), True),
        ),
    }[name]


@lru_cache(maxsize=64)
def surrogate_functions(name: str, bits: int) -> tuple[Callable, Callable]:
    """NumPy ``g`` and ``g'``, lambdified from :func:`surrogate_expression`."""
    expr = surrogate_expression(name, bits)
    return numpy_piecewise(expr), numpy_piecewise(sp.diff(expr, x))


def numpy_piecewise(expr: sp.Expr) -> Callable[[np.ndarray], np.ndarray]:
    """A NumPy function of ``x`` for ``expr``, a Piecewise evaluated with nested ``where``.

    Each piece and each condition is lambdified on its own; the first true
    condition wins, as in SymPy. (SymPy's own printer uses ``np.select``,
    several times slower on large arrays.)
    """
    pieces = expr.args if isinstance(expr, sp.Piecewise) else ((expr, sp.true),)
    parts = [
        (sp.lambdify(x, piece, modules="numpy"), sp.lambdify(x, condition, modules="numpy"))
        for piece, condition in pieces
    ]

    def evaluate(values: np.ndarray) -> np.ndarray:
        values = np.asarray(values, dtype=float)
        out = np.full(values.shape, np.nan)
        # every piece is evaluated everywhere; unused pieces may divide by zero
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            for piece, condition in reversed(parts):
                out = np.where(condition(values), piece(values), out)
        return out

    return evaluate


@dataclass(frozen=True)
class Assumption2Check:
    """What SymPy derives about one surrogate on the input range (0, B].

    Attributes
    ----------
    zero_on_negatives : bool
        ``g(x) = 0`` for every ``x <= 0``.
    delta, delta_tilde : sympy.Expr
        ``inf g'`` and ``sup g'`` over (0, B].
    satisfied : bool
        Both conditions of Assumption 2 hold with ``0 < delta <= delta~ < inf``.
    """

    name: str
    bound: sp.Expr
    zero_on_negatives: bool
    delta: sp.Expr
    delta_tilde: sp.Expr

    @property
    def satisfied(self) -> bool:
        positive = bool(self.delta > 0)
        return self.zero_on_negatives and positive and bool(self.delta_tilde < sp.oo)


def derivative_window(bound: sp.Expr) -> sp.Interval:
    """The range (0, B] on which Assumption 2's infimum and supremum of ``g'`` are taken."""
    return sp.Interval.Lopen(0, bound)


def check_assumption2(name: str, bits: int, bound: float) -> Assumption2Check:
    """Derive ``g = 0`` on x <= 0 and ``inf``/``sup`` of ``g'`` on (0, bound] in SymPy.

    The derivative is piecewise; each piece is minimised and maximised over its
    part of (0, bound] and the extremes are combined.
    """
    bound = sp.nsimplify(positive_float("bound", bound))
    expr = surrogate_expression(name, bits)
    t = sp.Symbol("t", positive=True)
    zero = sp.simplify(expr.subs(x, -t)) == 0 and sp.simplify(expr.subs(x, 0)) == 0
    derivative = sp.diff(expr, x)
    window = derivative_window(bound)
    pieces = derivative.args if isinstance(derivative, sp.Piecewise) else ((derivative, True),)
    lows, highs, covered = [], [], sp.EmptySet
    for piece, condition in pieces:
        region = (sp.S.Reals if condition in (True, sp.true) else condition.as_set()) - covered
        covered = covered | region
        part = region.intersect(window)
        if part is sp.EmptySet or part.measure == 0:
            continue
        lows.append(sp.calculus.util.minimum(piece, x, part) if piece.has(x) else piece)
        highs.append(sp.calculus.util.maximum(piece, x, part) if piece.has(x) else piece)
    return Assumption2Check(
        name, bound, bool(zero), sp.simplify(sp.Min(*lows)), sp.simplify(sp.Max(*highs))
    )
