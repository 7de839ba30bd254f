"""The Korean edition's catalogues: in step with the English sources, and translations that keep
roles, links, math, code, numbers and the glossary's terms (tools/check_translations.py)."""

import sys
from pathlib import Path

import polib
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import check_translations as ct  # noqa: E402

CATALOGUES = sorted((ROOT / "locales" / "ko" / "LC_MESSAGES" / "book").glob("*.po"))
GLOSSARY = ct.load_glossary()


def entry(msgid, msgstr, fuzzy=False):
    return polib.POEntry(msgid=msgid, msgstr=msgstr, flags=["fuzzy"] if fuzzy else [])


# The checker, on messages worked by hand.
GOOD = entry("The learning rate (학습률) is {glue:text}`lr_max:.2f`; see [the tools](tools-1d) and "
             "{ref}`the bowl <tools-quadratic>`, where $\\kappa = b/a$ and `Adam.update` ran 400 steps.",
             "학습률(learning rate)은 {glue:text}`lr_max:.2f`이다. [도구 장](tools-1d)과 "
             "{ref}`그릇 <tools-quadratic>`을 보라. 여기서 $\\kappa = b/a$이고 `Adam.update`는 400 스텝을 돌았다.")


def test_a_faithful_translation_passes():
    assert ct.check_entry(GOOD, GLOSSARY) == []


@pytest.mark.parametrize("broken, expected", [
    ("lr_max:.3f", "role dropped or changed"),            # a glue format changed
    ("tools-1d", "link target dropped or changed"),         # a link target changed
    ("\\kappa = b/a", "math dropped or changed"),           # math rewritten
    ("Adam.update", "code dropped or changed"),             # a code span renamed
    ("400", "numbers missing"),                             # a number dropped
    ("학습률", "glossary: 'learning rate' should be '학습률'"),  # another word for a glossary term
    ("(learning rate)", "the English glosses '학습률'"),       # the English term not given back
])
def test_the_checker_reports_what_a_translation_broke(broken, expected):
    replacement = {"lr_max:.3f": ("lr_max:.2f", "lr_max:.3f"), "tools-1d": ("(tools-1d)", "(tools-2d)"),
                   "\\kappa = b/a": ("\\kappa = b/a", "\\kappa=b/a"), "Adam.update": ("Adam.update", "Adam.step"),
                   "400": ("400 스텝", "많은 스텝"), "학습률": ("학습률(learning rate)", "러닝 레이트(learning rate)"),
                   "(learning rate)": ("학습률(learning rate)은", "학습률은")}
    old, new = replacement[broken]
    bad = entry(GOOD.msgid, GOOD.msgstr.replace(old, new))
    assert bad.msgstr != GOOD.msgstr
    problems = ct.check_entry(bad, GLOSSARY)
    assert any(p.startswith(expected) for p in problems), problems


def test_display_math_is_kept_but_its_text_labels_may_be_translated():
    block = "\n\\mathrm{lr}_t = \\eta\\, t / T \\text{ (warmup)}\n"
    assert ct.check_entry(entry(block, block.replace("(warmup)", "(워밍업)")), GLOSSARY) == []
    assert ct.check_entry(entry(block, block.replace("/ T", "/ N")), GLOSSARY) == [
        "display math changed (only \\text{...} labels may be translated)"]
    assert ct.check_entry(entry(block, block.replace("mathrm{lr}", "mathrm{x}")), GLOSSARY) != []


def test_a_ref_keeps_its_target_but_translates_its_text():
    keys = ct.role_keys("{ref}`the bowl <tools-quadratic>` and {glue:text}`k:.1f`")
    assert keys == {("ref", "tools-quadratic"): 1, ("glue:text", "k:.1f"): 1}


def test_glossary_longest_match_first():
    # "gradient descent" is 경사 하강법: its "gradient" does not also demand 기울기.
    assert ct.glossary_terms("Plain gradient descent uses the gradient.", GLOSSARY) == [
        ("gradient descent", "경사 하강법"), ("gradient", "기울기")]
    # Terms inside roles, math and code are not prose.
    assert ct.glossary_terms("{glue:text}`warmup_steps` and `learning_rate` and $gradient$", GLOSSARY) == []
    # The rule's name stays Latin; the concept does not.
    assert ct.glossary_terms("Momentum adds momentum.", GLOSSARY) == [("momentum", "모멘텀")]


def test_fuzzy_and_obsolete_messages_are_reported(tmp_path):
    catalogue = polib.POFile()
    catalogue.metadata = {"Content-Type": "text/plain; charset=utf-8"}
    catalogue.append(entry("Warmup.", "워밍업.", fuzzy=True))
    stale = entry("Old text.", "옛 글.")
    stale.obsolete = True
    catalogue.append(stale)
    catalogue.append(entry("New text.", ""))
    path = tmp_path / "x.po"
    catalogue.save(str(path))
    problems, counts = ct.check_file(path, GLOSSARY)
    assert counts == {"fuzzy": 1, "obsolete": 1, "untranslated": 1}
    assert len(problems) == 2
    problems, _ = ct.check_file(path, GLOSSARY, complete=True)
    assert len(problems) == 3 and any(p.startswith("untranslated") for p in problems)


def test_glossary_rows_are_well_formed():
    assert len(GLOSSARY) >= 40
    koreans = [korean for _, korean, _ in GLOSSARY]
    assert all(any("\uac00" <= ch <= "\ud7af" or ch.isdigit() for ch in korean) for korean in koreans)
    assert len({pattern for _, _, pattern in GLOSSARY}) == len(GLOSSARY), "a glossary row is repeated"


# The repository's catalogues.
def test_there_is_one_catalogue_per_page():
    pages = sorted(p.stem for p in (ROOT / "book").iterdir() if p.suffix in (".ipynb", ".md"))
    assert [p.stem for p in CATALOGUES] == pages


@pytest.mark.parametrize("path", CATALOGUES, ids=lambda p: p.stem)
def test_every_message_is_translated_and_keeps_what_it_must(path):
    problems, _ = ct.check_file(path, GLOSSARY, complete=True)
    assert not problems, f"{path.name}:\n" + "\n".join(problems)


@pytest.fixture(scope="module")
def templates(tmp_path_factory):
    return ct.extract(tmp_path_factory.mktemp("gettext") / "pot")


@pytest.mark.parametrize("path", CATALOGUES, ids=lambda p: p.stem)
def test_catalogues_are_in_step_with_the_english(templates, path):
    """A changed English paragraph is a new message: it fails here until `make translations` has
    merged it into the catalogue (where it is then untranslated or fuzzy)."""
    template = polib.pofile(str(templates / "book" / f"{path.stem}.pot"))
    wanted = {e.msgid for e in template}
    have = {e.msgid for e in polib.pofile(str(path)) if not e.obsolete}
    assert wanted == have, (f"{path.name} is out of step with book/{path.stem}: run `make translations`. "
                            f"New in the English: {sorted(wanted - have)[:3]}; gone: {sorted(have - wanted)[:3]}")


@pytest.mark.parametrize("path", sorted((ROOT / "locales").rglob("*.po")), ids=lambda p: p.name)
def test_msgfmt_check_passes(path):
    """GNU gettext's own checks (`msgfmt -c`: header, format strings such as {placeholders})."""
    import os
    import shutil
    import subprocess

    if not shutil.which("msgfmt"):
        if os.environ.get("OPTBOOK_REQUIRE_MSGFMT") == "1":      # set by .ci/run, which installs it
            pytest.fail("msgfmt is not installed (Debian's gettext)")
        pytest.skip("msgfmt is not installed (`apt-get install gettext`; .ci/run does it)")
    checked = subprocess.run(["msgfmt", "-c", "--statistics", "-o", os.devnull, str(path)],
                             capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
    assert "fuzzy" not in checked.stderr and "untranslated" not in checked.stderr, checked.stderr
