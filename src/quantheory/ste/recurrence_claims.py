"""Claims of the Theorem 3 chapter: escape time and recurrence under label noise."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from quantheory import stats
from quantheory.claims import Claim
from quantheory.ste.escape import EscapeCheck
from quantheory.ste.recurrence import CellStatistics, RecurrenceRuns, cell_statistics

#: tests per cell of the recurrence map: occupation > 0, returns > 0, and the
#: two halves compared for returns and for occupation
TESTS_PER_CELL = 4


def escape_time_claim(checks: Sequence[EscapeCheck]) -> Claim:
    """``ste.thm3_escape_time``: the closed-form first escape step equals the simulated one.

    The prediction (model gradient at w* on the raw layout, closed-form first
    crossing) and the simulation (the engine) share no code; every trial must
    agree exactly.
    """
    predicted = np.concatenate([c.predicted for c in checks])
    simulated = np.concatenate([c.simulated for c in checks])
    exact = predicted == simulated
    levels = ", ".join(f"{c.noise_std:g}" for c in checks)
    mismatches = int((~exact).sum())
    return Claim(
        id="ste.thm3_escape_time",
        statement=(
            "with label noise, started at w*, the latent weights drift with velocity "
            "-eta g_N(w*) until the first coordinate crosses zero, at the predicted step"
        ),
        passed=bool(exact.all() and np.isfinite(simulated).all()),
        measured={
            "trials whose escape step equals the prediction": f"{int(exact.sum())} of {exact.size}",
            "escape steps, smallest to largest": f"{simulated.min():.0f} to {simulated.max():.0f}",
        },
        expected={
            "trials whose escape step equals the prediction": f"{exact.size} of {exact.size}"
        },
        method=(
            f"exact comparison, {checks[0].predicted.size} training sets at each noise level "
            f"s = {levels}; w0 = w*, eta = 1. Prediction: g_N(w*) from the model's formula on "
            "the (N, m, n) layout and the closed-form first crossing of w* - t eta g_N(w*); "
            "simulation: the engine, for a horizon that does not depend on the prediction."
        ),
        seed=", ".join(c.seed for c in checks),
        summary=f"{int(exact.sum())}/{exact.size} escape steps predicted exactly (s = {levels})",
        margin=f"{mismatches} mismatched trials, fails at 1",
    )


def recurrence_table(
    runs_by_cell: Mapping[tuple[int, float], RecurrenceRuns], control: RecurrenceRuns
) -> tuple[dict[tuple[int, float], CellStatistics], CellStatistics]:
    """Budget-level statistics of every cell of the map and of the noiseless control.

    The budget is shared by :data:`TESTS_PER_CELL` tests in each cell and in
    the control.
    """
    k = TESTS_PER_CELL * (len(runs_by_cell) + 1)
    table = {cell: cell_statistics(runs, k) for cell, runs in runs_by_cell.items()}
    return table, cell_statistics(control, k)


def monotone_in_n(table: Mapping[tuple[int, float], CellStatistics]) -> bool:
    """Whether, at every noise level, recurrence at some N implies it at every larger N."""
    for s in sorted({cell[1] for cell in table}):
        flags = [table[cell].recurrent for cell in sorted(table) if cell[1] == s]
        if any(flag and not later for i, flag in enumerate(flags) for later in flags[i + 1 :]):
            return False
    return True


def recurrence_map_text(table: Mapping[tuple[int, float], CellStatistics]) -> str:
    """One line per noise level: the sample sizes at which recurrence was shown."""
    lines = []
    for s in sorted({cell[1] for cell in table}):
        shown = [str(cell[0]) for cell in sorted(table) if cell[1] == s and table[cell].recurrent]
        lines.append(f"s={s:g}: N in {{{', '.join(shown)}}}" if shown else f"s={s:g}: none")
    return "; ".join(lines)


def recurrence_claim(
    table: Mapping[tuple[int, float], CellStatistics], control: CellStatistics
) -> Claim:
    """``ste.thm3_recurrence``: where the iterate keeps returning to w*, and that it is steady.

    Passes when (a) in every cell neither the returns nor the occupation
    change between the two halves of the runs (a recurrent chain returns at a
    steady rate and its occupation has a limit); (b) recurrence, shown where
    the occupation and the second-half returns are both positive at the
    budget level (the iterate keeps leaving and coming back), is monotone in N at every
    noise level ("N large enough"); and (c) it is shown in the cell where the
    hypothesis is most nearly met, the largest N at the smallest noise (fixed
    in advance); and (d) the control without label noise, where w* is
    absorbing, shows no recurrence. All tests are Student t over independent training sets at
    the book's budget (:data:`TESTS_PER_CELL` per cell).
    """
    cells = sorted(table)
    anchor = (max(c[0] for c in cells), min(c[1] for c in cells))
    stats_ = list(table.values())
    threshold = stats_[0].threshold
    worst_halves = max(max(c.returns_t, c.occupation_t) for c in stats_)
    steady = all(c.steady for c in stats_)
    monotone = monotone_in_n(table)
    anchored = table[anchor].recurrent
    control_clean = control.noise_std == 0 and not control.recurrent
    recurrent = [c for c in stats_ if c.recurrent]
    anchor_t = table[anchor].occupation_z
    runs, steps = stats_[0].n_runs, stats_[0].n_steps
    return Claim(
        id="ste.thm3_recurrence",
        statement=(
            "with label noise and N large enough the iterate leaves w* and returns to it at a "
            "steady rate, spending a positive, stable fraction of the time there"
        ),
        passed=bool(steady and monotone and anchored and control_clean),
        measured={
            "cells where recurrence is shown": f"{len(recurrent)} of {len(cells)}",
            "recurrence map": recurrence_map_text(table),
            "largest |second - first half| / SE (returns or occupation)": worst_halves,
            "recurrence monotone in N at every s": monotone,
            f"occupation at N={anchor[0]}, s={anchor[1]:g} / SE": anchor_t,
            f"control s=0, N={control.n_samples}: recurrence shown": control.recurrent,
        },
        expected={
            "largest |second - first half| / SE (returns or occupation)": f"<= {threshold:.2f}",
            "recurrence monotone in N at every s": True,
            f"occupation at N={anchor[0]}, s={anchor[1]:g} / SE": f"> {threshold:.2f}",
            f"control s=0, N={control.n_samples}: recurrence shown": False,
        },
        method=(
            f"{len(cells)} cells (N, s), m = 128, n = {table[anchor].n}, "
            f"{runs} training sets per cell, {steps} steps from w0 = w*, first fifth left out; "
            f"Student t over training sets ({runs - 1} dof) at the book's error budget, "
            f"{TESTS_PER_CELL} tests per cell (critical value {threshold:.2f}); control: "
            f"{control.n_runs} noiseless training sets at N = {control.n_samples}."
        ),
        seed=", ".join(c.seed for c in stats_),
        summary=(
            f"recurrent in {len(recurrent)}/{len(cells)} cells ({recurrence_map_text(table)}); "
            f"halves agree everywhere: {'yes' if steady else 'NO'} "
            f"(largest {worst_halves:.2f} SE of {threshold:.2f}); "
            f"noiseless control: {'recurrent (WRONG)' if control.recurrent else 'stays at w*'}"
        ),
        margin=(
            f"halves: {stats.margin(worst_halves, threshold)}; occupation at the anchor cell: "
            f"{stats.margin(anchor_t, threshold, passes_below=False)}"
        ),
    )
