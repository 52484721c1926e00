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
#    with $n$, slower than $n$ (a finding, two sided), at a rate consistent
#    with the union bound behind the proof (which the data cannot tell from
#    growth over the $n$ coordinates alone);
# 2. the phase transition of exact recovery over a grid of $(n, N)$ at
#    $m = 128$ (the paper's Figure 1, left), up to $n = 200$ at full scale:
#    the sample size $N_{50}(n)$ at which recovery succeeds half the time must
#    grow with $n$ and no faster than the theorem's $n^2$; its local exponent is
#    measured range by range;
# 3. the smallest constant $C'(n)$ with which the theorem's bound covers
#    $N_{50}$, by $n$, and how it moves with $n$ (a finding);
# 4. how $N_{50}$ depends on the two other quantities in the bound: the shape
#    of $v$ and the label noise (findings).
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
# **Constants.** The paper's $C'$ and $C''$ are universal but not given, and
# the informal statement has no logarithmic factor. For Gaussian noise
# $\gauss(0, s^2)$ the book takes $K_\xi = s$. A sufficient condition with
# an unknown constant can only be refuted by its growth: the check calibrates
# the constant at the smallest $n$ and asks whether the bound keeps up with
# $N_{50}$ at every larger $n$. The smallest $C'$ for which the bound would
# hold is reported by $n$; with $C' = C'' = 1$ the bound is about $10^5$ times
# $N_{50}$, which is reported and not tested.
#
# **Error budget.** Every pass/fail decision uses intervals at the book's
# error-budget level (about $1 - 10^{-8}$ per comparison). $N_{50}$ is the
# maximum-likelihood point of a logistic curve in $\log N$ fitted to a row of
# the grid, and its interval is the **profile-likelihood interval** at the
# budget's level: every $N_{50}$ whose profile deviance (the logistic slope
# maximised out) stays below the $\chi^2_1$ quantile. Nothing is resampled or
# dropped; an end that the grid cannot bound is reported as $0$ or $\infty$,
# and a row whose success rate never crosses $1/2$ has a *censored*
# $N_{50}$, which fails its claim with that reason. A claim about several
# $N_{50}$ takes one comparison per $N_{50}$ (so all intervals hold together)
# and, for a slope or ratio, the worst ends of their intervals. Fits over a
# few independent training sets use the bootstrap SE over those sets with
# Student's $t$ on $R - 1$ degrees of freedom. The 95% intervals in the
# figures are for reading.
#
# The profile interval keeps its level only if the success curve really is
# logistic in $\log N$. It need not be: in the tests, with a complementary
# log-log curve (64 trials a cell), the profile interval at level
# $1 - 10^{-3}$ misses the true $N_{50}$ in about 1 case in 10, a hundred
# times too often. An interval that assumes only a success rate increasing in
# $N$ (between the largest $N$ whose Wilson upper end is below $1/2$ and the
# smallest whose lower end is above it, Bonferroni over the row's cells) keeps
# the level there, and the package provides it; but at this chapter's trial
# counts and at the budget's level it is too wide: taking the wider of the two
# intervals (a check at quick scale, master seed 0) fails three of the
# findings below ($C'(n)$, the shape of $v$, and the noise, whose 32 trials a
# cell then left $N_{50}$ unbounded). The claims therefore rest on the logistic
# model, and their level holds only as far as that model does.

# %%
import numpy as np

from quantheory import stats
from quantheory.claims import ChapterClaims
from quantheory.display import glue, show, show_figure
from quantheory.scale import by_scale, current_scale
from quantheory.seeding import chapter_seed, describe, spawn
from quantheory.ste import sample_complexity as sc
from quantheory.ste import sample_complexity_claims as checks
from quantheory.ste.model import second_layer
from quantheory.ste.sample_complexity_figures import (
    local_exponent_table,
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
        "shape",
        "noise",
        "growth",
        "growth_boot",
        "storage",
    ],
)
claims = ChapterClaims("ste_sample_complexity")
print(f"scale: {current_scale()}, seed: {describe(SEED)}")

# %% [markdown]
# The sizes of every experiment follow the scale switch. The $(n, N)$ grid of
# Step 2 is the largest computation of the book, and its cost is almost all in
# drawing the Gaussian inputs, $nNm$ numbers per trial:
#
# * `quick`: $n = 10, 25, 50$, $N$ from 4 to 256, 64 trials a cell (a few
#   seconds);
# * `full` (the book): $n = 10, 25, 50, 100, 200$, $N$ from 4 to 4096, 24
#   trials a cell, $1.7 \times 10^{10}$ draws: about 2.5 minutes of one core
#   on the book's 2-core machine, with a peak of about 3.5 GB;
# * `large` (`QUANTHEORY_SCALE=large`, meant for a Dask cluster, see the
#   README): $n$ from 10 to 400 in steps of about $\sqrt 2$, $N$ from 4 to
#   16384, 64 trials a cell, $6 \times 10^{11}$ draws: about 1.5 CPU-hours,
#   and one trial at $n = 400$, $N = 16384$ holds 3.5 GB, so each worker needs
#   the engine's default memory budget of 4 GB.
#
# The full grid had 32 trials a cell and seven rows up to $n = 100$; with the
# row $n = 200$ (whose inputs alone are as large as all the others together)
# it has five rows and 24 trials a cell, to stay within the book's time
# budget.

# %%
DEVIATION_N, DEVIATION_M = 10, 16  # all 2^10 binary u are enumerated
DEVIATION_SIZES = (50, 100, 200, 400, 800, 1600, 3200)
DEVIATION_REPLICATES = by_scale(quick=24, full=48)
GROWTH_NS = by_scale(quick=(4, 6, 8, 10, 12), full=(4, 6, 8, 10, 12, 14))
GROWTH_N = 200  # fixed sample size for the growth in n
GROWTH_REPLICATES = 48
BOOTSTRAP = by_scale(quick=200, full=1000)
GRID = sc.phase_grid_parameters()  # shared with the Theorem 2 chapter
SWEEP_N = 20
# the equivalence test needs narrow intervals; n = 20 is cheap
SHAPE_TRIALS = 96
SHAPE_GRID = {
    **GRID,
    "sample_sizes": sc.log2_grid(4, 14),
    "n_trials": SHAPE_TRIALS,
}
# 96 trials a cell, as for the shape (was 32: see "The noise finding" below)
NOISE_GRID = {
    **GRID,
    "sample_sizes": sc.log2_grid(6, 18),
    "n_trials": SHAPE_TRIALS,
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
# wrong $\expect[g]$ (the tests scale it by 1.2, with this chapter's quick-scale
# sizes) stops shrinking and fails. That is about the claim's resolution: in
# a check at the quick-scale sizes, $\expect[g]$ scaled by 1.15 failed
# under two data seeds ($|{\rm fitted} - {\rm predicted}|/{\rm SE} = 15.5$ and
# 13.0 against the threshold 8.69), scaled by 1.1 it failed on one data
# seed and passed on another (8.9 and 8.1), and scaled by 1.05 it passed (2.2
# and 2.6). An error of 10% in $\expect[g]$'s scale is at the edge of what
# this claim can see; 5% is below it.
#
# **Growth in $n$.** The rate in $N$ does not make the theorem quadratic; the
# growth in $n$ does. The proof takes a union bound over the $n 2^n$
# coordinates of all binary $u$, which costs a factor
# $\sqrt{\log(n 2^n)} \sim \sqrt n$ in the deviation: with the per-coordinate
# signal of $\expect[g]$ of order $1/\sqrt n$ (the previous chapter), $D_N$ must
# fall below $1/\sqrt n$, i.e. $\sqrt{n/N} \lesssim 1/\sqrt n$, which is
# $N \gtrsim n^2$. The book measures $D_N$ at $N =$ {glue:text}`growth-N` for
# every $n$ from {glue:text}`growth-n-min` to {glue:text}`growth-n-max` (the
# range fixed in advance: exact enumeration of all $2^n$ binary $u$ as far as
# the time allows), with {glue:text}`growth-replicates` independent training
# sets per $n$, and fits $D_N \sim n^b$. The finding is two-sided: $b$'s
# interval at the budget ($t$ quantile) must contain the union bound's slope
# over the same $n$, the slope of $\sqrt{\log(n 2^n)}$, and exclude 0 and 1.
# A maximum over the $n$ coordinates alone (without the $2^n$ weights) would
# grow like $\sqrt{\log n}$; its slope is listed beside the union bound's.

# %%
growth = sc.deviation_by_dimension(
    GROWTH_NS, DEVIATION_M, GROWTH_N, GROWTH_REPLICATES, seeds["growth"]
)
claims.record(
    checks.linf_n_growth_claim(growth, BOOTSTRAP, seeds["growth_boot"])
)
b, b_se, _ = checks.deviation_growth_slope(
    growth, BOOTSTRAP, seeds["growth_boot"]
)
b_half = stats.t_threshold(GROWTH_REPLICATES - 1) * b_se
glue("growth-N", GROWTH_N)
glue("growth-replicates", GROWTH_REPLICATES)
glue("growth-n-min", int(GROWTH_NS[0]))
glue("growth-n-max", int(GROWTH_NS[-1]))
glue("growth-b", b)
glue("growth-b-low", b - b_half)
glue("growth-b-high", b + b_half)
glue("growth-union", checks.union_bound_slope(growth.ns))
glue("growth-coordinates", checks.coordinate_max_slope(growth.ns))
glue("growth-exponent", 1 + 2 * b)
glue("growth-exponent-low", 1 + 2 * (b - b_half))
glue("growth-exponent-high", 1 + 2 * (b + b_half))
show_figure(plot_deviation_growth(growth, b), "fig-deviation-growth")

# %% [markdown]
# ```{glue:figure} fig-deviation-growth
# :name: fig-deviation-growth
#
# Worst-case deviation at fixed $N$ against $n$, over all $2^n$ binary $u$
# (grey: single training sets; blue: their mean; black: $\sqrt n$ growth,
# drawn through the first point). The fitted slope is
# {glue:text}`growth-b:.2f`.
# ```
#
# The deviation grows like $n^{b}$ with $b =$ {glue:text}`growth-b:.2f`
# (budget interval {glue:text}`growth-b-low:.2f` to
# {glue:text}`growth-b-high:.2f`); over the same range of $n$ the union
# bound's $\sqrt{\log(n 2^n)}$ has slope {glue:text}`growth-union:.2f` and
# $\sqrt{\log n}$ (the coordinates alone) {glue:text}`growth-coordinates:.2f`.
# The claim's table lists which of the slopes 0, $\sqrt{\log n}$'s, the union
# bound's, 1/2 and 1 the interval contains: the data show growth, slower than
# $n$, consistent with the union bound's rate, but at these $n$ they cannot
# separate it from growth over the coordinates alone, so they do not show
# that the union over the $2^n$ weights costs anything. If the deviation
# grows like $n^b$, the proof's argument needs $N \gtrsim n^{1 + 2b}$: with
# the measured $b$ an exponent of {glue:text}`growth-exponent:.2f` (budget interval
# {glue:text}`growth-exponent-low:.2f` to
# {glue:text}`growth-exponent-high:.2f`), against the theorem's 2. This is
# measured for $n \le$ {glue:text}`growth-n-max` only, and the argument is a
# worst case over all $2^n$ binary $u$ while the method visits few of them;
# the phase transition below is the direct measurement.
#
# ## Step 2: the phase transition of exact recovery
#
# For every $n$ and $N$ of the grid below, fresh teachers and training sets
# are drawn, the method runs from $w^0 = 0$, and the cell records how often
# $Q(\bar w^T) = w^*$ exactly. The engine runs all trials of a cell at once and
# stops a trial as soon as its gradient is exactly zero (then nothing can
# change any more), which without noise happens precisely at $w^*$.
#
# **The range of $N$** is fixed in advance from the $n$ of the grid: from at
# most $n_{\min}/2$ to at least $n_{\max}^2/10$, in half-octave steps (4 to
# {glue:text}`grid-n-max-size` here; the same rule carried the grid from
# $n = 100$ to $n = 200$). This rule was set in this revision,
# after earlier runs had put $N_{50}$ near $0.03\,n^2$ at $n = 100$; it
# leaves room above a quadratic growth from the smallest $n$, and a row whose
# $N_{50}$ grows much faster than $n^2$ leaves the grid and fails the claim
# as censored.
#
# The check is the theorem's $n^2$ taken at its word, with every $N_{50}$ in
# its budget interval: (a) calibrate the bound's constant on the *upper* end of
# $N_{50}$'s interval at the smallest $n$ and require the bound to stay above
# the *lower* end at every larger $n$ (chance in the first cell can only make
# the bound larger, never make the claim fail; it fails if $N_{50}$ grows
# faster than $n^2$); (b) require the lower end at the largest $n$ to lie
# above the upper end at the smallest (the transition does move with $n$).
# Two more parts guard the measurement:
#
# * (c) **Single-precision storage.** The grid stores its inputs in float32
#   (half the memory and memory traffic; every sum is in double precision).
#   A separate run draws every trial of one cell near $N_{50}$ ($n = 50$,
#   $N = 100$, fixed before the first run) twice from the same seed, stored
#   once in float32 and once in float64, and counts the trials whose ergodic
#   or last-iterate decision differs. At full scale (512 pairs) the rate must
#   be *shown below* 10%: the upper end of its budget interval must be at most
#   0.10 (0 mismatches give 0.066; up to 10 pass). The tolerance was fixed
#   before the first run. What it allows: a mismatch rate $r$ moves every
#   cell's success rate by at most $r$, so it moves the crossing of a
#   logistic success curve of slope $b$ in $\log N$ by at most about $4r/b$
#   in $\log N_{50}$; the claim reports that shift at the fitted slope of the
#   row $n = 50$, against the width of that row's $N_{50}$ interval. The test's
#   direction was changed after seeing the data: it used to fail only if the
#   rate was shown *above* 10%, which 256 pairs failed only at 55 mismatches
#   or more (half-precision storage, which tips 13 to 16% of the ergodic
#   decisions, passed it); after a review, and after 0 mismatches had been
#   seen, the pairs went from 256 to 512 and the test to the upper end, which
#   only makes passing harder. At `quick` scale (64 pairs) even 0 mismatches
#   leave the upper end at 0.36 (about 320 pairs, 7 s more, would be needed
#   to reach 0.10), so there part (c) keeps the one-sided test: it fails only if the
#   rate is shown above 10%, which catches only a storage that tips many
#   decisions.
# * (d) **The large scale's range.** On a grid with the rows $n = 100$ and
#   $n = 400$ (the `large` scale only; a large grid without them is an
#   error), the exponent of $N_{50}$ between them must not be shown above 2.
#   Which of 1.5 and 2 its interval excludes is reported, not tested. The
#   range and the two exponents were fixed in the code before any large run,
#   because the full grid's last range cannot tell them apart (see below). At
#   `quick` and `full` scale part (d) is reported as not tested.
#
# The tests make the claim fail with a bound that grows like $n$, with
# synthetic $N_{50}$ growing like $n^{2.5}$ and like $n^3$ (censored on this
# grid), with an $N_{50}$ that does not grow, with one that steepens to
# $n^{2.6}$ above $n = 100$ (only (d) sees it), with a storage that keeps
# the inputs only to the nearest $1/2$ (it tips about half the decisions),
# with half-precision storage (13% of the ergodic and a third of all
# decisions tipped, at the full design's 512 pairs), and with mismatches in
# the last iterate only.

# %%
grid = sc.phase_transition_grid()
fit = sc.fit_exponent(grid.ns, grid.sample_sizes, grid.ergodic, grid.n_trials)
v_uniform = second_layer(128)
storage = sc.storage_pairing(sc.storage_check_cell(), seeds["storage"])
claims.record(
    checks.phase_transition_claim(grid, fit, v_uniform, storage=storage)
)
local = sc.local_exponents(fit)
comparisons = checks.phase_transition_comparisons(fit)
storage_check = checks.storage_check(storage, comparisons)
glue("storage-mismatches", storage.any_mismatches)
glue("storage-ergodic", storage.mismatches)
glue("storage-last", storage.last_mismatches)
glue("storage-trials", storage.cell.n_trials)
glue("storage-successes", int(storage.double.sum()))
glue("storage-high95", storage_check["high95"])
glue("storage-high", storage_check["high"])
glue("storage-low", storage_check["low"])
glue("storage-tolerance", checks.STORAGE_MISMATCH_TOLERANCE)
glue("storage-end", storage_check["end"])
slope_b, storage_shift, n50_width = checks.storage_shift(
    grid, fit, storage.cell.n, comparisons, checks.STORAGE_MISMATCH_TOLERANCE
)
glue("storage-slope", slope_b)
glue("storage-shift", storage_shift)
glue("storage-width", n50_width)
glue("grid-n-max-size", int(grid.sample_sizes[-1]))
glue("alpha", float(fit.alpha))
glue("n-max", int(grid.ns[-1]))
glue("n50-first", float(fit.n50[0]))
glue("n50-last", float(fit.n50[-1]))
glue("local-first", float(local.slope[0]))
glue("local-last", float(local.slope[-1]))
glue("local-last-low", float(local.budget_low[-1]))
glue("local-last-high", float(local.budget_high[-1]))
glue("local-max", float(np.nanmax(local.slope)))
glue(
    "phase-power",
    checks.smallest_accepted_exponent(
        fit.ns, *fit.n50_budget_interval(comparisons)
    ),
)
show_figure(plot_phase_transition(grid, fit), "fig-phase-transition")
glue("local-last-from", int(local.n_low[-1]))

# %% [markdown]
# ```{glue:figure} fig-phase-transition
# :name: fig-phase-transition
#
# Rate of exact recovery by the ergodic estimate over the $(n, N)$ grid
# ($m = 128$, no noise; compare the paper's Figure 1, left). White points:
# $N_{50}(n)$ with 95% profile-likelihood intervals; red: one power law fitted
# to all $n$; dashed: a quadratic through the first point. The transition is
# sharp, and it stays below the quadratic.
# ```
#
# $N_{50}$ runs from {glue:text}`n50-first:.0f` at $n = 10$ to
# {glue:text}`n50-last:.0f` at $n =$ {glue:text}`n-max`; one power law over
# all $n$ would have exponent {glue:text}`alpha:.2f`, but a single exponent
# hides how the growth changes with $n$, so {numref}`fig-local-exponents`
# shows the slope between consecutive $n$: {glue:text}`local-first:.2f` on the
# first range and {glue:text}`local-last:.2f` (budget interval
# {glue:text}`local-last-low:.2f` to {glue:text}`local-last-high:.2f`) on the
# last, the largest being {glue:text}`local-max:.2f`. The theorem's $n^2$ is a
# *sufficient* condition, and the data are consistent with it: over this range
# recovery never needs more than quadratically many samples. Each local
# exponent alone is loosely determined (its interval combines two $N_{50}$
# intervals); the table below lists every range with its 95% interval and its
# interval at the error budget (the claim's level). The claim's power: part
# (a) would accept a bound growing like $n^e$ for every
# $e \ge$ {glue:text}`phase-power:.2f` (it would accept a wrong exponent
# anywhere between that and 2), and reject any slower one.
#
# **Storage.** Of {glue:text}`storage-trials` trials run in both precisions
# ({glue:text}`storage-successes` of them successes in float64),
# {glue:text}`storage-mismatches` decided differently
# ({glue:text}`storage-ergodic` in the ergodic estimate,
# {glue:text}`storage-last` in the last iterate): the mismatch rate's 95%
# Wilson interval reaches {glue:text}`storage-high95:.3f`, its budget interval
# runs from {glue:text}`storage-low:.3f` to {glue:text}`storage-high:.3f`,
# and part (c) compares its {glue:text}`storage-end` end with the tolerance
# {glue:text}`storage-tolerance:.2f` (the upper end at full scale, the lower
# end at quick scale, where the pairs are too few to show the rate below the
# tolerance). At the fitted logistic slope {glue:text}`storage-slope:.1f` of
# the row $n = 50$, a mismatch rate of 0.10 could move $\log N_{50}$ by about
# {glue:text}`storage-shift:.3f`, against a width of
# {glue:text}`storage-width:.2f` of that row's $N_{50}$ budget interval in
# $\log N$. The tests check a second seed's 128 pairs against the tolerance.
#
# **The extension to $n = 200$ adds little power.** The grid used to stop at
# $n = 100$, where the book measured a growth like $n^{1.5}$ against the
# paper's summary of a quadratic one; the question was whether the local
# exponent creeps towards 2 at larger $n$. Here the last range, from $n =$
# {glue:text}`local-last-from` to {glue:text}`n-max`, has local exponent
# {glue:text}`local-last:.2f` (budget interval
# {glue:text}`local-last-low:.2f` to {glue:text}`local-last-high:.2f`). Said
# plainly, the row $n = 200$ does not settle the question, and it adds little
# to `ste.thm1_phase_transition`: at the budget's level the exponent from 100
# to 200 is known only to lie between about 0.4 and 2, which contains both 1.5
# and 2. At full scale it was 1.19 (95% interval 0.93 to 1.45, budget interval
# 0.36 to 2.01) under master seed 0, and 1.29 (1.00 to 1.57; 0.41 to 2.16),
# 1.29 (1.01 to 1.57; 0.43 to 2.17) and 1.14 (0.89 to 1.40; 0.33 to 1.96)
# under seeds 1, 2 and 3; before the trials' seeds moved to their own branch,
# seed 0 gave 1.21 (0.95 to 1.47; 0.37 to 2.04). The 95% intervals, for
# reading only, lie below 2 under every seed: the data do not show the
# exponent creeping towards 2, if anything a slower growth from 100 to 200.
#
# The `large` scale is meant to answer it, with its test fixed in the code
# before any large run (part (d), `EXPONENT_TEST_RANGE` and
# `EXPONENT_CANDIDATES` in `sample_complexity_claims`): the exponent from
# $n = 100$ to $n = 400$, a range twice as long in $\log n$ as 100 to 200,
# with 64 trials a cell. The claim fails if its interval lies above 2, and
# reports whether it excludes 1.5 and whether it excludes 2. It has not been
# run.

# %%
show(local_exponent_table({"ergodic": local}))

# %% [markdown]
# ## Step 3: the constant the bound needs, by $n$
#
# With $K = 0$ the bound is $(C' n \|v\|_1^2/\|v\|_2^2)^2$, so the smallest
# constant for which it covers $N_{50}(n)$ is
# $C'(n) = \sqrt{N_{50}(n)}\,\|v\|_2^2 / (n \|v\|_1^2)$, computed from the
# theorem's formula (not from the measurement code) with $N_{50}$'s budget
# interval. A sufficient rate of $n^2$ allows any $C'(n)$ that stays bounded.
# The finding, two-sided: $C'$ falls from the smallest to the largest $n$,
# but by less than $(n_{\min}/n_{\max})^{1/2}$, i.e. $N_{50}$ grows faster
# than $n$ and slower than $n^2$ over the grid; the band is the two rates. It
# was set before this claim's run but knowing, from earlier runs, that one
# power law over all $n$ has $\alpha \approx 1.5$, in the middle of it. The
# decision uses only the two $N_{50}$ at the smallest and largest $n$, so
# their intervals take one comparison each of two.

# %%
claims.record(checks.bound_vs_empirical_claim(fit, v_uniform))
n50_low, n50_high = fit.n50_budget_interval(fit.ns.size)
c_point = checks.smallest_constant(fit.ns, fit.n50, v_uniform)
c_low = checks.smallest_constant(fit.ns, n50_low, v_uniform)
c_high = checks.smallest_constant(fit.ns, n50_high, v_uniform)
slack = checks.theorem1_bound(fit.ns, v_uniform, 0.0) / fit.n50
glue("bound-ratio-min", float(np.nanmin(slack)))
glue("bound-ratio-max", float(np.nanmax(slack)))
glue("c-min-first", float(c_point[0]))
glue("c-min-last", float(c_point[-1]))
glue("c-ratio-low", float(c_low[-1] / c_high[0]))
glue("c-ratio-high", float(c_high[-1] / c_low[0]))
show_figure(
    plot_local_exponents(local, fit, fit.ns, c_point, (c_low, c_high)),
    "fig-local-exponents",
)

# %% [markdown]
# ```{glue:figure} fig-local-exponents
# :name: fig-local-exponents
#
# Left: the local exponent of $N_{50}$ in $n$, the slope between consecutive
# $n$ (horizontal bars: the range; vertical: 95% interval from the two
# $N_{50}$ intervals), against the theorem's 2 and the single fitted
# $\alpha$. Right: the smallest $C'$ for which the bound covers $N_{50}$ at
# each $n$, with its budget interval. A sufficient rate of $n^2$ only needs it
# bounded; it falls.
# ```
#
# $C'(n)$ moves from {glue:text}`c-min-first:.2g` at $n = 10$ to
# {glue:text}`c-min-last:.2g` at $n =$ {glue:text}`n-max`; the ratio of the
# two has budget interval {glue:text}`c-ratio-low:.2f` to
# {glue:text}`c-ratio-high:.2f`. The claim's table gives $C'(n)$ with its
# interval at every $n$. With $C' = C'' = 1$ and the uniform $v$ of the grid,
# the bound exceeds $N_{50}$ by a factor between
# {glue:text}`bound-ratio-min:.3g` and {glue:text}`bound-ratio-max:.3g`,
# mostly through $(\|v\|_1^2/\|v\|_2^2)^2 = m^2$ (Step 4).
#
# ## Step 4: what else $N_{50}$ depends on
#
# The bound grows with $\|v\|_1^2/\|v\|_2^2$ (which runs from 1 when $v$ has a
# single non-zero entry to $m$ when $v$ is uniform), squared, and with the
# noise level. At $n = 20$ the book sweeps the shape of $v$ at $\|v\|_2 = 1$
# ($v_i \propto i^{-p}$ for several $p$) and the noise level. Both are
# findings. Shape: the slope of $\log N_{50}$ against
# $\log(\|v\|_1^2/\|v\|_2^2)$ lies within $\pm 0.2$ (a change of $N_{50}$ by
# at most $128^{0.2} \approx 2.6$ over the whole range, a tenth of the bound's
# slope 2; fixed before the first run; the trials per cell were then raised
# from 32 to 96 after quick-scale runs had shown intervals too wide for the
# equivalence test, the tolerance unchanged), and each row of the sweep must
# have run with its own $v$ (the claim reads $\|v\|_1^2/\|v\|_2^2$ back from the
# trials). Noise: at every level $s$, the budget interval of
# $N_{50}(s)/N_{50}(0)$ lies above 1.1 times the bound's own ratio (with
# $C' = C'' = 1$ and $K = s$ the bound's noise term gives only about
# $(1 + s/\|v\|_1)^2$, 1.09 at $s = 0.5$ and 1.19 at $s = 1$) and below
# $1 + 20 s^2$. That upper end is an envelope, not a shape: the sweep has two
# noise levels at most and cannot tell growth like $s^2$ from growth like $s$,
# so the chapter no longer claims a quadratic. Both ends were set after seeing
# data, the upper end $1 + 20 s^2$ as an envelope far above every ratio seen, so
# the finding is in effect one-sided (that $N_{50}$ grows with the noise by more
# than the bound's noise term says): earlier runs had shown ratios of 2.5 at
# $s = 0.5$ and 5.3 to 5.9 at $s = 1$; an earlier band $[1 + s^2/2, 1 + 20 s^2]$
# (its lower end already lowered once from $1 + s^2$ after a full-scale run at
# master seed 0 came within 0.07 in log of it) was replaced by the present lower
# end after a review showed it sat only 3% above the bound's own ratio at
# $s = 0.5$.
#
# **The noise finding was fragile at 32 trials a cell, and now has 96.** Run
# at full scale under master seeds 0 to 3 without any retuning (after the
# trials' seeds had moved to a branch of their own, which changed every number
# of this chapter), it passed under seeds 0, 1 and 2, with 0.07, 0.11 and 0.07
# in log to spare at the nearer end of the band, and failed under seed 3:
# there the budget interval of $N_{50}(0.5)/N_{50}(0)$ ran from 1.17 to 4.57,
# its lower end 0.02 in log below 1.1 times the bound's ratio (1.199). With 32
# trials a cell the intervals were nearly as wide as the band (about 1.3
# against 1.6 in log at $s = 0.5$). The sweep therefore got 96 trials a cell,
# the shape sweep's number, a change of design made after seeing that failure,
# with the band left as it was. Decided before running it, and then run at
# full scale under master seeds 0 to 7 (4 to 7 never run before): all eight
# pass, with 0.31 to 0.43 in log to spare at the lower end and 0.43 to 0.58 at
# the upper; the ratio at $s = 0.5$ is 2.3 to 2.7 against the bound's 1.09.
# The sweep costs about 15 s more of one core.

# %%
shape_vs = [second_layer(128, "power", exponent=p) for p in SHAPE_EXPONENTS]
ratios = np.array([np.abs(v).sum() ** 2 for v in shape_vs])  # |v|_2 = 1
by_shape = sc.n50_sweep(
    SWEEP_N,
    SHAPE_GRID,
    [{"v": v} for v in shape_vs],
    seeds["shape"],
)
by_noise = sc.n50_sweep(
    SWEEP_N,
    NOISE_GRID,
    [{"noise_std": s} for s in NOISE_LEVELS],
    seeds["noise"],
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
# $N_{50}$ at $n = 20$ with 95% profile-likelihood intervals. Left: against the shape
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
#   decays like $N^{-1/2}$ and, at fixed $N$, grows with $n$ (slower than
#   $n$) at a rate consistent with the union bound ($\sqrt{\log(n 2^n)}$,
#   about $\sqrt n$) that makes the theorem quadratic; at these $n$ the data
#   cannot tell it from growth over the $n$ coordinates alone
#   ($\sqrt{\log n}$).
# * Exact recovery by the ergodic estimate has a sharp phase transition; up to
#   $n = 200$ its location grows with $n$ and no faster than the theorem's
#   $n^2$ (the bound calibrated at the smallest $n$ stays above it), with local
#   exponents below 2: quadratically many samples are sufficient, not
#   necessary, here.
# * The smallest constant $C'(n)$ that makes the bound cover $N_{50}$ falls
#   with $n$, more slowly than $n^{-1/2}$: $N_{50}$ grows faster than $n$ and
#   slower than $n^2$. With $C' = C'' = 1$ the bound is loose by five orders of
#   magnitude, mainly through its dependence on $\|v\|_1/\|v\|_2$, which the
#   measurements do not show. Label noise raises $N_{50}$ by more than the
#   bound's noise term says (the shape of that growth in $s$ is not resolved;
#   the finding was fragile at 32 trials a cell (failed under seed 3); at 96
#   it passed under seeds 0-7).
# * The row $n = 200$ leaves open whether the exponent tends to 1.5 or to 2;
#   the `large` scale's test of the range 100 to 400 is fixed in advance.
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
