"""Part I's population facts, stated once in SymPy and derived from first principles.

Each ``*_STATEMENT`` is the theorem as the book states it. Each ``derive_*``
function computes the same quantity from scratch in SymPy. Claims compare the
two symbolically, and the NumPy versions used by the Monte Carlo checks are
obtained from the *statements* with :func:`sympy.lambdify`, so the symbolic
and the numeric checks test the same object.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

import numpy as np
import sympy as sp

from quantheory.validation import positive_int

# Symbols shared by the statements and the derivations.
theta = sp.Symbol("theta", nonnegative=True)  # angle between two vectors, in [0, pi]
rho = sp.Symbol("rho", real=True)  # correlation cos(theta), in (-1, 1)
a = sp.Symbol("a", real=True)  # direction of u in a 2-D plane
n = sp.Symbol("n", positive=True, integer=True)  # input dimension
s = sp.Symbol("s", nonnegative=True)  # label-noise standard deviation
vnorm2 = sp.Symbol("vnorm2", positive=True)  # |v|_2^2
u_c, w_c = sp.symbols("u_c w_c", real=True)  # one coordinate of u and of w*
eta = sp.Symbol("eta", positive=True)  # step size
wmax = sp.Symbol("wmax", nonnegative=True)  # max_j |w0_j|

# ---- The statements (what the book claims) ---------------------------------------
#: coefficient c in E[sign(<z,u>) z] = c u/|u|
GAUSS_SIGN_MOMENT_STATEMENT = sp.sqrt(2 / sp.pi)
#: P(sign<z,u> != sign<z,w>) as a function of the angle theta
SIGN_DISAGREEMENT_STATEMENT = theta / sp.pi
#: coordinate c of the population STE gradient at binary u
POPULATION_GRADIENT_STATEMENT = sp.sqrt(2 / sp.pi) * vnorm2 * (u_c - w_c) / sp.sqrt(n)
#: population loss L(u) as a function of angle(u, w*)
POPULATION_LOSS_STATEMENT = 2 * vnorm2 * theta / sp.pi + s**2 / 2
#: steps the population method needs, at most, to reach w*
DYNAMICS_STEP_BOUND_STATEMENT = (
    sp.ceiling(wmax * sp.sqrt(n) / (2 * eta * sp.sqrt(2 / sp.pi) * vnorm2)) + 1
)


#: how the shared symbols are typeset in the book
LATEX_NAMES = {vnorm2: r"\|v\|^2", u_c: "u_c", w_c: "w^*_c", wmax: r"\max_j |w^0_j|"}


class Formula:
    """A SymPy expression shown as typeset maths in the page and as text in a terminal."""

    def __init__(self, expr: sp.Expr) -> None:
        self.expr = expr

    def _repr_latex_(self) -> str:
        return "$$" + sp.latex(self.expr, symbol_names=LATEX_NAMES) + "$$"

    def as_text(self) -> str:
        return str(self.expr)


def is_identity(lhs: sp.Expr, rhs: sp.Expr) -> bool:
    """True when SymPy proves ``lhs - rhs`` simplifies to exactly zero."""
    return sp.simplify(sp.expand(lhs - rhs)) == 0


# ---- Derivations -----------------------------------------------------------------
def standard_normal_density(x: sp.Symbol) -> sp.Expr:
    return sp.exp(-(x**2) / 2) / sp.sqrt(2 * sp.pi)


@lru_cache(maxsize=1)
def derive_gauss_sign_moment() -> tuple[sp.Expr, sp.Matrix]:
    """Derive E[sign(<z,u>) z] for z ~ N(0, I) by an exact polar integral.

    By rotation invariance it suffices to take ``u = (cos a, sin a)`` in the plane
    spanned by ``u`` and one coordinate axis (the orthogonal complement
    contributes zero by independence and symmetry). In polar coordinates
    ``z = r (cos phi, sin phi)`` the integral factorises into a radial part
    ``int r^2 exp(-r^2/2) dr / (2 pi)`` and an angular part in ``psi = phi - a``,
    split where ``cos psi`` changes sign.

    Returns
    -------
    constant
        The derived coefficient ``c`` in ``E[sign(<z,u>) z] = c u/|u|``.
    vector
        The derived 2-vector ``E[sign(<z,u>) z]`` as a function of ``a``.
    """
    r, psi = sp.symbols("r psi", real=True)
    radial = sp.integrate(r**2 * sp.exp(-(r**2) / 2), (r, 0, sp.oo)) / (2 * sp.pi)
    direction = sp.Matrix([sp.cos(psi + a), sp.sin(psi + a)])
    half = sp.pi / 2
    angular = direction.applyfunc(
        lambda f: sp.integrate(f, (psi, -half, half)) - sp.integrate(f, (psi, half, 3 * half))
    )
    vector = sp.simplify(radial * angular)
    constant = sp.simplify(vector.dot(sp.Matrix([sp.cos(a), sp.sin(a)])))
    return constant, vector


@lru_cache(maxsize=1)
def derive_sign_disagreement() -> sp.Expr:
    """Derive P(sign<z,u> != sign<z,w>) as a function of the angle theta.

    ``(X, Y) = (<z,u>/|u|, <z,w>/|w|)`` is a standard bivariate normal pair with
    correlation ``rho = cos(theta)``. The positive-orthant probability is 1/4 at
    ``rho = 0`` (a product of two halves, integrated here) and, by Plackett's
    identity, its derivative in ``rho`` is the joint density at the origin,
    ``1/(2 pi sqrt(1 - rho^2))``. Integrating gives
    ``P(X>0, Y>0) = 1/4 + asin(rho)/(2 pi)``, and the disagreement probability is
    ``2 (1/2 - P(X>0, Y>0))``. Finally ``asin(rho) = pi/2 - acos(rho)`` and
    ``acos(rho) = theta`` by the definition of the angle.
    """
    x, y, t = sp.symbols("x y t", real=True)
    orthant_at_zero = sp.integrate(
        standard_normal_density(x) * standard_normal_density(y), (x, 0, sp.oo), (y, 0, sp.oo)
    )
    joint_density = sp.exp(-(x**2 - 2 * t * x * y + y**2) / (2 * (1 - t**2))) / (
        2 * sp.pi * sp.sqrt(1 - t**2)
    )
    density_at_origin = joint_density.subs({x: 0, y: 0})
    orthant = orthant_at_zero + sp.integrate(density_at_origin, (t, 0, rho))
    disagreement = sp.simplify(2 * (sp.Rational(1, 2) - orthant))
    in_acos = disagreement.subs(sp.asin(rho), sp.pi / 2 - sp.acos(rho))
    return sp.simplify(in_acos.subs(sp.acos(rho), theta))


def _row_moment(
    sign_u: int, sign_w: int, coord: int, mu_u: sp.Expr, mu_w: sp.Expr, corr: sp.Expr
) -> sp.Expr:
    """E[S^a T^b G^c] for one row: S = sign<z,u>, T = sign<z,w*>, G = z_c.

    Odd total degree vanishes by the symmetry z -> -z; S^2 = T^2 = 1.
    """
    a_, b_ = sign_u % 2, sign_w % 2
    if (a_ + b_ + coord) % 2:
        return sp.Integer(0)
    table = {(0, 0, 0): 1, (1, 1, 0): corr, (1, 0, 1): mu_u, (0, 1, 1): mu_w, (0, 0, 2): 1}
    if (a_, b_, coord) not in table:
        raise NotImplementedError(f"moment S^{a_} T^{b_} G^{coord} is not needed here")
    return sp.sympify(table[(a_, b_, coord)])


def _expectation(
    expr: sp.Expr,
    rows: list[tuple[sp.Symbol, sp.Symbol, sp.Symbol]],
    noise: sp.Symbol,
    moments: dict[str, sp.Expr],
) -> sp.Expr:
    """Expectation of a polynomial in the random symbols, rows independent."""
    random = [sym for row in rows for sym in row] + [noise]
    total = sp.Integer(0)
    for monomial, coeff in sp.Poly(sp.expand(expr), *random).terms():
        value = sp.sympify(coeff)
        for i in range(len(rows)):
            value *= _row_moment(
                *monomial[3 * i : 3 * i + 3], moments["mu_u"], moments["mu_w"], moments["corr"]
            )
        noise_power = monomial[-1]
        value *= {0: 1, 1: 0, 2: s**2}[noise_power]
        total += value
    return sp.simplify(total)


def _population_setup(m: int):
    m = positive_int("m", m)
    v = sp.symbols(f"v1:{m + 1}", real=True)
    rows = [sp.symbols(f"S{i} T{i} G{i}", real=True) for i in range(m)]
    noise = sp.Symbol("xi", real=True)
    constant, _ = derive_gauss_sign_moment()
    moments = {
        "mu_u": constant * u_c / sp.sqrt(n),  # |u| = sqrt(n) for binary u
        "mu_w": constant * w_c / sp.sqrt(n),
        "corr": 1 - 2 * derive_sign_disagreement(),
    }
    residual = sum(vi * (S - T) for vi, (S, T, _) in zip(v, rows, strict=True)) - noise
    return v, rows, noise, moments, residual


def derive_population_gradient(m: int) -> sp.Expr:
    """Derive coordinate c of E[(f(Z;u) - y) Z^T v] for m hidden units, |v|^2 -> vnorm2.

    Uses only the two identities above (sign moment and sign disagreement) and
    the independence of the rows of Z and of the noise.
    """
    v, rows, noise, moments, residual = _population_setup(m)
    projection = sum(vi * G for vi, (_, _, G) in zip(v, rows, strict=True))
    value = _expectation(residual * projection, rows, noise, moments)
    return _in_vnorm2(value, v)


def derive_population_loss(m: int) -> sp.Expr:
    """Derive E[(f(Z;u) - y)^2 / 2] for m hidden units, as a function of theta."""
    v, rows, noise, moments, residual = _population_setup(m)
    value = _expectation(residual**2 / 2, rows, noise, moments)
    return _in_vnorm2(value, v)


def _in_vnorm2(expr: sp.Expr, v: tuple[sp.Symbol, ...]) -> sp.Expr:
    """Rewrite ``expr`` in terms of ``vnorm2 = sum v_i^2``, failing if it cannot."""
    first = v[0]
    rewritten = sp.simplify(expr.subs(first**2, vnorm2 - sum(vi**2 for vi in v[1:])))
    if rewritten.has(*v):
        raise ValueError(f"expression does not depend on v through |v|^2 only: {expr}")
    return rewritten


# ---- NumPy versions, lambdified from the statements -----------------------------
@lru_cache(maxsize=32)
def _lambdified(expr: sp.Expr, args: tuple[sp.Symbol, ...]) -> Callable[..., np.ndarray]:
    return sp.lambdify(args, expr, modules="numpy")


def sign_moment_numeric(
    u: np.ndarray, statement: sp.Expr = GAUSS_SIGN_MOMENT_STATEMENT
) -> np.ndarray:
    """E[sign(<z,u>) z] predicted by ``statement``; shape (n,)."""
    u = np.asarray(u, dtype=float)
    return float(statement) * u / np.linalg.norm(u)


def disagreement_numeric(
    angle_: np.ndarray, statement: sp.Expr = SIGN_DISAGREEMENT_STATEMENT
) -> np.ndarray:
    """P(sign<z,u> != sign<z,w>) predicted by ``statement`` at the given angles."""
    return np.asarray(
        _lambdified(statement, (theta,))(np.asarray(angle_, dtype=float)), dtype=float
    ) * np.ones_like(angle_, dtype=float)


def population_gradient_numeric(
    u: np.ndarray,
    w_star: np.ndarray,
    v: np.ndarray,
    statement: sp.Expr = POPULATION_GRADIENT_STATEMENT,
) -> np.ndarray:
    """Population STE gradient E[g(u)] predicted by ``statement``; shape (n,)."""
    u = np.asarray(u, dtype=float)
    f = _lambdified(statement, (u_c, w_c, vnorm2, n))
    return np.asarray(f(u, np.asarray(w_star, float), float(np.dot(v, v)), u.shape[-1]), float)


def population_loss_numeric(
    angle_: float | np.ndarray,
    v: np.ndarray,
    noise_std: float,
    statement: sp.Expr = POPULATION_LOSS_STATEMENT,
) -> float | np.ndarray:
    """Population loss L(u) predicted by ``statement`` at angle(u, w*) = ``angle_``.

    A float for a scalar angle, an array of the same shape for an array of angles.
    """
    f = _lambdified(statement, (theta, vnorm2, s))
    value = f(np.asarray(angle_, dtype=float), float(np.dot(v, v)), noise_std)
    return float(value) if np.ndim(value) == 0 else np.asarray(value, dtype=float)


def dynamics_step_bound_numeric(
    w0_max: np.ndarray,
    n_dim: int,
    step: float,
    v: np.ndarray,
    statement: sp.Expr = DYNAMICS_STEP_BOUND_STATEMENT,
) -> np.ndarray:
    """Step bound of the population dynamics for starts with ``max_j |w0_j| = w0_max``."""
    f = _lambdified(statement, (wmax, n, eta, vnorm2))
    return np.asarray(f(np.asarray(w0_max, float), n_dim, step, float(np.dot(v, v))))
