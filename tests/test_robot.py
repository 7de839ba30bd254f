"""The VLA-shaped task: 256 bins as OpenVLA, the expert's actions follow its formula from the tokens
it sees, the two embodiments share the world and differ only in the action tokens."""

import numpy as np
import pytest

from lib.robot import (ARM_A, ARM_B, BINS, VOCAB_SIZE, Embodiment, action_positions, dequantize,
                       episodes, policy_split, quantize)


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
    assert tokens.shape == (200, 1 + 4 * steps) and np.all(tokens[:, 0] == 256)   # A's token
    centre = lambda t: -1 + (t + 0.5) / 128                           # bin centre, by hand
    for k in range(steps):
        seen = centre(tokens[:, 1 + 4 * k: 3 + 4 * k])                # the goal offset it sees
        act = tokens[:, 3 + 4 * k: 5 + 4 * k]
        d = np.clip(1.5 * seen, -1, 1)                                 # gain 1.5, world frame
        expected = np.clip(np.floor((d + 1) * 128), 0, 255)
        assert np.array_equal(act, expected)
    first, last = centre(tokens[:, 1:3]), centre(tokens[:, -4:-2])
    assert np.median(np.linalg.norm(last, axis=1)) < 0.3 * np.median(
        np.linalg.norm(first, axis=1))                                 # it reaches the goal


def test_the_two_embodiments_share_the_world_and_differ_in_the_actions():
    a, b = episodes(100, 6, ARM_A, seed=0), episodes(100, 6, ARM_B, seed=0)
    assert a[0, 0] == ARM_A.token == 256 and b[0, 0] == ARM_B.token == 257 == VOCAB_SIZE - 1
    actions = action_positions(6)
    others = np.setdiff1d(np.arange(1, a.shape[1]), actions)
    assert np.array_equal(a[:, others], b[:, others])                  # same observations
    # turned by 180 degrees: B's command is -d for A's d, so bin 255 - i for bin i
    assert np.array_equal(b[:, actions], 255 - a[:, actions])


def test_policy_split_is_episodes_as_inputs_and_next_token_targets():
    split = policy_split(ARM_A, n_train=32, n_val=8, steps=4, seed=5)
    assert split.X_train.shape == split.y_train.shape == (32, 16)
    assert np.array_equal(split.X_train[:, 1:], split.y_train[:, :-1])
    assert split.X_val.shape == (8, 16)
    assert not np.array_equal(split.X_val[:, 1:3], split.X_train[:8, 1:3])   # fresh offsets
    again = policy_split(ARM_A, n_train=32, n_val=8, steps=4, seed=5)
    assert np.array_equal(again.X_train, split.X_train) and np.array_equal(again.y_val, split.y_val)
    where = action_positions(4) - 1                                   # action targets in y
    assert np.all(split.y_train[:, where] == episodes(32, 4, ARM_A, seed=np.random.SeedSequence(
        5).spawn(2)[0])[:, action_positions(4)])


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


def test_action_metrics_score_only_the_action_tokens():
    from types import SimpleNamespace
    from lib.robot import action_metrics
    split = policy_split(ARM_A, n_train=4, n_val=3, steps=2, seed=0)
    y = split.y_val                                                    # (3, 8)
    where = action_positions(2) - 1                                   # [2, 3, 6, 7]
    logits = np.zeros((2, 3, 8, VOCAB_SIZE))                          # setting 0: uniform everywhere
    logits[1, np.arange(3)[:, None], np.arange(8)[None, :], y] = 50.0  # setting 1: always right...
    logits[1, 0, 2] = 0.0                                             # ...but one action uniform
    logits[1, 0, 2, (y[0, 2] + 3) % VOCAB_SIZE] = 1.0                 # whose argmax is 3 bins off
    model = SimpleNamespace(logits=lambda params, X: logits)
    loss, accuracy = action_metrics(model, None, split.X_val, y)
    assert np.isclose(loss[0], np.log(VOCAB_SIZE))
    # 11 of 12 action targets certain (loss ~0); one has logit 0 among one 1.0 and 257 zeros
    one = -(0.0 - np.log(np.e + VOCAB_SIZE - 1))
    assert np.isclose(loss[1], one / 12, atol=1e-9)
    assert accuracy[1] == 11 / 12
    assert action_metrics(model, None, split.X_val, y, tolerance=3)[1][1] == 1.0
    assert accuracy[0] == np.mean(y[:, where] == 0)                   # uniform: argmax is bin 0
