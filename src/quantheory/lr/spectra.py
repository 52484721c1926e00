"""What data quantization does to the covariance, and the approximation error it adds.

Three parts, kept apart so that every prediction is computed without the code
that measures:

* **SymPy** (:func:`derive_moments`, :func:`risk_formulas`): the quantized
  row ``x~ = Q(x)`` of ``x ~ N(0, H)``, ``H = diag(lambda)``, written as a
  polynomial in independent standard normals for each idealized quantizer of
  :mod:`quantheory.lr.model`, and ``E[x~ x~^T]`` and ``E[x~ x^T]`` taken
  monomial by monomial (Isserlis, via
  :func:`quantheory.lr.symbolic.gaussian_expectation`). In three
  coordinates they come out diagonal, ``H + eps I`` (additive) and
  ``(1 + eps) H`` (both multiplicative kinds), with ``E[x~ x^T] = H``. Since
  both are diagonal, SGD's target ``w~ = H~^{-1} H w*`` and the risks are
  sums over coordinates of SymPy expressions, lambdified for numbers:

  - the *quantized-input gap* ``min_w E[(y - <x~, w>)^2] - s^2 =
    |w*|_H^2 - (H w*)^T H~^{-1} (H w*)``, which is
    ``eps/(1+eps) |w*|_H^2`` (multiplicative) and
    ``sum_i eps lambda_i w*_i^2 / (lambda_i + eps)`` (additive);
  - the *clean-input excess risk* of the target,
    ``E(w~) = (w~ - w*)^T H (w~ - w*) / 2``, which is
    ``(eps/(1+eps))^2 |w*|_H^2 / 2`` (multiplicative) and
    ``sum_i lambda_i w*_i^2 eps^2 / (lambda_i + eps)^2 / 2`` (additive).

* **Sampling** (:func:`sample_spectrum`): Gaussian rows quantized by any
  quantizer with ``apply(u, rng)`` (the idealized ones of
  :mod:`quantheory.lr.simulate`, or the real formats of
  :mod:`quantheory.lr.formats`), streamed in batches; it keeps the second
  moment matrix, what its standard errors need, per-batch diagonals (for
  slope intervals) and the error ``x~ - x`` itself.

* **Least squares** (:func:`least_squares_risks`): an estimate of the target
  that knows nothing of the formulas, ``argmin_w |y - X~ w|^2`` on many
  quantized rows with noiseless labels ``y = X w*`` (the gap and ``w~`` do
  not depend on ``s``; without noise the estimate's own error is small),
  and both risks of it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache

import numpy as np
import sympy as sp
from scipy import stats as sps

from quantheory.lr.formats import RealQuantizer, gaussian_error_second_moment
from quantheory.lr.model import KINDS, Quantization
from quantheory.lr.simulate import Quantizer, idealized
from quantheory.seeding import SeedLike, generator
from quantheory.validation import nonnegative_float, one_of, positive_int, real_vector

# ---- SymPy -----------------------------------------------------------------------
eps = sp.Symbol("epsilon", positive=True)
lam = sp.Symbol("lambda", positive=True)
w_star = sp.Symbol("w^*", real=True)
#: the coordinates of the three-dimensional derivation
LAMBDAS = sp.symbols("lambda_1:4", positive=True)

#: how the symbols are typeset in the book
LATEX_NAMES = {eps: r"\varepsilon", w_star: "w^*"}


def gaussian_expectation(expr: sp.Expr, normals: Sequence[sp.Symbol]) -> sp.Expr:
    """``E[expr]`` for a polynomial in the independent standard normals ``normals``.

    Each monomial ``prod z^k`` averages to ``prod (k-1)!!`` (zero for odd ``k``,
    Isserlis); every other symbol is a constant.

    Examples
    --------
    >>> z, c = sp.symbols("z c")
    >>> gaussian_expectation((c + sp.sqrt(c) * z) ** 2 * z**2, [z])
    c**2 + 3*c
    """
    total = sp.Integer(0)
    for powers, coeff in sp.Poly(sp.expand(expr), *normals).terms():
        if not any(p % 2 for p in powers):
            total += coeff * sp.Mul(*(sp.factorial2(p - 1) for p in powers))
    return sp.expand(total)


def _quantized_row(kind: str, dim: int) -> tuple[list[sp.Expr], list[sp.Expr], list[sp.Symbol]]:
    """``(x, x~, normals)``: a Gaussian row and its quantization, as polynomials in normals."""
    g = sp.symbols(f"g_1:{dim + 1}", real=True)
    x = [sp.sqrt(lam_i) * g_i for lam_i, g_i in zip(LAMBDAS[:dim], g, strict=True)]
    root = sp.sqrt(eps)
    if kind == "additive":
        h = sp.symbols(f"h_1:{dim + 1}", real=True)
        return x, [x_i + root * h_i for x_i, h_i in zip(x, h, strict=True)], [*g, *h]
    if kind == "mult_vector":
        z = sp.Symbol("z", real=True)
        return x, [(1 + root * z) * x_i for x_i in x], [*g, z]
    c = sp.symbols(f"c_1:{dim + 1}", real=True)
    return x, [(1 + root * c_i) * x_i for x_i, c_i in zip(x, c, strict=True)], [*g, *c]


@cache
def derive_moments(kind: str, dim: int = 3) -> tuple[sp.Matrix, sp.Matrix]:
    """``(E[x~ x~^T], E[x~ x^T])`` for the idealized quantizer ``kind`` in ``dim <= 3`` coordinates.

    Examples
    --------
    >>> second, cross = derive_moments("mult_vector", 2)
    >>> second
    Matrix([
    [lambda_1*(epsilon + 1),                      0],
    [                     0, lambda_2*(epsilon + 1)]])
    """
    one_of("kind", kind, KINDS)
    if not 1 <= dim <= len(LAMBDAS):
        raise ValueError(f"dim must be between 1 and {len(LAMBDAS)}, got {dim!r}")
    x, xq, normals = _quantized_row(kind, dim)

    def expectation(u: sp.Expr) -> sp.Expr:
        return sp.factor(gaussian_expectation(u, normals))

    second = sp.Matrix(dim, dim, lambda i, j: expectation(xq[i] * xq[j]))
    cross = sp.Matrix(dim, dim, lambda i, j: expectation(xq[i] * x[j]))
    return second, cross


def stated_covariance(kind: str, dim: int = 3) -> sp.Matrix:
    """What the summaries state: ``H + eps I`` (additive) or ``(1 + eps) H`` (multiplicative)."""
    one_of("kind", kind, KINDS)
    h = sp.diag(*LAMBDAS[:dim])
    return h + eps * sp.eye(dim) if kind == "additive" else (1 + eps) * h


def statement_holds(kind: str, dim: int = 3) -> bool:
    """True when SymPy proves ``E[x~ x~^T]`` equals the stated matrix and ``E[x~ x^T] = H``."""
    second, cross = derive_moments(kind, dim)
    h = sp.diag(*LAMBDAS[:dim])
    return bool(
        sp.simplify(second - stated_covariance(kind, dim)) == sp.zeros(dim)
        and sp.simplify(cross - h) == sp.zeros(dim)
    )


#: the label-noise variance
s2 = sp.Symbol("s^2", nonnegative=True)
#: the true parameter's coordinates in the label derivation
W_STARS = sp.symbols("w^*_1:3", real=True)


@cache
def derive_label_moments(kind: str) -> tuple[sp.Matrix, sp.Expr]:
    """``(E[x Q(y)], E[(Q(y) - <w*, x>)^2])`` for a quantized label, two coordinates, ``B = 1``.

    ``y = <w*, x> + s xi``; the label is one number, so both multiplicative
    kinds are the same here.

    Examples
    --------
    >>> derive_label_moments("additive")[1]
    epsilon + s^2
    """
    one_of("kind", kind, KINDS)
    g = sp.symbols("g_1:3", real=True)
    xi, h = sp.symbols("xi h", real=True)
    x = [sp.sqrt(lam_i) * g_i for lam_i, g_i in zip(LAMBDAS[:2], g, strict=True)]
    clean = sum(w_i * x_i for w_i, x_i in zip(W_STARS, x, strict=True))
    y = clean + sp.sqrt(s2) * xi
    yq = y + sp.sqrt(eps) * h if kind == "additive" else (1 + sp.sqrt(eps) * h) * y
    normals = [*g, xi, h]
    cross = sp.Matrix([sp.factor(gaussian_expectation(x_i * yq, normals)) for x_i in x])
    noise = sp.factor(gaussian_expectation((yq - clean) ** 2, normals))
    return cross, noise


def label_statement_holds(kind: str) -> bool:
    """True when SymPy proves ``E[x Q(y)] = H w*`` and the noise is ``s^2 + eps`` (additive)
    or ``s^2 + eps (|w*|_H^2 + s^2)`` (multiplicative)."""
    cross, noise = derive_label_moments(kind)
    h_w = sp.Matrix([lam_i * w_i for lam_i, w_i in zip(LAMBDAS[:2], W_STARS, strict=True)])
    norm = sum(lam_i * w_i**2 for lam_i, w_i in zip(LAMBDAS[:2], W_STARS, strict=True))
    stated = s2 + eps if kind == "additive" else s2 + eps * (norm + s2)
    return bool(sp.simplify(cross - h_w) == sp.zeros(2, 1) and sp.simplify(noise - stated) == 0)


@dataclass(frozen=True)
class RiskFormulas:
    """Per-coordinate SymPy expressions in ``lambda``, ``w^*`` and ``epsilon``.

    Attributes
    ----------
    second_moment
        ``E[x~_i^2]``: the diagonal of ``H~``.
    target
        ``w~_i = E[x~_i x_i] w*_i / E[x~_i^2]``.
    gap
        Coordinate ``i``'s part of ``min_w E[(y - <x~, w>)^2] - s^2``.
    clean
        Coordinate ``i``'s part of ``E(w~) = (w~ - w*)^T H (w~ - w*) / 2``.
    """

    second_moment: sp.Expr
    target: sp.Expr
    gap: sp.Expr
    clean: sp.Expr


@cache
def risk_formulas(kind: str) -> RiskFormulas:
    """The per-coordinate formulas for ``kind``, from :func:`derive_moments` (coordinate 1).

    Examples
    --------
    >>> risk_formulas("mult_coord").gap
    epsilon*lambda*w^***2/(epsilon + 1)
    """
    second, cross = derive_moments(kind)
    h = second[0, 0].subs(LAMBDAS[0], lam)
    c = cross[0, 0].subs(LAMBDAS[0], lam)
    target = sp.simplify(c * w_star / h)
    gap = sp.factor(sp.simplify(lam * w_star**2 - (c * w_star) ** 2 / h))
    clean = sp.factor(sp.simplify(lam * (target - w_star) ** 2 / 2))
    return RiskFormulas(second_moment=h, target=target, gap=gap, clean=clean)


@cache
def _numeric(kind: str, name: str) -> Callable:
    return sp.lambdify((lam, w_star, eps), getattr(risk_formulas(kind), name), "numpy")


def _spectrum(spectrum: np.ndarray) -> np.ndarray:
    values = real_vector("spectrum", spectrum)
    if np.any(values <= 0):
        raise ValueError("spectrum must be positive (the eigenvalues of H)")
    return values


def predicted_second_moments(spectrum: np.ndarray, kind: str, eps_value: float) -> np.ndarray:
    """Shape ``(d,)``: the diagonal of ``H~ = E[x~ x~^T]`` (lambdified from SymPy)."""
    values = _spectrum(spectrum)
    one_of("kind", kind, KINDS)
    e = nonnegative_float("eps", eps_value)
    return np.broadcast_to(_numeric(kind, "second_moment")(values, 0.0, e), values.shape).copy()


def predicted_risks(
    spectrum: np.ndarray, w: np.ndarray, kind: str, eps_value: float
) -> tuple[float, float]:
    """``(gap, clean)``: the quantized-input gap and the clean-input excess risk of ``w~``."""
    values = _spectrum(spectrum)
    w = real_vector("w_star", w, values.size)
    one_of("kind", kind, KINDS)
    e = nonnegative_float("eps", eps_value)
    gap = float(np.sum(_numeric(kind, "gap")(values, w, e)))
    clean = float(np.sum(_numeric(kind, "clean")(values, w, e)))
    return gap, clean


def predicted_error_second_moments(quantizer: RealQuantizer, spectrum: np.ndarray) -> np.ndarray:
    """Shape ``(d,)``: exact ``E[(Q(x_i) - x_i)^2]`` for ``x_i ~ N(0, lambda_i)``, a real format.

    From :func:`quantheory.lr.formats.gaussian_error_second_moment`, cell by
    cell; for stochastic rounding ``E[x~_i^2]`` is ``lambda_i`` plus this.
    """
    values = _spectrum(spectrum)
    return np.array([gaussian_error_second_moment(quantizer, np.sqrt(v)) for v in values])


@dataclass(frozen=True)
class FitMoments:
    """Moments of the residual ``r = y - <x~, w~>`` that set least squares' ``O(1/n)`` bias.

    SymPy expressions in ``lambda_1, lambda_2, w^*_1, w^*_2, epsilon`` for a
    pair of coordinates (``r_i = w*_i x_i - w~_i x~_i``); each vanishes unless
    every Gaussian coordinate appears an even number of times, so in any
    dimension ``E[x~_i^2 r^2] = self_square + sum_{j != i} pair_square(i, j)``
    and ``E[x~_i x~_j^2 r] = E[x~_i x~_j^2 r_i]``.

    Attributes
    ----------
    self_square, pair_square
        ``E[x~_1^2 r_1^2]`` and ``E[x~_1^2 r_2^2]``.
    self_cube, pair_cube
        ``E[x~_1^3 r_1]`` and ``E[x~_1 x~_2^2 r_1]``.
    """

    self_square: sp.Expr
    pair_square: sp.Expr
    self_cube: sp.Expr
    pair_cube: sp.Expr


@cache
def derive_fit_moments(kind: str) -> FitMoments:
    """The residual moments of :class:`FitMoments` for the idealized quantizer ``kind``.

    Examples
    --------
    >>> derive_fit_moments("additive").pair_cube
    0
    """
    one_of("kind", kind, KINDS)
    x, xq, normals = _quantized_row(kind, 2)
    target = risk_formulas(kind).target
    r = [
        w_i * x_i - target.subs({lam: lam_i, w_star: w_i}) * xq_i
        for x_i, xq_i, lam_i, w_i in zip(x, xq, LAMBDAS[:2], W_STARS, strict=True)
    ]

    def expectation(u: sp.Expr) -> sp.Expr:
        return sp.factor(gaussian_expectation(u, normals))

    return FitMoments(
        self_square=expectation(xq[0] ** 2 * r[0] ** 2),
        pair_square=expectation(xq[0] ** 2 * r[1] ** 2),
        self_cube=expectation(xq[0] ** 3 * r[0]),
        pair_cube=expectation(xq[0] * xq[1] ** 2 * r[0]),
    )


@cache
def _numeric_fit(kind: str, name: str) -> Callable:
    symbols = (LAMBDAS[0], LAMBDAS[1], W_STARS[0], W_STARS[1], eps)
    return sp.lambdify(symbols, getattr(derive_fit_moments(kind), name), "numpy")


def fit_bias(
    spectrum: np.ndarray, w: np.ndarray, kind: str, eps_value: float, samples: int
) -> tuple[float, float]:
    """``(gap, clean)``: the ``O(1/n)`` bias of :func:`least_squares_risks`' two estimates.

    Derived, not fitted. With ``S = X~^T X~ / n = H~ + Delta`` and
    ``g = X~^T r / n``, the fit is ``w^ = w~ + S^{-1} g`` and, to first order
    in ``1/n`` (``M_ii = E[x~_i^2 r^2]``, ``b = w~ - w*``):

    * ``E[w^ - w~]_i = -(1/n) sum_j E[x~_i x~_j^2 r] / (h~_i h~_j)`` (from
      ``-H~^{-1} Delta H~^{-1} g``; zero for the additive kind),
    * ``E[(w^ - w~)^T H (w^ - w~)] = (1/n) sum_i lambda_i M_ii / h~_i^2``,

    so the clean risk's bias is ``(1/n) [sum_i lambda_i M_ii / (2 h~_i^2) +
    sum_i lambda_i b_i E[w^ - w~]_i n]``, and the residual mean square
    ``|y - X~ w^|^2 / (n - d)`` has bias ``(d gap - sum_i M_ii / h~_i) / (n - d)``.
    If ``r`` were independent of ``x~`` (``M = gap H~``) the clean bias would
    be ``gap tr(H H~^{-1}) / (2n)``, i.e. ``d gap / (2n(1 + eps))``
    (multiplicative); the residual's dependence on ``x~`` and the bias of
    ``w^`` change that by a factor of order one. ``O(d^2)`` work.
    """
    values = _spectrum(spectrum)
    d = values.size
    w = real_vector("w_star", w, d)
    one_of("kind", kind, KINDS)
    e = nonnegative_float("eps", eps_value)
    n = positive_int("samples", samples)
    if n <= d:
        raise ValueError(f"samples must exceed d = {d}, got {n}")
    h = np.broadcast_to(_numeric(kind, "second_moment")(values, 0.0, e), (d,))
    b = _numeric(kind, "target")(values, w, e) - w
    li, lj = values[:, None], values[None, :]
    wi, wj = w[:, None], w[None, :]
    off = ~np.eye(d, dtype=bool)

    def pair(name: str) -> np.ndarray:
        return np.where(
            off, np.broadcast_to(_numeric_fit(kind, name)(li, lj, wi, wj, e), (d, d)), 0
        )

    square = np.broadcast_to(_numeric_fit(kind, "self_square")(values, values, w, w, e), (d,))
    square = square + pair("pair_square").sum(axis=1)
    cube = np.diag(np.broadcast_to(_numeric_fit(kind, "self_cube")(values, values, w, w, e), (d,)))
    cube = cube + pair("pair_cube")
    shift = -(cube / h[None, :]).sum(axis=1) / h  # n E[w^ - w~]
    clean = float(np.sum(values * square / (2 * h**2)) + np.sum(values * b * shift)) / n
    gap = float(np.sum(_numeric(kind, "gap")(values, w, e)))
    return (d * gap - float(np.sum(square / h))) / (n - d), clean


#: largest probability of ``|x_i| >= step`` on the tail for which the SR small-input formula is used
SMALL_INPUT_MASS = 1e-6


def stochastic_rounding_tail(spectrum: np.ndarray, step: float, start: int) -> np.ndarray:
    """Shape ``(d,)``: ``E[x~_i^2]`` over the tail ``i >= start`` for SR to a grid (NaN before it).

    Stochastic rounding of ``u`` between grid points ``l <= u <= h`` has
    conditional second moment ``(u - l)(h - u)``; on a grid of step ``step``
    through 0 and for ``|u| < step`` that is ``|u| (step - |u|)``, so
    ``E[x~_i^2] = E[x_i^2] + E[|x_i|(step - |x_i|)] = step E|x_i|
    = step sqrt(2 lambda_i / pi)`` whenever ``x_i`` stays inside
    ``(-step, step)``: a decay ``lambda_i^{1/2}``, i.e. ``i^{-a/2}`` for
    ``lambda_i = i^{-a}``, not the idealized ``lambda_i + step^2/6``.
    Independent of the sampler and of :mod:`quantheory.lr.formats`. Raises
    if the probability ``2 Phi(-step/sqrt(lambda_i))`` that the formula
    neglects exceeds :data:`SMALL_INPUT_MASS` anywhere on the tail.

    Examples
    --------
    >>> tail = stochastic_rounding_tail(np.arange(1, 41) ** -2.0, 0.5, 10)
    >>> round(float(loglog_slope(tail, 10)), 12)
    -1.0
    """
    values = _spectrum(spectrum)
    step = nonnegative_float("step", step)
    if not step > 0 or not 1 <= start <= values.size:
        raise ValueError(f"need step > 0 and 1 <= start <= d = {values.size}, got {step}, {start}")
    tail = values[start - 1 :]
    neglected = float(2 * sps.norm.sf(step / np.sqrt(tail.max())))
    if neglected > SMALL_INPUT_MASS:
        raise ValueError(
            f"P(|x_i| >= step) = {neglected:.2g} > {SMALL_INPUT_MASS:g} on the tail i >= {start}: "
            "the small-input formula step E|x_i| does not hold there"
        )
    return np.where(
        np.arange(1, values.size + 1) >= start, step * np.sqrt(2 * values / np.pi), np.nan
    )


# ---- Sampling --------------------------------------------------------------------
@dataclass(frozen=True)
class SpectrumSample:
    """Moments of ``n`` quantized Gaussian rows ``x~ = Q(x)``, ``x ~ N(0, diag(spectrum))``.

    Attributes
    ----------
    label
        What was sampled (for tables and figures).
    spectrum
        Shape ``(d,)``: ``lambda_i``.
    samples
        ``n``, the number of rows.
    coordinates
        Shape ``(k,)``: the 1-based coordinates whose pairs are kept.
    moment
        Shape ``(d, d)``: ``sum_n x~ x~^T / n``.
    fourth
        Shape ``(d,)``: ``sum_n x~_i^4 / n`` (for the diagonal's standard errors).
    pair_fourth
        Shape ``(k, k)``: ``sum_n (x~_i x~_j)^2 / n`` at :attr:`coordinates`.
    error
        Shape ``(d,)``: ``sum_n (x~_i - x_i)^2 / n``, the error's second moment.
    batch_diagonal
        Shape ``(R, d)``: the diagonal of the second moment in each of ``R``
        equal batches (independent replicates, for jackknife intervals).
    pooled
        Shape ``(2, 2)``: rows ``scale`` and ``floor``, columns mean and
        standard error. ``scale`` is ``mean_i x~_i^2 / lambda_i`` over all
        coordinates, ``floor`` is ``mean_i (x~_i^2 - lambda_i)`` over the
        tail ``i >= tail_start``; both per row, then averaged over rows.
    tail_start
        First (1-based) coordinate of the tail.
    """

    label: str
    spectrum: np.ndarray
    samples: int
    coordinates: np.ndarray
    moment: np.ndarray
    fourth: np.ndarray
    pair_fourth: np.ndarray
    error: np.ndarray
    batch_diagonal: np.ndarray
    pooled: np.ndarray
    tail_start: int

    @property
    def diagonal(self) -> np.ndarray:
        """Shape ``(d,)``: the empirical ``E[x~_i^2]``."""
        return np.diag(self.moment).copy()

    @property
    def diagonal_se(self) -> np.ndarray:
        """Shape ``(d,)``: standard error of :attr:`diagonal`."""
        n = self.samples
        return np.sqrt(np.maximum(self.fourth - self.diagonal**2, 0.0) / (n - 1))

    @property
    def pairs(self) -> np.ndarray:
        """Shape ``(k, k)``: the empirical ``E[x~_i x~_j]`` at :attr:`coordinates`."""
        index = self.coordinates - 1
        return self.moment[np.ix_(index, index)]

    @property
    def pair_se(self) -> np.ndarray:
        """Shape ``(k, k)``: standard error of :attr:`pairs`."""
        return np.sqrt(np.maximum(self.pair_fourth - self.pairs**2, 0.0) / (self.samples - 1))

    def eigenvalues(self) -> np.ndarray:
        """Shape ``(d,)``: eigenvalues of :attr:`moment`, decreasing (the empirical spectrum)."""
        return np.linalg.eigvalsh(self.moment)[::-1]

    def tail_slopes(self) -> np.ndarray:
        """Shape ``(R,)``: jackknife pseudo-values of the tail's log-log slope, one per batch.

        The slope is fitted to the diagonal of all rows; leaving out batch
        ``r`` gives ``slope_(-r)`` and the pseudo-value
        ``R slope - (R - 1) slope_(-r)``. Their mean and standard error give a
        Student-t interval. (Slopes fitted batch by batch would carry the
        bias of ``log`` of a batch mean, which differs between coordinates
        when the quantized values are far from Gaussian, as on a coarse grid.)
        """
        batches = self.batch_diagonal.shape[0]
        total = self.batch_diagonal.mean(axis=0)
        left_out = (batches * total - self.batch_diagonal) / (batches - 1)
        full = loglog_slope(total, self.tail_start)
        return batches * full - (batches - 1) * loglog_slope(left_out, self.tail_start)


def tail_slope_interval(sample: SpectrumSample, level: float = 0.95) -> tuple[float, float, float]:
    """``(mean, low, high)``: the batches' tail slopes with a Student-t interval at ``level``."""
    slopes = sample.tail_slopes()
    half = sps.t.ppf((1 + level) / 2, slopes.size - 1) * slopes.std(ddof=1) / np.sqrt(slopes.size)
    return float(slopes.mean()), float(slopes.mean() - half), float(slopes.mean() + half)


def loglog_slope(values: np.ndarray, start: int) -> np.ndarray:
    """Least-squares slope of ``log values[..., i-1]`` on ``log i`` over ``i >= start``.

    ``values`` has shape ``(..., d)``; returns shape ``(...)``. Raises if a
    value in the range is not positive (a log-log slope does not exist).

    Examples
    --------
    >>> round(float(loglog_slope(np.arange(1, 11) ** -2.0, 3)), 12)
    -2.0
    """
    values = np.asarray(values, dtype=float)
    d = values.shape[-1]
    if not 1 <= start <= d - 1:
        raise ValueError(f"start must be between 1 and d - 1 = {d - 1}, got {start!r}")
    tail = values[..., start - 1 :]
    if np.any(~(tail > 0)):
        raise ValueError(
            f"{int(np.sum(~(tail > 0)))} values in the fit range are not positive; "
            "a log-log slope needs positive values"
        )
    x = np.log(np.arange(start, d + 1))
    x = x - x.mean()
    return np.log(tail) @ x / (x @ x)


def tail_start(d: int) -> int:
    """The tail where slopes are fitted: coordinates ``i >= d // 4`` (fixed in advance)."""
    d = positive_int("d", d)
    if d < 8:
        raise ValueError(f"d must be >= 8 to have a tail of several coordinates, got {d}")
    return d // 4


def sample_spectrum(
    spectrum: np.ndarray,
    quantizer: Quantizer | None,
    samples: int,
    batches: int,
    seed: SeedLike,
    coordinates: Sequence[int],
    label: str,
) -> SpectrumSample:
    """Draw ``samples`` rows in ``batches`` equal batches and keep their moments.

    Parameters
    ----------
    spectrum
        Shape ``(d,)``: the eigenvalues of ``H``.
    quantizer
        Applied to each row (along the last axis); ``None`` keeps the clean rows.
    samples, batches
        Rows in all, and the number of equal batches (``batches`` divides ``samples``).
    seed
        Seed of the whole draw.
    coordinates
        1-based coordinates (each ``<= d``) whose pairs are kept.
    label
        Name of the sample.
    """
    values = _spectrum(spectrum)
    d = values.size
    samples = positive_int("samples", samples)
    batches = positive_int("batches", batches)
    if batches < 2 or samples % batches or samples // batches < 2:
        raise ValueError(
            f"batches must be >= 2 and divide samples into batches of >= 2 rows, "
            f"got samples = {samples}, batches = {batches}"
        )
    index = np.asarray(coordinates, dtype=int)
    if index.ndim != 1 or index.size < 1 or np.any((index < 1) | (index > d)):
        raise ValueError(f"coordinates must be 1-based indices <= d = {d}, got {coordinates!r}")
    start = tail_start(d)
    rng = generator(seed)
    rows = samples // batches
    root = np.sqrt(values)
    moment = np.zeros((d, d))
    fourth, error = np.zeros(d), np.zeros(d)
    pair_fourth = np.zeros((index.size, index.size))
    batch_diagonal = np.zeros((batches, d))
    pooled_sum, pooled_sq = np.zeros(2), np.zeros(2)
    for r in range(batches):
        x = rng.standard_normal((rows, d)) * root
        xq = x if quantizer is None else quantizer.apply(x, rng)
        squares = xq**2
        moment += xq.T @ xq
        fourth += (squares**2).sum(axis=0)
        error += ((xq - x) ** 2).sum(axis=0)
        picked = xq[:, index - 1]
        pair_fourth += (picked**2).T @ picked**2
        batch_diagonal[r] = squares.mean(axis=0)
        per_row = np.stack(
            [(squares / values).mean(axis=1), (squares - values)[:, start - 1 :].mean(axis=1)]
        )
        pooled_sum += per_row.sum(axis=1)
        pooled_sq += (per_row**2).sum(axis=1)
    mean = pooled_sum / samples
    se = np.sqrt(np.maximum(pooled_sq / samples - mean**2, 0.0) / (samples - 1))
    return SpectrumSample(
        label=label,
        spectrum=values,
        samples=samples,
        coordinates=index,
        moment=moment / samples,
        fourth=fourth / samples,
        pair_fourth=pair_fourth / samples,
        error=error / samples,
        batch_diagonal=batch_diagonal,
        pooled=np.stack([mean, se], axis=1),
        tail_start=start,
    )


# ---- Least squares ---------------------------------------------------------------
@dataclass(frozen=True)
class RiskEstimate:
    """Both risks of least squares fitted on quantized rows, per replicate.

    Attributes
    ----------
    quant
        The data quantization.
    gap
        Shape ``(R,)``: residual mean square ``|y - X~ w^|^2 / (n - d)``
        (noiseless labels, so this estimates ``min_w E[(y - <x~,w>)^2] - s^2``).
    clean
        Shape ``(R,)``: ``(w^ - w*)^T H (w^ - w*) / 2``, the clean-input excess risk.
    samples
        Rows per replicate.
    """

    quant: Quantization
    gap: np.ndarray
    clean: np.ndarray
    samples: int


def least_squares_risks(
    spectrum: np.ndarray,
    w: np.ndarray,
    quant: Quantization,
    samples: int,
    replicates: int,
    seed: SeedLike,
) -> RiskEstimate:
    """Fit least squares on ``samples`` quantized rows, ``replicates`` times independently.

    Rows ``x ~ N(0, diag(spectrum))``, labels ``y = <w, x>`` (no noise), data
    quantized by the idealized sampler of ``quant`` (target ``"data"``).
    """
    values = _spectrum(spectrum)
    d = values.size
    w = real_vector("w_star", w, d)
    if not isinstance(quant, Quantization) or quant.target != "data":
        raise ValueError(f"quant must be a Quantization of the data, got {quant!r}")
    samples = positive_int("samples", samples)
    replicates = positive_int("replicates", replicates)
    if samples <= 2 * d or replicates < 2:
        raise ValueError(
            f"need samples > 2d = {2 * d} and replicates >= 2, got {samples}, {replicates}"
        )
    rng = generator(seed)
    quantizer = idealized(quant)
    gap, clean = np.zeros(replicates), np.zeros(replicates)
    for r in range(replicates):
        x = rng.standard_normal((samples, d)) * np.sqrt(values)
        y = x @ w
        xq = quantizer.apply(x, rng)
        fit = np.linalg.solve(xq.T @ xq, xq.T @ y)  # the normal equations
        gap[r] = float(np.sum((y - xq @ fit) ** 2)) / (samples - d)
        clean[r] = 0.5 * float(np.sum(values * (fit - w) ** 2))
    return RiskEstimate(quant=quant, gap=gap, clean=clean, samples=samples)
