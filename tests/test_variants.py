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
