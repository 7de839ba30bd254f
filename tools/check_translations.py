"""Check the Korean edition's catalogues: what a translation must keep, and the glossary.

    .venv/bin/python tools/check_translations.py [--complete] [FILE.po ...]
    .venv/bin/python tools/check_translations.py --extract DIR

``--extract DIR`` writes the message templates (one ``.pot`` per page, no execution) into DIR:
``make translations`` runs it, then merges them into the catalogues with sphinx-intl.

Without files it checks every catalogue under ``locales/ko/LC_MESSAGES/``. For every translated
message (msgstr not empty) it checks that the msgstr keeps, exactly as in the msgid:

- every MyST role (``{glue:text}`key:.3f```, ``{cite}`...```, ``{numref}`...```): the role and its
  content; for roles written ``text <target>`` (``{ref}``, ``{numref}``, ``{doc}``, ``{download}``)
  only the role and the target, since the text is translated;
- every link target ``[text](target)``;
- every piece of math, ``$...$`` and ``$$...$$``;
- every inline code span ```...```;
- every number written with digits outside those (3.2e-4, 1,000, 7B);

that where the English gives the note's Korean term in parentheses ("the learning rate (학습률)"),
the Korean gives that term with the English in parentheses ("학습률(learning rate)"; short
messages such as table cells, which quote the note's words, are exempt); and that, for every row of
``locales/ko/glossary.tsv`` whose English matches the msgid (longest
match first, outside roles, math, code and link targets), the msgstr contains the row's Korean
(spaces ignored). Fuzzy messages are errors (Sphinx would silently show the English); with
``--complete`` so are untranslated ones. Exit status 1 when anything is reported.
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

import polib

ROOT = Path(__file__).resolve().parents[1]
LOCALES = ROOT / "locales"
GLOSSARY = LOCALES / "ko" / "glossary.tsv"

ROLE = re.compile(r"\{([a-z][\w:.-]*)\}`([^`]*)`")
TEXT_TARGET_ROLES = {"ref", "numref", "doc", "download", "term", "eq"}
LINK = re.compile(r"\]\(([^)\s]+)\)")
DISPLAY_MATH = re.compile(r"\$\$.*?\$\$", re.S)
INLINE_MATH = re.compile(r"(?<![\\$])\$(?!\$)[^$\n]+?(?<!\\)\$")
CODE = re.compile(r"``[^`]+``|`[^`]+`")
# A number written with digits. Korean particles follow numbers directly (0.1이면, 7B를), so the
# boundaries are ASCII-only ("\\w" would count Hangul as part of the word).
NUMBER = re.compile(r"(?<![A-Za-z0-9_.])\d+(?:[.,]\d+)*(?:e[-+]?\d+)?(?![A-Za-z0-9_])"
                    r"|(?<![A-Za-z0-9_.])\d+(?:\.\d+)?[A-Za-z×](?![A-Za-z0-9_])")
# Counts in words of thousands change unit in Korean ("7-billion" is 70억, "13 million" 1300만):
# such numbers are not required to reappear as written.
WORD_UNIT = re.compile(r"\d+(?:\.\d+)?[- ](?:thousand|million|billion|trillion)\b", re.I)
URL = re.compile(r"https?://\S+")


def extract(outdir):
    """Extract every page's messages into ``outdir`` (``.pot`` files), without executing anything.

    The Sphinx configuration is the book's own (``_config.yml`` through jupyter-book), written to a
    temporary folder rather than into the repository. Sphinx's warnings (without execution there is
    no glue data and no figure label) go to ``outdir/../gettext.log``. Returns ``outdir``.
    """
    from jupyter_book.config import get_final_config

    config, _ = get_final_config(user_yaml=ROOT / "_config.yml", sourcedir=ROOT, cli_config={
        "external_toc_path": "_toc.yml", "latex_individualpages": False})
    config["bibtex_bibfiles"] = [str(ROOT / name) for name in config.get("bibtex_bibfiles", [])]
    outdir = Path(outdir).resolve()
    outdir.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as confdir:
        lines = [f"{key} = {config[key]!r}" for key in sorted(config)]
        Path(confdir, "conf.py").write_text("\n".join(lines) + "\n", encoding="utf-8")
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT / "_ext"), os.environ.get("PYTHONPATH", "")]))
        with open(outdir.parent / "gettext.log", "w", encoding="utf-8") as log:
            subprocess.run([sys.executable, "-m", "sphinx", "-q", "-b", "gettext", "-c", confdir,
                            "-D", "nb_execution_mode=off", str(ROOT), str(outdir)],
                           check=True, cwd=ROOT, env=env, stderr=log)
    add_figure_messages(outdir)
    return outdir


def add_figure_messages(outdir):
    """Add each chapter's figure captions and alt texts (code-cell metadata, and the ``:alt:`` of
    markdown directives such as ``{glue:figure}``) to its ``.pot``.

    Sphinx's gettext builder runs without execution, so it sees no figure; the Korean build asks
    for these strings when myst-nb reads a cell's options (``_ext/optbook_editions.py``).
    """
    import json

    sys.path.insert(0, str(ROOT / "_ext"))
    from optbook_editions import directive_alts, figure_messages

    for notebook in sorted((ROOT / "book").glob("*.ipynb")):
        pot_path = outdir / "book" / f"{notebook.stem}.pot"
        cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
        messages = [m for cell in cells for m in (
            figure_messages(cell.get("metadata", {})) if cell["cell_type"] == "code"
            else directive_alts("".join(cell["source"])) if cell["cell_type"] == "markdown" else [])]
        if not messages:
            continue
        pot = polib.pofile(str(pot_path), wrapwidth=0)
        known = {entry.msgid for entry in pot}
        for message in messages:
            if message not in known:
                known.add(message)
                pot.append(polib.POEntry(msgid=message, msgstr=""))
        pot.save(str(pot_path))


def role_keys(text):
    """The roles of ``text`` as (role, what must be kept) pairs."""
    keys = []
    for role, content in ROLE.findall(text):
        name = role.split(":")[0]
        target = re.search(r"<([^<>]+)>\s*$", content)
        if name in TEXT_TARGET_ROLES and target:
            keys.append((role, target.group(1)))
        else:
            keys.append((role, content))
    return Counter(keys)


def strip_protected(text):
    """``text`` without roles, math, code, link targets and URLs (what is left is prose)."""
    for pattern in (DISPLAY_MATH, ROLE, INLINE_MATH, CODE, URL):
        text = pattern.sub(" ", text)
    return LINK.sub("] ", text)


def protected(text):
    """What a translation must keep: roles, link targets, math, code spans."""
    no_roles = ROLE.sub(" ", text)
    return {
        "role": role_keys(text),
        "link target": Counter(LINK.findall(no_roles)),
        "math": Counter(m.strip() for m in DISPLAY_MATH.findall(no_roles))
                + Counter(INLINE_MATH.findall(DISPLAY_MATH.sub(" ", no_roles))),
        "code": Counter(CODE.findall(INLINE_MATH.sub(" ", DISPLAY_MATH.sub(" ", no_roles)))),
    }


def numbers(text):
    return set(NUMBER.findall(WORD_UNIT.sub(" ", strip_protected(text))))


def load_glossary(path=GLOSSARY):
    """Rows of the glossary as (compiled English pattern, Korean, pattern text)."""
    rows = []
    lines = [line for line in path.read_text(encoding="utf-8").splitlines()
             if line.strip() and not line.startswith("#")]
    header, body = lines[0].split("\t"), lines[1:]
    if header[:2] != ["english", "korean"]:
        raise ValueError(f"{path}: the first row must be the header 'english<TAB>korean<TAB>note'")
    for number, line in enumerate(body, start=2):
        fields = line.split("\t")
        if len(fields) < 2 or not fields[0] or not fields[1]:
            raise ValueError(f"{path}: row {number} needs an English pattern and a Korean term: {line!r}")
        rows.append((re.compile(rf"\b(?:{fields[0]})\b", re.I), fields[1], fields[0]))
    return rows


def glossary_terms(msgid, glossary):
    """The Korean terms that a translation of ``msgid`` must contain (longest English match first)."""
    prose = strip_protected(msgid)
    matches = sorted(((m.start(), m.end(), korean, pattern) for regex, korean, pattern in glossary
                      for m in regex.finditer(prose)), key=lambda m: (m[0] - m[1], m[0]))
    taken, needed = [], []
    for start, end, korean, pattern in matches:
        if any(start < e and s < end for s, e in taken):
            continue
        taken.append((start, end))
        needed.append((prose[start:end], korean))
    return needed


def after_update(directory=LOCALES / "ko" / "LC_MESSAGES"):
    """Tidy the catalogues that ``sphinx-intl update`` wrote, and print their counts.

    Babel flags any msgid with "% " before a letter ("1 % of the run") as ``python-format``, and
    then ``msgfmt -c`` rejects a Korean particle after the percent sign as a bad directive. The
    book's messages are never %-formatted, so that flag is dropped; ``python-brace-format`` (which
    makes ``msgfmt -c`` catch a dropped ``{role}``) is kept.
    """
    files = sorted(directory.rglob("*.po"))
    counts = Counter()
    for path in files:
        catalogue = polib.pofile(str(path), wrapwidth=0)
        changed = False
        for entry in catalogue:
            if "python-format" in entry.flags:
                entry.flags.remove("python-format")
                changed = True
            if not entry.obsolete:
                counts["messages"] += 1
                counts["translated"] += bool(entry.msgstr) and "fuzzy" not in entry.flags
                counts["fuzzy"] += "fuzzy" in entry.flags
        if changed:
            catalogue.save(str(path))
    print(f"make translations: {len(files)} catalogues, {counts['messages']} messages, "
          f"{counts['translated']} translated, {counts['fuzzy']} fuzzy")


TEXT_IN_MATH = re.compile(r"\\text\{[^{}]*\}")


def is_display_math(msgid):
    """A ``$$ ... $$`` block is extracted as its bare content, which starts and ends with a newline."""
    return msgid.startswith("\n") and msgid.endswith("\n")


GLOSSED = re.compile(r"[A-Za-z][A-Za-z \-+,]*?\s*\(([\uac00-\ud7af][\uac00-\ud7af +]*)\)")
SHORT = 60      # shorter messages are table cells and labels that quote the note's Korean words


def korean_glosses_kept(source, target):
    """The note's Korean terms that the English glosses and the Korean does not give as
    "term(English)" (a particle or two may end the term: 학습률은(learning rate))."""
    if len(source) < SHORT:
        return []
    lost = []
    for korean in GLOSSED.findall(strip_protected(source)):
        pattern = re.escape(korean).replace("\\ ", r"\s*") + r"[\uac00-\ud7af]{0,2}\s*\([^)]*[A-Za-z]"
        if not re.search(pattern, target):
            lost.append(korean)
    return lost


def check_entry(entry, glossary):
    """Problems of one translated entry, as strings (empty: fine)."""
    problems = []
    source, target = entry.msgid, entry.msgstr
    if is_display_math(source):
        # The equation is kept; only its \text{...} labels may be translated (or added).
        def bare(math):
            return re.sub(r"\s+", "", TEXT_IN_MATH.sub("", math))
        if bare(source) != bare(target):
            problems.append("display math changed (only \\text{...} labels may be translated)")
        return problems
    want, got = protected(source), protected(target)
    for kind in want:
        missing, extra = want[kind] - got[kind], got[kind] - want[kind]
        if missing:
            problems.append(f"{kind} dropped or changed: {sorted(missing.elements())}")
        if extra:
            problems.append(f"{kind} not in the English: {sorted(extra.elements())}")
    kept = numbers(target)
    kept |= {re.match(r"[\d.,]+", n).group() for n in kept}   # "4 to 12 billion" may become "4B~12B"
    lost = numbers(source) - kept
    if lost:
        problems.append(f"numbers missing: {sorted(lost)}")
    for korean in korean_glosses_kept(source, target):
        problems.append(f"the English glosses {korean!r}: write it with the English in parentheses, "
                        f"{korean}(...)")
    squeezed = re.sub(r"\s+", "", target)
    for english, korean in glossary_terms(source, glossary):
        if re.sub(r"\s+", "", korean) not in squeezed:
            problems.append(f"glossary: {english!r} should be {korean!r}")
    return problems


def check_file(path, glossary, complete=False):
    """(problems, counts) for one catalogue."""
    catalogue = polib.pofile(str(path))
    problems, counts = [], Counter()
    for entry in catalogue:
        if entry.obsolete:
            counts["obsolete"] += 1
            problems.append(f"obsolete message (run make translations): {entry.msgid[:60]!r}")
            continue
        if "fuzzy" in entry.flags:
            counts["fuzzy"] += 1
            problems.append(f"fuzzy (the English changed; update the Korean, then drop the flag): "
                            f"{entry.msgid[:60]!r}")
            continue
        if not entry.msgstr:
            counts["untranslated"] += 1
            if complete:
                problems.append(f"untranslated: {entry.msgid[:60]!r}")
            continue
        counts["translated"] += 1
        for problem in check_entry(entry, glossary):
            problems.append(f"{problem}\n    in: {entry.msgid[:70]!r}")
    return problems, counts


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="*", type=Path)
    parser.add_argument("--complete", action="store_true", help="untranslated messages are errors")
    parser.add_argument("--extract", type=Path, metavar="DIR", help="write the .pot files into DIR")
    parser.add_argument("--after-update", action="store_true",
                        help="tidy the catalogues after `sphinx-intl update` and print their counts")
    args = parser.parse_args(argv)
    if args.extract:
        extract(args.extract)
        return 0
    if args.after_update:
        after_update()
        return 0
    files = args.files or sorted((LOCALES / "ko" / "LC_MESSAGES").rglob("*.po"))
    glossary = load_glossary()
    failed = False
    for path in files:
        problems, counts = check_file(path, glossary, args.complete)
        summary = ", ".join(f"{counts[k]} {k}" for k in ("translated", "untranslated", "fuzzy", "obsolete"))
        print(f"{path}: {summary}; {len(problems)} problem(s)")
        for problem in problems:
            print(f"  - {problem}")
        failed |= bool(problems)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
