"""Each edition shows its own figures, twins and glued strings, from the one execution (issue 17).

The chapters are executed once, with ``OPTBOOK_EDITIONS=en,ko`` in the kernels' environment
(lib/i18n.py): every displayed figure then carries its English ``image/png`` and the Korean
variant ``image/x.optbook-ko+png``, every slider twin ``text/html`` and ``text/x.optbook-ko+html``,
every glued string with words ``text/plain`` and ``text/x.optbook-ko+plain``. The Korean edition
(``-D language=ko``) reuses that execution's cache and this extension makes it show the Korean
variants; the English edition shows the English ones and never the others.

* Figures and twins: a variant is rendered like its base type (an image, raw HTML), and in an
  edition of that language it is put first in myst-nb's mime priority for the HTML builders.
* Glued strings: the edition's ``text/plain`` replaces the English one in the glue data that the
  ``{glue:text}`` roles read (also ``path::key`` across pages).
* Static figures' captions and alt texts (code-cell metadata ``mystnb.figure.caption`` and
  ``mystnb.image.alt``): gettext with execution off never sees them (no output, no figure), so
  ``make translations`` adds them to the page's catalogue (:func:`figure_messages`, run by
  ``tools/check_translations.py --extract``) and an edition of another language reads them from
  there when myst-nb asks for the cell's options. A missing one is a warning (an error with
  ``-W``), like any message Sphinx cannot find.
* Printed output (stdout) with words: the Korean edition shows it translated through the same
  catalogue as the figures (``figures.po``, :func:`lib.i18n.translate`), one printed line at a time
  (a line that starts with a space continues the one before, as ``textwrap`` indents them). A
  line the catalogue does not have is a warning naming it (an error with ``-W``).
* Exercise titles (``{exercise} Bias correction``: a directive's argument, which gettext does not
  extract) come from ``figures.po`` too, where the Korean worksheets read them.
* A cell that wrote to stderr, hidden or not, is a warning (an error with ``-W``).
* A Korean build of a chapter whose outputs have no Korean variant at all (executed without
  ``OPTBOOK_EDITIONS``) is a warning (an error with ``-W``): English figures never pass silently
  as the Korean edition's. So is an error output anywhere (a figure whose string is missing from
  the catalogue or whose glyph is missing from the fonts shows up as one: IPython's display
  formatters print the exception instead of raising it).
"""

from sphinx.util import logging

LOGGER = logging.getLogger(__name__)
PREFIX = "x.optbook-"
HTML_BUILDERS = ("html", "dirhtml", "singlehtml")


def variant_of(mime_type):
    """(base mime type, language) of a variant's type, or None: image/x.optbook-ko+png -> (image/png, ko)."""
    major, _, minor = mime_type.partition("/")
    if not minor.startswith(PREFIX) or "+" not in minor:
        return None
    lang, _, base = minor[len(PREFIX):].partition("+")
    return f"{major}/{base}", lang


def variant_mime(mime_type, lang):
    major, minor = mime_type.split("/", 1)
    return f"{major}/{PREFIX}{lang}+{minor}"


def priority_overrides(language, existing):
    """The edition's variants first: each just ahead of its base type's priority (lower wins)."""
    language = (language or "en").split("_")[0]
    if language == "en":
        return []
    overrides = []
    for builder in HTML_BUILDERS:
        base = {mime: prio for b, mime, prio in existing if b == builder and prio is not None}
        html = base.get("text/html", 40)
        overrides += [[builder, variant_mime("text/html", language), html - 1],
                      [builder, variant_mime("image/png", language), min(html, 10) - 2]]
    return overrides


FIGURE_FIELDS = {"render_figure_options": "caption", "render_image_options": "alt"}


def normalise(text):
    """A message as the catalogue holds it: the whitespace of a wrapped caption collapsed."""
    return " ".join(str(text).split())


def figure_messages(cell_metadata):
    """The translatable strings of a code cell's metadata: its figure caption and image alt text."""
    options = cell_metadata.get("mystnb") or {}
    found = []
    for group, key in (("figure", "caption"), ("image", "alt")):
        value = (options.get(group) or {}).get(key)
        if isinstance(value, str) and value.strip():
            found.append(normalise(value))
    return found


_TRANSLATORS = {}


def directive_alts(markdown):
    """The ``:alt:`` options of the directives in a markdown cell (``{glue:figure}``): Sphinx's
    gettext extracts a directive's caption but not its options."""
    import re

    return [normalise(alt) for alt in re.findall(r"^:alt:[ \t]*(\S.*)$", markdown, re.M)]


def _translator(env):
    """The gettext catalogue of the page being read (the same one Sphinx's Locale transform uses)."""
    from os import path

    from sphinx.locale import init as init_locale
    from sphinx.util.i18n import docname_to_domain

    domain = docname_to_domain(env.docname, env.config.gettext_compact)
    dirs = tuple(path.join(env.srcdir, d) for d in env.config.locale_dirs)
    key = (dirs, env.config.language, domain)
    if key not in _TRANSLATORS:           # not kept in env: the environment is pickled
        _TRANSLATORS[key] = init_locale(list(dirs), env.config.language, domain)[0]
    return _TRANSLATORS[key]


def _patch_cell_options():
    """Captions and alt texts from the page's catalogue, in an edition other than English."""
    from myst_nb.core.render import MditRenderMixin

    if getattr(MditRenderMixin.get_cell_level_config, "_optbook", False):
        return
    original = MditRenderMixin.get_cell_level_config

    def get_cell_level_config(self, field, cell_metadata, line=None):
        value = original(self, field, cell_metadata, line=line)
        key = FIGURE_FIELDS.get(field)
        env = getattr(self.document.settings, "env", None)
        if key is None or env is None or not isinstance(value, dict) or not value.get(key):
            return value
        language = (env.config.language or "en").split("_")[0]
        if language == "en":
            return value
        message = normalise(value[key])
        translated = _translator(env).gettext(message)
        if translated == message:
            LOGGER.warning(f"the {key} of a figure is not translated into {language!r} "
                           f"(run `make translations` and translate it): {message[:60]!r}",
                           type="optbook", subtype="missing_translation",
                           location=(env.docname, line))
            return value
        return dict(value, **{key: translated})

    get_cell_level_config._optbook = True
    MditRenderMixin.get_cell_level_config = get_cell_level_config


def printed_lines(text, has_words=lambda line: True):
    """The printed lines of a stdout stream: a line that starts with whitespace continues a line
    with words before it (a wrapped sentence), and is joined to it with one space; numbers alone
    (an array's rows) stay as printed."""
    lines = []
    for line in str(text).rstrip("\n").split("\n"):
        if lines and line[:1].isspace() and line.strip() and has_words(lines[-1]):
            lines[-1] = f"{lines[-1]} {line.strip()}"
        else:
            lines.append(line)
    return lines


def _i18n(srcdir):
    """The book's lib.i18n (the project root is the Sphinx source folder)."""
    import importlib
    import sys

    if srcdir not in sys.path:
        sys.path.insert(0, srcdir)
    return importlib.import_module("lib.i18n")


def translate_stdout(text, language, i18n):
    """``text`` (a stdout stream) in ``language``, and the lines the catalogue lacks."""
    if not i18n.has_words(text):
        return text, []
    translated, missing = [], []
    for line in printed_lines(text, i18n.has_words):
        try:
            translated.append(i18n.translate(line, language))
        except i18n.MissingTranslation:
            missing.append(line)
            translated.append(line)
    return "\n".join(translated) + "\n", missing


def _patch_exercise_titles():
    """An exercise's title in the edition's language (figures.po), before sphinx-exercise reads it."""
    try:
        from sphinx_exercise.directive import ExerciseDirective
    except ImportError:                               # pragma: no cover - the book pins it
        return
    if getattr(ExerciseDirective.run, "_optbook", False):
        return
    original = ExerciseDirective.run

    def run(self):
        language = (self.env.config.language or "en").split("_")[0]
        if language != "en" and self.arguments:
            i18n = _i18n(self.env.srcdir)
            try:
                self.arguments = [i18n.translate(self.arguments[0], language)]
            except i18n.MissingTranslation:
                LOGGER.warning(f"the exercise title {self.arguments[0]!r} is not in "
                               f"locales/{language}/LC_MESSAGES/figures.po",
                               type="optbook", subtype="missing_translation",
                               location=(self.env.docname, self.lineno))
        return original(self)

    run._optbook = True
    ExerciseDirective.run = run


def _patch_renderer():
    from myst_nb.core.render import MimeData, NbElementRenderer

    if getattr(NbElementRenderer.render_mime_type, "_optbook", False):
        return
    original = NbElementRenderer.render_mime_type
    original_error = NbElementRenderer.render_error

    def render_mime_type(self, data):
        variant = variant_of(data.mime_type)
        if variant is None:
            return original(self, data)
        base = variant[0]
        return original(self, MimeData(base, data.content, cell_metadata=data.cell_metadata,
                                       output_metadata=data.output_metadata,
                                       cell_index=data.cell_index, output_index=data.output_index,
                                       line=data.line))

    def render_error(self, output, cell_metadata, cell_index, source_line):
        self.logger.warning(
            f"cell {cell_index} has an error output: {output.get('ename')}: "
            f"{output.get('evalue')}", subtype="optbook_error_output", line=source_line)
        return original_error(self, output, cell_metadata, cell_index, source_line)

    original_stdout = NbElementRenderer.render_stdout

    def render_stdout(self, output, cell_metadata, cell_index, source_line):
        env = getattr(self.renderer.document.settings, "env", None)
        language = ((env.config.language if env else None) or "en").split("_")[0]
        if language != "en":
            text, missing = translate_stdout(output["text"], language, _i18n(env.srcdir))
            for line in missing:
                self.logger.warning(
                    f"cell {cell_index} printed a line that is not in the {language!r} catalogue "
                    f"(locales/{language}/LC_MESSAGES/figures.po): {line!r}",
                    subtype="optbook_missing_translation", line=source_line)
            output = dict(output, text=text)
        return original_stdout(self, output, cell_metadata, cell_index, source_line)

    NbElementRenderer.render_stdout = render_stdout
    render_mime_type._optbook = True
    NbElementRenderer.render_mime_type = render_mime_type
    NbElementRenderer.render_error = render_error


def _warn_on_stderr(notebook, logger):
    """A warning (an error in `make book`, which builds with -W) for every cell that wrote to
    stderr, hidden cells (``remove-cell``) included: a RuntimeWarning there is a computation the
    chapter did not mean, even when no reader sees it."""
    for index, cell in enumerate(notebook.cells):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream" and output.get("name") == "stderr":
                first = str(output.get("text", "")).strip().splitlines()[:1]
                logger.warning(f"cell {index} wrote to stderr: {first[0] if first else ''}",
                               subtype="optbook_stderr")


def _patch_glue(language):
    """The edition's text/plain in the glue data (the roles of this page and of other pages)."""
    import myst_nb.core.execute.base as base

    if getattr(base.extract_glue_data, "_optbook", False):
        base.extract_glue_data._optbook_language = language
        return
    original = base.extract_glue_data

    def extract_glue_data(notebook, source_map, logger):
        _warn_on_stderr(notebook, logger)
        data = original(notebook, source_map, logger)
        lang = extract_glue_data._optbook_language
        if lang != "en":
            variant = variant_mime("text/plain", lang)
            for output in data.values():
                if variant in output.get("data", {}):
                    output["data"]["text/plain"] = output["data"][variant]
        return data

    extract_glue_data._optbook = True
    extract_glue_data._optbook_language = language
    base.extract_glue_data = extract_glue_data


def _check_variants(app, doctree):
    """In a non-English edition, a page with English-only figures or twins is a warning."""
    from docutils import nodes

    language = (app.config.language or "en").split("_")[0]
    if language == "en":
        return
    for bundle in doctree.findall(lambda n: isinstance(n, nodes.container)
                                  and n.get("nb_element") == "mime_bundle"):
        types = [child.get("mime_type") for child in bundle.children]
        needs = [t for t in types if t in ("image/png", "text/html")
                 and variant_mime(t, language) not in types and "text/plain" != t]
        widget = "application/vnd.jupyter.widget-view+json" in types
        if needs and ("image/png" in needs or widget):
            LOGGER.warning(f"an output has no {language!r} variant ({', '.join(types)}): execute the "
                           f"chapters with OPTBOOK_EDITIONS=en,{language} (lib/i18n.py)",
                           type="optbook", subtype="missing_variant", location=bundle)


def config_inited(app, config):
    language = (config.language or "en").split("_")[0]
    config.nb_mime_priority_overrides = (list(config.nb_mime_priority_overrides)
                                         + priority_overrides(language, config.nb_mime_priority_overrides))
    _patch_glue(language)


def setup(app):
    _patch_renderer()
    _patch_cell_options()
    _patch_exercise_titles()
    app.connect("config-inited", config_inited, priority=900)
    app.connect("doctree-read", _check_variants)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
