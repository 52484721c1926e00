#!/usr/bin/env python3
"""Set up and run the book with nothing but Python 3.11.

    python3 make.py book   # create .venv on first use, then build the HTML book
    python3 make.py test   # create .venv on first use, then run the test suite
    python3 make.py pdf    # the whole book as one PDF, _build/book.pdf

The commands install what they need on first use: a virtual environment in
``.venv`` with the pinned stack of ``requirements.txt`` (re-installed whenever
that file or ``pyproject.toml`` changes), and for the tests and the PDF
Debian's Chromium and poppler-utils (through apt-get, as root).
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
#: Debian packages: the browser for the browser tests and the PDF, pdftotext for the PDF test
SYSTEM_TOOLS = {"chromium": CHROMIUM, "poppler-utils": "/usr/bin/pdftotext"}
ONE_PAGE = ROOT / "_build" / "singlehtml"
PDF = ROOT / "_build" / "book.pdf"


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
    """Install Debian's Chromium and poppler-utils (browser tests, PDF) if missing."""
    missing = [name for name, path in SYSTEM_TOOLS.items() if not Path(path).exists()]
    if not missing:
        return
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        sys.exit(
            f"error: the browser tests and the PDF need Debian's {' and '.join(missing)}; "
            f"install them (apt-get install {' '.join(missing)}) and run again"
        )
    print(f"installing {', '.join(missing)} for the browser tests and the PDF", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    if (
        run(["apt-get", "update", "-qq"], env=env) != 0
        or run(["apt-get", "install", "-y", "-qq", *missing], env=env) != 0
    ):
        sys.exit(f"error: apt-get could not install {' '.join(missing)}")


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


def root_document() -> str:
    """The book's first page (``root:`` in ``_toc.yml``), such as ``book/intro``."""
    for line in (ROOT / "_toc.yml").read_text().splitlines():
        if line.startswith("root:"):
            return line.split(":", 1)[1].strip()
    sys.exit("error: _toc.yml names no root document")


def print_to_pdf(page: Path, pdf: Path) -> int:
    """Print ``page`` with headless Chromium, letting MathJax typeset first."""
    return run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={ROOT / '_build' / '.chromium'}",
            "--no-pdf-header-footer",
            "--virtual-time-budget=120000",
            f"--print-to-pdf={pdf}",
            page.as_uri(),
        ]
    )


def pdf(extra: list[str]) -> int:
    """Build the book as one HTML page (chapters from the execution cache) and print it."""
    ensure_venv()
    ensure_chromium()
    build = [BIN / "jupyter-book", "build", ".", "--builder", "singlehtml", "-W", "-n"]
    status = run([*build, "--keep-going", *extra])
    if status != 0:
        print("error: the one-page book did not build; a failing claim or a warning stops it")
        return status
    root = root_document()
    # the single page is written as the root document; at the top of the output its
    # relative links to _static and _images resolve, and links into it become anchors
    text = (ONE_PAGE / f"{root}.html").read_text()
    page = ONE_PAGE / "book.html"
    page.write_text(text.replace(f'href="{root}.html#', 'href="#'))
    PDF.unlink(missing_ok=True)
    status = print_to_pdf(page, PDF)
    if status != 0 or not PDF.is_file():
        print("error: Chromium did not write the PDF (see above)")
        return status or 1
    print(f"wrote {PDF.relative_to(ROOT)}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("task", choices=("book", "test", "pdf"), help="what to do")
    parser.add_argument(
        "extra",
        nargs=argparse.REMAINDER,
        help="passed on to jupyter-book (book, pdf) or pytest (test)",
    )
    args = parser.parse_args()
    return {"book": book, "test": test, "pdf": pdf}[args.task](args.extra)


if __name__ == "__main__":
    sys.exit(main())
