"""House rules for the chapters, checked on the stored notebooks (nbval executes them separately)."""

import json
import re
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


# An update rule typed into a notebook instead of shown from lib/ (see shared/STYLE.md).
RETYPED_RULES = [
    r"\bv\s*=\s*beta\s*\*\s*v\b",
    r"\bs\s*=\s*beta\s*\*\s*s\b",
    r"\bm\s*=\s*beta1\s*\*\s*m\b",
    r"\bv\s*=\s*beta2\s*\*\s*v\b",
    r"\bw\s*=\s*w\s*-\s*lr\s*\*",
]


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
    for pattern in RETYPED_RULES:
        match = re.search(pattern, code)
        assert not match, f"{path.name} retypes an update rule ({match.group(0)!r}): show it from lib/"
