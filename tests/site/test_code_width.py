"""Shown code never scrolls sideways at 1280 px (issue 12).

The listings a chapter shows from ``lib/`` (``show_source``), the code cells a reader sees and
their printed outputs must fit the page: an equation comment at column 90 hid behind a horizontal
scrollbar on the RMSProp, Adam and AdamW pages. The fix is in the source (comments above the
lines, shorter lines), not in CSS, so this test measures what a reader gets: on every built page
at a 1280 px viewport, with every folded block and "Show code" toggle opened, each code block's
``scrollWidth`` is at most its ``clientWidth``.

A quick look at another build: ``OPTBOOK_SITE=/path/to/_build/html pytest tests/site/test_code_width.py``.
"""

import pytest
from conftest import SITE, open_page, pages

# Every code box a reader can see: highlighted blocks (listings, code-cell inputs, fenced code in
# the text) and the plain <pre> of printed cell outputs.
CODE_BOXES = """() => {
  const boxes = new Set([
    ...document.querySelectorAll('article div.highlight pre'),
    ...document.querySelectorAll('article .cell_input pre, article .cell_output pre'),
  ]);
  const found = [];
  for (const pre of boxes) {
    if (pre.clientWidth === 0) continue;            // not laid out (an unopened widget, a template)
    const lines = pre.textContent.split('\\n');
    const longest = lines.reduce((a, b) => (b.length > a.length ? b : a), '');
    const heading = pre.closest('section')?.id || '';
    found.push({scroll: pre.scrollWidth, client: pre.clientWidth, longest,
                columns: longest.length, section: heading});
  }
  return found;
}"""


def code_pages():
    return [p for p in pages() if "highlight" in (SITE / p).read_text(encoding="utf-8")]


def measure(page):
    # open everything a reader can open: dropdowns, "Going deeper" blocks, hidden code cells
    page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
    page.evaluate("""document.querySelectorAll('.toggle-hidden')
        .forEach(e => e.classList.remove('toggle-hidden'))""")
    page.evaluate("document.getAnimations().forEach(a => a.finish())")
    return page.evaluate(CODE_BOXES)


@pytest.mark.parametrize("name", code_pages())
def test_no_shown_code_scrolls_sideways_at_1280px(browser, server, name):
    page, log = open_page(browser, server, name, width=1280, height=900)
    try:
        boxes = measure(page)
        assert boxes, f"{name}: no code block measured (has the theme's markup changed?)"
        wide = [b for b in boxes if b["scroll"] > b["client"]]
        report = [f"{b['columns']} columns, {b['scroll']}px in a {b['client']}px box, in "
                  f"'{b['section']}': {b['longest'].strip()[:90]!r}" for b in wide]
        assert not wide, f"{name}: {len(wide)} code block(s) scroll sideways at 1280 px: {report}"
    finally:
        page.close()
