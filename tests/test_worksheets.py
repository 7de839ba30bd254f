"""Worksheets (tools/make_worksheets.py): generated in a temporary folder, no solution in any student
file, the teacher version passes every check, the student version stops at the first unanswered
check with its hint, and a file someone changed is never overwritten.

The worksheets are generated once for the whole module (the source and the student version are
executed: about 15 s), then each test reads or re-runs what it needs.
"""

import html
import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "book" / "practice.ipynb"
NAME = SOURCE.stem


def load_tool():
    spec = importlib.util.spec_from_file_location("make_worksheets", ROOT / "tools" / "make_worksheets.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


tool = load_tool()


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    out = tmp_path_factory.mktemp("worksheets")
    status = tool.main([str(SOURCE), "--out", str(out)])
    assert status == 0
    return out


def notebook(out, version):
    return nbformat.read(out / NAME / version / f"{NAME}.ipynb", as_version=4)


def page_text(markup):
    """The visible text of an HTML page, whitespace collapsed (for "does this sentence occur")."""
    markup = re.sub(r"<(script|style)\b.*?</\1>", " ", markup, flags=re.S | re.I)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", markup)).split())


def words(text):
    return " ".join(text.split())


# --- what the source must carry ---------------------------------------------------------------------

def solution_texts(source_nb):
    """Everything that must not reach a student: code between BEGIN/END SOLUTION, the written model
    answers (the {solution} dropdowns), and the book-only cells (hidden asserts and glue compute
    the answers)."""
    code_lines, answers, book_only = [], [], []
    given = "\n".join(c.source for c in source_nb.cells
                      if not c.metadata.get("nbgrader", {}).get("solution"))
    for cell in source_nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if set(cell.metadata.get("tags", [])) & tool.BOOK_ONLY_TAGS:
            book_only.append(cell.source)
        elif cell.cell_type == "code" and meta.get("solution"):
            region = re.search(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", cell.source, re.S)
            assert region, f"solution cell {meta['grade_id']} has no BEGIN/END SOLUTION region"
            code_lines += [line.strip() for line in region.group(1).splitlines()
                           if len(line.strip()) >= 8 and not line.strip().startswith("#")
                           and line.strip() not in given]       # not a given of the problem
        elif cell.cell_type == "markdown" and meta.get("solution"):
            assert "{solution}" in cell.source and ":class: dropdown" in cell.source
            answers.append(cell.source)
    return code_lines, answers, book_only


def test_the_source_carries_valid_nbgrader_metadata():
    from nbgrader.nbgraderformat import MetadataValidator

    source_nb = nbformat.read(SOURCE, as_version=4)
    MetadataValidator().validate_nb(source_nb)
    kinds = {"solution": 0, "test": 0, "written": 0}
    for cell in source_nb.cells:
        meta = cell.metadata.get("nbgrader")
        if not meta:
            # Book-only cells, or the experiments, which stay editable (nbgrader would lock a
            # read-only cell, and the exercises ask the learner to change their settings).
            assert (set(cell.metadata.get("tags", [])) & tool.BOOK_ONLY_TAGS
                    or cell.id.endswith("-experiment")), \
                f"cell {cell.get('id')} has neither nbgrader metadata nor a book-only tag"
            continue
        if cell.cell_type == "code" and meta["solution"]:
            kinds["solution"] += 1
            assert "hide-input" in cell.metadata.get("tags", []), "the book folds solution code away"
        elif cell.cell_type == "code" and meta["grade"]:
            kinds["test"] += 1
            assert meta["points"] > 0 and meta["locked"]
            assert "strict=True" in cell.source
        elif cell.cell_type == "markdown" and meta["solution"]:
            kinds["written"] += 1
            assert meta["grade"] and meta["points"] > 0
    assert kinds["solution"] >= 4 and kinds["test"] >= 5 and kinds["written"] == 6
    experiments = [c for c in source_nb.cells if c.id.endswith("-experiment")]
    assert len(experiments) == 3 and not any("nbgrader" in c.metadata for c in experiments)


# --- generating -------------------------------------------------------------------------------------

def test_generating_writes_the_three_versions_and_a_manifest(generated):
    folder = generated / NAME
    for rel in (f"student/{NAME}.ipynb", f"student/{NAME}.html", f"teacher/{NAME}.ipynb",
                "student/lib/checkers.py", "teacher/lib/optimizers.py", "student/lib/data/digits.csv.gz"):
        assert (folder / rel).is_file(), rel
    manifest = json.loads((generated / tool.MANIFEST).read_text())
    for rel, digest in manifest.items():
        assert tool.digest((generated / rel).read_bytes()) == digest, rel
    student = notebook(generated, "student")
    for cell in student.cells:                 # nbgrader locks all but answers and experiments
        editable = cell.metadata.get("editable", True)
        assert editable == (cell.id.endswith("-experiment")
                            or cell.metadata.get("nbgrader", {}).get("solution", False)), cell.id
    for version in ("student", "teacher"):
        nb = notebook(generated, version)
        nbformat.validate(nb)
        assert nb.metadata["kernelspec"]["name"] == "python3"
        assert all(not c.get("outputs") and not c.get("execution_count")
                   for c in nb.cells if c.cell_type == "code")
        text = "\n".join(c.source for c in nb.cells)
        for myst in ("{glue", "{doc}", "{cite}", "{exercise}", "{solution}", "{admonition}", "```{"):
            assert myst not in text, f"{version}: MyST markup {myst!r} left in the worksheet"


def test_the_teacher_notebook_is_an_nbgrader_source(generated, tmp_path):
    # A teacher drops teacher/ into an nbgrader course as source/<name>/: nbgrader itself must
    # accept it and produce a release without the solutions.
    course = tmp_path / "course"
    (course / "source").mkdir(parents=True)
    import shutil
    shutil.copytree(generated / NAME / "teacher", course / "source" / NAME)
    (course / "nbgrader_config.py").write_text(
        'c = get_config()\nc.CourseDirectory.course_id = "optbook"\n'
        'c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE"}\n')
    env = dict(os.environ, PATH=str(Path(sys.executable).parent) + os.pathsep + os.environ["PATH"])
    done = subprocess.run([sys.executable, "-m", "nbgrader", "generate_assignment", NAME],
                          cwd=course, env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stdout + done.stderr
    released = nbformat.read(course / "release" / NAME / f"{NAME}.ipynb", as_version=4)
    ours = notebook(generated, "student")
    assert [c.source for c in released.cells] == [c.source for c in ours.cells]
    assert (course / "release" / NAME / "lib" / "checkers.py").is_file()


def test_no_solution_text_survives_in_any_student_file(generated):
    source_nb = nbformat.read(SOURCE, as_version=4)
    code_lines, answers, book_only = solution_texts(source_nb)
    assert code_lines and answers and book_only

    student_nb = notebook(generated, "student")
    student_source = "\n".join(c.source for c in student_nb.cells)
    student_page = page_text((generated / NAME / "student" / f"{NAME}.html").read_text())
    teacher_nb = notebook(generated, "teacher")
    teacher_source = "\n".join(c.source for c in teacher_nb.cells)

    for line in code_lines:
        assert line in teacher_source, f"the teacher version lost solution line {line!r}"
        assert line not in student_source, f"solution line {line!r} in the student notebook"
        assert words(line) not in student_page, f"solution line {line!r} in the printable page"

    # The model answers, as the teacher sees them (MyST converted, numbers filled in): every
    # sentence-sized run of text must be absent from the student's files.
    model_answers = [c.source for c in teacher_nb.cells
                     if c.cell_type == "markdown" and c.metadata.get("nbgrader", {}).get("solution")]
    assert len(model_answers) == len(answers)
    for answer in model_answers:
        assert "Model answer" in answer
        plain = re.sub(r"[*_`$\\]", "", answer)
        for chunk in re.split(r"(?<=[.:;!?])\s+", plain):
            chunk = words(chunk)
            if len(chunk) < 40:
                continue
            assert chunk not in words(re.sub(r"[*_`$\\]", "", student_source)), chunk
            assert chunk not in student_page, chunk
    assert student_source.count("YOUR ANSWER HERE") == len(answers)

    # The book-only cells (hidden asserts, glue, the answers' plot) reach neither version.
    for cell_source in book_only:
        for line in cell_source.splitlines():
            line = line.strip()
            if len(line) >= 25 and not line.startswith(("#", "from ", "import ", "```", "-")):
                assert line not in student_source and line not in teacher_source, line
    assert "glue(" not in student_source and "glue(" not in teacher_source

    # Printed outputs of answer and check cells are not on the page either (only the experiments').
    raw_page = (generated / NAME / "student" / f"{NAME}.html").read_text()
    assert "optbook-check" not in raw_page
    assert "AssertionError" not in student_page and "Traceback" not in student_page


def test_the_printable_page_is_self_contained_and_renders_math(generated):
    page = (generated / NAME / "student" / f"{NAME}.html").read_text()
    # Nothing fetched from the network: no external script, stylesheet, image or font.
    external = re.findall(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//[^"'\s>]+""", page, re.I)
    assert not external, external[:5]
    assert "@import" not in page
    # MathJax 3 is inlined and told to read $...$; the math is there to typeset.
    assert 'src="data:text/javascript;base64,' in page and "window.MathJax" in page
    assert "inlineMath: [['$', '$']" in page
    text = page_text(page)
    assert "\\beta_1" in text or "\\hat m" in text
    # Figures of the experiments are embedded; room to write the answers; one exercise per page.
    assert page.count("data:image/png;base64,") >= 3
    assert "celltag_answer" in page and "celltag_new-page" in page
    assert "Name:" in text


# --- executing the two versions ---------------------------------------------------------------------

def run_notebook(nb, cwd):
    from nbclient import NotebookClient

    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    client = NotebookClient(nb, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(cwd)}})
    client.execute()
    return nb


def check_cells(nb):
    return [c for c in nb.cells if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("grade")]


def test_the_teacher_version_executes_with_every_check_passing(generated):
    folder = generated / NAME / "teacher"
    nb = run_notebook(notebook(generated, "teacher"), folder)   # its own lib/ copy, nothing else
    checks = check_cells(nb)
    assert len(checks) >= 5
    for cell in checks:
        shown = [o for o in cell.outputs if o.get("output_type") == "execute_result"]
        assert shown, cell.source
        assert shown[0]["data"]["text/plain"].startswith("✓"), shown[0]["data"]["text/plain"]
        assert "✓" in shown[0]["data"]["text/html"]


def test_the_student_version_stops_at_the_first_unanswered_check_with_its_hint(generated):
    from nbclient.exceptions import CellExecutionError

    folder = generated / NAME / "student"
    nb = notebook(generated, "student")
    first_check = check_cells(nb)[0]
    with pytest.raises(CellExecutionError) as failure:
        run_notebook(nb, folder)
    message = str(failure.value)
    assert "AssertionError" in message and "Not answered yet" in message
    assert "steady_gain, alternating_gain" in message                # names what to fill in
    assert not re.search(r"(?<![\w.])(10|10\.0|0\.526\d*|0\.53)(?![\w]|\.\d)", message
                         .replace(first_check.source, "")), "the hint gives the answer away"
    # Everything before the first check ran (the experiment drew its figure); nothing after it.
    index = nb.cells.index(first_check)
    before = [c for c in nb.cells[:index] if c.cell_type == "code"]
    assert all(c.get("execution_count") for c in before)
    assert any("image/png" in o.get("data", {}) for c in before for o in c.outputs)
    assert not any(c.get("execution_count") for c in nb.cells[index + 1:] if c.cell_type == "code")


# --- never overwrite a changed file -----------------------------------------------------------------

def test_regenerating_keeps_an_edited_file_and_writes_alongside(generated, tmp_path):
    import shutil

    out = tmp_path / "worksheets"
    shutil.copytree(generated, out)
    files = {rel: (out / rel).read_bytes() for rel in json.loads((out / tool.MANIFEST).read_text())}
    student = out / NAME / "student" / f"{NAME}.ipynb"
    edited = nbformat.read(student, as_version=4)
    edited.cells[0].source += "\n\nMy notes."
    nbformat.write(edited, student)
    edited_bytes = student.read_bytes()
    lib_copy = out / NAME / "teacher" / "lib" / "checkers.py"
    lib_copy.write_text(lib_copy.read_text() + "\n# a teacher's tweak\n")

    messages = []
    writer = tool.write_all(files, out, log=messages.append)
    assert student.read_bytes() == edited_bytes, "the edited notebook was overwritten"
    beside = out / NAME / "student" / f"{NAME}.new.ipynb"
    assert beside.read_bytes() == files[f"{NAME}/student/{NAME}.ipynb"]
    assert lib_copy.read_text().endswith("# a teacher's tweak\n")
    assert (out / NAME / "teacher" / "lib" / "checkers.new.py").is_file()
    assert sorted(writer.kept) == sorted([f"{NAME}/student/{NAME}.ipynb",
                                          f"{NAME}/teacher/lib/checkers.py"])
    said = "\n".join(messages)
    assert "KEPT" in said and str(student) in said and beside.name in said
    assert len(writer.unchanged) == len(files) - 2 and not writer.refused

    # Again: the .new file is ours (recorded), so it is simply refreshed; the edits stay.
    messages.clear()
    writer = tool.write_all(files, out, log=messages.append)
    assert student.read_bytes() == edited_bytes and not writer.refused

    # Someone edits the .new file too: nothing can be written for that notebook, and it says so.
    beside.write_text(beside.read_text().replace("Practice", "Practise", 1))
    changed = dict(files)
    changed[f"{NAME}/student/{NAME}.ipynb"] = files[f"{NAME}/student/{NAME}.ipynb"] + b" "
    messages.clear()
    writer = tool.write_all(changed, out, log=messages.append)
    assert writer.refused == [f"{NAME}/student/{NAME}.ipynb"]
    assert "REFUSED" in "\n".join(messages)
    assert student.read_bytes() == edited_bytes

    # --force overwrites, and an unchanged generated file is rewritten freely.
    writer = tool.write_all(files, out, force=True, log=messages.append)
    assert student.read_bytes() == files[f"{NAME}/student/{NAME}.ipynb"]
    assert not writer.refused and not writer.kept


def test_a_file_that_was_never_generated_is_not_overwritten(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "notes.ipynb").write_text("mine")
    writer = tool.write_all({"a/notes.ipynb": b"generated"}, tmp_path, log=lambda m: None)
    assert (tmp_path / "a" / "notes.ipynb").read_text() == "mine"
    assert (tmp_path / "a" / "notes.new.ipynb").read_bytes() == b"generated"
    assert writer.kept == ["a/notes.ipynb"]


def test_the_converter_refuses_markup_it_does_not_know():
    convert = tool.MystConverter(glue={"x": "0.5"})
    assert convert.cell("a {glue:text}`x:.0%` b") == "a 50% b"
    assert convert.cell("see {doc}`the SGD chapter <sgd>`") == "see the SGD chapter"
    assert convert.cell("see {doc}`intro`") == "see *Optimizers in Motion*"      # its title
    with pytest.raises(ValueError, match="glued value"):
        convert.cell("{glue:text}`missing`")
    with pytest.raises(ValueError, match="directive"):
        convert.cell("```{figure} x.png\n```")
    with pytest.raises(ValueError, match="role"):
        convert.cell("{eq}`label`")
