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
# (cg-iterates)=
# # Theorem 3.1's hypothesis: bounded iterates
#
# ## Overview
#
# Theorem 3.1 ({prf:ref}`thm-cg-main`) is conditional: *if* the iterates stay
# bounded, $|W^t| \le R$ for all $t$, the coarse gradient vanishes and the
# classifier becomes perfect. The previous chapter checked the steps of the
# proof; this one checks the hypothesis itself, as a claim that can fail, for
# the two second layers of that chapter. Both satisfy Assumption 1:
#
# * the **equal** layer, $v_{i,j} = 1/2$ on class $i$'s four units (the
#   paper's section 8.1);
# * the **graded** layer, $v_{i,j} = 0.3, 0.5, 0.7, 0.9$ on class $i$'s units.
#
# This chapter
#
# 1. runs coarse-gradient descent on the **population** itself, with the
#    coarse gradient computed by quadrature over each class's annulus, and on
#    samples of 1,000 inputs per class;
# 2. measures whether $|W^t|$ levels off (the threshold and why it was
#    changed are stated below);
# 3. checks the theorem's conclusion on the runs whose iterates are bounded;
# 4. asks whether the graded layer's behaviour is a finite-sample effect or a
#    property of the population dynamics, with samples of growing size and the
#    population limit.
#
# **Descent plane by plane.** By Lemmas 4.1 and 4.3 the descent splits into
# one problem per class: class $i$'s loss depends on $W$ only through
# $U_i = Q_i^\top W$, the columns projected on its plane, and a step changes
# only $U_i$, by $-\frac{\eta}{n}$ times the class's mean coarse gradient.
# `quantheory.cg.iterates` runs these 2-D problems in compiled loops (a test
# checks it against the full-dimensional NumPy descent of
# `quantheory.cg.network`).
#
# **The population by quadrature.** Class $i$ is uniform on the annulus
# $1 < |x| < 2$ of its plane. At a fixed radius the coarse gradient's
# integrand is smooth in the angle except where a pre-activation
# $h_j = \langle w_j, x\rangle$ crosses 0 or one of the quantizer's jumps; the
# rule of `quantheory.cg.quadrature` splits the circle there and puts
# Gauss-Legendre nodes on each piece, and splits the radius where those
# crossings appear. The previous chapter validates the rule against a large
# Monte Carlo sample.

# %%
import numpy as np

from quantheory.cg import graded as gl
from quantheory.cg import iterates as it
from quantheory.cg import iterates_claims as checks
from quantheory.cg import network as nw
from quantheory.cg import quadrature as qd
from quantheory.cg.figures import plot_iterates
from quantheory.cg.population import annulus_population, random_weights
from quantheory.cg.surrogates import ADMISSIBLE
from quantheory.claims import ChapterClaims
from quantheory.display import glue, show_figure
from quantheory.scale import by_scale, current_scale
from quantheory.seeding import chapter_seed, describe, spawn

# the chapter's seed: the master seed QUANTHEORY_SEED with this chapter's salt
SEED = chapter_seed(20210302)
seeds = spawn(SEED, ["population", "starts", "sample", "study", "fresh"])
claims = ChapterClaims()
print(f"scale: {current_scale()}, seed: {describe(SEED)}")

# %%
N_CLASSES, DIM, INNER, OUTER = 3, 7, 1.0, 2.0
BITS = 2  # q_b = 3
ETA = 4.0
RUNS = by_scale(quick=2, full=4)
INIT_SCALE = 0.3  # W0 entries ~ N(0, 0.3^2)
STEPS = by_scale(quick=3_000, full=12_000)
PER_CLASS = 1_000  # the training sample of the previous chapter
# horizon of the sample-size study
STUDY_STEPS = by_scale(quick=300, full=1_000)
STUDY_SIZES = by_scale(  # (inputs per class, runs)
    quick=((1_000, 2), (10_000, 2)),
    full=((1_000, 4), (10_000, 4), (100_000, 2)),
)
FRESH_PER_CLASS = by_scale(quick=5_000, full=20_000)

population = annulus_population(
    N_CLASSES, DIM, INNER, OUTER, seeds["population"]
)
layers = {
    "equal": nw.block_second_layer(N_CLASSES, 4, 0.5),
    "graded": nw.check_second_layer(
        np.kron(np.eye(N_CLASSES), [[0.3, 0.5, 0.7, 0.9]])
    ),
}
w0 = random_weights((RUNS, DIM, 12), np.full(RUNS, INIT_SCALE), seeds["starts"])
fresh = population.sample(FRESH_PER_CLASS, seeds["fresh"])

# %% [markdown]
# ## Descent on the population and on a sample
#
# From the same starts, each layer descends on the population (ReLU
# surrogate) and on one sample of 1,000 inputs per class (every admissible
# surrogate), for up to {glue:text}`cg-it-steps` steps.

# %%
glue("cg-it-steps", f"{STEPS:,}")
on_population = {
    layer: qd.population_descent(population, w0, v, BITS, "relu", ETA, STEPS)
    for layer, v in layers.items()
}
z = it.plane_coordinates(
    population, *population.sample(PER_CLASS, seeds["sample"])
)
on_sample = {
    (layer, name): it.plane_descent(
        population, w0, z, v, BITS, name, ETA, STEPS
    )
    for layer, v in layers.items()
    for name in ADMISSIBLE
}

# %% [markdown]
# ## The hypothesis: does $|W^t|$ level off?
#
# A run *levels off* when $|W|$ grows over the second half of the run by less
# than 2% of its growth over the first half. Growth like $t$ gives a ratio of
# 1, like $\sqrt t$ 0.41, like $\log t$ about 0.08 over these horizons: all
# three are unbounded and count as growing. A run that stops at zero loss gives
# 0. The claim passes if every run of the equal
# layer levels off; for the graded layer it reports what it measures.
#
# The threshold was *not* fixed before any data were seen. It was first
# 0.25, until a graded-layer population run under master seed 2 grew like
# $\log t$ (ratio 0.12) with its loss still positive and was counted as
# bounded; 0.02 is the value chosen then, so that logarithmic growth counts
# as growing. A rule that does not depend on the data (a slope of $|W^t|$
# against $\log t$) is left for a later revision.

# %%
all_runs = {
    (layer, "population"): run.iterates for layer, run in on_population.items()
}
all_runs |= {
    (layer, f"{name}, sample"): run for (layer, name), run in on_sample.items()
}
claims.record(
    checks.bounded_iterates_claim(all_runs, "equal", describe(seeds["starts"]))
)

# %% [markdown]
# ## The conclusion, where the hypothesis holds
#
# Theorem 3.1 speaks of the population. Its conclusion is checked on the
# population runs whose iterates level off: the population loss mass
# $P(l > 0)$ at the last step must be at most $10^{-6}$ (quadrature), and no
# fresh input may be misclassified. The runs whose iterates grow are outside the
# theorem; the claim reports them beside.

# %%
claims.record(
    checks.thm31_claim(
        on_population, layers, fresh, BITS, describe(seeds["fresh"])
    )
)
graded_sample = [on_sample[("graded", name)] for name in ADMISSIBLE]
glue("cg-it-graded-zero", int(sum(r.converged.sum() for r in graded_sample)))
glue("cg-it-graded-runs", RUNS * len(ADMISSIBLE))

# %% [markdown]
# On the sample, {glue:text}`cg-it-graded-zero` of the
# {glue:text}`cg-it-graded-runs` graded runs reach zero loss. A sample run can
# also stall: if a training input lies in a gap that no unit of its own class
# covers, its loss is positive while its coarse gradient is zero, and nothing
# moves it. The population has no gaps (the edge of any uncovered region is
# inside some unit's half-plane, with positive loss), which is one reason the
# theorem is checked on the population.
#
# ## The graded layer: sample or population?
#
# The same starts descend with the graded layer on samples of growing size
# and on the population, over a common horizon of {glue:text}`cg-it-horizon`
# steps (the largest sample uses fewer runs to keep the chapter's run time
# short).

# %%
glue("cg-it-horizon", f"{STUDY_STEPS:,}")
study = gl.sample_size_study(
    population,
    w0,
    layers["graded"],
    BITS,
    ETA,
    STUDY_SIZES,
    STUDY_STEPS,
    seeds["study"],
)
errors = gl.fresh_errors(study, fresh, layers["graded"], BITS)
claims.record(
    checks.graded_study_claim(
        study, errors, fresh[1].size, describe(seeds["study"])
    )
)

# %%
show_figure(
    plot_iterates({k: r.iterates for k, r in on_population.items()}, study),
    "fig-cg-iterates",
)

# %% [markdown]
# ```{glue:figure} fig-cg-iterates
# :name: fig-cg-iterates
#
# Left: $|W^t|$ along population descent. The equal layer's runs (blue)
# level off within a few hundred steps; the graded layer's runs (red) keep
# growing, most of them about linearly. Right: the graded layer's median
# $|W^t|$ on samples of growing size and on the population: the curves lie on
# top of each other, so the growth is not a finite-sample effect.
# ```
#
# ## Summary
#
# * With the equal second layer, $|W^t|$ levels off on the population and on
#   the sample, Theorem 3.1's hypothesis holds, and its conclusion is met: zero
#   population loss (to quadrature precision) and no fresh errors.
# * With the graded second layer, which satisfies the same Assumption 1, and
#   the ReLU surrogate, the iterates grow without levelling off, on the
#   population and on the sample, and the classifier keeps misclassifying fresh
#   inputs. The theorem does not apply: its hypothesis fails. With the reverse
#   exponential and log-tailed surrogates, whose $g'$ decays for large
#   pre-activations, the graded sample runs grow far more slowly, but still
#   grow, and none reaches zero loss (the claim above lists them).
# * The growth is the same on samples of $10^3$ to $10^5$ inputs per class and
#   on the population: it is a property of the population dynamics.
#
# ## Exercises
#
# ```{exercise-start}
# :label: ex-cg-graded-why
# ```
#
# Why can the graded layer not reach zero loss near the edge of a unit's
# half-plane? Consider an input covered only by the unit with $v = 0.3$.
#
# ```{exercise-end}
# ```
#
# ```{solution-start} ex-cg-graded-why
# :class: dropdown
# ```
#
# Its output is $0.3\,\sigma(h) \le 0.3\, q_b = 0.9 < 1$, so its hinge loss is
# positive whatever the weights. Zero loss needs every input to be covered by
# units whose values sum to a margin of 1; the coarse gradient pushes the units
# that do cover such inputs outwards at every step, and their norms grow.
#
# ```{solution-end}
# ```
#
# ## Claims of this chapter

# %%
claims.finish()
