"""The interactive-figure helper: both faces show what update() drew, and bad set-ups are refused."""

import base64
import io
import json
import re

import numpy as np
import pytest
from PIL import Image

from lib import plots
from lib.interactive import (MAX_FRAMES, choice_slider, interactive, linear_slider, log_slider,
                             lr_slider, measure_latency)


def make_figure(calls=None):
    fig, ax = plots.new_figure(width=4, height=3)
    plots.fix_axes(ax, (0, 1), (0, 1))
    ax.plot([0, 1], [1, 0], color="0.5")                   # background, drawn once
    (line,) = ax.plot([], [], color="red", animated=True)

    def update(height, width):
        if calls is not None:
            calls.append((height, width))
        line.set_data([0, width], [height, height])
        return f"h={height} w={width}"

    return interactive(fig, update, choice_slider("height", (0.2, 0.5, 0.8), 0.5),
                       choice_slider("width", (0.3, 1.0), 1.0), alt="a red line")


def decode(b64):
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(b64))).convert("RGBA"))


def twin_parts(html):
    spec = json.loads(re.search(r'class="optbook-frames">(.*?)</script>', html, re.S).group(1))
    background = re.search(r'class="optbook-frame" alt="[^"]*" src="data:image/png;base64,([^"]+)"',
                           html).group(1)
    return spec, decode(background)


def test_static_twin_holds_every_combination_in_c_order():
    calls = []
    figure = make_figure(calls)
    spec, _ = twin_parts(figure.static_html())
    assert spec["shape"] == [3, 2]
    assert len(spec["frames"]) == 6
    assert spec["readouts"] == ["h=0.2 w=0.3", "h=0.2 w=1.0", "h=0.5 w=0.3", "h=0.5 w=1.0",
                                "h=0.8 w=0.3", "h=0.8 w=1.0"]


def test_overlay_on_background_reproduces_the_drawn_frame():
    figure = make_figure()
    spec, background = twin_parts(figure.static_html())
    for index, (height, width) in enumerate([(h, w) for h in (0.2, 0.5, 0.8) for w in (0.3, 1.0)]):
        overlay = decode(spec["frames"][index])
        composed = np.where(overlay[..., 3:] > 0, overlay, background)[..., :3].astype(int)
        drawn, _ = figure.draw(height=height, width=width)
        # Quantising to a palette may move a colour by a few levels; nothing more.
        assert np.abs(composed - drawn[..., :3].astype(int)).max() <= 8
        # and the red line really is in the overlay: some strongly red pixels are opaque
        red = (overlay[..., 0] > 200) & (overlay[..., 1] < 80) & (overlay[..., 3] > 0)
        assert red.any()


def test_frames_differ_when_the_slider_moves():
    figure = make_figure()
    spec, _ = twin_parts(figure.static_html())
    assert len(set(spec["frames"])) == 6


def test_widget_shows_update_readout_and_redraws_on_change():
    calls = []
    figure = make_figure(calls)
    box = figure.widget()
    image, controls, readout = box.children
    assert readout.value == "h=0.5 w=1.0"
    first = image.value
    controls.children[0].value = 0.8
    assert readout.value == "h=0.8 w=1.0"
    assert image.value != first
    assert calls[-1] == (0.8, 1.0)


def test_default_snaps_to_the_grid_and_log_slider_is_geometric():
    slider = log_slider("lr", 1e-3, 1.0, 4, default=0.05)
    assert slider.values == (0.001, 0.01, 0.1, 1.0)
    assert slider.default == 0.1          # |0.1 - 0.05| < |0.01 - 0.05|
    steps = linear_slider("steps", 10, 50, 5, 30, integer=True)
    assert steps.values == (10, 20, 30, 40, 50)
    # A float default on an integer grid (the checked `default` is a float) takes the grid's int,
    # so the "{:d}" readout formats it: before the fix this raised "Unknown format code 'd'".
    assert type(steps.default) is int and steps.text(steps.default) == "30"
    assert linear_slider("k", 1, 5, 5, 3.0, integer=True).text(3) == "3"
    assert lr_slider().values[0] == 1e-3 and lr_slider().values[-1] == 1.0


def test_bad_set_ups_are_refused_with_a_clear_message():
    fig, _ = plots.new_figure()
    big = choice_slider("a", tuple(range(MAX_FRAMES + 1)), 0)
    with pytest.raises(ValueError, match="at most"):
        interactive(fig, lambda a: "", big, alt="x")
    with pytest.raises(ValueError, match="alt"):
        interactive(fig, lambda a: "", choice_slider("a", (1, 2), 1), alt="")
    with pytest.raises(ValueError, match="not one of"):
        choice_slider("mode", ("on", "off"), "maybe")
    with pytest.raises(ValueError, match="distinct"):
        interactive(fig, lambda a: "", choice_slider("a", (1,), 1), choice_slider("a", (2,), 2),
                    alt="x")


def test_measure_latency_times_real_redraws():
    calls = []
    figure = make_figure(calls)
    times = measure_latency(figure, moves=5)
    assert times.shape == (5,) and np.all(times > 0)
    assert len(calls) >= 6                # one background draw plus five timed moves


def test_sliders_announce_value_and_label_not_their_index():
    fig, ax = plots.new_figure(width=3, height=2)
    (line,) = ax.plot([], [], animated=True)
    figure = interactive(fig, lambda lr, bias_correction: "", lr_slider(1e-3, 1.0, 4, 0.1),
                         choice_slider("bias_correction", ("on", "off"), "on", "bias correction"),
                         alt="a line")
    page = figure.static_html()
    valuetexts = re.findall(r'aria-valuetext="([^"]*)"', page)
    assert valuetexts == ["learning rate lr = 0.1", "bias correction: on"]
    every = [json.loads(m.replace("&quot;", '"')) for m in re.findall(r'data-valuetexts="([^"]*)"', page)]
    assert every == [["learning rate lr = 0.001", "learning rate lr = 0.01", "learning rate lr = 0.1",
                      "learning rate lr = 1"], ["bias correction: on", "bias correction: off"]]


def test_without_javascript_the_twin_says_what_works_and_how_to_run_it_live():
    page = make_figure().static_html()
    notice = re.search(r"<noscript>(.*?)</noscript>", page, re.S).group(1)
    assert "JavaScript is off" in notice and "height = 0.5, width = 1" in notice
    assert "make lab" in notice and "launch buttons" in notice
    assert 'data-default-frame="3"' in page           # (0.5, 1.0) is frame 1 * 2 + 1 in C order
