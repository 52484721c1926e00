# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# (ste-sample-complexity)=
# # Theorem 1: how many samples the STE needs
#
# ## Overview
#
# The {ref}`previous chapter <ste-population>` showed that with infinitely many
# samples the STE-gradient method walks straight to the teacher's weights
# $w^*$. With $N$ samples the gradient $g_N$ is only an estimate of
# $\expect[g]$, and the method can wander. {cite:t}`jeong2025beyond` prove that
# enough samples, quadratically many in the dimension, make the **ergodic
# average** of the iterates recover $w^*$ exactly. This chapter tests that
# statement three ways:
#
# 1. the concentration step behind the proof: the worst deviation of $g_N$
#    from $\expect[g]$ over *all* binary $u$ shrinks like $N^{-1/2}$;
# 2. the phase transition of exact recovery over a grid of $(n, N)$ at
#    $m = 128$ (the paper's Figure 1, left), and the scaling exponent of the
#    sample size $N_{50}(n)$ at which recovery succeeds half the time;
# 3. the theorem's sufficient sample size against the measured $N_{50}$, and
#    how $N_{50}$ depends on the two quantities the bound depends on: the shape
#    of $v$ and the label noise.
#
# The model and notation are those of the previous chapter; the method starts
# from $w^0 = 0$ (so $u^0 = \mathbf 1$), and with $w^0 = 0$ the iterates
# $u^t$ do not depend on the step size $\eta$ at all (the latent weights only
# scale with it), so $\eta = 1$ loses nothing.
#
# ```{prf:theorem} Ergodic recovery (Jeong, Xin and Yin, Theorem 1, informal)
# :label: thm-ste-ergodic
#
# Assume Gaussian inputs $Z$ with iid $\gauss(0,1)$ entries, a binary teacher
# $w^* \in \{\pm 1\}^n$, a fixed second layer $v \in \reals^m$ and label noise
# with sub-Gaussian norm $K_\xi$. There are universal constants $C', C''$ such
# that if
#
# $$N \;\gtrsim\; \left(\frac{\big(C'\|v\|_1^2 + C'' K_\xi \|v\|_1\big)\, n}{\|v\|_2^2}\right)^2,$$
#
# then with high probability the ergodic average
# $\bar w^T = \frac1T\sum_{t=1}^T u^t$ of the STE-gradient method approaches
# $w^*$, and $Q(\bar w^T) = \sign(\bar w^T)$ recovers $w^*$ exactly.
# ```
#
# **Constants.** The paper's $C'$ and $C''$ are universal but not given. The
# book takes $C' = C'' = 1$ and, for Gaussian noise $\gauss(0, s^2)$,
# $K_\xi = s$. The checks below only need the bound to lie *above* what is
# measured, so the choice matters only for how loose the bound looks; the
# chapter reports the smallest $C'$ for which the bound would still hold.

# %%
import numpy as np

from quantheory.claims import ChapterClaims
from quantheory.display import glue, show_figure
from quantheory.scale import by_scale, current_scale
from quantheory.seeding import chapter_seed, describe, spawn
from quantheory.ste import sample_complexity as sc
from quantheory.ste import sample_complexity_claims as checks
from quantheory.ste.model import second_layer
from quantheory.ste.sample_complexity_figures import (
    plot_deviation,
    plot_n50_dependence,
    plot_phase_transition,
)

# the chapter's seed: the master seed QUANTHEORY_SEED with this chapter's salt
SEED = chapter_seed(20250525)
seeds = spawn(
    SEED, ["deviation", "deviation_boot", "exponent_boot", "shape", "noise"]
)
claims = ChapterClaims()
print(f"scale: {current_scale()}, seed: {describe(SEED)}")

# %% [markdown]
# The sizes of every experiment follow the scale switch.

# %%
DEVIATION_N, DEVIATION_M = 10, 16  # all 2^10 binary u are enumerated
DEVIATION_SIZES = by_scale(
    quick=(50, 100, 200, 400, 800), full=(50, 100, 200, 400, 800, 1600, 3200)
)
DEVIATION_REPLICATES = by_scale(quick=6, full=16)
BOOTSTRAP = by_scale(quick=200, full=1000)
GRID = sc.phase_grid_parameters()  # shared with the Theorem 2 chapter
SWEEP_N = 20
SHAPE_EXPONENTS = (
    0.0,
    0.5,
    1.0,
    2.0,
    4.0,
)  # v_i proportional to i^-p, |v|_2 = 1
NOISE_LEVELS = by_scale(quick=(0.0, 0.5), full=(0.0, 0.25, 0.5, 1.0))

# %% [markdown]
# ## Step 1: uniform concentration of the STE gradient
#
# The proof controls $\max_{u} \|g_N(u) - \expect[g(u)]\|_\infty$, the worst
# coordinate of the worst binary $u$, and shows it is of order $N^{-1/2}$ up to
# factors in $n$ and $v$. With $n = 10$ the book can take the maximum over all
# $2^{10}$ binary vectors exactly. For each of several independent training
# sets it computes the deviation at nested sample sizes (the first $N$ samples)
# and fits the decay exponent in log-log, with a bootstrap over training sets.

# %%
deviation = sc.uniform_deviation(
    DEVIATION_N,
    DEVIATION_M,
    DEVIATION_SIZES,
    DEVIATION_REPLICATES,
    seeds["deviation"],
)
claims.record(
    checks.linf_concentration_claim(
        deviation, BOOTSTRAP, seeds["deviation_boot"]
    )
)
slope, _, _ = checks.deviation_slope(
    deviation, BOOTSTRAP, seeds["deviation_boot"]
)
glue("deviation-slope", slope)
show_figure(plot_deviation(deviation, slope), "fig-deviation")

# %% [markdown]
# ```{glue:figure} fig-deviation
# :name: fig-deviation
#
# Worst-case deviation of the empirical STE gradient from its mean, over all
# $2^{10}$ binary $u$, against $N$ (grey: single training sets; blue: their
# mean). The mean follows the $N^{-1/2}$ line over two decades of $N$; the fitted
# slope is {glue:text}`deviation-slope:.3f`.
# ```
#
# ## Step 2: the phase transition of exact recovery
#
# For every $n$ and $N$ of the grid below, fresh teachers and training sets
# are drawn, the method runs from $w^0 = 0$, and the cell records how often
# $Q(\bar w^T) = w^*$ exactly. The engine runs all trials of a cell at once and
# stops a trial as soon as its gradient is exactly zero (then nothing can
# change any more), which without noise happens precisely at $w^*$.

# %%
grid = sc.phase_transition_grid()
fit = sc.fit_exponent(
    grid.ns,
    grid.sample_sizes,
    grid.ergodic,
    grid.n_trials,
    BOOTSTRAP,
    seeds["exponent_boot"],
)
claims.record(checks.phase_transition_claim(grid, fit))
alpha_low, alpha_high = fit.alpha_interval()
glue("alpha", float(fit.alpha))
glue("alpha-low", float(alpha_low))
glue("alpha-high", float(alpha_high))
for n, value in zip(grid.ns, fit.n50, strict=True):
    glue(f"n50-{n}", float(value))
show_figure(plot_phase_transition(grid, fit), "fig-phase-transition")

# %% [markdown]
# ```{glue:figure} fig-phase-transition
# :name: fig-phase-transition
#
# Rate of exact recovery by the ergodic estimate over the $(n, N)$ grid
# ($m = 128$, no noise; compare the paper's Figure 1, left). White points:
# $N_{50}(n)$ with 95% bootstrap intervals; red: the fitted power law; dashed:
# a quadratic through the first point. The transition is sharp, and it bends
# *below* the quadratic: the measured exponent is smaller than 2.
# ```
#
# The fitted exponent is $\alpha =$ {glue:text}`alpha:.2f` (95% CI
# {glue:text}`alpha-low:.2f` to {glue:text}`alpha-high:.2f`), with
# $N_{50} \approx$ {glue:text}`n50-25:.0f` at $n = 25$ and
# {glue:text}`n50-50:.0f` at $n = 50$. The theorem's $n^2$ is a *sufficient*
# condition, and the data are consistent with it: recovery never needs more than
# quadratically many samples. They do not show a transition that is itself
# quadratic, as the paper's summary ("quadratic scaling with dimension") might
# suggest; in this model the transition scales like $n^{\alpha}$ with the
# $\alpha$ above.
#
# ## Step 3: the bound against the measurement
#
# The bound grows with $\|v\|_1^2/\|v\|_2^2$ (which runs from 1 when $v$ has a
# single non-zero entry to $m$ when $v$ is uniform) and with the noise level.
# To see whether $N_{50}$ does, the book fixes $n = 20$ and sweeps the shape of
# $v$ at $\|v\|_2 = 1$ ($v_i \propto i^{-p}$ for several $p$) and the noise level.

# %%
shape_vs = [second_layer(128, "power", exponent=p) for p in SHAPE_EXPONENTS]
ratios = np.array([np.abs(v).sum() ** 2 for v in shape_vs])  # |v|_1^2 / |v|_2^2
by_shape = sc.n50_sweep(
    SWEEP_N, GRID, [{"v": v} for v in shape_vs], seeds["shape"], BOOTSTRAP
)
by_noise = sc.n50_sweep(
    SWEEP_N,
    GRID,
    [{"noise_std": s} for s in NOISE_LEVELS],
    seeds["noise"],
    BOOTSTRAP,
)
claims.record(
    checks.bound_vs_empirical_claim(
        fit,
        second_layer(128),
        {f"{r:.3g}": n50 for r, n50 in zip(ratios, by_shape.n50, strict=True)},
        dict(zip(NOISE_LEVELS, by_noise.n50, strict=True)),
    )
)
slack = checks.theorem1_bound(fit.ns, second_layer(128), 0.0) / fit.n50_high
glue("bound-ratio-min", float(slack.min()))
glue("bound-ratio-max", float(slack.max()))
glue("c-prime-min", float(np.sqrt(1 / slack.min())))
fig = plot_n50_dependence(ratios, by_shape, np.array(NOISE_LEVELS), by_noise)
show_figure(fig, "fig-n50-dependence")

# %% [markdown]
# ```{glue:figure} fig-n50-dependence
# :name: fig-n50-dependence
#
# $N_{50}$ at $n = 20$ with 95% bootstrap intervals. Left: against the shape
# of $v$, measured by $\|v\|_1^2/\|v\|_2^2$ from about 1 to $m = 128$; the dashed
# line is the growth the bound predicts. Right: against the label-noise level.
# The shape of $v$ leaves $N_{50}$ unchanged, while noise raises it steeply.
# ```
#
# **Where the bound is loose, and by how much.** With $C' = C'' = 1$ and the
# uniform $v$ of the grid, the bound exceeds the measured $N_{50}$ by a factor
# between {glue:text}`bound-ratio-min:.3g` and {glue:text}`bound-ratio-max:.3g`,
# so it would still hold with $C'$ as small as {glue:text}`c-prime-min:.2g`.
# Most of that slack comes from $v$: the bound carries $(\|v\|_1^2/\|v\|_2^2)^2 = m^2$
# for a uniform $v$, while the measurement shows no dependence on the shape of
# $v$ at all. The noise term points the right way: $N_{50}$ grows with $s$.
#
# ## Summary
#
# * The worst-case deviation of the STE gradient over all binary weights
#   decays like $N^{-1/2}$, the rate the proof relies on.
# * Exact recovery by the ergodic estimate has a sharp phase transition whose
#   location grows like $n^{\alpha}$ with $\alpha$ clearly below 2: the
#   theorem's quadratic sample size is sufficient, not necessary.
# * The bound is loose by orders of magnitude, mainly through its dependence
#   on $\|v\|_1/\|v\|_2$, which the measurements do not show; it captures the
#   cost of label noise qualitatively.
#
# ## Exercises
#
# ```{exercise-start}
# :label: ex-ergodic-horizon
# ```
#
# The ergodic estimate averages $T$ iterates. Rerun the grid with half and with
# twice the number of steps (`GRID["n_steps"]`, through
# `sc.success_grid(seed=1, **{**GRID, "n_steps": 500})`). Does $N_{50}$ move?
#
# ```{exercise-end}
# ```
#
# ```{solution-start} ex-ergodic-horizon
# :class: dropdown
# ```
#
# Only a little. Without noise a trial that reaches $w^*$ stays there, so its
# ergodic average is eventually dominated by $w^*$; a longer run lets a few
# late arrivals count and lowers $N_{50}$ slightly, a shorter one raises it. The
# exponent $\alpha$ hardly changes, because the transition is set by whether
# the iterate reaches $w^*$ at all.
#
# ```{solution-end}
# ```
#
# ## Claims of this chapter

# %%
claims.finish()
