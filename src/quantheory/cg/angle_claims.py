"""Claim of the section 8.1 chapter: convergence at every angle, faster towards pi/2."""

from __future__ import annotations

import numpy as np
from scipy import stats

from quantheory.cg.angle import AngleSweep
from quantheory.claims import Claim
from quantheory.stats import comparison_alpha, margin


def trend(values: np.ndarray, thetas: np.ndarray) -> tuple[float, float]:
    """Spearman's rho between theta and ``values`` (A, R), and the one-sided p-value
    for a decreasing trend."""
    angle = np.repeat(thetas, values.shape[1])
    result = stats.spearmanr(angle, values.ravel(), alternative="less")
    return float(result.statistic), float(result.pvalue)


def angle_claim(sweep: AngleSweep, seed_label: str) -> Claim:
    """``cg.fig3_angle``: every run converges; iterations and ``|W|`` fall as theta grows.

    For each measure, the one-sided Spearman tests of the noise levels are
    combined by Stouffer's method (Bonferroni over the two measures, within the
    book's error budget), and every level's rho must be negative as well.
    """
    alpha = comparison_alpha(2) / 2  # one-sided share of the two-sided budget
    converged = sweep.steps >= 0
    ok = bool(converged.all())
    rows = {"runs at zero loss": f"{int(converged.sum())}/{converged.size}"}
    combined = {}
    for label, measure in (("iterations", sweep.steps), ("|W|", sweep.norms)):
        z_scores = []
        for li, level in enumerate(sweep.noise_levels):
            values = measure[li].astype(float)
            rho, p = trend(values, sweep.thetas)
            ok &= rho < 0
            z_scores.append(float(stats.norm.isf(p)))
            first, last = np.median(values[0]), np.median(values[-1])
            rows[f"noise {level:g}, {label}: median at smallest / largest theta"] = (
                f"{first:.4g} / {last:.4g}"
            )
            rows[f"noise {level:g}, {label}: Spearman rho"] = rho
        combined[label] = float(np.sum(z_scores) / np.sqrt(len(z_scores)))
        rows[f"{label}: combined z of the decreasing trend"] = combined[label]
    threshold = float(stats.norm.isf(alpha))
    trends_ok = all(z > threshold for z in combined.values())
    degrees = ", ".join(f"{np.rad2deg(t):.0f}" for t in sweep.thetas)
    return Claim(
        id="cg.fig3_angle",
        statement=(
            "section 8.1: coarse-gradient descent reaches zero loss at every angle theta and "
            "noise level, and both the iterations and |W| decrease as theta approaches pi/2"
        ),
        passed=ok and trends_ok,
        measured=rows,
        expected={
            "runs at zero loss": "all",
            "Spearman rho": "< 0 at every noise level",
            "combined z of the decreasing trend": f"> {threshold:.2f}",
        },
        method=(
            f"{sweep.steps.shape[2]} random starts W0 ~ N(0, {sweep.init_scale:g}^2) at each "
            f"theta in ({degrees}) degrees and each noise level "
            f"({', '.join(f'{s:g}' for s in sweep.noise_levels)}); at most "
            f"{sweep.max_steps:,} iterations. Spearman rank correlation of theta with each "
            "measure per noise level, one-sided; the levels' z-scores combined by Stouffer; "
            "Bonferroni over the two measures."
        ),
        seed=seed_label,
        margin=(
            f"{int(converged.sum())}/{converged.size} converged (any run that does not fails); "
            + margin(min(combined.values()), threshold, unit="(z)", passes_below=False)
        ),
        summary=(
            f"{int(converged.sum())}/{converged.size} runs converge; trend z = "
            f"{combined['iterations']:.1f} (iterations), {combined['|W|']:.1f} (|W|), "
            f"threshold {threshold:.1f}"
        ),
    )
