import numpy as np
import pytest

from quantheory.ste import recurrence as rec
from quantheory.ste import recurrence_claims as checks
from quantheory.ste.engine import sample_trials


def test_escape_time_formula_handles_both_signs_and_ties():
    w_star = np.array([[1.0, -1.0, 1.0]])
    w0 = np.array([[1.0, -1.0, 1.0]])
    # coordinate 0 moves down by 0.25 a step: 1 - 4*0.25 = 0 is still +1, step 5 is negative
    # coordinate 1 moves up by 0.5 a step: -1 + 2*0.5 = 0 counts as +1, so step 2
    g = np.array([[0.25, -0.5, -1.0]])  # coordinate 2 moves away from zero
    assert rec.predicted_escape_time(w0, w_star, g, 1.0)[0] == 2
    assert rec.predicted_escape_time(w0, w_star, g * np.array([1, 0.1, 1]), 1.0)[0] == 5
    away = np.array([[-0.25, 0.5, -1.0]])  # every coordinate moves away from zero
    assert rec.predicted_escape_time(w0, w_star, away, 1.0)[0] == np.inf


def test_escape_time_needs_a_start_at_w_star():
    with pytest.raises(ValueError, match=r"w0 must have the signs of w_star"):
        rec.predicted_escape_time(
            np.array([[1.0, 1.0]]), np.array([[1.0, -1.0]]), np.ones((1, 2)), 1.0
        )


@pytest.fixture(scope="module")
def escapes():
    return rec.escape_experiment(12, 40, (0.5, 1.0), 10, 1.0, 3)


def test_escape_claim_passes_on_simulations(escapes):
    assert checks.escape_time_claim(escapes).passed


@pytest.mark.parametrize("shift", [1.0, -1.0])
def test_escape_claim_fails_on_an_off_by_one_prediction(escapes, shift):
    broken = [
        rec.EscapeCheck(c.noise_std, c.predicted + shift, c.simulated, c.seed) for c in escapes
    ]
    assert not checks.escape_time_claim(broken).passed


def test_escape_claim_fails_with_a_wrong_step_size(escapes):
    batch = sample_trials(12, 40, 10, 5, noise_std=0.5)
    from quantheory.ste.engine import gradient_at

    wrong = rec.predicted_escape_time(
        batch.w_star, batch.w_star, gradient_at(batch, batch.w_star), 0.5
    )
    right = rec.predicted_escape_time(
        batch.w_star, batch.w_star, gradient_at(batch, batch.w_star), 1.0
    )
    assert not np.array_equal(wrong, right)


@pytest.fixture(scope="module")
def noisy_runs():
    return rec.recurrence_runs(25, 140, 0.5, 8, 8000, 4)


def test_recurrence_claim_passes_on_noisy_runs(noisy_runs):
    claim = checks.recurrence_claim(noisy_runs)
    assert claim.passed, claim.as_text()


def test_recurrence_claim_fails_without_noise():
    runs = rec.recurrence_runs(25, 140, 0.0, 4, 500, 4)
    assert not checks.recurrence_claim(runs).passed


def test_recurrence_claim_fails_for_a_drifting_occupation(noisy_runs):
    distance = noisy_runs.distance.copy()
    distance[:, distance.shape[1] // 2 :] = np.where(
        distance[:, distance.shape[1] // 2 :] == 0, 0, 0
    )  # second half always at w*
    drifting = rec.RecurrenceRuns(**{**noisy_runs.__dict__, "distance": distance})
    assert not checks.recurrence_claim(drifting).passed


def test_returns_occupation_and_return_times_on_a_handmade_path():
    distance = np.array([[0, 1, 2, 0, 0, 3, 0, 1]])
    runs = rec.RecurrenceRuns(3, 5, 0.1, None, distance, np.zeros((1, 8)), "x")
    assert runs.returns()[0] == 2
    assert runs.occupation()[0] == pytest.approx(4 / 8)
    np.testing.assert_array_equal(runs.return_times(), [2, 1])  # steps spent away


def test_occupation_summary_interval(noisy_runs):
    summary = rec.occupation_summary(noisy_runs, 0.5)
    assert summary.low < summary.mean < summary.high
