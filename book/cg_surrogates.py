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
# (cg-surrogates)=
# # Quantized ReLU and the surrogate class
#
# ## Overview
#
# Part II follows {cite:t}`long2021learning`, who train a one-hidden-layer
# classifier whose activation is the **b-bit quantized ReLU** $\sigma$. Its
# derivative is zero almost everywhere, so training uses a **coarse gradient**:
# in the backward pass $\sigma'$ is replaced by the derivative $g'$ of a
# surrogate $g$. Which surrogates work? The paper's answer is a class of
# functions, its Assumption 2. This chapter sets up the objects the rest of
# Part II uses and checks three facts exactly:
#
# 1. $\sigma$ is a staircase of indicators;
# 2. which surrogates satisfy Assumption 2, and with which constants
#    $\delta, \tilde\delta$ (the paper's Figure 2);
# 3. the constant $C_p$ of the input density, for the uniform density on an
#    annulus, which the lemmas of the next chapters use.
#
# ```{prf:definition} Quantized ReLU and Assumption 2
# :label: def-cg-assumption2
#
# With $q_b = 2^b - 1$, the b-bit quantized ReLU is $\sigma(x) = 0$ for
# $x \le 0$, $\lceil x \rceil$ for $0 < x < q_b$ and $q_b$ for $x \ge q_b$.
# A surrogate $g:\reals\to\reals$ satisfies **Assumption 2** if $g(x) = 0$ for
# all $x \le 0$ and $g'(x) \in [\delta, \tilde\delta]$ for all $x > 0$, with
# constants $0 < \delta \le \tilde\delta < \infty$.
# ```

# %%
from quantheory.cg import annulus
from quantheory.cg import claims as checks
from quantheory.cg.figures import plot_sigma, plot_surrogates
from quantheory.claims import ChapterClaims
from quantheory.display import show, show_figure
from quantheory.ste.symbolic import Formula

claims = ChapterClaims("cg_surrogates")

# %%
BITS = 2  # surrogates of the 2-bit network, q_b = 3
INPUT_BOUND = 10.0  # B: pre-activations are assumed to lie in [-B, B]
ANNULI = ((1.0, 2.0), (0.5, 3.0))  # (m_x, M)

# %% [markdown]
# ## The staircase
#
# The claim compares the implementation (`ceil`, clipped to $[0, q_b]$) with
# $\sum_{a=0}^{q_b-1} \mathbb 1\{x > a\}$ on a fine grid that contains every jump
# point $a$ and the points just beside it, for $b = 1, \dots, 4$.
# Both sides use the same $q_b$, so the claim also compares the largest value
# of $\sigma$ with $q_b$ written out: 1, 3, 7 and 15.

# %%
claims.record(checks.sigma_staircase_claim())
show_figure(plot_sigma((1, 2)), "fig-sigma")

# %% [markdown]
# ```{glue:figure} fig-sigma
# :name: fig-sigma
#
# The 1-bit (binary) and 2-bit quantized ReLU: zero for $x \le 0$, a unit step
# at every integer up to $q_b$, constant beyond. The value at each jump is the
# lower step ($\sigma(1) = 1$, not 2), which the staircase with strict
# inequalities reproduces.
# ```
#
# ## Which surrogates satisfy Assumption 2
#
# The paper's three surrogates are the ReLU $g(x) = \max(x, 0)$, the reverse
# exponential $g(x) = \max\{0, q_b(1 - e^{-x/q_b})\}$ and the log-tailed ReLU
# ($x$ up to $q_b$, then $q_b + \log(x - q_b + 1)$). SymPy differentiates each
# one piece by piece and takes the infimum and supremum of $g'$ on $(0, B]$.
# The reverse exponential and the log-tailed ReLU have $g' \to 0$ as
# $x \to \infty$, so they satisfy Assumption 2 only on a bounded range
# $B < \infty$: with $B = 10$, $\delta = e^{-B/q_b}$ and $1/(B - q_b + 1)$.
# All three have $\tilde\delta = 1$, and the ReLU also $\delta = 1$, so a bound
# that used $\delta$ or $\tilde\delta$ in the wrong place would go unnoticed with
# them. The book therefore adds an admissible surrogate of its own, the
# **two-slope ramp**: $g' = 1/2$ on $(0, 1]$, $3/2$ on $(1, q_b]$ and $1/2$
# beyond, so $\delta = 1/2$ and $\tilde\delta = 3/2$ on every range (it is not
# in the paper, and not drawn in the figure), and the **scaled ReLU**
# $g(x) = 2\max(x, 0)$ with $\delta = \tilde\delta = 2$, whose use the next
# chapter explains. Two common choices fail
# Assumption 2: the clipped ReLU has $g' = 0$ beyond 1, and the identity is not
# zero for negative inputs. Each surrogate is one SymPy expression; the NumPy
# $g$ and $g'$ used for training are lambdified from it.

# %%
claim, _ = checks.assumption2_claim(BITS, INPUT_BOUND)
claims.record(claim)
show_figure(plot_surrogates(BITS, INPUT_BOUND), "fig-surrogates")

# %% [markdown]
# ```{glue:figure} fig-surrogates
# :name: fig-surrogates
#
# The five surrogates $g$ (top) and their derivatives $g'$ (bottom) for the
# 2-bit network (compare the paper's Figure 2). Blue: Assumption 2 holds on
# $(0, B]$, $g'$ stays between two positive constants. Red: it fails, because
# $g'$ drops to 0 (clipped ReLU) or $g$ is not zero for $x \le 0$ (identity).
# ```
#
# ## The constant $C_p$ for an annulus
#
# The lemmas bound integrals of the input density $p$ along lines by
# $C_p = \sup_{\text{lines}} \int p$. For the uniform density on the annulus
# $\{m_x < |x| < M\}$ in a plane, a line at distance $d$ from the centre meets
# the annulus in a length that SymPy differentiates on both sides of $d = m_x$:

# %%
derived_cp, facts = annulus.derive_cp()
for fact in facts.values():
    show(Formula(fact))
show(Formula(derived_cp))

# %% [markdown]
# The first derivative (lines that cross the hole) is positive and the second
# (lines that miss it) negative, so the longest chord is the one that just
# touches the hole, of length $2\sqrt{M^2 - m_x^2}$, and
# $C_p = 2/(\pi\sqrt{M^2 - m_x^2})$. The claim checks both signs exactly for
# each annulus (SymPy finds no root of either slope on its interval and takes
# its sign at the midpoint), and integrates the density numerically along 400
# parallel lines for two annuli.

# %%
claims.record(checks.cp_annulus_claim(ANNULI))

# %% [markdown]
# ## Summary
#
# * The b-bit quantized ReLU is a staircase of $q_b$ unit steps.
# * ReLU satisfies Assumption 2 everywhere; the reverse exponential and
#   log-tailed ReLU satisfy it on any bounded range, with $\delta$ shrinking as
#   the range grows; the two-slope ramp has $\delta = 1/2$, $\tilde\delta = 3/2$;
#   clipped ReLU and the identity do not.
# * For a uniform annulus, $C_p = 2/(\pi\sqrt{M^2 - m_x^2})$.
#
# Everything in this chapter is exact; no random numbers are drawn.
#
# ## Exercises
#
# ```{exercise-start}
# :label: ex-cg-range
# ```
#
# How large may the input range $B$ be for the reverse exponential surrogate of
# the 4-bit network if you want $\delta \ge 0.1$? Check your answer with
# `checks.assumption2_claim(4, B)`.
#
# ```{exercise-end}
# ```
#
# ```{solution-start} ex-cg-range
# :class: dropdown
# ```
#
# With $q_b = 15$, $\delta = e^{-B/15} \ge 0.1$ means $B \le 15 \log 10 \approx 34.5$.
#
# ```{solution-end}
# ```
#
# ## Claims of this chapter

# %%
claims.finish()
