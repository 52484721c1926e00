"""Every recorded claim carries what produced it and the command that reruns it."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from conftest import ROOT
from quantheory.claims import ChapterClaims, Claim
from quantheory.provenance import library_versions, provenance, rerun_command


def _claim() -> Claim:
    return Claim(id="ste.population_loss", statement="s", passed=True)


def test_recorded_claim_carries_commit_versions_scale_seed_and_command(monkeypatch):
    monkeypatch.setenv("QUANTHEORY_SEED", "5")
    claims = ChapterClaims("ste_population")
    claims.record(_claim())
    record = claims.claims[0].provenance
    assert record["scale"] == "quick" and record["master_seed"] == 5
    assert record["versions"]["numpy"] == np.__version__
    assert set(library_versions()) == {"python", "numpy", "scipy", "sympy", "numba"}
    assert record["command"] == (
        "QUANTHEORY_SCALE=quick QUANTHEORY_SEED=5 .venv/bin/python book/ste_population.py"
    )
    assert len(record["package"]) == 16 and record["commit"]
    assert "Provenance and rerun command" in claims.claims[0]._repr_html_()
    assert "rerun    QUANTHEORY_SCALE=quick" in claims.claims[0].as_text()


def test_provenance_survives_the_json_round_trip():
    claim = Claim(**{**_claim().to_json(), "provenance": provenance("cg_lemmas")})
    assert Claim.from_json(json.loads(json.dumps(claim.to_json()))) == claim


def test_a_bad_chapter_name_is_a_readable_error():
    with pytest.raises(ValueError, match="chapter must be a chapter's file name"):
        ChapterClaims("book/ste_population.py")
    with pytest.raises(ValueError, match="got 'Ste Population'"):
        rerun_command("Ste Population", "full", 0)


def test_a_chapter_run_as_a_script_names_itself(tmp_path):
    script = tmp_path / "book" / "my_chapter.py"
    script.parent.mkdir()
    script.write_text(
        "from quantheory.claims import ChapterClaims, Claim\n"
        "c = ChapterClaims()\n"
        "c.record(Claim(id='ste.population_loss', statement='s', passed=True))\n"
        "print('COMMAND', c.claims[0].provenance['command'])\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "QUANTHEORY_SEED": "0"}
    out = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, env=env, check=True
    ).stdout
    assert (
        "COMMAND QUANTHEORY_SCALE=quick QUANTHEORY_SEED=0 .venv/bin/python book/my_chapter.py"
        in out
    )
