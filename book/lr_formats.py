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
# (lr-formats)=
# # Integer vs floating point
#
# ## Overview
#
# An integer format spends its bits on a fixed grid: the error of rounding
# does not care how large the number is, so it is **additive**, with second
# moment $\varepsilon I$. A floating-point format spends them on the leading
# digits of each number: the error scales with the number, so it is
# **multiplicative**, $\varepsilon\,\mathrm{diag}(u^2)$. On data with a
# power-law spectrum $\lambda_i = i^{-a}$ the two behave very differently
# ({ref}`lr-spectra`): an additive error lays a floor $\varepsilon$ under the
# spectrum, $H + \varepsilon I$, and the directions below the floor are lost;
# a multiplicative one rescales it, $(1+\varepsilon)H$, and keeps its shape.
# {cite:t}`zhang2025learning` turn this into a comparison of formats. This
# chapter
#
# 1. reproduces the paper's two experiments with the exact recursion of
#    {ref}`lr-recursion` and checks them by simulation at a few points;
# 2. maps bits to $\varepsilon$ for each class, compares the recursion's risks
#    at equal bit budgets for three decay exponents, tests the summaries' rule
#    of thumb against that map (the boundary where floats start to win),
#    and confirms sign and size of the difference by simulating real
#    stochastic rounding;
# 3. runs real formats (integer grids, bfloat16, float8 e4m3 and e5m2, with
#    stochastic rounding and round-to-nearest) as the quantizer of the data
#    and measures their excess risk against the idealized prediction, where
#    the simulation can resolve it.
#
# The statements below are the book's reconstruction of the paper's results
# from its abstract and public summaries; the paper's own constants are not
# available to us.
#
# ```{prf:theorem} Data quantization distorts the spectrum (summaries)
# :label: thm-lr-formats-spectrum
#
# Let $x \sim N(0, H)$, $H = \mathrm{diag}(\lambda_i)$, and let SGD see
# quantized data $\tilde x = Q(x)$ with an unbiased quantizer. If the error is
# additive with covariance $\varepsilon I$, SGD behaves as on the spectrum
# $\tilde H = H + \varepsilon I$ with target $\tilde w = \tilde H^{-1} H w^*$;
# if it is multiplicative, as on $\tilde H = (1 + \varepsilon) H$ with target
# $w^*/(1+\varepsilon)$. The summaries give the approximation error of the
# multiplicative case as $\frac{\varepsilon}{1+\varepsilon}\lVert w^*\rVert_H^2$.
# ```
#
# The two approximation errors measure different things. The summaries'
# $\frac{\varepsilon}{1+\varepsilon}\lVert w^*\rVert_H^2$ is the gap in the
# loss *on quantized inputs*: the best the model can do when it only sees
# $\tilde x$, $\min_w \mathbb E(y - \langle w, \tilde x\rangle)^2$, exceeds
# the noise by that much (up to the loss's factor $\frac12$). This book
# measures the excess risk on *clean* inputs, $E(\tilde w) = \frac12
# (\tilde w - w^*)^\top H (\tilde w - w^*)$ with $\tilde w = w^*/(1+
# \varepsilon)$, which is $\frac{\varepsilon^2}{2(1+\varepsilon)^2}\lVert
# w^*\rVert_H^2$: second order in $\varepsilon$, because shrinking $w^*$ by
# $1/(1+\varepsilon)$ costs little on clean data (this is what
# `recursion.approximation_error` computes).
#
# ```{prf:theorem} Integer vs floating point (summaries, informal)
# :label: thm-lr-formats-compare
#
# For $\lambda_i = i^{-a}$, $a > 1$, the excess risk under multiplicative
# quantization is dimension-free, while under additive quantization it grows
# with $d$. Hence with $b$-bit integers ($\varepsilon \sim 2^{-2b}$) against
# floats with $m$ mantissa bits ($\varepsilon \sim 2^{-2m}$), floating point
# wins roughly when $m \ge b - \tfrac a2 \log_2 d$.
# ```
#
# The rule reads like a comparison at the smallest eigen-direction: an integer
# grid whose range covers $x_1$ resolves $x_d$, which is $d^{a/2}$ times
# smaller, with only $b - \frac a2\log_2 d$ effective bits, while a float
# resolves every coordinate with $m$. Whether the *risk* follows that
# comparison is what the recursion can tell.

# %%
import numpy as np

from quantheory.claims import ChapterClaims
from quantheory.display import Table, glue, show, show_figure
from quantheory.lr import compare_claims as cmp
from quantheory.lr.compare_figures import (
    plot_bit_map,
    plot_real_formats,
    plot_risk_vs_dimension,
    plot_risk_vs_samples,
)
from quantheory.scale import by_scale, current_scale
from quantheory.seeding import chapter_seed, describe, spawn

# the chapter's seed: the master seed QUANTHEORY_SEED with this chapter's salt
SEED = chapter_seed(20251024)
seeds = spawn(SEED, ["experiment", "points", "formats"])
claims = ChapterClaims("lr_formats")
recursions = cmp.Recursions()
print(f"scale: {current_scale()}, seed: {describe(SEED)}")

# %%
# the recursion's curves: N up to this; the comparisons at COMPARE_SAMPLES
LARGEST_SAMPLES = by_scale(quick=2048, full=16384)
COMPARE_SAMPLES = by_scale(quick=2048, full=8192)
# simulation sizes: dimension, samples and runs
SIM_DIMENSION = by_scale(quick=50, full=200)
EXPERIMENT_STEPS = np.array(
    by_scale(quick=[64, 256, 1024], full=[64, 256, 1024, 4096])
)
EXPERIMENT_RUNS = 16
POINT_SAMPLES, POINT_RUNS = 2048, 32
FORMAT_SAMPLES = by_scale(quick=2048, full=4096)
# (d, N, runs) of each family of real formats; floats in the quiet setting
FORMAT_SIZES = {
    "integer": (SIM_DIMENSION, FORMAT_SAMPLES, 64),
    "float": (50, 2048, by_scale(quick=128, full=256)),
}

# %% [markdown]
# ## The setting and the step size
#
# As in the paper: $a = 2$, $w^*_i = 1$, $s^2 = 1$, batch $B = 1$, $w_0 = 0$,
# the averaged iterate $\bar w_N$ (the paper's output), and the **data** as
# the quantized target, since data is where the spectral distortion lives
# (the recursion treats one quantized target at a time; quantizing everything
# at once is outside what it covers). The float-like model is the per-coordinate
# multiplicative one (`mult_coord`: each coordinate rounded on its own, as a
# float format does); at $B = 1$ the per-vector model gives the same spectrum.
# The step is $\gamma = 0.1$ throughout, the step of {ref}`lr-recursion`. The
# recursion's hypothesis is that the linear part of its second-moment map has
# spectral radius below 1; it is checked for every setting computed in this
# chapter and reported in each claim. It is close to 1 everywhere because the
# smallest eigenvalue $\lambda_d = d^{-a}$ is tiny (the factor
# $1 - 2\gamma\lambda_d$), not because the step is near its limit. At 4 integer
# bits over the chapter's range the radius exceeds 1 at $d = 200$ (the
# additive trace $d\varepsilon$ is too large for the step), so the integer
# grids start at 5 bits.

# %%
samples = cmp.sample_grid(LARGEST_SAMPLES)
experiments = cmp.paper_experiments(recursions, samples)
simulated = cmp.simulate_experiment_points(
    EXPERIMENT_STEPS, EXPERIMENT_RUNS, seeds["experiment"]
)
glue("largest-samples", f"{LARGEST_SAMPLES:,}")
glue("experiment-runs", EXPERIMENT_RUNS)
show_figure(
    plot_risk_vs_samples(experiments, simulated, 2 * EXPERIMENT_STEPS.size),
    "fig-formats-samples",
)

# %% [markdown]
# ```{glue:figure} fig-formats-samples
# :name: fig-formats-samples
#
# The paper's first experiment ($d = 200$, $a = 2$, $B = 1$, $\gamma = 0.1$):
# excess risk of the averaged iterate against the number of samples, from the
# exact recursion up to $N$ = {glue:text}`largest-samples`, for
# $\varepsilon \in \{0, 10^{-3}, 5\cdot10^{-3}, 10^{-2}\}$.
# Left: additive quantization of the data. The curves leave the unquantized
# one as soon as SGD starts to learn directions with $\lambda_i$ below the
# floor $\varepsilon$, and level off at the approximation error. Right:
# multiplicative quantization. The curves lie on top of each other: at these
# $\varepsilon$ a multiplicative error barely costs anything. Points:
# simulated SGD at $\varepsilon = 0.01$ with idealized quantizers
# ({glue:text}`experiment-runs` runs each, intervals at the book's budget).
# ```
#
# ## Risk against the dimension
#
# The paper's second experiment fixes $\varepsilon = 0.01$ and varies
# $d \in \{50, 100, 200, 400\}$. With $w^*_i = 1$ even unquantized SGD's risk
# depends on $d$ at a finite $N$ (the unlearned tail $\sum_{i} \lambda_i/2$
# over the directions SGD has not reached yet grows with $d$), so the
# statement to test is about what quantization **adds**: the excess
# $R_q(d) - R_{\mathrm{none}}(d)$ at $N$ = {glue:text}`compare-samples`. The
# tolerance of "flat" is {glue:text}`flat-tolerance` (relative; how it was
# set is said below, with the claim); the multiplicative excess must vary by
# less, the additive one must increase with $d$ and rise by more.

# %%
dimensions = cmp.dimension_check(experiments, COMPARE_SAMPLES)
glue("compare-samples", f"{COMPARE_SAMPLES:,}")
glue("flat-tolerance", f"{cmp.FLAT_TOLERANCE:.0%}")
glue("mult-spread", f"{dimensions.spread(cmp.FLOAT_KIND):.2%}")
glue("add-rise", f"{dimensions.rise(cmp.INTEGER_KIND):.1%}")
show_figure(
    plot_risk_vs_dimension(experiments, dimensions), "fig-formats-dimension"
)

# %% [markdown]
# ```{glue:figure} fig-formats-dimension
# :name: fig-formats-dimension
#
# The paper's second experiment ($\varepsilon = 0.01$, $a = 2$). Left and
# middle: risk against $N$ for each $d$ (dotted: unquantized at the same $d$;
# grey line: the $N$ of the comparison). Right: the excess risk that
# quantization adds, relative to its value at $d = 50$; grey band: the
# tolerance of "flat". The multiplicative excess stays in the band (spread
# {glue:text}`mult-spread`); the additive one climbs with $d$ (by
# {glue:text}`add-rise` from 50 to 400). The climb is real but modest at
# $a = 2$: the additive floor costs the tail $\sum_{\lambda_i < \varepsilon}
# \lambda_i$, which converges as $d \to \infty$; what keeps growing is the
# extra gradient noise of the trace $d\varepsilon$, which for a fixed step
# eventually makes SGD unstable (here near $d = 1{,}800$, where
# $\gamma\,\mathrm{tr}\,\tilde H \approx 2$; the multiplicative model's
# radius stays below 1).
# ```
#
# ## From bits to $\varepsilon$
#
# To compare formats at equal bits, each class needs a map from bits to
# $\varepsilon$ ({ref}`lr-spectra` derives and measures the constants):
#
# * an integer grid of $b$ bits over the fixed range $[-R, R]$, $R = 7$
#   (seven standard deviations of the largest coordinate, so that no input
#   in any run falls outside: the grid raises rather than clip), has step
#   $R/(2^{b-1}-1)$; stochastic rounding of an input spread over many steps
#   has error second moment $\mathrm{step}^2/6$, so
#   $\varepsilon_{\mathrm{int}}(b) = \mathrm{step}^2/6$, additive;
# * a float with $m$ mantissa bits has relative error second moment
#   $\varepsilon_{\mathrm{float}}(m) = c\,2^{-2m}$ with
#   $c = 1/(16 \ln 2) \approx$ {glue:text}`float-constant` (log-uniform
#   mantissa; the exact value for Gaussian inputs is within 1.5% of it),
#   multiplicative, one independent factor per coordinate.
#
# At 8 bits, for example, $\varepsilon_{\mathrm{int}}$ = {glue:text}`eps-int8`
# while float8 e4m3 ($m = 3$) has $\varepsilon_{\mathrm{float}}$ =
# {glue:text}`eps-e4m3` and e5m2 ($m = 2$) {glue:text}`eps-e5m2`: the float's
# error is larger *in absolute terms at the largest coordinate*, and much
# smaller on every coordinate whose scale is below the grid's step.

# %%
glue("float-constant", f"{cmp.RELATIVE_EPS_CONSTANT:.4f}")
glue("eps-int8", f"{cmp.integer_eps(8):.2e}")
glue("eps-e4m3", f"{cmp.float_eps(3):.2e}")
glue("eps-e5m2", f"{cmp.float_eps(2):.2e}")
maps = [
    cmp.bit_map(recursions, a, cmp.PAPER_DIMENSION, COMPARE_SAMPLES)
    for a in cmp.EXPONENTS
]
budget_rows = [
    [
        f"{bm.a:g}",
        f"int{b}",
        f"e{e}m{m} (idealized)",
        f"{diff:+.3f}",
        "float" if diff < 0 else "int",
    ]
    for bm in maps
    for e in cmp.EXPONENT_BITS
    for b, m, diff in bm.equal_budget(e)
    if b in (6, 8, 10, 12)
]
integer_wins = [
    f"a = {r[0]}, {r[1]} against {r[2]}" for r in budget_rows if r[4] == "int"
]
glue(
    "budget-float-wins",
    f"{len(budget_rows) - len(integer_wins)} of {len(budget_rows)}",
)
glue("budget-integer-wins", "; ".join(integer_wins) or "none")
show(
    Table(
        [
            "a",
            "integer",
            "float (1 + e + m bits, no exponent limits)",
            "(R_float - R_int) / R_none",
            "wins",
        ],
        budget_rows,
    )
)

# %% [markdown]
# The table compares the recursion's risks at $d = 200$ and
# $N$ = {glue:text}`compare-samples` at equal total bits, the float spending
# 4 or 5 of them on the exponent (as e4m3 and e5m2 do). The floats of the
# table are idealized: $m$ mantissa bits with an unbounded exponent, no
# subnormals and no largest value (the real e4m3 and e5m2 come last, under
# real formats). The float wins
# {glue:text}`budget-float-wins` comparisons (the integer grid wins:
# {glue:text}`budget-integer-wins`); the margin shrinks quickly with the
# bits, since both errors then become negligible against the label noise.
#
# The map below goes further: it lets the integer bits $b$ and the mantissa
# bits $m$ vary independently, so that the region where integers win
# appears (a float with very few mantissa bits against a fine grid).

# %%
points = cmp.simulate_points(
    recursions,
    cmp.MC_POINTS,
    SIM_DIMENSION,
    POINT_SAMPLES,
    POINT_RUNS,
    seeds["points"],
)
show_figure(plot_bit_map(maps, points), "fig-formats-map")
boundary = cmp.boundary_check(recursions, COMPARE_SAMPLES)
offsets = cmp.rule_offsets(maps)
glue("boundary-bits", cmp.BOUNDARY_BITS)
glue(
    "boundary-by-a",
    ", ".join(f"{x:+.1f} at a = {a:g}" for a, x in boundary.by_a.items()),
)
glue(
    "boundary-early-by-a",
    ", ".join(f"{x:+.1f}" for x in boundary.early_by_a.values()),
)
glue("early-samples", f"{COMPARE_SAMPLES // 4:,}")
glue(
    "boundary-by-d",
    ", ".join(f"{x:+.2f} at d = {d}" for d, x in boundary.by_d.items()),
)
glue(
    "rule-by-a",
    ", ".join(
        f"{-a / 2 * np.log2(cmp.PAPER_DIMENSION):+.1f}" for a in cmp.EXPONENTS
    ),
)
glue("boundary-a-spread", f"{boundary.a_spread():.2f}")
glue("boundary-d-spread", f"{boundary.d_spread():.2f}")
glue("rule-a-spread", f"{boundary.rule_a_spread():.1f}")
glue("rule-d-spread", f"{boundary.rule_d_spread():.0f}")
glue(
    "boundary-shifts",
    ", ".join(f"{x:.2f}" for x in boundary.shifts().values()),
)
glue("a-spread-tol", f"{cmp.A_SPREAD:g}")
glue("d-spread-tol", f"{cmp.D_SPREAD:g}")
glue("shift-range", f"{cmp.SHIFT_RANGE[0]:g} and {cmp.SHIFT_RANGE[1]:g}")
glue(
    "offset-by-a",
    "; ".join(
        f"a = {a:g}: {min(s - r for aa, _, _, s, r in offsets if aa == a):+.1f} to "
        f"{max(s - r for aa, _, _, s, r in offsets if aa == a):+.1f}"
        for a in cmp.EXPONENTS
    ),
)

# %% [markdown]
# ```{glue:figure} fig-formats-map
# :name: fig-formats-map
#
# Which class wins, by the recursion ($d = 200$, $N$ =
# {glue:text}`compare-samples`), for integer bits $b$ (grid over $[-7, 7]$)
# against float mantissa bits $m$: colour $(R_{\mathrm{float}} -
# R_{\mathrm{int}})/R_{\mathrm{none}}$, blue where the float wins. Black: the
# boundary $m^*(b)$ where the two risks are equal; dashed: the summaries' rule
# $m = b - \frac a2 \log_2 d$; dotted: equal total bits with 4 and 5 exponent
# bits. Circles: the pairs simulated below. At large $b$ the boundary runs
# parallel to the diagonal, $m^* - b$ nearly the same for every $a$, while the
# rule moves by $\frac12\log_2 d \approx 3.8$ bits per unit of $a$.
# ```
#
# **The rule of thumb against the recursion.** Read the boundary's offset
# $m^* - b$ at $b$ = {glue:text}`boundary-bits`, where it has settled (it
# changes by less than 0.01 bit from $b = 12$ on). At $d = 200$ and $N$ =
# {glue:text}`compare-samples` the recursion puts it at
# {glue:text}`boundary-by-a`; the rule's offset $-\frac a2\log_2 d$ is
# {glue:text}`rule-by-a`. Over the integer widths where the boundary lies
# inside the map, the boundary minus the rule is {glue:text}`offset-by-a`
# bits. So the rule is close at $a = 2$, the paper's exponent, and wrong in
# both directions elsewhere: at $a = 1.5$ it asks for more mantissa bits than
# the float needs, and at $a = 3$ for several fewer (there it declares the
# float the winner where the recursion has the integer grid win). It also
# predicts that the boundary moves by $\frac a2 \log_2 8 = 3$ bits between
# $d = 50$ and $d = 400$ at $a = 2$; the recursion's offset is
# {glue:text}`boundary-by-d`. What the rule lacks instead is the sample size:
# at $N$ = {glue:text}`early-samples` (a quarter) the offsets are
# {glue:text}`boundary-early-by-a` (same order of $a$), so the boundary moves
# by {glue:text}`boundary-shifts` bits per factor 4 in $N$, about one bit. A
# float's relative error and a grid's absolute one cost risk in a ratio that
# depends on how far SGD has got, not on the smallest coordinate.
#
# The reason is the weight of each direction in the risk. The rule compares
# the two errors on the *smallest* coordinate, but that coordinate carries
# weight $\lambda_d$ in the risk; what decides is the noise the quantizer
# adds to SGD's gradient, $\varepsilon\lVert\tilde w\rVert^2$ against
# $\varepsilon\lVert w^*\rVert_H^2$, and the directions SGD has learned by
# $N$, neither of which depends on $d$ once $d$ exceeds those directions.
#
# This is the chapter's main finding against the summaries, so it is part
# of the checked claim below: the offset's spread over $a$ must stay below
# {glue:text}`a-spread-tol` bits (it is {glue:text}`boundary-a-spread`; the
# rule's is {glue:text}`rule-a-spread`), its spread over $d$ below
# {glue:text}`d-spread-tol` bits (it is {glue:text}`boundary-d-spread`; the
# rule's is {glue:text}`rule-d-spread`), and its shift per factor 4 in $N$
# must lie between {glue:text}`shift-range` bits for every $a$ (the rule's
# is 0). These are statements about the recursion, which is deterministic,
# and the three tolerances were set after seeing its numbers (and a
# reviewer's); a registered mutation replaces the boundary by the rule and
# must fail them.
#
# ## Checking the comparison by simulation
#
# The recursion works with idealized (Gaussian) errors and the maps' constants.
# Simulated SGD with **real stochastic rounding** checks both at pairs fixed in
# advance: the integer grid of {ref}`lr-spectra` against a float with $m$
# mantissa bits and an unbounded exponent (stochastic rounding to the two
# neighbouring floats), at the 6-bit budget ($b = 6$ against $m = 1$) for each
# exponent, at one pair where the recursion has the integer grid win
# ($b = 10$ against $m = 0$), and at the float8 budget ($b = 8$ against
# $m = 3$, e4m3), where the recursion's difference is small. The grid and the
# float of each pair run on the same data, so their difference is measured
# with little noise. A pair is
# *decisive* when the predicted $|R_{\mathrm{float}} - R_{\mathrm{int}}|$ is at
# least {glue:text}`decisive` of the unquantized risk; there the simulated
# difference's interval, at the book's error budget, must lie on the
# predicted side of zero **and contain the prediction** (the magnitude, not
# only the sign: a float constant $c$ four times too large, one mantissa bit,
# fails it). The decisive pairs must include a win of each class. Where the
# prediction is close, the chapter says undecided and claims nothing.
#
# What is *not* simulated: the dimension check above ("flat in $d$", "grows
# with $d$") rests on the recursion alone. The additive rise is
# {glue:text}`add-rise` of an excess that is itself a fraction of the risk;
# resolving it by simulation at four dimensions would cost more runs than the
# chapter's budget allows. Its simulated support is indirect: the recursion
# matches simulated SGD for additive data quantization at every $t$
# ({ref}`lr-recursion`), at $d = 50$ and $d = 200$ in this chapter's pairs.
#
# Changes after seeing data: at quick scale the pairs were first simulated
# at $N = 1{,}024$ with $d = 50$, and under master seed 0 the $a = 3$ pair
# (predicted $-0.20$) had the interval $[-0.387, +0.007]$, which touches zero:
# too little power, not a wrong sign. $N$ was raised to 2,048 at both scales
# (it already was at full scale). The magnitude check was added after a
# reviewer's run showed the simulated differences close to the predictions;
# pilots on plain seeds 101 to 103 (outside the book's seed tree) had every
# decisive prediction inside its interval before the chapter's seeds were
# run. The tolerance of "flat", {glue:text}`flat-tolerance`, was fixed after
# a prototype of the recursion (exact for additive data, approximate for
# multiplicative) had shown spreads of 0.7% to 1.4% and rises of 4% to 6%
# at this setting.

# %%
glue("decisive", f"{cmp.DECISIVE:.0%}")
claims.record(
    cmp.mult_vs_add_claim(
        recursions,
        dimensions,
        boundary,
        points,
        describe(seeds["points"]),
    )
)

# %% [markdown]
# ## Real formats
#
# Last, the formats themselves quantize the data of SGD at $a = 2$: integer
# grids of 6 and 8 bits, bfloat16, float8 e4m3 and e5m2 (`ml_dtypes`), each
# with stochastic rounding (SR) and with round-to-nearest (RN), the biased
# contrast. Each is predicted by the recursion with the idealized model of
# its class and the *derived* $\varepsilon$ of the maps (RN: half the SR
# constant, the second moment of a uniform error). Each format runs on the
# same data as unquantized SGD, and the statistic is the **ratio of the
# measured to the predicted excess risk**, $\overline{R_{\mathrm{format}} -
# R_{\mathrm{none}}} / (R_{\mathrm{model}} - R_{\mathrm{none}})$: 1 when the
# format costs exactly what the model says, 0 when it costs nothing.
#
# **Where the floats' cost is visible.** In the paper's setting ($s^2 = 1$,
# $w_0 = 0$) a float's excess is below 1% of the risk (e5m2) down to
# $10^{-5}$ of it (bfloat16), and the paired runs cannot resolve it: a pilot
# put the ratio's interval for e5m2 at about $\pm 5$. So the integer grids run
# in the paper's setting, and the floats in a *quiet* one: no label noise and
# SGD started at $w^*$, so that everything SGD's risk contains is what the
# quantizer adds. There the floats' excess is the whole risk and the ratio
# is resolved to about $\pm 0.3$. Part of that excess is the drift from
# $w^*$ to the multiplicative target $w^*/(1+\varepsilon)$, whose risk is
# second order in $\varepsilon$; by the recursion it is
# {glue:text}`drift-share` of the predicted excess (bfloat16 to e5m2, SR),
# the rest is gradient noise, first order. The check tests the two together.
#
# **Which formats are tested.** A format is tested only if the design
# resolves it, decided *before* the chapter's data: its half-width
# $t\cdot \mathrm{sd}/\sqrt{\mathrm{runs}}$ at the book's budget, with the
# per-run standard deviation of the ratio from pilots on plain seeds 101 and
# 102 (outside the book's seed tree), must be at most
# {glue:text}`resolve-share` of the tolerance. The others are reported as
# *not resolved*, which says nothing about them. The checks: SR formats
# (grids and floats) equivalent to 1 within {glue:text}`format-tolerance`
# (two one-sided tests, the tolerance fixed before the data); RN floats below
# $1 +$ {glue:text}`format-tolerance` (they cost at most that much more than
# the model with half the SR constant says); RN on the 6-bit grid above 1
# (it costs more than its $\varepsilon$ says). SR int6, RN int6 and SR e5m2
# must be resolved, or the claim fails for lack of power.
#
# Choices made after seeing data, all before this chapter's seeds were run
# except where said. First, $\varepsilon$ *trace-matched* to each format's
# exact error moments on the data it sees, $\varepsilon = \frac1d\sum_i
# \mathbb E(Q(x_i) - x_i)^2$, gave predictions 25% to 47% below the SR 6-bit
# grid's risk in a first pilot: the tail coordinates, with $|x_i| \ll$ step,
# have conditional error variance $\mathrm{step}\,|x_i| - x_i^2$, proportional
# to $|x_i|$, far below $\mathrm{step}^2/6$ ({ref}`lr-spectra`), and pull the
# mean down, while the coordinates SGD actually learns see the full
# $\mathrm{step}^2/6$. The derived $\varepsilon$ is the prediction; the
# crosses in the figure show where the trace-matched one would put it.
# Second, an earlier version of this claim normalised the gap by the
# predicted *total* risk, with tolerances of 15% and an RN bar lowered from
# 2% to 0 after the quick run under master seed 1; a review showed that this
# statistic could not tell a float's $\varepsilon$ from zero or from 64 times
# it. The present design (quiet setting for floats, ratio of excesses,
# tolerance {glue:text}`format-tolerance`, resolution share
# {glue:text}`resolve-share`, float runs) was fixed from the pilots on seeds
# 101 and 102 (seeds 1101 and 1102 of the formats), which gave ratios of 0.89
# to 0.96 for SR int6, 1.38 to 1.48 for RN int6, 0.95 to 1.05 for SR floats
# and 0.73 to 1.03 for RN floats, before the chapter's seeds were run with it.
# The tolerance is wide because the float runs are expensive: the check
# tells a float's $\varepsilon$ from zero and from four times it, not from
# 1.3 times it.

# %%
formats = cmp.simulate_formats(
    recursions, cmp.REAL_FORMATS, FORMAT_SIZES, seeds["formats"]
)
k_formats = len(formats)
format_ratio = {r.fmt.label: r.ratio(k_formats) for r in formats}
glue("format-tolerance", f"{cmp.FORMAT_TOLERANCE:g}")
glue("resolve-share", f"{cmp.RESOLVE_SHARE:g}")
glue(
    "not-resolved",
    ", ".join(r.fmt.label for r in formats if not r.resolved(k_formats))
    or "none",
)
for label in ("SR int6", "RN int6"):
    glue(f"ratio-{label.replace(' ', '-')}", f"{format_ratio[label][0]:.2f}")
float_sr = [
    format_ratio[r.fmt.label][0]
    for r in formats
    if r.fmt.family == "float" and r.fmt.rounding == "stochastic"
]
float_rn = [
    format_ratio[r.fmt.label][0]
    for r in formats
    if r.fmt.family == "float" and r.fmt.rounding == "nearest"
]
drift = {
    r.fmt.label: r.approximation_share()
    for r in formats
    if r.fmt.family == "float" and r.fmt.rounding == "stochastic"
}
glue(
    "drift-share",
    f"{min(drift.values()):.1%} to {max(drift.values()):.0%}",
)
glue("ratio-sr-floats", f"{min(float_sr):.2f} to {max(float_sr):.2f}")
glue("ratio-rn-floats", f"{min(float_rn):.2f} to {max(float_rn):.2f}")
show_figure(plot_real_formats(formats), "fig-formats-real")

# %% [markdown]
# ```{glue:figure} fig-formats-real
# :name: fig-formats-real
#
# Real formats quantizing the data ($a = 2$): measured over predicted excess
# risk, with intervals at the book's budget (blue: stochastic rounding, red:
# round-to-nearest; filled: resolved and tested, open: not resolved). Left of
# the vertical line the integer grids in the paper's setting, right of it the
# floats in the quiet one. Grey band: the tolerance around 1; dotted: 0, a
# format that costs nothing. Crosses: where the prediction with the
# trace-matched $\varepsilon$ would lie (all but bfloat16). SR int6 sits
# at {glue:text}`ratio-SR-int6`, a little below 1 (its tail coordinates get
# less noise than $\varepsilon I$); RN int6 at {glue:text}`ratio-RN-int6`,
# clearly above. The 8-bit grids' excess is too small for these runs (not
# resolved: {glue:text}`not-resolved`). SR floats lie at
# {glue:text}`ratio-sr-floats`, RN floats at {glue:text}`ratio-rn-floats`.
# ```
#
# Why RN costs more on the coarse grid is not established here. One
# mechanism is certain: RN maps every input below half a step to exactly
# zero (a unit test checks it), and at 6 bits over $[-7, 7]$ half a step is
# 0.11, about one standard deviation of coordinate 9. Whether that is what
# raises the risk is an explanation, not a checked statement.

# %%
claims.record(
    cmp.real_formats_claim(
        formats, recursions.largest_radius(), describe(seeds["formats"])
    )
)

# %% [markdown]
# ## Summary
#
# * The paper's two experiments, reproduced exactly by the recursion at
#   $\gamma = 0.1$ (radius below 1 everywhere): additive data quantization
#   lifts the risk curve onto the approximation error of the floor
#   $H + \varepsilon I$; multiplicative quantization at the same $\varepsilon$
#   barely moves it. By the recursion (not simulated), what quantization adds
#   is flat in $d$ for the multiplicative class and grows with $d$ for the
#   additive one, modestly at $a = 2$.
# * At equal bits, with the integer grid's range set by the largest
#   coordinate, the idealized floats win at 8 bits and more for every
#   exponent tried, and simulated real rounding confirms sign and size of the
#   difference wherever it is decisive; integers win only against floats with
#   far fewer mantissa bits than their own bits.
# * The summaries' rule $m \ge b - \frac a2\log_2 d$ is close at $a = 2$ and
#   off by several bits at $a = 1.5$ and $a = 3$. The recursion's boundary
#   offset $m^* - b$ is {glue:text}`boundary-by-a` at $d = 200$, moves by less
#   than {glue:text}`d-spread-tol` bit over $d$, and by about one bit per
#   factor 4 in $N$ ({glue:text}`boundary-shifts`), which the rule lacks.
# * Real formats against the idealized models with the derived
#   $\varepsilon$, where the design resolves them: SR on the 6-bit grid adds
#   {glue:text}`ratio-SR-int6` times the predicted excess, SR floats
#   {glue:text}`ratio-sr-floats` times (in the quiet setting), RN floats
#   {glue:text}`ratio-rn-floats` times the prediction for half the SR
#   $\varepsilon$ (no more than that, within the tolerance), and RN on the
#   6-bit grid {glue:text}`ratio-RN-int6` times: more than predicted. The
#   8-bit grids are not resolved at these sizes.
#
# ## Exercises
#
# ```{exercise-start}
# :label: ex-formats-int4
# ```
#
# Why does SGD with $\gamma = 0.1$ diverge at $d = 200$ when the data are
# rounded to a 4-bit grid over $[-7, 7]$, while it is stable with float8 e5m2?
#
# ```{exercise-end}
# ```
#
# ```{solution-start} ex-formats-int4
# :class: dropdown
# ```
#
# The 4-bit grid has step 1, so $\varepsilon = 1/6$ on every coordinate and
# $\mathrm{tr}\,\tilde H = \mathrm{tr}\,H + d\varepsilon \approx 1.6 + 33$.
# The second-moment recursion's coupling term
# $\gamma^2\lambda_i\sum_j\tilde\lambda_j v_j$ then feeds back more than the
# contraction removes (`stability_radius` gives about 1.03). The float's
# multiplicative error only rescales the trace by $1 + \varepsilon$.
#
# ```{solution-end}
# ```
#
# ```{exercise-start}
# :label: ex-formats-range
# ```
#
# The grid's range was set to 7 standard deviations of $x_1$. How would the
# boundary $m^*(b)$ move if the range were 3.5 (and inputs beyond it were
# somehow never met)?
#
# ```{exercise-end}
# ```
#
# ```{solution-start} ex-formats-range
# :class: dropdown
# ```
#
# Halving the range halves the step and divides $\varepsilon_{\mathrm{int}}$
# by 4, which is worth exactly one integer bit: the map's boundary moves one
# bit up, $m^* - b$ grows by 1 (the whole picture shifts one column to the
# left). Try
# it with `cmp.GRID_RANGE = 3.5` before computing the maps.
#
# ```{solution-end}
# ```
#
# ## Claims of this chapter

# %%
claims.finish()
