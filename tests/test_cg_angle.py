import dataclasses

import numpy as np
import pytest

from quantheory.cg import angle, kernel
from quantheory.cg import network as nw
from quantheory.cg.angle_claims import angle_claim
from quantheory.cg.surrogates import surrogate_functions


def test_grid_dataset_is_the_papers():
    x, y = angle.grid_dataset(np.pi / 3)
    assert x.shape == (1760, 4) and np.bincount(y).tolist() == [880, 880]
    radii = np.linalg.norm(x, axis=1)
    np.testing.assert_allclose(np.unique(radii.round(12)), np.arange(10, 21) / 10)
    # class 1 lies in span(e3, e4); class 0 has e2 / e3 in the ratio tan(theta)
    assert np.all(x[y == 1][:, :2] == 0)
    first = x[y == 0]
    np.testing.assert_allclose(first[:, 1] * np.cos(np.pi / 3), first[:, 2] * np.sin(np.pi / 3))


def test_plane_bases_reject_angles_outside_the_range():
    with pytest.raises(ValueError, match="theta"):
        angle.plane_bases(2.0)
    with pytest.raises(ValueError, match="theta"):
        angle.plane_bases(0.0)


def test_kernel_matches_the_numpy_descent():
    x, y = angle.grid_dataset(np.deg2rad(60))
    rng = np.random.default_rng(0)
    data = x[None] + 0.02 * rng.standard_normal((4, *x.shape))
    w0 = 0.1 * rng.standard_normal((4, 4, 24))
    v = angle.second_layer()
    fast = kernel.relu_coarse_gradient_descent(w0, data, y, v, 4, 1.0, 3000)
    slow = nw.coarse_gradient_descent(
        w0, data, y, v, 4, surrogate_functions("relu", 4)[1], 1.0, 3000
    )
    np.testing.assert_array_equal(fast.steps_to_zero, slow.steps_to_zero)
    assert fast.converged.all()
    np.testing.assert_allclose(fast.w, slow.w, rtol=0, atol=1e-9)


def test_kernel_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="need x"):
        kernel.relu_coarse_gradient_descent(
            np.zeros((2, 4, 24)),
            np.zeros((3, 10, 4)),
            np.zeros(10, int),
            angle.second_layer(),
            4,
            1.0,
            5,
        )


@pytest.fixture(scope="module")
def sweep():
    return angle.angle_sweep(np.deg2rad([30, 50, 70, 90]), (0.0, 0.02), 10, 0.1, 20_000, seed=5)


def test_angle_claim_passes(sweep):
    claim = angle_claim(sweep, "s")
    assert claim.passed, claim.measured


@pytest.mark.mutation("cg.fig3_angle")
def test_angle_claim_fails_for_a_reversed_trend_or_a_run_that_did_not_finish(sweep):
    reversed_sweep = dataclasses.replace(sweep, steps=sweep.steps[:, ::-1])
    assert not angle_claim(reversed_sweep, "s").passed
    unfinished = sweep.steps.copy()
    unfinished[0, 0, 0] = -1
    assert not angle_claim(dataclasses.replace(sweep, steps=unfinished), "s").passed


def test_sweep_is_reproducible(sweep):
    again = angle.angle_sweep(np.deg2rad([30, 50, 70, 90]), (0.0, 0.02), 10, 0.1, 20_000, seed=5)
    np.testing.assert_array_equal(again.steps, sweep.steps)


@pytest.mark.mutation("cg.fig3_angle")
def test_angle_claim_fails_when_the_data_ignore_theta(monkeypatch):
    """The grid data set built at one angle whatever theta is asked for: no trend to find."""
    original = angle.grid_dataset
    monkeypatch.setattr(angle, "grid_dataset", lambda theta: original(np.deg2rad(50)))
    flat = angle.angle_sweep(np.deg2rad([30, 50, 70, 90]), (0.0, 0.02), 4, 0.1, 20_000, seed=5)
    claim = angle_claim(flat, "s")
    assert not claim.passed, claim.measured
