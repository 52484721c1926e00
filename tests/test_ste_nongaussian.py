import numpy as np
import pytest

from quantheory.ste import engine
from quantheory.ste import nongaussian as ng

N_TEST = 64
TRIALS = 100


def cell(variant, successes, N=N_TEST, trials=TRIALS):
    return ng.RateCell(variant, N, successes, trials, "seed")


GAUSS = cell(ng.Variant("gaussian"), 99)
CAL = ng.Calibration((11, 16, 23, 32), np.array([2, 10, 20, 30]), 32, 16.0, (13.0, 19.5), "s")
EQ = 300  # trials of an equivalence cell, as in the chapter


def shifted(mu, successes):
    return cell(ng.Variant("shifted_gaussian", shift=mu), successes)


def test_rate_deficit_is_newcombes_interval_and_signed():
    equal = ng.rate_deficit(GAUSS, GAUSS, 1)
    assert equal.difference == 0.0 and equal.low < 0 < equal.high
    full = cell(ng.Variant("gaussian"), TRIALS)
    assert ng.rate_deficit(full, full, 3).low < 0
    far = ng.rate_deficit(GAUSS, shifted(2.0, 10), 3)
    assert far.low > 0.4 and "deficit 0.89" in far.text()


def test_failure_claim_passes_when_every_shift_falls_far_below():
    claim = ng.nongaussian_failure_claim(GAUSS, [shifted(1, 15), shifted(2, 4)], CAL, 20, 300)
    assert claim.passed and "mu=1" in claim.margin
    assert "99/100" in claim.margin and "N50 = 16.0 [13.0, 19.5]" in claim.margin


@pytest.mark.mutation("ste.nongaussian_failure")
def test_failure_claim_fails_on_centred_gaussian_inputs():
    """Shift 0 (centred Gaussian inputs, drawn by the engine) must not show failure."""
    centred = ng.recovery_cell(ng.Variant("shifted_gaussian", shift=0.0), 20, N_TEST, 60, 200, 5)
    claim = ng.nongaussian_failure_claim(GAUSS, [shifted(2, 4), centred], CAL, 20, 200)
    assert not claim.passed


@pytest.mark.mutation("ste.nongaussian_failure")
def test_failure_claim_fails_where_gaussian_inputs_are_not_recovered():
    """A test size below the transition: Gaussian 40/100 is not 'recovered'."""
    gauss = cell(ng.Variant("gaussian"), 40)
    claim = ng.nongaussian_failure_claim(gauss, [shifted(2, 0)], CAL, 20, 300)
    assert not claim.passed


def eq_cell(variant, successes, N=N_TEST):
    return cell(variant, successes, N=N, trials=EQ)


EQ_GAUSS = eq_cell(ng.Variant("gaussian"), 285)


def test_restores_claim_passes_on_gaussian_like_rates():
    families = [
        eq_cell(ng.Variant("exponential", True), 279),
        eq_cell(ng.Variant("uniform", True), 290),
    ]
    claim = ng.normalization_restores_claim(EQ_GAUSS, families, shifted(2, 4), 20, 300)
    assert claim.passed, claim.as_text()
    assert "exponential" in claim.margin and "0.25" in claim.margin


@pytest.mark.mutation("ste.normalization_restores")
def test_restores_claim_fails_when_a_family_loses_30_percent_of_its_successes():
    """A standardized cell with 30 % of its successes removed (279 -> 195 of 300)."""
    families = [eq_cell(ng.Variant("exponential", True), 279 - round(0.3 * 279))]
    assert not ng.normalization_restores_claim(EQ_GAUSS, families, shifted(2, 4), 20, 300).passed


@pytest.mark.parametrize("gauss, family, trials", [(110, 70, 120), (60, 20, 120), (5, 3, 6)])
def test_restores_claim_does_not_pass_on_less_data(gauss, family, trials):
    """The review's cases: a "no significant deficit" test passed them; equivalence must not."""
    g = cell(ng.Variant("gaussian"), gauss, trials=trials)
    f = cell(ng.Variant("student_t", True), family, trials=trials)
    assert not ng.normalization_restores_claim(g, [f], shifted(2, 0), 20, 300).passed


def test_restores_claim_needs_one_sample_size():
    other = eq_cell(ng.Variant("uniform", True), 290, N=2 * N_TEST)
    with pytest.raises(ValueError, match="Gaussian cell's N"):
        ng.normalization_restores_claim(EQ_GAUSS, [other], shifted(2, 4), 20, 300)


def _restores_through_the_engine():
    """Case A through the real code path at n = 8: Gaussian, standardized Exp(1), raw N(2, 1)."""
    table = ng.recovery_table(
        [ng.Variant("gaussian"), ng.Variant("exponential", True), ng.Variant("shifted_gaussian")],
        (48,),
        8,
        EQ,
        100,
        21,
    )
    gauss, standardized, control = table.values()
    return ng.normalization_restores_claim(gauss, [standardized], control, 8, 100)


def test_restores_claim_passes_through_the_engine():
    claim = _restores_through_the_engine()
    assert claim.passed, claim.as_text()


@pytest.mark.mutation("ste.normalization_restores")
@pytest.mark.parametrize("shift", [None, 1.0])
def test_restores_claim_fails_when_the_engine_does_not_standardize(monkeypatch, shift):
    """The engine's standardization step skipped (None), or centred 1 below the mean."""
    right = engine.standardize_features

    def broken(Z):
        return Z if shift is None else right(Z) + shift

    monkeypatch.setattr(engine, "standardize_features", broken)
    assert not _restores_through_the_engine().passed


@pytest.mark.mutation("ste.normalization_restores")
def test_restores_claim_fails_when_the_control_does_not_fail():
    families = [eq_cell(ng.Variant("uniform", True), 290)]
    assert not ng.normalization_restores_claim(EQ_GAUSS, families, shifted(0, 98), 20, 300).passed


def raw_teacher(family, successes):
    return cell(ng.Variant(family, True, teacher_inputs="raw"), successes)


@pytest.fixture(scope="module")
def ties():
    return ng.rademacher_ties(20, 64, 40, 8)


def test_rademacher_signs_change_only_on_the_ties(ties):
    assert ties.flips_off_ties == 0 and 0 < ties.flip_share < ties.tie_shares.mean()
    assert abs(ties.tie_shares.mean() - ties.predicted_tie_share) < 0.01
    assert ng.rademacher_ties(5, 8, 3, 1).predicted_tie_share == 0.0


def test_raw_teacher_finding_passes_in_the_predicted_directions(ties):
    claim = ng.normalization_raw_teacher_claim(
        GAUSS,
        [raw_teacher("exponential", 40), raw_teacher("uniform", 97), raw_teacher("rademacher", 84)],
        ties,
        20,
        300,
    )
    assert claim.passed and claim.kind == "finding", claim.as_text()
    assert claim.expected["Rademacher +-1, standardized, raw teacher"].startswith(
        "deficit reported"
    )


@pytest.mark.mutation("ste.normalization_raw_teacher")
def test_raw_teacher_finding_fails_when_labels_come_from_standardized_inputs(ties):
    """Case A rates (realizable labels) for the non-centred family: no deficit, so it fails."""
    case_a = cell(ng.Variant("exponential", True), 98)
    claim = ng.normalization_raw_teacher_claim(
        GAUSS, [case_a, raw_teacher("uniform", 97)], ties, 20, 300
    )
    assert not claim.passed


@pytest.mark.mutation("ste.normalization_raw_teacher")
def test_raw_teacher_finding_fails_when_a_centred_family_falls(ties):
    claim = ng.normalization_raw_teacher_claim(
        GAUSS, [raw_teacher("exponential", 40), raw_teacher("student_t", 40)], ties, 20, 300
    )
    assert not claim.passed


@pytest.mark.mutation("ste.normalization_raw_teacher")
def test_raw_teacher_finding_fails_with_the_wrong_tie_count(monkeypatch, ties):
    """A wrong exact count (the tie chance at n + 2) fails the Rademacher part."""
    wrong = ng.TieCheck(ties.tie_shares, 0, ties.flip_share, 22, ties.seed)
    claim = ng.normalization_raw_teacher_claim(
        GAUSS, [raw_teacher("exponential", 40), raw_teacher("uniform", 97)], wrong, 20, 300
    )
    assert not claim.passed and "tie share" in claim.margin


@pytest.mark.mutation("ste.normalization_raw_teacher")
def test_raw_teacher_finding_fails_when_standardizing_moves_untied_rows(monkeypatch):
    """An engine whose standardization adds a shift of 0.5: signs change off the ties too."""
    right = ng.engine.standardize_features
    monkeypatch.setattr(ng.engine, "standardize_features", lambda Z: right(Z) + 0.5)
    moved = ng.rademacher_ties(20, 32, 20, 8)
    assert moved.flips_off_ties > 0
    claim = ng.normalization_raw_teacher_claim(
        GAUSS, [raw_teacher("exponential", 40), raw_teacher("uniform", 97)], moved, 20, 300
    )
    assert not claim.passed


def test_calibration_gives_the_test_sizes():
    cal = ng.calibrate_test_sizes(8, (4, 8, 16, 32), 10, 100, 2)
    assert cal.successes.shape == (4,) and 4 < cal.n50 < 32
    assert cal.test_size == round(2 * cal.n50)
    assert cal.n50_interval[0] < cal.n50 < cal.n50_interval[1] and "N50 = " in cal.text()


def test_recovery_table_counts_and_labels():
    variants = [ng.Variant("gaussian"), ng.Variant("shifted_gaussian", True, 1.0, "raw")]
    table = ng.recovery_table(variants, (16,), 6, 5, 50, 3)
    assert set(table) == {(v, 16) for v in variants}
    assert all(0 <= c.successes <= 5 and c.trials == 5 for c in table.values())
    assert variants[1].label == "shifted Gaussian N(1, 1), standardized, raw teacher"


def test_figures_draw():
    table = {
        (ng.Variant("shifted_gaussian", shift=mu), N_TEST): shifted(mu, s)
        for mu, s in ((0.0, 99), (1.0, 20))
    }
    assert ng.plot_rate_against_shift(table, (0.0, 1.0), (N_TEST,)).axes
    a = [cell(ng.Variant("uniform", True), 98)]
    b = [raw_teacher("uniform", 97)]
    assert ng.plot_family_rates(GAUSS, a, b, shifted(2, 4)).axes


@pytest.mark.mutation("ste.normalization_raw_teacher")
def test_raw_teacher_finding_fails_when_centred_families_fall_as_far(ties):
    """Standardizing that helps no family: centred rates as low as the non-centred ones."""
    claim = ng.normalization_raw_teacher_claim(
        GAUSS, [raw_teacher("exponential", 30), raw_teacher("uniform", 45)], ties, 20, 300
    )
    assert not claim.passed and "uniform above exponential" in claim.margin


def test_raw_teacher_finding_needs_both_kinds_of_family(ties):
    with pytest.raises(ValueError, match="non-centred and a centred"):
        ng.normalization_raw_teacher_claim(GAUSS, [raw_teacher("exponential", 40)], ties, 20, 300)
