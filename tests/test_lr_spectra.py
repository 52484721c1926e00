import doctest
from dataclasses import dataclass

import numpy as np
import pytest

from quantheory.lr import recursion, spectra
from quantheory.lr import spectra_claims as checks
from quantheory.lr.formats import IntegerGrid
from quantheory.lr.model import Quantization
from quantheory.lr.simulate import idealized

A, EPS, D, SAMPLES, BATCHES = 2.0, 0.05, 40, 20_000, 40
RISK_D, RISK_SAMPLES, REPLICATES = 10, 8_000, 8
RISK_EPS = checks.RISK_EPS
GRID = IntegerGrid("data", 5, 8.0)
SPECTRUM = np.arange(1, D + 1, dtype=float) ** -A
COORDINATES = checks.coordinates_for(D)
W_STAR = np.ones(RISK_D)
RISK_SPECTRUM = np.arange(1, RISK_D + 1, dtype=float) ** -A


def _sample(quantizer, seed, label="sample"):
    return spectra.sample_spectrum(SPECTRUM, quantizer, SAMPLES, BATCHES, seed, COORDINATES, label)


def _ideal(kind, seed, eps=EPS):
    return _sample(idealized(Quantization("data", kind, eps)), seed, kind)


def _risks(kind, seed):
    quant = Quantization("data", kind, RISK_EPS)
    return spectra.least_squares_risks(RISK_SPECTRUM, W_STAR, quant, RISK_SAMPLES, REPLICATES, seed)


@pytest.fixture(scope="module")
def samples():
    return {
        "clean": _sample(None, 1, "clean"),
        "grid": _sample(GRID, 7, "int5 SR"),
        **{kind: _ideal(kind, 2 + i) for i, kind in enumerate(("additive", *MULT))},
    }


@pytest.fixture(scope="module")
def risks():
    return {kind: _risks(kind, 10 + i) for i, kind in enumerate(("additive", *MULT))}


MULT = ("mult_vector", "mult_coord")


def _additive_claim(samples, risks, quantized=None, grid=None):
    return checks.spectrum_additive_claim(
        samples["clean"],
        samples["additive"] if quantized is None else quantized,
        EPS,
        A,
        risks["additive"],
        W_STAR,
        samples["grid"] if grid is None else grid,
        GRID.step,
        "test",
    )


def _multiplicative_claim(samples, risks, quantized=None):
    return checks.spectrum_multiplicative_claim(
        samples["clean"],
        {k: samples[k] for k in MULT} if quantized is None else quantized,
        EPS,
        A,
        [risks[k] for k in MULT],
        W_STAR,
        "test",
    )


def test_docstring_examples():
    result = doctest.testmod(spectra)
    assert result.attempted > 0 and result.failed == 0


@pytest.mark.parametrize("kind", ["additive", *MULT])
def test_sympy_statements_hold(kind):
    assert spectra.statement_holds(kind)
    assert spectra.label_statement_holds(kind)


def test_risk_formulas_are_the_closed_forms():
    lam, w = SPECTRUM[:5], np.linspace(0.5, 2.0, 5)
    gap, clean = spectra.predicted_risks(lam, w, "additive", EPS)
    assert gap == pytest.approx(np.sum(EPS * lam * w**2 / (lam + EPS)))
    assert clean == pytest.approx(0.5 * np.sum(lam * w**2 * EPS**2 / (lam + EPS) ** 2))
    norm = np.sum(lam * w**2)
    for kind in MULT:
        gap, clean = spectra.predicted_risks(lam, w, kind, EPS)
        assert gap == pytest.approx(EPS / (1 + EPS) * norm)
        assert clean == pytest.approx(0.5 * (EPS / (1 + EPS)) ** 2 * norm)
    np.testing.assert_allclose(
        spectra.predicted_second_moments(lam, "additive", EPS), lam + EPS, rtol=1e-14
    )


@pytest.mark.parametrize("kind", ["additive", *MULT])
def test_fit_moments_vanish_unless_every_coordinate_appears_evenly(kind):
    """The reduction of E[x~_i^2 r^2] and E[x~_i x~_j^2 r] to pairs that fit_bias relies on."""
    x, xq, normals = spectra._quantized_row(kind, 2)
    target = spectra.risk_formulas(kind).target
    r = [
        w * xi - target.subs({spectra.lam: lam, spectra.w_star: w}) * xqi
        for xi, xqi, lam, w in zip(x, xq, spectra.LAMBDAS[:2], spectra.W_STARS, strict=True)
    ]
    for expr in (xq[0] ** 2 * r[0] * r[1], xq[0] * xq[1] ** 2 * r[1], xq[0] * r[0]):
        assert spectra.sp.simplify(spectra.gaussian_expectation(expr, normals)) == 0


@pytest.mark.parametrize("kind", ["additive", *MULT])
def test_fit_bias_matches_many_replicates(kind):
    """The derived O(1/n) bias of both estimates against 2,000 replicates at n = 300."""
    lam, w, n, reps = RISK_SPECTRUM, np.linspace(0.5, 1.5, RISK_D), 300, 2_000
    quant = Quantization("data", kind, RISK_EPS)
    fits = spectra.least_squares_risks(lam, w, quant, n, reps, 31)
    predicted = spectra.predicted_risks(lam, w, kind, RISK_EPS)
    bias = spectra.fit_bias(lam, w, kind, RISK_EPS, n)
    for values, p, b in zip((fits.gap, fits.clean), predicted, bias, strict=True):
        se = values.std(ddof=1) / np.sqrt(reps)
        assert abs(values.mean() - p - b) <= 4.5 * se, (values.mean() - p, b, se)
    # the bias is not negligible here: without it the clean risk is off by > 4.5 SE
    se = fits.clean.std(ddof=1) / np.sqrt(reps)
    assert abs(fits.clean.mean() - predicted[1]) > 4.5 * se
    with pytest.raises(ValueError, match=r"samples must exceed d = 10"):
        spectra.fit_bias(lam, w, kind, RISK_EPS, 10)


def test_stochastic_rounding_tail_refuses_inputs_beyond_the_step():
    tail = spectra.stochastic_rounding_tail(SPECTRUM, GRID.step, 10)
    assert np.all(np.isnan(tail[:9])) and spectra.loglog_slope(tail, 10) == pytest.approx(-A / 2)
    with pytest.raises(ValueError, match=r"the small-input formula step E\|x_i\| does not hold"):
        spectra.stochastic_rounding_tail(SPECTRUM, 0.2, 10)


def test_loglog_slope_and_its_refusals():
    values = np.arange(1, 21, dtype=float) ** -1.5
    assert spectra.loglog_slope(values, 5) == pytest.approx(-1.5)
    with pytest.raises(ValueError, match=r"1 values in the fit range are not positive"):
        spectra.loglog_slope(np.where(np.arange(20) == 10, 0.0, values), 5)
    with pytest.raises(ValueError, match=r"start must be between 1 and d - 1"):
        spectra.loglog_slope(values, 20)


def test_sample_spectrum_refuses_bad_arguments():
    with pytest.raises(ValueError, match=r"batches must be >= 2 and divide samples"):
        spectra.sample_spectrum(SPECTRUM, None, 1000, 3, 0, COORDINATES, "x")
    with pytest.raises(ValueError, match=r"coordinates must be 1-based indices <= d = 40"):
        spectra.sample_spectrum(SPECTRUM, None, 1000, 10, 0, (1, 41), "x")
    with pytest.raises(ValueError, match=r"spectrum must be positive"):
        spectra.sample_spectrum(-SPECTRUM, None, 1000, 10, 0, COORDINATES, "x")
    with pytest.raises(ValueError, match=r"quant must be a Quantization of the data"):
        spectra.least_squares_risks(
            RISK_SPECTRUM, W_STAR, Quantization("labels", "additive", EPS), 1000, 4, 0
        )


def test_sample_spectrum_keeps_the_right_moments():
    grid = IntegerGrid("data", 6, 8.0)
    sample = _sample(grid, 5)
    # the SR error's second moment against the exact Gaussian formula, coordinate by coordinate
    exact = spectra.predicted_error_second_moments(grid, SPECTRUM)
    assert np.all(np.abs(sample.error / exact - 1) < 0.1)
    assert sample.moment.shape == (D, D) and sample.batch_diagonal.shape == (BATCHES, D)
    np.testing.assert_allclose(sample.batch_diagonal.mean(axis=0), sample.diagonal, rtol=1e-12)
    assert np.all(sample.eigenvalues()[:-1] >= sample.eigenvalues()[1:])


def test_claims_pass_on_the_idealized_quantizers(samples, risks):
    additive = _additive_claim(samples, risks)
    assert additive.passed, additive.as_text()
    multiplicative = _multiplicative_claim(samples, risks)
    assert multiplicative.passed, multiplicative.as_text()


# ---- mutations of lr.spectrum_additive ----------------------------------------
@pytest.mark.mutation("lr.spectrum_additive")
def test_additive_claim_fails_without_the_eps_identity(samples, risks, monkeypatch):
    """The prediction H in place of H + eps I (the floor forgotten)."""
    monkeypatch.setattr(spectra, "predicted_second_moments", lambda lam, kind, eps: lam.copy())
    assert not _additive_claim(samples, risks).passed


@pytest.mark.mutation("lr.spectrum_additive")
def test_additive_claim_fails_on_a_relative_quantizer(samples, risks):
    """Data quantized multiplicatively with the same eps: no floor, the tail keeps its slope."""
    assert not _additive_claim(samples, risks, _ideal("mult_coord", 21)).passed


@pytest.mark.mutation("lr.spectrum_additive")
def test_additive_claim_fails_on_a_floor_of_half_the_size(samples, risks):
    """The additive quantizer with eps/2: a floor, but not the stated one."""
    assert not _additive_claim(samples, risks, _ideal("additive", 22, EPS / 2)).passed


@dataclass(frozen=True)
class _SharedNoise:
    """Additive noise with one draw per row, shared by all coordinates: H + eps 1 1^T."""

    eps: float
    target: str = "data"

    def apply(self, u, rng):
        return u + np.sqrt(self.eps) * rng.standard_normal((*u.shape[:-1], 1))


@pytest.mark.mutation("lr.spectrum_additive")
def test_additive_claim_fails_on_correlated_noise(samples, risks):
    """Same diagonal H + eps, but off-diagonal eps: only the off-diagonal test can see it."""
    claim = _additive_claim(samples, risks, _sample(_SharedNoise(EPS), 23))
    assert not claim.passed


@pytest.mark.mutation("lr.spectrum_additive")
def test_additive_claim_fails_with_the_gap_as_the_clean_risk(samples, risks, monkeypatch):
    """The summaries' gap formula used for the clean-input excess risk of the target."""
    real = spectra.predicted_risks
    monkeypatch.setattr(spectra, "predicted_risks", lambda *args: (real(*args)[0], real(*args)[0]))
    assert not _additive_claim(samples, risks).passed


@pytest.mark.mutation("lr.spectrum_additive")
def test_additive_claim_fails_when_the_grid_is_the_idealized_model(samples, risks):
    """The grid's rows replaced by the idealized additive model with eps = step^2/6: flat tail."""
    model = _ideal("additive", 25, GRID.step**2 / 6)
    assert not _additive_claim(samples, risks, grid=model).passed


@pytest.mark.mutation("lr.spectrum_additive")
def test_additive_claim_fails_with_the_models_grid_prediction(samples, risks, monkeypatch):
    """The grid's tail predicted by the idealized model lambda_i + step^2/6 (slope ~ 0)."""

    def model(spectrum, step, start):
        return spectrum + step**2 / 6

    monkeypatch.setattr(spectra, "stochastic_rounding_tail", model)
    assert not _additive_claim(samples, risks).passed


@pytest.mark.mutation("lr.spectrum_additive")
def test_additive_claim_fails_with_the_wrong_grid_exponent(samples, risks, monkeypatch):
    """The grid's tail predicted to decay like lambda_i (exponent a, not a/2)."""
    monkeypatch.setattr(spectra, "stochastic_rounding_tail", lambda spectrum, step, start: spectrum)
    assert not _additive_claim(samples, risks).passed


# ---- mutations of lr.spectrum_multiplicative -----------------------------------
@pytest.mark.mutation("lr.spectrum_multiplicative")
def test_multiplicative_claim_fails_without_the_rescaling(samples, risks, monkeypatch):
    """The prediction H in place of (1 + eps) H."""
    monkeypatch.setattr(spectra, "predicted_second_moments", lambda lam, kind, eps: lam.copy())
    assert not _multiplicative_claim(samples, risks).passed


@pytest.mark.mutation("lr.spectrum_multiplicative")
def test_multiplicative_claim_fails_on_additive_data(samples, risks):
    quantized = {"mult_vector": samples["additive"], "mult_coord": samples["mult_coord"]}
    assert not _multiplicative_claim(samples, risks, quantized).passed


@pytest.mark.mutation("lr.spectrum_multiplicative")
def test_multiplicative_claim_fails_on_stochastic_rounding_to_a_grid(samples, risks):
    """A real integer grid (error not proportional to |u|): the decay exponent changes."""
    grid = _sample(IntegerGrid("data", 8, 8.0), 24)
    quantized = {"mult_vector": samples["mult_vector"], "mult_coord": grid}
    assert not _multiplicative_claim(samples, risks, quantized).passed


@pytest.mark.mutation("lr.spectrum_multiplicative")
def test_multiplicative_claim_fails_with_the_gap_as_the_clean_risk(samples, risks, monkeypatch):
    """eps/(1+eps) |w*|_H^2 (the summaries' quantity) as the clean excess risk of w*/(1+eps)."""
    real = spectra.predicted_risks
    monkeypatch.setattr(spectra, "predicted_risks", lambda *args: (real(*args)[0], real(*args)[0]))
    assert not _multiplicative_claim(samples, risks).passed


@pytest.mark.mutation("lr.spectrum_multiplicative")
def test_multiplicative_claim_fails_without_the_one_over_one_plus_eps(samples, risks, monkeypatch):
    """eps |w*|_H^2 and eps^2 |w*|_H^2 / 2 in place of the 1/(1 + eps) forms, with the exact
    code-against-code comparison switched off: the least-squares data alone must fail it."""
    real = spectra.predicted_risks

    def wrong(spectrum, w, kind, eps):
        if kind == "additive":
            return real(spectrum, w, kind, eps)
        norm = float(np.sum(spectrum * w**2))
        return eps * norm, eps**2 * norm / 2

    monkeypatch.setattr(spectra, "predicted_risks", wrong)
    monkeypatch.setattr(
        recursion,
        "approximation_error",
        lambda problem, quant: wrong(problem.spectrum, problem.w_star, quant.kind, quant.eps)[1],
    )
    claim = _multiplicative_claim(samples, risks)
    assert not claim.passed
    assert "recursion: " in claim.as_text()  # the disabled comparison agrees with the mutation


def test_figures_and_table_draw(samples):
    from quantheory.lr import spectra_figures as figs

    predicted = {"clean": SPECTRUM, "additive": SPECTRUM + EPS}
    ideal = {k: samples[k] for k in ("clean", "additive")}
    fig = figs.plot_spectra(ideal, predicted, {"mult_vector": samples["mult_vector"]}, {})
    assert len(fig.axes) == 2
    grid = IntegerGrid("data", 6, 8.0)
    sr = {"int5 SR": _sample(grid, 6, "int5 SR")}
    exact = {"int5 SR": spectra.predicted_error_second_moments(grid, SPECTRUM)}
    model = {"int5 SR": np.full(D, grid.step**2 / 6)}
    assert len(figs.plot_relative_error(sr, exact, model).axes) == 1
    table = figs.error_table(sr, exact, model, COORDINATES)
    assert len(table.rows) == len(COORDINATES)
    mean, low, high = spectra.tail_slope_interval(sr["int5 SR"])
    assert low < mean < high
