"""The course in a real browser: JupyterLab in Chromium runs a chapter from top to bottom.

Runs when Chromium and Playwright are installed, and is skipped otherwise;
with DPNB_BROWSER=1 (as CI sets it) it is required, and a missing browser is a
failure. A screenshot of the page goes to the test's temporary folder.
"""
import os
import urllib.parse

import pytest

from .lab import chromium_path, lab_page

pytestmark = pytest.mark.browser

REQUIRED = os.environ.get("DPNB_BROWSER", "") not in ("", "0")
CHAPTER = "notebooks/01-derivatives-and-the-chain-rule.ipynb"


def _need_browser():
    problems = []
    if chromium_path() is None:
        problems.append("no Chromium (apt-get install chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        problems.append("no Playwright (pip install playwright)")
    try:
        import jupyterlab  # noqa: F401
    except ImportError:
        problems.append("no JupyterLab (pip install jupyterlab)")
    if problems:
        message = "browser test: " + "; ".join(problems)
        if REQUIRED:
            pytest.fail(message + " — DPNB_BROWSER=1 makes this test required")
        pytest.skip(message)


def _svg_nodes(page):
    """How many graph nodes the SVGs on the page draw, inline or as data: images."""
    inline = page.locator(".jp-OutputArea-output svg g.node").count()
    as_images = 0
    for src in page.locator('.jp-OutputArea-output img[src^="data:image/svg+xml"]').evaluate_all(
        "imgs => imgs.map(i => i.src)"
    ):
        as_images += urllib.parse.unquote(src).count('class="node"')
    return inline, as_images


def test_a_course_chapter_runs_in_jupyterlab(tmp_path):
    _need_browser()
    with lab_page(tmp_path) as lab:
        page = lab.page
        lab.open(CHAPTER)
        lab.run_all()
        try:
            assert lab.errors() == [], "a cell raised in JupyterLab"

            # the %%grad table
            table = lab.cell("%%grad w b").locator(".dpnb-grad table")
            assert table.count() == 1
            assert table.locator("tr").count() == 3  # header, w, b

            # the matplotlib figure of plot_gradient
            image = lab.cell("plot_gradient(f").locator('.jp-OutputArea-output img[src^="data:image/png"]')
            assert image.count() == 1
            assert image.evaluate("img => img.naturalWidth") > 100

            # the pullback graph, an SVG with nodes (the cell's own, and the one inside explore)
            graph_cell = lab.cell("pullback_graph(h")
            graph_cell.scroll_into_view_if_needed()
            inline, as_images = _svg_nodes(page)
            assert as_images >= 3, "pullback_graph drew no SVG nodes"
            assert inline >= 2, "the explore widget shows no pullback graph"

            # the explore slider answers a move
            view = lab.cell("explore(f, x=1.0)")
            view.scroll_into_view_if_needed()
            handle = view.locator(".widget-slider .noUi-handle").first
            handle.wait_for(timeout=30_000)
            readout = view.locator(".widget-readout").first
            values = view.locator(".widget-html").nth(1)
            before = (readout.inner_text(), values.inner_text())
            box = handle.bounding_box()
            page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
            page.mouse.down()
            page.mouse.move(box["x"] + box["width"] / 2 + 40, box["y"] + box["height"] / 2, steps=8)
            page.mouse.up()
            page.wait_for_function(
                "([el, text]) => el.innerText !== text", arg=[values.element_handle(), before[1]], timeout=30_000
            )
            after = (readout.inner_text(), values.inner_text())
            assert after[0] != before[0], "the slider did not move"
            assert after[1] != before[1], "the values did not follow the slider"
            assert float(after[0]) > float(before[0])
        finally:
            page.screenshot(path=str(tmp_path / "course-chapter.png"), full_page=True)
    assert (tmp_path / "course-chapter.png").stat().st_size > 10_000
