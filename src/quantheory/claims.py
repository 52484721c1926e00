"""The claims registry: every check in the book is a :class:`Claim`.

A claim has a stable id (listed in :data:`SPEC_CLAIMS` when the specification
asks for it), a one-line statement, what was measured, what the theory
predicts, how it was measured (sample sizes, confidence level, seed) and
whether the two agree. Chapters record their claims with a
:class:`ChapterClaims`; the page shows each claim as a pass/fail block, the
Sphinx extension :mod:`quantheory.sphinx_ext` collects them for the
verification report, and a failing claim fails the build.
"""

from __future__ import annotations

import html
import json
import math
import re
import sys
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from quantheory.display import show
from quantheory.provenance import provenance, rerun_command

CLAIM_ID_PATTERN = re.compile(r"^[a-z]+\.[A-Za-z0-9_]+$")

#: the two kinds of claim, shown apart in the report
KINDS: dict[str, str] = {
    "theorem": "theorem check",
    "finding": "finding",
}

SPEC_CLAIMS: dict[str, str] = {
    "ste.gauss_sign_moment": "E[sign(<z,u>) z] = sqrt(2/pi) u/|u| for z ~ N(0, I_n)",
    "ste.sign_disagreement": "P(sign<z,u> != sign<z,w>) = angle(u,w)/pi",
    "ste.population_gradient": "E[g(u)] = sqrt(2/pi) |v|^2 (u - w*)/sqrt(n) for binary u",
    "ste.population_loss": "L(u) = 2 |v|^2 angle(u,w*)/pi + s^2/2",
    "ste.population_dynamics": "population STE-gradient method reaches w* within the step bound",
    "ste.linf_concentration": "uniform l-inf deviation of g_N shrinks like N^(-1/2)",
    "ste.thm1_phase_transition": "N50 of the ergodic estimate scales at most quadratically in n",
    "ste.thm1_bound_vs_empirical": "Theorem 1's sufficient N lies above the empirical N50",
    "ste.thm2_last_iterate": "last-iterate success; w* absorbing without noise",
    "ste.thm3_escape_time": "first escape time from w* under label noise matches prediction",
    "ste.thm3_recurrence": "under label noise the iterate leaves and returns to w* repeatedly",
    "ste.nongaussian_failure": "non-centred inputs break recovery by the ergodic estimate",
    "ste.normalization_restores": "standardizing the inputs restores recovery",
    "ste.thm1_v_shape": "how N50 moves with |v|_1^2/|v|_2^2 at fixed |v|_2 (finding)",
    "ste.thm1_noise_growth": "N50 grows with the label-noise level (finding)",
    "ste.linf_n_growth": "growth in n of the uniform deviation of g_N at fixed N",
    "ste.nongaussian_population": "exact population gradient for shifted Gaussian inputs",
    "cg.sigma_staircase": "the b-bit quantized ReLU is a staircase of indicators",
    "cg.assumption2_constants": "surrogate derivative bounds delta, delta~ of Assumption 2",
    "cg.lemma4_decomposition": "the loss decomposes over the class subspaces (Lemmas 4.1, 4.3)",
    "cg.Cp_annulus": "C_p = 2/(pi sqrt(M^2 - m_x^2)) for the uniform annulus",
    "cg.lemma5_1": "Lemma 5.1's inequality holds on random W",
    "cg.lemma5_3": "Lemma 5.3's inequality holds on random W",
    "cg.lemma5_5_monotone": "|w_{j,i}^t| never decreases when v_{i,j} > 0",
    "cg.prop1_summable": "partial sums of squared coarse gradients stay below Proposition 1",
    "cg.thm31_perfect": "coarse-gradient descent reaches zero population loss",
    "cg.fig3_angle": "section 8.1: convergence at every angle, faster as theta -> pi/2",
    "cg.table2_digits": "quantized nets trained by coarse gradients near full precision",
    "cg.fig6_norm_growth": "weight norms stay bounded and grow overall",
    "cg.thm31_bounded_iterates": "the hypothesis |W^t| <= R measured along descent",
    "cg.graded_layer_study": "graded second layer: finite-sample or population behaviour",
    "cg.table2_controls": "clipped ReLU and identity against the admissible surrogates",
    "cg.fig6_controls": "weight-norm growth with constant step and without batch norm",
    "lr.spectrum_additive": "additive quantization adds delta^2 I to the data covariance",
    "lr.spectrum_multiplicative": "multiplicative quantization rescales H and keeps its decay",
    "lr.recursion_matches_mc": "exact excess-risk recursion matches Monte Carlo",
    "lr.noise_amplification": "parameter/activation/gradient quantization raise the risk",
    "lr.batch_scaling": "additive-quantization risk shrinks with batch size",
    "lr.mult_vs_add": "multiplicative vs additive quantization at equal bit budget",
    "lr.real_formats": "real quantizers (stochastic rounding, bfloat16, float8) vs the recursion",
}


def provenance_line(record: dict[str, Any]) -> str:
    """One line of a provenance record: commit, package, scale, seed and versions."""
    versions = ", ".join(f"{k} {v}" for k, v in record.get("versions", {}).items())
    return (
        f"commit {record.get('commit')}, package {record.get('package')}, "
        f"scale {record.get('scale')}, master seed {record.get('master_seed')}; {versions}"
    )


def provenance_html(record: dict[str, Any]) -> str:
    """A claim block's collapsible provenance: the rerun command and what it ran with."""
    if not record:
        return ""
    esc = html.escape
    command = record.get("command")
    rerun = f"<p>Rerun its chapter: <code>{esc(command)}</code></p>" if command else ""
    return (
        '<details class="qt-provenance"><summary>Provenance and rerun command</summary>'
        f"{rerun}<p>Ran with {esc(provenance_line(record))}.</p></details>"
    )


class ClaimsFailed(AssertionError):
    """Raised at the end of a chapter when one or more of its claims failed."""


def format_value(value: Any) -> str:
    """Format a measured or expected value for a table: 4 significant digits."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return str(value)
        if value != 0 and (abs(value) >= 1e5 or abs(value) < 1e-3):
            return f"{value:.4g}"
        return f"{value:.4g}" if abs(value) < 1 else f"{value:,.4g}"
    return str(value)


@dataclass(frozen=True)
class Claim:
    """One checked statement of the book.

    Attributes
    ----------
    id
        Stable identifier, ``part.name`` (for example ``ste.population_loss``).
    statement
        One line: what the theory says.
    passed
        Whether the measurement agrees with the prediction.
    measured, expected
        Key numbers, by name: what the cells found and what theory predicts
        (a value, a bound or a tolerance).
    method
        How it was checked: derivation, sample sizes, confidence level.
    seed
        The seed label of the experiment (``None`` for exact checks).
    summary
        The key numbers in one short line, for the report; generated from
        ``measured`` and ``expected`` when empty.
    kind
        ``"theorem"``: a check of a statement of the source papers;
        ``"finding"``: the book's own falsifiable statement about what it
        measured (what the papers do not say, or say otherwise).
    margin
        How far the claim was from failing, in one line (for example
        ``"3.1 SE of 5.9 allowed"`` or ``"smallest ratio 1.27, fails below 1"``).
    provenance
        What produced it (:func:`quantheory.provenance.provenance`): commit,
        package fingerprint, scale, master seed, library versions and the
        command that reruns its chapter; filled in by
        :meth:`ChapterClaims.record`.
    """

    id: str
    statement: str
    passed: bool
    measured: dict[str, Any] = field(default_factory=dict)
    expected: dict[str, Any] = field(default_factory=dict)
    method: str = ""
    seed: str | None = None
    summary: str = ""
    kind: str = "theorem"
    margin: str = ""
    provenance: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {sorted(KINDS)}, got {self.kind!r}")
        if not CLAIM_ID_PATTERN.match(self.id):
            raise ValueError(
                f"claim id must look like 'part.name' in lower case (e.g. 'ste.population_loss'), "
                f"got {self.id!r}"
            )
        if not isinstance(self.passed, bool):
            raise ValueError(f"passed must be a bool, got {self.passed!r}")

    @property
    def status(self) -> str:
        return "pass" if self.passed else "fail"

    @property
    def anchor(self) -> str:
        """The HTML id of the claim's block in its page."""
        return "claim-" + self.id.replace(".", "-").replace("_", "-")

    def key_numbers(self) -> str:
        """A one-line summary of measured vs expected numbers."""
        if self.summary:
            return self.summary
        measured = ", ".join(f"{k} = {format_value(v)}" for k, v in self.measured.items())
        expected = ", ".join(f"{k} = {format_value(v)}" for k, v in self.expected.items())
        return f"{measured} | expected {expected}" if expected else measured

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Claim:
        return cls(**data)

    def as_text(self) -> str:
        badge = "PASS" if self.passed else "FAIL"
        lines = [f"[{badge}] {self.id} ({KINDS[self.kind]}): {self.statement}"]
        for label, values in (("measured", self.measured), ("expected", self.expected)):
            for key, value in values.items():
                lines.append(f"    {label:8s} {key}: {format_value(value)}")
        if self.margin:
            lines.append(f"    margin   {self.margin}")
        if self.method:
            lines.append(f"    method   {self.method}")
        if self.seed is not None:
            lines.append(f"    seed     {self.seed}")
        if self.provenance:
            lines.append(f"    ran with {provenance_line(self.provenance)}")
            if "command" in self.provenance:
                lines.append(f"    rerun    {self.provenance['command']}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        esc = html.escape
        rows = []
        keys = list(self.measured) + [k for k in self.expected if k not in self.measured]
        for key in keys:
            measured = format_value(self.measured[key]) if key in self.measured else ""
            expected = format_value(self.expected[key]) if key in self.expected else ""
            rows.append(
                f"<tr><td>{esc(key)}</td><td>{esc(measured)}</td><td>{esc(expected)}</td></tr>"
            )
        meta = esc(self.method)
        if self.margin:
            meta = f"<strong>Margin:</strong> {esc(self.margin)}. " + meta
        if self.seed is not None:
            meta += f" Seed: <code>{esc(self.seed)}</code>."
        payload = esc(json.dumps(self.to_json()), quote=True)
        badge = "PASS" if self.passed else "FAIL"
        return (
            f'<div class="qt-claim qt-{self.status}" id="{self.anchor}" '
            f'data-qt-claim="{payload}">'
            f'<div class="qt-claim-head"><span class="qt-badge">{badge}</span> '
            f"<code>{esc(self.id)}</code> "
            f'<span class="qt-kind qt-kind-{self.kind}">{KINDS[self.kind]}</span></div>'
            f'<p class="qt-claim-statement">{esc(self.statement)}</p>'
            '<table class="qt-claim-table"><thead><tr><th>quantity</th><th>measured</th>'
            f"<th>predicted / bound</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
            f'<p class="qt-claim-meta">{meta}</p>{provenance_html(self.provenance)}</div>'
        )


CLAIM_HTML_PATTERN = re.compile(r'data-qt-claim="([^"]*)"')


def claims_in_html(text: str) -> list[Claim]:
    """Recover the claims embedded in rendered HTML by :meth:`Claim._repr_html_`."""
    return [Claim.from_json(json.loads(html.unescape(m))) for m in CLAIM_HTML_PATTERN.findall(text)]


@dataclass
class ClaimsSummary:
    """The claims of one chapter as a table (HTML in the page, text in a terminal)."""

    claims: list[Claim]

    def as_text(self) -> str:
        width = max((len(c.id) for c in self.claims), default=10)
        lines = [f"{'claim':{width}s}  status  kind     key numbers (margin)"]
        for c in self.claims:
            margin = f" (margin: {c.margin})" if c.margin else ""
            lines.append(f"{c.id:{width}s}  {c.status:6s}  {c.kind:7s}  {c.key_numbers()}{margin}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        rows = "".join(
            f'<tr class="qt-{c.status}"><td><a href="#{c.anchor}"><code>{html.escape(c.id)}'
            f'</code></a></td><td class="qt-status">{c.status.upper()}</td>'
            f"<td>{KINDS[c.kind]}</td><td>{html.escape(c.key_numbers())}</td>"
            f"<td>{html.escape(c.margin)}</td></tr>"
            for c in self.claims
        )
        return (
            '<table class="qt-summary"><thead><tr><th>claim</th><th>status</th><th>kind</th>'
            f"<th>key numbers</th><th>margin</th></tr></thead><tbody>{rows}</tbody></table>"
        )


def chapter_from_script() -> str | None:
    """The chapter's name when Python runs a chapter file ``book/<name>.py`` as a script."""
    script = Path(sys.argv[0]) if sys.argv and sys.argv[0] else None
    if script is not None and script.suffix == ".py" and script.parent.name == "book":
        return script.stem
    return None


class ChapterClaims:
    """Collects a chapter's claims, shows each one, and fails loudly at the end.

    Parameters
    ----------
    chapter
        The chapter's file name without ``.py`` (``"ste_population"``), for
        the rerun command in each claim's provenance; taken from the script's
        name when the chapter runs as a script and not given.
    """

    def __init__(self, chapter: str | None = None) -> None:
        self.claims: list[Claim] = []
        self.chapter = chapter if chapter is not None else chapter_from_script()
        if self.chapter is not None:
            rerun_command(self.chapter, "quick", 0)  # a readable error for a bad name now

    def record(self, claim: Claim) -> None:
        """Show ``claim`` (a pass/fail block in the page) and remember it.

        Returns nothing, so that a cell ending in ``claims.record(...)`` shows
        the block once.
        """
        if any(c.id == claim.id for c in self.claims):
            raise ValueError(f"claim {claim.id!r} was already recorded in this chapter")
        if not claim.provenance:
            claim = replace(claim, provenance=provenance(self.chapter))
        self.claims.append(claim)
        show(claim)

    def finish(self) -> None:
        """Show the chapter's claims table; raise :class:`ClaimsFailed` if any failed."""
        show(ClaimsSummary(list(self.claims)))
        failed = [c.id for c in self.claims if not c.passed]
        if failed:
            raise ClaimsFailed(f"{len(failed)} claim(s) failed: {', '.join(failed)}")
