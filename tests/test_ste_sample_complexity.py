import dataclasses

import numpy as np
import pytest
from scipy.special import expit

from quantheory.ste import sample_complexity as sc
from quantheory.ste import sample_complexity_claims as checks
from quantheory.ste.model import second_layer
from quantheory.ste.symbolic import population_gradient_numeric

SIZES = np.array(sc.log2_grid(2, 16))


def synthetic_counts(n50s, trials, slope=4.0):
    """Exact expected counts of a logistic curve in log N (no sampling noise)."""
    p = expit(slope * (np.log(SIZES)[None, :] - np.log(np.asarray(n50s))[:, None]))
    return np.round(p * trials).astype(int)


def test_fit_n50_recovers_a_known_transition():
    counts = synthetic_counts([10.0, 40.0], 10_000)
    np.testing.assert_allclose(sc.fit_n50(SIZES, counts, 10_000), [10.0, 40.0], rtol=0.01)


def test_fit_n50_refuses_to_extrapolate():
    with pytest.raises(ValueError, match=r"never crosses 50 %"):
        sc.fit_n50(SIZES, np.zeros((1, SIZES.size), dtype=int), 10)


def test_fit_exponent_recovers_a_known_power_law():
    ns = np.array([8, 12, 20])
    counts = synthetic_counts(2.0 * ns**1.5, 2000)
    fit = sc.fit_exponent(ns, SIZES, counts, 2000, 100, 0)
    assert fit.alpha == pytest.approx(1.5, abs=0.02)
    low, high = fit.alpha_interval()
    assert low <= fit.alpha <= high and fit.alpha_se > 0


def test_all_binary_vectors():
    u = sc.all_binary_vectors(4)
    assert u.shape == (16, 4) and len({tuple(r) for r in u}) == 16
    with pytest.raises(ValueError, match=r"n must be at most 16"):
        sc.all_binary_vectors(17)


@pytest.fixture(scope="module")
def deviation():
    return sc.uniform_deviation(6, 8, (50, 100, 200, 400, 800, 1600), 16, 4)


def test_linf_concentration_passes_with_the_right_rate(deviation):
    claim = checks.linf_concentration_claim(deviation, 200, 1)
    assert claim.passed and "fails above" in claim.margin


@pytest.mark.mutation("ste.linf_concentration")
@pytest.mark.parametrize("wrong", [-1.0, -0.25, 0.0])
def test_linf_concentration_fails_with_a_wrong_rate(deviation, wrong):
    assert not checks.linf_concentration_claim(deviation, 200, 1, exponent=wrong).passed


def scaled_population_gradient(U, w_star, v):
    """A wrong E g(u): the right formula times 1.1."""
    return 1.1 * population_gradient_numeric(U, w_star, v)


@pytest.mark.mutation("ste.linf_concentration")
def test_linf_concentration_fails_when_the_mean_gradient_is_wrong():
    sizes = (200, 800, 3200, 12800)
    wrong = sc.uniform_deviation(6, 8, sizes, 16, 4, expected_gradient=scaled_population_gradient)
    assert not checks.linf_concentration_claim(wrong, 200, 1).passed


@pytest.fixture(scope="module")
def growth():
    return sc.deviation_by_dimension((3, 4, 6, 8), 8, 200, 32, 5)


def test_linf_n_growth_passes_and_the_deviation_grows(growth):
    claim = checks.linf_n_growth_claim(growth, 200, 2)
    assert claim.passed
    fitted, se, _ = checks.deviation_growth_slope(growth, 200, 2)
    assert 0 < fitted < 0.6 and se > 0


@pytest.mark.mutation("ste.linf_n_growth")
def test_linf_n_growth_fails_against_no_growth(growth):
    assert not checks.linf_n_growth_claim(growth, 200, 2, max_exponent=0.0).passed


@pytest.mark.mutation("ste.linf_n_growth")
def test_linf_n_growth_fails_when_the_deviation_grows_like_n(growth):
    """Data side: a deviation that grows a full power of n faster breaks the union bound."""
    faster = dataclasses.replace(growth, deviations=growth.deviations * growth.ns[None, :] ** 1.0)
    assert not checks.linf_n_growth_claim(faster, 200, 2).passed


def test_union_bound_slope_tends_to_one_half():
    assert checks.union_bound_slope(np.array([4, 14])) < 0.5
    assert checks.union_bound_slope(np.array([1000, 2000])) == pytest.approx(0.5, abs=0.01)


def test_deviation_matches_a_direct_computation():
    sample = sc.uniform_deviation(4, 5, (30,), 1, 11)
    rng = np.random.default_rng(np.random.SeedSequence(11))
    w_star = rng.choice([-1.0, 1.0], size=4)
    Z = rng.standard_normal((30, 5, 4))
    v = second_layer(5)
    y = np.where(Z @ w_star >= 0, 1.0, -1.0) @ v
    worst = 0.0
    for u in sc.all_binary_vectors(4):
        g = np.mean(
            [((np.where(Z[k] @ u >= 0, 1, -1) @ v) - y[k]) * Z[k].T @ v for k in range(30)], axis=0
        )
        expected = np.sqrt(2 / np.pi) * (u - w_star) / 2.0
        worst = max(worst, np.abs(g - expected).max())
    assert sample.deviations[0, 0] == pytest.approx(worst)


@pytest.fixture(scope="module")
def small_grid():
    return sc.success_grid([6, 12], sc.log2_grid(2, 12), 12, 200, 7)


def test_grid_counts_are_consistent(small_grid):
    g = small_grid
    assert np.all((0 <= g.ergodic) & (g.ergodic <= g.n_trials))
    assert np.all(g.last_only <= g.last) and np.all(g.last_only_early == 0)
    assert np.all(g.fixed_not_at_star == 0)
    assert g.ergodic[:, -1].min() > g.ergodic[:, 0].max()  # more samples help


WIDE_SIZES = np.array(sc.log2_grid(2, 40))
V = second_layer(128)


def synthetic_grid(n50s, ns, trials=200):
    """A success grid whose rows are exact logistic curves with the given N50s."""
    p = expit(4.0 * (np.log(WIDE_SIZES)[None, :] - np.log(np.asarray(n50s))[:, None]))
    counts = np.round(p * trials).astype(int)
    zeros = counts * 0
    return sc.SuccessGrid(
        np.asarray(ns),
        WIDE_SIZES,
        trials,
        100,
        0.0,
        counts,
        counts,
        zeros,
        counts,
        zeros,
        zeros,
        "synthetic",
    )


def grid_fit(grid):
    return sc.fit_exponent(grid.ns, grid.sample_sizes, grid.ergodic, grid.n_trials, 300, 0)


NS = np.array([10, 20, 40, 80])


def test_budget_intervals_are_wider_than_95_percent():
    fit = grid_fit(synthetic_grid(2.0 * NS**1.5, NS))
    low, high = fit.n50_budget_interval(4)
    assert np.all(low < fit.n50_low) and np.all(high > fit.n50_high)
    assert np.all(low < fit.n50) and np.all(fit.n50 < high)


def test_local_exponents_follow_a_bend():
    n50 = np.where(NS <= 20, 2.0 * NS**1.2, 2.0 * 20**1.2 * (NS / 20.0) ** 1.8)
    local = sc.local_exponents(grid_fit(synthetic_grid(n50, NS)))
    np.testing.assert_allclose(local.slope, [1.2, 1.8, 1.8], atol=0.05)
    assert np.all(local.low <= local.slope) and np.all(local.slope <= local.high)
    np.testing.assert_allclose(local.n_mid, np.sqrt(NS[:-1] * NS[1:]))


def test_phase_transition_claim_passes_below_n2():
    grid = synthetic_grid(2.0 * NS**1.5, NS)
    claim = checks.phase_transition_claim(grid, grid_fit(grid), V)
    assert claim.passed and "fails below 1" in claim.margin


@pytest.mark.mutation("ste.thm1_phase_transition")
def test_phase_transition_claim_fails_with_a_linear_bound():
    grid = synthetic_grid(2.0 * NS**1.5, NS)
    assert not checks.phase_transition_claim(grid, grid_fit(grid), V, exponent=1.0).passed


@pytest.mark.mutation("ste.thm1_phase_transition")
def test_phase_transition_claim_fails_when_n50_grows_faster_than_n2():
    grid = synthetic_grid(0.05 * NS**2.5, NS)
    assert not checks.phase_transition_claim(grid, grid_fit(grid), V).passed


def test_bound_vs_empirical_claim_passes():
    fit = grid_fit(synthetic_grid(2.0 * NS**1.5, NS))
    claim = checks.bound_vs_empirical_claim(fit, V)
    assert claim.passed
    c_min = checks.smallest_constant(fit.ns, fit.n50, V)
    np.testing.assert_allclose(c_min**2 * checks.theorem1_bound(fit.ns, V, 0.0), fit.n50)


@pytest.mark.mutation("ste.thm1_bound_vs_empirical")
def test_bound_vs_empirical_claim_fails_with_a_smaller_constant():
    fit = grid_fit(synthetic_grid(2.0 * NS**1.5, NS))
    assert not checks.bound_vs_empirical_claim(fit, V, constants=(1e-3, 1e-3)).passed


def bound_without_n(ns, v, noise_norm, constants=checks.THEOREM1_CONSTANTS):
    """The bound with the factor n missing."""
    return checks.theorem1_bound(ns, v, noise_norm, constants) / np.asarray(ns, float) ** 2


@pytest.mark.mutation("ste.thm1_bound_vs_empirical")
def test_bound_vs_empirical_claim_fails_without_the_factor_n():
    fit = grid_fit(synthetic_grid(2.0 * NS**1.5, NS))
    assert not checks.bound_vs_empirical_claim(fit, V, bound=bound_without_n).passed


def test_theorem1_bound_formula():
    bound = checks.theorem1_bound(np.array([2]), V, 0.5, (1.0, 2.0))
    l1 = np.abs(V).sum()
    assert bound[0] == pytest.approx((2 * (l1**2 + 2 * 0.5 * l1)) ** 2)


def synthetic_sweep(n50s, trials=64, seed=0):
    """An N50 sweep from exact logistic counts with the given N50s, one per variant."""
    grid = synthetic_grid(n50s, np.arange(len(n50s)) + 1, trials)
    n50, draws = sc.n50_with_samples(WIDE_SIZES, grid.ergodic, trials, 300, seed)
    return sc.sweep_from_samples([grid], n50, draws)


SHAPES = [second_layer(128, "power", exponent=p) for p in (0.0, 1.0, 4.0)]
SHAPE_RATIOS = np.array([np.abs(v).sum() ** 2 for v in SHAPES])


def test_v_shape_claim_passes_when_n50_is_flat():
    claim = checks.v_shape_claim(SHAPES, synthetic_sweep([30.0, 30.0, 30.0]), 20)
    assert claim.passed and claim.kind == "finding"


@pytest.mark.mutation("ste.thm1_v_shape")
def test_v_shape_claim_fails_when_n50_grows_like_the_bound():
    growing = synthetic_sweep(10.0 * (SHAPE_RATIOS / SHAPE_RATIOS.min()) ** 2)
    assert not checks.v_shape_claim(SHAPES, growing, 20).passed


def test_noise_growth_claim_passes_when_n50_grows():
    claim = checks.noise_growth_claim([0.0, 0.5, 1.0], synthetic_sweep([25.0, 70.0, 160.0]), V, 20)
    assert claim.passed and claim.kind == "finding"
    with pytest.raises(ValueError, match="start at 0"):
        checks.noise_growth_claim([0.5, 1.0], synthetic_sweep([25.0, 70.0]), V, 20)


@pytest.mark.mutation("ste.thm1_noise_growth")
def test_noise_growth_claim_fails_without_noise_effect():
    flat = synthetic_sweep([25.0, 25.0, 25.0])
    assert not checks.noise_growth_claim([0.0, 0.5, 1.0], flat, V, 20).passed
