"""The graded second layer across sample sizes and in the population limit."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from quantheory.cg import iterates as it
from quantheory.cg import network as nw
from quantheory.cg import quadrature as qd
from quantheory.cg.population import AnnulusPopulation
from quantheory.seeding import SeedLike, spawn
from quantheory.validation import positive_int


def sample_size_study(
    population: AnnulusPopulation,
    w0: np.ndarray,
    v: np.ndarray,
    bits: int,
    eta: float,
    sizes: Sequence[tuple[int, int]],
    steps: int,
    seed: SeedLike,
) -> dict[str, it.IterateRun]:
    """ReLU descent from the first ``runs`` starts of ``w0`` on a sample of each size,
    and on the population (quadrature, every start), over ``steps`` steps.

    ``sizes`` holds ``(per_class, runs)`` pairs; the result maps labels
    ``"1,000 per class"``, .., ``"population"`` to :class:`~quantheory.cg.iterates.IterateRun`.
    """
    steps = positive_int("steps", steps)
    seeds = spawn(seed, [f"sample_{per}" for per, _ in sizes])
    out = {}
    for per, runs in sizes:
        x, y = population.sample(per, seeds[f"sample_{per}"])
        z = it.plane_coordinates(population, x, y)
        out[f"{per:,} per class"] = it.plane_descent(
            population, w0[: positive_int("runs", runs)], z, v, bits, "relu", eta, steps
        )
    out["population"] = qd.population_descent(population, w0, v, bits, "relu", eta, steps).iterates
    return out


def fresh_errors(
    runs: dict[str, it.IterateRun], fresh: tuple[np.ndarray, np.ndarray], v: np.ndarray, bits: int
) -> dict[str, np.ndarray]:
    """Misclassified fresh inputs of every run, (R,) per label."""
    x, y = fresh
    return {
        label: np.sum(nw.forward(run.w, x, y, v, bits).predicted != y, axis=-1)
        for label, run in runs.items()
    }
