"""The digits chapter's claims pass on a small real run and fail for their real failure modes."""

import dataclasses

import numpy as np
import pytest

from quantheory.cg import digits
from quantheory.cg import digits_claims as checks
from quantheory.cg import digits_norms as norms
from quantheory.cg.surrogates import ADMISSIBLE

FULL = (digits.FULL_PRECISION, 32)
SCHEDULE = digits.Schedule(epochs=4, decay_every=3)
HIDDEN = 32
#: looser than the chapter's 3 points: four epochs instead of thirty
MARGIN = 5.0


def act(name, bits):
    return digits.activation(name, None if bits == 32 else bits)


@pytest.fixture(scope="module")
def splits():
    return digits.load_digits_splits(24, 0.2, seed=5)


@pytest.fixture(scope="module")
def runs(splits):
    rows = (
        [FULL]
        + [(name, bits) for name in ADMISSIBLE for bits in (2, 4)]
        + [(name, bits) for name in checks.INADMISSIBLE for bits in (2, 4)]
        + [(digits.FROZEN_HIDDEN, 2)]
    )
    return digits.train_rows(splits, rows, HIDDEN, SCHEDULE, seed=6)


@pytest.fixture(scope="module")
def controls(splits):
    constant = dataclasses.replace(SCHEDULE, decay_every=None)
    rows = [FULL, ("relu", 2)]
    return {
        "constant": digits.train_rows(splits, rows, HIDDEN, constant, 6),
        "no batch norm": digits.train_rows(splits, rows, HIDDEN, SCHEDULE, 6, normalise=False),
    }


def test_table2_renders_every_row_with_its_role(runs):
    text = checks.table2(runs, checks.table2_comparisons(runs)).as_text()
    assert text.count("control: violates Assumption 2") == 4
    assert "99.45" in text and "hidden layers frozen" in text


def table2_claim(runs, gradient_error=1e-9):
    return checks.table2_claim(runs, MARGIN, gradient_error, "s")


@pytest.mark.mutation("cg.table2_digits")
def test_table2_claim_fails_when_a_row_cannot_train_its_hidden_layers(runs):
    assert table2_claim(runs).passed
    assert not table2_claim({**runs, ("relu", 2): runs[(digits.FROZEN_HIDDEN, 2)]}).passed
    assert not table2_claim(runs, gradient_error=1e-3).passed  # backward pass off


@pytest.mark.mutation("cg.table2_digits")
def test_table2_claim_fails_for_a_broken_coarse_backward_pass(runs, splits, monkeypatch):
    coarse = digits.Activation.backward

    def wrong_sign(self, u):  # the surrogate's derivative with the wrong sign
        return -coarse(self, u) if self.surrogate in ADMISSIBLE else coarse(self, u)

    monkeypatch.setattr(digits.Activation, "backward", wrong_sign)
    broken = digits.train(splits, act("relu", 2), HIDDEN, SCHEDULE, seed=6)
    assert not table2_claim({**runs, ("relu", 2): broken}).passed


@pytest.mark.mutation("cg.table2_digits")
def test_table2_claim_fails_when_the_control_trains(runs):
    trained_control = {**runs, (digits.FROZEN_HIDDEN, 2): runs[("relu", 2)]}
    assert not table2_claim(trained_control).passed


def controls_claim(runs):
    return checks.controls_claim(runs, MARGIN, "s")


@pytest.mark.mutation("cg.table2_controls")
def test_controls_claim_fails_when_the_identity_does_not_train(runs):
    assert controls_claim(runs).passed
    frozen = runs[(digits.FROZEN_HIDDEN, 2)]
    assert not controls_claim({**runs, ("identity", 4): frozen}).passed


@pytest.mark.mutation("cg.table2_controls")
def test_controls_claim_fails_when_the_clipped_relu_trains_like_the_admissible_ones(runs):
    admissible_like = {**runs, ("clipped_relu", 4): runs[("relu", 4)]}
    assert not controls_claim(admissible_like).passed


def norm_claim(runs, control, bound=3.0):
    return norms.norm_growth_claim(runs, control, bound, "s")


@pytest.mark.mutation("cg.fig6_norm_growth")
def test_norm_growth_claim_fails_for_shrinking_norms(runs, controls):
    control = controls["no batch norm"][("relu", 2)]
    assert norm_claim(runs, control).passed
    shrinking = {
        key: dataclasses.replace(run, weight_norms=run.weight_norms[::-1])
        for key, run in runs.items()
    }
    assert not norm_claim(shrinking, control).passed


@pytest.mark.mutation("cg.fig6_norm_growth")
def test_norm_growth_claim_fails_when_the_control_stays_bounded(runs, controls):
    bounded_control = controls["constant"][("relu", 2)]  # with batch norm
    assert not norm_claim(runs, bounded_control).passed


def fig6_controls_claim(constant, no_batch_norm):
    return norms.controls_claim(constant, no_batch_norm, SCHEDULE.decay_every, 0.5, "s")


@pytest.mark.mutation("cg.fig6_controls")
def test_fig6_controls_fail_when_the_rate_drops_where_the_claim_says_it_is_constant(controls):
    constant, no_bn = controls["constant"], controls["no batch norm"][FULL]
    assert fig6_controls_claim(constant, no_bn).passed
    # trained at a constant rate, but booked with the schedule's drop: the growth
    # after the drop per unit of (booked) learning rate does not level off
    stepped = {
        key: dataclasses.replace(run, rates=SCHEDULE.rates()) for key, run in constant.items()
    }
    assert not fig6_controls_claim(stepped, no_bn).passed


@pytest.mark.mutation("cg.fig6_controls")
def test_fig6_controls_fail_when_norms_without_batch_norm_shrink(controls):
    no_bn = controls["no batch norm"][FULL]
    shrinking = dataclasses.replace(no_bn, weight_norms=no_bn.weight_norms[::-1])
    assert not fig6_controls_claim(controls["constant"], shrinking).passed


def test_growth_per_rate_divides_by_the_summed_rates():
    norms_ = np.array([1.0, 2.0, 2.5, 2.6])[:, None, None] * np.ones((1, 2, 3))
    run = digits.TrainingRun(np.zeros(2), norms_, np.zeros((3, 2)), np.array([0.1, 0.1, 0.01]))
    np.testing.assert_allclose(norms.growth_per_rate(run, 0, 2), 1.5 / 0.2)
    np.testing.assert_allclose(norms.levelling_ratio(run, 2), (0.1 / 0.01) / (1.5 / 0.2))
    with pytest.raises(ValueError, match="start"):
        norms.growth_per_rate(run, 2, 2)
