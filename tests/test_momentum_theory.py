"""Tests for lib/momentum_theory.py against independent computations: numpy's eigenvalues of the
iteration matrix, the decay of runs of lib.optimizers.Momentum, brute-force searches over
hyperparameters, and hand-worked numbers."""

import numpy as np
import pytest

from lib.momentum_theory import (convergence_rate, iteration_matrix, kappa_for_optimal_beta,
                                 measured_rate, polyak_optimum, sgd_optimum, spectral_radius,
                                 stable_lr_limit, steps_to_shrink)
from lib.optimizers import SGD, Momentum
from lib.surfaces import narrow_valley, run


def eig_radius(lr, beta, lam):
    """The spectral radius from numpy's general eigenvalue routine."""
    return np.max(np.abs(np.linalg.eigvals(iteration_matrix(lr, beta, lam))), axis=-1)


def test_iteration_matrix_is_one_step_of_the_library_momentum():
    rng = np.random.default_rng(0)
    for lr, beta, lam in rng.uniform([0.01, 0.0, 0.1], [2.0, 0.99, 5.0], size=(20, 3)):
        opt = Momentum(lr=lr, beta=beta)
        w = np.array([1.3])
        state = np.array([1.3, 0.0])                     # (w, v), v_0 = 0
        M = iteration_matrix(lr, beta, lam)
        for _ in range(5):
            w = opt.step(w, lam * w)                     # gradient of lam * w^2 / 2
            state = M @ state
            np.testing.assert_allclose([w[0], opt.v[0]], state, rtol=1e-12, atol=1e-15)


def test_closed_form_radius_matches_numpy_eigenvalues():
    lr = np.geomspace(1e-3, 5.0, 300)[:, None]
    beta = np.linspace(0.0, 0.995, 200)[None, :]
    for lam in (0.1, 1.0, 2.0):
        np.testing.assert_allclose(spectral_radius(lr, beta, lam), eig_radius(lr, beta, lam),
                                   rtol=1e-6, atol=1e-6)   # double roots: eig loses digits there


def test_radius_is_the_decay_rate_of_simulated_runs():
    """Run Momentum on the 1-D quadratic lam*w^2/2 and fit the decay of |w| late in the run."""
    cases = [(0.05, 0.9, 2.0), (0.4, 0.0, 2.0), (0.9, 0.0, 2.0), (0.3, 0.5, 1.0), (1.5, 0.2, 1.0),
             (0.01, 0.3, 1.0)]
    for lr, beta, lam in cases:
        opt = Momentum(lr=lr, beta=beta)
        w, history = np.array([1.0]), []
        for _ in range(400):
            w = opt.step(w, lam * w)
            history.append(np.hypot(w[0], opt.v[0]))       # the state's size
        history = np.array(history)
        # envelope ratio over the second half
        late, mid = history[360:].max(), history[160:200].max()
        simulated = (late / mid)**(1 / 200)
        assert simulated == pytest.approx(float(spectral_radius(lr, beta, lam)), abs=3e-3), (lr, beta)


def test_sgd_is_beta_zero():
    lr = np.linspace(0.01, 1.5, 50)
    np.testing.assert_allclose(spectral_radius(lr, 0.0, 2.0), np.abs(1 - 2.0 * lr), atol=1e-15)


def test_stability_edge_by_bisection_on_runs():
    """The largest lr at which a run of the library's Momentum does not blow up, found by
    bisection, is (2 + 2 beta) / lambda_max."""
    valley = narrow_valley()
    for beta in (0.0, 0.5, 0.9):
        low, high = 0.1, 5.0
        for _ in range(30):
            mid = (low + high) / 2
            result = run(Momentum(lr=mid, beta=beta), valley, steps=3000, bound=1e3)
            low, high = (low, mid) if result.diverged else (mid, high)
        assert low == pytest.approx(stable_lr_limit(beta, valley.lambda_max), rel=2e-3)


def test_radius_crosses_one_at_the_stability_edge():
    for beta in (0.0, 0.3, 0.9, 0.99):
        edge = stable_lr_limit(beta, 2.0)
        assert spectral_radius(edge * 0.999, beta, 2.0) < 1 < spectral_radius(edge * 1.001, beta, 2.0)


def test_polyak_optimum_is_the_minimum_of_a_brute_force_search():
    for lambda_min, lambda_max in [(0.1, 2.0), (1.0, 100.0), (0.5, 0.5 * 7)]:
        lr = np.linspace(0.001, 2.5 / lambda_max * 2, 1500)[:, None]
        beta = np.linspace(0.0, 0.99, 1000)[None, :]
        rates = convergence_rate(lr, beta, [lambda_min, lambda_max])
        i, j = np.unravel_index(np.argmin(rates), rates.shape)
        best = polyak_optimum(lambda_min, lambda_max)
        assert rates[i, j] == pytest.approx(best.rate, abs=2e-3)
        assert float(convergence_rate(best.lr, best.beta, [lambda_min, lambda_max])) == pytest.approx(
            best.rate, rel=1e-6)
        assert beta[0, j] == pytest.approx(best.beta, abs=0.02)
        assert lr[i, 0] == pytest.approx(best.lr, rel=0.03)


def test_sgd_optimum_is_the_minimum_of_a_search_and_hand_worked():
    lr = np.linspace(0.001, 1.2, 20001)
    rates = convergence_rate(lr, 0.0, [0.1, 2.0])
    best = sgd_optimum(0.1, 2.0)
    assert lr[np.argmin(rates)] == pytest.approx(best.lr, abs=1e-4)
    assert best.lr == pytest.approx(2 / 2.1) and best.rate == pytest.approx(19 / 21)


def test_hand_worked_numbers():
    assert polyak_optimum(1.0, 100.0).beta == pytest.approx((9 / 11)**2)
    assert polyak_optimum(1.0, 100.0).rate == pytest.approx(9 / 11)
    assert polyak_optimum(1.0, 1.0) == (1.0, 0.0, 0.0)          # kappa = 1: one Newton-like step
    assert stable_lr_limit(0.9, 2.0) == pytest.approx(1.9)
    assert kappa_for_optimal_beta(polyak_optimum(1.0, 100.0).beta) == pytest.approx(100)
    assert steps_to_shrink(0.9, 10) == 22                        # 0.9^21 = 0.109, 0.9^22 = 0.098
    assert steps_to_shrink(np.array([0.5, 0.9]), 10).tolist() == [4, 22]


def test_measured_rate_recovers_the_theory_on_the_valley():
    valley = narrow_valley()
    lr = np.array([[0.05], [0.3], [0.9], [1.3], [0.9], [1.1]])
    beta = np.array([[0.9], [0.5], [0.0], [0.4], [0.7], [0.0]])
    result = run(Momentum(lr=lr, beta=beta), valley, steps=300)
    measured = measured_rate(result.trajectory)
    theory = convergence_rate(lr[:, 0], beta[:, 0], [valley.lambda_min, valley.lambda_max])
    np.testing.assert_allclose(measured[:5], theory[:5], atol=5e-3)
    assert measured[5] == np.inf                                 # SGD with lr > 1 diverged
    single = run(SGD(lr=0.9), valley, steps=300)
    assert measured_rate(single.trajectory) == pytest.approx(0.91, abs=1e-3)


def test_arguments_are_checked():
    with pytest.raises(ValueError, match="beta"):
        stable_lr_limit(1.0, 2.0)
    with pytest.raises(ValueError, match="lam"):
        stable_lr_limit(0.5, 0.0)
    with pytest.raises(ValueError, match="lambda_max must be >= lambda_min"):
        polyak_optimum(2.0, 1.0)
    with pytest.raises(ValueError, match="rate"):
        steps_to_shrink(1.0, 10)
    with pytest.raises(ValueError, match="steps"):
        measured_rate(np.zeros((10, 2)), window=20)


# --- eigenvalues, damping, Nesterov --------------------------------------------------------------

from lib.momentum_theory import critical_beta, damping, eigenvalues  # noqa: E402
from lib.variants import Nesterov                                    # noqa: E402


def test_nesterov_iteration_matrix_is_one_step_of_the_library_nesterov():
    rng = np.random.default_rng(3)
    for lr, beta, lam in rng.uniform([0.01, 0.0, 0.1], [1.5, 0.99, 5.0], size=(20, 3)):
        opt = Nesterov(lr=lr, beta=beta)
        w, state = np.array([-0.7]), np.array([-0.7, 0.0])
        M = iteration_matrix(lr, beta, lam, nesterov=True)
        for _ in range(5):
            w = opt.step(w, lam * w)
            state = M @ state
            np.testing.assert_allclose([w[0], opt.v[0]], state, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("nesterov", [False, True])
def test_eigenvalues_match_numpy_and_the_companion_matrix(nesterov):
    rng = np.random.default_rng(4)
    for lr, beta, lam in rng.uniform([0.01, 0.0, 0.1], [3.0, 0.99, 3.0], size=(50, 3)):
        ours = eigenvalues(lr, beta, lam, nesterov=nesterov)
        numpy = np.linalg.eigvals(iteration_matrix(lr, beta, lam, nesterov=nesterov))
        np.testing.assert_allclose(np.sort_complex(ours), np.sort_complex(numpy), atol=1e-7)
        assert abs(ours[0]) >= abs(ours[1])
        assert abs(ours[0]) == pytest.approx(spectral_radius(lr, beta, lam, nesterov=nesterov),
                                             abs=1e-7)
        if not nesterov:   # the two-step recurrence w+ = (1 + beta - lr lam) w - beta w-, by hand
            companion = np.array([[1 + beta - lr * lam, -beta], [1.0, 0.0]])
            np.testing.assert_allclose(np.sort_complex(ours),
                                       np.sort_complex(np.linalg.eigvals(companion)), atol=1e-7)


def test_critical_beta_is_where_the_roots_meet():
    # disc (1 + b - h)^2 - 4 b = 0 at b = (1 - sqrt h)^2: the double root is sqrt(b) = 1 - sqrt(h)
    for h in (1e-4, 0.01, 0.2, 0.5, 1.0):
        b = critical_beta(h, 1.0)
        assert (1 + b - h) ** 2 - 4 * b == pytest.approx(0.0, abs=1e-12)
        assert b == pytest.approx((1 - np.sqrt(h)) ** 2, rel=1e-12)
    with pytest.raises(ValueError, match="lr \\* lam"):
        critical_beta(1.5, 1.0)


def sign_changes(lr, beta, lam, steps=300, nesterov=False):
    opt = (Nesterov if nesterov else Momentum)(lr=lr, beta=beta)
    w, seen = np.array([1.0]), []
    for _ in range(steps):
        w = opt.step(w, lam * w)
        seen.append(w[0])
    seen = np.array(seen)
    return int(np.sum(np.sign(seen[1:]) != np.sign(seen[:-1]))), seen


def test_damping_names_what_the_runs_do():
    lam, lr = 0.1, 0.1                          # lr*lam = 0.01: critical beta 0.81
    for beta in (0.0, 0.3, 0.6, 0.8):           # over-damped: the error never changes sign
        assert damping(lr, beta, lam) == "over-damped"
        changes, w = sign_changes(lr, beta, lam)
        assert changes == 0 and abs(w[-1]) < 1
    for beta in (0.82, 0.9, 0.99):              # under-damped: it swings past the minimum
        assert damping(lr, beta, lam) == "under-damped"
        assert sign_changes(lr, beta, lam)[0] >= 2
    assert damping(lr, critical_beta(lr, lam), lam) == "critical"
    assert sign_changes(lr, critical_beta(lr, lam), lam)[0] == 0
    # alternating: lr*lam beyond (1 + sqrt(beta))^2, below 2 + 2 beta
    assert damping(2.0, 0.1, 1.0) == "alternating"
    changes, _ = sign_changes(2.0, 0.1, 1.0, steps=50)
    assert changes == 49
    assert damping(2.3, 0.1, 1.0) == "unstable"
    assert list(damping(0.1, np.array([0.5, 0.9]), 0.1)) == ["over-damped", "under-damped"]


def test_nesterov_radius_matches_runs_and_its_stability_edge():
    # Nesterov's edge: lr lam < (2 + 2 beta)/(1 + 2 beta) (the root -1 of its polynomial)
    for beta in (0.0, 0.5, 0.9):
        edge = (2 + 2 * beta) / (1 + 2 * beta)
        assert spectral_radius(0.999 * edge, beta, 1.0, nesterov=True) < 1
        assert spectral_radius(1.001 * edge, beta, 1.0, nesterov=True) > 1
    valley = narrow_valley()
    for lr, beta in ((0.1, 0.9), (0.5, 0.5), (0.8, 0.3)):
        result = run(Nesterov(lr=lr, beta=beta), valley, steps=400)
        expected = convergence_rate(lr, beta, [valley.lambda_min, valley.lambda_max], nesterov=True)
        assert measured_rate(result.trajectory) == pytest.approx(float(expected), abs=5e-3)
