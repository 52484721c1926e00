"""Real number formats as quantizers: integer grids and low-precision floats.

Both classes implement the ``Quantizer`` protocol of
:mod:`quantheory.lr.simulate`: an attribute ``target`` (one of
:data:`quantheory.lr.model.TARGETS`) and ``apply(u, rng)``, which quantizes
``u`` of shape ``(..., n)`` entry by entry (so along its last axis as well).
Each rounds in one of two ways:

* ``"stochastic"`` (SR): ``u`` lying between the neighbouring representable
  values ``lo <= u <= hi`` becomes ``hi`` with probability
  ``(u - lo) / (hi - lo)`` and ``lo`` otherwise. The error is unbiased,
  ``E[Q(u) | u] = u``, with conditional second moment
  ``(u - lo)(hi - u)``;
* ``"nearest"`` (RN): the nearest representable value (ties to even). The
  error is a deterministic function of ``u``, hence biased given ``u``.

**Integer grid** (:class:`IntegerGrid`). A symmetric ``b``-bit grid with a
per-tensor step, the int8 convention ``-127 ... 127`` for ``b = 8``: codes
``k in {-K, ..., K}`` with ``K = 2^(b-1) - 1``, values ``k * step`` with
``step = scale / K``, range ``[-scale, scale]``. So ``b >= 2``. For ``u``
spread over many steps the SR error's second moment averages to
``step^2 / 6`` (the mean of ``p(1-p)`` over a uniform ``p``) and RN's to
``step^2 / 12``: an *additive* error, independent of ``|u|``. But for
``|u| << step`` the SR conditional second moment is ``step |u| - u^2``, which
is proportional to ``|u|``, not constant.

**Floats** (:class:`FloatFormat`). ``bfloat16`` (``m = 7`` mantissa bits),
``float8_e4m3fn`` (``m = 3``, no infinities, largest 448) and
``float8_e5m2`` (``m = 2``, largest 57344), from ``ml_dtypes``. The spacing
between neighbours is ``2^(e - m)`` on the binade ``[2^e, 2^(e+1))``, so the
error is *relative*. Averaged over a cell, ``p(1-p)`` is ``1/6``, so the
conditional relative second moment is ``4^(-m) / (6 v^2)`` at mantissa
``v in [1, 2)``; averaged over the scale-invariant (log-uniform) mantissa
law, density ``1/(v ln 2)``,

    eps_rel = E[(Q(u) - u)^2 / u^2] = c 2^(-2m),  c = 1 / (16 ln 2) ~ 0.0902

(``int_1^2 v^-3 dv / ln 2 = 3 / (8 ln 2)``), in the limit of many mantissa
bits. This is also ``E[(Q(u) - u)^2] / E[u^2]`` whenever the ``u^2``-weighted
law of ``log|u|`` is smooth over a binade, as for Gaussian data: the exact
value for ``N(0, sigma^2)`` is 0.089 to 0.091 times ``2^(-2m)`` for every
``sigma`` (bfloat16, float8 e5m2 and e4m3 in its normal range). The ratio
does depend on the law: for ``|u|`` itself log-uniform over whole binades
(a box in ``log|u|``) it is ``ln(2) / 9 ~ 0.077`` instead. RN's is half of
SR's (``1/12`` in place of ``1/6`` per cell). Below the smallest normal
number the spacing is constant (the subnormals), so there the error is
additive again. RN is the ``ml_dtypes`` cast, which rounds ``float64`` to ``float32`` and
then to the format: a double rounding that differs from a correctly rounded
cast only for ``u`` within ``2^-24`` (relative) of a midpoint between two
representable values. SR finds the two neighbours exactly from the binade
(:func:`binary_float_neighbours`, shared with :class:`UnboundedFloat`, the
idealized float of any ``m`` with no exponent limits); the tests check them
against the format's bit patterns and that every output survives a round trip
through the ``ml_dtypes`` type.

**Range.** Nothing is clipped. A value outside the representable range
(``|u| > scale`` on the grid, ``|u| >`` the format's largest finite value,
or not finite) makes ``apply`` raise a :class:`ValueError` that counts the
offending values; :meth:`IntegerGrid.out_of_range` and
:meth:`FloatFormat.out_of_range` count them without raising.

:func:`error_moments` measures the error's conditional bias and second moment
at given ``u`` by repeated quantization (Monte Carlo), and each class has
``conditional_moments(u)``, the exact values of both, and
``representable()``, every representable value, from which
:func:`gaussian_error_second_moment` computes ``E[(Q(x) - x)^2]`` for
``x ~ N(0, sigma^2)`` exactly (cell by cell).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import ml_dtypes
import numpy as np
from scipy import stats as sps

from quantheory.lr.model import TARGETS
from quantheory.validation import nonnegative_float, one_of, positive_float, positive_int

ROUNDINGS: tuple[str, ...] = ("stochastic", "nearest")

#: the float formats, by name
FLOAT_FORMATS: dict[str, type] = {
    "bfloat16": ml_dtypes.bfloat16,
    "float8_e4m3fn": ml_dtypes.float8_e4m3fn,
    "float8_e5m2": ml_dtypes.float8_e5m2,
}

#: the SR relative second moment is this times 2^(-2m) (log-uniform mantissa, many bits)
RELATIVE_EPS_CONSTANT = float(1.0 / (16.0 * np.log(2.0)))


def _as_values(u: np.ndarray) -> np.ndarray:
    return np.asarray(u, dtype=np.float64)


def _raise_out_of_range(u: np.ndarray, bad: np.ndarray, limit: float, what: str) -> None:
    count = int(bad.sum())
    if count:
        finite = u[bad][np.isfinite(u[bad])]
        largest = f"largest |u| = {np.abs(finite).max():.6g}" if finite.size else "all non-finite"
        raise ValueError(
            f"{count} of {u.size} values lie outside the representable range "
            f"[-{limit:.6g}, {limit:.6g}] of {what} ({largest}); nothing is clipped: "
            "choose a larger scale or a wider format"
        )


def _stochastic_choice(
    u: np.ndarray, lo: np.ndarray, hi: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """``hi`` with probability ``(u - lo)/(hi - lo)``, else ``lo`` (``lo`` where they coincide)."""
    width = hi - lo
    p_up = np.divide(u - lo, width, out=np.zeros_like(u), where=width > 0)
    return np.where(rng.random(u.shape) < p_up, hi, lo)


def _moments(
    u: np.ndarray, lo: np.ndarray, hi: np.ndarray, nearest: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    if nearest is None:
        return np.zeros_like(u), (u - lo) * (hi - u)
    error = nearest - u
    return error, error**2


@dataclass(frozen=True)
class IntegerGrid:
    """Symmetric ``bits``-bit integer grid ``{k * step : |k| <= 2^(bits-1) - 1}``.

    Attributes
    ----------
    target
        The quantized operand, one of :data:`quantheory.lr.model.TARGETS`.
    bits
        Bits per value, ``>= 2`` (``K = 2^(bits-1) - 1`` positive codes).
    scale
        Largest representable magnitude, ``> 0``; ``step = scale / K``.
    rounding
        ``"stochastic"`` or ``"nearest"``.

    Examples
    --------
    >>> grid = IntegerGrid("data", bits=3, scale=3.0, rounding="nearest")
    >>> grid.step, grid.representable().tolist()
    (1.0, [-3.0, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0])
    >>> grid.apply(np.array([0.4, -2.6, 3.0]), np.random.default_rng(0)).tolist()
    [0.0, -3.0, 3.0]
    """

    target: str
    bits: int
    scale: float
    rounding: str = "stochastic"

    def __post_init__(self) -> None:
        one_of("target", self.target, TARGETS)
        bits = self.bits
        if isinstance(bits, bool) or not isinstance(bits, int | np.integer) or bits < 2:
            raise ValueError(
                "bits must be an integer >= 2 for a symmetric grid (codes -(2^(b-1)-1) ... "
                f"2^(b-1)-1), got {bits!r}"
            )
        object.__setattr__(self, "bits", int(bits))
        object.__setattr__(self, "scale", positive_float("scale", self.scale))
        one_of("rounding", self.rounding, ROUNDINGS)

    @property
    def levels(self) -> int:
        """``K = 2^(bits-1) - 1``: the largest code."""
        return 2 ** (self.bits - 1) - 1

    @property
    def step(self) -> float:
        """The grid step ``scale / K``."""
        return self.scale / self.levels

    def representable(self) -> np.ndarray:
        """Shape ``(2K + 1,)``: every value of the grid, increasing."""
        return np.arange(-self.levels, self.levels + 1) * self.step

    def out_of_range(self, u: np.ndarray) -> int:
        """How many entries of ``u`` lie outside ``[-scale, scale]`` or are not finite."""
        u = _as_values(u)
        return int((~(np.abs(u) <= self.scale)).sum())

    def _checked(self, u: np.ndarray) -> np.ndarray:
        u = _as_values(u)
        _raise_out_of_range(u, ~(np.abs(u) <= self.scale), self.scale, repr(self))
        return u

    def neighbours(self, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The grid values ``lo <= u <= hi`` around each entry (``lo = hi`` on the grid)."""
        u = self._checked(u)
        k = np.floor(u / self.step)
        lo = np.minimum(k, self.levels) * self.step
        hi = np.where(lo == u, lo, np.minimum(k + 1, self.levels) * self.step)
        return lo, hi

    def _nearest(self, u: np.ndarray) -> np.ndarray:
        return np.rint(u / self.step) * self.step

    def apply(self, u: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Quantize every entry of ``u`` (any shape); raises if any is out of range."""
        u = self._checked(u)
        if self.rounding == "nearest":
            return self._nearest(u)
        lo, hi = self.neighbours(u)
        return _stochastic_choice(u, lo, hi, rng)

    def conditional_moments(self, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Exact ``(E[Q(u) - u | u], E[(Q(u) - u)^2 | u])`` at every entry of ``u``."""
        lo, hi = self.neighbours(u)
        u = _as_values(u)
        return _moments(u, lo, hi, self._nearest(u) if self.rounding == "nearest" else None)


def binary_float_neighbours(
    u: np.ndarray, mantissa_bits: int, smallest_normal: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """The binary floats ``lo <= u <= hi`` with ``m`` mantissa bits around each entry of ``u``.

    On the binade ``[2^(e-1), 2^e)`` the spacing is ``2^(e-1-m)``; below
    ``smallest_normal`` (a power of two) it stays that of the lowest normal
    binade (the subnormals); ``smallest_normal = 0``: unbounded exponent. No
    range check (the callers make it). ``lo = hi`` where ``u`` is exact.

    Examples
    --------
    >>> [v.tolist() for v in binary_float_neighbours(np.array([1.1, -3.0, 0.3]), 2)]
    [[1.0, -3.0, 0.25], [1.25, -3.0, 0.3125]]
    """
    u = _as_values(u)
    _, exponent = np.frexp(u)
    if smallest_normal > 0:
        exponent = np.maximum(exponent, np.frexp(smallest_normal)[1])
    spacing = np.ldexp(1.0, exponent - 1 - mantissa_bits)
    lo = np.floor(u / spacing) * spacing
    return lo, np.where(lo == u, lo, lo + spacing)


@dataclass(frozen=True)
class UnboundedFloat:
    """Stochastic rounding to a binary float with ``m`` mantissa bits and no exponent limits.

    The idealized floating point of an equal-bit-budget comparison: the
    spacing is relative on every binade (no subnormals, no largest value),
    so any ``m >= 0`` is allowed, also those of no ``ml_dtypes`` format.
    With ``m`` and the range of a real format it coincides with
    :class:`FloatFormat` inside that format's normal range.

    Attributes
    ----------
    target
        The quantized operand, one of :data:`quantheory.lr.model.TARGETS`.
    mantissa_bits
        ``m``: an integer ``>= 0``.

    Examples
    --------
    >>> q = UnboundedFloat("data", 1)
    >>> [v.tolist() for v in q.neighbours(np.array([1.3, -0.3]))]
    [[1.0, -0.375], [1.5, -0.25]]
    """

    target: str
    mantissa_bits: int

    def __post_init__(self) -> None:
        one_of("target", self.target, TARGETS)
        m = self.mantissa_bits
        if isinstance(m, bool) or not isinstance(m, int | np.integer) or m < 0:
            raise ValueError(f"mantissa_bits must be an integer >= 0, got {m!r}")
        object.__setattr__(self, "mantissa_bits", int(m))

    def neighbours(self, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The floats ``lo <= u <= hi`` around each entry; raises on non-finite entries."""
        u = _as_values(u)
        bad = ~np.isfinite(u)
        if bad.any():
            raise ValueError(f"{int(bad.sum())} of {u.size} values are not finite in {self}")
        return binary_float_neighbours(u, self.mantissa_bits)

    def apply(self, u: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Stochastic rounding of every entry of ``u`` (any shape)."""
        u = _as_values(u)
        lo, hi = self.neighbours(u)
        return _stochastic_choice(u, lo, hi, rng)


@dataclass(frozen=True)
class FloatFormat:
    """A low-precision float format of ``ml_dtypes`` with SR or RN rounding.

    Attributes
    ----------
    target
        The quantized operand, one of :data:`quantheory.lr.model.TARGETS`.
    name
        One of :data:`FLOAT_FORMATS`: ``"bfloat16"``, ``"float8_e4m3fn"``,
        ``"float8_e5m2"``.
    rounding
        ``"stochastic"`` or ``"nearest"``.

    Examples
    --------
    >>> f = FloatFormat("data", "float8_e4m3fn")
    >>> f.mantissa_bits, f.max_value
    (3, 448.0)
    >>> [v.tolist() for v in f.neighbours(np.array([1.1, 0.001]))]  # 0.001: subnormal cell
    [[1.0, 0.0], [1.125, 0.001953125]]
    """

    target: str
    name: str
    rounding: str = "stochastic"

    def __post_init__(self) -> None:
        one_of("target", self.target, TARGETS)
        one_of("name", self.name, tuple(FLOAT_FORMATS))
        one_of("rounding", self.rounding, ROUNDINGS)

    @property
    def dtype(self) -> np.dtype:
        """The ``ml_dtypes`` NumPy type."""
        return np.dtype(FLOAT_FORMATS[self.name])

    @cached_property
    def mantissa_bits(self) -> int:
        """``m``: explicit mantissa bits (7, 3 and 2)."""
        return int(ml_dtypes.finfo(self.dtype).nmant)

    @cached_property
    def max_value(self) -> float:
        """The largest finite value."""
        return float(ml_dtypes.finfo(self.dtype).max)

    @cached_property
    def smallest_normal(self) -> float:
        """The smallest positive normal value; the spacing is constant below it."""
        return float(ml_dtypes.finfo(self.dtype).tiny)

    @property
    def _bits_type(self) -> type:
        return np.uint16 if self.dtype.itemsize == 2 else np.uint8

    def representable(self) -> np.ndarray:
        """Every finite value of the format, increasing (one zero)."""
        patterns = np.arange(2 ** (8 * self.dtype.itemsize), dtype=np.int64)
        with np.errstate(invalid="ignore"):  # the NaN patterns
            values = patterns.astype(self._bits_type).view(self.dtype).astype(np.float64)
        return np.unique(values[np.isfinite(values)])

    def out_of_range(self, u: np.ndarray) -> int:
        """How many entries of ``u`` exceed the largest finite value or are not finite."""
        u = _as_values(u)
        return int((~(np.abs(u) <= self.max_value)).sum())

    def _checked(self, u: np.ndarray) -> np.ndarray:
        u = _as_values(u)
        _raise_out_of_range(u, ~(np.abs(u) <= self.max_value), self.max_value, repr(self))
        return u

    def _cast(self, u: np.ndarray) -> np.ndarray:
        """The ``ml_dtypes`` round-to-nearest cast, back in ``float64``."""
        return u.astype(self.dtype).astype(np.float64)

    def neighbours(self, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The representable values ``lo <= u <= hi`` around each entry (equal when exact).

        By :func:`binary_float_neighbours` with the format's mantissa bits and
        smallest normal; the test suite checks them against the format's bit
        patterns (the ``ml_dtypes`` cast and the next pattern), against the
        list of representable values, and that every output of ``apply``
        survives a round trip through the type.
        """
        u = self._checked(u)
        return binary_float_neighbours(u, self.mantissa_bits, self.smallest_normal)

    def apply(self, u: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Quantize every entry of ``u`` (any shape); raises if any is out of range."""
        u = self._checked(u)
        if self.rounding == "nearest":
            return self._cast(u)
        lo, hi = binary_float_neighbours(u, self.mantissa_bits, self.smallest_normal)
        return _stochastic_choice(u, lo, hi, rng)

    def conditional_moments(self, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Exact ``(E[Q(u) - u | u], E[(Q(u) - u)^2 | u])`` at every entry of ``u``."""
        lo, hi = self.neighbours(u)
        u = _as_values(u)
        return _moments(u, lo, hi, self._cast(u) if self.rounding == "nearest" else None)


RealQuantizer = IntegerGrid | FloatFormat


@dataclass(frozen=True)
class ErrorMoments:
    """Monte Carlo moments of the error ``Q(u) - u`` at fixed inputs.

    Attributes
    ----------
    u
        Shape ``(n,)``: the inputs.
    bias, bias_se
        Shape ``(n,)``: mean error at each input over the repeats, and its
        standard error.
    second_moment, second_moment_se
        Shape ``(n,)``: mean squared error at each input, and its standard error.
    repeats
        Independent quantizations of each input.
    """

    u: np.ndarray
    bias: np.ndarray
    bias_se: np.ndarray
    second_moment: np.ndarray
    second_moment_se: np.ndarray
    repeats: int

    @property
    def additive_eps(self) -> float:
        """``mean_u E[(Q(u) - u)^2 | u]``: the ``eps`` of an additive model."""
        return float(self.second_moment.mean())

    @property
    def relative_eps(self) -> float:
        """``mean_u E[(Q(u) - u)^2 | u] / mean_u u^2``: the ``eps`` of a multiplicative model."""
        return float(self.second_moment.mean() / np.mean(self.u**2))

    @property
    def largest_bias_z(self) -> float:
        """``max |bias| / se`` (``inf`` if a non-zero bias has zero spread, 0 if no bias)."""
        z = np.divide(
            np.abs(self.bias),
            self.bias_se,
            out=np.where(self.bias == 0, 0.0, np.inf),
            where=self.bias_se > 0,
        )
        return float(z.max())


def error_moments(
    quantizer: RealQuantizer, u: np.ndarray, rng: np.random.Generator, repeats: int
) -> ErrorMoments:
    """Quantize each entry of ``u`` (shape ``(n,)``) ``repeats`` times and summarize the error."""
    repeats = positive_int("repeats", repeats)
    if repeats < 2:
        raise ValueError(f"repeats must be >= 2 to estimate a standard error, got {repeats}")
    u = _as_values(u)
    if u.ndim != 1:
        raise ValueError(f"u must be a 1-D array, got shape {u.shape}")
    error = quantizer.apply(np.broadcast_to(u, (repeats, u.size)), rng) - u
    root = np.sqrt(repeats)
    return ErrorMoments(
        u=u,
        bias=error.mean(axis=0),
        bias_se=error.std(axis=0, ddof=1) / root,
        second_moment=(error**2).mean(axis=0),
        second_moment_se=(error**2).std(axis=0, ddof=1) / root,
        repeats=repeats,
    )


def _normal_partial_moments(
    lo: np.ndarray, hi: np.ndarray, sigma: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``int_lo^hi x^j phi(x) dx`` for ``j = 0, 1, 2``, ``phi`` the N(0, sigma^2) density."""
    a, b = lo / sigma, hi / sigma
    pa, pb = sps.norm.pdf(a), sps.norm.pdf(b)
    m0 = sps.norm.sf(a) - sps.norm.sf(b)
    m1 = sigma * (pa - pb)
    # x^2 terms vanish at infinite ends; write them so that +-inf * 0 is not evaluated
    edge = np.where(np.isfinite(a), a * pa, 0.0) - np.where(np.isfinite(b), b * pb, 0.0)
    m2 = sigma**2 * (m0 + edge)
    return m0, m1, m2


def gaussian_error_second_moment(quantizer: RealQuantizer, sigma: float) -> float:
    """Exact ``E[(Q(x) - x)^2]`` for ``x ~ N(0, sigma^2)``, cell by cell.

    SR: ``sum over cells [lo, hi]`` of ``int (x - lo)(hi - x) phi``; RN: the
    squared distance to each value over its rounding cell (between midpoints).
    The mass beyond the representable range (where ``apply`` raises) is
    ignored; it is below ``2 Phi(-range / sigma)``. So are cells beyond
    ``40 sigma`` (mass below ``1e-300``).

    Examples
    --------
    >>> grid = IntegerGrid("data", bits=8, scale=127.0)  # step 1
    >>> round(gaussian_error_second_moment(grid, 30.0) * 6, 3)  # many steps: step^2 / 6
    1.0
    >>> tiny = gaussian_error_second_moment(grid, 0.01)  # |x| << step: step E|x|
    >>> round(float(tiny / (0.01 * np.sqrt(2 / np.pi))), 2)  # minus sigma^2: 1 - 0.0125
    0.99
    """
    sigma = positive_float("sigma", sigma)
    values = quantizer.representable()
    # cells beyond 40 sigma carry mass below 1e-300: keep the values inside and one beyond
    inside = np.flatnonzero(np.abs(values) <= 40 * sigma)
    first = max(int(inside[0]) - 1, 0) if inside.size else 0
    last = min(int(inside[-1]) + 2, values.size) if inside.size else values.size
    values = values[first:last]
    if quantizer.rounding == "stochastic":
        lo, hi = values[:-1], values[1:]
        m0, m1, m2 = _normal_partial_moments(lo, hi, sigma)
        return float(np.sum(-m2 + (lo + hi) * m1 - lo * hi * m0))
    mid = (values[:-1] + values[1:]) / 2
    lo = np.concatenate([[-values[-1]], mid])
    hi = np.concatenate([mid, [values[-1]]])
    m0, m1, m2 = _normal_partial_moments(lo, hi, sigma)
    return float(np.sum(m2 - 2 * values * m1 + values**2 * m0))


def relative_eps_prediction(mantissa_bits: int) -> float:
    """``c 2^(-2m)``, ``c = 1/(16 ln 2)``: the SR relative ``eps`` of a float with ``m`` bits."""
    m = nonnegative_float("mantissa_bits", mantissa_bits)
    return RELATIVE_EPS_CONSTANT * 2.0 ** (-2 * m)
