"""The book builds with -W at quick scale, its report is right, and its cache is honest."""

import json
import re
import shutil
import subprocess
import sys

import pytest

from conftest import ROOT, build_book, copy_book
from quantheory.claims import SPEC_CLAIMS

pytestmark = [pytest.mark.build, pytest.mark.xdist_group("book")]

PART_ONE = {claim_id for claim_id in SPEC_CLAIMS if claim_id.startswith("ste.")}
PART_TWO = {c for c in SPEC_CLAIMS if c.startswith("cg.")}
PART_THREE = {c for c in SPEC_CLAIMS if c.startswith("lr.")}
#: claims the chapters add beyond the specification
EXTRA = {
    "ste.thm2_last_vs_ergodic",
    "ste.thm2_horizon",
    "ste.normalization_raw_teacher",
    "cg.lemma_constants_tightness",
}
IN_THE_BOOK = PART_ONE | PART_TWO | PART_THREE | EXTRA
CHAPTERS = sorted(p.stem for p in (ROOT / "book").glob("*.py"))


def claims_json(folder):
    return json.loads((folder / "_build" / "html" / "claims.json").read_text())


def statuses(folder):
    return {row["id"]: row["status"] for row in claims_json(folder)["rows"]}


def test_report_lists_every_claim_of_the_three_parts_as_pass(quick_book):
    found = statuses(quick_book)
    assert set(SPEC_CLAIMS) <= set(found)
    assert {c for c, s in found.items() if s == "pass"} == IN_THE_BOOK
    assert {c for c, s in found.items() if s == "missing"} == set()
    assert {c for c in found if c not in SPEC_CLAIMS} == EXTRA
    assert claims_json(quick_book)["scale"] == "quick"
    report = (quick_book / "_build" / "html" / "book" / "report.html").read_text()
    assert 'href="ste_population.html#claim-ste-population-dynamics"' in report
    assert f"{len(IN_THE_BOOK)} claims pass, 0 fail" in report
    assert "master seed QUANTHEORY_SEED = 0" in report
    assert "Theorem checks (" in report and "Findings (" in report
    assert '<img src="../_images/claim_margins.png"' in report
    assert (quick_book / "_build" / "html" / "_images" / "claim_margins.png").stat().st_size > 0
    recorded = [r for r in claims_json(quick_book)["rows"] if r["status"] != "missing"]
    for row in recorded:
        chapter = row["docname"].removeprefix("book/")
        assert row["provenance"]["command"].endswith(f".venv/bin/python book/{chapter}.py")
        assert row["provenance"]["scale"] == "quick" and row["provenance"]["versions"]["sympy"]
    findings = {r["id"] for r in claims_json(quick_book)["rows"] if r.get("kind") == "finding"}
    assert {"ste.thm1_v_shape", "ste.thm1_noise_growth"} <= findings


def test_cli_reads_the_build(quick_book):
    run = [sys.executable, "-m", "quantheory", "claims", str(quick_book / "_build")]
    result = subprocess.run(run, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    rows = [line.split() for line in result.stdout.splitlines()[2:]]
    assert {r[0] for r in rows if r[1] == "pass"} == IN_THE_BOOK
    strict = subprocess.run([*run, "--require-all"], capture_output=True, text=True)
    assert strict.returncode == 0, strict.stdout[-2000:]


def test_warm_rebuild_uses_the_cache_and_keeps_every_claim(quick_book):
    before = claims_json(quick_book)
    result = build_book(quick_book)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Executing notebook" not in result.stdout + result.stderr
    assert claims_json(quick_book) == before
    report = (quick_book / "_build" / "html" / "book" / "report.html").read_text()
    assert f"{len(IN_THE_BOOK)} claims pass" in report
    stats = (quick_book / "_build" / "html" / "book" / "exec_stats.html").read_text()
    assert f"0 executed in this build, {len(CHAPTERS)} taken from the cache" in stats
    assert "executed in this build</p>" not in stats and "FAILED" not in stats


def test_execution_statistics_list_every_chapter_with_its_run(quick_book):
    stats = (quick_book / "_build" / "html" / "book" / "exec_stats.html").read_text()
    assert f"{len(CHAPTERS)} chapters," in stats
    for chapter in CHAPTERS:
        assert f'href="{chapter}.html"' in stats
    assert stats.count("<p>succeeded</p>") == len(CHAPTERS)
    assert "This build: commit " in stats and "scale quick, master seed 0" in stats


def test_a_package_change_reexecutes_and_a_failing_claim_fails_the_build(tmp_path):
    folder = copy_book(tmp_path / "book", with_package=True, chapters=("book/ste_population",))
    env = {"PYTHONPATH": str(folder / "src")}
    assert build_book(folder, **env).returncode == 0
    gradient_before = claims_json(folder)["rows"]

    population = folder / "src" / "quantheory" / "ste" / "population.py"
    text = population.read_text()
    old = 'PopulationConfig(n=8, m=16, v_shape="uniform", noise_std=0.0, n_flipped=2)'
    assert old in text
    population.write_text(text.replace(old, old.replace("n_flipped=2", "n_flipped=3")))
    result = build_book(folder, **env)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Executing notebook" in result.stdout + result.stderr

    def gradient(rows):
        return next(r for r in rows if r["id"] == "ste.population_gradient")["claim"]

    after = claims_json(folder)["rows"]
    assert gradient(after)["measured"] != gradient(gradient_before)["measured"]
    assert "3 flipped" in gradient(after)["method"]

    symbolic = folder / "src" / "quantheory" / "ste" / "symbolic.py"
    text = symbolic.read_text()
    old = "GAUSS_SIGN_MOMENT_STATEMENT = sp.sqrt(2 / sp.pi)"
    assert old in text
    symbolic.write_text(text.replace(old, "GAUSS_SIGN_MOMENT_STATEMENT = sp.sqrt(1 / sp.pi)"))
    result = build_book(folder, **env)
    assert result.returncode != 0
    assert "ste.gauss_sign_moment" in result.stdout + result.stderr
    assert not (folder / "_build" / "html" / "claims.json").exists()


def test_another_master_seed_gives_fresh_numbers_and_still_passes(tmp_path):
    folder = copy_book(tmp_path / "book", chapters=("book/ste_population",))
    runs = {}
    for seed in ("0", "5"):
        result = build_book(folder, QUANTHEORY_SEED=seed)
        assert result.returncode == 0, result.stderr[-3000:]
        payload = claims_json(folder)
        assert payload["master_seed"] == int(seed)
        runs[seed] = {r["id"]: r["claim"] for r in payload["rows"] if r["status"] == "pass"}
    moment = "ste.gauss_sign_moment"
    assert runs["5"][moment]["seed"].startswith("5/")
    assert runs["0"][moment]["seed"].startswith("0/")
    assert runs["5"][moment]["measured"] != runs["0"][moment]["measured"]


def test_a_downloaded_notebook_opens_without_outputs_runs_and_its_claims_pass(
    quick_book, tmp_path, monkeypatch
):
    import nbclient
    import nbformat

    from quantheory.claims import claims_in_html

    html = quick_book / "_build" / "html"
    page = (html / "book" / "cg_surrogates.html").read_text()
    assert 'href="../_sources/book/cg_surrogates.ipynb"' in page
    notebook = nbformat.read(html / "_sources" / "book" / "cg_surrogates.ipynb", as_version=4)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code and not any(cell.outputs for cell in code)
    monkeypatch.setenv("QUANTHEORY_SCALE", "quick")
    monkeypatch.setenv("QUANTHEORY_FIGURES", str(tmp_path))
    client = nbclient.NotebookClient(
        notebook, timeout=600, resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()
    shown = "".join(
        output.get("data", {}).get("text/html", "") for cell in code for output in cell.outputs
    )
    claims = claims_in_html(shown)
    assert {c.id for c in claims} >= {"cg.sigma_staircase", "cg.assumption2_constants"}
    assert all(c.passed for c in claims)
    assert all(c.provenance["scale"] == "quick" for c in claims)


def chapter_titles() -> dict[str, str]:
    """Each chapter's title, from the first level-one heading of its script."""
    titles = {}
    for chapter in CHAPTERS:
        text = (ROOT / "book" / f"{chapter}.py").read_text()
        titles[chapter] = re.search(r"^# # (.+)$", text, flags=re.MULTILINE).group(1).strip()
    return titles


def test_make_pdf_writes_the_whole_book_as_one_pdf_with_internal_links(quick_book):
    for name in ("make.py", "requirements.txt", "pyproject.toml"):
        shutil.copy2(ROOT / name, quick_book / name)
    (quick_book / ".venv").unlink(missing_ok=True)
    (quick_book / ".venv").symlink_to(ROOT / ".venv")
    result = subprocess.run(
        ["python3", "make.py", "pdf"], cwd=quick_book, capture_output=True, text=True, timeout=1200
    )
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    pdf = quick_book / "_build" / "book.pdf"
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True)
    pages = int(re.search(r"^Pages:\s+(\d+)", info.stdout, flags=re.MULTILINE).group(1))
    assert pages >= 3 * len(CHAPTERS)
    text = subprocess.run(
        ["pdftotext", "-raw", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    # Sphinx's smart quotes: the PDF has typographic apostrophes and quotes
    quotes = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'})
    flat = " ".join(text.split()).translate(quotes)
    for chapter, title in chapter_titles().items():
        assert title in flat, f"chapter {chapter}: title {title!r} not in the PDF"
    for claim_id in IN_THE_BOOK:
        assert claim_id in flat, f"claim {claim_id} not in the PDF"
    assert "Verification report" in flat and "Execution statistics" in flat
    assert pdf.read_bytes().count(b"/Dest") >= len(CHAPTERS), "too few internal links"
