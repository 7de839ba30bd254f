"""Experiments on the real-training layer that a chapter runs as one call.

:func:`decay_grid` trains the digits MLP (:mod:`lib.model`) over a grid of peak learning rate ×
weight decay twice, once with Adam + L2 and once with AdamW, in one vectorised run per optimizer
(a leading "settings" axis, :func:`lib.training.train`), and returns the final validation losses:
the experiment of Loshchilov & Hutter (2019, Fig. 2) on a small scale::

    grid = decay_grid(MLP(), split, lrs=np.geomspace(1e-3, 1e-1, 6),
                      l2_weight_decays=[0, 1e-4, 1e-3, 1e-2, 1e-1, 1],
                      decoupled_weight_decays=[0, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2])
    grid.val_loss["AdamW"]          # (6 lrs, 6 weight decays)

**The two weight decays are different quantities**, so each optimizer gets its own list:

* Adam + L2 (:class:`lib.optimizers.Adam` with ``weight_decay``) adds ``λ w`` to the gradient, which
  Adam then divides by ``sqrt(v_hat)``: ``l2_weight_decays`` are that ``λ``.
* AdamW shrinks every weight by a fraction of itself each step, beside Adam's update.
  ``decoupled_weight_decays`` are that fraction *at the peak rate*, the paper's ``λ``: the weight
  shrinks by ``λ * eta_t`` per step, with ``eta_t`` the schedule's multiplier (1 at the peak), the
  same whatever the peak learning rate. The library's :class:`lib.optimizers.AdamW` follows
  PyTorch and multiplies its ``weight_decay`` by the whole learning rate, so it is given
  ``λ / peak_lr``. (Swept in PyTorch's convention instead, the best ``weight_decay`` would move
  as ``1 / lr`` by construction.)

Only the weight matrices are decayed (:meth:`lib.model.MLP.decay_mask`): LayerNorm gains and
shifts and the output bias are not, as in nanoGPT and most Transformer code.

**Seeds.** ``decay_grid(..., seeds=[0, 1, 2, 3])`` repeats the whole grid once per seed (each seed
its own initial weights *and* its own minibatch order) and returns a :class:`DecayGrids`, whose
arrays have a leading seed axis and whose summaries say what holds in every seed::

    grids = decay_grid(MLP(), split, lrs, l2, decoupled, seeds=range(4))
    grids.val_loss["AdamW"]          # (4 seeds, 6 lrs, 6 weight decays)
    grids.good("AdamW").sum(axis=(1, 2))   # good cells per seed
    grids.grids[2].best("AdamW")     # seed 2 on its own, a DecayGrid
"""

import time
from dataclasses import dataclass

import numpy as np

from . import _checks, schedules
from .optimizers import Adam, AdamW
from .model import _float_dtype
from .training import train

OPTIMIZERS = ("Adam + L2", "AdamW")
"""The two optimizers :func:`decay_grid` compares, by the names its results use."""


@dataclass
class DecayGrid:
    """What :func:`decay_grid` returns; every dict is keyed by the names in :data:`OPTIMIZERS`.

    ``lrs``            (L,) the peak learning rates (rows of every grid)
    ``weight_decays``  name -> (D,) that optimizer's weight decays (columns), in its own convention
    ``val_loss``       name -> (L, D) validation loss after the last step (NaN if diverged)
    ``val_accuracy``   name -> (L, D) validation accuracy after the last step
    ``diverged``       name -> (L, D) bool, whether the run blew up
    ``seconds``        name -> wall-clock time of that optimizer's run
    ``cpu_seconds``    name -> processor time of that optimizer's run
    """

    lrs: np.ndarray
    weight_decays: dict
    val_loss: dict
    val_accuracy: dict
    diverged: dict
    seconds: dict
    cpu_seconds: dict

    def best(self, name):
        """``(lr, weight_decay, val_loss)`` of the setting with the lowest validation loss.

        >>> grid = DecayGrid(np.array([0.1, 1.0]), {"AdamW": np.array([0.0, 0.5])},
        ...                  {"AdamW": np.array([[3.0, 2.0], [1.0, np.nan]])}, {}, {}, {}, {})
        >>> grid.best("AdamW")
        (1.0, 0.0, 1.0)
        """
        name = _checks.choice("name", name, tuple(self.val_loss))
        loss = self.val_loss[name]
        i, j = np.unravel_index(np.nanargmin(loss), loss.shape)
        return float(self.lrs[i]), float(self.weight_decays[name][j]), float(loss[i, j])

    def best_weight_decay(self, name):
        """(L,): for each learning rate, the weight decay with the lowest validation loss."""
        name = _checks.choice("name", name, tuple(self.val_loss))
        loss = np.where(np.isnan(self.val_loss[name]), np.inf, self.val_loss[name])
        return self.weight_decays[name][np.argmin(loss, axis=1)]

    def good(self, name, factor=1.5):
        """(L, D) bool: the cells whose validation loss is at most ``factor`` times the lowest loss
        of their row (their learning rate); a diverged cell (NaN) is never good.

        >>> grid = DecayGrid(np.array([0.1, 1.0]), {"AdamW": np.array([0.0, 0.1, 1.0])},
        ...                  {"AdamW": np.array([[1.0, 1.2, 2.0], [1.0, np.nan, 1.6]])}, {}, {}, {}, {})
        >>> grid.good("AdamW").tolist()
        [[True, True, False], [True, False, False]]
        """
        factor = _checks.hyperparameter("factor", factor, 1.0)
        loss = np.where(np.isnan(self.val_loss[name]), np.inf, self.val_loss[name])
        return loss <= factor * loss.min(axis=1, keepdims=True)

    def tolerated_weight_decay(self, name, factor=1.25, unbroken=False):
        """(L,): for each learning rate, the largest weight decay whose validation loss is at most
        ``factor`` times the lowest of that row: how much decay the optimizer takes before it hurts.

        ``unbroken=True``: the largest weight decay up to which *every* decay of the row, from the
        first column on, is good (an isolated good cell beyond a bad one does not count); NaN for a
        row whose first column is not good.

        >>> grid = DecayGrid(np.array([0.1, 1.0]), {"AdamW": np.array([0.0, 0.1, 1.0])},
        ...                  {"AdamW": np.array([[1.0, 1.2, 2.0], [1.0, 1.3, 1.1]])}, {}, {}, {}, {})
        >>> grid.tolerated_weight_decay("AdamW").tolist()
        [0.1, 1.0]
        >>> grid.tolerated_weight_decay("AdamW", unbroken=True).tolist()   # row 2: 1.3 is a gap
        [0.1, 0.0]
        """
        name = _checks.choice("name", name, tuple(self.val_loss))
        factor = _checks.scalar("factor", factor, 1.0)
        good = self.good(name, factor)
        decays = self.weight_decays[name]
        if unbroken:
            first_bad = np.argmin(np.c_[good, np.zeros(len(good), bool)], axis=1)
            return np.where(first_bad > 0, decays[np.maximum(first_bad - 1, 0)], np.nan)
        last = good.shape[1] - 1 - np.argmax(good[:, ::-1], axis=1)
        return decays[last]


@dataclass
class DecayGrids:
    """What :func:`decay_grid` returns when given ``seeds``: one :class:`DecayGrid` per seed.

    ``seeds``   (n,) the seeds, in order
    ``grids``   list of n :class:`DecayGrid`, ``grids[k]`` run with ``seeds[k]``

    The properties stack the per-seed grids on a leading seed axis; the methods are those of
    :class:`DecayGrid`, applied to every seed.

    >>> one = DecayGrid(np.array([0.1, 1.0]), {"AdamW": np.array([0.0, 0.5])},
    ...                 {"AdamW": np.array([[3.0, 2.0], [1.0, 1.2]])}, {}, {}, {"AdamW": 1.0}, {})
    >>> two = DecayGrid(one.lrs, one.weight_decays,
    ...                 {"AdamW": np.array([[2.0, 3.0], [1.1, 1.0]])}, {}, {}, {"AdamW": 2.0}, {})
    >>> grids = DecayGrids(np.array([0, 1]), [one, two])
    >>> grids.val_loss["AdamW"].shape, grids.seconds["AdamW"]
    ((2, 2, 2), 3.0)
    >>> grids.good("AdamW", factor=1.25).sum(axis=(1, 2)).tolist()       # good cells per seed
    [3, 3]
    >>> grids.best("AdamW")                      # (lr, weight decay, loss) of each seed's best cell
    [(1.0, 0.0, 1.0), (1.0, 0.5, 1.0)]
    """

    seeds: np.ndarray
    grids: list

    @property
    def lrs(self):
        """(L,) the peak learning rates, the same for every seed."""
        return self.grids[0].lrs

    @property
    def weight_decays(self):
        """name -> (D,) the weight decays, the same for every seed."""
        return self.grids[0].weight_decays

    def _stack(self, field):
        return {name: np.stack([getattr(grid, field)[name] for grid in self.grids])
                for name in getattr(self.grids[0], field)}

    @property
    def val_loss(self):
        """name -> (n, L, D) validation loss after the last step, per seed."""
        return self._stack("val_loss")

    @property
    def val_accuracy(self):
        """name -> (n, L, D) validation accuracy after the last step, per seed."""
        return self._stack("val_accuracy")

    @property
    def diverged(self):
        """name -> (n, L, D) bool, whether the run blew up, per seed."""
        return self._stack("diverged")

    @property
    def seconds(self):
        """name -> wall-clock time of that optimizer's runs, all seeds together."""
        return {name: sum(grid.seconds[name] for grid in self.grids) for name in self.grids[0].seconds}

    @property
    def cpu_seconds(self):
        """name -> processor time of that optimizer's runs, all seeds together."""
        return {name: sum(grid.cpu_seconds[name] for grid in self.grids)
                for name in self.grids[0].cpu_seconds}

    def good(self, name, factor=1.5):
        """(n, L, D) bool: :meth:`DecayGrid.good` for every seed."""
        return np.stack([grid.good(name, factor) for grid in self.grids])

    def tolerated_weight_decay(self, name, factor=1.25, unbroken=False):
        """(n, L): :meth:`DecayGrid.tolerated_weight_decay` for every seed."""
        return np.stack([grid.tolerated_weight_decay(name, factor, unbroken) for grid in self.grids])

    def best(self, name):
        """List of n ``(lr, weight_decay, val_loss)``: :meth:`DecayGrid.best` for every seed."""
        return [grid.best(name) for grid in self.grids]


def decay_grid(model, data, lrs, l2_weight_decays, decoupled_weight_decays, steps=300,
               batch_size=32, seed=0, warmup_steps=30, seeds=None, dtype=np.float64):
    """Train ``model`` on ``data`` over peak lr × weight decay with Adam + L2 and with AdamW.

    Every setting starts from the same weights (``model.init_params(seed=seed)``), sees the same
    minibatches (``seed``) and follows the book's standard schedule: a linear warmup over
    ``warmup_steps`` to the peak rate, then a cosine decay to 0 at ``steps``
    (:func:`lib.schedules.warmup_cosine`). Each optimizer's grid is one call of
    :func:`lib.training.train` with ``len(lrs) * len(weight_decays)`` settings. The weight decays
    follow the conventions of the module docstring and apply to the weight matrices only.
    Returns a :class:`DecayGrid`.

    ``seeds`` (a sequence of ints, instead of ``seed``): the grid is run once per seed, each with
    its own initial weights and minibatch order (``seed=seeds[k]``), and a :class:`DecayGrids` is
    returned. Each seed's grid is vectorised over its settings; the seeds run one after another,
    because :func:`lib.training.train` feeds one minibatch order to all its settings.

    ``dtype`` (float64 or float32): the weights' dtype, in which everything is computed
    (:func:`lib.training.train`); float32 takes about a third less time (the AdamW chapter's grid).
    """
    from .model import MLP
    if not isinstance(model, MLP):
        raise ValueError(f"model must be a lib.model.MLP, got {_checks.shown(model)}")
    if not all(hasattr(data, name) for name in ("X_train", "y_train", "X_val", "y_val")):
        raise ValueError(f"data must be a lib.data.Split, got {_checks.shown(data)}")
    if seeds is not None:
        seeds = np.atleast_1d(np.asarray(seeds))
        if seeds.ndim != 1 or len(seeds) == 0 or not np.issubdtype(seeds.dtype, np.integer):
            raise ValueError(f"seeds must be a non-empty 1-D list of ints, got {seeds!r}")
        return DecayGrids(seeds, [decay_grid(model, data, lrs, l2_weight_decays,
                                             decoupled_weight_decays, steps, batch_size, int(s),
                                             warmup_steps, dtype=dtype) for s in seeds])
    lrs = np.asarray(_checks.non_negative("lrs", np.atleast_1d(_checks.real_array("lrs", lrs))),
                     dtype=float)
    if lrs.ndim != 1 or not lrs.size or not np.all(lrs > 0):
        raise ValueError(f"lrs must be a 1-D list of rates > 0, got {lrs!r}")
    decays = {}
    for name, argument, values in zip(OPTIMIZERS, ("l2_weight_decays", "decoupled_weight_decays"),
                                      (l2_weight_decays, decoupled_weight_decays)):
        values = np.atleast_1d(_checks.real_array(argument, values))
        if values.ndim != 1 or not values.size:
            raise ValueError(f"{argument} must be a non-empty 1-D list, got shape {values.shape}")
        decays[name] = _checks.non_negative(f"{argument}: each weight_decay", values)
    steps = _checks.count("steps", steps, minimum=1)
    warmup_steps = _checks.count("warmup_steps", warmup_steps, maximum=steps)
    batch_size = _checks.count("batch_size", batch_size, minimum=1)
    seed = _checks.seed("seed", seed)
    dtype = _float_dtype("dtype", dtype)
    mask = model.decay_mask()                                         # (P,): 1 on weight matrices

    result = DecayGrid(lrs, decays, {}, {}, {}, {}, {})
    for name in OPTIMIZERS:
        peak, lam = (a.ravel() for a in np.meshgrid(lrs, decays[name], indexing="ij"))
        lr = schedules.stack(*(schedules.warmup_cosine(p, warmup_steps, steps) for p in peak))
        if name == "Adam + L2":
            optimizer = Adam(lr=lr, weight_decay=lam[:, None] * mask)
        else:                    # the paper's λ, per step at the peak; the lib's AdamW takes λ / lr
            optimizer = AdamW(lr=lr, weight_decay=(lam / peak)[:, None] * mask)
        wall, cpu = time.perf_counter(), time.process_time()
        run = train(model, optimizer, model.init_params(len(peak), seed=seed, dtype=dtype), data, steps=steps,
                    batch_size=batch_size, seed=seed, eval_every=steps)
        result.seconds[name] = time.perf_counter() - wall
        result.cpu_seconds[name] = time.process_time() - cpu
        shape = (len(lrs), len(decays[name]))
        result.val_loss[name] = run.val_loss[-1].reshape(shape)
        result.val_accuracy[name] = run.val_accuracy[-1].reshape(shape)
        result.diverged[name] = run.diverged.reshape(shape)
    return result
