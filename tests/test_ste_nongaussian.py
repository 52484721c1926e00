import numpy as np

from quantheory.ste import nongaussian as ng
from quantheory.ste.sample_complexity import SuccessGrid

SIZES = np.array([8, 16, 32, 64, 128, 256])
TRIALS = 100


def row(family, standardized, successes):
    counts = np.array([successes])
    zeros = counts * 0
    grid = SuccessGrid(
        np.array([20]),
        SIZES,
        TRIALS,
        100,
        0.0,
        counts,
        counts,
        zeros,
        counts,
        zeros,
        zeros,
        f"seed-{family}-{standardized}",
    )
    return ng.FamilyRow(family, standardized, grid)


GAUSSIAN = row("gaussian", False, [5, 40, 100, 100, 100, 100])
SHIFTED = row("shifted_gaussian", False, [0, 0, 0, 2, 30, 90])
NORMALIZED = row("shifted_gaussian", True, [4, 45, 99, 100, 100, 100])


def test_failure_claim_finds_the_sizes_where_only_gaussian_succeeds():
    claim = ng.nongaussian_failure_claim(GAUSSIAN, SHIFTED)
    assert claim.passed
    np.testing.assert_array_equal(ng.failing_sizes(GAUSSIAN, SHIFTED), [32, 64])


def test_failure_claim_fails_when_the_families_agree():
    assert not ng.nongaussian_failure_claim(GAUSSIAN, NORMALIZED).passed


def test_restore_claim_and_its_failure():
    assert ng.normalization_restores_claim(SHIFTED, NORMALIZED, GAUSSIAN, []).passed
    assert not ng.normalization_restores_claim(SHIFTED, SHIFTED, GAUSSIAN, []).passed


def test_n50_text_outside_and_inside_the_grid():
    assert row("uniform", False, [0, 0, 0, 0, 10, 20]).n50_text() == "> 256"
    assert row("uniform", False, [60, 80, 90, 100, 100, 100]).n50_text() == "< 8"
    assert float(GAUSSIAN.n50_text()) > 8
