"""Properties every rule and schedule must have, checked on inputs drawn by hypothesis.

Floating-point notes, each measured here, none of them a difference a reader could see:
- Schedules are compared with their peak and floor up to two ulps of the peak (``slack``): the seed's
  cosine ``lr_min + 0.5*(lr_max - lr_min)*(1 + cos(0))`` is ``lr_min + (lr_max - lr_min)``, which for
  about 2 % of values rounds to one ulp above ``lr_max`` (the linear decay's ``peak + (min - peak)``
  lands an ulp off ``min_lr`` just as often). Monotonicity is checked exactly.
- numpy evaluates ``pow`` and ``cos`` on arrays with vectorised routines that can differ from the
  scalar ones by an ulp (about 5 % of ``beta**t`` here). So a schedule called on an array agrees with
  the same schedule called on ints to a few ulps, not bit for bit; and a broadcast sweep of Adam or
  AdamW (whose bias correction is ``beta**t``) agrees with single runs to rounding, while the other
  rules (only +, -, *, /, sqrt, all correctly rounded) agree exactly.
"""

from collections import namedtuple

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

from lib import optimizers, schedules

# Small and reproducible: a fixed seed (the same examples on every run, so CI cannot flake), no
# example database written to disk, no per-example deadline (a loaded machine is slow).
# Run once with max_examples=5000 (random seeds) while writing these tests: no failure.
SETTINGS = settings(max_examples=60, deadline=None, database=None, derandomize=True)
ULP = np.finfo(float).eps
NAMES = ["SGD", "Momentum", "RMSProp", "Adam", "AdamW"]

betas = st.floats(0.0, 0.999)
epsilons = st.floats(1e-10, 1e-2)
decays = st.floats(0.0, 1.0)
rates = st.floats(1e-6, 1.0)


HYPERPARAMETERS = {      # per optimizer: a strategy for each keyword argument other than lr
    "SGD": {},
    "Momentum": {"beta": betas},
    "RMSProp": {"beta": betas, "eps": epsilons},
    "Adam": {"beta1": betas, "beta2": betas, "eps": epsilons, "weight_decay": decays},
    "AdamW": {"beta1": betas, "beta2": betas, "eps": epsilons, "weight_decay": decays},
}


@st.composite
def optimizer_specs(draw):
    name = draw(st.sampled_from(NAMES))
    return name, draw(st.fixed_dictionaries(HYPERPARAMETERS[name]))


def vectors(n, low=-100.0, high=100.0):
    return hnp.arrays(np.float64, n, elements=st.floats(low, high))


@st.composite
def weights_and_gradients(draw, n_gradients=1):
    n = draw(st.integers(1, 6))
    w = draw(vectors(n))
    grads = [draw(vectors(n, -1e3, 1e3)) for _ in range(n_gradients)]
    return w, grads


# --- The rules ------------------------------------------------------------------------------------

@SETTINGS
@given(spec=optimizer_specs(), data=weights_and_gradients(n_gradients=4),
       lr=st.sampled_from(["zero", "zero schedule", "warmup step 0"]))
def test_zero_learning_rate_changes_nothing(spec, data, lr):
    # Every rule moves w by lr times something finite, so lr = 0 leaves w exactly where it is,
    # whatever the state does; AdamW's decay is multiplied by lr too (lr*(update + wd*w)).
    name, hyper = spec
    w0, grads = data
    if lr == "warmup step 0":
        # A warmup schedule's first step has lr = 0 (only that one).
        lr, grads = schedules.warmup_cosine(1.0, warmup_steps=10, total_steps=20), grads[:1]
    elif lr == "zero schedule":
        lr = schedules.constant(0.0)
    else:
        lr = 0.0
    opt = getattr(optimizers, name)(lr=lr, **hyper)
    w = w0
    for g in grads:
        w = opt.step(w, g)
        np.testing.assert_array_equal(w, w0)


@SETTINGS
@given(spec=optimizer_specs(), data=weights_and_gradients(n_gradients=3), lr=rates)
def test_step_returns_a_new_array_and_leaves_its_inputs_alone(spec, data, lr):
    name, hyper = spec
    w, grads = data
    opt = getattr(optimizers, name)(lr=lr, **hyper)
    twin = getattr(optimizers, name)(lr=lr, **hyper)
    for g in grads:
        w_before, g_before = w.copy(), g.copy()
        new = opt.step(w, g)
        assert isinstance(new, np.ndarray) and new is not w and new is not g
        assert not np.shares_memory(new, w) and not np.shares_memory(new, g)
        np.testing.assert_array_equal(w, w_before)
        np.testing.assert_array_equal(g, g_before)
        # The optimizer's state must not alias the caller's arrays either: scribbling on them
        # afterwards must not change what the next step does.
        expected = twin.step(w_before, g_before)
        np.testing.assert_array_equal(new, expected)
        w[...] = 12345.0
        g[...] = -6789.0
        w = new


@SETTINGS
@given(lr=st.floats(1e-4, 1.0), beta1=betas, beta2=betas,
       w=vectors(5, -10.0, 10.0),
       g=hnp.arrays(np.float64, 5, elements=st.one_of(
           st.just(0.0), st.floats(1e-3, 1e3), st.floats(-1e3, -1e-3))))
def test_adam_first_step_has_size_lr_in_every_coordinate(lr, beta1, beta2, w, g):
    # Step 1: m_hat = g and v_hat = g^2 exactly (the bias correction's purpose), so the step is
    # lr * g / (|g| + eps): size lr / (1 + eps/|g|), within eps/|g| <= 1e-5 of lr, opposite to g;
    # a zero gradient coordinate does not move. (w - new is also off by rounding of w: ulp(10)/lr
    # <= 2e-11 relative.)
    step = w - optimizers.Adam(lr=lr, beta1=beta1, beta2=beta2, eps=1e-8).step(w, g)
    moving = g != 0
    np.testing.assert_allclose(np.abs(step[moving]), lr, rtol=1e-5 + 1e-10)
    assert np.all(np.abs(step) <= lr * (1 + 1e-10))
    assert np.all(np.sign(step[moving]) == np.sign(g[moving]))
    np.testing.assert_array_equal(step[~moving], 0.0)


def per_setting(draw, strategy, n):
    """Either one value shared by all settings or an (n, 1) column, one per setting."""
    if draw(st.booleans()):
        return draw(strategy)
    return np.array([[draw(strategy)] for _ in range(n)])


def row(value, i):
    return value if np.ndim(value) == 0 else float(value[i, 0])


@SETTINGS
@given(name=st.sampled_from(NAMES), data=st.data(), n_settings=st.integers(2, 4),
       dims=st.integers(1, 3), n_steps=st.integers(1, 6), use_schedules=st.booleans())
def test_broadcast_sweep_equals_single_runs(name, data, n_settings, dims, n_steps, use_schedules):
    draw = data.draw
    hyper = {key: per_setting(draw, strategy, n_settings)
             for key, strategy in HYPERPARAMETERS[name].items()}
    if use_schedules:
        # One schedule per setting, joined with lib.schedules.stack.
        peaks = [draw(rates) for _ in range(n_settings)]
        singles = [schedules.warmup_cosine(p, warmup_steps=2, total_steps=5, min_lr=0.1 * p)
                   if i % 2 == 0 else schedules.step_decay(p, step_size=2, gamma=0.5)
                   for i, p in enumerate(peaks)]
        sweep_lr, single_lr = schedules.stack(*singles), singles
    else:
        sweep_lr = per_setting(draw, rates, n_settings)
        single_lr = [row(sweep_lr, i) for i in range(n_settings)]
    W = draw(hnp.arrays(np.float64, (n_settings, dims), elements=st.floats(-10, 10)))
    curvature = draw(hnp.arrays(np.float64, (n_settings, dims), elements=st.floats(0.0, 5.0)))
    shift = draw(hnp.arrays(np.float64, (n_settings, dims), elements=st.floats(-1, 1)))

    def gradient(w, i=slice(None)):   # elementwise (no reductions), so rows cannot interact
        return curvature[i] * (w - shift[i])

    sweep = getattr(optimizers, name)(lr=sweep_lr, **hyper)
    W_sweep = W
    for _ in range(n_steps):
        W_sweep = sweep.step(W_sweep, gradient(W_sweep))
    for i in range(n_settings):
        single = getattr(optimizers, name)(lr=single_lr[i],
                                           **{k: row(v, i) for k, v in hyper.items()})
        w = W[i]
        for _ in range(n_steps):
            w = single.step(w, gradient(w, i))
        if name in ("Adam", "AdamW"):
            # beta**t on an array vs on a float may differ by an ulp (see the module docstring).
            np.testing.assert_allclose(W_sweep[i], w, rtol=1e-13, atol=1e-15,
                                       err_msg=f"setting {i}")
        else:
            # The same correctly rounded arithmetic element by element: equal to the last bit.
            np.testing.assert_array_equal(W_sweep[i], w, err_msg=f"setting {i}")


# --- The schedules --------------------------------------------------------------------------------

Spec = namedtuple("Spec", "schedule peak floor warmup end")
Spec.__doc__ = """A drawn schedule and what it promises: values in [0, peak], and in [floor, peak]
from step ``warmup`` on; non-decreasing before ``warmup``, non-increasing after; at the floor from
step ``end`` on (``end`` is None for schedules without an end: constant, step_decay, linear_warmup).

The degenerate warmup_steps == total_steps has no decay phase: the rate climbs to peak*(w-1)/w at
step w-1 and is at the floor from step w = total_steps on ("reaches the minimum at total_steps and
stays there" wins over "the peak at warmup_steps"). Hugging Face's linear schedule does the same
(its value there is 0); its cosine would give the peak for that one step."""


@st.composite
def schedule_specs(draw):
    kind = draw(st.sampled_from(["constant", "step_decay", "linear_warmup", "cosine_annealing",
                                 "warmup_cosine", "warmup_linear"]))
    peak = draw(st.one_of(st.just(0.0), st.floats(1e-8, 10.0)))
    floor = peak * draw(st.one_of(st.just(0.0), st.just(1.0), st.floats(0.0, 1.0)))
    warmup = draw(st.integers(0, 300))
    # warmup_steps == total_steps (no decay phase) is drawn often: it is the edge case.
    total = warmup + draw(st.one_of(st.just(0 if warmup else 1), st.integers(1, 1000)))
    if kind == "constant":
        return Spec(schedules.constant(peak), peak, peak, 0, None)
    if kind == "step_decay":
        step_size, gamma = draw(st.integers(1, 50)), draw(st.floats(0.0, 1.0))
        return Spec(schedules.step_decay(peak, step_size, gamma), peak, 0.0, 0, None)
    if kind == "linear_warmup":
        return Spec(schedules.linear_warmup(peak, warmup), peak, peak, warmup, None)
    if kind == "cosine_annealing":
        return Spec(schedules.cosine_annealing(peak, total, floor), peak, floor, 0, total)
    function = getattr(schedules, kind)
    return Spec(function(peak, warmup, total, floor), peak, floor, warmup, total)


def slack(peak):
    return 2 * ULP * peak


@SETTINGS
@given(spec=schedule_specs())
def test_schedule_bounds_and_monotone_phases(spec):
    s, peak, floor, warmup, end = spec
    steps = np.arange(0, int(1.5 * max(end or 0, warmup)) + 20)
    values = s(steps)
    assert values.shape == steps.shape
    assert np.all(values >= 0.0) and np.all(values <= peak + slack(peak))
    assert np.all(values[warmup:] >= floor - slack(peak))
    assert np.all(np.diff(values[:warmup]) >= 0), "warmup must not decrease"
    if warmup > 0 and (end is None or end > warmup):
        assert values[warmup] >= values[warmup - 1], "the peak must end the warmup"
    assert np.all(np.diff(values[warmup:]) <= 0), "after warmup the rate must not increase"
    if end is not None:
        assert abs(values[end] - floor) <= slack(peak)          # reaches the floor at the end ...
        np.testing.assert_array_equal(values[end:], values[end])  # ... and stays there


@SETTINGS
@given(spec=schedule_specs(), delta=st.floats(1e-9, 1.0))
def test_schedule_is_continuous_at_the_warmup_boundary(spec, delta):
    s, peak, floor, warmup, end = spec
    if warmup == end:
        # No decay phase (see Spec): at total_steps the floor, not the peak.
        assert abs(s(warmup) - floor) <= slack(peak)
        return
    if warmup == 0:
        assert abs(s(0) - peak) <= slack(peak)                   # no warmup: start at the peak
        return
    assert s(0) == 0.0                                           # warmup starts from 0 ...
    assert abs(s(warmup) - peak) <= slack(peak)                  # ... and reaches the peak
    # From below, the warmup line has slope peak / warmup_steps (rounding of warmup - delta and
    # of the division adds a few ulps).
    assert abs(s(warmup - delta) - peak) <= peak * delta / warmup + 2 * slack(peak)
    if end is None:
        assert s(warmup + delta) == s(warmup)                    # linear_warmup: flat after
    else:
        # From above, the decay's slope is at most (pi/2)(peak - floor) / decay length (cosine);
        # the straight line's (peak - floor) / decay length is smaller.
        assert abs(s(warmup + delta) - peak) <= (
            np.pi / 2 * (peak - floor) * delta / (end - warmup) + 2 * slack(peak))


@SETTINGS
@given(spec=schedule_specs(), steps=hnp.arrays(np.int64, st.integers(1, 20),
                                              elements=st.integers(0, 3000)))
def test_schedule_is_pure_and_vectorised(spec, steps):
    s = spec[0]
    steps_before = steps.copy()
    first = s(steps)
    np.testing.assert_array_equal(steps, steps_before)           # the input is not touched
    np.testing.assert_array_equal(s(steps), first)               # the same answer twice
    one_by_one = [s(int(k)) for k in steps]
    assert all(isinstance(v, float) for v in one_by_one)         # an int step gives a float
    np.testing.assert_allclose(first, one_by_one, rtol=4 * ULP, atol=0)  # arrays agree with
    #                                                  ints (to the ulp, see the module docstring)
    np.testing.assert_array_equal(s(steps), first)               # calling changed nothing


def test_stack_runs_schedules_side_by_side():
    a = schedules.warmup_cosine(1.0, warmup_steps=10, total_steps=100)
    b = schedules.step_decay(0.1, step_size=7, gamma=0.5)
    stacked = schedules.stack(a, b)
    for k in (0, 5, 10, 50, 100, 200):
        np.testing.assert_array_equal(stacked(k), [[a(k)], [b(k)]])


@pytest.mark.parametrize("name", NAMES)
def test_lr_zero_with_adamw_decay_is_no_change(name):
    # The explicit case from the brief: a big decay and a big gradient, lr = 0.
    kwargs = {"weight_decay": 0.9} if name in ("Adam", "AdamW") else {}
    w = np.array([3.0, -2.0])
    opt = getattr(optimizers, name)(lr=0.0, **kwargs)
    for _ in range(3):
        np.testing.assert_array_equal(opt.step(w, np.array([50.0, -0.5])), w)
