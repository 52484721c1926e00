"""Time the compiled STE engine against a plain per-trial NumPy loop.

Both run the STE-gradient method on identical problems (same seeds, same
data); the script asserts that they take identical decisions (same ergodic
sums and last iterates) and prints, side by side:

* the engine's time with numba's threads (one trial per thread) and on one
  thread, the loop's time, and the ratio loop / engine (threads);
* the engine's cost per trial-step and what it moves through memory: the
  estimate ``s N m`` bytes per flip (``s`` bytes per stored input: 4 in
  single precision, as the sweeps store them) plus ``17 N m + 8 N n`` per step in which
  something flipped (pre-activations read and written, the teacher's signs,
  the projections), plus the start (``s N m n`` read once), as GB/s against
  the machine's bandwidth, measured here by a NumPy copy of a large array;
* the peak resident memory of the process (``resource.getrusage``) after
  each row, next to the size of the batch's inputs.

Sample sizes are near the ergodic N50 at m = 128 (the Theorem 1 chapter's
table: 273 at n = 100). N = 772 at n = 200 was extrapolated from N50(100) = 273
with the local exponent 1.5 there (273 * 2^1.5); the chapter has since measured
N50(200) at 583 to 618 (full scale, master seeds 0 to 3), so 772 is about 1.3
times N50 there, kept so that the rows compare with earlier runs. Each timing
is repeated (``--repeats``) and the minimum and the median are shown; the load
average is printed with the table. Run with

    nice -n 0 .venv/bin/python benchmarks/bench_ste.py [--steps 500] [--trials 8]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import time

import numba
import numpy as np

from quantheory.ste.engine import (
    INPUT_DTYPES,
    SteRun,
    TrialBatch,
    run_ste_method,
    run_ste_method_reference,
    sample_trials,
    single_threaded,
)

#: (n, N): sample sizes near the ergodic N50 at m = 128; N = 772 at n = 200 is about 1.3 N50
SETTINGS = ((25, 40), (50, 100), (100, 273), (200, 772))
#: the issue's targets: loop / engine (threads) at these n, on 2 cores
TARGETS = {100: 25.0, 200: 40.0}
#: size of each of the two arrays of the bandwidth measurement
COPY_BYTES = 400_000_000


def timed(function, *args) -> tuple[object, float]:
    start = time.perf_counter()
    result = function(*args)
    return result, time.perf_counter() - start


def repeated(function, args: tuple, repeats: int) -> tuple[object, list[float]]:
    """The result of the first call and the wall times of ``repeats`` calls."""
    times = []
    result = None
    for _ in range(repeats):
        result, seconds = timed(function, *args)
        times.append(seconds)
    return result, times


def copy_bandwidth(n_bytes: int = COPY_BYTES, repeats: int = 3) -> tuple[float, float]:
    """The machine's memory bandwidth seen by NumPy, in GB/s: (copy, read).

    Copy: the best of ``repeats`` copies of an ``n_bytes`` array, counting the
    bytes read and written. Read: the best of ``repeats`` sums of it.
    """
    source = np.ones(n_bytes // 8)
    target = np.empty_like(source)
    copy = min(timed(np.copyto, target, source)[1] for _ in range(repeats))
    read = min(timed(np.sum, source)[1] for _ in range(repeats))
    return 2 * n_bytes / copy / 1e9, n_bytes / read / 1e9


def traffic_bytes(batch: TrialBatch, run: SteRun) -> float:
    """The engine's memory traffic estimated from its flips and moving steps, in bytes."""
    n, N, m, T = batch.n, batch.n_samples, batch.m, batch.n_trials
    start = T * (batch.Z.itemsize * n * N * m + 8.0 * N * m + 16.0 * N * n)
    moving = run.moving_steps * (17.0 * N * m + 8.0 * N * n)
    flips = run.flips * float(batch.Z.itemsize) * N * m
    every_step = T * run.n_steps * 32.0 * n
    return start + moving + flips + every_step


def peak_memory_gb() -> float:
    """Peak resident memory of this process so far (Linux reports kilobytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6


def same_decisions(run: SteRun, reference: SteRun) -> bool:
    return bool(
        np.array_equal(run.ergodic_sum, reference.ergodic_sum)
        and np.array_equal(run.last_iterate(), reference.last_iterate())
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--trials", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--loop-repeats", type=int, default=1)
    parser.add_argument("--seed", type=int, default=2025)
    parser.add_argument("--largest-n", type=int, default=200)
    parser.add_argument("--dtype", choices=INPUT_DTYPES, default="float32")
    args = parser.parse_args()
    run_ste_method(sample_trials(5, 4, 2, 0, dtype=args.dtype), 3)  # compile or load first
    bandwidth, read_bandwidth = copy_bandwidth()
    print(
        f"m = 128, {args.trials} trials, {args.steps} steps, seed {args.seed}, inputs "
        f"{args.dtype} (as in the sweeps); numba threads {numba.get_num_threads()}; "
        f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    print(
        f"NumPy bandwidth on {COPY_BYTES / 1e9:.1f} GB arrays: copy (read + write) "
        f"{bandwidth:.1f} GB/s, sum (read) {read_bandwidth:.1f} GB/s; peak memory after it: "
        f"{peak_memory_gb():.2f} GB"
    )
    print(
        "engine GB/s: the traffic estimate / engine time; above 100 % of the copy, part of "
        "the data came from cache"
    )
    print("times in s: minimum / median of the repeats; N = 772 at n = 200 is about 1.3 N50")
    header = (
        f"{'n':>4} {'N':>4} {'engine':>13} {'1 thread':>13} {'loop':>13} {'loop/engine':>11} "
        f"{'us/trial-step':>13} {'GB/s':>6} {'of copy':>7} {'flips/trial':>11} "
        f"{'moving/trial':>12} {'inputs GB':>9} {'peak GB':>7}  decisions"
    )
    print(header)
    for n, n_samples in SETTINGS:
        if n > args.largest_n:
            continue
        batch = sample_trials(n, n_samples, args.trials, args.seed, dtype=args.dtype)
        fast, fast_times = repeated(run_ste_method, (batch, args.steps), args.repeats)
        with single_threaded():
            single, single_times = repeated(run_ste_method, (batch, args.steps), args.repeats)
        slow, slow_times = repeated(
            run_ste_method_reference, (batch, args.steps), args.loop_repeats
        )
        assert same_decisions(fast, slow) and same_decisions(single, slow), (
            f"engine and loop disagree at n={n}, N={n_samples}"
        )
        best = min(fast_times)
        ratio = min(slow_times) / best
        per_step = best / (args.trials * args.steps) * 1e6
        rate = traffic_bytes(batch, fast) / best / 1e9
        target = TARGETS.get(n)
        mark = "" if target is None else (" (target met)" if ratio >= target else " (below target)")
        print(
            f"{n:>4} {n_samples:>4} "
            f"{best:>6.3f}/{statistics.median(fast_times):<6.3f} "
            f"{min(single_times):>6.3f}/{statistics.median(single_times):<6.3f} "
            f"{min(slow_times):>6.2f}/{statistics.median(slow_times):<6.2f} "
            f"{ratio:>10.1f}x {per_step:>13.1f} {rate:>6.2f} {rate / bandwidth:>6.0%} "
            f"{fast.flips / args.trials:>11.0f} {fast.moving_steps / args.trials:>12.0f} "
            f"{batch.Z.nbytes / 1e9:>9.3f} {peak_memory_gb():>7.2f}  identical{mark}"
        )
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
