import numpy as np
import pytest

from quantheory.ste import model


def test_sign_of_zero_is_plus_one():
    np.testing.assert_array_equal(model.sign(np.array([-2.0, 0.0, 3.0])), [-1.0, 1.0, 1.0])


@pytest.mark.parametrize("shape", model.V_SHAPES)
def test_second_layer_has_requested_norm_and_length(shape):
    v = model.second_layer(16, shape, norm=2.0)
    assert v.shape == (16,)
    assert np.linalg.norm(v) == pytest.approx(2.0)


def test_second_layer_default_is_uniform_one_over_sqrt_m():
    np.testing.assert_allclose(model.second_layer(128), np.full(128, 128**-0.5))


def test_second_layer_errors():
    with pytest.raises(ValueError, match=r"m must be an integer >= 1, got 0"):
        model.second_layer(0)
    with pytest.raises(ValueError, match=r"shape must be one of 'uniform'.*got 'triangle'"):
        model.second_layer(4, "triangle")
    with pytest.raises(ValueError, match=r"norm must be a finite number > 0, got -1"):
        model.second_layer(4, norm=-1)


def test_teacher_problem_validates_its_parts():
    with pytest.raises(ValueError, match=r"w_star must have entries in \{-1, \+1\}, got 0.0"):
        model.TeacherProblem(np.array([1.0, 0.0]), np.ones(3))
    with pytest.raises(ValueError, match=r"v must have at least one non-zero entry"):
        model.TeacherProblem(np.ones(2), np.zeros(3))
    with pytest.raises(ValueError, match=r"noise_std must be a finite number >= 0, got -1"):
        model.TeacherProblem(np.ones(2), np.ones(3), noise_std=-1)
    problem = model.TeacherProblem(np.ones(2), np.ones(3))
    with pytest.raises(ValueError, match=r"u must have length 2, got length 3"):
        problem.check_weights("u", np.ones(3))
    with pytest.raises(ValueError, match=r"n_samples must be an integer >= 1, got 0"):
        problem.sample_inputs(np.random.default_rng(0), 0)


def test_network_output_and_gradient_shapes_and_definition():
    rng = np.random.default_rng(1)
    problem = model.TeacherProblem(rng.choice([-1.0, 1.0], 6), model.second_layer(5), 0.3)
    Z = problem.sample_inputs(rng, 40)
    y = problem.sample_labels(rng, Z)
    u = problem.w_star.copy()
    u[0] *= -1
    f = model.network_output(Z, u, problem.v)
    assert Z.shape == (40, 5, 6) and f.shape == (40,)
    np.testing.assert_allclose(f[3], problem.v @ np.where(Z[3] @ u >= 0, 1, -1))
    g = model.ste_gradient(Z, y, u, problem.v)
    explicit = np.mean([(f[k] - y[k]) * Z[k].T @ problem.v for k in range(40)], axis=0)
    np.testing.assert_allclose(g, explicit)
    np.testing.assert_allclose(model.per_sample_loss(Z, y, u, problem.v), 0.5 * (f - y) ** 2)


def test_noiseless_gradient_vanishes_at_the_teacher():
    rng = np.random.default_rng(2)
    problem = model.TeacherProblem(rng.choice([-1.0, 1.0], 9), model.second_layer(7))
    Z = problem.sample_inputs(rng, 30)
    y = problem.sample_labels(rng, Z)
    assert np.all(model.ste_gradient(Z, y, problem.w_star, problem.v) == 0.0)


def test_angle():
    assert model.angle(np.array([1.0, 0.0]), np.array([0.0, 2.0])) == pytest.approx(np.pi / 2)
    with pytest.raises(ValueError, match=r"non-zero vectors"):
        model.angle(np.zeros(2), np.ones(2))
