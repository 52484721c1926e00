"""The constant C_p of the paper for the uniform density on an annulus.

``C_p`` is the largest integral of the input density ``p`` along a line. For
the uniform density on ``{m_x < |x| < M}`` in a plane, the integral along a
line at distance ``d`` from the centre is ``p`` times the length of the line
inside the annulus; SymPy maximises that length over ``d``.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from quantheory.validation import positive_float

d = sp.Symbol("d", nonnegative=True)
inner, outer = sp.symbols("m_x M", positive=True)

#: the statement: C_p = 2 / (pi sqrt(M^2 - m_x^2))
CP_STATEMENT = 2 / (sp.pi * sp.sqrt(outer**2 - inner**2))


def chord_length() -> sp.Piecewise:
    """Length of a line at distance d from the centre inside the annulus (d <= M)."""
    through_hole = 2 * (sp.sqrt(outer**2 - d**2) - sp.sqrt(inner**2 - d**2))
    past_hole = 2 * sp.sqrt(outer**2 - d**2)
    return sp.Piecewise((through_hole, d < inner), (past_hole, True))


def derive_cp() -> tuple[sp.Expr, dict[str, sp.Expr]]:
    """Derive C_p: the chord grows on [0, m_x), shrinks on (m_x, M], so d = m_x wins.

    Returns the derived constant and the facts used (the derivative of each
    branch), so the chapter can show them.
    """
    density = 1 / (sp.pi * (outer**2 - inner**2))
    through_hole, past_hole = (piece for piece, _ in chord_length().args)
    rising = sp.simplify(sp.diff(through_hole, d))
    falling = sp.simplify(sp.diff(past_hole, d))
    at_edge = sp.simplify(past_hole.subs(d, inner))
    return sp.simplify(density * at_edge), {
        "rising": rising,
        "falling": falling,
        "longest chord": at_edge,
    }


def slope_signs(inner_radius: float, outer_radius: float) -> dict[str, bool]:
    """Whether the chord's slope keeps one sign on each side of ``d = m_x``, exactly.

    For the given radii SymPy solves ``slope = 0`` on the open interval of each
    branch (no root there means one sign throughout, the slope being continuous)
    and evaluates the sign at the midpoint. Returns ``rises on (0, m_x)`` and
    ``falls on (m_x, M)``: together they make ``d = m_x`` the longest chord.
    """
    m_x = sp.nsimplify(positive_float("inner_radius", inner_radius))
    big = sp.nsimplify(positive_float("outer_radius", outer_radius))
    if m_x >= big:
        raise ValueError(f"inner_radius must be below outer_radius, got {m_x} >= {big}")
    _, facts = derive_cp()
    radii = {inner: m_x, outer: big}
    out = {}
    for key, slope, low, high, sign in (
        ("rises on (0, m_x)", facts["rising"], 0, m_x, 1),
        ("falls on (m_x, M)", facts["falling"], m_x, big, -1),
    ):
        slope = slope.subs(radii)
        roots = sp.solveset(sp.Eq(slope, 0), d, sp.Interval.open(low, high))
        out[key] = roots is sp.EmptySet and bool(sign * slope.subs(d, (low + high) / 2) > 0)
    return out


def line_integrals(
    inner_radius: float, outer_radius: float, distances: np.ndarray, n_points: int = 40_001
) -> np.ndarray:
    """Numerical integral of the uniform annulus density along lines at ``distances``.

    Each line is sampled at ``n_points`` equally spaced points over
    ``[-outer, outer]`` and the indicator of the annulus is integrated by the
    midpoint rule (no use of the closed form).
    """
    m_x = positive_float("inner_radius", inner_radius)
    big = positive_float("outer_radius", outer_radius)
    if m_x >= big:
        raise ValueError(f"inner_radius must be below outer_radius, got {m_x} >= {big}")
    s = np.linspace(-big, big, n_points)
    ds = s[1] - s[0]
    density = 1.0 / (np.pi * (big**2 - m_x**2))
    radius = np.sqrt(s[None, :] ** 2 + np.asarray(distances, dtype=float)[:, None] ** 2)
    inside = (radius > m_x) & (radius < big)
    return density * inside.sum(axis=1) * ds


def half_annulus_ratio() -> sp.Expr:
    """Lemma 5.5's increment over its bound (ReLU surrogate, ``delta = delta~ = 1``) at a
    step where ``Omega_W^j`` is the whole half annulus ``{h_j > 0}`` of class ``i``.

    There ``P = 1/2`` and the coarse gradient is ``-v E[1_Omega x]``, along ``w~_{j,i}``
    by symmetry, of length ``v P rbar`` with ``rbar`` the mean of ``<w~, x>`` over the
    half annulus; the step ``(eta / n) v P rbar`` goes straight out, so the increment is
    exactly that, and the bound is ``eta v (P rbar)^2 / (2 n C_p M^2)`` (``v~ = v^ = v``
    under Assumption 1). The ratio is ``2 C_p M^2 / (P rbar)``; SymPy integrates
    ``rbar`` in polar coordinates.
    """
    r, phi = sp.symbols("r phi", positive=True)
    area = sp.integrate(sp.integrate(r, (phi, -sp.pi / 2, sp.pi / 2)), (r, inner, outer))
    moment = sp.integrate(
        sp.integrate(r**2 * sp.cos(phi), (phi, -sp.pi / 2, sp.pi / 2)), (r, inner, outer)
    )
    mean_projection = moment / area
    return sp.simplify(2 * CP_STATEMENT * outer**2 / (sp.Rational(1, 2) * mean_projection))
