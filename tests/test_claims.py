import json

import pytest

from quantheory.claims import (
    SPEC_CLAIMS,
    ChapterClaims,
    Claim,
    ClaimsFailed,
    ClaimsSummary,
    claims_in_html,
    format_value,
)


def make(claim_id="ste.population_loss", passed=True, **kw):
    return Claim(
        id=claim_id,
        statement="L = 2|v|^2 theta/pi + s^2/2",
        passed=passed,
        measured={"max |z|": 1.5},
        expected={"max |z|": 6.0},
        method="MC",
        seed="1/2",
        **kw,
    )


def test_claim_ids_must_be_namespaced():
    with pytest.raises(ValueError, match=r"claim id must look like 'part.name'.*got 'Population'"):
        make("Population")


def test_passed_must_be_a_bool():
    with pytest.raises(ValueError, match=r"passed must be a bool"):
        make(passed=1)


def test_html_block_round_trips_through_the_page():
    claim = make(passed=False, summary='quotes " and <tags> survive')
    page = "<p>text</p>" + claim._repr_html_() + make("ste.other")._repr_html_()
    found = claims_in_html(page)
    assert found[0] == claim and found[1].id == "ste.other"
    assert 'class="qt-claim qt-fail"' in claim._repr_html_()
    assert 'id="claim-ste-population-loss"' in claim._repr_html_()


def test_key_numbers_prefers_the_summary():
    assert make().key_numbers() == "max |z| = 1.5 | expected max |z| = 6"
    assert make(summary="short").key_numbers() == "short"


def test_text_form_lists_measured_expected_and_seed():
    text = make(passed=False).as_text()
    assert text.startswith("[FAIL] ste.population_loss")
    assert "measured max |z|: 1.5" in text and "seed     1/2" in text


def test_format_value():
    assert format_value(True) == "yes"
    assert format_value(12345) == "12,345"
    assert format_value(0.000123) == "0.000123"
    assert format_value(3.14159) == "3.142"


def test_chapter_claims_finish_raises_on_failure(capsys):
    chapter = ChapterClaims()
    chapter.record(make("ste.a"))
    chapter.record(make("ste.b", passed=False))
    with pytest.raises(ClaimsFailed, match=r"1 claim\(s\) failed: ste.b"):
        chapter.finish()
    out = capsys.readouterr().out
    assert "[PASS] ste.a" in out and "ste.b  fail" in out


def test_chapter_claims_finish_passes_and_rejects_duplicates(capsys):
    chapter = ChapterClaims()
    chapter.record(make("ste.a"))
    chapter.finish()
    with pytest.raises(ValueError, match=r"claim 'ste.a' was already recorded"):
        chapter.record(make("ste.a"))


def test_summary_html_links_to_each_claim():
    html = ClaimsSummary([make()])._repr_html_()
    assert 'href="#claim-ste-population-loss"' in html


def test_spec_ids_are_well_formed_and_json_serialisable():
    for claim_id in SPEC_CLAIMS:
        make(claim_id)
    json.dumps(make().to_json())


def test_kind_and_margin_are_shown_and_round_trip():
    finding = make(kind="finding", margin="1.2 SE, fails above 5.7 (4.5 to spare)")
    assert "(finding)" in finding.as_text() and "margin   1.2 SE" in finding.as_text()
    page = finding._repr_html_()
    assert "qt-kind-finding" in page and "Margin:" in page
    assert claims_in_html(page)[0] == finding
    summary = ClaimsSummary([make(), finding])
    assert "finding" in summary.as_text() and "(margin: 1.2 SE" in summary.as_text()
    assert make().kind == "theorem"


def test_unknown_kind_is_a_readable_error():
    with pytest.raises(
        ValueError, match=r"kind must be one of \['finding', 'theorem'\], got 'lemma'"
    ):
        make(kind="lemma")
