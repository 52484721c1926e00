"""Results shared between chapters, cached on disk during a book build.

Two chapters may need the same expensive sweep (the (n, N) grid of the
Theorem 1 chapter is also the Theorem 2 chapter's). During a book build the
Sphinx extension sets ``QUANTHEORY_CACHE_DIR``; :func:`cached` then stores each
result under a key made of its name, its parameters and the fingerprint of
the package source and scale, so a result is reused only when nothing that
could change it has changed. Without the variable (a chapter run as a
script) every result is computed afresh.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import quantheory
from quantheory.scale import current_scale
from quantheory.seeding import master_seed

CACHE_ENV_VAR = "QUANTHEORY_CACHE_DIR"
T = TypeVar("T")


def source_fingerprint() -> str:
    """Hash of every source file of ``quantheory`` (names and contents), 16 hex digits."""
    root = Path(quantheory.__file__).parent
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def package_fingerprint() -> str:
    """Hash of the package's source (:func:`source_fingerprint`), the scale and the master seed."""
    text = f"{current_scale()}/{master_seed()}/{source_fingerprint()}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def cached(name: str, params: dict[str, Any], compute: Callable[[], T]) -> T:
    """Return ``compute()``, reusing a stored result with the same name and parameters."""
    folder = os.environ.get(CACHE_ENV_VAR)
    if not folder:
        return compute()
    text = json.dumps(params, sort_keys=True, default=repr) + package_fingerprint()
    path = Path(folder) / f"{name}-{hashlib.sha256(text.encode()).hexdigest()[:20]}.pkl"
    if path.is_file():
        with path.open("rb") as handle:
            return pickle.load(handle)
    result = compute()
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    with partial.open("wb") as handle:
        pickle.dump(result, handle)
    os.replace(partial, path)
    return result
