"""The seed's Korean terms are drawn with the font the site serves (``_static/korean-font.css``,
``_static/fonts/optbook-korean.woff``), not with whatever CJK font the machine may have: so the
verdict is the same on a machine with or without one.

Serves ``_build/html`` on 127.0.0.1 (every other host blocked) and asks the browser, through
``document.fonts`` and the DevTools protocol, which font drew the Korean text of a chapter page.
"""

import functools
import http.server
import threading

import pytest
from conftest import SITE, editions, missing

FAMILY = "Optbook Korean"
# chapters whose prose quotes the seed in Korean (and every Korean page), in both editions
PAGES = [f"{e}/book/{chapter}.html" for e in editions() for chapter in ("sgd", "practice")]


@pytest.fixture(scope="module")
def server():
    if not editions():
        missing("no built site: run `make book` first")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(SITE))
    handler.log_message = lambda *args: None
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


FIND_KOREAN = """async () => {
  await document.fonts.ready;
  const root = document.querySelector('main') || document.body;
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  let node;
  while ((node = walker.nextNode())) {
    if (/[\\uac00-\\ud7af]/.test(node.textContent) && node.parentElement.offsetParent !== null) break;
  }
  if (!node) return null;
  node.parentElement.setAttribute('data-korean-probe', '1');
  node.parentElement.scrollIntoView();
  await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
  await document.fonts.ready;
  const faces = [...document.fonts].filter(f => f.family.replace(/["']/g, '') === '%s');
  return {
    text: node.textContent.match(/[\\uac00-\\ud7af]+/)[0],
    family: getComputedStyle(node.parentElement).fontFamily,
    faces: faces.map(f => ({status: f.status, range: f.unicodeRange})),
  };
}""" % FAMILY


@pytest.mark.parametrize("name", PAGES)
def test_korean_text_is_drawn_with_the_served_font(browser, server, name):
    if not (SITE / name).exists():
        missing(f"{name} is not in the built site")
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    fetched = []
    page.on("requestfinished", lambda r: fetched.append(r.url))
    page.route("**/*", lambda route: route.continue_() if route.request.url.startswith(server)
               or route.request.url.startswith("data:") else route.abort())
    try:
        page.goto(f"{server}/{name}", wait_until="load")
        page.wait_for_load_state("networkidle")
        found = page.evaluate(FIND_KOREAN)
        assert found, f"{name}: no Korean text on the page"
        # The page's text font puts the served font first (its unicode-range is Hangul only, so
        # Latin text keeps the theme's font), and the browser has loaded it for this text.
        assert found["family"].replace('"', "").startswith(FAMILY), found["family"]
        assert [f["status"] for f in found["faces"]] == ["loaded"], found
        assert any(url.endswith("/_static/fonts/optbook-korean.woff") for url in fetched), fetched
        # What actually drew the glyphs (the DevTools protocol's platform fonts for the element):
        # the served font, for every Korean glyph, not a font of the machine.
        cdp = page.context.new_cdp_session(page)
        cdp.send("DOM.enable")
        cdp.send("CSS.enable")
        document = cdp.send("DOM.getDocument", {"depth": -1})
        node = cdp.send("DOM.querySelector", {"nodeId": document["root"]["nodeId"],
                                              "selector": "[data-korean-probe]"})
        fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node["nodeId"]})["fonts"]
        ours = [f for f in fonts if f["familyName"] == FAMILY]
        assert ours and ours[0]["isCustomFont"], fonts
        korean = sum(1 for ch in page.evaluate(
            "() => document.querySelector('[data-korean-probe]').textContent")
            if "\uac00" <= ch <= "\ud7af")
        assert ours[0]["glyphCount"] >= korean, (fonts, korean)
    finally:
        page.close()

