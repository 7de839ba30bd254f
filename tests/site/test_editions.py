"""Two editions, one site (issue 17): the root page, the language links, lang attributes, the
Korean footer, Korean search, and the same numbers in both editions.

Serves the whole built site (``_build/html``: ``index.html``, ``en/``, ``ko/``) on 127.0.0.1.
"""

import collections
import json
import re
import sys
from pathlib import Path

import pytest
from conftest import SITE, edition_of, editions, missing, open_page, pages

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "_ext"))
import optbook_i18n  # noqa: E402


def need_both():
    if editions() != ["en", "ko"]:
        missing("the site has not both editions: run `make book`")


def other(edition):
    return "ko" if edition == "en" else "en"


# ---- the root page ---------------------------------------------------------------------------

def landing(browser, server, locale, stored=None, query=""):
    """Where the root page sends a reader whose browser speaks ``locale``."""
    context = browser.new_context(locale=locale)
    page = context.new_page()
    try:
        if stored:
            page.add_init_script(f"localStorage.setItem('optbook-edition', '{stored}')")
        page.goto(f"{server}/index.html{query}", wait_until="load")
        page.wait_for_url(re.compile(r"/(en|ko)/book/"), timeout=10000)   # via the edition's redirect
        page.wait_for_load_state("load")
        return page.url[len(server):], page.evaluate("document.documentElement.lang")
    finally:
        context.close()


@pytest.mark.parametrize("locale,expected", [("ko-KR", "/ko/"), ("ko", "/ko/"), ("en-US", "/en/"),
                                             ("de-DE", "/en/"), ("fr-FR", "/en/")])
def test_the_root_page_sends_a_reader_to_the_edition_of_their_language(browser, server, locale, expected):
    need_both()
    url, lang = landing(browser, server, locale)
    assert url.startswith(expected), (locale, url)
    assert lang == expected.strip("/"), (locale, url, lang)


def test_the_root_page_remembers_the_choice(browser, server):
    need_both()
    assert landing(browser, server, "en-US", stored="ko")[0].startswith("/ko/")
    assert landing(browser, server, "ko-KR", stored="en")[0].startswith("/en/")


def test_the_root_page_lets_the_reader_choose_without_javascript(browser, server):
    need_both()
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(f"{server}/index.html", wait_until="load")
        links = page.evaluate("Array.from(document.querySelectorAll('a')).map(a => [a.textContent, a.getAttribute('href')])")
        assert links == [["English", "en/index.html"], ["한국어", "ko/index.html"]], links
        page.click("text=한국어")
        page.wait_for_url(re.compile(r"/ko/"), timeout=10000)
    finally:
        context.close()
    # with JavaScript, ?choose keeps the reader on the page; a click is remembered
    page = browser.new_page()
    try:
        page.goto(f"{server}/index.html?choose", wait_until="load")
        page.wait_for_timeout(300)
        assert page.url.endswith("/index.html?choose")
        page.click("text=한국어")
        page.wait_for_url(re.compile(r"/ko/book/"), timeout=10000)      # after ko/index.html's redirect
        page.wait_for_load_state("load")
        assert page.evaluate("localStorage.getItem('optbook-edition')") == "ko"
    finally:
        page.close()


# ---- every page links to itself in the other edition ---------------------------------------------

EDITION_LINK = re.compile(r'<a class="btn btn-sm optbook-edition-link" href="([^"]+)"\s+hreflang="(\w+)"')


@pytest.mark.parametrize("name", pages() + [f"{e}/{p}" for e in editions() for p in ("search.html", "genindex.html")])
def test_every_page_links_to_the_same_page_in_the_other_edition(name):
    need_both()
    links = EDITION_LINK.findall((SITE / name).read_text(encoding="utf-8"))
    if name.endswith("/index.html") and not links:          # jupyter-book's redirect to the root page
        assert "http-equiv" in (SITE / name).read_text(encoding="utf-8")
        return
    assert len(links) == 1, (name, links)
    href, hreflang = links[0]
    target = ((SITE / name).parent / href).resolve()
    expected = (SITE / other(edition_of(name)) / name.split("/", 1)[1]).resolve()
    assert hreflang == other(edition_of(name))
    assert target == expected and target.exists(), (name, href)


@pytest.mark.parametrize("name", ["en/book/adam.html", "ko/book/schedules.html", "ko/search.html"])
def test_the_language_link_lands_on_the_same_page(browser, server, name):
    need_both()
    page, log = open_page(browser, server, name)
    try:
        expected = f"{server}/{other(edition_of(name))}/{name.split('/', 1)[1]}"
        page.click("a.optbook-edition-link")
        page.wait_for_url(expected, timeout=10000)
        assert page.evaluate("document.documentElement.lang") == other(edition_of(name))
        assert page.evaluate("localStorage.getItem('optbook-edition')") == other(edition_of(name))
        assert not log.errors, log.errors
    finally:
        page.close()


# ---- language of the pages and the theme's strings --------------------------------------------

@pytest.mark.parametrize("name", pages())
def test_every_page_says_its_language(name):
    text = (SITE / name).read_text(encoding="utf-8")
    if 'http-equiv="Refresh"' in text or "http-equiv" in text[:500]:
        return                                             # a redirect page
    assert re.search(rf'<html lang="{edition_of(name)}"', text), (name, text[:200])


@pytest.mark.parametrize("edition", editions())
def test_the_footer_names_the_author_in_the_edition_s_word_order(edition):
    text = (SITE / edition / "book" / "sgd.html").read_text(encoding="utf-8")
    author = re.search(r'<p class="component-author">\s*(.*?)\s*</p>', text, re.S).group(1)
    if edition == "ko":
        assert author == "The Optimizers in Motion authors 지음", author
        assert "으로" not in author
    else:
        assert author == "By The Optimizers in Motion authors", author


def test_the_korean_sidebar_and_theme_strings_are_korean():
    need_both()
    text = (SITE / "ko" / "book" / "sgd.html").read_text(encoding="utf-8")
    part = r'<p[^>]*class="caption"[^>]*><span class="caption-text">([^<]*)</span>'   # the sidebar's parts
    captions = re.findall(part, text)
    english = re.findall(part, (SITE / "en" / "book" / "sgd.html").read_text(encoding="utf-8"))
    assert captions and len(captions) == len(english)
    # every part caption the catalogue translates is shown translated
    import polib
    catalogue = {e.msgid: e.msgstr for e in polib.pofile(str(ROOT / "locales/ko/LC_MESSAGES/book/intro.po"))
                 if e.msgstr and "fuzzy" not in e.flags}
    for en, ko in zip(english, captions):
        assert ko == catalogue.get(en, en), (en, ko)
    for english_string in ("Search this book", "Contents", "Download this page", "Print to PDF",
                           "Back to top", "Skip to main content", "Show code cell", "Hide code cell", "By "):
        visible = re.sub(r"<[^>]+>", " ", re.sub(r"<(script|style)\b.*?</\1>", "", text, flags=re.S))
        assert english_string not in visible, english_string


# ---- Korean search -------------------------------------------------------------------------------

QUERIES = ["손실", "수렴", "발산", "학습률", "편향 보정"]


def search_index(edition):
    text = (SITE / edition / "searchindex.js").read_text(encoding="utf-8")
    return json.loads(text[text.index("(") + 1:text.rindex(")")])


def pages_using(edition, word):
    """Pages whose article has ``word`` only inflected somewhere (손실은, 수렴하는: a word that is not
    ``word`` and whose stem is), read from the HTML, not from the index."""
    found = set()
    for path in sorted((SITE / edition / "book").glob("*.html")):
        html = path.read_text(encoding="utf-8")
        article = re.search(r"<article\b.*?</article>", html, re.S)
        text = re.sub(r"<[^>]+>", " ", article.group(0) if article else "")
        if any(token != word and optbook_i18n.korean_stem(token) == word for token in re.findall(r"\w+", text)):
            found.add("book/" + path.stem)
    return found


def test_the_korean_stem_strips_particles_and_endings():
    stem = optbook_i18n.korean_stem
    assert [stem(w) for w in ["손실은", "수렴하는", "발산한다", "학습률을", "편향", "보정이", "모멘텀의",
                              "옵티마이저가", "Adam은", "수렴했다", "가중치를"]] == [
        "손실", "수렴", "발산", "학습률", "편향", "보정", "모멘텀", "옵티마이저", "Adam", "수렴", "가중치"]
    assert [stem(w) for w in ["차이", "높이", "하나", "Adam", "0.9"]] == ["차이", "높이", "하나", "Adam", "0.9"]


def test_the_korean_index_has_the_stems_of_inflected_words():
    need_both()
    index = search_index("ko")
    docnames = index["docnames"]
    for query in QUERIES:
        for word in query.split():
            inflected = pages_using("ko", word)
            assert inflected, f"the control: no Korean page uses {word} inflected"
            indexed = set()
            for mapping in ("terms", "titleterms"):       # a word of a page's title is in titleterms only
                entry = index[mapping].get(word, [])
                indexed |= {docnames[i] for i in (entry if isinstance(entry, list) else [entry])}
            assert inflected <= indexed, (word, sorted(inflected - indexed))


@pytest.mark.parametrize("query", QUERIES)
def test_searching_korean_finds_the_pages_that_use_the_word_inflected(browser, server, query):
    need_both()
    page, log = open_page(browser, server, f"ko/search.html?q={query}")
    try:
        page.wait_for_function("() => !!document.querySelector('#search-results .search-summary')?.innerText",
                               timeout=30000)
        page.wait_for_load_state("networkidle")
        hits = page.evaluate("Array.from(document.querySelectorAll('#search-results li a')).map(a => a.getAttribute('href'))")
        expected = set.intersection(*(pages_using("ko", word) for word in query.split()))
        found = {re.sub(r"\.html.*$", "", h) for h in hits}
        assert expected and expected <= found, (query, sorted(expected - found), hits)
        assert not log.errors, log.errors
    finally:
        page.close()


def test_the_browser_stems_korean_queries_as_the_index_does(browser, server):
    need_both()
    words = ["손실은", "수렴하는", "발산한다", "학습률을", "편향", "보정이", "차이", "높이", "Adam은", "adam"]
    page, log = open_page(browser, server, "ko/search.html")
    try:
        stems = page.evaluate("words => { const s = new Stemmer(); return words.map(w => s.stemWord(w)); }", words)
        assert stems == [optbook_i18n.korean_stem(w) for w in words]
    finally:
        page.close()


# ---- both editions show the numbers of one execution ---------------------------------------------

NUMBER = re.compile(r"^[\s\d.,:%×⁰¹²³⁴⁵⁶⁷⁸⁹⁻+\-−eE()/~≈]+$")


@pytest.mark.parametrize("chapter", sorted({p.split("/", 1)[1] for p in pages() if p.startswith("en/book/")}))
def test_both_editions_show_the_same_glued_numbers(chapter):
    need_both()
    glued = {}
    for edition in editions():
        text = (SITE / edition / chapter).read_text(encoding="utf-8")
        values = re.findall(r'<span class="pasted-text">([^<]*)</span>', text)
        glued[edition] = collections.Counter(v for v in values if NUMBER.match(v))
    assert glued["en"] == glued["ko"], (chapter, glued["en"] - glued["ko"], glued["ko"] - glued["en"])


# ---- the Korean pages' figures and verdicts are Korean ----------------------------------------------

HANGUL = re.compile(r"[\uac00-\ud7af]")


def figures_and_verdicts(name):
    """(alt texts of the article's figures, their captions, the check boxes) of a built page."""
    from html import unescape

    text = (SITE / name).read_text(encoding="utf-8")
    article = text[text.find("<article"):text.rfind("</article>")]
    alts = [unescape(alt) for tag in re.findall(r"<img\b[^>]*>", article)
            if "optbook-overlay" not in tag for alt in re.findall(r'\balt="([^"]*)"', tag)]
    captions = [re.sub(r"<[^>]+>", "", c) for c in re.findall(r"<figcaption>(.*?)</figcaption>", article, re.S)]
    checks = [re.sub(r"<[^>]+>", "", c) for c in
              re.findall(r'<div class="optbook-check"[^>]*>(.*?)</div>', article, re.S)]
    return alts, captions, checks


@pytest.mark.parametrize("chapter", sorted({p.split("/", 1)[1] for p in pages() if p.startswith("en/book/")}))
def test_korean_figures_have_korean_alt_texts_and_captions(chapter):
    need_both()
    english, korean = figures_and_verdicts(f"en/{chapter}"), figures_and_verdicts(f"ko/{chapter}")
    for kind, en, ko in zip(("alt text", "caption", "check box"), english, korean):
        assert len(en) == len(ko), (chapter, kind, len(en), len(ko))
        not_korean = [t[:70] for t in ko if not HANGUL.search(t)]
        assert not not_korean, f"ko/{chapter}: {len(not_korean)} {kind}s without Korean: {not_korean[:3]}"


def test_the_practice_page_s_check_boxes_are_korean_in_the_korean_edition():
    need_both()
    english, korean = figures_and_verdicts("en/book/practice.html")[2], figures_and_verdicts("ko/book/practice.html")[2]
    assert len(english) >= 4 and len(korean) == len(english), (len(english), len(korean))
    assert all(t.startswith("✓") for t in english + korean), english + korean
    assert all("정답" in t for t in korean) and not any(HANGUL.search(t) for t in english), korean
    # the exercises' titles (a directive's argument, from figures.po) are Korean too
    page = (SITE / "ko/book/practice.html").read_text(encoding="utf-8")
    titles = re.findall(r'<span class="caption-number">연습 [\d.]+ </span> \(([^)<]*)\)', page)
    assert len(titles) >= 6 and all(HANGUL.search(t) for t in titles), titles


@pytest.mark.parametrize("chapter", sorted({p.split("/", 1)[1] for p in pages() if p.startswith("en/book/")}))
def test_korean_pages_print_korean(chapter):
    """Printed output (stdout) with words is translated in the Korean edition (figures.po)."""
    from html import unescape

    need_both()
    blocks = {}
    for edition in editions():
        text = (SITE / edition / chapter).read_text(encoding="utf-8")
        found = re.findall(r'<div class="output stream[^"]*"><div class="highlight"><pre><span></span>(.*?)</pre>',
                           text, re.S)
        blocks[edition] = [unescape(re.sub(r"<[^>]+>", "", b)) for b in found]
    assert len(blocks["en"]) == len(blocks["ko"]), chapter
    for en, ko in zip(blocks["en"], blocks["ko"]):
        if re.search(r"\b(?!array\b)[a-z]{4,}\b", en):          # a sentence, not numbers
            assert HANGUL.search(ko), (chapter, en[:80], ko[:80])
