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
    A copy of the book's library, so each folder runs on its own (numpy and matplotlib needed).

Both notebooks are plain Jupyter: the book-only cells (tagged ``remove-cell`` or ``book-only``: the
hidden asserts, glue and references) are left out, and the book's MyST markup becomes Markdown (a
``{glue:text}`` number becomes its value, computed by executing the source once).

**Nothing a person changed is overwritten.** ``_build/worksheets/MANIFEST.json`` records a hash of
every file this tool wrote. A file that no longer matches its hash (a teacher edited the teacher
notebook, a student filled in theirs) is kept as it is, and the new version is written beside it
as ``NAME.new.ipynb`` (``.new.html``, ...), with a message that says so. ``--force`` overwrites.
The exit status is 1 if some file could not be written at all.
"""

import argparse
import base64
import copy
import hashlib
import json
import os
import re
import sys
import tempfile
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


# ---- finding the sources ------------------------------------------------------------------------

def has_nbgrader_cells(path):
    nb = nbformat.read(path, as_version=4)
    return any("nbgrader" in cell.metadata for cell in nb.cells)


def find_sources():
    """The book's notebooks that carry nbgrader metadata."""
    return sorted(p for p in BOOK.glob("*.ipynb") if has_nbgrader_cells(p))


# ---- executing ----------------------------------------------------------------------------------

def execute(nb, cwd, allow_errors=False):
    """Run ``nb`` (a copy is returned) with nbclient in ``cwd``."""
    from nbclient import NotebookClient

    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")     # small matrices: one BLAS thread is faster
    nb = copy.deepcopy(nb)
    NotebookClient(nb, timeout=TIMEOUT, kernel_name=KERNEL, allow_errors=allow_errors,
                   resources={"metadata": {"path": str(cwd)}}).execute()
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

    def __init__(self, glue=None, bib=None):
        self.glue = glue or {}
        self.bib = bib
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
            heading = f"**Exercise {number}" + (f" ({arg})" if arg else "") + ".**"
            return [heading, "", text]
        if name == "solution":
            number, title = self.exercises.get(arg, (None, ""))
            heading = "**Model answer" + (f" to exercise {number}" if number else "") + ".**"
            return [heading, "", text]
        if name == "admonition" or name in self.ADMONITIONS:
            title = arg if name == "admonition" else name.capitalize()
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
            return f"*{doc_title(text)}*" if role == "doc" else text
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
        return format_plain_text(self.glue[key], fmt or "s")

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


def doc_title(name):
    """The title (first heading) of the book's document ``name``, as Sphinx would show a link."""
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


# ---- the three versions -------------------------------------------------------------------------

def worksheet_notebook(source_nb, glue):
    """The teacher notebook: the source without its book-only cells, in plain Markdown, no outputs."""
    convert = MystConverter(glue)
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


def student_notebook(teacher_nb):
    """nbgrader's preprocessors, as ``nbgrader generate_assignment`` runs them (without its
    database): solutions cleared, hidden tests and mark schemes removed, cells locked, outputs
    cleared, checksums recorded, metadata validated."""
    from nbgrader.preprocessors import (CheckCellMetadata, ClearHiddenTests, ClearMarkScheme,
                                        ClearOutput, ClearSolutions, ComputeChecksums, LockCells)

    nb = copy.deepcopy(teacher_nb)
    resources = {}
    # The stub keeps the cell runnable: the learner's placeholders (`answer = None`) stay above
    # it, so the check below says "not answered yet" instead of a NotImplementedError.
    steps = [ClearSolutions(code_stub={"python": "# YOUR CODE HERE"}), ClearHiddenTests(),
             ClearMarkScheme(), LockCells(), ClearOutput(), ComputeChecksums(), CheckCellMetadata()]
    for step in steps:
        nb, resources = step.preprocess(nb, resources)
    return nb


def is_graded_or_answer(cell):
    meta = cell.metadata.get("nbgrader", {})
    return bool(meta.get("grade") or meta.get("solution"))


def printable_notebook(student_nb, workdir):
    """The student notebook executed for print: the experiments' figures and printouts kept, the
    answer and check cells left empty (their outputs would be the "not answered yet" errors)."""
    executed = execute(student_nb, workdir, allow_errors=True)
    for cell in executed.cells:
        tags = cell.metadata.setdefault("tags", [])
        if cell.cell_type == "code" and is_graded_or_answer(cell):
            cell.outputs = []
        if cell.metadata.get("nbgrader", {}).get("solution"):
            tags.append("answer")                                 # room to write
        if cell.cell_type == "markdown" and re.search(r"^\*\*Exercise \d", cell.source, re.M):
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
<div class="optbook-worksheet-head"><span>Name:</span><span>Date:</span></div>
{%- endblock body_header -%}
"""


def mathjax_source():
    """MathJax 3 (SVG output, fonts included) from the pinned sphinx-mathjax-offline package."""
    import importlib.util

    spec = importlib.util.find_spec("sphinx-mathjax-offline")
    if spec is None or spec.origin is None:
        raise RuntimeError("sphinx-mathjax-offline is not installed (see requirements.txt)")
    return (Path(spec.origin).parent / "static" / "mathjax" / "tex-svg-full.js").read_bytes()


def printable_html(nb, title):
    """A self-contained HTML page of ``nb``: inline CSS, inline MathJax, images as data URIs."""
    from jinja2 import DictLoader
    from nbconvert import HTMLExporter
    from nbconvert.preprocessors import TagRemovePreprocessor

    exporter = HTMLExporter(template_name="lab", extra_loaders=[DictLoader({"printable.j2": TEMPLATE})],
                            template_file="printable.j2", exclude_input_prompt=True,
                            exclude_output_prompt=True)
    exporter.register_preprocessor(TagRemovePreprocessor(remove_input_tags={"remove-input"}),
                                   enabled=True)
    nb = copy.deepcopy(nb)
    nb.metadata["title"] = title
    resources = {"optbook_mathjax": base64.b64encode(mathjax_source()).decode("ascii"),
                 "optbook_css": PRINT_CSS}
    body, _ = exporter.from_notebook_node(nb, resources=resources)
    return body


def library_files():
    """The book's library, as {relative path: bytes}, without caches."""
    files = {}
    for path in sorted(LIB.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
            files[str(Path("lib") / path.relative_to(LIB))] = path.read_bytes()
    return files


def notebook_bytes(nb):
    return (nbformat.writes(nb) + "\n").encode("utf-8")


def build_worksheet(source, log=print):
    """All files of one worksheet, as ``{path relative to the output folder: bytes}``."""
    source = Path(source)
    name = source.stem
    source_nb = nbformat.read(source, as_version=4)
    log(f"{name}: executing {source.relative_to(ROOT) if source.is_relative_to(ROOT) else source} "
        "for its glued numbers")
    glue = glue_values(execute(source_nb, source.parent))
    teacher = worksheet_notebook(source_nb, glue)
    student = student_notebook(teacher)
    lib = library_files()
    with tempfile.TemporaryDirectory() as workdir:
        for rel, data in lib.items():
            (Path(workdir) / rel).parent.mkdir(parents=True, exist_ok=True)
            (Path(workdir) / rel).write_bytes(data)
        log(f"{name}: executing the student version (with the bundled lib) for the printable page")
        printable = printable_notebook(student, workdir)
    title = _title(teacher) or name
    files = {f"{name}/teacher/{name}.ipynb": notebook_bytes(teacher),
             f"{name}/student/{name}.ipynb": notebook_bytes(student),
             f"{name}/student/{name}.html": printable_html(printable, f"{title} (worksheet)").encode("utf-8")}
    for rel, data in lib.items():
        files[f"{name}/teacher/{rel}"] = data
        files[f"{name}/student/{rel}"] = data
    return files


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


class GuardedWriter:
    """Writes files under ``out`` and records their hashes in ``out/MANIFEST.json``.

    A file on disk whose hash differs from the one recorded when this tool last wrote it has been
    changed by someone (or was never ours): it is kept, and the new content goes to
    :func:`alongside` instead, unless ``force``.
    """

    def __init__(self, out, force=False, log=print):
        self.out = Path(out)
        self.force = force
        self.log = log
        self.path = self.out / MANIFEST
        self.recorded = json.loads(self.path.read_text()) if self.path.exists() else {}
        self.manifest = dict(self.recorded)
        self.kept, self.refused, self.written, self.unchanged = [], [], [], []

    def _ours(self, rel, current):
        return self.recorded.get(rel) == current

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
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        self.manifest[rel] = new
        self.written.append(rel)

    def _write_alongside(self, rel, data):
        other = alongside(rel)
        target = self.out / other
        if target.exists():
            current = digest(target.read_bytes())
            if current != digest(data) and not self._ours(other, current):
                self.refused.append(rel)
                self.log(f"REFUSED  {self.out / rel}: it was changed since it was generated, and so "
                         f"was {target.name}; nothing written. Move your version away, or run with "
                         "--force to overwrite both.")
                return
        target.write_bytes(data)
        self.manifest[other] = digest(data)
        self.kept.append(rel)
        self.log(f"KEPT     {self.out / rel}: it was changed since it was generated, so it was left "
                 f"as it is; the new version is {target.name} beside it.")

    def finish(self):
        self.out.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps(dict(sorted(self.manifest.items())), indent=1) + "\n")
        return not self.refused


def write_all(files, out, force=False, log=print):
    """Write ``files`` under ``out`` through a :class:`GuardedWriter`; return the writer."""
    writer = GuardedWriter(out, force=force, log=log)
    for rel, data in files.items():
        writer.write(rel, data)
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
    sources = [s.resolve() for s in args.sources] or find_sources()
    if not sources:
        print("no worksheet sources: no notebook in book/ has nbgrader metadata", file=sys.stderr)
        return 1
    files = {}
    for source in sources:
        files.update(build_worksheet(source))
    writer = write_all(files, args.out, force=args.force)
    print(f"{len(writer.written)} written, {len(writer.unchanged)} unchanged, "
          f"{len(writer.kept)} kept (new version beside them), {len(writer.refused)} refused, "
          f"in {args.out}")
    for source in sources:
        name = source.stem
        print(f"  {name}: hand out {args.out / name / 'student'} (notebook + lib/) or print "
              f"{args.out / name / 'student' / (name + '.html')}; the answers are in "
              f"{args.out / name / 'teacher'}")
    return 0 if not writer.refused else 1


if __name__ == "__main__":
    sys.exit(main())
