"""Shared fixtures: every test runs at quick scale unless it says otherwise."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QUANTHEORY_SCALE", "quick")

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return ROOT


BOOK_FILES = ("book", "_config.yml", "_toc.yml", "assets")


def copy_book(
    dest: Path, with_package: bool = False, chapters: tuple[str, ...] | None = None
) -> Path:
    """Copy the book's sources (and optionally ``src/``) into ``dest``.

    With ``chapters`` (docnames such as ``"book/ste_population"``) the copy's
    table of contents keeps only those chapters, the introduction and the report.
    """
    import shutil

    dest.mkdir(parents=True, exist_ok=True)
    names = BOOK_FILES + (("src",) if with_package else ())
    for name in names:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(
                source, dest / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info")
            )
        else:
            shutil.copy2(source, dest / name)
    if chapters is not None:
        entries = "".join(f"      - file: {c}\n" for c in chapters)
        (dest / "_toc.yml").write_text(
            "format: jb-book\nroot: book/intro\nparts:\n  - caption: Chapters\n"
            f"    chapters:\n{entries}      - file: book/report\n"
        )
    return dest


def build_book(folder: Path, **env_overrides: str):
    """Build the book in ``folder`` at quick scale with -W; returns the CompletedProcess."""
    import subprocess
    import sys

    env = {**os.environ, "QUANTHEORY_SCALE": "quick", **env_overrides}
    command = [
        str(Path(sys.executable).parent / "jupyter-book"),
        "build",
        str(folder),
        "-W",
        "-n",
        "--keep-going",
    ]
    return subprocess.run(
        command, cwd=folder, env=env, capture_output=True, text=True, timeout=1200
    )


@pytest.fixture(scope="session")
def quick_book(tmp_path_factory) -> Path:
    """The whole book, built once per test session at quick scale in a temporary copy."""
    folder = copy_book(tmp_path_factory.mktemp("book"))
    result = build_book(folder)
    assert result.returncode == 0, (result.stdout + result.stderr)[-5000:]
    return folder


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    """Keep ``xdist_group`` tests on one worker under pytest 9.

    pytest-xdist 3.8 groups ``--dist loadgroup`` tests by appending ``@group``
    to ``item._nodeid``, which pytest 9 no longer reads (the node id lives in
    ``item._id``); without this the quick book would be built once per worker.
    """
    if not getattr(config.option, "loadgroup", False):
        return
    from _pytest.nodeid import coerce_node_id

    for item in items:
        groups = sorted(
            str(mark.args[0] if mark.args else mark.kwargs.get("name", "default"))
            for mark in item.iter_markers("xdist_group")
        )
        suffix = "@" + "_".join(groups)
        if groups and not item.nodeid.endswith(suffix):
            item._id = coerce_node_id(item.nodeid + suffix)
