"""Claims of the Theorem 2 chapter: the last iterate of the STE-gradient method."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from quantheory.claims import Claim
from quantheory.ste.engine import TrialBatch, run_ste_method_reference
from quantheory.ste.sample_complexity import SuccessGrid


def absorbing_violations(batch: TrialBatch, n_steps: int) -> int:
    """Start the plain per-trial loop at ``w* `` and count trials whose iterate ever moves.

    Uses :func:`run_ste_method_reference`, which never freezes, so it checks the
    absorbing property independently of the engine's shortcut.
    """
    run = run_ste_method_reference(batch, n_steps, w0=batch.w_star)
    stayed = np.all(run.ergodic_sum == n_steps * batch.w_star, axis=1)
    return int(np.sum(~stayed | np.any(run.w_last != batch.w_star, axis=1)))


def last_iterate_claim(
    grid: SuccessGrid, absorbing_batches: Sequence[TrialBatch], absorbing_steps: int
) -> Claim:
    """``ste.thm2_last_iterate``: w* absorbing without noise; last vs ergodic success.

    Exact parts: ``g_N(w*) = 0`` so that an iterate started at w* never moves,
    and every trial in which only the last iterate succeeded reached w* after
    half of the run (a trial that reaches w* by T/2 makes the ergodic
    estimate succeed too, since the remaining steps outweigh the earlier ones).
    """
    violations = sum(absorbing_violations(b, absorbing_steps) for b in absorbing_batches)
    n_absorbing = sum(b.n_trials for b in absorbing_batches)
    early = int(grid.last_only_early.sum())
    total = grid.n_trials * grid.ergodic.size
    last_only = int(grid.last_only.sum())
    fixed_elsewhere = int(grid.fixed_not_at_star.sum())
    return Claim(
        id="ste.thm2_last_iterate",
        statement=(
            "without noise g_N(w*) = 0, so w* is absorbing; last-iterate success "
            "never exceeds ergodic success once the run is twice the hitting time"
        ),
        passed=bool(violations == 0 and early == 0 and fixed_elsewhere == 0),
        measured={
            "trials started at w* that moved": f"{violations} of {n_absorbing}",
            "last-only successes that hit w* by T/2": early,
            "runs frozen at a point other than w*": fixed_elsewhere,
            "last-only successes (hit w* after T/2)": f"{last_only} of {total}",
            "ergodic / last successes over the grid": (
                f"{int(grid.ergodic.sum())} / {int(grid.last.sum())}"
            ),
        },
        expected={
            "trials started at w* that moved": f"0 of {n_absorbing}",
            "last-only successes that hit w* by T/2": 0,
            "runs frozen at a point other than w*": 0,
        },
        method=(
            f"exact checks: {n_absorbing} fresh training sets started at w* and run "
            f"{absorbing_steps} steps by the plain loop; the grid of the Theorem 1 "
            f"chapter ({total} runs of {grid.n_steps} steps) for the rest."
        ),
        seed=grid.seed,
        summary=(
            f"0/{n_absorbing} moved from w*"
            if violations == 0
            else f"{violations}/{n_absorbing} moved from w*"
        )
        + f"; last-only {last_only}/{total}, all after T/2: {'yes' if early == 0 else 'NO'}",
    )
