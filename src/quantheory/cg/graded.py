"""Both second layers across sample sizes and in the population limit."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from quantheory.cg import iterates as it
from quantheory.cg import network as nw
from quantheory.cg import quadrature as qd
from quantheory.cg.population import AnnulusPopulation
from quantheory.cg.surrogates import max_level
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


def uncoverable_mass(
    population: AnnulusPopulation, w: np.ndarray, v: np.ndarray, bits: int
) -> np.ndarray:
    """(R,) population mass of inputs that no norm of ``w`` can give zero loss.

    An input of class ``i`` whose covering units (``j`` owned by class ``i``
    with ``<w_j, x> > 0``) have ``sum_j v_{i,j} q_b < 1`` has output below 1
    however large those units grow, so its hinge loss is positive: the mass
    of such inputs is a lower bound on ``P(loss > 0)`` at ``w`` (R, d, k).
    Computed by quadrature (the rule splits the circle where a ``<w_j, x>``
    changes sign, so the indicator is integrated exactly up to the radial
    rule); the mean over the classes (equal class weights).
    """
    v = nw.check_second_layer(v)
    w = np.asarray(w, dtype=float)
    owner, q = v.argmax(axis=0), float(max_level(bits))
    levels = qd.surrogate_levels("relu", bits)
    out = np.zeros(w.shape[0])
    for r, weights in enumerate(w):
        for i in range(population.n_classes):
            u = population.plane(i).T @ weights
            z, mass = qd.plane_rule(u, levels, population.inner, population.outer)
            covering = (z @ u > 0) & (owner == i)
            out[r] += mass[covering @ v[i] * q < 1].sum() / population.n_classes
    return out
