"""Claims of the lemmas chapter: Lemmas 4.1/4.3, 5.1, 5.3, 5.5 and Proposition 1."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from quantheory.cg import annulus
from quantheory.cg import lemmas as lm
from quantheory.cg import network as nw
from quantheory.cg import quadrature as qd
from quantheory.cg import surrogates as sg
from quantheory.cg.population import AnnulusPopulation
from quantheory.claims import Claim
from quantheory.stats import margin, z_threshold

#: relative rounding tolerance of the exact (floating-point) checks
ROUNDING = 1e-12
#: the scaled ReLU's ratios must equal ReLU's to this relative tolerance: its trajectory
#: is ReLU's bit for bit (SCALE is a power of 2) and its bounds carry delta, delta~ = SCALE
SCALED_TOLERANCE = 1e-9
SCALED_PREDICTION = (
    f"{sg.SCALE} x ReLU has delta = delta~ = {sg.SCALE} and a coarse gradient {sg.SCALE} "
    f"times ReLU's; stepped at eta / {sg.SCALE} it moves W exactly as ReLU does, so where "
    "delta and delta~ enter the bound correctly its ratio equals ReLU's (dropping delta, "
    f"dropping delta~ or an unsquared delta~ moves it by a power of {sg.SCALE})"
)


def scaled_deviation(relu: np.ndarray, scaled: np.ndarray) -> float:
    """Largest ``|scaled / relu - 1|`` over entries where either ratio is defined (not nan);
    an entry defined for one surrogate only counts as ``inf``."""
    relu, scaled = np.asarray(relu, dtype=float), np.asarray(scaled, dtype=float)
    if relu.shape != scaled.shape:
        return np.inf
    defined = np.isfinite(relu) | np.isfinite(scaled)
    if not defined.any():
        raise ValueError("no ratio is defined for ReLU or the scaled ReLU")
    with np.errstate(divide="ignore", invalid="ignore"):
        gap = np.abs(scaled[defined] / relu[defined] - 1)
    return float(np.max(np.where(np.isnan(gap), np.inf, gap)))


def require_scaled_pair(collection: Mapping[str, object], where: str) -> None:
    """Readable error unless ``collection`` holds ReLU and the scaled ReLU."""
    missing = {"relu", sg.SCALED_RELU} - set(collection)
    if missing:
        raise ValueError(f"{where} needs runs of {sorted(missing)} for the scaled prediction")


@dataclass(frozen=True)
class Setting:
    """The network and data every claim of the chapter shares.

    Attributes
    ----------
    population : the annulus population (C_p and M come from it).
    v : (n, k) second layer, checked against Assumption 1.
    bits : bit-width of the quantized ReLU.
    eta : learning rate of (8).
    """

    population: AnnulusPopulation
    v: np.ndarray
    bits: int
    eta: float

    def __post_init__(self) -> None:
        nw.check_second_layer(self.v)
        if self.v.shape[0] != self.population.n_classes:
            raise ValueError(
                f"V has {self.v.shape[0]} rows but the population has "
                f"{self.population.n_classes} classes"
            )


def decomposition_claim(
    setting: Setting,
    w: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    derivative: nw.Derivative,
    seed_label: str,
) -> Claim:
    """``cg.lemma4_decomposition``: ``l_i(W) = l_i(W_i)``; a step on ``l_i`` keeps ``W_r``."""
    pop, v, bits = setting.population, setting.v, setting.bits
    loss_gap, moved, scale = 0.0, 0.0, float(np.abs(w).max())
    for i in range(pop.n_classes):
        xi, yi = x[y == i], y[y == i]
        full = nw.forward(w, xi, yi, v, bits).loss
        own = nw.forward(pop.component(w, i), xi, yi, v, bits).loss
        loss_gap = max(loss_gap, float(np.abs(full - own).max()))
        stepped = w - setting.eta * nw.coarse_gradient(w, xi, yi, v, bits, derivative)
        for r in range(pop.n_classes + 1):
            if r != i:
                change = pop.component(stepped, r) - pop.component(w, r)
                moved = max(moved, float(np.abs(change).max()))
    passed = loss_gap == 0.0 and moved <= ROUNDING * scale
    return Claim(
        id="cg.lemma4_decomposition",
        statement=(
            "l_i(W) = l_i(W_i) for every sample of class i (Lemma 4.1), and a coarse-gradient "
            "step on l_i leaves W_r unchanged for every r != i, including V_{n+1} (Lemma 4.3)"
        ),
        passed=bool(passed),
        measured={
            "largest |l(W; x) - l(W_i; x)|": loss_gap,
            "largest change of W_r, r != i": moved,
        },
        expected={
            "largest |l(W; x) - l(W_i; x)|": 0.0,
            "largest change of W_r, r != i": f"<= {ROUNDING:g} max|W| = {ROUNDING * scale:.1e}",
        },
        method=(
            f"{w.shape[0]} random W (d = {pop.dim}, k = {v.shape[1]}), "
            f"{np.sum(y == 0):,} samples per class, n = {pop.n_classes}, b = {bits}, "
            f"eta = {setting.eta:g}; every class i and every other subspace r."
        ),
        seed=seed_label,
        summary=(
            f"losses identical; other components move by at most {moved:.1e} "
            f"(|W| up to {scale:.2g})"
        ),
        margin=margin(moved, ROUNDING * scale, unit="") + f"; loss gap {loss_gap:g} (exact)",
    )


def lemma51_claim(
    setting: Setting,
    terms: Mapping[str, lm.LemmaTerms],
    population: Mapping[str, lm.PopulationTerms],
    seed_label: str,
) -> Claim:
    """``cg.lemma5_1``: ``P(Omega_W^j) >= |grad_j l_i| / (v^_j delta~ M)`` at random W,
    on the population (quadrature) and on the sample."""
    require_scaled_pair(population, "Lemma 5.1's population check")
    rows, worst, pairs, ok, deviation = {}, np.inf, 0, True, 0.0
    for source, collection in (("population", population), ("sample", terms)):
        full = {}
        for name, t in collection.items():
            _, delta_tilde = lm.derivative_bounds(name, setting.bits, t.largest_input)
            bound = lm.lemma51_bound(t, setting.v, delta_tilde, setting.population.outer)
            moving = t.grad_norm > 0
            ratio = t.prob[moving] / bound[moving]
            ok &= bool(np.all(t.prob >= bound * (1 - ROUNDING)))
            worst = min(worst, float(ratio.min()))
            pairs += int(moving.sum())
            rows[f"{source}, {name}: smallest P / bound"] = float(ratio.min())
            full[name] = np.where(moving, t.prob / np.where(moving, bound, 1.0), np.nan)
        if "relu" in full and sg.SCALED_RELU in full:
            gap = scaled_deviation(full["relu"], full[sg.SCALED_RELU])
            deviation = max(deviation, gap)
            rows[f"{source}: largest |scaled ReLU's ratio / ReLU's - 1|"] = gap
    ok &= deviation <= SCALED_TOLERANCE
    return Claim(
        id="cg.lemma5_1",
        statement="P_{D_i}(Omega_W^j) >= |grad_{w_j} l_i(W)| / (v^_j delta~ M) (Lemma 5.1)",
        passed=bool(ok),
        measured=rows,
        expected={
            "smallest P / bound": ">= 1 (rounding 1e-12)",
            "largest |scaled ReLU's ratio / ReLU's - 1|": f"<= {SCALED_TOLERANCE:g}",
        },
        method=(
            f"{SCALED_PREDICTION}. "
            f"{pairs:,} (W, i, j) pairs with a non-zero coarse gradient, on the population "
            "(both sides by the same quadrature over each class's annulus) and on a sample. "
            "The lemma holds for any distribution supported in |x| < M, the sample's and "
            "the quadrature rule's included, so both comparisons are exact: a ratio below "
            "1 would be a wrong constant, not bad luck. delta~ on (0, B] with B the "
            "largest pre-activation seen; the two-slope ramp has delta~ = 3/2."
        ),
        seed=seed_label,
        summary=(
            f"smallest ratio P / bound {worst:.3f} over {pairs:,} pairs (>= 1 required); "
            f"scaled ReLU's ratio is ReLU's within {deviation:.0e}"
        ),
        margin=(
            margin(worst, 1.0, unit="", passes_below=False)
            + "; scaled ReLU "
            + margin(deviation, SCALED_TOLERANCE, unit="")
        ),
    )


def quadrature_discrepancy(
    coarse: lm.PopulationTerms, fine: lm.PopulationTerms, kappa: np.ndarray
) -> float:
    """Largest relative change of Lemma 5.3's ratio ``inner / (kappa P^2)`` when the rule
    is refined; ``fine`` holds the first runs of ``coarse`` computed with a finer rule."""
    runs = fine.prob.shape[0]
    pairs = (kappa[None] > 0) & (fine.prob > 0) & (coarse.prob[:runs] > 0)
    ratio_fine = fine.inner[pairs] / (kappa[None] * fine.prob**2)[pairs]
    ratio_coarse = coarse.inner[:runs][pairs] / (kappa[None] * coarse.prob[:runs] ** 2)[pairs]
    return float(np.max(np.abs(ratio_coarse / ratio_fine - 1)))


#: the largest relative change of Lemma 5.3's ratio under refinement of the rule that
#: the population check accepts (set after a first run showed 3e-3 on another seed)
QUADRATURE_TOLERANCE = 0.02


def lemma53_claim(
    setting: Setting,
    terms: Mapping[str, lm.LemmaTerms],
    population: Mapping[str, lm.PopulationTerms],
    refined: Mapping[str, lm.PopulationTerms],
    seed_label: str,
    exponent: float = 2.0,
) -> Claim:
    """``cg.lemma5_3``: ``<w~_{j,i}, -grad_j l_i> >= v~ delta P^2 / (2 C_p)`` at random W.

    On the population the two sides are quadratures: the smallest ratio must be
    >= 1 and the rule accurate (``refined`` recomputes the first runs with a finer
    rule; the ratio may change by at most :data:`QUADRATURE_TOLERANCE`). On the
    sample, Monte Carlo: the gap ``inner - kappa P^2`` must not be significantly
    negative for any pair (delta-method standard error, Bonferroni over pairs).
    ``exponent`` exists so that tests can state the inequality wrongly.
    """
    rows, ratios, z_scores, population_ratios, discrepancy = {}, [], [], [], 0.0
    cp = setting.population.cp
    exact = lm.lemma53_factors(dict(population), setting.v, setting.bits, cp)
    for name, t in population.items():
        kappa = exact[name]
        pairs = (kappa[None] > 0) & (t.prob > 0)
        ratio = t.inner[pairs] / (kappa[None] * t.prob**exponent)[pairs]
        population_ratios.append(ratio)
        discrepancy = max(discrepancy, quadrature_discrepancy(t, refined[name], kappa))
        rows[f"population, {name}: smallest inner / bound"] = float(ratio.min())
    factors = lm.lemma53_factors(dict(terms), setting.v, setting.bits, cp)
    for name, t in terms.items():
        kappa = factors[name]
        gap, se = lm.lemma53_gap(t, kappa, exponent)
        pairs = (kappa[None] > 0) & (t.prob > 0)
        bound = (kappa[None] * t.prob**exponent)[pairs]
        inner, inner_se = t.inner[pairs], np.sqrt(t.var_inner[pairs] / t.samples)
        ratio = inner / bound
        ratios.append(ratio)
        z_scores.append(gap[pairs] / np.maximum(se[pairs], np.finfo(float).tiny))
        k = int(np.argmin(ratio))
        low = (inner[k] - 1.96 * inner_se[k]) / bound[k]
        rows[f"sample, {name}: smallest inner / bound"] = (
            f"{ratio[k]:.3f} (95% CI lower end {low:.3f})"
        )
    ratios, z_scores = np.concatenate(ratios), np.concatenate(z_scores)
    smallest = float(np.concatenate(population_ratios).min())
    threshold = z_threshold(z_scores.size)
    passed = bool(
        np.all(z_scores > -threshold) and smallest >= 1.0 and discrepancy <= QUADRATURE_TOLERANCE
    )
    rows["population: smallest inner / bound"] = smallest
    rows["population: largest change of the ratio under a finer rule"] = discrepancy
    rows["sample: smallest z of the gap"] = float(z_scores.min())
    return Claim(
        id="cg.lemma5_3",
        statement=(
            "<w~_{j,i}, -grad_{w_j} l_i(W)> >= v~_{i,j} delta P_{D_i}(Omega_W^j)^2 / (2 C_p) "
            "(Lemma 5.3), C_p = 2/(pi sqrt(M^2 - m_x^2))"
        ),
        passed=passed,
        measured=rows,
        expected={
            "population: smallest inner / bound": ">= 1",
            "population: largest change of the ratio under a finer rule": (
                f"<= {QUADRATURE_TOLERANCE:g}"
            ),
            "sample: smallest z of the gap": f"> -{threshold:.2f}",
        },
        method=(
            "population: both sides by quadrature over each class's annulus (the rule "
            "refined to twice the nodes per piece and twice the grid on the first "
            f"{next(iter(refined.values())).prob.shape[0]} weights, to bound its error). "
            f"Sample: {z_scores.size:,} (W, i, j) pairs with v~ > 0 and P > 0, "
            f"{next(iter(terms.values())).samples:,} samples per class; the gap "
            "inner - kappa P^2 has a delta-method standard error; Bonferroni over pairs "
            f"within the book's error budget (|z| threshold {threshold:.2f}). delta on "
            "(0, B]; the two-slope ramp has delta = 1/2."
        ),
        seed=seed_label,
        summary=(
            f"population: smallest ratio inner / bound {smallest:.2f} (rule accurate to "
            f"{discrepancy:.0e}); sample: smallest ratio {ratios.min():.2f} over "
            f"{ratios.size:,} pairs"
        ),
        margin=(
            margin(smallest, 1.0, unit="", passes_below=False)
            + "; sample "
            + margin(float(z_scores.min()), -threshold, unit="SE", passes_below=False)
        ),
    )


#: a sample step whose increment falls below Lemma 5.5's bound must have at most this
#: many training points in Omega_W^j (the chapter's exercise, written before this check)
FEW_POINTS = 30


@dataclass(frozen=True)
class GrowthRatios:
    """Lemma 5.5 along one batch of runs: pairs ``(i, j)`` with ``v_{i,j} > 0``.

    Attributes
    ----------
    ratios : increment / bound at every step with a measurable bound.
    drop : largest relative decrease ``-increment / max(|w_{j,i}|, 1)``.
    unresolved : steps with a non-zero gradient whose bound is below rounding of
        ``|w_{j,i}|`` (the increment cannot be resolved; monotonicity still counts).
    few : for sample runs, the points in Omega_W^j at each of ``ratios``' steps.
    full : (T, R, n, pairs) increment / bound, ``nan`` where the bound is not measurable.
    """

    ratios: np.ndarray
    drop: float
    unresolved: int
    few: np.ndarray | None
    full: np.ndarray


def growth_ratios(
    setting: Setting, v: np.ndarray, name: str, run: lm.Trajectories | qd.TrackedRun
) -> GrowthRatios:
    """Lemma 5.5's ratios for one batch of runs with second layer ``v``, stepped at
    :func:`lemmas.step_size`."""
    tracked = v > 0
    increments = run.increments[:, :, tracked]
    size = np.maximum(run.components[:-1][:, :, tracked], 1.0)
    delta, delta_tilde = lm.trajectory_derivative_bounds(
        name, setting.bits, run, setting.population.outer
    )
    factor = lm.lemma55_bound(
        v,
        delta,
        delta_tilde,
        setting.population.cp,
        setting.population.outer,
        lm.step_size(name, setting.eta),
    )[tracked]
    grads = run.class_gradients[:, :, tracked]
    bound = factor * grads**2
    measurable = bound > ROUNDING * size
    counts = getattr(run, "region_counts", None)
    return GrowthRatios(
        ratios=increments[measurable] / bound[measurable],
        drop=float(np.max(-increments / size)),
        unresolved=int(np.count_nonzero((grads > 0) & ~measurable)),
        few=None if counts is None else counts[:, :, tracked][measurable],
        full=np.where(measurable, increments / np.where(measurable, bound, 1.0), np.nan),
    )


def lemma55_claim(
    setting: Setting,
    layers: Mapping[str, np.ndarray],
    population: Mapping[str, Mapping[str, qd.TrackedRun]],
    sample: Mapping[str, Mapping[str, lm.Trajectories]],
    seed_label: str,
) -> Claim:
    """``cg.lemma5_5_monotone``: ``|w_{j,i}^t|`` never decreases; increments above the bound.

    ``population[layer][surrogate]`` and ``sample[layer][surrogate]`` hold runs with
    second layer ``layers[layer]`` (``setting.v`` is not used). On the population the
    bound must hold at every step; on a sample (no density, so no C_p) a step below
    the bound must have at most :data:`FEW_POINTS` points in Omega_W^j.
    """
    rows, ok, worst_drop, smallest, unresolved = {}, True, 0.0, np.inf, 0
    below, most_points, deviation = 0, 0, 0.0
    for source, collection in (("population", population), ("sample", sample)):
        for layer, batch in collection.items():
            if source == "population":
                require_scaled_pair(batch, f"Lemma 5.5's population check ({layer})")
            full = {}
            for name, run in batch.items():
                growth = growth_ratios(setting, layers[layer], name, run)
                full[name] = growth.full
                worst_drop = max(worst_drop, growth.drop)
                unresolved += growth.unresolved
                low = float(growth.ratios.min())
                rows[f"{source}, {layer}, {name}: smallest increment / bound"] = low
                if source == "population":
                    smallest = min(smallest, low)
                else:
                    failing = growth.ratios < 1.0
                    below += int(failing.sum())
                    if failing.any():
                        most_points = max(most_points, int(growth.few[failing].max()))
            if "relu" in full and sg.SCALED_RELU in full:
                gap = scaled_deviation(full["relu"], full[sg.SCALED_RELU])
                deviation = max(deviation, gap)
                rows[f"{source}, {layer}: largest |scaled ReLU's ratio / ReLU's - 1|"] = gap
    ok = (
        worst_drop <= ROUNDING
        and smallest >= 1.0
        and most_points <= FEW_POINTS
        and deviation <= SCALED_TOLERANCE
    )
    rows["largest relative decrease"] = worst_drop
    rows["population: smallest increment / bound"] = smallest
    rows["sample: steps below the bound"] = below
    rows["sample: most points in Omega_W^j at such a step"] = most_points
    rows["steps whose bound is below rounding (monotonicity only)"] = unresolved
    return Claim(
        id="cg.lemma5_5_monotone",
        statement=(
            "along coarse-gradient descent |w_{j,i}^t| is non-decreasing when v_{i,j} > 0, and "
            "each increment is >= eta v~ delta |grad_j l_i|^2 / (2 n C_p v^^2 delta~^2 M^2) "
            "on the population, for both second layers; on a sample the bound can fail, "
            f"but only at steps where Omega_W^j holds at most {FEW_POINTS} points (a "
            "finite-sample effect: C_p bounds a density)"
        ),
        passed=bool(ok),
        measured=rows,
        expected={
            "largest relative decrease": f"<= {ROUNDING:g} (rounding)",
            "population: smallest increment / bound": ">= 1",
            "sample: most points in Omega_W^j at such a step": f"<= {FEW_POINTS}",
            "largest |scaled ReLU's ratio / ReLU's - 1|": f"<= {SCALED_TOLERANCE:g}",
        },
        method=(
            f"{SCALED_PREDICTION}. "
            "population: descent with the coarse gradient by quadrature over each class's "
            "annulus; sample: descent on 1,000 inputs per class. Every step of every run, "
            "each pair (i, j) with v_{i,j} > 0; delta, delta~ on (0, B] with "
            "B = max_t |w_j^t| M. A step whose bound is below 1e-12 |w_{j,i}| cannot be "
            "resolved in floating point; it counts for monotonicity only (the count is "
            "reported)."
        ),
        seed=seed_label,
        summary=(
            f"no decrease beyond rounding ({worst_drop:.1e}); population smallest increment "
            f"/ bound {smallest:.2f}; {below:,} sample steps below the bound, each with "
            f"<= {most_points} points in Omega_W^j; scaled ReLU's ratios are ReLU's within "
            f"{deviation:.0e}"
        ),
        margin=(
            margin(smallest, 1.0, unit="", passes_below=False)
            + f"; sample {margin(most_points, FEW_POINTS, unit='points')}"
            + f"; scaled ReLU {margin(deviation, SCALED_TOLERANCE, unit='')}"
        ),
    )


def prop1_sums(
    setting: Setting, v: np.ndarray, name: str, run: lm.Trajectories | qd.TrackedRun
) -> tuple[np.ndarray, np.ndarray]:
    """``sum_t |grad_j l_i(W^t)|^2`` and Proposition 1's bound, each (R, pairs) for
    the pairs with ``v_{i,j} > 0``; R is the observed ``max_t |w_j^t|``, the step
    :func:`lemmas.step_size`."""
    delta, delta_tilde = lm.trajectory_derivative_bounds(
        name, setting.bits, run, setting.population.outer
    )
    pop = setting.population
    bound = lm.prop1_bound(
        v,
        delta,
        delta_tilde,
        pop.cp,
        pop.outer,
        lm.step_size(name, setting.eta),
        run.largest_weight,
    )
    return np.sum(run.class_gradients**2, axis=0)[:, v > 0], bound[:, v > 0]


def prop1_claim(
    setting: Setting,
    layers: Mapping[str, np.ndarray],
    population: Mapping[str, Mapping[str, qd.TrackedRun]],
    sample: Mapping[str, Mapping[str, lm.Trajectories]],
    seed_label: str,
) -> Claim:
    """``cg.prop1_summable``: ``sum_t |grad_j l_i(W^t)|^2`` below Proposition 1's bound,
    written from the proposition's statement (:func:`lemmas.prop1_constant`)."""
    rows, largest, deviation = {}, 0.0, 0.0
    for source, collection in (("population", population), ("sample", sample)):
        for layer, batch in collection.items():
            if source == "population":
                require_scaled_pair(batch, f"Proposition 1's population check ({layer})")
            full = {}
            for name, run in batch.items():
                sums, bound = prop1_sums(setting, layers[layer], name, run)
                full[name] = sums / bound
                ratio = float(np.max(full[name]))
                largest = max(largest, ratio)
                rows[f"{source}, {layer}, {name}: largest sum / bound"] = ratio
            if "relu" in full and sg.SCALED_RELU in full:
                gap = scaled_deviation(full["relu"], full[sg.SCALED_RELU])
                deviation = max(deviation, gap)
                rows[f"{source}, {layer}: largest |scaled ReLU's ratio / ReLU's - 1|"] = gap
    return Claim(
        id="cg.prop1_summable",
        statement=(
            "sum_t |grad_{w_j} l_i(W^t)|^2 <= 2 n C_p v^_j^2 delta~^2 M^2 R / (eta v~_{i,j} "
            "delta) with R the observed max_t |w_j^t| (Proposition 1)"
        ),
        passed=bool(largest <= 1.0 and deviation <= SCALED_TOLERANCE),
        measured=rows,
        expected={
            "largest sum / bound": "<= 1",
            "largest |scaled ReLU's ratio / ReLU's - 1|": f"<= {SCALED_TOLERANCE:g}",
        },
        method=(
            f"{SCALED_PREDICTION}; the sum scales by {sg.SCALE}^2 and so must the bound. "
            "The factors 2 and M^2, which ReLU and its scaled copy share, are checked by "
            "the tightness finding below. "
            "The bound is written from the proposition's statement, not from Lemma 5.5's "
            "factor; sums over every step of the run (the paper's sum starts at t = 1, "
            "ours at t = 0, which includes it), every pair with v_{i,j} > 0, every run, "
            "population and sample. The graded layer's iterates grow on the population, "
            "so its R is the largest norm within the horizon and the check is of the "
            "finite-horizon statement (which the proof gives for any horizon)."
        ),
        seed=seed_label,
        summary=(
            f"largest sum is {largest:.2g} of the bound; scaled ReLU's ratios are ReLU's "
            f"within {deviation:.0e}"
        ),
        margin=(
            margin(largest, 1.0, unit="")
            + f"; scaled ReLU {margin(deviation, SCALED_TOLERANCE, unit='')}"
        ),
    )


#: the interval (in units of the half-annulus ratio) the finding predicts for Lemma 5.5's
#: smallest population ratio, and for Proposition 1's bound over the measured sum; the
#: upper ends were set after exploratory runs on other seeds (5.94 and 8.2 to 9.3)
LEMMA55_TIGHTNESS = (0.9, 1.1)
PROP1_TIGHTNESS = (1.0, 2.0)


def two_sided(value: float, interval: tuple[float, float], scale: float) -> str:
    """The margin of ``value`` to both ends of ``interval`` (in units of ``scale``)."""
    low, high = interval[0] * scale, interval[1] * scale
    return f"{margin(value, low, unit='', passes_below=False)} and {margin(value, high, unit='')}"


def tightness_claim(
    setting: Setting,
    layers: Mapping[str, np.ndarray],
    population: Mapping[str, Mapping[str, qd.TrackedRun]],
    bounded_layer: str,
    seed_label: str,
) -> Claim:
    """``cg.lemma_constants_tightness``: how far Lemma 5.5's and Proposition 1's bounds
    are from the population's ReLU numbers, against the half-annulus prediction.

    The prediction ``rho = 6 M^2 sqrt(M^2 - m_x^2) / (M^3 - m_x^3)``
    (:func:`annulus.half_annulus_ratio`) is the ratio at a step where Omega_W^j is the
    whole half annulus. Finding: Lemma 5.5's smallest ratio lies in
    ``LEMMA55_TIGHTNESS * rho`` for every layer; Proposition 1's bound over the sum,
    smallest over pairs, lies in ``PROP1_TIGHTNESS * rho`` for ``bounded_layer`` (whose
    iterates stay bounded, so R is the proposition's R). Dropping a factor 2, n or
    M^2 from either bound moves its number below the interval.
    """
    pop = setting.population
    rho = float(
        annulus.half_annulus_ratio().subs({annulus.inner: pop.inner, annulus.outer: pop.outer})
    )
    rows, ok = {"predicted ratio rho (half annulus)": rho}, True
    slacks = []
    for name in ("relu", sg.SCALED_RELU):
        for layer, batch in population.items():
            growth = growth_ratios(setting, layers[layer], name, batch[name])
            low = float(growth.ratios.min())
            rows[f"{layer}, {name}: Lemma 5.5 smallest increment / bound"] = low
            ok &= LEMMA55_TIGHTNESS[0] * rho <= low <= LEMMA55_TIGHTNESS[1] * rho
        sums, bound = prop1_sums(
            setting, layers[bounded_layer], name, population[bounded_layer][name]
        )
        slacks.append(float(np.min(bound / sums)))
        rows[f"{bounded_layer}, {name}: Proposition 1 smallest bound / sum"] = slacks[-1]
        ok &= PROP1_TIGHTNESS[0] * rho <= slacks[-1] <= PROP1_TIGHTNESS[1] * rho
    slack = min(slacks)
    lemma_low = min(v for k, v in rows.items() if "Lemma 5.5" in k)
    return Claim(
        id="cg.lemma_constants_tightness",
        kind="finding",
        statement=(
            f"with the ReLU surrogate and {sg.SCALE} x ReLU (stepped at eta / {sg.SCALE}) on "
            "the population, Lemma 5.5's bound is a factor "
            f"{LEMMA55_TIGHTNESS[0]:g} to {LEMMA55_TIGHTNESS[1]:g} times rho below the "
            "smallest increment (both second layers), and Proposition 1's bound is "
            f"{PROP1_TIGHTNESS[0]:g} to {PROP1_TIGHTNESS[1]:g} times rho above the summed "
            f"squared gradients ({bounded_layer} layer), rho = 2 C_p M^2 / (P rbar) at "
            "P = 1/2, the ratio when Omega_W^j is the whole half annulus"
        ),
        passed=bool(ok),
        measured=rows,
        expected={
            "Lemma 5.5 smallest ratio": (
                f"in [{LEMMA55_TIGHTNESS[0] * rho:.3g}, {LEMMA55_TIGHTNESS[1] * rho:.3g}]"
            ),
            "Proposition 1 bound / sum": (
                f"in [{PROP1_TIGHTNESS[0] * rho:.3g}, {PROP1_TIGHTNESS[1] * rho:.3g}]"
            ),
        },
        method=(
            "rho from SymPy (the mean of <w~, x> over the half annulus, integrated in "
            "polar coordinates), independent of the descent; the population runs of "
            "Lemma 5.5's check, ReLU surrogate (delta = delta~ = 1) and its scaled copy "
            f"(delta = delta~ = {sg.SCALE}). Quadrature is "
            "deterministic, so the interval is a tolerance, not a confidence interval. "
            "The lower ends follow from the proofs if the smallest ratio is the "
            "half-annulus one (Proposition 1 telescopes Lemma 5.5 with R >= the total "
            "increment); the upper ends were set after exploratory runs on other seeds."
        ),
        seed=seed_label,
        summary=(
            f"Lemma 5.5 within {lemma_low / rho:.3f} rho (rho = {rho:.3f}); Proposition 1 "
            f"loose by {slack:.2f} = {slack / rho:.2f} rho"
        ),
        margin=(
            f"Lemma 5.5 {two_sided(lemma_low, LEMMA55_TIGHTNESS, rho)}; Proposition 1 "
            f"{two_sided(slack, PROP1_TIGHTNESS, rho)}"
        ),
    )
