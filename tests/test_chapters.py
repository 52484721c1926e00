"""Every chapter runs as a plain script, prints its claims, and exits 0."""

import os
import re
import subprocess
import sys

import pytest

from conftest import ROOT

CHAPTERS = sorted((ROOT / "book").glob("*.py"))


def test_book_folder_holds_only_chapters_and_their_pages():
    allowed = {".py", ".md", ".bib"}
    assert {p.suffix for p in (ROOT / "book").iterdir() if p.is_file()} <= allowed


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_runs_as_a_script(chapter, tmp_path):
    env = {**os.environ, "QUANTHEORY_SCALE": "quick", "QUANTHEORY_FIGURES": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, str(chapter)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    statuses = re.findall(r"^[a-z]+\.\w+\s+(pass|fail)\s", result.stdout, flags=re.MULTILINE)
    assert statuses and set(statuses) == {"pass"}, result.stdout[-3000:]
    assert list(tmp_path.glob("*.png")), "the chapter saved no figure"
