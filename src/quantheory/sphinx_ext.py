"""Sphinx extension: claims collection, the verification report, cache freshness.

* Every claim block a chapter renders carries its data; on ``doctree-read`` the
  claims of each page are collected into the build environment, and each
  failing claim is a warning, so a ``-W`` build fails.
* The ``{claims-report}`` directive becomes a table of every claim id of the
  specification, with pass / fail / missing and links to the chapters.
* ``claims.json`` is written into the HTML output for ``python -m quantheory claims``.
* Every chapter's page offers its notebook (``.ipynb``, no outputs, made by
  jupytext at build time) beside its ``.py`` in the download menu.
* The ``{execution-statistics}`` directive becomes a table of every executed
  chapter: when, how long, whether its outputs came from the execution cache.
* The ``{build-settings}`` directive states the build's scale, master seed,
  commit, package fingerprint and library versions (the execution-statistics page).
* jupyter-cache hashes only a notebook's code cells, so a change in this
  package would otherwise leave stale outputs. The extension fingerprints the
  package's source files and the scale switch, keeps one execution cache per
  fingerprint, and forces a full re-read when the fingerprint changes. The
  chapters' shared results (:mod:`quantheory.memo`) are kept beside it.
"""

from __future__ import annotations

import html
import json
import os
import shutil
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jupytext
import matplotlib.pyplot as plt
from docutils import nodes
from docutils.parsers.rst import Directive
from myst_nb.sphinx_ import NbMetadataCollector
from sphinx.application import Sphinx
from sphinx.util import logging
from sphinx_proof.nodes import NODE_TYPES as PROOF_NODE_TYPES
from sphinx_proof.nodes import proof_node, unenumerable_node

import quantheory
from quantheory.claims import SPEC_CLAIMS, Claim, claims_in_html, provenance_line
from quantheory.margins import claim_margins, plot_margins
from quantheory.memo import CACHE_ENV_VAR, package_fingerprint
from quantheory.provenance import provenance
from quantheory.scale import current_scale
from quantheory.seeding import master_seed

logger = logging.getLogger(__name__)

CLAIMS_FILE = "claims.json"
CACHES_KEPT = 4


def _use_fingerprinted_cache(app: Sphinx, config: Any) -> None:
    fingerprint = package_fingerprint()
    config.quantheory_fingerprint = fingerprint
    base = Path(config.nb_execution_cache_path or Path(app.outdir).parent / ".jupyter_cache")
    if base.name.startswith("pkg-"):
        base = base.parent
    cache = base / f"pkg-{fingerprint}"
    config.nb_execution_cache_path = str(cache)
    if base.is_dir():
        stale = sorted(
            (p for p in base.glob("pkg-*") if p != cache),
            key=lambda p: p.stat().st_mtime,
            reverse=True,
        )
        for old in stale[CACHES_KEPT - 1 :]:
            shutil.rmtree(old, ignore_errors=True)
    cache.mkdir(parents=True, exist_ok=True)
    # results shared between chapters live beside the execution cache (see quantheory.memo)
    os.environ[CACHE_ENV_VAR] = str(cache / "results")


class claims_report_node(nodes.General, nodes.Element):
    """Placeholder replaced by the report table once every page is read."""


def _reread_every_build(directive: Directive) -> None:
    """Mark the directive's page to be re-read on every build (it shows the build itself)."""
    env = directive.state.document.settings.env
    env.quantheory_report_docs = getattr(env, "quantheory_report_docs", set())
    env.quantheory_report_docs.add(env.docname)


class ClaimsReportDirective(Directive):
    has_content = False

    def run(self) -> list[nodes.Node]:
        _reread_every_build(self)
        return [claims_report_node()]


class BuildSettingsDirective(Directive):
    """One paragraph: this build's scale, master seed, commit, package and library versions."""

    has_content = False

    def run(self) -> list[nodes.Node]:
        _reread_every_build(self)
        record = provenance(None)
        return [nodes.paragraph(text=f"This build: {provenance_line(record)}.")]


class execution_statistics_node(nodes.General, nodes.Element):
    """Placeholder replaced by the execution-statistics table once every page is read."""


class ExecutionStatisticsDirective(Directive):
    """A table of every executed chapter: run time, when, from the cache or not, status."""

    has_content = False

    def run(self) -> list[nodes.Node]:
        _reread_every_build(self)
        return [execution_statistics_node()]


def _note_build_start(app: Sphinx) -> None:
    app.quantheory_build_started = time.time()


def _execution_rows(app: Sphinx) -> list[dict[str, Any]]:
    """One row per executed page: docname, title, when, seconds, cached, succeeded."""
    started = getattr(app, "quantheory_build_started", time.time())
    rows = []
    for docname, data in sorted(NbMetadataCollector.get_doc_data(app.env).items()):
        run = data.get("exec_data")
        if not run:
            continue
        rows.append(
            {
                "docname": docname,
                "title": app.env.titles[docname].astext() if docname in app.env.titles else docname,
                "when": datetime.fromtimestamp(run["mtime"], tz=UTC).strftime("%Y-%m-%d %H:%M"),
                "seconds": run.get("runtime"),
                "cached": run["mtime"] < started,
                "succeeded": bool(run.get("succeeded")),
            }
        )
    return rows


def _execution_table(app: Sphinx, fromdocname: str) -> list[nodes.Node]:
    rows = _execution_rows(app)
    headers = ("chapter", "executed (UTC)", "run time (s)", "from the cache", "scale", "seed")
    table = nodes.table(classes=["qt-table", "qt-exec"])
    group = nodes.tgroup(cols=len(headers) + 1)
    table += group
    for _ in range(len(headers) + 1):
        group += nodes.colspec(colwidth=10)
    head = nodes.thead()
    group += head
    header = nodes.row()
    for title in (*headers, "status"):
        header += nodes.entry("", nodes.paragraph(text=title))
    head += header
    body = nodes.tbody()
    group += body
    for row in rows:
        line = nodes.row()
        link = nodes.paragraph()
        uri = app.builder.get_relative_uri(fromdocname, row["docname"])
        link += nodes.reference("", row["title"], internal=True, refuri=uri)
        line += nodes.entry("", link)
        seconds = "" if row["seconds"] is None else f"{row['seconds']:.1f}"
        cached = "yes" if row["cached"] else "no, executed in this build"
        status = "succeeded" if row["succeeded"] else "FAILED"
        for text in (row["when"], seconds, cached, current_scale(), str(master_seed()), status):
            line += nodes.entry("", nodes.paragraph(text=text))
        body += line
    total = sum(r["seconds"] or 0.0 for r in rows)
    fresh = sum(not r["cached"] for r in rows)
    summary = nodes.paragraph(
        text=f"{len(rows)} chapter{'s' * (len(rows) != 1)}, {total:.0f} s of execution in all; "
        f"{fresh} executed in "
        f"this build, {len(rows) - fresh} taken from the cache."
    )
    return [summary, table]


def _collect_claims(app: Sphinx, doctree: nodes.document) -> None:
    env = app.env
    found: list[dict[str, Any]] = []
    for raw in doctree.findall(nodes.raw):
        if "html" not in raw.get("format", ""):
            continue
        for claim in claims_in_html(raw.astext()):
            if any(c["id"] == claim.id for c in found):
                logger.warning(
                    "claim %s is shown twice in this page",
                    claim.id,
                    location=env.docname,
                    type="quantheory",
                    subtype="claim",
                )
                continue
            found.append(claim.to_json())
            if not claim.passed:
                logger.warning(
                    "claim %s FAILED: %s",
                    claim.id,
                    claim.key_numbers(),
                    location=env.docname,
                    type="quantheory",
                    subtype="claim",
                )
    claims = getattr(env, "quantheory_claims", {})
    claims[env.docname] = found
    env.quantheory_claims = claims


def _purge(app: Sphinx, env: Any, docname: str) -> None:
    getattr(env, "quantheory_claims", {}).pop(docname, None)
    getattr(env, "quantheory_report_docs", set()).discard(docname)


def _merge(app: Sphinx, env: Any, docnames: set[str], other: Any) -> None:
    env.quantheory_claims = getattr(env, "quantheory_claims", {})
    env.quantheory_claims.update(getattr(other, "quantheory_claims", {}))
    env.quantheory_report_docs = getattr(env, "quantheory_report_docs", set())
    env.quantheory_report_docs |= getattr(other, "quantheory_report_docs", set())


def _report_always_updated(app: Sphinx, env: Any) -> list[str]:
    return sorted(getattr(env, "quantheory_report_docs", set()))


def all_claims(env: Any) -> list[tuple[str, Claim]]:
    """Every recorded claim with the page it came from, pages in name order."""
    docs = getattr(env, "quantheory_claims", {})
    return [(docname, Claim.from_json(data)) for docname in sorted(docs) for data in docs[docname]]


def _report_rows(env: Any) -> list[dict[str, Any]]:
    recorded = {claim.id: (docname, claim) for docname, claim in all_claims(env)}
    rows = []
    for claim_id in list(SPEC_CLAIMS) + sorted(set(recorded) - set(SPEC_CLAIMS)):
        if claim_id in recorded:
            docname, claim = recorded[claim_id]
            rows.append(
                {
                    "id": claim_id,
                    "status": claim.status,
                    "docname": docname,
                    "anchor": claim.anchor,
                    "title": env.titles[docname].astext() if docname in env.titles else docname,
                    "key_numbers": claim.key_numbers(),
                    "kind": claim.kind,
                    "margin": claim.margin,
                    "provenance": claim.provenance,
                    "claim": claim.to_json(),
                }
            )
        else:
            rows.append(
                {
                    "id": claim_id,
                    "status": "missing",
                    "docname": None,
                    "kind": None,
                    "margin": "",
                    "statement": SPEC_CLAIMS[claim_id],
                }
            )
    return rows


def _report_table(app: Sphinx, fromdocname: str, rows: list[dict[str, Any]]) -> nodes.table:
    table = nodes.table(classes=["qt-report"])
    group = nodes.tgroup(cols=5)
    table += group
    for width in (22, 7, 18, 40, 22):
        group += nodes.colspec(colwidth=width)
    head = nodes.thead()
    group += head
    header = nodes.row()
    for title in ("claim", "status", "chapter", "key numbers", "margin"):
        header += nodes.entry("", nodes.paragraph(text=title))
    head += header
    body = nodes.tbody()
    group += body
    for row in rows:
        line = nodes.row(classes=[f"qt-{row['status']}"])
        line += nodes.entry("", nodes.paragraph("", "", nodes.literal(text=row["id"])))
        line += nodes.entry("", nodes.paragraph(text=row["status"].upper()))
        chapter = nodes.paragraph()
        if row["docname"]:
            uri = app.builder.get_relative_uri(fromdocname, row["docname"]) + "#" + row["anchor"]
            chapter += nodes.reference("", row["title"], internal=True, refuri=uri)
        else:
            chapter += nodes.Text("not yet in the book")
        line += nodes.entry("", chapter)
        line += nodes.entry(
            "", nodes.paragraph(text=row.get("key_numbers") or row.get("statement", ""))
        )
        line += nodes.entry("", nodes.paragraph(text=row.get("margin") or ""))
        body += line
    return table


REPORT_SECTIONS = (
    ("theorem", "Theorem checks", "statements of the source papers, checked."),
    (
        "finding",
        "Findings",
        "what the book measured that the papers do not say, or say "
        "otherwise; each is a falsifiable statement with its interval.",
    ),
    (None, "Not yet in the book", "ids of the specification that no chapter checks yet."),
)


def _report_sections(app: Sphinx, fromdocname: str, rows: list[dict[str, Any]]) -> list[nodes.Node]:
    out: list[nodes.Node] = []
    for kind, title, text in REPORT_SECTIONS:
        chosen = [r for r in rows if r["kind"] == kind]
        if not chosen:
            continue
        out.append(nodes.rubric(text=f"{title} ({len(chosen)})"))
        out.append(nodes.paragraph(text=f"{title}: {text}"))
        out.append(_report_table(app, fromdocname, chosen))
    return out


def _summary_paragraph(rows: list[dict[str, Any]]) -> nodes.paragraph:
    counts = {
        status: sum(r["status"] == status for r in rows) for status in ("pass", "fail", "missing")
    }
    return nodes.paragraph(
        text=f"{counts['pass']} claims pass, {counts['fail']} fail and {counts['missing']} "
        f"of the specification's {len(SPEC_CLAIMS)} ids are not yet in the book "
        f"(scale: {current_scale()}, master seed QUANTHEORY_SEED = {master_seed()})."
    )


MARGINS_IMAGE = "claim_margins.png"


def _margins_figure(app: Sphinx, rows: list[dict[str, Any]]) -> nodes.Node:
    """The report's figure: how close each recorded claim came to failing."""
    margins = claim_margins(rows)
    fig = plot_margins(margins)
    folder = Path(app.outdir) / "_images"
    folder.mkdir(parents=True, exist_ok=True)
    fig.savefig(folder / MARGINS_IMAGE, dpi=110)
    plt.close(fig)
    unscaled = ", ".join(m.id for m in margins if m.closest is None)
    prefix = "" if app.builder.name == "singlehtml" else "../"
    caption = (
        "How close each claim came to failing: the largest share of its allowance that any "
        "part of its margin uses (the statistic over its threshold, or the threshold over "
        "the statistic for a lower bound); 1, the dashed line, fails. Bars near 1 are the "
        "tight claims; a bar at or below 0 is on the safe side of zero. Not drawn, because "
        f"their margins have no scale (exact checks or a threshold of 0): {unscaled}."
    )
    return nodes.raw(
        "",
        f'<figure class="qt-margins"><img src="{prefix}_images/{MARGINS_IMAGE}" '
        f'alt="Each claim\'s share of its allowance used, theorem checks and findings apart" '
        f'style="max-width: 100%"><figcaption><p>{html.escape(caption)}</p></figcaption></figure>',
        format="html",
    )


def _resolve_report(app: Sphinx, doctree: nodes.document, fromdocname: str) -> None:
    for node in list(doctree.findall(claims_report_node)):
        rows = _report_rows(app.env)
        figure = [_margins_figure(app, rows)] if app.builder.format == "html" else []
        node.replace_self(
            [_summary_paragraph(rows), *figure, *_report_sections(app, fromdocname, rows)]
        )
    for node in list(doctree.findall(execution_statistics_node)):
        node.replace_self(_execution_table(app, fromdocname))


def _offer_notebook(
    app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any
) -> None:
    """Write a chapter's notebook (no outputs) beside its ``.py`` source and offer it.

    jupytext converts the chapter script; the theme's download menu lists the
    notebook when ``ipynb_source`` is set, so this runs before the theme's
    header buttons are made.
    """
    source = Path(app.srcdir) / f"{pagename}.py"
    if app.builder.format != "html" or not source.is_file():
        return
    notebook = jupytext.read(source)
    notebook.metadata.pop("jupytext", None)  # a plain notebook, not paired with the script
    target = Path(app.outdir) / "_sources" / f"{pagename}.ipynb"
    target.parent.mkdir(parents=True, exist_ok=True)
    jupytext.write(notebook, target, fmt="ipynb")
    context["ipynb_source"] = f"{pagename}.ipynb"


def _translate_proofs_in_one_page(app: Sphinx) -> None:
    """Let the single-page HTML builder (the book's PDF) write sphinx-proof's blocks.

    sphinx-proof registers its nodes' HTML visitors for the ``html`` builder
    only; ``singlehtml`` uses the same HTML translator, so it gets the same ones.
    """
    if app.builder.name != "singlehtml":
        return
    handlers = app.registry.translation_handlers.get("html", {})
    for node in (proof_node, unenumerable_node, *PROOF_NODE_TYPES.values()):
        if node.__name__ in handlers:
            app.registry.add_translation_handlers(node, singlehtml=handlers[node.__name__])


def _drop_duplicate_scripts(
    app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any
) -> None:
    """Keep the first of identical ``<script>`` entries of a page.

    sphinx-thebe registers its inline configuration twice under Jupyter Book 1,
    and the second ``const`` declaration is a JavaScript error in every page.
    """
    seen: set[tuple[str, str]] = set()  # (file name, attributes); None and "" alike
    unique = []
    for script in context.get("script_files", []):
        attributes = getattr(script, "attributes", {})
        key = (str(getattr(script, "filename", script) or ""), str(sorted(attributes.items())))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    context["script_files"] = unique


def _remove_stale_claims_json(app: Sphinx) -> None:
    """A failed build must not leave the previous build's claims behind."""
    (Path(app.outdir) / CLAIMS_FILE).unlink(missing_ok=True)


def _write_claims_json(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    payload = {
        "scale": current_scale(),
        "master_seed": master_seed(),
        "fingerprint": app.config.quantheory_fingerprint,
        "rows": _report_rows(app.env),
    }
    (Path(app.outdir) / CLAIMS_FILE).write_text(json.dumps(payload, indent=1))


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_config_value("quantheory_fingerprint", "", "env")
    app.connect("config-inited", _use_fingerprinted_cache, priority=900)
    app.add_node(claims_report_node)
    app.add_directive("claims-report", ClaimsReportDirective)
    app.add_directive("build-settings", BuildSettingsDirective)
    app.add_node(execution_statistics_node)
    app.add_directive("execution-statistics", ExecutionStatisticsDirective)
    app.connect("builder-inited", _note_build_start)
    app.connect("builder-inited", _translate_proofs_in_one_page)
    app.connect("doctree-read", _collect_claims)
    app.connect("env-purge-doc", _purge)
    app.connect("env-merge-info", _merge)
    app.connect("env-get-updated", _report_always_updated)
    app.connect("doctree-resolved", _resolve_report)
    app.connect("builder-inited", _remove_stale_claims_json)
    app.connect("html-page-context", _drop_duplicate_scripts, priority=900)
    app.connect("html-page-context", _offer_notebook, priority=400)
    app.connect("build-finished", _write_claims_json)
    return {
        "version": quantheory.__version__,
        "parallel_read_safe": True,
        "parallel_write_safe": True,
    }
