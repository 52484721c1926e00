"""The report's margin figure reads every margin line that quantheory.stats.margin writes."""

import math

import pytest

from quantheory.margins import (
    ClaimMargin,
    allowance_used,
    claim_margins,
    margin_shares,
    plot_margins,
)
from quantheory.stats import margin


@pytest.mark.parametrize(
    ("statistic", "threshold", "passes_below", "unit", "share"),
    [
        (2.74, 6.4, True, "SE", 2.74 / 6.4),
        (2.37, 1.0, False, "", 1 / 2.37),
        (-2.28, -6.16, False, "SE", 2.28 / 6.16),
        (7.0, 5.0, True, "SE", 7 / 5),
        (0.5, 1.0, False, "", 2.0),
        (1.25e-5, 1e-3, True, "", 1.25e-2),
    ],
)
def test_a_stats_margin_line_becomes_its_share_of_the_allowance(
    statistic, threshold, passes_below, unit, share
):
    line = margin(statistic, threshold, unit=unit, passes_below=passes_below)
    (found,) = margin_shares(line)
    assert found == pytest.approx(share, rel=2e-3)  # margin() prints 3 significant digits
    assert (found > 1) == (statistic > threshold if passes_below else statistic < threshold)


def test_numbers_inside_unit_words_and_percentages_are_not_statistics():
    assert margin_shares("law: smallest -1.53 log10 p, fails below -8.78") == pytest.approx(
        [1.53 / 8.78]
    )
    assert margin_shares("kappa = mu S/sqrt(n+1): 18.4 (z), fails below 6.45") == pytest.approx(
        [6.45 / 18.4]
    )
    assert margin_shares("largest upper end 211.1%, fails above 900%") == pytest.approx(
        [211.1 / 900]
    )
    assert margin_shares("exact SymPy equality (no tolerance)") == []
    assert allowance_used(0.4, 0.0, "below") is None
    assert allowance_used(-0.1, 1.0, "below") == math.inf
    with pytest.raises(ValueError, match="side must be 'above' or 'below'"):
        allowance_used(1.0, 2.0, "over")


def test_the_figure_draws_each_kind_apart_and_leaves_out_missing_ids():
    rows = [
        {"id": "ste.a", "status": "pass", "kind": "theorem", "margin": "1 SE, fails above 4"},
        {"id": "ste.b", "status": "pass", "kind": "finding", "margin": "3, fails below 2"},
        {"id": "ste.c", "status": "pass", "kind": "theorem", "margin": "exact"},
        {"id": "ste.d", "status": "missing", "kind": None, "margin": ""},
    ]
    margins = claim_margins(rows)
    assert margins == [
        ClaimMargin("ste.a", "theorem", 0.25, 1),
        ClaimMargin("ste.b", "finding", pytest.approx(2 / 3), 1),
        ClaimMargin("ste.c", "theorem", None, 0),
    ]
    fig = plot_margins(margins)
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == ["Theorem checks (1)", "Findings (1)"]
