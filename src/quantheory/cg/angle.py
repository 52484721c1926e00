"""Section 8.1: two planes of R^4 at an angle theta, the grid data set, 4-bit sigma.

``V_1 = span(e_1, sin(theta) e_2 + cos(theta) e_3)`` and ``V_2 = span(e_3, e_4)``
meet only at 0 but are orthogonal only at ``theta = pi/2``. Each class is the
grid ``r (cos(phi) a + sin(phi) b)`` of its plane's basis ``(a, b)``, with
``r = 1.0, 1.1, .., 2.0`` and ``phi = j pi / 40``, ``j = 1..80``: 880 points per
class. The network has ``k = 24`` units, ``v_{i,j} = 1/2`` on class i's block
of 12, the 4-bit quantized ReLU, the ReLU surrogate and ``eta = 1``; training
is full-batch coarse-gradient descent until the loss is exactly zero, run by
the compiled kernel :mod:`quantheory.cg.kernel`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import numpy as np

from quantheory.cg import network as nw
from quantheory.cg.kernel import relu_coarse_gradient_descent
from quantheory.executor import map_cells
from quantheory.seeding import SeedLike, generator, spawn
from quantheory.validation import nonnegative_float, positive_float, positive_int

BITS = 4
UNITS = 24
ETA = 1.0
RADII = np.arange(10, 21) / 10
ANGLES = np.arange(1, 81) * np.pi / 40


def plane_bases(theta: float) -> tuple[np.ndarray, np.ndarray]:
    """Orthonormal bases (2, 4) of ``V_1`` and ``V_2`` for the angle ``theta``."""
    theta = positive_float("theta", theta)
    if theta > np.pi / 2 + 1e-12:
        raise ValueError(f"theta must lie in (0, pi/2], got {theta}")
    e = np.eye(4)
    return (
        np.stack([e[0], np.sin(theta) * e[1] + np.cos(theta) * e[2]]),
        np.stack([e[2], e[3]]),
    )


def grid_dataset(theta: float) -> tuple[np.ndarray, np.ndarray]:
    """The paper's grid data: ``x`` (1760, 4) and labels ``y`` (0 for V_1, 1 for V_2)."""
    r, phi = (a.ravel() for a in np.meshgrid(RADII, ANGLES, indexing="ij"))
    coefficients = np.stack([r * np.cos(phi), r * np.sin(phi)], axis=1)
    first, second = plane_bases(theta)
    x = np.concatenate([coefficients @ first, coefficients @ second])
    return x, np.repeat([0, 1], r.size)


def second_layer() -> np.ndarray:
    """``v_{i,j} = 1/2`` for the 12 units of class i, 0 otherwise."""
    return nw.block_second_layer(2, UNITS // 2, 0.5)


@dataclass(frozen=True)
class AngleSweep:
    """Iterations to zero loss and final ``|W|`` for every noise level, angle and start.

    Attributes
    ----------
    thetas : (A,) angles; noise_levels : (L,) perturbation standard deviations.
    steps : (L, A, R) iterations to zero loss (-1: not within ``max_steps``).
    norms : (L, A, R) ``|W| = sum_j |w_j|`` at the end.
    """

    thetas: np.ndarray
    noise_levels: np.ndarray
    steps: np.ndarray
    norms: np.ndarray
    init_scale: float
    max_steps: int


def angle_sweep(
    thetas: np.ndarray,
    noise_levels: tuple[float, ...],
    starts: int,
    init_scale: float,
    max_steps: int,
    seed: SeedLike,
) -> AngleSweep:
    """Run ``starts`` random starts ``W0 ~ N(0, init_scale^2)`` per angle and noise level.

    At a noise level s > 0 every start gets its own perturbed copy of the grid,
    ``x + N(0, s^2 I_4)``; labels are unchanged.
    """
    thetas = np.asarray(thetas, dtype=float)
    levels = np.array([nonnegative_float("noise level", s) for s in noise_levels])
    starts = positive_int("starts", starts)
    init_scale = positive_float("init_scale", init_scale)
    cells = [(level, theta) for level in levels for theta in thetas]
    runs = map_cells(
        partial(
            _angle_cell,
            starts=starts,
            init_scale=init_scale,
            max_steps=max_steps,
            v=second_layer(),
        ),
        cells,
        seed,
        desc="angle x noise grid",
    )
    steps = np.zeros((levels.size, thetas.size, starts), dtype=int)
    norms = np.zeros(steps.shape)
    for index, (cell_steps, cell_norms) in zip(np.ndindex(steps.shape[:2]), runs, strict=True):
        steps[index], norms[index] = cell_steps, cell_norms
    return AngleSweep(thetas, levels, steps, norms, init_scale, max_steps)


def _angle_cell(
    cell: tuple[float, float],
    seed: np.random.SeedSequence,
    *,
    starts: int,
    init_scale: float,
    max_steps: int,
    v: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """One (noise level, angle) cell of :func:`angle_sweep`: steps to zero loss and
    ``|W|`` of each start, shapes (R,)."""
    level, theta = cell
    streams = spawn(seed, ["start", "noise"])
    x, y = grid_dataset(theta)
    data = x[None] + level * generator(streams["noise"]).standard_normal((starts, *x.shape))
    w0 = init_scale * generator(streams["start"]).standard_normal((starts, 4, UNITS))
    result = relu_coarse_gradient_descent(w0, data, y, v, BITS, ETA, max_steps)
    return result.steps_to_zero, nw.column_norm_sum(result.w)
