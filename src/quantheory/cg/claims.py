"""Claims of the first Part II chapter: sigma, Assumption 2, C_p."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import sympy as sp

from quantheory.cg import annulus
from quantheory.cg import surrogates as sg
from quantheory.claims import Claim
from quantheory.stats import margin


def staircase_grid(bits: int, spacing: float = 1e-3, offset: float = 1e-9) -> np.ndarray:
    """A fine grid over [-1, q_b + 1] plus every jump point a and a +- ``offset``."""
    q = sg.max_level(bits)
    jumps = np.arange(q + 1, dtype=float)
    return np.unique(
        np.concatenate([np.arange(-1.0, q + 1.0, spacing), jumps, jumps - offset, jumps + offset])
    )


#: the largest level q_b of the b-bit quantized ReLU, written out (q_b = 2^b - 1)
LARGEST_LEVELS = {1: 1, 2: 3, 3: 7, 4: 15}


def sigma_staircase_claim(
    bits_values: Sequence[int] = (1, 2, 3, 4),
    sigma: Callable[[np.ndarray, int], np.ndarray] = sg.quantized_relu,
) -> Claim:
    """``cg.sigma_staircase``: the quantized ReLU equals its staircase, exhaustively, and
    its largest value is the literal q_b of :data:`LARGEST_LEVELS` (not ``max_level``,
    which both sides use)."""
    worst, points, tops = 0.0, 0, {}
    for bits in bits_values:
        grid = staircase_grid(bits)
        worst = max(worst, float(np.max(np.abs(sigma(grid, bits) - sg.staircase(grid, bits)))))
        points += grid.size
        tops[bits] = float(np.max(sigma(grid, bits)))
    levels_ok = all(tops[b] == LARGEST_LEVELS.get(b) for b in bits_values)
    return Claim(
        id="cg.sigma_staircase",
        statement="the b-bit quantized ReLU is sigma(x) = sum_{a=0}^{q_b - 1} 1{x > a}",
        passed=bool(worst == 0.0 and levels_ok),
        measured={
            "largest |sigma - staircase|": worst,
            "points checked": points,
            "largest value of sigma, by b": {b: int(t) for b, t in tops.items()},
        },
        expected={
            "largest |sigma - staircase|": 0.0,
            "largest value of sigma, by b": {b: LARGEST_LEVELS.get(b) for b in bits_values},
        },
        method=(
            f"exact comparison for b = {', '.join(map(str, bits_values))} on a grid of "
            "spacing 1e-3 over [-1, q_b + 1] plus every jump point a and a +- 1e-9; the "
            "largest value of sigma on the grid against q_b written out (1, 3, 7, 15)."
        ),
        summary=(
            f"equal at all {points:,} points (b = {', '.join(map(str, bits_values))}); "
            f"largest values {', '.join(str(int(tops[b])) for b in bits_values)}"
        ),
        margin=(
            f"largest difference {worst:g} at {points:,} points; exact, any difference or "
            "wrong largest value fails"
        ),
    )


#: the book's statement of Assumption 2's constants on (0, B], q = q_b
STATED_CONSTANTS: dict[str, Callable[[sp.Expr, sp.Expr], tuple[sp.Expr, sp.Expr]]] = {
    "relu": lambda q, b: (sp.Integer(1), sp.Integer(1)),
    "reverse_exponential": lambda q, b: (sp.exp(-b / q), sp.Integer(1)),
    "log_tailed_relu": lambda q, b: (1 / (b - q + 1), sp.Integer(1)),
    sg.TWO_SLOPE: lambda q, b: (sp.Rational(1, 2), sp.Rational(3, 2)),
    sg.SCALED_RELU: lambda q, b: (sp.Integer(sg.SCALE), sp.Integer(sg.SCALE)),
}
#: surrogates the book states violate Assumption 2, and which condition fails
STATED_VIOLATIONS = {"clipped_relu": "delta = 0", "identity": "g(x) != 0 for x <= 0"}


def assumption2_claim(
    bits: int, bound: float, stated=None, grid_points: int = 100_001
) -> tuple[Claim, dict[str, sg.Assumption2Check]]:
    """``cg.assumption2_constants``: SymPy's delta, delta~ against the stated ones.

    Also checks the lambdified ``g'`` on a grid of (0, B]: its minimum and
    maximum must match the symbolic infimum and supremum.
    """
    stated = STATED_CONSTANTS if stated is None else stated
    q, b = sp.Integer(sg.max_level(bits)), sp.nsimplify(bound)
    checks = {name: sg.check_assumption2(name, bits, bound) for name in sg.ALL_SURROGATES}
    grid = np.linspace(0, bound, grid_points)[1:]
    rows, ok = {}, True
    for name in sg.LEMMA_SURROGATES:
        check = checks[name]
        delta, delta_tilde = stated[name](q, b)
        exact = (
            sp.simplify(check.delta - delta) == 0
            and sp.simplify(check.delta_tilde - delta_tilde) == 0
        )
        _, dg = sg.surrogate_functions(name, bits)
        values = dg(grid)
        numeric = np.isclose(values.min(), float(check.delta), rtol=1e-4) and np.isclose(
            values.max(), float(check.delta_tilde), rtol=1e-4
        )
        ok &= exact and numeric and check.satisfied
        rows[f"{name}: delta, delta~"] = f"{float(check.delta):.4g}, {float(check.delta_tilde):.4g}"
    for name, reason in STATED_VIOLATIONS.items():
        check = checks[name]
        found = (
            "g(x) != 0 for x <= 0"
            if not check.zero_on_negatives
            else ("delta = 0" if check.delta == 0 else "none")
        )
        ok &= (not check.satisfied) and found == reason
        rows[f"{name}: violation"] = found
    return Claim(
        id="cg.assumption2_constants",
        statement=(
            "ReLU, reverse exponential, log-tailed ReLU, the two-slope ramp and 2 x ReLU satisfy "
            "Assumption 2 on (0, B] with the stated delta, delta~; clipped ReLU and identity "
            "do not"
        ),
        passed=bool(ok),
        measured=rows,
        expected={f"{n}: violation": r for n, r in STATED_VIOLATIONS.items()},
        method=(
            f"SymPy: g' piecewise, infimum and supremum of each piece on (0, B] with "
            f"b = {bits} (q_b = {int(q)}), B = {bound:g}; the reverse exponential and "
            "log-tailed ReLU need B < inf (their delta tends to 0 as B grows); NumPy "
            f"g' on {grid_points - 1:,} points of (0, B] agrees to 1e-4."
        ),
        summary=(
            "ReLU delta = 1; reverse exponential delta = exp(-B/q_b); log-tailed "
            f"delta = 1/(B - q_b + 1) (b = {bits}, B = {bound:g}); two-slope ramp delta = 1/2, "
            f"delta~ = 3/2; {sg.SCALE} x ReLU delta = delta~ = {sg.SCALE}; clipped ReLU and "
            "identity violate it"
        ),
        margin="exact SymPy equality of delta, delta~ (no tolerance); NumPy grid within rtol 1e-4",
    ), checks


def cp_annulus_claim(
    radii: Sequence[tuple[float, float]], statement: sp.Expr = annulus.CP_STATEMENT
) -> Claim:
    """``cg.Cp_annulus``: derived C_p equals the statement, the chord's slope has the
    signs that put the maximum at ``d = m_x``, and numeric line integrals agree."""
    derived, _ = annulus.derive_cp()
    symbolic_ok = sp.simplify(derived - statement) == 0
    worst, signs = 0.0, {}
    for m_x, big in radii:
        distances = np.linspace(0, big * 0.999, 400)
        distances = np.unique(np.concatenate([distances, [m_x]]))
        numeric = annulus.line_integrals(m_x, big, distances).max()
        predicted = float(statement.subs({annulus.inner: m_x, annulus.outer: big}))
        worst = max(worst, abs(numeric / predicted - 1))
        for key, ok in annulus.slope_signs(m_x, big).items():
            signs[f"({m_x:g}, {big:g}): chord {key}"] = ok
    monotone = all(signs.values())
    passed = symbolic_ok and monotone and worst < 1e-3
    return Claim(
        id="cg.Cp_annulus",
        statement=(
            "for the uniform density on {m_x < |x| < M}, C_p = 2/(pi sqrt(M^2 - m_x^2)): the "
            "chord grows with the distance d of the line on (0, m_x) and shrinks on (m_x, M)"
        ),
        passed=bool(passed),
        measured={
            "SymPy derivation equals statement": bool(symbolic_ok),
            **signs,
            "largest relative gap, numeric max vs formula": worst,
        },
        expected={
            "every slope sign as stated": True,
            "largest relative gap, numeric max vs formula": "< 1e-3",
        },
        method=(
            "SymPy maximises the chord length over the distance d of the line; for each "
            "annulus it solves slope = 0 on (0, m_x) and on (m_x, M) (no root: one sign) "
            "and takes the sign at the midpoint; numerically the density is integrated "
            "along 400 parallel lines (midpoint rule, 40,001 points each) for annuli "
            + ", ".join(f"({a:g}, {b:g})" for a, b in radii)
            + "."
        ),
        summary=(
            f"SymPy {'exact' if symbolic_ok else 'MISMATCH'}; slope signs "
            f"{'as stated' if monotone else 'WRONG'}; numeric max within {worst:.1e}"
        ),
        margin=margin(worst, 1e-3, unit="") + "; SymPy derivation and slope signs exact",
    )
