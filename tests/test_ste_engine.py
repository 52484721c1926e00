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
    argv = ["bench_ste.py", "--steps", "15", "--trials", "2", "--repeats", "1"]
    monkeypatch.setattr("sys.argv", [*argv, "--largest-n", "50"])
    bench.main()
    out = capsys.readouterr().out
    assert out.count("identical") == 2 and "GB/s" in out and "x" in out


def test_gaussian_inputs_are_numpys_stream_stored_with_the_sample_index_fastest():
    batch = E.sample_trials(6, 30, 3, 4, noise_std=0.5)
    rng = generator(4)  # the same draws, in the order sample_trials makes them
    w_star = rng.choice(np.array([-1.0, 1.0]), size=(3, 6))
    Z = rng.standard_normal((3, 6, 30, 128))
    noise = 0.5 * rng.standard_normal((3, 30))
    np.testing.assert_array_equal(batch.w_star, w_star)
    np.testing.assert_array_equal(batch.Z, Z)
    np.testing.assert_array_equal(batch.noise, noise)
    assert batch.Z.transpose(0, 1, 3, 2).flags.c_contiguous
    np.testing.assert_array_equal(
        batch.label_signs, np.where(np.einsum("tjkm,tj->tkm", Z, w_star) >= 0, 1, -1)
    )


def test_single_precision_inputs_are_the_same_draws_rounded_once():
    wide = E.sample_trials(5, 20, 3, 8, noise_std=0.3)
    narrow = E.sample_trials(5, 20, 3, 8, noise_std=0.3, dtype="float32")
    assert narrow.Z.dtype == np.float32
    np.testing.assert_array_equal(narrow.Z, wide.Z.astype(np.float32))
    np.testing.assert_array_equal(narrow.noise, wide.noise)
    shifted = E.sample_trials(5, 20, 2, 8, family="shifted_gaussian", dtype="float32")
    reference = E.sample_trials(5, 20, 2, 8, family="shifted_gaussian")
    np.testing.assert_array_equal(shifted.Z, reference.Z.astype(np.float32))


@pytest.mark.parametrize("dtype", E.INPUT_DTYPES)
def test_engine_matches_the_loop_on_either_storage(dtype):
    batch = E.sample_trials(20, 60, 5, 12, dtype=dtype)
    fast = E.run_ste_method(batch, 200)
    slow = E.run_ste_method_reference(batch, 200)
    np.testing.assert_array_equal(fast.ergodic_sum, slow.ergodic_sum)
    np.testing.assert_array_equal(fast.last_iterate(), slow.last_iterate())
    assert fast.flips > 0 and 0 < fast.moving_steps <= 5 * 200


def test_threads_and_progress_groups_do_not_change_a_run():
    batch = E.sample_trials(12, 30, 5, 6, noise_std=0.2)
    together = E.run_ste_method(batch, 60, record=True)
    with E.single_threaded():
        alone = E.run_ste_method(batch, 60, record=True, progress=True)
    for field in ("ergodic_sum", "w_last", "frozen_at", "distance", "empirical_loss"):
        np.testing.assert_array_equal(getattr(together, field), getattr(alone, field))
    assert (together.flips, together.moving_steps) == (alone.flips, alone.moving_steps)


def test_each_trial_drawn_from_its_own_seed_does_not_depend_on_its_batch():
    seeds = np.random.SeedSequence(5).spawn(3)
    options = {"noise_std": 0.4, "m": 16, "dtype": "float32"}
    batch = E.sample_trials_per_seed(7, 25, seeds, **options)
    for t, seed in enumerate(seeds):
        alone = E.sample_trials(7, 25, 1, seed, **options)
        for name in ("Z", "label_signs", "noise", "w_star"):
            np.testing.assert_array_equal(getattr(batch, name)[t], getattr(alone, name)[0])
    standardized = E.sample_trials_per_seed(
        4, 20, seeds[:2], family="exponential", standardize=True, teacher_inputs="raw"
    )
    alone = E.sample_trials(
        4, 20, 1, seeds[1], family="exponential", standardize=True, teacher_inputs="raw"
    )
    np.testing.assert_array_equal(standardized.Z[1], alone.Z[0])
    np.testing.assert_array_equal(standardized.label_signs[1], alone.label_signs[0])
    with pytest.raises(ValueError, match=r"seeds must name at least one trial"):
        E.sample_trials_per_seed(3, 4, [])


def test_trials_per_chunk_keeps_the_budget_and_refuses_a_trial_that_does_not_fit():
    need = E.trial_bytes(200, 4096, 128, dtype="float32")
    assert need == pytest.approx(4 * 200 * 4096 * 128 + 9 * 4096 * 128 + 16 * 4096 * 200)
    assert E.trials_per_chunk(200, 4096, 128, dtype="float32") == int(E.MEMORY_BUDGET // need)
    assert E.trial_bytes(10, 10, 8, standardize=True) > E.trial_bytes(10, 10, 8)
    with pytest.raises(ValueError, match=r"needs 6\.8\d GB, more than the memory budget of 4\.00"):
        E.trials_per_chunk(400, 16384, 128)
    with pytest.raises(ValueError, match=r"dtype must be one of 'float64', 'float32'"):
        E.sample_trials(3, 4, 2, 0, dtype="float16")


@pytest.mark.parametrize(
    "update",
    [E.IncrementalUpdate(flip_step=1.0), E.IncrementalUpdate(noise_weight=0.0)],
    ids=["flip-step-halved", "noise-forgotten"],
)
def test_a_broken_incremental_update_leaves_the_loop(monkeypatch, update):
    """The mutation point of the engine: a wrong update after a flip changes the decisions."""
    batch = E.sample_trials(12, 30, 6, 3, noise_std=0.4)
    slow = E.run_ste_method_reference(batch, 150)
    monkeypatch.setattr(E, "INCREMENTAL_UPDATE", update)
    broken = E.run_ste_method(batch, 150)
    assert not np.array_equal(broken.ergodic_sum, slow.ergodic_sum)
    start = E.run_ste_method(batch, 1)  # one step uses only the start, computed from scratch
    np.testing.assert_array_equal(
        start.ergodic_sum, E.run_ste_method_reference(batch, 1).ergodic_sum
    )
