"""The purged stylesheets style every element exactly as the theme's full ones do.

`_ext/optbook_site.purge_stylesheets` drops the CSS rules that no page or script of the site can
match (three quarters of the bytes that every first paint waits for), and keeps the theme's files in
`_static/optbook-unpurged/`. Here each page is opened twice, once as built and once with every
stylesheet request answered from that folder, and the computed style of every element and of its
::before / ::after boxes is compared, property by property (everything a reader can see of a
box): with dropdowns closed and
opened, in light and dark mode, at 1280 px and at a phone's 375 px, and on the search page with
results (whose elements a script creates).
"""

import pytest

from conftest import SITE, edition_of, editions, missing, pages


def unpurged(edition):
    """The theme's stylesheets as they were before the purge, in each edition's _static."""
    return SITE / edition / "_static" / "optbook-unpurged"

# What a reader can see of a box (computed values: lengths are the laid-out ones). Custom
# properties are left out: they matter only through the properties that use them.
PROPERTIES = """display position top right bottom left float clear box-sizing width height min-width
max-width min-height max-height margin-top margin-right margin-bottom margin-left padding-top
padding-right padding-bottom padding-left border-top-width border-right-width border-bottom-width
border-left-width border-top-style border-right-style border-bottom-style border-left-style
border-top-color border-right-color border-bottom-color border-left-color border-top-left-radius
border-top-right-radius border-bottom-right-radius border-bottom-left-radius box-shadow color
background-color background-image background-position background-size opacity visibility
overflow-x overflow-y z-index font-family font-size font-weight font-style line-height
letter-spacing text-align text-decoration-line text-transform white-space vertical-align
flex-direction flex-wrap flex-grow flex-shrink flex-basis justify-content align-items row-gap
column-gap grid-template-columns transform cursor content list-style-type outline-style
outline-width outline-color filter word-break overflow-wrap text-indent fill stroke
pointer-events transition-property""".split()

STYLE_DIGESTS = """(properties) => {
  document.getAnimations().forEach(a => { try { a.finish(); } catch (e) {} });
  const hash = s => { let h = 2166136261; for (let i = 0; i < s.length; i++) { h ^= s.charCodeAt(i); h = Math.imul(h, 16777619); } return h >>> 0; };
  const out = [];
  for (const el of document.querySelectorAll('html, html *')) {
    for (const pseudo of [null, '::before', '::after']) {
      const cs = getComputedStyle(el, pseudo);
      let text = '';
      for (const p of properties) text += cs.getPropertyValue(p) + ';';
      out.push(hash(text));
    }
  }
  return out;
}"""

STYLE_OF = """([index, pseudo, properties]) => {
  const el = document.querySelectorAll('html, html *')[index];
  const cs = getComputedStyle(el, pseudo);
  const props = {};
  for (const p of properties) props[p] = cs.getPropertyValue(p);
  return [el.tagName + (el.id ? '#' + el.id : '') + '.' + [...el.classList].join('.'), props];
}"""

OPEN_EVERYTHING = """() => {
  document.querySelectorAll('.toggle-hidden').forEach(e => e.classList.remove('toggle-hidden'));
  document.querySelectorAll('details').forEach(d => d.open = true);
}"""


def _unpurged(route):
    url = route.request.url.split("/_static/", 1)
    edition = url[0].rsplit("/", 1)[1]           # http://host:port/ko/_static/... -> ko
    original = unpurged(edition) / url[1].split("?", 1)[0]
    if original.is_file():
        route.fulfill(body=original.read_bytes(), content_type="text/css")
    else:
        route.continue_()


def _styles(browser, server, name, width, mode, unpurged, opened):
    page = browser.new_page(viewport={"width": width, "height": 900}, color_scheme=mode)
    page.route("**/*", lambda r: r.continue_() if r.request.url.startswith((server, "data:")) else r.abort())
    if unpurged:
        page.route("**/_static/**/*.css*", _unpurged)
    page.add_init_script(f"localStorage.setItem('mode', '{mode}'); localStorage.setItem('theme', '{mode}');")
    page.goto(f"{server}/{name}", wait_until="load")
    page.wait_for_load_state("networkidle", timeout=60000)
    if name.split("/", 1)[1].startswith("search.html"):
        page.wait_for_function("() => !!document.querySelector('#search-results .search-summary')?.innerText",
                               timeout=30000)
    if page.locator(".math").count():
        page.wait_for_function("!!(window.MathJax && MathJax.startup && MathJax.startup.promise)", timeout=20000)
        page.evaluate("() => MathJax.startup.promise.then(() => true)")
    if opened:
        page.evaluate(OPEN_EVERYTHING)
    page.wait_for_timeout(400)                     # transitions of the opened blocks (0.3 s)
    return page, page.evaluate(STYLE_DIGESTS, PROPERTIES)


def _compare(browser, server, name, width=1280, mode="light", opened=True):
    if not unpurged(edition_of(name)).is_dir():
        missing("the site was built without the stylesheet purge (optbook_light_pages is off)")
    purged_page, purged = _styles(browser, server, name, width, mode, unpurged=False, opened=opened)
    full_page, full = _styles(browser, server, name, width, mode, unpurged=True, opened=opened)
    try:
        assert len(purged) == len(full), f"{name}: the two loads have different elements"
        differing = [i for i, (a, b) in enumerate(zip(purged, full)) if a != b]
        if differing:
            index = differing[0]
            target = [index // 3, [None, "::before", "::after"][index % 3], PROPERTIES]
            element, mine = purged_page.evaluate(STYLE_OF, target)
            _, theirs = full_page.evaluate(STYLE_OF, target)
            changed = {k: (mine.get(k), theirs.get(k)) for k in set(mine) | set(theirs) if mine.get(k) != theirs.get(k)}
            pytest.fail(f"{name} ({width} px, {mode}): {len(differing)} styled boxes differ from the theme's "
                        f"full CSS; the first, {element} {target[1] or ''}: purged vs full {changed}")
    finally:
        purged_page.close()
        full_page.close()


@pytest.mark.parametrize("name", pages())
def test_every_page_is_styled_as_with_the_full_css(browser, server, name):
    _compare(browser, server, name)


@pytest.mark.parametrize("name", [f"{e}/book/{chapter}.html" for e in editions()
                                  for chapter in ("adam", "comparison", "intro")])
@pytest.mark.parametrize("width,mode,opened", [(1280, "dark", True), (375, "light", False), (375, "dark", True)])
def test_modes_widths_and_closed_dropdowns_are_styled_as_with_the_full_css(browser, server, name, width, mode, opened):
    _compare(browser, server, name, width, mode, opened)


@pytest.mark.parametrize("edition", editions())
def test_the_search_results_are_styled_as_with_the_full_css(browser, server, edition):
    _compare(browser, server, f"{edition}/search.html?q=adam")


@pytest.mark.parametrize("edition", editions())
def test_the_purge_saves_most_of_the_blocking_css(edition):
    originals = unpurged(edition)
    if not originals.is_dir():
        missing("the site was built without the stylesheet purge")
    before = sum(p.stat().st_size for p in originals.rglob("*.css"))
    after = sum((SITE / edition / "_static" / p.relative_to(originals)).stat().st_size
                for p in originals.rglob("*.css"))
    assert after < before / 2, f"the purged stylesheets are {after} bytes against {before}"
