"""Every first-chapter claim passes on correct statements and fails on broken ones.

Each mutation changes one constant, sign or exponent of the statement under
test, or (data-side) the Monte Carlo measurement itself: inputs from a wrong
distribution, labels with the wrong sign, a wrong noise level. The data are
computed once at quick scale; the claims must pass with the book's statements
and fail with every mutation.
"""

import numpy as np
import pytest
import sympy as sp

from quantheory.ste import population as pop
from quantheory.ste import population_claims as checks
from quantheory.ste import symbolic as sym
from quantheory.ste.model import network_output

SEED = 12345


@pytest.fixture(scope="module")
def sign_moment_samples():
    return pop.sign_moment_experiment((1, 3, 10), 40_000, SEED)


@pytest.fixture(scope="module")
def disagreement_sample():
    return pop.sample_sign_disagreement(np.linspace(0, np.pi, 7), 6, 40_000, SEED)


@pytest.fixture(scope="module")
def population_samples():
    return pop.population_experiment(pop.DEFAULT_POPULATION_CONFIGS, 20_000, SEED)


@pytest.fixture(scope="module")
def dynamics_runs():
    settings = (pop.DynamicsSetting(8, 0.05, 0.1), pop.DynamicsSetting(25, 0.5, 1.0))
    return pop.dynamics_experiment(settings, 200, 128, SEED)


def test_gauss_sign_moment(sign_moment_samples):
    assert checks.gauss_sign_moment_claim(sign_moment_samples).passed


@pytest.mark.mutation("ste.gauss_sign_moment")
@pytest.mark.parametrize(
    "wrong", [sp.sqrt(1 / sp.pi), -sp.sqrt(2 / sp.pi), 2 / sp.pi, sp.sqrt(2 / sp.pi) * 1.05]
)
def test_gauss_sign_moment_fails_on_wrong_constant(sign_moment_samples, wrong):
    claim = checks.gauss_sign_moment_claim(sign_moment_samples, wrong)
    assert not claim.passed
    assert claim.measured["max |z| over coordinates"] > claim.expected["max |z| over coordinates"]


def test_sign_disagreement(disagreement_sample):
    assert checks.sign_disagreement_claim(disagreement_sample).passed


@pytest.mark.mutation("ste.sign_disagreement")
@pytest.mark.parametrize(
    "wrong",
    [
        sym.theta / (2 * sp.pi),
        (sym.theta / sp.pi) ** 2,
        1 - sym.theta / sp.pi,
        sp.sin(sym.theta / 2),
    ],
)
def test_sign_disagreement_fails_on_wrong_formula(disagreement_sample, wrong):
    claim = checks.sign_disagreement_claim(disagreement_sample, wrong)
    assert not claim.passed
    assert claim.measured["SymPy derivation equals statement"] is False
    # the Monte Carlo part rejects it too, not only the SymPy check
    k = len(disagreement_sample.angles) - 2  # the interior angles
    key = "interior angles whose Wilson interval holds the prediction"
    assert claim.measured[key] != f"{k} of {k}"


def _student_t_draws(rng, size, dim):
    """Unit-variance Student t (5 degrees of freedom): right variance, wrong law."""
    return rng.standard_t(5, size=(size, dim)) * np.sqrt(3 / 5)


@pytest.mark.mutation("ste.gauss_sign_moment")
def test_gauss_sign_moment_fails_on_student_t_draws(monkeypatch):
    """Data side: z drawn from a heavier-tailed law with the same variance."""
    monkeypatch.setattr(pop, "gaussian_draws", _student_t_draws)
    claim = checks.gauss_sign_moment_claim(pop.sign_moment_experiment((1, 3, 10), 40_000, SEED))
    assert not claim.passed
    assert claim.measured["SymPy derivation equals statement"] is True


def test_gauss_sign_moment_states_its_resolution(sign_moment_samples):
    """A coefficient wrong by twice the stated resolution fails (2.3 % at 40,000 draws)."""
    resolution = checks.sign_moment_resolution(sign_moment_samples)
    assert 0 < resolution < 0.03
    wrong = sym.GAUSS_SIGN_MOMENT_STATEMENT * (1 + 2 * resolution)
    assert not checks.gauss_sign_moment_claim(sign_moment_samples, wrong).passed


def _unorthogonalised_pair(rng, n):
    """Two independent random unit vectors: the pair built from them has the wrong angle."""
    q = rng.standard_normal((n, 2))
    return q[:, 0] / np.linalg.norm(q[:, 0]), q[:, 1] / np.linalg.norm(q[:, 1])


@pytest.mark.mutation("ste.sign_disagreement")
def test_sign_disagreement_fails_on_pairs_with_the_wrong_angle(monkeypatch):
    """Data side: u and w built from non-orthogonal directions, so angle(u, w) != theta."""
    monkeypatch.setattr(pop, "orthonormal_pair", _unorthogonalised_pair)
    sample = pop.sample_sign_disagreement(np.linspace(0, np.pi, 7), 6, 40_000, SEED)
    claim = checks.sign_disagreement_claim(sample)
    assert not claim.passed
    assert claim.measured["SymPy derivation equals statement"] is True


def test_sign_disagreement_does_not_count_the_end_angles(disagreement_sample):
    claim = checks.sign_disagreement_claim(disagreement_sample)
    assert claim.expected["interior angles whose Wilson interval holds the prediction"] == "5 of 5"
    assert "0: 0.0000" in claim.measured["rates at 0 and pi (exact by construction, not counted)"]
    ends = pop.DisagreementSample(np.array([0.0, np.pi]), np.array([0, 10]), 10, 3, "s")
    with pytest.raises(ValueError, match=r"strictly in \(0, pi\)"):
        checks.sign_disagreement_claim(ends)


def test_sign_disagreement_monte_carlo_alone_rejects_a_wrong_formula(disagreement_sample):
    # the Monte Carlo part must fail by itself, not only through the SymPy check
    low, high = checks.stats.wilson_interval(
        disagreement_sample.disagreements,
        disagreement_sample.n_samples,
        checks.stats.comparison_alpha(len(disagreement_sample.angles)),
    )
    wrong = sym.disagreement_numeric(disagreement_sample.angles, (sym.theta / sp.pi) ** 2)
    assert np.any((wrong < low) | (wrong > high))


def test_population_gradient(population_samples):
    assert checks.population_gradient_claim(population_samples).passed


@pytest.mark.mutation("ste.population_gradient")
@pytest.mark.parametrize(
    "wrong",
    [
        sym.POPULATION_GRADIENT_STATEMENT.subs(sp.sqrt(2 / sp.pi), 1 / sp.sqrt(sp.pi)),
        -sym.POPULATION_GRADIENT_STATEMENT,
        sym.POPULATION_GRADIENT_STATEMENT * sp.sqrt(sym.n) / sym.n,
        sym.POPULATION_GRADIENT_STATEMENT / sym.vnorm2 * sp.sqrt(sym.vnorm2),
    ],
)
def test_population_gradient_fails_on_wrong_statement(population_samples, wrong):
    claim = checks.population_gradient_claim(population_samples, wrong)
    assert not claim.passed
    key = "max |z| over all coordinates"
    assert claim.measured[key] > claim.expected[key]


def _scaled_inputs(self, rng, n_samples):
    return 2.0 * rng.standard_normal((n_samples, self.m, self.n))


def _shifted_inputs(self, rng, n_samples):
    return 0.3 + rng.standard_normal((n_samples, self.m, self.n))


def _flipped_labels(self, rng, Z):
    return -network_output(Z, self.w_star, self.v) + self.noise_std * rng.standard_normal(len(Z))


def _doubled_noise(self, rng, Z):
    clean = network_output(Z, self.w_star, self.v)
    return clean + 2 * self.noise_std * rng.standard_normal(len(Z))


def _biased_samples(monkeypatch, method, replacement):
    """Population samples drawn with one of the sampler's methods replaced."""
    monkeypatch.setattr(pop.TeacherProblem, method, replacement)
    return pop.population_experiment(pop.DEFAULT_POPULATION_CONFIGS, 20_000, SEED)


@pytest.mark.mutation("ste.population_gradient")
@pytest.mark.parametrize(
    ("method", "replacement"),
    [
        ("sample_inputs", _scaled_inputs),
        ("sample_inputs", _shifted_inputs),
        ("sample_labels", _flipped_labels),
    ],
    ids=["inputs-N(0,4)", "inputs-shifted-by-0.3", "labels-with-wrong-sign"],
)
def test_population_gradient_fails_on_a_biased_sampler(monkeypatch, method, replacement):
    claim = checks.population_gradient_claim(_biased_samples(monkeypatch, method, replacement))
    assert not claim.passed
    assert claim.measured["SymPy derivation equals statement (m = 1, 2, 3)"] is True
    key = "max |z| over all coordinates"
    assert claim.measured[key] > claim.expected[key]


def test_population_loss(population_samples):
    assert checks.population_loss_claim(population_samples).passed


@pytest.mark.mutation("ste.population_loss")
@pytest.mark.parametrize(
    "wrong",
    [
        sym.vnorm2 * sym.theta / sp.pi + sym.s**2 / 2,
        2 * sym.vnorm2 * sym.theta / sp.pi + sym.s**2,
        2 * sym.vnorm2 * (sym.theta / sp.pi) ** 2 + sym.s**2 / 2,
        2 * sym.vnorm2 * sym.theta / sp.pi - sym.s**2 / 2,
    ],
)
def test_population_loss_fails_on_wrong_statement(population_samples, wrong):
    claim = checks.population_loss_claim(population_samples, wrong)
    assert not claim.passed
    key = "max |z| over configurations"
    assert claim.measured[key] > claim.expected[key]


@pytest.mark.mutation("ste.population_loss")
@pytest.mark.parametrize(
    ("method", "replacement"),
    [
        ("sample_inputs", _shifted_inputs),
        ("sample_labels", _flipped_labels),
        ("sample_labels", _doubled_noise),
    ],
    ids=["inputs-shifted-by-0.3", "labels-with-wrong-sign", "noise-doubled"],
)
def test_population_loss_fails_on_a_biased_sampler(monkeypatch, method, replacement):
    claim = checks.population_loss_claim(_biased_samples(monkeypatch, method, replacement))
    assert not claim.passed
    assert claim.measured["SymPy derivation equals statement (m = 1, 2, 3)"] is True
    key = "max |z| over configurations"
    assert claim.measured[key] > claim.expected[key]


def test_population_loss_is_blind_to_the_input_scale(monkeypatch):
    # sign(Z u) does not see the scale of Z: a loss check cannot detect N(0, 4) inputs
    samples = _biased_samples(monkeypatch, "sample_inputs", _scaled_inputs)
    assert checks.population_loss_claim(samples).passed


def test_population_dynamics(dynamics_runs):
    claim = checks.population_dynamics_claim(dynamics_runs)
    assert claim.passed
    assert all(run.hitting_time.min() >= 0 for run in dynamics_runs)


@pytest.mark.mutation("ste.population_dynamics")
@pytest.mark.parametrize(
    "wrong",
    [
        sym.DYNAMICS_STEP_BOUND_STATEMENT.subs(sym.eta, 2 * sym.eta),  # bound too small
        sym.DYNAMICS_STEP_BOUND_STATEMENT.subs(sym.eta, sym.eta / 2),  # bound too loose
        sym.DYNAMICS_STEP_BOUND_STATEMENT.subs(sp.sqrt(sym.n), sym.n),  # wrong exponent
        sym.DYNAMICS_STEP_BOUND_STATEMENT - 2,  # off by two
    ],
)
def test_population_dynamics_fails_on_wrong_bound(dynamics_runs, wrong):
    assert not checks.population_dynamics_claim(dynamics_runs, wrong).passed


def test_dynamics_detects_an_iterate_that_leaves_w_star(dynamics_runs):
    run = dynamics_runs[0]
    left = run.left_after_hit.copy()
    left[0] = True
    broken = pop.DynamicsRun(
        run.problem, run.step_size, run.w0, run.hitting_time, left, run.n_steps
    )
    assert not checks.population_dynamics_claim([broken]).passed


def test_experiments_are_reproducible_from_their_seed():
    a = pop.population_experiment(pop.DEFAULT_POPULATION_CONFIGS[:1], 500, 3)[0]
    b = pop.population_experiment(pop.DEFAULT_POPULATION_CONFIGS[:1], 500, 3)[0]
    np.testing.assert_array_equal(a.gradient.mean, b.gradient.mean)
    c = pop.population_experiment(pop.DEFAULT_POPULATION_CONFIGS[:1], 500, 4)[0]
    assert not np.array_equal(a.gradient.mean, c.gradient.mean)


def test_experiment_argument_errors():
    with pytest.raises(ValueError, match=r"angles must lie in \[0, pi\]"):
        pop.sample_sign_disagreement(np.array([4.0]), 3, 10, 0)
    with pytest.raises(ValueError, match=r"n_flipped must lie in \[0, n=3\], got 5"):
        pop.PopulationConfig(3, 2, "uniform", 0.0, 5)
    with pytest.raises(ValueError, match=r"step_size must be a finite number > 0, got 0"):
        pop.DynamicsSetting(4, 0, 1.0)
    with pytest.raises(ValueError, match=r"n must be at least 2"):
        pop.orthonormal_pair(np.random.default_rng(0), 1)
    problem = pop.TeacherProblem(np.ones(3), np.ones(2))
    with pytest.raises(ValueError, match=r"w0 must have shape \(S, n=3\), got \(4, 2\)"):
        pop.run_population_dynamics(problem, np.ones((4, 2)), 0.1)
