"""Every bad input raises ValueError, and the message starts with the argument's name.

``match`` is a regular expression searched in the message; ``^name\\b`` requires the message to
open with the argument's name as a whole word (so "beta" does not pass for "beta1").
"""

import math

import numpy as np
import pytest

from lib import optimizers, schedules
from lib.optimizers import SGD, Adam, AdamW, Momentum, RMSProp

NAMES = ["SGD", "Momentum", "RMSProp", "Adam", "AdamW"]
BETA_NAMES = {"Momentum": ["beta"], "RMSProp": ["beta"], "Adam": ["beta1", "beta2"],
              "AdamW": ["beta1", "beta2"]}
NOT_FINITE = [math.nan, math.inf, -math.inf]


def names(argument):
    return rf"^{argument}\b"


# --- Optimizers -----------------------------------------------------------------------------------

@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("lr", [-1e-3, -1.0, *NOT_FINITE, np.array([0.1, -0.1]), "fast"])
def test_bad_lr(name, lr):
    with pytest.raises(ValueError, match=names("lr")):
        getattr(optimizers, name)(lr=lr)


@pytest.mark.parametrize("name, argument", [(n, b) for n, bs in BETA_NAMES.items() for b in bs])
@pytest.mark.parametrize("value", [1.0, 1.5, -0.1, -1e-12, *NOT_FINITE,
                                   np.array([[0.9], [1.0]])])
def test_beta_outside_zero_one(name, argument, value):
    with pytest.raises(ValueError, match=names(argument)):
        getattr(optimizers, name)(lr=0.1, **{argument: value})


@pytest.mark.parametrize("name, argument", [(n, b) for n, bs in BETA_NAMES.items() for b in bs])
def test_beta_message_gives_the_range(name, argument):
    with pytest.raises(ValueError, match=rf"^{argument} must be in \[0(\.0)?, 1(\.0)?\), got 1\.0"):
        getattr(optimizers, name)(lr=0.1, **{argument: 1.0})


@pytest.mark.parametrize("name", ["RMSProp", "Adam", "AdamW"])
@pytest.mark.parametrize("eps", [-1e-8, *NOT_FINITE])
def test_bad_eps(name, eps):
    with pytest.raises(ValueError, match=names("eps")):
        getattr(optimizers, name)(lr=0.1, eps=eps)


@pytest.mark.parametrize("name", ["Adam", "AdamW"])
@pytest.mark.parametrize("weight_decay", [-0.01, *NOT_FINITE])
def test_bad_weight_decay(name, weight_decay):
    with pytest.raises(ValueError, match=names("weight_decay")):
        getattr(optimizers, name)(lr=0.1, weight_decay=weight_decay)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("w, grad", [
    (np.zeros(3), np.zeros(2)),
    (np.zeros(3), np.zeros((3, 1))),
    (np.zeros((2, 3)), np.zeros((3, 2))),
    (np.zeros(2), 0.0),
])
def test_grad_shape_differs_from_w(name, w, grad):
    opt = getattr(optimizers, name)(lr=0.1)
    with pytest.raises(ValueError, match=names("grad")):
        opt.step(w, grad)
    assert opt.t == 0          # a rejected step is not counted


@pytest.mark.parametrize("name", NAMES)
def test_non_numeric_input_names_the_argument(name):
    opt = getattr(optimizers, name)(lr=0.1)
    with pytest.raises(ValueError, match=names("w")):
        opt.step(["a", "b"], [1.0, 2.0])
    with pytest.raises(ValueError, match=names("grad")):
        opt.step([1.0, 2.0], ["a", "b"])


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("bad_value", [-1e-4, math.nan, math.inf])
def test_schedule_giving_a_bad_lr_raises_at_that_step(name, bad_value):
    def schedule(k):                                  # fine for two steps, then bad
        return 0.1 if k < 2 else bad_value

    opt = getattr(optimizers, name)(lr=schedule)      # accepted: it is only a function so far
    w = np.ones(2)
    w = opt.step(w, np.ones(2))
    w = opt.step(w, np.ones(2))
    with pytest.raises(ValueError, match=r"^lr\b.*step 2"):
        opt.step(w, np.ones(2))


def test_valid_edges_are_accepted():
    # The ranges are [0, 1) for betas and [0, inf) for the rest: their closed ends are fine.
    for opt in (SGD(lr=0.0), Momentum(lr=0.0, beta=0.0), RMSProp(lr=1.0, beta=0.0, eps=0.0),
                Adam(lr=0.0, beta1=0.0, beta2=0.0, eps=0.0, weight_decay=0.0),
                AdamW(lr=0.0, beta1=0.0, beta2=0.0, eps=0.0, weight_decay=0.0)):
        opt.step([1.0], [1.0])


# --- Schedules ------------------------------------------------------------------------------------

WARMUP_SCHEDULES = [schedules.warmup_cosine, schedules.warmup_linear]


@pytest.mark.parametrize("function", WARMUP_SCHEDULES)
def test_warmup_longer_than_total(function):
    with pytest.raises(ValueError, match=names("warmup_steps")):
        function(1e-3, warmup_steps=101, total_steps=100)


@pytest.mark.parametrize("function", WARMUP_SCHEDULES)
@pytest.mark.parametrize("total_steps", [0, -5, 2.5, math.nan])
def test_total_steps_not_positive(function, total_steps):
    with pytest.raises(ValueError, match=names("total_steps")):
        function(1e-3, warmup_steps=0, total_steps=total_steps)


@pytest.mark.parametrize("total_steps", [0, -1, 1.5])
def test_cosine_annealing_total_steps(total_steps):
    with pytest.raises(ValueError, match=names("total_steps")):
        schedules.cosine_annealing(0.1, total_steps=total_steps)


@pytest.mark.parametrize("function", [*WARMUP_SCHEDULES, schedules.linear_warmup])
@pytest.mark.parametrize("warmup_steps", [-1, 0.5])
def test_warmup_steps_negative_or_fractional(function, warmup_steps):
    args = (1e-3, warmup_steps) if function is schedules.linear_warmup else (1e-3, warmup_steps, 100)
    with pytest.raises(ValueError, match=names("warmup_steps")):
        function(*args)


@pytest.mark.parametrize("step_size", [0, -3, 1.5])
def test_step_size_not_positive(step_size):
    with pytest.raises(ValueError, match=names("step_size")):
        schedules.step_decay(0.1, step_size=step_size, gamma=0.5)


@pytest.mark.parametrize("gamma", [-0.5, 1.5, math.nan])
def test_gamma_outside_zero_one(gamma):
    with pytest.raises(ValueError, match=names("gamma")):
        schedules.step_decay(0.1, step_size=10, gamma=gamma)


@pytest.mark.parametrize("make, argument", [
    (lambda bad: schedules.constant(bad), "lr"),
    (lambda bad: schedules.step_decay(bad, step_size=10, gamma=0.5), "lr"),
    (lambda bad: schedules.linear_warmup(bad, warmup_steps=10), "peak_lr"),
    (lambda bad: schedules.cosine_annealing(bad, total_steps=100), "lr_max"),
    (lambda bad: schedules.cosine_annealing(1.0, total_steps=100, lr_min=bad), "lr_min"),
    (lambda bad: schedules.warmup_cosine(bad, 10, 100), "peak_lr"),
    (lambda bad: schedules.warmup_cosine(1.0, 10, 100, min_lr=bad), "min_lr"),
    (lambda bad: schedules.warmup_linear(bad, 10, 100), "peak_lr"),
    (lambda bad: schedules.warmup_linear(1.0, 10, 100, min_lr=bad), "min_lr"),
])
@pytest.mark.parametrize("bad", [-1e-5, *NOT_FINITE])
def test_negative_or_non_finite_rates(make, argument, bad):
    with pytest.raises(ValueError, match=names(argument)):
        make(bad)


@pytest.mark.parametrize("make, argument", [
    (lambda: schedules.warmup_cosine(1e-4, 10, 100, min_lr=2e-4), "min_lr"),
    (lambda: schedules.warmup_linear(1e-4, 10, 100, min_lr=2e-4), "min_lr"),
    (lambda: schedules.cosine_annealing(1e-4, 100, lr_min=2e-4), "lr_min"),
])
def test_minimum_above_peak(make, argument):
    with pytest.raises(ValueError, match=names(argument)):
        make()


@pytest.mark.parametrize("schedule", [
    schedules.constant(0.1),
    schedules.step_decay(0.1, step_size=10, gamma=0.5),
    schedules.linear_warmup(0.1, warmup_steps=10),
    schedules.cosine_annealing(0.1, total_steps=100),
    schedules.warmup_cosine(0.1, 10, 100),
    schedules.warmup_linear(0.1, 10, 100),
], ids=lambda s: s.__name__)
@pytest.mark.parametrize("step", [-1, -0.5, np.array([0, 5, -2]), math.nan])
def test_negative_step(schedule, step):
    with pytest.raises(ValueError, match=names("step")):
        schedule(step)
