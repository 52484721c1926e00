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
# (cg-lemmas)=
# # Theorem 3.1: the proof, lemma by lemma
#
# ## Overview
#
# {cite:t}`long2021learning` prove that the coarse gradient method trains the
# quantized-ReLU classifier to **perfect classification**, for any surrogate
# of Assumption 2 ({prf:ref}`def-cg-assumption2`). The proof has three steps:
# the loss splits over the classes' subspaces (Lemmas 4.1 and 4.3); the
# weights that matter grow in norm at every step by at least a multiple of the
# squared coarse gradient (Lemmas 5.1, 5.3, 5.5), so bounded weights force
# summable gradients (Proposition 1); and a vanishing coarse gradient means
# zero loss. This chapter builds the network, then checks each step on a
# population where the hypotheses hold:
#
# 1. the decomposition, to floating-point precision;
# 2. the two inequalities of Lemmas 5.1 and 5.3 at many random weights, with
#    their smallest margins;
# 3. monotone growth, the increment bound and the summability bound along
#    descent trajectories;
# 4. the theorem itself is conditional on bounded iterates; the next chapter
#    measures that hypothesis and checks the conclusion where it holds.
#
# ```{prf:theorem} Convergence of the coarse gradient method (Long, Yin and Xin, Theorem 3.1)
# :label: thm-cg-main
#
# Let the data of class $i \in [n]$ lie in subspaces $V_i$ that are mutually
# orthogonal, with $m < |x| < M$ and a density on $V_i$ bounded by
# $p_{\max}$. Let the second layer $V$ satisfy Assumption 1 (every class has a
# unit with $v_{i,j} > 0$, such a unit is zero for every other class, and
# $v_{i,j} < 1$), and let $g$ satisfy Assumption 2. Run
# $W^{t+1} = W^t - \eta\, \tilde\nabla l(W^t)$ from $W^0$ with every
# $w^0_{j,i} \neq 0$. If $|W^t| \le R$ for all $t$, then
# $|\tilde\nabla_{w_j} l_i(W^t)| \to 0$ whenever $v_{i,j} > 0$, and at an
# accumulation point with distinct directions $\tilde w_{j,i}$ the
# classification error is zero.
# ```
#
# **The network.** For input $x \in \reals^d$ the hidden pre-activations are
# $h_j = \langle w_j, x\rangle$, the outputs $o_i = \sum_j v_{i,j}\sigma(h_j)$,
# and the hinge loss is $l = \max\{0, 1 - (o_y - \max_{i\ne y} o_i)\}$. With
# $\xi$ the strongest rival class, the **coarse gradient** (7) of one sample is
#
# $$
# \tilde\nabla_{w_j} l(W; \{x, y\}) = -(v_{y,j} - v_{\xi,j})\,
#   \mathbb 1\{l > 0\}\, g'(h_j)\, x ,
# $$
#
# the true gradient with $\sigma'$ replaced by $g'$. The package computes it
# for a stack of runs at once (`quantheory.cg.network`).
#
# **The population.** Three classes, each uniform on the annulus
# $1 < |x| < 2$ in its own plane of $\reals^7$; the planes are spanned by the
# columns of a random orthogonal matrix, and the seventh direction is
# $V_{n+1}$, which no input touches. The density is continuous and bounded, and
# the previous chapter derived $C_p = 2/(\pi\sqrt{M^2 - m^2})$.

# %%
import numpy as np

from quantheory.cg import lemma_claims as checks
from quantheory.cg import lemmas as lm
from quantheory.cg import network as nw
from quantheory.cg.annulus import half_annulus_ratio, inner, outer
from quantheory.cg.figures import plot_growth, plot_lemma53
from quantheory.cg.population import annulus_population
from quantheory.cg.quadrature import RuleSize
from quantheory.cg.surrogates import (
    LEMMA_SURROGATES,
    SCALED_RELU,
    surrogate_functions,
)
from quantheory.claims import ChapterClaims
from quantheory.display import show, show_figure
from quantheory.scale import by_scale, current_scale
from quantheory.seeding import chapter_seed, describe, spawn
from quantheory.ste.symbolic import Formula

# the chapter's seed: the master seed QUANTHEORY_SEED with this chapter's salt
SEED = chapter_seed(20210301)
seeds = spawn(
    SEED,
    ["population", "random_weights", "descent", "fresh", "population_descent"],
)
claims = ChapterClaims("cg_lemmas")
print(f"scale: {current_scale()}, seed: {describe(SEED)}")

# %%
N_CLASSES, DIM, INNER, OUTER = 3, 7, 1.0, 2.0
BITS = 2  # q_b = 3
ETA = 4.0  # step size of (8); the theorem allows any eta > 0
RANDOM_WEIGHTS = by_scale(quick=40, full=120)
SAMPLES_PER_CLASS = by_scale(quick=2_000, full=5_000)  # for the random-W checks
WEIGHT_SCALES = (0.05, 2.0)  # log-uniform scale of the random W
POPULATION_WEIGHTS = by_scale(quick=20, full=40)  # of those, on the population
REFINED = 5  # of those, recomputed with a finer rule
RUNS = by_scale(quick=4, full=6)  # descent runs per surrogate, equal layer
GRADED_RUNS = by_scale(
    quick=2, full=3
)  # sample runs of the graded layer (ReLU)
TRAINING_PER_CLASS = 1_000  # the sample of the descent runs
INIT_SCALE = 0.3  # W0 entries ~ N(0, 0.3^2)
MAX_STEPS = 3_000
POPULATION_RUNS = by_scale(quick=2, full=3)  # population runs per surrogate
POPULATION_STEPS = by_scale(quick=300, full=600)
FINE_RULE = RuleSize(radial=16, angular=6, grid=64)  # to bound the rule's error

population = annulus_population(
    N_CLASSES, DIM, INNER, OUTER, seeds["population"]
)
print(f"C_p = {population.cp:.4f}")

# %% [markdown]
# Two second layers, both checked against Assumption 1 when they are built. The
# random-weight checks use unequal values, so that $\hat v_j$ and
# $\tilde v_{i,j}$ differ from unit to unit; the descent runs use the paper's
# own choice of equal values $1/2$ (section 8.1), four units per class.

# %%
graded = nw.check_second_layer(
    np.kron(np.eye(N_CLASSES), [[0.3, 0.5, 0.7, 0.9]])
)
halves = nw.block_second_layer(N_CLASSES, 4, 0.5)
print(graded)

# %% [markdown]
# A second layer that breaks the assumption is refused with the reason:

# %%
try:
    nw.check_second_layer(np.array([[0.5, 0.5, 0.0], [0.0, 0.5, 0.5]]))
except ValueError as error:
    print(error)

# %% [markdown]
# ## Step 1: the loss splits over the subspaces
#
# ```{prf:lemma} Lemmas 4.1 and 4.3
# :label: lem-cg-decomposition
#
# Write $W_i$ for the columns of $W$ projected on $V_i$. Then
# $l_i(W) = l_i(W_i)$, and a coarse-gradient step on $l_i$ changes only $W_i$:
# $W - \eta\tilde\nabla l_i(W)$ has the same $W_r$ for every $r \neq i$.
# ```
#
# Both hold sample by sample, so the check is exact: the loss of every sample
# with $W$ and with $W_i$, and the projections on every other subspace
# (including $V_{n+1}$) before and after a step, at random $W$.

# %%
setting = checks.Setting(population, graded, BITS, ETA)
study = lm.random_weight_study(
    population,
    graded,
    BITS,
    RANDOM_WEIGHTS,
    SAMPLES_PER_CLASS,
    WEIGHT_SCALES,
    seeds["random_weights"],
)
relu_derivative = surrogate_functions("relu", BITS)[1]
claims.record(
    checks.decomposition_claim(
        setting,
        study.w,
        study.x,
        study.y,
        relu_derivative,
        describe(seeds["random_weights"]),
    )
)

# %% [markdown]
# Because of this, descent on $l = \frac1n\sum_i l_i$ is $n$ independent
# descents, $W_i^{t+1} = W_i^t - \frac{\eta}{n}\tilde\nabla l_i(W^t)$ (the
# paper's (9)).
#
# ## Step 2: the two inequalities
#
# ```{prf:lemma} Lemmas 5.1 and 5.3
# :label: lem-cg-inequalities
#
# Let $\Omega_W^j$ be the inputs with positive loss and $h_j > 0$,
# $\hat v_j = \max_{i_1, i_2}(v_{i_1,j} - v_{i_2,j})$ and
# $\tilde v_{i,j} = v_{i,j} - \max_{r\neq i} v_{r,j}$. Then
#
# $$
# P_{D_i}(\Omega_W^j) \ge \frac{|\tilde\nabla_{w_j} l_i(W)|}{\hat v_j\,\tilde\delta\, M}
# \qquad\text{(5.1)}
# $$
#
# and, when $\tilde v_{i,j} > 0$,
#
# $$
# \langle \tilde w_{j,i}, -\tilde\nabla_{w_j} l_i(W)\rangle
#   \ge \frac{\tilde v_{i,j}\,\delta}{2 C_p} P_{D_i}(\Omega_W^j)^2 .
# \qquad\text{(5.3)}
# $$
# ```
#
# The lemmas are statements about the population: $P_{D_i}$ and the coarse
# gradient are expectations over class $i$'s annulus, and Lemma 5.3 needs the
# density through $C_p$ (the mass of $\Omega_W^j$ within distance $t$ of the
# line $h_j = 0$ is at most $t\,C_p$). A sample has no density. So every term
# is computed on the population, by quadrature over each class's annulus
# (`quantheory.cg.quadrature`: the rule splits the annulus wherever some
# $h_j$ crosses a jump of $\sigma$ or a kink of $g'$, so each piece is smooth),
# with the sample estimate kept beside it. Lemma 5.1 is a triangle
# inequality and holds for every distribution in the ball of radius $M$, the
# sample's and the quadrature rule's included, so it is checked exactly on
# both. Lemma 5.3 on the population must hold at every weight, and the rule's
# accuracy is checked by refining it (the ratio may move by at most 2%, a
# tolerance set after a first run on another seed moved it by 0.3%); on the
# sample it is a Monte Carlo check with a confidence bound on every gap.
#
# Besides the paper's three surrogates, all with $\tilde\delta = 1$, the checks
# use the **two-slope ramp** of the previous chapter ($\delta = 1/2$,
# $\tilde\delta = 3/2$), so that the places where $\delta$ and $\tilde\delta$
# enter the bounds are exercised, and the **scaled ReLU** $g = 2\max(x, 0)$
# ($\delta = \tilde\delta = 2$). Its coarse gradient is exactly twice ReLU's
# at the same $W$, so every ratio of the lemmas (Lemma 5.1's $P$ over its
# bound, and, with descent stepped at $\eta/2$ so that it moves $W$ exactly as
# ReLU's does, Lemma 5.5's increment over its bound and Proposition 1's sum
# over its bound) must equal ReLU's, to rounding. That is a prediction
# independent of the bounds' own slack: dropping $\tilde\delta$ from Lemma 5.1,
# $\delta$ or $\tilde\delta$ from Lemma 5.5, squaring $\tilde\delta$ only once,
# or dropping $\delta$ from Proposition 1 moves the scaled ratio by a power of
# 2. (For the two-slope ramp no such number is predicted: its $g'$ changes at
# $h = 1$ and $h = q_b$, so its ratio depends on $|w_j|$.) The random weights
# have log-uniform scales
# from 0.05 to 2, which makes $\Omega_W^j$ range from half the annulus to a thin
# sliver. $\delta, \tilde\delta$ are the SymPy bounds of the previous chapter,
# on the range of pre-activations actually seen.

# %%
on_population = {
    name: lm.population_terms(population, study.w, graded, BITS, name)
    for name in LEMMA_SURROGATES
}
refined = {
    name: lm.population_terms(
        population, study.w[:REFINED], graded, BITS, name, FINE_RULE
    )
    for name in LEMMA_SURROGATES
}
label = describe(seeds["random_weights"])
claims.record(checks.lemma51_claim(setting, study.terms, on_population, label))
claims.record(
    checks.lemma53_claim(setting, study.terms, on_population, refined, label)
)

# %%
factors = lm.lemma53_factors(study.terms, graded, BITS, population.cp)
drawn = {name: t for name, t in study.terms.items() if name != SCALED_RELU}
show_figure(plot_lemma53(drawn, factors), "fig-cg-lemma53")

# %% [markdown]
# ```{glue:figure} fig-cg-lemma53
# :name: fig-cg-lemma53
#
# Lemma 5.3 at random weights, sample estimates: each point is one (weight,
# class, unit) pair; every point lies above the line of equality. With the
# ReLU surrogate ($\delta = 1$) the closest points come within a factor 1.4 of
# the bound: the lemma's constant is nearly sharp. The population values (in
# the claim) agree. The other surrogates have a smaller $\delta$, and their
# points sit further above. (The scaled ReLU is left out: both sides of its
# inequality are twice ReLU's, so its panel would repeat ReLU's.)
# ```
#
# ## Step 3: monotone growth and summable gradients
#
# ```{prf:lemma} Lemma 5.5 and Proposition 1
# :label: lem-cg-growth
#
# If $v_{i,j} > 0$, $|w_{j,i}^t|$ is non-decreasing along (8) and
#
# $$
# |w_{j,i}^{t+1}| - |w_{j,i}^t| \ge
#   \frac{\eta\,\tilde v_{i,j}\,\delta}{2 n C_p \hat v_j^2 \tilde\delta^2 M^2}
#   |\tilde\nabla_{w_j} l_i(W^t)|^2 .
# $$
#
# Hence if $|w_j^t| \le R$ for all $t$,
# $\sum_t |\tilde\nabla_{w_j} l_i(W^t)|^2 \le
# 2 n C_p \hat v_j^2 \tilde\delta^2 M^2 R / (\eta\,\tilde v_{i,j}\,\delta)$.
# ```
#
# The seed text states Proposition 1 with the sum from $t = 1$ and $R$ a bound
# on the whole column $|w_j^t|$ (every subspace), and the constant exactly as
# above; it follows by adding Lemma 5.5's increments, which telescope to at
# most $R$. The check writes the proposition's constant on its own
# (`lemmas.prop1_constant`), not as $R$ over Lemma 5.5's factor, and sums from
# $t = 0$ (which includes the paper's sum).
#
# The runs descend on the population, with the coarse gradient by quadrature,
# for both second layers and all five surrogates (the scaled ReLU at step
# $\eta/2$), from the same
# $N(0, 0.3^2)$ starts; and on a sample of 1,000 inputs per class, the equal
# layer with every surrogate and the graded layer with the ReLU. Every step
# records $|w_{j,i}^t|$ and the class gradients. On the sample, Lemma 5.5's
# bound is not a theorem (no density): the claim requires that a step below
# the bound has at most 30 training points in $\Omega_W^j$, the finite-sample
# explanation this chapter gave before the population check existed.

# %%
runs = lm.descent_study(
    population,
    halves,
    BITS,
    ETA,
    RUNS,
    INIT_SCALE,
    TRAINING_PER_CLASS,
    MAX_STEPS,
    seeds["descent"],
)
graded_runs = lm.descent_study(
    population,
    graded,
    BITS,
    ETA,
    GRADED_RUNS,
    INIT_SCALE,
    TRAINING_PER_CLASS,
    MAX_STEPS,
    seeds["descent"],
    surrogates=("relu",),
)
layers = {"equal": halves, "graded": graded}
on_sample = {"equal": runs, "graded": graded_runs}
population_runs = lm.population_descent_study(
    population,
    layers,
    BITS,
    ETA,
    POPULATION_RUNS,
    INIT_SCALE,
    POPULATION_STEPS,
    seeds["population_descent"],
)
dynamics = checks.Setting(population, halves, BITS, ETA)
label = describe(seeds["descent"])
claims.record(
    checks.lemma55_claim(dynamics, layers, population_runs, on_sample, label)
)
claims.record(
    checks.prop1_claim(dynamics, layers, population_runs, on_sample, label)
)

# %%
bounds = lm.proposition1_bounds(population, halves, BITS, ETA, runs)
show_figure(plot_growth(runs, halves > 0, bounds), "fig-cg-growth")

# %% [markdown]
# ```{glue:figure} fig-cg-growth
# :name: fig-cg-growth
#
# Sample runs, equal layer. Left: the norms $|w_{j,i}^t|$ of the twelve units
# of one run, each in its own class's plane, never decrease and level off when
# the loss reaches zero. Right: the running sum of squared class gradients as a
# fraction of Proposition 1's bound, for the worst pair at each step. The
# curves flatten well below 1 (dashed): the bound holds with room to spare, by
# orders of magnitude for the surrogates whose $\delta$ is small.
# The scaled ReLU's curve lies exactly on ReLU's.
# ```
#
# ## How tight are the constants?
#
# A bound that is loose by a factor 10 cannot tell a missing factor 2 from the
# right constant. With the ReLU surrogate the looseness can be predicted. At a
# step where $\Omega_W^j$ is the whole half annulus $\{h_j > 0\}$ (early in
# descent, before any input of the class is classified with margin), the
# coarse gradient points straight along $\tilde w_{j,i}$ and Lemma 5.5's ratio
# of increment to bound is $\rho = 2 C_p M^2 / (P\,\bar r)$ with $P = 1/2$ and
# $\bar r$ the mean of $\langle\tilde w_{j,i}, x\rangle$ over the half annulus;
# SymPy gives

# %%
rho = half_annulus_ratio()
show(Formula(rho))
print(f"rho = {float(rho.subs({inner: INNER, outer: OUTER})):.4f}")

# %% [markdown]
# The finding predicts that the population's smallest ratio is this one (within
# 10%), for both second layers, with the ReLU and with its scaled copy, and
# that Proposition 1's bound exceeds the summed squared gradients by between
# $\rho$ and $2\rho$ for the equal layer, whose iterates stay bounded. A
# missing factor 2, $n = 3$ or $M^2 = 4$ in either bound would put its number
# below these intervals (ReLU and its scaled copy share these factors, so the
# exact comparison of the two cannot see them; this finding can). The lower ends
# follow from the proofs once the half annulus gives the smallest ratio; the
# upper ends (10% and $2\rho$) were fixed after exploratory runs on other seeds,
# which gave $5.94$ and $8.2$ to $9.3$. The graded layer's
# sample ratio below 1 is thus a finite-sample effect: on the population the
# same layer's smallest ratio is $\rho$.

# %%
claims.record(
    checks.tightness_claim(
        dynamics,
        layers,
        population_runs,
        "equal",
        describe(seeds["population_descent"]),
    )
)

# %% [markdown]
# ## Step 4: perfect classification, if the iterates stay bounded
#
# The last step of the proof needs the theorem's hypothesis, $|W^t| \le R$ for
# all $t$. The next chapter, {ref}`cg-iterates`, measures that hypothesis
# along descent, on the population by quadrature and on samples, and checks
# the conclusion on the runs where it holds.
#
# ## Summary
#
# * The hinge loss splits exactly over the class subspaces, and a step on one
#   class never touches another's weights.
# * On the population, by quadrature, Lemma 5.1 holds exactly and Lemma 5.3 at
#   every random weight; with the ReLU surrogate Lemma 5.3's constant is within
#   a factor 1.5 of sharp. The sample estimates agree.
# * Along descent on the population the relevant weight norms never decrease
#   and each increment exceeds Lemma 5.5's bound, for both second layers and
#   with $\delta, \tilde\delta \ne 1$; the summed squared gradients stay below
#   Proposition 1's bound. The scaled ReLU reproduces ReLU's ratios exactly, as
#   the placement of $\delta$ and $\tilde\delta$ in the bounds predicts.
# * With the ReLU surrogate Lemma 5.5's bound is loose by exactly the
#   half-annulus factor $\rho \approx 5.94$ and Proposition 1's by 1 to 2 times
#   that; on a sample the graded layer's increments can fall below the bound,
#   only at steps where $\Omega_W^j$ holds a few points.
#
# ## Exercises
#
# ```{exercise-start}
# :label: ex-cg-graded
# ```
#
# The claims above run the sample descent with the graded second layer
# (`graded_runs`). What is the smallest ratio in Lemma 5.5's check on the
# sample, and at how many training points in $\Omega_W^j$? Why can the
# population's ratio not fall that low?
#
# ```{exercise-end}
# ```
#
# ```{solution-start} ex-cg-graded
# :class: dropdown
# ```
#
# The sample ratio can fall far below 1, at steps where $\Omega_W^j$ holds
# only one or a few training points close to the hyperplane $h_j = 0$. The
# bound uses $C_p$, which bounds the *density's* mass near a line; a sample has
# no density, and a single point near the line breaks the estimate. On the
# population the density bound holds and the smallest ratio is $\rho$, reached
# when $\Omega_W^j$ is the whole half annulus.
#
# ```{solution-end}
# ```
#
# ## Claims of this chapter

# %%
claims.finish()
