"""What the site tests share: Debian's chromium, driven by Playwright, and the rule for skipping."""

import functools
import http.server
import os
import shutil
import threading
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
REQUIRED = os.environ.get("OPTBOOK_REQUIRE_BROWSER") == "1"   # set by .ci/run: never skip in CI
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def missing(reason):
    """Skip, saying why; in CI (OPTBOOK_REQUIRE_BROWSER=1) fail instead, so nothing hides."""
    if REQUIRED:
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        missing("Debian's chromium is not installed (`apt-get install chromium`; .ci/run does it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield browser
        browser.close()


# ---- the built site, served on 127.0.0.1 (shared by the site tests) ----------------------------
# The site has two editions (issue 17): _build/html/en/... and _build/html/ko/..., and the edition
# chooser _build/html/index.html. Page names are relative to the site: "en/book/sgd.html", so every
# test that takes a page runs on both editions.
ROOT = Path(__file__).resolve().parents[2]
# OPTBOOK_SITE: test another built site (e.g. an old build, to see a test fail before its fix).
SITE = Path(os.environ.get("OPTBOOK_SITE") or ROOT / "_build" / "html")
SHOTS = ROOT / "_build" / "screenshots"
ALL_EDITIONS = ("en", "ko")


def editions():
    """The editions the built site has (both, after `make book`)."""
    return [e for e in ALL_EDITIONS if (SITE / e / "index.html").exists()]


def edition_of(name):
    """"ko" for "ko/book/sgd.html"."""
    return name.split("/", 1)[0]


def in_edition(name, page):
    """The page ``page`` ("book/intro.html") in the edition of ``name`` ("ko/book/sgd.html")."""
    return f"{edition_of(name)}/{page}"


def pages():
    skip = {"genindex.html", "search.html", "py-modindex.html"}
    return sorted(str(p.relative_to(SITE)) for e in editions() for p in (SITE / e).rglob("*.html")
                  if p.name not in skip and "_static" not in p.parts and "_sources" not in p.parts)


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):          # no line per request in the test output
        pass


@pytest.fixture(scope="module")
def server():
    if not editions():
        missing("no built site: run `make book` first")
    handler = functools.partial(QuietHandler, directory=str(SITE))
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
    page.wait_for_load_state("networkidle", timeout=60000)
    # MathJax typesets asynchronously; wait until it has finished (pages without math skip this).
    if page.locator(".math").count():
        page.wait_for_function("!!(window.MathJax && MathJax.startup && MathJax.startup.promise)",
                               timeout=20000)
        page.evaluate("() => MathJax.startup.promise.then(() => true)")
    return page, log


def interactive_pages():
    return [p for p in pages() if "optbook-interactive" in (SITE / p).read_text(encoding="utf-8")]


def load_lazy_images(page):
    """Load every image now (lazily loaded ones too) and wait until each has loaded or failed."""
    page.evaluate("""() => Promise.all(Array.from(document.images).map(img => {
        img.loading = "eager";
        return img.decode().catch(() => null);
    }))""")
