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
# 1. predicts the first escape from $w^*$ exactly, with code that shares
#    nothing with the simulation, and checks it step for step;
# 2. runs the paper's setting ($m = 128$, $n = 25$, $N = 140$) and redraws its
#    Figure 1 (right): the distance to $w^*$ and the loss along a run;
# 3. maps where recurrence holds over a grid of sample sizes $N$ and noise
#    levels $s$: the fraction of time spent at $w^*$ with its intervals, return
#    counts that keep coming at a steady rate, and the cells where the
#    recurrence can no longer be told apart from none.
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
from quantheory.ste import escape
from quantheory.ste import recurrence as rec
from quantheory.ste import recurrence_claims as checks
from quantheory.ste.recurrence_figures import (
    plot_recurrence_map,
    plot_recurrence_statistics,
    plot_trajectory,
)

# the chapter's seed: the master seed QUANTHEORY_SEED with this chapter's salt
SEED = chapter_seed(20250527)
seeds = spawn(SEED, ["escape", "map", "control"])
claims = ChapterClaims()
print(f"scale: {current_scale()}, seed: {describe(SEED)}")

# %%
N_DIM, N_SAMPLES, NOISE = 25, 140, 0.5  # the paper's Figure 1 (right); m = 128
ESCAPE_NOISE_LEVELS = (0.25, 0.5, 1.0, 2.0)
ESCAPE_TRIALS = by_scale(quick=20, full=100)
MAP_SAMPLES = (70, 140, 280)
MAP_NOISE = (0.1, 0.25, 0.5, 1.0)
RUNS = by_scale(quick=16, full=32)  # independent training sets per cell
STEPS = by_scale(quick=600, full=1600)

# %% [markdown]
# ## The first escape, predicted exactly
#
# For each noise level, fresh training sets are drawn and the method starts at
# $w^0 = w^*$ with $\eta = 1$. The prediction computes $g_N(w^*)$ from the
# model's own formula (inputs in the layout $(N, m, n)$, labels recomputed from
# the network) and the first crossing in closed form; the simulation is the
# engine, run for a horizon that does not look at the prediction. They must
# agree in every trial.

# %%
escapes = escape.escape_experiment(
    N_DIM, N_SAMPLES, ESCAPE_NOISE_LEVELS, ESCAPE_TRIALS, 1.0, seeds["escape"]
)
claims.record(checks.escape_time_claim(escapes))

# %% [markdown]
# ## Long runs over sample sizes and noise levels
#
# Each cell $(N, s)$ of the grid gets its own independent training sets, each
# run from $w^0 = w^*$; the first fifth of every run is left out as burn-in and
# the rest is cut into two halves. A control with the same $N$ as the paper
# and no label noise shows what no recurrence looks like.

# %%
runs_by_cell = rec.recurrence_map(
    N_DIM, MAP_SAMPLES, MAP_NOISE, RUNS, STEPS, seeds["map"]
)
control_runs = rec.recurrence_runs(
    N_DIM, N_SAMPLES, 0.0, RUNS, STEPS, seeds["control"]
)
table, control = checks.recurrence_table(runs_by_cell, control_runs)
runs = runs_by_cell[(N_SAMPLES, NOISE)]
paper = table[(N_SAMPLES, NOISE)]
glue("occupation", paper.occupation)
glue("occupation-low", paper.low)
glue("occupation-high", paper.high)
glue("returns-per-1000", paper.returns_per_1000)
glue("median-return", float(np.median(runs.return_times())))
glue("runs", RUNS)
glue("steps", STEPS)
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
# In the paper's setting ($s = 0.5$) the iterate spends a fraction
# {glue:text}`occupation:.3f` of the time at $w^*$ on average over
# {glue:text}`runs` training sets (95% interval {glue:text}`occupation-low:.3f`
# to {glue:text}`occupation-high:.3f`), comes back about
# {glue:text}`returns-per-1000:.0f` times per 1000 steps, and a typical
# excursion lasts {glue:text}`median-return:.0f` steps.

# %%
show_figure(plot_recurrence_statistics(runs), "fig-recurrence")

# %% [markdown]
# ```{glue:figure} fig-recurrence
# :name: fig-recurrence
#
# The paper's setting ($N = 140$, $s = 0.5$). Left: the running fraction of
# steps spent at $w^*$, one line per training set; every line settles to its
# own positive level, so the occupation has a limit, which depends on the
# training set. Right: distribution of the lengths of the excursions away from
# $w^*$, as the fraction of excursions at least that long (log-log): most are
# short, but the tail is heavy.
# ```
#
# ## Where recurrence holds
#
# In each cell two questions are asked of the {glue:text}`runs` training sets,
# at the book's error budget (Student $t$ over training sets, since they are
# few): is the fraction of time at $w^*$ positive, and does the iterate keep
# coming back in the second half of the runs (the mean of
# $\log(1 + \text{returns})$ is positive; it is exactly 0 for a run that never
# returns)? Where both hold, recurrence is *shown*. And in every cell the two
# halves must agree, in returns and in occupation: a recurrent iterate comes
# back at a steady rate, so returns grow linearly in $T$, and its occupation
# has a limit. A drifting occupation or a return rate that dies out would
# show up as a difference between the halves.

# %%
claims.record(checks.recurrence_claim(table, control))
glue("map", checks.recurrence_map_text(table))
glue("shown", sum(c.recurrent for c in table.values()))
glue("cells", len(table))
show_figure(plot_recurrence_map(table), "fig-occupation")

# %% [markdown]
# ```{glue:figure} fig-occupation
# :name: fig-occupation
#
# Mean fraction of time at $w^*$ against the noise level, one line per $N$
# ($n = 25$, $m = 128$). Thick bars: 95% intervals over training sets; thin
# bars: the book's error-budget intervals. Filled markers: recurrence shown
# (occupation and returns positive at the budget level). The occupation falls
# as $s$ grows and rises with $N$; the cells where it is shown form a corner
# of large $N$ and small $s$.
# ```
#
# Recurrence is shown in {glue:text}`shown` of the {glue:text}`cells` cells
# ({glue:text}`map`). Outside that corner the occupation is still positive in
# most runs, but it is small and varies so much from one training set to
# another that {glue:text}`runs` training sets cannot tell it from zero at the
# book's budget: the theorem's "$N$ large enough" is a real condition, and it
# grows with the noise level. The escape speed $\|g_N(w^*)\|$ is of order
# $s/\sqrt N$, so a larger $N$ compensates a larger $s$.
#
# ## Summary
#
# * The first escape from $w^*$ is exactly the first zero crossing of a
#   straight line in the latent weights, step for step.
# * With label noise the iterate comes back to $w^*$ again and again, at a
#   steady rate, and spends a stable fraction of the time there; without noise
#   it never leaves.
# * That fraction falls with the noise level and rises with the sample size,
#   and it varies a lot from one training set to another; where it is large
#   enough to be told from zero, the two halves of the runs always agree.
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
# (`escape.first_crossing_step(3 * w_star, w_star, g, 1.0)`). The long-run
# occupation does not change: after the first escape the latent weights are no
# longer large, and the run forgets its start.
#
# ```{solution-end}
# ```
#
# ## Claims of this chapter

# %%
claims.finish()
