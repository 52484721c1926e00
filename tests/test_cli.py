import json

import pytest

from quantheory.__main__ import main
from quantheory.claims import SPEC_CLAIMS


def write_build(tmp_path, statuses):
    html = tmp_path / "html"
    html.mkdir(parents=True)
    rows = []
    for claim_id in SPEC_CLAIMS:
        status = statuses.get(claim_id, "missing")
        row = {
            "id": claim_id,
            "status": status,
            "docname": None,
            "statement": SPEC_CLAIMS[claim_id],
        }
        if status != "missing":
            row.update(docname="book/ch", key_numbers=f"numbers of {claim_id}", claim={})
        rows.append(row)
    (html / "claims.json").write_text(json.dumps({"scale": "quick", "rows": rows}))
    return tmp_path


def test_table_lists_every_spec_id(tmp_path, capsys):
    build = write_build(tmp_path, {"ste.population_loss": "pass"})
    assert main(["claims", str(build)]) == 0
    out = capsys.readouterr().out
    assert len(
        [line for line in out.splitlines() if line.startswith(("ste.", "cg.", "lr."))]
    ) == len(SPEC_CLAIMS)
    assert "ste.population_loss" in out and "numbers of ste.population_loss" in out


def test_require_all_fails_when_ids_are_missing(tmp_path):
    build = write_build(tmp_path, {"ste.population_loss": "pass"})
    assert main(["claims", str(build), "--require-all"]) == 1
    full = write_build(tmp_path / "all", dict.fromkeys(SPEC_CLAIMS, "pass"))
    assert main(["claims", str(full), "--require-all"]) == 0


def test_a_failed_claim_exits_one(tmp_path):
    build = write_build(tmp_path, {"ste.population_loss": "fail"})
    assert main(["claims", str(build)]) == 1


def test_json_output(tmp_path, capsys):
    build = write_build(tmp_path, {"ste.population_gradient": "pass"})
    main(["claims", str(build), "--json"])
    payload = json.loads(capsys.readouterr().out)
    statuses = {row["id"]: row["status"] for row in payload["rows"]}
    assert statuses["ste.population_gradient"] == "pass"
    assert statuses["cg.table2_digits"] == "missing"


def test_missing_build_is_a_readable_error(tmp_path, capsys):
    assert main(["claims", str(tmp_path / "nowhere")]) == 2
    assert "build the book first" in capsys.readouterr().err


def test_unknown_subcommand_is_rejected():
    with pytest.raises(SystemExit):
        main(["verify"])
