"""The Makefile's builds, on tiny books (issue 14, items 11 and 12).

* `make book` builds into a fresh folder: a failed build keeps the previous site in _build/html.
* It builds both editions (_build/html/en, _build/html/ko) from one execution: the Korean build
  starts no kernel, and one that would (a cache miss) fails.
* A glue role inside a translated message resolves (glue:text and glue:md, copied verbatim).
* `make book-fast` after an edit under lib/ re-executes the chapters that import lib, and only them.

Each test runs the project's own Makefile (`make -f Makefile -C tiny-book ...`) with the project's
virtual environment, on a book of one or two pages, so it takes seconds, not the book's minutes.
"""

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = ROOT / ".venv" / "bin"


def tiny_book(folder, pages, notebooks=(), config="", editions=False):
    """A book of a few pages; ``editions``: also the book's _ext/optbook_editions.py (which needs
    every printed line of a notebook in the Korean catalogue, so only the tests of it load it)."""
    shutil.copytree(ROOT / "_ext", folder / "_ext")
    (folder / "_config.yml").write_text(
        'title: "A tiny book"\n'
        "only_build_toc_files: true\n"
        'exclude_patterns: [".*", "**/.*", "_build", "_ext", "lib"]\n'
        "execute:\n  execute_notebooks: cache\n  timeout: 120\n"
        "sphinx:\n  local_extensions:\n    optbook_site: _ext\n    optbook_i18n: _ext\n"
        + ("    optbook_editions: _ext\n" if editions else "") +
        "  config:\n    nb_execution_raise_on_error: true\n" + config)
    names = list(pages) + list(notebooks)
    (folder / "_toc.yml").write_text(
        f"format: jb-book\nroot: {names[0]}\nchapters:\n" + "".join(f"  - file: {n}\n" for n in names[1:]))
    for name, text in pages.items():
        (folder / f"{name}.md").write_text(text)
    for name, cells in dict(notebooks).items():
        write_notebook(folder / f"{name}.ipynb", cells)


def write_notebook(path, cells):
    """Code cells; a cell given as ("markdown", text) is a markdown cell."""
    path.write_text(json.dumps({
        "cells": [{"cell_type": "markdown", "id": "title", "metadata": {}, "source": f"# {path.stem}"}]
                 + [{"cell_type": "markdown", "id": f"text{i}", "metadata": {}, "source": source[1]}
                    if isinstance(source, tuple) else
                    {"cell_type": "code", "id": f"code{i}", "metadata": {}, "execution_count": None,
                     "outputs": [], "source": source} for i, source in enumerate(cells)],
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
        "nbformat": 4, "nbformat_minor": 5}))


def make(folder, target):
    if not (BIN / "jupyter-book").exists():
        pytest.skip("no .venv: run `make setup`")
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}
    return subprocess.run(["make", "--no-print-directory", "-f", str(ROOT / "Makefile"), "-C", str(folder),
                           target, f"BIN={BIN}", "STAMP="], capture_output=True, text=True, env=env,
                          timeout=600)


def test_a_failed_make_book_keeps_the_previous_site(tmp_path):
    tiny_book(tmp_path, {"intro": "# Version one\n\nThe first site.\n",
                         "chapter": "# A chapter\n\nIt works.\n"})
    first = make(tmp_path, "book")
    assert first.returncode == 0, first.stdout[-2000:] + first.stderr[-2000:]
    site = tmp_path / "_build" / "html" / "en"
    assert "Version one" in (site / "intro.html").read_text()
    assert (tmp_path / "_build" / "html" / "ko" / "intro.html").exists()
    assert (tmp_path / "_build" / "html" / "index.html").exists()           # the edition chooser
    assert not (tmp_path / "_build" / "next").exists()          # swapped in and cleaned up

    # A broken edit: a cross-reference to a page that does not exist fails the build (-W).
    (tmp_path / "intro.md").write_text("# Version two\n\nSee {doc}`no-such-page`.\n")
    failed = make(tmp_path, "book")
    assert failed.returncode != 0
    assert "previous site in _build/html is kept" in failed.stdout
    assert (site / "intro.html").exists(), "the failed build deleted the previous site"
    assert "Version one" in (site / "intro.html").read_text()
    assert (site / "chapter.html").exists() and (site / "_static").is_dir()

    # Fixed again: the next build replaces the site.
    (tmp_path / "intro.md").write_text("# Version three\n\nFixed.\n")
    fixed = make(tmp_path, "book")
    assert fixed.returncode == 0, fixed.stdout[-2000:] + fixed.stderr[-2000:]
    assert "Version three" in (site / "intro.html").read_text()


GLUED = ("from IPython.display import Markdown\nfrom myst_nb import glue\nimport uuid\n"
         "glue('token', uuid.uuid4().hex, display=False)\n"
         "glue('rate_text', Markdown('3 × 10⁻⁴'), display=False)")
SENTENCE = "The token is {glue:text}`token` and the rate {glue:md}`rate_text`."
TRANSLATED = "토큰은 {glue:text}`token`이고 학습률은 {glue:md}`rate_text`이다."
CATALOGUE = ('msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n'
             f'msgid "{SENTENCE}"\nmsgstr "{TRANSLATED}"\n')
LOCALES = "    locale_dirs: [\"locales/\"]\n    gettext_compact: false\n"


def test_the_korean_edition_reuses_the_execution_and_resolves_glue_in_translations(tmp_path):
    tiny_book(tmp_path, {"intro": "# A tiny book\n"},
              notebooks={"chapter": [GLUED, ("markdown", SENTENCE)]}, config=LOCALES)
    (tmp_path / "locales" / "ko" / "LC_MESSAGES").mkdir(parents=True)
    (tmp_path / "locales" / "ko" / "LC_MESSAGES" / "chapter.po").write_text(CATALOGUE, encoding="utf-8")
    built = make(tmp_path, "book")
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    english = (tmp_path / "_build" / "html" / "en" / "chapter.html").read_text(encoding="utf-8")
    korean = (tmp_path / "_build" / "html" / "ko" / "chapter.html").read_text(encoding="utf-8")
    token = re.search(r'The token is <span class="pasted-text">([0-9a-f]{32})</span>', english).group(1)
    # the translated sentence, with both roles resolved: the same token (one execution, not two)
    assert f'토큰은 <span class="pasted-text">{token}</span>이고 학습률은 3 × 10⁻⁴이다.' in korean, korean[-3000:]
    assert "The token is" not in korean
    # the Korean build read the cache and started no kernel
    log = built.stdout + built.stderr
    korean_log = log[log.index("build_site: en edition built"):]
    assert log.count("Executing notebook") == 1 and "Executing notebook" not in korean_log, log[-3000:]


def test_a_hidden_cell_that_writes_to_stderr_fails_make_book(tmp_path):
    """A RuntimeWarning in a remove-cell cell is on no page, but it is a computation the chapter did
    not mean: the build names the cell."""
    tiny_book(tmp_path, {"intro": "# A tiny book\n"}, notebooks={"chapter": ["x = 1"]}, editions=True)
    path = tmp_path / "chapter.ipynb"
    notebook = json.loads(path.read_text())
    notebook["cells"].append({"cell_type": "code", "id": "hidden", "metadata": {"tags": ["remove-cell"]},
                              "execution_count": None, "outputs": [],
                              "source": "import numpy as np\nnp.array([0.0]) / np.array([0.0])"})
    path.write_text(json.dumps(notebook))
    failed = make(tmp_path, "book")
    log = failed.stdout + failed.stderr
    assert failed.returncode != 0, log[-2000:]
    assert "cell 2 wrote to stderr" in log and "RuntimeWarning: invalid value encountered in divide" in log, log[-3000:]

    notebook["cells"][-1]["source"] = "import numpy as np\nwith np.errstate(invalid='ignore'):\n    np.array([0.0]) / np.array([0.0])"
    path.write_text(json.dumps(notebook))
    fixed = make(tmp_path, "book")
    assert fixed.returncode == 0, (fixed.stdout + fixed.stderr)[-2000:]


def test_a_korean_build_that_would_execute_fails(tmp_path):
    tiny_book(tmp_path, {"intro": "# A tiny book\n"}, notebooks={"chapter": ["print('hello')"]})
    if not (BIN / "python").exists():
        pytest.skip("no .venv: run `make setup`")
    alone = subprocess.run([str(BIN / "python"), str(ROOT / "tools" / "build_site.py"), "--root",
                            str(tmp_path / "_build"), "--editions", "ko"], cwd=tmp_path,
                           capture_output=True, text=True, timeout=600)
    assert alone.returncode != 0
    assert "the ko edition would execute chapter" in alone.stdout + alone.stderr, alone.stderr[-2000:]
    assert "Executing notebook" not in alone.stdout + alone.stderr


def test_book_fast_reexecutes_the_chapters_that_import_lib_after_a_lib_edit(tmp_path):
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "__init__.py").write_text("VALUE = 'first-lib-value'\n")
    tiny_book(tmp_path, {"intro": "# A tiny book\n"},
              notebooks={"uses_lib": ["import lib\nprint('lib says', lib.VALUE)"],
                         "no_lib": ["import uuid\nprint('token', uuid.uuid4().hex)"]})
    site = tmp_path / "_build" / "html" / "en"
    first = make(tmp_path, "book-fast")
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    assert "first-lib-value" in (site / "uses_lib.html").read_text()
    token = (site / "no_lib.html").read_text()

    again = make(tmp_path, "book-fast")                      # nothing changed: nothing re-executed
    assert again.returncode == 0
    assert "re-executing" not in again.stdout

    (tmp_path / "lib" / "__init__.py").write_text("VALUE = 'second-lib-value'\n")
    edited = make(tmp_path, "book-fast")
    assert edited.returncode == 0, edited.stdout[-3000:] + edited.stderr[-3000:]
    assert "lib/ changed since the last build: re-executing the 1 chapters that import it" in edited.stdout
    page = (site / "uses_lib.html").read_text()
    assert "second-lib-value" in page and "first-lib-value" not in page, "book-fast served the stale page"
    assert (site / "no_lib.html").read_text() == token        # a chapter without lib is not re-run


def test_the_extension_moves_frames_out_of_the_page_and_keeps_them_exact(tmp_path):
    import base64
    import re
    import sys
    from types import SimpleNamespace

    sys.path.insert(0, str(ROOT / "_ext"))
    sys.path.insert(0, str(ROOT / "tests"))
    import optbook_site
    from test_interactive import make_figure

    page = make_figure().static_html()
    app = SimpleNamespace(outdir=str(tmp_path), builder=SimpleNamespace(format="html"),
                          config=SimpleNamespace(optbook_light_pages=True))
    context = {"body": f"<p>before</p>{page}<p>after</p>"}
    optbook_site.externalise_frames(app, "book/chapter", "page.html", context, None)
    body = context["body"]
    assert "data:image/png;base64" not in body and len(body) < len(page) / 3
    inline = json.loads(re.search(r'class="optbook-frames">(.*?)</script>', page, re.S).group(1))
    source = re.search(r'class="optbook-frames" data-key="(\w+)" data-src="\.\./_optbook/([^"]+)"', body)
    script = (tmp_path / "_optbook" / source.group(2)).read_text()
    prefix = f'(window.optbookFrames = window.optbookFrames || {{}})["{source.group(1)}"] = '
    assert script.startswith(prefix)
    assert json.loads(script[len(prefix):].rstrip().rstrip(";")) == inline
    # the background and the first frame: the same PNG bytes, now files, loaded lazily, with a size
    for cls in ("optbook-frame", "optbook-overlay"):
        data = re.search(rf'<img class="{cls}"[^>]*? src="data:image/png;base64,([^"]+)"', page).group(1)
        tag = re.search(rf'<img class="{cls}"[^>]*>', body).group(0)
        name = re.search(r'src="\.\./_optbook/([^"]+\.png)"', tag).group(1)
        assert (tmp_path / "_optbook" / name).read_bytes() == base64.b64decode(data)
        assert 'loading="lazy"' in tag and re.search(r'width="\d+" height="\d+"', tag)
