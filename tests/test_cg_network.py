import numpy as np
import pytest

from quantheory.cg import network as nw
from quantheory.cg import surrogates as sg

RELU_DERIVATIVE = sg.surrogate_functions("relu", 2)[1]


@pytest.mark.parametrize(
    ("v", "message"),
    [
        (np.array([[0.5, 0.0], [0.0, 0.0]]), "Assumption 1.1"),
        (np.array([[0.5, 0.5, 0.0], [0.0, 0.5, 0.5]]), "Assumption 1.2"),
        (np.array([[1.0, 0.0], [0.0, 0.5]]), "Assumption 1.3"),
        (np.array([[-0.1, 0.5], [0.5, 0.0]]), "non-negative"),
        (np.array([[0.5, 0.0, 0.0]]), "n >= 2"),
    ],
)
def test_second_layer_violations_are_named(v, message):
    with pytest.raises(ValueError, match=message):
        nw.check_second_layer(v)


def test_block_second_layer_and_the_v_constants():
    v = nw.block_second_layer(2, 3, 0.5)
    assert v.shape == (2, 6) and v.sum() == 3.0
    np.testing.assert_array_equal(nw.v_hat(v), np.full(6, 0.5))
    np.testing.assert_array_equal(nw.v_tilde(v), np.where(v > 0, 0.5, -0.5))


def test_forward_matches_a_hand_computation():
    v = np.array([[0.5, 0.0], [0.0, 0.5]])
    w = np.array([[2.5, 0.0], [0.0, 0.4]])  # h = (2.5 x1, 0.4 x2)
    x = np.array([[1.0, 1.0], [0.0, 1.0]])
    y = np.array([0, 1])
    state = nw.forward(w, x, y, v, bits=2)
    # sample 0: sigma = (3, 1), o = (1.5, 0.5), margin 1 -> loss 0
    # sample 1: sigma = (0, 1), o = (0, 0.5), margin 0.5 -> loss 0.5
    np.testing.assert_allclose(state.loss, [0.0, 0.5])
    np.testing.assert_array_equal(state.rival, [1, 0])
    np.testing.assert_array_equal(state.predicted, [0, 1])


def reference_gradient(w, x, y, v, bits, derivative):
    """Equation (7) sample by sample, with plain loops."""
    grad = np.zeros_like(w)
    for xs, ys in zip(x, y, strict=True):
        h = xs @ w
        o = v @ sg.quantized_relu(h, bits)
        rivals = [i for i in range(v.shape[0]) if i != ys]
        xi = max(rivals, key=lambda i: o[i])
        if 1 - (o[ys] - o[xi]) > 0:
            for j in range(w.shape[1]):
                grad[:, j] -= (v[ys, j] - v[xi, j]) * derivative(np.array(h[j])) * xs
    return grad / len(x)


@pytest.mark.parametrize("name", sg.ADMISSIBLE)
def test_coarse_gradient_matches_the_per_sample_formula(name):
    rng = np.random.default_rng(1)
    v = nw.check_second_layer(np.kron(np.eye(3), [[0.3, 0.8]]))
    x, y = rng.standard_normal((40, 5)), rng.integers(0, 3, 40)
    w = rng.standard_normal((2, 5, 6))
    derivative = sg.surrogate_functions(name, 2)[1]
    got = nw.coarse_gradient(w, x, y, v, 2, derivative)
    for r in range(2):
        np.testing.assert_allclose(got[r], reference_gradient(w[r], x, y, v, 2, derivative))


def test_descent_runs_are_independent_and_stop_at_zero_loss():
    rng = np.random.default_rng(2)
    v = nw.block_second_layer(2, 4, 0.5)
    x = np.concatenate([rng.normal([2, 0, 0], 0.1, (30, 3)), rng.normal([0, 2, 0], 0.1, (30, 3))])
    y = np.repeat([0, 1], 30)
    w0 = 0.1 * rng.standard_normal((3, 3, 8))
    together = nw.coarse_gradient_descent(w0, x, y, v, 2, RELU_DERIVATIVE, 1.0, 200)
    assert together.converged.all()
    for r in range(3):
        alone = nw.coarse_gradient_descent(w0[r : r + 1], x, y, v, 2, RELU_DERIVATIVE, 1.0, 200)
        np.testing.assert_array_equal(alone.w[0], together.w[r])
        assert alone.steps_to_zero[0] == together.steps_to_zero[r]
        assert not np.any(nw.forward(together.w[r], x, y, v, 2).loss > 0)
    per_run = np.broadcast_to(x, (3, *x.shape))
    batched = nw.coarse_gradient_descent(w0, per_run, y, v, 2, RELU_DERIVATIVE, 1.0, 200)
    np.testing.assert_array_equal(batched.w, together.w)


def test_descent_rejects_bad_arguments():
    v = nw.block_second_layer(2, 1)
    x, y = np.ones((4, 3)), np.array([0, 1, 0, 1])
    with pytest.raises(ValueError, match="w0 must be"):
        nw.coarse_gradient_descent(np.ones((1, 2, 2)), x, y, v, 2, RELU_DERIVATIVE, 1.0, 5)
    with pytest.raises(ValueError, match="eta"):
        nw.coarse_gradient_descent(np.ones((1, 3, 2)), x, y, v, 2, RELU_DERIVATIVE, -1.0, 5)
    with pytest.raises(ValueError, match="integer labels"):
        nw.coarse_gradient(np.ones((3, 2)), x, np.array([0, 1, 2, 0]), v, 2, RELU_DERIVATIVE)


def test_column_norm_sum():
    w = np.array([[3.0, 0.0], [4.0, 1.0]])
    assert nw.column_norm_sum(w) == 6.0
