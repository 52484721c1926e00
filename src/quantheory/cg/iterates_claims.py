"""Claims of the iterates chapter: Theorem 3.1's hypothesis, its conclusion, the graded layer.

One criterion decides whether a run's iterates are bounded, everywhere in the
chapter: ``R = 2^BOUNDED_EXPONENT |W^{T/2}|`` is fixed at the middle of the
run and ``|W^t| <= R`` is checked at every later step (see
:func:`quantheory.cg.iterates.bound_holds`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from quantheory.cg import iterates as it
from quantheory.claims import Claim
from quantheory.stats import budget_wilson_interval, margin

#: a run is bounded when |W| grows by less than 2^0.05 - 1 = 3.5% over the second
#: half of the run, i.e. its growth exponent log2(|W^T| / |W^(T/2)|) is below 0.05.
#: Chosen from the exponents of unbounded growth over the chapter's horizons
#: (T = 1,000 to 4,000): linear 1, sqrt(t) 0.5, log(t) 0.13 to 0.15, so every one
#: of them counts as growing; fixed after one pilot of ReLU population runs
#: (exponents 0 for the equal layer, 0.6 to 1.2 for the graded) and before the
#: chapter's runs and the other surrogates' pilot.
BOUNDED_EXPONENT = 0.05


def bounded(run: it.IterateRun) -> np.ndarray:
    """(R,) whether each run's ``|W^t|`` stays below ``R`` over the second half."""
    return it.bound_holds(run.total_norm, BOUNDED_EXPONENT)


def _exponents(run: it.IterateRun) -> str:
    alpha = it.growth_exponent(run.total_norm)
    return f"growth exponents {alpha.min():.3f} to {alpha.max():.3f}"


def bounded_iterates_claim(
    asserted: Mapping[str, it.IterateRun],
    reported: Mapping[str, it.IterateRun],
    seed_label: str,
) -> Claim:
    """``cg.thm31_bounded_iterates``: the hypothesis ``|W^t| <= R`` along descent.

    Passes if every run in ``asserted`` (label -> run) keeps ``|W^t| <= R``
    over the second half of its horizon; ``reported`` runs are measured and
    listed, not asserted.
    """
    rows, worst = {}, 0.0
    for group, passing in ((asserted, True), (reported, False)):
        for label, run in group.items():
            holds = bounded(run)
            rows[f"{label}: |W^t| <= R for t in [T/2, T]"] = (
                f"{int(holds.sum())}/{holds.size} runs ({_exponents(run)}; "
                f"|W^T| {run.total_norm[-1].min():,.0f} to {run.total_norm[-1].max():,.0f})"
            )
            if passing:
                worst = max(worst, float(it.growth_exponent(run.total_norm).max()))
    held = all(bool(bounded(run).all()) for run in asserted.values())
    steps = sorted({run.total_norm.shape[0] - 1 for run in asserted.values()})
    return Claim(
        id="cg.thm31_bounded_iterates",
        statement=(
            "Theorem 3.1's hypothesis |W^t| <= R holds along coarse-gradient descent for the "
            "asserted runs (equal second layer, ReLU surrogate, samples and population); "
            "measured for the others"
        ),
        passed=held,
        measured=rows,
        expected={"asserted runs": "every run bounded", "other runs": "as measured"},
        method=(
            f"R = 2^{BOUNDED_EXPONENT} |W^(T/2)| fixed at the middle of each run, |W^t| <= R "
            f"checked at every t in [T/2, T], T = {', '.join(f'{s:,}' for s in steps)}; "
            "|W| = sum_j |w_j|; growth exponent log2(|W^T| / |W^(T/2)|) reported (linear "
            "growth 1, sqrt t 0.5, log t about 0.14)"
        ),
        seed=seed_label,
        summary=f"asserted runs bounded: {held}; largest growth exponent {worst:.3f}",
        kind="theorem",
        margin=margin(worst, BOUNDED_EXPONENT, unit=""),
    )


#: the largest P(loss > 0) that Theorem 3.1's conclusion allows a bounded run at its
#: last step: the budget-Wilson upper bound from the fresh inputs must be below it.
#: The theorem's limit is 0; a finite horizon leaves a little mass near the units'
#: edges. Set at 1% after the first quick run under master seed 0 (rates up to 4e-4,
#: largest upper bound 3.0e-3; 0 of 15,000 gives 2.3e-3), about four times what the
#: quick scale's fresh inputs can resolve; a stuck or misclassifying run has rates of
#: several per cent or more.
LOSS_RATE_LIMIT = 0.01


def thm31_claim(
    runs: Mapping[tuple[str, str], it.IterateRun],
    counts: Mapping[tuple[str, str], it.FreshCounts],
    surrogates: Sequence[str],
    seed_label: str,
) -> Claim:
    """``cg.thm31_perfect``: population descent whose iterates are bounded classifies
    fresh inputs perfectly, for every surrogate; unbounded runs are reported.

    ``runs`` and ``counts`` are keyed ``(layer, surrogate)``; ``counts`` are the
    runs' final weights on fresh inputs (:func:`~quantheory.cg.iterates.fresh_counts`).
    Fails if a surrogate of ``surrogates`` has no bounded run (the conclusion
    would be untested), a bounded run misclassifies a fresh input, or the
    budget-Wilson upper bound on a bounded run's P(loss > 0) is not below
    :data:`LOSS_RATE_LIMIT`. A run that stalls with a positive loss but does
    not grow (a learning rate too small, a horizon too short) counts as bounded
    and fails the claim.
    """
    comparisons = max(sum(int(bounded(run).sum()) for run in runs.values()), 1)
    rows, untested, errors_bounded, trials_bounded = {}, [], 0, 0
    worst_loss = 0.0
    for (layer, name), run in runs.items():
        holds, count = bounded(run), counts[layer, name]
        errors_bounded += int(count.errors[holds].sum())
        trials_bounded += int(holds.sum()) * count.size
        high = np.atleast_1d(
            budget_wilson_interval(count.positive_loss, count.size, comparisons)[1]
        )
        worst_loss = max([worst_loss, *high[holds]])
        rows[f"{layer}, {name}: bounded runs (the others are outside the theorem)"] = (
            f"{int(holds.sum())}/{holds.size}"
        )
        rows[f"{layer}, {name}: fresh errors per run"] = ", ".join(map(str, count.errors))
        rows[f"{layer}, {name}: P(loss > 0) per run (fresh) [upper bound]"] = ", ".join(
            f"{p / count.size:.1e} [{h:.1e}]"
            for p, h in zip(count.positive_loss, high, strict=True)
        )
    for name in surrogates:
        if not any(bounded(run).any() for (_, s), run in runs.items() if s == name):
            untested.append(name)
    rows["bounded runs: fresh errors"] = f"{errors_bounded}/{trials_bounded:,}"
    rows["bounded runs: largest P(loss > 0) upper bound"] = f"{worst_loss:.1e}"
    if untested:
        rows["surrogates without a bounded run"] = ", ".join(untested)
    passed = (
        not untested and trials_bounded > 0 and errors_bounded == 0 and worst_loss < LOSS_RATE_LIMIT
    )
    size = next(iter(counts.values())).size
    return Claim(
        id="cg.thm31_perfect",
        statement=(
            "if |W^t| stays bounded, population coarse-gradient descent classifies the "
            "population perfectly and its loss mass vanishes (Theorem 3.1), for every "
            "admissible surrogate; runs whose iterates grow are outside the theorem and "
            "reported beside"
        ),
        passed=bool(passed),
        measured=rows,
        expected={
            "every surrogate": ">= 1 run with bounded iterates",
            "bounded runs": "no fresh input misclassified",
            "bounded runs, P(loss > 0)": f"budget-Wilson upper bound < {LOSS_RATE_LIMIT:.0%}",
        },
        method=(
            "population descent, coarse gradient by quadrature; bounded as in "
            f"cg.thm31_bounded_iterates; the final weights classify {size:,} fresh inputs "
            "(NumPy forward pass, independent of the quadrature and the compiled descent). "
            "P(loss > 0) from the same fresh inputs, budget-Wilson upper bound with one "
            f"comparison per bounded run ({comparisons}); the limit {LOSS_RATE_LIMIT:.0%} "
            "was fixed after the first quick run (the chapter says so)."
        ),
        seed=seed_label,
        summary=(
            f"{trials_bounded // max(size, 1)} bounded runs, {errors_bounded} fresh errors, "
            f"P(loss > 0) <= {worst_loss:.1e}"
            + (f"; untested: {', '.join(untested)}" if untested else "")
        ),
        kind="theorem",
        margin=(
            f"{errors_bounded} fresh errors on bounded runs, fails at 1; P(loss > 0) upper "
            "bound " + margin(worst_loss, LOSS_RATE_LIMIT, unit="")
        ),
    )


def _late_rate(run: it.IterateRun) -> np.ndarray:
    """(R,) growth of ``|W^t|`` per step over the second half of the run."""
    norms = run.total_norm
    half = (norms.shape[0] - 1) // 2
    return (norms[-1] - norms[half]) / (norms.shape[0] - 1 - half)


def _rate_row(count: it.FreshCounts, values: np.ndarray, comparisons: int) -> str:
    low, high = budget_wilson_interval(values, count.size, comparisons)
    return ", ".join(
        f"{v / count.size:.2%} [{lo:.2%}, {hi:.2%}]"
        for v, lo, hi in zip(values, np.atleast_1d(low), np.atleast_1d(high), strict=True)
    )


def graded_study_claim(
    runs: Mapping[tuple[str, str], it.IterateRun],
    counts: Mapping[tuple[str, str], it.FreshCounts],
    population: str,
    seed_label: str,
    uncoverable: np.ndarray | None = None,
    graded: str = "graded",
    control: str = "equal",
) -> Claim:
    """``cg.graded_layer_study``: the graded layer's iterates grow on samples of every
    size *and* in the population limit, while the equal layer's stay bounded.

    ``runs`` and ``counts`` are keyed ``(layer, label)`` with one label
    ``population``; every label has runs of both layers from the same starts
    over the same horizon. Passes if (control) every ``control`` run is
    bounded; (population) at least half of the ``graded`` population runs
    grow and at least half keep a positive-loss mass whose budget-Wilson lower
    bound is above 0; (samples) at least half of the graded runs grow at every
    sample size. A finite-sample effect (samples grow, the population does
    not) fails the population part. ``uncoverable`` (R,), if given, is each
    graded population run's mass of inputs that no norm can fit
    (:func:`quantheory.cg.graded.uncoverable_mass`), reported beside the fresh
    P(loss > 0) it bounds from below.
    """
    labels = [label for layer, label in runs if layer == graded]
    reference = _late_rate(runs[graded, population])
    rows, share, control_worst = {}, 1.0, 0.0
    for label in labels:
        run, count = runs[graded, label], counts[graded, label]
        growing = ~bounded(run)
        share = min(share, float(growing.mean()))
        ratio = _late_rate(run) / reference[: growing.size]
        rows[f"{graded}, {label}: runs growing"] = (
            f"{int(growing.sum())}/{growing.size} ({_exponents(run)}; growth per step "
            f"{np.median(_late_rate(run)):.2f} median, {ratio.min():.2f} to {ratio.max():.2f} "
            "times the population's from the same start)"
        )
        comparisons = growing.size
        rows[f"{graded}, {label}: fresh error per run [interval]"] = _rate_row(
            count, count.errors, comparisons
        )
        rows[f"{graded}, {label}: P(loss > 0) per run [interval]"] = _rate_row(
            count, count.positive_loss, comparisons
        )
        control_run = runs[control, label]
        control_worst = max(control_worst, float(it.growth_exponent(control_run.total_norm).max()))
        rows[f"{control} (control), {label}: runs bounded"] = (
            f"{int(bounded(control_run).sum())}/{bounded(control_run).size} "
            f"({_exponents(control_run)}; fresh errors {int(counts[control, label].errors.sum())})"
        )
    pop = counts[graded, population]
    low = budget_wilson_interval(pop.positive_loss, pop.size, pop.positive_loss.size)[0]
    if uncoverable is not None:
        rows[f"{graded}, population: mass with sum_j v_j q_b < 1 on its covering units"] = (
            ", ".join(f"{m:.2%}" for m in uncoverable)
            + " (a lower bound on P(loss > 0); reported, not asserted)"
        )
    loss_share = float(np.mean(np.atleast_1d(low) > 0))
    control_held = all(bool(bounded(runs[control, label]).all()) for label in labels)
    pop_growing = float(np.mean(~bounded(runs[graded, population])))
    passed = control_held and share >= 0.5 and pop_growing >= 0.5 and loss_share >= 0.5
    steps = runs[graded, population].total_norm.shape[0] - 1
    return Claim(
        id="cg.graded_layer_study",
        statement=(
            "with the graded second layer (0.3, 0.5, 0.7, 0.9) the iterates grow and the loss "
            "mass stays positive on samples of every size and in the population limit, while "
            "the equal layer's iterates stay bounded on the same data: the graded layer's "
            "failure is a property of the population dynamics, not of the finite sample"
        ),
        passed=bool(passed),
        measured=rows,
        expected={
            f"{control} (control)": "every run bounded, at every size and in the population",
            f"{graded}, every size and the population": ">= half of the runs growing",
            f"{graded}, population": ">= half of the runs with P(loss > 0) lower bound > 0",
        },
        method=(
            f"ReLU surrogate, the same starts and samples for both layers, horizon T = "
            f"{steps:,}; bounded as in cg.thm31_bounded_iterates (R = 2^{BOUNDED_EXPONENT} "
            "|W^(T/2)|); the population limit is descent with the coarse gradient by "
            "quadrature; growth per step = (|W^T| - |W^(T/2)|) / (T/2), compared with the "
            "population run from the same start; fresh rates on "
            f"{pop.size:,} inputs, budget-Wilson intervals per run."
        ),
        seed=seed_label,
        summary=(
            f"graded: smallest share growing {share:.0%} (population {pop_growing:.0%}); "
            f"control largest exponent {control_worst:.3f}"
        ),
        kind="finding",
        margin=(
            margin(share, 0.5, unit="", passes_below=False)
            + "; control "
            + margin(control_worst, BOUNDED_EXPONENT, unit="")
        ),
    )
