"""lib.sparse: the rare-token problem, checked against numbers worked by hand."""

import math

import numpy as np
import pytest

from lib.optimizers import SGD, RMSProp
from lib.sparse import RareTokens, learn_tokens


def test_zipf_frequencies_and_appearance_chance():
    problem = RareTokens(vocab=3, batch=2, zipf=1.0)
    # 1 : 1/2 : 1/3 = 6/11 : 3/11 : 2/11
    assert np.allclose(problem.frequencies, [6 / 11, 3 / 11, 2 / 11])
    # in a batch of 2 the last token appears with chance 1 - (9/11)^2 = 40/121
    assert problem.appears[2] == pytest.approx(40 / 121)
    assert np.allclose(RareTokens(vocab=4, zipf=0.0).frequencies, 0.25)


def test_targets_are_fixed_and_of_the_stated_size():
    a, b = RareTokens(vocab=200), RareTokens(vocab=200)
    assert np.array_equal(a.targets, b.targets)
    assert np.all((np.abs(a.targets) >= 0.5) & (np.abs(a.targets) <= 2.0))
    assert (a.targets > 0).any() and (a.targets < 0).any()


def test_gradient_is_count_over_batch_times_error():
    problem = RareTokens(vocab=3, batch=4)
    w = problem.targets + np.array([1.0, -2.0, 3.0])
    assert np.allclose(problem.grad(w, np.array([3, 1, 0])), [0.75, -0.5, 0.0])


def test_counts_add_up_to_the_batch_and_follow_the_seed():
    problem = RareTokens(vocab=10, batch=8)
    counts = problem.counts(50, [3, 4])
    assert counts.shape == (50, 2, 10) and np.all(counts.sum(axis=-1) == 8)
    assert np.array_equal(counts[:, 0], problem.counts(50, [3])[:, 0])
    assert not np.array_equal(counts[:, 0], counts[:, 1])


def test_learn_tokens_by_hand():
    # token 0 drawn at every step (batch 1), token 1 never: with SGD at lr 0.5 token 0's error
    # halves at each step, token 1's never moves
    problem = RareTokens(vocab=2, batch=1)
    steps = 10
    counts = np.zeros((steps, 1, 2), dtype=int)
    counts[:, :, 0] = 1
    e0, e1 = abs(problem.targets[0]), abs(problem.targets[1])
    result = learn_tokens(SGD(lr=0.5), problem, steps, [0], tol=0.1, track=(0, 1), counts=counts)
    first_inside = next(t for t in range(steps + 1) if e0 * 0.5**t < 0.1)
    assert result.settled[0, 0] == first_inside == math.ceil(math.log2(e0 / 0.1) + 1e-12)
    assert result.settled[0, 1] == -1                                  # never learned
    assert result.final_error[0, 0] == pytest.approx(e0 * 0.5**steps)
    assert result.final_error[0, 1] == pytest.approx(e1)
    assert result.largest_step[0, 0] == pytest.approx(0.5 * e0)        # the first step is the largest
    assert result.tracked.shape == (steps + 1, 1, 2)
    assert result.tracked[0, 0, 0] == 0.0 and result.tracked[1, 0, 0] == pytest.approx(problem.targets[0] / 2)


def test_a_sweep_sees_the_same_tokens_for_every_setting():
    problem = RareTokens(vocab=5, batch=2)
    lrs = np.array([0.01, 0.02])[:, None, None]
    result = learn_tokens(RMSProp(lr=lrs, beta=0.9), problem, 30, [0, 1, 2])
    assert result.settled.shape == (2, 3, 5)
    # RMSProp's first move of a drawn token is lr / sqrt(1 - beta), whatever its gradient
    assert np.allclose(result.largest_step[:, :, 0], lrs[:, :, 0] / np.sqrt(0.1))


@pytest.mark.parametrize("kwargs", [{"vocab": 1}, {"batch": 0}, {"zipf": -1.0}, {"target_seed": -3}])
def test_bad_problem_arguments_name_themselves(kwargs):
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        RareTokens(**kwargs)


def test_bad_run_arguments_name_themselves():
    problem = RareTokens(vocab=3)
    with pytest.raises(ValueError, match="problem"):
        learn_tokens(SGD(lr=0.1), "tokens", 5, [0])
    with pytest.raises(ValueError, match="optimizer"):
        learn_tokens(0.1, problem, 5, [0])
    with pytest.raises(ValueError, match="seeds"):
        learn_tokens(SGD(lr=0.1), problem, 5, [])
    with pytest.raises(ValueError, match="track"):
        learn_tokens(SGD(lr=0.1), problem, 5, [0], track=(3,))
    with pytest.raises(ValueError, match="counts"):
        learn_tokens(SGD(lr=0.1), problem, 5, [0], counts=np.zeros((4, 1, 3)))
    with pytest.raises(ValueError, match="w and counts"):
        problem.grad(np.zeros(4), np.zeros(4))
