"""Every bad input raises ValueError, and the message starts with the argument's name.

``match`` is a regular expression searched in the message; ``^name\\b`` requires the message to
open with the argument's name as a whole word (so "beta" does not pass for "beta1").
"""

import math
import pickle
import warnings

import numpy as np
import pytest

from lib import (checkers, decay, diagnosis, memory, model, momentum_theory, optimizers, race,
                 recipes, schedules, surfaces, training)
from lib.optimizers import SGD, Adam, AdamW, Momentum, RMSProp
from lib.surfaces import narrow_valley, run

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


# --- Issue 14, item 1: an optimizer's state is bound to the weights' shape -------------------------

STATEFUL = ["Momentum", "RMSProp", "Adam", "AdamW"]


def _state_copy(opt):
    return {name: np.array(value, copy=True) for name, value in opt.state().items()}


@pytest.mark.parametrize("name", STATEFUL)
def test_state_for_another_shape_is_refused(name):
    # The issue's case: the old state of shape (1,) would be stretched over 4 new weights.
    opt = getattr(optimizers, name)(lr=0.1)
    opt.step([0.0], [1.0])
    before = _state_copy(opt)
    with pytest.raises(ValueError, match=rf"^{name} holds state for weights of shape \(1,\), got "
                                         r"\(4,\); create a new optimizer to start fresh"):
        opt.step(np.zeros(4), np.zeros(4))
    assert opt.t == 1
    for key, value in _state_copy(opt).items():
        np.testing.assert_array_equal(value, before[key])


@pytest.mark.parametrize("name", STATEFUL)
def test_state_for_a_shape_that_cannot_broadcast_is_refused_and_t_stays(name):
    opt = getattr(optimizers, name)(lr=0.1)
    w = opt.step([1.0, 2.0], [1.0, 1.0])
    with pytest.raises(ValueError, match=rf"^{name} holds state for weights of shape \(2,\)"):
        opt.step(np.zeros(3), np.zeros(3))
    assert opt.t == 1                           # the next bias correction still uses t = 2
    reference = getattr(optimizers, name)(lr=0.1)
    np.testing.assert_array_equal(opt.step(w, [1.0, 1.0]),
                                  reference.step(reference.step([1.0, 2.0], [1.0, 1.0]), [1.0, 1.0]))


@pytest.mark.parametrize("name", NAMES)
def test_a_step_that_raises_inside_the_update_changes_nothing(name):
    rule = getattr(optimizers, name)
    opt = rule(lr=0.1)
    opt.step([1.0], [1.0])
    before_t, before = opt.t, _state_copy(opt)

    def failing_update(w, g, lr):
        rule.update(opt, w, g, lr)                   # the state has moved on by now...
        raise RuntimeError("fails after the state has changed")

    opt.update = failing_update
    with pytest.raises(RuntimeError):
        opt.step([1.0], [5.0])
    assert opt.t == before_t                         # ...and is put back, t included
    assert _state_copy(opt).keys() == before.keys()
    for key, value in _state_copy(opt).items():
        np.testing.assert_array_equal(value, before[key])


@pytest.mark.parametrize("name", STATEFUL)
def test_a_sweep_may_start_from_one_point(name):
    # w0 of shape (2,) with lr of shape (3, 1): the state takes the sweep's shape from step 1 on.
    opt = getattr(optimizers, name)(lr=np.array([[0.1], [0.2], [0.3]]))
    w = opt.step(np.ones(2), np.ones(2))
    assert w.shape == (3, 2)
    assert all(value.shape == (3, 2) for value in opt.state().values())
    assert opt.step(w, np.ones((3, 2))).shape == (3, 2)


def test_sgd_keeps_no_state_and_takes_any_shape():
    opt = SGD(lr=0.1)
    opt.step([0.0], [1.0])
    np.testing.assert_array_equal(opt.step(np.zeros(4), np.ones(4)), np.full(4, -0.1))


@pytest.mark.parametrize("name", NAMES)
def test_hyperparameter_that_does_not_broadcast_is_named_before_any_change(name):
    opt = getattr(optimizers, name)(lr=[0.1, 0.2])          # a list is an array of rates
    np.testing.assert_array_equal(opt.step([0.0, 0.0], [0.0, 0.0]).shape, (2,))
    with pytest.raises(ValueError, match=r"^lr must broadcast against w of shape \(3,\), got "
                                         r"shape \(2,\)"):
        opt.step(np.zeros(3), np.zeros(3))
    assert opt.t == 1


# --- Item 2: huge gradients and float16 -----------------------------------------------------------

@pytest.mark.parametrize("name", ["RMSProp", "Adam", "AdamW"])
def test_huge_gradient_gives_nan_not_a_silent_freeze(name):
    # g**2 overflows to inf; dividing by sqrt(inf) would leave w at [1, 1] (the issue's freeze).
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        w = getattr(optimizers, name)(lr=0.1).step(np.ones(2), np.full(2, 1e200))
    assert np.all(np.isnan(w))


def test_huge_gradient_in_one_coordinate_spoils_only_that_one():
    w = Adam(lr=0.1).step(np.ones(2), np.array([1e200, 1.0]))
    assert np.isnan(w[0]) and w[1] == pytest.approx(0.9)


@pytest.mark.parametrize("name", NAMES)
def test_run_reports_an_overflowing_gradient_as_divergence(name):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = run(getattr(optimizers, name)(lr=0.1), narrow_valley(), steps=5,
                     grad=lambda w: np.full(np.shape(w), 1e200))
    assert result.diverged_at == 1


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("argument", ["w", "grad"])
def test_float16_is_refused_by_name(name, argument):
    values = {"w": np.ones(2), "grad": np.ones(2)}
    values[argument] = values[argument].astype(np.float16)
    with pytest.raises(ValueError, match=rf"^{argument} must be float32 or float64, got dtype float16"):
        getattr(optimizers, name)(lr=0.1).step(values["w"], values["grad"])


@pytest.mark.parametrize("name", NAMES)
def test_float32_weights_stay_float32_with_float64_sweep_arrays(name):
    # The Transformer chapter's case: (S, 1) float64 hyperparameters, float32 weights.
    S = 3
    lr = np.array([[1e-3], [1e-2], [1e-1]])
    extra = {"Momentum": {"beta": np.full((S, 1), 0.9)}, "RMSProp": {"eps": np.full((S, 1), 1e-8)},
             "Adam": {"beta2": np.full((S, 1), 0.99)},
             "AdamW": {"weight_decay": np.full((S, 1), 0.1)}}.get(name, {})
    opt = getattr(optimizers, name)(lr=lr, **extra)
    w = np.ones((S, 4), dtype=np.float32)
    for _ in range(3):
        w = opt.step(w, np.ones((S, 4), dtype=np.float32))
        assert w.dtype == np.float32
    assert all(value.dtype == np.float32 for value in opt.state().values())
    # ...and equal, to float32 rounding, to the same steps in float64
    reference = getattr(optimizers, name)(lr=lr, **extra)
    w64 = np.ones((S, 4))
    for _ in range(3):
        w64 = reference.step(w64, np.ones((S, 4)))
    np.testing.assert_allclose(w, w64, rtol=1e-6)


def test_float64_gradient_is_used_in_the_weights_dtype():
    assert Momentum(lr=0.1).step(np.ones(2, dtype=np.float32), np.ones(2)).dtype == np.float32


# --- Item 3: booleans, strings, complex numbers and None are not numbers --------------------------

NOT_NUMBERS = [True, False, np.bool_(True), "0.5", b"1", 1 + 2j, np.complex128(1), None]


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("value", NOT_NUMBERS, ids=repr)
def test_lr_that_is_not_a_number(name, value):
    with pytest.raises(ValueError, match=r"^lr must be a real number in \[0\.0, inf\), got .+ \("):
        getattr(optimizers, name)(lr=value)


@pytest.mark.parametrize("name, argument", [(n, b) for n, bs in BETA_NAMES.items() for b in bs])
@pytest.mark.parametrize("value", NOT_NUMBERS + [[True, False]], ids=repr)
def test_beta_that_is_not_a_number(name, argument, value):
    with pytest.raises(ValueError, match=names(argument)):
        getattr(optimizers, name)(lr=0.1, **{argument: value})


def test_sgd_lr_true_is_not_one():
    with pytest.raises(ValueError, match=r"^lr must be a real number in \[0\.0, inf\), got True \(bool\)"):
        SGD(lr=True)


@pytest.mark.parametrize("value", [True, "5", "a", 1 + 2j, None, [True], b"5",
                                   np.array(["1"])], ids=repr)
def test_schedule_step_that_is_not_a_number(value):
    with pytest.raises(ValueError, match=names("step")):
        schedules.warmup_cosine(0.1, 10, 100)(value)


@pytest.mark.parametrize("function, argument", [
    (lambda v: schedules.linear_warmup(0.1, v), "warmup_steps"),
    (lambda v: schedules.warmup_cosine(0.1, v, 100), "warmup_steps"),
    (lambda v: schedules.warmup_cosine(0.1, 10, v), "total_steps"),
    (lambda v: schedules.step_decay(0.1, v, 0.5), "step_size"),
    (lambda v: schedules.cosine_annealing(0.1, v), "total_steps"),
])
@pytest.mark.parametrize("value", ["4", "5", True, 2.5, None, 1 + 0j, 10**400, math.inf], ids=repr)
def test_counts_refuse_strings_bools_fractions_and_huge(function, argument, value):
    with pytest.raises(ValueError, match=names(argument)):
        function(value)


def test_counts_accept_whole_floats_and_numpy_ints():
    assert schedules.linear_warmup(1.0, 4.0)(2) == 0.5
    assert schedules.linear_warmup(1.0, np.int64(4))(2) == 0.5


@pytest.mark.parametrize("n_params", ["7e9", 1.5, True, None, -1, math.nan])
def test_total_bytes_n_params(n_params):
    with pytest.raises(ValueError, match=names("n_params")):
        memory.total_bytes(n_params, "Adam")


@pytest.mark.parametrize("gradients", ["no", 0, 1, None])
def test_gradients_flag_is_a_bool(gradients):
    with pytest.raises(ValueError, match=r"^gradients must be True or False"):
        memory.total_bytes(7e9, "Adam", gradients=gradients)


# --- Item 4: every error names its argument -------------------------------------------------------

@pytest.mark.parametrize("call, argument", [
    (lambda: schedules.linear_warmup(0.1, "4"), "warmup_steps"),
    (lambda: schedules.warmup_cosine(0.1, 10, 10**400), "total_steps"),
    (lambda: schedules.constant(0.1)(2 + 1j), "step"),
    (lambda: checkers.check_bias_correction(10, 1, 1, beta1=0), "beta1"),
    (lambda: memory.measured_state_bytes("Adam", 10), "optimizer"),
    (lambda: run(None, narrow_valley()), "optimizer"),
    (lambda: run(SGD(lr=0.1), None), "problem"),
    (lambda: narrow_valley(angle_degrees="45"), "angle_degrees"),
    (lambda: surfaces.rosenbrock(a=math.nan), "a"),
    (lambda: surfaces.badly_scaled(minimum=(math.nan, 0.0)), "minimum"),
    (lambda: surfaces.NoisyRegression(w_true=(math.nan, 1.0)), "w_true"),
    (lambda: surfaces.NoisyRegression(correlation="0.5"), "correlation"),
    (lambda: surfaces.NoisyRegression(seed=1.5), "seed"),
    (lambda: narrow_valley().loss("ab"), "w"),
    (lambda: narrow_valley().grid(True), "resolution"),
    (lambda: schedules.stack(schedules.constant(0.1), 0.2), "schedules"),
    (lambda: momentum_theory.spectral_radius("1", 0.9, 2.0), "lr"),
    (lambda: momentum_theory.steps_to_shrink(0.5, "10"), "factor"),
    (lambda: race.make_optimizer("Adamm", 0.1), "name"),
    (lambda: race.lr_grid(0.1, 1.0, ratio=1.0), "ratio"),
    (lambda: model.MLP(sizes=5), "sizes"),
    (lambda: model.MLP(layer_norm="yes"), "layer_norm"),
    (lambda: model.MLP(sizes=(4, 2)).init_params(dtype=np.float16), "dtype"),
    (lambda: training.smooth([1.0, 2.0], beta=True), "beta"),
    (lambda: training.minibatches(10, 2, 3, seed="0"), "seed"),
    (lambda: diagnosis.diagnose(np.ones(20), chance="2.3"), "chance"),
    (lambda: recipes.steps_for_tokens("2e12", 4e6), "tokens"),
    (lambda: decay.DisagreeingBatches().batch_grad([0.0, 0.0], True), "batch"),
    (lambda: checkers.check_memory(28, 84, dtype="float16"), "dtype"),
    (lambda: checkers.check_schedule([0, 1, 2, 3, 4], strict="yes"), "strict"),
])
def test_issue_cases_name_their_argument(call, argument):
    with pytest.raises(ValueError, match=names(argument)):
        call()


def _every_schedule():
    return [schedules.constant(0.1), schedules.step_decay(0.1, 10, 0.5),
            schedules.linear_warmup(0.1, 10), schedules.cosine_annealing(0.1, 100, 0.01),
            schedules.warmup_cosine(0.1, 10, 100, 0.01), schedules.warmup_linear(0.1, 10, 100),
            schedules.stack(schedules.constant(0.1), schedules.linear_warmup(1.0, 4))]


@pytest.mark.parametrize("schedule", _every_schedule(), ids=repr)
def test_schedules_pickle_and_keep_their_values(schedule):
    copy = pickle.loads(pickle.dumps(schedule))
    steps = np.arange(0, 120, 7)
    np.testing.assert_array_equal(copy(steps), schedule(steps))
    assert repr(copy) == repr(schedule) and copy.__name__ == schedule.__name__


@pytest.mark.parametrize("name", NAMES)
def test_an_optimizer_holding_a_schedule_pickles_mid_run(name):
    opt = getattr(optimizers, name)(lr=schedules.warmup_cosine(0.1, 3, 10))
    w = opt.step(np.ones(2), np.ones(2))
    w = opt.step(w, np.ones(2))
    copy = pickle.loads(pickle.dumps(opt))
    np.testing.assert_array_equal(copy.step(w, np.ones(2)), opt.step(w, np.ones(2)))
    assert copy.t == opt.t == 3
