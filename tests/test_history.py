"""lib.history: the recorded states match hand-worked recurrences, and runs are run()'s own."""

import warnings

import numpy as np
import pytest

from lib.history import Recorder, record
from lib.optimizers import SGD, Adam, Momentum, RMSProp
from lib.surfaces import badly_scaled, narrow_valley, run


def test_rmsprop_s_on_a_quadratic_matches_the_recurrence_by_hand():
    # s_k = beta s_{k-1} + (1 - beta) g_k^2 with g_k = A w_{k-1}, computed here from the trajectory.
    bowl = badly_scaled()
    beta = 0.9
    result, history = record(RMSProp(lr=0.05, beta=beta), bowl, steps=30)
    s = np.zeros(2)
    for k in range(30):
        g = np.diag(bowl.A) * result.trajectory[k]
        s = beta * s + (1 - beta) * g**2
        np.testing.assert_allclose(history["s"][k], s, rtol=1e-12)


def test_adam_moments_for_a_steady_gradient_are_geometric_sums():
    # On a problem with constant gradient g, m_t = (1 - b1^t) g and v_t = (1 - b2^t) g^2.
    class Slope:
        start = np.zeros(2)
        min_loss = -np.inf

        def loss(self, w):
            return np.asarray(w) @ [3.0, -0.5]

        def grad(self, w):
            return np.broadcast_to([3.0, -0.5], np.shape(w)).copy()

    _, history = record(Adam(lr=0.01), Slope(), steps=20, bound=1e300)
    t = np.arange(1, 21)[:, None]
    np.testing.assert_allclose(history["m"], (1 - 0.9**t) * [3.0, -0.5], rtol=1e-12)
    np.testing.assert_allclose(history["v"], (1 - 0.999**t) * np.array([9.0, 0.25]), rtol=1e-12)


def test_the_run_is_exactly_what_run_returns():
    valley = narrow_valley()
    recorded, _ = record(Momentum(lr=0.3, beta=0.8), valley, steps=50)
    plain = run(Momentum(lr=0.3, beta=0.8), valley, steps=50)
    np.testing.assert_array_equal(recorded.trajectory, plain.trajectory)
    np.testing.assert_array_equal(recorded.losses, plain.losses)


def test_a_diverged_run_has_nan_history_from_the_step_it_diverged_at():
    valley = narrow_valley()                             # lambda_max = 2: SGD-like Momentum lr 5 blows up
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result, history = record(Momentum(lr=5.0, beta=0.9), valley, steps=200, bound=1e3)
    k = result.diverged_at
    assert isinstance(k, int)
    assert np.all(np.isfinite(history["v"][:k - 1]))
    assert np.all(np.isnan(history["v"][k - 1:]))


def test_a_sweep_records_every_setting():
    lrs = np.array([[0.01], [0.1], [0.3]])
    result, history = record(RMSProp(lr=lrs, beta=0.99), badly_scaled(), steps=10)
    assert history["s"].shape == (10, 3, 2)
    for i, lr in enumerate(lrs[:, 0]):
        _, single = record(RMSProp(lr=float(lr), beta=0.99), badly_scaled(), steps=10)
        np.testing.assert_array_equal(history["s"][:, i], single["s"])


def test_sgd_keeps_no_state_and_errors_name_the_problem():
    _, history = record(SGD(lr=0.1), narrow_valley(), steps=3)
    assert history == {}
    recorder = Recorder(Momentum(lr=0.1))
    with pytest.raises(ValueError, match="no step yet"):
        recorder.history("v")
    recorder.step([0.0], [1.0])
    with pytest.raises(ValueError, match="keeps no state 's'"):
        recorder.history("s")
