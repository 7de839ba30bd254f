"""decay_grid(): each cell of the grid is the run it claims to be (checked against runs built one by
one from the lib's optimizers and schedules), the two weight-decay conventions are applied as
documented, only the weight matrices decay, and the summaries read the grid correctly."""

import numpy as np
import pytest

from lib import schedules
from lib.data import load_digits, train_val_split
from lib.experiments import OPTIMIZERS, DecayGrid, DecayGrids, decay_grid
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


def alone(optimizer, seed=3):
    """One setting, trained on its own with the same start, batches and length as the grid."""
    run = train(SMALL, optimizer, SMALL.init_params(1, seed=seed), SPLIT, steps=STEPS,
                batch_size=16, seed=seed, eval_every=STEPS)
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


def test_seeds_repeat_the_grid_with_their_own_start_and_batches():
    grids = decay_grid(SMALL, SPLIT, LRS, L2, DECOUPLED, steps=STEPS, batch_size=16,
                       warmup_steps=WARMUP, seeds=[5, 3])
    assert isinstance(grids, DecayGrids) and grids.seeds.tolist() == [5, 3]
    assert grids.val_loss["AdamW"].shape == grids.diverged["Adam + L2"].shape == (2, 2, 3)
    assert grids.lrs.tolist() == LRS and grids.weight_decays["AdamW"].tolist() == DECOUPLED
    lr = LRS[1]
    schedule = schedules.warmup_cosine(lr, WARMUP, STEPS)
    for k, seed in enumerate((5, 3)):                 # each seed: its own weights and minibatches
        expected = alone(AdamW(lr=schedule, weight_decay=DECOUPLED[1] / lr * SMALL.decay_mask()), seed)
        assert expected == pytest.approx(grids.val_loss["AdamW"][k, 1, 1], rel=1e-10)
        expected = alone(Adam(lr=schedule, weight_decay=L2[2] * SMALL.decay_mask()), seed)
        assert expected == pytest.approx(grids.val_loss["Adam + L2"][k, 1, 2], rel=1e-10)
    assert not np.allclose(grids.val_loss["AdamW"][0], grids.val_loss["AdamW"][1], rtol=1e-3)
    assert grids.seconds["AdamW"] == pytest.approx(sum(g.seconds["AdamW"] for g in grids.grids))
    assert len(grids.best("AdamW")) == 2 and grids.good("AdamW").shape == (2, 2, 3)


def test_seed_summaries_on_hand_made_grids():
    decays = {"AdamW": np.array([0.0, 0.1, 1.0])}
    one = DecayGrid(np.array([0.1, 1.0]), decays, {"AdamW": np.array([[1.0, 1.4, 1.6],
                                                                      [1.0, 2.0, 1.1]])}, {}, {}, {}, {})
    two = DecayGrid(np.array([0.1, 1.0]), decays, {"AdamW": np.array([[2.0, 1.0, 1.2],
                                                                      [np.nan, 1.0, 1.0]])}, {}, {}, {}, {})
    grids = DecayGrids(np.array([0, 1]), [one, two])
    good = grids.good("AdamW", factor=1.5)
    assert good.tolist() == [[[True, True, False], [True, False, True]],
                             [[False, True, True], [False, True, True]]]
    assert good.sum(axis=(1, 2)).tolist() == [4, 4]
    assert grids.tolerated_weight_decay("AdamW", 1.5).tolist() == [[0.1, 1.0], [1.0, 1.0]]
    unbroken = grids.tolerated_weight_decay("AdamW", 1.5, unbroken=True)
    assert unbroken[0].tolist() == [0.1, 0.0] and np.isnan(unbroken[1]).all()
    assert grids.best("AdamW") == [(0.1, 0.0, 1.0), (0.1, 0.1, 1.0)]


def test_arguments_are_checked():
    with pytest.raises(ValueError, match="lrs must be"):
        decay_grid(SMALL, SPLIT, [0.0, 1e-3], [0.0], [0.0], steps=2)
    with pytest.raises(ValueError, match="weight_decay must be"):
        decay_grid(SMALL, SPLIT, [1e-3], [-1.0], [0.0], steps=2)
    with pytest.raises(ValueError, match="seeds must be"):
        decay_grid(SMALL, SPLIT, [1e-3], [0.0], [0.0], steps=2, seeds=[0.5, 1.5])
    with pytest.raises(ValueError, match="seeds must be"):
        decay_grid(SMALL, SPLIT, [1e-3], [0.0], [0.0], steps=2, seeds=[])


def test_float32_grid_is_the_float32_run_it_claims_to_be():
    """dtype=float32: every cell is the float32 run built one by one (weights, state, loss)."""
    lr, mask = LRS[1], SMALL.decay_mask()
    grid32 = decay_grid(SMALL, SPLIT, [lr], L2[:2], DECOUPLED[:2], steps=STEPS, batch_size=16,
                        seed=3, warmup_steps=WARMUP, dtype=np.float32)
    schedule = schedules.warmup_cosine(lr, WARMUP, STEPS)
    run = train(SMALL, AdamW(lr=schedule, weight_decay=DECOUPLED[1] / lr * mask),
                SMALL.init_params(1, seed=3, dtype=np.float32), SPLIT, steps=STEPS,
                batch_size=16, seed=3, eval_every=STEPS)
    assert run.params.dtype == np.float32
    assert run.val_loss[-1, 0] == pytest.approx(grid32.val_loss["AdamW"][0, 1], rel=1e-5)
    float64 = decay_grid(SMALL, SPLIT, [lr], L2[:2], DECOUPLED[:2], steps=STEPS, batch_size=16,
                         seed=3, warmup_steps=WARMUP)
    for name in OPTIMIZERS:                           # the same runs, to float32's precision
        assert grid32.val_loss[name] == pytest.approx(float64.val_loss[name], rel=1e-3)
        assert not np.array_equal(grid32.val_loss[name], float64.val_loss[name])


def test_dtype_is_checked():
    with pytest.raises(ValueError, match="dtype must be float32 or float64"):
        decay_grid(SMALL, SPLIT, [1e-3], [0.0], [0.0], steps=2, warmup_steps=0,
                   dtype=np.float16)
