import numpy as np
import pytest

from quantheory.lr.model import KINDS, TARGETS, Problem, Quantization
from quantheory.lr.simulate import (
    IdealizedQuantizer,
    SimulatedRisk,
    excess_risk,
    idealized,
    simulate_risk,
)

STEPS = np.array([1, 3, 10, 30])
PROBLEM = Problem(d=6, a=2.0, gamma=0.2, batch=2)


def test_same_seed_same_numbers_and_shapes():
    q = idealized(Quantization("activations", "mult_coord", 0.3))
    first = simulate_risk(PROBLEM, q, STEPS, runs=5, seed=11)
    again = simulate_risk(PROBLEM, q, STEPS, runs=5, seed=11)
    other = simulate_risk(PROBLEM, q, STEPS, runs=5, seed=12)
    assert isinstance(first, SimulatedRisk)
    assert first.last.shape == first.average.shape == (5, STEPS.size)
    np.testing.assert_array_equal(first.steps, STEPS)
    np.testing.assert_array_equal(first.last, again.last)
    np.testing.assert_array_equal(first.average, again.average)
    assert not np.array_equal(first.last, other.last)


def test_seed_sequences_are_accepted():
    seq = np.random.SeedSequence(3, spawn_key=(1,))
    a = simulate_risk(PROBLEM, None, STEPS, runs=2, seed=seq)
    b = simulate_risk(PROBLEM, None, STEPS, runs=2, seed=np.random.SeedSequence(3, spawn_key=(1,)))
    np.testing.assert_array_equal(a.last, b.last)


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("kind", KINDS)
def test_zero_eps_follows_the_unquantized_path(target, kind):
    plain = simulate_risk(PROBLEM, None, STEPS, runs=3, seed=4)
    zero = simulate_risk(PROBLEM, idealized(Quantization(target, kind, 0.0)), STEPS, 3, 4)
    np.testing.assert_array_equal(plain.last, zero.last)
    np.testing.assert_array_equal(plain.average, zero.average)


@pytest.mark.parametrize("target", TARGETS)
def test_positive_eps_changes_the_path(target):
    plain = simulate_risk(PROBLEM, None, STEPS, runs=3, seed=4)
    noisy = simulate_risk(PROBLEM, idealized(Quantization(target, "additive", 0.1)), STEPS, 3, 4)
    assert not np.allclose(plain.last, noisy.last)


def test_average_at_one_step_is_the_start_and_risk_formula():
    problem = Problem(d=3, a=2.0, gamma=0.1, w_init=np.array([0.5, 1.0, 2.0]))
    sim = simulate_risk(problem, None, np.array([1, 2]), runs=4, seed=0)
    start = 0.5 * np.sum(problem.spectrum * (problem.w_init - 1.0) ** 2)
    np.testing.assert_allclose(sim.average[:, 0], start, rtol=1e-14)
    np.testing.assert_allclose(excess_risk(np.ones((2, 3)), np.ones(3), problem.spectrum), 0.0)


def test_one_step_risk_in_one_dimension_by_hand():
    """d = 1, B = 1, l = 1: e_1 = (1 - g x^2) e_0 + g x xi.

    So E e_1^2 = e_0^2 (1 - 2g + 3g^2) + g^2 s^2, by hand and without the recursion.
    """
    g, s2, runs = 0.3, 0.5, 40_000
    problem = Problem(d=1, a=2.0, gamma=g, noise_var=s2)
    sim = simulate_risk(problem, None, np.array([1]), runs=runs, seed=1)
    expected = 0.5 * (1 - 2 * g + 3 * g**2 + g**2 * s2)
    se = sim.last[:, 0].std(ddof=1) / np.sqrt(runs)
    assert abs(sim.last[:, 0].mean() - expected) < 5 * se


def _error_moments(quant, u, draws, seed=0):
    rng = np.random.default_rng(seed)
    out = idealized(quant).apply(np.broadcast_to(u, (draws, u.size)), rng)
    err = out - u
    return err.mean(axis=0), err.T @ err / draws


U = np.array([1.0, -2.0, 0.5])


@pytest.mark.parametrize(
    ("kind", "covariance"),
    [
        ("additive", np.eye(3)),
        ("mult_vector", np.outer(U, U)),
        ("mult_coord", np.diag(U**2)),
    ],
)
def test_idealized_quantizers_are_unbiased_with_their_second_moments(kind, covariance):
    eps, draws = 0.04, 200_000
    mean, second = _error_moments(Quantization("data", kind, eps), U, draws)
    expected = eps * covariance
    # standard errors of the error's mean and second moments (Gaussian errors)
    scale = np.sqrt(eps) * np.max(np.abs(U))
    assert np.all(np.abs(mean) < 6 * scale / np.sqrt(draws))
    assert np.all(np.abs(second - expected) < 6 * np.sqrt(2) * scale**2 / np.sqrt(draws))


def test_mult_vector_scales_each_vector_by_one_factor():
    u = np.arange(1.0, 13.0).reshape(2, 2, 3)
    out = idealized(Quantization("labels", "mult_vector", 0.5)).apply(u, np.random.default_rng(0))
    ratios = out / u
    np.testing.assert_allclose(ratios, ratios[..., :1] * np.ones(3))
    assert len(np.unique(ratios[..., 0])) == 4


def test_target_and_protocol():
    q = idealized(Quantization("params", "additive", 0.1))
    assert isinstance(q, IdealizedQuantizer) and q.target == "params"


class _BadTarget:
    target = "weights"

    def apply(self, u, rng):
        return u


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"steps": np.array([0, 2])}, r"steps must be >= 1"),
        ({"steps": np.array([3, 3])}, r"steps must be strictly increasing, got 3 then 3"),
        ({"steps": np.array([1.5, 2.0])}, r"steps must be integers"),
        ({"steps": np.array([1.0, np.inf])}, r"steps must be integers"),
        ({"steps": np.array([True, False])}, r"steps must be integers"),
        ({"steps": np.array([], dtype=int)}, r"steps must be a non-empty"),
        ({"runs": 0}, r"runs must be an integer >= 1, got 0"),
        ({"problem": "p"}, r"problem must be a Problem, got str"),
        ({"quantizer": _BadTarget()}, r"quantizer.target must be one of 'data'.*got 'weights'"),
        ({"quantizer": object()}, r"quantizer must have a 'target' and an 'apply"),
        ({"seed": -1}, r"seed must be a non-negative integer"),
    ],
)
def test_bad_arguments_are_named(kwargs, message):
    args = {"problem": PROBLEM, "quantizer": None, "steps": STEPS, "runs": 2, "seed": 0}
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        simulate_risk(**args)


def test_idealized_needs_a_quantization():
    with pytest.raises(ValueError, match=r"quant must be a Quantization, got tuple"):
        idealized(("data", "additive", 0.1))


def test_docstring_examples():
    import doctest

    from quantheory.lr import simulate

    result = doctest.testmod(simulate)
    assert result.attempted > 0 and result.failed == 0


def test_integer_valued_float_steps_are_the_integer_steps():
    """The same step check as recursion.risk_curve (model.step_counts): 2.0 is 2."""
    as_float = simulate_risk(PROBLEM, None, np.array([1.0, 3.0]), runs=2, seed=5)
    as_int = simulate_risk(PROBLEM, None, np.array([1, 3]), runs=2, seed=5)
    np.testing.assert_array_equal(as_float.last, as_int.last)
    assert as_float.steps.dtype == np.int64


@pytest.mark.parametrize(
    "steps", [[1, 2.0, 4], [0, 1], [2, 2], [1.5], [], [[1, 2]], ["a"], [1, np.nan]]
)
def test_simulation_and_recursion_accept_the_same_steps(steps):
    from quantheory.lr.recursion import risk_curve

    problem = Problem(d=3, a=2.0, gamma=0.1)
    outcomes = []
    for run in (
        lambda: simulate_risk(problem, None, steps, runs=2, seed=0).steps,
        lambda: risk_curve(problem, None, steps).steps,
    ):
        try:
            outcomes.append(run().tolist())
        except ValueError as error:
            outcomes.append(str(error))
    assert outcomes[0] == outcomes[1]
