"""What produced a claim: commit, package source, scale, seed, versions, rerun command.

Every claim a chapter records carries this record (see
:meth:`quantheory.claims.ChapterClaims.record`), so a reader can go from any
claim to the exact command that reproduces it and the library versions it ran
with.
"""

from __future__ import annotations

import functools
import platform
import re
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

import quantheory
from quantheory.memo import source_fingerprint
from quantheory.scale import current_scale
from quantheory.seeding import master_seed

#: the libraries whose versions every claim records
LIBRARIES: tuple[str, ...] = ("numpy", "scipy", "sympy", "numba")

CHAPTER_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


@functools.cache
def git_commit() -> str:
    """The checkout's commit (12 hex digits), ``+dirty`` when package or chapters differ.

    ``"unknown"`` outside a git checkout (for example a copied book).
    """
    repo = Path(quantheory.__file__).resolve().parents[2]
    try:
        head = subprocess.run(
            ["git", "-C", str(repo), "rev-parse", "--short=12", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        changes = subprocess.run(
            ["git", "-C", str(repo), "status", "--porcelain", "--", "src", "book"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("+dirty" if changes else "")


@functools.cache
def library_versions() -> dict[str, str]:
    """Python's and :data:`LIBRARIES`' versions, by name."""
    versions = {"python": platform.python_version()}
    versions.update({name: metadata.version(name) for name in LIBRARIES})
    return versions


def rerun_command(chapter: str, scale: str, seed: int) -> str:
    """The shell command that reruns ``chapter`` (a name such as ``ste_population``).

    Examples
    --------
    >>> rerun_command("ste_population", "quick", 3)
    'QUANTHEORY_SCALE=quick QUANTHEORY_SEED=3 .venv/bin/python book/ste_population.py'
    """
    if not CHAPTER_NAME.match(chapter):
        raise ValueError(
            f"chapter must be a chapter's file name without .py (such as 'ste_population'), "
            f"got {chapter!r}"
        )
    return f"QUANTHEORY_SCALE={scale} QUANTHEORY_SEED={seed} .venv/bin/python book/{chapter}.py"


def provenance(chapter: str | None) -> dict[str, Any]:
    """The record of what is producing a claim now.

    Keys: ``commit``, ``package`` (source fingerprint), ``scale``,
    ``master_seed``, ``versions`` (by library) and, when ``chapter`` is given,
    ``command`` (:func:`rerun_command`).
    """
    scale, seed = current_scale(), master_seed()
    record: dict[str, Any] = {
        "commit": git_commit(),
        "package": source_fingerprint(),
        "scale": scale,
        "master_seed": seed,
        "versions": library_versions(),
    }
    if chapter is not None:
        record["command"] = rerun_command(chapter, scale, seed)
    return record
