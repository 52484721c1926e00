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
from quantheory.stats import budget_wilson_interval

POPULATION = annulus_population(3, 7, 1.0, 2.0, seed=1)
GRADED = nw.check_second_layer(np.kron(np.eye(3), [[0.3, 0.5, 0.7, 0.9]]))
EQUAL = nw.block_second_layer(3, 4, 0.5)
W0 = random_weights((2, 7, 12), np.full(2, 0.3), seed=3)


@pytest.mark.parametrize("name", it.COMPILED_SURROGATES)
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


def test_growth_exponent_of_known_curves():
    t = np.arange(1, 1002, dtype=float)[:, None]
    curves = np.hstack([t, np.sqrt(t), np.minimum(t, 100.0)])
    np.testing.assert_allclose(it.growth_exponent(curves), [1.0, 0.5, 0.0], atol=2e-3)


def test_bound_is_fixed_at_the_middle_and_checked_at_every_later_step():
    t = np.arange(1001, dtype=float)
    flat = np.minimum(t, 100.0) + 1.0
    bump = flat.copy()
    bump[700] *= 1.1  # a single excursion above R counts, though |W^T| = |W^(T/2)|
    logarithmic = np.log(t + 2.0)
    holds = it.bound_holds(np.stack([flat, bump, logarithmic], axis=1), 0.05)
    np.testing.assert_array_equal(holds, [True, False, False])


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


def _labelled(population_runs, layer):
    return {f"{layer}, population": population_runs[layer].iterates}


def _fresh(population_runs, layers, fresh):
    return {
        (layer, "relu"): it.fresh_counts(run.iterates.w, fresh, layers[layer], 2)
        for layer, run in population_runs.items()
    }


def test_bounded_iterates_claim_passes_for_the_equal_layer(population_runs):
    claim = checks.bounded_iterates_claim(
        _labelled(population_runs, "equal"), _labelled(population_runs, "graded"), "s"
    )
    assert claim.passed


@pytest.mark.mutation("cg.thm31_bounded_iterates")
def test_bounded_iterates_claim_fails_when_the_asserted_layer_grows(population_runs):
    claim = checks.bounded_iterates_claim(
        _labelled(population_runs, "graded"), _labelled(population_runs, "equal"), "s"
    )
    assert not claim.passed


def test_thm31_claim_passes_on_the_bounded_runs(population_runs):
    layers = {"equal": EQUAL, "graded": GRADED}
    runs = {(layer, "relu"): r.iterates for layer, r in population_runs.items()}
    counts = _fresh(population_runs, layers, POPULATION.sample(2000, seed=6))
    claim = checks.thm31_claim(runs, counts, ["relu"], "s")
    assert claim.passed
    assert claim.measured["bounded runs: fresh errors"] == "0/12,000"


def test_fresh_loss_rate_agrees_with_the_quadrature_loss_mass(population_runs):
    """The two independent estimates of P(loss > 0) at the last step: the NumPy forward
    pass on fresh inputs and the quadrature inside the compiled descent."""
    run = population_runs["graded"]
    count = it.fresh_counts(run.iterates.w, POPULATION.sample(5000, seed=8), GRADED, 2)
    low, high = budget_wilson_interval(count.positive_loss, count.size, count.positive_loss.size)
    quadrature = run.loss_mass[-1].mean(axis=-1)
    assert np.all((low <= quadrature) & (quadrature <= high))


@pytest.fixture(scope="module")
def stuck_run():
    """Equal-layer descent with eta = 1e-3 for 200 steps: |W| barely moves (bounded by
    the criterion) and the classifier is still near its random start."""
    run = qd.population_descent(POPULATION, W0, EQUAL, 2, "relu", 1e-3, 200).iterates
    fresh = POPULATION.sample(2000, seed=6)
    return run, it.fresh_counts(run.w, fresh, EQUAL, 2)


@pytest.mark.mutation("cg.thm31_perfect")
def test_thm31_claim_fails_on_a_stuck_bounded_run(population_runs, stuck_run):
    """A run that stalls with positive loss but does not grow is not dropped."""
    run, count = stuck_run
    assert checks.bounded(run).all()
    runs = {("equal", "relu"): population_runs["equal"].iterates, ("equal", "stuck"): run}
    counts = _fresh(population_runs, {"equal": EQUAL, "graded": GRADED}, POPULATION.sample(2000, 6))
    counts = {("equal", "relu"): counts["equal", "relu"], ("equal", "stuck"): count}
    claim = checks.thm31_claim(runs, counts, ["relu", "stuck"], "s")
    assert not claim.passed
    assert not claim.measured["bounded runs: fresh errors"].startswith("0/")


def test_thm31_claim_fails_on_positive_loss_without_errors(population_runs, stuck_run):
    """The P(loss > 0) bound is asserted on its own: the stuck run's loss counts with
    its errors set to 0 still fail."""
    run, count = stuck_run
    count = dataclasses.replace(count, errors=np.zeros_like(count.errors))
    claim = checks.thm31_claim({("equal", "relu"): run}, {("equal", "relu"): count}, ["relu"], "s")
    assert not claim.passed
    assert claim.measured["bounded runs: fresh errors"].startswith("0/")


def test_thm31_claim_fails_when_too_few_fresh_inputs_bound_the_loss(population_runs):
    """100 fresh inputs per class cannot put the P(loss > 0) bound below 1%."""
    runs = {("equal", "relu"): population_runs["equal"].iterates}
    counts = _fresh(
        {"equal": population_runs["equal"]}, {"equal": EQUAL}, POPULATION.sample(100, 6)
    )
    claim = checks.thm31_claim(runs, counts, ["relu"], "s")
    assert not claim.passed
    assert claim.measured["bounded runs: fresh errors"].startswith("0/")


@pytest.mark.mutation("cg.thm31_perfect")
def test_thm31_claim_fails_when_no_run_is_bounded(population_runs):
    """Only graded (growing) runs: the conclusion is untested, which is a failure."""
    runs = {("graded", "relu"): population_runs["graded"].iterates}
    counts = _fresh(
        {"graded": population_runs["graded"]}, {"graded": GRADED}, POPULATION.sample(2000, seed=6)
    )
    claim = checks.thm31_claim(runs, counts, ["relu"], "s")
    assert not claim.passed
    assert claim.measured["surrogates without a bounded run"] == "relu"


@pytest.fixture(scope="module")
def study():
    layers = {"equal": EQUAL, "graded": GRADED}
    runs = gl.sample_size_study(POPULATION, W0, layers, 2, 4.0, ((300, 2),), 1000, seed=4)
    return runs, gl.fresh_study(runs, POPULATION.sample(1000, seed=6), layers, 2)


def test_graded_study_claim_passes(study):
    assert checks.graded_study_claim(*study, gl.POPULATION, "s").passed


@pytest.mark.mutation("cg.graded_layer_study")
def test_graded_study_claim_fails_when_the_population_levels_off(study):
    """Samples grow but the population does not: a finite-sample effect, which the
    finding denies."""
    runs, counts = study
    runs = dict(runs)
    counts = dict(counts)
    runs["graded", gl.POPULATION] = runs["equal", gl.POPULATION]
    counts["graded", gl.POPULATION] = counts["equal", gl.POPULATION]
    claim = checks.graded_study_claim(runs, counts, gl.POPULATION, "s")
    assert not claim.passed
    assert claim.measured["graded, population: runs growing"].startswith("0/2")


@pytest.mark.mutation("cg.graded_layer_study")
def test_graded_study_claim_fails_when_the_control_grows(study):
    claim = checks.graded_study_claim(*study, gl.POPULATION, "s", graded="graded", control="graded")
    assert not claim.passed
    assert claim.measured["graded (control), population: runs bounded"].startswith("0/2")


def test_piecewise_constant_derivative_is_read_from_sympy():
    breaks, slopes = it.piecewise_constant_derivative("two_slope", 3)
    np.testing.assert_array_equal(breaks, [0.0, 1.0, 7.0])
    np.testing.assert_array_equal(slopes, [0.5, 1.5, 0.5])
    with pytest.raises(ValueError, match="name must be one of"):
        it.piecewise_constant_derivative("log_tailed_relu", 2)


@pytest.mark.parametrize(
    ("layer", "unit", "expected"), [(EQUAL, 0, 0.5), (GRADED, 0, 1.0), (GRADED, 1, 0.5)]
)
def test_uncoverable_mass_of_one_unit_per_class(layer, unit, expected):
    """One unit per class along its plane: half of each annulus is uncovered (output 0);
    the covered half can be fitted unless that unit's v q_b = 0.3 * 3 < 1."""
    w = np.zeros((1, 7, 12))
    for i in range(3):
        w[0, :, 4 * i + unit] = 5.0 * POPULATION.plane(i)[:, 0]
    mass = gl.uncoverable_mass(POPULATION, w, layer, 2)
    np.testing.assert_allclose(mass, [expected], atol=1e-12)


def test_plane_descent_rejects_bad_arguments():
    with pytest.raises(ValueError, match="w0 must be"):
        it.plane_descent(POPULATION, W0[:, :5], np.zeros((3, 4, 2)), GRADED, 2, "relu", 1.0, 5)
    with pytest.raises(ValueError, match="same number"):
        it.plane_coordinates(POPULATION, np.zeros((3, 7)), np.array([0, 0, 1]))
    with pytest.raises(ValueError, match="u must be"):
        qd.plane_rule(np.zeros((3, 2)), np.array([0.0]), 1.0, 2.0)
    assert dataclasses.is_dataclass(qd.RuleSize())
