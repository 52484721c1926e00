"""Beyond Gaussian inputs: where the STE fails and what normalization restores.

The second version of the paper (seed 001, abstract only) reports that the
STE fails for general non-Gaussian data and that normalization restores it.
The book's reconstruction compares recovery rates of the ergodic estimate at
sample sizes fixed in advance:

* shifted Gaussian inputs N(mu, 1) at several shifts against Gaussian ones
  (``ste.nongaussian_failure``);
* standardized non-Gaussian inputs (skewed, heavy-tailed, bounded, discrete,
  shifted) with the teacher's labels computed on the standardized inputs,
  against Gaussian ones (``ste.normalization_restores``): an equivalence test,
  the deficit's interval inside +-:data:`RESTORE_TOLERANCE`, with raw shifted
  inputs as the control that must fail;
* the same standardized inputs with labels computed on the raw inputs
  (``ste.normalization_raw_teacher``, a finding), including Rademacher inputs.

Every comparison is Newcombe's hybrid score interval of the Gaussian rate
minus the family's rate, at the book's error budget. The sample size follows
a rule fixed in advance: twice the Gaussian N50 at the chapter's n, measured
on a seed stream of its own (:func:`calibrate_test_sizes`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from math import comb

import matplotlib.pyplot as plt
import numpy as np

from quantheory import stats
from quantheory.claims import Claim
from quantheory.executor import map_cells
from quantheory.plotting import COLORS, figure
from quantheory.seeding import SeedLike, describe, generator, paired
from quantheory.ste import engine
from quantheory.ste.engine import run_ste_method, sample_trials
from quantheory.ste.sample_complexity import fit_n50, profile_n50
from quantheory.validation import positive_int

BATCH_BYTES = 200e6  # inputs of one batch of trials (twice that while standardizing)

FAMILY_LABELS = {
    "gaussian": "Gaussian N(0, 1)",
    "shifted_gaussian": "shifted Gaussian N(2, 1)",
    "exponential": "exponential Exp(1)",
    "student_t": "Student t, 5 dof",
    "uniform": "uniform, centred",
    "rademacher": "Rademacher +-1",
}

SHORT_NAMES = {
    "gaussian": "Gaussian",
    "shifted_gaussian": "N(2, 1)",
    "exponential": "Exp(1)",
    "student_t": "t, 5 dof",
    "uniform": "uniform",
    "rademacher": "Rademacher",
}


@dataclass(frozen=True)
class Variant:
    """One input setting: family, shift, whether standardized, what the teacher sees."""

    family: str
    standardize: bool = False
    shift: float = 2.0
    teacher_inputs: str = "network"

    @property
    def label(self) -> str:
        name = FAMILY_LABELS[self.family]
        if self.family == "shifted_gaussian":
            name = f"shifted Gaussian N({self.shift:g}, 1)"
        if self.standardize:
            name += ", standardized"
            if self.teacher_inputs == "raw":
                name += ", raw teacher"
        return name

    def keywords(self) -> dict:
        return {
            "family": self.family,
            "standardize": self.standardize,
            "shift": self.shift,
            "teacher_inputs": self.teacher_inputs,
        }


@dataclass(frozen=True)
class RateCell:
    """Exact recoveries of the ergodic estimate for one variant at one N."""

    variant: Variant
    n_samples: int
    successes: int
    trials: int
    seed: str

    @property
    def rate(self) -> float:
        return self.successes / self.trials

    def text(self) -> str:
        return f"{self.successes}/{self.trials}"


def recovery_cell(
    variant: Variant, n: int, n_samples: int, trials: int, n_steps: int, seed: SeedLike
) -> RateCell:
    """Run the STE-gradient method (w0 = 0) on ``trials`` fresh training sets.

    Trials are drawn in batches whose inputs stay under :data:`BATCH_BYTES`.
    """
    n, n_samples = positive_int("n", n), positive_int("n_samples", n_samples)
    trials = positive_int("trials", trials)
    size = max(1, int(BATCH_BYTES // (8.0 * n * n_samples * 128)))
    sizes = [min(size, trials - start) for start in range(0, trials, size)]
    successes = 0
    for count, child in paired(sizes, seed):
        batch = sample_trials(n, n_samples, count, child, **variant.keywords())
        run = run_ste_method(batch, n_steps)
        successes += int(np.all(run.ergodic_estimate() == batch.w_star, axis=1).sum())
    return RateCell(variant, n_samples, successes, trials, describe(seed))


def recovery_table(
    variants: Sequence[Variant],
    sample_sizes: Sequence[int],
    n: int,
    trials: int,
    n_steps: int,
    seed: SeedLike,
) -> dict[tuple[Variant, int], RateCell]:
    """:func:`recovery_cell` for every variant and N, each with its own child seed."""
    keys = [(v, N) for v in variants for N in sample_sizes]
    cells = map_cells(
        partial(_recovery_cell, n=n, trials=trials, n_steps=n_steps),
        keys,
        seed,
        desc="variant x N grid",
    )
    return dict(zip(keys, cells, strict=True))


def _recovery_cell(
    key: tuple[Variant, int], seed: np.random.SeedSequence, *, n: int, trials: int, n_steps: int
) -> RateCell:
    """:func:`recovery_cell` of one ``(variant, N)`` key of :func:`recovery_table`."""
    variant, n_samples = key
    return recovery_cell(variant, n, n_samples, trials, n_steps, seed)


def rate_deficit(control: RateCell, other: RateCell, comparisons: int) -> Deficit:
    """``control.rate - other.rate`` with Newcombe's hybrid score interval at the budget."""
    diff, low, high = stats.budget_newcombe_interval(
        control.successes, control.trials, other.successes, other.trials, comparisons
    )
    return Deficit(other, diff, low, high)


@dataclass(frozen=True)
class Deficit:
    """The Gaussian rate minus ``cell``'s rate, with its budget Newcombe interval."""

    cell: RateCell
    difference: float
    low: float
    high: float

    def text(self) -> str:
        return (
            f"{self.cell.text()}, deficit {self.difference:.2f} [{self.low:.2f}, {self.high:.2f}]"
        )


@dataclass(frozen=True)
class Calibration:
    """The Gaussian N50 at the chapter's n, from its own seed stream, and the test sizes.

    The rule, fixed before any comparison runs: test at ``round(2 N50)``,
    where Gaussian inputs are recovered.
    ``n50_interval`` is N50's 95 % profile-likelihood interval.
    """

    sample_sizes: tuple[int, ...]
    successes: np.ndarray
    trials: int
    n50: float
    n50_interval: tuple[float, float]
    seed: str

    @property
    def test_size(self) -> int:
        return round(2 * self.n50)

    def text(self) -> str:
        """N50 with its interval and the counts it was fitted to."""
        counts = ", ".join(f"{k}/{self.trials}" for k in self.successes)
        low, high = self.n50_interval
        return f"N50 = {self.n50:.1f} [{low:.1f}, {high:.1f}] ({counts})"


def calibrate_test_sizes(
    n: int, sample_sizes: Sequence[int], trials: int, n_steps: int, seed: SeedLike
) -> Calibration:
    """Gaussian recovery over ``sample_sizes`` and its N50 by the Theorem 1 chapter's fit."""
    table = recovery_table([Variant("gaussian")], sample_sizes, n, trials, n_steps, seed)
    successes = np.array([table[(Variant("gaussian"), N)].successes for N in sample_sizes])
    n50 = float(fit_n50(np.asarray(sample_sizes), successes[None, :], trials)[0])
    low, high = profile_n50(sample_sizes, successes[None, :], trials).interval(0.05)
    interval = (float(low[0]), float(high[0]))
    return Calibration(tuple(sample_sizes), successes, trials, n50, interval, describe(seed))


def _method(cells: Sequence[RateCell], n: int, n_steps: int, comparisons: int) -> str:
    trials = "/".join(str(t) for t in sorted({c.trials for c in cells}))
    return (
        f"n = {n}, m = 128, {trials} trials per cell, {n_steps} steps from w0 = 0, "
        "ergodic estimate; Newcombe's hybrid score interval of the Gaussian rate minus the "
        f"family's rate at the error budget ({comparisons} comparisons); sample size from "
        "the rule 2 N50 of a Gaussian calibration on its own seed stream."
    )


def nongaussian_failure_claim(
    gaussian: RateCell,
    shifted: Sequence[RateCell],
    calibration: Calibration,
    n: int,
    n_steps: int,
) -> Claim:
    """``ste.nongaussian_failure``: at the test N every shifted family recovers less often.

    Passes when, at the test N, Gaussian inputs are recovered (budget Wilson
    lower bound above 1/2) and the Newcombe interval of the Gaussian rate
    minus the rate of every shifted family N(mu, 1) lies above 0. The margin
    also gives the ``calibration`` the test N came from and the Gaussian count.
    """
    k = len(shifted) + 1
    deficits = [rate_deficit(gaussian, cell, k) for cell in shifted]
    lows = np.array([d.low for d in deficits])
    gauss_low = float(stats.budget_wilson_interval(gaussian.successes, gaussian.trials, k)[0])
    worst = int(np.argmin(lows))
    return Claim(
        id="ste.nongaussian_failure",
        statement=(
            f"at N = {gaussian.n_samples}, where Gaussian inputs are recovered, inputs "
            "N(mu, 1) with mu > 0 are recovered significantly less often, at every shift"
        ),
        passed=bool(gauss_low > 0.5 and np.all(lows > 0)),
        measured={
            "calibration (own seed stream), 95% profile interval": calibration.text(),
            "Gaussian recoveries (budget Wilson lower bound)": (
                f"{gaussian.text()} ({gauss_low:.2f})"
            ),
            **{f"{d.cell.variant.label}: recoveries": d.text() for d in deficits},
        },
        expected={
            "Gaussian budget Wilson lower bound": "> 0.5",
            "deficit interval at every shift": "above 0",
        },
        method=_method([gaussian, *shifted], n, n_steps, k),
        seed=", ".join(c.seed for c in (gaussian, *shifted)) + f"; calibration {calibration.seed}",
        summary=(
            f"N = {gaussian.n_samples}: Gaussian {gaussian.text()}, shifted "
            + ", ".join(f"mu={c.variant.shift:g} {c.text()}" for c in shifted)
        ),
        margin=stats.margin(
            float(lows[worst]),
            0.0,
            unit=f"(deficit's lower end, mu={shifted[worst].variant.shift:g})",
            passes_below=False,
        )
        + f"; Gaussian {gaussian.text()}, "
        + stats.margin(gauss_low, 0.5, unit="(budget Wilson lower)", passes_below=False)
        + f"; test N = 2 x calibration {calibration.text()}",
    )


#: the equivalence tolerance of ``ste.normalization_restores``: the Gaussian rate minus a
#: standardized family's rate must lie within +- this (budget Newcombe interval). Set after
#: the review of the chapter (before the runs that use it), in place of a test of "no
#: significant deficit", which less data would pass more easily.
RESTORE_TOLERANCE = 0.25


def normalization_restores_claim(
    gaussian: RateCell,
    standardized: Sequence[RateCell],
    control: RateCell,
    n: int,
    n_steps: int,
    tolerance: float = RESTORE_TOLERANCE,
) -> Claim:
    """``ste.normalization_restores``: standardized inputs are recovered as often as Gaussian.

    An equivalence test: for every standardized family (case A: labels on the
    standardized inputs), the budget Newcombe interval of the Gaussian rate
    minus the family's rate at the same N must lie inside ``+-tolerance``
    (:func:`quantheory.stats.equivalent_within`). ``control`` (raw shifted
    inputs at that N) must have a deficit interval above ``tolerance``, or
    the comparison could not tell restored recovery from failure.
    """
    sizes = {c.n_samples for c in (gaussian, *standardized, control)}
    if len(sizes) != 1:
        raise ValueError(f"every cell must be at the Gaussian cell's N, got sizes {sorted(sizes)}")
    k = len(standardized) + 1
    deficits = [rate_deficit(gaussian, c, k) for c in standardized]
    ok = [stats.equivalent_within(d.low, d.high, tolerance) for d in deficits]
    # distance of each interval's farther end from the tolerance
    reach = np.array([max(-d.low, d.high) for d in deficits])
    control_deficit = rate_deficit(gaussian, control, k)
    worst = int(np.argmax(reach))
    return Claim(
        id="ste.normalization_restores",
        statement=(
            "standardized non-Gaussian inputs (labels from the standardized inputs) are "
            f"recovered as often as Gaussian inputs at the same N, within +-{tolerance:g}; "
            f"raw shifted inputs, the control, more than {tolerance:g} less often"
        ),
        passed=bool(all(ok) and control_deficit.low > tolerance),
        measured={
            f"Gaussian, N={gaussian.n_samples}": gaussian.text(),
            **{f"{d.cell.variant.label}": d.text() for d in deficits},
            f"control {control.variant.label}": control_deficit.text(),
        },
        expected={
            "deficit interval of every standardized family": f"inside [-{tolerance:g}, "
            f"{tolerance:g}] (tolerance set after review, before these runs)",
            "deficit interval of the control": f"above {tolerance:g}",
        },
        method=_method([gaussian, *standardized], n, n_steps, k),
        seed=", ".join(c.seed for c in (gaussian, *standardized, control)),
        summary=(
            f"N = {gaussian.n_samples}: Gaussian {gaussian.text()}; widest deficit interval "
            f"{deficits[worst].text()} ({standardized[worst].variant.family}); control "
            f"{control_deficit.text()}"
        ),
        margin=f"{standardized[worst].variant.family}: "
        + stats.margin(float(reach[worst]), tolerance, unit="(interval's farther end)")
        + "; control "
        + stats.margin(control_deficit.low, tolerance, unit="(lower end)", passes_below=False),
    )


#: families whose raw-teacher labels the book predicts to be unrealizable: the non-centred
#: ones (a bias mu sum_j w*_j); tested for a significant recovery deficit, to Gaussian
#: inputs and to the centred continuous families
RAW_TEACHER_DEFICIT = ("exponential", "shifted_gaussian")
#: the tie share of Rademacher rows must match its exact value within this (fixed in advance)
TIE_TOLERANCE = 0.01


@dataclass(frozen=True)
class TieCheck:
    """Teacher signs of Rademacher rows, raw against standardized inputs.

    Attributes
    ----------
    tie_shares : numpy.ndarray, shape (T,)
        Per training set, the share of rows with ``<z, w*> = 0`` on the raw inputs.
    flips_off_ties : int
        Rows whose hidden sign differs between raw and standardized inputs
        although ``<z, w*> != 0`` (the book predicts none).
    flip_share : float
        Share of all rows whose hidden sign differs.
    n : int
    seed : str
    """

    tie_shares: np.ndarray
    flips_off_ties: int
    flip_share: float
    n: int
    seed: str

    @property
    def predicted_tie_share(self) -> float:
        """``C(n, n/2) / 2^n``, the chance that n signs +-1 sum to 0 (0 for odd n)."""
        return 0.0 if self.n % 2 else float(comb(self.n, self.n // 2) / 2.0**self.n)


def rademacher_ties(n: int, n_samples: int, trials: int, seed: SeedLike, m: int = 128) -> TieCheck:
    """Draw Rademacher training sets as the engine does and compare the teacher's signs.

    Uses the engine's own :func:`~quantheory.ste.engine.draw_inputs` and
    :func:`~quantheory.ste.engine.standardize_features`; the teacher's hidden
    sign of a row is ``sign(<z, w*>)`` with ``sign(0) = +1``.
    """
    n, n_samples = positive_int("n", n), positive_int("n_samples", n_samples)
    rng = generator(seed)
    w_star = rng.choice(np.array([-1.0, 1.0]), size=(positive_int("trials", trials), n))
    raw = engine.draw_inputs(rng, "rademacher", (trials, n, n_samples, m))
    pre_raw = np.einsum("tjkm,tj->tkm", raw, w_star)
    pre_std = np.einsum("tjkm,tj->tkm", engine.standardize_features(raw), w_star)
    flips = (pre_raw >= 0) != (pre_std >= 0)
    ties = pre_raw == 0
    return TieCheck(
        ties.mean(axis=(1, 2)), int((flips & ~ties).sum()), float(flips.mean()), n, describe(seed)
    )


def normalization_raw_teacher_claim(
    gaussian: RateCell, raw_teacher: Sequence[RateCell], ties: TieCheck, n: int, n_steps: int
) -> Claim:
    """``ste.normalization_raw_teacher`` (finding): labels from the raw inputs.

    The network trains on standardized inputs, the labels come from the raw
    ones. The book's prediction: for the families of :data:`RAW_TEACHER_DEFICIT`
    the labels are not realizable on the standardized inputs, so recovery is
    significantly below the Gaussian rate (deficit interval above 0); the
    centred continuous families (Student t, uniform), for which standardizing
    barely moves the inputs, are recovered significantly more often than
    every non-centred one (interval of the difference above 0). Their own
    deficit to the Gaussian rate is reported with its interval, not tested:
    before the review it was a non-rejection test ("interval reaches 0"),
    which less data passes more easily, and the measured deficits (about
    0.15) are too large for an equivalence at any tolerance set in advance.
    Rademacher inputs: their recovery deficit is reported with its interval,
    and its cause is tested: hidden signs change only on the rows with
    ``<z, w*> = 0``, whose share equals ``C(n, n/2)/2^n`` within
    :data:`TIE_TOLERANCE` (budget t interval over training sets).
    """
    tested = [c for c in raw_teacher if c.variant.family != "rademacher"]
    falling = [c for c in tested if c.variant.family in RAW_TEACHER_DEFICIT]
    centred = [c for c in tested if c.variant.family not in RAW_TEACHER_DEFICIT]
    if not falling or not centred:
        raise ValueError("need a non-centred and a centred continuous family")
    shown_cells = [*centred, *(c for c in raw_teacher if c.variant.family == "rademacher")]
    k = len(falling) * (1 + len(centred)) + 1
    deficits = [rate_deficit(gaussian, c, k) for c in falling]
    gaps = [(c, rate_deficit(c, d, k)) for c in centred for d in falling]
    shown = [rate_deficit(gaussian, c, k) for c in shown_cells]
    lows = np.array([d.low for d in deficits] + [g.low for _, g in gaps])
    names = [f"{d.cell.variant.family} below Gaussian" for d in deficits] + [
        f"{c.variant.family} above {g.cell.variant.family}" for c, g in gaps
    ]
    worst = int(np.argmin(lows))
    share, tie_low, tie_high = stats.budget_t_interval(ties.tie_shares, k)
    exact = ties.predicted_tie_share
    tie_ok = stats.equivalent_within(tie_low - exact, tie_high - exact, TIE_TOLERANCE)
    tie_gap = max(abs(tie_low - exact), abs(tie_high - exact))
    return Claim(
        id="ste.normalization_raw_teacher",
        statement=(
            "with labels from the raw inputs, standardized non-centred inputs are recovered "
            "significantly less often than Gaussian ones, and significantly less often than "
            "centred continuous ones; for Rademacher inputs the labels change exactly on the "
            "tied rows, a share C(n, n/2)/2^n"
        ),
        passed=bool(np.all(lows > 0) and tie_ok and ties.flips_off_ties == 0),
        measured={
            "Gaussian recoveries": gaussian.text(),
            **{f"{d.cell.variant.label}": d.text() for d in (*deficits, *shown)},
            **{
                f"{c.variant.family} minus {g.cell.variant.family}": (
                    f"{g.difference:.2f} [{g.low:.2f}, {g.high:.2f}]"
                )
                for c, g in gaps
            },
            "Rademacher rows with <z, w*> = 0 (budget t interval)": (
                f"{share:.4f} [{tie_low:.4f}, {tie_high:.4f}]"
            ),
            "Rademacher rows whose sign changes off the ties": ties.flips_off_ties,
            "Rademacher rows whose sign changes": f"{ties.flip_share:.4f}",
        },
        expected={
            "deficit interval, " + ", ".join(RAW_TEACHER_DEFICIT): "above 0",
            "centred minus non-centred rate, every pair": "above 0",
            **{
                f"{c.variant.label}": "deficit reported with its interval (not tested)"
                for c in shown_cells
            },
            "Rademacher rows with <z, w*> = 0 (budget t interval)": (
                f"inside {exact:.4f} +- {TIE_TOLERANCE:g}"
            ),
            "Rademacher rows whose sign changes off the ties": 0,
        },
        method=_method([gaussian, *raw_teacher], n, n_steps, k)
        + f" Ties: {ties.tie_shares.size} Rademacher training sets of the engine.",
        seed=", ".join([c.seed for c in (gaussian, *raw_teacher)] + [ties.seed]),
        summary=(
            f"N = {gaussian.n_samples}: Gaussian {gaussian.text()}; "
            + ", ".join(f"{c.variant.family} {c.text()}" for c in raw_teacher)
            + f"; Rademacher tie share {share:.3f} (exact {exact:.3f})"
        ),
        kind="finding",
        margin=(
            f"closest: {names[worst]}, "
            + stats.margin(float(lows[worst]), 0.0, unit="(lower end)", passes_below=False)
            + f"; tie share {stats.margin(tie_gap, TIE_TOLERANCE, unit='')}"
            + "; the centred families' deficit to Gaussian is reported, not tested"
        ),
    )


def _wilson_bars(cells: Sequence[RateCell]) -> tuple[np.ndarray, np.ndarray]:
    rates = np.array([c.rate for c in cells])
    low, high = stats.wilson_interval(
        np.array([c.successes for c in cells]), np.array([c.trials for c in cells]), 0.05
    )
    return rates, np.vstack([rates - low, high - rates])


def plot_rate_against_shift(
    table: dict[tuple[Variant, int], RateCell], shifts: Sequence[float], sizes: Sequence[int]
) -> plt.Figure:
    """Recovery rate against the shift mu of N(mu, 1) inputs, one line per N (95% Wilson)."""
    fig, ax = figure(width=5.4, height=3.4)
    for i, N in enumerate(sizes):
        cells = [table[(Variant("shifted_gaussian", shift=mu), N)] for mu in shifts]
        rates, bars = _wilson_bars(cells)
        ax.errorbar(
            shifts, rates, yerr=bars, marker="o", ms=4, capsize=3, color=f"C{i}", label=f"N = {N}"
        )
    ax.set_xlabel(r"shift $\mu$ of the inputs $N(\mu, 1)$")
    ax.set_ylabel(r"recovery rate of $Q(\bar w^T)$")
    ax.set_ylim(-0.03, 1.03)
    ax.legend()
    return fig


def plot_family_rates(
    gaussian: RateCell, case_a: Sequence[RateCell], case_b: Sequence[RateCell], raw: RateCell
) -> plt.Figure:
    """Recovery rates at one N: Gaussian, each family standardized (A, B), raw shifted."""
    fig, ax = figure(width=6.4, height=3.4)
    families = [c.variant.family for c in case_a]
    x = np.arange(len(families))
    for offset, cells, name, color in (
        (-0.15, case_a, "standardized, labels from standardized inputs (A)", COLORS["measured"]),
        (0.15, case_b, "standardized, labels from raw inputs (B)", COLORS["accent"]),
    ):
        rates, bars = _wilson_bars(cells)
        ax.errorbar(x + offset, rates, yerr=bars, fmt="o", ms=5, capsize=3, color=color, label=name)
    ax.axhline(gaussian.rate, color=COLORS["theory"], lw=1, label="Gaussian inputs")
    ax.axhline(raw.rate, color=COLORS["muted"], lw=1, ls="--", label=f"{raw.variant.label}, raw")
    ax.set_xticks(x, [SHORT_NAMES[f] for f in families])
    ax.set_ylabel(f"recovery rate at N = {gaussian.n_samples}")
    ax.set_ylim(-0.03, 1.03)
    fig.legend(*ax.get_legend_handles_labels(), loc="outside lower center", fontsize=8, ncol=2)
    return fig
