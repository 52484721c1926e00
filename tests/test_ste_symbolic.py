import numpy as np
import pytest
import sympy as sp

from quantheory.ste import symbolic as sym


def test_sign_moment_derivation_gives_sqrt_2_over_pi_along_u():
    constant, vector = sym.derive_gauss_sign_moment()
    assert sym.is_identity(constant, sp.sqrt(2 / sp.pi))
    expected = sp.sqrt(2 / sp.pi) * sp.Matrix([sp.cos(sym.a), sp.sin(sym.a)])
    assert sp.simplify(vector - expected) == sp.zeros(2, 1)


def test_disagreement_derivation_is_theta_over_pi():
    assert sym.is_identity(sym.derive_sign_disagreement(), sym.theta / sp.pi)


@pytest.mark.parametrize("m", [1, 2, 4])
def test_population_derivations_match_the_statements(m):
    assert sym.is_identity(sym.derive_population_gradient(m), sym.POPULATION_GRADIENT_STATEMENT)
    assert sym.is_identity(sym.derive_population_loss(m), sym.POPULATION_LOSS_STATEMENT)


def test_is_identity_detects_a_wrong_constant():
    assert not sym.is_identity(sym.derive_sign_disagreement(), sym.theta / (2 * sp.pi))


def test_lambdified_versions_agree_with_hand_written_formulas():
    u = np.array([1.0, -1.0, 1.0, 1.0])
    w = np.array([1.0, 1.0, -1.0, 1.0])
    v = np.array([0.5, -0.2, 0.7])
    vv = v @ v
    np.testing.assert_allclose(
        sym.population_gradient_numeric(u, w, v), np.sqrt(2 / np.pi) * vv * (u - w) / 2.0
    )
    batch = np.stack([u, w])
    assert sym.population_gradient_numeric(batch, w, v).shape == (2, 4)
    assert sym.population_loss_numeric(1.0, v, 0.5) == pytest.approx(2 * vv / np.pi + 0.125)
    np.testing.assert_allclose(sym.disagreement_numeric(np.array([0.0, np.pi])), [0.0, 1.0])
    bound = sym.dynamics_step_bound_numeric(np.array([1.0]), 4, 0.1, v)
    assert bound[0] == np.ceil(1.0 * 2 / (2 * 0.1 * np.sqrt(2 / np.pi) * vv)) + 1


def test_formula_renders_latex_names():
    latex = sym.Formula(sym.POPULATION_LOSS_STATEMENT)._repr_latex_()
    assert r"\|v\|^2" in latex and "vnorm2" not in latex
