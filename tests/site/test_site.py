"""The built site in a real browser: offline, complete, and with sliders that work without a kernel.

Serves ``_build/html`` on 127.0.0.1, blocks every other host, and drives Debian's chromium through
Playwright. Every page of both editions (``en/``, ``ko/``). Saves a screenshot of every page under
``_build/screenshots/``.
"""

import re

import pytest
from conftest import SHOTS, SITE, editions, interactive_pages, load_lazy_images, missing, open_page, pages

MAX_PAGE_BYTES = 3 * 1024 * 1024


def test_the_site_has_the_chapters():
    if not pages():
        missing("no built site: run `make book` first")
    assert editions() == ["en", "ko"], editions()
    for edition in editions():
        assert f"{edition}/index.html" in pages()
        assert len([p for p in pages() if p.startswith(edition + "/")]) >= 2


@pytest.mark.parametrize("name", pages())
def test_page_is_offline_complete_and_rendered(browser, server, name):
    size = (SITE / name).stat().st_size
    assert size <= MAX_PAGE_BYTES, f"{name} is {size / 1e6:.2f} MB (limit 3 MB)"
    page, log = open_page(browser, server, name)
    try:
        assert not log.foreign, f"{name} asked other hosts: {log.foreign[:5]}"
        assert not log.failed, f"{name} had failed requests: {log.failed[:5]}"
        assert not log.errors, f"{name} logged console errors: {log.errors[:5]}"
        load_lazy_images(page)
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


@pytest.mark.parametrize("name", interactive_pages())
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
                wait_for_frame(figure)              # frames arrive when the figure nears the viewport
                after = figure.locator("img.optbook-overlay").get_attribute("src")
                assert after != before, f"{name}: figure {i}, slider {j} did not change the image"
                slider.fill(str(start))
                wait_for_frame(figure)
                assert figure.locator("img.optbook-overlay").get_attribute("src") == before
            # the frame shown decodes (a real image, not a broken one)
            assert figure.locator("img.optbook-overlay").evaluate(
                "img => img.decode().then(() => img.naturalWidth > 0)")
        assert not log.errors, log.errors[:5]
    finally:
        page.close()


def wait_for_frame(figure, timeout=10000):
    """Until the figure shows a frame (not "loading": its frames file is on its way)."""
    figure.page.wait_for_function("root => /^[0-9]+$/.test(root.dataset.frame || '')",
                                  arg=figure.element_handle(), timeout=timeout)


@pytest.mark.parametrize("edition", editions())
def test_phone_width_and_dark_mode(browser, server, edition):
    mine = [p for p in interactive_pages() if p.startswith(edition + "/")]
    if not mine:
        missing("no chapter with an interactive figure has been built")
    name = mine[0]
    page, log = open_page(browser, server, name, width=390, height=844)
    try:
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1, f"{name} scrolls sideways on a phone by {overflow}px"
        width = page.locator("img.optbook-frame").first.evaluate("img => img.getBoundingClientRect().width")
        assert width <= 390
        page.screenshot(path=str(SHOTS / f"{edition}-phone.png"), full_page=False)
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
        page.screenshot(path=str(SHOTS / f"{edition}-dark.png"), full_page=False)
    finally:
        page.close()
