"""How close each claim came to failing, read from its margin line, and its figure.

A claim's margin (:func:`quantheory.stats.margin`) has one or more parts
``"<statistic>[ unit], fails above|below <threshold> (...)"``. Each part is
turned into the **share of its allowance used**: 0 is as far from failing as
the statistic can be, 1 is the threshold, above 1 fails. For a bound that fails
*above* a positive threshold the share is ``statistic / threshold``; for one
that fails *below* a positive threshold it is ``threshold / statistic``; for a
negative threshold (a statistic that must stay above ``-t``) it is
``statistic / threshold``. A part with threshold 0 has no scale and is left out
(the report's table still shows it). A claim's point in the figure is its
largest share, the part closest to failing.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from quantheory.plotting import COLORS, figure

NUMBER = r"[-+]?\d[\d,]*\.?\d*(?:e[-+]?\d+)?%?"
#: a number, then unit words (each with a letter, so no second number), then the threshold
MARGIN_PART = re.compile(
    rf"(?<![\w.+-])(?P<stat>{NUMBER})(?:\s+[^\s,;]*[A-Za-z(][^\s,;]*)*,?\s*\(?"
    rf"fails (?P<side>above|below) (?P<thr>{NUMBER})"
)


def _number(text: str) -> float:
    return float(text.replace(",", "").rstrip("%"))


def allowance_used(statistic: float, threshold: float, side: str) -> float | None:
    """The share of a threshold's allowance that ``statistic`` uses (> 1 fails).

    ``None`` when the threshold is 0 (no scale).

    Examples
    --------
    >>> allowance_used(2.5, 5.0, "above")
    0.5
    >>> allowance_used(2.0, 1.0, "below")
    0.5
    >>> allowance_used(-2.0, -8.0, "below")
    0.25
    >>> allowance_used(0.3, 0.0, "below") is None
    True
    """
    if side not in ("above", "below"):
        raise ValueError(f"side must be 'above' or 'below', got {side!r}")
    if threshold == 0:
        return None
    if side == "above":
        return statistic / threshold if threshold > 0 else threshold / statistic
    if threshold > 0:
        return threshold / statistic if statistic > 0 else math.inf
    return statistic / threshold


def margin_shares(margin: str) -> list[float]:
    """Every scaled part of a margin line as a share of its allowance used.

    Examples
    --------
    >>> margin_shares("2.5 SE, fails above 5 (2.5 to spare)")
    [0.5]
    >>> shares = margin_shares("(a) 2.37, fails below 1 (1.4 to spare); (b) 17.1, fails below 1")
    >>> [round(share, 3) for share in shares]
    [0.422, 0.058]
    """
    shares = []
    for match in MARGIN_PART.finditer(margin):
        share = allowance_used(_number(match["stat"]), _number(match["thr"]), match["side"])
        if share is not None:
            shares.append(share)
    return shares


@dataclass(frozen=True)
class ClaimMargin:
    """One claim's point in the margins figure: its id, kind and largest share (or None)."""

    id: str
    kind: str
    closest: float | None
    parts: int


def claim_margins(rows: list[dict]) -> list[ClaimMargin]:
    """The margins of the report's recorded claims (rows of ``claims.json``)."""
    out = []
    for row in rows:
        if row["status"] == "missing":
            continue
        shares = margin_shares(row.get("margin") or "")
        out.append(ClaimMargin(row["id"], row["kind"], max(shares, default=None), len(shares)))
    return out


def plot_margins(margins: list[ClaimMargin]):
    """Two panels, theorem checks and findings: each claim's largest share of its allowance.

    Returns the Matplotlib figure; claims without a scaled margin are not drawn
    (the caption lists them).
    """
    kinds = (("theorem", "Theorem checks"), ("finding", "Findings"))
    counts = [sum(m.kind == k and m.closest is not None for m in margins) for k, _ in kinds]
    fig, axes = figure(
        ncols=2, width=4.6, height=0.2 * max(counts) + 1.0, gridspec_kw={"width_ratios": [1, 1]}
    )
    for ax, (kind, title) in zip(axes, kinds, strict=True):
        chosen = sorted(
            (m for m in margins if m.kind == kind and m.closest is not None),
            key=lambda m: m.closest,
        )
        ys = range(max(counts) - len(chosen), max(counts))  # the tightest at the top
        values = [min(m.closest, 1.25) for m in chosen]
        colours = [COLORS["pass"] if m.closest < 1 else COLORS["accent"] for m in chosen]
        ax.barh(list(ys), values, color=colours, height=0.6)
        for y, m in zip(ys, chosen, strict=True):
            if m.closest < 0:
                ax.annotate(
                    f"{m.closest:.2g}",
                    (0, y),
                    xytext=(3, -3),
                    textcoords="offset points",
                    fontsize=7,
                )
        ax.axvline(1.0, color=COLORS["accent"], linestyle="--", linewidth=1)
        ax.set_yticks(list(ys), [m.id for m in chosen], fontsize=7)
        ax.set_ylim(-0.6, max(counts) - 0.4)
        ax.set_xlim(min(0.0, *values) if values else 0.0, 1.25)
        ax.set_xlabel("share of the allowance used (fails at 1)")
        ax.set_title(f"{title} ({len(chosen)})")
        ax.grid(axis="y", visible=False)
    return fig
