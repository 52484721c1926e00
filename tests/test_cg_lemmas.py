import dataclasses
import inspect

import numpy as np
import pytest

from quantheory.cg import lemma_claims as checks
from quantheory.cg import lemmas as lm
from quantheory.cg import network as nw
from quantheory.cg.population import annulus_population
from quantheory.cg.quadrature import RuleSize, tracked_population_descent
from quantheory.cg.surrogates import (
    LEMMA_SURROGATES,
    SCALED_RELU,
    TWO_SLOPE,
    surrogate_functions,
)

POPULATION = annulus_population(2, 5, 1.0, 2.0, seed=1)
GRADED = nw.check_second_layer(np.kron(np.eye(2), [[0.3, 0.5, 0.7, 0.9]]))
HALVES = nw.block_second_layer(2, 4, 0.5)
RELU = surrogate_functions("relu", 2)[1]


@pytest.fixture(scope="module")
def study():
    return lm.random_weight_study(POPULATION, GRADED, 2, 30, 1500, (0.05, 2.0), seed=2)


@pytest.fixture(scope="module")
def runs():
    return lm.descent_study(POPULATION, HALVES, 2, 4.0, 3, 0.3, 300, 3000, seed=3)


def test_population_samples_lie_in_their_planes_inside_the_annulus():
    x, y = POPULATION.sample(500, seed=4)
    for i in range(2):
        xi = x[y == i]
        np.testing.assert_allclose(POPULATION.component(xi.T, i).T, xi, atol=1e-12)
        radius = np.linalg.norm(xi, axis=1)
        assert radius.min() > 1.0 and radius.max() < 2.0
    np.testing.assert_allclose(POPULATION.basis.T @ POPULATION.basis, np.eye(5), atol=1e-12)
    assert POPULATION.cp == pytest.approx(2 / (np.pi * np.sqrt(3)))


def test_population_rejects_bad_arguments():
    with pytest.raises(ValueError, match="dim must be at least"):
        annulus_population(3, 5, 1.0, 2.0, seed=0)
    with pytest.raises(ValueError, match="inner must be below outer"):
        annulus_population(2, 5, 2.0, 1.0, seed=0)


@pytest.mark.mutation("cg.lemma4_decomposition")
def test_decomposition_claim_passes_and_fails_off_the_subspaces(study):
    setting = checks.Setting(POPULATION, GRADED, 2, 1.0)
    claim = checks.decomposition_claim(setting, study.w, study.x, study.y, RELU, "s")
    assert claim.passed
    shifted = study.x + 1e-3 * np.random.default_rng(5).standard_normal(study.x.shape)
    assert not checks.decomposition_claim(setting, study.w, shifted, study.y, RELU, "s").passed


def test_setting_rejects_a_mismatched_second_layer():
    with pytest.raises(ValueError, match="classes"):
        checks.Setting(POPULATION, nw.block_second_layer(3, 1), 2, 1.0)


@pytest.fixture(scope="module")
def on_population(study):
    return {
        name: lm.population_terms(POPULATION, study.w[:12], GRADED, 2, name)
        for name in ("relu", TWO_SLOPE, SCALED_RELU)
    }


@pytest.fixture(scope="module")
def refined(study):
    fine = RuleSize(radial=16, angular=6, grid=64)
    return {
        name: lm.population_terms(POPULATION, study.w[:3], GRADED, 2, name, fine)
        for name in ("relu", TWO_SLOPE, SCALED_RELU)
    }


@pytest.fixture(scope="module")
def population_runs():
    layers = {"equal": HALVES, "graded": GRADED}
    return lm.population_descent_study(
        POPULATION,
        layers,
        2,
        4.0,
        2,
        0.3,
        150,
        seed=6,
        surrogates=("relu", TWO_SLOPE, SCALED_RELU),
    )


@pytest.fixture(scope="module")
def sample_runs(runs):
    graded = lm.descent_study(
        POPULATION, GRADED, 2, 4.0, 2, 0.3, 300, 1500, seed=3, surrogates=("relu",)
    )
    return {"equal": runs, "graded": graded}


LAYERS = {"equal": HALVES, "graded": GRADED}


ORIGINAL_BOUNDS = lm.derivative_bounds


def swapped_bounds(name, bits, bound):
    """delta and delta~ exchanged: the two-slope ramp's 1/2 and 3/2 change places."""
    delta, delta_tilde = ORIGINAL_BOUNDS(name, bits, bound)
    return delta_tilde, delta


def test_population_terms_agree_with_a_large_sample(study):
    w = study.w[:4]
    exact = lm.population_terms(POPULATION, w, GRADED, 2, "relu")
    x, y = POPULATION.sample(40_000, seed=9)
    estimate = lm.lemma_terms(POPULATION, w, x, y, GRADED, 2, RELU)
    se = np.sqrt(estimate.var_prob / estimate.samples)
    assert np.all(np.abs(estimate.prob - exact.prob) <= 5 * se + 1e-12)
    np.testing.assert_allclose(estimate.grad_norm, exact.grad_norm, atol=0.02)


def test_lemma_claims_pass(study, on_population, refined):
    setting = checks.Setting(POPULATION, GRADED, 2, 1.0)
    assert checks.lemma51_claim(setting, study.terms, on_population, "s").passed
    assert checks.lemma53_claim(setting, study.terms, on_population, refined, "s").passed


@pytest.mark.mutation("cg.lemma5_1")
def test_lemma51_claim_fails_with_a_wrong_radius(study, on_population):
    small_ball = dataclasses.replace(POPULATION, outer=1.0)  # M = 1 halves the bound's divisor
    setting = checks.Setting(small_ball, GRADED, 2, 1.0)
    assert not checks.lemma51_claim(setting, study.terms, on_population, "s").passed


@pytest.mark.mutation("cg.lemma5_1")
def test_lemma51_claim_fails_with_delta_for_delta_tilde(study, on_population, monkeypatch):
    monkeypatch.setattr(lm, "derivative_bounds", swapped_bounds)
    setting = checks.Setting(POPULATION, GRADED, 2, 1.0)
    assert not checks.lemma51_claim(setting, {}, on_population, "s").passed


@pytest.mark.mutation("cg.lemma5_3")
def test_lemma53_claim_fails_with_a_wrong_exponent(study, on_population, refined):
    setting = checks.Setting(POPULATION, GRADED, 2, 1.0)
    claim = checks.lemma53_claim(setting, study.terms, on_population, refined, "s", exponent=1.0)
    assert not claim.passed


@pytest.mark.mutation("cg.lemma5_3")
def test_lemma53_claim_fails_with_delta_tilde_for_delta(study, on_population, refined, monkeypatch):
    monkeypatch.setattr(lm, "derivative_bounds", swapped_bounds)
    setting = checks.Setting(POPULATION, GRADED, 2, 1.0)
    claim = checks.lemma53_claim(setting, study.terms, on_population, refined, "s")
    assert not claim.passed
    assert claim.measured[f"population, {TWO_SLOPE}: smallest inner / bound"] < 1


def test_lemma53_claim_fails_for_an_inaccurate_rule(study, on_population):
    coarse = {
        name: lm.population_terms(POPULATION, study.w[:3], GRADED, 2, name, RuleSize(1, 1, 4))
        for name in on_population
    }
    setting = checks.Setting(POPULATION, GRADED, 2, 1.0)
    claim = checks.lemma53_claim(setting, study.terms, on_population, coarse, "s")
    assert not claim.passed


def test_lemma53_gap_turns_significantly_negative_for_a_doubled_bound(study):
    terms = study.terms["relu"]
    kappa = lm.lemma53_factor(GRADED, 1.0, POPULATION.cp)
    gap, se = lm.lemma53_gap(terms, 2 * kappa)
    pairs = (kappa[None] > 0) & (terms.prob > 0)
    assert np.min(gap[pairs] / se[pairs]) < -6


def test_dynamics_claims_pass(population_runs, sample_runs):
    setting = checks.Setting(POPULATION, HALVES, 2, 4.0)
    for claim in (checks.lemma55_claim, checks.prop1_claim):
        assert claim(setting, LAYERS, population_runs, sample_runs, "s").passed
    assert checks.tightness_claim(setting, LAYERS, population_runs, "equal", "s").passed


@pytest.mark.mutation("cg.lemma5_5_monotone")
def test_lemma55_claim_fails_for_shrinking_norms_or_a_wrong_step(population_runs, sample_runs):
    setting = checks.Setting(POPULATION, HALVES, 2, 4.0)
    reversed_runs = {
        layer: {
            name: dataclasses.replace(run, components=run.components[::-1])
            for name, run in batch.items()
        }
        for layer, batch in sample_runs.items()
    }
    assert not checks.lemma55_claim(setting, LAYERS, population_runs, reversed_runs, "s").passed
    # stating eta 1000 times too large makes the increment bound 1000 times too large
    wrong_step = dataclasses.replace(setting, eta=4000.0)
    assert not checks.lemma55_claim(wrong_step, LAYERS, population_runs, sample_runs, "s").passed


@pytest.mark.mutation("cg.lemma5_5_monotone")
def test_lemma55_claim_fails_with_delta_and_delta_tilde_exchanged(
    population_runs, sample_runs, monkeypatch
):
    monkeypatch.setattr(lm, "derivative_bounds", swapped_bounds)
    setting = checks.Setting(POPULATION, HALVES, 2, 4.0)
    claim = checks.lemma55_claim(setting, LAYERS, population_runs, sample_runs, "s")
    assert not claim.passed


@pytest.mark.mutation("cg.lemma5_5_monotone")
def test_lemma55_claim_fails_if_many_sample_points_sit_below_the_bound(
    population_runs, sample_runs, monkeypatch
):
    monkeypatch.setattr(checks, "FEW_POINTS", 0)
    setting = checks.Setting(POPULATION, HALVES, 2, 4.0)
    assert not checks.lemma55_claim(setting, LAYERS, population_runs, sample_runs, "s").passed


@pytest.mark.mutation("cg.prop1_summable")
def test_prop1_claim_fails_with_a_wrong_step(population_runs, sample_runs):
    setting = checks.Setting(POPULATION, HALVES, 2, 4000.0)
    assert not checks.prop1_claim(setting, LAYERS, population_runs, sample_runs, "s").passed


def test_prop1_constant_is_the_statement_not_lemma55s_factor():
    constant = lm.prop1_constant(GRADED, 0.5, 1.5, 0.4, 2.0, 3.0)
    v_hat = GRADED.max(axis=0)
    expected = 2 * 2 * 0.4 * v_hat**2 * 1.5**2 * 4.0 / (3.0 * v_hat * 0.5)
    np.testing.assert_allclose(constant[GRADED > 0], expected)  # one class per unit, in order
    assert np.all(np.isnan(constant[GRADED == 0]))


def _scaled(original, factor):
    def mutated(v, *args):
        return original(v, *args) * factor(v)

    return mutated


@pytest.mark.mutation("cg.lemma_constants_tightness")
@pytest.mark.parametrize(
    ("target", "factor"),
    [
        ("lemma55_bound", lambda v: 2.0),  # Lemma 5.5 without its 2
        ("lemma55_bound", lambda v: v.shape[0]),  # without n
        ("prop1_constant", lambda v: 1 / 2),  # Proposition 1 without its 2
        ("prop1_constant", lambda v: 1 / v.shape[0]),  # without n
        ("prop1_constant", lambda v: 1 / POPULATION.outer**2),  # without M^2
    ],
)
def test_tightness_finding_fails_when_a_factor_is_dropped(
    population_runs, monkeypatch, target, factor
):
    setting = checks.Setting(POPULATION, HALVES, 2, 4.0)
    monkeypatch.setattr(lm, target, _scaled(getattr(lm, target), factor))
    assert not checks.tightness_claim(setting, LAYERS, population_runs, "equal", "s").passed


def test_population_descent_rejects_bad_starts():
    with pytest.raises(ValueError, match="w0 must be"):
        tracked_population_descent(POPULATION, np.zeros((1, 4, 8)), HALVES, 2, "relu", 1.0, 3)


def test_descent_study_covers_every_surrogate_of_the_lemmas(runs):
    assert set(runs) == set(LEMMA_SURROGATES)
    run = runs["relu"]
    assert run.components.shape[0] == run.class_gradients.shape[0] + 1
    assert np.all(run.region_counts[run.class_gradients > 0] > 0)


def _with_arguments(original, **fixed):
    """``original`` called with some of its keyword arguments replaced (a dropped factor)."""

    def mutated(*args):
        bound = inspect.signature(original).bind(*args)
        bound.arguments.update(fixed)
        return original(*bound.args)

    return mutated


def _unsquared(original):
    """Lemma 5.5's factor with delta~ to the first power: pass sqrt(delta~)."""

    def mutated(v, delta, delta_tilde, *rest):
        return original(v, delta, np.sqrt(delta_tilde), *rest)

    return mutated


def test_scaled_relu_follows_relus_trajectory_exactly(population_runs, sample_runs):
    for batch in population_runs.values():
        np.testing.assert_array_equal(batch[SCALED_RELU].components, batch["relu"].components)
        np.testing.assert_array_equal(
            batch[SCALED_RELU].class_gradients, 2 * batch["relu"].class_gradients
        )
    runs = sample_runs["equal"]
    np.testing.assert_array_equal(runs[SCALED_RELU].components, runs["relu"].components)


def test_scaled_prediction_needs_both_runs(population_runs, sample_runs):
    setting = checks.Setting(POPULATION, HALVES, 2, 4.0)
    partial = {layer: {"relu": batch["relu"]} for layer, batch in population_runs.items()}
    with pytest.raises(ValueError, match="scaled prediction"):
        checks.lemma55_claim(setting, LAYERS, partial, sample_runs, "s")


@pytest.mark.mutation("cg.lemma5_1")
def test_lemma51_claim_fails_without_delta_tilde(study, on_population, monkeypatch):
    monkeypatch.setattr(lm, "lemma51_bound", _with_arguments(lm.lemma51_bound, delta_tilde=1.0))
    setting = checks.Setting(POPULATION, GRADED, 2, 1.0)
    claim = checks.lemma51_claim(setting, study.terms, on_population, "s")
    assert not claim.passed
    assert claim.measured["population: largest |scaled ReLU's ratio / ReLU's - 1|"] > 0.4


@pytest.mark.mutation("cg.lemma5_5_monotone")
@pytest.mark.parametrize(
    "mutate",
    [
        lambda f: _with_arguments(f, delta=1.0),  # without delta
        lambda f: _with_arguments(f, delta_tilde=1.0),  # without delta~
        _unsquared,  # delta~ not squared
    ],
)
def test_lemma55_claim_fails_with_delta_or_delta_tilde_misplaced(
    population_runs, sample_runs, monkeypatch, mutate
):
    monkeypatch.setattr(lm, "lemma55_bound", mutate(lm.lemma55_bound))
    setting = checks.Setting(POPULATION, HALVES, 2, 4.0)
    claim = checks.lemma55_claim(setting, LAYERS, population_runs, sample_runs, "s")
    assert not claim.passed
    assert claim.measured["population, equal: largest |scaled ReLU's ratio / ReLU's - 1|"] > 0.4


@pytest.mark.mutation("cg.prop1_summable")
def test_prop1_claim_fails_without_delta(population_runs, sample_runs, monkeypatch):
    monkeypatch.setattr(lm, "prop1_constant", _with_arguments(lm.prop1_constant, delta=1.0))
    setting = checks.Setting(POPULATION, HALVES, 2, 4.0)
    claim = checks.prop1_claim(setting, LAYERS, population_runs, sample_runs, "s")
    assert not claim.passed
    assert claim.measured["population, equal: largest |scaled ReLU's ratio / ReLU's - 1|"] > 0.4


@pytest.mark.mutation("cg.lemma_constants_tightness")
@pytest.mark.parametrize(
    "fixed",
    [{"radius": 1.0}, {"delta": 1.0}],  # Proposition 1 without M^2; without delta
)
def test_tightness_finding_fails_for_proposition1_without_a_constant(
    population_runs, monkeypatch, fixed
):
    monkeypatch.setattr(lm, "prop1_constant", _with_arguments(lm.prop1_constant, **fixed))
    setting = checks.Setting(POPULATION, HALVES, 2, 4.0)
    assert not checks.tightness_claim(setting, LAYERS, population_runs, "equal", "s").passed
