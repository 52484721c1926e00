"""The code base stays ruff clean (lint and format), as the project asks."""

import subprocess
import sys
from pathlib import Path

from conftest import ROOT

RUFF = str(Path(sys.executable).parent / "ruff")


def test_ruff_lint_is_clean():
    result = subprocess.run([RUFF, "check", "."], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:]


def test_ruff_format_is_clean():
    result = subprocess.run(
        [RUFF, "format", "--check", "."], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout[-3000:]
    chapters = subprocess.run(
        [
            RUFF,
            "format",
            "--check",
            "--line-length",
            "80",
            "--no-force-exclude",
            *map(str, (ROOT / "book").glob("*.py")),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert chapters.returncode == 0, chapters.stdout[-3000:]
