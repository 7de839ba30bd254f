"""Runs with minibatch noise, one independent stream of minibatches per seed, and their summaries.

A result that depends on the minibatches drawn is only a result if it holds from seed to seed. So a
noisy experiment in this book runs every setting under several seeds at once: :func:`seeded_runs` is
:func:`lib.surfaces.run` on a :class:`lib.surfaces.NoisyRegression` with weights of shape
(seeds, settings, 2), where the rows of seed ``k`` draw their minibatches from
``np.random.default_rng(seeds[k])`` only (so seed k's runs are the same whatever else runs beside
them). :func:`noise_floor` reads off where each run ends up, :func:`spread` the median and range
over the seeds.

>>> from lib.optimizers import SGD
>>> from lib.surfaces import NoisyRegression
>>> problem = NoisyRegression()
>>> result = seeded_runs(SGD(lr=np.array([[0.1], [0.3]])), problem, batch_size=5,
...                      seeds=range(4), steps=300)
>>> result.losses.shape                     # (steps + 1, seeds, settings)
(301, 4, 2)
>>> floors = noise_floor(result, window=100)
>>> floors.shape
(4, 2)
>>> low, mid, high = spread(floors)         # over the seeds
>>> bool(high[0] < low[1])                   # three times the lr: a higher floor in every seed
True
"""

import numpy as np

from . import _checks
from .surfaces import run


def _seeds(seeds):
    seeds = [_checks.seed("seeds (each)", seed) for seed in _checks.sequence("seeds", seeds,
                                                                            "a list of seeds")]
    if not seeds:
        raise ValueError("seeds must name at least one seed, got none")
    return [int(seed) for seed in seeds]


def _noisy_problem(problem):
    if not callable(getattr(problem, "minibatch_grad", None)):
        raise ValueError("problem must have minibatch gradients (a lib.surfaces.NoisyRegression), "
                         f"got {_checks.shown(problem)}")
    return problem


def seeded_minibatch_grad(problem, batch_size, seeds):
    """A gradient function for weights of shape (len(seeds), ..., 2): block k of the weights gets
    minibatch gradients (``problem.minibatch_grad``) drawn from ``np.random.default_rng(seeds[k])``.

    Each call draws fresh minibatches, so the function belongs to one run: make a new one per run.
    """
    problem = _noisy_problem(problem)
    batch_size = _checks.count("batch_size", batch_size, minimum=1)
    if batch_size > getattr(problem, "n_samples", batch_size):
        raise ValueError(f"batch_size must be in [1, {problem.n_samples}], got {batch_size}")
    seeds = _seeds(seeds)
    rngs = [np.random.default_rng(seed) for seed in seeds]

    def grad(w):
        w = np.asarray(w, dtype=float)
        if w.ndim < 2 or w.shape[0] != len(rngs):
            raise ValueError(f"w must have shape ({len(rngs)}, ..., 2), one block per seed, "
                             f"got shape {w.shape}")
        return np.stack([problem.minibatch_grad(block, batch_size, rng)
                         for block, rng in zip(w, rngs)])

    return grad


def seeded_runs(optimizer, problem, batch_size, seeds, steps, w0=None):
    """Run ``optimizer`` on ``problem`` with minibatches of ``batch_size``, once per seed.

    The optimizer's hyperparameters may have shape (settings, 1), as for any sweep; every setting
    runs under every seed from ``w0`` (default ``problem.start``). The result is a
    :class:`lib.surfaces.RunResult` whose ``losses`` have shape (steps + 1, seeds, settings) (or
    (steps + 1, seeds) for scalar hyperparameters), the full-batch loss at every point. The optimizer
    may be wrapped in a :class:`lib.history.Recorder` to keep its state at every step.
    """
    seeds = _seeds(seeds)
    problem = _noisy_problem(problem)
    batch_size = _checks.count("batch_size", batch_size, minimum=1)
    rule = getattr(optimizer, "optimizer", optimizer)   # a lib.history.Recorder wraps the rule
    if not (callable(getattr(rule, "step", None)) and hasattr(rule, "t")):
        raise ValueError("optimizer must be an optimizer from lib.optimizers (something with "
                         f"step(w, grad) and t), got {_checks.shown(optimizer)}")
    settings = np.broadcast_shapes(*(np.shape(value) for value in vars(rule).values()
                                     if isinstance(value, np.ndarray)), ())
    start = np.asarray(problem.start) if w0 is None else _checks.point("w0", w0)
    shape = (len(seeds),) + tuple(settings[:-1]) + (2,)
    starts = np.broadcast_to(start, shape)
    return run(optimizer, problem, starts, steps=steps,
               grad=seeded_minibatch_grad(problem, batch_size, seeds))


def noise_floor(result, window):
    """The mean excess loss ``losses - min_loss`` over the last ``window`` points of each run.

    NaN for a run that diverged (its losses are NaN from then on).
    """
    if not (hasattr(result, "losses") and hasattr(result, "min_loss")):
        raise ValueError(f"result must be a RunResult (what run returns), got {_checks.shown(result)}")
    window = _checks.count("window", window, minimum=1)
    losses = np.asarray(result.losses, dtype=float)
    if window > len(losses):
        raise ValueError(f"window must be at most the run's {len(losses)} points, got {window}")
    return np.mean(losses[-window:] - result.min_loss, axis=0)


def spread(values, axis=0):
    """(minimum, median, maximum) of ``values`` along ``axis`` (the seeds): the band a figure
    draws and the range a sentence quotes.

    >>> spread(np.array([3.0, 1.0, 2.0, 10.0]))
    (1.0, 2.5, 10.0)
    """
    values = _checks.real_array("values", values, "an array of numbers (seeds along axis)")
    if values.size == 0 or values.ndim == 0:
        raise ValueError(f"values must be a non-empty array, got {_checks.show(values)}")
    if isinstance(axis, (bool, np.bool_)) or not isinstance(axis, (int, np.integer)) \
            or not -values.ndim <= axis < values.ndim:
        raise ValueError(f"axis must be an axis of values (an int in [{-values.ndim}, "
                         f"{values.ndim})), got {_checks.shown(axis)}")
    low, mid, high = np.min(values, axis=axis), np.median(values, axis=axis), np.max(values, axis=axis)
    if low.ndim == 0:
        return float(low), float(mid), float(high)
    return low, mid, high
