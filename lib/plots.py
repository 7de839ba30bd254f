"""The book's plot style and the figure pieces chapters share: contours, trajectories, loss curves.

Figures that sliders redraw are built with :func:`new_figure` (not pyplot, so a cell does not also
print them as a static image), with fixed axes: a run that diverges leaves the frame and
:func:`describe` says so, instead of the axes rescaling around it.
"""

import logging
import warnings
from contextlib import contextmanager
from pathlib import Path

import matplotlib as mpl
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure

from . import _checks, convergence, i18n

COLORS = {
    "SGD": "#0072B2",          # blue
    "Momentum": "#D55E00",     # vermillion (a red)
    "RMSProp": "#009E73",      # bluish green
    "Adam": "#CC79A7",         # reddish purple
    "AdamW": "#E69F00",        # orange
    "Adam + L2": "#6B3D00",    # dark brown
}
"""One colour per optimizer, the same in every chapter, safe for colour-blind readers.

The first five are Okabe and Ito's colour-blind-safe palette ("Color Universal Design", 2002),
with each optimizer keeping the hue it had before (SGD blue, Momentum red, RMSProp green, Adam
purple, AdamW orange); Adam + L2 is a dark brown, far darker than AdamW's orange, beside which it
is drawn. ``tests/test_plots.py`` checks that every pair stays apart for protanopia, deuteranopia
and tritanopia (simulated). Hue alone is not enough in greyscale: where one figure draws several
optimizers, or one optimizer over several settings (:func:`shades`), lines also differ in style
and markers.
"""

LINESTYLES = ("-", "--", ":", "-.", (0, (5, 1, 1, 1, 1, 1)))
"""Line styles for :func:`shades`, in order: solid, dashed, dotted, dash-dot, dash-dot-dot."""

MARKERS = ("o", "s", "^", "D", "v")
"""Markers for :func:`shades`, in order (each shape differs in greyscale too)."""


def shades(name, n, markevery=0.1):
    """Line styles for ``n`` settings of one optimizer (three betas, say): ``ax.plot(..., **style)``.

    The colour is the optimizer's (:data:`COLORS`, or any matplotlib colour), from darker to
    lighter, and each setting has its own line style and marker as well, so the lines stay apart in
    greyscale and for colour-blind readers, not by hue alone. ``markevery`` is matplotlib's: a
    float spaces markers evenly along the drawn line (as a fraction of the axes' diagonal), also
    on log axes.

    >>> [(s["color"], s["ls"], s["marker"]) for s in shades("RMSProp", 3)]
    [('#004734', '-', 'o'), ('#009e73', '--', 's'), ('#59c0a4', ':', '^')]
    """
    from matplotlib.colors import to_hex, to_rgb

    if not isinstance(name, str):
        raise ValueError(f"name must be an optimizer in COLORS ({', '.join(COLORS)}) or a "
                         f"matplotlib colour, got {_checks.shown(name)}")
    try:
        base = np.array(to_rgb(COLORS.get(name, name)))
    except ValueError:
        raise ValueError(f"name must be an optimizer in COLORS ({', '.join(COLORS)}) or a "
                         f"matplotlib colour, got {_checks.shown(name)}") from None
    n = _checks.count("n", n, minimum=1, maximum=len(MARKERS))
    markevery = _checks.scalar("markevery", markevery, 0.0, 1.0, low_open=True, high_open=False)
    # from 55 % of the way to black to 35 % of the way to white (lighter would fade on white
    # paper); the middle setting of an odd number keeps the colour itself
    mix = np.linspace(-1.0, 1.0, n) if n > 1 else np.zeros(1)
    mix = np.where(mix < 0, 0.55 * mix, 0.35 * mix)
    styles = []
    for i, m in enumerate(mix):
        color = base * (1 + m) if m < 0 else base + (1 - base) * m
        styles.append({"color": to_hex(np.clip(color, 0, 1)), "ls": LINESTYLES[i],
                       "marker": MARKERS[i], "markevery": float(markevery), "ms": 4.5})
    return styles


STYLE = {
    "figure.facecolor": "white",
    "axes.facecolor": "white",
    "savefig.facecolor": "white",
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "legend.fontsize": 9,
    "legend.framealpha": 0.9,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "lines.linewidth": 1.8,
    "figure.dpi": 100,
    "savefig.dpi": 100,
    "image.cmap": "viridis",
    # DejaVu Sans (matplotlib's own) draws Latin, Greek and U+2212; Hangul falls back to the
    # book's Korean subset (KOREAN_FONT), so a figure of the Korean edition has no empty boxes.
    "font.family": ["DejaVu Sans", "Optbook Korean"],
    # mathtext has no font fallback: a label mixing Hangul and $math$ is drawn with the "custom"
    # math fonts (lib/i18n.translated sets it on such labels only), which are the Korean subset
    # (it has Latin, Greek and U+2212 too) with STIX Sans for the symbols it lacks.
    "mathtext.rm": "Optbook Korean",
    "mathtext.it": "Optbook Korean",
    "mathtext.bf": "Optbook Korean",
    "mathtext.sf": "Optbook Korean",
    "mathtext.cal": "Optbook Korean",
    "mathtext.fallback": "stixsans",
}
"""rcParams of the house style (white backgrounds keep figures readable in the site's dark mode)."""

KOREAN_FONT = Path(__file__).resolve().parents[1] / "_static" / "fonts" / "optbook-korean.otf"
"""The Hangul the book uses, subset from Noto Sans CJK KR (OFL; tools/make_korean_font.py)."""

GLYPH_MISSING = r"Glyph \d+ .*missing from font"
"""matplotlib's warning for a character no font has: an error in the house style."""


def _register_korean_font():
    from matplotlib import font_manager

    if not KOREAN_FONT.is_file():      # a worksheet's copy of lib: no Korean figures, no font
        return
    if "Optbook Korean" not in {f.name for f in font_manager.fontManager.ttflist}:
        font_manager.fontManager.addfont(str(KOREAN_FONT))


def _quiet_weight_fallback(record):
    """The subset has one weight: bold text draws its Hangul regular, without a log line per label."""
    return not ("Failed to find font weight" in record.getMessage() and "Optbook Korean" in record.getMessage())


_register_korean_font()
logging.getLogger("matplotlib.font_manager").addFilter(_quiet_weight_fallback)


def use_house_style():
    """Apply :data:`STYLE` to matplotlib for this session (a chapter's first cell calls it).

    A character that no font of the style has (matplotlib's "Glyph ... missing from font(s)"
    warning) is an error from then on, and displayed figures carry the other editions' variants
    when the build asks for them (:func:`lib.i18n.install`).
    """
    mpl.rcParams.update(STYLE)
    warnings.filterwarnings("error", message=GLYPH_MISSING, category=UserWarning)
    mathtext_log = logging.getLogger("matplotlib.mathtext")
    if _glyph_missing_in_math not in mathtext_log.filters:
        mathtext_log.addFilter(_glyph_missing_in_math)
    i18n.install()


def _glyph_missing_in_math(record):
    """mathtext only logs a missing glyph ("substituting with a dummy symbol"): raise instead."""
    message = record.getMessage()
    if "does not have a glyph" in message:
        raise UserWarning(f"Glyph missing from font(s) in a math text: {message}")
    return True


@contextmanager
def house_style():
    """The house style inside a ``with`` block only."""
    with mpl.rc_context(STYLE):
        yield


def new_figure(ncols=1, nrows=1, width=8.0, height=3.6, **subplot_kw):
    """A Figure with an Agg canvas (outside pyplot), and its axes, in the house style."""
    ncols = _checks.count("ncols", ncols, minimum=1, maximum=12)
    nrows = _checks.count("nrows", nrows, minimum=1, maximum=12)
    width = _checks.scalar("width", width, 0.5, 40.0, high_open=False)
    height = _checks.scalar("height", height, 0.5, 40.0, high_open=False)
    with mpl.rc_context(STYLE):
        fig = Figure(figsize=(width, height), layout="constrained")
        FigureCanvasAgg(fig)
        axes = fig.subplots(nrows, ncols, squeeze=False, subplot_kw=subplot_kw)
    return fig, (axes[0, 0] if axes.size == 1 else axes.ravel())


def contour(ax, surface, n=200, levels=None, filled=True):
    """Draw ``surface``'s loss as contours over its window, mark its minima, and fix the axes."""
    x = np.linspace(*surface.xlim, n)
    y = np.linspace(*surface.ylim, n)
    grid = np.stack(np.meshgrid(x, y), axis=-1)
    z = surface.loss(grid)
    if levels is None:
        levels = getattr(surface, "levels", None)
    if levels is None:
        levels = 20
    positive = np.all(np.asarray(levels) > 0) if np.ndim(levels) else False
    norm = LogNorm() if positive else None
    if filled:
        ax.contourf(x, y, z, levels=levels, cmap="Blues_r", alpha=0.55, norm=norm, extend="both")
    ax.contour(x, y, z, levels=levels, colors="0.35", linewidths=0.5, alpha=0.7, norm=norm)
    for point in np.atleast_2d(getattr(surface, "minima", np.empty((0, 2)))):
        ax.plot(*point, marker="*", color="gold", markeredgecolor="k", markersize=13, zorder=5)
    fix_axes(ax, surface.xlim, surface.ylim)
    ax.set_xlabel("$w_1$")
    ax.set_ylabel("$w_2$")
    ax.set_aspect("equal", adjustable="box")
    return ax


def fix_axes(ax, xlim, ylim):
    """Freeze the axes' limits so later data never rescales them."""
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_autoscale_on(False)


def trajectory_line(ax, label, color=None, animated=True, **kwargs):
    """An empty line with dots at each step, for :func:`set_trajectory` to fill."""
    options = dict(marker="o", markersize=2.5, color=color or COLORS.get(label))
    options.update(kwargs)
    (line,) = ax.plot([], [], "-", label=label, animated=animated, **options)
    return line


def set_trajectory(line, trajectory):
    """Show a trajectory of shape (steps + 1, 2); NaN entries after a divergence are not drawn."""
    trajectory = np.asarray(trajectory, dtype=float)
    line.set_data(trajectory[:, 0], trajectory[:, 1])


def status_text(ax, animated=True, **kwargs):
    """A text artist in the axes' upper left for a message such as "diverged at step 12".

    It takes no part in the figure's layout (``in_layout=False``): the first frame drawn fixes the
    constrained layout of every frame, and a long message there would squeeze the axes.
    """
    options = dict(transform=ax.transAxes, va="top", ha="left", fontsize=10, in_layout=False,
                   bbox=dict(boxstyle="round,pad=0.3", fc="white", ec="0.7", alpha=0.9))
    options.update(kwargs)
    return ax.text(0.02, 0.97, "", animated=animated, **options)


def describe(result, tol=1e-6, min_loss=0.0, name=""):
    """One line about a run: "diverged at step 12", "converged in 43 steps", or the final loss.

    "Converged" is :func:`lib.convergence.settled_at`: the loss stays within ``tol`` of the minimum
    from that step to the end of the run. A run that dips below and leaves again is said to have
    touched the tolerance, with its first step there.

    >>> from types import SimpleNamespace
    >>> describe(SimpleNamespace(losses=[5.0, 1e-7, 2.0, 1e-7, 1e-8], diverged_at=None))
    'converged in 3 steps (loss stays within 1e-06 of the minimum; first below at step 1)'
    >>> describe(SimpleNamespace(losses=[5.0, 1e-7, 2.0], diverged_at=None))
    'touched 1e-06 of the minimum at step 1 but did not stay; after 2 steps the loss is 2'

    ``result`` has ``losses`` (steps + 1 values) and ``diverged_at`` (a step or None).
    """
    if not hasattr(result, "losses"):
        raise ValueError(f"result must be a run's result (with losses and diverged_at), got "
                         f"{_checks.shown(result)}")
    tol = _checks.scalar("tol", tol, 0.0, low_open=True)
    min_loss = _checks.finite("min_loss", min_loss)
    if not isinstance(name, str):
        raise ValueError(f"name must be a string, got {_checks.shown(name)}")
    prefix = f"{name}: " if name else ""
    diverged_at = getattr(result, "diverged_at", None)
    if diverged_at is not None and np.ndim(diverged_at) == 0 and int(diverged_at) >= 0:
        return f"{prefix}diverged at step {int(diverged_at)}"
    losses = np.asarray(result.losses, dtype=float)
    settled = convergence.settled_at(losses, min_loss, tol)        # the book's one definition
    touched = convergence.first_touch(losses, min_loss, tol)
    final = f"{losses[-1]:.3g}"
    run_steps = _steps(len(losses) - 1)
    if settled is not None:
        also = f"; first below at step {touched}" if touched < settled else ""
        return (f"{prefix}converged in {_steps(settled)} (loss stays within {tol:g} of the "
                f"minimum{also})")
    if touched is not None:
        return (f"{prefix}touched {tol:g} of the minimum at step {touched} but did not stay; "
                f"after {run_steps} the loss is {final}")
    return f"{prefix}after {run_steps} the loss is {final}"


def _steps(n):
    """'1 step', '0 steps', '43 steps'."""
    return f"{n} step" if n == 1 else f"{n} steps"


def loss_axes(ax, steps, ylim=(1e-8, 1e2), log=True, ylabel="loss"):
    """Fixed axes for loss-versus-step curves (log scale by default)."""
    if log:
        ax.set_yscale("log")
    fix_axes(ax, (0, steps), ylim)
    ax.set_xlabel("step")
    ax.set_ylabel(ylabel)
    return ax


def set_loss_curve(line, losses, floor=None):
    """Show a loss curve; values at or below ``floor`` (for log axes) are clipped to it."""
    losses = np.asarray(losses, dtype=float)
    if floor is not None:
        losses = np.where(np.isfinite(losses), np.maximum(losses, floor), np.nan)
    line.set_data(np.arange(len(losses)), losses)


def html_table(header, rows, caption=""):
    """A plain HTML table for computed numbers (every cell comes from code, none typed).

    >>> html_table(["lr", "steps"], [[0.1, 42]]).data[:46]
    '<table class="table optbook-table"><thead><tr>'
    """
    from IPython.display import HTML

    _checks.sequence("header", header, "a sequence of column titles")
    for row in _checks.sequence("rows", rows, "a sequence of rows (each a sequence of cells)"):
        _checks.sequence("rows", row, "a sequence of rows (each a sequence of cells)")
    if not isinstance(caption, str):
        raise ValueError(f"caption must be a string, got {_checks.shown(caption)}")
    head = "".join(f"<th>{h}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    cap = f"<caption>{caption}</caption>" if caption else ""
    return HTML(f'<table class="table optbook-table">{cap}<thead><tr>{head}</tr></thead>'
                f"<tbody>{body}</tbody></table>")
