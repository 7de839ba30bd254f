"""House rules for the chapters, checked on the stored notebooks (nbval executes them separately)."""

import ast
import json
import re
import textwrap
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted(p for p in (ROOT / "book").rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)


def toc_files():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]

    def walk(entries):
        for entry in entries or []:
            if "file" in entry:
                files.append(entry["file"])
            walk(entry.get("sections"))
            walk(entry.get("chapters"))

    walk(toc.get("chapters"))
    for part in toc.get("parts", []):
        walk(part.get("chapters"))
    return files


def code_cells(path):
    nb = json.loads(path.read_text())
    return [c for c in nb["cells"] if c["cell_type"] == "code"], nb


# An update rule typed into a notebook instead of shown from lib/ (see shared/STYLE.md). Two checks:
# patterns for each rule's defining lines, written the way a notebook would retype them (with or
# without "self."), and every line of the lib's own update code, copied verbatim (whitespace and
# comments aside). Both cover the five classic rules and lib.beyond's: Lion, Muon and its
# Newton-Schulz iteration, Schedule-Free AdamW and Adafactor.
_S = r"(?:self\.)?"
RETYPED_RULES = {
    "Momentum": [rf"\bv\s*=\s*{_S}beta\s*\*\s*{_S}v\b"],
    "RMSProp": [rf"\bs\s*=\s*{_S}beta\s*\*\s*{_S}s\b"],
    "Adam": [rf"\bm\s*=\s*{_S}beta1\s*\*\s*{_S}m\b", rf"\bv\s*=\s*{_S}beta2\s*\*\s*{_S}v\b"],
    "SGD": [rf"\bw\s*=\s*w\s*-\s*{_S}lr\s*\*"],
    # Lion: the sign of the interpolated momentum, and its momentum kept with beta2
    "Lion": [rf"\bsign\(\s*{_S}beta1\s*\*\s*{_S}m\b", rf"\bm\s*=\s*{_S}beta2\s*\*\s*{_S}m\b"],
    # Muon: an EMA momentum with one beta; Newton-Schulz: the quintic step and its coefficients
    "Muon": [rf"\bm\s*=\s*{_S}beta\s*\*\s*{_S}m\b"],
    "newton_schulz": [r"\ba\s*\*\s*X\s*\+\s*\(\s*b\s*\*\s*A\s*\+\s*c\s*\*", r"3\.4445\b",
                      r"-\s*4\.775\b"],
    # Schedule-Free AdamW: y between z and x, x the running average of the z's
    "ScheduleFreeAdamW": [rf"\by\s*=\s*\(\s*1\s*-\s*{_S}beta1\s*\)\s*\*\s*{_S}z\b",
                          rf"\bx\s*=\s*\(\s*1\s*-\s*c\w*\s*\)\s*\*\s*x\s*\+\s*c\w*\s*\*\s*{_S}z\b",
                          rf"\by\s*=\s*y\s*\+\s*c\s*\*\s*\(\s*{_S}z\s*-\s*y\s*\)"],
    # Adafactor: the row and column averages, their outer product, beta2_t = 1 - t^tau
    "Adafactor": [rf"\b(R|C|{_S}row_var|{_S}col_var)\s*=\s*[\w.]+\s*\*\s*\1\s*\+",
                  r"\bouter\(\s*(?:self\.)?(?:R|row\w*)\s*,\s*(?:self\.)?(?:C|col\w*)\s*\)",
                  r"\(?\s*\b(?:R|row\w*)\s*[*@]\s*(?:C|col\w*)\s*\)?\s*/\s*[\w.]*(?:mean|maximum)\(",
                  r"\b1\s*-\s*\(?\s*t\s*\)?\s*\*\*\s*\(?\s*(?:-\s*0?\.8|[\w.]*(?:tau|beta2_decay))"],
}


def _rule_code():
    """The lib's update code, one function per rule (imported here: the lib is the reference)."""
    import inspect
    from lib import beyond, optimizers
    functions = [optimizers.SGD.update, optimizers.Momentum.update, optimizers.RMSProp.update,
                 optimizers.Adam.update, optimizers.Adam.adam_update, optimizers.AdamW.update,
                 beyond.Lion.update, beyond.Muon.update, beyond._newton_schulz,
                 beyond.ScheduleFreeAdamW.update, beyond.Adafactor.update,
                 beyond.Adafactor.second_moment]
    return {f.__qualname__: inspect.getsource(f) for f in functions}


def _normalised(line):
    return re.sub(r"\s+", "", line.split("#", 1)[0])


def _rule_lines():
    """The lines of the lib's update code that compute something (an operator, 16+ characters)."""
    lines = {}
    for name, source in _rule_code().items():
        source = textwrap.dedent(source)
        body = ast.parse(source).body[0].body
        doc = (range(body[0].lineno, body[0].end_lineno + 1) if isinstance(body[0], ast.Expr)
               and isinstance(body[0].value, ast.Constant) else range(0))
        for number, line in enumerate(source.splitlines(), start=1):
            if number == 1 or number in doc:              # not the def line, not the docstring
                continue
            code = _normalised(line)
            if len(code) >= 16 and re.search(r"[-+*/@]", code) and not code.startswith(("if", "raise")):
                lines.setdefault(code, name)
    return lines


def retyped_rules(code):
    """Every (rule, text) of ``code`` that retypes an update rule: a pattern's match or a copied line."""
    found = [(rule, match.group(0)) for rule, patterns in RETYPED_RULES.items()
             for pattern in patterns for match in re.finditer(pattern, code)]
    copied = _rule_lines()
    for line in code.splitlines():
        if _normalised(line) in copied:
            found.append((copied[_normalised(line)], line.strip()))
    return found


def test_there_are_chapters():
    assert NOTEBOOKS, "book/ has no notebooks"


def test_every_notebook_is_in_the_table_of_contents_and_back():
    listed = {f for f in toc_files()}
    on_disk = {str(p.relative_to(ROOT).with_suffix("")) for p in NOTEBOOKS}
    assert on_disk <= listed, f"notebooks missing from _toc.yml: {sorted(on_disk - listed)}"
    for entry in listed:
        assert any((ROOT / (entry + ext)).exists() for ext in (".ipynb", ".md")), f"{entry} missing"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_stored_without_outputs_or_widget_state(path):
    cells, nb = code_cells(path)
    dirty = [i for i, c in enumerate(cells) if c.get("outputs") or c.get("execution_count")]
    assert not dirty, f"{path.name}: code cells {dirty} have stored outputs (clear them before committing)"
    assert "widgets" not in nb.get("metadata", {}), f"{path.name} stores widget state"
    assert nb["metadata"].get("kernelspec", {}).get("name") == "python3"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_chapters_use_the_lib_and_do_not_retype_rules(path):
    cells, _ = code_cells(path)
    code = "\n".join("".join(c["source"]) for c in cells)
    assert re.search(r"^\s*(from lib\b|import lib\b)", code, re.M), f"{path.name} does not import lib"
    found = retyped_rules(code)
    assert not found, (f"{path.name} retypes an update rule ({found[0][0]}: {found[0][1]!r}): show "
                       "it from lib/ with show_source")


# How a chapter might retype each rule instead of showing it: every line alone must be caught.
RETYPED_COPIES = {
    "Momentum": ["v = beta * v + g"],
    "RMSProp": ["s = beta * s + (1 - beta) * g**2"],
    "Adam": ["m = beta1 * m + (1 - beta1) * g", "v = beta2 * v + (1 - beta2) * g * g"],
    "SGD": ["w = w - lr * g"],
    "Lion": ["c = np.sign(beta1 * m + (1 - beta1) * g)", "m = beta2 * m + (1 - beta2) * g"],
    "Muon": ["m = beta * m + (1 - beta) * g"],
    "newton_schulz": ["X = a * X + (b * A + c * A @ A) @ X", "a, b, c = 3.4445, -4.7750, 2.0315",
                      "X = 3.4445 * X - 4.775 * A @ X + 2.0315 * A @ A @ X"],
    "ScheduleFreeAdamW": ["y = (1 - beta1) * z + beta1 * x", "x = (1 - c) * x + c * z",
                          "x = (1 - c_next) * x + c_next * z", "y = y + c * (z - y)"],
    "Adafactor": ["R = beta2_t * R + (1 - beta2_t) * (G * G).mean(axis=1)",
                  "C = beta2_t * C + (1 - beta2_t) * (G * G).mean(axis=0)",
                  "V = np.outer(R, C) / R.mean()", "V = R @ C / np.mean(R)",
                  "beta2_t = 1 - t ** -0.8", "keep = 1 - t**tau"],
}


@pytest.mark.parametrize("rule", sorted(RETYPED_COPIES))
def test_the_retyped_rule_check_catches_a_retyped_copy(rule):
    for line in RETYPED_COPIES[rule]:
        code = f"import numpy as np\nfrom lib import beyond\n{line}\n"
        assert retyped_rules(code), f"a notebook line retyping {rule} is not caught: {line!r}"


@pytest.mark.parametrize("name", sorted(_rule_code()))
def test_the_retyped_rule_check_catches_the_lib_code_pasted(name):
    # the lib's own update code pasted into a cell (dedented, as it would be): caught
    body = textwrap.dedent(_rule_code()[name])
    found = retyped_rules(body)
    assert found, f"{name}'s code pasted into a notebook is not caught"
    assert {rule for rule, _ in found} & {name, name.split(".")[0], name.strip("_")}


def test_the_retyped_rule_check_lets_shown_and_used_rules_pass():
    # what the chapters do instead: show the lib's code, and call the rules
    code = "\n".join([
        "from lib.beyond import Adafactor, Lion, Muon, ScheduleFreeAdamW, newton_schulz",
        "show_source(Lion.update)", "show_source(Muon.update, _newton_schulz)",
        "show_source(ScheduleFreeAdamW.update, ScheduleFreeAdamW.eval_point)",
        "show_source(Adafactor.update, Adafactor.second_moment)",
        "w = Lion(lr=0.1, beta1=0.9, beta2=0.99).step(w, g)", "O = newton_schulz(M, 5)",
        "x = opt.eval_point(y)", "v, vf = full.second_moment(), factored.second_moment()",
        "title = \"Adafactor's R C / mean(R)\"", "lr = lr_grid(1e-5, 10.0)",
    ])
    assert retyped_rules(code) == []
