import numpy as np
import pytest

from quantheory.seeding import generator
from quantheory.ste import engine as E


@pytest.mark.parametrize("noise", [0.0, 0.4])
def test_engine_takes_the_same_decisions_as_the_plain_loop(noise):
    batch = E.sample_trials(12, 30, 6, 3, noise_std=noise)
    fast = E.run_ste_method(batch, 150)
    slow = E.run_ste_method_reference(batch, 150)
    np.testing.assert_array_equal(fast.ergodic_sum, slow.ergodic_sum)
    np.testing.assert_array_equal(fast.last_iterate(), slow.last_iterate())


def test_engine_matches_the_loop_from_a_given_start():
    batch = E.sample_trials(8, 20, 4, 5, noise_std=0.3)
    w0 = np.random.default_rng(0).standard_normal((4, 8))
    fast = E.run_ste_method(batch, 80, step_size=0.3, w0=w0)
    slow = E.run_ste_method_reference(batch, 80, step_size=0.3, w0=w0)
    np.testing.assert_array_equal(fast.ergodic_sum, slow.ergodic_sum)
    np.testing.assert_allclose(fast.w_last, slow.w_last, rtol=1e-9, atol=1e-12)


def test_noiseless_gradient_at_the_teacher_is_exactly_zero():
    batch = E.sample_trials(10, 25, 5, 1)
    assert np.all(E.gradient_at(batch, batch.w_star) == 0.0)
    noisy = E.sample_trials(10, 25, 5, 1, noise_std=0.5)
    assert np.all(np.any(E.gradient_at(noisy, noisy.w_star) != 0, axis=1))


def test_a_run_started_at_the_teacher_is_frozen_at_once_and_completed_exactly():
    batch = E.sample_trials(10, 25, 5, 2)
    run = E.run_ste_method(batch, 40, w0=batch.w_star, record=True)
    np.testing.assert_array_equal(run.frozen_at, np.zeros(5))
    np.testing.assert_array_equal(run.ergodic_sum, 40 * batch.w_star)
    assert np.all(run.distance == 0) and np.all(run.empirical_loss == 0)


def test_recorded_distance_starts_at_the_distance_of_w0():
    batch = E.sample_trials(10, 25, 3, 2, noise_std=0.2)
    run = E.run_ste_method(batch, 10, record=True)  # w0 = 0, u0 = all ones
    np.testing.assert_array_equal(run.distance[:, 0], np.sum(batch.w_star < 0, axis=1))
    assert run.distance.shape == (3, 11)


def test_iterates_do_not_depend_on_the_step_size_from_zero():
    batch = E.sample_trials(15, 40, 4, 9)
    a = E.run_ste_method(batch, 100, step_size=1.0)
    b = E.run_ste_method(batch, 100, step_size=0.25)
    np.testing.assert_array_equal(a.ergodic_sum, b.ergodic_sum)


@pytest.mark.parametrize("family", E.INPUT_FAMILIES)
def test_input_families_have_their_stated_moments(family):
    """Mean and variance; the Student t's variance 1 has kurtosis 9, so 200k draws suffice."""
    x = E.draw_inputs(np.random.default_rng(0), family, (200_000,))
    mean = {"shifted_gaussian": E.SHIFT, "exponential": 1.0}.get(family, 0.0)
    assert x.mean() == pytest.approx(mean, abs=0.02)
    assert x.var() == pytest.approx(1.0, abs=0.03)


def test_shift_moves_the_mean_of_the_shifted_family_only():
    rng = np.random.default_rng(2)
    assert E.draw_inputs(rng, "shifted_gaussian", (50_000,), shift=0.5).mean() == pytest.approx(
        0.5, abs=0.02
    )
    assert E.draw_inputs(rng, "gaussian", (50_000,), shift=3.0).mean() == pytest.approx(
        0.0, abs=0.02
    )


def test_teacher_inputs_default_labels_the_inputs_the_network_sees():
    default = E.sample_trials(6, 30, 3, 4, family="exponential", standardize=True)
    network = E.sample_trials(
        6, 30, 3, 4, family="exponential", standardize=True, teacher_inputs="network"
    )
    np.testing.assert_array_equal(default.label_signs, network.label_signs)
    assert np.all(E.gradient_at(default, default.w_star) == 0.0)


def test_raw_teacher_labels_come_from_the_raw_inputs():
    batch = E.sample_trials(
        6, 30, 3, 4, family="exponential", standardize=True, teacher_inputs="raw"
    )
    rng = generator(4)  # the same draws, in the order sample_trials makes them
    w_star = rng.choice(np.array([-1.0, 1.0]), size=(3, 6))
    Z_raw = E.draw_inputs(rng, "exponential", (3, 6, 30, 128))
    expected = np.where(np.einsum("tjkm,tj->tkm", Z_raw, w_star) >= 0, 1, -1)
    np.testing.assert_array_equal(batch.label_signs, expected)
    np.testing.assert_allclose(batch.Z, E.standardize_features(Z_raw))
    assert np.all(np.any(E.gradient_at(batch, batch.w_star) != 0, axis=1))


def test_standardize_features_centres_and_scales_each_feature():
    Z = 3.0 + 2.0 * np.random.default_rng(1).standard_normal((2, 4, 50, 8))
    S = E.standardize_features(Z)
    np.testing.assert_allclose(S.mean(axis=(2, 3)), 0, atol=1e-12)
    np.testing.assert_allclose(S.std(axis=(2, 3)), 1)
    with pytest.raises(ValueError, match=r"constant in its training set"):
        E.standardize_features(np.ones((1, 2, 3, 4)))


def test_argument_errors():
    with pytest.raises(ValueError, match=r"family must be one of 'gaussian'.*got 'cauchy'"):
        E.sample_trials(3, 4, 2, 0, family="cauchy")
    with pytest.raises(ValueError, match=r"teacher_inputs must be one of 'network'"):
        E.sample_trials(3, 4, 2, 0, teacher_inputs="standardized")
    with pytest.raises(ValueError, match=r"v must have length 128, got length 3"):
        E.sample_trials(3, 4, 2, 0, v=np.ones(3))
    batch = E.sample_trials(3, 4, 2, 0)
    with pytest.raises(ValueError, match=r"n_steps must be an integer >= 1, got 0"):
        E.run_ste_method(batch, 0)
    with pytest.raises(ValueError, match=r"w0 must be a finite array of shape \(n,\) or \(T, n\)"):
        E.run_ste_method(batch, 3, w0=np.ones(5))
    with pytest.raises(ValueError, match=r"u must have shape \(T, n\) = \(2, 3\)"):
        E.gradient_at(batch, np.ones(3))


def test_benchmark_script_runs_and_asserts_identical_decisions(monkeypatch, capsys):
    from importlib import util

    from conftest import ROOT

    spec = util.spec_from_file_location("bench_ste", ROOT / "benchmarks" / "bench_ste.py")
    bench = util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    monkeypatch.setattr("sys.argv", ["bench_ste.py", "--steps", "15", "--trials", "2"])
    bench.main()
    out = capsys.readouterr().out
    assert out.count("identical") == 3 and "x" in out
