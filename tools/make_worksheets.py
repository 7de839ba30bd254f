"""Make classroom worksheets from the book's exercise notebooks (``make worksheets``).

    .venv/bin/python tools/make_worksheets.py [--out DIR] [--force] [SOURCE.ipynb ...]

A worksheet source is a chapter notebook in ``book/`` whose cells carry nbgrader metadata (today:
``book/practice.ipynb``); the book page and the worksheets come from that one file. For each source
``NAME`` this writes, under ``_build/worksheets/NAME/``:

``student/NAME.ipynb``
    The student notebook: nbgrader's own preprocessors (ClearSolutions, ClearOutput, LockCells,
    ComputeChecksums, ...) remove the solutions (code between ``### BEGIN SOLUTION`` and
    ``### END SOLUTION``, and whole written-answer cells) and keep the checks.
``student/NAME.html``
    A printable, self-contained page of the student notebook (MathJax inlined, nothing loaded from
    the network), with the experiments' figures and room to write the answers.
``teacher/NAME.ipynb``
    The complete notebook, solutions and model answers included, with its nbgrader metadata: drop
    the ``teacher/`` folder into an nbgrader course as ``source/NAME/`` and run
    ``nbgrader generate_assignment NAME``.
``student/lib/``, ``teacher/lib/``
    The part of the book's library the notebook needs (the modules it imports, and theirs, with
    their data), so each folder runs on its own (numpy and matplotlib needed). The copies are
    scrubbed of worked answers: docstring examples (doctests) and any docstring or comment line
    that states one of the worksheet's glued numbers are left out. The teacher copy is the same,
    because nbgrader releases the source folder's other files to the students.

and ``_build/worksheets/index.md`` and ``index.html``, a page for teachers that lists every
worksheet, in each edition, with its exercises, its points and an estimate of the time it takes.

**The Korean edition** (issue 17) of a worksheet whose page has a catalogue
(``locales/ko/LC_MESSAGES/book/NAME.po``) goes to ``_build/worksheets/ko/NAME/`` with the same
layout: the same cells, code and numbers (the English execution's glue), every markdown paragraph,
heading and list item replaced by its msgstr (:class:`MystTranslator`: myst-parser's markdown-it
tokens and their line maps, directive bodies parsed in their turn; a block without a translation
is an error naming its cell), the worksheet's own words (exercise headings, the answer stub, the
printable page's head) from lib.i18n's ``figures.po``. Its ``lib/__init__.py`` sets the kernel's
language (``OPTBOOK_LANG``), so figures and the checks' verdicts and hints are Korean with no step
for the learner; the folder also holds the catalogue, polib (which reads it) and the Korean font.
The printable page embeds the font (``_static/fonts/optbook-korean.woff``), so Hangul renders
without a CJK font on the machine. A source without a catalogue gets no Korean edition (it says so).

Both notebooks are plain Jupyter: the book-only cells (tagged ``remove-cell`` or ``book-only``: the
hidden asserts, glue and references) are left out, and the book's MyST markup becomes Markdown (a
``{glue:text}`` number becomes its value, computed by executing the source once).

**Nothing a person changed is overwritten.** ``_build/worksheets/MANIFEST.json`` records a hash of
every file this tool wrote. A file that no longer matches its hash (a teacher edited the teacher
notebook, a student filled in theirs) is kept as it is, and the new version is written beside it
as ``NAME.new.ipynb`` (``.new.html``, ...), with a message that says so. ``--force`` overwrites.
The exit status is 1 if some file could not be written at all.

**Faults are one line, not a traceback.** A source that is not a notebook, a solution cell without
its ``### END SOLUTION``, a source cell that fails, an unreadable ``MANIFEST.json`` or a folder that
cannot be written each give one message (what is wrong, what to do) and exit status 1. Everything is
built in memory before anything is written, each file is written to a temporary name and renamed
into place, and a folder where nothing changed is not written to at all: no file is ever lost or
left half-written.
"""

import argparse
import ast
import base64
import copy
import hashlib
import html
import io
import json
import os
import re
import sys
import tempfile
import math
import time
import tokenize
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
LIB = ROOT / "lib"
DEFAULT_OUT = ROOT / "_build" / "worksheets"
MANIFEST = "MANIFEST.json"
BOOK_ONLY_TAGS = {"remove-cell", "book-only"}
GLUE_PREFIX = "application/papermill.record/"
KERNEL = "python3"
TIMEOUT = 600
FONT = ROOT / "_static" / "fonts" / "optbook-korean.woff"
FONT_FAMILY = "Optbook Korean"
HANGUL_RANGE = "U+1100-11FF, U+3130-318F, U+A960-A97F, U+AC00-D7AF, U+D7B0-D7FF"
MINUTES_PER_POINT = 5           # the time estimate: answering, per point of the mark scheme ...
WORDS_PER_MINUTE = 150          # ... plus reading the notebook's text at this speed


class WorksheetError(Exception):
    """A fault the user can fix: reported as one line (what is wrong, what to do), exit status 1."""


# ---- finding the sources ------------------------------------------------------------------------

def read_notebook(path):
    """``path`` as a notebook, or a :class:`WorksheetError` that says why it cannot be read."""
    try:
        return nbformat.read(path, as_version=4)
    except FileNotFoundError:
        raise WorksheetError(f"{path}: no such notebook") from None
    except Exception as error:                      # NotJSONError, ValidationError, UnicodeError
        reason = " ".join(str(error).split())[:160] or type(error).__name__
        raise WorksheetError(f"{path} is not a readable notebook ({type(error).__name__}: "
                             f"{reason}); restore it (e.g. `git diff {path.name}`, "
                             "`git checkout`) or open and re-save it in Jupyter") from None


def has_nbgrader_cells(path):
    nb = read_notebook(path)
    return any("nbgrader" in cell.metadata for cell in nb.cells)


def check_solution_regions(nb, path):
    """Every solution code cell has matching ``### BEGIN SOLUTION`` / ``### END SOLUTION`` lines."""
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type != "code" or not meta.get("solution"):
            continue
        name = f"cell {cell.get('id', '?')!r} (grade_id {meta.get('grade_id', '?')!r})"
        begins = len(re.findall(r"^\s*### BEGIN SOLUTION", cell.source, re.M))
        ends = len(re.findall(r"^\s*### END SOLUTION", cell.source, re.M))
        if begins != ends:
            missing = "### END SOLUTION" if begins > ends else "### BEGIN SOLUTION"
            raise WorksheetError(f"{path}: {name} lacks a {missing!r} line ({begins} BEGIN, "
                                 f"{ends} END); add it so the solution can be removed")


def find_sources():
    """The book's notebooks that carry nbgrader metadata."""
    return sorted(p for p in BOOK.glob("*.ipynb") if has_nbgrader_cells(p))


# ---- executing ----------------------------------------------------------------------------------

def execute(nb, cwd, allow_errors=False):
    """Run ``nb`` (a copy is returned) with nbclient in ``cwd``."""
    from nbclient import NotebookClient

    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")     # small matrices: one BLAS thread is faster
    from nbclient.exceptions import CellExecutionError

    nb = copy.deepcopy(nb)
    client = NotebookClient(nb, timeout=TIMEOUT, kernel_name=KERNEL, allow_errors=allow_errors,
                            resources={"metadata": {"path": str(cwd)}})
    try:
        client.execute()
    except CellExecutionError as error:
        failed = next((c for c in nb.cells if c.cell_type == "code" and any(
            o.get("output_type") == "error" for o in c.get("outputs", []))), None)
        where = f"cell {failed.get('id', '?')!r}" if failed is not None else "a cell"
        raise WorksheetError(f"{where} fails ({error.ename}: {' '.join(str(error.evalue).split())[:160]}); "
                             "run the notebook in Jupyter and fix that cell") from None
    return nb


def glue_values(executed):
    """``{name: text/plain}`` of every myst-nb ``glue`` in an executed notebook."""
    values = {}
    for cell in executed.cells:
        for output in cell.get("outputs", []):
            name = output.get("metadata", {}).get("scrapbook", {}).get("name")
            if name is None:
                continue
            data = output.get("data", {})
            text = data.get(GLUE_PREFIX + "text/plain", data.get("text/plain"))
            if text is None:
                raise ValueError(f"glue {name!r} has no text/plain representation")
            values[name] = text
    return values


# ---- MyST to plain Markdown ---------------------------------------------------------------------

class MystConverter:
    """Turn the book's MyST markup into Markdown that Jupyter renders.

    Handles what the book's exercise pages use, and refuses anything else (so a new construct is
    noticed, not silently printed raw): directives ``exercise``, ``solution``, admonitions; roles
    ``glue:text``/``glue``, ``doc``, ``ref``, ``numref``, ``cite``, ``math``; labels ``(name)=``
    and ``%`` comments.
    """

    FENCE = re.compile(r"^(?P<fence>`{3,}|:{3,})\{(?P<name>[\w:-]+)\}\s*(?P<arg>.*)$")
    OPTION = re.compile(r"^:(?P<key>[\w-]+):\s*(?P<value>.*)$")
    ROLE = re.compile(r"\{(?P<role>[\w:-]+)\}`(?P<text>[^`]*)`")
    ADMONITIONS = {"note", "tip", "hint", "important", "warning", "caution", "attention",
                   "danger", "error", "seealso"}

    def __init__(self, glue=None, bib=None, lang="en"):
        self.glue = glue or {}
        self.bib = bib
        self.lang = lang
        self.exercises = {}                          # label -> (number, title)

    def cell(self, source):
        lines = [line for line in source.split("\n")
                 if not re.match(r"^\(.+\)=\s*$", line) and not line.startswith("%")]
        return self.roles("\n".join(self.blocks(lines))).strip("\n")

    def blocks(self, lines):
        out, i = [], 0
        while i < len(lines):
            match = self.FENCE.match(lines[i])
            if not match:
                out.append(lines[i])
                i += 1
                continue
            fence, name, arg = match["fence"], match["name"], match["arg"].strip()
            i += 1
            options = {}
            while i < len(lines) and self.OPTION.match(lines[i]):
                option = self.OPTION.match(lines[i])
                options[option["key"]] = option["value"].strip()
                i += 1
            body = []
            while i < len(lines) and lines[i].strip() != fence:
                body.append(lines[i])
                i += 1
            if i == len(lines):
                raise ValueError(f"unclosed {{{name}}} directive ({fence})")
            i += 1
            out.extend(self.directive(name, arg, options, self.blocks(body)))
        return out

    def directive(self, name, arg, options, body):
        text = "\n".join(body).strip("\n")
        if name == "exercise":
            number = len(self.exercises) + 1
            self.exercises[options.get("label", f"exercise-{number}")] = (number, arg)
            heading = f"**{say('Exercise {number}', self.lang, number=number)}" + (
                f" ({arg})" if arg else "") + ".**"
            return [heading, "", text]
        if name == "solution":
            number, title = self.exercises.get(arg, (None, ""))
            heading = ("**" + (say("Model answer to exercise {number}", self.lang, number=number)
                               if number else say("Model answer", self.lang)) + ".**")
            return [heading, "", text]
        if name == "admonition" or name in self.ADMONITIONS:
            title = arg if name == "admonition" else say(name.capitalize(), self.lang)
            quoted = [f"> {line}" if line else ">" for line in text.split("\n")]
            return [f"> **{title}.**", ">"] + quoted
        if name == "bibliography":
            return []
        raise ValueError(f"the worksheet converter does not know the {{{name}}} directive")

    def roles(self, text):
        return self.ROLE.sub(self.role, text)

    def role(self, match):
        role, text = match["role"], match["text"]
        if role in ("glue:text", "glue", "glue:any"):
            return self.glued(text)
        if role in ("doc", "ref", "numref", "term"):
            target = re.match(r"^(?P<label>.*?)\s*<(?P<target>[^>]+)>$", text)
            if target:
                return target["label"]
            return f"*{doc_title(text, self.lang)}*" if role == "doc" else text
        if role == "cite":
            return self.cite(text)
        if role == "math":
            return f"${text}$"
        raise ValueError(f"the worksheet converter does not know the {{{role}}} role")

    def glued(self, text):
        from myst_nb.core.variables import format_plain_text

        key, _, fmt = text.partition(":")
        if key not in self.glue:
            raise ValueError(f"no glued value named {key!r} (the source must glue it)")
        value = self.glue[key]
        if self.lang != "en":                        # a glued phrase (not a number) is translated
            try:
                literal = ast.literal_eval(value)
            except (ValueError, SyntaxError):
                literal = None
            if isinstance(literal, str) and _has_words(literal):
                from lib import i18n

                value = repr(i18n.translate(literal, self.lang))
        return format_plain_text(value, fmt or "s")

    def cite(self, keys):
        if self.bib is None:
            from pybtex.database import parse_file

            self.bib = parse_file(str(ROOT / "references.bib"))
        parts = []
        for key in (k.strip() for k in keys.split(",")):
            entry = self.bib.entries.get(key)
            if entry is None:
                raise ValueError(f"unknown citation key {key!r}")
            names = [" ".join(p.last_names) for p in entry.persons.get("author", [])]
            authors = (names[0] if len(names) == 1 else f"{names[0]} & {names[1]}"
                       if len(names) == 2 else f"{names[0]} et al.") if names else key
            parts.append(f"{authors} {entry.fields.get('year', '')}".strip())
        return "(" + "; ".join(parts) + ")"


def doc_title(name, lang="en"):
    """The title (first heading) of the book's document ``name``, as Sphinx would show a link (in
    ``lang``: the heading's translation from that page's catalogue)."""
    if lang != "en":
        english = doc_title(name)
        messages = page_messages(BOOK / name, lang) or {}
        if english not in messages:
            raise ValueError(f"the title of {name!r} ({english!r}) has no {lang} translation in "
                             f"{page_catalogue_path(BOOK / name, lang).relative_to(ROOT)}")
        return messages[english]
    for suffix in (".ipynb", ".md"):
        path = BOOK / f"{name}{suffix}"
        if path.exists():
            text = path.read_text(encoding="utf-8")
            if suffix == ".ipynb":
                text = "\n".join(c.source for c in nbformat.reads(text, as_version=4).cells
                                 if c.cell_type == "markdown")
            heading = re.search(r"^#\s+(.+)$", text, re.M)
            if heading:
                return heading.group(1).strip()
    return name


# ---- the Korean edition: markdown translated from the page's catalogue ---------------------------

EDITIONS = ("en", "ko")
"""The editions of every worksheet: English (the source) and each language with a catalogue of the
source's page (``locales/<lang>/LC_MESSAGES/book/NAME.po``)."""
LOCALES = ROOT / "locales"
EDITION_NAMES = {"en": "English", "ko": "한국어"}
MYST_EXTENSIONS = {"colon_fence", "dollarmath"}     # Jupyter Book's, those that change block structure


def page_catalogue_path(source, lang):
    return LOCALES / lang / "LC_MESSAGES" / "book" / f"{Path(source).stem}.po"


def page_messages(source, lang):
    """``{msgid: msgstr}`` of the page catalogue of ``source`` in ``lang`` (translated, not fuzzy
    entries), or None if the page has no catalogue in that language."""
    import polib

    path = page_catalogue_path(source, lang)
    if not path.is_file():
        return None
    try:
        entries = polib.pofile(str(path))
    except (OSError, ValueError) as error:
        raise WorksheetError(f"{path} is not a readable catalogue ({' '.join(str(error).split())[:120]}); "
                             "check it with `msgfmt -c`") from None
    return {e.msgid: e.msgstr for e in entries if e.msgstr and not e.fuzzy and not e.obsolete}


def say(message, lang, **values):
    """A worksheet's own words (headings, stubs, the index page) in ``lang``: the msgid ``message``
    of ``locales/<lang>/LC_MESSAGES/figures.po`` (lib.i18n's catalogue), ``{name}`` filled in."""
    text = message
    if lang != "en":
        from lib import i18n

        catalogue = i18n.catalogue(lang)
        text = catalogue.exact.get(message) or catalogue.by_msgid.get(message)
        if not text:
            raise WorksheetError(f"{message!r} is not in {i18n.catalogue_path(lang).relative_to(ROOT)}: "
                                 "add it and its translation")
    return text.format(**values) if values else text


def markdown_parser():
    """myst-parser's own markdown-it parser, as the book's build sets it up (block structure)."""
    from markdown_it.renderer import RendererHTML
    from myst_parser.config.main import MdParserConfig
    from myst_parser.parsers.mdit import create_md_parser

    return create_md_parser(MdParserConfig(enable_extensions=MYST_EXTENSIONS), RendererHTML)


class MystTranslator:
    """Replace each paragraph, heading and list item of MyST source by its translation.

    The source is parsed with myst-parser's markdown-it parser; every ``paragraph`` and ``heading``
    token's line map locates its lines, and its inline content, lines joined by spaces, is the
    msgid (as Sphinx's gettext extraction makes it). Directive bodies (``{exercise}``,
    ``{solution}``, admonitions) are parsed in their turn; a directive's title comes from the page
    catalogue or, failing that, from lib.i18n's (``figures.po``). Math blocks and code are kept.
    A block whose msgid has no translation is an error that names it: never English left in a
    translated worksheet.
    """

    LABEL_ARGUMENTS = {"solution"}                 # their argument is a label, not a title

    def __init__(self, messages, lang, where):
        self.messages = messages
        self.lang = lang
        self.where = where
        self.used = set()
        self.md = markdown_parser()

    def lookup(self, msgid, what):
        if msgid in self.messages:
            self.used.add(msgid)
            return self.messages[msgid]
        raise WorksheetError(f"{self.where}: {what} has no {self.lang} translation: "
                             f"{textwrap_short(msgid)!r}; add it to the page's catalogue "
                             "(`make translations`, then translate the new message)")

    def text(self, source, cell_id="?"):
        lines = source.split("\n")
        edits = []
        tokens = self.md.parse(source)
        for i, token in enumerate(tokens):
            if token.map is None:
                continue
            if token.type in ("paragraph_open", "heading_open"):
                inline = tokens[i + 1]
                msgid = " ".join(inline.content.split("\n")).strip()
                if not msgid:
                    continue
                what = f"the {'heading' if token.type == 'heading_open' else 'paragraph'} of cell {cell_id!r}"
                start, end = token.map
                first = inline.content.split("\n")[0]
                at = lines[start].find(first)
                if at < 0:
                    raise WorksheetError(f"{self.where}: cannot locate {what} in its lines: "
                                         f"{textwrap_short(msgid)!r}")
                edits.append((start, end, [lines[start][:at] + self.lookup(msgid, what)]))
            elif token.type in ("fence", "colon_fence") and token.info.strip().startswith("{"):
                edits.append((*token.map, self.directive(lines, token, cell_id)))
        for start, end, new in sorted(edits, reverse=True):
            lines[start:end] = new
        return "\n".join(lines)

    def directive(self, lines, token, cell_id):
        start, end = token.map
        opening = lines[start]
        match = re.match(r"^(?P<indent>\s*)(?P<fence>`{3,}|:{3,})\{(?P<name>[\w:-]+)\}\s*(?P<arg>.*)$",
                         opening)
        if match is None:
            raise WorksheetError(f"{self.where}: cell {cell_id!r}: cannot read the directive line "
                                 f"{opening!r}")
        name, arg = match["name"], match["arg"].strip()
        if arg and name not in self.LABEL_ARGUMENTS and _has_words(arg):
            if arg in self.messages:
                arg = self.lookup(arg, f"the title of a {{{name}}} in cell {cell_id!r}")
            else:
                arg = say(arg, self.lang)
        body = token.content.split("\n")
        if body and body[-1] == "":
            body = body[:-1]
        options = []
        while body and MystConverter.OPTION.match(body[0]):
            options.append(body.pop(0))
        inner = self.text("\n".join(body), cell_id).split("\n") if body else []
        closed = end - 1 > start and lines[end - 1].strip() == match["fence"]
        indent = match["indent"]
        out = [f"{indent}{match['fence']}{{{name}}}" + (f" {arg}" if arg else "")]
        out += [indent + line if line else line for line in options + inner]
        if closed:
            out.append(lines[end - 1])
        return out


def _has_words(text):
    from lib import i18n

    return i18n.has_words(text)


def textwrap_short(text, width=100):
    return text if len(text) <= width else text[:width - 3] + "..."


def translate_source(source_nb, messages, lang, where):
    """A copy of ``source_nb`` with every markdown cell (but the book-only ones) in ``lang``; every
    message of the catalogue that these cells use is looked up, none is guessed."""
    translator = MystTranslator(messages, lang, where)
    nb = copy.deepcopy(source_nb)
    for cell in nb.cells:
        if cell.cell_type != "markdown" or BOOK_ONLY_TAGS & set(cell.metadata.get("tags", [])):
            continue
        cell.source = translator.text(cell.source, cell.get("id", "?"))
    return nb


EDITION_SETTING = '''
# This copy of the library belongs to a worksheet's {name} edition (tools/make_worksheets.py):
# its figures and the checks' verdicts and hints are in that language, with no step for the learner.
import os as _os

_os.environ.setdefault("OPTBOOK_LANG", "{lang}")
del _os

# In a kernel, matplotlib's inline backend registers its figure printer only at the first figure,
# after lib.plots.use_house_style() has asked lib.i18n to draw figures in this language; so the
# backend is started here, before that (a workaround while lib.i18n.install does not start it).
try:
    from IPython import get_ipython as _get_ipython
except ImportError:
    _get_ipython = None
if _get_ipython is not None and _get_ipython() is not None:
    import matplotlib.pyplot as _plt

    _plt.close(_plt.figure())
    del _plt
del _get_ipython
'''


# ---- the three versions -------------------------------------------------------------------------

def worksheet_notebook(source_nb, glue, lang="en"):
    """The teacher notebook: the source without its book-only cells, in plain Markdown, no outputs
    (``source_nb`` already translated for another edition than English: :func:`translate_source`)."""
    convert = MystConverter(glue, lang=lang)
    nb = copy.deepcopy(source_nb)
    cells = []
    for cell in nb.cells:
        if BOOK_ONLY_TAGS & set(cell.metadata.get("tags", [])):
            continue
        if cell.cell_type == "markdown":
            cell.source = convert.cell(cell.source)
        elif cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        cells.append(cell)
    nb.cells = cells
    return nb


def student_notebook(teacher_nb, lang="en"):
    """nbgrader's preprocessors, as ``nbgrader generate_assignment`` runs them (without its
    database): solutions cleared, hidden tests and mark schemes removed, cells locked, outputs
    cleared, checksums recorded, metadata validated."""
    from nbgrader.preprocessors import (CheckCellMetadata, ClearHiddenTests, ClearMarkScheme,
                                        ClearOutput, ClearSolutions, ComputeChecksums, LockCells)

    nb = copy.deepcopy(teacher_nb)
    resources = {}
    # The stub keeps the cell runnable: the learner's placeholders (`answer = None`) stay above
    # it, so the check below says "not answered yet" instead of a NotImplementedError.
    stub = {} if lang == "en" else {"text_stub": say("YOUR ANSWER HERE", lang)}
    steps = [ClearSolutions(code_stub={"python": "# YOUR CODE HERE"}, **stub), ClearHiddenTests(),
             ClearMarkScheme(), LockCells(), ClearOutput(), ComputeChecksums(), CheckCellMetadata()]
    for step in steps:
        nb, resources = step.preprocess(nb, resources)
    return nb


def exercise_heading(lang):
    """The start of an exercise's heading in a worksheet of ``lang`` ("**Exercise 3")."""
    word = say("Exercise {number}", lang).split("{number}")[0]
    return re.compile(r"^\*\*" + re.escape(word) + r"\d+", re.M)


def is_graded_or_answer(cell):
    meta = cell.metadata.get("nbgrader", {})
    return bool(meta.get("grade") or meta.get("solution"))


def printable_notebook(student_nb, workdir, lang="en"):
    """The student notebook executed for print: the experiments' figures and printouts kept, the
    answer and check cells left empty (their outputs would be the "not answered yet" errors)."""
    executed = execute(student_nb, workdir, allow_errors=True)
    for cell in executed.cells:
        tags = cell.metadata.setdefault("tags", [])
        if cell.cell_type == "code" and is_graded_or_answer(cell):
            cell.outputs = []
        if cell.metadata.get("nbgrader", {}).get("solution"):
            tags.append("answer")                                 # room to write
        if cell.cell_type == "markdown" and exercise_heading(lang).search(cell.source):
            tags.append("new-page")                               # one exercise per page
    for cell in executed.cells:
        if cell.cell_type == "code":
            errors = [o for o in cell.outputs if o.get("output_type") == "error"]
            if errors:
                raise RuntimeError("a locked cell of the student worksheet fails:\n"
                                   + "\n".join(errors[0].get("traceback", [])))
    return executed


PRINT_CSS = """
body { max-width: 52rem; margin: 0 auto; }
.optbook-worksheet-head { display: flex; gap: 2rem; margin: 1rem 0 1.5rem; font-size: 1rem; }
.optbook-worksheet-head span { flex: 1; border-bottom: 1px solid #555; padding-bottom: 0.2rem; }
.jp-RenderedMarkdown.celltag_answer { display: block; box-sizing: border-box; min-height: 10rem; border: 1px dashed #888;
  padding: 0.5rem 0.8rem; color: #888; font-style: italic; }
.jp-CodeCell.celltag_answer { border: 1px dashed #888; padding-bottom: 5rem; }
pre { white-space: pre-wrap; word-break: break-word; }
@media print {
  @page { margin: 14mm; }
  .celltag_new-page { break-before: page; }
  .jp-Cell, img, pre { break-inside: avoid; }
  a { color: inherit; text-decoration: none; }
}
"""

MATHJAX_CONFIG = ("window.MathJax = {tex: {inlineMath: [['$', '$'], ['\\\\(', '\\\\)']], "
                  "displayMath: [['$$', '$$'], ['\\\\[', '\\\\]']], processEscapes: true}, "
                  "svg: {fontCache: 'global'}};")

TEMPLATE = """{%- extends 'lab/index.html.j2' -%}
{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block html_head_js_mathjax -%}
<script>""" + MATHJAX_CONFIG + """</script>
<script src="data:text/javascript;base64,{{ resources.optbook_mathjax }}"></script>
{%- endblock html_head_js_mathjax -%}
{% block notebook_css %}{{ super() }}<style type="text/css">{{ resources.optbook_css }}</style>
{% endblock notebook_css %}
{%- block body_header -%}{{ super() }}
<div class="optbook-worksheet-head"><span>{{ resources.optbook_name }}</span><span>{{ resources.optbook_date }}</span></div>
{%- endblock body_header -%}
"""


def mathjax_source():
    """MathJax 3 (SVG output, fonts included) from the pinned sphinx-mathjax-offline package."""
    import importlib.util

    spec = importlib.util.find_spec("sphinx-mathjax-offline")
    if spec is None or spec.origin is None:
        raise RuntimeError("sphinx-mathjax-offline is not installed (see requirements.txt)")
    return (Path(spec.origin).parent / "static" / "mathjax" / "tex-svg-full.js").read_bytes()


def font_css():
    """``@font-face`` for the Korean subset (``_static/fonts/``), embedded as a data URI, and the
    page's text fonts with it first: its ``unicode-range`` covers Hangul only, so Latin text keeps
    JupyterLab's font and Korean text gets this one, with or without a CJK font on the machine."""
    if not FONT.is_file():
        raise WorksheetError(f"{FONT} is missing; regenerate it with tools/make_korean_font.py")
    data = base64.b64encode(FONT.read_bytes()).decode("ascii")
    stack = ("system-ui, -apple-system, blinkmacsystemfont, 'Segoe UI', helvetica, arial, "
             "sans-serif, 'Apple Color Emoji', 'Segoe UI Emoji', 'Segoe UI Symbol'")   # JupyterLab's
    return (f'@font-face {{ font-family: "{FONT_FAMILY}"; font-style: normal; font-weight: 400; '
            f'src: url(data:font/woff;base64,{data}) format("woff"); '
            f'unicode-range: {HANGUL_RANGE}; }}\n'
            f':root {{ --jp-content-font-family: "{FONT_FAMILY}", {stack}; '
            f'--jp-ui-font-family: "{FONT_FAMILY}", {stack}; '
            f'--jp-code-font-family: var(--jp-code-font-family-default), "{FONT_FAMILY}"; }}\n')


def printable_html(nb, title, lang="en"):
    """A self-contained HTML page of ``nb``: inline CSS, inline MathJax, images as data URIs (the
    Korean font embedded: its Hangul renders without a CJK font on the machine)."""
    from jinja2 import DictLoader
    from nbconvert import HTMLExporter
    from nbconvert.preprocessors import TagRemovePreprocessor

    exporter = HTMLExporter(template_name="lab", extra_loaders=[DictLoader({"printable.j2": TEMPLATE})],
                            template_file="printable.j2", exclude_input_prompt=True,
                            exclude_output_prompt=True, language_code=lang)
    exporter.register_preprocessor(TagRemovePreprocessor(remove_input_tags={"remove-input"}),
                                   enabled=True)
    nb = copy.deepcopy(nb)
    nb.metadata["title"] = title
    resources = {"optbook_mathjax": base64.b64encode(mathjax_source()).decode("ascii"),
                 "optbook_css": font_css() + PRINT_CSS,
                 "optbook_name": html.escape(say("Name:", lang)),
                 "optbook_date": html.escape(say("Date:", lang))}
    body, _ = exporter.from_notebook_node(nb, resources=resources)
    return body


def library_files():
    """The book's library, as {relative path: bytes}, without caches."""
    files = {}
    for path in sorted(LIB.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
            files[str(Path("lib") / path.relative_to(LIB))] = path.read_bytes()
    return files


def _imported_lib_modules(code, package_relative):
    """Names of the ``lib`` modules that ``code`` imports (``from lib.x import``, ``import lib.x``,
    ``from lib import x``; inside lib also ``from . import x`` and ``from .x import``), anywhere in
    the code (imports inside functions count)."""
    try:
        tree = ast.parse(code)
    except SyntaxError:                                    # IPython magics: read the rest
        tree = ast.parse("\n".join(line for line in code.splitlines()
                                    if not line.lstrip().startswith(("%", "!"))))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "lib":
                    found.add(alias.name.split(".")[1] if "." in alias.name else "__init__")
        elif isinstance(node, ast.ImportFrom):
            relative = package_relative and node.level == 1
            if node.level == 0 and node.module and node.module.split(".")[0] == "lib":
                parts = node.module.split(".")
            elif relative:
                parts = ["lib"] + (node.module.split(".") if node.module else [])
            else:
                continue
            if len(parts) > 1:
                found.add(parts[1])
            else:                                          # from lib import x / from . import x
                found.update(alias.name for alias in node.names)
    return {name for name in found if (LIB / f"{name}.py").is_file() or name == "__init__"}


def needed_library(nb):
    """The files of ``lib/`` that ``nb`` needs: ``__init__``, the modules its code cells import,
    the modules those import (transitively), and the data folder of a needed module
    (``lib/data/`` for ``lib.data``)."""
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    todo, modules = _imported_lib_modules(code, package_relative=False), set()
    if not todo:
        return []
    todo.add("__init__")
    while todo:
        name = todo.pop()
        if name in modules:
            continue
        modules.add(name)
        todo |= _imported_lib_modules((LIB / f"{name}.py").read_text(encoding="utf-8"),
                                      package_relative=True) - modules
    files = [f"lib/{name}.py" for name in sorted(modules)]
    for name in sorted(modules):
        folder = LIB / name
        if folder.is_dir():
            files += [str(Path("lib") / path.relative_to(LIB)) for path in sorted(folder.rglob("*"))
                      if path.is_file() and "__pycache__" not in path.parts]
    return files


def answer_patterns(glue):
    """Regular expressions for the worksheet's worked numbers, as text might state them: every
    glued number that is not a whole number, at 3 to 6 significant figures and in e-notation
    (fewer figures, such as "0.1", would match too much that is not an answer)."""
    patterns = set()
    for text in glue.values():
        try:
            value = float(str(text).strip().strip("'\""))
        except ValueError:
            continue
        if not math.isfinite(value) or value == 0 or float(value).is_integer():
            continue
        for figures in range(3, 7):
            for rendering in (f"{value:.{figures}g}", f"{value:.{figures - 1}e}"):
                mantissa = rendering.split("e")[0]
                if len(re.sub(r"\D", "", mantissa).strip("0")) >= 3:    # 3 figures that count
                    patterns.add(rendering)
    return [re.compile(r"(?<![\w.])" + re.escape(p) + r"(?![\w]|\.\d)") for p in sorted(patterns)]


def _doctest_lines(lines):
    """Indices of the lines of doctest examples (a ``>>>`` line up to the next blank line)."""
    drop, inside = set(), False
    for i, line in enumerate(lines):
        stripped = line.strip()
        if stripped.startswith(">>>"):
            inside = True
        elif not stripped or stripped.startswith('"""') or stripped.startswith("'''"):
            inside = False
        if inside:
            drop.add(i)
    return drop


def scrub_python(source, patterns):
    """``source`` without doctest examples and without docstring lines or comments that state a
    worked answer (one of ``patterns``); the code itself is unchanged."""
    tree = ast.parse(source)
    lines = source.splitlines(keepends=True)
    drop = set()
    for node in ast.walk(tree):
        if not isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        body = node.body
        if not (body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
                and isinstance(body[0].value.value, str)):
            continue
        first, last = body[0].lineno - 1, body[0].end_lineno - 1
        if first == last:
            continue
        inner = list(range(first + 1, last))               # lines strictly inside the quotes
        text = [lines[i] for i in inner]
        drop |= {inner[i] for i in _doctest_lines(text)}
        drop |= {i for i in inner if any(p.search(lines[i]) for p in patterns)}
    cut = {}                                               # line index -> column of a comment
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT and any(p.search(token.string) for p in patterns):
            cut[token.start[0] - 1] = token.start[1]
    out = []
    for i, line in enumerate(lines):
        if i in drop:
            continue
        if i in cut:
            kept = line[:cut[i]].rstrip()
            if not kept:
                continue
            line = kept + "\n"
        out.append(line)
    scrubbed = "".join(out)
    compile(scrubbed, "<scrubbed>", "exec")                # still valid Python
    return scrubbed


SUPPORT_FILES = {"lib/plots.py": ["_static/fonts/optbook-korean.otf", "_static/fonts/OFL.txt"]}
"""Files beside ``lib/`` that a needed module reads (paths relative to the book's root, as the
module finds them): the house style's Korean font, with its licence."""


def support_files(modules, lang):
    """``{path: bytes}`` of what the needed ``modules`` read besides themselves, for ``lang``: the
    font (:data:`SUPPORT_FILES`), and in another edition than English lib.i18n's catalogue and
    polib, which reads it (pure Python, MIT; shipped with its licence, so the folder still needs
    only Jupyter, numpy and matplotlib)."""
    files = {}
    for module, needs in SUPPORT_FILES.items():
        if module in modules:
            files.update({rel: (ROOT / rel).read_bytes() for rel in needs})
    if lang != "en" and "lib/i18n.py" in modules:
        import polib

        from lib import i18n

        files[str(i18n.catalogue_path(lang).relative_to(ROOT))] = i18n.catalogue_path(lang).read_bytes()
        origin = Path(polib.__file__)
        files["polib.py"] = origin.read_bytes()
        licences = sorted(origin.parent.glob("polib-*.dist-info/LICENSE*"))
        if licences:
            files["polib-LICENSE.txt"] = licences[0].read_bytes()
    return files


def student_library(nb, glue, lang="en"):
    """``{path: bytes}`` of the library files ``nb`` needs, scrubbed of the worked answers, and
    the files they read (:func:`support_files`). In another edition than English the copy's
    ``lib/__init__.py`` sets the kernel's language (:data:`EDITION_SETTING`)."""
    patterns = answer_patterns(glue)
    files = {}
    for rel in needed_library(nb):
        data = (ROOT / rel).read_bytes()
        if rel.endswith(".py"):
            data = scrub_python(data.decode("utf-8"), patterns).encode("utf-8")
        elif rel.endswith((".md", ".txt")):
            text = data.decode("utf-8")
            text = "".join(line for line in text.splitlines(keepends=True)
                           if not any(p.search(line) for p in patterns))
            data = text.encode("utf-8")
        if rel == "lib/__init__.py" and lang != "en":
            data += EDITION_SETTING.format(name=EDITION_NAMES[lang], lang=lang).encode("utf-8")
        files[rel] = data
    files.update(support_files(set(files), lang))
    return files


def notebook_bytes(nb):
    return (nbformat.writes(nb) + "\n").encode("utf-8")


def edition_folder(name, lang):
    """Where a worksheet's edition goes, relative to the output folder: ``NAME`` for English (as
    before there were editions), ``LANG/NAME`` for another (``ko/practice``)."""
    return name if lang == "en" else f"{lang}/{name}"


def build_worksheet(source, log=print, infos=None, editions=EDITIONS):
    """All files of one worksheet, every edition, as ``{path relative to the output folder: bytes}``.

    The source is executed once, for its glued numbers; each edition is then made from it (English
    from the source, another language from the source with its markdown translated by the page's
    catalogue, :func:`translate_source`) and its student version executed once for the printable
    page. An edition whose page has no catalogue is left out, with a message. ``infos``, a list,
    gets one dict per edition made, with what the index page lists (see :func:`worksheet_info`).
    Raises :class:`WorksheetError` for a fault in the source or in a translation."""
    source = Path(source)
    name = source.stem
    source_nb = read_notebook(source)
    check_solution_regions(source_nb, source)
    shown = source.relative_to(ROOT) if source.is_relative_to(ROOT) else source
    catalogues = {}
    for lang in editions:
        if lang != "en":
            catalogues[lang] = page_messages(source, lang)
            if catalogues[lang] is None:
                log(f"{name}: no {EDITION_NAMES.get(lang, lang)} edition (no catalogue "
                    f"{page_catalogue_path(source, lang).relative_to(ROOT)})")
    log(f"{name}: executing {shown} for its glued numbers")
    try:
        glue = glue_values(execute(source_nb, source.parent))
    except WorksheetError as error:
        raise WorksheetError(f"{shown}: {error}") from None
    files = {}
    for lang in editions:
        if lang == "en":
            edition_nb = source_nb
        elif catalogues[lang] is None:
            continue
        else:
            edition_nb = translate_source(source_nb, catalogues[lang], lang, shown)
        info = {}
        files.update(build_edition(name, shown, edition_nb, glue, lang, log, info))
        if infos is not None:
            infos.append(info)
    return files


def build_edition(name, shown, source_nb, glue, lang, log, info):
    """The files of one edition of a worksheet (see :func:`build_worksheet`)."""
    folder = edition_folder(name, lang)
    try:
        teacher = worksheet_notebook(source_nb, glue, lang)
    except ValueError as error:
        raise WorksheetError(f"{shown}: {error}") from None
    try:
        student = student_notebook(teacher, lang)
    except WorksheetError:
        raise
    except Exception as error:                       # nbgrader's own complaints about the cells
        raise WorksheetError(f"{shown}: nbgrader cannot make the student version: "
                             f"{' '.join(str(error).split())[:200]}") from None
    lib = student_library(student, glue, lang)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as workdir:
        for rel, data in lib.items():
            (Path(workdir) / rel).parent.mkdir(parents=True, exist_ok=True)
            (Path(workdir) / rel).write_bytes(data)
        log(f"{folder}: executing the student version (with the bundled lib) for the printable page")
        try:
            printable = printable_notebook(student, workdir, lang)
        except (WorksheetError, RuntimeError) as error:
            first = " ".join(str(error).split())[:200]
            raise WorksheetError(f"{shown} ({EDITION_NAMES.get(lang, lang)}): the student version "
                                 f"does not run on its own: {first} (a lib module its cells do not "
                                 "import, or a figure string without a translation?)") from None
    seconds = time.perf_counter() - started
    title = _title(teacher) or name
    page_title = say("{title} (worksheet)", lang, title=title)
    files = {f"{folder}/teacher/{name}.ipynb": notebook_bytes(teacher),
             f"{folder}/student/{name}.ipynb": notebook_bytes(student),
             f"{folder}/student/{name}.html": printable_html(printable, page_title, lang).encode("utf-8")}
    for rel, data in lib.items():
        files[f"{folder}/teacher/{rel}"] = data
        files[f"{folder}/student/{rel}"] = data
    info.update(worksheet_info(name, teacher, student, seconds, lang))
    return files


def worksheet_info(name, teacher, student, run_seconds, lang="en"):
    """What the index page says about one worksheet: its title, exercises, points and time.

    The time is an estimate, by a stated rule: reading the student notebook's text at
    :data:`WORDS_PER_MINUTE`, plus :data:`MINUTES_PER_POINT` per point of the mark scheme, plus the
    time its cells take to run (measured), rounded up to 5 minutes."""
    auto = manual = 0.0
    for cell in teacher.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade"):
            if cell.cell_type == "code" and not meta.get("solution"):
                auto += float(meta.get("points", 0))
            else:
                manual += float(meta.get("points", 0))
    text = " ".join(c.source for c in student.cells if c.cell_type == "markdown")
    words = len(re.findall(r"[^\W\d_]{2,}", text))
    exercises = len(exercise_heading(lang).findall("\n".join(c.source for c in student.cells)))
    minutes = words / WORDS_PER_MINUTE + MINUTES_PER_POINT * (auto + manual) + run_seconds / 60
    return {"name": name, "lang": lang, "folder": edition_folder(name, lang),
            "title": _title(teacher) or name, "exercises": exercises,
            "points_auto": auto, "points_manual": manual, "points": auto + manual, "words": words,
            "run_seconds": round(run_seconds, 1), "minutes": int(5 * math.ceil(minutes / 5))}


def index_pages(infos):
    """``index.md`` and ``index.html`` for teachers: one row per worksheet."""
    def points(x):
        return f"{x:g}"

    rule = (f"Time is an estimate: reading the text at {WORDS_PER_MINUTE} words a minute, "
            f"{MINUTES_PER_POINT} minutes per point of the mark scheme, and the cells' running "
            "time, rounded up to 5 minutes. Autograded points come from the check cells "
            "(`nbgrader autograde`); the others are written answers, graded by hand.")
    head = ["Worksheet", "Exercises", "Points (auto + by hand)", "Time", "Files", "Edition"]
    editions = ("Each worksheet comes in every edition the book has: English, and Korean "
                "(한국어) where the chapter is translated, under `ko/` (the text, the figures and the "
                "checks' verdicts and hints in Korean; the numbers are the English edition's). "
                "For nbgrader, set `c.ClearSolutions.text_stub` to the Korean stub of the Korean "
                "student notebook (\"" + say("YOUR ANSWER HERE", "ko") + "\") if you like it.")
    md = ["# Worksheets", "", "Made by `make worksheets` from the book's chapters that carry nbgrader "
          "cells. Hand out a `student/` folder (or print its HTML page); keep `teacher/` (the "
          "solutions, and the nbgrader source).", "", editions, "",
          "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    rows = []
    for info in infos:
        n, f = info["name"], info.get("folder", info["name"])
        lang = info.get("lang", "en")
        edition = EDITION_NAMES.get(lang, lang) + ("" if lang == "en" else " (Korean)" if lang == "ko"
                                                    else f" ({lang})")
        cells = [info["title"], str(info["exercises"]),
                 f"{points(info['points'])} ({points(info['points_auto'])} + "
                 f"{points(info['points_manual'])})", f"about {info['minutes']} min",
                 f"[student notebook]({f}/student/{n}.ipynb), [printable]({f}/student/{n}.html), "
                 f"[teacher notebook]({f}/teacher/{n}.ipynb)", edition]
        md.append("| " + " | ".join(cells) + " |")
        links = (f'<a href="{f}/student/{n}.ipynb">student notebook</a>, '
                 f'<a href="{f}/student/{n}.html">printable</a>, '
                 f'<a href="{f}/teacher/{n}.ipynb">teacher notebook</a>')
        rows.append(f'<tr lang="{lang}">' + "".join(f"<td>{html.escape(c)}</td>" for c in cells[:4])
                    + f"<td>{links}</td><td>{html.escape(edition)}</td></tr>")
    english = [i for i in infos if i.get("lang", "en") == "en"]
    total = sum(i["points"] for i in english)
    count = (f"{len(english)} worksheet(s), {points(total)} points in all"
             + (f"; {len(infos) - len(english)} of them also in Korean." if len(infos) > len(english)
                else "."))
    md += ["", count, "", rule, ""]
    face = font_css().split("\n")[0]                  # the Korean titles, without a CJK font
    page = ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Worksheets"
            f"</title><style>{face}\n"
            "body{font-family:'Optbook Korean',system-ui,sans-serif;max-width:60rem;margin:2rem auto;"
            "padding:0 1rem}table{border-collapse:collapse}td,th{border:1px solid #999;padding:"
            ".3rem .6rem;text-align:left}</style></head><body><h1>Worksheets</h1>"
            "<p>Made by <code>make worksheets</code> from the book's chapters that carry nbgrader "
            "cells. Hand out a <code>student/</code> folder (or print its HTML page); keep "
            "<code>teacher/</code> (the solutions, and the nbgrader source).</p>"
            + "<p>" + re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(editions))
            + "</p><table><thead><tr>"
            + "".join(f"<th>{h}</th>" for h in head) + "</tr></thead><tbody>" + "".join(rows)
            + f"</tbody></table><p>{html.escape(count)}</p>"
            f"<p>{html.escape(rule).replace('`nbgrader autograde`', '<code>nbgrader autograde</code>')}"
            "</p></body></html>\n")
    return {"index.md": "\n".join(md).encode("utf-8"), "index.html": page.encode("utf-8")}


def _title(nb):
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            match = re.search(r"^#\s+(.+)$", cell.source, re.M)
            if match:
                return match.group(1).strip()
    return None


# ---- writing without overwriting people's changes -----------------------------------------------

def digest(data):
    return hashlib.sha256(data).hexdigest()


def alongside(rel):
    """``a/b/name.ipynb`` -> ``a/b/name.new.ipynb``."""
    path = Path(rel)
    return str(path.with_name(path.stem + ".new" + path.suffix))


def _atomic_write(target, data):
    """Write ``data`` to ``target`` through a temporary file in the same folder and a rename, so
    ``target`` is either its old or its new self, never half-written."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        umask = os.umask(0)
        os.umask(umask)
        mode = target.stat().st_mode & 0o777 if target.exists() else 0o666 & ~umask
        os.chmod(temporary, mode)                  # mkstemp makes 0600; keep the usual mode
        os.replace(temporary, target)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def _cannot_write(path, error):
    reason = error.strerror or type(error).__name__
    return WorksheetError(f"cannot write {path} ({reason}); make the folder writable, or write "
                          "the worksheets elsewhere with --out DIR (nothing was lost)")


class GuardedWriter:
    """Writes files under ``out`` and records their hashes in ``out/MANIFEST.json``.

    A file on disk whose hash differs from the one recorded when this tool last wrote it has been
    changed by someone (or was never ours): it is kept, and the new content goes to
    :func:`alongside` instead, unless ``force``. Nothing is written where nothing changed (so a
    read-only folder of up-to-date worksheets is fine). Faults raise :class:`WorksheetError`.
    """

    def __init__(self, out, force=False, log=print):
        self.out = Path(out)
        self.force = force
        self.log = log
        self.path = self.out / MANIFEST
        self.recorded = self._read_manifest()
        self.manifest = dict(self.recorded)
        self.kept, self.refused, self.written, self.unchanged = [], [], [], []

    def _read_manifest(self):
        if not self.path.exists():
            return {}
        try:
            recorded = json.loads(self.path.read_text(encoding="utf-8"))
            if not isinstance(recorded, dict) or not all(
                    isinstance(k, str) and isinstance(v, str) for k, v in recorded.items()):
                raise ValueError("not a mapping of file names to hashes")
        except (ValueError, UnicodeDecodeError) as error:
            raise WorksheetError(
                f"{self.path} is damaged ({type(error).__name__}: {' '.join(str(error).split())[:80]}); "
                "it records which files people may have edited. Restore it, or delete it: then "
                "every existing file that differs is kept as edited, with the new version beside "
                "it") from None
        except OSError as error:
            raise WorksheetError(f"cannot read {self.path} ({error.strerror}); make it readable") \
                from None
        return recorded

    def _ours(self, rel, current):
        return self.recorded.get(rel) == current

    def _put(self, target, data):
        try:
            _atomic_write(target, data)
        except OSError as error:
            raise _cannot_write(target, error) from None

    def write(self, rel, data):
        target = self.out / rel
        new = digest(data)
        if target.exists():
            current = digest(target.read_bytes())
            if current == new:
                self.manifest[rel] = new
                self.unchanged.append(rel)
                return
            if not (self.force or self._ours(rel, current)):
                self._write_alongside(rel, data)
                return
        self._put(target, data)
        self.manifest[rel] = new
        self.written.append(rel)

    def _write_alongside(self, rel, data):
        other = alongside(rel)
        target = self.out / other
        if target.exists():
            current = digest(target.read_bytes())
            if current == digest(data):
                self.manifest[other] = current
                self.kept.append(rel)
                self.log(f"KEPT     {self.out / rel}: it was changed since it was generated, so it "
                         f"was left as it is; the new version is {target.name} beside it.")
                return
            if not self._ours(other, current):
                self.refused.append(rel)
                self.log(f"REFUSED  {self.out / rel}: it was changed since it was generated, and so "
                         f"was {target.name}; nothing written. Move your version away, or run with "
                         "--force to overwrite both.")
                return
        self._put(target, data)
        self.manifest[other] = digest(data)
        self.kept.append(rel)
        self.log(f"KEPT     {self.out / rel}: it was changed since it was generated, so it was left "
                 f"as it is; the new version is {target.name} beside it.")

    def finish(self):
        text = json.dumps(dict(sorted(self.manifest.items())), indent=1) + "\n"
        on_disk = self.path.read_bytes() if self.path.exists() else None
        if on_disk != text.encode("utf-8"):
            self._put(self.path, text.encode("utf-8"))
        return not self.refused


def write_all(files, out, force=False, log=print):
    """Write ``files`` under ``out`` through a :class:`GuardedWriter`; return the writer.

    If a file cannot be written, the manifest still records what was (so the next run knows
    those files are its own) and the error is raised."""
    writer = GuardedWriter(out, force=force, log=log)
    try:
        for rel, data in files.items():
            writer.write(rel, data)
    except WorksheetError:
        if writer.written or writer.kept:
            try:
                writer.finish()
            except WorksheetError:
                pass
        raise
    writer.finish()
    return writer


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sources", nargs="*", type=Path,
                        help="worksheet notebooks (default: every book/*.ipynb with nbgrader cells)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help=f"output folder (default: {DEFAULT_OUT.relative_to(ROOT)})")
    parser.add_argument("--force", action="store_true",
                        help="overwrite files even if someone changed them since they were generated")
    args = parser.parse_args(argv)
    try:
        return _main(args)
    except WorksheetError as error:
        print(f"make_worksheets: error: {error}", file=sys.stderr)
        return 1


def _main(args):
    sources = [s.resolve() for s in args.sources] or find_sources()
    if not sources:
        print("make_worksheets: error: no worksheet sources: no notebook in book/ has nbgrader "
              "metadata", file=sys.stderr)
        return 1
    names = [s.stem for s in sources]
    if len(set(names)) != len(names):
        raise WorksheetError("two sources have the same name (" + ", ".join(
            sorted({n for n in names if names.count(n) > 1})) + "): each worksheet is a folder "
            "named after its notebook; rename one")
    clash = sorted(set(names) & set(EDITIONS))
    if clash:
        raise WorksheetError(f"a source is named {clash[0]!r}, the folder of an edition; rename it")
    GuardedWriter(args.out)                    # a damaged manifest stops us before the long part
    files, infos = {}, []
    for source in sources:
        files.update(build_worksheet(source, infos=infos))
    files.update(index_pages(infos))
    writer = write_all(files, args.out, force=args.force)
    print(f"{len(writer.written)} written, {len(writer.unchanged)} unchanged, "
          f"{len(writer.kept)} kept (new version beside them), {len(writer.refused)} refused, "
          f"in {args.out}")
    for info in infos:
        name, folder = info["name"], args.out / info["folder"]
        print(f"  {info['folder']} ({EDITION_NAMES.get(info['lang'], info['lang'])}): hand out "
              f"{folder / 'student'} (notebook + lib/) or print "
              f"{folder / 'student' / (name + '.html')}; the answers are in {folder / 'teacher'}")
    print(f"  index for teachers: {args.out / 'index.html'} (and index.md)")
    return 0 if not writer.refused else 1


if __name__ == "__main__":
    sys.exit(main())
