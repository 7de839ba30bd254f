"""Build both editions of the book from one execution and assemble them into one site (issue 17).

    python tools/build_site.py --root _build/next       # `make book` (which then swaps it in)
    python tools/build_site.py --root _build            # `make book-fast` (in place)

run from the book's folder (the one with _config.yml). Under ROOT it writes

* ``.jupyter_cache/``: the execution cache, shared by the editions;
* ``editions/<edition>/html``, ``doctrees`` and ``jupyter_execute`` (myst-nb puts executed
  notebooks beside the output folder, so each edition has its own parent folder and nothing of
  the build lands in the published site);
* ``html/``: the site: ``index.html`` (the edition chooser, ``tools/site-index.html``), ``en/``,
  ``ko/`` and ``_mathjax/`` (MathJax once for both editions, 31 MB, instead of once in each).

The English edition executes the chapters (cache mode); the Korean edition (``language=ko``)
reads their outputs from the same cache. A Korean build that would start a kernel (a cache miss:
its code cells differ from the English build's) is an error: the editions would not show the
numbers of one execution.
"""

import argparse
import os
import shutil
import sys
import time
from pathlib import Path

TOOLS = Path(__file__).resolve().parent
EDITIONS = ("en", "ko")
MATHJAX = "_mathjax"


def build_edition(source, root, edition, force_all=False):
    from jupyter_book.sphinx import build_sphinx

    folder = root / "editions" / edition
    overrides = {                    # what `jupyter-book build --nitpick` passes, and the edition's own
        "external_toc_path": (source / "_toc.yml").as_posix(),
        "latex_individualpages": False,
        "nitpicky": True,
        "language": edition,
        "nb_execution_cache_path": str((root / ".jupyter_cache").resolve()),
        "optbook_mathjax_url": f"../{MATHJAX}/tex-chtml.js",
    }
    if edition != "en":
        overrides["optbook_forbid_execution"] = True
    started = time.perf_counter()
    result = build_sphinx(source, folder / "html", noconfig=True, path_config=source / "_config.yml",
                          confoverrides=overrides, doctreedir=folder / "doctrees",
                          warningiserror=True, keep_going=True, force_all=force_all)
    print(f"build_site: {edition} edition built in {time.perf_counter() - started:.0f} s "
          f"({'ok' if result == 0 else 'FAILED'})", flush=True)
    return result


def _link_tree(source, target, skip=()):
    """``target`` as a copy of ``source`` made of hard links (instant, no extra disk)."""
    def link(src, dst):
        try:
            os.link(src, dst)
        except OSError:
            shutil.copy2(src, dst)
    shutil.copytree(source, target, copy_function=link,
                    ignore=lambda folder, names: [n for n in names if Path(folder, n) in skip])


def assemble(root):
    """``root/html``: the chooser page, both editions and one MathJax, replaced in one rename."""
    new = root / "html.new"
    shutil.rmtree(new, ignore_errors=True)
    new.mkdir(parents=True)
    for edition in EDITIONS:
        html = root / "editions" / edition / "html"
        _link_tree(html, new / edition, skip={html / "_static" / "mathjax"})
    mathjax = root / "editions" / "en" / "html" / "_static" / "mathjax"   # sphinx-mathjax-offline's copy
    if mathjax.is_dir():
        _link_tree(mathjax, new / MATHJAX)
    shutil.copy2(TOOLS / "site-index.html", new / "index.html")
    old = root / "html.old"
    shutil.rmtree(old, ignore_errors=True)
    if (root / "html").exists():
        (root / "html").rename(old)
    new.rename(root / "html")
    shutil.rmtree(old, ignore_errors=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", required=True, help="the build folder (see the module docstring)")
    parser.add_argument("--all", action="store_true", help="write every page (sphinx -a)")
    parser.add_argument("--editions", nargs="+", choices=EDITIONS, default=list(EDITIONS),
                        help="build only these (for authors; the site is assembled only from both)")
    args = parser.parse_args(argv)
    root = Path(args.root).resolve()
    root.mkdir(parents=True, exist_ok=True)
    source = Path.cwd()              # the book: _config.yml and _toc.yml here
    # The one execution draws every figure, twin and glued string in both editions (lib/i18n.py):
    # the kernels inherit this environment.
    os.environ["OPTBOOK_EDITIONS"] = ",".join(EDITIONS)
    for edition in args.editions:
        if build_edition(source, root, edition, force_all=args.all) != 0:
            print(f"build_site: the {edition} edition FAILED", file=sys.stderr)
            return 1
    if set(args.editions) != set(EDITIONS):
        print(f"build_site: built {', '.join(args.editions)} in {root / 'editions'} (no site assembled)")
        return 0
    assemble(root)
    print(f"build_site: the site is in {root / 'html'} (en/, ko/ and the edition chooser index.html)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
