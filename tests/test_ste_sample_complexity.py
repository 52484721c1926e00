import dataclasses
import itertools
import pickle

import numpy as np
import pytest
from scipy.special import expit

from quantheory.seeding import paired
from quantheory.ste import sample_complexity as sc
from quantheory.ste import sample_complexity_claims as checks
from quantheory.ste.engine import sample_trials
from quantheory.ste.model import second_layer
from quantheory.ste.symbolic import population_gradient_numeric

SIZES = np.array(sc.log2_grid(2, 16))


def synthetic_counts(n50s, trials, slope=4.0):
    """Exact expected counts of a logistic curve in log N (no sampling noise)."""
    p = expit(slope * (np.log(SIZES)[None, :] - np.log(np.asarray(n50s))[:, None]))
    return np.round(p * trials).astype(int)


def test_fit_n50_recovers_a_known_transition():
    counts = synthetic_counts([10.0, 40.0], 10_000)
    np.testing.assert_allclose(sc.fit_n50(SIZES, counts, 10_000), [10.0, 40.0], rtol=0.01)


def test_fit_n50_refuses_to_extrapolate():
    with pytest.raises(ValueError, match=r"never crosses 50 %"):
        sc.fit_n50(SIZES, np.zeros((1, SIZES.size), dtype=int), 10)


def test_fit_exponent_recovers_a_known_power_law():
    ns = np.array([8, 12, 20])
    counts = synthetic_counts(2.0 * ns**1.5, 2000)
    fit = sc.fit_exponent(ns, SIZES, counts, 2000)
    assert fit.alpha == pytest.approx(1.5, abs=0.02)
    low, high = fit.n50_interval()
    assert np.all(low < fit.n50) and np.all(fit.n50 < high)


def test_profile_marks_censored_rows_instead_of_raising():
    counts = np.vstack([synthetic_counts([30.0], 64)[0], np.zeros(SIZES.size, dtype=int)])
    profile = sc.profile_n50(SIZES, counts, 64)
    assert list(profile.censored) == [False, True] and np.isnan(profile.n50[1])
    low, high = profile.budget_interval(2)
    assert high[1] == np.inf and low[1] > SIZES[-1] / 2


def test_profile_interval_keeps_its_level():
    """95 % profile intervals of binomial data with a known N50 cover it about 95 % of the time."""
    rng = np.random.default_rng(3)
    sizes = np.array(sc.log2_grid(4, 14))
    p = expit(3.0 * (np.log(sizes) - np.log(30.0)))
    covered = 0
    for _ in range(80):
        profile = sc.profile_n50(sizes, rng.binomial(32, p)[None, :], 32)
        low, high = profile.interval(0.05)
        covered += bool(low[0] <= 30.0 <= high[0])
    assert covered >= 70  # 95 % of 80 is 76; Binomial(80, 0.95) < 70 has probability < 0.1 %


def test_wide_interval_keeps_its_level_when_the_curve_is_not_logistic():
    """A cloglog success curve in log N: at alpha = 1e-3 the profile interval misses N50
    far more often than 1 in 1000; the wider interval (model-free one included) does not."""
    rng = np.random.default_rng(5)
    sizes = np.array(sc.log2_grid(4, 16))
    n50, slope = 40.0, 3.0
    p = 1 - np.exp(-np.log(2.0) * np.exp(slope * (np.log(sizes) - np.log(n50))))
    profile = sc.profile_n50(sizes, rng.binomial(64, p, size=(300, sizes.size)), 64)

    def misses(low, high):
        return int(np.sum((n50 < low) | (high < n50)))

    assert misses(*profile.interval(1e-3)) >= 5  # nominal 0.3 of 300
    assert misses(*profile.wide_interval(1e-3)) <= 1


def test_model_free_interval_brackets_by_the_cells():
    profile = sc.profile_n50(SIZES, synthetic_counts([30.0], 10_000), 10_000)
    low, high = profile.model_free_interval(1e-3)
    assert SIZES[SIZES < 30].max() == low[0] and SIZES[SIZES > 30].min() == high[0]


def test_grid_sample_sizes_follow_the_stated_range():
    sizes = sc.grid_sample_sizes((10, 25, 50))
    assert sizes[0] <= 5 and sizes[-1] >= 250 and sizes[-2] < 250
    params = sc.phase_grid_parameters()
    assert params["sample_sizes"] == sc.grid_sample_sizes(params["ns"])


def test_all_binary_vectors():
    u = sc.all_binary_vectors(4)
    assert u.shape == (16, 4) and len({tuple(r) for r in u}) == 16
    with pytest.raises(ValueError, match=r"n must be at most 16"):
        sc.all_binary_vectors(17)


@pytest.fixture(scope="module")
def deviation():
    return sc.uniform_deviation(6, 8, (50, 100, 200, 400, 800, 1600), 16, 4)


def test_linf_concentration_passes_with_the_right_rate(deviation):
    claim = checks.linf_concentration_claim(deviation, 200, 1)
    assert claim.passed and "fails above" in claim.margin


@pytest.mark.mutation("ste.linf_concentration")
@pytest.mark.parametrize("wrong", [-1.0, -0.25, 0.0])
def test_linf_concentration_fails_with_a_wrong_rate(deviation, wrong):
    assert not checks.linf_concentration_claim(deviation, 200, 1, exponent=wrong).passed


def scaled_population_gradient(U, w_star, v):
    """A wrong E g(u): the right formula times 1.2."""
    return 1.2 * population_gradient_numeric(U, w_star, v)


@pytest.mark.mutation("ste.linf_concentration")
def test_linf_concentration_fails_when_the_mean_gradient_is_wrong():
    """E g scaled by 1.2, at the chapter's quick-scale sizes (n = 10, m = 16, 24 sets)."""
    sizes = (50, 100, 200, 400, 800, 1600, 3200)
    wrong = sc.uniform_deviation(10, 16, sizes, 24, 4, expected_gradient=scaled_population_gradient)
    assert not checks.linf_concentration_claim(wrong, 200, 1).passed


@pytest.fixture(scope="module")
def growth():
    return sc.deviation_by_dimension((4, 6, 8, 10), 8, 200, 48, 5)


def test_linf_n_growth_passes_and_the_deviation_grows(growth):
    claim = checks.linf_n_growth_claim(growth, 200, 2)
    assert claim.passed and claim.kind == "finding"
    fitted, se, _ = checks.deviation_growth_slope(growth, 200, 2)
    assert 0 < fitted < 0.7 and se > 0


@pytest.mark.mutation("ste.linf_n_growth")
def test_linf_n_growth_fails_when_the_deviation_does_not_grow(growth):
    fitted, _, _ = checks.deviation_growth_slope(growth, 200, 2)
    flat = dataclasses.replace(growth, deviations=growth.deviations / growth.ns[None, :] ** fitted)
    assert not checks.linf_n_growth_claim(flat, 200, 2).passed


@pytest.mark.mutation("ste.linf_n_growth")
def test_linf_n_growth_fails_when_the_deviation_grows_like_n(growth):
    """Data side: a deviation that grows a full power of n faster breaks the union bound."""
    faster = dataclasses.replace(growth, deviations=growth.deviations * growth.ns[None, :] ** 1.0)
    assert not checks.linf_n_growth_claim(faster, 200, 2).passed


def test_linf_n_growth_says_it_cannot_separate_the_rates(growth):
    """At n from 4 to 10 sqrt(log n)'s slope sits inside b's interval: the claim says so."""
    claim = checks.linf_n_growth_claim(growth, 200, 2)
    assert "sqrt(log n) (coordinates alone)" in claim.measured["slopes inside it"]
    assert "cannot separate" in claim.statement


def test_union_bound_slope_tends_to_one_half():
    assert checks.coordinate_max_slope(np.array([4, 14])) == pytest.approx(0.265, abs=0.02)

    assert checks.union_bound_slope(np.array([4, 14])) < 0.5
    assert checks.union_bound_slope(np.array([1000, 2000])) == pytest.approx(0.5, abs=0.01)


@pytest.mark.parametrize("chunk", [256, 3])
def test_deviation_matches_a_direct_computation(chunk):
    """One chunk of all 16 u, and chunks of 3 (the loop over chunks, a short last one)."""
    sample = sc.uniform_deviation(4, 5, (30,), 1, 11, chunk=chunk)
    rng = np.random.default_rng(np.random.SeedSequence(11))
    w_star = rng.choice([-1.0, 1.0], size=4)
    Z = rng.standard_normal((30, 5, 4))
    v = second_layer(5)
    y = np.where(Z @ w_star >= 0, 1.0, -1.0) @ v
    worst = 0.0
    for u in sc.all_binary_vectors(4):
        g = np.mean(
            [((np.where(Z[k] @ u >= 0, 1, -1) @ v) - y[k]) * Z[k].T @ v for k in range(30)], axis=0
        )
        expected = np.sqrt(2 / np.pi) * (u - w_star) / 2.0
        worst = max(worst, np.abs(g - expected).max())
    assert sample.deviations[0, 0] == pytest.approx(worst)


def _plain_prediction(U, w_star, v):
    """A stand-in for E g(u) (any function of u will do for checking the maximum)."""
    return 0.4 * (U - w_star) + 0.01 * U.sum(axis=1, keepdims=True)


@pytest.mark.parametrize("n", [4, 5, 6, 7, 8])
def test_deviation_kernel_matches_brute_force_over_all_binary_vectors(n):
    """The compiled kernel's worst deviation against plain NumPy over every u in {-1, 1}^n
    (listed by itertools, not by the package), at nested N, with label noise, for two
    training sets and chunks of 7 vectors (a short last chunk)."""
    m, sizes, replicates, noise = 6, (9, 20, 41), 2, 0.3
    sample = sc.uniform_deviation(
        n, m, sizes, replicates, 3, noise, chunk=7, expected_gradient=_plain_prediction
    )
    rng = np.random.default_rng(np.random.SeedSequence(3))
    for r in range(replicates):
        cube, w_star, gradients = _plain_replicate(rng, n, m, sizes, noise)
        worst = np.abs(gradients - _plain_prediction(cube, w_star, second_layer(m))).max(
            axis=(1, 2)
        )
        np.testing.assert_allclose(sample.deviations[r], worst, rtol=1e-12, atol=1e-14)


def _plain_replicate(rng, n, m, sizes, noise):
    """One training set drawn from ``rng`` as the kernel draws it, and the STE gradient
    at every u in {-1, 1}^n (itertools' order) and every N of ``sizes``, in plain NumPy:
    the cube (2^n, n), w* (n,) and the gradients (S, 2^n, n)."""
    v = second_layer(m)
    cube = np.array(list(itertools.product([-1.0, 1.0], repeat=n)))  # (2^n, n)
    w_star = rng.choice([-1.0, 1.0], size=n)
    Z = rng.standard_normal((sizes[-1], m, n))
    y = np.where(Z @ w_star >= 0, 1.0, -1.0) @ v + noise * rng.standard_normal(sizes[-1])
    hidden = np.where(np.einsum("kij,uj->uki", Z, cube) >= 0, 1.0, -1.0)  # (2^n, N, m)
    residual = hidden @ v - y  # (2^n, N)
    projections = np.einsum("kij,i->kj", Z, v)  # (N, n)
    return cube, w_star, np.array([residual[:, :N] @ projections[:N] / N for N in sizes])


@pytest.mark.parametrize("n", [4, 5])
def test_deviation_kernel_checks_every_binary_vector_one_by_one(n):
    """A stand-in E g of +-100 (every coordinate) at one u0 and 0 elsewhere makes the
    worst deviation 100 - min_j g_j(u0) (or 100 + max_j g_j(u0)): so the kernel must
    visit u0 and compute its gradient right, for every u0 of {-1, 1}^n in turn."""
    m, sizes, noise, seed = 6, (9, 20), 0.3, 11
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    cube, _, plain = _plain_replicate(rng, n, m, sizes, noise)
    for index, u0 in enumerate(cube):
        for spike in (100.0, -100.0):

            def spiked(U, w_star, v, u0=u0, spike=spike):
                return np.where(np.all(U == u0, axis=1)[:, None], spike, 0.0) * np.ones(n)

            sample = sc.uniform_deviation(
                n, m, sizes, 1, seed, noise, chunk=7, expected_gradient=spiked
            )
            at_u0 = plain[:, index]  # (S, n)
            want = 100.0 - at_u0.min(axis=1) if spike > 0 else 100.0 + at_u0.max(axis=1)
            np.testing.assert_allclose(sample.deviations[0], want, rtol=1e-12)


@pytest.fixture(scope="module")
def small_grid():
    return sc.success_grid([6, 12], sc.log2_grid(2, 12), 12, 200, 7)


def test_grid_counts_are_consistent(small_grid):
    g = small_grid
    assert np.all((0 <= g.ergodic) & (g.ergodic <= g.n_trials))
    assert np.all(g.last_only <= g.last) and np.all(g.last_only_early == 0)
    assert np.all(g.fixed_not_at_star == 0)
    assert g.ergodic[:, -1].min() > g.ergodic[:, 0].max()  # more samples help


def independent_estimates(Z, labels, v, n_steps):
    """The STE method written out per trial, keeping its trajectory u^1..u^T.

    Z has shape (N, m, n); returns the ergodic estimate Q(mean_t u^t) (sign(0) = +1)
    and the last iterate Q(w^T), each of shape (n,).
    """
    projections = np.einsum("kmj,m->kj", Z, v)  # Z_k^T v, shape (N, n)
    w = np.zeros(Z.shape[2])
    trajectory = []
    for _ in range(n_steps):
        u = np.where(w >= 0, 1.0, -1.0)
        residual = np.where(Z @ u >= 0, 1.0, -1.0) @ v - labels  # (N,)
        w = w - projections.T @ residual / len(labels)
        trajectory.append(np.where(w >= 0, 1.0, -1.0))
    ergodic = np.where(np.mean(trajectory, axis=0) >= 0, 1.0, -1.0)
    return ergodic, np.where(w >= 0, 1.0, -1.0)


def test_grid_counts_the_ergodic_estimate_not_the_last_iterate():
    """Recount one grid from stored trajectories; ergodic and last counts differ here,
    so a grid that counted the last iterate as the ergodic one (or the reverse) fails."""
    ns, sizes, trials, steps, seed = [5], [6, 10], 60, 9, 17
    grid = sc.success_grid(ns, sizes, trials, steps, seed, m=8, noise_std=0.5)
    ergodic, last = np.zeros((1, 2), dtype=int), np.zeros((1, 2), dtype=int)
    for (i, j), child in paired(list(itertools.product([0], [0, 1])), seed):
        for trial_seed in sc.trial_seeds(child, trials):
            batch = sample_trials(
                ns[i], sizes[j], 1, trial_seed, m=8, noise_std=0.5, dtype=sc.SWEEP_DTYPE
            )
            Z = batch.Z[0].transpose(1, 2, 0).astype(float)  # (N, m, n)
            e, w = independent_estimates(Z, batch.labels()[0], batch.v, steps)
            ergodic[i, j] += np.array_equal(e, batch.w_star[0])
            last[i, j] += np.array_equal(w, batch.w_star[0])
    assert np.any(ergodic != last)  # the case tells the two estimates apart
    np.testing.assert_array_equal(grid.ergodic, ergodic)
    np.testing.assert_array_equal(grid.last, last)


WIDE_SIZES = np.array(sc.log2_grid(2, 40))
V = second_layer(128)


def synthetic_grid(n50s, ns, trials=200, sizes=WIDE_SIZES):
    """A success grid whose rows are exact logistic curves with the given N50s."""
    p = expit(4.0 * (np.log(sizes)[None, :] - np.log(np.asarray(n50s))[:, None]))
    counts = np.round(p * trials).astype(int)
    zeros = counts * 0
    return sc.SuccessGrid(
        np.asarray(ns),
        sizes,
        trials,
        100,
        0.0,
        counts,
        counts,
        zeros,
        counts,
        zeros,
        zeros,
        "synthetic",
    )


def grid_fit(grid):
    return sc.fit_exponent(grid.ns, grid.sample_sizes, grid.ergodic, grid.n_trials)


def synthetic_pairing(mismatches, trials=512, last_mismatches=0):
    """A float32/float64 pairing whose first ``mismatches`` trials decide differently
    (ergodic), and whose last ``last_mismatches`` differ in the last iterate."""
    double = np.arange(trials) % 2 == 0
    single = double.copy()
    single[:mismatches] = ~single[:mismatches]
    single_last = double.copy()
    single_last[trials - last_mismatches :] = ~single_last[trials - last_mismatches :]
    cell = sc.GridCell(50, 100, trials, 500)
    return sc.StoragePairing(cell, single, double, single_last, double.copy(), "synthetic")


NO_MISMATCH = synthetic_pairing(0)


NS = np.array([10, 20, 40, 80])


def test_budget_intervals_are_wider_than_95_percent():
    fit = grid_fit(synthetic_grid(2.0 * NS**1.5, NS))
    low95, high95 = fit.n50_interval()
    low, high = fit.n50_budget_interval(4)
    assert np.all(low < low95) and np.all(high > high95)
    assert np.all(low < fit.n50) and np.all(fit.n50 < high)


def test_local_exponents_follow_a_bend():
    n50 = np.where(NS <= 20, 2.0 * NS**1.2, 2.0 * 20**1.2 * (NS / 20.0) ** 1.8)
    local = sc.local_exponents(grid_fit(synthetic_grid(n50, NS)))
    np.testing.assert_allclose(local.slope, [1.2, 1.8, 1.8], atol=0.05)
    assert np.all(local.low <= local.slope) and np.all(local.slope <= local.high)
    assert np.all(local.budget_low < local.low) and np.all(local.high < local.budget_high)
    np.testing.assert_allclose(local.n_mid, np.sqrt(NS[:-1] * NS[1:]))


def test_phase_transition_claim_passes_below_n2():
    grid = synthetic_grid(2.0 * NS**1.5, NS)
    claim = checks.phase_transition_claim(grid, grid_fit(grid), V, storage=NO_MISMATCH)
    assert claim.passed and "fails below 1" in claim.margin


def test_smallest_accepted_exponent_is_the_edge_of_part_a():
    grid = synthetic_grid(2.0 * NS**1.5, NS)
    fit = grid_fit(grid)
    intervals = fit.n50_budget_interval(checks.phase_transition_comparisons(fit))
    power = checks.smallest_accepted_exponent(fit.ns, *intervals)
    assert 1.0 < power < 1.5
    assert checks.phase_transition_claim(
        grid, fit, V, storage=NO_MISMATCH, exponent=power + 0.01
    ).passed
    assert not checks.phase_transition_claim(
        grid, fit, V, storage=NO_MISMATCH, exponent=power - 0.01
    ).passed


@pytest.mark.mutation("ste.thm1_phase_transition")
def test_phase_transition_claim_fails_with_a_linear_bound():
    grid = synthetic_grid(2.0 * NS**1.5, NS)
    assert not checks.phase_transition_claim(
        grid, grid_fit(grid), V, storage=NO_MISMATCH, exponent=1.0
    ).passed


@pytest.mark.mutation("ste.thm1_phase_transition")
def test_phase_transition_claim_fails_when_n50_grows_faster_than_n2():
    grid = synthetic_grid(0.05 * NS**2.5, NS)
    assert not checks.phase_transition_claim(grid, grid_fit(grid), V, storage=NO_MISMATCH).passed


@pytest.mark.mutation("ste.thm1_phase_transition")
def test_phase_transition_claim_fails_when_n50_does_not_grow():
    grid = synthetic_grid(np.full(NS.size, 30.0), NS)
    claim = checks.phase_transition_claim(grid, grid_fit(grid), V, storage=NO_MISMATCH)
    assert not claim.passed and "(b)" in claim.margin


@pytest.mark.mutation("ste.thm1_phase_transition")
def test_phase_transition_claim_fails_readably_when_n50_grows_like_n3():
    """On the grid's stated N range, an N50 growing like n^3 leaves the grid: censored."""
    sizes = np.array(sc.grid_sample_sizes(NS))
    grid = synthetic_grid(0.09 * NS**3.0, NS, sizes=sizes)
    claim = checks.phase_transition_claim(grid, grid_fit(grid), V, storage=NO_MISMATCH)
    assert not claim.passed and "censored" in claim.measured["reason for failure"]


def test_float32_storage_changes_few_decisions_near_n50():
    """The paired check at a fixed seed: 128 trials of the storage check's cell (n = 50,
    N = 100, near N50) with float32 and float64 inputs, the same trial seeds. At most
    STORAGE_MISMATCH_TOLERANCE (fixed before this test first ran) of them may differ."""
    n, n_samples = sc.STORAGE_CHECK_CELL
    pairing = sc.storage_pairing(sc.GridCell(n, n_samples, 128, 500), 2024)
    assert 0.2 < pairing.double.mean() < 0.8  # near N50: decisions can be tipped
    assert pairing.any_mismatches <= checks.STORAGE_MISMATCH_TOLERANCE * 128, pairing.any_mismatches


def test_phase_transition_claim_reports_the_storage_check():
    grid = synthetic_grid(2.0 * NS**1.5, NS)
    claim = checks.phase_transition_claim(grid, grid_fit(grid), V, storage=synthetic_pairing(3))
    assert claim.passed
    text = claim.measured["(c) float32 against float64 storage, paired"]
    assert "3 of 512 trials" in text and "(3 ergodic, 0 last iterate)" in text
    assert "(c) upper end" in claim.margin and "float32" in claim.method
    assert "not a row" in claim.measured["(c) what the tolerance allows"]


def test_storage_check_tests_the_upper_end_when_the_design_can_pass_it():
    """Five rows and one storage check: 6 comparisons. With 512 pairs, 0 mismatches
    give an upper end of 0.066 and up to 10 pass; with 64, the upper end cannot reach
    0.10 and only the lower end is tested."""
    assert checks.storage_test_end(512, 6, 0.10) == "upper"
    assert checks.storage_test_end(64, 4, 0.10) == "lower"
    assert checks.storage_check(synthetic_pairing(10), 6)["passed"]
    assert not checks.storage_check(synthetic_pairing(11), 6)["passed"]
    assert checks.storage_check(synthetic_pairing(12, trials=64), 4)["passed"]


def test_storage_check_counts_last_iterate_mismatches():
    pairing = synthetic_pairing(4, last_mismatches=9)
    assert (pairing.mismatches, pairing.last_mismatches, pairing.any_mismatches) == (4, 9, 13)
    assert not checks.storage_check(pairing, 6)["passed"]


@pytest.mark.mutation("ste.thm1_phase_transition")
def test_phase_transition_claim_fails_when_only_the_last_iterate_depends_on_storage():
    grid = synthetic_grid(2.0 * NS**1.5, NS)
    pairing = synthetic_pairing(0, last_mismatches=30)
    claim = checks.phase_transition_claim(grid, grid_fit(grid), V, storage=pairing)
    assert not claim.passed and "(c) upper end" in claim.margin


def test_phase_transition_claim_needs_the_range_rows_at_the_large_scale(monkeypatch):
    monkeypatch.setenv("QUANTHEORY_SCALE", "large")
    grid = synthetic_grid(2.0 * NS**1.5, NS)
    with pytest.raises(ValueError, match="must have the rows n = 100 and 400"):
        checks.phase_transition_claim(grid, grid_fit(grid), V, storage=NO_MISMATCH)


@pytest.mark.mutation("ste.thm1_phase_transition")
def test_phase_transition_claim_fails_when_float32_storage_changes_many_decisions():
    grid = synthetic_grid(2.0 * NS**1.5, NS)
    claim = checks.phase_transition_claim(grid, grid_fit(grid), V, storage=synthetic_pairing(60))
    assert not claim.passed and "(c) " in claim.margin


@pytest.mark.mutation("ste.thm1_phase_transition")
def test_phase_transition_claim_fails_when_the_single_precision_storage_is_too_coarse(
    monkeypatch,
):
    """A storage that keeps the inputs only to the nearest 1/2 (after the labels were
    computed from them) tips about half the decisions of a cell near N50: (c) fails."""
    draw = sc.sample_trials_per_seed

    def coarse(*args, dtype="float64", **kwargs):
        batch = draw(*args, dtype=dtype, **kwargs)
        if dtype == "float32":
            batch.Z[...] = np.round(batch.Z * 2) / 2
        return batch

    monkeypatch.setattr(sc, "sample_trials_per_seed", coarse)
    pairing = sc.storage_pairing(sc.GridCell(10, 9, 128, 200), 5)
    grid = synthetic_grid(2.0 * NS**1.5, NS)
    claim = checks.phase_transition_claim(grid, grid_fit(grid), V, storage=pairing)
    assert not claim.passed and pairing.mismatches > 40


@pytest.mark.mutation("ste.thm1_phase_transition")
def test_phase_transition_claim_fails_with_half_precision_storage(monkeypatch):
    """Half precision (inputs rounded to float16's 10 mantissa bits, after the labels
    were computed) on 128 trials of the check's own cell, the pattern repeated to the
    full design's 512 pairs and 5 + 1 comparisons: (c) fails (the lower-end test at 256
    pairs let it pass)."""
    draw = sc.sample_trials_per_seed

    def half(*args, dtype="float64", **kwargs):
        batch = draw(*args, dtype=dtype, **kwargs)
        if dtype == "float32":
            batch.Z[...] = batch.Z.astype(np.float16)
        return batch

    monkeypatch.setattr(sc, "sample_trials_per_seed", half)
    n, n_samples = sc.STORAGE_CHECK_CELL
    measured = sc.storage_pairing(sc.GridCell(n, n_samples, 128, 500), 2024)
    arrays = [
        np.tile(a, 4)
        for a in (measured.single, measured.double, measured.single_last, measured.double_last)
    ]
    pairing = sc.StoragePairing(sc.GridCell(n, n_samples, 512, 500), *arrays, "tiled")
    full_ns = np.array([10, 25, 50, 100, 200])
    grid = synthetic_grid(2.0 * full_ns**1.5, full_ns)
    claim = checks.phase_transition_claim(grid, grid_fit(grid), V, storage=pairing)
    assert not claim.passed and "(c) upper end" in claim.margin, pairing.any_mismatches
    assert "log N50 by at most" in claim.measured["(c) what the tolerance allows"]


LARGE_NS = np.array([10, 25, 50, 100, 200, 400])


def test_phase_transition_claim_tests_the_large_scales_range_only_where_it_has_the_rows():
    grid = synthetic_grid(2.0 * LARGE_NS**1.5, LARGE_NS)
    claim = checks.phase_transition_claim(grid, grid_fit(grid), V, storage=NO_MISMATCH)
    text = claim.measured["(d) exponent from n = 100 to 400"]
    assert claim.passed and "(d) " in claim.margin
    assert text.startswith("1.50") and "1.5: no, 2: yes" in text
    small = synthetic_grid(2.0 * NS**1.5, NS)
    claim = checks.phase_transition_claim(small, grid_fit(small), V, storage=NO_MISMATCH)
    assert "not tested" in claim.measured["(d) exponent from n = 100 to 400"]
    assert "(d) " not in claim.margin


@pytest.mark.mutation("ste.thm1_phase_transition")
def test_phase_transition_claim_fails_when_n50_steepens_beyond_n2_at_large_n():
    """N50 like n^1.2 up to n = 100 and n^2.6 beyond: (a), calibrated at n = 10, still
    holds, but the large scale's exponent from 100 to 400 is shown above 2."""
    n50 = np.where(LARGE_NS <= 100, 2.0 * LARGE_NS**1.2, 2.0 * 100**1.2 * (LARGE_NS / 100.0) ** 2.6)
    grid = synthetic_grid(n50, LARGE_NS)
    claim = checks.phase_transition_claim(grid, grid_fit(grid), V, storage=NO_MISMATCH)
    assert not claim.passed and "(d) " in claim.margin
    assert "(a) " in claim.margin and "fails below 1 (-" not in claim.margin  # (a) holds


def test_bound_vs_empirical_claim_passes():
    fit = grid_fit(synthetic_grid(2.0 * NS**1.5, NS))
    claim = checks.bound_vs_empirical_claim(fit, V)
    assert claim.passed and claim.kind == "finding"
    c_min = checks.smallest_constant(fit.ns, fit.n50, V)
    np.testing.assert_allclose(c_min**2 * checks.theorem1_bound(fit.ns, V, 0.0), fit.n50)


@pytest.mark.mutation("ste.thm1_bound_vs_empirical")
@pytest.mark.parametrize("alpha", [2.0, 0.8])
def test_bound_vs_empirical_claim_fails_outside_linear_to_quadratic(alpha):
    """C' flat (N50 ~ n^2) or falling faster than n^-1/2 (N50 ~ n^0.8) fails the finding."""
    fit = grid_fit(synthetic_grid(0.1 * NS**alpha, NS))
    assert not checks.bound_vs_empirical_claim(fit, V).passed


def bound_without_n(ns, v, noise_norm, constants=checks.THEOREM1_CONSTANTS):
    """The bound with the factor n missing."""
    return checks.theorem1_bound(ns, v, noise_norm, constants) / np.asarray(ns, float) ** 2


@pytest.mark.mutation("ste.thm1_bound_vs_empirical")
def test_bound_vs_empirical_claim_fails_without_the_factor_n():
    fit = grid_fit(synthetic_grid(2.0 * NS**1.5, NS))
    assert not checks.bound_vs_empirical_claim(fit, V, bound=bound_without_n).passed


def test_theorem1_bound_formula():
    bound = checks.theorem1_bound(np.array([2]), V, 0.5, (1.0, 2.0))
    l1 = np.abs(V).sum()
    assert bound[0] == pytest.approx((2 * (l1**2 + 2 * 0.5 * l1)) ** 2)


def synthetic_sweep(n50s, trials=64, shapes=None):
    """An N50 sweep of exact logistic rows with the given N50s, one per variant."""
    rows = [
        dataclasses.replace(
            synthetic_grid([n50], [20], trials),
            v_shape=np.nan if shapes is None else float(shapes[i]),
        )
        for i, n50 in enumerate(n50s)
    ]
    return sc.sweep_from_rows(rows)


SHAPES = [second_layer(128, "power", exponent=p) for p in (0.0, 1.0, 4.0)]
SHAPE_RATIOS = np.array([np.abs(v).sum() ** 2 for v in SHAPES])


def test_v_shape_claim_passes_when_n50_is_flat():
    sweep = synthetic_sweep([30.0, 30.0, 30.0], shapes=SHAPE_RATIOS)
    claim = checks.v_shape_claim(SHAPES, sweep, 20)
    assert claim.passed and claim.kind == "finding"


@pytest.mark.mutation("ste.thm1_v_shape")
def test_v_shape_claim_fails_when_n50_grows_like_the_bound():
    growing = synthetic_sweep(10.0 * (SHAPE_RATIOS / SHAPE_RATIOS.min()) ** 2, shapes=SHAPE_RATIOS)
    assert not checks.v_shape_claim(SHAPES, growing, 20).passed


@pytest.mark.mutation("ste.thm1_v_shape")
def test_v_shape_claim_fails_when_n50_grows_with_slope_0_3():
    """Just beyond the tolerance 0.2: N50 ~ ratio^0.3 (a factor 4.3 over the range)."""
    n50 = 30.0 * (SHAPE_RATIOS / SHAPE_RATIOS.min()) ** 0.3
    assert not checks.v_shape_claim(SHAPES, synthetic_sweep(n50, shapes=SHAPE_RATIOS), 20).passed


@pytest.mark.mutation("ste.thm1_v_shape")
def test_v_shape_claim_fails_when_every_row_ran_with_the_same_v():
    same = synthetic_sweep([30.0, 30.0, 30.0], shapes=np.full(3, SHAPE_RATIOS[0]))
    claim = checks.v_shape_claim(SHAPES, same, 20)
    assert not claim.passed and "design's v" in claim.measured["reason for failure"]


def test_success_grid_records_the_shape_of_v():
    v = second_layer(16, "power", exponent=1.0)
    row = sc.success_grid([4], [8], 2, 5, 0, m=16, v=v)
    assert row.v_shape == pytest.approx(np.abs(v).sum() ** 2 / (v @ v))


NOISE = [0.0, 0.5, 1.0]


def test_noise_growth_claim_passes_inside_the_band():
    claim = checks.noise_growth_claim(NOISE, synthetic_sweep([25.0, 62.0, 150.0]), V, 20)
    assert claim.passed and claim.kind == "finding"
    with pytest.raises(ValueError, match="start at 0"):
        checks.noise_growth_claim([0.5, 1.0], synthetic_sweep([25.0, 70.0]), V, 20)


@pytest.mark.mutation("ste.thm1_noise_growth")
@pytest.mark.parametrize(
    "ratios", [[1.0, 1.0], [1.09, 1.19], [1.10, 5.5], [2.5, 25.0], [3.0, 40.0]]
)
def test_noise_growth_claim_fails_outside_the_band(ratios):
    """No noise effect, the bound's own growth, the edges (1.10 at s = 0.5, 25 at s = 1),
    or far too much growth."""
    n50 = 25.0 * np.array([1.0, *ratios])
    assert not checks.noise_growth_claim(NOISE, synthetic_sweep(n50), V, 20).passed


def test_noise_growth_claim_resolution_near_the_lower_end():
    """A ratio 1.6 at s = 0.5 (47 % above the bound's 1.09) passes at 2000 trials a cell."""
    sweep = synthetic_sweep(25.0 * np.array([1.0, 1.6, 5.5]), trials=2000)
    claim = checks.noise_growth_claim(NOISE, sweep, V, 20)
    assert claim.passed, claim.measured


def test_grid_cells_are_picklable_and_the_grid_is_the_cells_in_order():
    cells = [sc.GridCell(n, N, 5, 60, m=16) for n in (4, 7) for N in (6, 20)]
    assert pickle.loads(pickle.dumps((sc.count_cell, cells[0]))) == (sc.count_cell, cells[0])
    grid = sc.success_grid([4, 7], [6, 20], 5, 60, 21, m=16)
    by_hand = [sc.count_cell(cell, child) for cell, child in paired(cells, 21)]
    for key in sc.COUNTS:
        np.testing.assert_array_equal(
            getattr(grid, key), np.reshape([r[key] for r in by_hand], (2, 2))
        )


def _state(seed: np.random.SeedSequence) -> tuple[int, ...]:
    """The words a seed gives its generator (what two seeds must not share)."""
    return tuple(seed.generate_state(4))


def test_trial_seeds_are_distinct_from_every_seed_spawned_around_them(monkeypatch):
    """The full-scale shared grid run through success_grid (cells seeded by the executor):
    every trial seed of every cell, the children each cell's seed gives by spawn(), their
    children, and the grid seed's further children are all different seeds. With trial t
    keyed (*cell.spawn_key, t) (what cell.spawn() gives) this fails."""
    monkeypatch.setenv("QUANTHEORY_SCALE", "full")
    params = sc.phase_grid_parameters()
    grid_seed = np.random.SeedSequence(0, spawn_key=(sc.PHASE_GRID_SALT,))
    seeds: list[np.random.SeedSequence] = []

    def record(cell, seed):
        trials = sc.trial_seeds(seed, cell.n_trials)
        again = sc.trial_seeds(seed, cell.n_trials)  # a retried cell: the same seeds
        assert [_state(s) for s in trials] == [_state(s) for s in again]
        children = seed.spawn(cell.n_trials)
        seeds.extend([seed, *trials, *children, *children[0].spawn(cell.n_trials)])
        return {**dict.fromkeys(sc.COUNTS, 0), "v_shape": 1.0}

    monkeypatch.setattr(sc, "count_cell", record)
    sc.success_grid(seed=grid_seed, **params)
    cells = len(params["ns"]) * len(params["sample_sizes"])
    assert len(seeds) == cells * (1 + 3 * params["n_trials"])
    seeds.extend([grid_seed, *grid_seed.spawn(cells)])  # the grid seed spawned from again
    states = [_state(seed) for seed in seeds]
    assert len(set(states)) == len(states)


def test_a_cells_counts_do_not_depend_on_its_chunks(monkeypatch):
    cell = sc.GridCell(6, 24, 7, 80, m=16, noise_std=0.3)
    seed = np.random.SeedSequence(4)
    whole = sc.count_cell(cell, seed)
    assert sc.count_cell(cell, seed) == whole  # the same SeedSequence twice: the same trials
    monkeypatch.setattr(sc, "CHUNK_TRIALS", 2)
    assert sc.count_cell(cell, seed) == whole
    tight = sc.GridCell(
        6, 24, 7, 80, m=16, noise_std=0.3, memory_budget=3.2e4
    )  # two trials a chunk
    assert sc.count_cell(tight, seed) == whole


#: cells of one shape (so they share one buffer if the buffer is shared) on their own seeds
THREADED_CELLS = [sc.GridCell(24, 40, 8, 60) for _ in range(8)]


def test_cells_run_by_concurrent_threads_count_as_run_one_after_the_other():
    """Four threads run the cells at once (drawing inputs releases the GIL): each thread
    has its own input buffer, so the counts are the serial ones. With one buffer for the
    process, threads overwrite each other's inputs and the counts differ."""
    from concurrent.futures import ThreadPoolExecutor

    pairs = paired(THREADED_CELLS, 31)
    serial = [sc.count_cell(cell, seed) for cell, seed in pairs]
    sc.release_input_buffer()
    with ThreadPoolExecutor(max_workers=4) as pool:
        for _ in range(3):
            threaded = list(pool.map(lambda pair: sc.count_cell(*pair), pairs))
            assert threaded == serial
    assert len({result["ergodic"] for result in serial}) > 1  # the cells differ


def test_each_thread_has_its_own_input_buffer_and_releases_only_its_own():
    from concurrent.futures import ThreadPoolExecutor

    here = sc._input_buffer((3, 5), 1e6)
    with ThreadPoolExecutor(max_workers=1) as pool:
        there = pool.submit(sc._input_buffer, (3, 5), 1e6).result()
        assert not np.shares_memory(here, there)
        pool.submit(sc.release_input_buffer).result()
    assert np.shares_memory(here, sc._input_buffer((3, 5), 1e6))  # reused: not released
    sc.release_input_buffer()
    assert not np.shares_memory(here, sc._input_buffer((3, 5), 1e6))
    sc.release_input_buffer()


@pytest.mark.parametrize(
    ("scale", "largest_n", "trials"), [("quick", 50, 64), ("full", 200, 24), ("large", 400, 64)]
)
def test_the_shared_grid_follows_the_scale(monkeypatch, scale, largest_n, trials):
    monkeypatch.setenv("QUANTHEORY_SCALE", scale)
    params = sc.phase_grid_parameters()
    assert max(params["ns"]) == largest_n and params["n_trials"] == trials
    assert params["sample_sizes"][-1] >= largest_n**2 / 10
    assert params["sample_sizes"][0] <= min(params["ns"]) / 2


def test_local_exponent_table_lists_every_range():
    from quantheory.ste.sample_complexity_figures import local_exponent_table

    local = sc.local_exponents(grid_fit(synthetic_grid(2.0 * NS**1.5, NS)))
    table = local_exponent_table({"ergodic": local, "other": local})
    assert len(table.rows) == 2 * (NS.size - 1)
    assert table.rows[0][:3] == ["ergodic", "10 to 20", f"{local.slope[0]:.2f}"]
    assert "budget interval" in table.as_text()
