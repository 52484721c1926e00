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
# statement, and the step of its proof that makes it quadratic, four ways:
#
# 1. the concentration step: the worst deviation of $g_N$ from $\expect[g]$
#    over *all* binary $u$ shrinks like $N^{-1/2}$, and at fixed $N$ it grows
#    with $n$ no faster than the union bound behind the proof allows;
# 2. the phase transition of exact recovery over a grid of $(n, N)$ at
#    $m = 128$ (the paper's Figure 1, left), up to $n = 100$ at full scale:
#    the sample size $N_{50}(n)$ at which recovery succeeds half the time must
#    grow no faster than the theorem's $n^2$; its local exponent is measured
#    range by range;
# 3. the theorem's sufficient sample size with the book's constants against
#    $N_{50}$, and the smallest constant that would still do, by $n$;
# 4. how $N_{50}$ depends on the two other quantities in the bound: the shape
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
# $K_\xi = s$. A sufficient condition can only be refuted by a measurement
# that needs *more* samples than it allows, so the checks ask whether the
# bound lies above $N_{50}$ and whether its growth in $n$ keeps up with
# $N_{50}$'s; the smallest $C'$ for which the bound would still hold is
# reported by $n$.
#
# **Error budget.** Every pass/fail decision uses intervals at the book's
# error-budget level (about $1 - 10^{-8}$ per comparison). For $N_{50}$ these
# are $\log N_{50} \pm z\,\mathrm{SE}$, with the SE of $\log N_{50}$ from a
# binomial bootstrap of every cell of the grid and the normal quantile $z$
# (every cell holds many independent trials, so the SE is well determined; a
# percentile bootstrap of a thousand resamples cannot reach that level). Fits
# over a few independent training sets use the bootstrap SE over those sets
# with Student's $t$ on $R - 1$ degrees of freedom. The 95% intervals in the
# figures are for reading.

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
    plot_deviation_growth,
    plot_local_exponents,
    plot_n50_dependence,
    plot_phase_transition,
)

# the chapter's seed: the master seed QUANTHEORY_SEED with this chapter's salt
SEED = chapter_seed(20250525)
seeds = spawn(
    SEED,
    [
        "deviation",
        "deviation_boot",
        "exponent_boot",
        "shape",
        "noise",
        "growth",
        "growth_boot",
    ],
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
DEVIATION_REPLICATES = by_scale(quick=12, full=48)
GROWTH_NS = by_scale(quick=(4, 6, 8, 10, 12), full=(4, 6, 8, 10, 12, 14))
GROWTH_N = 200  # fixed sample size for the growth in n
GROWTH_REPLICATES = by_scale(quick=12, full=24)
BOOTSTRAP = by_scale(quick=200, full=1000)
GRID = sc.phase_grid_parameters()  # shared with the Theorem 2 chapter
SWEEP_N = 20
SWEEP_TRIALS = by_scale(quick=16, full=32)
SHAPE_GRID = {
    **GRID,
    "sample_sizes": sc.log2_grid(4, 14),
    "n_trials": SWEEP_TRIALS,
}
NOISE_GRID = {
    **GRID,
    "sample_sizes": sc.log2_grid(6, 18),
    "n_trials": SWEEP_TRIALS,
}
SHAPE_EXPONENTS = (0.0, 0.5, 1.0, 2.0, 4.0)  # v_i ~ i^-p, |v|_2 = 1
NOISE_LEVELS = by_scale(quick=(0.0, 1.0), full=(0.0, 0.5, 1.0))

# %% [markdown]
# ## Step 1: uniform concentration of the STE gradient
#
# The proof controls $D_N = \max_{u} \|g_N(u) - \expect[g(u)]\|_\infty$, the
# worst coordinate of the worst binary $u$, and shows it is of order
# $N^{-1/2}$ up to factors in $n$ and $v$. With $n = 10$ the book takes the
# maximum over all $2^{10}$ binary vectors exactly. The prediction
# $\expect[g(u)]$ is the previous chapter's formula, lambdified from its SymPy
# statement (no code shared with the sampling). For each of several
# independent training sets the deviation is computed at nested sample sizes
# (the first $N$ samples), and the decay exponent is fitted in log-log.

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
slope, slope_se, _ = checks.deviation_slope(
    deviation, BOOTSTRAP, seeds["deviation_boot"]
)
glue("deviation-slope", slope)
glue("deviation-replicates", DEVIATION_REPLICATES)
show_figure(plot_deviation(deviation, slope), "fig-deviation")

# %% [markdown]
# ```{glue:figure} fig-deviation
# :name: fig-deviation
#
# Worst-case deviation of the empirical STE gradient from its mean, over all
# $2^{10}$ binary $u$, against $N$ (grey: single training sets; blue: their
# mean). The mean runs parallel to the $N^{-1/2}$ line; the fitted slope is
# {glue:text}`deviation-slope:.3f`.
# ```
#
# The exponent is checked against $-1/2$ with the $t$ quantile for
# {glue:text}`deviation-replicates` training sets; a deviation measured from a
# wrong $\expect[g]$ (the tests scale it by 1.1) stops shrinking and fails.
#
# **Growth in $n$.** The rate in $N$ does not make the theorem quadratic; the
# growth in $n$ does. The proof takes a union bound over the $n 2^n$
# coordinates of all binary $u$, which costs a factor
# $\sqrt{\log(n 2^n)} \sim \sqrt n$ in the deviation: with the per-coordinate
# signal of $\expect[g]$ of order $1/\sqrt n$ (the previous chapter), $D_N$ must
# fall below $1/\sqrt n$, i.e. $\sqrt{n/N} \lesssim 1/\sqrt n$, which is
# $N \gtrsim n^2$. The book measures $D_N$ at $N =$ {glue:text}`growth-N` for
# $n$ from {glue:text}`growth-n-min` to {glue:text}`growth-n-max`, again exactly
# over all $2^n$ binary $u$, and checks that its growth exponent $b$ in
# $D_N \sim n^b$ is at most the union bound's $1/2$.

# %%
growth = sc.deviation_by_dimension(
    GROWTH_NS, DEVIATION_M, GROWTH_N, GROWTH_REPLICATES, seeds["growth"]
)
claims.record(
    checks.linf_n_growth_claim(growth, BOOTSTRAP, seeds["growth_boot"])
)
b, b_se, b_boot = checks.deviation_growth_slope(
    growth, BOOTSTRAP, seeds["growth_boot"]
)
b_low, b_high = np.percentile(b_boot, [2.5, 97.5])
glue("growth-N", GROWTH_N)
glue("growth-n-min", int(GROWTH_NS[0]))
glue("growth-n-max", int(GROWTH_NS[-1]))
glue("growth-b", b)
glue("growth-b-low", float(b_low))
glue("growth-b-high", float(b_high))
glue("growth-union", checks.union_bound_slope(growth.ns))
glue("growth-exponent", 1 + 2 * b)
glue("growth-exponent-low", float(1 + 2 * b_low))
glue("growth-exponent-high", float(1 + 2 * b_high))
show_figure(plot_deviation_growth(growth, b), "fig-deviation-growth")

# %% [markdown]
# ```{glue:figure} fig-deviation-growth
# :name: fig-deviation-growth
#
# Worst-case deviation at fixed $N$ against $n$, over all $2^n$ binary $u$
# (grey: single training sets; blue: their mean; black: the $\sqrt n$ growth
# the union bound allows, drawn through the first point). The fitted slope is
# {glue:text}`growth-b:.2f`.
# ```
#
# The deviation grows like $n^{b}$ with $b =$ {glue:text}`growth-b:.2f` (95% CI
# {glue:text}`growth-b-low:.2f` to {glue:text}`growth-b-high:.2f`); over the
# same range of $n$ the union bound's $\sqrt{\log(n 2^n)}$ has slope
# {glue:text}`growth-union:.2f`. So the deviation does grow with $n$, at about
# the rate the union bound allows and, within the budget, not faster. If it
# grows like $n^b$, the proof's argument needs $n^{b}/\sqrt N \lesssim
# 1/\sqrt n$, i.e. $N \gtrsim n^{1 + 2b}$: with the measured $b$ an exponent of
# {glue:text}`growth-exponent:.2f` (95% CI {glue:text}`growth-exponent-low:.2f`
# to {glue:text}`growth-exponent-high:.2f`), against the theorem's 2 for
# $b = 1/2$. This is measured for $n \le$ {glue:text}`growth-n-max` only, and
# the argument is a worst case over all $2^n$ binary $u$ while the method
# visits few of them; the phase transition below is the direct measurement.
#
# ## Step 2: the phase transition of exact recovery
#
# For every $n$ and $N$ of the grid below, fresh teachers and training sets
# are drawn, the method runs from $w^0 = 0$, and the cell records how often
# $Q(\bar w^T) = w^*$ exactly. The engine runs all trials of a cell at once and
# stops a trial as soon as its gradient is exactly zero (then nothing can
# change any more), which without noise happens precisely at $w^*$.
#
# The check is the theorem's $n^2$ taken at its word: scale the bound through
# the first point (the smallest $C'$ for which it covers the upper end of
# $N_{50}$'s budget interval at the smallest $n$) and require it to stay above
# the lower end of $N_{50}$'s budget interval at every larger $n$. It fails if
# $N_{50}$ grows faster than $n^2$; the tests make it fail with a bound that
# grows like $n$ and with synthetic data whose $N_{50}$ grows like $n^{2.5}$.

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
v_uniform = second_layer(128)
claims.record(checks.phase_transition_claim(grid, fit, v_uniform))
local = sc.local_exponents(fit)
alpha_low, alpha_high = fit.alpha_interval()
glue("alpha", float(fit.alpha))
glue("alpha-low", float(alpha_low))
glue("alpha-high", float(alpha_high))
glue("n-max", int(grid.ns[-1]))
glue("n50-first", float(fit.n50[0]))
glue("n50-last", float(fit.n50[-1]))
glue("local-first", float(local.slope[0]))
glue("local-last", float(local.slope[-1]))
glue("local-last-low", float(local.low[-1]))
glue("local-last-high", float(local.high[-1]))
glue("local-max", float(local.slope.max()))
show_figure(plot_phase_transition(grid, fit), "fig-phase-transition")

# %% [markdown]
# ```{glue:figure} fig-phase-transition
# :name: fig-phase-transition
#
# Rate of exact recovery by the ergodic estimate over the $(n, N)$ grid
# ($m = 128$, no noise; compare the paper's Figure 1, left). White points:
# $N_{50}(n)$ with 95% bootstrap intervals; red: one power law fitted to all
# $n$; dashed: a quadratic through the first point. The transition is sharp,
# and it stays below the quadratic.
# ```
#
# One power law fitted to all $n$ has exponent $\alpha =$
# {glue:text}`alpha:.2f` (95% CI {glue:text}`alpha-low:.2f` to
# {glue:text}`alpha-high:.2f`), with $N_{50}$ from
# {glue:text}`n50-first:.0f` at $n = 10$ to {glue:text}`n50-last:.0f` at
# $n =$ {glue:text}`n-max`. A single exponent hides how the growth changes
# with $n$, so {numref}`fig-local-exponents` shows the slope between
# consecutive $n$: {glue:text}`local-first:.2f` on the first range and
# {glue:text}`local-last:.2f` (95% CI {glue:text}`local-last-low:.2f` to
# {glue:text}`local-last-high:.2f`) on the last, the largest being
# {glue:text}`local-max:.2f`. The theorem's $n^2$ is a *sufficient*
# condition, and the data are consistent with it: over this range recovery
# never needs more than quadratically many samples. Whether the local exponent
# creeps towards 2 at larger $n$ cannot be told from this range.
#
# ## Step 3: the bound with the book's constants

# %%
claims.record(checks.bound_vs_empirical_claim(fit, v_uniform))
k = fit.ns.size + 1
_, n50_high_budget = fit.n50_budget_interval(k)
c_min = checks.smallest_constant(fit.ns, n50_high_budget, v_uniform)
slack = checks.theorem1_bound(fit.ns, v_uniform, 0.0) / n50_high_budget
glue("bound-ratio-min", float(slack.min()))
glue("bound-ratio-max", float(slack.max()))
glue("c-min-first", float(c_min[0]))
glue("c-min-last", float(c_min[-1]))
c_min_point = checks.smallest_constant(fit.ns, fit.n50, v_uniform)
glue("c-min-slope", np.polyfit(np.log(fit.ns), np.log(c_min_point), 1)[0])
show_figure(
    plot_local_exponents(local, fit, fit.ns, c_min), "fig-local-exponents"
)

# %% [markdown]
# ```{glue:figure} fig-local-exponents
# :name: fig-local-exponents
#
# Left: the local exponent of $N_{50}$ in $n$, the slope between consecutive
# $n$ (horizontal bars: the range; vertical: 95% bootstrap interval), against
# the theorem's 2 and the single fitted $\alpha$. Right: the smallest $C'$ for
# which the bound covers $N_{50}$ (upper end of its budget interval) at each
# $n$. A sufficient rate of $n^2$ means it need not grow with $n$; that is what
# the check tests.
# ```
#
# With $C' = C'' = 1$ and the uniform $v$ of the grid, the bound exceeds the
# upper end of $N_{50}$'s budget interval by a factor between
# {glue:text}`bound-ratio-min:.3g` and {glue:text}`bound-ratio-max:.3g`. The
# smallest $C'$ that would still do moves from {glue:text}`c-min-first:.2g`
# at $n = 10$ to {glue:text}`c-min-last:.2g` at $n =$ {glue:text}`n-max`,
# and its log-log slope (fitted to the point $N_{50}$) is
# {glue:text}`c-min-slope:.2f`. The check asks that this
# slope is not positive beyond the budget, the form a violation of the $n^2$
# rate would take (the tests drop the factor $n$ from the bound, and the check
# fails).
#
# ## Step 4: what else $N_{50}$ depends on
#
# The bound grows with $\|v\|_1^2/\|v\|_2^2$ (which runs from 1 when $v$ has a
# single non-zero entry to $m$ when $v$ is uniform), squared, and with the
# noise level. At $n = 20$ the book sweeps the shape of $v$ at $\|v\|_2 = 1$
# ($v_i \propto i^{-p}$ for several $p$) and the noise level. Both statements
# below are the book's findings, fixed before the run: the slope of
# $\log N_{50}$ against $\log(\|v\|_1^2/\|v\|_2^2)$ lies within $\pm 0.2$ (a
# change of $N_{50}$ by at most $128^{0.2} \approx 2.6$ over the whole range,
# a tenth of the bound's slope 2), and $N_{50}$ increases from each noise level
# to the next.

# %%
shape_vs = [second_layer(128, "power", exponent=p) for p in SHAPE_EXPONENTS]
ratios = np.array([np.abs(v).sum() ** 2 for v in shape_vs])  # |v|_2 = 1
by_shape = sc.n50_sweep(
    SWEEP_N,
    SHAPE_GRID,
    [{"v": v} for v in shape_vs],
    seeds["shape"],
    BOOTSTRAP,
)
by_noise = sc.n50_sweep(
    SWEEP_N,
    NOISE_GRID,
    [{"noise_std": s} for s in NOISE_LEVELS],
    seeds["noise"],
    BOOTSTRAP,
)
claims.record(checks.v_shape_claim(shape_vs, by_shape, SWEEP_N))
claims.record(
    checks.noise_growth_claim(NOISE_LEVELS, by_noise, v_uniform, SWEEP_N)
)
noise_bound = np.array(
    [checks.theorem1_bound([SWEEP_N], v_uniform, s)[0] for s in NOISE_LEVELS]
)
noise_bound /= noise_bound[0]
shape_slope = np.polyfit(np.log(ratios), np.log(by_shape.n50), 1)[0]
glue("shape-slope", float(shape_slope))
glue("noise-top", float(NOISE_LEVELS[-1]))
glue("noise-ratio-top", float(by_noise.n50[-1] / by_noise.n50[0]))
glue("noise-bound-top", float(noise_bound[-1]))
fig = plot_n50_dependence(
    ratios, by_shape, np.array(NOISE_LEVELS), by_noise, noise_bound
)
show_figure(fig, "fig-n50-dependence")

# %% [markdown]
# ```{glue:figure} fig-n50-dependence
# :name: fig-n50-dependence
#
# $N_{50}$ at $n = 20$ with 95% bootstrap intervals. Left: against the shape
# of $v$, measured by $\|v\|_1^2/\|v\|_2^2$ from about 1 to $m = 128$; the dashed
# line is the growth the bound predicts. Right: against the label-noise level,
# with the bound's growth (dashed). The shape of $v$ leaves $N_{50}$ flat, while
# noise raises it far more steeply than the bound's noise term does.
# ```
#
# The slope of $N_{50}$ against the shape ratio is
# {glue:text}`shape-slope:.3f`, where the bound has 2: most of the bound's
# slack comes from $v$, since it carries $(\|v\|_1^2/\|v\|_2^2)^2 = m^2$ for a
# uniform $v$. The noise term points the right way, but its size does not
# match: at $s =$ {glue:text}`noise-top:g` $N_{50}$ is
# {glue:text}`noise-ratio-top:.1f` times its noiseless value, while the bound
# with $C' = C'' = 1$ grows only by a factor {glue:text}`noise-bound-top:.2f`
# (its noise term $C'' s \|v\|_1$ is small next to $C'\|v\|_1^2$). The bound's
# slack in $v$ hides a cost of noise it underrates.
#
# ## Summary
#
# * The worst-case deviation of the STE gradient over all binary weights
#   decays like $N^{-1/2}$ and, at fixed $N$, grows with $n$ no faster than the
#   $\sqrt n$ of the union bound that makes the theorem quadratic.
# * Exact recovery by the ergodic estimate has a sharp phase transition; up to
#   $n = 100$ its location grows no faster than the theorem's $n^2$ (the bound
#   scaled through the first point stays above it), with local exponents
#   below 2: quadratically many samples are sufficient, not necessary, here.
# * With the book's constants the bound is loose by orders of magnitude, mainly
#   through its dependence on $\|v\|_1/\|v\|_2$, which the measurements do not
#   show; the smallest constant that would do does not grow with $n$. Label noise
#   raises $N_{50}$, as the bound says, and by more than its noise term says.
#
# ## Exercises
#
# ```{exercise-start}
# :label: ex-ergodic-horizon
# ```
#
# The ergodic estimate averages $T$ iterates. Rerun the grid with half and with
# twice the number of steps (`GRID["n_steps"]`, through
# `sc.success_grid(seed=1, **{**GRID, "n_steps": 1000})`). Does $N_{50}$ move,
# and do the local exponents?
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
# late arrivals count and lowers $N_{50}$ slightly, a shorter one raises it.
# The local exponents hardly change, because the transition is set by whether
# the iterate reaches $w^*$ at all.
#
# ```{solution-end}
# ```
#
# ## Claims of this chapter

# %%
claims.finish()
