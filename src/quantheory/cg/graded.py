"""Both second layers across sample sizes and in the population limit."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import partial

import numpy as np

from quantheory.cg import iterates as it
from quantheory.cg import network as nw
from quantheory.cg import quadrature as qd
from quantheory.cg.population import AnnulusPopulation
from quantheory.cg.surrogates import max_level
from quantheory.executor import map_cells
from quantheory.seeding import SeedLike, spawn
from quantheory.validation import positive_int

#: label of the population limit in a study
POPULATION = "population"


def size_label(per_class: int) -> str:
    """``"1,000 per class"``: how a study labels a sample size."""
    return f"{per_class:,} per class"


def study_run(
    cell: tuple[str, int | None, int],
    seed: SeedLike,
    *,
    population: AnnulusPopulation,
    w0: np.ndarray,
    layers: Mapping[str, np.ndarray],
    bits: int,
    eta: float,
    steps: int,
) -> it.IterateRun:
    """One run of :func:`sample_size_study`: a layer on one sample size or the population.

    ``cell`` is ``(layer, per_class, runs)``: ReLU descent from the first
    ``runs`` starts of ``w0`` on ``per_class`` inputs per class drawn from
    ``seed``, or, for ``per_class=None``, on the population from every start
    (deterministic: ``seed`` is not used).
    """
    layer, per, runs = cell
    v = layers[layer]
    if per is None:
        return qd.population_descent(population, w0, v, bits, "relu", eta, steps).iterates
    z = it.plane_coordinates(population, *population.sample(per, seed))
    return it.plane_descent(population, w0[:runs], z, v, bits, "relu", eta, steps)


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
    every layer sees the same samples. Each run is a cell of a
    :func:`~quantheory.executor.map_cells` sweep (:func:`study_run`); the
    cells of one size share that size's seed, so they draw the same sample.
    The population cells get a seed spawned after the sizes' (so it leaves
    theirs unchanged), which they do not use.
    """
    steps = positive_int("steps", steps)
    seeds = spawn(seed, [f"sample_{per}" for per, _ in sizes] + [POPULATION])
    cells = [(layer, per, positive_int("runs", runs)) for per, runs in sizes for layer in layers]
    cells += [(layer, None, len(w0)) for layer in layers]
    cell_seeds = [seeds[POPULATION if per is None else f"sample_{per}"] for _, per, _ in cells]
    run = partial(
        study_run, population=population, w0=w0, layers=layers, bits=bits, eta=eta, steps=steps
    )
    results = map_cells(run, cells, cell_seeds, desc="sample-size study")
    return {
        (layer, POPULATION if per is None else size_label(per)): result
        for (layer, per, _), result in zip(cells, results, strict=True)
    }


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
