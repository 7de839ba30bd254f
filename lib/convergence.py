"""When a run has converged, and which learning rates work: the book's one definition.

A run *settles* (converges, reaches a tolerance) at the first step from which its loss stays within
``tol`` of the minimum, ``losses - min_loss < tol``, to the end of the run, or, if a ``window`` is
given, for at least ``window`` more steps. Dipping under the tolerance once and bouncing out does not
count; that is :func:`first_touch`, which the book shows beside it only where the difference is the
point. A loss that is NaN (the run diverged) is never within the tolerance.

A *range* of good learning rates is the longest unbroken run of neighbouring grid points that
settle (:func:`unbroken_run`); good points outside it are isolated and are named as such, never
silently bridged.

>>> losses = np.array([5.0, 0.1, 2.0, 0.1, 0.01])      # touches at step 1, bounces, settles at 3
>>> first_touch(losses, 0.0, tol=0.5), settled_at(losses, 0.0, tol=0.5)
(1, 3)
>>> run = unbroken_run([False, True, True, True, False, False, True])
>>> run.start, run.stop, run.outside.tolist()            # grid points 1-3, and point 6 alone
(1, 4, [6])
"""

from dataclasses import dataclass

import numpy as np

from . import _checks


def within(losses, min_loss, tol):
    """``losses - min_loss < tol`` elementwise (False where the loss is NaN), shape of ``losses``.

    ``losses`` has a step axis first, shape (steps + 1, ...); ``min_loss`` is a real number
    (-inf allowed: then every finite loss is within); ``tol`` a number >= 0.
    """
    losses = _checks.real_array("losses", losses, "losses, an array (steps + 1, ...)")
    if losses.ndim == 0 or len(losses) == 0:
        raise ValueError("losses must have a step axis (an array of shape (steps + 1, ...)), "
                         f"got {_checks.show(losses)}")
    min_loss = _checks.real_array("min_loss", min_loss, "a real number (-inf allowed)")
    if min_loss.ndim != 0 or np.isnan(min_loss) or min_loss == np.inf:
        raise ValueError(f"min_loss must be a real number (-inf allowed), got {_checks.show(min_loss)}")
    tol = _checks.scalar("tol", tol, 0.0)
    with np.errstate(invalid="ignore", over="ignore"):
        return (losses - float(min_loss)) < tol


def first_touch(losses, min_loss, tol):
    """The first step k with ``losses[k] - min_loss < tol``, whether or not the loss stays there.

    ``losses`` has shape (steps + 1, ...). One run: an int, or None if never. A sweep (more axes):
    an int array with -1 for never.

    >>> first_touch([3.0, 0.5, 4.0], 0.0, tol=1.0)
    1
    """
    return _first(within(losses, min_loss, tol))


def settled_at(losses, min_loss, tol, window=None):
    """The first step from which ``losses - min_loss < tol`` holds to the end of the run.

    With ``window`` (a whole number of steps >= 0): the first step k from which it holds at
    k, k + 1, ..., k + window, all inside the run (so a run shorter than the window after its last
    dip never counts). ``window=None`` asks for the rest of the run, the book's default.

    ``losses`` has shape (steps + 1, ...); the answer is an int or None for one run, an int array
    with -1 for never for a sweep (as :func:`first_touch` and ``diverged_at`` report).

    >>> settled_at([5.0, 0.1, 2.0, 0.1, 0.01], 0.0, tol=0.5)
    3
    >>> settled_at([5.0, 0.1, 0.1, 2.0, 2.0], 0.0, tol=0.5, window=1)   # two steps in a row suffice
    1
    >>> settled_at([5.0, 0.1, 0.1, 2.0, 2.0], 0.0, tol=0.5) is None     # but it does not stay
    True
    """
    inside = within(losses, min_loss, tol)
    if inside.ndim == 0:
        raise ValueError("losses must have a step axis (shape (steps + 1, ...)), got a scalar")
    if window is None:
        stays = np.flip(np.logical_and.accumulate(np.flip(inside, axis=0), axis=0), axis=0)
        return _first(stays)
    window = _checks.count("window", window)
    n = inside.shape[0]
    if window + 1 > n:
        stays = np.zeros((0,) + inside.shape[1:], dtype=bool)
    else:
        # bad[k] counts the steps outside the tolerance among k, ..., k + window
        bad = np.cumsum(np.concatenate([np.zeros((1,) + inside.shape[1:]), ~inside]), axis=0)
        stays = (bad[window + 1:] - bad[:n - window]) == 0
    return _first(stays)


@dataclass(frozen=True)
class UnbrokenRun:
    """The longest unbroken run of good points on a grid (see :func:`unbroken_run`).

    Attributes:
        start, stop: the run is ``ok[start:stop]`` (``stop`` exclusive); both 0 if no point is good.
        outside: the indices of the good points outside the run, in grid order (isolated points
            and shorter runs).
        n_good: how many grid points are good in all.
    """

    start: int
    stop: int
    outside: np.ndarray
    n_good: int

    @property
    def length(self):
        """How many grid points the run holds."""
        return self.stop - self.start

    @property
    def indices(self):
        """The indices of the run's grid points."""
        return np.arange(self.start, self.stop)

    def ends(self, values):
        """The first and last of ``values`` (e.g. the grid's learning rates) in the run, as floats;
        (None, None) if no point is good."""
        if self.length == 0:
            return None, None
        values = np.ravel(values)
        return float(values[self.start]), float(values[self.stop - 1])


def unbroken_run(ok):
    """The longest unbroken run of True in the 1-d array ``ok``, plus the good points outside it.

    On a tie the run that comes first wins (on a learning-rate grid: the smaller rates).

    >>> r = unbroken_run([True, False, True, True, True, False, True, True])
    >>> (r.start, r.stop, r.length, r.outside.tolist(), r.n_good)
    (2, 5, 3, [0, 6, 7], 6)
    >>> unbroken_run([False, False]).length
    0
    """
    what = "a 1-d array of booleans (one per grid point)"
    try:
        ok = np.asarray(ok)
    except (TypeError, ValueError):
        raise ValueError(f"ok must be {what}, got {_checks.shown(ok)}") from None
    if ok.dtype.kind not in "biuf" or (ok.dtype.kind == "f" and not np.all(np.isfinite(ok))):
        raise ValueError(f"ok must be {what}, got {_checks.show(ok)} (dtype {ok.dtype})")
    if ok.ndim != 1:
        raise ValueError(f"ok must be a 1-d array of booleans (one per grid point), got shape {ok.shape}")
    ok = ok.astype(bool)
    padded = np.concatenate([[False], ok, [False]]).astype(np.int8)
    edges = np.diff(padded)
    starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    if not starts.size:
        return UnbrokenRun(0, 0, np.array([], dtype=int), 0)
    longest = int(np.argmax(stops - starts))                 # the first of the longest
    start, stop = int(starts[longest]), int(stops[longest])
    good = np.flatnonzero(ok)
    outside = good[(good < start) | (good >= stop)]
    return UnbrokenRun(start, stop, outside, int(good.size))


def _first(flags):
    """The first index along axis 0 where ``flags`` holds: int or None, or an int array with -1."""
    flags = np.asarray(flags, dtype=bool)
    if flags.shape[0] == 0:
        first = np.full(flags.shape[1:], -1)
    else:
        first = np.where(flags.any(axis=0), np.argmax(flags, axis=0), -1)
    if first.ndim == 0:
        return None if first < 0 else int(first)
    return first
