"""Local Sphinx extension: what the Korean edition (issue 17) needs from the build itself.

* **Glue roles in translated messages.** A translated paragraph is re-parsed on its own, without
  the notebook's glue data, so ``{glue:text}`key:.3f``` in a msgstr fails ("No key ... found in
  glue data for this document"); rewriting it ``path::key`` would not do for ``{glue:md}``, which
  has no such form. This extension gives each translated paragraph the glue data of its own
  notebook (:func:`parse_with_glue`): translators copy roles verbatim from the msgid, and they
  render through the same code as in the English text (same formatting, same numbers).
* **Korean search.** Sphinx has no Korean search language: its index keeps the particles and
  endings (손실은, 수렴하는, 발산한다), so a search for 손실 or 수렴 finds nothing. :class:`SearchKorean`
  strips them, in Python for the index and in the same way in JavaScript for the query.
"""

import json
import re
from pathlib import Path

from sphinx.search import SearchLanguage
from sphinx.util import logging

LOGGER = logging.getLogger(__name__)

# ---- glue roles in translated messages -------------------------------------------------------

class _KeepsRenderer(dict):
    """A document's attributes that remember the notebook renderer myst-nb removes after parsing."""

    def pop(self, key, *default):
        value = super().pop(key, *default)
        if key == "nb_renderer":
            _LAST_RENDERER[:] = [self.get("source"), value]
        return value


_LAST_RENDERER = [None, None]     # (source path, myst-nb's renderer) of the notebook parsed last


def parse_with_glue(original):
    """myst-nb's parse, which lends a translated message the glue data of its own notebook.

    Sphinx translates a document right after parsing it (its Locale transform), re-parsing each
    translated paragraph as a new document ``<source>:<line>:<translated>``; myst-nb parses that
    as plain MyST, without the notebook's renderer, where the glue roles find their data. Here
    the renderer of the notebook just parsed is kept and given to its translated paragraphs, so
    ``{glue:text}``, ``{glue:md}`` and ``{glue:}`` resolve in them exactly as in the English text.
    """
    def parse(self, inputstring, document):
        source = document.current_source or ""
        if source.endswith("<translated>"):
            kept_source, renderer = _LAST_RENDERER
            if renderer is not None and kept_source and source.startswith(kept_source + ":") \
                    and "nb_renderer" not in document:
                document.attributes["nb_renderer"] = renderer
                try:
                    return original(self, inputstring, document)
                finally:
                    document.attributes.pop("nb_renderer", None)
            return original(self, inputstring, document)
        _LAST_RENDERER[:] = [None, None]
        plain = document.attributes
        document.attributes = _KeepsRenderer(plain)
        try:
            return original(self, inputstring, document)
        finally:
            document.attributes = dict(document.attributes)

    parse.optbook_glue = True
    return parse


def lend_glue_to_translations(app, config):
    from myst_nb.sphinx_ import Parser

    if config.language and config.language != "en" and not getattr(Parser.parse, "optbook_glue", False):
        Parser.parse = parse_with_glue(Parser.parse)


# ---- the theme's strings -------------------------------------------------------------------------

# pydata-sphinx-theme has no Korean catalogue, and myst-nb's code-cell toggles are a config value:
# the strings a reader of the Korean edition sees (or hears, as labels) in English otherwise.
KOREAN_THEME = {
    "Back to top": "맨 위로",
    "Skip to main content": "본문으로 건너뛰기",
    "On this page": "이 페이지의 내용",
    "Toggle primary sidebar": "왼쪽 사이드바 열기/닫기",
    "Toggle secondary sidebar": "오른쪽 사이드바 열기/닫기",
    "previous page": "이전 페이지",
    "next page": "다음 페이지",
    "Light": "밝게",
    "Dark": "어둡게",
    "System Settings": "시스템 설정",
    "Color mode": "색상 모드",
    "Link to this heading": "이 제목으로 가는 링크",
    "Link to this image": "이 그림으로 가는 링크",
}
KOREAN_CODE_PROMPTS = {"nb_code_prompt_show": "셀 내용 보기", "nb_code_prompt_hide": "셀 내용 숨기기"}


class _KoreanThemeStrings:
    """A gettext fallback: asked only for the messages that no other catalogue translates."""

    def gettext(self, message):
        return KOREAN_THEME.get(message, message)

    def ngettext(self, singular, plural, n):
        return self.gettext(singular if n == 1 else plural)

    def pgettext(self, context, message):
        return self.gettext(message)

    def npgettext(self, context, singular, plural, n):
        return self.ngettext(singular, plural, n)


def korean_theme_strings(app):
    if app.config.language == "ko":
        app.translator.add_fallback(_KoreanThemeStrings())


def korean_code_prompts(app, config):
    """Before myst-nb reads its configuration (at builder-inited)."""
    if config.language == "ko":
        for name, value in KOREAN_CODE_PROMPTS.items():
            setattr(config, name, value)


# ---- the table of contents' part captions ------------------------------------------------------

from sphinx.transforms import SphinxTransform


class TranslateTocCaptions(SphinxTransform):
    """sphinx-external-toc adds the root page's toctrees (the sidebar's part captions, "The update
    rules", ...) after Sphinx's Locale transform has translated the page: translate their
    captions from the page's own catalogue, where ``make translations`` put them."""

    default_priority = 101           # after sphinx_external_toc's InsertToctrees (100)

    def apply(self, **kwargs):
        if not self.config.language or self.config.language == "en":
            return
        from sphinx import addnodes
        from sphinx.locale import init as init_locale
        from sphinx.util.i18n import docname_to_domain

        toctrees = [node for node in self.document.findall(addnodes.toctree) if node.get("caption")]
        if not toctrees:
            return
        domain = docname_to_domain(self.env.docname, self.config.gettext_compact)
        dirs = [str(Path(self.env.srcdir) / d) for d in self.config.locale_dirs]
        catalogue, found = init_locale(dirs, self.config.language, domain)
        if found:
            for node in toctrees:
                node["caption"] = catalogue.gettext(node["caption"])


# ---- Korean search ---------------------------------------------------------------------------

# Particles (조사), the copula and the endings of 하다/되다 verbs, longest first. A word loses the
# longest one it ends with, when at least two syllables stay: 손실은 -> 손실, 수렴하는 -> 수렴,
# 발산한다 -> 발산, 학습률을 -> 학습률; 차이 and 높이 stay whole.
KOREAN_SUFFIXES = sorted(set("""
    은 는 이 가 을 를 의 에 와 과 도 로 만 께 나 란 야 며 고
    으로 에서 에게 한테 까지 부터 보다 처럼 만큼 마다 이나 이란 이며 이고 라는 이라는 이다 였다 이었다
    로는 으로는 에서는 에는 와는 과는 로도 으로도 에도 에서도 만을 만이 이라고 라고 이라 이면 라면 으로서 로서
    으로써 로써 에서의 와의 과의 으로의 로의 에의 이지만 지만 이므로 므로 이어서 이어야
    하다 한다 했다 하는 하고 하며 하면 하여 해서 해야 하지 하게 할 한 함 해 합니다 된다 됐다 되는 되고 되며
    되면 되어 돼서 되지 되게 될 된 됨 된다는 한다는 하는데 하므로 하였다 하기 하기에 하도록 하지만 시킨다 시키는
    시키고 시킨 시켜 적 적인 적으로 적이다 들 들은 들이 들을 들의 들에 들과 들도 들로
""".split()), key=len, reverse=True)
HANGUL = re.compile(r"[\uac00-\ud7a3]")


def korean_stem(word):
    """``word`` without its particle or verb ending (words without Hangul are left alone)."""
    if not HANGUL.search(word):
        return word
    for suffix in KOREAN_SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 2:
            return word[: -len(suffix)]
    return word


JS_STEMMER = """
/**
 * Korean: a word loses the longest particle or verb ending it ends with, when at least two
 * syllables stay (the same rule as _ext/optbook_i18n.py's korean_stem, which built the index).
 */
var Stemmer = function() {
  var suffixes = %s;
  var hangul = /[\\uac00-\\ud7a3]/;
  this.stemWord = function(w) {
    if (!hangul.test(w)) return w;
    for (var i = 0; i < suffixes.length; i++) {
      var s = suffixes[i];
      if (w.length - s.length >= 2 && w.slice(-s.length) === s) return w.slice(0, -s.length);
    }
    return w;
  };
};
"""


class SearchKorean(SearchLanguage):
    lang = "ko"
    language_name = "Korean"
    stopwords = set()
    js_stemmer_code = JS_STEMMER % json.dumps(KOREAN_SUFFIXES, ensure_ascii=False)

    def stem(self, word):
        return korean_stem(word.lower())


# ---- the second edition executes nothing -----------------------------------------------------

def forbid_execution(app, env, docnames):
    """With ``optbook_forbid_execution`` (the Korean build), every notebook about to be read must
    be in the execution cache already: a miss would start a kernel, and the edition would show
    the numbers of another execution than the English one. Checked before any is read."""
    if not app.config.optbook_forbid_execution:
        return
    import nbformat
    from jupyter_cache import get_cache

    cache = get_cache(app.config.nb_execution_cache_path or str(Path(app.outdir).parent / ".jupyter_cache"))
    missing = []
    for docname in sorted(docnames):
        path = Path(env.doc2path(docname))
        if path.suffix != ".ipynb":
            continue
        try:
            cache.match_cache_notebook(nbformat.read(str(path), as_version=4))
        except KeyError:
            missing.append(docname)
    if missing:
        from sphinx.errors import ExtensionError
        raise ExtensionError(
            f"optbook: the {app.config.language} edition would execute {', '.join(missing)}: the "
            f"execution cache {app.config.nb_execution_cache_path!r} has no entry for their code "
            "cells (build the English edition first, with the same notebooks)")


def distinct_backrefs(app, doctree, docname):
    """A citation's back-references, each once.

    A translated paragraph is parsed again from its msgstr, and sphinxcontrib-bibtex then records
    its citation references more than once under the same id: the Korean bibliography listed
    "(1, 2, ..., 18)" where the English has 6 (and the list overflowed a phone's width). Each
    back-reference is one place in the text, so a repeat adds nothing.
    """
    from docutils import nodes
    for citation in doctree.findall(nodes.citation):
        citation["backrefs"] = list(dict.fromkeys(citation["backrefs"]))


def setup(app):
    app.connect("doctree-resolved", distinct_backrefs)
    app.add_config_value("optbook_forbid_execution", False, "env")
    app.connect("env-before-read-docs", forbid_execution)
    app.add_search_language(SearchKorean)
    app.add_transform(TranslateTocCaptions)
    app.connect("config-inited", lend_glue_to_translations)
    app.connect("config-inited", korean_code_prompts)
    app.connect("builder-inited", korean_theme_strings)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
