"""Time the vectorised STE engine against a plain per-trial NumPy loop.

Both run the STE-gradient method on identical problems (same seeds, same
data); the script asserts that they take identical decisions (same ergodic
sums and last iterates) and prints the speed-up. The engine is timed twice:
with numba's default threads and inside ``engine.single_threaded()``, which
the chapters use, since a step updates only the few trials that moved. Run with

    .venv/bin/python benchmarks/bench_ste.py [--steps 500] [--trials 8]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from quantheory.ste.engine import (
    run_ste_method,
    run_ste_method_reference,
    sample_trials,
    single_threaded,
)

#: (n, N): sample sizes near the ergodic N50 at m = 128 (see the Theorem 1 chapter)
SETTINGS = ((25, 40), (50, 100), (100, 260))


def timed(function, *args):
    start = time.perf_counter()
    result = function(*args)
    return result, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--trials", type=int, default=8)
    parser.add_argument("--seed", type=int, default=2025)
    args = parser.parse_args()
    run_ste_method(sample_trials(5, 4, 2, 0), 3)  # compile (or load) the kernel first
    print(f"m = 128, {args.trials} trials, {args.steps} steps, seed {args.seed}")
    print(
        f"{'n':>4} {'N':>5} {'threads s':>9} {'1 thread s':>10} {'loop s':>8} "
        f"{'loop/1 thread':>13}  decisions"
    )
    for n, n_samples in SETTINGS:
        batch = sample_trials(n, n_samples, args.trials, args.seed)
        threaded, threaded_time = timed(run_ste_method, batch, args.steps)
        with single_threaded():
            fast, fast_time = timed(run_ste_method, batch, args.steps)
        slow, slow_time = timed(run_ste_method_reference, batch, args.steps)
        same = all(
            np.array_equal(run.ergodic_sum, slow.ergodic_sum)
            and np.array_equal(run.last_iterate(), slow.last_iterate())
            for run in (threaded, fast)
        )
        assert same, f"engine and loop disagree at n={n}, N={n_samples}"
        print(
            f"{n:>4} {n_samples:>5} {threaded_time:>9.3f} {fast_time:>10.3f} {slow_time:>8.3f} "
            f"{slow_time / fast_time:>12.1f}x  identical"
        )


if __name__ == "__main__":
    main()
