"""The claim lr.recursion_matches_mc passes on the chapter's design and fails for real errors.

Each mutation breaks the exact recursion (or its hypothesis) the way a wrong
derivation or implementation would, runs the claim's own comparison on the
cases the error touches at a small size (seconds), and asserts that the claim
fails; the unmutated claim passes on the same cases, sizes and seeds.
"""

from dataclasses import replace

import numpy as np
import pytest

from quantheory.lr import recursion
from quantheory.lr import recursion_claims as rc
from quantheory.lr.model import Problem, Quantization

D, SAMPLES, RUNS, SEED = 16, 256, 400, 7


def _cases(*labels):
    chosen = [c for c in rc.chapter_cases(D) if c.label in labels]
    assert len(chosen) == len(labels), labels
    return chosen


def _claim(cases, runs=RUNS, samples=SAMPLES):
    return rc.recursion_claim(rc.run_comparisons(cases, samples, runs, SEED), D, samples, SEED)


DIVIDED_BY_B = ("labels", "activations", "gradients")
ADDITIVE_B4 = ("B=4 labels additive", "B=4 activations additive", "B=4 gradients additive")
COORD = ("B=4 labels mult_coord", "B=4 activations mult_coord")
DATA = tuple(f"B={b} data {k}" for b in (1, 4) for k in ("additive", "mult_vector", "mult_coord"))
PLAIN = ("B=1 no quantization", "B=1 bias part (s^2 = 0)", "B=1 variance part (w_0 = w*)")


def test_step_grid_and_cases():
    grid = rc.step_grid(1024)
    assert grid[0] == 1 and grid[-1] == 1024 and np.all(np.diff(grid) > 0)
    assert grid.size == rc.GRID_POINTS
    cases = rc.chapter_cases(D)
    assert len(cases) == 2 * (1 + 15) + 2
    assert len({c.label for c in cases}) == len(cases)
    assert rc.strength("data", "mult_vector") == rc.EPS_DATA_MULTIPLICATIVE


def test_the_claim_passes_on_every_case_at_a_small_size():
    claim = _claim(rc.chapter_cases(8), runs=300, samples=128)
    assert claim.passed, claim.as_text()
    assert claim.id == "lr.recursion_matches_mc" and claim.kind == "theorem"
    assert "fails above" in claim.margin


@pytest.mark.parametrize("labels", [ADDITIVE_B4, COORD, DATA, PLAIN])
def test_the_claim_passes_on_the_mutated_cases_unmutated(labels):
    claim = _claim(_cases(*labels))
    assert claim.passed, claim.as_text()


def test_deterministic_average_at_one_step_is_checked_exactly():
    (comparison,) = rc.run_comparisons(_cases("B=1 no quantization"), 16, 50, SEED)
    exact = comparison.deterministic("average")
    assert exact[0] and not exact[1:].any()
    assert not comparison.exact_mismatch("average").any()


@pytest.mark.mutation("lr.recursion_matches_mc")
def test_dropping_one_over_b_of_additive_noise_fails(monkeypatch):
    """Additive label/activation/gradient noise entering like g^2 eps l_i, not / B."""
    exact = recursion.risk_curve

    def mutated(problem, quant, steps):
        if quant is not None and quant.kind == "additive" and quant.target in DIVIDED_BY_B:
            quant = replace(quant, eps=quant.eps * problem.batch)
        return exact(problem, quant, steps)

    monkeypatch.setattr(recursion, "risk_curve", mutated)
    assert not _claim(_cases(*ADDITIVE_B4)).passed


@pytest.mark.mutation("lr.recursion_matches_mc")
def test_per_vector_coefficients_for_a_per_coordinate_quantizer_fail(monkeypatch):
    """The recursion of mult_vector used for mult_coord (one factor per batch or row)."""
    exact = recursion.risk_curve

    def mutated(problem, quant, steps):
        if quant is not None and quant.kind == "mult_coord":
            quant = replace(quant, kind="mult_vector")
        return exact(problem, quant, steps)

    monkeypatch.setattr(recursion, "risk_curve", mutated)
    assert not _claim(_cases(*COORD)).passed


def _mutate_data_step(monkeypatch, change):
    exact = recursion.affine_step

    def mutated(problem, quant):
        step = exact(problem, quant)
        return change(step, quant) if quant is not None and quant.target == "data" else step

    monkeypatch.setattr(recursion, "affine_step", mutated)


#: the data's fourth-moment terms move the risk by < 10% at the chapter's step (0.1): a
#: single case with many runs resolves them (about 1% standard error)
FOURTH_MOMENT_RUNS = 20_000


@pytest.mark.mutation("lr.recursion_matches_mc")
def test_dropping_the_data_coupling_between_coordinates_fails(monkeypatch):
    """sum_{j != i} mu_ij v_j left out: each coordinate as if alone (a diagonal closure)."""

    def diagonal_only(step, quant):
        own = np.sum(step.coupling_left * step.coupling_right, axis=0)
        empty = np.zeros_like(step.coupling_left)
        return replace(step, a_v=step.a_v + own, coupling_left=empty, coupling_right=empty)

    _mutate_data_step(monkeypatch, diagonal_only)
    assert not _claim(_cases("B=1 data mult_vector"), runs=FOURTH_MOMENT_RUNS).passed


@pytest.mark.mutation("lr.recursion_matches_mc")
def test_gaussian_fourth_moments_for_per_vector_quantized_data_fail(monkeypatch):
    """E[x~_i^2 x~_j^2] of a per-vector quantized row taken as if x~ ~ N(0, (1 + eps) H).

    The cross terms then carry (1 + eps)^2 instead of E(1 + sqrt(eps) z)^4 =
    1 + 6 eps + 3 eps^2: right second moments, wrong fourth moments.
    """

    def gaussian(step, quant):
        if quant.kind != "mult_vector":
            return step
        factor = (1 + quant.eps) ** 2 / (1 + 6 * quant.eps + 3 * quant.eps**2)
        return replace(step, coupling_left=step.coupling_left * factor)

    _mutate_data_step(monkeypatch, gaussian)
    assert not _claim(_cases("B=1 data mult_vector"), runs=FOURTH_MOMENT_RUNS).passed


def test_the_claim_passes_on_the_fourth_moment_case_unmutated():
    assert _claim(_cases("B=1 data mult_vector"), runs=FOURTH_MOMENT_RUNS).passed


@pytest.mark.mutation("lr.recursion_matches_mc")
def test_ignoring_the_target_shift_of_data_quantization_fails(monkeypatch):
    """SGD on quantized data taken to converge to w* = 1 (no approximation error)."""
    _mutate_data_step(
        monkeypatch, lambda step, quant: replace(step, target=np.ones_like(step.target))
    )
    assert not _claim(_cases(*DATA)).passed


@pytest.mark.mutation("lr.recursion_matches_mc")
def test_averaging_one_iterate_too_many_fails(monkeypatch):
    """The average over w_0..w_T (T + 1 iterates) reported as the average at T."""
    exact = recursion.risk_curve

    def mutated(problem, quant, steps):
        curve = exact(problem, quant, steps)
        shifted = exact(problem, quant, np.asarray(steps) + 1)
        return replace(curve, average=shifted.average)

    monkeypatch.setattr(recursion, "risk_curve", mutated)
    assert not _claim(_cases(*PLAIN)).passed


@pytest.mark.mutation("lr.recursion_matches_mc")
def test_a_step_beyond_stability_fails():
    """The hypothesis stability_radius < 1 violated: the claim fails even where MC agrees."""
    problem = Problem(d=D, a=rc.EXPONENT, gamma=0.9, batch=1)
    assert recursion.stability_radius(problem, None) > 1
    case = rc.Case("B=1 gamma beyond stability", problem, None)
    claim = rc.recursion_claim(rc.run_comparisons([case], 4, 200, SEED), D, 4, SEED)
    assert not claim.passed
    assert claim.measured["largest stability radius"] > 1


def test_verdict_needs_comparisons_with_equal_runs():
    with pytest.raises(ValueError, match="comparisons must not be empty"):
        rc.verdict([])
    first = rc.run_comparisons(_cases("B=1 no quantization"), 16, 20, SEED)
    second = rc.run_comparisons(_cases("B=4 no quantization"), 16, 30, SEED)
    with pytest.raises(ValueError, match="same number of runs"):
        rc.verdict(first + second)


def test_multiplicative_data_strength_is_the_claims():
    quant = Quantization("data", "mult_coord", rc.strength("data", "mult_coord"))
    assert quant.eps == rc.EPS_DATA_MULTIPLICATIVE
