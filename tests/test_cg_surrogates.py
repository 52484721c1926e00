import numpy as np
import pytest
import sympy as sp

from quantheory.cg import annulus
from quantheory.cg import claims as checks
from quantheory.cg import iterates as it
from quantheory.cg import surrogates as sg


def test_quantized_relu_values_at_and_between_the_jumps():
    x = np.array([-2.0, 0.0, 1e-9, 1.0, 1.5, 2.0, 3.0, 7.0])
    np.testing.assert_array_equal(sg.quantized_relu(x, 2), [0, 0, 1, 1, 2, 2, 3, 3])
    np.testing.assert_array_equal(sg.staircase(x, 2), [0, 0, 1, 1, 2, 2, 3, 3])


def test_sigma_staircase_claim_passes():
    assert checks.sigma_staircase_claim().passed


@pytest.mark.mutation("cg.sigma_staircase")
@pytest.mark.parametrize(
    "wrong",
    [
        lambda v, b: np.clip(np.floor(v), 0, sg.max_level(b)),  # floor instead of ceil
        lambda v, b: np.sum(np.asarray(v)[..., None] >= np.arange(sg.max_level(b)), axis=-1),
        lambda v, b: np.clip(np.ceil(v), 0, 2**b),  # wrong top level
    ],
)
def test_sigma_staircase_claim_fails_for_a_wrong_sigma(wrong):
    assert not checks.sigma_staircase_claim(sigma=wrong).passed


def test_assumption2_claim_passes_and_reports_the_derived_constants():
    claim, derived = checks.assumption2_claim(2, 10.0)
    assert claim.passed
    assert derived["reverse_exponential"].delta == sp.exp(sp.Rational(-10, 3))
    assert derived["log_tailed_relu"].delta == sp.Rational(1, 8)
    assert not derived["clipped_relu"].satisfied and not derived["identity"].satisfied


@pytest.mark.mutation("cg.assumption2_constants")
def test_assumption2_claim_fails_for_a_wrong_stated_constant():
    wrong = {
        **checks.STATED_CONSTANTS,
        "reverse_exponential": lambda q, b: (sp.exp(-b), sp.Integer(1)),
    }
    claim, _ = checks.assumption2_claim(2, 10.0, stated=wrong)
    assert not claim.passed


def test_reverse_exponential_needs_a_bounded_range():
    near = sg.check_assumption2("reverse_exponential", 2, 10.0).delta
    far = sg.check_assumption2("reverse_exponential", 2, 1000.0).delta
    assert float(far) < float(near) and float(far) < 1e-100


def test_lambdified_surrogates_match_their_definitions():
    g, dg = sg.surrogate_functions("log_tailed_relu", 2)
    x = np.array([-1.0, 0.5, 3.0, 5.0])
    np.testing.assert_allclose(g(x), [0, 0.5, 3, 3 + np.log(3)])
    np.testing.assert_allclose(dg(x), [0, 1, 1, 1 / 3])


@pytest.mark.mutation("cg.Cp_annulus")
def test_cp_claim_passes_and_fails_for_the_through_centre_formula():
    assert checks.cp_annulus_claim([(1.0, 2.0)]).passed
    wrong = 2 / (sp.pi * (annulus.outer + annulus.inner))  # the line through the centre
    assert not checks.cp_annulus_claim([(1.0, 2.0)], wrong).passed


def test_errors():
    with pytest.raises(ValueError, match=r"bits must be an integer >= 1, got 0"):
        sg.max_level(0)
    with pytest.raises(ValueError, match=r"name must be one of 'relu'.*got 'tanh'"):
        sg.surrogate_expression("tanh", 2)
    with pytest.raises(ValueError, match=r"inner_radius must be below outer_radius"):
        annulus.line_integrals(2.0, 1.0, np.array([0.0]))


@pytest.mark.parametrize("name", sg.ALL_SURROGATES)
def test_numpy_surrogates_equal_sympys_own_lambdify(name):
    grid = np.concatenate([np.linspace(-2, 12, 2801), [0.0, 1.0, 3.0]])
    expr = sg.surrogate_expression(name, 2)
    for ours, symbolic in zip(
        sg.surrogate_functions(name, 2), (expr, sp.diff(expr, sg.x)), strict=True
    ):
        reference = sp.lambdify(sg.x, symbolic, modules="numpy")
        with np.errstate(divide="ignore", invalid="ignore"):
            expected = np.asarray(reference(grid), dtype=float) * np.ones_like(grid)
        np.testing.assert_allclose(ours(grid), expected, rtol=1e-14, atol=0)


def _chord_missing_the_hole_on_both_sides():
    """A wrong chord for lines through the hole: it adds the hole's chord, so it
    shrinks on (0, m_x) while its value at d = m_x (and so C_p) is unchanged."""
    d, m_x, big = annulus.d, annulus.inner, annulus.outer
    through = 2 * (sp.sqrt(big**2 - d**2) + sp.sqrt(m_x**2 - d**2))
    return sp.Piecewise((through, d < m_x), (2 * sp.sqrt(big**2 - d**2), True))


@pytest.mark.mutation("cg.Cp_annulus")
def test_cp_claim_fails_when_the_chord_does_not_rise_towards_the_hole(monkeypatch):
    monkeypatch.setattr(annulus, "chord_length", _chord_missing_the_hole_on_both_sides)
    claim = checks.cp_annulus_claim([(1.0, 2.0)])
    assert not claim.passed
    assert claim.measured["SymPy derivation equals statement"]  # only the signs catch it
    assert not claim.measured["(1, 2): chord rises on (0, m_x)"]


@pytest.mark.mutation("cg.assumption2_constants")
def test_assumption2_claim_fails_for_the_two_slope_ramp_stated_with_delta_one():
    wrong = {**checks.STATED_CONSTANTS, sg.TWO_SLOPE: lambda q, b: (sp.Integer(1), sp.Integer(1))}
    claim, _ = checks.assumption2_claim(2, 10.0, stated=wrong)
    assert not claim.passed


def test_two_slope_constants_and_the_compiled_copy_of_its_derivative():
    check = sg.check_assumption2(sg.TWO_SLOPE, 2, 10.0)
    assert (check.delta, check.delta_tilde) == (sp.Rational(1, 2), sp.Rational(3, 2))
    assert check.satisfied
    code, breaks, slopes = it.surrogate_code(sg.TWO_SLOPE, 2)
    grid = np.concatenate([np.linspace(-1, 6, 701), [1.0, 3.0]])
    compiled = [it._derivative(h, code, breaks, slopes) for h in grid]
    np.testing.assert_array_equal(sg.surrogate_functions(sg.TWO_SLOPE, 2)[1](grid), compiled)


def test_slope_signs_rejects_bad_radii():
    with pytest.raises(ValueError, match=r"inner_radius must be below outer_radius"):
        annulus.slope_signs(2.0, 1.0)


@pytest.mark.mutation("cg.sigma_staircase")
@pytest.mark.parametrize("wrong_level", [lambda b: 2**b, lambda b: 2 ** (b + 1) - 1])
def test_sigma_staircase_claim_fails_for_a_wrong_largest_level(monkeypatch, wrong_level):
    """A wrong q_b feeds both sigma and the staircase; only the literal levels catch it."""
    monkeypatch.setattr(sg, "max_level", wrong_level)
    claim = checks.sigma_staircase_claim()
    assert claim.measured["largest |sigma - staircase|"] == 0.0
    assert not claim.passed


@pytest.mark.mutation("cg.assumption2_constants")
def test_assumption2_claim_fails_for_the_infimum_over_the_whole_half_line(monkeypatch):
    """Taking inf g' over (0, inf) instead of (0, B] loses the reverse exponential's and
    the log-tailed ReLU's delta > 0: a wrong derivation, the stated constants unchanged."""
    monkeypatch.setattr(sg, "derivative_window", lambda bound: sp.Interval.open(0, sp.oo))
    claim, derived = checks.assumption2_claim(2, 10.0, grid_points=1_001)
    assert not claim.passed
    assert derived["reverse_exponential"].delta == 0


def test_scaled_relu_constants():
    check = sg.check_assumption2(sg.SCALED_RELU, 2, 10.0)
    assert check.delta == sg.SCALE and check.delta_tilde == sg.SCALE and check.satisfied
