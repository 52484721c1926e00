"""The two-layer hinge-loss classifier of section 2.2 and its coarse gradient (7).

Shapes follow the paper: inputs ``x`` in R^d, first layer ``W = [w_1 .. w_k]``
of shape ``(d, k)``, fixed second layer ``V`` of shape ``(n, k)`` (row ``i`` is
``v_i``). Every function accepts a stack of independent runs ``W`` of shape
``(..., d, k)`` and a sample ``X`` of shape ``(N, d)`` with labels ``y`` in
``{0, .., n-1}`` (the paper's class ``i`` is label ``i - 1``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from quantheory.cg.surrogates import quantized_relu
from quantheory.validation import positive_float, positive_int

Derivative = Callable[[np.ndarray], np.ndarray]
Observer = Callable[[int, np.ndarray, np.ndarray, np.ndarray], None]

#: outputs are rounded to this resolution: they are sums of ``v_{i,j}`` times
#: integers, so exact ties (a margin of exactly 1, two equal rivals) are frequent,
#: and rounding resolves them as exact arithmetic would, whatever the order of the sums
OUTPUT_RESOLUTION = 1e-9


def round_outputs(outputs: np.ndarray) -> np.ndarray:
    """``outputs`` rounded to :data:`OUTPUT_RESOLUTION`."""
    return np.rint(outputs / OUTPUT_RESOLUTION) * OUTPUT_RESOLUTION


def check_second_layer(v: np.ndarray) -> np.ndarray:
    """Return ``V`` as a float array after checking the paper's Assumption 1.

    Raises
    ------
    ValueError
        Naming the violated condition: every class needs a unit with
        ``v_{i,j} > 0``; a unit positive for one class is zero for all others;
        every entry is below 1; entries are non-negative.
    """
    v = np.asarray(v, dtype=float)
    if v.ndim != 2 or v.shape[0] < 2 or v.shape[1] < v.shape[0]:
        raise ValueError(
            f"V must have shape (n, k) with n >= 2 classes and k >= n units, got {v.shape}"
        )
    if not np.all(np.isfinite(v)) or np.any(v < 0):
        raise ValueError("V must be finite and non-negative (Assumption 1)")
    positive = v > 0
    lonely = np.flatnonzero(~positive.any(axis=1))
    if lonely.size:
        raise ValueError(
            f"Assumption 1.1 fails: class(es) {lonely.tolist()} have no unit with v_ij > 0"
        )
    shared = np.flatnonzero(positive.sum(axis=0) > 1)
    if shared.size:
        raise ValueError(
            f"Assumption 1.2 fails: unit(s) {shared.tolist()} are positive for more than one class"
        )
    if np.any(v >= 1):
        raise ValueError(f"Assumption 1.3 fails: every v_ij must be < 1, largest is {v.max():g}")
    return v


def block_second_layer(n_classes: int, units_per_class: int, value: float = 0.5) -> np.ndarray:
    """``V`` with ``v_{i,j} = value`` on class i's block of units, 0 elsewhere (section 8.1)."""
    n = positive_int("n_classes", n_classes)
    per = positive_int("units_per_class", units_per_class)
    v = np.kron(np.eye(n), np.full((1, per), positive_float("value", value)))
    return check_second_layer(v)


def v_hat(v: np.ndarray) -> np.ndarray:
    """Lemma 5.1's ``v^_j = max_{i1,i2} (v_{i1,j} - v_{i2,j})``, shape (k,)."""
    return v.max(axis=0) - v.min(axis=0)


def v_tilde(v: np.ndarray) -> np.ndarray:
    """Lemma 5.3's ``v~_{i,j} = v_{i,j} - max_{r != i} v_{r,j}``, shape (n, k)."""
    out = np.empty_like(v)
    for i in range(v.shape[0]):
        out[i] = v[i] - np.delete(v, i, axis=0).max(axis=0)
    return out


@dataclass(frozen=True)
class ForwardPass:
    """What the loss and the coarse gradient need from one forward pass.

    Attributes
    ----------
    h : (..., N, k) pre-activations ``<w_j, x>``.
    loss : (..., N) hinge loss ``max(0, 1 - (o_y - max_{i != y} o_i))``.
    rival : (..., N) ``xi = argmax_{i != y} o_i`` (the lowest index on ties).
    predicted : (..., N) ``argmax_r o_r``.
    """

    h: np.ndarray
    loss: np.ndarray
    rival: np.ndarray
    predicted: np.ndarray


def forward(w: np.ndarray, x: np.ndarray, y: np.ndarray, v: np.ndarray, bits: int) -> ForwardPass:
    """Pre-activations, hinge loss, rival class and prediction for every sample and run."""
    h = np.asarray(x, dtype=float) @ np.asarray(w, dtype=float)
    outputs = round_outputs(quantized_relu(h, bits) @ v.T)
    labels = np.broadcast_to(y[:, None], (*outputs.shape[:-1], 1))
    own = np.take_along_axis(outputs, labels, -1)[..., 0]
    others = np.where(np.arange(v.shape[0]) == y[:, None], -np.inf, outputs)
    rival = others.argmax(axis=-1)
    best_other = np.take_along_axis(others, rival[..., None], -1)[..., 0]
    loss = np.maximum(0.0, 1.0 - own + best_other)
    return ForwardPass(h=h, loss=loss, rival=rival, predicted=outputs.argmax(axis=-1))


def sample_coefficients(
    state: ForwardPass, y: np.ndarray, v: np.ndarray, derivative: Derivative
) -> np.ndarray:
    """``c_{x,j} = -(v_{y,j} - v_{xi,j}) 1{l > 0} g'(h_j)``, shape (..., N, k).

    The sample coarse gradient (7) is ``c_{x,j} x``.
    """
    weight = v[y] - v[state.rival]
    return -weight * (state.loss > 0)[..., None] * derivative(state.h)


def coarse_gradient(
    w: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    v: np.ndarray,
    bits: int,
    derivative: Derivative,
) -> np.ndarray:
    """The sample mean of the coarse gradient (7), shape (..., d, k).

    Parameters
    ----------
    w : (..., d, k) first-layer weights of one or many runs.
    x : (N, d) inputs; y : (N,) integer labels in ``[0, n)``.
    v : (n, k) second layer (Assumption 1 is checked).
    bits : bit-width b of the quantized ReLU.
    derivative : the surrogate derivative ``g'`` used in place of ``sigma'``.
    """
    x, y, v = _checked(x, y, v)
    state = forward(w, x, y, v, bits)
    return mean_gradient(x, sample_coefficients(state, y, v, derivative))


def mean_gradient(x: np.ndarray, coefficients: np.ndarray) -> np.ndarray:
    """``mean_x c_{x,j} x``: (N, d) or (..., N, d) inputs and (..., N, k) coefficients
    give (..., d, k)."""
    return np.matmul(np.swapaxes(x, -1, -2), coefficients) / x.shape[-2]


def _checked(x: np.ndarray, y: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, ...]:
    v = check_second_layer(v)
    x = np.asarray(x, dtype=float)
    y = np.asarray(y)
    if x.ndim not in (2, 3) or y.shape != (x.shape[-2],):
        raise ValueError(
            f"x must be (N, d), or (R, N, d) with one sample per run, and y (N,); "
            f"got {x.shape} and {y.shape}"
        )
    if not np.issubdtype(y.dtype, np.integer) or y.min() < 0 or y.max() >= v.shape[0]:
        raise ValueError(f"y must hold integer labels in [0, {v.shape[0]}), got {y[:5]!r}...")
    return x, y, v


@dataclass(frozen=True)
class DescentResult:
    """Coarse-gradient descent on a fixed sample, many runs at once.

    Attributes
    ----------
    w : (R, d, k) final weights.
    steps_to_zero : (R,) first step at which the sample loss was exactly 0
        (``-1`` if never within the budget).
    """

    w: np.ndarray
    steps_to_zero: np.ndarray

    @property
    def converged(self) -> np.ndarray:
        return self.steps_to_zero >= 0


def coarse_gradient_descent(
    w0: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    v: np.ndarray,
    bits: int,
    derivative: Derivative,
    eta: float,
    max_steps: int,
    observer: Observer | None = None,
) -> DescentResult:
    """Iterate (8), ``W <- W - eta * coarse gradient``, on every run of ``w0`` (R, d, k).

    A run stops (and is no longer computed) once its sample loss is exactly 0:
    its coarse gradient is then 0, so it would never move again.
    ``observer(step, active, coefficients, w)`` is called before every update
    with the indices of the runs still moving, their per-sample coefficients
    ``c`` (R_active, N, k) of (7) and all weights ``w`` (R, d, k).
    """
    x, y, v = _checked(x, y, v)
    eta = positive_float("eta", eta)
    max_steps = positive_int("max_steps", max_steps)
    w = np.array(w0, dtype=float)
    if w.ndim != 3 or w.shape[1:] != (x.shape[-1], v.shape[1]):
        raise ValueError(f"w0 must be (R, {x.shape[-1]}, {v.shape[1]}), got {w.shape}")
    if x.ndim == 3 and x.shape[0] != w.shape[0]:
        raise ValueError(f"x holds {x.shape[0]} samples but w0 has {w.shape[0]} runs")
    steps = np.full(w.shape[0], -1)
    active = np.arange(w.shape[0])
    for step in range(max_steps + 1):
        sample = x if x.ndim == 2 else x[active]
        state = forward(w[active], sample, y, v, bits)
        done = ~np.any(state.loss > 0, axis=-1)
        steps[active[done]] = step
        active, state = active[~done], _subset(state, ~done)
        sample = x if x.ndim == 2 else x[active]
        if step == max_steps or active.size == 0:
            break
        c = sample_coefficients(state, y, v, derivative)
        if observer is not None:
            observer(step, active, c, w)
        w[active] -= eta * mean_gradient(sample, c)
    return DescentResult(w=w, steps_to_zero=steps)


def _subset(state: ForwardPass, keep: np.ndarray) -> ForwardPass:
    return ForwardPass(*(getattr(state, f)[keep] for f in ("h", "loss", "rival", "predicted")))


def column_norm_sum(w: np.ndarray) -> np.ndarray:
    """The paper's ``|W| = sum_j |w_j|`` (column-wise l2 norms summed), shape (...)."""
    return np.linalg.norm(w, axis=-2).sum(axis=-1)
