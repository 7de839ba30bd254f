"""Tests of the rules and the schedule beyond AdamW: lib.beyond and schedules.warmup_stable_decay.

Every expected number here is worked by hand from the published formula (written out in the
comment beside it) or recorded from the named reference implementation (optax, torch) by
``tests/generate_beyond_fixtures.py``; no test compares the lib with its own output.
"""

import math
import pickle
import re

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


def _grad(spec):
    """The gradient of a fixture problem, by hand (least squares: X^T (X W - Y))."""
    if spec["kind"] == "least_squares":
        X, Y = np.array(spec["X"]), np.array(spec["Y"])
        return lambda w: X.T @ (X @ w - Y)
    return _gradient(spec)


def _fixture(name):
    return json.loads((pathlib.Path(__file__).parent / "fixtures" / f"beyond_{name}.json").read_text())


def _close(actual, expected, what):
    # relative to the run's scale: entries pass through 0, where a purely relative test is unfair
    expected = np.asarray(expected)
    np.testing.assert_allclose(actual, expected, rtol=1e-12, atol=1e-12 * np.abs(expected).max(),
                               err_msg=what)


# --- Muon --------------------------------------------------------------------------------------------

from lib.beyond import NS_COEFFICIENTS, Muon, newton_schulz  # noqa: E402

MUON_FIXTURE = _fixture("muon")


def _quintic(sigma, steps):
    a, b, c = 3.4445, -4.7750, 2.0315                      # Keller Jordan's published coefficients
    for _ in range(steps):
        sigma = a * sigma + b * sigma**3 + c * sigma**5
    return sigma


def test_newton_schulz_coefficients_are_the_published_ones():
    assert NS_COEFFICIENTS == (3.4445, -4.7750, 2.0315)
    assert _quintic(1.0, 1) == pytest.approx(0.701, rel=1e-14)   # a + b + c


def test_muon_first_step_of_a_rank_one_gradient_by_hand():
    # g = 6 u v^T with unit u (3 rows), v (2 columns): m = (1-beta) g, Nesterov u' = (1-beta)(1+beta) g;
    # NS divides by ||u'||_F, giving u v^T (singular value 1), then maps 1 -> 0.701 -> ... (5 times).
    u, v = np.array([1.0, 2.0, 2.0]) / 3, np.array([0.6, -0.8])
    g = 6.0 * np.outer(u, v)
    w0 = np.arange(6.0).reshape(3, 2) / 10
    lr, wd = 0.02, 0.1
    opt = Muon(lr=lr, beta=0.95, weight_decay=wd)
    w1 = opt.step(w0, g)
    ratio = math.sqrt(3 / 2)                                 # sqrt(max(1, A/B)), A = 3 rows, B = 2
    expected = w0 * (1 - lr * wd) - lr * ratio * _quintic(1.0, 5) * np.outer(u, v)
    np.testing.assert_allclose(w1, expected, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(opt.m, 0.05 * g, rtol=1e-14)           # m = (1 - beta) g
    plain = Muon(lr=lr, beta=0.95, nesterov=False, weight_decay=0.0).step(w0, g)
    np.testing.assert_allclose(plain, w0 - lr * ratio * _quintic(1.0, 5) * np.outer(u, v),
                               rtol=1e-13, atol=1e-15)      # rank 1: the scale of u' does not matter


def test_muon_lr_adjustments_by_hand():
    # a rank-1 gradient again, so the update is quintic(1, 5) u v^T and only r(A, B) changes
    for (A, B), original, moonshot in [((3, 2), math.sqrt(1.5), 0.2 * math.sqrt(3)),
                                       ((2, 8), 1.0, 0.2 * math.sqrt(8))]:
        g = np.outer(np.ones(A) / math.sqrt(A), np.ones(B) / math.sqrt(B))
        for adjust, r in [("original", original), ("match_rms_adamw", moonshot)]:
            w = Muon(lr=0.1, weight_decay=0.0, adjust_lr=adjust).step(np.zeros((A, B)), g)
            np.testing.assert_allclose(w, -0.1 * r * _quintic(1.0, 5) * g, rtol=1e-13, atol=1e-16)


@pytest.mark.parametrize("run", MUON_FIXTURE["trajectories"],
                         ids=lambda r: f"{r['problem']}-{r['hyper']['adjust_lr']}-"
                                       f"nesterov{r['hyper']['nesterov']}-ns{r['hyper']['ns_steps']}")
def test_muon_matches_torch_every_step(run):
    # torch.optim.Muon 2.13 with its Newton-Schulz run in float64 (the script patches out bfloat16)
    spec = MUON_FIXTURE["problems"][run["problem"]]
    grad, opt = _grad(spec), Muon(**run["hyper"])
    w = np.array(run["w"][0])
    for k, expected in enumerate(run["w"][1:]):
        w = opt.step(w, grad(w))
        _close(w, expected, f"step {k}")


def test_torch_bfloat16_newton_schulz_moves_the_first_step_by_one_to_three_percent():
    # What torch's bfloat16 cast costs: measured against torch's own unpatched first step.
    hyper = MUON_FIXTURE["trajectories"][0]["hyper"]
    for name, spec in MUON_FIXTURE["problems"].items():
        w0 = np.array(spec["w0"])
        w1 = Muon(**hyper).step(w0, _grad(spec)(w0))
        step = np.abs(w1 - w0 * (1 - hyper["lr"] * hyper["weight_decay"])).max()
        off = np.abs(w1 - np.array(spec["bfloat16_first_step"])).max() / step
        assert 0.005 < off < 0.03, name                   # the docstring says 1.0 to 2.4%


def test_newton_schulz_pushes_singular_values_towards_one():
    rng = np.random.default_rng(0)
    for shape in [(6, 4), (4, 6), (5, 5)]:
        M = rng.normal(size=shape) @ np.diag(np.logspace(0, -2, shape[1]))
        before = np.linalg.svd(M, compute_uv=False)
        after = np.linalg.svd(newton_schulz(M), compute_uv=False)
        assert before.max() / before.min() > 50
        assert np.all((after > 0.6) & (after < 1.25)), after
        U, _, Vt = np.linalg.svd(M, full_matrices=False)
        # same singular vectors: U^T NS(M) V is diagonal
        inner = U.T @ newton_schulz(M) @ Vt.T
        np.testing.assert_allclose(inner - np.diag(np.diag(inner)), 0.0, atol=1e-12)
    assert np.array_equal(newton_schulz(np.zeros((2, 3))), np.zeros((2, 3)))   # eps: no 0/0


def test_newton_schulz_of_a_stack_is_each_matrix():
    rng = np.random.default_rng(1)
    stack = rng.normal(size=(3, 4, 2))
    together = newton_schulz(stack, steps=4)
    for i in range(3):
        np.testing.assert_allclose(together[i], newton_schulz(stack[i], steps=4), rtol=1e-14,
                                   atol=1e-15)
    assert newton_schulz(stack.astype(np.float32)).dtype == np.float32


def test_muon_sweep_over_a_settings_axis_is_separate_runs():
    spec = MUON_FIXTURE["problems"]["wide"]
    grad, w0 = _grad(spec), np.array(spec["w0"])
    lrs, betas = np.array([0.01, 0.02, 0.05]), np.array([0.9, 0.95, 0.8])
    sweep = Muon(lr=lrs[:, None, None], beta=betas[:, None, None], weight_decay=0.1)
    w = np.stack([w0] * 3)
    for _ in range(15):
        w = sweep.step(w, np.stack([grad(wi) for wi in w]))
    assert w.shape == (3, *w0.shape)
    for i in range(3):
        opt, wi = Muon(lr=lrs[i], beta=betas[i], weight_decay=0.1), w0
        for _ in range(15):
            wi = opt.step(wi, grad(wi))
        np.testing.assert_allclose(w[i], wi, rtol=1e-13, atol=1e-15)


def test_muon_keeps_float32_and_holds_one_buffer():
    opt = Muon(lr=0.02)
    w = opt.step(np.ones((4, 3), dtype=np.float32), np.eye(4, 3))
    assert w.dtype == np.float32 and opt.m.dtype == np.float32
    assert opt.state_nbytes() == 4 * 3 * 4                   # one buffer of the matrix's shape


@pytest.mark.parametrize("w, grad", [(np.ones(3), np.ones(3)), (np.float64(1.0), 1.0)])
def test_muon_refuses_vectors_with_the_shape_rule(w, grad):
    with pytest.raises(ValueError, match=r"^w must be a matrix of shape \(A, B\).*AdamW"):
        Muon().step(w, grad)


def test_muon_sweep_arrays_must_cover_whole_matrices():
    with pytest.raises(ValueError, match=r"^lr must be a number or an array of shape "
                                         r"\(settings, 1, 1\)"):
        Muon(lr=np.array([[0.1], [0.2]])).step(np.ones((2, 3)), np.ones((2, 3)))


@pytest.mark.parametrize("kwargs, name", [
    ({"lr": -1.0}, "lr"), ({"beta": 1.0}, "beta"), ({"nesterov": 1}, "nesterov"),
    ({"ns_steps": 2.5}, "ns_steps"), ({"ns_steps": 100}, "ns_steps"),
    ({"weight_decay": -0.1}, "weight_decay"), ({"eps": 0.0}, "eps"),
    ({"adjust_lr": "spectral"}, "adjust_lr"), ({"adjust_lr": None}, "adjust_lr"),
])
def test_muon_bad_hyperparameters_name_the_argument(kwargs, name):
    with pytest.raises(ValueError, match=rf"^{name} must"):
        Muon(**kwargs)


@pytest.mark.parametrize("call, name", [
    (lambda: newton_schulz(np.ones(3)), "M"), (lambda: newton_schulz("ab"), "M"),
    (lambda: newton_schulz(np.eye(2), steps=-1), "steps"),
    (lambda: newton_schulz(np.eye(2), eps=-1.0), "eps"),
])
def test_newton_schulz_bad_input_names_the_argument(call, name):
    with pytest.raises(ValueError, match=rf"^{name} must"):
        call()


# --- Schedule-Free AdamW -----------------------------------------------------------------------------

from lib.beyond import ScheduleFreeAdamW  # noqa: E402

SF_FIXTURE = _fixture("schedulefree")


def test_schedulefree_first_two_steps_by_hand_in_the_papers_x_z_form():
    # The paper's form: z takes AdamW's step, x averages z (c = 1/t for r = 0, no warmup),
    # y = (1 - beta1) z + beta1 x is where the gradient is taken. The lib updates y directly.
    lr, b1, b2, eps = 0.1, 0.9, 0.999, 1e-8
    opt = ScheduleFreeAdamW(lr=lr, beta1=b1, beta2=b2, eps=eps)
    y1 = opt.step([1.0], [2.0])
    d1 = 2.0 / (math.sqrt(0.001 * 4.0 / 0.001) + eps)            # v = (1-b2) g^2, v_hat = g^2
    z1 = 1.0 - lr * d1
    x1 = z1                                                       # c_1 = 1
    np.testing.assert_allclose(y1, [(1 - b1) * z1 + b1 * x1], rtol=1e-15)
    np.testing.assert_allclose(opt.eval_point(y1), [x1], rtol=1e-15)
    y2 = opt.step(y1, [1.0])
    v = b2 * 0.004 + (1 - b2) * 1.0
    d2 = 1.0 / (math.sqrt(v / (1 - b2**2)) + eps)
    z2 = z1 - lr * d2
    x2 = 0.5 * x1 + 0.5 * z2                                      # c_2 = 1/2: the mean of z1, z2
    np.testing.assert_allclose(y2, [(1 - b1) * z2 + b1 * x2], rtol=1e-14)
    np.testing.assert_allclose(opt.eval_point(y2), [x2], rtol=1e-14)
    np.testing.assert_allclose(opt.z, [z2], rtol=1e-15)


def test_schedulefree_warmup_and_average_weights_by_hand():
    # warmup 4: gamma_t = lr t/4; weights gamma_max^2 = (lr t/4)^2, so c_t = t^2 / (1 + 4 + ... + t^2)
    opt = ScheduleFreeAdamW(lr=0.2, warmup_steps=4)
    w = np.zeros(1)
    for t in range(1, 7):
        z_before = opt.z.copy() if opt.z is not None else np.zeros(1)
        w = opt.step(w, [1.0])
        gamma = 0.2 * min(t, 4) / 4
        assert opt.lr_max == pytest.approx(gamma, rel=1e-15)
        expected_sum = sum((0.2 * min(i, 4) / 4) ** 2 for i in range(1, t + 1))
        assert opt.weight_sum == pytest.approx(expected_sum, rel=1e-14)
        # z moves by gamma_t times d (d = 1/(1 + eps/|g|) for a constant gradient of 1)
        np.testing.assert_allclose(z_before - opt.z, gamma / (1 + 1e-8), rtol=1e-14)


@pytest.mark.parametrize("run", SF_FIXTURE["trajectories"],
                         ids=lambda r: f"{r['problem']}-lr{r['hyper']['lr']}-"
                                       f"warmup{r['hyper']['warmup_steps']}-r{r['hyper']['r']}")
def test_schedulefree_matches_the_package_every_step_at_y_and_x(run):
    spec = SF_FIXTURE["problems"][run["problem"]]
    grad, opt = _grad(spec), ScheduleFreeAdamW(**run["hyper"])
    y = np.array(run["y"][0])
    _close(opt.eval_point(y), run["x"][0], "x before the first step")
    for k, (expected_y, expected_x) in enumerate(zip(run["y"][1:], run["x"][1:])):
        y = opt.step(y, grad(y))
        _close(y, expected_y, f"y at step {k}")                  # train mode: the gradient's point
        _close(opt.eval_point(y), expected_x, f"x at step {k}")  # eval mode: the averaged point


def test_schedulefree_x_is_the_mean_of_the_zs_without_warmup():
    rng = np.random.default_rng(3)
    opt, y, zs = ScheduleFreeAdamW(lr=0.05), np.ones(3), []
    for _ in range(12):
        y = opt.step(y, rng.normal(size=3))
        zs.append(opt.z.copy())
    np.testing.assert_allclose(opt.eval_point(y), np.mean(zs, axis=0), rtol=1e-12)


def test_schedulefree_sweep_is_separate_runs_and_float32_stays():
    spec = SF_FIXTURE["problems"]["rosenbrock"]
    grad, w0 = _grad(spec), np.array(spec["w0"])
    lrs = np.array([0.01, 0.05, 0.1])
    sweep, w = ScheduleFreeAdamW(lr=lrs[:, None], warmup_steps=3), np.stack([w0] * 3)
    for _ in range(20):
        w = sweep.step(w, np.stack([grad(wi) for wi in w]))
    for i, lr in enumerate(lrs):
        opt, wi = ScheduleFreeAdamW(lr=lr, warmup_steps=3), w0
        for _ in range(20):
            wi = opt.step(wi, grad(wi))
        np.testing.assert_allclose(w[i], wi, rtol=1e-13)
        np.testing.assert_allclose(sweep.eval_point(w)[i], opt.eval_point(wi), rtol=1e-13)
    opt = ScheduleFreeAdamW(lr=np.array([[0.1], [0.2]]))
    y = opt.step(np.ones(2, dtype=np.float32), np.ones(2))
    assert y.dtype == np.float32 and opt.eval_point(y).dtype == np.float32
    y = ScheduleFreeAdamW(lr=0.1, beta1=0.5).step(np.ones(2, dtype=np.float32), np.ones(2))
    assert y.dtype == np.float32


def test_schedulefree_holds_two_buffers_like_adamw():
    opt = ScheduleFreeAdamW()
    opt.step(np.ones(5), np.ones(5))
    assert set(opt.state()) == {"z", "v"} and opt.state_nbytes() == 2 * 5 * 8


def test_schedulefree_zero_lr_never_divides_by_zero():
    opt = ScheduleFreeAdamW(lr=0.0)
    y = opt.step(np.ones(2), np.ones(2))                          # weight_sum 0: c = 0, as the package
    np.testing.assert_array_equal(y, np.ones(2))
    np.testing.assert_array_equal(opt.eval_point(y), np.ones(2))


@pytest.mark.parametrize("kwargs, name", [
    ({"lr": -1.0}, "lr"), ({"beta1": 0.0}, "beta1"), ({"beta1": 1.0}, "beta1"),
    ({"beta2": 1.0}, "beta2"), ({"eps": -1e-8}, "eps"), ({"weight_decay": -0.1}, "weight_decay"),
    ({"warmup_steps": 2.5}, "warmup_steps"), ({"warmup_steps": -1}, "warmup_steps"),
    ({"r": -1.0}, "r"), ({"weight_lr_power": True}, "weight_lr_power"),
])
def test_schedulefree_bad_hyperparameters_name_the_argument(kwargs, name):
    with pytest.raises(ValueError, match=rf"^{name} must"):
        ScheduleFreeAdamW(**kwargs)


def test_schedulefree_eval_point_needs_the_y_it_returned():
    opt = ScheduleFreeAdamW()
    opt.step(np.ones(3), np.ones(3))
    with pytest.raises(ValueError, match=r"^w must be the y this optimizer returned, of shape \(3,\)"):
        opt.eval_point(np.ones(4))
    with pytest.raises(ValueError, match=r"^w must be an array of real numbers"):
        opt.eval_point("y")


# --- Adafactor ---------------------------------------------------------------------------------------

from lib.beyond import Adafactor  # noqa: E402

ADAFACTOR_FIXTURE = _fixture("adafactor")


def test_adafactor_first_step_on_a_2x2_by_hand():
    # t = 1: beta2_1 = 1 - 1^-0.8 = 0, so R and C are this gradient's row and column means of G^2.
    G = np.array([[1.0, 2.0], [3.0, 4.0]])                   # G^2 = [[1, 4], [9, 16]]
    opt = Adafactor(lr=0.01)
    w1 = opt.step(np.full((2, 2), 2.0), G)
    np.testing.assert_allclose(opt.row_var, [[2.5], [12.5]], rtol=1e-15)
    np.testing.assert_allclose(opt.col_var, [[5.0, 10.0]], rtol=1e-15)
    V = np.array([[5 / 3, 10 / 3], [25 / 3, 50 / 3]])       # R C / mean(R), mean(R) = 7.5
    np.testing.assert_allclose(opt.second_moment(), V, rtol=1e-15)
    U = G / np.sqrt(V)                                       # RMS(U) = sqrt(0.96) < d = 1: no clip
    alpha = 2.0 * 0.01                                       # RMS(w) = 2 times min(lr, 1/sqrt(1))
    np.testing.assert_allclose(w1, 2.0 - alpha * U, rtol=1e-15)
    assert opt.variance is None


def test_adafactor_clips_an_update_whose_rms_exceeds_d():
    # a vector: t = 1 V = g^2 (U = sign g); at t = 2 the gradient jumps 10x, V lags, RMS(U) > 1
    opt = Adafactor(lr=0.5)
    w1 = opt.step(np.array([3.0, 4.0]), np.array([1.0, 1.0]))
    np.testing.assert_allclose(w1, [3.0, 4.0] - math.sqrt(12.5) * 0.5 * np.ones(2), rtol=1e-15)
    w2 = opt.step(w1, np.array([10.0, 10.0]))
    keep = 1 - 2**-0.8
    assert 10 / math.sqrt(keep * 1 + (1 - keep) * 100) > 1  # unclipped U would be larger than 1
    alpha = math.sqrt(np.mean(w1**2)) * min(0.5, 1 / math.sqrt(2))
    np.testing.assert_allclose(w2, w1 - alpha * np.ones(2), rtol=1e-14)   # clipped to RMS 1


def test_adafactor_factored_v_is_exact_when_the_squared_gradient_has_rank_one():
    # If G^2 = a b^T, then R C / mean(R) = a b^T: the factoring loses nothing.
    a, b = np.array([1.0, 4.0, 9.0]), np.array([0.25, 1.0])
    G = np.sqrt(np.outer(a, b))
    opt = Adafactor()
    opt.step(np.ones((3, 2)), G)
    np.testing.assert_allclose(opt.second_moment(), G**2, rtol=1e-14)
    assert Adafactor().second_moment() is None
    vec = Adafactor()
    vec.step(np.ones(3), [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(vec.second_moment(), [1.0, 4.0, 9.0])   # t = 1: V = g^2


@pytest.mark.parametrize("run", ADAFACTOR_FIXTURE["trajectories"],
                         ids=lambda r: f"{r['problem']}-lr{r['hyper']['lr']}-d{r['hyper']['d']}")
def test_adafactor_matches_torch_every_step(run):
    spec = ADAFACTOR_FIXTURE["problems"][run["problem"]]
    grad, opt = _grad(spec), Adafactor(**run["hyper"])
    w = np.array(run["w"][0])
    for k, expected in enumerate(run["w"][1:]):
        w = opt.step(w, grad(w))
        _close(w, expected, f"step {k}")


def test_adafactor_state_is_m_plus_n_per_matrix():
    for m, n in [(10, 10), (100, 30), (7, 400)]:
        opt = Adafactor()
        opt.step(np.ones((m, n)), np.ones((m, n)))
        assert opt.state_nbytes() == (m + n) * 8
    opt = Adafactor()
    opt.step(np.ones(50, dtype=np.float32), np.ones(50))
    assert opt.state_nbytes() == 50 * 4                      # a vector keeps the full v


def test_adafactor_sweeps_are_separate_runs():
    spec = ADAFACTOR_FIXTURE["problems"]["wide"]
    grad, w0 = _grad(spec), np.array(spec["w0"])
    lrs = np.array([0.01, 0.05, 0.2])
    sweep, w = Adafactor(lr=lrs[:, None, None], weight_decay=0.01), w0
    for _ in range(12):
        w = sweep.step(w, grad(w) if w.ndim == 2 else np.stack([grad(wi) for wi in w]))
    assert w.shape == (3, *w0.shape) and sweep.row_var.shape == (3, 3, 1)
    for i, lr in enumerate(lrs):
        opt, wi = Adafactor(lr=lr, weight_decay=0.01), w0
        for _ in range(12):
            wi = opt.step(wi, grad(wi))
        np.testing.assert_allclose(w[i], wi, rtol=1e-13, atol=1e-15)
    # a vector swept with lr of shape (S, 1) stays S vectors (not factored as an S x n matrix)
    vec = Adafactor(lr=np.array([[0.01], [0.1]]))
    v = vec.step(np.array([1.0, -2.0, 0.5]), np.array([1.0, 2.0, 3.0]))
    assert vec.row_var is None and vec.variance.shape == (2, 3)
    for i, lr in enumerate([0.01, 0.1]):
        np.testing.assert_allclose(v[i], Adafactor(lr=lr).step([1.0, -2.0, 0.5], [1.0, 2.0, 3.0]),
                                   rtol=1e-15)


def test_adafactor_keeps_float32_and_uses_its_machine_epsilon():
    opt = Adafactor()
    w = opt.step(np.ones((3, 2), dtype=np.float32), np.zeros((3, 2)))   # V = 0: eps1 keeps it finite
    assert w.dtype == np.float32 and opt.row_var.dtype == np.float32
    np.testing.assert_array_equal(w, np.ones((3, 2), dtype=np.float32))


def test_adafactor_state_is_bound_to_the_shape():
    opt = Adafactor()
    opt.step(np.ones((3, 2)), np.ones((3, 2)))
    with pytest.raises(ValueError, match=r"^Adafactor holds state for weights of shape \(3, 2\)"):
        opt.step(np.ones((2, 3)), np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"^Adafactor holds state for float64 weights"):
        opt.step(np.ones((3, 2), dtype=np.float32), np.ones((3, 2)))
    assert opt.t == 1


@pytest.mark.parametrize("kwargs, name", [
    ({"lr": -1.0}, "lr"), ({"beta2_decay": 0.5}, "beta2_decay"), ({"eps": 1e-3}, "eps"),
    ({"eps": (None, 1e-3, 0)}, "eps"), ({"eps": (0.0, 1e-3)}, re.escape("eps[0]")),
    ({"eps": (None, -1.0)}, re.escape("eps[1]")), ({"d": 0.5}, "d"),
    ({"weight_decay": -1.0}, "weight_decay"), ({"eps": "ab"}, "eps"),
])
def test_adafactor_bad_hyperparameters_name_the_argument(kwargs, name):
    with pytest.raises(ValueError, match=rf"^{name} must"):
        Adafactor(**kwargs)


def test_adafactor_sweep_arrays_must_cover_whole_matrices():
    with pytest.raises(ValueError, match=r"^lr must be a number or an array of shape "
                                         r"\(settings, 1, 1\)"):
        Adafactor(lr=np.array([[0.1], [0.2]])).step(np.ones((2, 3)), np.ones((2, 3)))
    assert repr(Adafactor()) == ("Adafactor(lr=0.01, beta2_decay=-0.8, eps=(None, 0.001), d=1.0, "
                                 "weight_decay=0.0)")


# --- state bytes of the rules beyond AdamW, measured (lib.memory) ------------------------------------

from lib import memory  # noqa: E402


def test_measured_state_bytes_of_the_matrix_rules():
    m, n = 64, 256
    assert memory.measured_state_bytes(Muon(), shape=(m, n)) == m * n * 4           # m
    assert memory.measured_state_bytes(Adafactor(), shape=(m, n)) == (m + n) * 4    # R and C
    assert memory.measured_state_bytes(Adafactor(), m * n, shape=(m, n)) == (m + n) * 4
    assert memory.measured_state_bytes(Adafactor(), 1000, dtype="float64") == 1000 * 8  # a vector
    assert memory.measured_state_bytes(ScheduleFreeAdamW(), 1000) == 2 * 1000 * 4   # z and v
    assert memory.measured_state_bytes(Lion(lr=1e-4), 1000) == 1000 * 4             # m
    assert memory.state_copies(Muon) == 1 and memory.state_copies(ScheduleFreeAdamW()) == 2


def test_state_copies_refuses_factored_state():
    with pytest.raises(ValueError, match=r"^optimizer Adafactor keeps factored state"):
        memory.state_copies(Adafactor)


@pytest.mark.parametrize("kwargs, name", [
    ({"shape": (0, 3)}, "shape"), ({"shape": 12}, "shape"), ({"shape": (2, 2.5)}, "shape"),
    ({"shape": (10**5, 10**5)}, "shape"), ({"shape": (1, 2, 3, 4)}, "shape"),
    ({"shape": (3, 4), "n_params": 11}, "n_params"), ({}, "n_params"),
])
def test_measured_state_bytes_bad_shape_names_the_argument(kwargs, name):
    with pytest.raises(ValueError, match=rf"^{name} must"):
        memory.measured_state_bytes(Adafactor(), **kwargs)


def test_muon_needs_a_shape_to_be_measured():
    with pytest.raises(ValueError, match=r"^w must be a matrix"):
        memory.measured_state_bytes(Muon(), 1000)


# --- Blockwise: Muon on the hidden matrices, AdamW on the rest ---------------------------------------

from lib.beyond import Blockwise, hidden_matrix  # noqa: E402
from lib.model import MLP  # noqa: E402
from lib.optimizers import AdamW  # noqa: E402


def _split_rule(name, shape):
    return Muon(lr=0.02) if hidden_matrix(name, shape) else AdamW(lr=3e-3, weight_decay=0.0)


def test_blockwise_is_each_block_stepped_by_its_own_rule():
    model = MLP(sizes=(6, 5, 3))
    rng = np.random.default_rng(0)
    params = model.init_params(settings=2, seed=[0, 1])
    opt = Blockwise(model.layout, _split_rule)
    separate = {name: _split_rule(name, shape) for name, shape in model.layout}
    w, blocks = params, {k: v.copy() for k, v in model.blocks(params).items()}
    for _ in range(5):
        g = rng.normal(size=w.shape)
        w = opt.step(w, g)
        grads = model.blocks(g)
        for name, shape in model.layout:
            b = blocks[name]
            flat = b if hidden_matrix(name, shape) else b.reshape(2, -1)
            gb = grads[name] if hidden_matrix(name, shape) else grads[name].reshape(2, -1)
            blocks[name] = separate[name].step(flat, gb).reshape(b.shape)
    for name, block in model.blocks(w).items():
        np.testing.assert_array_equal(block, blocks[name], err_msg=name)
    assert opt.t == 5 and isinstance(opt.rules["W1"], Muon) and isinstance(opt.rules["W_out"], AdamW)
    sizes = {name: math.prod(shape) for name, shape in model.layout}
    muon = sum(sizes[n] for n, s in model.layout if hidden_matrix(n, s))
    assert opt.state_nbytes() == 2 * 8 * (muon + 2 * (model.num_params - muon))
    assert opt.matrix_fraction() == muon / model.num_params
    start = 0
    for name, shape in model.layout:                        # slices cut the flat vector in order
        assert opt.slices[name] == slice(start, start + sizes[name])
        start += sizes[name]
    assert start == model.num_params


def test_blockwise_trains_the_mlp_with_lib_training():
    from lib import data, training
    model, split = MLP(sizes=(64, 16, 10)), data.train_val_split(*data.load_digits(), seed=0)
    opt = Blockwise(model.layout, _split_rule)
    result = training.train(model, opt, model.init_params(settings=2, seed=[0, 1]), split,
                            steps=60, eval_every=30)
    assert result.train_loss.shape == (60, 2) and np.all(result.diverged_at == -1)
    assert np.all(result.val_loss[-1] < result.val_loss[0])   # both seeds learn something


def test_blockwise_sweeps_and_keeps_its_rules_unchanged_on_error():
    layout = [("W", (3, 2)), ("b", (2,))]
    lrs = np.array([0.01, 0.1])
    sweep = Blockwise(layout, lambda name, shape: Muon(lr=lrs[:, None, None]) if len(shape) == 2
                      else AdamW(lr=lrs[:, None]))
    w = sweep.step(np.ones(8), np.ones(8))                   # (P,) broadcast to (2, P) by the sweep
    assert w.shape == (2, 8)
    for i, lr in enumerate(lrs):
        np.testing.assert_allclose(w[i, :6], Muon(lr=lr).step(np.ones((3, 2)), np.ones((3, 2))).ravel())
        np.testing.assert_allclose(w[i, 6:], AdamW(lr=lr).step(np.ones(2), np.ones(2)))
    broken = Blockwise([("b", (2,)), ("W", (3, 2))],
                       lambda name, shape: Muon(lr=np.ones((2, 1))) if len(shape) == 2 else AdamW())
    with pytest.raises(ValueError, match=r"^lr must be a number or an array of shape"):
        broken.step(np.ones(8), np.ones(8))
    assert broken.rules["b"].t == 0 and broken.rules["b"].m is None and broken.t == 0


def test_blockwise_gives_adafactor_vectors_as_vectors():
    opt = Blockwise([("W", (3, 2)), ("b", (4,))], lambda name, shape: Adafactor())
    opt.step(np.ones((2, 10)), np.ones((2, 10)))
    assert opt.rules["W"].row_var.shape == (2, 3, 1) and opt.rules["b"].variance.shape == (2, 4)
    assert opt.state_nbytes() == 2 * 8 * (3 + 2 + 4)


def test_hidden_matrix_on_the_transformer_layout():
    from lib.transformer import Transformer
    model = Transformer(vocab_size=5, seq_len=3, d_model=4, n_heads=2, n_layers=1, norm="pre",
                        tied=False)
    muon = [name for name, shape in model.layout if hidden_matrix(name, shape)]
    assert muon == ["L0.attn.W_qkv", "L0.attn.W_proj", "L0.mlp.W_fc", "L0.mlp.W_proj"]


@pytest.mark.parametrize("call, name", [
    (lambda: Blockwise("W", _split_rule), "layout"),
    (lambda: Blockwise([("W", (2, 0))], _split_rule), "layout"),
    (lambda: Blockwise([("W", [2, 2])], _split_rule), "layout"),
    (lambda: Blockwise([("W", (2, 2)), ("W", (2,))], _split_rule), "layout"),
    (lambda: Blockwise([], _split_rule), "layout"),
    (lambda: Blockwise([("W", (2, 2))], "Muon"), "rule"),
    (lambda: Blockwise([("W", (2, 2))], lambda n, s: None), "rule"),
    (lambda: Blockwise([("W", (2, 2))], _split_rule).step(np.ones(5), np.ones(5)), "w"),
    (lambda: Blockwise([("W", (2, 2))], _split_rule).step(np.ones(4), np.ones(3)), "grad"),
])
def test_blockwise_bad_input_names_the_argument(call, name):
    with pytest.raises(ValueError, match=rf"^{name} must"):
        call()


def test_newton_schulz_range_stated_in_its_docstring():
    # five steps of the published quintic on singular values in [0.002, 1] land in [0.68, 1.21]
    sigma = np.logspace(np.log10(0.002), 0, 200)
    after = np.sort(np.diag(newton_schulz(np.diag(sigma))))
    scaled = sigma / np.linalg.norm(sigma)                  # what the Frobenius division leaves
    np.testing.assert_allclose(after, np.sort(_quintic(scaled, 5)), rtol=1e-12)
    mapped = _quintic(sigma, 5)
    assert mapped.min() >= 0.68 and mapped.max() <= 1.21
    assert _quintic(1e-4, 5) == pytest.approx(1e-4 * 3.4445**5, rel=1e-3)   # tiny ones grow ~490x


def test_match_rms_adamw_gives_an_update_rms_of_0_2():
    # Moonshot's reason: an orthogonal A x B update has RMS 1/sqrt(max(A, B)); 0.2 sqrt(max(A, B))
    # rescales it to 0.2. An exactly orthogonal momentum (a permutation's rows) shows it.
    for A, B in [(4, 16), (16, 4), (8, 8)]:
        Q = np.eye(max(A, B))[:A, :B]
        opt = Muon(lr=1.0, weight_decay=0.0, ns_steps=0, adjust_lr="match_rms_adamw")
        step = -opt.step(np.zeros((A, B)), Q)                 # ns_steps=0: O = Q / ||Q||_F
        O = Q / math.sqrt(min(A, B))
        np.testing.assert_allclose(step, 0.2 * math.sqrt(max(A, B)) * O, rtol=1e-14)
        orthogonal = O * math.sqrt(min(A, B))                 # U V^T itself
        assert np.sqrt(np.mean(orthogonal**2)) == pytest.approx(1 / math.sqrt(max(A, B)), rel=1e-14)
        assert np.sqrt(np.mean((0.2 * math.sqrt(max(A, B)) * orthogonal) ** 2)) == pytest.approx(
            0.2, rel=1e-14)


def test_measured_state_bytes_of_a_blockwise_split():
    from lib.transformer import Transformer
    model = Transformer(vocab_size=11, seq_len=8, d_model=8, n_heads=2, n_layers=2, norm="pre",
                        tied=False)
    opt = Blockwise(model.layout, _split_rule)
    hidden = sum(math.prod(s) for n, s in model.layout if hidden_matrix(n, s))
    rest = model.num_params - hidden
    assert memory.measured_state_bytes(opt) == 4 * (hidden + 2 * rest)    # float32: 1 and 2 buffers
    assert hidden == 2 * (8 * 24 + 8 * 8 + 8 * 32 + 32 * 8)                # 2 layers: qkv, proj, fc, proj
