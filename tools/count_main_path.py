"""Count the words and the numbers of each chapter's main path (issue 12's readability measure).

The *main path* of a chapter is what a first reading goes through: the prose of its markdown cells,
figure captions included, with these left out:

* folded blocks: any MyST directive named ``dropdown``, ``margin``, ``solution``, ``exercise`` or
  ``toggle``, and any directive with ``:class: dropdown`` (``{admonition}``, ``{note}``, ...), with
  everything nested inside them;
* the "Exercises" and "References" sections (from such a heading to the next heading of the same or a
  higher level);
* display math (``$$ ... $$`` and ``{math}`` blocks), code fences, and markdown cells tagged
  ``remove-cell``; code cells are not prose.

A *number* is a glued value (``{glue:text}`` / ``{glue}`` role: one number each, whatever its format)
or a numeric literal written in the prose (``0.9``, ``1e-3``, ``50%``, ``2,244``). Inline math
(``$\beta = 0.9$``, ``$1-\beta$``) and code spans are the equations' and the code's own symbols and
are not counted; neither are numbers inside role targets (``{numref}`fig-2` ``, ``{cite}``...``),
link targets and labels, the digits of "2-D"/"3-D", a name's own digits joined by a hyphen
("GPT-3", "Llama-2-Chat"), the number of a named model or of one of the note's practice topics
written as a separate word ("Llama 2", "practice 4": a name, like a figure number, not a quantity the
reader must hold; the names are listed in ``NAMED_NUMBERS``), the markers of a numbered list, or a
heading's own numbering.

Words are whitespace-separated tokens of that prose after roles, links and markup are reduced to
their visible text (a glued value is one word). Reading time assumes 200 words a minute, a pace for
technical text with figures.

    python tools/count_main_path.py                 # a markdown table of every chapter
    python tools/count_main_path.py --json          # the same as JSON
    python tools/count_main_path.py book/sgd.ipynb  # some chapters only
    python tools/count_main_path.py --show book/sgd.ipynb   # print the main path's text itself
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

FOLDED_DIRECTIVES = {"dropdown", "margin", "solution", "exercise", "toggle", "solution-start",
                     "solution-end", "exercise-start", "exercise-end"}
SKIPPED_SECTIONS = re.compile(r"^(exercises?|references?|bibliography)\b", re.I)
WORDS_PER_MINUTE = 200

_FENCE_OPEN = re.compile(r"^(\s*)(:{3,}|`{3,}|~{3,})\s*(\{([\w:-]+)\})?(.*)$")
_HEADING = re.compile(r"^(#{1,6})\s+(.*)$")
_GLUE = re.compile(r"\{glue(?::text|:any)?\}`[^`]*`")
_ROLE = re.compile(r"\{[\w:-]+\}`([^`]*)`")
_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_LABEL = re.compile(r"^\([\w:-]+\)=\s*$", re.M)
_INLINE_MATH = re.compile(r"(?<!\$)\$([^$\n]+)\$(?!\$)")
_NUMBER = re.compile(r"(?<![\w.])(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:[eE][-+−]?\d+)?%?(?![\w])"
                     r"|(?<![\w.])\.\d+(?![\w])")
_DIMENSION = re.compile(r"\b[1-9]-?D\b")
_NAME_DIGITS = re.compile(r"(?<=[A-Za-z][A-Za-z])-\d+(?:\.\d+)?\b")
NAMED_NUMBERS = ("Llama", "GPT", "Gemma", "Qwen", "Phi", "practice", "Practice")
_NAMED_NUMBER = re.compile(r"\b(" + "|".join(NAMED_NUMBERS) + r")\s+\d+(?:\.\d+)?\b")
_LIST_MARKER = re.compile(r"^\s*\d+[.)]\s", re.M)


def _markdown_cells(path: Path) -> list[str]:
    nb = json.loads(path.read_text(encoding="utf-8"))
    cells = []
    for cell in nb["cells"]:
        if cell["cell_type"] != "markdown":
            continue
        if "remove-cell" in cell.get("metadata", {}).get("tags", []):
            continue
        cells.append("".join(cell["source"]))
    return cells


def main_path_lines(text: str) -> list[str]:
    """The lines of one markdown text that belong to the main path (see the module docstring)."""
    kept: list[str] = []
    stack: list[tuple[str, bool]] = []        # (closing fence, folded) of the open directives
    skip_level = None                          # heading level of a skipped section
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        stripped = line.strip()
        if stack and re.fullmatch(re.escape(stack[-1][0][0]) + "{%d,}" % len(stack[-1][0]), stripped):
            stack.pop()
            continue
        opened = _FENCE_OPEN.match(line)
        if opened and (opened.group(3) or opened.group(2)[0] in "`~"):
            fence, name = opened.group(2), (opened.group(4) or "")
            options = []
            while i < len(lines) and lines[i].strip().startswith(":") and not lines[i].strip().startswith(fence[0] * 3):
                options.append(lines[i].strip())
                i += 1
            folded = (name in FOLDED_DIRECTIVES
                      or any(o.startswith(":class:") and "dropdown" in o for o in options)
                      or name in {"math", "code-cell", "code-block", "code", "bibliography", ""}
                      or fence[0] in "`~" and not name)
            if name in {"figure", "table", "list-table"} or name in {"note", "tip", "important", "warning", "admonition", "seealso", "attention"} and not folded:
                folded = False
            stack.append((fence, folded or any(f for _, f in stack)))
            continue
        if any(f for _, f in stack):
            continue
        heading = _HEADING.match(line)
        if heading:
            level = len(heading.group(1))
            if skip_level is not None and level <= skip_level:
                skip_level = None
            if skip_level is None and SKIPPED_SECTIONS.match(heading.group(2).strip()):
                skip_level = level
            if skip_level is None:
                kept.append(re.sub(r"^\d+(\.\d+)*\.?\s+", "", heading.group(2)))
            continue
        if skip_level is not None:
            continue
        kept.append(line)
    return kept


def _strip_display_math(text: str) -> str:
    return re.sub(r"\$\$.*?\$\$", " ", text, flags=re.S)


def measure(text: str) -> dict[str, int]:
    """Words and numbers of a main-path text."""
    text = _LABEL.sub("", _strip_display_math(text))
    glued = len(_GLUE.findall(text))
    text = _GLUE.sub(" GLUED ", text)
    # role targets other than glue are references (numref, cite, ref, doc, eq): their digits are not
    # numbers a reader holds; keep their visible text only when it is prose ({term}, {abbr}).
    text = re.sub(r"\{(?:numref|ref|cite(?::\w+)?|doc|eq|download|func|class|meth|mod)\}`[^`]*`", " REF ", text)
    text = _ROLE.sub(lambda m: " " + m.group(1) + " ", text)
    text = _LINK.sub(lambda m: m.group(1), text)
    text = _NAMED_NUMBER.sub(r"\1-N", _DIMENSION.sub("nD", text))
    text = _LIST_MARKER.sub(" ", _NAME_DIGITS.sub("-N", text))
    without_symbols = re.sub(r"``?[^`]*``?", " ", _INLINE_MATH.sub(" MATH ", text))
    literals = len(_NUMBER.findall(without_symbols))
    prose = _INLINE_MATH.sub(lambda m: " " + m.group(1) + " ", text)
    words = len([w for w in re.split(r"\s+", re.sub(r"[*_`#>|]", " ", prose)) if re.search(r"\w", w)])
    return {"words": words, "numbers": glued + literals, "glued": glued, "literals": literals}


def chapter(path: Path) -> dict:
    lines = [line for cell in _markdown_cells(path) for line in main_path_lines(cell)]
    counts = measure("\n".join(lines))
    counts["minutes"] = round(counts["words"] / WORDS_PER_MINUTE, 1)
    counts["chapter"] = path.stem
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--show", action="store_true", help="print the main path's text")
    args = parser.parse_args(argv)
    root = Path(__file__).resolve().parent.parent
    paths = args.notebooks or sorted((root / "book").glob("*.ipynb"))
    if args.show:
        for p in paths:
            print("\n".join(line for cell in _markdown_cells(p) for line in main_path_lines(cell)))
        return 0
    rows = [chapter(p) for p in paths]
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print("| chapter | words | minutes | numbers | glued | literal |")
    print("|---|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['chapter']} | {r['words']:,} | {r['minutes']} | {r['numbers']} | {r['glued']} | {r['literals']} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
