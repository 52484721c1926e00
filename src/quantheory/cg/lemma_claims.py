"""Claims of the lemmas chapter: Lemmas 4.1/4.3, 5.1, 5.3, 5.5 and Proposition 1."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from quantheory.cg import lemmas as lm
from quantheory.cg import network as nw
from quantheory.cg.population import AnnulusPopulation
from quantheory.claims import Claim
from quantheory.stats import margin, z_threshold

#: relative rounding tolerance of the exact (floating-point) checks
ROUNDING = 1e-12


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


def lemma51_claim(setting: Setting, terms: Mapping[str, lm.LemmaTerms], seed_label: str) -> Claim:
    """``cg.lemma5_1``: ``P(Omega_W^j) >= |grad_j l_i| / (v^_j delta~ M)`` at random W."""
    rows, worst, pairs, ok = {}, np.inf, 0, True
    for name, t in terms.items():
        _, delta_tilde = lm.derivative_bounds(name, setting.bits, t.largest_input)
        bound = lm.lemma51_bound(t, setting.v, delta_tilde, setting.population.outer)
        moving = t.grad_norm > 0
        ratio = t.prob[moving] / bound[moving]
        ok &= bool(np.all(t.prob >= bound))
        worst = min(worst, float(ratio.min()))
        pairs += int(moving.sum())
        rows[f"{name}: smallest P / bound"] = float(ratio.min())
    return Claim(
        id="cg.lemma5_1",
        statement="P_{D_i}(Omega_W^j) >= |grad_{w_j} l_i(W)| / (v^_j delta~ M) (Lemma 5.1)",
        passed=bool(ok),
        measured=rows,
        expected={"smallest P / bound": ">= 1"},
        method=(
            f"{pairs:,} (W, i, j) pairs with a non-zero coarse gradient; both sides estimated "
            "on the same sample. The lemma holds for any distribution supported in |x| < M, "
            "the sample's empirical one included, so this comparison is exact: a ratio below "
            "1 would be a wrong constant, not bad luck. delta~ on (0, B] with B the largest "
            "pre-activation seen."
        ),
        seed=seed_label,
        summary=f"smallest ratio P / bound {worst:.3f} over {pairs:,} pairs (>= 1 required)",
        margin=margin(worst, 1.0, unit="", passes_below=False),
    )


def lemma53_claim(
    setting: Setting,
    terms: Mapping[str, lm.LemmaTerms],
    seed_label: str,
    exponent: float = 2.0,
) -> Claim:
    """``cg.lemma5_3``: ``<w~_{j,i}, -grad_j l_i> >= v~ delta P^2 / (2 C_p)`` at random W.

    Monte Carlo: the gap ``inner - kappa P^2`` must not be significantly
    negative for any pair (delta-method standard error, Bonferroni over pairs).
    ``exponent`` exists so that tests can state the inequality wrongly.
    """
    rows, ratios, z_scores = {}, [], []
    factors = lm.lemma53_factors(dict(terms), setting.v, setting.bits, setting.population.cp)
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
        rows[f"{name}: smallest inner / bound"] = f"{ratio[k]:.3f} (95% CI lower end {low:.3f})"
    ratios, z_scores = np.concatenate(ratios), np.concatenate(z_scores)
    threshold = z_threshold(z_scores.size)
    passed = bool(np.all(z_scores > -threshold))
    rows["smallest z of the gap"] = float(z_scores.min())
    return Claim(
        id="cg.lemma5_3",
        statement=(
            "<w~_{j,i}, -grad_{w_j} l_i(W)> >= v~_{i,j} delta P_{D_i}(Omega_W^j)^2 / (2 C_p) "
            "(Lemma 5.3), C_p = 2/(pi sqrt(M^2 - m_x^2))"
        ),
        passed=passed,
        measured=rows,
        expected={"smallest z of the gap": f"> -{threshold:.2f}"},
        method=(
            f"{z_scores.size:,} (W, i, j) pairs with v~ > 0 and P > 0, "
            f"{next(iter(terms.values())).samples:,} samples per class; the gap "
            "inner - kappa P^2 has a delta-method standard error; Bonferroni over pairs "
            f"within the book's error budget (|z| threshold {threshold:.2f})."
        ),
        seed=seed_label,
        summary=f"smallest ratio inner / bound {ratios.min():.2f} over {ratios.size:,} pairs",
        margin=margin(float(z_scores.min()), -threshold, unit="SE", passes_below=False),
    )


def lemma55_claim(setting: Setting, runs: Mapping[str, lm.Trajectories], seed_label: str) -> Claim:
    """``cg.lemma5_5_monotone``: ``|w_{j,i}^t|`` never decreases; increments above the bound."""
    rows, ok, worst_drop, smallest = {}, True, 0.0, np.inf
    tracked = setting.v > 0
    for name, run in runs.items():
        increments = run.increments[:, :, tracked]
        size = run.components[:-1][:, :, tracked]
        drop = float(np.max(-increments / np.maximum(size, 1.0)))
        delta, delta_tilde = lm.trajectory_derivative_bounds(
            name, setting.bits, run, setting.population.outer
        )
        factor = lm.lemma55_bound(
            setting.v,
            delta,
            delta_tilde,
            setting.population.cp,
            setting.population.outer,
            setting.eta,
        )[tracked]
        grads = run.class_gradients[:, :, tracked]
        bound = factor * grads**2
        moving = grads > 0
        ratio = increments[moving] / bound[moving]
        ok &= drop <= ROUNDING
        worst_drop = max(worst_drop, drop)
        smallest = min(smallest, float(ratio.min()))
        rows[f"{name}: smallest increment / bound"] = float(ratio.min())
        rows[f"{name}: steps with a moving unit"] = int(moving.any(axis=(1, 2)).sum())
        rows[f"{name}: fewest samples in Omega_W^j while moving"] = int(
            run.region_counts[:, :, tracked][moving].min()
        )
    ok &= smallest >= 1.0
    rows["largest relative decrease"] = worst_drop
    return Claim(
        id="cg.lemma5_5_monotone",
        statement=(
            "along coarse-gradient descent |w_{j,i}^t| is non-decreasing when v_{i,j} > 0, and "
            "each increment is >= eta v~ delta |grad_j l_i|^2 / (2 n C_p v^^2 delta~^2 M^2)"
        ),
        passed=bool(ok),
        measured=rows,
        expected={
            "largest relative decrease": f"<= {ROUNDING:g} (rounding)",
            "smallest increment / bound": ">= 1",
        },
        method=(
            "every step of every run below (Theorem 3.1's runs), each pair (i, j) with "
            "v_{i,j} > 0; delta, delta~ on (0, B] with B = max_t |w_j^t| M. Monotonicity "
            "holds for any sample; the lower bound uses C_p, a property of the density, "
            "so on a sample it can fail when Omega_W^j holds only a few points near its "
            "edge (the fewest is reported)."
        ),
        seed=seed_label,
        summary=(
            f"no decrease beyond rounding ({worst_drop:.1e}); smallest increment / bound "
            f"{smallest:.2f}"
        ),
        margin=margin(smallest, 1.0, unit="", passes_below=False),
    )


def prop1_claim(setting: Setting, runs: Mapping[str, lm.Trajectories], seed_label: str) -> Claim:
    """``cg.prop1_summable``: ``sum_t |grad_j l_i(W^t)|^2`` below Proposition 1's bound."""
    rows, largest = {}, 0.0
    tracked = setting.v > 0
    bounds = lm.proposition1_bounds(
        setting.population, setting.v, setting.bits, setting.eta, dict(runs)
    )
    for name, run in runs.items():
        bound = bounds[name][:, tracked]
        sums = np.sum(run.class_gradients**2, axis=0)[:, tracked]
        ratio = float(np.max(sums / bound))
        largest = max(largest, ratio)
        rows[f"{name}: largest partial sum / bound"] = ratio
    return Claim(
        id="cg.prop1_summable",
        statement=(
            "sum_t |grad_{w_j} l_i(W^t)|^2 <= 2 n C_p v^_j^2 delta~^2 M^2 R / (eta v~_{i,j} "
            "delta) with R the observed max_t |w_j^t| (Proposition 1)"
        ),
        passed=bool(largest <= 1.0),
        measured=rows,
        expected={"largest partial sum / bound": "<= 1"},
        method="partial sums over the whole run, every pair with v_{i,j} > 0, every run.",
        seed=seed_label,
        summary=f"largest partial sum is {largest:.2g} of the bound",
        margin=margin(largest, 1.0, unit=""),
    )
