"""The VLA-shaped task: 256 bins as OpenVLA, the expert's actions follow its formula from the tokens
it sees, the two embodiments share the world and differ only in the action tokens."""

import numpy as np
import pytest

from lib.robot import (ARM_A, ARM_B, BINS, Embodiment, action_positions, dequantize, episodes,
                       policy_split, quantize)


def test_bins_are_256_uniform_intervals_of_the_unit_square():
    assert BINS == 256
    edges = -1 + 2 * np.arange(257) / 256                               # hand-made bin edges
    assert quantize(edges[:-1]).tolist() == list(range(256))          # left edge: that bin
    assert quantize(edges[1:] - 1e-9).tolist() == list(range(256))    # just below the right edge
    assert quantize([-5.0, 5.0]).tolist() == [0, 255]                  # clipped into range
    assert np.allclose(dequantize(np.arange(256)), (edges[:-1] + edges[1:]) / 2)


def test_actions_follow_the_experts_formula_from_the_tokens_it_sees():
    steps = 5
    tokens = episodes(200, steps, ARM_A, seed=1)
    centre = lambda t: -1 + (t + 0.5) / 128                           # bin centre, by hand
    goal = centre(tokens[:, 0:2])
    for k in range(steps):
        pos = centre(tokens[:, 2 + 4 * k: 4 + 4 * k])
        act = tokens[:, 4 + 4 * k: 6 + 4 * k]
        d = np.clip(2.0 * (goal - pos), -1, 1)                         # gain 2, world frame
        expected = np.clip(np.floor((d + 1) * 128), 0, 255)
        assert np.array_equal(act, expected)
    first, last = centre(tokens[:, 2:4]), centre(tokens[:, -4:-2])
    assert np.median(np.linalg.norm(last - goal, axis=1)) < 0.5 * np.median(
        np.linalg.norm(first - goal, axis=1))                         # it reaches towards the goal


def test_the_two_embodiments_share_the_world_and_differ_in_the_actions():
    a, b = episodes(100, 6, ARM_A, seed=0), episodes(100, 6, ARM_B, seed=0)
    actions = action_positions(6)
    others = np.setdiff1d(np.arange(a.shape[1]), actions)
    assert np.array_equal(a[:, others], b[:, others])                  # same goals and positions
    assert (a[:, actions] != b[:, actions]).mean() > 0.5
    # turned by 90 degrees: B's command is (d_y, -d_x) for A's (d_x, d_y)
    ax, ay = dequantize(a[:, actions[0::2]]), dequantize(a[:, actions[1::2]])
    bx, by = dequantize(b[:, actions[0::2]]), dequantize(b[:, actions[1::2]])
    assert np.allclose(bx, ay, atol=2 / 256 + 1e-12) and np.allclose(by, -ax, atol=2 / 256 + 1e-12)


def test_policy_split_is_episodes_as_inputs_and_next_token_targets():
    split = policy_split(ARM_A, n_train=32, n_val=8, steps=4, seed=5)
    assert split.X_train.shape == split.y_train.shape == (32, 17)
    assert np.array_equal(split.X_train[:, 1:], split.y_train[:, :-1])
    assert split.X_val.shape == (8, 17)
    assert not np.array_equal(split.X_val[:, :2], split.X_train[:8, :2])   # fresh goals
    again = policy_split(ARM_A, n_train=32, n_val=8, steps=4, seed=5)
    assert np.array_equal(again.X_train, split.X_train) and np.array_equal(again.y_val, split.y_val)


@pytest.mark.parametrize("call, match", [
    (lambda: quantize([np.nan]), "x must be finite"),
    (lambda: dequantize([256]), r"tokens must be integer bin indices in \[0, 256\)"),
    (lambda: episodes(0, 3), "n must be"),
    (lambda: episodes(2, 3, embodiment="A"), "embodiment must be a lib.robot.Embodiment"),
    (lambda: Embodiment("C", scale=0.0), "scale must be"),
    (lambda: Embodiment("C", max_step=2.0), "max_step must be"),
    (lambda: ARM_A.command([1.0, 2.0, 3.0]), r"d must have shape \(..., 2\)"),
])
def test_bad_input_names_the_argument(call, match):
    with pytest.raises(ValueError, match=match):
        call()
