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
