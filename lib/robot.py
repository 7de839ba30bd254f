"""A VLA-shaped task: a point robot reaching a goal on a plane, with actions as 256-bin tokens.

OpenVLA (Kim et al. 2024) turns a robot policy into next-token prediction: each dimension of the
continuous action is cut into 256 uniform bins and the bin's index is a token the language model
emits. This module builds the smallest problem of that shape, with no images and no language:

* the **observation** is where the goal is, seen from the robot: the offset ``o = g - p`` in
  [-1, 1]^2 (an egocentric view, as a wrist camera gives);
* the **expert** moves towards the goal, ``d = clip(gain * o, -1, 1)`` per axis (a proportional
  controller that saturates), and the robot moves ``max_step * d``, so ``o <- o - max_step * d``;
* the **action** the policy must emit is the command that produces ``d`` on the robot's own
  actuators, ``a = R(-rotation) d / scale`` (clipped to [-1, 1]), so two *embodiments* that differ
  in how their action frame is turned or scaled need different tokens for the same motion;
* everything is a token of :data:`BINS` = 256 uniform bins over [-1, 1] (:func:`quantize`), and an
  episode is one sequence that opens with the embodiment's own token (256 for A, 257 for B: the
  "which robot" part of the prompt, so one model can serve both):
  ``e | ox0 oy0 ax0 ay0 | ox1 oy1 ax1 ay1 | ...`` (:func:`episodes`), over :data:`VOCAB_SIZE`
  = 258 symbols.

The expert acts on the *quantised* observation (the bin centres it sees), so every action token is
a deterministic function of the two observation tokens before it; the next observation is
determined up to the rounding of the true offset into its bin. Only the first offset is random.
Two embodiments that share the world and the expert (:data:`ARM_A`, and :data:`ARM_B` whose action
frame is turned by 180 degrees: its actuators are mounted the other way round) make a
pre-training task and a related fine-tuning task::

    split = policy_split(ARM_A, n_train=1024, n_val=128, steps=8, seed=0)
    split.X_train.shape           # (1024, 32): 1 + 4 * 8 = 33 tokens, inputs and shifted targets

Seeded and pure: the same arguments give the same tokens.
"""

from dataclasses import dataclass

import numpy as np

from . import _checks
from .data import Split

BINS = 256
"""Bins per dimension, as OpenVLA: token ``i`` stands for the interval's centre ``-1 + (i + .5) * 2/256``."""

TOKENS_PER_STEP = 4
"""Tokens a step adds to an episode: ``ox oy ax ay``."""

VOCAB_SIZE = BINS + 2
"""The 256 bins and the two embodiment tokens (256: A, 257: B)."""


@dataclass(frozen=True)
class Embodiment:
    """How a robot turns a desired motion ``d`` into its action command ``a``.

    ``a = R(-rotation_deg) d / scale``, clipped to [-1, 1]: a robot whose action frame is turned by
    ``rotation_deg`` degrees (or whose actuators move ``scale`` times as far per unit command)
    needs a different command for the same motion. ``gain`` and ``max_step`` are the expert's:
    ``d = clip(gain * o, -1, 1)`` for the goal offset ``o``, and ``o <- o - max_step * d``. The
    default gain 1.5 keeps ``gain`` times a bin centre at least a quarter of a bin away from the
    bin edges (a gain of 2 would put every unsaturated motion exactly on an edge, where rounding
    decides the token).
    """

    name: str
    token: int = BINS
    rotation_deg: float = 0.0
    scale: float = 1.0
    gain: float = 1.5
    max_step: float = 0.25

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"name must be a non-empty string, got {_checks.shown(self.name)}")
        token = _checks.count("token", self.token, minimum=BINS, maximum=VOCAB_SIZE - 1)
        object.__setattr__(self, "token", token)
        _checks.finite("rotation_deg", self.rotation_deg)
        _checks.scalar("scale", self.scale, 0.0, low_open=True)
        _checks.scalar("gain", self.gain, 0.0, low_open=True)
        _checks.scalar("max_step", self.max_step, 0.0, 1.0, low_open=True, high_open=False)

    def command(self, d):
        """The action ``a`` (..., 2) that makes this robot move ``d`` (..., 2), clipped to [-1, 1].

        >>> Embodiment("C", rotation_deg=90).command(np.array([1.0, 0.0])).round(12).tolist()
        [0.0, -1.0]
        >>> ARM_B.command(np.array([1.0, 0.5])).round(12).tolist()      # turned by 180 degrees
        [-1.0, -0.5]
        """
        d = _checks.real_array("d", d, "desired motions, shape (..., 2)")
        if d.ndim == 0 or d.shape[-1] != 2:
            raise ValueError(f"d must have shape (..., 2), got {d.shape}")
        theta = np.deg2rad(self.rotation_deg)
        c, s = np.cos(theta), np.sin(theta)
        inverse = np.array([[c, s], [-s, c]])                 # R(-theta)
        return np.clip(d @ inverse.T / self.scale, -1.0, 1.0)


ARM_A = Embodiment("A")
"""The pre-training embodiment: commands in the world frame."""

ARM_B = Embodiment("B", token=BINS + 1, rotation_deg=180.0)
"""The fine-tuning embodiment: the same expert and world, its action frame turned by 180 degrees."""


def quantize(x, bins=BINS):
    """Bin indices (int64) of values ``x`` in [-1, 1]: 256 uniform bins, the ends clipped into range.

    >>> quantize([-1.0, -0.999, 0.0, 0.999, 1.0]).tolist()
    [0, 0, 128, 255, 255]
    """
    x = _checks.real_array("x", x, "values in [-1, 1]")
    bins = _checks.count("bins", bins, minimum=2, maximum=2**20)
    if not np.isfinite(x).all():
        raise ValueError(f"x must be finite values in [-1, 1], got {_checks.show(x)}")
    return np.clip(np.floor((x + 1.0) / 2.0 * bins), 0, bins - 1).astype(np.int64)


def dequantize(tokens, bins=BINS):
    """The centres of bins ``tokens``: ``-1 + (i + 0.5) * 2 / bins``.

    >>> dequantize([0, 128, 255]).tolist()
    [-0.99609375, 0.00390625, 0.99609375]
    """
    bins = _checks.count("bins", bins, minimum=2, maximum=2**20)
    if _checks._refused(tokens):
        raise ValueError(f"tokens must be integer bin indices, got {_checks.shown(tokens)}")
    try:
        t = np.asarray(tokens)
    except (TypeError, ValueError):
        raise ValueError(f"tokens must be integer bin indices, got {_checks.shown(tokens)}") from None
    if t.dtype.kind not in "iu" or (t.size and (t.min() < 0 or t.max() >= bins)):
        raise ValueError(f"tokens must be integer bin indices in [0, {bins}) (bins = {bins}), got "
                         f"{_checks.show(tokens)}")
    return -1.0 + (t + 0.5) * 2.0 / bins


def episodes(n, steps, embodiment=ARM_A, seed=0):
    """``n`` expert episodes of ``steps`` steps each, as tokens of shape ``(n, 1 + 4 * steps)``.

    Layout: ``[e, ox0, oy0, ax0, ay0, ox1, oy1, ax1, ay1, ...]`` with ``e = embodiment.token``. The first goal offsets are uniform
    in [-1, 1]^2 from ``np.random.default_rng(seed)``. At each step the expert sees the quantised
    offset (bin centres), picks the motion ``d = clip(gain * o_seen, -1, 1)`` and emits
    ``embodiment.command(d)`` as two action tokens; the true offset then shrinks by
    ``max_step * d`` and is quantised for the next step.

    >>> tokens = episodes(2, steps=3, seed=0)
    >>> tokens.shape, tokens.dtype, bool(tokens.min() >= 0 and tokens[:, 1:].max() < BINS)
    ((2, 13), dtype('int64'), True)
    >>> bool((episodes(2, 3, ARM_A, seed=0) == tokens).all())         # seeded: the same tokens
    True
    """
    n = _checks.count("n", n, minimum=1, maximum=10**7)
    steps = _checks.count("steps", steps, minimum=1, maximum=10**4)
    if not isinstance(embodiment, Embodiment):
        raise ValueError(f"embodiment must be a lib.robot.Embodiment (ARM_A, ARM_B, ...), got "
                         f"{_checks.shown(embodiment)}")
    rng = np.random.default_rng(_checks.seed("seed", seed))
    offset = rng.uniform(-1.0, 1.0, size=(n, 2))
    out = [np.full((n, 1), embodiment.token, dtype=np.int64)]
    for _ in range(steps):
        seen_tokens = quantize(offset)
        d = np.clip(embodiment.gain * dequantize(seen_tokens), -1.0, 1.0)
        out += [seen_tokens, quantize(embodiment.command(d))]
        offset = np.clip(offset - embodiment.max_step * d, -1.0, 1.0)
    return np.concatenate(out, axis=1)


def action_positions(steps):
    """Indices of the action tokens in an episode of ``steps`` steps: 3, 4, 7, 8, ...

    >>> action_positions(2).tolist()
    [3, 4, 7, 8]
    """
    steps = _checks.count("steps", steps, minimum=1, maximum=10**4)
    first = 3 + TOKENS_PER_STEP * np.arange(steps)
    return np.stack([first, first + 1], axis=1).ravel()


def policy_split(embodiment, n_train=1024, n_val=128, steps=8, seed=0):
    """Training and validation episodes of ``embodiment`` as a :class:`lib.data.Split`.

    ``X`` is each episode without its last token and ``y`` without its first (next-token targets),
    both ``(n, 4 * steps)``, the shape :func:`lib.training.train` feeds to a Transformer with
    ``seq_len = 4 * steps`` and ``vocab_size = VOCAB_SIZE``. Training and validation episodes come from two independent streams
    spawned from ``np.random.SeedSequence(seed)``, so the validation goals and starts are fresh.

    >>> split = policy_split(ARM_B, n_train=8, n_val=4, steps=8, seed=0)
    >>> split.X_train.shape, split.y_val.shape
    ((8, 32), (4, 32))
    """
    seed = _checks.seed("seed", seed)
    n_train = _checks.count("n_train", n_train, minimum=1, maximum=10**7)
    n_val = _checks.count("n_val", n_val, minimum=1, maximum=10**7)
    root = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    train_seed, val_seed = root.spawn(2)
    train = episodes(n_train, steps, embodiment, seed=train_seed)
    val = episodes(n_val, steps, embodiment, seed=val_seed)
    return Split(train[:, :-1], train[:, 1:], val[:, :-1], val[:, 1:])


def action_metrics(model, params, X, y, tolerance=0):
    """Loss and accuracy of a Transformer's policy on the *action* tokens only: ``(loss, accuracy)``,
    each ``(S,)``.

    ``X`` and ``y`` are episodes as :func:`policy_split` gives them (``y[:, j]`` is the token after
    ``X[:, j]``), so the action targets sit at ``action_positions(steps) - 1``. The loss is the mean
    cross-entropy there (nats, from ``model.logits``), the accuracy the fraction of action tokens
    whose most likely bin is within ``tolerance`` bins of the expert's. The model's own loss
    averages over observation tokens too; this is the number a robot would be judged by.
    """
    if not callable(getattr(model, "logits", None)):
        raise ValueError(f"model must be a lib.transformer.Transformer (with logits), got "
                         f"{_checks.shown(model)}")
    y = np.asarray(y)
    if y.ndim != 2 or y.shape[1] % TOKENS_PER_STEP or not y.shape[1]:
        raise ValueError(f"y must be episodes' targets of shape (n, 4 * steps), got shape "
                         f"{np.shape(y)}")
    tolerance = _checks.count("tolerance", tolerance, maximum=BINS)
    where = action_positions(y.shape[1] // TOKENS_PER_STEP) - 1
    logits = model.logits(params, X)[:, :, where, :].astype(float)          # (S, n, actions, V)
    logits = logits - logits.max(axis=-1, keepdims=True)
    log_p = logits - np.log(np.exp(logits).sum(axis=-1, keepdims=True))
    target = y[:, where]
    picked = np.take_along_axis(log_p, np.broadcast_to(target[None, ..., None],
                                                       log_p.shape[:-1] + (1,)), axis=-1)[..., 0]
    hit = np.abs(np.argmax(logits, axis=-1) - target[None]) <= tolerance
    return -picked.mean(axis=(1, 2)), hit.mean(axis=(1, 2))
