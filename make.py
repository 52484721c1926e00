#!/usr/bin/env python3
"""Set up and run the book with nothing but Python 3.11.

    python3 make.py book   # create .venv on first use, then build the HTML book
    python3 make.py test   # create .venv on first use, then run the test suite

Both commands install what they need on first use: a virtual environment in
``.venv`` with the pinned stack of ``requirements.txt`` (re-installed whenever
that file or ``pyproject.toml`` changes), and for the tests Debian's Chromium
(through apt-get, as root) for the browser checks.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / "bin"
STAMP = VENV / ".requirements-sha256"
CHROMIUM = "/usr/bin/chromium"


def run(command: list[str], **kwargs) -> int:
    print("+", " ".join(str(c) for c in command), flush=True)
    return subprocess.call([str(c) for c in command], cwd=ROOT, **kwargs)


def requirements_digest() -> str:
    digest = hashlib.sha256()
    for name in ("requirements.txt", "pyproject.toml"):
        digest.update((ROOT / name).read_bytes())
    return digest.hexdigest()


def ensure_venv() -> None:
    """Create ``.venv`` and install the pinned requirements if they changed."""
    if sys.version_info[:2] < (3, 11):  # noqa: UP036 - make.py may run on any python3
        sys.exit(f"error: Python 3.11 or newer is needed, this is {sys.version.split()[0]}")
    wanted = requirements_digest()
    if STAMP.is_file() and STAMP.read_text() == wanted:
        return
    if not (BIN / "python").exists():
        print(f"creating the virtual environment {VENV}", flush=True)
        venv.create(VENV, with_pip=True)
    pip = [BIN / "python", "-m", "pip"]
    if run([*pip, "install", "--quiet", "--upgrade", "pip"]) != 0:
        sys.exit("error: could not upgrade pip in .venv")
    if run([*pip, "install", "--quiet", "-r", "requirements.txt"]) != 0:
        sys.exit("error: installing requirements.txt into .venv failed (see above)")
    STAMP.write_text(wanted)


def ensure_chromium() -> None:
    """Install Debian's Chromium for the browser tests if it is missing."""
    if Path(CHROMIUM).exists():
        return
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        sys.exit(
            f"error: the browser tests need Chromium at {CHROMIUM}; install Debian's "
            "'chromium' package (apt-get install chromium) and run again"
        )
    print("installing Chromium for the browser tests", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    if (
        run(["apt-get", "update", "-qq"], env=env) != 0
        or run(["apt-get", "install", "-y", "-qq", "chromium"], env=env) != 0
    ):
        sys.exit("error: apt-get could not install chromium")


def book(extra: list[str]) -> int:
    ensure_venv()
    status = run([BIN / "jupyter-book", "build", ".", "-W", "-n", "--keep-going", *extra])
    if status != 0:
        print("error: the book did not build; a failing claim or a warning stops it (see above)")
        return status
    return run([BIN / "python", "-m", "quantheory", "claims", "_build"])


def test(extra: list[str]) -> int:
    ensure_venv()
    ensure_chromium()
    # two workers: the book-building tests (one group, one worker) run beside the rest
    parallel = ["-n", "2", "--dist", "loadgroup"]
    return run([BIN / "python", "-m", "pytest", *parallel, *extra])


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("task", choices=("book", "test"), help="what to do")
    parser.add_argument(
        "extra", nargs=argparse.REMAINDER, help="passed on to jupyter-book (book) or pytest (test)"
    )
    args = parser.parse_args()
    return {"book": book, "test": test}[args.task](args.extra)


if __name__ == "__main__":
    sys.exit(main())
