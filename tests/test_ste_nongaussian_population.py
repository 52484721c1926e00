import dataclasses

import numpy as np
import pytest
from scipy import special

from quantheory import stats
from quantheory.ste import nongaussian_population as npop
from quantheory.ste.model import second_layer
from quantheory.ste.symbolic import population_gradient_numeric

SETTINGS = [
    npop.ShiftedSetting(1.0, 6, 8, "ones"),
    npop.ShiftedSetting(2.0, 6, 8, "random"),
    npop.ShiftedSetting(1.0, 6, 8, "teacher"),
    npop.ShiftedSetting(1.5, 6, 8, "random", "linear"),
    npop.ShiftedSetting(1.0, 6, 8, "ones", "alternating"),
]
LIMIT = npop.LimitSetting(mu=3.0, n=8, m=8, n_steps=100, n_samples=3000, v_shape="linear")


@pytest.fixture(scope="module")
def samples():
    return npop.shifted_gradient_experiment(SETTINGS, 20_000, 4)


@pytest.fixture(scope="module")
def comparison():
    return [npop.compare_with_population(LIMIT, 160, 6)]


def test_settings_compared_in_one_sweep_equal_each_setting_compared_alone():
    settings = [
        npop.LimitSetting(mu=3.0, n=6, m=8, n_steps=30, n_samples=200),
        npop.LimitSetting(mu=2.0, n=6, m=8, n_steps=30, n_samples=200, v_shape="linear"),
    ]
    trials = npop.BATCH_TRIALS + 10
    together = npop.compare_settings_with_population(settings, trials, [6, 7])
    alone = [npop.compare_with_population(settings[0], trials, 6)]
    alone += [npop.compare_with_population(settings[1], trials, 7)]
    for a, b in zip(together, alone, strict=True):
        for field in dataclasses.fields(a):
            assert np.array_equal(getattr(a, field.name), getattr(b, field.name)), field.name
    assert together[0].trials == together[0].hitting_times.size == trials
    with pytest.raises(ValueError, match="one seed per setting"):
        npop.compare_settings_with_population(settings, trials, [6])


def test_sympy_derivation_gives_the_stated_formula():
    assert npop.formula_is_derived()


def test_formula_reduces_to_the_gaussian_theorem_at_zero_shift():
    rng = np.random.default_rng(0)
    U = rng.choice([-1.0, 1.0], size=(5, 9))
    w = rng.choice([-1.0, 1.0], size=9)
    v = second_layer(12)
    np.testing.assert_allclose(
        npop.population_gradient_shifted(U, w, v, 0.0), population_gradient_numeric(U, w, v)
    )
    np.testing.assert_array_equal(npop.population_gradient_shifted(w, w, v, 1.5), 0.0)


def test_the_full_sign_flip_of_mu_is_a_symmetry():
    rng = np.random.default_rng(1)
    U = rng.choice([-1.0, 1.0], size=(4, 7))
    w, v = rng.choice([-1.0, 1.0], size=7), second_layer(5)
    np.testing.assert_allclose(
        npop.population_gradient_shifted(U, w, v, 1.3),
        npop.population_gradient_shifted(U, w, v, -1.3),
    )


def test_monte_carlo_agrees_and_the_claim_passes(samples, comparison):
    assert npop.gradient_z_scores(samples).max() < 5
    claim = npop.nongaussian_population_claim(True, samples, comparison)
    assert claim.passed, claim.as_text()


def _mean_part(U, w, v, mu):
    n = U.shape[1]
    return mu * (
        special.erf(mu * U.sum(1) / np.sqrt(2 * n)) - special.erf(mu * w.sum() / np.sqrt(2 * n))
    )


def without_cross_rows(U, w, v, mu):
    """The formula with the m^2 - m cross-row pairs dropped."""
    U = np.atleast_2d(U)
    cross = (v.sum() ** 2 - v @ v) * _mean_part(U, w, v, mu)
    return npop.population_gradient_shifted(U, w, v, mu) - cross[:, None]


def mean_sign_flipped(U, w, v, mu):
    """A sign error in the mean E z = mu 1 (the CDF part kept at +mu)."""
    U = np.atleast_2d(U)
    mean = v.sum() ** 2 * _mean_part(U, w, v, mu)
    return npop.population_gradient_shifted(U, w, v, mu) - 2 * mean[:, None]


@pytest.mark.mutation("ste.nongaussian_population")
@pytest.mark.parametrize("wrong", [without_cross_rows, mean_sign_flipped])
def test_wrong_formulas_fail_the_monte_carlo_part(samples, comparison, wrong):
    assert npop.gradient_z_scores(samples, wrong).max() > 100
    assert not npop.nongaussian_population_claim(True, samples, comparison, wrong).passed


def z_limit(samples):
    return stats.z_threshold(sum(s.setting.n for s in samples))


@pytest.mark.mutation("ste.nongaussian_population")
@pytest.mark.parametrize("name", sorted(npop.NEAR_MISSES))
def test_near_miss_formulas_fail_the_monte_carlo_part(samples, comparison, name):
    """Formulas a little off: the cross pairs weighted (sum v)^2 (not (sum v)^2 - |v|^2),
    or kappa = mu S / sqrt(n + 1). The Monte Carlo z must reject them."""
    wrong = npop.NEAR_MISSES[name]
    z = npop.gradient_z_scores(samples, wrong).max()
    assert z_limit(samples) < z < 1000
    claim = npop.nongaussian_population_claim(True, samples, comparison, wrong)
    assert not claim.passed and "(z), fails above" in claim.margin


def test_near_misses_are_near():
    """Each near miss differs from the stated formula, by little where it is meant to."""
    rng = np.random.default_rng(3)
    U, w, v = (
        rng.choice([-1.0, 1.0], size=(4, 20)),
        rng.choice([-1.0, 1.0], size=20),
        second_layer(128),
    )
    right = npop.population_gradient_shifted(U, w, v, 1.0)
    for wrong in npop.NEAR_MISSES.values():
        gap = np.abs(wrong(U, w, v, 1.0) - right).max()
        assert 0 < gap < 0.2 * np.abs(right).max()


def test_monte_carlo_points_without_power_fail(samples, comparison):
    """Only the u = w* and alternating-v points: they cannot reject the near misses."""
    weak = [
        s for s in samples if s.setting.which == "teacher" or s.setting.v_shape == "alternating"
    ]
    claim = npop.nongaussian_population_claim(True, weak, comparison)
    assert not claim.passed and "power against the near miss" in claim.margin


def test_limits_elsewhere_than_w_star_are_tested(comparison):
    c = comparison[0]
    assert c.trials - c.predicted_star >= 20  # teachers whose predicted limit is not w*
    assert c.agree_elsewhere <= c.trials - c.predicted_star
    assert 0 <= c.elsewhere_constant <= c.trials - c.predicted_star


def test_alternating_v_removes_the_part_along_ones():
    """With sum_a v_a = 0 only the damped part along u - w* is left."""
    rng = np.random.default_rng(2)
    U, w = rng.choice([-1.0, 1.0], size=(3, 7)), rng.choice([-1.0, 1.0], size=7)
    v = second_layer(8, "alternating")
    assert abs(v.sum()) < 1e-12
    k_u, k_w = 1.3 * U.sum(1) / np.sqrt(7), 1.3 * w.sum() / np.sqrt(7)
    density = lambda k: np.exp(-(k**2) / 2) / np.sqrt(2 * np.pi)  # noqa: E731
    expected = 2 / np.sqrt(7) * (density(k_u)[:, None] * U - density(k_w) * w)
    np.testing.assert_allclose(npop.population_gradient_shifted(U, w, v, 1.3), expected, atol=1e-12)


@pytest.mark.mutation("ste.nongaussian_population")
def test_a_wrong_predicted_limit_fails_the_large_n_part(samples):
    """The population path driven by the sign-flipped formula predicts another limit."""
    wrong = [npop.compare_with_population(LIMIT, 160, 6, mean_sign_flipped)]
    assert wrong[0].agree_last < 80
    # the Monte Carlo part is checked with the right formula: only the limit fails
    claim = npop.nongaussian_population_claim(True, samples, wrong)
    assert not claim.passed and "0.75" in claim.margin


@pytest.mark.mutation("ste.nongaussian_population")
def test_a_wrong_limit_elsewhere_fails_the_informative_part(samples, comparison):
    """Where the predicted limit is not w*: a formula whose shift has the wrong sign in
    the Gaussian CDF part predicts other vectors there."""
    right = comparison[0]
    wrong = npop.compare_with_population(LIMIT, 160, 6, mean_sign_flipped)
    assert wrong.agree_elsewhere < (wrong.trials - wrong.predicted_star) / 2
    assert right.agree_elsewhere > (right.trials - right.predicted_star) / 2
    claim = npop.nongaussian_population_claim(True, samples, [wrong])
    assert not claim.passed and "elsewhere" in claim.margin


def test_population_path_reaches_the_teacher_at_once_without_shift():
    w = np.array([1.0, -1.0, -1.0, 1.0, 1.0])
    path = npop.population_path(w, second_layer(4), 0.0, 10)
    assert path.hitting_time == 1
    np.testing.assert_array_equal(path.ergodic, w)


def test_argument_errors():
    with pytest.raises(ValueError, match=r"w_star must have shape \(3,\)"):
        npop.population_gradient_shifted(np.ones((2, 3)), np.ones(4), np.ones(2), 1.0)
    with pytest.raises(ValueError, match=r"n_steps must be an integer >= 1"):
        npop.population_path(np.ones(3), np.ones(2), 1.0, 0)


def test_hitting_time_figure_draws(comparison):
    assert npop.plot_hitting_times(comparison).axes
