"""Sweeps cell by cell: in this process, or on a Dask cluster.

A sweep is a list of independent *cells* (the settings of a grid, the rows of
a table), each computed by the same function from its own seed.
:func:`map_cells` is the one way the book runs them:

* by default, one after the other in this process (nothing to start), with a
  tqdm progress bar in a terminal and none in the rendered page;
* when ``QUANTHEORY_DASK_SCHEDULER=tcp://host:port`` is set, as tasks of that
  ``dask.distributed`` scheduler, whose workers run the same package in the
  same environment (see the README's Dask section).

Every cell's seed is fixed before anything runs (a child
:class:`numpy.random.SeedSequence` spawned in cell order from the sweep's
seed), so a cell's numbers do not depend on which process computes it, in
which order, or how often: a cell whose worker dies is recomputed
(Dask's ``retries``) and gives the same result. A cell's function must
therefore depend on its arguments only, never on what another cell changed
(a global, a ``SeedSequence`` another cell spawned from): on a cluster each
cell gets its own copy of its arguments.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

import numpy as np

from quantheory.display import in_notebook
from quantheory.seeding import SeedLike, paired

SCHEDULER_ENV_VAR = "QUANTHEORY_DASK_SCHEDULER"
#: times a cell is resubmitted after an error or the loss of its worker
RETRIES = 3
#: seconds to wait for the scheduler to answer before giving up
CONNECT_TIMEOUT = 10
_ADDRESS = re.compile(r"(tcp|tls)://(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9_.-]+):[0-9]{1,5}")

C = TypeVar("C")
R = TypeVar("R")


def scheduler_address() -> str | None:
    """The Dask scheduler named by ``QUANTHEORY_DASK_SCHEDULER``, or None (run here).

    An unset or blank variable means no cluster. Anything else must look like
    ``tcp://host:port`` (or ``tls://host:port``).
    """
    text = os.environ.get(SCHEDULER_ENV_VAR, "").strip()
    if not text:
        return None
    if not _ADDRESS.fullmatch(text):
        raise ValueError(
            f"{SCHEDULER_ENV_VAR} must be the address of a running `dask scheduler`, "
            f"such as tcp://127.0.0.1:8786 or tcp://head-node:8786, got {text!r} "
            f"(unset it to run the sweeps in this process)"
        )
    return text


def map_cells(
    function: Callable[[C, np.random.SeedSequence], R],
    cells: Iterable[C],
    seed: SeedLike | Sequence[np.random.SeedSequence],
    *,
    desc: str = "cells",
) -> list[R]:
    """``[function(cell, seed_of_cell) for cell in cells]``, here or on the Dask cluster.

    Parameters
    ----------
    function
        A module-level function (or a :func:`functools.partial` of one), so
        that it can be pickled and sent to a worker. It must depend only on
        its arguments.
    cells
        The settings of the sweep, picklable.
    seed
        The sweep's seed: cell ``i`` gets the ``i``-th child spawned from it
        (:func:`quantheory.seeding.paired`), whoever runs it. Or a list of
        ``SeedSequence``, one per cell, given to the cells as they are.
    desc
        The label of the progress bar (and of the tasks on the Dask dashboard).

    Returns
    -------
    list
        The results in the order of ``cells``.

    Examples
    --------
    >>> from quantheory.seeding import generator
    >>> def draw(scale, seed):
    ...     return scale * generator(seed).random()
    >>> first = map_cells(draw, [1.0, 10.0], seed=5)
    >>> first == map_cells(draw, [1.0, 10.0], seed=5)
    True
    """
    cells = list(cells)
    if isinstance(seed, list | tuple):
        seeds = list(seed)
        if len(seeds) != len(cells) or not all(
            isinstance(s, np.random.SeedSequence) for s in seeds
        ):
            raise ValueError(
                f"a list of seeds must hold one numpy SeedSequence per cell ({len(cells)}), "
                f"got {len(seeds)} items of types {sorted({type(s).__name__ for s in seeds})}"
            )
    else:
        seeds = [child for _, child in paired(cells, seed)]
    address = scheduler_address()
    if address is None or inside_a_worker():  # a sweep inside a cell runs where the cell runs
        return _map_here(function, cells, seeds, desc)
    return _map_on_cluster(function, cells, seeds, desc, address)


def inside_a_worker() -> bool:
    """Whether the calling thread is one of a Dask worker's (running a cell of a sweep)."""
    from distributed import get_worker

    try:
        get_worker()
    except ValueError:  # "No worker found"
        return False
    return True


def _map_here(
    function: Callable[[C, np.random.SeedSequence], R],
    cells: list[C],
    seeds: list[np.random.SeedSequence],
    desc: str,
) -> list[R]:
    from tqdm import tqdm

    pairs = tqdm(
        zip(cells, seeds, strict=True),
        total=len(cells),
        desc=desc,
        disable=in_notebook(),
        leave=False,
    )
    return [function(cell, child) for cell, child in pairs]


def _map_on_cluster(
    function: Callable[[C, np.random.SeedSequence], R],
    cells: list[C],
    seeds: list[np.random.SeedSequence],
    desc: str,
    address: str,
) -> list[R]:
    """Submit one task per cell, follow them as they finish, return results in cell order."""
    from distributed import as_completed
    from tqdm import tqdm

    with _connect(address) as client:
        _check_workers_run_this_source(client, address)
        label = re.sub(r"[^A-Za-z0-9_.-]+", "-", desc)
        token = uuid.uuid4().hex[:8]
        futures = client.map(
            function,
            cells,
            seeds,
            key=[f"{label}-{token}-{index}" for index in range(len(cells))],
            retries=RETRIES,
            pure=False,
        )
        position = {future.key: index for index, future in enumerate(futures)}
        results: list[Any] = [None] * len(cells)
        finished = tqdm(
            as_completed(futures, loop=client.loop),
            total=len(futures),
            desc=f"{desc} (Dask)",
            disable=in_notebook(),
            leave=False,
        )
        for future in finished:
            results[position[future.key]] = future.result()  # a cell's error is raised here
        return results


def _connect(address: str) -> Any:
    """A ``distributed.Client`` of the scheduler at ``address``, or a readable error."""
    from distributed import Client

    try:
        return Client(address, timeout=CONNECT_TIMEOUT, set_as_default=False)
    except OSError as error:  # includes TimeoutError and refused connections
        raise ConnectionError(
            f"cannot reach the Dask scheduler at {SCHEDULER_ENV_VAR}={address!r} "
            f"within {CONNECT_TIMEOUT} s ({error}). Expected the address of a running "
            f"`dask scheduler` (start one with `dask scheduler` and use the tcp://host:port "
            f"it prints), or unset {SCHEDULER_ENV_VAR} to run the sweeps in this process."
        ) from error


def _check_workers_run_this_source(client: Any, address: str) -> None:
    """Refuse workers whose ``quantheory`` source differs from this process's.

    A worker on another checkout would compute other numbers without any error.
    """
    from quantheory.memo import source_fingerprint

    here = source_fingerprint()
    try:
        theirs = client.run(source_fingerprint)
    except ModuleNotFoundError as error:
        raise RuntimeError(
            f"the Dask workers of {address} cannot import quantheory ({error}): start them "
            f"with the virtual environment the package is installed in (pip install -e .)"
        ) from error
    different = sorted(worker for worker, print_ in theirs.items() if print_ != here)
    if different:
        raise RuntimeError(
            f"the Dask workers {different} of {address} import a quantheory source "
            f"different from this process's (fingerprint {here}): start every worker "
            f"from the same checkout and virtual environment, and restart them after "
            f"changing the code"
        )
