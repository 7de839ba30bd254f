"""Learning-rate schedules: pure functions of the step.

Each function here returns a schedule ``lr(step)`` that takes an int or a numpy array of steps and
returns a float or an array of the same shape::

    s = warmup_cosine(peak_lr=3e-4, warmup_steps=2_000, total_steps=100_000, min_lr=3e-5)
    steps = np.arange(100_001)
    plt.plot(steps, s(steps))          # calling s never changes it

Every schedule is a :class:`Schedule`: it prints as the call that made it and it pickles, so an
optimizer that holds one can be saved or sent to another process. Its rates are single numbers and
its steps whole numbers (``True``, ``"5"`` and ``2.5`` are refused, with the argument's name); the
step it is called with may be any real number >= 0 or an array of them.

A schedule can be passed as ``lr`` to any optimizer in :mod:`lib.optimizers`; the optimizer's
``k``-th step (k = 0, 1, 2, ...) uses ``s(k)``.

Conventions: warmup rises linearly from 0 at step 0 to the peak at ``warmup_steps`` (so the very
first step has lr = 0, as with Hugging Face's schedulers). Cosine annealing is the seed's formula
``lr_min + 0.5*(lr_max - lr_min)*(1 + cos(pi*t/T))``, with ``t`` counted from the end of warmup and
``T = total_steps - warmup_steps``: it reaches the minimum at ``total_steps`` and stays there.
(optax's ``decay_steps`` also includes the warmup; PyTorch's ``CosineAnnealingLR`` counts ``t``
from its own start, so chained after warmup its ``T_max`` is ``total_steps - warmup_steps``.)
"""

import numpy as np

from . import _checks


def _steps(step):
    t = _checks.real_array("step", step, "a step number >= 0 (or an array of them)")
    if not np.all(t >= 0):
        bad = t if t.ndim == 0 else t[~(t >= 0)].flat[0]
        raise ValueError(f"step must be >= 0, got {float(bad)!r}")
    return t


def _output(values, step):
    return float(values) if np.ndim(step) == 0 else values


class Schedule:
    """A schedule: a function of the step, with a name, that pickles (an optimizer holding one can
    be saved or sent to another process).

    It calls the function its factory built (``schedule(step)`` in the factory's source, which
    reads like the formula); pickling stores the factory and its arguments instead, and unpickling
    calls the factory again, so the copy is the same schedule.
    """

    def __init__(self, function, description, factory, arguments):
        self.function = function
        self.description = description
        self.__doc__ = description
        self.__name__ = self.__qualname__ = description.split("(")[0]
        self.factory = factory
        self.arguments = arguments

    def __call__(self, step):
        return self.function(step)

    def __reduce__(self):
        return (self.factory, self.arguments)

    def __repr__(self):
        return self.description


def _named(function, description, factory, *arguments):
    return Schedule(function, description, factory, arguments)


def _cosine(lr_max, lr_min, progress):
    """lr_min + 0.5*(lr_max - lr_min)*(1 + cos(pi*progress)), progress = t/T in [0, 1]."""
    return lr_min + 0.5 * (lr_max - lr_min) * (1 + np.cos(np.pi * progress))


def _linear(start, end, progress):
    """From start at progress 0 to end at progress 1."""
    return start + (end - start) * progress


def _progress(t, start, end):
    """Where t stands between start and end, clipped to [0, 1] (1 from ``end`` on)."""
    if end <= start:
        return (t >= end).astype(float)
    return np.clip((t - start) / (end - start), 0.0, 1.0)


def _check_min(min_name, min_lr, peak_name, peak_lr):
    min_lr = _checks.rate(min_name, min_lr)
    if min_lr > peak_lr:
        raise ValueError(f"{min_name} must be in [0, {peak_name}] = [0, {peak_lr!r}], got {min_lr!r}")
    return min_lr


def _check_warmup(warmup_steps, total_steps):
    total_steps = _checks.count("total_steps", total_steps, minimum=1)
    warmup_steps = _checks.count("warmup_steps", warmup_steps)
    if warmup_steps > total_steps:
        raise ValueError(f"warmup_steps must be in [0, total_steps] = [0, {total_steps}], "
                         f"got {warmup_steps}")
    return warmup_steps, total_steps


def constant(lr):
    """The same learning rate at every step.

    >>> constant(0.1)(5)
    0.1
    """
    lr = _checks.rate("lr", lr)

    def schedule(step):
        t = _steps(step)
        return _output(np.full(t.shape, lr), step)

    return _named(schedule, f"constant(lr={lr!r})", constant, lr)


def step_decay(lr, step_size, gamma):
    """Multiply the rate by ``gamma`` every ``step_size`` steps: ``lr * gamma**(step // step_size)``.

    Matches ``torch.optim.lr_scheduler.StepLR``.

    >>> step_decay(0.1, step_size=10, gamma=0.5)([0, 9, 10, 25])
    array([0.1  , 0.1  , 0.05 , 0.025])
    """
    lr = _checks.rate("lr", lr)
    step_size = _checks.count("step_size", step_size, minimum=1)
    gamma = _checks.scalar("gamma", gamma, 0.0, 1.0, high_open=False)

    def schedule(step):
        t = _steps(step)
        return _output(lr * gamma ** np.floor(t / step_size), step)

    return _named(schedule, f"step_decay(lr={lr!r}, step_size={step_size}, gamma={gamma!r})",
                  step_decay, lr, step_size, gamma)


def linear_warmup(peak_lr, warmup_steps):
    """Rise linearly from 0 at step 0 to ``peak_lr`` at ``warmup_steps``, then stay there.

    >>> linear_warmup(1e-3, warmup_steps=100)([0, 50, 100, 1000])
    array([0.    , 0.0005, 0.001 , 0.001 ])
    """
    peak_lr = _checks.rate("peak_lr", peak_lr)
    warmup_steps = _checks.count("warmup_steps", warmup_steps)

    def schedule(step):
        t = _steps(step)
        return _output(_linear(0.0, peak_lr, _progress(t, 0, warmup_steps)), step)

    return _named(schedule, f"linear_warmup(peak_lr={peak_lr!r}, warmup_steps={warmup_steps})",
                  linear_warmup, peak_lr, warmup_steps)


def cosine_annealing(lr_max, total_steps, lr_min=0.0):
    """Follow half a cosine from ``lr_max`` at step 0 down to ``lr_min`` at ``total_steps``.

    ``lr_t = lr_min + 0.5*(lr_max - lr_min)*(1 + cos(pi*t/T))`` with ``T = total_steps``, then
    ``lr_min`` after. Loshchilov & Hutter (2017), SGDR, without restarts; matches
    ``torch.optim.lr_scheduler.CosineAnnealingLR(T_max=total_steps, eta_min=lr_min)`` up to ``T``.

    >>> cosine_annealing(1.0, total_steps=100, lr_min=0.0)([0, 50, 100, 200])
    array([1. , 0.5, 0. , 0. ])
    """
    lr_max = _checks.rate("lr_max", lr_max)
    total_steps = _checks.count("total_steps", total_steps, minimum=1)
    lr_min = _check_min("lr_min", lr_min, "lr_max", lr_max)

    def schedule(step):
        t = _steps(step)
        return _output(_cosine(lr_max, lr_min, _progress(t, 0, total_steps)), step)

    return _named(schedule, f"cosine_annealing(lr_max={lr_max!r}, total_steps={total_steps}, "
                            f"lr_min={lr_min!r})", cosine_annealing, lr_max, total_steps, lr_min)


def warmup_cosine(peak_lr, warmup_steps, total_steps, min_lr=0.0):
    """Linear warmup to ``peak_lr``, then cosine annealing to ``min_lr`` at ``total_steps``.

    The standard schedule of Transformer and VLA training. The seed's practice 4:

    >>> s = warmup_cosine(2e-4, warmup_steps=2_000, total_steps=100_000, min_lr=2e-5)
    >>> [f"{s(k):.3g}" for k in (0, 1_000, 2_000, 50_000, 100_000)]
    ['0', '0.0001', '0.0002', '0.000113', '2e-05']
    """
    peak_lr = _checks.rate("peak_lr", peak_lr)
    warmup_steps, total_steps = _check_warmup(warmup_steps, total_steps)
    min_lr = _check_min("min_lr", min_lr, "peak_lr", peak_lr)

    def schedule(step):
        t = _steps(step)
        warmup = _linear(0.0, peak_lr, _progress(t, 0, warmup_steps))
        decay = _cosine(peak_lr, min_lr,
                        _progress(t, warmup_steps, total_steps))
        return _output(np.where(t < warmup_steps, warmup, decay), step)

    return _named(schedule,
                  f"warmup_cosine(peak_lr={peak_lr!r}, "
                  f"warmup_steps={warmup_steps}, "
                  f"total_steps={total_steps}, min_lr={min_lr!r})",
                  warmup_cosine, peak_lr, warmup_steps, total_steps, min_lr)


def warmup_linear(peak_lr, warmup_steps, total_steps, min_lr=0.0):
    """Linear warmup to ``peak_lr``, then a straight line down to ``min_lr`` at ``total_steps`` (BERT).

    >>> warmup_linear(1e-4, warmup_steps=10, total_steps=110)([0, 5, 10, 60, 110])
    array([0.e+00, 5.e-05, 1.e-04, 5.e-05, 0.e+00])
    """
    peak_lr = _checks.rate("peak_lr", peak_lr)
    warmup_steps, total_steps = _check_warmup(warmup_steps, total_steps)
    min_lr = _check_min("min_lr", min_lr, "peak_lr", peak_lr)

    def schedule(step):
        t = _steps(step)
        warmup = _linear(0.0, peak_lr, _progress(t, 0, warmup_steps))
        decay = _linear(peak_lr, min_lr, _progress(t, warmup_steps, total_steps))
        return _output(np.where(t < warmup_steps, warmup, decay), step)

    return _named(schedule, f"warmup_linear(peak_lr={peak_lr!r}, warmup_steps={warmup_steps}, "
                            f"total_steps={total_steps}, min_lr={min_lr!r})",
                  warmup_linear, peak_lr, warmup_steps, total_steps, min_lr)


def stack(*schedules):
    """Join schedules into one for a sweep: ``stack(a, b)(k)`` is ``[[a(k)], [b(k)]]``, shape (n, 1).

    Pass it as ``lr`` with weights of shape ``(n, dims)`` to run n schedules at once.

    >>> stack(constant(0.1), linear_warmup(1.0, warmup_steps=4))(2)
    array([[0.1],
           [0.5]])
    """
    if not schedules:
        raise ValueError("schedules must be one or more schedules (functions of the step), got none")
    for i, s in enumerate(schedules):
        _checks.function(f"schedules[{i}]", s, "a schedule (a function of the step)")

    def schedule(step):
        return np.array([[s(step)] for s in schedules])

    return _named(schedule, f"stack({len(schedules)} schedules)", stack, *schedules)


def warmup_stable_decay(peak_lr, warmup_steps, total_steps, decay_steps, min_lr=0.0,
                        decay="linear"):
    """Warmup, a long stable stretch at ``peak_lr``, then a short decay to ``min_lr`` (WSD).

    With ``W = warmup_steps``, ``T = total_steps``, ``D = decay_steps`` and the decay starting at
    ``S = T - D``::

        lr(t) = peak_lr * t / W                              for 0 <= t < W     (warmup)
        lr(t) = peak_lr                                      for W <= t < S     (stable)
        lr(t) = min_lr + (peak_lr - min_lr) * f(p)           for S <= t <= T,  p = (t - S) / D
        lr(t) = min_lr                                       for t > T

    and the decay shape ``f`` (1 at p = 0, 0 at p = 1) is

    - ``"linear"``: ``f(p) = 1 - p``;
    - ``"cosine"``: ``f(p) = 0.5 * (1 + cos(pi * p))``;
    - ``"sqrt"``: ``f(p) = 1 - sqrt(p)``, the "1-sqrt" cooldown of Hägele et al. (2024), which
      falls fastest at the start of the decay (it is *not* ``sqrt(1 - p)``).

    The point of WSD: the schedule does not depend on the run length until the decay starts, so
    one stable run can be saved and branched into decays at several lengths (a cosine of length
    ``T`` needs ``T`` from its first step). Hu et al. (2024), *MiniCPM*, name the schedule
    warmup-stable-decay; their decay is exponential-like, not one of the shapes here. DeepSeek-AI
    (2024), *DeepSeek LLM*, uses a multi-step variant (the rate drops to 31.6% and then 10% of the
    peak after 80% and 90% of the tokens), the same idea in steps. Hägele et al. (2024), *Scaling
    Laws and Compute-Optimal Training Beyond Fixed Training Durations*, compare linear, cosine and
    1-sqrt cooldowns.

    Conventions as the other schedules here: warmup starts at 0 at step 0 (with ``W = 0`` step 0
    already has ``peak_lr``); the decay has ``peak_lr`` at ``S`` and ``min_lr`` at ``T``
    (``D = 0`` drops to ``min_lr`` at ``T``). ``warmup_steps + decay_steps`` may not exceed
    ``total_steps``. With ``decay_steps = total_steps - warmup_steps`` (no stable stretch),
    ``decay="linear"`` is :func:`warmup_linear` and ``decay="cosine"`` is :func:`warmup_cosine`.

    >>> s = warmup_stable_decay(1.0, warmup_steps=10, total_steps=110, decay_steps=20)
    >>> s([0, 5, 10, 50, 90, 100, 110, 200])
    array([0. , 0.5, 1. , 1. , 1. , 0.5, 0. , 0. ])
    >>> warmup_stable_decay(1.0, 0, 100, 100, decay="sqrt")(25)     # 1 - sqrt(0.25)
    0.5
    """
    peak_lr = _checks.rate("peak_lr", peak_lr)
    warmup_steps, total_steps = _check_warmup(warmup_steps, total_steps)
    decay_steps = _checks.count("decay_steps", decay_steps,
                                maximum=total_steps - warmup_steps)
    min_lr = _check_min("min_lr", min_lr, "peak_lr", peak_lr)
    decay = _checks.choice("decay", decay, ("linear", "cosine", "sqrt"))
    shape = _WSD_SHAPES[decay]
    decay_start = total_steps - decay_steps

    def schedule(step):
        t = _steps(step)
        warmup = _linear(0.0, peak_lr, _progress(t, 0, warmup_steps))
        p = _progress(t, decay_start, total_steps)
        decayed = min_lr + (peak_lr - min_lr) * shape(p)
        return _output(np.where(t < warmup_steps, warmup, decayed), step)

    name = (f"warmup_stable_decay(peak_lr={peak_lr!r}, warmup_steps={warmup_steps}, "
            f"total_steps={total_steps}, decay_steps={decay_steps}, "
            f"min_lr={min_lr!r}, decay={decay!r})")
    return _named(schedule, name, warmup_stable_decay,
                  peak_lr, warmup_steps, total_steps, decay_steps, min_lr, decay)


_WSD_SHAPES = {                                         # f(p): 1 at the decay's start, 0 at its end
    "linear": lambda p: 1 - p,                          # f(p) = 1 - p
    "cosine": lambda p: 0.5 * (1 + np.cos(np.pi * p)),  # f(p) = (1 + cos(pi p)) / 2
    "sqrt": lambda p: 1 - np.sqrt(p),                   # f(p) = 1 - sqrt(p)
}
