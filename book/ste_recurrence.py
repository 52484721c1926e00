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
# (ste-recurrence)=
# # Theorem 3: recurrence under label noise
#
# ## Overview
#
# Without noise the teacher's weights are a trap: $g_N(w^*) = 0$ and the method
# stays there ({ref}`ste-last-iterate`). With label noise the residuals at $w^*$
# are the noise itself, $g_N(w^*) = -\frac1N\sum_k \xi_k Z_k^\top v \neq 0$, and
# {cite:t}`jeong2025beyond` find a striking behaviour: the iterate **escapes**
# from $w^*$, wanders, and **returns**, again and again. They read it as a
# benefit: the method does not stagnate. This chapter
#
# 1. predicts the first escape from $w^*$ exactly and checks it step for step;
# 2. runs the paper's setting ($m = 128$, $n = 25$, $N = 140$) for long, and
#    redraws its Figure 1 (right): the distance to $w^*$ and the loss along a run;
# 3. measures the recurrence: returns that keep coming at a steady rate, the
#    fraction of time spent at $w^*$ with its confidence interval, the lengths
#    of the excursions, and how all this depends on the noise level and on $N$.
#
# ```{prf:theorem} Recurrence (Jeong, Xin and Yin, Theorem 3, informal)
# :label: thm-ste-recurrence
#
# In the setting of {prf:ref}`thm-ste-ergodic`, with label noise and $N$ large
# enough, the iterates $u^t$ of the STE-gradient method leave $w^*$ and return
# to it infinitely often, and the fraction of time they spend at $w^*$ stays
# bounded away from zero.
# ```
#
# The exact escape time is elementary. Started at a latent $w^0$ with
# $\sign(w^0) = w^*$, the quantized weights stay at $w^*$, so the gradient is
# the constant $g = g_N(w^*)$ and $w^t = w^0 - t\eta g$: a straight line. A
# coordinate with $w^*_j g_j > 0$ moves towards zero and changes sign at step
# $\lfloor w^0_j/(\eta g_j)\rfloor + 1$ if $w^*_j = +1$, or
# $\lceil |w^0_j|/(\eta |g_j|)\rceil$ if $w^*_j = -1$ (because $\sign(0) = +1$);
# the first escape is the smallest of these.

# %%
import numpy as np

from quantheory.claims import ChapterClaims
from quantheory.display import glue, show_figure
from quantheory.scale import by_scale, current_scale
from quantheory.seeding import chapter_seed, describe, spawn
from quantheory.ste import recurrence as rec
from quantheory.ste import recurrence_claims as checks
from quantheory.ste.recurrence_figures import (
    plot_occupation_sweeps,
    plot_recurrence_statistics,
    plot_trajectory,
)

# the chapter's seed: the master seed QUANTHEORY_SEED with this chapter's salt
SEED = chapter_seed(20250527)
seeds = spawn(SEED, ["escape", "recurrence", "noise_sweep", "sample_sweep"])
claims = ChapterClaims()
print(f"scale: {current_scale()}, seed: {describe(SEED)}")

# %%
N_DIM, N_SAMPLES, NOISE = 25, 140, 0.5  # the paper's Figure 1 (right); m = 128
ESCAPE_NOISE_LEVELS = (0.25, 0.5, 1.0, 2.0)
ESCAPE_TRIALS = by_scale(quick=20, full=100)
RUNS = by_scale(quick=10, full=40)  # independent training sets
STEPS = by_scale(quick=4_000, full=20_000)
SWEEP_RUNS = by_scale(quick=6, full=20)
SWEEP_STEPS = by_scale(quick=2_000, full=10_000)
SWEEP_NOISE = (0.25, 0.5, 1.0, 2.0)
SWEEP_SAMPLES = (70, 140, 280, 560)

# %% [markdown]
# ## The first escape, predicted exactly
#
# For each noise level, fresh training sets are drawn, the method starts at
# $w^0 = w^*$ with $\eta = 1$, and the first step at which $u^t \neq w^*$ is
# compared with the closed form above.

# %%
escapes = rec.escape_experiment(
    N_DIM, N_SAMPLES, ESCAPE_NOISE_LEVELS, ESCAPE_TRIALS, 1.0, seeds["escape"]
)
claims.record(checks.escape_time_claim(escapes))

# %% [markdown]
# ## Long runs in the paper's setting
#
# Each of the runs below uses its own training set and starts at $w^*$; the
# label noise is $s = 0.5$ (the seed text does not give the paper's level).

# %%
runs = rec.recurrence_runs(
    N_DIM, N_SAMPLES, NOISE, RUNS, STEPS, seeds["recurrence"]
)
claims.record(checks.recurrence_claim(runs))
occupation = rec.occupation_summary(runs, NOISE)
glue("occupation", occupation.mean)
glue("occupation-low", occupation.low)
glue("occupation-high", occupation.high)
glue("median-return", float(np.median(runs.return_times())))
typical = int(np.argsort(runs.occupation())[runs.occupation().size // 2])
show_figure(plot_trajectory(runs, typical, window=400), "fig-trajectory")

# %% [markdown]
# ```{glue:figure} fig-trajectory
# :name: fig-trajectory
#
# One run with median occupation ($m = 128$, $n = 25$, $N = 140$, $s = 0.5$;
# compare the paper's Figure 1, right), first 400 steps. Top: distance of the
# quantized weights from $w^*$; it drops back to zero again and again. Bottom:
# population loss (red), training loss (grey) and the noise floor $s^2/2$: each
# return to $w^*$ brings the population loss down to the floor.
# ```
#
# The iterate spends a fraction {glue:text}`occupation:.3f` of the time at
# $w^*$ on average over training sets (95% CI {glue:text}`occupation-low:.3f` to
# {glue:text}`occupation-high:.3f`), and a typical excursion lasts
# {glue:text}`median-return:.0f` steps.

# %%
show_figure(plot_recurrence_statistics(runs), "fig-recurrence")

# %% [markdown]
# ```{glue:figure} fig-recurrence
# :name: fig-recurrence
#
# Left: the running fraction of steps spent at $w^*$, one line per training set;
# every line settles to its own positive level, so the occupation has a limit,
# which depends on the training set. Right: distribution of the lengths of the
# excursions away from $w^*$, as the fraction of excursions at least that long
# (log-log): most are short, but the tail is heavy.
# ```
#
# ## How the noise level and the sample size matter
#
# Occupation drops quickly with the noise level: the larger $g_N(w^*)$, the
# faster the iterate is pushed out, and at large noise it rarely finds its
# way back. More samples average the noise out of $g_N(w^*)$ and raise it.

# %%
by_noise = rec.occupation_sweep(
    N_DIM,
    [(N_SAMPLES, s) for s in SWEEP_NOISE],
    SWEEP_RUNS,
    SWEEP_STEPS,
    seeds["noise_sweep"],
    label="noise",
)
by_samples = rec.occupation_sweep(
    N_DIM,
    [(N, NOISE) for N in SWEEP_SAMPLES],
    SWEEP_RUNS,
    SWEEP_STEPS,
    seeds["sample_sweep"],
    label="samples",
)
for row in by_noise + by_samples:
    print(row)
show_figure(plot_occupation_sweeps(by_noise, by_samples), "fig-occupation")

# %% [markdown]
# ```{glue:figure} fig-occupation
# :name: fig-occupation
#
# Mean fraction of time at $w^*$ (95% intervals over training sets) at
# $n = 25$, $m = 128$. Left: against the noise level at $N = 140$; it falls
# towards zero as $s$ grows. Right: against $N$ at $s = 0.5$; more samples
# make $w^*$ stickier.
# ```
#
# ## Summary
#
# * The first escape from $w^*$ is exactly the first zero crossing of a
#   straight line in the latent weights, step for step.
# * In the paper's setting the iterate comes back to $w^*$ again and again, at
#   a steady rate, and spends a stable, positive fraction of the time there.
# * That fraction falls with the noise level and rises with the sample size;
#   it also varies a lot from one training set to another.
#
# ## Exercises
#
# ```{exercise-start}
# :label: ex-escape-scale
# ```
#
# Start at $w^0 = 3 w^*$ instead of $w^*$. How does the first escape time
# change, and how does the long-run occupation change?
#
# ```{exercise-end}
# ```
#
# ```{solution-start} ex-escape-scale
# :class: dropdown
# ```
#
# The escape time is about three times longer, since every coordinate starts
# three times further from zero and moves at the same speed
# (`rec.predicted_escape_time(3 * w_star, w_star, g, 1.0)`). The long-run
# occupation does not change: after the first escape the latent weights are no
# longer large, and the run forgets its start.
#
# ```{solution-end}
# ```
#
# ## Claims of this chapter

# %%
claims.finish()
