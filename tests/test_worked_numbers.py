"""Numbers worked by hand from the study note (the seed), checked against the lib.

Every expected value below is arithmetic written out in the comments, not output copied from the
code. Where the note's numbers are decimal (0.1, 0.5, 5.0), remember that 1 - 0.9 is not exactly
0.1 in binary floating point (it is 0.09999999999999998), so the comparisons allow rounding.
"""

import math

import numpy as np
import pytest

from lib.optimizers import SGD, Adam, AdamW, Momentum, RMSProp
from lib.schedules import warmup_cosine

ROUNDING = 1e-14      # relative: a few ulps of float64, for numbers the lib should hit "exactly"


# --- Adam: the note's bias-correction example ---------------------------------------------------

def test_adam_step_one_with_gradient_five():
    # The note: step 1, gradient 5.0, beta1 = 0.9
    #   m     = 0.9 * 0 + 0.1 * 5.0 = 0.5            (the raw mean is biased toward its start, 0)
    #   m_hat = 0.5 / (1 - 0.9^1) = 0.5 / 0.1 = 5.0   (the correction recovers the gradient)
    # and for the second moment with beta2 = 0.999:
    #   v     = 0.001 * 25 = 0.025,  v_hat = 0.025 / 0.001 = 25,  sqrt(v_hat) = 5
    # so the step is lr * 5 / (5 + eps) = lr / (1 + 2e-9): the first step has size lr.
    opt = Adam(lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8)
    w = opt.step(np.array([1.0]), np.array([5.0]))
    assert opt.t == 1
    m_hat = opt.m / (1 - opt.beta1**opt.t)
    v_hat = opt.v / (1 - opt.beta2**opt.t)
    assert opt.m[0] == pytest.approx(0.5, rel=ROUNDING)
    assert m_hat[0] == pytest.approx(5.0, rel=ROUNDING)
    assert opt.v[0] == pytest.approx(0.025, rel=ROUNDING)
    assert v_hat[0] == pytest.approx(25.0, rel=ROUNDING)
    assert w[0] == pytest.approx(1.0 - 1e-3 / (1 + 2e-9), rel=ROUNDING)


@pytest.mark.parametrize("t, beta1_factor, beta2_factor, rel", [
    # Practice 2, step 1: the corrections are 1/(1 - 0.9) = 10 and 1/(1 - 0.999) = 1000:
    # before correction m is a tenth of the gradient and v a thousandth of its square.
    (1, 10.0, 1000.0, 1e-12),
    # Step 100:
    #   0.9^100 = exp(100 ln 0.9) = exp(-10.536) = 2.6561e-5, so 1/(1 - 2.6561e-5) = 1.0000265621:
    #     m is corrected by under 0.003 %, the correction has all but vanished.
    #   ln 0.999 = -0.001 - 0.001^2/2 - 0.001^3/3 = -0.0010005003, times 100 = -0.10005003;
    #   exp(-0.10005003) = exp(-0.1) * exp(-0.00005003) = 0.9048374 * 0.9999500 = 0.9047921,
    #     so 1/(1 - 0.9047921) = 1/0.0952079 = 10.50334: v is still ten times too small.
    (100, 1.0000265621, 10.50334, 1e-6),
])
def test_practice_2_bias_correction_factors(t, beta1_factor, beta2_factor, rel):
    # With a constant gradient g, m_t = (1 - beta1^t) g and v_t = (1 - beta2^t) g^2 exactly
    # (sum of the geometric series), so the correction factor is m_hat / m = g / m = 1/(1 - beta1^t).
    g = np.array([5.0, -0.25, 3e-3])
    opt = Adam(lr=1e-3, beta1=0.9, beta2=0.999)
    w = np.zeros(3)
    for _ in range(t):
        w = opt.step(w, g)
    assert opt.t == t
    np.testing.assert_allclose(g / opt.m, beta1_factor, rtol=rel)
    np.testing.assert_allclose(g**2 / opt.v, beta2_factor, rtol=rel)
    # And the corrected moments are the gradient's own mean and mean square again.
    np.testing.assert_allclose(opt.m / (1 - opt.beta1**t), g, rtol=1e-12)
    np.testing.assert_allclose(opt.v / (1 - opt.beta2**t), g**2, rtol=1e-12)


# --- Momentum: the velocity of a steady gradient -------------------------------------------------

def test_momentum_velocity_builds_to_ten_times_the_gradient():
    # v_t = beta v_{t-1} + g with v_0 = 0 and a constant g:
    #   v_1 = g, v_2 = 1.9 g, v_3 = 2.71 g, ..., v_t = g (1 - beta^t) / (1 - beta) -> g / (1 - beta).
    # For beta = 0.9 that limit is 10 g (the note: past gradients weigh 9 times the current one).
    g = np.array([2.0, -0.5])
    opt = Momentum(lr=0.01, beta=0.9)
    w = np.zeros(2)
    w = opt.step(w, g)
    np.testing.assert_allclose(opt.v, g, rtol=ROUNDING)                   # v_1 = g
    np.testing.assert_allclose(w, -0.01 * g, rtol=ROUNDING)               # w_1 = -lr g
    w = opt.step(w, g)
    np.testing.assert_allclose(opt.v, 1.9 * g, rtol=ROUNDING)             # v_2 = 0.9 g + g
    np.testing.assert_allclose(w, -0.01 * (1 + 1.9) * g, rtol=ROUNDING)   # w_2 = w_1 - lr v_2
    w = opt.step(w, g)
    np.testing.assert_allclose(opt.v, 2.71 * g, rtol=ROUNDING)            # v_3 = 0.9*1.9 g + g
    for _ in range(297):
        w = opt.step(w, g)
    # After 300 steps 0.9^300 = exp(300 ln 0.9) = exp(-31.6) ~ 1.9e-14: v = 10 g to ~1e-13.
    np.testing.assert_allclose(opt.v, 10 * g, rtol=1e-12)


# --- SGD and RMSProp: one step by hand ------------------------------------------------------------

def test_sgd_step():
    # w = w - lr g: 1 - 0.1*10 = 0 and 2 - 0.1*(-10) = 3.
    np.testing.assert_allclose(SGD(lr=0.1).step([1.0, 2.0], [10.0, -10.0]), [0.0, 3.0],
                               atol=1e-15)


@pytest.mark.parametrize("beta, size", [
    (0.9, 0.01 / math.sqrt(0.1)),     # lr / sqrt(1 - 0.9)   = 0.01 * 3.1623 = 0.031623
    (0.99, 0.1),                      # lr / sqrt(1 - 0.99)  = 0.01 / 0.1   = 0.1
    (0.999, 0.01 / math.sqrt(0.001)),  # lr / sqrt(1 - 0.999) = 0.01 * 31.623 = 0.31623
])
def test_rmsprop_first_step_is_lr_over_root_one_minus_beta(beta, size):
    # Step 1: s = (1 - beta) g^2, so g / sqrt(s) = sign(g) / sqrt(1 - beta), whatever |g| is:
    # without bias correction, RMSProp's first step is 1/sqrt(1 - beta) times lr (what Adam's
    # correction of v removes). eps = 1e-8 shifts it by at most
    # eps / sqrt(s) = 1e-8 / (sqrt(0.001) * 0.5) = 6.3e-7 relative here.
    g = np.array([100.0, -1.0, 0.5])
    w = RMSProp(lr=0.01, beta=beta, eps=1e-8).step(np.zeros(3), g)
    np.testing.assert_allclose(w, -np.sign(g) * size, rtol=1e-6)


# --- AdamW: the decoupled decay on its own --------------------------------------------------------

def test_adamw_decay_alone():
    # With g = 0, Adam's direction is m_hat / (sqrt(v_hat) + eps) = 0 / (0 + eps) = 0, so only
    # the decay acts: w = w - lr * weight_decay * w = 2 - 0.1*0.5*2 = 1.9.
    np.testing.assert_allclose(AdamW(lr=0.1, weight_decay=0.5).step([2.0], [0.0]), [1.9],
                               rtol=ROUNDING)


def test_adam_l2_is_rescaled_but_adamw_decay_is_not():
    # The note's practice 5 in numbers. One weight w = 1 with a steady large gradient g = 100 and
    # decay 0.1, lr = 1e-3, for one step:
    #   Adam + L2:  g' = 100 + 0.1*1 = 100.1; the first Adam step has size lr whatever g' is,
    #               so the decay's share of the step is 0.1/100.1 of lr = 1e-6 (almost nothing):
    #               w = 1 - 1e-3.
    #   AdamW:      w = 1 - lr*(1 + 0.1*1) = 1 - 1.1e-3: the decay adds its full lr*0.1*w = 1e-4.
    w_l2 = Adam(lr=1e-3, weight_decay=0.1).step([1.0], [100.0])
    w_adamw = AdamW(lr=1e-3, weight_decay=0.1).step([1.0], [100.0])
    np.testing.assert_allclose(w_l2, [1 - 1e-3], rtol=1e-12)
    np.testing.assert_allclose(w_adamw, [1 - 1.1e-3], rtol=1e-12)


# --- Practice 3: optimizer-state memory -----------------------------------------------------------

def test_practice_3_adamw_state_memory():
    # AdamW keeps m and v, one float32 each per parameter: 2 * 4 bytes = 8 bytes per parameter.
    # For the note's 7B-parameter VLA: 7e9 * 8 B = 56e9 B = 56 GB of state (SGD keeps none;
    # Momentum keeps v, 28 GB).
    n = 1000
    w = np.zeros(n, dtype=np.float32)
    g = np.ones(n, dtype=np.float32)
    adamw, momentum, sgd = AdamW(), Momentum(lr=0.1), SGD(lr=0.1)
    for opt in (adamw, momentum, sgd):
        opt.step(w, g)
    assert adamw.state_nbytes() == 8 * n
    assert momentum.state_nbytes() == 4 * n
    assert sgd.state_nbytes() == 0
    assert adamw.state_nbytes() / n * 7e9 == 56e9


# --- Practice 4 and the note's schedules ----------------------------------------------------------

def test_practice_4_warmup_cosine():
    # Warmup 2,000 steps to peak 2e-4, cosine to 2e-5 at step 100,000.
    s = warmup_cosine(2e-4, warmup_steps=2_000, total_steps=100_000, min_lr=2e-5)
    # step 0: warmup starts at 0.
    assert s(0) == 0.0
    # step 1,000: half way up the warmup: 2e-4 * 1000/2000 = 1e-4.
    assert s(1_000) == pytest.approx(1e-4, rel=ROUNDING)
    # step 2,000: end of warmup, cosine at progress 0: 2e-5 + 0.5*1.8e-4*(1 + cos 0) = 2e-4.
    assert s(2_000) == pytest.approx(2e-4, rel=ROUNDING)
    # step 50,000: progress = (50000 - 2000) / (100000 - 2000) = 48000/98000 = 24/49, and
    # cos(pi*24/49) = cos(pi/2 - pi/98) = sin(pi/98) = 0.0320516 (pi/98 = 0.0320571, minus its
    # cube over 6, 5.49e-6). So lr = 2e-5 + 9e-5*(1 + 0.0320516) = 2e-5 + 9.28846e-5 = 1.128846e-4,
    # a little above the mid-value 1.1e-4 because the midpoint of the decay is step 51,000.
    assert s(50_000) == pytest.approx(2e-5 + 9e-5 * (1 + math.sin(math.pi / 98)), rel=ROUNDING)
    assert s(50_000) == pytest.approx(1.128846e-4, rel=1e-6)
    # step 100,000: the end, 2e-5 (and it stays there).
    assert s(100_000) == pytest.approx(2e-5, rel=ROUNDING)
    assert s(150_000) == pytest.approx(2e-5, rel=ROUNDING)


def test_llama_2_schedule():
    # The note's Llama 2 example: peak 3e-4, warmup 2,000, total 2,000,000, cosine to 3e-5.
    # The decay spans 2,000,000 - 2,000 = 1,998,000 steps; 0.5*(3e-4 - 3e-5) = 1.35e-4.
    s = warmup_cosine(3e-4, warmup_steps=2_000, total_steps=2_000_000, min_lr=3e-5)
    expected = {
        0: 0.0,
        500: 3e-4 * 500 / 2000,                       # a quarter of the warmup: 7.5e-5
        2_000: 3e-4,                                  # the peak
        # a quarter of the decay, step 2000 + 499,500: cos(pi/4) = 0.70711,
        # 3e-5 + 1.35e-4*1.70711 = 2.60459e-4
        501_500: 3e-5 + 1.35e-4 * (1 + math.sqrt(2) / 2),
        1_001_000: 3e-5 + 1.35e-4,                    # half the decay: cos(pi/2) = 0 -> 1.65e-4
        1_500_500: 3e-5 + 1.35e-4 * (1 - math.sqrt(2) / 2),   # three quarters: 6.9541e-5
        2_000_000: 3e-5,                              # the minimum, a tenth of the peak
        3_000_000: 3e-5,                              # and it stays there
    }
    steps = np.array(list(expected))
    np.testing.assert_allclose(s(steps), list(expected.values()), rtol=1e-12, atol=1e-20)
    assert s(501_500) == pytest.approx(2.60459e-4, rel=1e-5)
    assert s(1_500_500) == pytest.approx(6.9541e-5, rel=1e-5)


def test_vla_fine_tuning_schedule():
    # The note's VLA fine-tuning example: peak 2e-5, warmup 500, total 50,000, cosine to 0.
    s = warmup_cosine(2e-5, warmup_steps=500, total_steps=50_000)
    assert s(250) == pytest.approx(1e-5, rel=ROUNDING)          # half the warmup
    assert s(500) == pytest.approx(2e-5, rel=ROUNDING)          # the peak
    assert s(500 + 49_500 // 2) == pytest.approx(1e-5, rel=1e-12)   # half the decay: cos(pi/2) = 0
    assert s(50_000) == pytest.approx(0.0, abs=1e-20)           # cos(pi) = -1: down to 0
