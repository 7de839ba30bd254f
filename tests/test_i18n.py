"""The Korean edition's figures, twins and glued strings (issue 17): lib/i18n.py, the catalogue,
the fonts and the extension that picks each edition's variant (_ext/optbook_editions.py)."""

import base64
import io
import json
import re
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "_ext"))

from lib import i18n, interactive, plots  # noqa: E402

HANGUL = re.compile("[\uac00-\ud7af]")
PO = ROOT / "locales" / "ko" / "LC_MESSAGES" / "figures.po"


@pytest.fixture
def both_editions(monkeypatch):
    monkeypatch.setenv("OPTBOOK_EDITIONS", "en,ko")
    monkeypatch.delenv("OPTBOOK_LANG", raising=False)
    monkeypatch.delenv("OPTBOOK_I18N_COLLECT", raising=False)


def _png_array(data):
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


# --- the catalogue -------------------------------------------------------------------------------
def test_the_catalogue_is_complete_none_untranslated_or_fuzzy():
    import polib

    po = polib.pofile(str(PO))
    assert len(po) >= 17
    untranslated = [e.msgid for e in po.untranslated_entries()]
    fuzzy = [e.msgid for e in po.fuzzy_entries()]
    obsolete = [e.msgid for e in po.obsolete_entries()]
    assert not untranslated, f"untranslated figure strings: {untranslated[:10]}"
    assert not fuzzy, f"fuzzy figure strings: {fuzzy[:10]}"
    assert not obsolete, f"obsolete figure strings: {obsolete[:10]}"


def test_every_template_keeps_its_placeholders():
    import polib

    for entry in polib.pofile(str(PO)):
        names = sorted(re.findall(r"\{(\w+)\}", entry.msgid))
        assert sorted(re.findall(r"\{(\w+)\}", entry.msgstr)) == names, entry.msgid


def test_the_readouts_of_describe_translate_through_templates():
    from types import SimpleNamespace

    run = SimpleNamespace(losses=[5.0, 1e-7, 2.0, 1e-7, 1e-8], diverged_at=None)
    english = plots.describe(run, name="Adam")
    assert english.startswith("Adam: converged in 3 steps")
    korean = i18n.translate(english, "ko")
    assert korean == "Adam: 3 스텝 만에 수렴 (손실이 최솟값에서 1e-06 이내에 머문다; 처음 닿은 스텝은 1)"
    assert i18n.translate("diverged at step 12", "ko") == "12 스텝에서 발산"
    # numbers, math and names are the same in every edition
    assert i18n.translate("$w_1$ = 0.5, AdamW", "ko") == "$w_1$ = 0.5, AdamW"


def test_a_string_missing_from_the_catalogue_is_an_error_naming_it(monkeypatch):
    monkeypatch.delenv("OPTBOOK_I18N_COLLECT", raising=False)
    with pytest.raises(i18n.MissingTranslation, match="'a phrase nobody wrote' is not in locales"):
        i18n.translate("a phrase nobody wrote", "ko")
    with pytest.raises(ValueError, match="lang must be one of en, ko, got 'fr'"):
        i18n.translate("loss", "fr")


def test_editions_come_from_the_environment(monkeypatch):
    monkeypatch.delenv("OPTBOOK_EDITIONS", raising=False)
    monkeypatch.delenv("OPTBOOK_LANG", raising=False)
    assert i18n.editions() == ("en", ())
    monkeypatch.setenv("OPTBOOK_EDITIONS", "en,ko")
    assert i18n.editions() == ("en", ("ko",))
    monkeypatch.setenv("OPTBOOK_LANG", "ko")
    assert i18n.editions() == ("ko", ("en",))
    monkeypatch.setenv("OPTBOOK_EDITIONS", "en,de")
    with pytest.raises(ValueError, match="OPTBOOK_EDITIONS must be one of en, ko, got 'de'"):
        i18n.editions()


# --- figures -------------------------------------------------------------------------------------
def _figure():
    plots.use_house_style()
    fig, ax = plots.new_figure(width=4, height=3)
    ax.plot([0, 1], [1, 0])
    plots.loss_axes(ax, 10, log=False, ylim=(0, 1))
    ax.set_title("$w_1$")
    return fig


def test_a_figures_korean_variant_differs_and_has_hangul(both_editions):
    fig = _figure()
    english = i18n.figure_png(fig, "en")
    variants = i18n._figure_variants(fig)
    assert list(variants) == ["image/x.optbook-ko+png"]
    korean = base64.b64decode(variants["image/x.optbook-ko+png"])
    assert english != korean
    # the figure is left in English, and drawing it again gives the same English image
    assert fig.axes[0].get_xlabel() == "step" and fig.axes[0].get_ylabel() == "loss"
    assert i18n.figure_png(fig, "en") == english
    with i18n.translated(fig, "ko"):
        labels = [fig.axes[0].get_xlabel(), fig.axes[0].get_ylabel()]
    assert labels == ["스텝", "손실"] and all(HANGUL.search(t) for t in labels)
    a, b = _png_array(english), _png_array(korean)
    if a.shape == b.shape:
        assert (a != b).any(axis=-1).sum() > 50       # the labels' pixels differ


def test_a_figure_string_missing_from_the_catalogue_fails_its_variant(both_editions):
    fig = _figure()
    fig.axes[0].set_xlabel("words that no catalogue has")
    with pytest.raises(i18n.MissingTranslation, match="'words that no catalogue has'"):
        i18n._figure_variants(fig)
    assert fig.axes[0].get_xlabel() == "words that no catalogue has"     # restored


def test_a_missing_glyph_is_an_error_in_text_and_in_math():
    plots.use_house_style()
    fig, ax = plots.new_figure(width=3, height=2)
    ax.set_title("丁")                                   # a Han character: in no font of the style
    with pytest.raises(UserWarning, match="Glyph .* missing from font"):
        fig.canvas.draw()
    fig, ax = plots.new_figure(width=3, height=2)
    ax.set_title("한 $x$")                               # Hangul in mathtext without the Korean font
    with pytest.raises(UserWarning, match="does not have a glyph"):
        fig.canvas.draw()


def test_hangul_renders_from_the_shipped_font_also_beside_math():
    plots.use_house_style()
    fig, ax = plots.new_figure(width=3, height=2)
    ax.set_title("학습률 − 1")
    ax.set_xlabel("스텝")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig.canvas.draw()                              # no "Glyph missing" for the label
    fig2, ax2 = plots.new_figure(width=3, height=2)
    ax2.set_xlabel("learning rate lr $\\eta$")
    i18n.catalogue("ko").exact.setdefault("learning rate lr $\\eta$", "학습률 lr $\\eta$")
    try:
        with i18n.translated(fig2, "ko"):
            assert ax2.xaxis.label.get_math_fontfamily() == "custom"
            fig2.canvas.draw()
        assert ax2.xaxis.label.get_math_fontfamily() != "custom"
    finally:
        i18n.catalogue("ko").exact.pop("learning rate lr $\\eta$")


def test_the_fonts_cover_the_catalogue_and_keep_the_licence():
    from fontTools.ttLib import TTFont

    result = subprocess.run([sys.executable, str(ROOT / "tools" / "make_korean_font.py"), "--check"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    font = TTFont(plots.KOREAN_FONT)
    covered = {chr(c) for c in font["cmap"].getBestCmap()}
    assert set(HANGUL.findall(PO.read_text(encoding="utf-8"))) <= covered
    assert "\u2212" in covered and "β" in covered
    assert font["name"].getDebugName(1) == "Optbook Korean"
    assert "Open Font License" in font["name"].getDebugName(13)


# --- slider twins and glued strings --------------------------------------------------------------
def _twin():
    fig, ax = plots.new_figure(width=4, height=3)
    line, = ax.plot([], [], animated=True)
    status = plots.status_text(ax)
    ax.set_xlabel("step")
    plots.fix_axes(ax, (0, 1), (0, 1))

    def update(lr):
        line.set_data([0, lr], [0, lr])
        status.set_text(f"after {int(lr * 10)} steps the loss is {lr:.3g}")
        return f"diverged at step {int(lr * 100)}"

    return interactive.interactive(fig, update, interactive.lr_slider(n=3), alt="loss",
                                   caption="step")


def test_a_twins_korean_variant_has_korean_readouts_labels_and_frames(both_editions):
    plots.use_house_style()
    figure = _twin()
    english = figure.static_html()
    korean = figure.static_html_in("ko")
    spec = lambda page: json.loads(re.search(r'class="optbook-frames">(.*?)</script>', page).group(1))
    assert spec(english)["readouts"] == ["diverged at step 0", "diverged at step 3", "diverged at step 100"]
    assert spec(korean)["readouts"] == ["0 스텝에서 발산", "3 스텝에서 발산", "100 스텝에서 발산"]
    assert "학습률 lr" in korean and "learning rate lr" not in korean
    assert "JavaScript가 꺼져 있다" in korean
    assert spec(english)["frames"] != spec(korean)["frames"]            # the status text is drawn
    # the figure is English again afterwards, and its English twin unchanged
    assert figure.fig.axes[0].get_xlabel() == "step"
    assert figure.static_html() == english


def test_glued_strings_with_words_get_a_korean_variant(both_editions):
    assert i18n.glue_variants("diverged at step 12") == {"text/x.optbook-ko+plain": "'12 스텝에서 발산'"}
    assert i18n.glue_variants("0.25") == {} and i18n.glue_variants(0.25) == {}


# --- the extension -------------------------------------------------------------------------------
def test_the_renderer_picks_the_editions_variant():
    import optbook_editions as ext
    from myst_nb.core.render import get_mime_priority

    assert ext.variant_of("image/x.optbook-ko+png") == ("image/png", "ko")
    assert ext.variant_of("image/png") is None
    base = [["html", "text/html", 0]]
    ko = get_mime_priority("html", base + ext.priority_overrides("ko", base))
    en = get_mime_priority("html", base + ext.priority_overrides("en", base))
    figure = ["text/plain", "image/png", "image/x.optbook-ko+png"]
    twin = ["text/plain", "text/html", "application/vnd.jupyter.widget-view+json",
            "text/x.optbook-ko+html"]
    pick = lambda order, types: next(m for m in order if m in types)
    assert pick(ko, figure) == "image/x.optbook-ko+png" and pick(en, figure) == "image/png"
    assert pick(ko, twin) == "text/x.optbook-ko+html" and pick(en, twin) == "text/html"
    assert not any("optbook" in m for m in en)


def test_printed_lines_are_translated_in_the_korean_edition_and_numbers_stay_as_printed():
    import optbook_editions as ext
    from lib import i18n

    # a textwrap-wrapped sentence is one line; an array's rows stay as printed
    assert ext.printed_lines("SGD: converged in 9 steps (loss stays within 0.1;\n  first below at step 3)\n",
                             i18n.has_words) == ["SGD: converged in 9 steps (loss stays within 0.1; first below at step 3)"]
    rows = "[[ 0.575 -0.823]\n [-0.823  1.525]]\n"
    assert ext.translate_stdout(rows, "ko", i18n) == (rows, [])
    # what the practice page prints, worked through the catalogue's templates
    text, missing = ext.translate_stdout(
        "AdamW, after 3000 steps: noisy weight 0.827, unused weight 0.741\n"
        "no warmup: early spike / healthy; validation accuracy after 200 steps 89.7%–94.4%\n", "ko", i18n)
    assert missing == []
    assert text == ("AdamW, 3000 스텝 뒤: 잡음 있는 가중치 0.827, 쓰이지 않는 가중치 0.741\n"
                    "워밍업 없음: 초반 치솟음 / 정상; 200 스텝 뒤 검증 정확도 89.7%–94.4%\n")
    # a line the catalogue lacks is reported, and kept as printed
    text, missing = ext.translate_stdout("a sentence nobody translated\n0.5\n", "ko", i18n)
    assert missing == ["a sentence nobody translated"] and text == "a sentence nobody translated\n0.5\n"


def test_a_korean_build_shows_korean_glue_text():
    import optbook_editions as ext
    import myst_nb.core.execute.base as base
    import nbformat

    ext._patch_glue("ko")
    try:
        nb = nbformat.v4.new_notebook()
        cell = nbformat.v4.new_code_cell("glue(...)")
        cell.outputs = [nbformat.v4.new_output(
            "display_data", data={"application/papermill.record/text/plain": "'diverged at step 12'",
                                  "application/papermill.record/text/x.optbook-ko+plain": "'12 스텝에서 발산'"},
            metadata={"scrapbook": {"name": "phrase", "mime_prefix": "application/papermill.record/"}})]
        nb.cells = [cell]
        data = base.extract_glue_data(nb, [0], None)
        assert data["phrase"]["data"]["text/plain"] == "'12 스텝에서 발산'"
    finally:
        ext._patch_glue("en")


# --- one execution, two editions: a small book built in English and then in Korean ---------------
BOOK_CONF = '''
import sys
sys.path.insert(0, {ext!r})
extensions = ["myst_nb", "optbook_editions"]
nb_execution_mode = "cache"
nb_execution_cache_path = {cache!r}
nb_execution_raise_on_error = True
nb_mime_priority_overrides = [["html", "text/html", 0]]
nb_ipywidgets_js = {{}}
suppress_warnings = ["mystnb.unknown_mime_type"]
exclude_patterns = ["_build"]
'''

BOOK_CELLS = [
    ("markdown", "# Page\n\nThe run {glue:text}`phrase`."),
    ("code", "import matplotlib.pyplot as plt\nfrom lib import plots, interactive\n"
             "from myst_nb import glue\nplots.use_house_style()"),
    ("code", "fig, ax = plt.subplots(figsize=(3, 2))\nax.plot([1, 2])\nax.set_xlabel('step')\n"
             "ax.set_ylabel('loss')\nplt.show()"),
    ("code", "fig, ax = plots.new_figure(width=3, height=2)\nline, = ax.plot([], [], animated=True)\n"
             "plots.fix_axes(ax, (0, 1), (0, 1))\nax.set_xlabel('step')\n"
             "def update(lr):\n    line.set_data([0, lr], [0, lr])\n"
             "    return f'diverged at step {int(lr * 100)}'\n"
             "interactive.interactive(fig, update, interactive.lr_slider(n=2), alt='loss')"),
    ("code", "glue('phrase', 'diverged at step 12', display=False)"),
]


def test_one_execution_gives_both_editions_their_own_figures_twins_and_glue(tmp_path):
    import nbformat

    src = tmp_path / "src"
    src.mkdir()
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(text) if kind == "markdown"
                else nbformat.v4.new_code_cell(text) for kind, text in BOOK_CELLS]
    nbformat.write(nb, src / "index.ipynb")
    (src / "conf.py").write_text(BOOK_CONF.format(ext=str(ROOT / "_ext"), cache=str(tmp_path / "cache")))
    env = {**__import__("os").environ, "OPTBOOK_EDITIONS": "en,ko", "OPENBLAS_NUM_THREADS": "1"}
    pages = {}
    for lang in ("en", "ko"):                  # English executes; Korean reuses the cache
        out = tmp_path / lang
        result = subprocess.run([sys.executable, "-m", "sphinx", "-q", "-W", "--keep-going", "-b",
                                 "html", "-D", f"language={lang}", str(src), str(out)],
                                capture_output=True, text=True, env=env)
        assert result.returncode == 0, result.stderr[-2000:]
        pages[lang] = (out / "index.html").read_text(encoding="utf-8")
    en, ko = pages["en"], pages["ko"]
    assert "diverged at step 12" in en and "12 스텝에서 발산" not in en
    assert "12 스텝에서 발산" in ko                               # the glued string
    assert "learning rate lr" in en and "학습률 lr" in ko         # the twin's slider label
    assert "학습률 lr" not in en
    assert 'optbook-readout" aria-live="polite">100 스텝에서 발산' in ko       # its readout
    images = lambda page: re.findall(r'<img[^>]+src="(_images/[^"]+)"', page)
    assert len(images(en)) == len(images(ko)) == 1 and images(en) != images(ko)
    korean_png = (tmp_path / "ko" / images(ko)[0]).read_bytes()
    english_png = (tmp_path / "en" / images(en)[0]).read_bytes()
    assert korean_png != english_png


def test_a_korean_learners_kernel_draws_the_twin_in_korean(monkeypatch):
    monkeypatch.setenv("OPTBOOK_LANG", "ko")
    monkeypatch.delenv("OPTBOOK_EDITIONS", raising=False)
    plots.use_house_style()
    figure = _twin()
    page = figure.static_html()
    assert "학습률 lr" in page and ">3 스텝에서 발산<" in page          # label and readout
    assert figure.fig.axes[0].get_xlabel() == "스텝"
    png, readout = figure.render(lr=1.0)
    assert readout == "100 스텝에서 발산" and png[:4] == b"\x89PNG"
