import numpy as np
import pytest
from scipy.special import expit

from quantheory.ste import last_iterate_claims as last_checks
from quantheory.ste import sample_complexity as sc
from quantheory.ste import sample_complexity_claims as checks
from quantheory.ste.engine import sample_trials
from quantheory.ste.model import second_layer

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
    return sc.uniform_deviation(6, 8, (50, 100, 200, 400, 800, 1600), 8, 4)


def test_linf_concentration_passes_with_the_right_rate(deviation):
    assert checks.linf_concentration_claim(deviation, 200, 1).passed


@pytest.mark.parametrize("wrong", [-1.0, -0.25, 0.0])
def test_linf_concentration_fails_with_a_wrong_rate(deviation, wrong):
    assert not checks.linf_concentration_claim(deviation, 200, 1, exponent=wrong).passed


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


def test_phase_transition_claim_and_its_mutation():
    ns = np.array([8, 12, 20])
    counts = synthetic_counts(2.0 * ns**1.5, 200)
    grid = sc.SuccessGrid(
        ns,
        SIZES,
        200,
        100,
        0.0,
        counts,
        counts,
        counts * 0,
        counts,
        counts * 0,
        counts * 0,
        "synthetic",
    )
    fit = sc.fit_exponent(ns, SIZES, counts, 200, 200, 0)
    assert checks.phase_transition_claim(grid, fit).passed
    assert not checks.phase_transition_claim(grid, fit, max_exponent=1.0).passed


def test_bound_vs_empirical_claim_and_its_mutation():
    ns = np.array([8, 12, 20])
    fit = sc.fit_exponent(ns, SIZES, synthetic_counts(2.0 * ns**1.5, 200), 200, 100, 0)
    v = second_layer(128)
    assert checks.bound_vs_empirical_claim(fit, v, {"128": 20.0}, {0.0: 20.0}).passed
    tiny = checks.bound_vs_empirical_claim(fit, v, {}, {}, constants=(1e-4, 1e-4))
    assert not tiny.passed
    bound = checks.theorem1_bound(np.array([2]), v, 0.5, (1.0, 2.0))
    l1 = np.abs(v).sum()
    assert bound[0] == pytest.approx((2 * (l1**2 + 2 * 0.5 * l1)) ** 2)


def test_last_iterate_claim_passes_and_detects_violations(small_grid):
    clean = [sample_trials(6, 10, 5, 1)]
    assert last_checks.last_iterate_claim(small_grid, clean, 20).passed
    noisy = [sample_trials(6, 10, 5, 1, noise_std=0.5)]
    assert last_checks.absorbing_violations(noisy[0], 20) == 5
    assert not last_checks.last_iterate_claim(small_grid, noisy, 20).passed
    early = small_grid.last_only_early.copy()
    early[0, 0] = 1
    broken = sc.SuccessGrid(**{**small_grid.__dict__, "last_only_early": early})
    assert not last_checks.last_iterate_claim(broken, clean, 20).passed
