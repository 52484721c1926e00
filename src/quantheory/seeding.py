"""Explicit randomness: every experiment gets its own generator from a seed.

Seeds are never global. The book has one *master seed* (``QUANTHEORY_SEED``,
default 0); each chapter derives its own seed from it and a fixed salt of its
own (:func:`chapter_seed`), and each experiment takes a child
:class:`numpy.random.SeedSequence` spawned from that, so adding an experiment
never changes the numbers of another, and ``QUANTHEORY_SEED=7`` reruns the
whole book on fresh randomness.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TypeVar

import numpy as np

SEED_ENV_VAR = "QUANTHEORY_SEED"
SeedLike = int | np.random.SeedSequence
T = TypeVar("T")


def seed_sequence(seed: SeedLike) -> np.random.SeedSequence:
    """Return ``seed`` as a :class:`numpy.random.SeedSequence`.

    Parameters
    ----------
    seed
        A non-negative integer or an existing ``SeedSequence``.
    """
    if isinstance(seed, np.random.SeedSequence):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer or a SeedSequence, got {seed!r}")
    return np.random.SeedSequence(int(seed))


def master_seed() -> int:
    """The book's master seed: ``QUANTHEORY_SEED`` (a non-negative integer), default 0."""
    text = os.environ.get(SEED_ENV_VAR, "0").strip()
    if not text.isdigit():
        raise ValueError(
            f"{SEED_ENV_VAR} must be a non-negative integer such as 0 or 7, got {text!r}"
        )
    return int(text)


def chapter_seed(salt: int) -> np.random.SeedSequence:
    """A chapter's seed: the master seed with the chapter's own ``salt`` as spawn key.

    Different chapters (different salts) get independent streams; a different
    master seed gives every chapter fresh ones. :func:`describe` labels it
    ``master/salt``.
    """
    if isinstance(salt, bool) or not isinstance(salt, int) or salt < 0:
        raise ValueError(f"salt must be a non-negative integer, got {salt!r}")
    return np.random.SeedSequence(master_seed(), spawn_key=(salt,))


def spawn(seed: SeedLike, names: list[str] | tuple[str, ...]) -> dict[str, np.random.SeedSequence]:
    """Spawn one independent child seed per experiment name.

    The children depend only on ``seed`` and on the position of the name in
    ``names``, so the same call gives the same streams every run.
    """
    if len(set(names)) != len(names):
        raise ValueError(f"names must be distinct, got {list(names)!r}")
    children = seed_sequence(seed).spawn(len(names))
    return dict(zip(names, children, strict=True))


def paired(items: Sequence[T], seed: SeedLike) -> list[tuple[T, np.random.SeedSequence]]:
    """Each item with its own child seed, spawned in order from ``seed``.

    The usual way to give every setting of a sweep an independent stream.
    """
    children = seed_sequence(seed).spawn(len(items))
    return list(zip(items, children, strict=True))


def describe(seed: SeedLike) -> str:
    """A short, reproducible label of a seed: ``entropy`` plus its spawn key."""
    sequence = seed_sequence(seed)
    key = "/".join(str(k) for k in sequence.spawn_key)
    return f"{sequence.entropy}" + (f"/{key}" if key else "")


def generator(seed: SeedLike) -> np.random.Generator:
    """A fresh PCG64 generator for ``seed``."""
    return np.random.default_rng(seed_sequence(seed))
