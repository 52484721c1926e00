"""The claim lr.recursion_matches_mc passes on the chapter's design and fails for real errors.

Each mutation breaks the exact recursion (or its hypothesis) the way a wrong
derivation or implementation would, runs the claim's own comparison on the
cases the error touches at a small size (seconds), and asserts that the claim
fails; the unmutated claim passes on the same cases, sizes and seeds.
"""

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


#: the data's fourth-moment terms move the risk by < 10% at the chapter's step (0.1): a
#: single case with many runs resolves them (about 1% standard error)
FOURTH_MOMENT_RUNS = 20_000
#: each wrong recursion, the settings it touches and the runs that resolve it
WRONG = {
    "additive label/activation/gradient noise not divided by B": (ADDITIVE_B4, RUNS),
    "per-vector coefficients for a per-coordinate quantizer": (COORD, RUNS),
    "average over w_0..w_T instead of w_0..w_{T-1}": (PLAIN, RUNS),
    "data quantization's target shift left out (w~ = w*)": (DATA, RUNS),
    "data coupling between coordinates dropped": (("B=1 data mult_vector",), FOURTH_MOMENT_RUNS),
    "Gaussian fourth moments for a per-vector quantized data row": (
        ("B=1 data mult_vector",),
        FOURTH_MOMENT_RUNS,
    ),
}


def test_every_wrong_recursion_has_a_mutation_test():
    assert set(WRONG) == set(rc.WRONG_RECURSIONS)


@pytest.mark.mutation("lr.recursion_matches_mc")
@pytest.mark.parametrize("name", list(WRONG))
def test_a_wrong_recursion_fails_the_claim(monkeypatch, name):
    """The recursion's real failure modes: the claim, on the settings each touches, fails."""
    labels, runs = WRONG[name]
    monkeypatch.setattr(recursion, "risk_curve", rc.WRONG_RECURSIONS[name])
    assert not _claim(_cases(*labels), runs=runs).passed


def test_the_claim_passes_on_the_fourth_moment_case_unmutated():
    assert _claim(_cases("B=1 data mult_vector"), runs=FOURTH_MOMENT_RUNS).passed


def test_wrong_recursion_verdicts_reuse_the_simulations():
    comparisons = rc.run_comparisons(_cases(*ADDITIVE_B4), SAMPLES, RUNS, SEED)
    verdicts = rc.wrong_recursion_verdicts(comparisons)
    assert set(verdicts) == set(rc.WRONG_RECURSIONS)
    assert not verdicts["additive label/activation/gradient noise not divided by B"].passed
    # errors in the data's terms do not touch these settings
    assert verdicts["data coupling between coordinates dropped"].passed
    assert recursion.risk_curve is rc._EXACT_RISK_CURVE


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


def test_docstring_examples():
    import doctest

    result = doctest.testmod(rc)
    assert result.attempted > 0 and result.failed == 0
