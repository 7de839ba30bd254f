"""lib.decay: the disagreeing-minibatch problem and the fitted decay rate, against closed forms."""

import numpy as np
import pytest

from lib.decay import DisagreeingBatches, decay_rate
from lib.optimizers import SGD, Adam, AdamW
from lib.surfaces import run


def test_batches_alternate_and_cancel():
    problem = DisagreeingBatches(scales=(2.0, 50.0))
    w = np.array([[0.3, -1.0], [4.0, 2.0]])
    np.testing.assert_array_equal(problem.batch_grad(w, 0), [[2.0, 50.0]] * 2)
    np.testing.assert_array_equal(problem.batch_grad(w, 1), [[-2.0, -50.0]] * 2)
    np.testing.assert_allclose(problem.batch_loss(w, 0), w @ [2.0, 50.0])
    np.testing.assert_allclose(problem.batch_loss(w, 0) + problem.batch_loss(w, 1), 0.0)
    np.testing.assert_array_equal(problem.loss(w), [0.0, 0.0])
    np.testing.assert_array_equal(problem.grad(w), np.zeros((2, 2)))
    # each call of gradients() starts afresh at batch A
    for _ in range(2):
        stream = problem.gradients()
        assert [float(stream(w[0])[0]) for _ in range(4)] == [2.0, -2.0, 2.0, -2.0]


def test_sgd_on_alternating_batches_returns_to_its_start_every_two_steps():
    # w - lr*s + lr*s = w: without decay, plain SGD goes nowhere on average.
    problem = DisagreeingBatches()
    result = run(SGD(lr=0.01), problem, steps=10, grad=problem.gradients())
    np.testing.assert_allclose(result.trajectory[::2], np.tile(problem.start, (6, 1)), rtol=1e-12)


def test_adamw_decays_every_weight_at_its_closed_form_rate():
    # AdamW: w_k = (1 - lr*lambda) w_{k-1} - lr*u_k, with u_k from the gradient alone, bounded; the
    # fitted rate is -ln(1 - lr*lambda)/lr per unit lr, the same for both weights.
    problem = DisagreeingBatches()
    lr, lam = 0.01, 0.1
    result = run(AdamW(lr=lr, weight_decay=lam), problem, steps=1000, grad=problem.gradients())
    np.testing.assert_allclose(decay_rate(result.trajectory, lr), -np.log(1 - lr * lam) / lr, rtol=1e-4)


def test_adam_with_l2_divides_the_decay_by_the_gradient_scale():
    # Adam + L2: v_hat is about scale^2, so the decay term lambda*w is divided by about the scale:
    # rates lambda/1 and lambda/100 (to within the jitter lambda*w adds to v_hat).
    problem = DisagreeingBatches(scales=(1.0, 100.0))
    lr, lam = 0.01, 0.1
    result = run(Adam(lr=lr, weight_decay=lam), problem, steps=1000, grad=problem.gradients())
    rates = decay_rate(result.trajectory, lr)
    assert rates[0] == pytest.approx(lam, rel=0.02)
    assert rates[1] == pytest.approx(lam / 100, rel=0.02)


def test_gaussian_batches_are_seeded_and_scaled():
    problem = DisagreeingBatches(scales=(1.0, 100.0))
    draws = problem.gradients("gaussian", np.random.default_rng(0))(np.zeros((20_000, 2)))
    again = problem.gradients("gaussian", np.random.default_rng(0))(np.zeros((20_000, 2)))
    np.testing.assert_array_equal(draws, again)
    np.testing.assert_allclose(draws.std(axis=0), [1.0, 100.0], rtol=0.02)
    assert np.all(np.abs(draws.mean(axis=0)) < 4 * np.array([1.0, 100.0]) / np.sqrt(20_000))


def test_decay_rate_filters_the_jitter_and_skips_the_start():
    k = np.arange(801)[:, None]
    jitter = 0.01 * (-1.0) ** k                             # period-2 wiggle around the trend
    w = 3.0 * np.exp(-0.002 * k * np.array([1.0, 10.0])) + jitter * np.array([1e-3, 1e-4])
    w[:50] = 100.0                                          # a start-up the fit must skip
    np.testing.assert_allclose(decay_rate(w, lr=0.002, skip=100), [1.0, 10.0], rtol=1e-3)


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="scales must be two numbers"):
        DisagreeingBatches(scales=(1.0, 2.0, 3.0))
    with pytest.raises(ValueError, match="kind must be"):
        DisagreeingBatches().gradients("uniform")
    with pytest.raises(ValueError, match="rng must be a numpy Generator"):
        DisagreeingBatches().gradients("gaussian")
    with pytest.raises(ValueError, match="batch must be 0"):
        DisagreeingBatches().batch_grad([0.0, 0.0], 2)
    with pytest.raises(ValueError, match="NaN"):
        decay_rate(np.full((200, 2), np.nan), lr=0.1)


def test_sgdw_without_momentum_is_sgd_with_l2():
    # beta = 0: w - lr*(g + lam*w) both ways, step for step (plain SGD with L2 is weight decay)
    from lib.decay import SGDW
    from lib.optimizers import SGD
    rng = np.random.default_rng(0)
    grads = rng.standard_normal((20, 3))
    lr, lam = 0.05, 0.3
    decoupled, coupled = SGDW(lr=lr, beta=0.0, weight_decay=lam), SGD(lr=lr)
    w_d = w_c = np.array([1.0, -2.0, 0.5])
    for g in grads:
        w_d = decoupled.step(w_d, g)
        w_c = coupled.step(w_c, g + lam * w_c)
    np.testing.assert_allclose(w_d, w_c, rtol=1e-13)


def test_sgdw_and_momentum_with_l2_part_at_the_second_step():
    # Hand-worked: w0 = 1, g = 0, lr = 0.1, beta = 0.9, lam = 0.5.
    # Step 1, both: w1 = 1 - 0.1*0.5*1 = 0.95.
    # Step 2, SGDW: v stays 0, w2 = 0.95 * (1 - 0.05) = 0.9025.
    # Step 2, Momentum + L2: v = 0.9*0.5 + 0.5*0.95 = 0.925, w2 = 0.95 - 0.0925 = 0.8575;
    # the difference is lr*lam*beta*w0 = 0.045, the old decay still in the velocity.
    from lib.decay import SGDW
    from lib.optimizers import Momentum
    lr, beta, lam = 0.1, 0.9, 0.5
    decoupled, coupled = SGDW(lr=lr, beta=beta, weight_decay=lam), Momentum(lr=lr, beta=beta)
    w_d = w_c = np.array([1.0])
    path_d, path_c = [], []
    for _ in range(2):
        w_d = decoupled.step(w_d, np.zeros(1))
        w_c = coupled.step(w_c, lam * w_c)
        path_d.append(float(w_d[0]))
        path_c.append(float(w_c[0]))
    assert path_d == pytest.approx([0.95, 0.9025], abs=1e-15)
    assert path_c == pytest.approx([0.95, 0.8575], abs=1e-15)
    with pytest.raises(ValueError, match="weight_decay"):
        SGDW(lr=0.1, weight_decay=-1.0)
