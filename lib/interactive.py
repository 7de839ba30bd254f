"""Interactive figures: one call gives live sliders in Jupyter and a working static twin on the web page.

A chapter builds a matplotlib figure once, marks the artists that change as ``animated=True``, and
writes an ``update(**values)`` function that sets their data and returns a one-line readout::

    fig, ax = plots.new_figure()
    line, = ax.plot([], [], animated=True)

    def update(lr, beta):
        result = run(Momentum(lr, beta), valley, start, steps=100)
        line.set_data(*result.trajectory.T)
        return plots.describe(result)            # "converged in 43 steps"

    interactive(fig, update, lr_slider(...), beta_slider(...), alt="...")

Displaying the returned object publishes ONE output carrying two representations:

* ``application/vnd.jupyter.widget-view+json``: ipywidgets sliders and an image. JupyterLab (``make
  lab``) shows this one; moving a slider calls ``update`` and redraws only the animated artists over
  a cached background (blitting), so a move costs a few milliseconds, not a full replot.
* ``text/html``: the static twin. Every combination of slider positions is rendered once, when the
  cell runs, into a small PNG frame; the page's script (``_static/interactive.js``) swaps frames as
  the reader moves HTML range inputs, with no kernel. The book's HTML build is told to prefer this
  representation (``nb_mime_priority_overrides`` in ``_config.yml``).

Slider values are a fixed grid (log-spaced for learning rates), shared by both faces, so what the
reader sees on the page is exactly what the kernel would draw.
"""

import base64
import html
import io
import itertools
import json
import math
import numbers
import os
import re
import time
from dataclasses import dataclass, field

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from PIL import Image

from . import _checks, i18n

MAX_FRAMES = 160
"""A static twin holds at most this many frames (product of the slider lengths): pages stay small."""


@dataclass(frozen=True)
class Slider:
    """A slider over a fixed grid of ``values``; ``update`` receives the value as keyword ``name``."""

    name: str
    values: tuple
    default: object
    label: str = ""
    fmt: str = "{:.3g}"
    log: bool = False

    def __post_init__(self):
        values = tuple(v.item() if isinstance(v, np.generic) else v for v in self.values)
        object.__setattr__(self, "values", values)
        if not values:
            raise ValueError(f"slider {self.name!r}: values must not be empty")
        if self.default in values:
            # The grid's own value, so its type is the grid's (3.0 == 3, but "{:d}" takes only 3).
            object.__setattr__(self, "default", values[values.index(self.default)])
        else:
            # Snap the default to the nearest grid value, so a slider always starts on the grid.
            if all(isinstance(v, (int, float)) for v in values):
                scale = np.log if self.log else (lambda x: x)
                nearest = min(values, key=lambda v: abs(scale(v) - scale(self.default)))
                object.__setattr__(self, "default", nearest)
            else:
                raise ValueError(f"slider {self.name!r}: default {self.default!r} is not one of {values}")
        if not self.label:
            object.__setattr__(self, "label", self.name)

    def text(self, value):
        return value if isinstance(value, str) else self.fmt.format(value)

    def valuetext(self, value):
        """What a screen reader announces for ``value``: "learning rate lr = 0.1", "bias correction: off"."""
        return f"{self.label}: {value}" if isinstance(value, str) else f"{self.label} = {self.text(value)}"

    @property
    def index(self):
        return self.values.index(self.default)


def log_slider(name, low, high, n, default, label="", fmt="{:.2g}"):
    """``n`` log-spaced values from ``low`` to ``high`` (learning rates, eps, weight decay)."""
    _check_name(name)
    low = _checks.scalar("low", low, 0.0, low_open=True)
    high = _checks.above("high", high, "low", low)
    n = _checks.count("n", n, minimum=2, maximum=MAX_FRAMES)
    default = _checks.scalar("default", default, 0.0, low_open=True)
    return Slider(name, tuple(float(f"{v:.4g}") for v in np.geomspace(low, high, n)), default,
                  label, fmt, log=True)


def linear_slider(name, low, high, n, default, label="", fmt="{:.3g}", integer=False):
    """``n`` evenly spaced values from ``low`` to ``high``."""
    _check_name(name)
    low = _checks.finite("low", low)
    high = _checks.above("high", high, "low", low)
    n = _checks.count("n", n, minimum=2, maximum=MAX_FRAMES)
    default = _checks.finite("default", default)
    integer = _checks.boolean("integer", integer)
    values = np.linspace(low, high, n)
    values = tuple(int(round(v)) for v in values) if integer else tuple(float(f"{v:.6g}") for v in values)
    return Slider(name, tuple(dict.fromkeys(values)), default, label, "{:d}" if integer else fmt)


def choice_slider(name, values, default, label="", fmt="{}"):
    """A slider over any listed values (betas such as 0, 0.5, 0.9, 0.99; on/off toggles)."""
    _check_name(name)
    values = tuple(_checks.sequence("values", values, "a sequence of slider positions"))
    if not values or not all(isinstance(v, (str, numbers.Real)) and not isinstance(v, np.bool_)
                             for v in values):
        raise ValueError(f"values must be a non-empty sequence of numbers or labels, got "
                         f"{_checks.show(values)}")
    numeric = all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in values)
    if not any(type(v) is type(default) and v == default for v in values) and not (
            numeric and isinstance(default, numbers.Real) and not isinstance(default, bool)
            and _finite(default)):
        raise ValueError(f"default must be one of values {_checks.show(values)}: "
                         f"{_checks.shown(default)} is not one of them")
    return Slider(name, tuple(values), default, label, fmt)


def lr_slider(low=1e-3, high=1.0, n=13, default=0.1, name="lr", label="learning rate lr"):
    """Log-scale learning-rate slider."""
    return log_slider(name, low, high, n, default, label)


def beta_slider(values=(0.0, 0.5, 0.7, 0.8, 0.9, 0.95, 0.99), default=0.9, name="beta", label="β"):
    """Decay-rate slider over the values people actually use."""
    return choice_slider(name, values, default, label, "{:g}")


def beta1_slider(values=(0.0, 0.5, 0.8, 0.9, 0.95, 0.99), default=0.9):
    return beta_slider(values, default, name="beta1", label="β₁")


def beta2_slider(values=(0.9, 0.95, 0.99, 0.999, 0.9999), default=0.999):
    return beta_slider(values, default, name="beta2", label="β₂")


def eps_slider(low=1e-8, high=1e-1, n=8, default=1e-8):
    return log_slider("eps", low, high, n, default, "ε")


def weight_decay_slider(values=(0.0, 0.001, 0.01, 0.03, 0.1, 0.3, 1.0), default=0.1):
    return choice_slider("weight_decay", values, default, "weight decay λ", "{:g}")


def steps_slider(low=10, high=200, n=8, default=100, name="steps", label="steps"):
    return linear_slider(name, low, high, n, default, label, integer=True)


def warmup_slider(values=(0, 10, 25, 50, 100, 200, 400), default=100, name="warmup_steps",
                  label="warmup steps"):
    return choice_slider(name, values, default, label, "{:d}")


def _finite(number):
    try:
        return math.isfinite(number)
    except OverflowError:
        return False


def _check_name(name):
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(f"name must be a keyword name for update (such as 'lr'), got "
                         f"{_checks.shown(name)}")


@dataclass
class InteractiveFigure:
    """A figure, an ``update(**values) -> readout`` function and its sliders. Display it to use it."""

    fig: object
    update: object
    sliders: tuple
    alt: str
    caption: str = ""
    _background: object = field(default=None, repr=False)
    _cache: dict = field(default_factory=dict, repr=False)

    def __post_init__(self):
        names = [s.name for s in self.sliders]
        if len(set(names)) != len(names):
            raise ValueError(f"slider names must be distinct, got {names}")
        if not self.alt:
            raise ValueError("alt must describe the figure for readers who cannot see it")
        if self.fig.canvas is None or not isinstance(self.fig.canvas, FigureCanvasAgg):
            FigureCanvasAgg(self.fig)
        n_frames = int(np.prod([len(s.values) for s in self.sliders]))
        if n_frames > MAX_FRAMES:
            raise ValueError(f"the sliders span {n_frames} combinations; the static twin allows at most "
                             f"{MAX_FRAMES}: use fewer values per slider")

    @property
    def defaults(self):
        return {s.name: s.default for s in self.sliders}

    def draw(self, **values):
        """Redraw for these slider values; return (RGBA array, readout). Blits over a cached background."""
        values = {**self.defaults, **values}
        readout = self.update(**values) or ""
        canvas = self.fig.canvas
        if self._background is None:
            canvas.draw()                                   # everything not animated, once
            self._background = canvas.copy_from_bbox(self.fig.bbox)
        else:
            canvas.restore_region(self._background)
        for artist in self._animated():
            self.fig.draw_artist(artist)
        return np.asarray(canvas.buffer_rgba()).copy(), str(readout)

    def _animated(self):
        artists = self.fig.findobj(lambda a: a.get_animated() and a.get_visible())
        return sorted(artists, key=lambda a: a.get_zorder())

    def render(self, **values):
        """PNG bytes and readout for these slider values (cached per combination)."""
        key = tuple({**self.defaults, **values}[s.name] for s in self.sliders)
        if key not in self._cache:
            rgba, readout = self.draw(**dict(zip((s.name for s in self.sliders), key)))
            self._cache[key] = (_png(rgba, Image.Quantize.FASTOCTREE), readout)
        return self._cache[key]

    def background_png(self):
        """The figure without its animated artists, as PNG."""
        if self._background is None:
            self.draw()
        return _png(np.asarray(self._background_rgba()))

    def _background_rgba(self):
        canvas = self.fig.canvas
        canvas.restore_region(self._background)
        return np.asarray(canvas.buffer_rgba()).copy()

    def frames(self):
        """Every combination of slider values, in C order over the sliders, as (overlay PNG, readout).

        An overlay holds only the pixels that differ from the background (the rest transparent), so
        the page stacks it on :meth:`background_png` and gets the frame exactly, at a fraction of
        the size of a full image.
        """
        names = [s.name for s in self.sliders]
        combos = list(itertools.product(*(s.values for s in self.sliders)))
        drawn = [(self.draw(**dict(zip(names, combo)))) for combo in combos]
        background = self._background_rgba()
        return [(_overlay_png(rgba, background), readout) for rgba, readout in drawn]

    # --- the two faces -------------------------------------------------------------------------
    def static_html(self):
        frames = self.frames()
        spec = {
            "shape": [len(s.values) for s in self.sliders],
            "frames": [base64.b64encode(png).decode("ascii") for png, _ in frames],
            "readouts": [readout for _, readout in frames],
        }
        background = base64.b64encode(self.background_png()).decode("ascii")
        first = spec["frames"][self._default_index()]
        readout = spec["readouts"][self._default_index()]
        controls = "".join(
            f'<label class="optbook-slider"><span class="optbook-name">{html.escape(s.label)}</span>'
            f'<input type="range" min="0" max="{len(s.values) - 1}" step="1" value="{s.index}" '
            f'aria-label="{html.escape(s.label)}" aria-valuetext="{html.escape(s.valuetext(s.default))}" '
            f'data-labels="{html.escape(json.dumps([s.text(v) for v in s.values]))}" '
            f'data-valuetexts="{html.escape(json.dumps([s.valuetext(v) for v in s.values]))}">'
            f'<output>{html.escape(s.text(s.default))}</output></label>'
            for s in self.sliders)
        caption = f'<p class="optbook-caption">{html.escape(self.caption)}</p>' if self.caption else ""
        shown = ", ".join(s.valuetext(s.default) for s in self.sliders)
        notice = (
            '<noscript><p class="optbook-noscript" role="note"><strong>JavaScript is off:</strong> '
            f'this figure shows one setting only ({html.escape(shown)}); its sliders move but '
            'nothing redraws. Everything else on the page works. To use the figure, turn JavaScript '
            'on, or run the chapter live: download the notebook (the download button at the top of '
            'the page) and open it with <code>make lab</code>, or use the page\'s launch buttons '
            '(Binder, Colab) where they are shown.</p></noscript>')
        return (
            f'<div class="optbook-interactive" data-default-frame="{self._default_index()}">'
            f'<div class="optbook-stack">'
            f'<img class="optbook-frame" alt="{html.escape(self.alt)}" '
            f'src="data:image/png;base64,{background}">'
            f'<img class="optbook-overlay" alt="" src="data:image/png;base64,{first}">'
            f'</div>'
            f'<div class="optbook-controls">{controls}</div>'
            f'<p class="optbook-readout" aria-live="polite">{html.escape(readout)}</p>{caption}{notice}'
            f'<script type="application/json" class="optbook-frames">{json.dumps(spec)}</script>'
            f'</div>')

    def static_html_in(self, lang):
        """The static twin with every text in ``lang`` (figure texts, readouts, slider labels, alt,
        caption), drawn from the same figure; the figure is left as it was."""
        if lang == "en":
            return self.static_html()
        update, sliders, alt, caption = self.update, self.sliders, self.alt, self.caption
        with i18n.translated(self.fig, lang) as again:
            self.update = _translated_update(update, again, lang)
            self.sliders = tuple(_TranslatedSlider(s, lang) for s in sliders)
            self.alt, self.caption = i18n.translate(alt, lang), i18n.translate(caption, lang)
            self._background = None                     # this language's background
            try:
                page = self.static_html()
            finally:
                self.update, self.sliders, self.alt, self.caption = update, sliders, alt, caption
                self._background = None                 # the next draw lays out the original again
        shown = ", ".join(_TranslatedSlider(s, lang).valuetext(s.default) for s in sliders)
        notice = i18n.translate(_NOSCRIPT, lang).format(shown=html.escape(shown))
        return re.sub(r"<noscript>.*?</noscript>", lambda _: notice, page, count=1, flags=re.S)

    def _default_index(self):
        index = 0
        for s in self.sliders:
            index = index * len(s.values) + s.index
        return index

    def widget(self):
        import ipywidgets as widgets

        png, readout = self.render()
        width = int(round(self.fig.get_figwidth() * self.fig.dpi))
        image = widgets.Image(value=png, format="png", width=width,
                              layout=widgets.Layout(max_width="100%", height="auto"))
        text = widgets.HTML(value=html.escape(readout))
        controls = []
        for s in self.sliders:
            control = widgets.SelectionSlider(
                options=[(s.text(v), v) for v in s.values], value=s.default, description=s.label,
                continuous_update=True, style={"description_width": "initial"},
                layout=widgets.Layout(width="420px"))
            controls.append(control)

        def on_change(_change):
            values = {s.name: c.value for s, c in zip(self.sliders, controls)}
            image.value, readout = self.render(**values)
            text.value = html.escape(readout)

        for control in controls:
            control.observe(on_change, names="value")
        return widgets.VBox([image, widgets.HBox(controls, layout=widgets.Layout(flex_flow="row wrap")),
                             text], layout=widgets.Layout(align_items="flex-start"))

    def _ipython_display_(self):
        from IPython.display import publish_display_data

        _benchmark_hook(self)
        data = {"text/plain": f"<interactive figure: {self.alt}>", "text/html": self.static_html()}
        for lang in i18n.editions()[1]:                  # the other editions' twins (lib/i18n.py)
            with i18n.timed("twin"):
                data[i18n.variant_mime("text/html", lang)] = self.static_html_in(lang)
        try:
            view = self.widget()
            data["application/vnd.jupyter.widget-view+json"] = {
                "model_id": view.model_id, "version_major": 2, "version_minor": 0}
        except Exception:  # no widget support (plain Python): the static twin still shows
            pass
        publish_display_data(data)


_NOSCRIPT = (
    '<noscript><p class="optbook-noscript" role="note"><strong>JavaScript is off:</strong> '
    'this figure shows one setting only ({shown}); its sliders move but nothing redraws. '
    'Everything else on the page works. To use the figure, turn JavaScript on, or run the chapter '
    'live: download the notebook (the download button at the top of the page) and open it with '
    '<code>make lab</code>, or use the page\'s launch buttons (Binder, Colab) where they are '
    'shown.</p></noscript>')
"""The twin's notice without JavaScript, as a catalogue template (the other editions' twins)."""


class _TranslatedSlider:
    """A slider whose label and shown values are in ``lang``; ``update`` still gets the values."""

    def __init__(self, slider, lang):
        self._slider, self._lang = slider, lang
        self.label = i18n.translate(slider.label, lang)

    def __getattr__(self, name):
        return getattr(self._slider, name)

    def text(self, value):
        return i18n.translate(self._slider.text(value), self._lang)

    def valuetext(self, value):
        return f"{self.label}: {self.text(value)}" if isinstance(value, str) else f"{self.label} = {self.text(value)}"


def _translated_update(update, again, lang):
    def translated_update(**values):
        readout = update(**values)
        again()                                  # the texts update has just set
        return i18n.translate(str(readout or ""), lang)
    return translated_update


def interactive(fig, update, *sliders, alt, caption=""):
    """Make ``fig`` interactive: ``update(**slider_values)`` redraws its animated artists.

    Returns an :class:`InteractiveFigure`; leave it as the last expression of a cell to display it.
    """
    if not sliders:
        raise ValueError("sliders must be at least one slider, got none")
    _checks.function("update", update, "a function update(**slider_values) -> readout")
    for slider in sliders:
        if not isinstance(slider, Slider):
            raise ValueError(f"sliders must be Slider objects (from lr_slider, beta_slider, ...), "
                             f"got {_checks.shown(slider)}")
    if not isinstance(alt, str) or not alt.strip():
        raise ValueError(f"alt must be a text describing the figure, got {_checks.shown(alt)}")
    primary = i18n.editions()[0]
    if primary != "en":                 # a learner's kernel in another language: draw in it for good
        again = i18n.translated(fig, primary).__enter__()       # never restored
        update = _translated_update(update, again, primary)
        sliders = [_TranslatedSlider(s, primary) for s in sliders]
        alt, caption = i18n.translate(alt, primary), i18n.translate(caption, primary)
    return InteractiveFigure(fig, update, tuple(sliders), alt, caption)


def _png(rgba, method=Image.Quantize.MEDIANCUT):
    """A small PNG of an RGBA frame: a 128-colour palette, visually the same as the original.

    Median cut keeps colours within a few levels (static frames, made once at build time); the
    live widget passes FASTOCTREE, three times faster and within about 15 levels.
    """
    image = Image.fromarray(rgba[..., :3]).quantize(colors=128, method=method, dither=Image.Dither.NONE)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=False, compress_level=6)
    return buffer.getvalue()


def _overlay_png(rgba, background):
    """PNG of the pixels of ``rgba`` that differ from ``background``; the others transparent.

    Only the changed pixels are quantised (255 colours; index 255 is clear), as one row: the
    palette is spent on them alone, and median cut, the slow part of a static frame, sees a
    fraction of the figure. Pixels are compared as whole RGB words (one uint32 per pixel, alpha
    masked off), which is exactly the channel-by-channel comparison at a thirtieth of its cost.
    """
    changed = _rgb_words(rgba) != _rgb_words(background)
    indices = np.full(changed.shape, 255, dtype=np.uint8)
    palette = []
    if changed.any():
        pixels = np.ascontiguousarray(rgba[..., :3][changed])[None]       # (1, N, 3)
        row = Image.fromarray(pixels).quantize(
            colors=255, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
        indices[changed] = np.asarray(row)[0]
        palette = row.getpalette()[: 3 * 255]
    overlay = Image.fromarray(indices, mode="P")
    overlay.putpalette(palette + [255, 255, 255] * (256 - len(palette) // 3))
    buffer = io.BytesIO()
    overlay.save(buffer, format="PNG", transparency=255, optimize=False, compress_level=6)
    return buffer.getvalue()


_RGB_MASK = np.frombuffer(bytes([255, 255, 255, 0]), dtype=np.uint32)[0]


def _rgb_words(rgba):
    """Each RGBA pixel as one uint32 with its alpha byte zeroed (byte order independent)."""
    return np.ascontiguousarray(rgba, dtype=np.uint8).view(np.uint32)[..., 0] & _RGB_MASK


def measure_latency(figure, moves=30, seed=0):
    """Time ``moves`` random slider changes, uncached (update + redraw + PNG), in milliseconds."""
    rng = np.random.default_rng(seed)
    figure.draw()                                           # the background is cached once
    times = []
    for _ in range(moves):
        values = {s.name: s.values[rng.integers(len(s.values))] for s in figure.sliders}
        start = time.perf_counter()
        rgba, _ = figure.draw(**values)
        _png(rgba, Image.Quantize.FASTOCTREE)
        times.append((time.perf_counter() - start) * 1e3)
    return np.array(times)


def _benchmark_hook(figure):
    """When the benchmark runs the book (OPTBOOK_BENCH_FILE set), record this figure's latency."""
    path = os.environ.get("OPTBOOK_BENCH_FILE")
    if not path:
        return
    start = time.perf_counter()
    times = measure_latency(figure)
    record = {"name": figure.alt[:70], "p50_ms": float(np.percentile(times, 50)),
              "p95_ms": float(np.percentile(times, 95)), "moves": len(times),
              "frames": int(np.prod([len(s.values) for s in figure.sliders])),
              "measure_s": time.perf_counter() - start}
    with open(path, "a") as out:
        out.write(json.dumps(record) + "\n")
