"""Claims of the chapter "SGD on a power-law spectrum, exact": recursion vs Monte Carlo.

The claim ``lr.recursion_matches_mc`` sets the exact excess-risk recursion
(:func:`quantheory.lr.recursion.risk_curve`) against simulated SGD
(:func:`quantheory.lr.simulate.simulate_risk`, which shares no code with it)
for the last iterate and the running average, at a grid of step counts fixed
in advance, for no quantization (whole risk, bias part, variance part) and for
every target and kind of idealized quantizer, at batch ``B = 1`` and
``B = 4`` with the same number of samples.

The design: ``a = 2``, ``w* = 1``, ``s^2 = 1``, ``w_0 = 0`` (the paper's
experiments), step ``gamma = 0.1`` and the quantizer strengths of :data:`EPS`,
chosen from the recursion's coefficients so that each quantizer's term is at
least comparable with the label-noise term while the recursion stays stable.
The hypothesis ``stability_radius < 1`` is checked for every case inside the
claim.

One choice was made after seeing simulated data, though not the chapter's:
the step was first 0.2. Pilots on plain seeds 101-108 (outside every
chapter's seed tree, d = 16, 400 runs) showed per-run risks with sample
skewness up to 18 and, at seed 108, a |z| of 6.3 (B = 1, multiplicative
data). The reason is a moment one order higher than the recursion's: a
Student t interval needs the per-run risk to have a finite variance, i.e. a
stable *fourth* moment of the error, and for one coordinate with
``lambda = 1`` the factor ``E(1 - gamma x~^2)^4`` is 1.98 at ``gamma = 0.2``,
``eps = 0.2`` (multiplicative data) -- the variance of the risk grows without
bound while its mean is stable. At ``gamma = 0.1`` the factor is 0.78
(0.73 without quantization), and the step was lowered to 0.1 before the
chapter's seeds were run.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from unittest import mock

import numpy as np

from quantheory import stats
from quantheory.claims import Claim
from quantheory.lr import recursion
from quantheory.lr.model import KINDS, TARGETS, Problem, Quantization
from quantheory.lr.recursion import AffineStep, RiskCurve
from quantheory.lr.simulate import SimulatedRisk, idealized, simulate_risk
from quantheory.seeding import SeedLike, describe, paired

#: the paper's experiments: spectrum exponent, noise variance; w* = 1, w_0 = 0
EXPONENT, NOISE_VAR = 2.0, 1.0
#: constant step size (stable for every case of :func:`chapter_cases`)
STEP = 0.1
#: the batch sizes compared at the same number of samples
BATCHES = (1, 4)
#: quantizer strength by target: data enters the spectrum (H + eps I, (1 + eps) H) and
#: its fourth moments, so it gets a smaller eps; the others add a term comparable with
#: the label noise s^2 = 1
EPS: dict[str, float] = {
    "data": 0.02,
    "labels": 0.5,
    "params": 0.5,
    "activations": 0.5,
    "gradients": 0.5,
}
#: multiplicative data quantization: (1 + sqrt(eps) z)^4 has mean 1 + 6 eps + 3 eps^2
EPS_DATA_MULTIPLICATIVE = 0.2
#: points of the log-spaced grid of step counts
GRID_POINTS = 12
#: a statistic whose runs all agree to this relative spread is deterministic (T = 1 average)
DETERMINISTIC_SPREAD = 1e-12
#: relative tolerance of a deterministic comparison (rounding only)
EXACT_TOLERANCE = 1e-9
#: the two estimators compared
ESTIMATORS = ("last", "average")


@dataclass(frozen=True)
class Case:
    """One setting compared: a label, a problem and a quantizer (``None``: none).

    ``part`` is ``"whole"``, or ``"bias"`` (``s^2 = 0``) / ``"variance"``
    (``w_0 = w*``) for the two parts of the unquantized risk.
    """

    label: str
    problem: Problem
    quant: Quantization | None
    part: str = "whole"


def strength(target: str, kind: str) -> float:
    """The quantizer strength ``eps`` of the claim for ``target`` and ``kind``."""
    if target == "data" and kind != "additive":
        return EPS_DATA_MULTIPLICATIVE
    return EPS[target]


def step_grid(max_steps: int, points: int = GRID_POINTS) -> np.ndarray:
    """Shape ``(k,)``: log-spaced distinct step counts from 1 to ``max_steps``.

    Examples
    --------
    >>> step_grid(100, 6).tolist()
    [1, 3, 6, 16, 40, 100]
    """
    grid = np.unique(np.round(np.geomspace(1, max_steps, points)).astype(np.int64))
    return grid


def chapter_cases(d: int) -> list[Case]:
    """Every setting of the claim in dimension ``d``.

    At ``B = 1``: no quantization, its bias part (``s^2 = 0``) and its
    variance part (``w_0 = w*``); at each batch of :data:`BATCHES`: no
    quantization and every target x kind with the strength of :func:`strength`.
    """
    cases = []
    for batch in BATCHES:
        base = Problem(d=d, a=EXPONENT, gamma=STEP, batch=batch, noise_var=NOISE_VAR)
        cases.append(Case(f"B={batch} no quantization", base, None))
        if batch == 1:
            bias = replace(base, noise_var=0.0)
            variance = replace(base, w_init=base.w_star)
            cases.append(Case("B=1 bias part (s^2 = 0)", bias, None, "bias"))
            cases.append(Case("B=1 variance part (w_0 = w*)", variance, None, "variance"))
        for target in TARGETS:
            for kind in KINDS:
                quant = Quantization(target, kind, strength(target, kind))
                cases.append(Case(f"B={batch} {target} {kind}", base, quant))
    return cases


@dataclass(frozen=True)
class Comparison:
    """Simulated risks of one case beside the recursion's prediction.

    Attributes
    ----------
    case
        The setting.
    simulated
        Per-run risks at ``simulated.steps`` (shape ``(runs, k)`` each).
    predicted
        The recursion's ``last`` and ``average`` at the same steps (shape ``(k,)`` each).
    radius
        The recursion's stability radius (the hypothesis: ``< 1``).
    """

    case: Case
    simulated: SimulatedRisk
    predicted: RiskCurve
    radius: float

    def mean(self, estimator: str) -> np.ndarray:
        """Shape ``(k,)``: the Monte Carlo mean risk of ``estimator``."""
        return getattr(self.simulated, estimator).mean(axis=0)

    def standard_error(self, estimator: str) -> np.ndarray:
        """Shape ``(k,)``: the standard error of :meth:`mean`."""
        samples = getattr(self.simulated, estimator)
        return samples.std(axis=0, ddof=1) / np.sqrt(samples.shape[0])

    def deterministic(self, estimator: str) -> np.ndarray:
        """Shape ``(k,)``: where every run gives the same risk (the average at ``T = 1``)."""
        samples = getattr(self.simulated, estimator)
        spread = samples.max(axis=0) - samples.min(axis=0)
        return spread <= DETERMINISTIC_SPREAD * np.maximum(np.abs(samples.mean(axis=0)), 1e-300)

    def z(self, estimator: str) -> np.ndarray:
        """Shape ``(k,)``: (simulated mean - predicted) / standard error; 0 where deterministic."""
        diff = self.mean(estimator) - getattr(self.predicted, estimator)
        se = self.standard_error(estimator)
        exact = self.deterministic(estimator)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(exact, 0.0, diff / np.where(exact, 1.0, se))

    def exact_mismatch(self, estimator: str) -> np.ndarray:
        """Shape ``(k,)``: deterministic points where simulation and recursion differ."""
        predicted = getattr(self.predicted, estimator)
        mean = self.mean(estimator)
        gap = np.abs(mean - predicted)
        scale = EXACT_TOLERANCE * np.maximum(np.abs(predicted), np.abs(mean)) + 1e-15
        return self.deterministic(estimator) & ~(gap <= scale)


def compare(case: Case, steps: np.ndarray, runs: int, seed: SeedLike) -> Comparison:
    """Simulate ``case`` and compute its exact risk curve at ``steps``."""
    quantizer = None if case.quant is None else idealized(case.quant)
    simulated = simulate_risk(case.problem, quantizer, steps, runs, seed)
    predicted = recursion.risk_curve(case.problem, case.quant, steps)
    radius = float(recursion.stability_radius(case.problem, case.quant))
    return Comparison(case=case, simulated=simulated, predicted=predicted, radius=radius)


def run_comparisons(
    cases: Sequence[Case], samples: int, runs: int, seed: SeedLike
) -> list[Comparison]:
    """Compare every case over one pass of ``samples`` samples (``samples / B`` steps).

    Each case gets its own child seed, spawned in order from ``seed``.
    """
    out = []
    for case, child in paired(list(cases), seed):
        steps = step_grid(samples // case.problem.batch)
        out.append(compare(case, steps, runs, child))
    return out


def count_comparisons(comparisons: Sequence[Comparison]) -> int:
    """Number of (case, estimator, step) points compared: the Bonferroni count."""
    return sum(len(ESTIMATORS) * c.simulated.steps.size for c in comparisons)


@dataclass(frozen=True)
class Verdict:
    """The numbers of the claim.

    Attributes
    ----------
    comparisons
        Every (case, estimator, step) point; the Bonferroni count.
    statistical
        Points with a standard error (the others are deterministic).
    threshold
        Critical |t| of each statistical point at the budget.
    worst_z
        Largest |z| over statistical points; ``inf`` if some risk is not finite.
    worst_where
        Case, estimator and step of ``worst_z``.
    exact_mismatches
        Deterministic points where simulation and recursion differ.
    largest_radius
        Largest stability radius over the cases (hypothesis: ``< 1``).
    unstable
        Labels of the cases whose radius is not below 1.
    resolution
        Median, over the statistical points, of the interval's half-width
        relative to the predicted risk: errors of the recursion much smaller
        than this cannot make the claim fail.
    """

    comparisons: int
    statistical: int
    threshold: float
    worst_z: float
    worst_where: str
    exact_mismatches: int
    largest_radius: float
    unstable: tuple[str, ...]
    resolution: float

    @property
    def passed(self) -> bool:
        return bool(
            self.worst_z <= self.threshold and self.exact_mismatches == 0 and not self.unstable
        )


def verdict(comparisons: Sequence[Comparison]) -> Verdict:
    """Collect the points of every comparison against the budget's t threshold."""
    if not comparisons:
        raise ValueError("comparisons must not be empty")
    runs = {c.simulated.last.shape[0] for c in comparisons}
    if len(runs) != 1 or min(runs) < 2:
        raise ValueError(f"every comparison needs the same number of runs >= 2, got {runs}")
    k = count_comparisons(comparisons)
    threshold = stats.t_threshold(runs.pop() - 1, k)
    worst, where, statistical, mismatches = 0.0, "", 0, 0
    relative = []
    for c in comparisons:
        for estimator in ESTIMATORS:
            random = ~c.deterministic(estimator)
            half = threshold * c.standard_error(estimator)[random]
            relative.append(half / np.abs(getattr(c.predicted, estimator)[random]))
            z = np.abs(c.z(estimator))
            z = np.where(np.isfinite(z), z, np.inf)
            statistical += int((~c.deterministic(estimator)).sum())
            mismatches += int(c.exact_mismatch(estimator).sum())
            i = int(np.argmax(z))
            if z[i] > worst or not where:
                worst = float(z[i])
                where = f"{c.case.label}, {estimator} iterate, T = {int(c.simulated.steps[i])}"
    radii = [c.radius for c in comparisons]
    unstable = tuple(c.case.label for c in comparisons if not c.radius < 1)
    return Verdict(
        comparisons=k,
        statistical=statistical,
        threshold=threshold,
        worst_z=worst,
        worst_where=where,
        exact_mismatches=mismatches,
        largest_radius=float(max(radii)),
        unstable=unstable,
        resolution=float(np.median(np.concatenate(relative))),
    )


def recursion_claim(
    comparisons: Sequence[Comparison], d: int, samples: int, seed: SeedLike
) -> Claim:
    """``lr.recursion_matches_mc``: Monte Carlo mean risks lie in the budget's t intervals.

    One comparison per case, estimator (last iterate, average) and step of the
    grid; each has Student's t threshold with ``runs - 1`` degrees of freedom
    at the book's budget, Bonferroni over all of them. The average at ``T = 1``
    is ``w_0`` in every run: there the check is exact (up to rounding). The
    claim fails if any point is outside, any risk is not finite, or any case
    violates the hypothesis ``stability_radius < 1``.
    """
    v = verdict(comparisons)
    runs = comparisons[0].simulated.last.shape[0]
    batches = sorted({c.case.problem.batch for c in comparisons})
    return Claim(
        id="lr.recursion_matches_mc",
        statement=(
            "the exact recursion for the mean and diagonal second moment of the SGD error "
            "gives the expected excess risk of the last and the averaged iterate at every "
            "step, without quantization and for every target and idealized quantizer "
            "(additive, multiplicative per vector, per coordinate), at B = "
            + " and ".join(map(str, batches))
        ),
        passed=v.passed,
        measured={
            "cases (settings simulated)": len(comparisons),
            "points compared (case x estimator x step)": v.comparisons,
            "largest |z| over the statistical points": v.worst_z,
            "where": v.worst_where,
            "deterministic points (average at T = 1) that differ": v.exact_mismatches,
            "largest stability radius": v.largest_radius,
            "interval half-width / predicted risk (median)": v.resolution,
        },
        expected={
            "largest |z| over the statistical points": f"<= {v.threshold:.3g}",
            "deterministic points (average at T = 1) that differ": 0,
            "largest stability radius": "< 1 (every case)",
        },
        method=(
            f"d = {d}, a = {EXPONENT:g}, gamma = {STEP:g}, s^2 = {NOISE_VAR:g}, w* = 1, "
            f"w_0 = 0; one pass over N = {samples:,} samples (N/B steps), {runs:,} "
            f"independent runs per case; {v.statistical:,} statistical points, each within "
            f"Student's t interval ({runs - 1} dof) at the book's budget, Bonferroni over all "
            f"{v.comparisons:,} points; eps = 0.5 (labels, params, activations, gradients), "
            f"{EPS['data']:g} (additive data), {EPS_DATA_MULTIPLICATIVE:g} "
            "(multiplicative data)"
        ),
        seed=describe(seed),
        kind="theorem",
        margin=stats.margin(v.worst_z, v.threshold, unit="SE"),
    )


# ---- Wrong recursions: the failure modes the claim must catch ----------------------------
RiskCurveFunction = Callable[[Problem, Quantization | None, np.ndarray], RiskCurve]
#: the exact recursion, kept here so that the wrong ones below can call it while a test
#: has put one of them in its place
_EXACT_RISK_CURVE: RiskCurveFunction = recursion.risk_curve
#: the quantized targets whose additive noise enters divided by B
DIVIDED_BY_B = ("labels", "activations", "gradients")


def _without_one_over_b(problem: Problem, quant: Quantization | None, steps) -> RiskCurve:
    if quant is not None and quant.kind == "additive" and quant.target in DIVIDED_BY_B:
        quant = replace(quant, eps=quant.eps * problem.batch)
    return _EXACT_RISK_CURVE(problem, quant, steps)


def _vector_for_coordinate(problem: Problem, quant: Quantization | None, steps) -> RiskCurve:
    if quant is not None and quant.kind == "mult_coord":
        quant = replace(quant, kind="mult_vector")
    return _EXACT_RISK_CURVE(problem, quant, steps)


def _average_one_too_many(problem: Problem, quant: Quantization | None, steps) -> RiskCurve:
    curve = _EXACT_RISK_CURVE(problem, quant, steps)
    shifted = _EXACT_RISK_CURVE(problem, quant, np.asarray(steps) + 1)
    return replace(curve, average=shifted.average)


StepChange = Callable[[AffineStep, Problem, Quantization], AffineStep]


def _with_data_step(change: StepChange) -> RiskCurveFunction:
    """The exact recursion with ``change`` applied to its one-step map for quantized data."""

    def curve(problem: Problem, quant: Quantization | None, steps) -> RiskCurve:
        if quant is None or quant.target != "data":
            return _EXACT_RISK_CURVE(problem, quant, steps)
        exact = recursion.affine_step
        with mock.patch.object(recursion, "affine_step", lambda p, q: change(exact(p, q), p, q)):
            return _EXACT_RISK_CURVE(problem, quant, steps)

    return curve


def _target_at_w_star(step: AffineStep, problem: Problem, quant: Quantization) -> AffineStep:
    return replace(step, target=problem.w_star.copy())


def _diagonal_closure(step: AffineStep, problem: Problem, quant: Quantization) -> AffineStep:
    own = np.sum(step.coupling_left * step.coupling_right, axis=0)  # the j = i terms
    empty = np.zeros_like(step.coupling_left)
    return replace(step, a_v=step.a_v + own, coupling_left=empty, coupling_right=empty)


def _gaussian_fourth_moments(step: AffineStep, problem: Problem, quant: Quantization) -> AffineStep:
    if quant.kind != "mult_vector":
        return step
    factor = (1 + quant.eps) ** 2 / (1 + 6 * quant.eps + 3 * quant.eps**2)
    return replace(step, coupling_left=step.coupling_left * factor)


#: wrong recursions, by the error each makes; each has a registered mutation test
WRONG_RECURSIONS: dict[str, RiskCurveFunction] = {
    "additive label/activation/gradient noise not divided by B": _without_one_over_b,
    "per-vector coefficients for a per-coordinate quantizer": _vector_for_coordinate,
    "average over w_0..w_T instead of w_0..w_{T-1}": _average_one_too_many,
    "data quantization's target shift left out (w~ = w*)": _with_data_step(_target_at_w_star),
    "data coupling between coordinates dropped": _with_data_step(_diagonal_closure),
    "Gaussian fourth moments for a per-vector quantized data row": _with_data_step(
        _gaussian_fourth_moments
    ),
}


def wrong_recursion_verdicts(comparisons: Sequence[Comparison]) -> dict[str, Verdict]:
    """The claim's verdict on the same simulations with each wrong recursion as prediction.

    Shows the claim's power on the chapter's own data: a wrong recursion that
    the check cannot tell from the exact one has a verdict that passes.
    """
    out = {}
    for name, wrong in WRONG_RECURSIONS.items():
        changed = [
            replace(c, predicted=wrong(c.case.problem, c.case.quant, c.simulated.steps))
            for c in comparisons
        ]
        out[name] = verdict(changed)
    return out
