# Two commands do everything on a fresh clone:  make book  and  make test.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
NOTEBOOKS := $(sort $(wildcard book/*.ipynb))
SITE   := _build/html/en/index.html
# This Makefile's folder (the tests run it on tiny books elsewhere: make -f .../Makefile -C tiny)
HERE   := $(dir $(abspath $(lastword $(MAKEFILE_LIST))))
# The book's matrices are small: one BLAS thread is faster than two fighting over 2 cores.
export OPENBLAS_NUM_THREADS := 1

.PHONY: translations book book-fast test test-unit test-notebooks test-site lab bench worksheets readability screenshots clean setup

setup: $(STAMP)

# The virtual environment: pinned requirements plus the project itself (so `import lib` works from
# every notebook, in the build, under nbval and in JupyterLab).
$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	@# matplotlib's font cache, built now: on a fresh machine the first kernel would otherwise log
	@# "Matplotlib is building the font cache" to stderr, which fails the build (_ext/optbook_editions.py)
	$(BIN)/python -c "import matplotlib.font_manager"
	touch $(STAMP)

# Both editions of the book, one site (issue 17): _build/html/en/ and _build/html/ko/, with the
# edition chooser _build/html/index.html (tools/build_site.py says how). The English edition
# executes every chapter afresh; the Korean one (language=ko) reuses that execution through the
# cache, so both show the numbers of one execution (a cache miss fails the build). Warnings are
# errors. A clean build: it builds into a fresh folder (_build/next) and replaces the site in
# _build/html only when both editions succeed: a failed build keeps the previous site (and leaves
# its own output in _build/next for the reports).
# SITE_FLAGS: extra flags of tools/build_site.py (e.g. --all). Tests and CI pass none.
SITE_FLAGS ?=
BUILT  := _build/html _build/editions _build/.jupyter_cache
book: $(STAMP)
	rm -rf _build/next
	@mkdir -p _build
	@if $(BIN)/python $(HERE)tools/build_site.py --root _build/next $(SITE_FLAGS); \
	then rm -rf $(BUILT) && for d in $(BUILT); do if [ -e _build/next/$${d#_build/} ]; then mv _build/next/$${d#_build/} $$d; fi; done \
	  && rm -rf _build/next && echo "make book: the new site is in _build/html (en/ and ko/)"; \
	else echo "make book: the build FAILED; the previous site in _build/html is kept (this build's output: _build/next/editions)"; exit 1; fi

# An incremental build for authors (reuses the execution cache; not for CI). After an edit under
# lib/, the chapters that import lib are re-executed (their cache entries are dropped by
# _ext/optbook_site.py, which keeps a hash of lib/ in the build environment); other edits
# re-execute only the notebooks whose code changed. Both editions; the site in _build/html is
# replaced when they are built.
book-fast: $(STAMP)
	$(BIN)/python $(HERE)tools/build_site.py --root _build $(SITE_FLAGS)

$(SITE):
	$(MAKE) book

# Every test: unit tests and doctests, every notebook cell (nbval), the built site in a browser.
test: test-unit test-notebooks test-site

test-unit: $(STAMP)
	$(BIN)/python -m pytest -p no:cacheprovider tests lib --ignore=tests/site

test-notebooks: $(STAMP)
	$(BIN)/python -m pytest -p no:cacheprovider --nbval-lax $(NOTEBOOKS)

# Browser tests of the built site (builds it first if there is none; `make book` rebuilds).
test-site: $(STAMP) $(SITE)
	$(BIN)/python -m pytest -p no:cacheprovider tests/site

screenshots: test-site

# Words and numbers of each chapter's main path (issue 12's readability measure).
readability: $(STAMP)
	$(BIN)/python tools/count_main_path.py

worksheets: $(STAMP)
	$(BIN)/python tools/make_worksheets.py

# The Korean edition's catalogues (issue 17): extract every page's messages (no execution: code
# cells and outputs are not messages) into _build/gettext, then merge them into
# locales/ko/LC_MESSAGES/book/<chapter>.po (new messages empty, changed ones fuzzy). Sphinx's
# warnings go to _build/gettext.log: without execution there is no glue data and no figure label.
translations: $(STAMP)
	rm -rf _build/gettext
	$(BIN)/python tools/check_translations.py --extract _build/gettext
	$(BIN)/sphinx-intl update -p _build/gettext -l ko -d locales -w 0 >/dev/null
	$(BIN)/python tools/check_translations.py --after-update

lab: $(STAMP)
	$(BIN)/jupyter lab book $(if $(filter 0,$(shell id -u)),--allow-root)

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py $(ARGS)

# Keeps _build/worksheets: teachers and students may have edited those files.
clean:
	rm -rf _build/next _build/html _build/editions _build/.jupyter_cache _build/screenshots _build/.doctrees _build/jupyter_execute
