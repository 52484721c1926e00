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
# (lr-noise)=
# # Noise amplification and the batch size
#
# ## Overview
#
# The public summaries of {cite:t}`zhang2025learning` say that quantizing the
# parameters, the activations or the output gradient **amplifies the noise**
# of SGD, and they say how each kind of noise scales: additive activation and
# output-gradient noise enters divided by the batch size $B$, like label
# noise; parameter noise enters with $\operatorname{tr}(H)$ and does not
# shrink with $B$; multiplicative activation and output noise is tied to
# $\|w^*\|_H^2$ and does not shrink with $B$. This chapter
#
# 1. reads off, from the exact moment recursion of {ref}`lr-recursion`, the
#    variance that each quantizer injects into one SGD step, for every target
#    and every kind (additive, multiplicative per vector, multiplicative per
#    coordinate), and proves from it that the expected excess risk can only
#    rise with the quantization variance $\varepsilon$;
# 2. checks that rise by Monte Carlo SGD, which shares no code with the
#    recursion: over the paper's grid of $\varepsilon$, for all nine
#    (target, kind) pairs, the risk must rise strictly at every step of the
#    grid and by the amount the recursion predicts (pooled over the nine,
#    to within {glue:text}`tolerance`), with a control where quantization
#    must not raise it at all;
# 3. checks the batch-size statement at a fixed sample budget $N$ (so
#    $T = N/B$ steps): the additive term shrinks with $B$, with an exponent
#    predicted by the recursion and fitted from simulation; parameter and
#    per-vector multiplicative activation quantization are the controls whose
#    exponents lie above the additive ones, and the chapter sets the exponents
#    against the summaries' "divided by $B$" and "does not shrink with $B$".
#
# The statements below are the book's reconstruction from the abstract and
# the public summaries; the exact amounts are the book's own, from the
# recursion ({prf:ref}`prop-lr-recursion`), for the model and the idealized
# quantizers of {prf:ref}`def-lr-model` and {prf:ref}`def-lr-quantizers`.
#
# ```{prf:theorem} Noise amplification (reconstruction)
# :label: thm-lr-noise-amplification
#
# Quantizing the parameters, the activations or the output gradient with an
# unbiased quantizer of variance $\varepsilon$ adds noise to every SGD step,
# so the expected excess risk of the last and of the averaged iterate after
# $T$ steps rises with $\varepsilon$. Additive activation and output-gradient
# noise enters like label noise, divided by $B$; parameter noise enters with
# $\operatorname{tr}(H)$ and does not shrink with $B$; multiplicative
# activation and output noise is tied to $\|w^*\|_H^2$ and, for one scalar
# per vector, does not shrink with $B$.
# ```
#
# ## The noise each quantizer injects
#
# None of these targets moves SGD's target: every quantizer error has mean
# zero given the past, so the mean $m_t = \mathbb E[w_t - w^*]$ follows
# $m_{t+1} = (I - \gamma H) m_t$ whatever is quantized. Only the second moment
# changes. Write $v_i = \mathbb E[(w_i - w^*_i)^2]$, $W_i = \mathbb E[w_i^2] =
# w^{*2}_i + 2 w^*_i m_i + v_i$ and $\lambda_i = i^{-a}$. Without
# quantization one step maps
#
# $$
# v_i' = \big((1 - \gamma\lambda_i)^2 + \tfrac{\gamma^2 \lambda_i^2}{B}\big) v_i
#   + \frac{\gamma^2 \lambda_i}{B}\Big(\sum_j \lambda_j v_j + s^2\Big),
# $$
#
# and quantization adds $\varepsilon \gamma^2 \lambda_i\, n_i$ to $v_i'$,
# where the *injected noise* $n_i$ is
#
# | target | additive | multiplicative, per vector | multiplicative, per coordinate |
# |---|---|---|---|
# | parameters | $(1 + \frac1B)\lambda_i + \frac{\operatorname{tr} H}{B}$ | $(1 + \frac1B)\lambda_i W_i + \frac1B\sum_j \lambda_j W_j$ | same as per vector |
# | activations | $\frac1B$ | $(1 + \frac1B)\lambda_i W_i + \frac1B\sum_j \lambda_j W_j$ | $\frac1B\big(2\lambda_i W_i + \sum_j \lambda_j W_j\big)$ |
# | output gradient | $\frac1B$ | $(1 + \frac1B)\lambda_i v_i + \frac1B\big(\sum_j \lambda_j v_j + s^2\big)$ | $\frac1B\big(2\lambda_i v_i + \sum_j \lambda_j v_j + s^2\big)$ |
#
# These are the differences of the SymPy-derived recursions of
# {ref}`lr-recursion` with and without the quantizer (`tests/test_lr_noise.py`
# checks each entry of the table against `quantheory.lr.symbolic`). They make
# the summaries' statements precise, and refine two of them:
#
# * **Additive activation and output-gradient noise** is $\varepsilon/B$ per
#   step, exactly as label noise of variance $\varepsilon$ would be: it
#   averages over the batch. The two are even the same perturbation: adding
#   $\delta$ to the activations subtracts it from the residual, and the
#   Gaussian error is symmetric.
# * **Parameter noise** has two parts. A perturbation $\delta$ of $w$ changes
#   every prediction of the batch by $x_k^\top \delta$, of variance
#   $\varepsilon \operatorname{tr}(H)$: that part, $\operatorname{tr}(H)/B$,
#   is like label noise and *does* shrink with $B$. But $\delta$ is shared by
#   the whole batch, so the batch mean of $x_k x_k^\top \delta$ is $H\delta$,
#   which no batch averages away: that part, $\lambda_i$ per coordinate, does
#   not shrink with $B$. "Enters with $\operatorname{tr}(H)$ and does not
#   shrink with $B$" holds only for the two parts together.
# * **Multiplicative noise per vector** is $(1+1/B)$ times the noise of the
#   signal itself: for the activations the signal is $Xw$, so the noise is
#   tied to $W = \mathbb E[w w^\top] \approx w^* w^{*\top}$ and
#   $\sum_j \lambda_j W_j \approx \|w^*\|_H^2$, and the $(1 + 1/B)$ part does
#   not shrink with $B$. Per coordinate, every batch entry has its own scale
#   factor and the noise averages like additive noise, $1/B$ throughout.
#   Multiplicative parameter noise is the same process as per-vector
#   multiplicative activation noise (exercise 1).
# * **Multiplicative output-gradient noise** is tied to the residual
#   $y - Xw$, of variance $s^2 + \sum_j \lambda_j v_j$. That is
#   $\|w^*\|_H^2 + s^2$ at $w_0 = 0$, and it falls as SGD converges; where
#   SGD fits the data exactly, it vanishes. That is the control of the first
#   check.
#
# ```{prf:proposition} The risk rises with $\varepsilon$ (the book's)
# :label: prop-lr-noise-monotone
#
# Let $\gamma\lambda_1 \le 1$. For parameter, activation or output-gradient
# quantization of any kind, the expected excess risk of the last and of the
# averaged iterate after $T$ steps is a nondecreasing function of
# $\varepsilon$, and an increasing one as soon as the injected noise is not
# zero before step $T$.
# ```
#
# ```{prf:proof}
# In the recursion above every coefficient of
# $v \mapsto v'$ is nonnegative, the injected term is $\varepsilon$ times a
# quantity that is nonnegative ($W_i = \mathbb E[w_i^2] \ge 0$, $v_i \ge 0$)
# and nondecreasing in $v$, and $m_t$ does not depend on $\varepsilon$. By
# induction on $t$, $v_t$ is coordinatewise nondecreasing in $\varepsilon$,
# and strictly increasing in the coordinates that the injected noise has
# reached. So is the last iterate's risk $\frac12\sum_i \lambda_i v_{t,i}$,
# and so is the averaged iterate's, which is $\frac1{2T^2}\sum_i \lambda_i
# \big(\sum_{t<T} v_{t,i} + 2\sum_{s<t<T} (1 - \gamma\lambda_i)^{t-s}
# v_{s,i}\big)$, a combination of the $v_{t,i}$ with nonnegative weights.
# ```

# %%

from quantheory.claims import ChapterClaims
from quantheory.display import glue, show_figure
from quantheory.lr import noise_claims as noise
from quantheory.lr.model import KINDS, Problem, Quantization
from quantheory.lr.noise_figures import plot_batch_terms, plot_risk_vs_eps
from quantheory.scale import by_scale, current_scale
from quantheory.seeding import chapter_seed, describe, spawn

# the chapter's seed: the master seed QUANTHEORY_SEED with this chapter's salt
SEED = chapter_seed(20251023)
SWEEPS = [(t, k) for t in noise.AMPLIFIED_TARGETS for k in KINDS]
BATCH_SWEEPS = noise.SHRINKING + noise.NOT_SHRINKING + noise.BESIDE
seeds = spawn(
    SEED,
    [f"{t} {k}" for t, k in SWEEPS]
    + ["control"]
    + [f"batch {t} {k}" for t, k in BATCH_SWEEPS],
)
claims = ChapterClaims("lr_noise")
print(f"scale: {current_scale()}, seed: {describe(SEED)}")

# %%
A, STEP, NOISE_VAR = (
    2.0,
    0.2,
    1.0,
)  # the paper's a and s^2; gamma fixed for all B
DIM = by_scale(quick=16, full=100)
SAMPLES = by_scale(quick=512, full=1024)  # the sample budget N of both checks
BATCH = 2  # the eps sweeps: the smallest B at which the two mult. kinds differ
RUNS = 128  # runs per setting (antithetic pair + baseline), both scales
glue("dim", DIM)
glue("samples", SAMPLES)
glue("step", STEP)
glue("batch", BATCH)
glue("runs", RUNS)
glue("eps-grid", ", ".join(f"{e:g}" for e in noise.EPS_GRID))
glue("tolerance", f"{noise.RATIO_TOLERANCE:.0%}")
glue("batch-grid", ", ".join(map(str, noise.BATCH_GRID)))

# %% [markdown]
# ## The rise of the risk with $\varepsilon$
#
# The setting is the paper's ($a = 2$, $w^*_i = 1$, $s^2 = 1$, $w_0 = 0$) in
# dimension $d =$ {glue:text}`dim` with constant step $\gamma =$
# {glue:text}`step`, batch $B =$ {glue:text}`batch` (the smallest batch at
# which the two multiplicative kinds differ for the activations and the
# gradient; at $B = 1$ the "vector" has one entry) and one pass over
# $N =$ {glue:text}`samples` samples. For each of the nine (target, kind)
# pairs, SGD is simulated on {glue:text}`runs` runs at each $\varepsilon$ of
# the paper's grid {glue:text}`eps-grid`, fixed in advance.
#
# The rise of the risk is small next to the risk itself (between
# {glue:text}`rise-share-low:.1e` and {glue:text}`rise-share-high:.1e` of the
# averaged iterate's risk at $\varepsilon = 0.01$ here, by the recursion), so
# independent runs at each $\varepsilon$ would need millions of runs to see
# it. Two standard devices make it visible; neither biases the estimate of the
# risk of an unbiased quantizer:
#
# * **common random numbers**: every $\varepsilon$ and the run without
#   quantization use the same seed, hence the same data, label noise and
#   quantizer draws (the run without quantization draws the quantizer's
#   numbers and ignores them), so the differences between columns are
#   differences of the same runs;
# * **antithetic variates**: each quantized run is paired with its mirror
#   image, the run whose quantizer error $Q(u) - u$ is reflected on the same
#   draws (the same law, since the Gaussian error is symmetric), and the two
#   risks are averaged. The part of the rise that is linear in the error
#   cancels exactly in the pair; what remains is of order $\varepsilon$, like
#   the rise itself.
#
# The pair has a blind spot: a quantizer with a *mean* error (a bias, say
# $\mathbb E[Q(u) - u] = c\,\varepsilon u$) moves the risk through exactly
# the part that is linear in the error, and the mirror image cancels that
# part to first order. So each sweep also keeps the plain, un-mirrored run at
# $\varepsilon = 0.01$ (it is one half of the pair, so it costs nothing) and
# matches its rise over the baseline to the recursion on its own; a registered
# mutation gives the per-coordinate gradient quantizer a bias of
# $3\varepsilon u$, which the antithetic pairs do not see and the plain runs
# do.
#
# The recursion predicts each rise without simulation; the claim compares the
# two, and asks the simulated risk to rise strictly at every step of the
# grid.
#
# **Control.** Where the residual $y - Xw$ is zero, multiplicative
# output-gradient noise has nothing to scale. With noiseless labels ($s = 0$)
# and SGD started at $w_0 = w^*$, the residual is exactly zero in every run,
# and both multiplicative gradient quantizers must leave the risk at exactly
# zero at $\varepsilon = 0.01$, while the additive one, at the same
# $\varepsilon$, must raise the averaged risk (its interval above zero), by
# the predicted amount for both iterates. A simulation that
# added noise to the gradient regardless of its size, or a recursion that
# tied the multiplicative noise to $\|w^*\|_H^2$ as the summaries' wording
# suggests, would fail it.
#
# Each step up of the averaged risk between consecutive $\varepsilon$ is a
# paired difference over the runs; the claim asks the lower end of its
# interval at the book's error budget (Student $t$ over the runs, Bonferroni
# over every comparison of the claim) to be above zero. At $\varepsilon =
# 0.01$ it asks the recursion's rise over $\varepsilon = 0$ to lie inside the
# interval of the simulated rise, for the averaged and for the last iterate
# and for the plain run. The matches at the smaller $\varepsilon$ would
# repeat it: on common random numbers the antithetic rise of an additive
# quantizer is exactly proportional to $\varepsilon$ run by run (the error is
# $\sqrt\varepsilon z$ and SGD is linear in it), and nearly so for the
# multiplicative kinds (the claim reports the smallest correlation over runs
# between the rise at a smaller $\varepsilon$ and at the largest).
#
# One sweep's interval tells its rise only to within about
# $\pm$ {glue:text}`sweep-resolution` of itself: a simulated quantizer with
# 1.25 times the variance it should have slips through every one of them (a
# registered mutation, on the tests' own seeds). So
# the claim also pools the nine sweeps: the mean over the sweeps of
# measured / predicted rise of the averaged iterate at $\varepsilon = 0.01$,
# whose interval (half-width {glue:text}`pooled-half:.3f`) must lie inside
# $1 \pm$ {glue:text}`tolerance` (two one-sided tests). The tolerance was
# fixed before any run of the pooled ratio, from the design's standard error
# alone (about 2.5% at quick scale with 96 runs and 1.8% at full scale with
# 128, on pilot seeds outside the chapter's seed tree). The last iterate's
# pooled ratio scatters about twice as much and is only required to be
# consistent with 1.
#
# The recursion's stability radius is checked to be below 1 at every
# $\varepsilon$. That is a weak hypothesis here: the radius is at least the
# slowest coordinate's own factor, about $1 - 2\gamma\lambda_d$ with
# $\lambda_d = d^{-a}$, and the coupling between the coordinates adds almost
# nothing to it; the claim prints both.
#
# The last iterate's runs scatter far more than the averaged iterate's (it
# carries the noise of its last steps, which no average removes), so its
# steps up are not resolved at this number of runs: it is checked through the
# match with the recursion only, and its monotone rise rests on
# {prf:ref}`prop-lr-noise-monotone`.

# %%
problem = Problem(d=DIM, a=A, gamma=STEP, batch=BATCH, noise_var=NOISE_VAR)
sweeps = [
    noise.measure_eps_sweep(
        problem,
        target,
        kind,
        noise.EPS_GRID,
        SAMPLES,
        RUNS,
        seeds[f"{target} {kind}"],
    )
    for target, kind in SWEEPS
]
control = noise.measure_control(
    problem, noise.EPS_GRID[-1], SAMPLES, RUNS, seeds["control"]
)
claims.record(noise.amplification_claim(sweeps, control))

# %% [markdown]
# The figure draws the rises over $\varepsilon = 0$ with the claim's
# intervals, beside the recursion evaluated on a finer grid of
# $\varepsilon$.

# %%
checks = [noise.check_sweep(s) for s in sweeps]
threshold = noise.amplification_threshold(sweeps, control)
glue("threshold", threshold)
glue("pooled-half", threshold * noise.pooled_ratio(checks, "average")[1])
glue("sweep-resolution", f"{noise.sweep_resolution(checks, threshold):.0%}")
shares = [c.predicted_average[-1] / c.predicted_average[0] - 1 for c in checks]
glue("rise-share-low", min(shares))
glue("rise-share-high", max(shares))
glue(
    "last-over-average",
    min(
        (c.predicted_last[-1] - c.predicted_last[0])
        / (c.predicted_average[-1] - c.predicted_average[0])
        for c in checks
    ),
)
show_figure(
    plot_risk_vs_eps(checks, noise.rise_lines(sweeps), threshold),
    "fig-lr-noise-eps",
)

# %% [markdown]
# ```{glue:figure} fig-lr-noise-eps
# :name: fig-lr-noise-eps
#
# Rise of the expected excess risk over no quantization against the
# quantization variance $\varepsilon$, for parameter, activation and
# output-gradient quantization (columns), averaged iterate (top) and last
# iterate (bottom). Lines: the recursion; points: Monte Carlo, with intervals
# of $\pm$ {glue:text}`threshold:.1f` standard errors (the claim's budget).
# Every line rises, nearly linearly at these $\varepsilon$, and the points
# sit on it. Additive activation and gradient noise (red) give the same
# rise, the smallest in their columns: it is divided by $B$. The
# multiplicative parameter rises (both kinds) and the per-vector activation
# rise are one and the same line (exercise 1). The last iterate rises at
# least {glue:text}`last-over-average:.0f` times as much as the averaged one,
# and its runs scatter more.
# ```
#
# ## The batch size at a fixed sample budget
#
# The second statement is about $B$. With the sample budget $N$ fixed, a
# larger batch means fewer steps, $T = N/B$. The step size is kept at
# $\gamma =$ {glue:text}`step` for every $B$: as far as the summaries say,
# that is the paper's setting (a constant step size; exercise 2 asks what a
# step growing with $B$ would change). The *quantization term* is the risk
# with quantization minus the risk without it at the same $B$; it is
# measured as above (antithetic pairs on the baseline's draws, each $B$ on its
# own seed) at $\varepsilon = 0.01$ for
# the batch sizes {glue:text}`batch-grid` (a grid fixed in advance), with
# $d =$ {glue:text}`dim`, $N =$ {glue:text}`samples` and {glue:text}`runs`
# runs.
#
# ```{prf:theorem} Batch scaling of the quantization term (reconstruction)
# :label: thm-lr-batch-scaling
#
# At a fixed sample budget $N$ and constant step size, the excess risk added
# by additive activation or output-gradient quantization shrinks as the
# batch size grows; the risk added by parameter quantization and by
# multiplicative (per-vector) activation quantization does not shrink like it.
# ```
#
# "Does not shrink like it" is the book's reformulation: the summaries say
# these terms do not shrink with $B$ at all, and say the additive term is
# divided by $B$. The claim does not test those two exponents, $0$ and $-1$;
# it tests the recursion's, and the comparison below shows how far they are
# from the summaries'.
#
# The exponent follows from the injected noise. Additive noise injects
# $\varepsilon\gamma^2\lambda_i/B$ per step. A coordinate that has converged
# ($T\gamma\lambda_i \gg 1$) holds a stationary variance
# $\approx \gamma\varepsilon/(2B)$, so the last iterate's term is about
# $\gamma\varepsilon\operatorname{tr}(H)/(4B)$: exponent $-1$. The averaged
# iterate divides that by the $\approx T\gamma\lambda_i/2$ effectively
# independent steps it averages, leaving $\varepsilon/(N\lambda_i)$ per
# coordinate and $\varepsilon/(2N)$ per converged coordinate of the risk,
# whatever $B$ is; but only the $k^* \approx (\gamma N/B)^{1/a}$ coordinates
# with $T\gamma\lambda_i \gtrsim 1$ have converged, and the rest add a term of
# the same order. So the averaged iterate's term scales like $B^{-1/a}$
# ($-0.5$ at $a = 2$) asymptotically. A noise that does *not* shrink with
# $B$, such as the $\varepsilon\gamma^2\lambda_i^2$ part of parameter noise,
# leaves the averaged iterate a variance $\varepsilon/T = \varepsilon B/N$ per
# converged coordinate instead: it *grows* with $B$, because a larger batch
# leaves fewer steps to average. Parameter noise has a part of each kind, so
# its exponent lies in between. At the finite $N$ and $B$ of the grid these
# are only guides; the claim uses the recursion's exact terms, and their
# least-squares slope on log-log axes over the grid is the predicted
# exponent.

# %%
base = Problem(d=DIM, a=A, gamma=STEP, noise_var=NOISE_VAR)
batch_sweeps = [
    noise.measure_batch_sweep(
        base,
        target,
        kind,
        noise.BATCH_EPS,
        noise.BATCH_GRID,
        SAMPLES,
        RUNS,
        seeds[f"batch {target} {kind}"],
    )
    for target, kind in BATCH_SWEEPS
]
claims.record(noise.batch_claim(batch_sweeps))

# %% [markdown]
# The fitted exponent is the least-squares slope of the logarithm of the
# mean term on $\log B$, with a delta-method standard error; the claim asks,
# at the book's error budget, that the recursion's exponent lie in the fitted
# interval for every sweep and both iterates, that the additive activation
# and gradient exponents lie below 0 for both iterates, and that each
# control's exponent (averaged iterate) lie above each additive one (not that
# it be 0). Multiplicative per-coordinate activation noise is shown beside: it
# is divided by $B$ in every part, so it shrinks like the additive term. A
# registered mutation draws the parameter error afresh for every row of the
# batch; that noise averages over the batch, and the control fails.

# %%
exponent_checks = [noise.check_batch_sweep(s) for s in batch_sweeps]
batch_threshold = noise.batch_threshold(batch_sweeps)
glue("batch-threshold", batch_threshold)
for check in exponent_checks:
    name = check.sweep.label.replace(" ", "-")
    slope, se = check.fitted("average")
    glue(f"{name}-fitted", slope)
    glue(f"{name}-half", batch_threshold * se)
    glue(f"{name}-theory", check.theory("average"))
    glue(f"{name}-last-theory", check.theory("last"))
    slope, se = check.fitted("last")
    glue(f"{name}-last-fitted", slope)
    glue(f"{name}-last-half", batch_threshold * se)
show_figure(
    plot_batch_terms(exponent_checks, batch_threshold), "fig-lr-noise-batch"
)
# exercise 2: the linear scaling rule gamma = 0.05 B, by the recursion alone
linear_last, linear_average = noise.scaled_step_terms(
    Problem(d=100, a=A, gamma=STEP, noise_var=NOISE_VAR),
    Quantization("activations", "additive", noise.BATCH_EPS),
    (1, 2, 4, 8),
    1024,
    0.05,
)
glue("linear-last", ", ".join(f"{t:.2e}" for t in linear_last))
glue("linear-average", ", ".join(f"{t:.2e}" for t in linear_average))

# %% [markdown]
# ```{glue:figure} fig-lr-noise-batch
# :name: fig-lr-noise-batch
#
# The quantization term against the batch size at a fixed sample budget
# ($\varepsilon = 0.01$, constant $\gamma$), log-log; left the averaged
# iterate, right the last iterate. Points: Monte Carlo means with intervals
# of $\pm$ {glue:text}`batch-threshold:.1f` standard errors; solid lines: the
# fitted power laws; dashed: the recursion. The legend gives the fitted and
# the recursion's exponents. The additive terms (red, orange) fall steeply:
# exponent {glue:text}`activations-additive-last-theory:.2f` for the last
# iterate and {glue:text}`activations-additive-theory:.2f` for the averaged
# one, by the recursion. For the averaged iterate the parameter term (black,
# {glue:text}`params-additive-theory:.2f`) and the per-vector multiplicative
# term (blue, {glue:text}`activations-mult_vector-theory:.2f`) change far
# less; for the last iterate both fall clearly
# ({glue:text}`params-additive-last-theory:.2f` and
# {glue:text}`activations-mult_vector-last-theory:.2f`), though less steeply
# than the additive ones. The per-coordinate multiplicative term (green)
# falls like the additive ones.
# ```
#
# **What the summaries say, and what the book finds.** Exponents of the
# quantization term in $B$ at fixed $N$ ($\varepsilon = 0.01$, $d =$
# {glue:text}`dim`, $N =$ {glue:text}`samples`, constant $\gamma$): the
# recursion's least-squares slope over the grid, and the simulation's with its
# interval at the claim's budget.
#
# * *Additive activation noise*: the summaries say "divided by $B$",
#   exponent $-1$. Averaged iterate: recursion
#   {glue:text}`activations-additive-theory:.2f`, simulation
#   {glue:text}`activations-additive-fitted:.2f` $\pm$
#   {glue:text}`activations-additive-half:.2f`. Last iterate: recursion
#   {glue:text}`activations-additive-last-theory:.2f`, simulation
#   {glue:text}`activations-additive-last-fitted:.2f` $\pm$
#   {glue:text}`activations-additive-last-half:.2f`. The injected noise is
#   divided by $B$ exactly; the term is not: the last iterate's is near the
#   $-1$ of the stationary heuristic (steeper, because fewer steps leave more
#   of the start), the averaged iterate's is much shallower (the heuristic's
#   asymptotic exponent is $-1/a = -0.5$).
# * *Additive output-gradient noise*: the same process (recursion
#   {glue:text}`gradients-additive-theory:.2f` averaged,
#   {glue:text}`gradients-additive-last-theory:.2f` last; simulation
#   {glue:text}`gradients-additive-fitted:.2f` $\pm$
#   {glue:text}`gradients-additive-half:.2f` and
#   {glue:text}`gradients-additive-last-fitted:.2f` $\pm$
#   {glue:text}`gradients-additive-last-half:.2f`).
# * *Multiplicative (per-vector) activation noise*: the summaries say it
#   "does not shrink with $B$", exponent $0$. Averaged iterate: recursion
#   {glue:text}`activations-mult_vector-theory:.2f`, simulation
#   {glue:text}`activations-mult_vector-fitted:.2f` $\pm$
#   {glue:text}`activations-mult_vector-half:.2f`; last iterate: recursion
#   {glue:text}`activations-mult_vector-last-theory:.2f`, simulation
#   {glue:text}`activations-mult_vector-last-fitted:.2f` $\pm$
#   {glue:text}`activations-mult_vector-last-half:.2f`. By the recursion it
#   does shrink, clearly for the last iterate and only slightly for the
#   averaged one: its $\frac1B(\lambda_i W_i + \sum_j\lambda_j W_j)$ part
#   is divided by $B$, and only the $\lambda_i W_i$ part is not.
# * *Parameter noise*: the summaries say it "does not shrink with $B$".
#   Averaged iterate: recursion {glue:text}`params-additive-theory:.2f`,
#   simulation {glue:text}`params-additive-fitted:.2f` $\pm$
#   {glue:text}`params-additive-half:.2f`, near 0 indeed; last iterate:
#   recursion {glue:text}`params-additive-last-theory:.2f`, simulation
#   {glue:text}`params-additive-last-fitted:.2f` $\pm$
#   {glue:text}`params-additive-last-half:.2f`: it shrinks, because its
#   $\operatorname{tr}(H)/B$ part dominates the stationary variance at small
#   $B$; only the averaged iterate, which averages the shrinking part away,
#   shows the part that no batch removes.
#
# So the summaries' two exponents hold only as directions: at this $N$ the
# recursion's exponents depend on the iterate, and they match neither the
# $-1$ of "divided by $B$" nor the $0$ of "does not shrink" except by
# coincidence. The claim checks
# that ordering (each control's exponent above each additive one, averaged
# iterate) and the recursion's exponents, not the summaries' $0$ and $-1$.
#
# **Chosen in advance, and after.** The step size, the dimension, the sample
# budgets, the batch $B = 2$ of the $\varepsilon$ sweeps, the number of runs,
# the variance reductions, the grids and the comparisons were fixed from the
# recursion alone and from pilot simulations on plain integer seeds outside
# the chapter's seed tree, before the chapter's own runs. The pilots showed
# that at $B = 4$ and $N = 512$ the steps up of the per-vector multiplicative
# sweeps would be resolved with too little room at quick scale, and that at
# $\gamma = 0.1$, $N = 512$ the per-vector multiplicative activation exponent
# would lie too close to the additive one; $B = 2$ and $\gamma = 0.2$ were
# chosen for that reason. One size was changed after the chapter's first run
# (quick scale, master seed 0, which passed): the runs per setting at quick
# scale went from 128 to 96, for run time; both claims pass at either. And
# the control's additive rise was first required for both iterates; the
# chapter's first runs resolved the last iterate's with little room (9.2
# standard errors against 7.2 at quick scale, seed 0, in that first run), so
# it is now required, like the sweeps' steps up, of the averaged iterate
# only, and both iterates are matched to the recursion.
#
# A review of the chapter then showed that the per-sweep matches could not
# tell the predicted rise from one 1.5 times as large, and that the
# antithetic pairs hide a biased quantizer. Three changes followed, all made
# before any run of the new statistics: the pooled ratio with its 30%
# tolerance (set from the design's standard errors, as above); the plain
# runs' matches; and the matches at the two smaller $\varepsilon$ dropped
# from the family (they repeat the match at the largest, see above), which
# lowers the Bonferroni threshold. The runs at quick scale went back to 128,
# so that the pooled ratio's interval leaves room inside the tolerance (about
# four standard errors at 96 runs, six at 128, from the same design
# estimate).
#
# ## Summary
#
# * Parameter, activation and output-gradient quantization inject noise of
#   order $\varepsilon\gamma^2$ into every SGD step; the recursion gives it
#   exactly for every target and kind (the table above), and the expected
#   risk of both iterates can only rise with $\varepsilon$.
# * Simulation confirms the rise for all nine (target, kind) pairs at the
#   paper's $\varepsilon$: strictly at every step of the grid, and by the
#   amount the recursion predicts, to within {glue:text}`tolerance` pooled
#   over the nine (one sweep alone tells it only to about
#   $\pm$ {glue:text}`sweep-resolution`). Where the residual vanishes,
#   multiplicative gradient quantization adds nothing at all, while additive
#   quantization still adds its predicted noise.
# * At a fixed sample budget and constant step, the additive activation and
#   gradient terms shrink with the batch size, with the recursion's exponent
#   (near $-1$ for the last iterate, shallower for the averaged one), while
#   parameter and per-vector multiplicative activation terms shrink more
#   slowly or not at all: the summaries' "divided by $B$" and "does not shrink
#   with $B$" are directions, not exponents. Per-coordinate multiplicative
#   noise behaves like additive noise. The summaries' "parameter noise enters
#   with $\operatorname{tr}(H)$" is the part that does shrink with $B$; the
#   part that does not is $\lambda_i$ per coordinate.
#
# ## Exercises
#
# ```{exercise-start}
# :label: ex-lr-noise-params-activations
# ```
#
# Show that quantizing the parameters with a per-vector multiplicative
# quantizer and quantizing the activations with a per-vector multiplicative
# quantizer give the same SGD process, for every batch size. Is the same true
# for the per-coordinate kinds?
#
# ```{exercise-end}
# ```
#
# ```{solution-start} ex-lr-noise-params-activations
# :class: dropdown
# ```
#
# With one scalar $z$ per vector, $X Q_p(w) = X(1 + \sqrt\varepsilon z) w =
# (1 + \sqrt\varepsilon z) X w = Q_a(Xw)$: the same update, draw for draw, so
# the same law (the injected noise in the table is the same). Per coordinate
# it is not: $X \operatorname{diag}(1 + \sqrt\varepsilon z) w$ scales the
# coordinates of $w$ before they are mixed, and the same scaled $w$ serves
# the whole batch, so its noise has the non-shrinking $(1 + 1/B)\lambda_i W_i$
# part; $Q_a$ per coordinate scales each batch entry independently, and its
# noise is divided by $B$.
#
# ```{solution-end}
# ```
#
# ```{exercise-start}
# :label: ex-lr-noise-step
# ```
#
# The step size was kept constant across $B$. Suppose instead that
# $\gamma$ grows in proportion to $B$ (the "linear scaling rule", within the
# stability limit). What happens to the additive term of the last iterate?
#
# ```{exercise-end}
# ```
#
# ```{solution-start} ex-lr-noise-step
# :class: dropdown
# ```
#
# The stationary variance per converged coordinate is about
# $\gamma\varepsilon/(2B)$, so with $\gamma \propto B$ it no longer depends on
# $B$: the additive term stops shrinking. Its $1/B$ comes from averaging the
# noise over the batch, and the linear scaling rule spends exactly that gain
# on a larger step. The recursion agrees: with $\gamma = 0.05B$, $d = 100$,
# $N = 1024$ and additive activation noise of $\varepsilon = 0.01$
# (`noise.scaled_step_terms`), the last iterate's term is
# {glue:text}`linear-last` at $B = 1, 2, 4, 8$, and the averaged iterate's is
# {glue:text}`linear-average`: with $\gamma/B$ fixed, every sample moves $w$
# by the same step whatever the batch.
#
# ```{solution-end}
# ```
#
# ```{exercise-start}
# :label: ex-lr-noise-control
# ```
#
# In the control, SGD starts at $w^*$ with noiseless labels. Which of the
# nine (target, kind) pairs would leave the risk at zero there, and why?
#
# ```{exercise-end}
# ```
#
# ```{solution-start} ex-lr-noise-control
# :class: dropdown
# ```
#
# Only the two multiplicative output-gradient quantizers: they scale the
# residual, which is zero at $w^*$ without label noise. Multiplicative
# parameter and activation quantizers scale $w$ and $Xw$, which are not zero
# ($W_i = w^{*2}_i$ in the table), so they push SGD away from $w^*$, and
# every additive quantizer adds noise of fixed size.
#
# ```{solution-end}
# ```
#
# ## Claims of this chapter

# %%
claims.finish()
