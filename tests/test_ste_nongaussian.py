import numpy as np
import pytest

from quantheory.ste import nongaussian as ng

N_TEST = 64
TRIALS = 100


def cell(variant, successes, N=N_TEST, trials=TRIALS):
    return ng.RateCell(variant, N, successes, trials, "seed")


GAUSS = cell(ng.Variant("gaussian"), 99)


def shifted(mu, successes):
    return cell(ng.Variant("shifted_gaussian", shift=mu), successes)


def test_rate_deficit_z_is_zero_for_equal_rates_and_signed():
    assert ng.rate_deficit_z(cell(ng.Variant("gaussian"), 100), GAUSS) > 0
    assert ng.rate_deficit_z(GAUSS, GAUSS) == 0.0
    full = cell(ng.Variant("gaussian"), TRIALS)
    assert ng.rate_deficit_z(full, full) == 0.0
    assert ng.rate_deficit_z(GAUSS, shifted(2.0, 10)) > 10


def test_failure_claim_passes_when_every_shift_falls_far_below():
    claim = ng.nongaussian_failure_claim(GAUSS, [shifted(1, 15), shifted(2, 4)], 20, 300)
    assert claim.passed and "mu=1" in claim.margin


@pytest.mark.mutation("ste.nongaussian_failure")
def test_failure_claim_fails_on_centred_gaussian_inputs():
    """Shift 0 (centred Gaussian inputs, drawn by the engine) must not show failure."""
    from quantheory.ste.engine import run_ste_method, sample_trials

    batch = sample_trials(20, N_TEST, 60, 5, family="shifted_gaussian", shift=0.0)
    run = run_ste_method(batch, 200)
    ok = int(np.all(run.ergodic_estimate() == batch.w_star, axis=1).sum())
    centred = cell(ng.Variant("shifted_gaussian", shift=0.0), ok, trials=60)
    claim = ng.nongaussian_failure_claim(GAUSS, [shifted(2, 4), centred], 20, 200)
    assert not claim.passed


def test_restores_claim_passes_on_gaussian_like_rates():
    gauss = [cell(ng.Variant("gaussian"), 70, N=32), GAUSS]
    families = [
        cell(ng.Variant("exponential", True), 68, N=32),
        cell(ng.Variant("exponential", True), 98),
    ]
    assert ng.normalization_restores_claim(gauss, families, shifted(2, 4), 20, 300).passed


@pytest.mark.mutation("ste.normalization_restores")
def test_restores_claim_fails_without_standardization():
    """The raw shifted inputs in place of the standardized ones must fail the claim."""
    gauss = [GAUSS]
    raw = [cell(ng.Variant("shifted_gaussian"), 6)]
    assert not ng.normalization_restores_claim(gauss, raw, shifted(2, 4), 20, 300).passed


@pytest.mark.mutation("ste.normalization_restores")
def test_restores_claim_fails_when_the_control_does_not_fail():
    gauss = [GAUSS]
    families = [cell(ng.Variant("uniform", True), 98)]
    assert not ng.normalization_restores_claim(gauss, families, shifted(0, 98), 20, 300).passed


def raw_teacher(family, successes):
    return cell(ng.Variant(family, True, teacher_inputs="raw"), successes)


def test_raw_teacher_finding_passes_in_the_predicted_directions():
    claim = ng.normalization_raw_teacher_claim(
        GAUSS,
        [raw_teacher("exponential", 40), raw_teacher("uniform", 97)],
        20,
        300,
        reported=[raw_teacher("rademacher", 84)],
    )
    assert claim.passed and claim.kind == "finding"
    assert "reported, not tested" in claim.expected.values()


@pytest.mark.mutation("ste.normalization_raw_teacher")
def test_raw_teacher_finding_fails_when_labels_come_from_standardized_inputs():
    """Case A rates (realizable labels) for the non-centred family: no deficit, so it fails."""
    case_a = cell(ng.Variant("exponential", True), 98)
    claim = ng.normalization_raw_teacher_claim(GAUSS, [case_a, raw_teacher("uniform", 97)], 20, 300)
    assert not claim.passed


@pytest.mark.mutation("ste.normalization_raw_teacher")
def test_raw_teacher_finding_fails_when_a_centred_family_falls():
    claim = ng.normalization_raw_teacher_claim(
        GAUSS, [raw_teacher("exponential", 40), raw_teacher("student_t", 40)], 20, 300
    )
    assert not claim.passed


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
