"""The house palette: colour-blind safe by simulation, and shades() for one optimizer's settings.

The simulation matrices are Machado, Oliveira & Fernandes (2009), "A physiologically-based model for
simulation of color vision deficiency", IEEE TVCG 15(6), severity 1.0, applied to linear sRGB;
distances are CIE76 Delta E in CIELAB (D65). None of these numbers comes from lib.plots.
"""

import itertools

import numpy as np
import pytest

from lib import plots

MACHADO = {
    "normal": np.eye(3),
    "protanopia": [[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216],
                   [-0.003882, -0.048116, 1.051998]],
    "deuteranopia": [[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413],
                     [-0.011820, 0.042940, 0.968881]],
    "tritanopia": [[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602],
                   [0.004733, 0.691367, 0.303900]],
}
MIN_DELTA_E = 15.0      # the old tab10 colours: 4.6 (RMSProp/AdamW, protanopia), 7.3 (deuteranopia)


def _linear(hex_color):
    c = np.array([int(hex_color[i:i + 2], 16) / 255 for i in (1, 3, 5)])
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def _lab(linear_rgb):
    xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722],
                    [0.0193, 0.1192, 0.9505]]) @ np.clip(linear_rgb, 0, 1)
    t = xyz / np.array([0.95047, 1.0, 1.08883])
    f = np.where(t > (6 / 29) ** 3, np.cbrt(t), t / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def test_the_optimizers_keep_their_names():
    assert set(plots.COLORS) == {"SGD", "Momentum", "RMSProp", "Adam", "AdamW", "Adam + L2"}


@pytest.mark.parametrize("vision", MACHADO)
def test_every_pair_of_house_colours_stays_apart(vision):
    matrix = np.array(MACHADO[vision])
    lab = {name: _lab(matrix @ _linear(c)) for name, c in plots.COLORS.items()}
    for a, b in itertools.combinations(lab, 2):
        assert np.linalg.norm(lab[a] - lab[b]) >= MIN_DELTA_E, (vision, a, b)


def test_shades_differ_by_more_than_hue():
    styles = plots.shades("RMSProp", 4)
    assert len({s["ls"] for s in styles}) == 4 and len({s["marker"] for s in styles}) == 4
    lightness = [_lab(_linear(s["color"]))[0] for s in styles]
    assert all(b - a > 8 for a, b in zip(lightness, lightness[1:]))     # darker to lighter
    assert plots.shades("RMSProp", 1)[0]["color"] == plots.COLORS["RMSProp"].lower()
    assert plots.shades("#000000", 2)[0]["color"] == "#000000"          # any colour will do


@pytest.mark.parametrize("bad", [{"name": "Lion"}, {"name": 3}, {"n": 0}, {"n": 6},
                                 {"markevery": 0.0}, {"markevery": 2.0}])
def test_shades_bad_arguments_name_themselves(bad):
    args = {"name": "Adam", "n": 3, **bad}
    with pytest.raises(ValueError, match=next(iter(bad))):
        plots.shades(**args)


def test_describe_says_one_step_not_one_steps():
    """plots.describe counts steps in words a reader expects: "1 step", "2 steps" (issue 12)."""
    from types import SimpleNamespace as Run
    # settles at step 1 and stays: the loss is within 1e-6 from step 1 to the end
    assert plots.describe(Run(losses=[5.0, 1e-7, 1e-8], diverged_at=None)).startswith(
        "converged in 1 step (")
    assert plots.describe(Run(losses=[5.0, 2.0, 1e-7], diverged_at=None)).startswith(
        "converged in 2 steps (")
    # a one-step run that does not get there
    assert plots.describe(Run(losses=[5.0, 2.0], diverged_at=None)) == "after 1 step the loss is 2"
    assert plots.describe(Run(losses=[5.0, 1e-7, 2.0], diverged_at=None)) == (
        "touched 1e-06 of the minimum at step 1 but did not stay; after 2 steps the loss is 2")
    assert plots.describe(Run(losses=[5.0, 1e-7], diverged_at=None)).startswith("converged in 1 step (")


def test_a_long_status_text_does_not_squeeze_the_axes():
    """The first frame fixes the constrained layout: a long readout there must not shrink the axes
    (the Beyond chapter's Lion figure was drawn at a third of its width)."""
    def axes_boxes(message):
        fig, axes = plots.new_figure(ncols=2, width=8.4, height=3.5)
        plots.status_text(axes[1]).set_text(message)
        fig.canvas.draw()
        return [ax.get_position().bounds for ax in axes]

    short = axes_boxes("ok")
    long = axes_boxes("after 200 steps the loss is 0.00207; first touched 1e-3 at step 97, "
                      "left again at step 101, and never settled within the run")
    np.testing.assert_allclose(long, short)
