import dataclasses

import numpy as np
import pytest

from quantheory.cg import lemma_claims as checks
from quantheory.cg import lemmas as lm
from quantheory.cg import network as nw
from quantheory.cg.population import annulus_population
from quantheory.cg.surrogates import ADMISSIBLE, surrogate_functions

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


@pytest.mark.mutation("cg.lemma5_1")
def test_lemma51_claim_passes_and_fails_with_a_wrong_radius(study):
    assert checks.lemma51_claim(checks.Setting(POPULATION, GRADED, 2, 1.0), study.terms, "s").passed
    small_ball = dataclasses.replace(POPULATION, outer=1.0)  # M = 1 halves the bound's divisor
    assert not checks.lemma51_claim(
        checks.Setting(small_ball, GRADED, 2, 1.0), study.terms, "s"
    ).passed


@pytest.mark.mutation("cg.lemma5_3")
def test_lemma53_claim_passes_and_fails_with_a_wrong_exponent(study):
    setting = checks.Setting(POPULATION, GRADED, 2, 1.0)
    assert checks.lemma53_claim(setting, study.terms, "s").passed
    assert not checks.lemma53_claim(setting, study.terms, "s", exponent=1.0).passed


def test_lemma53_gap_turns_significantly_negative_for_a_doubled_bound(study):
    terms = study.terms["relu"]
    kappa = lm.lemma53_factor(GRADED, 1.0, POPULATION.cp)
    gap, se = lm.lemma53_gap(terms, 2 * kappa)
    pairs = (kappa[None] > 0) & (terms.prob > 0)
    assert np.min(gap[pairs] / se[pairs]) < -6


def test_dynamics_claims_pass(runs):
    setting = checks.Setting(POPULATION, HALVES, 2, 4.0)
    assert checks.lemma55_claim(setting, runs, "s").passed
    assert checks.prop1_claim(setting, runs, "s").passed


@pytest.mark.mutation("cg.lemma5_5_monotone")
def test_lemma55_claim_fails_for_shrinking_norms_or_a_wrong_step(runs):
    setting = checks.Setting(POPULATION, HALVES, 2, 4.0)
    reversed_runs = {
        name: dataclasses.replace(run, components=run.components[::-1])
        for name, run in runs.items()
    }
    assert not checks.lemma55_claim(setting, reversed_runs, "s").passed
    # stating eta 1000 times too large makes the increment bound 1000 times too large
    assert not checks.lemma55_claim(dataclasses.replace(setting, eta=4000.0), runs, "s").passed


@pytest.mark.mutation("cg.prop1_summable")
def test_prop1_claim_fails_with_a_wrong_step(runs):
    setting = checks.Setting(POPULATION, HALVES, 2, 4000.0)
    assert not checks.prop1_claim(setting, runs, "s").passed


def test_descent_study_covers_every_admissible_surrogate(runs):
    assert set(runs) == set(ADMISSIBLE)
    run = runs["relu"]
    assert run.components.shape[0] == run.class_gradients.shape[0] + 1
    assert np.all(run.region_counts[run.class_gradients > 0] > 0)
