from dataclasses import replace

import numpy as np
import pytest
from scipy.special import expit

from quantheory.ste import engine
from quantheory.ste import last_iterate as li
from quantheory.ste import last_iterate_claims as last_checks
from quantheory.ste import sample_complexity as sc
from quantheory.ste.engine import SteRun, sample_trials

SIZES = np.array(sc.log2_grid(2, 14))


def test_logistic_n50_agrees_with_the_fit_of_the_theorem_1_chapter():
    rng = np.random.default_rng(0)
    p = expit(3.0 * (np.log(SIZES)[None, :] - np.log([[12.0], [40.0]])))
    counts = rng.binomial(30, p)
    np.testing.assert_allclose(
        li.logistic_n50(SIZES, counts, 30), sc.fit_n50(SIZES, counts, 30), rtol=1e-4
    )
    flat = np.zeros((1, SIZES.size), dtype=int)
    assert np.isnan(li.logistic_n50(SIZES, flat, 30)[0])


def test_logistic_n50_converges_for_a_transition_at_one_end_of_a_long_grid():
    """A bootstrap row that once drove the Newton fit from the grid's middle to N50 ~ 1e-22."""
    sizes = np.array(sc.log2_grid(4, 23))
    row = np.array([[0, 0, 1, 6, 14, 29, 32, 30] + [32] * 12])
    np.testing.assert_allclose(
        li.logistic_n50(sizes, row, 32), sc.fit_n50(sizes, row, 32), rtol=1e-4
    )


@pytest.fixture(scope="module")
def clean_grid():
    return sc.success_grid([6, 12], SIZES, 16, 200, 7)


@pytest.fixture(scope="module")
def clean_batches():
    return [sample_trials(6, 10, 5, 1), sample_trials(12, 30, 5, 2)]


def test_outcome_counts_partition_every_cell(clean_grid):
    counts = li.outcome_counts(clean_grid)
    assert np.all(counts.sum(axis=-1) == clean_grid.n_trials)
    twice = li.swap_estimates(li.swap_estimates(clean_grid))
    np.testing.assert_array_equal(twice.last_only, clean_grid.last_only)
    np.testing.assert_array_equal(twice.ergodic, clean_grid.ergodic)


def test_model_gradient_at_w_star_vanishes_only_without_noise(clean_batches):
    assert not np.any(li.model_absorbing_gradients(clean_batches))
    noisy = [sample_trials(6, 10, 5, 1, noise_std=0.5)]
    assert np.all(li.model_absorbing_gradients(noisy) > 0)


def test_last_iterate_claims_pass_on_a_clean_grid(clean_grid, clean_batches):
    assert last_checks.absorbed_mismatch(clean_grid) == 0
    comparison = li.compare_last_and_ergodic(clean_grid, 300, 0)
    claim = last_checks.last_iterate_claim(comparison, clean_grid, clean_batches, 20)
    assert claim.passed, claim.as_text()
    finding = last_checks.last_vs_ergodic_claim(comparison)
    assert finding.passed, finding.as_text()
    assert finding.kind == "finding"


@pytest.mark.mutation("ste.thm2_last_iterate")
def test_last_iterate_claim_fails_when_w_star_is_not_absorbing(clean_grid):
    comparison = li.compare_last_and_ergodic(clean_grid, 300, 0)
    noisy = [sample_trials(6, 10, 5, 1, noise_std=0.5)]
    assert li.absorbing_violations(noisy[0], 20) == 5
    assert not last_checks.last_iterate_claim(comparison, clean_grid, noisy, 20).passed


@pytest.fixture(scope="module")
def chapter_row():
    """One row (n = 40) at the chapter's horizon and trials, around its transition."""
    return sc.success_grid([40], [32, 45, 64, 91, 128, 181], 32, 400, 11)


def swapped_engine_row(monkeypatch):
    """The same row, run with the engine's two estimates exchanged."""
    ergodic, last = SteRun.ergodic_estimate, SteRun.last_iterate
    monkeypatch.setattr(SteRun, "ergodic_estimate", last)
    monkeypatch.setattr(SteRun, "last_iterate", ergodic)
    return sc.success_grid([40], [32, 45, 64, 91, 128, 181], 32, 400, 11)


@pytest.mark.mutation("ste.thm2_last_iterate")
def test_last_iterate_claim_fails_with_estimates_swapped_in_the_engine(
    chapter_row, clean_batches, monkeypatch
):
    honest = last_checks.last_iterate_claim(
        li.compare_last_and_ergodic(chapter_row, 300, 0), chapter_row, clean_batches, 20
    )
    assert honest.passed, honest.as_text()
    assert li.outcome_counts(chapter_row)[..., 1].sum() > 0  # the estimates differ somewhere
    swapped = swapped_engine_row(monkeypatch)
    np.testing.assert_array_equal(swapped.last, chapter_row.ergodic)
    claim = last_checks.last_iterate_claim(
        li.compare_last_and_ergodic(swapped, 300, 0), swapped, clean_batches, 20
    )
    assert not claim.passed and "FAILS" in claim.margin


@pytest.mark.mutation("ste.thm2_last_iterate")
def test_last_iterate_claim_fails_with_swapped_grid_counts(chapter_row, clean_batches):
    swapped = li.swap_estimates(chapter_row)
    comparison = li.compare_last_and_ergodic(swapped, 300, 0)
    assert last_checks.absorbed_mismatch(swapped) > 0
    assert not last_checks.last_iterate_claim(comparison, swapped, clean_batches, 20).passed


@pytest.mark.mutation("ste.thm2_last_iterate")
def test_last_iterate_claim_fails_for_an_early_last_only_success(clean_grid, clean_batches):
    early = clean_grid.last_only_early.copy()
    early[0, 0] = 1
    broken = sc.SuccessGrid(**{**clean_grid.__dict__, "last_only_early": early})
    comparison = li.compare_last_and_ergodic(clean_grid, 300, 0)
    assert not last_checks.last_iterate_claim(comparison, broken, clean_batches, 20).passed


def _grid_from_transitions(ns, ergodic_n50, last_n50, trials=400):
    """A grid with the exact expected counts of two logistic transitions in log N."""

    def counts(n50):
        p = expit(4.0 * (np.log(SIZES)[None, :] - np.log(np.asarray(n50))[:, None]))
        return np.round(p * trials).astype(int)

    ergodic, last = counts(ergodic_n50), counts(last_n50)
    both = np.minimum(ergodic, last)
    zeros = np.zeros_like(ergodic)
    return sc.SuccessGrid(
        np.asarray(ns),
        SIZES,
        trials,
        100,
        0.0,
        ergodic,
        last,
        last - both,
        last,
        zeros,
        zeros,
        "synthetic",
    )


def test_finding_passes_when_the_exponents_agree(clean_batches):
    ns = np.array([6, 10, 16, 25])
    behind = _grid_from_transitions(ns, 0.5 * ns**1.5, 0.55 * ns**1.55)
    comparison = li.compare_last_and_ergodic(behind, 300, 0)
    assert last_checks.last_vs_ergodic_claim(comparison).passed
    assert last_checks.last_iterate_claim(comparison, behind, clean_batches, 20).passed


@pytest.mark.mutation("ste.thm2_last_iterate")
@pytest.mark.parametrize("factor", [0.6, 3.0])
def test_band_fails_when_the_last_iterate_is_ahead_or_far_behind(factor, clean_batches):
    """Wrong direction (last N50 = 0.6 x ergodic) or wrong size (3 x) fails the band."""
    ns = np.array([6, 10, 16])
    grid = _grid_from_transitions(ns, 0.5 * ns**1.5, factor * 0.5 * ns**1.5)
    comparison = li.compare_last_and_ergodic(grid, 300, 0)
    claim = last_checks.last_iterate_claim(comparison, grid, clean_batches, 20)
    assert not claim.passed and "exact parts hold" in claim.margin


@pytest.mark.mutation("ste.thm2_last_vs_ergodic")
def test_finding_fails_when_the_last_iterate_falls_behind_with_n():
    """A wrong exponent: the last iterate's N50 grows like n^2.1 where the ergodic's is n^1.5."""
    ns = np.array([6, 10, 16, 20])
    behind = _grid_from_transitions(ns, 0.5 * ns**1.5, 0.5 * 6**-0.6 * ns**2.1)
    comparison = li.compare_last_and_ergodic(behind, 300, 0)
    assert not last_checks.last_vs_ergodic_claim(comparison).passed


@pytest.mark.mutation("ste.thm2_last_vs_ergodic")
def test_finding_fails_when_the_last_iterate_catches_up():
    """A wrong dependence: the last iterate's N50 grows like n^1 where the ergodic's is n^1.5."""
    ns = np.array([6, 10, 16, 25])
    catching_up = _grid_from_transitions(ns, 0.5 * ns**1.5, 0.5 * 6**0.5 * ns**1.0)
    comparison = li.compare_last_and_ergodic(catching_up, 300, 0)
    assert not last_checks.last_vs_ergodic_claim(comparison).passed


def _quick_design():
    """The quick grid's design (n = 10, 25, 50; 64 trials), N extended three half-octaves."""
    return last_checks.power_design("quick")


ERGODIC_N50 = 0.28 * np.array([10, 25, 50]) ** 1.5  # the quick grids' ergodic N50


@pytest.mark.mutation("ste.thm2_last_iterate")
def test_band_fails_on_a_binomial_grid_three_times_behind(clean_batches):
    """Realistic counts (binomial, paired) with the last iterate 3 x behind fail the band.

    At 2.5 x the band is not reliably failed at this design (the claim's margin says so).
    """
    design = _quick_design()
    behind = li.simulated_grid(design, ERGODIC_N50, 3.0 * ERGODIC_N50, 4.0, 21)
    assert last_checks.absorbed_mismatch(behind) == 0
    comparison = li.compare_last_and_ergodic(behind, 300, 0)
    claim = last_checks.last_iterate_claim(comparison, behind, clean_batches, 20)
    assert not claim.passed and "exact parts hold" in claim.margin


def test_claims_pass_on_a_binomial_grid_with_equal_exponents(clean_batches):
    """Power of the finding at the quick design: equal exponents pass despite the noise."""
    design = _quick_design()
    equal = li.simulated_grid(design, ERGODIC_N50, 1.05 * ERGODIC_N50, 4.0, 22)
    comparison = li.compare_last_and_ergodic(equal, 300, 0)
    assert last_checks.last_vs_ergodic_claim(comparison).passed
    assert last_checks.last_iterate_claim(comparison, equal, clean_batches, 20).passed


@pytest.mark.mutation("ste.thm2_last_vs_ergodic")
def test_finding_fails_on_a_binomial_grid_with_a_wrong_exponent():
    """Realistic counts whose last-iterate exponent is 0.6 larger fail the finding."""
    design = _quick_design()
    ns = design.ns
    behind = li.simulated_grid(design, ERGODIC_N50, ERGODIC_N50 * (ns / 10) ** 0.6, 4.0, 23)
    comparison = li.compare_last_and_ergodic(behind, 300, 0)
    assert not last_checks.last_vs_ergodic_claim(comparison).passed


def test_simulated_grid_rejects_a_wrong_shape():
    with pytest.raises(ValueError, match=r"must have shape \(3,\)"):
        li.simulated_grid(_quick_design(), ERGODIC_N50[:2], ERGODIC_N50, 4.0, 0)


def test_exponent_finding_fits_the_rows_up_to_n_100_and_reports_every_row():
    """A last iterate 3x behind at n = 200 only is reported, not tested by the finding."""
    ns = np.array([10, 25, 50, 100, 200])
    ergodic = np.array([4.0, 6.0, 9.0, 13.0, 20.0])  # inside the grid of N from 2 to 128
    late = _grid_from_transitions(ns, ergodic, ergodic * np.where(ns > 100, 3.0, 1.02))
    comparison = li.compare_last_and_ergodic(late, 400, 3)
    claim = last_checks.last_vs_ergodic_claim(comparison)
    assert claim.passed, claim.as_text()
    every = claim.measured["slope over every n of the grid (reported, not tested)"]
    assert float(every.split()[0]) > 0.25
    drifting = _grid_from_transitions(ns, ergodic, ergodic * (ns / 10.0) ** 0.6)
    broken = last_checks.last_vs_ergodic_claim(li.compare_last_and_ergodic(drifting, 400, 3))
    assert not broken.passed
    with pytest.raises(ValueError, match=r"no row with n <= 5 \(n = \[10, 25"):
        comparison.up_to(5)


def test_the_tested_rows_include_n_100():
    """``up_to`` keeps the row at its bound: n = 100 is tested, not dropped nor merely reported."""
    ns = np.array([10, 25, 50, 100, 200])
    ergodic = np.array([4.0, 6.0, 9.0, 13.0, 20.0])
    grid = _grid_from_transitions(ns, ergodic, 1.02 * ergodic)
    comparison = li.compare_last_and_ergodic(grid, 200, 3)
    assert comparison.up_to(last_checks.TESTED_MAX_N).ns.tolist() == [10, 25, 50, 100]
    claim = last_checks.last_iterate_claim(comparison, grid, [sample_trials(6, 10, 2, 1)], 5)
    tested = claim.measured["N50_last / N50_ergodic by n (budget interval)"]
    assert "100:" in tested and "200:" not in tested


def test_band_tests_the_rows_up_to_n_100_and_reports_the_others(clean_batches):
    """A last iterate 3x behind at n = 200 only is reported, not tested; at n = 50 it fails."""
    ns = np.array([10, 25, 50, 100, 200])
    ergodic = np.array([4.0, 6.0, 9.0, 13.0, 20.0])  # inside the grid of N from 2 to 128
    late = _grid_from_transitions(ns, ergodic, ergodic * np.where(ns > 100, 3.0, 1.02))
    claim = last_checks.last_iterate_claim(
        li.compare_last_and_ergodic(late, 400, 3), late, clean_batches, 20
    )
    assert claim.passed, claim.as_text()
    reported = claim.measured["N50_last / N50_ergodic at n > 100 (reported, not tested)"]
    assert reported.startswith("200: 3.0")
    early = _grid_from_transitions(ns, ergodic, ergodic * np.where(ns == 50, 3.0, 1.02))
    broken = last_checks.last_iterate_claim(
        li.compare_last_and_ergodic(early, 400, 3), early, clean_batches, 20
    )
    assert not broken.passed


@pytest.mark.parametrize("scale", ["quick", "full"])
def test_band_power_note_numbers_are_the_simulation(scale):
    """The band's power quoted in the claim (BAND_POWER) is what band_power computes."""
    for factor, expected in last_checks.BAND_POWER[scale].items():
        scores = last_checks.band_power(scale, factor)
        assert last_checks.band_power_summary(scale, scores) == expected
    assert f"{last_checks.BAND_POWER['full'][3.5][1]:.1f}" in last_checks.BAND_POWER_NOTE


def test_horizon_continuation_is_the_long_run():
    """The long horizon continues the short runs: the same as running all steps at once."""
    runs = li.horizon_runs(12, 20, 6, 10, 60, 4)
    batch = engine.sample_trials_per_seed(12, 20, sc.trial_seeds(4, 6), dtype=sc.SWEEP_DTYPE)
    whole = engine.run_ste_method(batch, 60)
    np.testing.assert_array_equal(
        runs.ergodic_long, np.all(whole.ergodic_estimate() == batch.w_star, axis=1)
    )
    np.testing.assert_array_equal(
        runs.last_long, np.all(whole.last_iterate() == batch.w_star, axis=1)
    )
    absorbed = np.where(runs.last_long, whole.frozen_at, -1)
    np.testing.assert_array_equal(runs.absorbed_at, absorbed)
    with pytest.raises(ValueError, match="long_steps must exceed short_steps"):
        li.horizon_runs(12, 20, 6, 10, 10, 4)


HORIZON = li.HORIZON_CELL["quick"]  # n = 50, N = 128, 384 runs: about 6 s


def _horizon_runs(seed=3):
    short, long = li.horizon_steps(HORIZON["n"])
    return li.horizon_runs(
        HORIZON["n"], HORIZON["n_samples"], HORIZON["n_trials"], short, long, seed
    )


@pytest.fixture(scope="module")
def horizon():
    return _horizon_runs()


NO_GRID_ROW = li.design_grid([10], [4], 4, 400)  # no row at the cell's n: the cell alone


def test_horizon_claim_passes_on_the_quick_cell(horizon):
    claim = last_checks.horizon_claim(horizon, NO_GRID_ROW)
    assert claim.passed, claim.as_text()
    assert claim.kind == "finding"
    assert li.horizon_cell()["long_steps"] == 30 * li.horizon_cell()["n"]
    assert "(reported, not tested)" in " ".join(claim.measured)
    assert "can pass it" in claim.method  # 384 runs: the cell alone can pass the sign test


def test_the_sign_test_cannot_pass_on_24_runs_alone():
    """At the full design the cell's 24 runs cannot pass test 1 without the grid's row."""
    assert last_checks.sign_test_passes_from(24) is None
    assert last_checks.fewest_discordant_to_pass() > 24
    assert last_checks.sign_test_passes_from(35) == 35
    short, long = li.horizon_steps(200)
    lagging = np.arange(24) < 20
    runs = li.HorizonRuns(
        200,
        1448,
        short,
        long,
        np.ones(24, bool),
        ~lagging,
        np.ones(24, bool),
        np.ones(24, bool),
        np.where(lagging, short + 100, 10),
        0,
        "synthetic",
    )
    alone = last_checks.horizon_claim(runs, NO_GRID_ROW)
    assert not alone.passed and "can never pass it" in alone.method
    row = li.design_grid([200], [1024, 1448], 24, short)
    with_row = replace(row, ergodic=np.array([[24, 24]]), last=np.array([[4, 6]]))
    pooled = last_checks.horizon_claim(runs, with_row)
    assert pooled.passed, pooled.as_text()
    assert "the grid's row n = 200 at 500 steps" in pooled.statement


def test_horizon_claim_adds_the_grid_row_at_the_same_n_and_horizon(horizon):
    row = li.design_grid([horizon.n], [64, 128], 10, horizon.short_steps)
    lagging = replace(row, ergodic=np.array([[9, 10]]), last=np.array([[2, 3]]))
    cell = last_checks.short_horizon_discordance(horizon, NO_GRID_ROW)
    pooled = last_checks.short_horizon_discordance(horizon, lagging)
    assert pooled == (cell[0] + 14, cell[1])
    other_horizon = replace(lagging, n_steps=horizon.short_steps + 1)
    assert last_checks.short_horizon_discordance(horizon, other_horizon) == cell


def _stopped_continuation(run_ste_method):
    """The engine, except that a continued run stays where it was (no more steps)."""

    def run(batch, n_steps, step_size=1.0, w0=None, record=False, progress=False):
        if w0 is None:
            return run_ste_method(batch, n_steps)
        held = np.where(w0 >= 0, 1.0, -1.0)
        return SteRun(n_steps * held, w0.copy(), np.full(batch.n_trials, -1), n_steps)

    return run


@pytest.mark.mutation("ste.thm2_horizon")
def test_horizon_claim_fails_when_the_long_run_secretly_stops_at_the_short_horizon(
    horizon, monkeypatch
):
    """No step after the short horizon: no run is absorbed later, so the lag stays."""
    monkeypatch.setattr(li, "run_ste_method", _stopped_continuation(li.run_ste_method))
    stopped = _horizon_runs()
    np.testing.assert_array_equal(stopped.last_long, horizon.last_short)
    claim = last_checks.horizon_claim(stopped, NO_GRID_ROW)
    assert not claim.passed
    assert "lagging runs absorbed after 125: 0" in claim.margin


@pytest.mark.mutation("ste.thm2_horizon")
def test_horizon_claim_fails_when_only_non_lagging_runs_are_absorbed_later(horizon):
    """Late absorption only of runs whose ergodic estimate was wrong too: the lag stays.

    The old test 2 counted every run absorbed after the short horizon and passed here.
    """
    short = horizon.short_steps
    lagging = horizon.ergodic_short & ~horizon.last_short
    caught_up = lagging & (horizon.absorbed_at > short)
    assert caught_up.any() and np.any((horizon.absorbed_at > short) & ~lagging)
    permanent = replace(
        horizon,
        absorbed_at=np.where(caught_up, -1, horizon.absorbed_at),
        last_long=horizon.last_long & ~caught_up,
    )
    claim = last_checks.horizon_claim(permanent, NO_GRID_ROW)
    assert not claim.passed
    assert "lagging runs absorbed after 125: 0" in claim.margin
    assert claim.measured["other runs absorbed after step 125 (not counted)"] > 0


@pytest.mark.mutation("ste.thm2_horizon")
def test_horizon_claim_fails_when_w_star_is_not_absorbing():
    """With label noise the last iterate never settles at w*: the lag is not the horizon."""
    short, long = li.horizon_steps(HORIZON["n"])
    seeds = sc.trial_seeds(3, 48)
    batch = engine.sample_trials_per_seed(
        HORIZON["n"], HORIZON["n_samples"], seeds, noise_std=0.5, dtype=sc.SWEEP_DTYPE
    )
    first = engine.run_ste_method(batch, short)
    more = engine.run_ste_method(batch, long - short, w0=first.w_last)

    def right(estimate):
        return np.all(estimate == batch.w_star, axis=1)

    noisy = li.HorizonRuns(
        HORIZON["n"],
        HORIZON["n_samples"],
        short,
        long,
        right(first.ergodic_estimate()),
        right(first.last_iterate()),
        right(np.where(first.ergodic_sum + more.ergodic_sum >= 0, 1.0, -1.0)),
        right(more.last_iterate()),
        np.full(48, -1),
        0,
        "noisy",
    )
    assert not last_checks.horizon_claim(noisy, NO_GRID_ROW).passed


@pytest.mark.mutation("ste.thm2_horizon")
def test_horizon_claim_fails_with_the_estimates_swapped(horizon):
    """The ergodic estimate behind instead of the last iterate fails the short-horizon test."""
    swapped = replace(horizon, ergodic_short=horizon.last_short, last_short=horizon.ergodic_short)
    claim = last_checks.horizon_claim(swapped, NO_GRID_ROW)
    assert not claim.passed and "behind at 125" in claim.margin


@pytest.mark.mutation("ste.thm2_horizon")
def test_horizon_claim_fails_for_a_run_frozen_away_from_w_star(horizon):
    broken = replace(horizon, frozen_elsewhere=1)
    assert not last_checks.horizon_claim(broken, NO_GRID_ROW).passed
