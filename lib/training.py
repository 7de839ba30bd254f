"""Training many settings at once, and the learning-rate range test.

:func:`train` runs minibatch training of a :class:`lib.model.MLP` (or a
:class:`lib.transformer.Transformer`: the same loop, see below) for S settings in one vectorised
loop: the parameters are ``(S, P)``, the optimizer is one from :mod:`lib.optimizers` whose
hyperparameters have shape ``(S, 1)`` (or are schedules returning that shape, see
:func:`lib.schedules.stack`), and every setting sees the same minibatches, so settings differ only
in their hyperparameters::

    model = MLP()
    split = train_val_split(*load_digits(), val_fraction=0.2, seed=0)
    lrs = np.array([1e-4, 1e-3, 1e-2])[:, None]                    # (3, 1): three settings
    result = train(model, Adam(lr=lrs), model.init_params(3, seed=0), split,
                   steps=300, batch_size=32, seed=0)
    result.train_loss.shape                                        # (300, 3)

A setting whose loss explodes is frozen and marked (``result.diverged_at``) while the others go on.

A Transformer trains through the same call: its data is a :class:`lib.data.Split` of integer token
windows (inputs and next-token targets, from :func:`lib.text.char_split` or
:func:`lib.robot.policy_split`), ``max_grad_norm=1.0`` clips each setting's gradient as every
published recipe does, and ``result.grad_norm`` records the norm of every step's gradient. A run
that does not explode but never learns (a Post-LN Transformer without warmup sits at the loss of
the character counts) is not a divergence: :func:`plateaued` names it.

:func:`lr_range_test` (Smith 2017; fastai's ``lr_find``) trains once with an exponentially growing
learning rate; :func:`suggest_steepest`, :func:`suggest_min_over_10` and :func:`suggest_valley`
read a learning rate off its curve.
"""

import time
import warnings
from dataclasses import dataclass

import numpy as np

from . import _checks
from .optimizers import Adam


@dataclass
class TrainResult:
    """What :func:`train` returns. S is the number of settings.

    ``train_loss``     (steps, S): minibatch loss at step k, before the k-th update (so row 0 is
                       the initial loss); NaN after a setting diverged
    ``eval_steps``     (E,): the steps at which the validation set was evaluated
                       (0, eval_every, 2*eval_every, ..., steps)
    ``val_loss``       (E, S): mean cross-entropy on the validation set there; NaN once diverged
    ``val_accuracy``   (E, S): fraction of the validation set classified right; NaN once diverged
    ``diverged_at``    (S,): the step at which the setting's loss exploded, -1 if it never did
    ``params``         (S, P): the final parameters (for a diverged setting: those it was frozen at)
    ``seconds``        wall-clock time of the run
    ``grad_norm``      (steps, S): the global L2 norm of each setting's minibatch gradient at step
                       k, before any clipping; NaN after a setting diverged
    ``clipped``        (steps, S) bool: whether ``max_grad_norm`` scaled that gradient down
    """

    train_loss: np.ndarray
    eval_steps: np.ndarray
    val_loss: np.ndarray
    val_accuracy: np.ndarray
    diverged_at: np.ndarray
    params: np.ndarray
    seconds: float
    grad_norm: np.ndarray = None
    clipped: np.ndarray = None

    @property
    def diverged(self):
        """(S,) bool: which settings diverged."""
        return self.diverged_at >= 0


def minibatches(n, batch_size, steps, seed):
    """Indices of ``steps`` minibatches of ``batch_size`` out of ``n`` examples, in an array of
    shape ``(steps, batch_size)``.

    Epoch after epoch, each a fresh permutation from ``np.random.default_rng(seed)``, cut into
    consecutive batches (a batch may straddle two epochs, so no example is ever dropped). The
    same seed gives the same batches: :func:`train` feeds them to every setting.

    >>> minibatches(6, batch_size=4, steps=3, seed=0).shape
    (3, 4)
    >>> idx = minibatches(6, batch_size=3, steps=2, seed=0)        # exactly one epoch
    >>> sorted(idx.ravel().tolist())
    [0, 1, 2, 3, 4, 5]
    """
    n = _checks.count("n", n, minimum=1, maximum=10**7)
    batch_size = _checks.count("batch_size", batch_size, minimum=1, maximum=10**6)
    steps = _checks.count("steps", steps, maximum=10**7)
    rng = np.random.default_rng(_checks.seed("seed", seed))
    epochs = -(-steps * batch_size // n)                          # ceil
    order = np.concatenate([rng.permutation(n) for _ in range(epochs)] or [np.zeros(0, int)])
    return order[:steps * batch_size].reshape(steps, batch_size)


def train(model, optimizer, params0, data, steps, batch_size=32, seed=0, eval_every=25,
          diverge_loss=None, max_grad_norm=None):
    """Train S settings of ``model`` at once with ``optimizer``; return a :class:`TrainResult`.

    ``params0`` is ``(S, P)`` (from ``model.init_params``); ``optimizer`` a fresh optimizer from
    :mod:`lib.optimizers`, whose hyperparameters broadcast against ``(S, P)``; ``data`` a
    :class:`lib.data.Split`. Each step draws the next minibatch (the same for every setting, from
    :func:`minibatches` with ``seed``), computes each setting's loss and gradient, and takes one
    optimizer step. Every ``eval_every`` steps (and after the last) the validation set is scored.

    **Divergence.** A setting whose minibatch loss is not finite, or exceeds ``diverge_loss``
    (default: ``5 * log(classes)``, five times the loss of guessing uniformly, 11.5 for the
    digits), is *diverged* at that step: its parameters are frozen there, its later losses are
    NaN, and ``diverged_at`` records the step. The whole loop runs under
    ``np.errstate(all="ignore")``, so an exploding run produces no numpy warnings and does not
    disturb the other settings. The default threshold comes from runs of the default
    :class:`lib.model.MLP` with Adam and no warmup: at lr 0.1 the loss jumps to 6-9 and recovers,
    at 0.2-0.3 it jumps to 11-27 and the network ends at chance. Pass ``diverge_loss=np.inf`` to
    keep every finite curve whole. For a Transformer the default is ``5 * log(vocab_size)``.

    **Models.** ``model`` is a :class:`lib.model.MLP` or a :class:`lib.transformer.Transformer`
    (anything with ``loss_and_grad(params, X, y)``, ``evaluate(params, X, y)`` and ``num_params``).
    Float inputs are used in the weights' dtype; integer inputs (token ids) are passed as they are.
    float32 ``params0`` train in float32 (the optimizers keep the weights' dtype); anything else
    in float64.

    **Clipping.** With ``max_grad_norm`` (a number > 0, or one per setting of shape (S,)), each
    setting's gradient is scaled to that global norm when it is longer, as
    ``torch.nn.utils.clip_grad_norm_`` (:func:`lib.transformer.clip_grad_norm`), before the
    optimizer sees it. ``result.grad_norm`` holds the norms before clipping, with or without it.

    >>> from lib.data import load_digits, train_val_split
    >>> from lib.model import MLP
    >>> split = train_val_split(*load_digits(), val_fraction=0.2, seed=0)
    >>> model = MLP(sizes=(64, 16, 10))
    >>> lrs = np.array([[1e-2], [1e3]])                            # a sensible lr and an absurd one
    >>> result = train(model, Adam(lr=lrs), model.init_params(2, seed=0), split,
    ...                steps=50, batch_size=32, seed=0, eval_every=25)
    >>> result.train_loss.shape, result.val_loss.shape, result.eval_steps.tolist()
    ((50, 2), (3, 2), [0, 25, 50])
    >>> bool(result.val_accuracy[-1, 0] > 0.8), result.diverged.tolist()
    (True, [False, True])
    """
    started = time.perf_counter()
    _check_model(model)
    checked = model._check_params(params0, "params0: params")
    params = np.array(checked, dtype=np.float32 if checked.dtype == np.float32 else float, copy=True)
    _check_optimizer(optimizer)
    _check_data(data)
    clip = None
    if max_grad_norm is not None:
        from .transformer import clip_grad_norm
        max_grad_norm = _checks.positive("max_grad_norm", max_grad_norm)
        if np.ndim(max_grad_norm) not in (0, 1) or np.ndim(max_grad_norm) == 1 and (
                np.shape(max_grad_norm) != (params.shape[0],)):
            raise ValueError(f"max_grad_norm must be a number > 0 or one per setting, shape "
                             f"({params.shape[0]},), got shape {np.shape(max_grad_norm)}")
        clip = clip_grad_norm
    steps = _checks.count("steps", steps, minimum=1)
    eval_every = _checks.count("eval_every", eval_every, minimum=1)
    if diverge_loss is not None:
        diverge_loss = _checks.real_array("diverge_loss", diverge_loss, "a number > 0 (or None)")
        if diverge_loss.ndim != 0 or not diverge_loss > 0:
            raise ValueError(f"diverge_loss must be a number > 0 (or None), got {float(diverge_loss)!r}"
                             if diverge_loss.ndim == 0 else
                             f"diverge_loss must be a number > 0 (or None), got shape {diverge_loss.shape}")
        diverge_loss = float(diverge_loss)
    if getattr(optimizer, "t", 0) != 0:
        raise ValueError(f"optimizer must be fresh (no steps taken), got one at t={optimizer.t}")
    if diverge_loss is None:
        diverge_loss = 5 * np.log(_classes(model))
    X, y = _inputs(data.X_train, params.dtype), np.asarray(data.y_train)
    X_val = _inputs(data.X_val, params.dtype)
    batches = minibatches(len(X), batch_size, steps, seed)

    S = params.shape[0]
    eval_steps = np.unique(np.r_[np.arange(0, steps, eval_every), steps])
    train_loss = np.full((steps, S), np.nan)
    val_loss = np.full((len(eval_steps), S), np.nan)
    val_accuracy = np.full((len(eval_steps), S), np.nan)
    diverged_at = np.full(S, -1)
    alive = np.ones(S, dtype=bool)
    grad_norm = np.full((steps, S), np.nan)
    clipped = np.zeros((steps, S), dtype=bool)

    with np.errstate(all="ignore"):
        for k in range(steps + 1):
            if k in eval_steps:
                e = np.searchsorted(eval_steps, k)
                loss, accuracy = model.evaluate(params, X_val, data.y_val)
                val_loss[e] = np.where(alive, loss, np.nan)
                val_accuracy[e] = np.where(alive, accuracy, np.nan)
            if k == steps:
                break
            loss, grad = model.loss_and_grad(params, X[batches[k]], y[batches[k]])
            exploded = alive & ~(np.isfinite(loss) & (loss <= diverge_loss))
            diverged_at[exploded] = k
            train_loss[k] = np.where(alive & np.isfinite(loss), loss, np.nan)
            alive &= ~exploded
            grad[~alive] = 0.0
            if clip is None:
                norms = np.sqrt(np.einsum("sp,sp->s", grad, grad, dtype=float))
            else:
                grad, norms = clip(grad, max_grad_norm)
                clipped[k] = alive & (norms > max_grad_norm)
            grad_norm[k] = np.where(alive, norms, np.nan)
            stepped = optimizer.step(params, grad)
            params = np.where(alive[:, None], stepped, params)
            if not alive.any():
                break

    return TrainResult(train_loss, eval_steps, val_loss, val_accuracy, diverged_at, params,
                       time.perf_counter() - started, grad_norm, clipped)


def plateaued(result, level, margin=0.1, last=50):
    """(S,) bool: which settings ended *stuck*: their mean training loss over the ``last`` steps
    is still above ``level - margin``.

    A run that learns nothing does not blow up, so :func:`train` does not flag it: a Post-LN
    Transformer trained without warmup sits at the loss of the character counts
    (:func:`lib.text.unigram_loss`) for the whole run, with finite losses. Pass that loss as
    ``level``. A diverged setting is not counted as plateaued (its ``diverged_at`` says what
    happened).

    >>> from types import SimpleNamespace
    >>> losses = np.array([[3.4, 3.4], [3.3, 2.9], [3.3, 2.5], [3.3, 2.4]])   # (steps, 2 settings)
    >>> run = SimpleNamespace(train_loss=losses, diverged_at=np.array([-1, -1]))
    >>> plateaued(run, level=3.29, margin=0.1, last=2).tolist()
    [True, False]
    """
    if not hasattr(result, "train_loss") or not hasattr(result, "diverged_at"):
        raise ValueError(f"result must be a TrainResult (with train_loss and diverged_at), got "
                         f"{_checks.shown(result)}")
    level = _checks.finite("level", level)
    margin = _checks.scalar("margin", margin, 0.0)
    losses = np.asarray(result.train_loss, dtype=float)
    if losses.ndim != 2:
        raise ValueError(f"result.train_loss must be (steps, S), got shape {losses.shape}")
    last = _checks.count("last", last, minimum=1, maximum=len(losses))
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)             # all-NaN: a diverged setting
        tail = np.nanmean(losses[-last:], axis=0)
    return (np.asarray(result.diverged_at) < 0) & (tail > level - margin)


@dataclass
class RangeTestResult:
    """What :func:`lr_range_test` returns: one entry per step taken.

    ``lrs``            (n,): the learning rate of each step, growing exponentially
    ``losses``         (n,): the minibatch loss at that step (computed before the step, as
                       fastai records it)
    ``smoothed``       (n,): ``losses`` smoothed by :func:`smooth`
    ``steps``          the number of steps planned (n is smaller if the run stopped early)
    ``stopped_early``  whether the smoothed loss blew up before the last planned step
    """

    lrs: np.ndarray
    losses: np.ndarray
    smoothed: np.ndarray
    steps: int
    stopped_early: bool

    def trimmed(self):
        """``(lrs, smoothed)`` without the first tenth of the planned steps and the last 5 taken.

        What fastai's ``lr_find`` hands to its suggestion rules: the start is flat and noisy and the
        end is the blow-up, and neither should decide the suggestion.
        """
        keep = slice(self.steps // 10, len(self.lrs) - 5)
        if len(self.lrs[keep]) < 2:
            raise ValueError(f"the run stopped after {len(self.lrs)} of {self.steps} steps, too "
                             f"early to leave a curve after trimming; start from a smaller lr_min")
        return self.lrs[keep], self.smoothed[keep]


def smooth(losses, beta=0.98):
    """Debiased exponential moving average, fastai's smoothing of a loss curve.

    ``avg_k = beta * avg_{k-1} + (1 - beta) * loss_k`` from ``avg_{-1} = 0``, divided by
    ``1 - beta**(k+1)`` (the bias correction of Adam's moments), so the first value is the first
    loss and early values are not dragged towards 0. ``beta = 0`` returns the losses unchanged.

    >>> smooth([1.0, 1.0, 1.0], beta=0.9)
    array([1., 1., 1.])
    >>> smooth([2.0, 0.0], beta=0.5)        # (0.5*0.5*2) / (1 - 0.25)
    array([2.        , 0.66666667])
    """
    losses = _checks.real_array("losses", losses, "a loss curve (real numbers)")
    if losses.ndim != 1:
        raise ValueError(f"losses must be a 1-D curve, got shape {losses.shape}")
    beta = _checks.scalar("beta", beta, 0.0, 1.0)
    avg, out = 0.0, np.empty_like(losses)
    for k, loss in enumerate(losses):
        avg = beta * avg + (1 - beta) * loss
        out[k] = avg / (1 - beta ** (k + 1))
    return out


def lr_range_test(model, params0, data, lr_min=1e-5, lr_max=10.0,
                  steps=200, batch_size=32, seed=0, make_optimizer=Adam,
                  beta=0.9, stop_factor=4.0):
    """The learning-rate range test (Smith 2017; fastai's ``lr_find``): one short run, lr growing.

    Trains ``model`` from ``params0`` (one setting, ``(P,)`` or ``(1, P)``) for up to ``steps``
    minibatches while the learning rate grows exponentially from ``lr_min`` to ``lr_max``,
    ``lr_k = lr_min * (lr_max / lr_min) ** (k / (steps - 1))``, and records the loss of every
    step. Too small a rate leaves the loss flat, a good one makes it fall, too large a one makes it
    shoot up: the curve of loss against lr (log axis) shows in one run where training works. The run
    stops as soon as the smoothed loss (:func:`smooth` with ``beta``) exceeds ``stop_factor`` times
    its minimum so far, or is not finite.

    ``make_optimizer(lr)`` builds the optimizer (default :class:`lib.optimizers.Adam`); pass e.g.
    ``lambda lr: AdamW(lr, weight_decay=0.01)`` to test another. The minibatches come from
    :func:`minibatches` with ``seed``. Read a learning rate off the result with
    :func:`suggest_steepest`, :func:`suggest_min_over_10` or :func:`suggest_valley`, applied to
    ``result.trimmed()`` as fastai does.

    The test is itself a short training run, so where its curve falls depends on how many steps
    each decade of lr gets: it points at rates that train well *for a run of about this length*.

    Convention: fastai's defaults are ``lr_min=1e-7, lr_max=10, steps=100, beta=0.98``. On the
    digits that smoothing lags the raw loss by about a decade of lr (the network trains within
    some 25 steps), so the defaults here give each decade more steps (200 steps over six decades)
    and smooth less (0.9); ``stop_factor=4`` is fastai's.

    Convention: ``losses[k]`` is the loss of the k-th minibatch, computed *before* the step with
    ``lrs[k]`` (fastai's recorder pairs them the same way), so it reflects the rates before
    ``lrs[k]``.

    >>> from lib.data import load_digits, train_val_split
    >>> from lib.model import MLP
    >>> split = train_val_split(*load_digits(), val_fraction=0.2, seed=0)
    >>> model = MLP(sizes=(64, 16, 10))
    >>> test = lr_range_test(model, model.init_params(1, seed=0), split, lr_max=100.0, steps=100)
    >>> test.stopped_early, bool(test.lrs[-1] < 100.0), test.lrs.shape == test.smoothed.shape
    (True, True, True)
    >>> 1e-4 < suggest_valley(*test.trimmed()) < 1.0
    True
    """
    _check_model(model)
    params0 = _checks.real_array(
        "params0", params0, "one setting's parameters, (P,) or (1, P)")
    if params0.size != model.num_params:
        n = model.num_params
        raise ValueError(f"params0 must be one setting's parameters, "
                         f"shape ({n},) or (1, {n}), "
                         f"got shape {params0.shape}")
    params = np.array(params0, dtype=float, copy=True).reshape(1, -1)
    _check_data(data)
    _checks.function("make_optimizer", make_optimizer,
                     "a function lr -> optimizer")
    batch_size = _checks.count("batch_size", batch_size, minimum=1)
    lr_min = _checks.scalar("lr_min", lr_min, 0.0)
    if lr_min == 0.0:
        raise ValueError("lr_min must be > 0 (the rates are spaced on a "
                         "log scale), got 0.0")
    lr_max = _checks.above("lr_max", lr_max, "lr_min", lr_min,
                           closed=True)
    steps = _checks.count("steps", steps, minimum=2, maximum=10**6)
    stop_factor = _checks.scalar("stop_factor", stop_factor, 1.0)
    beta = _checks.scalar("beta", beta, 0.0, 1.0)

    lrs = lr_min * (lr_max / lr_min) ** (np.arange(steps) / (steps - 1))
    optimizer = make_optimizer(lambda k: lrs[k])
    X, y = np.asarray(data.X_train, dtype=float), np.asarray(data.y_train)
    batches = minibatches(len(X), batch_size, steps, seed)
    losses = []
    avg, best, stopped = 0.0, np.inf, False
    with np.errstate(all="ignore"):
        for k in range(steps):
            batch = batches[k]
            loss, grad = model.loss_and_grad(params, X[batch], y[batch])
            losses.append(loss[0])
            avg = beta * avg + (1 - beta) * loss[0]
            smoothed = avg / (1 - beta ** (k + 1))
            too_high = k > 0 and smoothed > stop_factor * best
            if not np.isfinite(smoothed) or too_high:
                stopped = True
                break
            best = min(best, smoothed)
            params = optimizer.step(params, grad)
    losses = np.array(losses)
    with np.errstate(all="ignore"):
        smoothed = smooth(losses, beta)
    return RangeTestResult(lrs[:len(losses)], losses, smoothed, steps,
                           stopped)


def suggest_min_over_10(lrs, losses):
    """The learning rate at the lowest loss, divided by 10 (fastai's ``minimum`` suggestion).

    At the minimum of the range test's curve the rate is already about to make training unstable;
    a tenth of it is a safe distance below the cliff (Smith 2017, Howard & Gugger 2020).
    NaN losses are ignored.

    >>> suggest_min_over_10([1e-3, 1e-2, 1e-1, 1.0], [2.0, 1.0, 0.5, 3.0])
    0.01
    """
    lrs, losses = _curve(lrs, losses)
    return float(lrs[np.nanargmin(losses)] / 10)


def suggest_steepest(lrs, losses):
    """The learning rate where the loss falls fastest against ``log(lr)`` (fastai's ``steep``).

    The slope between neighbouring points, ``(loss_{k+1} - loss_k) / (log lr_{k+1} - log lr_k)``,
    is most negative where a small change of rate buys the largest drop in loss: the middle of the
    descending part of the curve, where training makes the most progress per step. Returns the
    left end of the steepest segment, as fastai does. Noisy curves need smoothing first
    (:func:`smooth`); :func:`lr_range_test` gives them smoothed.

    >>> suggest_steepest([1e-4, 1e-3, 1e-2, 1e-1, 1.0], [2.3, 2.2, 1.0, 0.8, 5.0])
    0.001
    """
    lrs, losses = _curve(lrs, losses)
    slopes = np.diff(losses) / np.diff(np.log(lrs))
    return float(lrs[np.nanargmin(slopes)])


def suggest_valley(lrs, losses):
    """fastai's ``valley`` rule: a rate well inside the longest stretch of falling loss.

    Finds the longest *decreasing subsequence* of the losses (the longest "valley": points whose
    losses keep falling as lr grows, allowing bumps in between), from its start ``i`` to its end
    ``j``, and returns the rate a little past its middle: at ``i + int(n/3) + int(n/6)`` with
    ``n = j - i``. Less sensitive to noise than :func:`suggest_steepest` and less conservative than
    :func:`suggest_min_over_10`; fastai's default suggestion.

    Convention: this follows fastai's code, in which the valley's start is ``end - length`` (one
    before its first point); the index is clipped at 0, which fastai's code does not do.

    >>> lrs = np.logspace(-5, 0, 11)
    >>> losses = [2.3, 2.3, 2.2, 2.0, 1.6, 1.0, 0.6, 0.4, 0.5, 2.0, 9.0]
    >>> f"{suggest_valley(lrs, losses):.2g}"
    '0.00032'
    """
    lrs, losses = _curve(lrs, losses)
    n = len(losses)
    length = np.ones(n, dtype=int)             # length[i]: longest decreasing run ending at i
    best_end = 0
    for i in range(1, n):
        for j in range(i):
            if losses[i] < losses[j] and length[i] < length[j] + 1:
                length[i] = length[j] + 1
        if length[i] > length[best_end]:
            best_end = i
    best_start = best_end - length[best_end]
    sections = (best_end - best_start) / 3
    return float(lrs[max(best_start + int(sections) + int(sections / 2), 0)])


def _curve(lrs, losses):
    lrs = _checks.real_array("lrs", lrs, "learning rates (real numbers > 0)")
    losses = _checks.real_array("losses", losses, "a loss curve (real numbers)")
    if lrs.ndim != 1 or lrs.shape != losses.shape or len(lrs) < 2:
        raise ValueError(f"lrs and losses must be 1-D of the same length >= 2, got shapes "
                         f"{lrs.shape} and {losses.shape}")
    if not np.all(np.isfinite(lrs) & (lrs > 0)) or not np.all(np.diff(lrs) > 0):
        raise ValueError(f"lrs must be finite, > 0 and increasing (they are compared on a log "
                         f"scale), got {_checks.show(lrs)}")
    return lrs, losses


def _check_model(model):
    from .model import MLP
    if isinstance(model, MLP):
        return
    if type(model).__name__ == "Transformer" and type(model).__module__ == "lib.transformer":
        return
    raise ValueError(f"model must be a lib.model.MLP or a lib.transformer.Transformer, got "
                     f"{_checks.shown(model)}")


def _classes(model):
    """The number of classes a uniform guess chooses among: the MLP's outputs, the vocabulary."""
    return model.vocab_size if hasattr(model, "vocab_size") else model.sizes[-1]


def _inputs(X, dtype):
    """Float inputs in the weights' dtype; integer inputs (token ids) as they are."""
    X = np.asarray(X)
    return X if X.dtype.kind in "iu" else X.astype(dtype, copy=False)


def _check_optimizer(optimizer):
    if not (callable(getattr(optimizer, "step", None)) and hasattr(optimizer, "t")):
        raise ValueError("optimizer must be an optimizer from lib.optimizers (something with "
                         f"step(w, grad) and t), got {_checks.shown(optimizer)}")


def _check_data(data):
    if not all(hasattr(data, name) for name in ("X_train", "y_train", "X_val", "y_val")):
        raise ValueError("data must be a lib.data.Split (X_train, y_train, X_val, y_val), got "
                         f"{_checks.shown(data)}")
