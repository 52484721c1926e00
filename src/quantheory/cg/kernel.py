"""A compiled coarse-gradient descent for the ReLU surrogate, one thread per run.

The same algorithm as :func:`quantheory.cg.network.coarse_gradient_descent` with
``g' = 1{h > 0}`` (the derivative that SymPy gives for the ReLU surrogate),
written as loops over samples so that no (runs, samples, units) array is ever
built. Only the order of floating-point sums differs from the NumPy version;
``tests/test_cg_kernel.py`` checks the two agree and ``benchmarks/bench_cg.py``
times them side by side.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from quantheory.cg import network as nw
from quantheory.cg.surrogates import max_level
from quantheory.validation import positive_float, positive_int


@njit(cache=True, parallel=True)
def _descend(w, x, y, v, top, eta, max_steps, steps):  # pragma: no cover - compiled
    runs, samples, dim = x.shape
    classes, units = v.shape
    for r in prange(runs):
        weights = w[r]
        h = np.empty(units)
        levels = np.empty(units)
        outputs = np.empty(classes)
        grad = np.empty((dim, units))
        for step in range(max_steps + 1):
            grad[:, :] = 0.0
            positive = False
            for s in range(samples):
                for j in range(units):
                    total = 0.0
                    for a in range(dim):
                        total += x[r, s, a] * weights[a, j]
                    h[j] = total
                    levels[j] = min(max(np.ceil(total), 0.0), top)
                for i in range(classes):
                    total = 0.0
                    for j in range(units):
                        total += v[i, j] * levels[j]
                    outputs[i] = total
                label = y[s]
                rival = -1
                for i in range(classes):
                    if i != label and (rival < 0 or outputs[i] > outputs[rival]):
                        rival = i
                if 1.0 - outputs[label] + outputs[rival] > 0.0:
                    positive = True
                    for j in range(units):
                        if h[j] > 0.0:
                            c = -(v[label, j] - v[rival, j])
                            for a in range(dim):
                                grad[a, j] += c * x[r, s, a]
            if not positive:
                steps[r] = step
                break
            if step == max_steps:
                break
            for a in range(dim):
                for j in range(units):
                    weights[a, j] -= eta * grad[a, j] / samples


def relu_coarse_gradient_descent(
    w0: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    v: np.ndarray,
    bits: int,
    eta: float,
    max_steps: int,
) -> nw.DescentResult:
    """Compiled (8) with the ReLU surrogate; ``x`` is (R, N, d), one sample per run.

    Same arguments and result as :func:`quantheory.cg.network.coarse_gradient_descent`.
    """
    v = nw.check_second_layer(v)
    x = np.ascontiguousarray(x, dtype=float)
    y = np.asarray(y)
    w = np.array(w0, dtype=float)
    if x.ndim != 3 or w.shape != (x.shape[0], x.shape[2], v.shape[1]) or y.shape != x.shape[1:2]:
        raise ValueError(
            f"need x (R, N, d), w0 (R, d, {v.shape[1]}) and y (N,); got {x.shape}, {w.shape}, "
            f"{y.shape}"
        )
    if not np.issubdtype(y.dtype, np.integer) or y.min() < 0 or y.max() >= v.shape[0]:
        raise ValueError(f"y must hold integer labels in [0, {v.shape[0]})")
    steps = np.full(w.shape[0], -1)
    _descend(
        w,
        x,
        y.astype(np.int64),
        v,
        float(max_level(bits)),
        positive_float("eta", eta),
        positive_int("max_steps", max_steps),
        steps,
    )
    return nw.DescentResult(w=w, steps_to_zero=steps)
