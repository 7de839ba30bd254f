"""AdamWithoutBiasCorrection against hand-worked closed forms (not against its own output)."""

import numpy as np
import pytest

from lib.optimizers import Adam
from lib.schedules import linear_warmup
from lib.variants import AdamWithoutBiasCorrection


def test_first_step_is_lr_times_one_minus_beta1_over_root_one_minus_beta2():
    # m_1 = (1 - b1) g, v_1 = (1 - b2) g^2, step = lr m_1 / (sqrt(v_1) + eps).
    # Defaults: 0.1 / sqrt(0.001) = 3.16227766..., the "about 3x larger" first step.
    g = np.array([5.0, -0.02, 300.0])
    opt = AdamWithoutBiasCorrection(lr=0.01, eps=0.0)
    w = opt.step(np.zeros(3), g)
    np.testing.assert_allclose(w, -0.01 * np.sign(g) * 0.1 / np.sqrt(0.001), rtol=1e-12)
    assert 0.1 / np.sqrt(0.001) == pytest.approx(3.16227766, rel=1e-8)


@pytest.mark.parametrize("beta1, beta2", [(0.9, 0.999), (0.5, 0.99), (0.99, 0.999), (0.0, 0.9)])
def test_steady_gradient_steps_follow_the_geometric_series(beta1, beta2):
    # For a constant g the moments are partial geometric sums: m_t = (1 - b1^t) g and
    # v_t = (1 - b2^t) g^2, so the uncorrected step is lr (1 - b1^t) / sqrt(1 - b2^t) in the
    # direction of -g, while Adam's corrected step is lr every time.
    g, lr, steps = 2.5, 0.1, 60
    plain, corrected = AdamWithoutBiasCorrection(lr, beta1, beta2, eps=0.0), Adam(lr, beta1, beta2, eps=0.0)
    w_plain = w_corrected = np.zeros(1)
    for t in range(1, steps + 1):
        new_plain, new_corrected = plain.step(w_plain, [g]), corrected.step(w_corrected, [g])
        expected = lr * (1 - beta1**t) / np.sqrt(1 - beta2**t)
        assert w_plain[0] - new_plain[0] == pytest.approx(expected, rel=1e-10)
        assert w_corrected[0] - new_corrected[0] == pytest.approx(lr, rel=1e-10)
        w_plain, w_corrected = new_plain, new_corrected


def test_moments_and_step_count_are_adams_own():
    rng = np.random.default_rng(0)
    plain, corrected = AdamWithoutBiasCorrection(lr=0.01), Adam(lr=0.01)
    w = np.zeros(4)
    for t in range(1, 26):
        g = rng.standard_normal(4)
        plain.step(w, g)
        corrected.step(w, g)
        assert plain.t == corrected.t == t
        np.testing.assert_array_equal(plain.m, corrected.m)
        np.testing.assert_array_equal(plain.v, corrected.v)


def test_schedules_still_see_the_step_count():
    # Warmup to 1.0 over 4 steps: lr(k) = k / 4, so step k (k = 0, 1, ...) moves by lr(k) * ratio_t.
    opt = AdamWithoutBiasCorrection(lr=linear_warmup(1.0, 4), beta1=0.9, beta2=0.999, eps=0.0)
    w = np.zeros(1)
    for k in range(4):
        new = opt.step(w, [1.0])
        t = k + 1
        assert w[0] - new[0] == pytest.approx(k / 4 * (1 - 0.9**t) / np.sqrt(1 - 0.999**t), rel=1e-10)
        w = new


def test_weight_decay_is_still_coupled_l2():
    # Adam's weight_decay adds weight_decay * w to the gradient before the moments.
    opt = AdamWithoutBiasCorrection(lr=0.1, weight_decay=0.5, eps=0.0)
    w = opt.step([2.0], [0.0])            # g' = 0 + 0.5 * 2 = 1
    assert w[0] == pytest.approx(2.0 - 0.1 * 0.1 / np.sqrt(0.001), rel=1e-12)


# --- Nesterov ----------------------------------------------------------------------------------

import json                                                          # noqa: E402
import pathlib                                                       # noqa: E402

from lib import schedules                                            # noqa: E402
from lib.optimizers import Momentum                                  # noqa: E402
from lib.variants import Nesterov                                    # noqa: E402
from test_against_torch import ATOL_TRAJECTORY, RTOL_TRAJECTORY, gradient  # noqa: E402

NESTEROV_FIXTURE = json.loads((pathlib.Path(__file__).parent / "fixtures"
                               / "torch_nesterov.json").read_text())


def test_nesterov_first_steps_by_hand():
    # v1 = g1 = 2, step lr*(g1 + beta*v1) = 0.5*(2 + 0.5*2) = 1.5;
    # v2 = 0.5*2 + (-1) = 0, step 0.5*(-1 + 0) = -0.5; v3 = 0*0.5 + 4 = 4, step 0.5*(4 + 2) = 3.
    opt = Nesterov(lr=0.5, beta=0.5)
    w = np.array([10.0])
    for g, expected_w, expected_v in ((2.0, 8.5, 2.0), (-1.0, 9.0, 0.0), (4.0, 6.0, 4.0)):
        w = opt.step(w, [g])
        assert w[0] == pytest.approx(expected_w, abs=1e-15)
        assert opt.v[0] == pytest.approx(expected_v, abs=1e-15)


def test_nesterov_steady_gradient_steps_lr_times_one_plus_beta_over_one_minus_beta_at_most():
    # A steady g: v_t = (1 - beta^t)/(1 - beta) g, step lr*(1 + beta (1 - beta^t)/(1 - beta)) g.
    beta, lr, g = 0.9, 0.01, 3.0
    opt, w = Nesterov(lr=lr, beta=beta), np.zeros(1)
    for t in range(1, 200):
        new = opt.step(w, [g])
        assert w[0] - new[0] == pytest.approx(lr * g * (1 + beta * (1 - beta**t) / (1 - beta)),
                                              rel=1e-12)
        w = new


def test_nesterov_keeps_momentums_velocity():
    # Same gradients in, same velocity out: only the step differs.
    rng = np.random.default_rng(1)
    heavy, ahead = Momentum(lr=0.1, beta=0.8), Nesterov(lr=0.1, beta=0.8)
    w = np.zeros(3)
    for g in rng.standard_normal((30, 3)):
        heavy.step(w, g)
        ahead.step(w, g)
        np.testing.assert_array_equal(heavy.v, ahead.v)


def test_nesterov_fixture_covers_problems_and_schedules():
    runs = NESTEROV_FIXTURE["trajectories"]
    assert NESTEROV_FIXTURE["meta"]["dtype"] == "float64"
    assert "nesterov=True" in NESTEROV_FIXTURE["meta"]["optimizer"]
    assert {t["problem"] for t in runs} == {"quadratic", "rosenbrock", "least_squares"}
    assert {t["schedule"]["torch"] for t in runs if t["schedule"]} == {"LambdaLR", "StepLR"}
    assert {t["hyper"]["beta"] for t in runs} >= {0.5, 0.9, 0.99}
    assert all(t["amplification"] < 10 and len(t["w"]) == len(t["lrs"]) + 1 >= 51 for t in runs)


@pytest.mark.parametrize("trajectory", NESTEROV_FIXTURE["trajectories"],
                         ids=[t["name"] for t in NESTEROV_FIXTURE["trajectories"]])
def test_nesterov_matches_torch_sgd_nesterov(trajectory):
    grad = gradient(NESTEROV_FIXTURE["problems"][trajectory["problem"]])
    hyper = dict(trajectory["hyper"])
    if trajectory["schedule"] is not None:
        spec = trajectory["schedule"]
        hyper["lr"] = getattr(schedules, spec["kind"])(**spec["args"])
    opt = Nesterov(**hyper)
    expected = np.array(trajectory["w"])
    w = expected[0].copy()
    for k, lr in enumerate(trajectory["lrs"]):
        assert opt.lr_at(k) == pytest.approx(lr, rel=1e-14, abs=1e-14 * trajectory["hyper"]["lr"])
        w = opt.step(w, grad(w))
        np.testing.assert_allclose(w, expected[k + 1], rtol=RTOL_TRAJECTORY, atol=ATOL_TRAJECTORY,
                                   err_msg=f"weights after step {k}")
