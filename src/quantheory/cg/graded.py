"""Both second layers across sample sizes and in the population limit."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from quantheory.cg import iterates as it
from quantheory.cg import quadrature as qd
from quantheory.cg.population import AnnulusPopulation
from quantheory.seeding import SeedLike, spawn
from quantheory.validation import positive_int

#: label of the population limit in a study
POPULATION = "population"


def size_label(per_class: int) -> str:
    """``"1,000 per class"``: how a study labels a sample size."""
    return f"{per_class:,} per class"


def sample_size_study(
    population: AnnulusPopulation,
    w0: np.ndarray,
    layers: Mapping[str, np.ndarray],
    bits: int,
    eta: float,
    sizes: Sequence[tuple[int, int]],
    steps: int,
    seed: SeedLike,
) -> dict[tuple[str, str], it.IterateRun]:
    """ReLU descent with every second layer on samples of each size and on the population.

    Parameters
    ----------
    w0 : (R, d, k) starts; the population uses all of them, a sample of
        ``per_class`` inputs per class the first ``runs``.
    layers : second layers (n, k) by name.
    sizes : ``(per_class, runs)`` pairs.
    steps : the common horizon T.

    Returns
    -------
    Runs keyed ``(layer, label)``, label :func:`size_label` or :data:`POPULATION`;
    every layer sees the same samples.
    """
    steps = positive_int("steps", steps)
    seeds = spawn(seed, [f"sample_{per}" for per, _ in sizes])
    out = {}
    for per, runs in sizes:
        z = it.plane_coordinates(population, *population.sample(per, seeds[f"sample_{per}"]))
        starts = w0[: positive_int("runs", runs)]
        for layer, v in layers.items():
            out[layer, size_label(per)] = it.plane_descent(
                population, starts, z, v, bits, "relu", eta, steps
            )
    for layer, v in layers.items():
        run = qd.population_descent(population, w0, v, bits, "relu", eta, steps)
        out[layer, POPULATION] = run.iterates
    return out


def fresh_study(
    runs: Mapping[tuple[str, str], it.IterateRun],
    fresh: tuple[np.ndarray, np.ndarray],
    layers: Mapping[str, np.ndarray],
    bits: int,
) -> dict[tuple[str, str], it.FreshCounts]:
    """:func:`~quantheory.cg.iterates.fresh_counts` of every run of a study."""
    return {
        (layer, label): it.fresh_counts(run.w, fresh, layers[layer], bits)
        for (layer, label), run in runs.items()
    }
