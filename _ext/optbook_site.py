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


def setup(app):
    # Before myst-nb's own html-page-context handler (default priority 500) adds the files.
    app.connect("html-page-context", drop_widget_state, priority=400)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
