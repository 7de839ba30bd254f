"""The built site in a real browser: offline, complete, and with sliders that work without a kernel.

Serves ``_build/html`` on 127.0.0.1, blocks every other host, and drives Debian's chromium through
Playwright. Saves a screenshot of every page under ``_build/screenshots/``.
"""

import functools
import http.server
import re
import threading
from pathlib import Path

import pytest
from conftest import missing

ROOT = Path(__file__).resolve().parents[2]
SITE = ROOT / "_build" / "html"
SHOTS = ROOT / "_build" / "screenshots"
MAX_PAGE_BYTES = 3 * 1024 * 1024


def pages():
    if not (SITE / "index.html").exists():
        return []
    skip = {"genindex.html", "search.html", "py-modindex.html"}
    return sorted(str(p.relative_to(SITE)) for p in SITE.rglob("*.html")
                  if p.name not in skip and "_static" not in p.parts and "_sources" not in p.parts)


@pytest.fixture(scope="module")
def server():
    if not (SITE / "index.html").exists():
        missing("no built site: run `make book` first")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(SITE))
    handler.log_message = lambda *args: None
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


class PageLog:
    def __init__(self, page, origin):
        self.errors, self.failed, self.foreign = [], [], []
        page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("requestfailed", lambda r: self.failed.append(r.url))

        def route(route):
            url = route.request.url
            if url.startswith(origin) or url.startswith("data:"):
                route.continue_()
            else:
                self.foreign.append(url)
                route.abort()

        page.route("**/*", route)


def open_page(browser, server, name, width=1280, height=900, color_scheme="light"):
    page = browser.new_page(viewport={"width": width, "height": height}, color_scheme=color_scheme)
    log = PageLog(page, server)
    page.goto(f"{server}/{name}", wait_until="load")
    page.wait_for_load_state("networkidle")
    # MathJax typesets asynchronously; wait until it has finished (pages without math skip this).
    if page.locator(".math").count():
        page.wait_for_function("!!(window.MathJax && MathJax.startup && MathJax.startup.promise)",
                               timeout=20000)
        page.evaluate("() => MathJax.startup.promise.then(() => true)")
    return page, log


def test_the_site_has_the_chapters():
    if not pages():
        missing("no built site: run `make book` first")
    assert "index.html" in pages()
    assert len(pages()) >= 2


@pytest.mark.parametrize("name", pages())
def test_page_is_offline_complete_and_rendered(browser, server, name):
    size = (SITE / name).stat().st_size
    assert size <= MAX_PAGE_BYTES, f"{name} is {size / 1e6:.2f} MB (limit 3 MB)"
    page, log = open_page(browser, server, name)
    try:
        assert not log.foreign, f"{name} asked other hosts: {log.foreign[:5]}"
        assert not log.failed, f"{name} had failed requests: {log.failed[:5]}"
        assert not log.errors, f"{name} logged console errors: {log.errors[:5]}"
        broken = page.evaluate("""Array.from(document.images)
            .filter(img => !(img.complete && img.naturalWidth > 0)).map(img => img.src.slice(0, 80))""")
        assert not broken, f"{name} has images that did not load: {broken}"
        unlabeled = page.evaluate("""Array.from(document.querySelectorAll('article img'))
            .filter(img => !img.classList.contains('optbook-overlay') && !img.alt).length""")
        assert unlabeled == 0, f"{name} has {unlabeled} figures without alt text"
        text = page.inner_text("article")
        # no warnings, tracebacks or other stderr output from the executed cells
        assert page.locator(".output.stderr, .output.traceback, .output.error").count() == 0, name
        assert "Traceback (most recent call last)" not in text and "Warning:" not in text, name
        raw = re.findall(r"\\\(|\\\[|\$\$|\\frac|\\beta|\\eta", text)
        assert not raw, f"{name} shows raw TeX: {raw[:5]}"
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / (name.replace("/", "_").replace(".html", ".png"))),
                        full_page=True)
    finally:
        page.close()


@pytest.mark.parametrize("name", [p for p in pages() if "optbook-interactive" in
                                  (SITE / p).read_text(encoding="utf-8")])
def test_every_slider_changes_the_figure(browser, server, name):
    page, log = open_page(browser, server, name)
    try:
        figures = page.locator(".optbook-interactive")
        assert figures.count() > 0
        for i in range(figures.count()):
            figure = figures.nth(i)
            sliders = figure.locator("input[type=range]")
            assert sliders.count() > 0
            for j in range(sliders.count()):
                slider = sliders.nth(j)
                top = int(slider.get_attribute("max"))
                if top == 0:
                    continue
                start = int(slider.input_value())
                before = figure.locator("img.optbook-overlay").get_attribute("src")
                slider.fill(str(top if start != top else 0))
                after = figure.locator("img.optbook-overlay").get_attribute("src")
                assert after != before, f"{name}: figure {i}, slider {j} did not change the image"
                slider.fill(str(start))
                assert figure.locator("img.optbook-overlay").get_attribute("src") == before
            # the frame shown decodes (a real image, not a broken one)
            assert figure.locator("img.optbook-overlay").evaluate(
                "img => img.decode().then(() => img.naturalWidth > 0)")
        assert not log.errors, log.errors[:5]
    finally:
        page.close()


def test_phone_width_and_dark_mode(browser, server):
    interactive_pages = [p for p in pages() if "optbook-interactive" in (SITE / p).read_text()]
    if not interactive_pages:
        missing("no chapter with an interactive figure has been built")
    name = interactive_pages[0]
    page, log = open_page(browser, server, name, width=390, height=844)
    try:
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1, f"{name} scrolls sideways on a phone by {overflow}px"
        width = page.locator("img.optbook-frame").first.evaluate("img => img.getBoundingClientRect().width")
        assert width <= 390
        page.screenshot(path=str(SHOTS / "phone.png"), full_page=False)
    finally:
        page.close()
    page, log = open_page(browser, server, name, color_scheme="dark")
    try:
        page.evaluate("document.documentElement.dataset.theme = 'dark'")
        frame = page.locator("img.optbook-frame").first
        overlay = page.locator("img.optbook-overlay").first
        assert frame.evaluate("img => getComputedStyle(img).backgroundColor") == "rgb(255, 255, 255)"
        # the overlay sits exactly on its frame (no padding pushed in by the theme)
        box_frame, box_overlay = frame.bounding_box(), overlay.bounding_box()
        for key in ("x", "y", "width", "height"):
            assert abs(box_frame[key] - box_overlay[key]) < 0.5, (key, box_frame, box_overlay)
        page.screenshot(path=str(SHOTS / "dark.png"), full_page=False)
    finally:
        page.close()
