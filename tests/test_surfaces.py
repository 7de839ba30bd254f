"""Tests for lib/surfaces.py against independent references: central finite differences, closed-form
gradient-descent trajectories on quadratics, numpy's least squares, and sampling statistics."""

import warnings

import numpy as np
import pytest

from lib.optimizers import SGD, Adam, Momentum, RMSProp
from lib.surfaces import (NoisyRegression, Quadratic, badly_scaled, narrow_valley, rosenbrock, run,
                          saddle, steps_to_tolerance, two_minima)

SURFACES = {
    "narrow_valley": narrow_valley(),
    "narrow_valley_turned": narrow_valley(kappa=50, a=0.2, angle_degrees=30),
    "badly_scaled": badly_scaled(),
    "badly_scaled_shifted": badly_scaled(ratio=10, a=0.5, minimum=(1.0, -2.0)),
    "rosenbrock": rosenbrock(),
    "rosenbrock_gentle": rosenbrock(a=0.5, b=10),
    "saddle": saddle(),
    "saddle_pure": saddle(quartic=0),
    "two_minima": two_minima(),
    "two_minima_steep_tilt": two_minima(tilt=1.2),
    "regression": NoisyRegression(),
}
WITH_MINIMA = {name: s for name, s in SURFACES.items() if len(s.minima)}


def random_points(surface, shape, seed=0):
    """Points drawn uniformly over the surface's plotting window, shape (*shape, 2)."""
    rng = np.random.default_rng(seed)
    low = [surface.xlim[0], surface.ylim[0]]
    high = [surface.xlim[1], surface.ylim[1]]
    return rng.uniform(low, high, size=shape + (2,))


def central_difference(f, w, h):
    """d f / d w_j by (f(w + h e_j) - f(w - h e_j)) / 2h, stacked on a new last axis."""
    columns = []
    for j in range(2):
        e = np.zeros(2)
        e[j] = h
        columns.append((f(w + e) - f(w - e)) / (2 * h))
    return np.stack(columns, axis=-1)


def scale_of(values):
    return np.max(np.abs(values)) + 1.0


# ---------------------------------------------------------------- gradients and Hessians

@pytest.mark.parametrize("name", SURFACES)
def test_shapes_over_leading_axes(name):
    surface = SURFACES[name]
    w = random_points(surface, (4, 3))
    assert surface.loss(w).shape == (4, 3)
    assert surface.grad(w).shape == (4, 3, 2)
    assert surface.hessian(w).shape == (4, 3, 2, 2)
    assert np.ndim(surface.loss(w[0, 0])) == 0
    assert surface.grad(w[0, 0]).shape == (2,)
    assert surface.hessian(w[0, 0]).shape == (2, 2)
    # a grid point computed alone equals the same point computed in the batch
    np.testing.assert_allclose(surface.grad(w[2, 1]), surface.grad(w)[2, 1], rtol=1e-14)


@pytest.mark.parametrize("name", SURFACES)
def test_gradient_matches_central_differences(name):
    surface = SURFACES[name]
    w = random_points(surface, (50,), seed=1)
    h = 1e-6 * max(np.ptp(surface.xlim), np.ptp(surface.ylim))
    numeric = central_difference(surface.loss, w, h)
    exact = surface.grad(w)
    np.testing.assert_allclose(exact, numeric, rtol=1e-6, atol=1e-6 * scale_of(exact))


@pytest.mark.parametrize("name", SURFACES)
def test_hessian_matches_central_differences_of_the_gradient(name):
    surface = SURFACES[name]
    w = random_points(surface, (50,), seed=2)
    h = 1e-6 * max(np.ptp(surface.xlim), np.ptp(surface.ylim))
    numeric = central_difference(surface.grad, w, h)       # numeric[..., i, j] = d g_i / d w_j
    exact = surface.hessian(w)
    np.testing.assert_allclose(exact, numeric, rtol=1e-6, atol=1e-6 * scale_of(exact))
    np.testing.assert_array_equal(exact, np.swapaxes(exact, -1, -2))


def test_hessian_matches_second_differences_of_the_loss():
    """A check of the Hessian that does not go through the gradient at all."""
    for surface in (rosenbrock(), saddle(), two_minima(), narrow_valley(angle_degrees=30)):
        w = random_points(surface, (20,), seed=3)
        h = 1e-4
        hessian = surface.hessian(w)
        for i in range(2):
            for j in range(2):
                ei, ej = np.eye(2)[i] * h, np.eye(2)[j] * h
                numeric = (surface.loss(w + ei + ej) - surface.loss(w + ei - ej)
                           - surface.loss(w - ei + ej) + surface.loss(w - ei - ej)) / (4 * h * h)
                np.testing.assert_allclose(hessian[:, i, j], numeric, rtol=1e-4,
                                           atol=1e-4 * scale_of(hessian))


# ---------------------------------------------------------------- minima, saddle, eigenvalues

@pytest.mark.parametrize("name", WITH_MINIMA)
def test_minima_have_zero_gradient_and_positive_definite_hessian(name):
    surface = WITH_MINIMA[name]
    scale = scale_of(surface.grad(random_points(surface, (100,))))
    np.testing.assert_allclose(surface.grad(surface.minima), 0.0, atol=1e-12 * scale)
    assert np.all(np.linalg.eigvalsh(surface.hessian(surface.minima)) > 0)


@pytest.mark.parametrize("name", WITH_MINIMA)
def test_global_minimum_is_lowest_in_the_window(name):
    surface = WITH_MINIMA[name]
    assert surface.min_loss == surface.loss(surface.minima[0])
    assert np.all(surface.loss(random_points(surface, (10_000,))) >= surface.min_loss)
    assert np.all(surface.loss(surface.minima) >= surface.min_loss)


@pytest.mark.parametrize("name", SURFACES)
def test_window_shows_start_and_minima_and_levels_increase(name):
    surface = SURFACES[name]
    for x, y in np.vstack([surface.minima, surface.start]):
        assert surface.xlim[0] < x < surface.xlim[1] and surface.ylim[0] < y < surface.ylim[1]
    assert np.all(np.diff(surface.levels) > 0)
    if np.isfinite(surface.min_loss):
        assert surface.levels[0] > surface.min_loss


def test_known_values_from_the_formulas():
    assert rosenbrock().loss([1.0, 1.0]) == 0.0
    assert rosenbrock().loss([0.0, 0.0]) == 1.0                  # (1 - 0)^2 + 100 (0 - 0)^2
    assert rosenbrock(a=2.0).minima.tolist() == [[2.0, 4.0]]
    assert narrow_valley().loss([2.0, 1.0]) == pytest.approx(0.5 * (0.1 * 4 + 2.0 * 1))
    assert saddle().loss([1.0, 2.0]) == pytest.approx(1 - 4 + 0.25 * 16)
    assert two_minima(tilt=0.5).loss([1.0, 2.0]) == pytest.approx(0 + 0.5 + 2.0)
    x_global, x_local = two_minima(tilt=0.5).minima[:, 0]       # roots of 4x^3 - 4x + 0.5
    for x in (x_global, x_local):
        assert 4 * x**3 - 4 * x + 0.5 == pytest.approx(0, abs=1e-12)


def test_saddle_is_a_saddle():
    s = saddle()
    origin = np.zeros(2)
    np.testing.assert_array_equal(s.grad(origin), [0.0, 0.0])
    eigenvalues = np.linalg.eigvalsh(s.hessian(origin))
    assert eigenvalues[0] < 0 < eigenvalues[1]                  # indefinite
    np.testing.assert_allclose(s.minima, [[0, np.sqrt(2)], [0, -np.sqrt(2)]])
    assert s.min_loss == pytest.approx(-1.0)
    pure = saddle(quartic=0)
    assert len(pure.minima) == 0 and pure.min_loss == -np.inf
    assert np.all(np.diff(pure.levels) > 0)


@pytest.mark.parametrize("kappa, a, angle", [(20, 0.1, 0), (50, 0.2, 30), (1, 1.0, 0), (1000, 0.01, -75)])
def test_narrow_valley_eigenvalues_match_its_hessian(kappa, a, angle):
    valley = narrow_valley(kappa=kappa, a=a, angle_degrees=angle)
    eigenvalues = np.linalg.eigvalsh(valley.hessian(random_points(valley, (5,))))
    np.testing.assert_allclose(eigenvalues[:, 0], valley.lambda_min, rtol=1e-12)
    np.testing.assert_allclose(eigenvalues[:, 1], valley.lambda_max, rtol=1e-12)
    assert valley.lambda_min == pytest.approx(a)
    assert valley.lambda_max == pytest.approx(kappa * a)
    assert valley.kappa == pytest.approx(kappa)


def test_turned_valley_floor_points_along_the_angle():
    valley = narrow_valley(angle_degrees=30)
    floor = np.array([np.cos(np.pi / 6), np.sin(np.pi / 6)])
    np.testing.assert_allclose(valley.hessian(floor) @ floor, valley.lambda_min * floor, atol=1e-14)


def test_badly_scaled_gradients_differ_by_the_ratio():
    bowl = badly_scaled()
    g = bowl.grad([1.0, 1.0])
    assert g[1] / g[0] == pytest.approx(100)
    assert bowl.lambda_max / bowl.lambda_min == pytest.approx(100)


# ---------------------------------------------------------------- the noisy regression

def test_regression_loss_is_the_data_loss_and_minimum_is_least_squares():
    problem = NoisyRegression(n_samples=60, noise=0.3, seed=4, w_true=(-1.0, 0.5))
    w = random_points(problem, (30,))
    residuals = w @ problem.X.T - problem.y                    # (30, n)
    np.testing.assert_allclose(problem.loss(w), 0.5 * np.mean(residuals**2, axis=-1), rtol=1e-12)
    np.testing.assert_allclose(problem.data_loss(w), problem.loss(w), rtol=1e-12)
    np.testing.assert_allclose(problem.grad(w), residuals @ problem.X / 60, rtol=1e-10, atol=1e-12)
    w_lstsq = np.linalg.lstsq(problem.X, problem.y, rcond=None)[0]
    np.testing.assert_allclose(problem.minima[0], w_lstsq, rtol=1e-12)
    np.testing.assert_allclose(problem.hessian(w_lstsq), problem.X.T @ problem.X / 60, rtol=1e-14)
    assert np.linalg.norm(w_lstsq - problem.w_true) < 0.2      # close to the truth, not equal


def test_regression_data_is_seeded_and_correlated():
    a, b, c = NoisyRegression(seed=7), NoisyRegression(seed=7), NoisyRegression(seed=8)
    np.testing.assert_array_equal(a.X, b.X)
    np.testing.assert_array_equal(a.y, b.y)
    assert not np.array_equal(a.X, c.X)
    big = NoisyRegression(n_samples=20_000, correlation=0.8, noise=0.5)
    assert np.corrcoef(big.X.T)[0, 1] == pytest.approx(0.8, abs=0.02)
    assert big.min_loss == pytest.approx(0.5 * 0.5**2, rel=0.05)   # half the noise variance


def test_minibatch_gradient_is_unbiased_with_the_sampling_variance():
    problem = NoisyRegression(n_samples=50, seed=1)
    w = np.array([0.5, -1.0])
    batch_size, draws = 10, 40_000
    grads = problem.minibatch_grad(np.broadcast_to(w, (draws, 2)), batch_size,
                                   np.random.default_rng(0))
    full = problem.grad(w)
    standard_error = grads.std(axis=0) / np.sqrt(draws)
    assert np.all(np.abs(grads.mean(axis=0) - full) < 5 * standard_error)
    # sampling without replacement: Var = sigma^2 / B * (n - B) / (n - 1), per coordinate
    per_sample = problem.X * (problem.X @ w - problem.y)[:, None]
    expected = per_sample.var(axis=0) / batch_size * (50 - batch_size) / (50 - 1)
    np.testing.assert_allclose(grads.var(axis=0), expected, rtol=0.05)


def test_minibatch_of_every_sample_is_the_full_gradient_and_batches_are_seeded():
    problem = NoisyRegression(n_samples=40)
    w = random_points(problem, (3,))
    np.testing.assert_allclose(problem.minibatch_grad(w, 40, np.random.default_rng(0)),
                               problem.grad(w), rtol=1e-10, atol=1e-12)
    first = problem.minibatch_grad(w, 5, np.random.default_rng(3))
    again = problem.minibatch_grad(w, 5, np.random.default_rng(3))
    other = problem.minibatch_grad(w, 5, np.random.default_rng(4))
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)
    same_point = problem.minibatch_grad(np.broadcast_to(w[0], (3, 2)), 5, np.random.default_rng(3))
    assert not np.array_equal(same_point[0], same_point[1])    # each setting draws its own batch


def test_seeded_minibatch_runs_are_reproducible():
    problem = NoisyRegression()

    def minibatch_run(seed):
        rng = np.random.default_rng(seed)
        return run(SGD(lr=0.1), problem, steps=50,
                   grad=lambda w: problem.minibatch_grad(w, 5, rng))

    a, b, c = minibatch_run(0), minibatch_run(0), minibatch_run(1)
    np.testing.assert_array_equal(a.trajectory, b.trajectory)
    assert not np.array_equal(a.trajectory, c.trajectory)
    np.testing.assert_allclose(a.losses, problem.loss(a.trajectory))   # recorded losses: full batch
    assert a.losses[-1] < a.losses[0]


# ---------------------------------------------------------------- run and steps_to_tolerance

def sgd_closed_form(valley, lr, w0, steps):
    """SGD on 0.5 (a x^2 + b y^2): x_k = x_0 (1 - lr a)^k, y_k = y_0 (1 - lr b)^k."""
    k = np.arange(steps + 1)[:, None]
    return np.asarray(w0) * (1 - lr * np.array([valley.lambda_min, valley.lambda_max]))**k


def test_run_follows_the_closed_form_below_the_threshold():
    valley = narrow_valley()
    lr = 0.95 * 2 / valley.lambda_max
    result = run(SGD(lr=lr), valley, steps=400)
    expected = sgd_closed_form(valley, lr, valley.start, 400)
    np.testing.assert_allclose(result.trajectory, expected, rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(result.losses, valley.loss(expected), rtol=1e-12)
    assert result.diverged_at is None and not result.diverged
    assert result.losses[-1] < 1e-10


def test_run_above_the_threshold_diverges_without_warnings():
    valley = narrow_valley()
    lr = 1.05 * 2 / valley.lambda_max
    bound = 1e3
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = run(SGD(lr=lr), valley, steps=500, bound=bound)
    expected = sgd_closed_form(valley, lr, valley.start, 500)
    first_outside = int(np.argmax(np.linalg.norm(expected, axis=-1) > bound))
    assert result.diverged_at == first_outside
    assert result.diverged
    k = result.diverged_at
    np.testing.assert_allclose(result.trajectory[:k], expected[:k], rtol=1e-12)
    assert np.all(np.isnan(result.trajectory[k:])) and np.all(np.isnan(result.losses[k:]))


@pytest.mark.parametrize("optimizer", [SGD(lr=10.0), Momentum(lr=5.0, beta=0.9), Adam(lr=1e300),
                                       RMSProp(lr=1e200)])
def test_overflow_to_inf_raises_no_numpy_warning(optimizer):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = run(optimizer, rosenbrock(), steps=300, bound=np.finfo(float).max)
    assert isinstance(result.diverged_at, int)
    assert np.all(np.isfinite(result.trajectory[:result.diverged_at]))
    assert np.all(np.isnan(result.trajectory[result.diverged_at:]))


def test_a_sweep_equals_single_runs():
    valley = narrow_valley(kappa=30)
    lrs = np.array([0.05, 0.3, 0.7, 1.5, 0.9])[:, None]          # lambda_max = 3: stable while
    betas = np.array([0.5, 0.5, 0.0, 0.95, 0.99])[:, None]       # lr * 3 < 2 + 2 beta
    starts = np.array([[-8.0, 2.0], [5.0, -1.0], [-3.0, 3.0], [9.0, 0.5], [-8.0, 2.0]])
    sweep = run(Momentum(lr=lrs, beta=betas), valley, starts, steps=150, bound=1e4)
    assert sweep.trajectory.shape == (151, 5, 2) and sweep.losses.shape == (151, 5)
    assert sweep.diverged_at.dtype.kind == "i"
    assert sweep.diverged.tolist() == [False, False, True, True, False]   # 2.1 > 2, 4.5 > 3.9
    for i in range(5):
        single = run(Momentum(lr=float(lrs[i, 0]), beta=float(betas[i, 0])), valley, starts[i],
                     steps=150, bound=1e4)
        np.testing.assert_array_equal(sweep.trajectory[:, i], single.trajectory)
        np.testing.assert_array_equal(sweep.losses[:, i], single.losses)
        assert sweep.diverged_at[i] == (-1 if single.diverged_at is None else single.diverged_at)
        assert steps_to_tolerance(sweep, 1e-4)[i] == (
            -1 if steps_to_tolerance(single, 1e-4) is None else steps_to_tolerance(single, 1e-4))


def test_a_single_start_is_broadcast_to_the_sweep():
    valley = narrow_valley()
    lrs = np.array([[0.1], [0.5], [1.1]])
    result = run(SGD(lr=lrs), valley, steps=100)
    assert result.trajectory.shape == (101, 3, 2)
    np.testing.assert_array_equal(result.trajectory[0], np.tile(valley.start, (3, 1)))
    assert result.diverged_at.tolist() == [-1, -1, 72]


def test_steps_to_tolerance_matches_the_closed_form():
    valley = narrow_valley()
    result = run(SGD(lr=0.9), valley, steps=200)
    losses = valley.loss(sgd_closed_form(valley, 0.9, valley.start, 200))
    assert steps_to_tolerance(result, 1e-3) == int(np.argmax(losses < 1e-3)) == 43
    assert steps_to_tolerance(result, 1e-300) is None
    assert steps_to_tolerance(run(SGD(lr=1.5), valley, steps=200), 1e-3) is None


def test_momentum_rolls_past_the_local_minimum_and_sgd_does_not():
    well = two_minima()
    stuck = run(SGD(lr=0.02), well, steps=3000)
    rolled = run(Momentum(lr=0.02, beta=0.9), well, steps=3000)
    np.testing.assert_allclose(stuck.trajectory[-1], well.local_minimum, atol=1e-6)
    np.testing.assert_allclose(rolled.trajectory[-1], well.global_minimum, atol=1e-6)


def test_sgd_stalls_at_the_saddle_then_escapes():
    s = saddle()
    result = run(SGD(lr=0.1), s, steps=200)
    gradient_norms = np.linalg.norm(s.grad(result.trajectory), axis=-1)
    assert gradient_norms.min() < 0.01                            # it nearly stops at the saddle
    np.testing.assert_allclose(result.trajectory[-1], s.minima[0], atol=1e-6)


def test_run_checks_its_arguments():
    valley = narrow_valley()
    used = SGD(lr=0.1)
    used.step([1.0, 1.0], [1.0, 1.0])
    with pytest.raises(ValueError, match="optimizer must be fresh"):
        run(used, valley)
    with pytest.raises(ValueError, match="steps must be a whole number"):
        run(SGD(lr=0.1), valley, steps=-1)
    with pytest.raises(ValueError, match=r"w must have shape \(\.\.\., 2\)"):
        run(SGD(lr=0.1), valley, [1.0, 2.0, 3.0])
    assert run(SGD(lr=0.1), valley, steps=0).trajectory.shape == (1, 2)


def test_constructors_check_their_arguments():
    with pytest.raises(ValueError, match="kappa"):
        narrow_valley(kappa=0.5)
    with pytest.raises(ValueError, match="tilt"):
        two_minima(tilt=2.0)
    with pytest.raises(ValueError, match="tilt"):
        two_minima(tilt=0.0)
    with pytest.raises(ValueError, match="positive definite"):
        Quadratic([[1.0, 0.0], [0.0, -1.0]])
    with pytest.raises(ValueError, match="correlation"):
        NoisyRegression(correlation=1.0)
    problem = NoisyRegression(n_samples=20)
    with pytest.raises(ValueError, match="batch_size"):
        problem.minibatch_grad([0.0, 0.0], 21, np.random.default_rng(0))
    with pytest.raises(ValueError, match="batch_size"):
        problem.minibatch_grad([0.0, 0.0], 0, np.random.default_rng(0))
    with pytest.raises(ValueError, match="rng must be a numpy Generator"):
        problem.minibatch_grad([0.0, 0.0], 5, 0)


# --- the 1-D parabola of the tools chapter ------------------------------------------------------

def test_parabola_values_by_hand():
    from lib.surfaces import parabola
    f = parabola()                                   # x^2
    assert f.loss(3.0) == 9.0 and f.grad(3.0) == 6.0 and f.hessian(3.0) == 2.0
    g = parabola(lam=10.0, start=-2.0)               # 5 x^2
    assert g.loss(-2.0) == 20.0 and g.grad(0.5) == 5.0 and g.start == -2.0
    assert g.loss(np.ones((2, 3))).shape == (2, 3) and g.hessian(np.ones(4)).shape == (4,)


def test_run_1d_is_the_geometric_sequence_of_the_text():
    from lib.surfaces import parabola, run_1d
    # x_k = (1 - lr*lam)^k x_0, worked by hand for lam = 2: factors 0.8, -0.6, -1.2
    assert np.allclose(run_1d(SGD(lr=0.1), parabola(), steps=3).trajectory, [1, 0.8, 0.64, 0.512])
    assert np.allclose(run_1d(SGD(lr=0.8), parabola(), steps=2).trajectory, [1, -0.6, 0.36])
    one = run_1d(SGD(lr=0.5), parabola(), x0=3.0, steps=2)        # lr = 1/lam: one step
    assert np.array_equal(one.trajectory, [3.0, 0.0, 0.0]) and one.diverged_at is None
    bounce = run_1d(SGD(lr=1.0), parabola(), steps=50)           # lr = 2/lam: +-1 forever
    assert np.array_equal(np.abs(bounce.trajectory), np.ones(51)) and bounce.diverged_at is None
    # lr = 1.1: |x_k| = 1.2^k first exceeds 1e6 at k = ceil(ln 1e6 / ln 1.2) = 76
    gone = run_1d(SGD(lr=1.1), parabola(), steps=100)
    assert gone.diverged_at == 76 and np.isnan(gone.trajectory[76:]).all()
    assert np.isnan(gone.losses[76:]).all() and gone.losses[75] == pytest.approx(1.2**150, rel=1e-9)


def test_run_1d_sweeps_and_refuses_a_2d_problem():
    from lib.surfaces import parabola, run_1d
    sweep = run_1d(SGD(lr=np.array([[0.1], [1.1]])), parabola(), steps=100)
    assert sweep.trajectory.shape == (101, 2) and list(sweep.diverged_at) == [-1, 76]
    starts = run_1d(SGD(lr=0.1), parabola(), x0=[1.0, -2.0], steps=1).trajectory
    assert np.allclose(starts, [[1.0, -2.0], [0.8, -1.6]])
    with pytest.raises(ValueError, match="problem"):
        run_1d(SGD(lr=0.1), narrow_valley())
    with pytest.raises(ValueError, match="lam"):
        parabola(lam=0.0)
