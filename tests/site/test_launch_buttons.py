"""Launch buttons follow the repository setting of _config.yml.

The book's own _config.yml leaves the repository URL empty until the book is published (no made-up
URL), so this builds a one-chapter copy of the book with a URL set and checks the Binder and Colab
links and the download button that every chapter then gets.
"""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
REPO = "https://github.com/owner-for-this-test/optimizers-in-motion"


def test_binder_and_colab_buttons_point_at_the_configured_repository(tmp_path):
    for name in ("_ext", "_static", "_templates"):
        shutil.copytree(ROOT / name, tmp_path / name)
    shutil.copy(ROOT / "references.bib", tmp_path)
    (tmp_path / "book").mkdir()
    (tmp_path / "book" / "intro.md").write_text("# A one-chapter copy of the book\n")
    notebook = {"cells": [{"cell_type": "markdown", "metadata": {}, "source": "# Tiny chapter"},
                          {"cell_type": "code", "metadata": {}, "execution_count": None,
                           "outputs": [], "source": "1 + 1"}],
                "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                            "language": "python"}},
                "nbformat": 4, "nbformat_minor": 5}
    (tmp_path / "book" / "tiny.ipynb").write_text(json.dumps(notebook))
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    config["repository"]["url"] = REPO
    config["execute"]["execute_notebooks"] = "off"
    (tmp_path / "_config.yml").write_text(yaml.safe_dump(config))
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: book/intro\nchapters:\n- file: book/tiny\n")
    jupyter_book = Path(sys.executable).parent / "jupyter-book"
    subprocess.run([str(jupyter_book), "build", str(tmp_path), "--warningiserror", "--quiet"],
                   check=True, capture_output=True)
    page = (tmp_path / "_build" / "html" / "book" / "tiny.html").read_text()
    assert ("https://mybinder.org/v2/gh/owner-for-this-test/optimizers-in-motion/main"
            "?urlpath=lab/tree/book/tiny.ipynb") in page
    assert ("https://colab.research.google.com/github/owner-for-this-test/optimizers-in-motion/"
            "blob/main/book/tiny.ipynb") in page
    assert "_sources/book/tiny.ipynb" in page            # the notebook download button
