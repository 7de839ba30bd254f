"""Worksheets (tools/make_worksheets.py): generated in a temporary folder, no solution or worked
answer in any student file, a whole class run through nbgrader's own commands (three simulated
students, autograded with warnings as errors), faults reported in one line with nothing lost, an
index for teachers, and a file someone changed is never overwritten.

The worksheets are generated once for the whole module, for the practice chapter and for a small
second notebook made here (so the tool is tested as generic), then each test reads or re-runs what
it needs. The class flow runs the practice notebook five more times (about a minute of processor
time in all).
"""

import copy
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
QUIZ = "quiz"                   # the second, small worksheet source made by quiz_source()


def load_tool():
    spec = importlib.util.spec_from_file_location("make_worksheets", ROOT / "tools" / "make_worksheets.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


tool = load_tool()


def quiz_source(folder):
    """A small worksheet source unlike the practice chapter: one solution cell, one check cell
    with a plain assert, one written answer, and a single lib import."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}

    def grader(cell, grade_id, **flags):
        meta = {"grade": False, "solution": False, "locked": False, "task": False,
                "schema_version": 3, "grade_id": grade_id}
        meta.update(flags)
        cell.metadata["nbgrader"] = meta
        return cell

    nb.cells = [
        grader(nbformat.v4.new_markdown_cell("# Quiz: a constant schedule\n\nA second worksheet."),
               "quiz-intro", locked=True),
        grader(nbformat.v4.new_code_cell("from lib.schedules import constant"), "quiz-setup",
               locked=True),
        grader(nbformat.v4.new_markdown_cell("```{exercise} Constant\n:label: quiz-constant\n\n"
                                             "What is `constant(0.25)(7)`?\n```"),
               "quiz-statement", locked=True),
        grader(nbformat.v4.new_code_cell("lr7 = None\n### BEGIN SOLUTION\nlr7 = constant(0.25)(7)"
                                         "\n### END SOLUTION"), "quiz-answer", solution=True),
        grader(nbformat.v4.new_code_cell("assert lr7 is not None and abs(lr7 - 0.25) < 1e-12"),
               "quiz-check", grade=True, locked=True, points=1),
        grader(nbformat.v4.new_markdown_cell("Why is it constant?\n\n### BEGIN SOLUTION\n"
                                             "It never changes.\n### END SOLUTION"),
               "quiz-written", grade=True, solution=True, points=2),
    ]
    path = folder / f"{QUIZ}.ipynb"
    nbformat.write(nb, path)
    return path


@pytest.fixture(scope="module")
def quiz(tmp_path_factory):
    return quiz_source(tmp_path_factory.mktemp("quiz-source"))


@pytest.fixture(scope="module")
def generated(tmp_path_factory, quiz):
    out = tmp_path_factory.mktemp("worksheets")
    status = tool.main([str(SOURCE), str(quiz), "--out", str(out)])
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
            assert "graded=True" in cell.source        # a box for students, a failure for nbgrader
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


def _course(generated, tmp_path, edition=NAME, config=""):
    """An nbgrader course folder with the teacher notebook as source/<name>/, as a teacher sets it up
    (``edition``: the worksheet's folder under ``generated``; ``config``: more nbgrader settings)."""
    import shutil
    course = tmp_path / "course"
    (course / "source").mkdir(parents=True)
    shutil.copytree(generated / edition / "teacher", course / "source" / NAME)
    (course / "nbgrader_config.py").write_text(
        'c = get_config()\nc.CourseDirectory.course_id = "optbook"\n'
        'c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE"}\n' + config, encoding="utf-8")
    return course


def test_the_teacher_notebook_is_an_nbgrader_source(generated, tmp_path):
    # A teacher drops teacher/ into an nbgrader course as source/<name>/: nbgrader itself must
    # accept it and produce a release without the solutions.
    course = _course(generated, tmp_path)
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


# --- a class, end to end, with nbgrader's own commands ----------------------------------------------

# Each answer cell of the practice worksheet, answered wrong the usual way, and the words of the
# hint its check must show (the hints are those of tests/test_checkers.py's WRONG list).
WRONG_ANSWERS = {
    "valley-answer": "steady_gain, alternating_gain = 9, 1",
    "bias-answer": "m_hat_factor_1, v_hat_factor_1 = 1, 1\nm_hat_factor_100, v_hat_factor_100 = 1, 1",
    "memory-answer": "sgd_state_gb, adamw_state_gb = 28, 84",
    "schedule-answer": "lr_at = [0, 1e-4, 2e-4, 1.1e-4, 2e-5]",      # the rounded answer
}
WRONG_HINTS = {"valley-check": "counts only the past", "bias-check-1": "forgot the bias correction",
               "bias-check-100": "v needs its own correction", "memory-check": "count the weights",
               "schedule-check": "timm's default"}
ANSWERED_BY = {"valley-check": "valley-answer", "bias-check-1": "bias-answer",
               "bias-check-100": "bias-answer", "memory-check": "memory-answer",
               "schedule-check": "schedule-answer"}
HALF = {"valley-answer", "bias-answer"}           # the half-blank student answers these, rightly

# The names a student notebook may hold that reach the checkers' machinery: the checkers themselves
# (a learner needs them; their __globals__ are Python's to give, not ours to hide).
SCAN_CELL = r'''
import json as _json, sys as _sys, types as _types
import lib.checkers as _checkers
_answer = {id(f): f"{f.__module__}.{f.__qualname__}" for fs in _checkers.EXPECTED_VALUE_FUNCTIONS.values()
           for f in fs}
_allowed = {id(getattr(_checkers, n)) for n in dir(_checkers) if n.startswith("check_")}

def _offences(name, value, depth=0):
    found = []
    if id(value) in _allowed:
        return found
    if id(value) in _answer:
        return [f"{name} is {_answer[id(value)]}"]
    qualname = getattr(value, "__qualname__", "")
    for f in _answer.values():
        module, _, function = f.rpartition(".")
        # lib.schedules names the schedules it makes after their factory ("warmup_cosine")
        if getattr(value, "__module__", None) == module and (
                qualname == function or qualname.startswith(function + ".<locals>")):
            found.append(f"{name} was made by {f}")
    if depth < 2:
        if isinstance(value, _types.ModuleType) and (value.__name__ == "lib" or value.__name__.startswith("lib.")):
            if value.__name__ in ("lib", "lib.checkers", "lib.schedules"):
                found.append(f"{name} is the module {value.__name__}")
            for attr in dir(value):
                found += _offences(f"{name}.{attr}", getattr(value, attr), depth + 1)
        elif isinstance(value, dict):
            for key, item in list(value.items())[:1000]:
                found += _offences(f"{name}[{key!r}]", item, depth + 1)
        elif isinstance(value, (list, tuple, set)):
            for i, item in enumerate(list(value)[:1000]):
                found += _offences(f"{name}[{i}]", item, depth + 1)
    return found

_found = []
for _name, _value in list(globals().items()):
    if not _name.startswith("_") and _name not in ("In", "Out", "get_ipython", "exit", "quit"):
        _found += _offences(_name, _value)
print("SCAN " + _json.dumps(sorted(set(_found))))
'''


def solution_code(teacher, grade_id):
    cell = next(c for c in teacher.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)
    return "\n".join(line for line in cell.source.splitlines()
                     if line.strip() not in ("### BEGIN SOLUTION", "### END SOLUTION"))


def submission(released, teacher, kind):
    """The released notebook, answered by a student who gets everything right, everything wrong,
    or answers the first half (rightly) and leaves the rest blank."""
    nb = copy.deepcopy(released)
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if not meta.get("solution"):
            continue
        grade_id = meta["grade_id"]
        if cell.cell_type == "markdown":
            if kind == "right":
                cell.source = "My explanation, in my own words."
        elif kind == "right" or (kind == "half" and grade_id in HALF):
            cell.source = solution_code(teacher, grade_id)
        elif kind == "wrong":
            cell.source = WRONG_ANSWERS[grade_id]
    return nb


def nbgrader(course, *args):
    """Run nbgrader's own command line in ``course``, Python warnings as errors."""
    env = dict(os.environ, PATH=str(Path(sys.executable).parent) + os.pathsep + os.environ["PATH"],
               JUPYTER_PLATFORM_DIRS="1", OPENBLAS_NUM_THREADS="1")
    env.pop("NBGRADER_EXECUTION", None)
    # One exception: SQLAlchemy's warning inside nbgrader's own gradebook code when it records a
    # new submission ("Object of type <SubmittedAssignment> / <SubmittedNotebook> not in session":
    # its session handling, nothing to do with the notebook being graded).
    done = subprocess.run([sys.executable, "-W", "error", "-W", "ignore:Object of type <Submitted",
                           "-m", "nbgrader", *args], cwd=course,
                          env=env, capture_output=True, text=True, timeout=900)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-3000:]
    # nbgrader's own warnings: none (its partial-credit warning is "cannot be converted to a
    # float"). The kernel's note that it talks over local TCP is ipykernel's, not about grading.
    warnings = [line for line in output.splitlines() if "WARNING" in line
                and "Kernel is running over TCP without encryption" not in line]
    assert not warnings, warnings
    assert "cannot be converted to a float" not in output and "partial credit" not in output
    return output


def test_a_class_end_to_end_through_nbgrader(generated, tmp_path):
    import shutil
    from nbgrader.api import Gradebook

    course = _course(generated, tmp_path)
    nbgrader(course, "generate_assignment", NAME)
    release = course / "release" / NAME
    released = nbformat.read(release / f"{NAME}.ipynb", as_version=4)
    assert [c.source for c in released.cells] == [c.source for c in notebook(generated, "student").cells]
    teacher = notebook(generated, "teacher")
    assert set(WRONG_ANSWERS) == {c.metadata["nbgrader"]["grade_id"] for c in released.cells
                                  if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("solution")}
    checks = {c.metadata["nbgrader"]["grade_id"]: c.metadata["nbgrader"]["points"]
              for c in check_cells(released)}
    assert set(checks) == set(ANSWERED_BY) == set(WRONG_HINTS)

    kinds = ("right", "wrong", "half")
    for kind in kinds:
        folder = course / "submitted" / kind / NAME
        shutil.copytree(release, folder)
        nbformat.write(submission(released, teacher, kind), folder / f"{NAME}.ipynb")

    # The students' own run, as Run All in Jupyter (no nbgrader): it reaches the end, and every
    # check shows its verdict box with the hint aimed at that answer. The half-blank student's
    # notebook also ends with a scan of every name it holds.
    for kind in ("wrong", "half"):
        nb = submission(released, teacher, kind)
        if kind == "half":
            nb.cells.append(nbformat.v4.new_code_cell(SCAN_CELL))
        run_notebook(nb, release)
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert all(c.get("execution_count") for c in code), f"{kind}: Run All stopped early"
        assert not [o for c in code for o in c.outputs if o.get("output_type") == "error"]
        for cell in check_cells(nb):
            grade_id = cell.metadata["nbgrader"]["grade_id"]
            boxes = [o["data"]["text/html"] for o in cell.outputs if "text/html" in o.get("data", {})]
            assert len(boxes) == 1 and "optbook-check" in boxes[0], (kind, grade_id, cell.outputs)
            answered = kind == "wrong" or ANSWERED_BY[grade_id] in HALF
            expected = ("✓" if kind == "half" else "✗") if answered else "✗"
            assert expected in boxes[0], (kind, grade_id, boxes[0])
            hint = (WRONG_HINTS[grade_id] if kind == "wrong" else
                    "Right" if answered else "Not answered yet")
            assert html.escape(hint, quote=True) in boxes[0] or hint in boxes[0], (kind, grade_id, boxes[0])
        if kind == "half":
            scan = [o["text"] for o in nb.cells[-1].outputs if o.get("output_type") == "stream"]
            line = next(l for l in "".join(scan).splitlines() if l.startswith("SCAN "))
            assert json.loads(line[5:]) == [], "the student notebook can compute an answer: " + line

    nbgrader(course, "autograde", NAME)
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        scores = {}
        for kind in kinds:
            sub = gradebook.find_submission_notebook(NAME, NAME, kind)
            scores[kind] = {g.name: g.auto_score for g in sub.grades if g.name in checks}
            written = [g for g in sub.grades if g.name not in checks]
            assert written and all(g.auto_score in (None, 0) for g in written)   # graded by hand
    assert scores["right"] == checks, scores["right"]
    assert scores["wrong"] == {name: 0 for name in checks}, scores["wrong"]
    assert scores["half"] == {name: (points if ANSWERED_BY[name] in HALF else 0)
                              for name, points in checks.items()}, scores["half"]
    assert sum(scores["right"].values()) == 9 and sum(scores["half"].values()) == 4

    # The autograded copies: a right answer shows its ✓ box as display output, a wrong one fails.
    for kind in ("right", "wrong"):
        graded = nbformat.read(course / "autograded" / kind / NAME / f"{NAME}.ipynb", as_version=4)
        for cell in check_cells(graded):
            kinds_out = {o["output_type"] for o in cell.outputs}
            if kind == "right":
                assert kinds_out == {"display_data"} and "✓" in cell.outputs[0]["data"]["text/plain"]
            else:
                assert "error" in kinds_out and any("AssertionError" in o.get("ename", "")
                                                     for o in cell.outputs)


def test_the_scan_would_catch_the_old_leak(tmp_path):
    # The control: the setup cell the student notebook had before (it imported warmup_cosine),
    # run with the scan, is caught; so is a schedule made by it and a module that holds it.
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(
        "from lib.checkers import check_schedule\n"
        "from lib.schedules import constant, linear_warmup, stack, warmup_cosine\n"
        "from lib import schedules\n"
        "mine = {'s': warmup_cosine(2e-4, 2000, 100000, 2e-5)}\n"
        "fine = constant(0.1)"), nbformat.v4.new_code_cell(SCAN_CELL)]
    run_notebook(nb, ROOT)
    line = next(l for l in nb.cells[-1].outputs[0]["text"].splitlines() if l.startswith("SCAN "))
    found = json.loads(line[5:])
    assert "warmup_cosine is lib.schedules.warmup_cosine" in found
    assert "mine['s'] was made by lib.schedules.warmup_cosine" in found
    assert "schedules is the module lib.schedules" in found
    assert not [f for f in found if f.startswith(("fine", "check_schedule", "constant"))]


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


# --- the student folder: only what the notebook needs, no worked answer -----------------------------

# The answers of every exercise, as text might state them (worked by hand in tests/test_checkers.py:
# 10 and 1/1.9 = 0.526316; 10, 1000, 1.0000266 and 10.50334; 0 and 56 GB; 0, 1e-4, 2e-4,
# 1.128846e-4 and 2e-5), with the context that makes a short number an answer.
ANSWER_PATTERNS = [
    r"0\.5263", r"0\.526\b", r"1/1\.9\b", r"1 / 1\.9\b", r"1\.00002[67]", r"1\.0000266", r"10\.503",
    r"10\.50\b", r"1\.128\d", r"1\.129e-0?4", r"1\.13e-0?4", r"0\.000113", r"0\.0001129",
    r"1\.1288", r"56(\.0)?\s*GB", r"5\.6e\+?10", r"56e9", r"52\.1\d?\s*GiB", r"\b52\.15\b",
    r"'0\.0001', '0\.0002'", r"m_hat_factor_100\s*=\s*1", r"steady_gain\s*=\s*10\b",
    r"alternating_gain\s*=\s*0\.5", r"adamw_state_gb\s*=\s*56",
]


def student_texts(folder):
    """Every file of a student folder as text (gzip files decompressed, the HTML page's visible text
    and its markup)."""
    import gzip

    for path in sorted(folder.rglob("*")):
        if not path.is_file():
            continue
        data = path.read_bytes()
        if path.suffix == ".gz":
            data = gzip.decompress(data)
        text = data.decode("utf-8", errors="replace")
        yield path, (page_text(text) + "\n" + text if path.suffix == ".html" else text)


def test_no_worked_answer_in_any_file_of_the_student_folder(generated):
    folder = generated / NAME / "student"
    # The student notebook's own text, with the solutions removed, is where the questions are:
    # the givens (peak 2e-4, 7e9 parameters, ...) are not answers.
    files = list(student_texts(folder))
    assert len(files) >= 10
    for path, text in files:
        for pattern in ANSWER_PATTERNS:
            found = re.search(pattern, text)
            assert not found, f"{path.relative_to(generated)} states an answer: {found.group(0)!r}"
    # The teacher's lib copy is the same (nbgrader releases it to the students).
    for rel in (generated / NAME / "student" / "lib").rglob("*"):
        if rel.is_file():
            twin = generated / NAME / "teacher" / "lib" / rel.relative_to(folder / "lib")
            assert twin.read_bytes() == rel.read_bytes(), rel


def test_the_control_the_book_lib_does_state_answers():
    # Without the scrub, the library would fail the test above (the schedules docstring).
    text = (ROOT / "lib" / "schedules.py").read_text()
    assert any(re.search(p, text) for p in ANSWER_PATTERNS)


def test_the_student_folder_holds_only_the_modules_its_notebook_needs(generated):
    shipped = {p.name for p in (generated / NAME / "student" / "lib").glob("*.py")}
    # practice imports checkers, data, diagnosis, model, optimizers, plots, schedules, surfaces and
    # training; they import _checks, plots and checkers import i18n (the presentation strings of
    # the editions), plots and surfaces import convergence (the one definition
    # of "converged"), and training imports transformer inside train() (for clip_grad_norm, when a run clips;
    # the worksheet tool follows imports inside functions too). Nothing else is shipped.
    assert shipped == {"__init__.py", "_checks.py", "checkers.py", "convergence.py", "data.py",
                       "diagnosis.py", "i18n.py",
                       "model.py", "optimizers.py", "plots.py", "schedules.py", "surfaces.py",
                       "training.py", "transformer.py"}
    assert (generated / NAME / "student" / "lib" / "data" / "digits.csv.gz").is_file()
    # The quiz imports only lib.schedules (which needs lib._checks).
    assert {p.name for p in (generated / QUIZ / "student" / "lib").rglob("*") if p.is_file()} == \
        {"__init__.py", "_checks.py", "schedules.py"}
    # Each shipped module still imports, in a fresh interpreter, from the student folder alone.
    done = subprocess.run([sys.executable, "-I", "-c", "import lib.checkers, lib.training, lib.plots"],
                          cwd=generated / NAME / "student", capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


def test_the_scrub_keeps_the_code_and_drops_doctests_and_answer_comments():
    source = ('"""Mod.\n\n>>> f(2)\n1.23456\n"""\n\n'
              'def f(x):\n    """Half of x.\n\n    >>> f(2)\n    1.0\n    The answer is 1.23456.\n    """\n'
              '    return x / 2   # e.g. 1.23456\n')
    patterns = tool.answer_patterns({"a": "1.23456"})
    out = tool.scrub_python(source, patterns)
    assert ">>>" not in out and "1.23456" not in out
    assert "return x / 2" in out and "Half of x." in out
    namespace = {}
    exec(compile(out, "scrubbed", "exec"), namespace)
    assert namespace["f"](3) == 1.5


# --- a second worksheet, and the index for teachers -------------------------------------------------

def test_every_source_with_nbgrader_cells_becomes_a_worksheet_and_is_indexed(generated):
    # In the book today only the practice chapter carries nbgrader cells.
    assert [p.name for p in tool.find_sources()] == ["practice.ipynb"]
    for name in (NAME, QUIZ):
        for rel in (f"student/{name}.ipynb", f"student/{name}.html", f"teacher/{name}.ipynb"):
            assert (generated / name / rel).is_file(), (name, rel)
    quiz_student = notebook(generated, "student") if False else nbformat.read(
        generated / QUIZ / "student" / f"{QUIZ}.ipynb", as_version=4)
    assert "constant(0.25)(7)\n" not in "\n".join(c.source for c in quiz_student.cells
                                                 if c.cell_type == "code")
    index = (generated / "index.md").read_text()
    page = page_text((generated / "index.html").read_text())
    # practice: check cells 2 + 1 + 1 + 2 + 3 = 9 points, written answers 2+1+1+1+3+3 = 11.
    assert "| Practice: the study note's six problems | 6 | 20 (9 + 11) | about" in index
    assert "| Quiz: a constant schedule | 1 | 3 (1 + 2) | about" in index
    for name in (NAME, QUIZ):
        assert f"({name}/student/{name}.ipynb)" in index and f'href="{name}/student/{name}.html"' in \
            (generated / "index.html").read_text()
    minutes = dict(re.findall(r"^\| ([^|]+?) \|[^|]+\|[^|]+\| about (\d+) min", index, re.M))
    assert int(minutes["Quiz: a constant schedule"]) < int(minutes["Practice: the study note's six problems"])
    assert "2 worksheet(s), 23 points in all; 1 of them also in Korean." in page
    assert "minutes per point" in page


# --- faults: one line, exit status 1, nothing lost ---------------------------------------------------

def snapshot(folder):
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def run_tool(args, capsys):
    status = tool.main([str(a) for a in args])
    captured = capsys.readouterr()
    return status, captured.err.strip()


def one_line_error(err):
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("make_worksheets: error: "), err
    assert "Traceback" not in err
    return lines[0]


def test_a_broken_source_notebook_is_one_line(tmp_path, capsys):
    broken = tmp_path / "broken.ipynb"
    broken.write_text('{"cells": [ {"cell_type": "code", ')
    out = tmp_path / "out"
    status, err = run_tool([broken, "--out", out], capsys)
    line = one_line_error(err)
    assert status == 1 and "broken.ipynb is not a readable notebook" in line and "restore" in line
    assert not out.exists()


def test_a_missing_end_solution_names_the_cell(tmp_path, capsys, quiz):
    nb = nbformat.read(quiz, as_version=4)
    answer = next(c for c in nb.cells if c.metadata["nbgrader"]["grade_id"] == "quiz-answer")
    answer.source = answer.source.replace("### END SOLUTION", "")
    source = tmp_path / "quiz.ipynb"
    nbformat.write(nb, source)
    status, err = run_tool([source, "--out", tmp_path / "out"], capsys)
    line = one_line_error(err)
    assert status == 1 and "quiz-answer" in line and "### END SOLUTION" in line


def test_a_corrupt_manifest_is_one_line_and_keeps_every_file(generated, tmp_path, capsys, quiz):
    import shutil

    out = tmp_path / "out"
    shutil.copytree(generated, out)
    (out / tool.MANIFEST).write_text('{"quiz/student/quiz.ipynb": ')
    before = snapshot(out)
    status, err = run_tool([quiz, "--out", out], capsys)
    line = one_line_error(err)
    assert status == 1 and "MANIFEST.json is damaged" in line and "delete it" in line
    assert snapshot(out) == before


def test_a_read_only_folder_is_fine_when_nothing_changed_and_one_line_otherwise(generated, tmp_path,
                                                                               capsys, monkeypatch, quiz):
    import shutil

    out = tmp_path / "out"
    shutil.copytree(generated, out)
    for name in [NAME]:                        # leave only what the quiz run regenerates
        shutil.rmtree(out / name)
    manifest = json.loads((out / tool.MANIFEST).read_text())
    (out / tool.MANIFEST).write_text(json.dumps({k: v for k, v in manifest.items()
                                                 if not k.startswith(NAME + "/")}, indent=1) + "\n")
    # index.* list two worksheets; a quiz-only run makes a one-worksheet index: put that in place
    # first, so that nothing differs.
    status, _ = run_tool([quiz, "--out", out], capsys)
    assert status == 0
    before = snapshot(out)

    # A read-only folder (as root, chmod does not stop writes: every write is refused here the
    # way the operating system refuses it).
    def refuse(target, data):
        raise PermissionError(13, "Permission denied", str(target))

    monkeypatch.setattr(tool, "_atomic_write", refuse)
    status, err = run_tool([quiz, "--out", out], capsys)
    assert status == 0 and not err, err                  # nothing changed: nothing to write
    assert snapshot(out) == before

    nb = nbformat.read(quiz, as_version=4)
    nb.cells[0].source += " Changed."
    changed = tmp_path / "src" / "quiz.ipynb"
    changed.parent.mkdir()
    nbformat.write(nb, changed)
    status, err = run_tool([changed, "--out", out], capsys)
    line = one_line_error(err)
    assert status == 1 and "cannot write" in line and "Permission denied" in line and "--out" in line
    assert snapshot(out) == before


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes through chmod")
def test_a_really_read_only_folder(generated, tmp_path, capsys, quiz):
    import shutil

    out = tmp_path / "out"
    shutil.copytree(generated, out)
    before = snapshot(out)
    for path in [out, *out.rglob("*")]:
        path.chmod(0o555 if path.is_dir() else 0o444)
    try:
        nb = nbformat.read(quiz, as_version=4)
        nb.cells[0].source += " Changed."
        changed = tmp_path / "quiz.ipynb"
        nbformat.write(nb, changed)
        status, err = run_tool([changed, "--out", out], capsys)
        assert status == 1 and "cannot write" in one_line_error(err)
    finally:
        for path in [out, *out.rglob("*")]:
            path.chmod(0o755 if path.is_dir() else 0o644)
    assert snapshot(out) == before


# --- the Korean font ---------------------------------------------------------------------------------

HANGUL = re.compile("[\u1100-\u11ff\u3130-\u318f\ua960-\ua97f\uac00-\ud7af\ud7b0-\ud7ff]")
FONT = ROOT / "_static" / "fonts" / "optbook-korean.woff"


def book_hangul():
    """Every Hangul character in the book's sources: chapters, intro, lib, config, bibliography."""
    paths = list((ROOT / "book").glob("*.ipynb")) + list((ROOT / "book").glob("*.md"))
    paths += [p for p in (ROOT / "lib").rglob("*") if p.is_file() and p.suffix in (".py", ".md")]
    paths += [ROOT / "_config.yml", ROOT / "_toc.yml", ROOT / "references.bib"]
    return set(HANGUL.findall("".join(p.read_text(encoding="utf-8") for p in paths)))


def test_the_korean_font_covers_every_hangul_character_of_the_book():
    from fontTools.ttLib import TTFont

    used = book_hangul()
    assert len(used) > 100                                # the seed's terms: 손실 곡면, 모멘텀, ...
    font = TTFont(FONT)
    covered = {chr(c) for c in font["cmap"].getBestCmap()}
    missing = sorted(used - covered)
    assert not missing, ("the web font lacks " + "".join(missing)
                         + ": run tools/make_korean_font.py (needs Debian's fonts-noto-cjk)")
    # An OFL Modified Version: renamed (no Reserved Font Name), licence shipped beside it and kept
    # in the font.
    assert font.flavor == "woff" and font["name"].getDebugName(1) == "Optbook Korean"
    assert "Open Font License" in font["name"].getDebugName(13)
    assert "SIL OPEN FONT LICENSE Version 1.1" in (FONT.parent / "OFL.txt").read_text()
    assert FONT.stat().st_size < 100_000
    css = (ROOT / "_static" / "korean-font.css").read_text()
    assert 'url("fonts/optbook-korean.woff")' in css and "unicode-range: U+1100-11FF" in css
    assert '--pst-font-family-base: "Optbook Korean", var(--pst-font-family-base-system)' in css


def test_the_printable_page_embeds_the_korean_font(generated):
    page = (generated / NAME / "student" / f"{NAME}.html").read_text()
    assert HANGUL.search(page_text(page))                       # the page has Korean text
    face = re.search(r'@font-face \{ font-family: "Optbook Korean";.*?src: url\(data:font/woff;base64,'
                     r'([A-Za-z0-9+/=]+)\) format\("woff"\); unicode-range: ([^;]+);', page)
    assert face, "no embedded @font-face"
    import base64
    assert base64.b64decode(face.group(1)) == FONT.read_bytes()
    assert "U+AC00-D7AF" in face.group(2)
    assert '--jp-content-font-family: "Optbook Korean", system-ui' in page


# --- the Korean edition (issue 17) ------------------------------------------------------------------

KO = Path("ko") / NAME


def ko_notebook(out, version):
    return nbformat.read(out / KO / version / f"{NAME}.ipynb", as_version=4)


def text_blocks(source):
    """(kind, text) of every paragraph and heading of a markdown cell, found by myst-parser's own
    parser (list items and blockquotes included), code spans, math and URLs left out."""
    md = tool.markdown_parser()
    tokens = md.parse(source)
    for i, token in enumerate(tokens):
        if token.type in ("paragraph_open", "heading_open"):
            yield token.type.split("_")[0], tokens[i + 1].content


def untranslated(source):
    """The blocks of ``source`` that have words to translate but no Hangul."""
    from lib import i18n

    found = []
    for kind, text in text_blocks(source):
        bare = re.sub(r"`[^`]*`|\$\$.*?\$\$|\$[^$]*\$|https?://\S+", " ", text, flags=re.S)
        if i18n.has_words(bare) and not HANGUL.search(bare):
            found.append((kind, text))
    return found


def untranslated_english(nb):
    """Sentences of an English notebook's markdown with Hangul outside parentheses (the English
    edition gives the note's Korean terms in parentheses only)."""
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    return HANGUL.findall(re.sub(r"\([^()]*\)", " ", text))


def test_the_korean_edition_is_written_beside_the_english_one(generated):
    for rel in (f"student/{NAME}.ipynb", f"student/{NAME}.html", f"teacher/{NAME}.ipynb",
                "student/lib/checkers.py", "student/lib/i18n.py",
                "student/locales/ko/LC_MESSAGES/figures.po", "student/_static/fonts/optbook-korean.otf",
                "student/_static/fonts/OFL.txt", "student/polib.py", "student/polib-LICENSE.txt"):
        assert (generated / KO / rel).is_file(), rel
    # The quiz has no Korean catalogue: English only, and said so (not an error).
    assert not (generated / "ko" / QUIZ).exists()
    manifest = json.loads((generated / tool.MANIFEST).read_text())
    assert f"ko/{NAME}/student/{NAME}.ipynb" in manifest
    # The English edition is what it was: no Korean word, no language setting in its lib copy.
    english = notebook(generated, "student")
    assert english.cells[0].source.startswith("# Practice:") and not untranslated_english(english)
    assert "OPTBOOK_LANG" not in (generated / NAME / "student" / "lib" / "__init__.py").read_text()


def test_the_korean_notebooks_have_every_block_translated_and_the_same_code(generated):
    for version in ("student", "teacher"):
        korean, english = ko_notebook(generated, version), notebook(generated, version)
        nbformat.validate(korean)
        markdown = [c for c in korean.cells if c.cell_type == "markdown"]
        assert len(markdown) >= 10
        blocks = [b for c in markdown for b in text_blocks(c.source)]
        assert len(blocks) >= 40, len(blocks)
        for cell in markdown:
            left = untranslated(cell.source)
            assert not left, f"{version}: English left in cell {cell.id}: {left[:2]}"
        text = "\n".join(c.source for c in korean.cells)
        for myst in ("{glue", "{doc}", "{cite}", "{exercise}", "{solution}", "{admonition}", "```{"):
            assert myst not in text, f"{version}: MyST markup {myst!r} left"
        # One source, two editions: the same cells, the same code, the same nbgrader metadata.
        assert [c.cell_type for c in korean.cells] == [c.cell_type for c in english.cells]
        assert [c.source for c in korean.cells if c.cell_type == "code"] == \
            [c.source for c in english.cells if c.cell_type == "code"]
        assert [c.metadata.get("nbgrader", {}).get("grade_id") for c in korean.cells] == \
            [c.metadata.get("nbgrader", {}).get("grade_id") for c in english.cells]
        # The glued numbers are the English edition's: the same numbers appear in both.
        numbers = lambda nb: sorted(re.findall(r"(?<![\w.])\d+\.\d+(?:e[-+]?\d+)?", "\n".join(
            c.source for c in nb.cells if c.cell_type == "markdown")))
        assert numbers(korean) == numbers(english), version
    assert korean.cells[0].source.startswith("# 연습:")


def test_the_korean_student_notebook_has_no_solutions(generated):
    teacher, student = ko_notebook(generated, "teacher"), ko_notebook(generated, "student")
    student_source = "\n".join(c.source for c in student.cells)
    page = page_text((generated / KO / "student" / f"{NAME}.html").read_text())
    code_lines, answers, _ = solution_texts(nbformat.read(SOURCE, as_version=4))
    for line in code_lines:
        assert line not in student_source and words(line) not in page, line
    model_answers = [c.source for c in teacher.cells
                     if c.cell_type == "markdown" and c.metadata.get("nbgrader", {}).get("solution")]
    assert len(model_answers) == len(answers)
    for answer in model_answers:
        assert "모범 답안" in answer
        plain = re.sub(r"[*_`$\\]", "", answer)
        chunks = [words(c) for c in re.split(r"(?<=[.:;!?다])\s+", plain) if len(words(c)) >= 30]
        assert chunks
        for chunk in chunks:
            assert chunk not in words(re.sub(r"[*_`$\\]", "", student_source)), chunk
            assert chunk not in page, chunk
    stub = tool.say("YOUR ANSWER HERE", "ko")
    assert HANGUL.search(stub) and student_source.count(stub) == len(answers)


@pytest.fixture(scope="module")
def korean_run(generated, tmp_path_factory):
    """The Korean student folder, copied, answered wrong the usual way and run as a student would:
    nothing set by hand (the folder's lib copy sets the language)."""
    import shutil

    folder = tmp_path_factory.mktemp("ko-student") / "student"
    shutil.copytree(generated / KO / "student", folder)
    nb = ko_notebook(generated, "student")
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if cell.cell_type == "code" and grade_id in WRONG_ANSWERS and grade_id != "bias-answer":
            cell.source = WRONG_ANSWERS[grade_id]
    env = {k: os.environ.pop(k) for k in ("OPTBOOK_LANG", "OPTBOOK_EDITIONS") if k in os.environ}
    try:
        return run_notebook(nb, folder)
    finally:
        os.environ.update(env)


def check_outputs(nb):
    out = {}
    for cell in check_cells(nb):
        texts = [o.get("data", {}).get("text/plain", "") + o.get("data", {}).get("text/html", "")
                 + o.get("text", "") for o in cell.outputs]
        out[cell.metadata["nbgrader"]["grade_id"]] = "\n".join(texts)
    return out


def test_the_korean_checks_give_korean_verdicts_and_hints(korean_run):
    outputs = check_outputs(korean_run)
    assert set(outputs) >= set(WRONG_HINTS)
    # The hints of the usual mistakes, in Korean (their msgstr in figures.po), never the English.
    korean_hints = {"valley-check": "과거만 센 것이다", "memory-check": "가중치 자체를 셌다",
                    "schedule-check": "timm의 기본값", "bias-check-1": "아직 답하지 않았다",
                    "bias-check-100": "아직 답하지 않았다"}
    for grade_id, hint in korean_hints.items():
        assert "✗" in outputs[grade_id] and hint in outputs[grade_id], (grade_id, outputs[grade_id][:300])
        assert HANGUL.search(outputs[grade_id])
        assert WRONG_HINTS[grade_id] not in outputs[grade_id]
        assert "Not answered yet" not in outputs[grade_id]
    # The verdict names the exercise in Korean, too.
    assert "옵티마이저 상태의 메모리" in outputs["memory-check"]


def test_the_korean_figures_are_drawn_in_korean(korean_run, generated):
    def labels(nb):
        return [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
                if "image/png" in o.get("data", {})]
    figures = labels(korean_run)
    assert len(figures) >= 3
    # The printable page's figures differ from the English page's (same data, Korean labels).
    import base64
    english = re.findall(r"data:image/png;base64,([A-Za-z0-9+/=]+)",
                         (generated / NAME / "student" / f"{NAME}.html").read_text())
    korean = re.findall(r"data:image/png;base64,([A-Za-z0-9+/=]+)",
                        (generated / KO / "student" / f"{NAME}.html").read_text())
    assert len(korean) == len(english) >= 3
    big = [(e, k) for e, k in zip(english, korean) if len(base64.b64decode(e)) > 5_000]
    assert len(big) >= 3 and all(e != k for e, k in big)


def test_the_korean_printable_page_has_hangul_and_its_embedded_font_covers_it(generated):
    from fontTools.ttLib import TTFont

    raw = (generated / KO / "student" / f"{NAME}.html").read_text()
    text = page_text(raw)
    assert '<html lang="ko"' in raw
    assert "이름:" in text and "날짜:" in text and "연습 문제 1" in text
    assert len(HANGUL.findall(text)) > 2_000
    external = re.findall(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//[^"'\s>]+""", raw, re.I)
    assert not external, external[:5]
    face = re.search(r'@font-face \{ font-family: "Optbook Korean";.*?src: url\(data:font/woff;base64,'
                     r'([A-Za-z0-9+/=]+)\)', raw)
    assert face, "no embedded @font-face"
    import base64
    import io
    assert base64.b64decode(face.group(1)) == FONT.read_bytes()
    covered = {chr(c) for c in TTFont(io.BytesIO(base64.b64decode(face.group(1))))["cmap"].getBestCmap()}
    missing = sorted(set(HANGUL.findall(text)) - covered)
    assert not missing, ("the embedded font lacks " + "".join(missing)
                         + ": run tools/make_korean_font.py (needs Debian's fonts-noto-cjk)")
    assert "celltag_answer" in raw and "celltag_new-page" in raw and "optbook-check" not in raw


def test_the_index_lists_both_editions(generated):
    index = (generated / "index.md").read_text()
    page = (generated / "index.html").read_text()
    assert "| Practice: the study note's six problems | 6 | 20 (9 + 11) | about" in index
    assert re.search(r"^\| 연습: 학습 노트의 여섯 문제 \| 6 \| 20 \(9 \+ 11\) \| about \d+ min \|.*"
                     r"\| 한국어 \(Korean\) \|$", index, re.M)
    for rel in (f"ko/{NAME}/student/{NAME}.ipynb", f"ko/{NAME}/student/{NAME}.html",
                f"ko/{NAME}/teacher/{NAME}.ipynb"):
        assert f"({rel})" in index and f'href="{rel}"' in page and (generated / rel).is_file()
    assert '<tr lang="ko">' in page


def test_a_paragraph_without_a_translation_is_an_error_naming_it():
    source = nbformat.read(SOURCE, as_version=4)
    messages = tool.page_messages(SOURCE, "ko")
    # A paragraph inside the {exercise} directive of the memory question (parsed in its turn).
    msgid = next(m for m in messages if m.startswith("A model with 7 billion parameters"))
    cell = next(c for c in source.cells if c.metadata.get("nbgrader", {}).get("grade_id")
                == "memory-statement")
    assert "{exercise}" in cell.source and msgid not in cell.source       # its lines are wrapped
    del messages[msgid]
    with pytest.raises(tool.WorksheetError) as error:
        tool.translate_source(source, messages, "ko", "book/practice.ipynb")
    message = str(error.value)
    assert "book/practice.ipynb" in message and "memory-statement" in message
    assert msgid[:30] in message and "no ko translation" in message


def test_the_translator_follows_the_token_line_maps():
    # A list item over three indented lines, a heading, a directive with options and a title,
    # a math block and code: each block found by its line map, its msgid its lines joined.
    source = ("## Two steps\n\n```{admonition} A title\n:class: dropdown\n\n1. First item, which\n"
              "   runs over *two* lines\n   and a third.\n2. `code` only\n\n$$\nx = 1\n$$\n```\n\n"
              "> Quoted text\n> on two lines.\n")
    messages = {"Two steps": "두 스텝", "A title": "제목",
                "First item, which runs over *two* lines and a third.": "첫째 항목, *두* 줄.",
                "`code` only": "`code`만", "Quoted text on two lines.": "두 줄의 인용."}
    translator = tool.MystTranslator(messages, "ko", "test")
    out = translator.text(source)
    assert out == ("## 두 스텝\n\n```{admonition} 제목\n:class: dropdown\n\n1. 첫째 항목, *두* 줄.\n"
                   "2. `code`만\n\n$$\nx = 1\n$$\n```\n\n> 두 줄의 인용.\n")
    assert translator.used == set(messages)


def test_the_korean_teacher_notebook_is_an_nbgrader_source(generated, tmp_path):
    # As the index page says: with the Korean stub set, nbgrader's own release of the Korean
    # teacher notebook is our Korean student notebook, and it ships the language setting.
    course = _course(generated, tmp_path, edition=KO,
                     config=f'c.ClearSolutions.text_stub = {tool.say("YOUR ANSWER HERE", "ko")!r}\n')
    env = dict(os.environ, PATH=str(Path(sys.executable).parent) + os.pathsep + os.environ["PATH"])
    done = subprocess.run([sys.executable, "-m", "nbgrader", "generate_assignment", NAME],
                          cwd=course, env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stdout + done.stderr
    released = nbformat.read(course / "release" / NAME / f"{NAME}.ipynb", as_version=4)
    assert [c.source for c in released.cells] == [c.source for c in ko_notebook(generated, "student").cells]
    assert 'OPTBOOK_LANG", "ko"' in (course / "release" / NAME / "lib" / "__init__.py").read_text()
    assert (course / "release" / NAME / "locales" / "ko" / "LC_MESSAGES" / "figures.po").is_file()
