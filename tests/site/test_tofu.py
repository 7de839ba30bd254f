"""No tofu on a machine without a Korean font: every Hangul character of every Korean page is drawn
by the font the site serves (``_static/fonts/optbook-korean.woff``).

The browser of the other site tests may find a CJK font of the machine (Debian's fonts-noto-cjk,
say), which would hide a character missing from the served subset or a text whose font stack skips
it. Here chromium runs with a fontconfig that rejects every font covering Korean, and the DevTools
protocol says which font drew the Hangul of each element (dropdowns opened).
"""

import os
import shutil
import subprocess

import pytest
from conftest import CHROMIUM, FLAGS, missing, open_page, pages

FAMILY = "Optbook Korean"

NO_KOREAN_FONTS = """<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">
<fontconfig>
  <include ignore_missing="yes">/etc/fonts/fonts.conf</include>
  <selectfont><rejectfont><pattern><patelt name="lang"><string>ko</string></patelt></pattern></rejectfont></selectfont>
  <cachedir>%s</cachedir>
</fontconfig>
"""

MARK_KOREAN = """async () => {
  document.querySelectorAll('details').forEach(d => { d.open = true; });
  await document.fonts.ready;
  const root = document.querySelector('main') || document.body;
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  const counts = new Map();
  let node;
  while ((node = walker.nextNode())) {
    const hangul = (node.textContent.match(/[\\uac00-\\ud7af]/g) || []).length;
    const parent = node.parentElement;
    if (hangul && parent.getClientRects().length) counts.set(parent, (counts.get(parent) || 0) + hangul);
  }
  let i = 0;
  for (const [element, n] of counts) element.setAttribute('data-hangul', `${i++}:${n}`);
  await document.fonts.ready;
  return i;
}"""


@pytest.fixture(scope="module")
def browser_without_korean_fonts(tmp_path_factory):
    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        missing("Debian's chromium is not installed (`apt-get install chromium`; .ci/run does it)")
    folder = tmp_path_factory.mktemp("fontconfig")
    config = folder / "fonts.conf"
    config.write_text(NO_KOREAN_FONTS % (folder / "cache"), encoding="utf-8")
    env = dict(os.environ, FONTCONFIG_FILE=str(config))
    if shutil.which("fc-list"):               # the configuration does hide every Korean font
        listed = subprocess.run(["fc-list", ":lang=ko"], env=env, capture_output=True, text=True).stdout
        assert not listed.strip(), listed
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, env=env)
        yield browser
        browser.close()


def hangul_drawn_elsewhere(page):
    """The marked elements whose Hangul the served font did not draw: (element text, fonts used)."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument", {"depth": -1})["root"]["nodeId"]
    ids = cdp.send("DOM.querySelectorAll", {"nodeId": root, "selector": "[data-hangul]"})["nodeIds"]
    wrong = []
    for node_id in ids:
        attributes = cdp.send("DOM.getAttributes", {"nodeId": node_id})["attributes"]
        hangul = int(dict(zip(attributes[::2], attributes[1::2]))["data-hangul"].split(":")[1])
        fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node_id})["fonts"]
        ours = sum(f["glyphCount"] for f in fonts if f["familyName"] == FAMILY and f["isCustomFont"])
        if ours < hangul:
            html = cdp.send("DOM.getOuterHTML", {"nodeId": node_id})["outerHTML"]
            wrong.append((html[:80], [(f["familyName"], f["glyphCount"]) for f in fonts]))
    return ids, wrong


KOREAN_PAGES = [name for name in pages() if name.startswith("ko/")]


@pytest.mark.parametrize("name", KOREAN_PAGES)
def test_no_tofu_without_a_korean_font_on_the_machine(browser_without_korean_fonts, server, name):
    page, log = open_page(browser_without_korean_fonts, server, name)    # other hosts blocked
    try:
        marked = page.evaluate(MARK_KOREAN)
        assert marked, f"{name}: no Korean text on the page"
        ids, wrong = hangul_drawn_elsewhere(page)
        assert len(ids) == marked
        assert not wrong, f"{name}: Hangul not drawn by {FAMILY} in {len(wrong)} of {marked} elements: {wrong[:3]}"
    finally:
        page.close()


def test_the_tofu_check_sees_hangul_drawn_without_the_served_font(browser_without_korean_fonts, server):
    """The control: the same check on a Korean page whose text is set in the machine's sans-serif
    (the served font taken away) reports it."""
    if not KOREAN_PAGES:
        missing("no built Korean edition: run `make book` first")
    page = browser_without_korean_fonts.new_page(viewport={"width": 1280, "height": 900})
    try:
        page.goto(f"{server}/{KOREAN_PAGES[0]}", wait_until="load")
        page.add_style_tag(content="* { font-family: sans-serif !important; }")
        marked = page.evaluate(MARK_KOREAN)
        ids, wrong = hangul_drawn_elsewhere(page)
        assert marked and len(wrong) == marked, (marked, wrong[:3])
    finally:
        page.close()
