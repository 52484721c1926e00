"""The claim lr.recursion_matches_mc passes on the chapter's design and fails for real errors.

Each mutation breaks the exact recursion (or its hypothesis) the way a wrong
derivation or implementation would, runs the claim's own comparison on the
cases the error touches at a small size (seconds), and asserts that the claim
fails; the unmutated claim passes on the same cases, sizes and seeds.
"""

import numpy as np
import pytest

from quantheory.lr import recursion, simulate
from quantheory.lr import recursion_claims as rc
from quantheory.lr.model import Problem, Quantization

D, SAMPLES, RUNS, SEED = 16, 256, 400, 7
#: runs per setting of the fourth-moment group: the chapter's full scale
FOURTH_RUNS = 20_000


def _cases(*labels):
    fourth = rc.fourth_moment_cases(rc.random_w_star(rc.FOURTH_DIM, SEED))
    chosen = [c for c in rc.chapter_cases(D) + fourth if c.label in labels]
    assert len(chosen) == len(labels), labels
    return chosen


def _claim(cases, runs=RUNS, samples=None):
    if samples is None:
        samples = rc.FOURTH_SAMPLES if cases[0].group == "fourth moments" else SAMPLES
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


FOURTH_VECTOR = ("4th moments: B=1 data mult_vector",)
#: each wrong recursion, the settings it touches and the runs that resolve it: the data's
#: fourth-moment terms on the claim's fourth-moment group at the chapter's full scale
WRONG = {
    "additive label/activation/gradient noise not divided by B": (ADDITIVE_B4, RUNS),
    "per-vector coefficients for a per-coordinate quantizer": (COORD, RUNS),
    "average over w_0..w_T instead of w_0..w_{T-1}": (PLAIN, RUNS),
    "data quantization's target shift left out (w~ = w*)": (DATA, RUNS),
    "data coupling between coordinates dropped": (FOURTH_VECTOR, FOURTH_RUNS),
    "Gaussian fourth moments for a per-vector quantized data row": (FOURTH_VECTOR, FOURTH_RUNS),
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


FOURTH_GROUP = tuple(c.label for c in rc.fourth_moment_cases(np.ones(rc.FOURTH_DIM)))


@pytest.mark.parametrize("label", FOURTH_GROUP)
def test_the_claim_passes_on_the_fourth_moment_group_unmutated(label):
    claim = _claim(_cases(label), runs=FOURTH_RUNS)
    assert claim.passed, claim.as_text()


# ---- simulation bugs: the simulated quantizer is not the model's --------------------------
_EXACT_APPLY = simulate.IdealizedQuantizer.apply


def _one_factor_per_batch(self, u, rng):
    """mult_vector data: one factor per run shared by the B rows (the model: one per row)."""
    if self.quant.kind == "mult_vector" and u.ndim == 3:
        return u * (1.0 + np.sqrt(self.quant.eps) * rng.standard_normal((u.shape[0], 1, 1)))
    return _EXACT_APPLY(self, u, rng)


def _uniform_errors(self, u, rng):
    """mult_coord data: uniform multipliers with the same variance (not Gaussian)."""
    if self.quant.kind == "mult_coord" and self.quant.target == "data":
        half = np.sqrt(3 * self.quant.eps)
        return u * (1.0 + rng.uniform(-half, half, u.shape))
    return _EXACT_APPLY(self, u, rng)


SIMULATION_BUGS = {
    "one mult_vector factor per batch": (
        _one_factor_per_batch,
        "4th moments: B=4 data mult_vector",
    ),
    "uniform mult_coord data errors, B = 1": (_uniform_errors, "4th moments: B=1 data mult_coord"),
    "uniform mult_coord data errors, B = 4": (_uniform_errors, "4th moments: B=4 data mult_coord"),
}


@pytest.mark.mutation("lr.recursion_matches_mc")
@pytest.mark.parametrize("name", list(SIMULATION_BUGS))
def test_a_wrong_simulated_quantizer_fails_the_claim(monkeypatch, name):
    """The simulation's failure modes (review A): right variance, wrong fourth moments."""
    bug, label = SIMULATION_BUGS[name]
    monkeypatch.setattr(simulate.IdealizedQuantizer, "apply", bug)
    claim = _claim(_cases(label), runs=FOURTH_RUNS)
    assert not claim.passed, claim.as_text()


# ---- the fourth-moment hypothesis ------------------------------------------------------
@pytest.mark.mutation("lr.recursion_matches_mc")
def test_a_step_with_a_diverging_fourth_moment_fails(monkeypatch):
    """gamma = 0.2 (the first pilot's): the recursion is stable but E(1 - g x~^2)^4 > 1."""
    monkeypatch.setattr(rc, "STEP", 0.2)
    cases = _cases("B=1 data mult_vector")
    assert cases[0].problem.gamma == 0.2
    claim = _claim(cases)
    assert not claim.passed
    assert float(claim.measured["largest stability radius"]) < 1
    assert float(claim.measured["largest per-coordinate fourth-moment factor"]) > 1


@pytest.mark.parametrize(
    "quant, batch",
    [
        (None, 1),
        (Quantization("data", "additive", 0.3), 4),
        (Quantization("data", "mult_vector", 0.5), 4),
        (Quantization("labels", "mult_vector", 0.5), 4),
        (Quantization("params", "mult_coord", 0.5), 4),
        (Quantization("params", "additive", 0.5), 2),
        (Quantization("activations", "mult_coord", 0.5), 4),
        (Quantization("gradients", "mult_vector", 0.5), 4),
    ],
)
def test_fourth_moment_factors_match_monte_carlo(quant, batch):
    """E(1 - (g/B) S_i)^4 by sampling the coefficient of e_i in one literal update."""
    problem = Problem(d=2, a=2.0, gamma=0.2, batch=batch)
    factors = rc.coordinate_fourth_moment_factors(problem, quant)
    rng = np.random.default_rng(3)
    n = 400_000
    lam = problem.spectrum
    x = rng.standard_normal((n, batch, 2)) * np.sqrt(lam)
    eps = 0.0 if quant is None else quant.eps
    z_rows = 1 + np.sqrt(eps) * rng.standard_normal((n, batch, 1))
    z_shared = 1 + np.sqrt(eps) * rng.standard_normal((n, 1, 1))
    kind, target = (None, None) if quant is None else (quant.kind, quant.target)
    if target == "data" and kind == "additive":
        s = ((x + np.sqrt(eps) * rng.standard_normal(x.shape)) ** 2).sum(axis=1)
    elif target == "data":
        s = ((z_rows * x) ** 2).sum(axis=1)
    elif target in ("activations", "gradients") and kind == "mult_coord":
        s = (z_rows * x**2).sum(axis=1)
    elif target in ("params", "activations", "gradients") and kind in ("mult_vector", "mult_coord"):
        s = (z_shared * x**2).sum(axis=1)
    else:
        s = (x**2).sum(axis=1)
    samples = (1 - problem.gamma / batch * s) ** 4
    se = samples.std(axis=0) / np.sqrt(n)  # heavy tails (c^8): judge in standard errors
    assert np.all(np.abs(factors - samples.mean(axis=0)) <= 5 * se + 1e-3), (factors, se)


def test_fourth_moment_factor_by_hand_and_the_pilot_numbers():
    g = 0.1
    one = Problem(d=1, a=2.0, gamma=g)
    expected = 1 - 4 * g + 18 * g**2 - 60 * g**3 + 105 * g**4
    assert rc.coordinate_fourth_moment_factors(one, None)[0] == pytest.approx(expected)
    data = Quantization("data", "mult_vector", 0.2)
    assert rc.coordinate_fourth_moment_factors(one, data)[0] == pytest.approx(0.776944)
    pilot = Problem(d=1, a=2.0, gamma=0.2)
    assert rc.coordinate_fourth_moment_factors(pilot, data)[0] == pytest.approx(1.981504)


def test_random_w_star_and_chapter_streams():
    w = rc.random_w_star(50, 3)
    assert np.all(np.abs(w) >= 1) and np.any(w < 0) and np.any(w > 0)
    comparisons = rc.chapter_comparisons(4, 16, 20, 30, 11)
    groups = [c.case.group for c in comparisons]
    assert groups.count("fourth moments") == len(rc.fourth_moment_cases(np.ones(8)))
    b4 = next(c for c in comparisons if c.case.label == "B=4 no quantization")
    assert b4.case.problem.a == rc.OTHER_EXPONENT and not np.all(b4.case.problem.w_star == 1)
    again = rc.chapter_comparisons(4, 16, 20, 30, 11)
    same = next(c for c in again if c.case.label == "B=4 no quantization")
    np.testing.assert_array_equal(b4.case.problem.w_star, same.case.problem.w_star)
    np.testing.assert_array_equal(b4.simulated.last, same.simulated.last)


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
    assert float(claim.measured["largest stability radius"]) > 1


def test_verdict_needs_comparisons_with_equal_runs():
    with pytest.raises(ValueError, match="comparisons must not be empty"):
        rc.verdict([])
    first = rc.run_comparisons(_cases("B=1 no quantization"), 16, 20, SEED)
    second = rc.run_comparisons(_cases("B=4 no quantization"), 16, 30, SEED)
    with pytest.raises(ValueError, match="same number of runs >= 2"):
        rc.verdict(first + second)


def test_multiplicative_data_strength_is_the_claims():
    quant = Quantization("data", "mult_coord", rc.strength("data", "mult_coord"))
    assert quant.eps == rc.EPS_DATA_MULTIPLICATIVE


def test_docstring_examples():
    import doctest

    result = doctest.testmod(rc)
    assert result.attempted > 0 and result.failed == 0
