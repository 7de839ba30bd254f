"""The book's presentation strings in two languages: one catalogue, variants from one execution.

The Korean edition (issue 17) reuses the English build's execution (the cache is keyed on code
cells only), so the ONE execution draws every figure, slider twin and glued string in every
edition the build asks for, and the Sphinx build of each edition picks its own variant
(``_ext/optbook_editions.py``). Which editions: the environment.

* ``OPTBOOK_EDITIONS=en,ko`` (set by the build): English is drawn as usual (what JupyterLab and
  nbval see) and every other listed edition is added beside it, under its own mime type
  (:func:`variant_mime`: ``image/x.optbook-ko+png``, ``text/x.optbook-ko+html``,
  ``text/x.optbook-ko+plain``).
* ``OPTBOOK_LANG=ko`` (a Korean learner's kernel, e.g. in JupyterLab): figures are drawn in Korean.
* Neither: English only, and nothing here costs anything.

The strings: ``locales/<lang>/LC_MESSAGES/figures.po`` (gettext, msgid = English). A msgid with
``{placeholders}`` is a template for strings built from numbers: ``"diverged at step {step}"``
matches "diverged at step 12" and gives "12 스텝에서 발산". A placeholder's value is translated
in its turn if it has words, and kept as it is if it has none (numbers, math, the optimizers'
names: :data:`NEUTRAL`). A string with words that the catalogue does not have is an error
(:class:`MissingTranslation`, naming the string), never English left in a Korean figure.

>>> translate("diverged at step 12", "ko", catalogue=Catalogue.from_pairs(
...     [("diverged at step {step}", "{step} 스텝에서 발산")]))
'12 스텝에서 발산'
>>> translate("$w_1$", "ko", catalogue=Catalogue.from_pairs([]))
'$w_1$'
"""

import ast
import base64
import os
import re
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LANGUAGES = ("en", "ko")
"""The editions the book has; English is the source language (the msgids)."""

ENV_EDITIONS = "OPTBOOK_EDITIONS"
ENV_LANG = "OPTBOOK_LANG"
ENV_COLLECT = "OPTBOOK_I18N_COLLECT"
ENV_TIMES = "OPTBOOK_I18N_TIMES"
"""A file: the time spent drawing each variant is appended to it (one JSON a line; measurements)."""
"""A file: missing strings are appended to it (one repr a line) instead of raising (for translators)."""

NEUTRAL = frozenset("""
SGD Momentum RMSProp Adam AdamW Adagrad Nesterov Lion Muon Adafactor ScheduleFree ScheduleFreeAdamW
WSD L2 LN Pre-LN Post-LN LayerNorm Transformer MLP VLA ViT GPT LLM LoRA OpenVLA openpi RT BERT PyTorch torch optax
lr eps log exp max min sqrt ln var std rms argmin argmax sign NaN nan inf Inf mean
GB MB KB ms fp32 fp16 bf16 bfloat16 float32 float64 float16 QKV FFN
""".split())
"""Words that are the same in every edition (names, symbols, units): a string of these, numbers and
math (``$...$``) has no words to translate."""

_MATH = re.compile(r"\$[^$]*\$")
_NUMBER = re.compile(r"(?<![A-Za-z])[-+\u2212]?\d[\d,]*(?:\.\d+)?(?:[eE][-+\u2212]?\d+)?")
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9_\-']*[A-Za-z0-9]|[A-Za-z]")
_HANGUL = re.compile("[\u1100-\u11ff\u3130-\u318f\ua960-\ua97f\uac00-\ud7af\ud7b0-\ud7ff]")
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


class MissingTranslation(ValueError):
    """A presentation string with words that the edition's catalogue does not have."""


def has_words(text):
    """True if ``text`` has a word to translate (outside math, numbers and :data:`NEUTRAL`).

    >>> has_words("$\\\\beta_1$ = 0.9"), has_words("AdamW"), has_words("loss")
    (False, False, True)
    """
    words = _WORD.findall(_NUMBER.sub(" ", _MATH.sub(" ", str(text))))
    return any(w not in NEUTRAL and not (len(w) == 1) for w in words)


def catalogue_path(lang):
    """The catalogue file of ``lang``."""
    _check_lang("lang", lang)
    return ROOT / "locales" / lang / "LC_MESSAGES" / "figures.po"


class Catalogue:
    """Exact messages and templates of one language (fuzzy or empty entries do not count)."""

    def __init__(self, exact, templates):
        self.exact = dict(exact)
        # most specific first: the template with the most literal characters wins
        self.templates = sorted(templates, key=lambda t: -len(_PLACEHOLDER.sub("", t[0])))
        self.by_msgid = dict(templates)
        self._compiled = [(_template_parts(msgid), msgid, msgstr) for msgid, msgstr in self.templates]

    @classmethod
    def from_pairs(cls, pairs):
        exact, templates = {}, []
        for msgid, msgstr in pairs:
            if _PLACEHOLDER.search(msgid):
                templates.append((msgid, msgstr))
            else:
                exact[msgid] = msgstr
        return cls(exact, templates)

    @classmethod
    def load(cls, lang):
        import polib

        path = catalogue_path(lang)
        if not path.is_file():
            raise MissingTranslation(f"lang {lang!r} has no catalogue: {path} not found")
        entries = [e for e in polib.pofile(str(path)) if e.msgstr and not e.fuzzy and not e.obsolete]
        return cls.from_pairs((e.msgid, e.msgstr) for e in entries)

    def lookup(self, text, depth=0):
        """The translation of ``text``, or None. Templates are tried most specific first, and every
        way a template's placeholders can split the text is tried (a readout joins several)."""
        if text in self.exact:
            return self.exact[text]
        if text in self.by_msgid:                 # a template asked for as itself
            return self.by_msgid[text]
        if depth > 6:
            return None
        for parts, msgid, msgstr in self._compiled:
            for values in _splits(text, parts):
                done = {}
                for name, value in values.items():
                    if has_words(value):
                        value = self.lookup(value, depth + 1)
                        if value is None:
                            break
                    done[name] = value
                else:
                    return _PLACEHOLDER.sub(lambda m: done[m.group(1)], msgstr)
        return None


def _splits(text, parts):
    """Every assignment of ``text`` to a template's parts (literal, name, literal, name, ...)."""
    first = parts[0]
    if not text.startswith(first):
        return
    if len(parts) == 1:
        if text == first:
            yield {}
        return
    name, rest = parts[1], parts[2:]
    text = text[len(first):]
    literal = rest[0]
    if len(rest) == 1 and literal == "":
        if text:
            yield {name: text}
        return
    start = 1
    while True:
        at = text.find(literal, start) if literal else start
        if at < 0 or at > len(text):
            return
        for values in _splits(text[at:], rest):
            yield {name: text[:at], **values}
        if not literal:
            start += 1
            if start > len(text):
                return
        else:
            start = at + 1


def _template_parts(msgid):
    """"after {steps} the loss is {final}" -> ["after ", "steps", " the loss is ", "final", ""]."""
    parts, last = [], 0
    for m in _PLACEHOLDER.finditer(msgid):
        parts += [msgid[last:m.start()], m.group(1)]
        last = m.end()
    return parts + [msgid[last:]]


def catalogue(lang):
    """The catalogue of ``lang`` (read once per kernel)."""
    return _cached_catalogue(_check_lang("lang", lang))


@lru_cache(maxsize=None)
def _cached_catalogue(lang):
    return Catalogue.load(lang)


def _check_lang(argument, lang):
    if not isinstance(lang, str) or lang not in LANGUAGES:
        raise ValueError(f"{argument} must be one of {', '.join(LANGUAGES)}, got {lang!r}")
    return lang


def translate(text, lang, catalogue=None):
    """``text`` in ``lang``: English is returned as it is; so is a string without words."""
    _check_lang("lang", lang)
    text = str(text)
    if lang == "en" or not has_words(text):
        return text
    found = (catalogue or globals()["catalogue"](lang)).lookup(text)
    if found is None:
        lines = text.split("\n")
        if len(lines) > 1:                     # a multi-line label: line by line
            return "\n".join(translate(line, lang, catalogue) for line in lines)
        collect = os.environ.get(ENV_COLLECT)
        if collect:                            # tools: list what is missing, keep going
            with open(collect, "a", encoding="utf-8") as out:
                out.write(repr(text) + "\n")
            return text
        raise MissingTranslation(
            f"{text!r} is not in {catalogue_path(lang).relative_to(ROOT)}: add it (msgid = the "
            "English, with {placeholders} for numbers) and its translation")
    return found


def editions():
    """(primary language, the other editions) from the environment: ("en", ("ko",)) in the build."""
    primary = _check_lang(ENV_LANG, os.environ.get(ENV_LANG, "en").strip() or "en")
    listed = [s.strip() for s in os.environ.get(ENV_EDITIONS, "").split(",") if s.strip()]
    for lang in listed:
        _check_lang(ENV_EDITIONS, lang)
    return primary, tuple(lang for lang in dict.fromkeys(listed) if lang != primary)


def variant_mime(mime, lang):
    """The mime type of ``lang``'s variant of ``mime``: image/png -> image/x.optbook-ko+png."""
    _check_lang("lang", lang)
    if not isinstance(mime, str) or mime.count("/") != 1 or not all(mime.split("/")):
        raise ValueError(f"mime must be a mime type such as 'image/png', got {mime!r}")
    major, minor = mime.split("/", 1)
    return f"{major}/x.optbook-{lang}+{minor}"


# --- figures -------------------------------------------------------------------------------------
@contextmanager
def translated(fig, lang):
    """Inside the block, every text of ``fig`` is in ``lang`` (restored after).

    Yields a function that translates the texts again (for texts an ``update`` has just set).
    """
    _check_lang("lang", lang)
    saved = []
    if lang == "en":
        yield lambda: None
        return

    done = {}                                   # artist -> the text this block gave it

    def apply():
        from matplotlib.text import Text
        from matplotlib.ticker import FixedFormatter

        for artist in fig.findobj(Text):
            text = artist.get_text()
            if text and done.get(artist) != text and has_words(text):
                new = translate(text, lang)
                done[artist] = new
                if new != text:
                    saved.append((artist.set_text, text))
                    artist.set_text(new)
                    if "$" in new and _HANGUL.search(new):        # mathtext: one font for all
                        saved.append((artist.set_math_fontfamily, artist.get_math_fontfamily()))
                        saved.append((artist.set_fontfamily, artist.get_fontfamily()))
                        artist.set_math_fontfamily("custom")
                        artist.set_fontfamily(["Optbook Korean"])
        for ax in fig.axes:
            for axis in (ax.xaxis, ax.yaxis):
                for formatter in (axis.get_major_formatter(), axis.get_minor_formatter()):
                    if isinstance(formatter, FixedFormatter) and any(map(has_words, formatter.seq)):
                        saved.append((lambda seq, f=formatter: setattr(f, "seq", seq), formatter.seq))
                        formatter.seq = [translate(s, lang) for s in formatter.seq]

    try:
        apply()
        yield apply
    finally:
        for setter, value in reversed(saved):
            setter(value)


def figure_png(fig, lang, **kwargs):
    """PNG bytes of ``fig`` with its texts in ``lang`` (the inline backend's settings by default)."""
    from IPython.core.pylabtools import print_figure

    kwargs.setdefault("bbox_inches", "tight")
    with translated(fig, lang):
        return print_figure(fig, "png", **kwargs)


def _figure_variants(fig):
    primary, others = editions()
    with timed("figure"):
        return {variant_mime("image/png", lang): base64.b64encode(figure_png(fig, lang)).decode("ascii")
                for lang in others}


@contextmanager
def timed(kind):
    """Record how long a variant took to draw, when ``OPTBOOK_I18N_TIMES`` names a file."""
    path = os.environ.get(ENV_TIMES)
    if not path:
        yield
        return
    import json
    import time

    start = time.perf_counter()
    try:
        yield
    finally:
        with open(path, "a", encoding="utf-8") as out:
            out.write(json.dumps({"kind": kind, "s": time.perf_counter() - start}) + "\n")


def install(shell=None):
    """Make displayed figures and glued strings carry every edition's variant (the build sets
    ``OPTBOOK_EDITIONS``), and draw figures in ``OPTBOOK_LANG``. Called by
    :func:`lib.plots.use_house_style`; does nothing outside IPython or with English alone."""
    primary, others = editions()
    if shell is None:
        try:
            from IPython import get_ipython
        except ImportError:
            return False
        shell = get_ipython()
    if shell is None or (primary == "en" and not others):
        return False
    from matplotlib.figure import Figure

    formatters = shell.display_formatter.formatters
    if others:
        shell.display_formatter.mimebundle_formatter.for_type(Figure, _figure_variants)
    if primary != "en":
        png = formatters["image/png"]
        try:
            original = png.lookup_by_type(Figure)
        except KeyError:
            original = None
        if original is not None and not getattr(original, "_optbook", False):
            def in_primary(fig, *args, **kwargs):
                with translated(fig, primary):
                    return original(fig, *args, **kwargs)
            in_primary._optbook = True
            png.for_type(Figure, in_primary)
    _install_glue()
    return True


# --- glued strings -------------------------------------------------------------------------------
def glue_variants(value):
    """The other editions' ``text/plain`` of a glued string with words ({} for anything else)."""
    primary, others = editions()
    if not isinstance(value, str) or not has_words(value):
        return {}
    return {variant_mime("text/plain", lang): repr(translate(value, lang)) for lang in others}


def _install_glue():
    """Glued strings with words get their variants: wraps myst_nb.glue's display call."""
    try:
        import myst_nb.ext.glue as glue_module
    except ImportError:
        return
    display = glue_module.ipy_display
    if getattr(display, "_optbook", False):
        return

    def display_with_variants(bundle, raw=False, metadata=None, **kwargs):
        scrapbook = (metadata or {}).get("scrapbook")
        if raw and scrapbook is not None:
            prefix = scrapbook.get("mime_prefix", "")
            plain = bundle.get(prefix + "text/plain")
            primary, _ = editions()
            try:
                value = ast.literal_eval(plain) if isinstance(plain, str) else None
            except (ValueError, SyntaxError):
                value = None
            if isinstance(value, str):
                if primary != "en" and has_words(value):
                    bundle = {**bundle, prefix + "text/plain": repr(translate(value, primary))}
                bundle = {**bundle, **{prefix + k: v for k, v in glue_variants(value).items()}}
        return display(bundle, raw=raw, metadata=metadata, **kwargs)

    display_with_variants._optbook = True
    glue_module.ipy_display = display_with_variants
