"""decay_grid(): each cell of the grid is the run it claims to be (checked against runs built one by
one from the lib's optimizers and schedules), the two weight-decay conventions are applied as
documented, only the weight matrices decay, and the summaries read the grid correctly."""

import numpy as np
import pytest

from lib import schedules
from lib.data import load_digits, train_val_split
from lib.experiments import OPTIMIZERS, DecayGrid, decay_grid
from lib.model import MLP
from lib.optimizers import Adam, AdamW
from lib.training import train

SPLIT = train_val_split(*load_digits(), val_fraction=0.2, seed=0)
SMALL = MLP(sizes=(64, 16, 16, 10))
LRS = [3e-3, 3e-2]
L2 = [0.0, 0.05, 0.5]
DECOUPLED = [0.0, 1e-3, 2e-2]
STEPS, WARMUP = 40, 5


@pytest.fixture(scope="module")
def grid():
    return decay_grid(SMALL, SPLIT, LRS, L2, DECOUPLED, steps=STEPS, batch_size=16, seed=3,
                      warmup_steps=WARMUP)


def alone(optimizer):
    """One setting, trained on its own with the same start, batches and length as the grid."""
    run = train(SMALL, optimizer, SMALL.init_params(1, seed=3), SPLIT, steps=STEPS, batch_size=16,
                seed=3, eval_every=STEPS)
    return run.val_loss[-1, 0]


def test_shapes_and_names(grid):
    assert set(grid.val_loss) == set(OPTIMIZERS) == {"Adam + L2", "AdamW"}
    for name in OPTIMIZERS:
        assert grid.val_loss[name].shape == grid.val_accuracy[name].shape == (2, 3)
        assert not grid.diverged[name].any() and grid.seconds[name] > 0
    assert grid.weight_decays["Adam + L2"].tolist() == L2
    assert grid.weight_decays["AdamW"].tolist() == DECOUPLED


def test_without_decay_the_two_optimizers_are_the_same_run(grid):
    assert np.array_equal(grid.val_loss["Adam + L2"][:, 0], grid.val_loss["AdamW"][:, 0])


@pytest.mark.parametrize("i", [0, 1])
def test_every_cell_is_the_run_it_claims_to_be(grid, i):
    """Adam + L2 cells take weight_decay = λ on the matrices; AdamW cells take λ / peak lr, so
    that the weights shrink by λ per step at the peak (the paper's convention)."""
    lr, mask = LRS[i], SMALL.decay_mask()
    schedule = schedules.warmup_cosine(lr, WARMUP, STEPS)
    for j in (1, 2):
        l2 = alone(Adam(lr=schedule, weight_decay=L2[j] * mask))
        assert l2 == pytest.approx(grid.val_loss["Adam + L2"][i, j], rel=1e-10)
        decoupled = alone(AdamW(lr=schedule, weight_decay=DECOUPLED[j] / lr * mask))
        assert decoupled == pytest.approx(grid.val_loss["AdamW"][i, j], rel=1e-10)
    # and not the other convention: PyTorch's weight_decay = λ gives another run
    torch_style = alone(AdamW(lr=schedule, weight_decay=DECOUPLED[2] * mask))
    assert torch_style != pytest.approx(grid.val_loss["AdamW"][i, 2], rel=1e-6)


def test_decoupled_decay_shrinks_by_lambda_per_step_at_the_peak():
    """With zero gradients only the decay acts: AdamW with weight_decay = λ / lr shrinks each
    decayed weight by exactly (1 - λ) per step at the peak rate, whatever the rate."""
    lam = 0.01
    for lr in (1e-3, 0.1):
        w = np.ones((1, 4))
        step = AdamW(lr=lr, weight_decay=lam / lr * np.array([1.0, 1.0, 0.0, 0.0]))
        w = step.step(w, np.zeros_like(w))
        assert np.allclose(w, [[1 - lam, 1 - lam, 1.0, 1.0]])


def test_strong_decay_hurts_and_only_matrices_decay():
    heavy = decay_grid(SMALL, SPLIT, [3e-2], [0.0, 10.0], [0.0, 0.5], steps=STEPS,
                       batch_size=16, seed=3, warmup_steps=WARMUP)
    for name in OPTIMIZERS:
        assert heavy.val_loss[name][0, 1] > 1.5 * heavy.val_loss[name][0, 0], name
    mask = SMALL.decay_mask()
    blocks = SMALL.blocks(mask[None, :])
    assert all(block.all() == name.startswith("W") for name, block in blocks.items())
    assert not blocks["b_out"].any() and not blocks["gain1"].any()


def test_summaries_on_a_hand_made_grid():
    grid = DecayGrid(np.array([0.01, 0.1, 1.0]), {"AdamW": np.array([0.0, 0.1, 1.0, 10.0])},
                     {"AdamW": np.array([[1.0, 0.9, 1.1, 3.0],
                                         [0.5, 0.6, 0.7, np.nan],
                                         [2.0, 2.0, 1.0, 1.2]])}, {}, {}, {}, {})
    assert grid.best("AdamW") == (0.1, 0.0, 0.5)
    assert grid.best_weight_decay("AdamW").tolist() == [0.1, 0.0, 1.0]
    assert grid.tolerated_weight_decay("AdamW").tolist() == [1.0, 0.1, 10.0]
    assert grid.tolerated_weight_decay("AdamW", factor=1.5).tolist() == [1.0, 1.0, 10.0]


def test_arguments_are_checked():
    with pytest.raises(ValueError, match="lrs must be"):
        decay_grid(SMALL, SPLIT, [0.0, 1e-3], [0.0], [0.0], steps=2)
    with pytest.raises(ValueError, match="weight_decay must be"):
        decay_grid(SMALL, SPLIT, [1e-3], [-1.0], [0.0], steps=2)
