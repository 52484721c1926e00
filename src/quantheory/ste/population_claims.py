"""Claims of the first Part I chapter: the population facts of the STE.

Each function takes experiment data (from :mod:`quantheory.ste.population`)
and the *statement* under test (a SymPy expression from
:mod:`quantheory.ste.symbolic`, defaulting to the book's), and returns a
:class:`~quantheory.claims.Claim`. Passing a deliberately wrong statement
must make the claim fail; the tests do exactly that.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import sympy as sp

from quantheory import stats
from quantheory.claims import Claim
from quantheory.ste import symbolic as sym
from quantheory.ste.population import (
    DisagreementSample,
    DynamicsRun,
    PopulationSample,
    SignMomentSample,
)


def _method(n_comparisons: int, sample_size: str) -> str:
    return (
        f"{sample_size}; {n_comparisons} comparisons, each at |z| <= "
        f"{stats.z_threshold(n_comparisons):.2f} standard errors (book error budget)."
    )


def _ci_text(estimate: stats.MeanEstimate, low: np.ndarray, high: np.ndarray) -> str:
    return f"{float(estimate.mean):.5f} [{float(low):.5f}, {float(high):.5f}]"


def _seeds(samples: Sequence) -> str:
    return ", ".join(sorted({s.seed for s in samples}))


def sign_moment_resolution(
    samples: Sequence[SignMomentSample], statement: sp.Expr = sym.GAUSS_SIGN_MOMENT_STATEMENT
) -> float:
    """Relative error of the coefficient below which a wrong coefficient can still pass.

    A coefficient wrong by a relative ``delta`` moves coordinate j's z-score
    by ``delta |c u_j / |u|| / SE_j``; the claim cannot notice it while that
    is below the budget's threshold at every coordinate. Returns
    ``z_threshold(k) * min_j SE_j / |c u_j / |u||`` over all coordinates.
    """
    k = sum(s.u.shape[0] for s in samples)
    ratios = np.concatenate(
        [s.moment.se / np.abs(sym.sign_moment_numeric(s.u, statement)) for s in samples]
    )
    return float(stats.z_threshold(k) * np.min(ratios))


def gauss_sign_moment_claim(
    samples: Sequence[SignMomentSample], statement: sp.Expr = sym.GAUSS_SIGN_MOMENT_STATEMENT
) -> Claim:
    """``ste.gauss_sign_moment``: SymPy derivation and Monte Carlo vs ``statement``."""
    derived, _ = sym.derive_gauss_sign_moment()
    symbolic_ok = sym.is_identity(derived, statement)
    k = sum(s.u.shape[0] for s in samples)
    z = np.concatenate(
        [(s.moment.mean - sym.sign_moment_numeric(s.u, statement)) / s.moment.se for s in samples]
    )
    max_z = float(np.max(np.abs(z)))
    widest = max(samples, key=lambda s: s.u.shape[0])
    low, high = widest.constant.interval(0.95)
    resolution = sign_moment_resolution(samples, statement)
    return Claim(
        id="ste.gauss_sign_moment",
        statement="E[sign(<z,u>) z] = sqrt(2/pi) u/|u| for z ~ N(0, I_n)",
        passed=bool(symbolic_ok and max_z <= stats.z_threshold(k)),
        measured={
            "SymPy derivation equals statement": symbolic_ok,
            f"coefficient at n={widest.u.shape[0]} (95% CI)": _ci_text(widest.constant, low, high),
            "max |z| over coordinates": max_z,
            "a coefficient wrong by less than this can pass": f"{resolution:.2%}",
        },
        expected={
            "coefficient": float(statement),
            "max |z| over coordinates": stats.z_threshold(k),
        },
        method=_method(
            k,
            f"{samples[0].moment.n:,} draws for each of n = "
            + ", ".join(str(s.u.shape[0]) for s in samples),
        ),
        seed=_seeds(samples),
        margin=stats.margin(max_z, stats.z_threshold(k))
        + f"; resolution: a coefficient wrong by less than {resolution:.2%} can pass",
        summary=(
            f"coefficient {float(widest.constant.mean):.4f} "
            f"(95% CI {float(low):.4f}-{float(high):.4f}) vs {float(statement):.4f}; "
            f"max |z| {max_z:.2f} <= {stats.z_threshold(k):.2f}; "
            f"SymPy {'exact' if symbolic_ok else 'MISMATCH'}"
        ),
    )


def sign_disagreement_claim(
    sample: DisagreementSample, statement: sp.Expr = sym.SIGN_DISAGREEMENT_STATEMENT
) -> Claim:
    """``ste.sign_disagreement``: derivation and Wilson intervals at every interior angle.

    At the angles 0 and pi the pair is w = c u (c > 0 or c < 0), so the rates
    are 0 and 1 by construction whatever the formula between them; those
    angles are reported but not counted among the comparisons.
    """
    symbolic_ok = sym.is_identity(sym.derive_sign_disagreement(), statement)
    interior = (sample.angles > 0) & (sample.angles < np.pi)
    angles, counts = sample.angles[interior], sample.disagreements[interior]
    rates = sample.rates[interior]
    k = len(angles)
    if k == 0:
        raise ValueError("sign_disagreement_claim needs at least one angle strictly in (0, pi)")
    alpha = stats.comparison_alpha(k)
    low, high = stats.wilson_interval(counts, sample.n_samples, alpha)
    predicted = sym.disagreement_numeric(angles, statement)
    inside = (predicted >= low) & (predicted <= high)
    worst = int(np.argmax(np.abs(rates - predicted)))
    # share of each budget-level half-interval that the prediction's distance uses
    half_width = np.where(predicted >= rates, high - rates, rates - low)
    gap = np.abs(rates - predicted)
    used = float(np.max(np.where(half_width > 0, gap / np.where(half_width > 0, half_width, 1), 0)))
    end_angles, end_rates = sample.angles[~interior], sample.rates[~interior]
    ends = ", ".join(f"{a:.3g}: {r:.4f}" for a, r in zip(end_angles, end_rates, strict=True))
    return Claim(
        id="ste.sign_disagreement",
        statement="P(sign<z,u> != sign<z,w>) = angle(u,w)/pi",
        passed=bool(symbolic_ok and inside.all()),
        measured={
            "SymPy derivation equals statement": symbolic_ok,
            "interior angles whose Wilson interval holds the prediction": (
                f"{int(inside.sum())} of {k}"
            ),
            "largest |rate - prediction|": float(gap[worst]),
            "half-width of that interval": float((high - low)[worst] / 2),
            "rates at 0 and pi (exact by construction, not counted)": ends or "none",
        },
        expected={"interior angles whose Wilson interval holds the prediction": f"{k} of {k}"},
        method=(
            f"{sample.n_samples:,} draws at each of {k} angles strictly between 0 and pi, "
            f"n = {sample.n}; Wilson intervals at level 1 - {alpha:.1e} each (book error "
            "budget)."
        ),
        seed=sample.seed,
        margin=stats.margin(used, 1.0, unit="of the interval's half-width"),
        summary=(
            f"prediction inside the Wilson interval at {int(inside.sum())}/{k} interior "
            f"angles; largest |rate - theta/pi| {float(gap[worst]):.4f}; "
            f"SymPy {'exact' if symbolic_ok else 'MISMATCH'}"
        ),
    )


def population_gradient_claim(
    samples: Sequence[PopulationSample],
    statement: sp.Expr = sym.POPULATION_GRADIENT_STATEMENT,
    derivation_widths: Sequence[int] = (1, 2, 3),
) -> Claim:
    """``ste.population_gradient``: derivation for several m, Monte Carlo per configuration."""
    symbolic_ok = all(
        sym.is_identity(sym.derive_population_gradient(m), statement) for m in derivation_widths
    )
    z = np.concatenate(
        [
            (
                s.gradient.mean
                - sym.population_gradient_numeric(s.u, s.problem.w_star, s.problem.v, statement)
            )
            / s.gradient.se
            for s in samples
        ]
    )
    k = z.size
    max_z = float(np.max(np.abs(z)))
    return Claim(
        id="ste.population_gradient",
        statement="for binary u, E[g(u)] = sqrt(2/pi) |v|^2 (u - w*)/sqrt(n)",
        passed=bool(symbolic_ok and max_z <= stats.z_threshold(k)),
        measured={
            "SymPy derivation equals statement (m = "
            + ", ".join(map(str, derivation_widths))
            + ")": symbolic_ok,
            "max |z| over all coordinates": max_z,
        },
        expected={"max |z| over all coordinates": stats.z_threshold(k)},
        method=_method(
            k,
            f"{samples[0].gradient.n:,} samples in each of {len(samples)} "
            "configurations (" + "; ".join(s.config.label for s in samples) + ")",
        ),
        seed=_seeds(samples),
        margin=stats.margin(max_z, stats.z_threshold(k)),
        summary=(
            f"{k} coordinates in {len(samples)} settings: max |z| {max_z:.2f} <= "
            f"{stats.z_threshold(k):.2f}; SymPy {'exact' if symbolic_ok else 'MISMATCH'}"
        ),
    )


def population_loss_claim(
    samples: Sequence[PopulationSample],
    statement: sp.Expr = sym.POPULATION_LOSS_STATEMENT,
    derivation_widths: Sequence[int] = (1, 2, 3),
) -> Claim:
    """``ste.population_loss``: derivation for several m, Monte Carlo per configuration."""
    symbolic_ok = all(
        sym.is_identity(sym.derive_population_loss(m), statement) for m in derivation_widths
    )
    predicted = np.array(
        [
            sym.population_loss_numeric(s.angle, s.problem.v, s.problem.noise_std, statement)
            for s in samples
        ]
    )
    means = np.array([float(s.loss.mean) for s in samples])
    ses = np.array([float(s.loss.se) for s in samples])
    z = (means - predicted) / ses
    k = len(samples)
    max_z = float(np.max(np.abs(z)))
    return Claim(
        id="ste.population_loss",
        statement="L(u) = 2 |v|^2 angle(u,w*)/pi + s^2/2",
        passed=bool(symbolic_ok and max_z <= stats.z_threshold(k)),
        measured={
            "SymPy derivation equals statement (m = "
            + ", ".join(map(str, derivation_widths))
            + ")": symbolic_ok,
            "largest relative error": float(np.max(np.abs(means / predicted - 1))),
            "max |z| over configurations": max_z,
        },
        expected={"max |z| over configurations": stats.z_threshold(k)},
        method=_method(k, f"{samples[0].loss.n:,} samples in each of {k} configurations"),
        seed=_seeds(samples),
        margin=stats.margin(max_z, stats.z_threshold(k)),
        summary=(
            f"largest relative error {float(np.max(np.abs(means / predicted - 1))):.4f}; "
            f"max |z| {max_z:.2f} <= {stats.z_threshold(k):.2f}; "
            f"SymPy {'exact' if symbolic_ok else 'MISMATCH'}"
        ),
    )


TIGHT = "wrong-sign starts within one step of the bound"


def dynamics_step_bounds(
    run: DynamicsRun, statement: sp.Expr = sym.DYNAMICS_STEP_BOUND_STATEMENT
) -> np.ndarray:
    """The stated step bound for every start of ``run``; shape (S,)."""
    return sym.dynamics_step_bound_numeric(
        np.max(np.abs(run.w0), axis=1), run.problem.n, run.step_size, run.problem.v, statement
    )


def population_dynamics_claim(
    runs: Sequence[DynamicsRun], statement: sp.Expr = sym.DYNAMICS_STEP_BOUND_STATEMENT
) -> Claim:
    """``ste.population_dynamics``: every start hits w* within the bound and stays.

    The bound is also checked for tightness: on starts whose largest coordinate
    has the wrong sign, the hitting time is at least the bound minus one, so a
    bound that is too generous fails as well as one that is too small.
    """
    hits, bounds, stayed, tight_mask = [], [], [], []
    for run in runs:
        bound = dynamics_step_bounds(run, statement)
        largest = np.argmax(np.abs(run.w0), axis=1)
        rows = np.arange(run.w0.shape[0])
        wrong = np.sign(run.w0[rows, largest]) != run.problem.w_star[largest]
        hits.append(run.hitting_time)
        bounds.append(bound)
        stayed.append(~run.left_after_hit & (run.hitting_time >= 0))
        tight_mask.append(wrong)
    hit, bound = np.concatenate(hits), np.concatenate(bounds)
    stayed_all, wrong = np.concatenate(stayed), np.concatenate(tight_mask)
    reached = hit >= 0
    within = reached & (hit <= bound)
    tight = hit[wrong] >= bound[wrong] - 1
    n_starts = hit.size
    return Claim(
        id="ste.population_dynamics",
        statement=(
            "with the population gradient the method reaches w* within "
            "ceil(max|w0| sqrt(n) / (2 eta sqrt(2/pi) |v|^2)) + 1 steps and stays there"
        ),
        passed=bool(within.all() and stayed_all.all() and tight.all()),
        measured={
            "starts that reached w* within the bound": f"{int(within.sum())} of {n_starts}",
            "starts that stayed at w* afterwards": f"{int(stayed_all.sum())} of {n_starts}",
            "largest hitting time / bound": float(np.max(hit / bound)),
            TIGHT: f"{int(tight.sum())} of {int(wrong.sum())}",
        },
        expected={
            "starts that reached w* within the bound": f"{n_starts} of {n_starts}",
            "starts that stayed at w* afterwards": f"{n_starts} of {n_starts}",
            TIGHT: f"{int(wrong.sum())} of {int(wrong.sum())}",
        },
        method=(
            f"exact iteration from {n_starts:,} random starts in {len(runs)} settings "
            f"(n = {', '.join(str(r.problem.n) for r in runs)}); each run goes on until "
            f"every start has reached w* and 20 steps more (at most "
            f"{max(r.n_steps for r in runs)} steps)."
        ),
        margin=stats.margin(float(np.max(hit / bound)), 1.0, unit="x the bound"),
        summary=(
            f"{int(within.sum())}/{n_starts} starts within the bound, "
            f"{int(stayed_all.sum())}/{n_starts} stayed; largest time/bound "
            f"{float(np.max(hit / bound)):.3f}; tight on {int(tight.sum())}/{int(wrong.sum())}"
        ),
    )
