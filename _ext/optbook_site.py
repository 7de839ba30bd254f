"""Local Sphinx extension: keep the built pages self-contained, light, and up to date.

* The book's interactive figures carry their own static twins (lib/interactive.py), so the
  ipywidgets state that myst-nb would embed in every page (a JSON copy of each widget, images
  included) is dead weight without a widget renderer: drop it.
* A twin's frames (all slider combinations) are most of a chapter's weight. They leave the page
  for small files of the site itself (``_optbook/``): the first frame and the background become
  lazily loaded images, the other frames a script that ``_static/interactive.js`` loads when the
  figure nears the viewport. First paint no longer waits for them, and the search, which fetches
  whole pages for its snippets, no longer downloads them. Nothing comes from another host.
* An edit under ``lib/`` changes what every chapter that imports it computes, but the execution
  cache is keyed on the notebooks' code cells only. The extension keeps a hash of ``lib/`` in the
  build environment; when it changes, the chapters that import ``lib`` are re-read and their cache
  entries dropped, so an incremental build (``make book-fast``) re-executes exactly them.
"""

import hashlib
import json
import re
import struct
from pathlib import Path

from sphinx.util import logging

LOGGER = logging.getLogger(__name__)


def drop_widget_state(app, pagename, templatename, context, doctree):
    metadata = getattr(app.env, "nb_metadata", {})
    js_files = metadata.get(pagename, {}).get("js_files", {})
    for key in [k for k in js_files if k == "ipywidgets_state" or k.startswith("ipywidgets_")]:
        del js_files[key]


def drop_duplicate_scripts(app, pagename, templatename, context, doctree):
    """sphinx-thebe's inline configuration script is added twice under jupyter-book 1.0, which
    makes the browser log "Identifier 'THEBE_JS_URL' has already been declared": keep one."""
    seen, kept = set(), []
    for script in context.get("script_files", []):
        attributes = getattr(script, "attributes", {})
        key = (getattr(script, "filename", str(script)) or None,   # None and "" both mean inline
               repr(sorted((k, v) for k, v in attributes.items() if k != "priority")))
        if key not in seen:
            seen.add(key)
            kept.append(script)
    context["script_files"][:] = kept   # in place: it is the builder's own list, which later handlers extend


def launch_buttons_need_a_repository(app, config):
    """Binder and Colab links are made from the repository URL; until _config.yml names one
    (see README), show no launch buttons instead of failing the build."""
    options = config.html_theme_options
    if not options.get("repository_url"):
        options.pop("launch_buttons", None)


# ---- lighter pages: frames out of the HTML ----------------------------------------------------

FRAMES = re.compile(r'<script type="application/json" class="optbook-frames">(.*?)</script>', re.S)
TWIN_IMAGE = re.compile(r'(<img class="optbook-(?:frame|overlay)"[^>]*?) src="data:image/png;base64,([^"]+)"')
ASSETS = "_optbook"


def _write_once(folder, name, data):
    path = folder / name
    if not path.exists():                      # names are content hashes: same name, same bytes
        folder.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return name


def externalise_frames(app, pagename, templatename, context, doctree):
    """Move each twin's frames and images out of the page into content-named files of the site."""
    body = context.get("body") or ""
    if not app.config.optbook_light_pages or "optbook-frames" not in body or app.builder.format != "html":
        return
    import base64

    folder = Path(app.outdir) / ASSETS
    prefix = "../" * pagename.count("/") + ASSETS + "/"

    def frames(match):
        text = match.group(1)
        json.loads(text)                       # fail the build here, not in a reader's browser
        key = hashlib.sha256(text.encode()).hexdigest()[:20]
        script = f'(window.optbookFrames = window.optbookFrames || {{}})["{key}"] = {text};\n'
        name = _write_once(folder, f"frames-{key}.js", script.encode())
        return (f'<script type="application/json" class="optbook-frames" data-key="{key}" '
                f'data-src="{prefix}{name}"></script>')

    def image(match):
        data = base64.b64decode(match.group(2))
        width, height = struct.unpack(">II", data[16:24])     # PNG IHDR
        name = _write_once(folder, hashlib.sha256(data).hexdigest()[:20] + ".png", data)
        return (f'{match.group(1)} width="{width}" height="{height}" loading="lazy" decoding="async" '
                f'src="{prefix}{name}"')

    context["body"] = TWIN_IMAGE.sub(image, FRAMES.sub(frames, body))


DEFERRABLE = ("interactive.js", "searchtools.js", "language_data.js", "searchindex.js",
              # the Korean edition's Sphinx strings: they call doctools.js's Documentation, deferred
              "translations.js",
              # the theme's and extensions' head scripts: each starts its work on DOMContentLoaded
              # (or checks document.readyState), and the inline configuration scripts between them
              # only set variables that they read then; deferred, they keep their order.
              "doctools.js", "sphinx_highlight.js", "clipboard.min.js", "copybutton.js",
              "sphinx-book-theme.js", "togglebutton.js", "design-tabs.js")


def defer_book_scripts(app, pagename, templatename, context, doctree):
    """Scripts that touch nothing before the page is parsed must not hold up its first paint: the
    twins' script, and the search's (every page loads the search index, 58 KB, for the search
    field). Deferred scripts still run in order, before DOMContentLoaded."""
    if not app.config.optbook_light_pages:
        return
    for script in context.get("script_files", []):
        filename = str(getattr(script, "filename", "") or "")
        if filename.endswith(DEFERRABLE) and "async" not in script.attributes:
            script.attributes.setdefault("defer", "defer")


FONTAWESOME_JS = re.compile(r'[ \t]*<script defer src="[./]*_static/scripts/fontawesome\.js[^"]*"></script>\n?')


# The theme's templates hard-code the search scripts in every page's head (without the attributes
# that defer_book_scripts could set): defer them too. Deferred scripts keep their order.
SEARCH_SCRIPT = re.compile(r'<script src="((?:\.\./)*(?:_static/searchtools\.js|_static/language_data\.js|searchindex\.js)[^"]*)"></script>')
PAGE_IMAGE = re.compile(r'<img (?![^>]*\bloading=)([^>]*?)src="((?:\.\./)*)_images/([^"]+\.png)"')


def _png_size(path):
    with open(path, "rb") as f:
        head = f.read(24)
    return struct.unpack(">II", head[16:24]) if head[:8] == b"\x89PNG\r\n\x1a\n" else None


def finish_pages(app, exception):
    """Two fixes to the written pages (all of them: idempotent, so incremental builds are right).

    * The theme loads Font Awesome twice: as CSS with web fonts (inside its own stylesheet) and as a
      1.5 MB script that swaps every icon for an SVG. The CSS alone draws the same icons; the script
      was a third of a chapter's first load and of every search. Its template hard-codes the tag.
    * Static figures load lazily, with their size given, so the page does not jump as they arrive.
    * The search scripts that the theme's templates write into every head (117 KB with the index)
      are needed only by the search page: search-as-you-type is off (``search_as_you_type`` is
      false in every page's options), and the search field sends the reader to ``search.html``.
      Other pages no longer load them; the search page loads them deferred.
    """
    if exception is not None or app.builder.format != "html" or not app.config.optbook_light_pages:
        return
    images = Path(app.outdir) / "_images"

    def lazy(match):
        size = _png_size(images / match.group(3)) if (images / match.group(3)).exists() else None
        dims = f'width="{size[0]}" height="{size[1]}" ' if size else ""
        return (f'<img {match.group(1)}{dims}loading="lazy" decoding="async" '
                f'src="{match.group(2)}_images/{match.group(3)}"')

    for path in Path(app.outdir).rglob("*.html"):
        if "_static" in path.relative_to(app.outdir).parts:
            continue
        text = path.read_text(encoding="utf-8")
        new = PAGE_IMAGE.sub(lazy, FONTAWESOME_JS.sub("", text))
        if path.relative_to(app.outdir).as_posix() == "search.html":
            new = SEARCH_SCRIPT.sub(r'<script defer src="\1"></script>', new)
        else:
            new = SEARCH_SCRIPT.sub("", new)
        if new != text:
            path.write_text(new, encoding="utf-8")


MATHJAX_AFTER_FIRST_PAINT = """(function () {
  function load() {
    var script = document.createElement("script");
    script.src = %s;
    script.async = true;
    document.head.appendChild(script);
  }
  function later() { requestAnimationFrame(function () { setTimeout(load, 0); }); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", later);
  else later();
})();"""


def mathjax_after_first_paint(app, pagename, templatename, context, doctree):
    """MathJax (1.2 MB) downloads after the text has been painted, not in competition with the
    stylesheets that the first paint waits for: on a slow link the words come first, the typeset
    equations a moment later. Runs after sphinx.ext.mathjax has added its script to the page."""
    if not app.config.optbook_light_pages or app.builder.format != "html":
        return
    scripts = context.get("script_files", [])
    for index, script in enumerate(scripts):
        filename = str(getattr(script, "filename", "") or "")
        if filename and filename in (app.config.mathjax_path, "_static/" + app.config.mathjax_path):
            del scripts[index]
            if app.config.optbook_mathjax_url and "://" not in filename:   # one MathJax for the editions
                url = json.dumps("../" * pagename.count("/") + app.config.optbook_mathjax_url)
            else:
                url = json.dumps(context["pathto"](filename, 1))
            app.builder.add_js_file("", body=MATHJAX_AFTER_FIRST_PAINT % url)
            break


# ---- lighter pages: only the CSS rules the site can use -------------------------------------------

UNPURGED = "optbook-unpurged"
PURGE_SKIP = ("vendor", "mathjax", UNPURGED, "fonts")
PURGE_MARK = "/* optbook: rules that no page of this site can match are left out; the theme's file is in _static/optbook-unpurged/ */\n"
_FUNCTIONAL_PSEUDO = re.compile(r":[\w-]+\((?:[^()]|\([^()]*\))*\)")
_ATTRIBUTE_OR_STRING = re.compile(r"\[[^\]]*\]|\"[^\"]*\"|'[^']*'")
_CLASS_OR_ID = re.compile(r"[.#](-?[A-Za-z_][A-Za-z0-9_-]*)")


def _site_tokens(outdir):
    """Every word-like token of every page and every script of the site: the class names and ids
    any page has or any script can set (as a literal string), and a great many more."""
    tokens = set()
    for path in Path(outdir).rglob("*"):
        parts = path.relative_to(outdir).parts
        if path.suffix not in (".html", ".js") or parts[0] in (ASSETS,) or "mathjax" in parts:
            continue
        tokens.update(re.findall(r"[A-Za-z0-9_-]+", path.read_text(encoding="utf-8", errors="ignore")))
    return tokens


def selector_may_match(selector, tokens):
    """False only when every alternative of ``selector`` needs a class or id that no page or script
    of the site contains. Conservative: the insides of functional pseudo-classes (``:not(.a)``,
    ``:is(.a, .b)``, ``:has(...)``) and attribute selectors are ignored, and a selector with an
    escaped character is always kept."""
    if "\\" in selector:
        return True
    for alternative in _split_selector_list(selector):
        bare = _FUNCTIONAL_PSEUDO.sub("", _ATTRIBUTE_OR_STRING.sub("", alternative))
        if all(name in tokens for name in _CLASS_OR_ID.findall(bare)):
            return True
    return False


def _split_selector_list(selector):
    parts, depth, start = [], 0, 0
    for i, char in enumerate(selector):
        if char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1
        if char == "," and depth == 0:
            parts.append(selector[start:i])
            start = i + 1
    return parts + [selector[start:]]


def purge_rules(css, tokens):
    """``css`` without the style rules that no element of the site can match (at-rules other than
    @media, @supports, @layer and @container, such as @font-face and @keyframes, are all kept)."""
    import tinycss2

    def prune(rules):
        kept = []
        for rule in rules:
            if rule.type == "qualified-rule":
                if selector_may_match(tinycss2.serialize(rule.prelude), tokens):
                    kept.append(tinycss2.serialize([rule]))
            elif rule.type == "at-rule" and rule.content is not None and rule.lower_at_keyword in (
                    "media", "supports", "layer", "container"):
                inner = prune(tinycss2.parse_blocks_contents(rule.content, skip_comments=True,
                                                             skip_whitespace=True))
                if inner:
                    kept.append(f"@{rule.at_keyword}{tinycss2.serialize(rule.prelude)}{{{''.join(inner)}}}")
            elif rule.type not in ("comment", "whitespace"):
                kept.append(tinycss2.serialize([rule]))
        return kept

    return "\n".join(prune(tinycss2.parse_stylesheet(css, skip_comments=True, skip_whitespace=True)))


def purge_stylesheets(app, exception):
    """The theme's stylesheets hold up every first paint: 590 KB, of which the site uses a quarter
    (most is Bootstrap's utility classes and the ipywidgets styles, for widgets the pages never
    render). Each theme and extension stylesheet under ``_static`` is rewritten with only the rules
    that some page or script of the site can match (:func:`selector_may_match`); the original is
    kept in ``_static/optbook-unpurged/``, where ``tests/site/test_purged_css.py`` loads it to check
    that every element of the pages is styled exactly as before. The project's own stylesheets
    (``_static/`` beside ``_config.yml``) are left as they are. Sphinx's basic.css, which the theme
    reaches through an @import (one more round trip before the first paint), is inlined."""
    if exception is not None or app.builder.format != "html" or not app.config.optbook_light_pages:
        return
    static = Path(app.outdir) / "_static"
    own = {p.name for p in (Path(app.confdir) / "_static").glob("*.css")}
    tokens = _site_tokens(app.outdir)
    for path in sorted(static.rglob("*.css")):
        relative = path.relative_to(static)
        if relative.parts[0] in PURGE_SKIP or (len(relative.parts) == 1 and path.name in own):
            continue
        original = static / UNPURGED / relative
        text = path.read_text(encoding="utf-8")
        if text.startswith(PURGE_MARK):        # purged by an earlier build that Sphinx did not recopy
            text = original.read_text(encoding="utf-8")
        else:
            original.parent.mkdir(parents=True, exist_ok=True)
            original.write_text(text, encoding="utf-8")
        path.write_text(PURGE_MARK + purge_rules(text, tokens) + "\n", encoding="utf-8")
    theme, basic = static / "styles" / "theme.css", static / "basic.css"
    if theme.exists() and basic.exists() and '@import "../basic.css";' in theme.read_text(encoding="utf-8"):
        inlined = re.sub(r"url\((?![\"']?(?:data:|/|https?:))([\"']?)", r"url(\1../", basic.read_text(encoding="utf-8"))
        theme.write_text(theme.read_text(encoding="utf-8").replace('@import "../basic.css";', inlined),
                         encoding="utf-8")


# ---- book-fast after a lib/ edit -----------------------------------------------------------------

IMPORTS_LIB = re.compile(r"^\s*(?:import\s+lib\b|from\s+lib\b)", re.M)


def _watched_hash(app):
    digest = hashlib.sha256()
    root = Path(app.confdir) / app.config.optbook_watch
    for path in sorted(root.rglob("*.py")) if root.is_dir() else []:
        if "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _imports_lib(path):
    try:
        cells = json.loads(path.read_text(encoding="utf-8")).get("cells", [])
    except (OSError, ValueError):
        return False
    return any(cell.get("cell_type") == "code" and IMPORTS_LIB.search("".join(cell.get("source", "")))
               for cell in cells)


def _drop_cache_entries(app, paths):
    cache_path = getattr(getattr(app.env, "mystnb_config", None), "execution_cache_path", "")
    if not cache_path or not Path(cache_path).exists():
        return
    import nbformat
    from jupyter_cache import get_cache

    cache = get_cache(cache_path)
    for path in paths:
        try:
            record = cache.match_cache_notebook(nbformat.read(str(path), as_version=4))
        except (KeyError, ValueError, OSError):
            continue
        cache.remove_cache(record.pk)


def reexecute_after_lib_edit(app, env, added, changed, removed):
    """Chapters that import lib are out of date when lib/ changed since the last build."""
    current = _watched_hash(app)
    previous = getattr(env, "optbook_lib_hash", None)
    env.optbook_lib_hash = current
    if previous is None or previous == current:
        return []
    stale = []
    for docname in sorted(env.found_docs - set(removed)):
        path = Path(env.doc2path(docname))
        if path.suffix == ".ipynb" and _imports_lib(path):
            stale.append((docname, path))
    if getattr(app.config, "optbook_forbid_execution", False):
        # a second edition (tools/build_site.py): the first one has just re-executed them; re-read
        # their new outputs from the cache
        LOGGER.info(f"optbook: {app.config.optbook_watch}/ changed since the last build: re-reading "
                    f"the {len(stale)} chapters that import it from the cache", color="yellow")
    else:
        _drop_cache_entries(app, [path for _, path in stale])
        LOGGER.info(f"optbook: {app.config.optbook_watch}/ changed since the last build: re-executing "
                    f"the {len(stale)} chapters that import it", color="yellow")
    return [docname for docname, _ in stale if docname not in added and docname not in changed]


def setup(app):
    app.add_config_value("optbook_watch", "lib", "env")
    app.add_config_value("optbook_light_pages", True, "html")   # False: the pages as before issue 14 (for make bench)
    # MathJax's URL relative to the root of the edition (tools/build_site.py: "../_mathjax/...")
    app.add_config_value("optbook_mathjax_url", "", "html")
    app.connect("env-get-outdated", reexecute_after_lib_edit)
    app.connect("html-page-context", externalise_frames)
    app.connect("html-page-context", defer_book_scripts)
    app.connect("build-finished", finish_pages)
    app.connect("build-finished", purge_stylesheets, priority=900)   # after the theme rewrites pygments.css
    app.connect("html-page-context", mathjax_after_first_paint, priority=900)
    app.connect("config-inited", launch_buttons_need_a_repository)
    # Early: html-page-context stops at the first handler that returns a template name.
    app.connect("html-page-context", drop_duplicate_scripts, priority=100)
    # Before myst-nb's own html-page-context handler (default priority 500) adds the files.
    app.connect("html-page-context", drop_widget_state, priority=400)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
