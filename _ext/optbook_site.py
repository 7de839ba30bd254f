"""Local Sphinx extension: keep the built pages self-contained.

The book's interactive figures carry their own static twins (lib/interactive.py), so the
ipywidgets state that myst-nb would embed in every page (a JSON copy of each widget, images
included) is dead weight without a widget renderer: drop it.
"""


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


def setup(app):
    app.connect("config-inited", launch_buttons_need_a_repository)
    # Early: html-page-context stops at the first handler that returns a template name.
    app.connect("html-page-context", drop_duplicate_scripts, priority=100)
    # Before myst-nb's own html-page-context handler (default priority 500) adds the files.
    app.connect("html-page-context", drop_widget_state, priority=400)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
