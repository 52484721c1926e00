"""Time the Part II engines side by side on identical problems.

1. The section 8.1 angle experiment: the compiled ReLU coarse-gradient kernel
   against the vectorised NumPy descent (same starts, same perturbed data);
   asserts identical iterations to zero loss and weights equal to 1e-9.
2. Digits training: all splits of a Table 2 row batched in one computation
   against one split at a time (the same work; the random streams differ, so
   the accuracies are not compared).

Run with

    .venv/bin/python benchmarks/bench_cg.py [--starts 30] [--seeds 10]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from quantheory.cg import angle, digits, kernel
from quantheory.cg import network as nw
from quantheory.cg.surrogates import surrogate_functions


def timed(function, *args):
    start = time.perf_counter()
    result = function(*args)
    return result, time.perf_counter() - start


def bench_angle(starts: int, seed: int) -> None:
    v = angle.second_layer()
    derivative = surrogate_functions("relu", angle.BITS)[1]
    rng = np.random.default_rng(seed)
    x, y = angle.grid_dataset(np.pi / 4)
    kernel.relu_coarse_gradient_descent(  # compile (or load) the kernel first
        np.zeros((1, 4, angle.UNITS)), x[None], y, v, angle.BITS, 1.0, 1
    )
    print(f"angle experiment: {starts} starts, theta = 45 degrees, 4-bit sigma, k = 24")
    print(f"{'noise':>6} {'kernel s':>9} {'numpy s':>8} {'speed-up':>9}  iterations")
    for noise in (0.0, 0.02):
        data = x[None] + noise * rng.standard_normal((starts, *x.shape))
        w0 = 0.1 * rng.standard_normal((starts, 4, angle.UNITS))
        fast, fast_time = timed(
            kernel.relu_coarse_gradient_descent, w0, data, y, v, angle.BITS, 1.0, 20_000
        )
        slow, slow_time = timed(
            nw.coarse_gradient_descent, w0, data, y, v, angle.BITS, derivative, 1.0, 20_000
        )
        assert np.array_equal(fast.steps_to_zero, slow.steps_to_zero)
        assert np.allclose(fast.w, slow.w, rtol=0, atol=1e-9)
        print(
            f"{noise:>6g} {fast_time:>9.2f} {slow_time:>8.2f} {slow_time / fast_time:>8.1f}x  "
            "identical"
        )


def bench_digits(seeds: int, seed: int) -> None:
    splits = digits.load_digits_splits(seeds, 0.25, seed)
    act = digits.activation("relu", 2)
    schedule = digits.Schedule(epochs=10)
    print(f"\ndigits, 2-bit ReLU surrogate, 10 epochs, {seeds} splits")

    def one_at_a_time():
        return [
            digits.train(
                digits.Splits(
                    splits.x[s : s + 1], splits.y, splits.train[s : s + 1], splits.test[s : s + 1]
                ),
                act,
                32,
                schedule,
                seed,
            )
            for s in range(seeds)
        ]

    def batched():
        return [digits.train(splits, act, 32, schedule, seed)]

    singles, single_time = timed(one_at_a_time)
    together, batch_time = timed(batched)
    assert len(singles) == together[0].accuracy.size == seeds
    print(
        f"one split at a time {single_time:.2f} s, batched {batch_time:.2f} s, "
        f"speed-up {single_time / batch_time:.1f}x"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--starts", type=int, default=30)
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--seed", type=int, default=2021)
    args = parser.parse_args()
    bench_angle(args.starts, args.seed)
    bench_digits(args.seeds, args.seed)


if __name__ == "__main__":
    main()
