"""The readability counter (tools/count_main_path.py) on a notebook whose counts are known by hand."""
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))
import count_main_path as counter  # noqa: E402

CELLS = [
    # main path: 9 words ("A", "step", "of", GLUED, "halves", "the", "loss", "in", "3"), 2 numbers
    "# 1. Title here\n\nA step of {glue:text}`lr:.2f` halves the loss in 3",
    # inline math and code spans are symbols, not numbers; a numref target is not a number
    "With $\\beta = 0.9$ and `lr=0.1` see {numref}`fig-2` in 2-D",
    # folded: a dropdown, an admonition with class dropdown, a margin note, display math
    ":::{dropdown} Details\nDeep 1.5e-323 text {glue:text}`x`\n::::{note}\nnested 7\n::::\n:::",
    "```{admonition} Going deeper\n:class: dropdown\nhidden 42\n```",
    "```{margin}\naside 12\n```\n$$\nx = 10^{-3}\n$$",
    # skipped sections
    # a name's digits and list markers are not numbers; 1e-3 is one
    "1. GPT-3 and Llama-2-Chat at 1e-3\n2. next",
    # a named model's or practice topic's separate number is a name, not a quantity; "step 2" is one
    "Llama 2 in practice 4 ran step 2",
    "## Exercises\n\nSolve 17 things\n\n### Exercise 1\n\nmore 5\n\n## Takeaways\n\nKeep 2,244 steps",
    "## References\n\n```{bibliography}\n:filter: docname in docnames\n```",
]


def _notebook(tmp_path):
    cells = [{"cell_type": "markdown", "metadata": {}, "source": c} for c in CELLS]
    cells.append({"cell_type": "markdown", "metadata": {"tags": ["remove-cell"]}, "source": "gone 99"})
    cells.append({"cell_type": "code", "metadata": {}, "source": "x = 123", "outputs": [],
                  "execution_count": None})
    path = tmp_path / "toy.ipynb"
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    return path


def test_counts_match_the_hand_count(tmp_path):
    row = counter.chapter(_notebook(tmp_path))
    # numbers: the glued lr, "3", "1e-3", "step 2" and "2,244" (Takeaways is main path again after Exercises ends)
    assert (row["glued"], row["literals"], row["numbers"]) == (1, 4, 5)
    text = "\n".join(line for c in CELLS for line in counter.main_path_lines(c))
    for hidden in ("1.5e-323", "nested", "hidden", "aside", "Solve", "more 5", "filter"):
        assert hidden not in text
    for shown in ("Title here", "halves", "Keep 2,244 steps", "Takeaways"):
        assert shown in text
    # words: title (2) + first sentence (9) + "With β = 0.9 and lr=0.1 see REF in nD" (10 tokens
    # with a letter or digit: With, \beta, 0.9, and, lr=0.1, see, REF, in, nD) + Takeaways (1) + Keep 2,244 steps (3)
    # + "GPT-N and Llama-N-Chat at 1e-3" (5) + "next" (1) + "Llama-N in practice-N ran step 2" (6)
    assert row["words"] == 2 + 9 + 9 + 5 + 1 + 6 + 1 + 3


def test_every_chapter_is_counted():
    rows = [counter.chapter(p) for p in sorted((Path(__file__).resolve().parent.parent / "book").glob("*.ipynb"))]
    assert rows and all(r["words"] > 100 for r in rows)
