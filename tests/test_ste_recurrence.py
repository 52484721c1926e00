from dataclasses import replace

import numpy as np
import pytest
from scipy import stats as sps

from quantheory.ste import engine, escape
from quantheory.ste import recurrence as rec
from quantheory.ste import recurrence_claims as checks
from quantheory.ste.engine import gradient_at, sample_trials
from quantheory.ste.model import TeacherProblem, second_layer, ste_gradient


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


ESCAPE_CELLS = ((40, 0.5), (40, 1.0), (80, 0.5))


def _escapes(**kwargs):
    return escape.escape_experiment(12, ESCAPE_CELLS, 24, 1.0, 3, **kwargs)


@pytest.fixture(scope="module")
def escapes():
    return _escapes(reference_trials=4)


def test_escape_law_agrees_with_the_model_without_the_engine():
    """The data-free law against escape steps from the model's own sampling (not the engine)."""
    n, N, s = 6, 30, 0.8
    rng = np.random.default_rng(12)
    v = second_layer(16)
    steps = []
    for _ in range(600):
        w_star = rng.choice(np.array([-1.0, 1.0]), n)
        problem = TeacherProblem(w_star, v, s)
        Z = problem.sample_inputs(rng, N)
        g = ste_gradient(Z, problem.sample_labels(rng, Z), w_star, v)
        steps.append(escape.first_crossing_step(w_star[None], w_star[None], g[None], 1.0)[0])
    pit = escape.randomized_pit(
        np.array(steps),
        lambda t: escape.escape_step_cdf(t, n, N, s, 1.0, 1.0),
        escape.MAX_STEPS,
        np.random.default_rng(13),
    )
    assert sps.kstest(pit, "uniform").pvalue > 1e-4
    median = escape.escape_step_median(n, N, s, 1.0, 1.0)
    cdf = escape.escape_step_cdf(np.array([median - 1, median]), n, N, s, 1.0, 1.0)
    assert cdf[0] < 0.5 <= cdf[1]


def test_randomized_pit_of_a_censored_step():
    cdf = lambda t: np.clip(np.asarray(t, dtype=float) / 10, 0, 1)  # noqa: E731
    pit = escape.randomized_pit(np.array([3.0, np.inf]), cdf, 5, np.random.default_rng(0))
    assert 0.2 <= pit[0] <= 0.3 and 0.5 <= pit[1] <= 1.0


def _noise_scaled(factor):
    def sample(*args, **kwargs):
        batch = sample_trials(*args, **kwargs)
        return replace(batch, noise=factor * batch.noise)

    return sample


@pytest.mark.mutation("ste.thm3_escape_time")
@pytest.mark.parametrize("factor", [0.5, 0.1], ids=["noise-times-0.5", "noise-times-0.1"])
def test_escape_claim_fails_when_the_data_have_the_wrong_noise(monkeypatch, factor):
    """The data path: label noise scaled in the training sets; only the data-free law sees it."""
    monkeypatch.setattr(escape, "sample_trials", _noise_scaled(factor))
    broken = _escapes(reference_trials=2)
    assert all(np.array_equal(c.predicted, c.simulated) for c in broken)
    claim = checks.escape_time_claim(broken)
    assert not claim.passed and "law" in claim.summary


@pytest.mark.mutation("ste.thm3_escape_time")
def test_escape_claim_fails_when_the_law_has_the_wrong_dependence_on_n_samples(monkeypatch):
    """The law with N in place of sqrt(N) in the scale of g_N(w*) (variance s^2 |v|^2 / N^2)."""
    real = escape.escape_step_cdf

    def wrong(steps, n, n_samples, noise_std, v_norm, step_size):
        return real(steps, n, n_samples, noise_std / np.sqrt(n_samples), v_norm, step_size)

    monkeypatch.setattr(escape, "escape_step_cdf", wrong)
    claim = checks.escape_time_claim(_escapes(reference_trials=2))
    assert not claim.passed and "law" in claim.summary


def test_escape_claim_passes_on_simulations(escapes):
    assert np.isfinite(np.concatenate([c.simulated for c in escapes])).all()
    claim = checks.escape_time_claim(escapes)
    assert claim.passed, claim.as_text()
    for check in escapes:
        # the compared steps go past every compared trial's escape
        assert check.trajectory.n_steps >= check.simulated[:4].max() + escape.AFTER_ESCAPE
        assert check.trajectory.engine_distance[:, -1].max() > 0


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
    broken = _escapes(reference_trials=2, predictor=predictor)
    assert not checks.escape_time_claim(broken).passed


#: the engine's incremental update with u_new - u_old taken as +-1 instead of +-2
HALVED_FLIPS = engine.IncrementalUpdate(flip_step=1.0)
#: the engine's incremental update recomputing the residuals without the label noise
NOISE_FORGOTTEN = engine.IncrementalUpdate(noise_weight=0.0)


@pytest.mark.mutation("ste.thm3_escape_time")
@pytest.mark.parametrize(
    "update", [HALVED_FLIPS, NOISE_FORGOTTEN], ids=["update-halved", "noise-forgotten"]
)
def test_escape_claim_fails_when_the_engine_goes_wrong_after_the_escape(monkeypatch, update):
    monkeypatch.setattr(engine, "INCREMENTAL_UPDATE", update)
    broken = _escapes(reference_trials=4)
    # the first escape happens before any incremental update: it is still predicted exactly
    assert all(np.array_equal(c.predicted, c.simulated) for c in broken)
    assert not all(c.trajectory.matching.all() for c in broken)
    assert not checks.escape_time_claim(broken).passed


def test_reference_trajectory_is_the_engine_on_a_small_problem():
    batch = sample_trials(6, 20, 2, 11, noise_std=1.0)
    check = escape.compare_trajectories(batch, np.array([3.0, 5.0]), 1.0, 2)
    assert check.n_steps == 5 + escape.AFTER_ESCAPE
    assert check.matching.all() and check.weights_gap < 1e-12
    with pytest.raises(ValueError, match=r"n_trials must be at most 2, got 3"):
        escape.compare_trajectories(batch, np.array([3.0, 5.0]), 1.0, 3)


REGIME_SIZES, REGIME_NOISE = (140, 280), (0.1, 0.25, 0.5)


@pytest.fixture(scope="module")
def noisy_map():
    runs = rec.recurrence_map(25, REGIME_SIZES, REGIME_NOISE, 12, 800, 4)
    negative = rec.recurrence_runs(25, *checks.NEGATIVE_CONTROL, 64, 800, 5)
    noiseless = rec.recurrence_runs(25, 140, 0.0, 48, 800, 6, start="zero")
    return runs, negative, noiseless


def _claim(runs, negative, noiseless):
    table = checks.recurrence_table(runs)
    return checks.recurrence_claim(table, checks.cell_statistics(negative), noiseless)


def test_recurrence_claim_passes_on_noisy_runs(noisy_map):
    claim = _claim(*noisy_map)
    assert claim.passed, claim.as_text()
    table = checks.recurrence_table(noisy_map[0])
    recurrent = sum(table[cell].recurrent_runs for cell in checks.REGIME)
    assert recurrent >= 0.9 * sum(table[cell].n_runs for cell in checks.REGIME)


@pytest.mark.mutation("ste.thm3_recurrence")
def test_recurrence_claim_fails_without_noise(noisy_map):
    runs, negative, noiseless = noisy_map
    silent = rec.recurrence_runs(25, 140, 0.0, 12, 800, 7)  # from w*: never leaves
    claim = _claim({cell: silent for cell in runs}, negative, noiseless)
    assert not claim.passed and "regime" in claim.summary


def _with_distance(runs: rec.RecurrenceRuns, distance: np.ndarray) -> rec.RecurrenceRuns:
    return rec.RecurrenceRuns(**{**runs.__dict__, "distance": distance})


def _second_half(runs: rec.RecurrenceRuns, value: int) -> rec.RecurrenceRuns:
    forced = runs.distance.copy()
    forced[:, forced.shape[1] // 2 :] = value
    return _with_distance(runs, forced)


def _fewer_returns_later(runs: rec.RecurrenceRuns) -> rec.RecurrenceRuns:
    """Every third excursion in the second half filled in (stays at w*): returns grow slower."""
    forced = runs.distance.copy()
    half = forced.shape[1] // 2
    for row in forced:
        away = np.flatnonzero(row[half:] > 0) + half
        starts = away[np.r_[True, np.diff(away) > 1]] if away.size else away
        ends = np.r_[away[np.flatnonzero(np.diff(away) > 1)], away[-1:]] if away.size else away
        for a, b in list(zip(starts, ends, strict=True))[::3]:
            row[a : b + 1] = 0
    return _with_distance(runs, forced)


@pytest.mark.mutation("ste.thm3_recurrence")
@pytest.mark.parametrize(
    "drift",
    [lambda r: _second_half(r, 3), lambda r: _second_half(r, 0), _fewer_returns_later],
    ids=["second-half-away", "second-half-at-w*", "returns-slow-down"],
)
def test_recurrence_claim_fails_when_returns_do_not_grow_linearly(noisy_map, drift):
    runs, negative, noiseless = noisy_map
    claim = _claim({cell: drift(r) for cell, r in runs.items()}, negative, noiseless)
    assert not claim.passed and "steady" in claim.summary


def test_too_few_returns_fail_the_equivalence_test(noisy_map):
    runs, negative, noiseless = noisy_map
    short = {cell: _with_distance(r, r.distance[:3, :40]) for cell, r in runs.items()}
    claim = _claim(short, negative, noiseless)
    assert not claim.passed and "steady" in claim.summary


@pytest.mark.mutation("ste.thm3_recurrence")
def test_recurrence_claim_fails_when_the_negative_control_recurs(noisy_map):
    runs, _, noiseless = noisy_map
    recurring = rec.recurrence_runs(25, 280, 0.25, 64, 400, 8)  # noise the sample can carry
    claim = _claim(runs, recurring, noiseless)
    assert not claim.passed and "negative" in claim.summary


@pytest.mark.mutation("ste.thm3_recurrence")
def test_recurrence_claim_fails_with_a_noisy_noiseless_control(noisy_map):
    runs, negative, _ = noisy_map
    noisy = rec.recurrence_runs(25, 140, 0.5, 48, 400, 9, start="zero")
    claim = _claim(runs, negative, noisy)
    assert not claim.passed and "noiseless" in claim.summary


@pytest.mark.mutation("ste.thm3_recurrence")
def test_recurrence_claim_fails_when_the_engine_update_is_wrong(noisy_map, monkeypatch):
    runs, negative, _ = noisy_map
    monkeypatch.setattr(engine, "INCREMENTAL_UPDATE", HALVED_FLIPS)
    broken = rec.recurrence_runs(25, 140, 0.0, 48, 200, 6, start="zero")
    claim = _claim(runs, negative, broken)
    assert not claim.passed and "noiseless" in claim.summary


def test_regime_cells_must_be_in_the_map(noisy_map):
    runs, negative, noiseless = noisy_map
    partial = {cell: r for cell, r in runs.items() if cell != checks.PAPER_CELL}
    with pytest.raises(ValueError, match=r"lacks the regime cells \[\(140, 0.5\)\]"):
        _claim(partial, negative, noiseless)


def test_returns_occupation_and_return_times_on_a_handmade_path():
    distance = np.array(
        [[0, 1, 2, 0, 0, 3, 0, 1], [2, 2, 0, 0, 1, 0, 0, 0], [1, 1, 1, 1, 1, 1, 1, 1]]
    )
    runs = rec.RecurrenceRuns(3, 5, 0.1, None, distance, np.zeros((3, 8)), "x")
    np.testing.assert_array_equal(runs.returns(), [2, 2, 0])
    assert runs.occupation()[0] == pytest.approx(4 / 8)
    np.testing.assert_array_equal(runs.return_times()[:2], [2, 1])  # steps spent away
    np.testing.assert_array_equal(runs.reached(), [True, True, False])
    np.testing.assert_array_equal(runs.left_after_arrival(), [True, True, False])


def test_a_recurrent_training_set_arrives_twice_in_each_half():
    # burn-in is the first 2 of 10 steps; halves are steps 2..6 and 6..9
    twice = [0, 0, 1, 0, 1, 0, 1, 0, 1, 0]
    once_later = [0, 0, 1, 0, 1, 0, 1, 1, 1, 0]
    distance = np.array([twice, once_later])
    runs = rec.RecurrenceRuns(3, 5, 0.1, None, distance, np.zeros((2, 10)), "x")
    cell = rec.cell_statistics(runs)
    np.testing.assert_array_equal(cell.returns_second, [2, 1])
    assert cell.recurrent_runs == 1


def test_cell_statistics_intervals(noisy_map):
    cell = checks.recurrence_table(noisy_map[0])[(280, 0.1)]
    budget_low, budget_high = cell.occupation_interval(6)
    low, high = cell.occupation_interval()
    assert budget_low < low < cell.mean_occupation < high < budget_high
    rate, rate_low, rate_high = cell.returns_interval()
    assert 0 < rate_low < rate < rate_high
    ratio, ratio_low, ratio_high = cell.returns_ratio()
    assert ratio_low < ratio < ratio_high


def test_ratio_interval_is_unbounded_without_a_clear_denominator():
    a, b = np.array([5.0, 6.0, 4.0]), np.array([0.0, 1.0, 0.0])
    assert rec.ratio_interval(a, b, 5.0)[1:] == (-np.inf, np.inf)
    with pytest.raises(ValueError, match=r"paired 1-D samples"):
        rec.ratio_interval(a, b[:2], 5.0)
