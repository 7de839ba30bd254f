"""Shown code never scrolls sideways at 1280 px (issue 12).

The listings a chapter shows from ``lib/`` (``show_source``), the code cells a reader sees and
their printed outputs must fit the page: an equation comment at column 90 hid behind a horizontal
scrollbar on the RMSProp, Adam and AdamW pages. The fix is in the source (comments above the
lines, shorter lines), not in CSS, so this test measures what a reader gets: on every built page
at a 1280 px viewport, with every folded block opened, each code block's ``scrollWidth`` is at
most its ``clientWidth``. A second test does the same for the code behind the "Show code cell"
toggles of cells tagged hide-input, so a failure says which kind of code it is.

A quick look at another build: ``OPTBOOK_SITE=/path/to/_build/html pytest tests/site/test_code_width.py``.
"""

import pytest
from conftest import SITE, editions, missing, open_page, pages

# Every code box of the article: highlighted blocks (listings, code-cell inputs, fenced code in
# the text) and the plain <pre> of printed cell outputs. ``inside`` selects those within a
# "Show code cell" toggle (details.hide), or those outside one.
CODE_BOXES = """inside => {
  const boxes = new Set([
    ...document.querySelectorAll('article div.highlight pre'),
    ...document.querySelectorAll('article .cell_input pre, article .cell_output pre'),
  ]);
  const found = [];
  for (const pre of boxes) {
    if (!!pre.closest('details.hide') !== inside) continue;
    if (pre.clientWidth === 0) continue;            // not laid out: inside a closed toggle
    const lines = pre.textContent.split('\\n');
    const longest = lines.reduce((a, b) => (b.length > a.length ? b : a), '');
    found.push({scroll: pre.scrollWidth, client: pre.clientWidth, longest,
                columns: longest.length, section: pre.closest('section')?.id || ''});
  }
  return found;
}"""

# the folded prose blocks: "Going deeper" admonitions (sphinx-togglebutton), {dropdown}s and
# exercise solutions; a reader opens them to read the depth, code included
OPEN_FOLDED = """() => {
  document.querySelectorAll('details:not(.hide)').forEach(d => d.open = true);
  document.querySelectorAll('.toggle-hidden').forEach(e => e.classList.remove('toggle-hidden'));
}"""
# the "Show code cell source" / "Show code cell output" toggles of hide-input/hide-output cells
OPEN_CODE_TOGGLES = "() => document.querySelectorAll('details.hide').forEach(d => d.open = true)"


def code_pages():
    return [p for p in pages() if '<div class="highlight"><pre>' in (SITE / p).read_text(encoding="utf-8")]


def toggled_pages():
    return [p for p in code_pages() if '<details class="admonition hide' in (SITE / p).read_text(encoding="utf-8")]


def too_wide(page, inside_toggles):
    page.evaluate(OPEN_FOLDED)
    if inside_toggles:
        page.evaluate(OPEN_CODE_TOGGLES)
    page.evaluate("document.getAnimations().forEach(a => a.finish())")
    boxes = page.evaluate(CODE_BOXES, inside_toggles)
    wide = [b for b in boxes if b["scroll"] > b["client"]]
    report = [f"{b['columns']} columns, {b['scroll']}px in a {b['client']}px box, in "
              f"#{b['section']}: {b['longest'].strip()[:90]!r}" for b in wide]
    return boxes, report


@pytest.mark.parametrize("name", code_pages())
def test_shown_code_does_not_scroll_sideways_at_1280px(browser, server, name):
    """Listings (show_source), visible code cells, outputs, and code inside opened folded blocks."""
    page, log = open_page(browser, server, name, width=1280, height=900)
    try:
        boxes, report = too_wide(page, inside_toggles=False)
        assert not report, f"{name}: {len(report)} code block(s) scroll sideways at 1280 px: {report}"
    finally:
        page.close()


@pytest.mark.parametrize("name", toggled_pages())
def test_code_behind_show_code_toggles_does_not_scroll_sideways_at_1280px(browser, server, name):
    """Cells tagged hide-input/hide-output: the code a reader sees after "Show code cell source".

    An opened toggle is narrower than the page's other code boxes (666 px at 1280 px, about 75
    columns of the code font): the book's toggled code is wrapped to 74 columns."""
    page, log = open_page(browser, server, name, width=1280, height=900)
    try:
        boxes, report = too_wide(page, inside_toggles=True)
        assert boxes, f"{name}: no code block measured behind its toggles"
        assert not report, f"{name}: {len(report)} opened code cell(s) scroll sideways at 1280 px: {report}"
    finally:
        page.close()


@pytest.mark.parametrize("edition", editions())
def test_the_measure_sees_the_adam_listings(browser, server, edition):
    """The control: on the Adam page the lib's listings are found and measured (a selector that
    matched nothing would let every page pass)."""
    name = f"{edition}/book/adam.html"
    if name not in pages():
        missing(f"no {name} in the built site")
    page, log = open_page(browser, server, name, width=1280, height=900)
    try:
        boxes, report = too_wide(page, inside_toggles=False)
        listings = [b for b in boxes if "def adam_update" in b["longest"] or b["columns"] > 40]
        assert len(listings) >= 2, boxes
        assert all(b["client"] > 500 for b in boxes), boxes      # laid out at the page's width
    finally:
        page.close()
