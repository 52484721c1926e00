import dataclasses

import numpy as np
import pytest

from quantheory.cg import digits
from quantheory.cg import digits_claims as checks


@pytest.fixture(scope="module")
def data():
    return digits.load_digits_split(0.25, seed=1)


def test_split_is_standardised_and_stratified(data):
    x_train, _, x_test, y_test = data
    assert x_train.shape[1] == 64 and x_train.shape[0] + x_test.shape[0] == 1797
    np.testing.assert_allclose(x_train.mean(axis=0), 0, atol=1e-12)
    assert set(np.unique(y_test)) == set(range(10))


def test_lloyd_max_step_minimises_the_quantization_error():
    rng = np.random.default_rng(0)
    u = rng.standard_normal(400_000)
    u = u[u > 0]

    def error(tau):
        return np.mean((u - tau * np.clip(np.ceil(u / tau), 0, 3)) ** 2)

    tau = digits.lloyd_max_step(2)
    assert error(tau) < error(0.9 * tau) and error(tau) < error(1.1 * tau)


def test_backward_pass_matches_finite_differences(data):
    assert digits.finite_difference_error(data[0][:32], data[1][:32], 16, 10, seed=2) < 1e-6


def test_finite_differences_catch_a_wrong_batch_norm_backward(data, monkeypatch):
    def no_centring(du, u, var):
        return du / np.sqrt(var + digits.BN_EPS)

    monkeypatch.setattr(digits, "batch_norm_backward", no_centring)
    assert digits.finite_difference_error(data[0][:32], data[1][:32], 16, 10, seed=2) > 1e-3


def test_activation_rejects_unknown_surrogates():
    with pytest.raises(ValueError, match="surrogate"):
        digits.activation("tanh", 2)


def test_quantized_activation_is_tau_times_the_staircase():
    act = digits.activation("relu", 2)
    u = np.array([-1.0, 0.0, 0.5 * act.tau, act.tau, 1.5 * act.tau, 10.0])
    np.testing.assert_allclose(act.forward(u) / act.tau, [0, 0, 1, 1, 2, 3])
    np.testing.assert_array_equal(act.backward(u), [0, 0, 1, 1, 1, 1])


@pytest.fixture(scope="module")
def table(data):
    schedule = digits.Schedule(epochs=4, decay_every=3)
    rows = [(digits.FULL_PRECISION, 32), ("relu", 2)]
    runs = {
        (name, bits): digits.train(
            data, digits.activation(name, None if bits == 32 else bits), 32, 5, schedule, seed=3
        )
        for name, bits in rows
    }
    frozen = digits.train(data, digits.activation(digits.FROZEN_HIDDEN, 2), 32, 5, schedule, 3)
    return runs, frozen


def test_training_is_reproducible(data):
    schedule = digits.Schedule(epochs=1)
    act = digits.activation("relu", 2)
    a = digits.train(data, act, 16, 2, schedule, seed=4)
    b = digits.train(data, act, 16, 2, schedule, seed=4)
    np.testing.assert_array_equal(a.accuracy, b.accuracy)
    np.testing.assert_array_equal(a.weight_norms, b.weight_norms)


@pytest.mark.mutation("cg.table2_digits")
def test_table2_claim_passes_and_fails_for_frozen_hidden_layers(table):
    runs, frozen = table
    assert checks.table2_claim(runs, 3.0, 1e-9, "s").passed
    broken = {**runs, ("relu", 2): frozen}
    assert not checks.table2_claim(broken, 3.0, 1e-9, "s").passed
    assert not checks.table2_claim(runs, 3.0, 1e-3, "s").passed  # backward pass off


@pytest.mark.mutation("cg.fig6_norm_growth")
def test_norm_growth_claim_passes_and_fails_for_shrinking_norms(table):
    runs, _ = table
    assert checks.norm_growth_claim(runs, 0.9, "s").passed
    shrinking = {
        key: dataclasses.replace(run, weight_norms=run.weight_norms[::-1])
        for key, run in runs.items()
    }
    assert not checks.norm_growth_claim(shrinking, 0.9, "s").passed


def test_table_rejects_ragged_rows():
    from quantheory.display import Table

    with pytest.raises(ValueError, match="cells"):
        Table(["a", "b"], [[1]])
    assert "a" in Table(["a"], [[1]]).as_text()
