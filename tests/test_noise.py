"""lib/noise.py: seeded minibatch runs against runs made by hand with the same generators, the
full batch against plain gradient descent, and SGD's noise floor against its closed form."""

import numpy as np
import pytest

from lib import noise
from lib.optimizers import SGD, Momentum
from lib.surfaces import NoisyRegression, run


def test_each_seed_is_its_own_run():
    problem = NoisyRegression()
    lrs = np.array([[0.05], [0.2]])
    result = noise.seeded_runs(SGD(lr=lrs), problem, batch_size=3, seeds=[7, 11], steps=40)
    assert result.losses.shape == (41, 2, 2)
    for k, seed in enumerate([7, 11]):
        rng = np.random.default_rng(seed)                 # the same stream, drawn by hand
        by_hand = run(SGD(lr=lrs), problem, np.broadcast_to(problem.start, (2, 2)), steps=40,
                      grad=lambda w: problem.minibatch_grad(w, 3, rng))
        np.testing.assert_array_equal(result.trajectory[:, k], by_hand.trajectory)
    # different seeds, different runs
    assert not np.allclose(result.trajectory[:, 0], result.trajectory[:, 1])


def test_the_whole_data_set_is_gradient_descent():
    problem = NoisyRegression()
    result = noise.seeded_runs(Momentum(lr=0.05, beta=0.9), problem, batch_size=problem.n_samples,
                               seeds=range(3), steps=50)
    exact = run(Momentum(lr=0.05, beta=0.9), problem, steps=50)
    assert result.losses.shape == (51, 3)
    for k in range(3):
        np.testing.assert_allclose(result.trajectory[:, k], exact.trajectory, rtol=1e-12, atol=1e-12)


def test_noise_floor_and_spread_on_hand_made_numbers():
    class Fake:
        losses = np.array([[9.0, 9.0], [2.0, 5.0], [1.5, 4.0], [2.5, 6.0]])
        min_loss = 1.0
    np.testing.assert_allclose(noise.noise_floor(Fake, window=2), [1.0, 4.0])   # (0.5+1.5)/2, (3+5)/2
    with pytest.raises(ValueError, match="window"):
        noise.noise_floor(Fake, window=5)
    low, mid, high = noise.spread(np.array([[1.0, 4.0], [3.0, 0.0], [2.0, 2.0]]))
    np.testing.assert_allclose(low, [1.0, 0.0])
    np.testing.assert_allclose(mid, [2.0, 2.0])
    np.testing.assert_allclose(high, [3.0, 4.0])


def test_sgd_floor_matches_the_stationary_variance_of_a_noisy_quadratic():
    # Near the minimum SGD on a quadratic with gradient noise of covariance C is a linear recursion;
    # along an eigenvector (curvature lam, noise variance c) the excess loss settles at
    # lr c / (2 (2 - lr lam)). C is the per-sample gradient covariance at the minimum, times the
    # without-replacement factor (n - B) / (B (n - 1)).
    problem, batch, lr = NoisyRegression(), 5, 0.1
    per_sample = problem.X * (problem.X @ problem.minimum - problem.y)[:, None]
    n = problem.n_samples
    C = np.cov(per_sample.T, bias=True) * (n - batch) / (batch * (n - 1))
    lam, U = np.linalg.eigh(problem.A)
    c = np.diag(U.T @ C @ U)
    predicted = np.sum(lr * c / (2 * (2 - lr * lam)))
    result = noise.seeded_runs(SGD(lr=lr), problem, batch, seeds=range(8), steps=3000)
    measured = np.mean(noise.noise_floor(result, window=2500))
    assert abs(measured / predicted - 1) < 0.25, (measured, predicted)


def test_a_recorder_keeps_the_state_of_every_seed():
    from lib.history import Recorder
    from lib.optimizers import RMSProp
    problem = NoisyRegression()
    recorder = Recorder(RMSProp(lr=np.array([[0.01], [0.1]]), beta=0.9))
    result = noise.seeded_runs(recorder, problem, 4, seeds=[3, 5, 8], steps=20)
    assert result.losses.shape == (21, 3, 2)
    s = recorder.history("s")
    assert s.shape == (20, 3, 2, 2)
    # s after the first step is (1 - beta) g_1^2, g_1 drawn from seed 5's stream (block 1)
    g1 = problem.minibatch_grad(np.broadcast_to(problem.start, (2, 2)), 4, np.random.default_rng(5))
    np.testing.assert_allclose(s[0, 1], 0.1 * g1**2)


def test_bad_arguments_are_named():
    problem = NoisyRegression()
    with pytest.raises(ValueError, match="seeds"):
        noise.seeded_minibatch_grad(problem, 5, [])
    grad = noise.seeded_minibatch_grad(problem, 5, [0, 1])
    with pytest.raises(ValueError, match="one block per seed"):
        grad(np.zeros((3, 2)))
