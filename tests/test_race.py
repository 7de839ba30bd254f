"""lib/race.py: the settle rule, the grid and the sweep's bookkeeping, against hand-made cases and
closed-form SGD on a quadratic."""

import numpy as np
import pytest

from lib import race
from lib.optimizers import SGD
from lib.surfaces import narrow_valley, run


def test_settled_at_needs_the_loss_to_stay_within_tol():
    # within tol (< 0.5) at steps 1, 3, 4; step 2 bounces out, so it settles at 3
    assert race.settled_at([5.0, 0.1, 2.0, 0.1, 0.01], 0.0, tol=0.5) == 3
    assert race.settled_at([5.0, 4.0, 3.0], 0.0, tol=0.5) is None
    # relative to min_loss
    assert race.settled_at([0.0, -0.9, -0.95], -1.0, tol=0.2) == 1
    # a sweep: one column per setting, -1 for never; NaN (diverged) never counts
    losses = np.array([[5.0, 5.0, 5.0], [0.1, 6.0, np.nan], [0.1, 0.1, np.nan]])
    np.testing.assert_array_equal(race.settled_at(losses, 0.0, tol=0.5), [1, 2, -1])


def test_lr_grid_doubles_every_two_points():
    grid = race.lr_grid(1e-3, 1.0).ravel()
    np.testing.assert_allclose(grid[2::2] / grid[:-2:2], 2.0)
    assert grid[0] == 1e-3 and grid[-1] <= 1.0 < grid[-1] * np.sqrt(2)
    with pytest.raises(ValueError, match="low < high"):
        race.lr_grid(1.0, 0.5)


def test_sgd_sweep_on_the_valley_matches_the_closed_form():
    # SGD on 1/2 (a x^2 + b y^2) from (x0, y0): x_k = (1 - lr a)^k x0, y_k = (1 - lr b)^k y0, so the
    # loss after k steps is 1/2 (a x0^2 (1-lr a)^2k + b y0^2 (1-lr b)^2k); it decreases monotonically
    # for lr < 2/b, so "settled" is the first step below tol.
    valley = narrow_valley()
    a, b = valley.lambda_min, valley.lambda_max
    (x0, y0), tol = valley.start, 1e-3
    s = race.sweep(valley, "SGD", race.lr_grid(0.05, 1.5), steps=300, tol=tol)
    k = np.arange(301)
    for lr, settled, diverged in zip(s.lrs, s.settled, s.result.diverged_at):
        loss = 0.5 * (a * x0**2 * (1 - lr * a) ** (2 * k) + b * y0**2 * (1 - lr * b) ** (2 * k))
        below = np.flatnonzero(loss < tol)
        if lr < 2 / b:
            assert diverged == -1
            assert settled == (below[0] if below.size else -1)
        else:
            assert settled == -1
    # the fastest rate is the one that balances the two directions best, below 2/b = 1
    assert s.best_lr < 2 / b and s.best_steps == s.settled.min(where=s.ok, initial=10**9)
    low, high = s.window()
    assert low == s.lrs[s.ok].min() and high == s.lrs[s.ok].max() < 2 / b


def test_escape_bound_counts_a_far_run_as_diverged():
    valley = narrow_valley()                          # window +-10 x +-4: bound 2 * hypot(10, 10)
    assert race.escape_bound(valley) == pytest.approx(2 * np.hypot(10, 10))
    s = race.sweep(valley, "SGD", [[0.5], [1.2]], steps=100, tol=1e-3)
    assert s.result.diverged_at[0] == -1 and s.result.diverged_at[1] >= 0
    # with the default bound of run() (1e6) the same divergent run leaves later
    late = run(SGD(1.2), valley, steps=100).diverged_at
    assert late > s.result.diverged_at[1]


def test_reference_index_falls_back_to_the_lowest_final_loss():
    valley = narrow_valley()
    s = race.sweep(valley, "SGD", [[1e-4], [1e-3], [1e-2]], steps=20, tol=1e-9)   # none settles
    assert s.best_index == -1 and s.best_lr is None and s.window() == (None, None)
    assert s.reference_index == 2                     # the largest of these rates gets closest
    assert s.index_of(1e-3) == 1
    with pytest.raises(ValueError, match="not on this sweep's grid"):
        s.index_of(0.5)


def test_make_optimizer_uses_the_race_settings():
    opt = race.make_optimizer("AdamW", 0.1)
    assert (opt.beta1, opt.beta2, opt.weight_decay) == (0.9, 0.999, 0.01)
    assert race.make_optimizer("Momentum", 0.1, beta=0.5).beta == 0.5
    with pytest.raises(ValueError, match="name must be one of"):
        race.make_optimizer("Adagrad", 0.1)


def test_sweep_reports_the_unbroken_window_and_names_isolated_rates():
    # a made-up sweep: rates 1..9 settle at these steps (-1: never); 2-3 and 5-7 are unbroken runs
    lrs = 0.1 * np.sqrt(2) ** np.arange(9)
    settled = np.array([-1, 3, 4, -1, 5, 6, 7, -1, 2])
    s = race.Sweep("Adam", lrs, result=None, settled=settled, tol=1e-3)
    assert s.window() == (lrs[1], lrs[8])                     # smallest and largest: bridges gaps
    assert s.unbroken_window() == (lrs[4], lrs[6])            # the longest run that settles throughout
    np.testing.assert_array_equal(s.isolated_lrs(), lrs[[1, 2, 8]])
    assert not s.unbroken_is_clipped() and s.window_is_clipped()
    edge = race.Sweep("Adam", lrs, None, np.array([-1, -1, -1, -1, -1, -1, 3, 3, 3]), 1e-3)
    assert edge.unbroken_window() == (lrs[6], lrs[8]) and edge.unbroken_is_clipped()
    never = race.Sweep("Adam", lrs, None, np.full(9, -1), 1e-3)
    assert never.unbroken_window() == (None, None) and never.isolated_lrs().size == 0
    assert not never.unbroken_is_clipped()


def test_sweep_first_touch_is_earlier_than_settling_for_a_bouncing_optimizer():
    # RMSProp on the valley: at lr 0.6 it dips under 1e-3 at step 6 and bounces out (lib.surfaces'
    # doctest); at 0.2 the loss falls steadily and both agree.
    s = race.sweep(narrow_valley(), "RMSProp", [[0.2], [0.6]], steps=200, tol=1e-3)
    touch = s.first_touch()
    assert touch[1] == 6 and s.settled[1] == -1
    assert touch[0] == s.settled[0] >= 0
    # by hand from the recorded losses
    below = s.result.losses[:, 0] < 1e-3
    assert below[touch[0]:].all() and not below[:touch[0]].any()
