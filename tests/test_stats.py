import numpy as np
import pytest

from quantheory import stats


def test_error_budget_threshold_is_at_least_five_sigma_and_grows_with_comparisons():
    assert stats.z_threshold(1) >= 5
    assert stats.z_threshold(100) > stats.z_threshold(1)
    # the shares add up to the book's budget
    k = 37
    assert stats.comparison_alpha(k) * k * stats.STATISTICAL_CLAIMS_IN_BOOK == pytest.approx(
        stats.BOOK_FAILURE_PROBABILITY
    )


def test_wilson_interval_known_value_and_edges():
    low, high = stats.wilson_interval(50, 100, 0.05)
    assert low == pytest.approx(0.4038, abs=1e-4)
    assert high == pytest.approx(0.5962, abs=1e-4)
    low0, high0 = stats.wilson_interval(0, 100, 0.05)
    assert low0 == pytest.approx(0.0, abs=1e-12) and 0 < high0 < 0.05


def test_wilson_interval_errors():
    with pytest.raises(ValueError, match=r"need 0 <= successes <= trials"):
        stats.wilson_interval(5, 3)
    with pytest.raises(ValueError, match=r"alpha must lie in \(0, 1\), got 1.5"):
        stats.wilson_interval(1, 3, 1.5)


def test_pooled_mean_matches_direct_estimate():
    x = np.random.default_rng(0).standard_normal((1000, 3))
    direct = stats.mean_estimate(x)
    pooled = stats.pooled_mean_estimate(x.sum(0), (x**2).sum(0), 1000)
    np.testing.assert_allclose(pooled.mean, direct.mean)
    np.testing.assert_allclose(pooled.se, direct.se)
    low, high = direct.interval(0.95)
    np.testing.assert_allclose(high - low, 2 * 1.959964 * direct.se, rtol=1e-5)


def test_mean_estimate_needs_two_samples():
    with pytest.raises(ValueError, match=r"at least 2 entries"):
        stats.mean_estimate(np.ones((1, 3)))
    with pytest.raises(ValueError, match=r"n must be at least 2"):
        stats.pooled_mean_estimate(1.0, 1.0, 1)


def test_t_threshold_is_wider_than_normal_for_few_replicates():
    assert stats.t_threshold(15) > 1.9 * stats.z_threshold()
    assert stats.t_threshold(100_000) == pytest.approx(stats.z_threshold(), rel=1e-3)
    assert stats.t_threshold(15, 4) > stats.t_threshold(15, 1)
    with pytest.raises(ValueError, match="dof"):
        stats.t_threshold(0)


def test_budget_wilson_interval_is_wider_than_95_percent_and_exact_at_the_ends():
    low, high = stats.budget_wilson_interval(40, 80)
    low95, high95 = stats.wilson_interval(40, 80)
    assert low < low95 and high > high95
    assert stats.wilson_interval(0, 50)[0] == 0.0
    assert stats.wilson_interval(50, 50)[1] == 1.0


def test_margin_text():
    assert stats.margin(2.5, 5.9) == "2.5 SE, fails above 5.9 (3.4 to spare)"
    assert (
        stats.margin(1.27, 1.0, unit="", passes_below=False)
        == "1.27, fails below 1 (0.27 to spare)"
    )


def test_budget_t_interval_uses_the_t_quantile():
    samples = np.array([1.0, 2.0, 3.0, 4.0])
    mean, low, high = stats.budget_t_interval(samples, 2)
    half = stats.t_threshold(3, 2) * samples.std(ddof=1) / 2
    assert mean == 2.5 and low == pytest.approx(2.5 - half) and high == pytest.approx(2.5 + half)
    with pytest.raises(ValueError, match="at least 2 replicates"):
        stats.budget_t_interval(np.array([1.0]))
