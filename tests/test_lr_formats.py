import doctest

import numpy as np
import pytest

from quantheory import stats
from quantheory.lr import formats
from quantheory.lr.formats import (
    FLOAT_FORMATS,
    FloatFormat,
    IntegerGrid,
    UnboundedFloat,
    error_moments,
    gaussian_error_second_moment,
    relative_eps_prediction,
)

SR_QUANTIZERS = [
    IntegerGrid("data", 4, 2.0),
    *(FloatFormat("data", name) for name in FLOAT_FORMATS),
]
RN_QUANTIZERS = [
    IntegerGrid("data", 4, 2.0, "nearest"),
    *(FloatFormat("data", name, "nearest") for name in FLOAT_FORMATS),
]


def _inputs(rng, n=60):
    """Inputs over several binades, both signs, a few subnormal ones and some exact values."""
    u = rng.choice([-1.0, 1.0], n) * 2.0 ** rng.uniform(-11, 0.9, n)
    return np.concatenate([u, [0.0, 1.0, -0.5, 0.25]])


def test_docstring_examples():
    result = doctest.testmod(formats)
    assert result.attempted > 0 and result.failed == 0


@pytest.mark.parametrize("quantizer", SR_QUANTIZERS, ids=repr)
def test_stochastic_rounding_is_unbiased_with_the_predicted_second_moment(quantizer):
    rng = np.random.default_rng(1)
    u = _inputs(rng)
    measured = error_moments(quantizer, u, rng, 4000)
    # comparisons: bias and second moment at every input
    z = stats.z_threshold(2 * u.size)
    assert measured.largest_bias_z <= z
    bias, second = quantizer.conditional_moments(u)
    assert not np.any(bias)
    spread = measured.second_moment_se > 0
    gap = np.abs(measured.second_moment - second)
    roundoff = 1e-12 * second + 1e-30  # Q(u) - u is computed in floating point
    assert np.all(gap[spread] <= z * measured.second_moment_se[spread] + roundoff[spread])
    np.testing.assert_allclose(measured.second_moment[~spread], second[~spread], atol=1e-30)


@pytest.mark.parametrize("quantizer", RN_QUANTIZERS, ids=repr)
def test_round_to_nearest_is_deterministic_and_biased(quantizer):
    rng = np.random.default_rng(2)
    u = _inputs(rng)
    measured = error_moments(quantizer, u, rng, 3)
    bias, second = quantizer.conditional_moments(u)
    np.testing.assert_allclose(measured.bias, bias, rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(measured.second_moment, second, rtol=1e-12, atol=1e-300)
    assert measured.largest_bias_z == np.inf
    lo, hi = quantizer.neighbours(u)
    out = quantizer.apply(u, rng)
    assert np.all((out == lo) | (out == hi))
    assert np.all(np.abs(out - u) <= np.minimum(u - lo, hi - u) + 1e-15 * np.abs(u))


@pytest.mark.parametrize("quantizer", SR_QUANTIZERS + RN_QUANTIZERS, ids=repr)
def test_outputs_are_representable_neighbours(quantizer):
    rng = np.random.default_rng(3)
    u = _inputs(rng, 500).reshape(4, -1)
    out = quantizer.apply(u, rng)
    assert out.shape == u.shape
    assert np.all(np.isin(out, quantizer.representable()))
    lo, hi = quantizer.neighbours(u)
    assert np.all((lo <= u) & (u <= hi))
    assert np.all((out == lo) | (out == hi))
    if isinstance(quantizer, FloatFormat):
        np.testing.assert_array_equal(out.astype(quantizer.dtype).astype(float), out)


@pytest.mark.parametrize("name", FLOAT_FORMATS)
def test_neighbours_are_adjacent_representable_values(name):
    fmt = FloatFormat("data", name)
    values = fmt.representable()
    rng = np.random.default_rng(4)
    cells = rng.integers(0, values.size - 1, 300)
    u = values[cells] + rng.uniform(0.01, 0.99, 300) * (values[cells + 1] - values[cells])
    lo, hi = fmt.neighbours(u)
    np.testing.assert_array_equal(lo, values[cells])
    np.testing.assert_array_equal(hi, values[cells + 1])


def test_subnormal_spacing_is_constant():
    fmt = FloatFormat("data", "float8_e4m3fn")
    spacing = 2.0**-9  # smallest subnormal of e4m3: 2^(1 - 7 - 3)
    u = np.array([0.1, 0.9, 3.5, 7.2]) * spacing
    lo, hi = fmt.neighbours(u)
    np.testing.assert_array_equal(hi - lo, spacing)
    assert fmt.smallest_normal == 2.0**-6


def test_integer_grid_eps_is_step_squared_over_six():
    grid = IntegerGrid("data", 8, 4.0)
    u = np.random.default_rng(5).uniform(-3.9, 3.9, 200_000)  # ~ 250 steps
    _, second = grid.conditional_moments(u)
    assert second.mean() == pytest.approx(grid.step**2 / 6, rel=0.01)
    _, rn = IntegerGrid("data", 8, 4.0, "nearest").conditional_moments(u)
    assert rn.mean() == pytest.approx(grid.step**2 / 12, rel=0.01)


@pytest.mark.parametrize("name", FLOAT_FORMATS)
def test_float_relative_eps_is_one_over_16_ln2_times_4_to_the_minus_m(name):
    """Log-uniform magnitudes over 6 normal binades: E[e^2 / u^2] = 2^(-2m) / (16 ln 2)."""
    fmt = FloatFormat("data", name)
    u = 2.0 ** np.random.default_rng(6).uniform(-3, 3, 400_000)
    _, second = fmt.conditional_moments(u)
    predicted = relative_eps_prediction(fmt.mantissa_bits)
    assert np.mean(second / u**2) == pytest.approx(predicted, rel=0.02)
    # for this law (a box in log|u|) the u^2-weighted ratio is ln(2)/9 instead
    ratio = second.mean() / np.mean(u**2)
    assert ratio == pytest.approx(np.log(2) / 9 * 4.0**-fmt.mantissa_bits, rel=0.02)


@pytest.mark.parametrize("name", FLOAT_FORMATS)
@pytest.mark.parametrize("sigma", [0.3, 0.5, 0.7, 1.0])
def test_gaussian_relative_eps_is_one_over_16_ln2_times_4_to_the_minus_m(name, sigma):
    fmt = FloatFormat("data", name)
    ratio = gaussian_error_second_moment(fmt, sigma) / sigma**2
    assert ratio == pytest.approx(relative_eps_prediction(fmt.mantissa_bits), rel=0.015)
    nearest = FloatFormat("data", name, "nearest")
    ratio = gaussian_error_second_moment(nearest, sigma) / sigma**2
    assert ratio == pytest.approx(relative_eps_prediction(fmt.mantissa_bits) / 2, rel=0.025)


@pytest.mark.parametrize(
    "quantizer", SR_QUANTIZERS + RN_QUANTIZERS + [IntegerGrid("data", 6, 2.5)], ids=repr
)
@pytest.mark.parametrize("sigma", [0.003, 0.3])
def test_gaussian_error_second_moment_matches_sampling(quantizer, sigma):
    x = np.random.default_rng(7).normal(0, sigma, 400_000)
    _, second = quantizer.conditional_moments(x)
    se = second.std() / np.sqrt(x.size)
    assert abs(second.mean() - gaussian_error_second_moment(quantizer, sigma)) <= 6 * se


def test_out_of_range_values_raise_and_are_counted():
    grid = IntegerGrid("data", 4, 1.0)
    u = np.array([0.5, 1.0, -1.0, 1.2, -3.0, np.nan])
    assert grid.out_of_range(u) == 3
    with pytest.raises(ValueError, match=r"3 of 6 values .* nothing is clipped"):
        grid.apply(u, np.random.default_rng(0))
    for name in FLOAT_FORMATS:
        fmt = FloatFormat("data", name, "nearest")
        big = np.array([fmt.max_value, 2 * fmt.max_value, np.inf])
        assert fmt.out_of_range(big) == 2
        with pytest.raises(ValueError, match=r"2 of 3 values lie outside"):
            fmt.apply(big, np.random.default_rng(0))
        with pytest.raises(ValueError, match=r"outside the representable range"):
            FloatFormat("data", name).apply(big, np.random.default_rng(0))


def test_bad_arguments_are_refused_readably():
    with pytest.raises(ValueError, match=r"name must be one of .*float8_e4m3fn"):
        FloatFormat("data", "float16")
    with pytest.raises(ValueError, match=r"rounding must be one of 'stochastic', 'nearest'"):
        FloatFormat("data", "bfloat16", "truncate")
    with pytest.raises(ValueError, match=r"rounding must be one of"):
        IntegerGrid("data", 4, 1.0, "up")
    for bits in (1, 0, 2.5, True):
        with pytest.raises(ValueError, match=r"bits must be an integer >= 2 .* got"):
            IntegerGrid("data", bits, 1.0)
    for m in (-1, 1.5, True):
        with pytest.raises(ValueError, match=r"mantissa_bits must be an integer >= 0, got"):
            UnboundedFloat("data", m)
    with pytest.raises(ValueError, match=r"target must be one of"):
        UnboundedFloat("weights", 2)
    with pytest.raises(ValueError, match=r"1 of 2 values are not finite"):
        UnboundedFloat("data", 2).apply(np.array([1.0, np.inf]), np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"scale must be a finite number > 0"):
        IntegerGrid("data", 4, 0.0)
    with pytest.raises(ValueError, match=r"target must be one of"):
        IntegerGrid("weights", 4, 1.0)
    with pytest.raises(ValueError, match=r"repeats must be >= 2"):
        error_moments(IntegerGrid("data", 4, 1.0), np.zeros(3), np.random.default_rng(0), 1)


def _neighbours_by_bit_patterns(fmt, u):
    """Reference: the ml_dtypes cast of |u| and the next bit pattern on the far side of |u|."""
    bits_type = np.uint16 if fmt.dtype.itemsize == 2 else np.uint8
    magnitude = np.abs(u)
    rounded = magnitude.astype(fmt.dtype).astype(np.float64)
    step = np.where(rounded > magnitude, -1, np.where(rounded < magnitude, 1, 0))
    patterns = rounded.astype(fmt.dtype).view(bits_type).astype(np.int64) + step
    other = patterns.astype(bits_type).view(fmt.dtype).astype(np.float64)
    small, large = np.minimum(rounded, other), np.maximum(rounded, other)
    negative = u < 0
    return np.where(negative, -large, small), np.where(negative, -small, large)


@pytest.mark.parametrize("name", FLOAT_FORMATS)
def test_binade_neighbours_are_those_of_the_bit_patterns(name):
    """The fast neighbours (from the binade) coincide with the format's own bit patterns."""
    fmt = FloatFormat("data", name)
    rng = np.random.default_rng(1)
    u = rng.standard_normal(50_000) * 10.0 ** rng.uniform(-7, 2, 50_000)
    u = np.concatenate([u, [0.0, 1.0, -2.0, 2.0**-9, 3 * 2.0**-10, fmt.max_value]])
    u = u[np.abs(u) <= fmt.max_value]
    ours, theirs = fmt.neighbours(u), _neighbours_by_bit_patterns(fmt, u)
    np.testing.assert_array_equal(ours[0], theirs[0])
    np.testing.assert_array_equal(ours[1], theirs[1])


def test_unbounded_float_is_unbiased_with_the_relative_second_moment():
    q = UnboundedFloat("data", 2)
    rng = np.random.default_rng(2)
    u = np.full(200_000, 1.3)
    out = q.apply(u, rng)
    assert set(np.unique(out)) == {1.25, 1.5}
    assert abs(out.mean() - 1.3) < 5 * 0.25 * 0.5 / np.sqrt(u.size)
    assert ((out - u) ** 2).mean() == pytest.approx(0.05 * 0.2, rel=0.02)  # (u - lo)(hi - u)
    # no exponent limits: the same relative spacing far below any format's subnormals
    lo, hi = q.neighbours(np.array([1.3e-60]))
    assert (hi - lo)[0] / 1.3e-60 == pytest.approx(0.25 / 1.3, rel=0.3)


def test_unbounded_float_is_the_format_in_its_normal_range():
    fmt = FloatFormat("data", "float8_e4m3fn")
    u = np.random.default_rng(5).uniform(fmt.smallest_normal, fmt.max_value, 5_000)
    ours = UnboundedFloat("data", fmt.mantissa_bits).neighbours(u)
    np.testing.assert_array_equal(ours[0], fmt.neighbours(u)[0])
    np.testing.assert_array_equal(ours[1], fmt.neighbours(u)[1])


def test_round_to_nearest_on_a_grid_zeroes_every_input_below_half_a_step():
    """The mechanism named in the chapter: RN maps |u| < step/2 to exactly 0, SR does not."""
    grid = IntegerGrid("data", 6, 7.0, "nearest")
    half = grid.step / 2
    u = np.linspace(-half, half, 1001)[1:-1]  # strictly inside (-step/2, step/2)
    rng = np.random.default_rng(6)
    np.testing.assert_array_equal(grid.apply(u, rng), 0.0)
    assert np.all(np.abs(grid.apply(np.array([-1.01, 1.01]) * half, rng)) == grid.step)
    sr = IntegerGrid("data", 6, 7.0, "stochastic").apply(np.full(10_000, half / 2), rng)
    assert np.mean(sr == grid.step) == pytest.approx(0.25, abs=0.02)
