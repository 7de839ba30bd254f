"""lib/convergence.py: "settled" (below the tolerance and staying there), first touch, and the longest
unbroken run of good grid points, against hand-made curves and a plain-loop reference."""

import numpy as np
import pytest

from lib import convergence
from lib.convergence import first_touch, settled_at, unbroken_run


def loop_settled(curve, tol, window=None):
    """Reference: try every step k in turn and check the points after it one by one."""
    n = len(curve)
    for k in range(n):
        last = n - 1 if window is None else k + window
        if last > n - 1:
            return None
        if all(curve[j] < tol for j in range(k, last + 1)):      # NaN < tol is False
            return k
    return None


def loop_longest(ok):
    """Reference: grow a run from every start, keep the first longest."""
    best = (0, 0)
    for start in range(len(ok)):
        stop = start
        while stop < len(ok) and ok[stop]:
            stop += 1
        if stop - start > best[1] - best[0]:
            best = (start, stop)
    return best


# ------------------------------------------------------------------------------- settled_at


def test_a_curve_that_touches_and_leaves_has_not_settled():
    curve = [5.0, 0.1, 2.0, 0.1, 0.01]           # below 0.5 at 1, out at 2, below from 3 on
    assert first_touch(curve, 0.0, 0.5) == 1
    assert settled_at(curve, 0.0, 0.5) == 3
    leaves = [5.0, 0.1, 0.1, 0.1, 2.0]           # touches for three steps, ends outside
    assert first_touch(leaves, 0.0, 0.5) == 1 and settled_at(leaves, 0.0, 0.5) is None
    assert settled_at([5.0, 4.0, 0.4], 0.0, 0.5) == 2        # in at the very last step: settled there
    assert settled_at([5.0, 4.0, 3.0], 0.0, 0.5) is None and first_touch([5.0, 4.0], 0.0, 0.5) is None
    assert settled_at([0.0, -0.9, -0.95], -1.0, 0.2) == 1    # measured from min_loss
    assert settled_at([0.5, 0.2], 0.0, 0.5) == 1             # strictly below the tolerance


def test_nan_after_divergence_never_counts():
    # the lib's run() writes NaN from the step a run diverges: a dip before it is only a touch
    curve = [5.0, 0.1, 0.01, np.nan, np.nan]
    assert first_touch(curve, 0.0, 0.5) == 1
    assert settled_at(curve, 0.0, 0.5) is None
    assert settled_at(curve, 0.0, 0.5, window=1) == 1        # but it did stay for one more step
    assert settled_at([np.nan] * 4, 0.0, 0.5) is None and first_touch([np.nan], 0.0, 0.5) is None


def test_a_window_asks_for_that_many_more_steps_inside_the_run():
    curve = [5.0, 0.1, 0.1, 2.0, 0.1, 0.1, 0.1]
    assert settled_at(curve, 0.0, 0.5, window=0) == 1        # window 0 is the first touch
    assert settled_at(curve, 0.0, 0.5, window=1) == 1
    assert settled_at(curve, 0.0, 0.5, window=2) == 4
    assert settled_at(curve, 0.0, 0.5, window=3) is None     # steps 4..7 do not fit in the run
    assert settled_at(curve, 0.0, 0.5) == 4
    assert settled_at(curve, 0.0, 0.5, window=100) is None
    with pytest.raises(ValueError, match="window must be a whole number"):
        settled_at(curve, 0.0, 0.5, window=-1)


@pytest.mark.parametrize("window", [None, 0, 1, 3, 7])
def test_sweeps_agree_with_the_plain_loop_column_by_column(window):
    rng = np.random.default_rng(11)
    # random curves with long stretches in and out of the tolerance, some ending in NaN
    losses = np.where(rng.random((30, 4, 5)) < 0.8, 0.01, 1.0)
    losses = np.minimum.accumulate(losses, axis=0) * rng.choice([1.0, 50.0], size=losses.shape, p=[0.9, 0.1])
    losses[20:, 0, 0] = np.nan
    losses[:, 1, 1] = 1.0
    got = settled_at(losses, 0.0, 0.5, window=window)
    touch = first_touch(losses, 0.0, 0.5)
    assert got.shape == touch.shape == (4, 5)
    for i in range(4):
        for j in range(5):
            expected = loop_settled(losses[:, i, j], 0.5, window)
            assert got[i, j] == (-1 if expected is None else expected)
            below = np.flatnonzero(losses[:, i, j] < 0.5)
            assert touch[i, j] == (below[0] if below.size else -1)
            assert got[i, j] == -1 or got[i, j] >= touch[i, j]     # settling never comes first
    assert got[1, 1] == -1


def test_a_bouncing_run_of_the_lib_touches_but_never_settles():
    # RMSProp on the valley at lr 0.6: its step stays about lr long per coordinate near the
    # minimum, so the loss dips under 1e-3 at step 6 and bounces out again (see lib.surfaces)
    from lib.optimizers import RMSProp
    from lib.surfaces import narrow_valley, run, steps_to_settle, steps_to_tolerance
    result = run(RMSProp(lr=0.6), narrow_valley(), steps=200)
    inside = result.losses < 1e-3
    assert inside[6] and not inside[:6].any() and not inside[-20:].all()
    assert steps_to_tolerance(result, 1e-3) == 6 and steps_to_settle(result, 1e-3) is None


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="tol must be in"):
        settled_at([1.0, 0.1], 0.0, -1.0)
    with pytest.raises(ValueError, match="step axis"):
        settled_at(1.0, 0.0, 0.5)


# ------------------------------------------------------------------------------- unbroken_run


def test_unbroken_run_keeps_the_longest_stretch_and_names_the_rest():
    # the pattern of the issue: a run of good rates, a gap of bad ones, one good rate alone
    ok = np.array([False] * 3 + [True] * 5 + [False] * 12 + [True] + [False] * 2)
    r = unbroken_run(ok)
    assert (r.start, r.stop, r.length, r.n_good) == (3, 8, 5, 6)
    assert r.outside.tolist() == [20] and r.indices.tolist() == [3, 4, 5, 6, 7]
    lrs = 0.01 * 2.0 ** np.arange(len(ok))
    assert r.ends(lrs) == (0.08, 1.28)
    none = unbroken_run(np.zeros(5, dtype=bool))
    assert none.length == 0 and none.n_good == 0 and none.outside.size == 0 and none.ends(lrs) == (None, None)
    full = unbroken_run(np.ones(4, dtype=bool))
    assert (full.start, full.stop) == (0, 4) and full.outside.size == 0
    tie = unbroken_run([True, True, False, True, True])
    assert (tie.start, tie.stop) == (0, 2) and tie.outside.tolist() == [3, 4]   # first on a tie
    with pytest.raises(ValueError, match="1-d array"):
        unbroken_run(np.ones((2, 2), dtype=bool))


def test_unbroken_run_agrees_with_the_plain_loop():
    rng = np.random.default_rng(5)
    for _ in range(200):
        ok = rng.random(rng.integers(1, 25)) < rng.random()
        r = convergence.unbroken_run(ok)
        assert (r.start, r.stop) == loop_longest(ok) or (r.length == 0 and not ok.any())
        assert ok[r.start:r.stop].all()
        assert sorted(r.outside.tolist() + r.indices.tolist()) == np.flatnonzero(ok).tolist()
