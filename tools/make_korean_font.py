"""Make the book's Korean fonts: subsets of Noto Sans CJK KR Regular with only the Hangul the book
uses: the web font ``_static/fonts/optbook-korean.woff`` and, for matplotlib (the Korean edition's
figures), the same subset as an OpenType file, ``_static/fonts/optbook-korean.otf``.

    .venv/bin/python tools/make_korean_font.py [--font PATH] [--check]

The seed's Korean terms (the study note's words, given in parentheses at first use) must render on
machines without a CJK font: in headless browsers, on the site, and in the printable worksheets.
The site serves this file through ``_static/korean-font.css``; ``tools/make_worksheets.py`` embeds
it in each printable page.

What goes in: every Hangul character (syllables and jamo) in the book's sources (``book/*.ipynb``,
``book/*.md``, every file under ``lib/``, ``_config.yml``, ``_toc.yml``, ``references.bib``), every
translation under ``locales/ko/`` (the Korean edition's pages and the figures' catalogue
``locales/ko/LC_MESSAGES/figures.po``, the glossary) and,
as the margin, every Hangul character of the study note ``seed/000_d56e47a06c286238.txt`` (all
the Korean words a chapter might quote from it). Nothing else: the CSS's ``unicode-range`` sends
only Hangul to this font, so Latin text keeps the theme's font.

Only this script needs the original font, Debian's ``fonts-noto-cjk`` (``apt-get install
fonts-noto-cjk``; the build and the tests never do). ``--check`` says whether the committed subset
still covers the sources (exit status 1 if not) without the original font.

Licence: the SIL Open Font License 1.1 (``_static/fonts/OFL.txt``), which the subset keeps. The
original's copyright notice and licence stay in the font's name table. Its family is renamed to
"Optbook Korean": a Modified Version may not carry a Reserved Font Name (the OFL's condition 3;
Source Han Sans, the Adobe original, reserves "Source"), and "Noto" is a Google trademark,
so the subset carries neither.
"""

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "_static" / "fonts" / "optbook-korean.woff"
OUT_OTF = ROOT / "_static" / "fonts" / "optbook-korean.otf"
"""matplotlib's copy (lib/plots.py registers it; DejaVu Sans stays first for Latin, Greek, U+2212)."""
OUTPUTS = (OUT, OUT_OTF)
_RANGES = ((0x20, 0x7F), (0xA0, 0x100), (0x391, 0x3CA), (0x2000, 0x20A0), (0x2150, 0x2200),
           (0x2200, 0x2300), (0x25A0, 0x2600))
MATH_EXTRA = {chr(c) for low, high in _RANGES for c in range(low, high)}
"""Latin, Latin-1, Greek, punctuation, super- and subscripts, arrows, maths and shapes (▲●■◆)."""
"""Also in matplotlib's copy: a label that mixes Hangul and ``$math$`` is drawn by mathtext from one
font (lib/i18n.py sets such labels' math font family to "custom", which is this font)."""
DEBIAN_FONT = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
FAMILY = "Optbook Korean"
POSTSCRIPT = "OptbookKorean-Regular"
HANGUL = re.compile("[\u1100-\u11ff\u3130-\u318f\ua960-\ua97f\uac00-\ud7af\ud7b0-\ud7ff]")
SEED_CANDIDATES = [ROOT / "seed" / "000_d56e47a06c286238.txt",
                   Path("/work/shared/seed/000_d56e47a06c286238.txt")]


def source_files():
    """The files whose Hangul the font must cover (the book's sources)."""
    files = sorted((ROOT / "book").glob("*.ipynb")) + sorted((ROOT / "book").glob("*.md"))
    files += sorted(p for p in (ROOT / "lib").rglob("*") if p.is_file() and "__pycache__" not in p.parts
                    and p.suffix in (".py", ".md", ".txt", ".json"))
    files += [ROOT / name for name in ("_config.yml", "_toc.yml", "references.bib")
              if (ROOT / name).is_file()]
    files += sorted(p for p in (ROOT / "locales").rglob("*") if p.is_file() and p.suffix in (".po", ".tsv"))
    # the site's own Korean words: the edition link, the chooser page, the Korean footer
    files += sorted((ROOT / "_templates").glob("*.html")) + sorted((ROOT / "tools").glob("*.html"))
    files += sorted((ROOT / "_ext").glob("*.py"))
    return files


def catalogue_chars():
    """Every character of the figures' Korean catalogue (a label's symbols beside its Hangul)."""
    path = ROOT / "locales" / "ko" / "LC_MESSAGES" / "figures.po"
    return set(path.read_text(encoding="utf-8")) - set("\n\t") if path.is_file() else set()


def hangul_in(paths):
    chars = set()
    for path in paths:
        chars |= set(HANGUL.findall(path.read_text(encoding="utf-8", errors="replace")))
    return chars


def needed_characters():
    """(book's Hangul, margin's Hangul): the second is the seed's, if the seed is present."""
    book = hangul_in(source_files())
    seed = next((p for p in SEED_CANDIDATES if p.is_file()), None)
    return book, (hangul_in([seed]) if seed else set())


def covered(font_path=OUT):
    from fontTools.ttLib import TTFont

    return set(map(chr, TTFont(font_path)["cmap"].getBestCmap()))


def korean_face(font_path):
    """The Korean face (``Noto Sans CJK KR``) of the Debian collection, or the font at the path."""
    from fontTools.ttLib import TTCollection, TTFont

    if font_path.suffix.lower() == ".ttc":
        for index, face in enumerate(TTCollection(font_path).fonts):
            if face["name"].getDebugName(1) == "Noto Sans CJK KR":
                return TTFont(font_path, fontNumber=index)
        raise SystemExit(f"{font_path} has no 'Noto Sans CJK KR' face")
    return TTFont(font_path)


def rename(font, source_name):
    """Give the subset its own family name (see the module docstring), keep copyright and licence."""
    name = font["name"]
    description = (f"{FAMILY}: a subset of {source_name} (only the Hangul of the book Optimizers in "
                   "Motion), made by tools/make_korean_font.py. Licensed under the SIL Open Font "
                   "License 1.1.")
    for record in list(name.names):
        if record.nameID in (1, 4, 16, 18, 21):
            name.removeNames(nameID=record.nameID)
    for name_id, value in ((1, FAMILY), (2, "Regular"), (3, f"{POSTSCRIPT};subset"),
                           (4, f"{FAMILY} Regular"), (6, POSTSCRIPT), (10, description)):
        name.setName(value, name_id, 3, 1, 0x409)
        name.setName(value, name_id, 1, 0, 0)
    for record in list(name.names):                            # drop the other languages' names
        if record.nameID in (1, 2, 3, 4, 6, 10) and record.langID not in (0x409, 0):
            name.names.remove(record)
    if "CFF " in font:
        cff = font["CFF "].cff
        cff.fontNames = [POSTSCRIPT]
        top = cff.topDictIndex[0]
        for key, value in (("FullName", f"{FAMILY} Regular"), ("FamilyName", FAMILY)):
            if hasattr(top, key):
                setattr(top, key, value)


def build(font_path, outputs=OUTPUTS):
    from fontTools import subset

    book, margin = needed_characters()
    chars = sorted(book | margin)
    for out in outputs:
        wanted = chars if out.suffix == ".woff" else sorted(set(chars) | MATH_EXTRA | catalogue_chars())
        font = korean_face(font_path)
        source_name = font["name"].getDebugName(4)
        options = subset.Options()
        options.flavor = "woff" if out.suffix == ".woff" else None   # woff: zlib; no brotli needed
        options.layout_features = ["*"]        # keep the Hangul shaping features (ljmo, vjmo, tjmo)
        options.name_IDs = ["*"]
        options.name_languages = ["*"]
        options.hinting = False
        options.desubroutinize = True
        options.notdef_outline = True
        subsetter = subset.Subsetter(options)
        subsetter.populate(unicodes=[ord(c) for c in wanted])
        subsetter.subset(font)
        rename(font, source_name)
        out.parent.mkdir(parents=True, exist_ok=True)
        subset.save_font(font, str(out), options)
    return book, margin, chars


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--font", type=Path, default=DEBIAN_FONT,
                        help=f"the original font (default: {DEBIAN_FONT}, from fonts-noto-cjk)")
    parser.add_argument("--check", action="store_true",
                        help="only check that the committed subset covers the book's Hangul")
    args = parser.parse_args(argv)
    if args.check:
        book, _ = needed_characters()
        status = 0
        for out in OUTPUTS:
            missing = sorted(book - covered(out)) if out.is_file() else sorted(book)
            if missing:
                print(f"{out.name} lacks {len(missing)} Hangul character(s) the book uses: "
                      f"{''.join(missing)}; run tools/make_korean_font.py (needs fonts-noto-cjk)",
                      file=sys.stderr)
                status = 1
            else:
                print(f"{out.name} covers all {len(book)} Hangul characters of the book's sources")
        return status
    if not args.font.is_file():
        print(f"{args.font} not found: install Debian's fonts-noto-cjk (apt-get install "
              "fonts-noto-cjk) or pass --font PATH to Noto Sans CJK KR", file=sys.stderr)
        return 1
    book, margin, chars = build(args.font)
    for out in OUTPUTS:
        print(f"{out.relative_to(ROOT)}: {len(chars)} characters ({len(book)} in the book's sources, "
              f"{len(margin - book)} more from the study note), {out.stat().st_size:,} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
