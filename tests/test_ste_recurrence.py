import numpy as np
import pytest

from quantheory.ste import escape
from quantheory.ste import recurrence as rec
from quantheory.ste import recurrence_claims as checks
from quantheory.ste.engine import gradient_at, sample_trials


def test_first_crossing_handles_both_signs_and_ties():
    w_star = np.array([[1.0, -1.0, 1.0]])
    w0 = np.array([[1.0, -1.0, 1.0]])
    # coordinate 0 moves down by 0.25 a step: 1 - 4*0.25 = 0 is still +1, step 5 is negative
    # coordinate 1 moves up by 0.5 a step: -1 + 2*0.5 = 0 counts as +1, so step 2
    g = np.array([[0.25, -0.5, -1.0]])  # coordinate 2 moves away from zero
    assert escape.first_crossing_step(w0, w_star, g, 1.0)[0] == 2
    assert escape.first_crossing_step(w0, w_star, g * np.array([1, 0.1, 1]), 1.0)[0] == 5
    away = np.array([[-0.25, 0.5, -1.0]])  # every coordinate moves away from zero
    assert escape.first_crossing_step(w0, w_star, away, 1.0)[0] == np.inf


def test_first_crossing_needs_a_start_at_w_star():
    with pytest.raises(ValueError, match=r"w0 must have the signs of w_star"):
        escape.first_crossing_step(
            np.array([[1.0, 1.0]]), np.array([[1.0, -1.0]]), np.ones((1, 2)), 1.0
        )


def test_model_gradient_agrees_with_the_engine_and_vanishes_without_noise():
    noisy = sample_trials(8, 30, 4, 2, noise_std=0.5)
    np.testing.assert_allclose(
        escape.model_gradient_at_star(noisy), gradient_at(noisy, noisy.w_star), atol=1e-12
    )
    clean = sample_trials(8, 30, 4, 2)
    assert not np.any(escape.model_gradient_at_star(clean))


@pytest.fixture(scope="module")
def escapes():
    return escape.escape_experiment(12, 40, (0.5, 1.0), 10, 1.0, 3)


def test_escape_claim_passes_on_simulations(escapes):
    assert np.isfinite(np.concatenate([c.simulated for c in escapes])).all()
    assert checks.escape_time_claim(escapes).passed


@pytest.mark.mutation("ste.thm3_escape_time")
@pytest.mark.parametrize(
    "predictor",
    [
        # the gradient shrunk and reversed, in the prediction only
        lambda batch, eta: escape.first_crossing_step(
            batch.w_star, batch.w_star, -0.37 * escape.model_gradient_at_star(batch), eta
        ),
        # a step size off by a factor 1.5
        lambda batch, eta: escape.predicted_escape_steps(batch, 1.5 * eta),
        # off by one: the step at which the coordinate reaches zero, not crosses it
        lambda batch, eta: escape.predicted_escape_steps(batch, eta) - 1,
    ],
    ids=["gradient-times-minus-0.37", "eta-times-1.5", "off-by-one"],
)
def test_escape_claim_fails_with_a_wrong_prediction(predictor):
    broken = escape.escape_experiment(12, 40, (0.5, 1.0), 10, 1.0, 3, predictor=predictor)
    assert not checks.escape_time_claim(broken).passed


@pytest.fixture(scope="module")
def noisy_map():
    runs = rec.recurrence_map(25, (140, 280), (0.1, 1.0), 12, 600, 4)
    control = rec.recurrence_runs(25, 140, 0.0, 12, 600, 5)
    return runs, control


def test_recurrence_claim_passes_on_noisy_runs(noisy_map):
    table, control = checks.recurrence_table(*noisy_map)
    claim = checks.recurrence_claim(table, control)
    assert claim.passed, claim.as_text()
    assert table[(280, 0.1)].recurrent and not control.recurrent


@pytest.mark.mutation("ste.thm3_recurrence")
def test_recurrence_claim_fails_without_noise(noisy_map):
    _, control = noisy_map
    silent = {cell: control for cell in noisy_map[0]}  # the iterate never leaves w*
    table, control_stats = checks.recurrence_table(silent, control)
    assert not any(c.recurrent for c in table.values())
    assert not checks.recurrence_claim(table, control_stats).passed


def _with_second_half(runs: rec.RecurrenceRuns, distance: int) -> rec.RecurrenceRuns:
    forced = runs.distance.copy()
    forced[:, forced.shape[1] // 2 :] = distance
    return rec.RecurrenceRuns(**{**runs.__dict__, "distance": forced})


@pytest.mark.mutation("ste.thm3_recurrence")
@pytest.mark.parametrize("distance", [3, 0], ids=["second-half-away", "second-half-at-w*"])
def test_recurrence_claim_fails_for_a_drifting_occupation(noisy_map, distance):
    runs, control = noisy_map
    drifting = {cell: _with_second_half(r, distance) for cell, r in runs.items()}
    table, control_stats = checks.recurrence_table(drifting, control)
    assert not all(c.steady for c in table.values())
    assert not checks.recurrence_claim(table, control_stats).passed


@pytest.mark.mutation("ste.thm3_recurrence")
def test_recurrence_claim_fails_when_recurrence_stops_at_larger_n(noisy_map):
    runs, control = noisy_map
    table, control_stats = checks.recurrence_table(runs, control)
    swapped = {**table, (280, 0.1): table[(140, 1.0)], (140, 0.1): table[(280, 0.1)]}
    assert not checks.recurrence_claim(swapped, control_stats).passed


def test_returns_occupation_and_return_times_on_a_handmade_path():
    distance = np.array([[0, 1, 2, 0, 0, 3, 0, 1]])
    runs = rec.RecurrenceRuns(3, 5, 0.1, None, distance, np.zeros((1, 8)), "x")
    assert runs.returns()[0] == 2
    assert runs.occupation()[0] == pytest.approx(4 / 8)
    np.testing.assert_array_equal(runs.return_times(), [2, 1])  # steps spent away


def test_cell_statistics_intervals(noisy_map):
    table, _ = checks.recurrence_table(*noisy_map)
    cell = table[(280, 0.1)]
    assert cell.budget_low < cell.low < cell.occupation < cell.high < cell.budget_high
    assert cell.returns_per_1000 > 0
