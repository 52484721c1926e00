import dataclasses

import numpy as np
import pytest

from quantheory.cg import graded as gl
from quantheory.cg import iterates as it
from quantheory.cg import iterates_claims as checks
from quantheory.cg import network as nw
from quantheory.cg import quadrature as qd
from quantheory.cg.population import annulus_population, random_weights
from quantheory.cg.surrogates import surrogate_functions

POPULATION = annulus_population(3, 7, 1.0, 2.0, seed=1)
GRADED = nw.check_second_layer(np.kron(np.eye(3), [[0.3, 0.5, 0.7, 0.9]]))
EQUAL = nw.block_second_layer(3, 4, 0.5)
W0 = random_weights((2, 7, 12), np.full(2, 0.3), seed=3)


@pytest.mark.parametrize("name", ["relu", "log_tailed_relu", "reverse_exponential"])
def test_plane_descent_matches_the_full_numpy_descent(name):
    x, y = POPULATION.sample(150, seed=2)
    reference = nw.coarse_gradient_descent(
        W0, x, y, GRADED, 2, surrogate_functions(name, 2)[1], 4.0, 200
    )
    got = it.plane_descent(
        POPULATION, W0, it.plane_coordinates(POPULATION, x, y), GRADED, 2, name, 4.0, 200
    )
    np.testing.assert_allclose(got.w, reference.w, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(got.total_norm[-1], nw.column_norm_sum(reference.w), rtol=1e-6)
    np.testing.assert_array_equal(got.steps_to_zero, reference.steps_to_zero)


def test_plane_descent_stops_at_zero_loss_like_the_numpy_descent():
    x, y = POPULATION.sample(100, seed=2)
    reference = nw.coarse_gradient_descent(
        W0, x, y, EQUAL, 2, surrogate_functions("relu", 2)[1], 4.0, 3000
    )
    got = it.plane_descent(
        POPULATION, W0, it.plane_coordinates(POPULATION, x, y), EQUAL, 2, "relu", 4.0, 3000
    )
    assert reference.converged.all()
    np.testing.assert_array_equal(got.steps_to_zero, reference.steps_to_zero)
    assert np.all(np.diff(got.total_norm[got.steps_to_zero.max() :], axis=0) == 0)


def test_growth_ratio_of_known_curves():
    t = np.arange(1001, dtype=float)[:, None]
    curves = np.hstack([t, np.sqrt(t), np.minimum(t, 100.0)])
    np.testing.assert_allclose(it.growth_ratio(curves), [1.0, np.sqrt(2) - 1, 0.0], atol=1e-3)


def test_growth_ratio_counts_a_late_runaway_as_growing():
    flat_then_growing = np.concatenate([np.ones(51), np.linspace(1, 50, 50)])[:, None]
    assert np.isinf(it.growth_ratio(flat_then_growing)).all()


def test_quadrature_rule_integrates_exactly_what_it_should():
    u = np.random.default_rng(0).standard_normal((2, 12))
    z, mass = qd.plane_rule(u, qd.surrogate_levels("relu", 2), 1.0, 2.0)
    radius = np.linalg.norm(z, axis=1)
    assert mass.sum() == pytest.approx(1.0, abs=1e-12)
    assert np.sum(mass * radius**2) == pytest.approx(2.5, rel=1e-12)  # E|x|^2 = (1 + 4)/2
    assert np.sum(mass * z[:, 0]) == pytest.approx(0.0, abs=1e-12)


def test_quadrature_gradient_matches_a_large_monte_carlo_sample():
    """The population coarse gradient by quadrature against 10^6 uniform inputs
    (an independent code path: NumPy forward pass, no rule), within 6 SE."""
    u = 0.8 * np.random.default_rng(1).standard_normal((2, 12))
    relu = surrogate_functions("relu", 2)[1]

    def gradient(z, mass):
        y = np.zeros(len(z), dtype=int)
        c = nw.sample_coefficients(nw.forward(u, z, y, GRADED, 2), y, GRADED, relu)
        return (c * mass[:, None]).T @ z, c

    exact, _ = gradient(*qd.plane_rule(u, qd.surrogate_levels("relu", 2), 1.0, 2.0))
    rng = np.random.default_rng(2)
    r, phi = np.sqrt(rng.uniform(1, 4, 10**6)), rng.uniform(0, 2 * np.pi, 10**6)
    z = np.stack([r * np.cos(phi), r * np.sin(phi)], axis=1)
    estimate, c = gradient(z, np.full(r.size, 1e-6))
    se = np.sqrt(((c[:, :, None] * z[:, None, :]) ** 2).mean(axis=0) / r.size)
    assert np.max(np.abs(exact - estimate) / np.maximum(se, 1e-12)) < 6


@pytest.fixture(scope="module")
def population_runs():
    return {
        layer: qd.population_descent(POPULATION, W0, v, 2, "relu", 4.0, 1500)
        for layer, v in (("equal", EQUAL), ("graded", GRADED))
    }


@pytest.mark.mutation("cg.thm31_bounded_iterates")
def test_bounded_iterates_claim_fails_when_the_equal_layer_grows(population_runs):
    runs = {(layer, "population"): r.iterates for layer, r in population_runs.items()}
    assert checks.bounded_iterates_claim(runs, "equal", "s").passed
    assert not checks.bounded_iterates_claim(runs, "graded", "s").passed


@pytest.mark.mutation("cg.thm31_perfect")
def test_thm31_claim_fails_on_data_off_the_trained_planes(population_runs):
    layers = {"equal": EQUAL, "graded": GRADED}
    fresh = POPULATION.sample(2000, seed=6)
    assert checks.thm31_claim(population_runs, layers, fresh, 2, "s").passed
    elsewhere = annulus_population(3, 7, 1.0, 2.0, seed=99).sample(2000, seed=6)
    assert not checks.thm31_claim(population_runs, layers, elsewhere, 2, "s").passed
    # a run cut short has not reached zero population loss
    short = {
        "equal": qd.population_descent(POPULATION, W0, EQUAL, 2, "relu", 4.0, 20),
    }
    assert not checks.thm31_claim(short, layers, fresh, 2, "s").passed or not np.all(
        checks.levelled(short["equal"].iterates)
    )


@pytest.mark.mutation("cg.graded_layer_study")
def test_graded_study_claim_fails_when_the_population_levels_off():
    fresh = POPULATION.sample(1000, seed=6)
    study = gl.sample_size_study(POPULATION, W0, GRADED, 2, 4.0, ((300, 2),), 300, seed=4)
    errors = gl.fresh_errors(study, fresh, GRADED, 2)
    assert checks.graded_study_claim(study, errors, fresh[1].size, "s").passed
    equal = gl.sample_size_study(POPULATION, W0, EQUAL, 2, 4.0, ((300, 2),), 300, seed=4)
    equal_errors = gl.fresh_errors(equal, fresh, EQUAL, 2)
    assert not checks.graded_study_claim(equal, equal_errors, fresh[1].size, "s").passed


def test_plane_descent_rejects_bad_arguments():
    with pytest.raises(ValueError, match="w0 must be"):
        it.plane_descent(POPULATION, W0[:, :5], np.zeros((3, 4, 2)), GRADED, 2, "relu", 1.0, 5)
    with pytest.raises(ValueError, match="same number"):
        it.plane_coordinates(POPULATION, np.zeros((3, 7)), np.array([0, 0, 1]))
    with pytest.raises(ValueError, match="u must be"):
        qd.plane_rule(np.zeros((3, 2)), np.array([0.0]), 1.0, 2.0)
    assert dataclasses.is_dataclass(qd.RuleSize())
