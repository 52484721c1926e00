import numpy as np
import pytest

from quantheory.cg import digits
from quantheory.cg import digits_claims as checks
from quantheory.display import Table


@pytest.fixture(scope="module")
def splits():
    return digits.load_digits_splits(6, 0.2, seed=1)


def test_splits_are_standardised_stratified_and_distinct(splits):
    assert splits.x.shape == (6, 1797, 64) and splits.count == 6
    assert splits.train.shape[1] + splits.test.shape[1] == 1797
    for s in range(splits.count):
        np.testing.assert_allclose(splits.x[s, splits.train[s]].mean(axis=0), 0, atol=1e-12)
        assert not set(splits.train[s]) & set(splits.test[s])
        counts = np.bincount(splits.y[splits.test[s]], minlength=10)
        assert counts.min() >= 35  # stratified: every class about a tenth of 360
    assert not np.array_equal(np.sort(splits.test[0]), np.sort(splits.test[1]))


def test_lloyd_max_step_minimises_the_quantization_error():
    rng = np.random.default_rng(0)
    u = rng.standard_normal(400_000)
    u = u[u > 0]

    def error(tau):
        return np.mean((u - tau * np.clip(np.ceil(u / tau), 0, 3)) ** 2)

    tau = digits.lloyd_max_step(2)
    assert error(tau) < error(0.9 * tau) and error(tau) < error(1.1 * tau)


def test_clipped_window_share_matches_sampling():
    u = np.random.default_rng(1).standard_normal(400_000)
    share = np.mean(u[u > 0] <= 0.5)
    assert abs(checks.clipped_window_share(0.5) - share) < 0.005


@pytest.mark.parametrize("normalise", [True, False])
def test_backward_pass_matches_finite_differences(splits, normalise):
    x, y = splits.x[0, splits.train[0, :32]], splits.y[splits.train[0, :32]]
    assert digits.finite_difference_error(x, y, 16, 10, seed=2, normalise=normalise) < 1e-6


def test_finite_differences_catch_a_wrong_batch_norm_backward(splits, monkeypatch):
    def no_centring(du, u, var):
        return du / np.sqrt(var + digits.BN_EPS)

    monkeypatch.setattr(digits, "batch_norm_backward", no_centring)
    x, y = splits.x[0, splits.train[0, :32]], splits.y[splits.train[0, :32]]
    assert digits.finite_difference_error(x, y, 16, 10, seed=2) > 1e-3


def test_activation_rejects_unknown_surrogates():
    with pytest.raises(ValueError, match="surrogate"):
        digits.activation("tanh", 2)


def test_quantized_activation_is_tau_times_the_staircase():
    act = digits.activation("relu", 2)
    u = np.array([-1.0, 0.0, 0.5 * act.tau, act.tau, 1.5 * act.tau, 10.0])
    np.testing.assert_allclose(act.forward(u) / act.tau, [0, 0, 1, 1, 2, 3])
    np.testing.assert_array_equal(act.backward(u), [0, 0, 1, 1, 1, 1])
    clipped = digits.activation("clipped_relu", 2)
    np.testing.assert_array_equal(clipped.backward(u), [0, 0, 1, 1, 0, 0])
    np.testing.assert_array_equal(digits.activation("identity", 2).backward(u), np.ones(6))


def test_schedule_rates():
    np.testing.assert_allclose(digits.Schedule(4, decay_every=2).rates(), [0.1, 0.1, 0.01, 0.01])
    np.testing.assert_allclose(digits.Schedule(3, decay_every=None).rates(), [0.1] * 3)


def test_training_is_reproducible_and_paired_across_schedules(splits):
    act = digits.activation("relu", 2)
    step = digits.Schedule(epochs=2, decay_every=1)
    a = digits.train(splits, act, 16, step, seed=4)
    b = digits.train(splits, act, 16, step, seed=4)
    np.testing.assert_array_equal(a.accuracy, b.accuracy)
    np.testing.assert_array_equal(a.weight_norms, b.weight_norms)
    constant = digits.train(splits, act, 16, digits.Schedule(epochs=2, decay_every=None), seed=4)
    np.testing.assert_array_equal(constant.weight_norms[:2], a.weight_norms[:2])
    assert not np.array_equal(constant.weight_norms[2], a.weight_norms[2])


def test_paired_difference_interval_is_the_corrected_resampled_t():
    from quantheory import stats

    a = np.array([0.9, 0.95, 0.92, 0.94])
    b = np.array([0.89, 0.93, 0.92, 0.91])
    diff = 100 * (a - b)
    ratio = 0.25  # n_test / n_train
    d = checks.paired_difference(a, b, ratio, comparisons=2)
    # Nadeau and Bengio: variance s^2 (1/J + n_test/n_train), not s^2/J
    half = stats.t_threshold(3, 2) * diff.std(ddof=1) * np.sqrt(1 / 4 + ratio)
    assert d.mean == pytest.approx(diff.mean())
    assert d.high - d.mean == pytest.approx(half)
    plain = checks.paired_difference(a, b, 0.0, comparisons=2)
    assert (d.high - d.low) / (plain.high - plain.low) == pytest.approx(np.sqrt(1 + 4 * ratio))
    with pytest.raises(ValueError, match="at least 2 splits"):
        checks.paired_difference(a[:1], b[:1], ratio, 1)
    with pytest.raises(ValueError, match="test_train_ratio"):
        checks.paired_difference(a, b, -1.0, 1)


def test_runs_carry_their_splits_test_train_ratio():
    splits = digits.load_digits_splits(2, 0.2, seed=1)
    run = digits.train(splits, digits.activation("relu", 2), 8, digits.Schedule(epochs=1), seed=2)
    assert run.test_train_ratio == pytest.approx(splits.test.shape[1] / splits.train.shape[1])


def test_table_rejects_ragged_rows():
    with pytest.raises(ValueError, match="cells"):
        Table(["a", "b"], [[1]])
    assert "a" in Table(["a"], [[1]]).as_text()


def test_forward_mode_matches_finite_differences_for_full_precision(splits):
    x, y = splits.x[0, splits.train[0, :32]], splits.y[splits.train[0, :32]]
    net = digits.init_network(1, (64, 16, 16, 10), seed=3)
    weights = [w[0] for w in net.weights]
    rng = np.random.default_rng(4)
    direction = [rng.standard_normal(w.shape) for w in weights[:-1]]
    act = digits.Activation(digits.FULL_PRECISION)

    def loss(step):
        moved = [w + step * d for w, d in zip(weights[:-1], direction, strict=True)]
        shifted = digits.Network([w[None] for w in [*moved, weights[-1]]], net.bias, [])
        return digits.cross_entropy(digits.forward(shifted, x[None], act, True).logits, y[None])[0]

    numeric = float((loss(1e-6) - loss(-1e-6))[0] / 2e-6)
    slope = digits.reference_slope(digits.FULL_PRECISION, 32)
    (exact,) = digits.forward_mode_derivatives(
        weights, net.bias[0], x, y, act.forward, slope, [direction]
    )
    assert exact == pytest.approx(numeric, rel=1e-6)


def test_reference_slope_is_the_surrogates_derivative_at_u_over_tau():
    tau = digits.lloyd_max_step(2)
    u = np.array([-0.5, 0.2, 2.0])
    np.testing.assert_allclose(
        digits.reference_slope("reverse_exponential", 2)(u),
        np.where(u > 0, np.exp(-u / tau / 3), 0),
    )
    np.testing.assert_array_equal(digits.reference_slope(digits.FROZEN_HIDDEN, 2)(u), 0)
    np.testing.assert_array_equal(digits.reference_slope(digits.FULL_PRECISION, 32)(u), [0, 1, 1])
