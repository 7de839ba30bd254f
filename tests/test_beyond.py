"""Tests of the rules and the schedule beyond AdamW: lib.beyond and schedules.warmup_stable_decay.

Every expected number here is worked by hand from the published formula (written out in the
comment beside it) or recorded from the named reference implementation (optax, torch) by
``tests/generate_beyond_fixtures.py``; no test compares the lib with its own output.
"""

import math
import pickle

import numpy as np
import pytest

from lib import schedules

WSD = schedules.warmup_stable_decay


# --- warmup_stable_decay ---------------------------------------------------------------------------

def test_wsd_hand_worked_linear():
    # peak 2.0, warmup 4, total 20, decay 8 (so the decay starts at S = 12), min 0.5
    s = WSD(2.0, warmup_steps=4, total_steps=20, decay_steps=8, min_lr=0.5)
    expected = {0: 0.0, 1: 0.5, 2: 1.0, 4: 2.0, 8: 2.0, 12: 2.0,   # warmup 2*t/4, then stable
                14: 2.0 - 1.5 * 0.25,                              # p = 2/8: 0.5 + 1.5*(1 - 0.25)
                16: 1.25, 20: 0.5, 21: 0.5, 1000: 0.5}             # p = 1/2; the end; after it
    for step, lr in expected.items():
        assert s(step) == pytest.approx(lr, rel=1e-15, abs=1e-15), step


def test_wsd_hand_worked_cosine_and_sqrt():
    c = WSD(2.0, 4, 20, 8, min_lr=0.5, decay="cosine")
    q = WSD(2.0, 4, 20, 8, min_lr=0.5, decay="sqrt")
    # p = 0.25 at step 14: cosine f = (1 + cos(pi/4))/2 = 0.8535533905932737; sqrt f = 1 - 0.5
    assert c(14) == pytest.approx(0.5 + 1.5 * 0.8535533905932737, rel=1e-15)
    assert q(14) == pytest.approx(0.5 + 1.5 * 0.5, rel=1e-15)
    # p = 0.75 at step 18: sqrt f = 1 - sqrt(3)/2 = 0.1339745962155614 (not sqrt(1 - p) = 0.5)
    assert q(18) == pytest.approx(0.5 + 1.5 * 0.1339745962155614, rel=1e-14)
    # p = 0.5 at step 16: cosine f = 1/2 exactly in real numbers
    assert c(16) == pytest.approx(1.25, rel=1e-15)
    for s in (c, q):                                  # both start the decay at the peak, end at min
        assert s(12) == 2.0 and s(20) == 0.5 and s(4) == 2.0 and s(2) == 1.0


def test_wsd_without_a_stable_stretch_is_warmup_linear_and_warmup_cosine():
    steps = np.arange(0, 131)
    for W, T in [(0, 100), (10, 100), (30, 120)]:
        np.testing.assert_allclose(WSD(3e-4, W, T, T - W, min_lr=3e-5, decay="linear")(steps),
                                   schedules.warmup_linear(3e-4, W, T, min_lr=3e-5)(steps),
                                   rtol=1e-14, atol=1e-20)
        np.testing.assert_allclose(WSD(3e-4, W, T, T - W, min_lr=3e-5, decay="cosine")(steps),
                                   schedules.warmup_cosine(3e-4, W, T, min_lr=3e-5)(steps),
                                   rtol=1e-14, atol=1e-20)


def test_wsd_branches_share_the_stable_run():
    # The property that makes WSD popular: runs of different lengths agree until a decay starts.
    long, short = WSD(1.0, 10, 1000, 100), WSD(1.0, 10, 400, 40)
    steps = np.arange(0, 360)                                   # before the short run's decay (360)
    np.testing.assert_array_equal(long(steps), short(steps))
    assert short(380) < long(380) == 1.0


@pytest.mark.parametrize("decay", ["linear", "cosine", "sqrt"])
def test_wsd_shape_bounds_and_vectorisation(decay):
    s = WSD(1e-3, 50, 500, 150, min_lr=1e-4, decay=decay)
    steps = np.arange(0, 600)
    lr = s(steps)
    assert lr.shape == steps.shape and lr.dtype == np.float64
    after = lr[50:]
    assert np.all(np.diff(after) <= 0)                          # never rises after warmup
    assert np.all((after >= 1e-4) & (after <= 1e-3))
    grid = steps.reshape(20, 30)
    np.testing.assert_array_equal(s(grid), lr.reshape(20, 30))
    assert isinstance(s(7), float) and isinstance(s(np.int64(7)), float)
    assert s(100.5) == 1e-3                                     # a real step inside the stable part


def test_wsd_zero_lengths():
    assert WSD(1.0, 0, 10, 0)(0) == 1.0                        # no warmup: the peak from step 0
    s = WSD(1.0, 0, 10, 0, min_lr=0.25)                         # no decay: min_lr from T on
    assert s(9) == 1.0 and s(10) == 0.25 and s(11) == 0.25
    assert WSD(1.0, 10, 10, 0)(5) == 0.5                        # all warmup


def test_wsd_pickles_and_prints_as_its_call():
    s = WSD(2e-4, 100, 1000, 200, min_lr=2e-5, decay="sqrt")
    assert repr(s) == ("warmup_stable_decay(peak_lr=0.0002, warmup_steps=100, total_steps=1000, "
                       "decay_steps=200, min_lr=2e-05, decay='sqrt')")
    copy = pickle.loads(pickle.dumps(s))
    steps = np.arange(1100)
    np.testing.assert_array_equal(copy(steps), s(steps))


@pytest.mark.parametrize("call, name", [
    (lambda: WSD(-1.0, 10, 100, 10), "peak_lr"),
    (lambda: WSD([1.0, 2.0], 10, 100, 10), "peak_lr"),
    (lambda: WSD(True, 10, 100, 10), "peak_lr"),
    (lambda: WSD(1.0, 101, 100, 0), "warmup_steps"),
    (lambda: WSD(1.0, 2.5, 100, 10), "warmup_steps"),
    (lambda: WSD(1.0, 10, 0, 0), "total_steps"),
    (lambda: WSD(1.0, 10, 100, 91), "decay_steps"),             # warmup + decay > total
    (lambda: WSD(1.0, 10, 100, -1), "decay_steps"),
    (lambda: WSD(1.0, 10, 100, "5"), "decay_steps"),
    (lambda: WSD(1.0, 10, 100, 10, min_lr=2.0), "min_lr"),      # above the peak
    (lambda: WSD(1.0, 10, 100, 10, decay="exponential"), "decay"),
    (lambda: WSD(1.0, 10, 100, 10, decay=None), "decay"),
    (lambda: WSD(1.0, 10, 100, 10)(-1), "step"),
    (lambda: WSD(1.0, 10, 100, 10)(np.array([1.0, np.nan])), "step"),
])
def test_wsd_bad_input_names_the_argument(call, name):
    with pytest.raises(ValueError, match=rf"^{name} must"):
        call()


def test_wsd_error_gives_the_allowed_range():
    with pytest.raises(ValueError, match=r"decay_steps must be a whole number in \[0, 90\], got 91"):
        WSD(1.0, 10, 100, 91)


# --- Lion --------------------------------------------------------------------------------------------

from lib.beyond import Lion  # noqa: E402


def test_lion_first_step_by_hand():
    # m_0 = 0, so c = sign((1 - beta1) g) = sign(g) = [1, -1, 0];  w = w - lr*(c + wd*w)
    opt = Lion(lr=0.1, beta1=0.9, beta2=0.99, weight_decay=0.5)
    w = opt.step([1.0, -2.0, 0.5], [3.0, -0.001, 0.0])
    np.testing.assert_allclose(w, [1 - 0.1 * 1.5, -2 - 0.1 * (-1 - 1), 0.5 - 0.1 * 0.25], rtol=1e-15)
    np.testing.assert_allclose(opt.m, [0.03, -0.00001, 0.0], rtol=1e-13)   # m = (1 - 0.99) g


def test_lion_sign_uses_beta1_and_momentum_uses_beta2():
    opt = Lion(lr=0.1, beta1=0.9, beta2=0.99, weight_decay=0.0)
    w = opt.step([0.0], [3.0])                       # m = 0.03
    # beta1: 0.9*0.03 + 0.1*(-0.5) = -0.023 < 0, so the step is +lr; beta2 would give +0.0247
    w = opt.step(w, [-0.5])
    assert w[0] == pytest.approx(-0.1 + 0.1, abs=1e-16)
    assert opt.m[0] == pytest.approx(0.99 * 0.03 + 0.01 * -0.5, rel=1e-14)


def test_lion_sweep_broadcasts_and_keeps_float32():
    opt = Lion(lr=np.array([[0.1], [0.2]]), weight_decay=0.0)
    w = opt.step(np.zeros(2), np.array([1.0, -1.0]))
    np.testing.assert_allclose(w, [[-0.1, 0.1], [-0.2, 0.2]], rtol=1e-15)
    w32 = Lion(lr=0.1).step(np.ones(2, dtype=np.float32), np.ones(2))
    assert w32.dtype == np.float32
    assert Lion(lr=0.1).step(np.ones(3), np.ones(3)) is not None
    opt = Lion(lr=0.1)
    opt.step(np.ones(4), np.ones(4))
    assert opt.state_nbytes() == 4 * 8                # one buffer, half of Adam's two


@pytest.mark.parametrize("kwargs, name", [
    ({"lr": -1.0}, "lr"), ({"lr": 0.1, "beta1": 1.0}, "beta1"), ({"lr": 0.1, "beta2": -0.1}, "beta2"),
    ({"lr": 0.1, "weight_decay": -1.0}, "weight_decay"), ({"lr": 0.1, "beta1": True}, "beta1"),
])
def test_lion_bad_hyperparameters_name_the_argument(kwargs, name):
    with pytest.raises(ValueError, match=rf"^{name} must"):
        Lion(**kwargs)


# --- Lion against optax's recorded trajectories (tests/generate_beyond_fixtures.py) ------------------

import json  # noqa: E402
import pathlib  # noqa: E402

LION_FIXTURE = json.loads((pathlib.Path(__file__).parent / "fixtures" / "beyond_lion.json").read_text())


def _gradient(spec):
    if spec["kind"] == "quadratic":
        A = np.array(spec["A"])
        return lambda w: A @ w                                      # d/dw 0.5 w^T A w, A symmetric
    a, b = spec["a"], spec["b"]
    return lambda w: np.array([-2 * (a - w[0]) - 4 * b * w[0] * (w[1] - w[0] ** 2),
                               2 * b * (w[1] - w[0] ** 2)])


@pytest.mark.parametrize("run", LION_FIXTURE["trajectories"],
                         ids=lambda r: f"{r['problem']}-lr{r['hyper']['lr']}-wd{r['hyper']['weight_decay']}")
def test_lion_matches_optax_every_step(run):
    assert run["margin"] > 1e-6                                    # no sign rounding can flip
    spec = LION_FIXTURE["problems"][run["problem"]]
    grad, opt = _gradient(spec), Lion(**run["hyper"])
    w = np.array(run["w"][0])
    for k, expected in enumerate(run["w"][1:]):
        w = opt.step(w, grad(w))
        np.testing.assert_allclose(w, expected, rtol=1e-13, atol=5e-14, err_msg=f"step {k}")
