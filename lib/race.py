"""Races: the book's five optimizers on one problem, swept over a grid of learning rates.

A fair comparison gives each optimizer its own best learning rate, and a useful one also says how
wide the range of good learning rates is (how forgiving the optimizer is). :func:`sweep` runs one
optimizer at every learning rate of a grid in a single vectorised :func:`lib.surfaces.run` and
records, for each, the step from which the loss *stays* within a tolerance of the minimum
(:func:`settled_at`, the book's one definition from :mod:`lib.convergence`; a run that touches the
tolerance once and bounces out does not count). The range it reports is the longest unbroken run of
grid rates that settle (:meth:`Sweep.unbroken_window`), with any other settling rate named as isolated.

>>> from lib.surfaces import narrow_valley
>>> result = sweep(narrow_valley(), "SGD", lr_grid(0.01, 2.0), steps=200, tol=1e-3)
>>> result.best_lr < 2 / narrow_valley().lambda_max      # SGD's best lr is below the threshold 1.0
True
"""

from dataclasses import dataclass

import numpy as np

from . import _checks, convergence, optimizers
from .surfaces import run

NAMES = ("SGD", "Momentum", "RMSProp", "Adam", "AdamW")
"""The five optimizers, in the order of the chapters."""

SETTINGS = {
    "SGD": {},
    "Momentum": {"beta": 0.9},
    "RMSProp": {"beta": 0.99},
    "Adam": {"beta1": 0.9, "beta2": 0.999},
    "AdamW": {"beta1": 0.9, "beta2": 0.999, "weight_decay": 0.01},
}
"""The hyperparameters other than lr used in a race: the usual defaults (PyTorch's for RMSProp and
AdamW)."""

FAMILIES = {"SGD": "plain", "Momentum": "plain", "RMSProp": "adaptive", "Adam": "adaptive",
            "AdamW": "adaptive"}
"""Plain-gradient optimizers step in proportion to the gradient; adaptive ones divide it by its
recent size, so their good learning rates sit on a different scale."""

MAX_GRID = 10_000
"""The most learning rates :func:`lr_grid` makes."""

GRID_RATIO = np.sqrt(2)
"""Neighbouring learning rates of :func:`lr_grid` differ by this factor (two grid points = x2)."""


def lr_grid(low, high, ratio=GRID_RATIO):
    """Learning rates ``low * ratio**k`` for k = 0, 1, ... up to ``high`` (a column, shape (n, 1)).

    >>> lr_grid(0.25, 1.0).ravel()
    array([0.25      , 0.35355339, 0.5       , 0.70710678, 1.        ])
    """
    low = _checks.scalar("low", low, 0.0, low_open=True)
    high = _checks.real_array("high", high, f"a real number > low = {low!r}")
    if high.ndim != 0 or not (np.isfinite(high) and high > low):
        raise ValueError(f"high must be a finite number > low (need 0 < low < high), got "
                         f"low={low!r}, high={_checks.show(high)}")
    high = float(high)
    ratio = _checks.scalar("ratio", ratio, 1.0, low_open=True)
    count = int(np.floor(np.log(high / low) / np.log(ratio) + 1e-9)) + 1
    if count > MAX_GRID:
        raise ValueError(f"ratio must be large enough for at most {MAX_GRID} rates between low and "
                         f"high, got {ratio!r} ({count} rates)")
    return (low * ratio ** np.arange(count))[:, None]


def make_optimizer(name, lr, **overrides):
    """A fresh optimizer ``name`` with learning rate ``lr`` and the race's :data:`SETTINGS`."""
    name = _checks.choice("name", name, NAMES)
    unknown = sorted(set(overrides) - set(getattr(optimizers, name)._arg_names))
    if unknown:
        raise ValueError(f"overrides must be hyperparameters of {name} "
                         f"{list(getattr(optimizers, name)._arg_names[1:])}, got {unknown}")
    return getattr(optimizers, name)(lr, **{**SETTINGS[name], **overrides})


def settled_at(losses, min_loss, tol):
    """The first step from which ``losses - min_loss < tol`` holds to the end of the run.

    ``losses`` has shape (steps + 1, ...); the answer is an int or None for one run, an int array with
    -1 for "never" for a sweep (as :func:`lib.surfaces.steps_to_tolerance` reports). This is the book's
    one definition of "settled", :func:`lib.convergence.settled_at` (which also takes a ``window``).

    >>> settled_at(np.array([5.0, 0.1, 2.0, 0.1, 0.01]), 0.0, tol=0.5)     # it bounced at step 2
    3
    """
    return convergence.settled_at(losses, min_loss, tol)


def minibatch(problem, batch_size, seed=0):
    """A gradient function drawing minibatches of ``batch_size`` from ``problem`` (seeded)."""
    if not callable(getattr(problem, "minibatch_grad", None)):
        raise ValueError(f"problem must have minibatch_grad (a NoisyRegression), got "
                         f"{_checks.shown(problem)}")
    batch_size = _checks.count("batch_size", batch_size, minimum=1)
    rng = np.random.default_rng(_checks.seed("seed", seed))
    return lambda w: problem.minibatch_grad(w, batch_size, rng)


@dataclass
class Sweep:
    """One optimizer at every learning rate of a grid.

    Attributes:
        name: the optimizer's name.
        lrs: the learning rates, shape (n,).
        result: the :class:`lib.surfaces.RunResult` of the sweep (trajectories of shape (steps+1, n, 2)).
        settled: int array (n,), the step from which each run stays within ``tol`` (-1: never).
        tol: the tolerance.
    """

    name: str
    lrs: np.ndarray
    result: object
    settled: np.ndarray
    tol: float

    @property
    def ok(self):
        """Which learning rates settled."""
        return self.settled >= 0

    @property
    def best_index(self):
        """The index of the learning rate that settles first (the smallest such lr on a tie); -1 if none."""
        if not self.ok.any():
            return -1
        return int(np.argmin(np.where(self.ok, self.settled, np.iinfo(int).max)))

    @property
    def best_lr(self):
        return float(self.lrs[self.best_index]) if self.best_index >= 0 else None

    @property
    def best_steps(self):
        return int(self.settled[self.best_index]) if self.best_index >= 0 else None

    @property
    def reference_index(self):
        """:attr:`best_index`, or if no learning rate settles, the one with the lowest final loss."""
        if self.best_index >= 0:
            return self.best_index
        final = self.result.losses[-1]
        if np.all(np.isnan(final)):
            return 0
        return int(np.nanargmin(final))

    def window(self):
        """The smallest and largest grid learning rates that settle: (low, high), or (None, None).

        Rates in between need not all settle (an adaptive optimizer can settle at a small and a large
        rate and bounce at one in between): :attr:`ok` says which do. For a range to report, use
        :meth:`unbroken_window`, which does not bridge such gaps.
        """
        if not self.ok.any():
            return None, None
        settled_lrs = self.lrs[self.ok]
        return float(settled_lrs.min()), float(settled_lrs.max())

    def window_is_clipped(self):
        """True if the first or last learning rate of the grid settles (the window may be wider)."""
        return bool(self.ok[0] or self.ok[-1])

    def unbroken(self):
        """The longest unbroken run of neighbouring grid rates that all settle: a
        :class:`lib.convergence.UnbrokenRun` (its ``outside`` lists the settling rates outside it)."""
        return convergence.unbroken_run(self.ok)

    def unbroken_window(self):
        """The smallest and largest learning rate of :meth:`unbroken`: (low, high), or (None, None).

        Every grid rate from low to high settles; this is the range the book reports.
        """
        return self.unbroken().ends(self.lrs)

    def isolated_lrs(self):
        """The learning rates that settle outside :meth:`unbroken_window` (an array, maybe empty)."""
        return self.lrs[self.unbroken().outside]

    def unbroken_is_clipped(self):
        """True if :meth:`unbroken_window` reaches the first or last rate of the grid (the range may
        be wider than the grid shows)."""
        run = self.unbroken()
        return run.length > 0 and (run.start == 0 or run.stop == len(self.lrs))

    def first_touch(self):
        """For each learning rate the first step within ``tol``, whether or not it stays (-1: never)."""
        return np.atleast_1d(convergence.first_touch(self.result.losses, self.result.min_loss, self.tol))

    def index_of(self, lr):
        """The grid index of ``lr`` (which must be on the grid, up to rounding)."""
        lr = _checks.scalar("lr", lr, 0.0)
        matches = np.flatnonzero(np.isclose(self.lrs, lr, rtol=1e-9))
        if not matches.size:
            raise ValueError(f"lr {lr!r} is not on this sweep's grid [{self.lrs[0]:.3g}, {self.lrs[-1]:.3g}]")
        return int(matches[0])


def escape_bound(problem, factor=2.0):
    """``factor`` times the farthest corner of the problem's plotting window from the origin.

    A run that goes farther than this has left the picture for good: :func:`sweep` counts it as
    diverged (:func:`lib.surfaces.run`'s ``bound``), even if it would have found its way back.
    """
    if not (hasattr(problem, "xlim") and hasattr(problem, "ylim")):
        raise ValueError(f"problem must be a surface (with xlim and ylim), got {_checks.shown(problem)}")
    factor = _checks.scalar("factor", factor, 0.0, 1e100, low_open=True)
    corner = max(abs(v) for v in (*problem.xlim, *problem.ylim))
    return factor * float(np.hypot(corner, corner))


def sweep(problem, name, lrs, steps, tol, batch_size=None, seed=0, bound=None, **overrides):
    """Run optimizer ``name`` on ``problem`` at every learning rate in ``lrs``; a :class:`Sweep`.

    ``batch_size`` (for a problem with ``minibatch_grad``) trains on minibatch gradients drawn with
    ``np.random.default_rng(seed)``; the recorded loss is always the full loss. A run that leaves
    ``bound`` (default :func:`escape_bound`) counts as diverged.
    """
    name = _checks.choice("name", name, NAMES)
    lrs = _checks.non_negative("lrs", lrs)
    lrs = np.asarray(lrs, dtype=float).reshape(-1, 1)
    if lrs.size == 0:
        raise ValueError("lrs must hold at least one learning rate, got none")
    tol = _checks.scalar("tol", tol, 0.0)
    grad = None if batch_size is None else minibatch(problem, batch_size, seed)
    bound = escape_bound(problem) if bound is None else bound
    result = run(make_optimizer(name, lrs, **overrides), problem, steps=steps, grad=grad, bound=bound)
    settled = settled_at(result.losses, problem.min_loss, tol)
    return Sweep(name, lrs.ravel(), result, np.atleast_1d(settled), tol)


def sweep_all(problem, lrs, steps, tol, batch_size=None, seed=0, names=NAMES):
    """:func:`sweep` for each optimizer in ``names``: a dict name -> :class:`Sweep`."""
    _checks.sequence("names", names, f"a sequence of optimizer names from {list(NAMES)}")
    names = [_checks.choice("names", name, NAMES) for name in names]
    return {name: sweep(problem, name, lrs, steps, tol, batch_size, seed) for name in names}
