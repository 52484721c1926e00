"""Headless Chromium opens every page of the quick build, as a reader would.

Checks that MathJax rendered every formula without errors, every image loaded,
no page shows a traceback or a failed claim, and saves full-page screenshots
under ``_build/screenshots/``.
"""

from pathlib import Path

import pytest
import yaml

from conftest import ROOT

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("book")]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = ROOT / "_build" / "screenshots"


def toc_pages():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    pages = [toc["root"]]
    for part in toc.get("parts", []):
        pages += [chapter["file"] for chapter in part["chapters"]]
    return pages


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.fail(
            f"the browser tests need Chromium at {CHROMIUM}; `python3 make.py test` installs it"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def open_page(browser, url):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(url)
    page.wait_for_load_state("load")
    if page.locator("script[src*='mathjax']").count():
        page.wait_for_function("window.MathJax && MathJax.startup && MathJax.startup.promise")
        page.evaluate("MathJax.startup.promise")
    return page, errors


def test_index_redirects_to_the_introduction(quick_book, browser):
    page = browser.new_page()
    page.goto((quick_book / "_build/html/index.html").as_uri())
    page.wait_for_url("**/book/intro.html")
    assert "Quantization-aware training, verified" in page.title()
    page.close()


@pytest.mark.parametrize("docname", toc_pages())
def test_page_renders_cleanly(quick_book, browser, docname):
    html = quick_book / "_build" / "html" / f"{docname}.html"
    page, errors = open_page(browser, html.as_uri())
    assert not errors, errors
    math = page.evaluate("""() => {
        const all = [...document.querySelectorAll('span.math, div.math')];
        return {total: all.length,
                unrendered: all.filter(e => !e.querySelector('mjx-container')).length,
                errors: document.querySelectorAll('mjx-merror, [data-mjx-error]').length};
    }""")
    assert math["unrendered"] == 0 and math["errors"] == 0, math
    broken = page.evaluate("""() => [...document.images]
        .filter(i => !i.complete || i.naturalWidth === 0).map(i => i.src)""")
    assert broken == []
    text = page.inner_text("body")
    assert "Traceback (most recent call last)" not in text
    assert page.locator(".output.traceback, .output.error, .qt-fail").count() == 0
    if math["total"]:
        assert "mathjax/tex-svg-full.js" in page.content(), "MathJax must load from the book"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{docname.replace('/', '_')}.png"), full_page=True)
    if docname.startswith(("book/ste_", "book/cg_")):  # every chapter: claims, figures, maths
        assert math["total"] > 10
        assert page.locator(".qt-claim.qt-pass").count() >= 1
        assert page.locator("figure img").count() >= 1
    if docname == "book/ste_population":
        assert page.locator(".qt-claim.qt-pass").count() == 5
    page.close()


CONTRAST = """(selector) => {
    const rgb4 = (text) => text.match(/[0-9.]+/g).map(Number);
    const rgb = (text) => rgb4(text).slice(0, 3);
    const lum = ([r, g, b]) => {
        const f = (c) => {
            c /= 255;
            return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
        };
        return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
    };
    const ratios = [];
    for (const el of document.querySelectorAll(selector)) {
        let bg = el, colour = getComputedStyle(el).backgroundColor;
        const faint = (c) => c === 'transparent' || (c.startsWith('rgba') && rgb4(c)[3] < 0.5);
        while (bg && faint(colour)) {
            bg = bg.parentElement;
            colour = bg ? getComputedStyle(bg).backgroundColor : 'rgb(255, 255, 255)';
        }
        const [a, b] = [lum(rgb(getComputedStyle(el).color)), lum(rgb(colour))];
        ratios.push((Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05));
    }
    return ratios;
}"""


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_claims_provenance_and_downloads_read_well_in_both_themes(quick_book, browser, scheme):
    html = quick_book / "_build" / "html"
    page = browser.new_page(viewport={"width": 1280, "height": 900}, color_scheme=scheme)
    page.goto((html / "book" / "cg_surrogates.html").as_uri())
    page.wait_for_load_state("load")
    assert page.evaluate("document.documentElement.dataset.theme") == scheme
    ratios = page.evaluate(
        CONTRAST, ".qt-claim-statement, .qt-claim-table td, .qt-claim-meta, .qt-claim code"
    )
    assert ratios and min(ratios) >= 4.5, f"claim text contrast {min(ratios):.2f} in {scheme} mode"
    details = page.locator(".qt-claim details.qt-provenance").first
    details.locator("summary").click()
    command = details.locator("code").inner_text()
    assert command == (
        "QUANTHEORY_SCALE=quick QUANTHEORY_SEED=0 .venv/bin/python book/cg_surrogates.py"
    )
    assert "numpy" in details.inner_text() and "commit" in details.inner_text()
    downloads = page.locator(".dropdown-download-buttons a")
    targets = {Path(href).name for href in downloads.evaluate_all("els => els.map(e => e.href)")}
    assert {"cg_surrogates.py", "cg_surrogates.ipynb"} <= targets
    for name in ("cg_surrogates.py", "cg_surrogates.ipynb"):
        assert (html / "_sources" / "book" / name).is_file()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"claims_{scheme}.png"), full_page=False)
    stats = browser.new_page(color_scheme=scheme)
    stats.goto((html / "book" / "exec_stats.html").as_uri())
    rows = stats.locator("table.qt-exec tbody tr")
    assert rows.count() == len(list((ROOT / "book").glob("*.py")))
    assert stats.locator("table.qt-exec a").first.get_attribute("href").endswith(".html")
    stats.close()
    page.close()
