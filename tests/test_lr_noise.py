"""The noise-amplification chapter: injected noise, variance reductions, claims and mutations."""

import doctest
from dataclasses import replace

import numpy as np
import pytest
import sympy as sp

from quantheory.lr import noise_claims as nc
from quantheory.lr import recursion, simulate, symbolic
from quantheory.lr.model import KINDS, Problem, Quantization

# the book's setting at quick scale (the chapter's), on seeds of the tests' own
PROBLEM = Problem(d=16, a=2.0, gamma=0.2, batch=2)
SAMPLES, RUNS = 512, 128
#: the chapter's nine sweeps (the pooled ratio needs them all)
SWEEPS = tuple((t, k) for t in nc.AMPLIFIED_TARGETS for k in KINDS)
BATCH_SWEEPS = (*nc.SHRINKING, ("params", "additive"))


# --- the injected-noise table of the chapter against the SymPy derivation -------------------

i, j, d = symbolic.i, symbolic.j, symbolic.d
LAM, WS, M, V = symbolic.LAM, symbolic.WS, symbolic.M, symbolic.V
EPS, GAMMA, B, S2 = symbolic.eps, symbolic.gamma, symbolic.B, symbolic.s2


def _sum(expr):
    return sp.Sum(expr, (j, 1, d))


def _w_square(index):
    """``W = E[w^2] = w*^2 + 2 w* m + v`` at ``index``."""
    return WS[index] ** 2 + 2 * WS[index] * M[index] + V[index]


def _tr_hw():
    return _sum(LAM[j] * WS[j] ** 2) + 2 * _sum(LAM[j] * M[j] * WS[j]) + _sum(LAM[j] * V[j])


PER_VECTOR_SIGNAL = (1 + 1 / B) * LAM[i] * _w_square(i) + _tr_hw() / B
#: the chapter's table: the injected noise n_i, v'_i gains eps gamma^2 lambda_i n_i
TABLE = {
    ("params", "additive"): (1 + 1 / B) * LAM[i] + _sum(LAM[j]) / B,
    ("params", "mult_vector"): PER_VECTOR_SIGNAL,
    ("params", "mult_coord"): PER_VECTOR_SIGNAL,
    ("activations", "additive"): 1 / B,
    ("activations", "mult_vector"): PER_VECTOR_SIGNAL,
    ("activations", "mult_coord"): (2 * LAM[i] * _w_square(i) + _tr_hw()) / B,
    ("gradients", "additive"): 1 / B,
    ("gradients", "mult_vector"): (1 + 1 / B) * LAM[i] * V[i] + (_sum(LAM[j] * V[j]) + S2) / B,
    ("gradients", "mult_coord"): (2 * LAM[i] * V[i] + _sum(LAM[j] * V[j]) + S2) / B,
}


@pytest.mark.parametrize("key", sorted(TABLE), ids=lambda k: f"{k[0]}-{k[1]}")
def test_injected_noise_table_is_the_derived_recursion(key):
    plain = symbolic.v_update(None, None).rhs
    derived = sp.expand(symbolic.v_update(*key).rhs - plain)
    table = sp.expand(EPS * GAMMA**2 * LAM[i] * TABLE[key])
    assert sp.simplify(derived - table) == 0


# --- the variance reductions ----------------------------------------------------------------


@pytest.mark.parametrize("kind", ["additive", "mult_vector", "mult_coord"])
def test_mirrored_reflects_the_error_on_the_same_draws(kind):
    quantizer = simulate.idealized(Quantization("activations", kind, 0.04))
    u = np.random.default_rng(0).standard_normal((5, 3))
    plus = quantizer.apply(u, np.random.default_rng(1))
    minus = nc.Mirrored(quantizer).apply(u, np.random.default_rng(1))
    np.testing.assert_allclose(minus - u, -(plus - u))
    assert nc.Mirrored(quantizer).target == "activations"


def test_silent_draws_what_the_quantizer_draws_and_changes_nothing():
    quantizer = simulate.idealized(Quantization("params", "additive", 0.04))
    u = np.ones((4, 6))
    rng_q, rng_s = np.random.default_rng(3), np.random.default_rng(3)
    quantizer.apply(u, rng_q)
    assert np.array_equal(nc.Silent(quantizer).apply(u, rng_s), u)
    assert rng_q.standard_normal() == rng_s.standard_normal()


def test_antithetic_pairs_are_unbiased_for_the_risk():
    """The antithetic mean of the quantized risk agrees with plain independent runs."""
    problem = Problem(d=6, a=2.0, gamma=0.2, batch=2)
    quant = Quantization("params", "additive", 0.05)
    _, paired = nc.antithetic_risk(problem, quant, 64, 4000, 5)
    plain = simulate.simulate_risk(
        problem, simulate.idealized(quant), np.array([64]), 4000, 6
    ).average[:, -1]
    se = np.hypot(paired.std(), plain.std()) / np.sqrt(4000)
    assert abs(paired.mean() - plain.mean()) < 5 * se


def test_log_slope_doctest():
    assert doctest.testmod(nc).failed == 0


def test_additive_rises_are_proportional_to_eps_run_by_run():
    """Why the claim matches the largest eps only: the smaller columns repeat it exactly."""
    sweep = nc.measure_eps_sweep(PROBLEM, "activations", "additive", nc.EPS_GRID, 64, 8, 3)
    rise = sweep.average[:, 1:] - sweep.average[:, :1]
    np.testing.assert_allclose(rise, rise[:, -1:] * sweep.eps[1:] / sweep.eps[-1], rtol=1e-6)


def test_plain_run_is_the_unmirrored_half_of_the_pair():
    sweep = nc.measure_eps_sweep(PROBLEM, "params", "additive", (0.0, 0.01), 32, 4, 5)
    plus, minus = nc.mirrored_pair(PROBLEM, sweep.quantization(0.01), sweep.steps, 4, 5)
    np.testing.assert_array_equal(sweep.plain, plus[1])
    np.testing.assert_allclose(sweep.average[:, 1], (plus[1] + minus[1]) / 2)


def test_equivalence_checks_pass_only_inside_the_tolerance():
    table = nc.Checks()
    table.add_equivalence("near", 0.05, 0.01, 0.3)
    table.add_equivalence("far", 0.25, 0.01, 0.3)
    assert table.comparisons == 2
    assert table.failed(6.0) == ["far"] and table.failed(2.0) == []
    assert table.equivalence_room(6.0) == pytest.approx(0.3 - 0.31)


def test_linear_scaling_rule_keeps_the_additive_term_nearly_flat():
    """Exercise 2: gamma = 0.05 B at fixed N, by the recursion alone."""
    quant = Quantization("activations", "additive", 0.01)
    last, average = nc.scaled_step_terms(
        Problem(d=100, a=2.0, gamma=0.2), quant, (1, 8), 1024, 0.05
    )
    assert 0.8 < last[1] / last[0] < 1.4 and 0.8 < average[1] / average[0] < 1.25


# --- readable errors ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("grid", "message"),
    [((0.001, 0.01), "start at 0"), ((0.0, 0.01, 0.005), "increase"), ((0.0,), "at least")],
)
def test_eps_grid_must_start_at_zero_and_increase(grid, message):
    with pytest.raises(ValueError, match=message):
        nc.measure_eps_sweep(PROBLEM, "params", "additive", grid, 64, 4, 0)


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="runs must be >= 2"):
        nc.measure_eps_sweep(PROBLEM, "params", "additive", (0.0, 0.01), 64, 1, 0)
    with pytest.raises(ValueError, match="kind must be one of"):
        nc.measure_eps_sweep(PROBLEM, "params", "float", (0.0, 0.01), 64, 4, 0)
    with pytest.raises(ValueError, match="eps must be > 0"):
        nc.measure_batch_sweep(PROBLEM, "params", "additive", 0.0, (1, 2), 64, 4, 0)
    with pytest.raises(ValueError, match="batches must increase"):
        nc.measure_batch_sweep(PROBLEM, "params", "additive", 0.01, (2, 1), 64, 4, 0)
    with pytest.raises(ValueError, match="B must divide N"):
        nc.measure_batch_sweep(PROBLEM, "params", "additive", 0.01, (1, 3), 64, 4, 0)
    labels = nc.measure_batch_sweep(PROBLEM, "labels", "additive", 0.01, (1, 2), 16, 4, 0)
    with pytest.raises(ValueError, match="not one of the claim's sweeps"):
        nc.batch_claim([labels])


# --- the claims on the chapter's quick setting, and their mutations --------------------------


def _sweeps(seed=11):
    seeds = np.random.SeedSequence(seed).spawn(len(SWEEPS) + 1)
    sweeps = [
        nc.measure_eps_sweep(PROBLEM, t, k, nc.EPS_GRID, SAMPLES, RUNS, s)
        for (t, k), s in zip(SWEEPS, seeds, strict=False)
    ]
    control = nc.measure_control(PROBLEM, nc.EPS_GRID[-1], SAMPLES, RUNS, seeds[-1])
    return sweeps, control


def _batch_sweeps(seed=12):
    base = replace(PROBLEM, batch=1)
    seeds = np.random.SeedSequence(seed).spawn(len(BATCH_SWEEPS))
    return [
        nc.measure_batch_sweep(base, t, k, nc.BATCH_EPS, nc.BATCH_GRID, SAMPLES, RUNS, s)
        for (t, k), s in zip(BATCH_SWEEPS, seeds, strict=True)
    ]


@pytest.fixture(scope="module")
def measured():
    return _sweeps()


@pytest.fixture(scope="module")
def batch_measured():
    return _batch_sweeps()


def test_amplification_claim_passes(measured):
    claim = nc.amplification_claim(*measured)
    assert claim.passed, claim.as_text()
    assert claim.id == "lr.noise_amplification" and "to spare" in claim.margin
    assert (
        "pooled ratio" in claim.margin
        and "< 1 (slowest" in claim.measured["largest stability radius"]
    )


def test_control_is_exactly_zero_for_multiplicative_gradients(measured):
    _, control = measured
    for sweep in control:
        risks = np.concatenate([sweep.last, sweep.average])
        if sweep.kind == "additive":
            assert risks[:, -1].mean() > 0
        else:
            assert np.abs(risks).max() <= nc.ZERO_RISK


def test_batch_claim_passes(batch_measured):
    claim = nc.batch_claim(batch_measured)
    assert claim.passed, claim.as_text()
    assert claim.id == "lr.batch_scaling" and "to spare" in claim.margin


def _patched_curve(monkeypatch, change):
    """Replace the recursion's quantized curves by ``change(problem, quant, steps, real)``."""
    real = recursion.risk_curve

    def curve(problem, quant, steps):
        if quant is None or quant.eps == 0:
            return real(problem, quant, steps)
        return change(problem, quant, steps, real)

    monkeypatch.setattr(recursion, "risk_curve", curve)


def _scaled_term(factor):
    """The quantization term of the prediction multiplied by ``factor(problem)``."""

    def change(problem, quant, steps, real):
        quantized, plain = real(problem, quant, steps), real(problem, None, steps)
        scale = factor(problem)
        return recursion.RiskCurve(
            quantized.steps,
            plain.last + scale * (quantized.last - plain.last),
            plain.average + scale * (quantized.average - plain.average),
        )

    return change


@pytest.mark.mutation("lr.noise_amplification")
@pytest.mark.parametrize("factor", [-1.0, 0.0], ids=["sign-flipped", "term-zero"])
def test_amplification_fails_when_the_predicted_term_has_the_wrong_sign_or_is_zero(
    monkeypatch, measured, factor
):
    _patched_curve(monkeypatch, _scaled_term(lambda problem: factor))
    claim = nc.amplification_claim(*measured)
    assert not claim.passed and "predicted to rise" in claim.measured["failed checks"]


@pytest.mark.mutation("lr.noise_amplification")
def test_amplification_fails_when_the_prediction_loses_the_one_over_b(monkeypatch, measured):
    """Injected noise eps gamma^2 lambda_i without the 1/B (the batch's averaging forgotten)."""
    _patched_curve(monkeypatch, _scaled_term(lambda problem: problem.batch))
    claim = nc.amplification_claim(*measured)
    assert not claim.passed and "matches" in claim.measured["failed checks"]


@pytest.mark.mutation("lr.noise_amplification")
def test_amplification_fails_when_the_simulated_noise_is_not_monotone_in_eps(monkeypatch):
    """A quantizer whose variance falls as eps grows (eps -> 0.011 - eps on the grid)."""
    real = simulate.idealized

    def reversed_eps(quant):
        return real(replace(quant, eps=0.011 - quant.eps if quant.eps > 0 else 0.0))

    monkeypatch.setattr(simulate, "idealized", reversed_eps)
    claim = nc.amplification_claim(*_sweeps())
    assert not claim.passed and "rises" in claim.measured["failed checks"]


@pytest.mark.mutation("lr.noise_amplification")
@pytest.mark.parametrize("factor", [1.5, 1.25])
def test_amplification_fails_when_the_simulated_variance_is_off(monkeypatch, factor):
    """The simulation's idealized quantizer draws variance factor * eps instead of eps.

    At 1.25 no single sweep's match resolves it; the pooled ratio does.
    """
    real = simulate.idealized
    monkeypatch.setattr(simulate, "idealized", lambda q: real(replace(q, eps=factor * q.eps)))
    claim = nc.amplification_claim(*_sweeps())
    assert not claim.passed
    assert "pooled ratio (averaged) within tolerance" in claim.measured["failed checks"]


@pytest.mark.mutation("lr.noise_amplification")
def test_amplification_fails_when_the_quantizer_is_biased(monkeypatch):
    """Per-coordinate gradient quantizer with mean error 3 eps u (a relative bias 3 eps).

    The antithetic pairs cancel its first-order effect; only the plain run sees it.
    """
    real = simulate.idealized

    class Biased:
        def __init__(self, quant):
            self.inner, self.quant = real(quant), quant

        @property
        def target(self):
            return self.inner.target

        def apply(self, u, rng):
            out = self.inner.apply(u, rng)
            if (self.quant.target, self.quant.kind) != ("gradients", "mult_coord"):
                return out
            return out + 3.0 * self.quant.eps * np.asarray(u)

    monkeypatch.setattr(simulate, "idealized", Biased)
    claim = nc.amplification_claim(*_sweeps())
    failed = claim.measured["failed checks"]
    assert not claim.passed and "gradients mult_coord plain run" in failed


@pytest.mark.mutation("lr.noise_amplification")
def test_amplification_fails_when_multiplicative_noise_has_an_absolute_floor(monkeypatch):
    """Multiplicative quantizers that also add a small error of fixed size (not tied to u)."""
    real = simulate.idealized

    class Floored:
        def __init__(self, quant):
            self.inner, self.quant = real(quant), quant

        @property
        def target(self):
            return self.inner.target

        def apply(self, u, rng):
            out = self.inner.apply(u, rng)
            if self.quant.kind == "additive":
                return out
            return out + 1e-3 * np.sqrt(self.quant.eps) * rng.standard_normal(u.shape)

    monkeypatch.setattr(simulate, "idealized", Floored)
    sweeps, control = _sweeps()
    claim = nc.amplification_claim(sweeps, control)
    assert not claim.passed and "stays at zero" in claim.measured["failed checks"]


@pytest.mark.mutation("lr.noise_amplification", "lr.batch_scaling")
def test_claims_fail_when_the_recursion_is_unstable(monkeypatch, measured, batch_measured):
    monkeypatch.setattr(recursion, "stability_radius", lambda problem, quant: 1.01)
    for claim in (nc.amplification_claim(*measured), nc.batch_claim(batch_measured)):
        assert not claim.passed and "stable" in claim.measured["failed checks"]


@pytest.mark.mutation("lr.batch_scaling")
@pytest.mark.parametrize(
    "factor",
    [lambda problem: problem.batch, lambda problem: problem.batch**0.67],
    ids=["without-1/B", "exponent-0"],
)
def test_batch_claim_fails_when_the_predicted_exponent_is_wrong(
    monkeypatch, batch_measured, factor
):
    """The predicted term times B (the 1/B lost), or times B^0.67 (flat: exponent about 0)."""
    _patched_curve(monkeypatch, _scaled_term(factor))
    claim = nc.batch_claim(batch_measured)
    assert not claim.passed and "exponent matches" in claim.measured["failed checks"]


@pytest.mark.mutation("lr.batch_scaling")
def test_batch_claim_fails_when_the_additive_error_grows_with_the_batch(monkeypatch):
    """Additive error of variance eps * B on a batch vector: a grid scaled to the vector's norm.

    (One error shared by the whole batch would not do: the rows it multiplies
    are independent, so its noise still averages over the batch.)
    """
    real = simulate.idealized

    class PerTensor:
        def __init__(self, quant):
            self.inner, self.quant = real(quant), quant

        @property
        def target(self):
            return self.inner.target

        def apply(self, u, rng):
            if self.quant.kind != "additive" or self.quant.target == "params":
                return self.inner.apply(u, rng)
            return u + np.sqrt(self.quant.eps * u.shape[-1]) * rng.standard_normal(u.shape)

    monkeypatch.setattr(simulate, "idealized", PerTensor)
    claim = nc.batch_claim(_batch_sweeps())
    assert not claim.passed and "additive" in claim.measured["failed checks"]


@pytest.mark.mutation("lr.batch_scaling")
def test_batch_claim_fails_when_the_parameter_error_is_drawn_per_batch_row(monkeypatch):
    """A simulator that quantizes w afresh for every row of the batch: that noise averages.

    The parameter control's exponent then falls to the additive one's.
    """
    real_step = simulate.sgd_step

    def per_row_step(w, problem, quantizers, rng):
        if "params" not in quantizers:
            return real_step(w, problem, quantizers, rng)
        runs, dim = w.shape
        batch = problem.batch
        x = rng.standard_normal((runs, batch, dim)) * np.sqrt(problem.spectrum)
        noise = np.sqrt(problem.noise_var) * rng.standard_normal((runs, batch))
        y = x @ problem.w_star + noise
        rows = quantizers["params"].apply(np.repeat(w[:, None, :], batch, axis=1), rng)
        r = y - np.einsum("rbd,rbd->rb", x, rows)
        return w + (problem.gamma / batch) * np.einsum("rbd,rb->rd", x, r)

    monkeypatch.setattr(simulate, "sgd_step", per_row_step)
    claim = nc.batch_claim(_batch_sweeps())
    assert not claim.passed
    assert "params additive exponent above" in claim.measured["failed checks"]


def test_figures_draw_every_sweep(measured, batch_measured):
    import matplotlib.pyplot as plt

    from quantheory.lr.noise_figures import plot_batch_terms, plot_risk_vs_eps

    sweeps, _ = measured
    checks = [nc.check_sweep(s) for s in sweeps]
    fig = plot_risk_vs_eps(checks, nc.rise_lines(sweeps, points=3), 7.0)
    assert len(fig.axes) == 6 and all(ax.lines for ax in fig.axes)
    plt.close(fig)
    fig = plot_batch_terms([nc.check_batch_sweep(s) for s in batch_measured], 7.0)
    assert len(fig.axes) == 2 and len(fig.axes[0].get_legend().get_texts()) == len(BATCH_SWEEPS)
    plt.close(fig)
