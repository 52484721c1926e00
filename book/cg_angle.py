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
# (cg-angle)=
# # Beyond orthogonal classes: the angle experiment
#
# ## Overview
#
# {prf:ref}`thm-cg-main` needs the classes to live in **orthogonal**
# subspaces. {cite:t}`long2021learning` (section 8.1, Figure 3) test what
# happens when they are not: two planes of $\reals^4$ at an angle $\theta$,
# and the same coarse gradient method. They report that it still reaches zero
# loss, that it does so faster and with smaller weights as $\theta$ grows
# towards $\pi/2$, and that this survives Gaussian noise that pushes the points
# off their planes. This chapter repeats the experiment exactly and turns those
# three observations into one claim.
#
# ```{prf:remark} The setting of section 8.1
# :label: rem-cg-angle
#
# With $e_1, \dots, e_4$ the standard basis, $V_1$ is spanned by $e_1$ and
# $\sin\theta\, e_2 + \cos\theta\, e_3$, and $V_2$ by $e_3$ and $e_4$; the
# planes meet only at 0 and are orthogonal only at $\theta = \pi/2$. Each class
# is a grid in its plane: radii $1.0, 1.1, \dots, 2.0$ and angles
# $\varphi = j\pi/40$, $j = 1, \dots, 80$, so 880 points per class. The network
# has $k = 24$ units, $v_{i,j} = 1/2$ on the 12 units of class $i$ and 0
# elsewhere, the 4-bit quantized ReLU, the ReLU surrogate, $\eta = 1$ and
# full-batch coarse gradients; a run ends when the loss is exactly zero.
# ```
#
# The paper does not state the initialisation; we draw $W^0$ with independent
# $N(0, 0.1^2)$ entries. Its noise levels are not stated either; we use
# standard deviations 0.02 and 0.05 per coordinate, a fresh perturbation for
# every start.

# %%
import numpy as np

from quantheory.cg import angle
from quantheory.cg.angle_claims import angle_claim
from quantheory.cg.figures import plot_angle_sweep
from quantheory.claims import ChapterClaims
from quantheory.display import glue, show_figure
from quantheory.scale import by_scale, current_scale
from quantheory.seeding import chapter_seed, describe, spawn

# the chapter's seed: the master seed QUANTHEORY_SEED with this chapter's salt
SEED = chapter_seed(20210303)
seeds = spawn(SEED, ["sweep"])
claims = ChapterClaims("cg_angle")
print(f"scale: {current_scale()}, seed: {describe(SEED)}")

# %%
THETAS = np.deg2rad([30, 42, 54, 66, 78, 90])
NOISE_LEVELS = (0.0, 0.02, 0.05)
STARTS = by_scale(quick=12, full=30)  # random starts per angle and noise level
INIT_SCALE = 0.1
MAX_STEPS = 20_000

x, y = angle.grid_dataset(THETAS[0])
print(f"{x.shape[0]} points in R^{x.shape[1]}, labels {np.bincount(y)}")

# %% [markdown]
# Below 30° the planes are so close that some runs need more than 4,000
# iterations (at 20°, 7 of 30 noiseless runs did not finish in 4,000), which
# would dominate the book's build time; the six angles run from 30° to 90°.
#
# ## The sweep
#
# Each (noise level, angle) pair runs its starts as one batch; a run stops
# computing as soon as its loss is zero.

# %%
sweep = angle.angle_sweep(
    THETAS, NOISE_LEVELS, STARTS, INIT_SCALE, MAX_STEPS, seeds["sweep"]
)
show_figure(plot_angle_sweep(sweep), "fig-cg-angle")
glue("cg-angle-slowest", int(sweep.steps.max()))

# %% [markdown]
# ```{glue:figure} fig-cg-angle
# :name: fig-cg-angle
#
# Iterations to zero loss (left) and the final $|W| = \sum_j |w_j|$ (right)
# against the angle between the two class planes, one box per angle over the
# random starts; rows are the noise levels 0, 0.02 and 0.05 (iterations on a
# log scale). Every run converges. The iterations fall steadily as the planes
# approach orthogonality; $|W|$ falls steeply from 30° to about 55° and then
# levels off, and without noise its median even rises a little at 90° (compare
# the paper's Figure 3).
# ```
#
# The slowest run took {glue:text}`cg-angle-slowest` iterations.

# %%
claims.record(angle_claim(sweep, describe(seeds["sweep"])))

# %% [markdown]
# ## Summary
#
# * The coarse gradient method reaches zero loss at every angle tried, with
#   and without noise: the theorem's orthogonality is a proof device more than
#   a requirement, as the paper's Remark 1 says.
# * The closer the planes, the more iterations it needs; noise adds
#   iterations but keeps the trend. The weights are largest for close planes
#   and roughly constant beyond 55°: the overall trend is decreasing, as the
#   paper says, but not at every step.
#
# ## Exercises
#
# ```{exercise-start}
# :label: ex-cg-angle-init
# ```
#
# Repeat the sweep with `INIT_SCALE = 1.0`, and add the angle 15°. How do
# the iterations and $|W|$ depend on the initialisation?
#
# ```{exercise-end}
# ```
#
# ```{solution-start} ex-cg-angle-init
# :class: dropdown
# ```
#
# In our runs, at 45° almost nothing changes: median 396 against 382
# iterations, and $|W|$ about 52 against 53. The final weights are set by the
# steps needed to separate the classes, not by the start. Close planes are
# different: at 15° the runs from $N(0, 1)$ needed about 3,000 iterations,
# while from $N(0, 0.1^2)$ none had converged after 5,000. A larger start
# already spreads the units over more directions.
#
# ```{solution-end}
# ```
#
# ## Claims of this chapter

# %%
claims.finish()
