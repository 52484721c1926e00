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
# (ste-population)=
# # The straight-through estimator: setting and population facts
#
# ## Overview
#
# Part I of the book follows {cite:t}`jeong2025beyond`, who analyse
# quantization-aware training of a two-layer network whose weights *and*
# activations are binary. Training uses the **straight-through estimator**
# (STE): the derivative of each $\sign$ is replaced by the derivative of the
# identity. Their finite-sample theorems (the next chapters) rest on a few
# *population* facts, true when the training set is infinite. This chapter
# states those facts, derives each one in SymPy, measures each one by Monte
# Carlo, and checks that the STE-gradient method driven by the exact population
# gradient reaches the teacher's weights in the predicted number of steps.
#
# The seed text of the paper gives only the informal theorems, so the model
# below is **the book's reconstruction**, consistent with every fragment of it.
#
# ## The model
#
# * A teacher with binary weights $w^* \in \{-1, +1\}^n$ and a fixed, known
#   second layer $v \in \reals^m$ (by default $v = \mathbf{1}/\sqrt{m}$).
# * An input $Z \in \reals^{m \times n}$ with iid $\gauss(0, 1)$ entries; its rows
#   $z_1, \dots, z_m$ are the $m$ "patches" seen by the hidden units.
# * The network $f(Z; u) = v^\top \sign(Z u)$ for binary $u$, with $\sign(0) = +1$.
# * Labels $y = f(Z; w^*) + \xi$, with label noise $\xi \sim \gauss(0, s^2)$
#   independent of $Z$.
# * The empirical loss $L_N(u) = \frac{1}{2N}\sum_{k=1}^N (f(Z_k; u) - y_k)^2$ and
#   its population version $L(u) = \expect\, \tfrac12 (f(Z; u) - y)^2$.
# * The **STE gradient**, with the identity as surrogate for both signs:
#   $g_N(u) = \frac1N \sum_{k} (f(Z_k; u) - y_k)\, Z_k^\top v$, and its expectation
#   $\expect[g(u)]$.
# * The **STE-gradient method** on latent weights: $u^t = \sign(w^t)$,
#   $w^{t+1} = w^t - \eta\, g_N(u^t)$.
#
# ## What the cells will show
#
# 1. Two Gaussian identities behind everything else
#    ({prf:ref}`lem-sign-moment`, {prf:ref}`lem-sign-disagreement`): derived in
#    SymPy, then measured.
# 2. The population gradient and loss ({prf:ref}`thm-population`): derived in SymPy
#    *from the two identities only*, then measured in four quite different
#    settings of $n$, $m$, the shape of $v$ and the noise level.
# 3. The population dynamics ({prf:ref}`prop-population-dynamics`): an exact check
#    over thousands of random starts that the method reaches $w^*$ within the
#    stated number of steps, that the bound is tight, and that $w^*$ is then kept.
#
# Every statistical tolerance below is a multiple of the standard error set by
# the book's error budget: a correct theorem fails any build of the whole book
# with probability below $10^{-6}$.

# %%
import numpy as np

from quantheory.claims import ChapterClaims
from quantheory.display import glue, show, show_figure
from quantheory.scale import by_scale, current_scale
from quantheory.seeding import chapter_seed, describe, spawn
from quantheory.ste import population as pop
from quantheory.ste import population_claims as checks
from quantheory.ste import symbolic as sym
from quantheory.ste.figures import (
    plot_hitting_times,
    plot_population_checks,
    plot_sign_disagreement,
)

# the chapter's seed: the master seed QUANTHEORY_SEED with this chapter's salt
SEED = chapter_seed(20250523)
seeds = spawn(SEED, ["sign_moment", "disagreement", "population", "dynamics"])
claims = ChapterClaims("ste_population")
print(f"scale: {current_scale()}, seed: {describe(SEED)}")

# %% [markdown]
# The sizes of every experiment follow the scale switch
# (`QUANTHEORY_SCALE=quick|full`; the book is built at `full`).

# %%
SIGN_MOMENT_DIMS = (1, 3, 10, 50)
SIGN_MOMENT_DRAWS = by_scale(quick=40_000, full=1_000_000)
DISAGREEMENT_DIM = 10
DISAGREEMENT_ANGLES = np.linspace(0, np.pi, 13)
DISAGREEMENT_DRAWS = by_scale(quick=40_000, full=1_000_000)
POPULATION_SAMPLES = by_scale(quick=20_000, full=200_000)
POPULATION_CONFIGS = pop.DEFAULT_POPULATION_CONFIGS  # 4 settings of n, m, v, s
DYNAMICS_STARTS = by_scale(quick=200, full=2_000)
DYNAMICS_SETTINGS = (
    pop.DynamicsSetting(n=8, step_size=0.05, spread=0.1),
    pop.DynamicsSetting(n=25, step_size=0.5, spread=1.0),
    pop.DynamicsSetting(n=64, step_size=0.2, spread=3.0),
)
DYNAMICS_WIDTH = 128  # m, with v = 1/sqrt(m)

# %% [markdown]
# ## Two Gaussian identities
#
# ```{prf:lemma} Gaussian sign moment
# :label: lem-sign-moment
#
# Let $z \sim \gauss(0, I_n)$ and $u \in \reals^n \setminus \{0\}$. Then
#
# $$\expect\big[\sign(\langle z, u\rangle)\, z\big] = \sqrt{\tfrac{2}{\pi}}\, \frac{u}{\|u\|}.$$
# ```
#
# By rotation invariance only the plane spanned by $u$ and one coordinate axis
# matters, so SymPy computes the two-dimensional integral exactly in polar
# coordinates, with $u = (\cos a, \sin a)$: the radial part is
# $\frac{1}{2\pi}\int_0^\infty r^2 e^{-r^2/2}\,dr$ and the angular part is split
# where $\cos(\varphi - a)$ changes sign. The result is the vector
# $\expect[\sign(\langle z,u\rangle) z]$ as a function of $a$:

# %%
derived_constant, derived_vector = sym.derive_gauss_sign_moment()
show(sym.Formula(derived_vector))

# %% [markdown]
# Its component along $u$ is the constant of the lemma, and SymPy checks that it
# equals the stated $\sqrt{2/\pi}$ exactly. For the Monte Carlo check we draw a
# random direction $u$ in each of the dimensions $n = 1, 3, 10, 50$ and compare
# every coordinate of the sample mean of $\sign(\langle z,u\rangle) z$ with the
# prediction.

# %%
sign_moment_samples = pop.sign_moment_experiment(
    SIGN_MOMENT_DIMS, SIGN_MOMENT_DRAWS, seeds["sign_moment"]
)
claims.record(checks.gauss_sign_moment_claim(sign_moment_samples))
glue("sign-moment-estimate", float(sign_moment_samples[-1].constant.mean))
glue(
    "sign-moment-resolution",
    100 * checks.sign_moment_resolution(sign_moment_samples),
)

# %% [markdown]
# The estimated coefficient at $n = 50$ is {glue:text}`sign-moment-estimate:.4f`,
# against $\sqrt{2/\pi} \approx 0.7979$. The check has a finite resolution: a
# coefficient wrong by less than {glue:text}`sign-moment-resolution:.2f`% (relative)
# would still pass at this scale (about 0.5% at the book's full scale), while
# $1/\sqrt{\pi}$ or $2/\pi$ in place of $\sqrt{2/\pi}$ are off by 20 to 30%. The
# tests also replace the Gaussian draws by Student $t$ draws of the same
# variance and see the claim fail.
#
# ```{prf:lemma} Sign disagreement
# :label: lem-sign-disagreement
#
# Let $z \sim \gauss(0, I_n)$ and $u, w \in \reals^n \setminus\{0\}$ with angle
# $\theta = \angle(u, w) \in [0, \pi]$. Then
#
# $$P\big(\sign\langle z, u\rangle \neq \sign\langle z, w\rangle\big) = \frac{\theta}{\pi}.$$
# ```
#
# The symbolic route goes through the bivariate normal pair
# $(X, Y) = (\langle z,u\rangle/\|u\|, \langle z,w\rangle/\|w\|)$ with correlation
# $\rho = \cos\theta$. At $\rho = 0$ the positive orthant has probability $1/4$
# (SymPy integrates the product density), and by Plackett's identity
# {cite:p}`plackett1954reduction` its derivative in $\rho$ is the joint density
# at the origin, $1/(2\pi\sqrt{1-\rho^2})$. Integrating in $\rho$ and using
# $\arcsin\rho = \pi/2 - \arccos\rho$, $\arccos\rho = \theta$:

# %%
show(sym.Formula(sym.derive_sign_disagreement()))

# %% [markdown]
# The Monte Carlo check draws pairs $(u, w)$ in $\reals^{10}$ at 13 exact
# angles from $0$ to $\pi$, counts disagreements, and asks that the stated
# probability lie inside the Wilson interval at every angle strictly between
# $0$ and $\pi$. At $\theta = 0$ and $\pi$ the vector $w$ is a positive or
# negative multiple of $u$, so the rates are exactly 0 and 1 whatever the
# formula says in between; the claim reports them but does not count them
# among its comparisons. The tests also build the pairs from two directions
# that are not orthogonal (so the real angle is not $\theta$) and see the
# claim fail.

# %%
disagreement_sample = pop.sample_sign_disagreement(
    DISAGREEMENT_ANGLES,
    DISAGREEMENT_DIM,
    DISAGREEMENT_DRAWS,
    seeds["disagreement"],
)
claims.record(checks.sign_disagreement_claim(disagreement_sample))
fig = plot_sign_disagreement(disagreement_sample)
show_figure(fig, "fig-sign-disagreement")

# %% [markdown]
# ```{glue:figure} fig-sign-disagreement
# :name: fig-sign-disagreement
#
# Left: probability that a random Gaussian hyperplane separates $u$ and $w$,
# against their angle; the points lie on the line $\theta/\pi$. Right: the
# same points minus the theory, magnified. The error bars (95% Wilson
# intervals) straddle zero at every angle, and the grey band, which is what
# the claim tolerates under the book's error budget, is much narrower than any
# mistake in the formula would be ($\theta/(2\pi)$ would sit 0.25 below zero at
# $\theta = \pi/2$).
# ```
#
# ## Population gradient and loss
#
# ```{prf:theorem} Population STE gradient and loss
# :label: thm-population
#
# In the model above, for every binary $u \in \{-1,+1\}^n$, with
# $\theta = \angle(u, w^*)$,
#
# $$\expect[g(u)] = \sqrt{\tfrac{2}{\pi}}\;\frac{\|v\|^2}{\sqrt n}\,(u - w^*),
# \qquad
# L(u) = \frac{2\|v\|^2}{\pi}\,\theta + \frac{s^2}{2}.$$
#
# The gradient does not depend on the noise level; the loss grows linearly in the
# angle, so it is minimised exactly at $u = w^*$.
# ```
#
# SymPy derives both formulas from the two lemmas alone. It expands
# $(f(Z;u) - y)\, Z^\top v$ and $(f(Z;u) - y)^2/2$ as polynomials in the random
# quantities $S_i = \sign\langle z_i, u\rangle$, $T_i = \sign\langle z_i, w^*\rangle$,
# $G_i = z_{i,c}$ (coordinate $c$ of row $i$) and $\xi$; it takes expectations
# term by term using independence across rows, the symmetry $z \to -z$ (odd
# moments vanish), $S_i^2 = T_i^2 = 1$, $\expect[S_i G_i] = \sqrt{2/\pi}\, u_c/\sqrt n$
# from {prf:ref}`lem-sign-moment` (since $\|u\| = \sqrt n$), and
# $\expect[S_i T_i] = 1 - 2\theta/\pi$ from {prf:ref}`lem-sign-disagreement`. For
# $m = 3$ hidden units, for instance, the derived gradient coordinate and loss are

# %%
show(sym.Formula(sym.derive_population_gradient(3)))
show(sym.Formula(sym.derive_population_loss(3)))

# %% [markdown]
# The derivation rewrites $v_1^2 + \dots + v_m^2$ as $\|v\|^2$ and fails loudly
# if the result depends on $v$ in any other way.
# The claims check the derivation for $m = 1, 2, 3$ and then measure both
# quantities by Monte Carlo in four settings, which vary $n$, $m$, the shape of
# $v$ (uniform, geometric, alternating signs, linear), its norm ($\|v\|$ = 1,
# 1.5, 0.7, 1), the noise level and how far $u$ is from $w^*$. Gradient and loss are estimated from the same draws.

# %%
population_samples = pop.population_experiment(
    POPULATION_CONFIGS, POPULATION_SAMPLES, seeds["population"]
)
claims.record(checks.population_gradient_claim(population_samples))
claims.record(checks.population_loss_claim(population_samples))
show_figure(plot_population_checks(population_samples), "fig-population")

# %% [markdown]
# ```{glue:figure} fig-population
# :name: fig-population
#
# Monte Carlo estimates against the theorem in the four settings. Left: every
# coordinate of $\expect[g(u)]$; coordinates where $u$ agrees with $w^*$ sit at 0,
# the others at $\pm 2\sqrt{2/\pi}\,\|v\|^2/\sqrt n$. Right: the population loss.
# All points lie on the diagonal within their 95% intervals, whatever the shape
# of $v$ or the noise level.
# ```
#
# ## Population dynamics
#
# With the population gradient, the method moves each wrong coordinate of $w$
# towards the sign of $w^*$ by $2\eta\sqrt{2/\pi}\,\|v\|^2/\sqrt n$ per step and
# leaves correct coordinates alone. Counting steps gives:
#
# ```{prf:proposition} Population dynamics
# :label: prop-population-dynamics
#
# Run $w^{t+1} = w^t - \eta\,\expect[g(\sign(w^t))]$ from any $w^0$. Then
# $\sign(w^t) = w^*$ for all
#
# $$t \;\ge\; \left\lceil \frac{\max_j |w^0_j|\, \sqrt n}{2\eta\sqrt{2/\pi}\,\|v\|^2} \right\rceil + 1,$$
#
# and the bound is attained up to one step when the largest coordinate of $w^0$
# has the wrong sign.
# ```
#
# The check is exact: no sampling is involved beyond the random starts. For
# each setting we iterate from many starts at once until every start has
# reached $w^*$, then 20 more steps to see that it stays. It iterates the
# stated gradient formula of {prf:ref}`thm-population`, not a measured
# gradient, so it is a corollary: it catches a wrong step bound (the tests
# change its constant, its power of $n$ and its offset), not a wrong
# gradient. The gradient formula itself is guarded by the Monte Carlo check
# of `ste.population_gradient` above.

# %%
dynamics_runs = pop.dynamics_experiment(
    DYNAMICS_SETTINGS,
    DYNAMICS_STARTS,
    DYNAMICS_WIDTH,
    seeds["dynamics"],
)
claims.record(checks.population_dynamics_claim(dynamics_runs))
show_figure(plot_hitting_times(dynamics_runs), "fig-hitting-times")

# %% [markdown]
# ```{glue:figure} fig-hitting-times
# :name: fig-hitting-times
#
# Steps until $\sign(w^t) = w^*$, as a fraction of the bound of
# {prf:ref}`prop-population-dynamics`, one point per start ($m = 128$,
# $v = \mathbf 1/\sqrt m$). No point lies above 1: the bound holds. Filled
# points, the starts whose largest coordinate has the wrong sign, crowd just
# under 1: the bound is tight to one step. Hollow points, whose largest
# coordinate was already right, finish earlier.
# ```
#
# ## Summary
#
# * The two Gaussian identities, $\expect[\sign\langle z,u\rangle z] = \sqrt{2/\pi}\,u/\|u\|$
#   and $P(\text{disagree}) = \theta/\pi$, are derived exactly and confirmed by
#   Monte Carlo in several dimensions.
# * From them alone, SymPy derives the population STE gradient and loss; the
#   gradient points from $w^*$ to $u$ and is blind to label noise, the loss is
#   linear in the angle. Monte Carlo agrees in every setting tried.
# * Driven by the population gradient, the STE-gradient method reaches $w^*$
#   in at most $\lceil \max_j|w^0_j|\sqrt n / (2\eta\sqrt{2/\pi}\|v\|^2)\rceil + 1$
#   steps and stays; the bound is tight. The next chapters ask how many samples
#   $N$ make the *empirical* gradient behave like this.
#
# ## Exercises
#
# ```{exercise-start}
# :label: ex-population-noise
# ```
#
# The population gradient does not depend on the noise level $s$, but its
# Monte Carlo estimate does. Rerun the chapter with a much larger noise level,
# for instance with
# `POPULATION_CONFIGS = (pop.PopulationConfig(8, 16, "uniform", 5.0, 2),)`.
# What happens to the standard errors, and does the claim still pass?
#
# ```{exercise-end}
# ```
#
# ```{solution-start} ex-population-noise
# :class: dropdown
# ```
#
# The per-sample gradient is $(f - y) Z^\top v$ and $f - y$ now contains a
# $\gauss(0, 25)$ term, so its variance grows by about $s^2\|v\|^2$ and the
# standard errors by a factor of about five. The mean is unchanged (the noise is
# independent of $Z$ and centred), so the claim still passes; it just has less
# power against a wrong constant at the same sample size.
#
# ```{solution-end}
# ```
#
# ```{exercise-start}
# :label: ex-population-tie
# ```
#
# The book uses $\sign(0) = +1$. Find a start $w^0$ for which the population
# method needs exactly $\lceil \max_j|w^0_j|/(2\eta c)\rceil + 1$ steps,
# with $c = \sqrt{2/\pi}\,\|v\|^2/\sqrt n$, that is, where the "+1" of the bound
# is needed.
#
# ```{exercise-end}
# ```
#
# ```{solution-start} ex-population-tie
# :class: dropdown
# ```
#
# Take $n = 1$, $w^* = -1$ and $w^0 = 2\eta c$. After one step $w^1 = 0$, and
# $\sign(0) = +1 \neq w^*$, so a second step is needed: the method takes
# $2 = \lceil 1 \rceil + 1$ steps. Whenever a coordinate that must become
# negative lands exactly on $0$, the tie costs one extra step.
#
# ```{solution-end}
# ```
#
# ## Claims of this chapter

# %%
claims.finish()
