"""The digits and the MLP: data as documented, backprop against finite differences, forward pass
against a plain one-setting reference, the settings axis keeping settings apart."""

import numpy as np
import pytest

from lib.data import DIGITS_PATH, load_digits, train_val_split
from lib.model import MLP


# ---- data ---------------------------------------------------------------------------------------

def test_digits_are_the_uci_test_set_scaled_to_the_unit_interval():
    X, y = load_digits()
    assert X.shape == (1797, 64) and y.shape == (1797,)
    assert X.min() == 0.0 and X.max() == 1.0
    assert np.all(np.isclose(X * 16, np.round(X * 16)))          # counts 0..16, divided by 16
    assert np.bincount(y).tolist() == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]
    # the first image, straight from the file's first line (a zero)
    first_image = [[0, 0, 5, 13, 9, 1, 0, 0], [0, 0, 13, 15, 10, 15, 5, 0],
                   [0, 3, 15, 2, 0, 11, 8, 0], [0, 4, 12, 0, 0, 8, 8, 0],
                   [0, 5, 8, 0, 0, 9, 8, 0], [0, 4, 11, 0, 1, 12, 7, 0],
                   [0, 2, 14, 5, 10, 12, 0, 0], [0, 0, 6, 13, 10, 0, 0, 0]]
    assert np.array_equal(X[0].reshape(8, 8) * 16, first_image) and y[0] == 0


def test_data_ships_with_its_licence_and_source():
    readme = (DIGITS_PATH.parent / "README.md").read_text()
    for needed in ("CC BY 4.0", "10.24432/C50P49", "Alpaydin", "Kaynak", "1998"):
        assert needed in readme


def test_split_is_seeded_disjoint_and_complete():
    X, y = load_digits()
    a = train_val_split(X, y, val_fraction=0.2, seed=3)
    b = train_val_split(X, y, val_fraction=0.2, seed=3)
    c = train_val_split(X, y, val_fraction=0.2, seed=4)
    assert all(np.array_equal(u, v) for u, v in zip(a, b))
    assert not np.array_equal(a.y_val, c.y_val)
    assert len(a.X_val) == 359 and len(a.X_train) == 1438
    rows = {tuple(r) + (int(t),) for r, t in zip(np.vstack([a.X_train, a.X_val]),
                                                  np.r_[a.y_train, a.y_val])}
    assert rows == {tuple(r) + (int(t),) for r, t in zip(X, y)}
    assert set(a.y_val.tolist()) == set(range(10))


def test_split_rejects_bad_fraction():
    with pytest.raises(ValueError, match=r"val_fraction must be in \[0.0, 1.0\)"):
        train_val_split(np.zeros((4, 2)), np.zeros(4, int), val_fraction=1.0)


# ---- gradients against finite differences -------------------------------------------------------

def finite_differences(model, params, X, y, h=1e-6):
    """Central differences (L(p + h e_j) - L(p - h e_j)) / 2h for every coordinate j, in float64."""
    grad = np.zeros_like(params)
    for j in range(params.shape[1]):
        step = np.zeros_like(params)
        step[:, j] = h
        grad[:, j] = (model.loss(params + step, X, y) - model.loss(params - step, X, y)) / (2 * h)
    return grad


@pytest.mark.parametrize("layer_norm", [True, False])
@pytest.mark.parametrize("sizes", [(5, 4, 3, 3), (5, 6, 4, 3, 4), (5, 3)])
def test_backprop_matches_finite_differences_in_every_block(sizes, layer_norm):
    model = MLP(sizes=sizes, layer_norm=layer_norm)
    rng = np.random.default_rng(0)
    params = model.init_params(settings=2, seed=[0, 1])
    params += 0.3 * rng.normal(size=params.shape)           # gains and shifts away from 1 and 0
    X, y = rng.normal(size=(7, sizes[0])), rng.integers(0, sizes[-1], size=7)

    loss, grad = model.loss_and_grad(params, X, y)
    numeric = finite_differences(model, params, X, y)

    assert np.allclose(loss, model.loss(params, X, y), rtol=1e-12)
    for name, block in model.blocks(grad).items():
        expected = model.blocks(numeric)[name]
        assert np.abs(expected).max() > 1e-4, f"{name}: test instance gives no gradient"
        assert np.allclose(block, expected, rtol=1e-5, atol=1e-8), \
            f"{name}: max error {np.abs(block - expected).max():.2e}"


# ---- forward pass against an independent reference ---------------------------------------------

def reference_loss(sizes, p, X, y, eps=1e-5):
    """One setting, plainly: unpack, Linear -> LayerNorm -> ReLU, Linear, cross-entropy."""
    pieces, start = {}, 0
    for i, (n_in, n_out) in enumerate(zip(sizes[:-2], sizes[1:-1]), start=1):
        for name, shape in ((f"W{i}", (n_in, n_out)), (f"g{i}", (n_out,)), (f"s{i}", (n_out,))):
            size = int(np.prod(shape))
            pieces[name], start = p[start:start + size].reshape(shape), start + size
    n_in, n_out = sizes[-2:]
    W_out = p[start:start + n_in * n_out].reshape(n_in, n_out)
    b_out = p[start + n_in * n_out:]
    a = X
    for i in range(1, len(sizes) - 1):
        z = a @ pieces[f"W{i}"]
        z = (z - z.mean(1, keepdims=True)) / np.sqrt(z.var(1, keepdims=True) + eps)
        a = np.maximum(pieces[f"g{i}"] * z + pieces[f"s{i}"], 0)
    logits = a @ W_out + b_out
    probs = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    return -np.mean(np.log(probs[np.arange(len(y)), y]))


def test_forward_matches_a_plain_reference_for_each_setting():
    sizes = (64, 64, 128, 10)
    model = MLP(sizes=sizes)
    X, y = load_digits()
    X, y = X[:50], y[:50]
    params = model.init_params(settings=3, seed=[0, 1, 2])
    params += 0.1 * np.random.default_rng(5).normal(size=params.shape)
    expected = [reference_loss(sizes, p, X, y) for p in params]
    assert np.allclose(model.loss(params, X, y), expected, rtol=1e-12)


def test_settings_do_not_mix():
    """S settings at once give exactly what each setting gives alone."""
    model = MLP(sizes=(8, 6, 5, 3))
    rng = np.random.default_rng(1)
    params = model.init_params(settings=4, seed=[0, 1, 2, 3])
    X, y = rng.normal(size=(9, 8)), rng.integers(0, 3, size=9)
    loss, grad = model.loss_and_grad(params, X, y)
    for s in range(4):
        loss_s, grad_s = model.loss_and_grad(params[s:s + 1], X, y)
        assert np.allclose(loss[s], loss_s[0], rtol=1e-13)
        assert np.allclose(grad[s], grad_s[0], rtol=1e-12, atol=1e-15)


# ---- layout, initialisation, checks -------------------------------------------------------------

def test_blocks_are_views_into_the_flat_vector():
    model = MLP(sizes=(3, 4, 2))
    params = np.zeros((2, model.num_params))
    model.blocks(params)["W_out"][1, 3, 0] = 7.0
    start = 3 * 4 + 4 + 4                                          # after W1, gain1, shift1
    assert params[1, start + 3 * 2 + 0] == 7.0 and np.count_nonzero(params) == 1


def test_init_scales_and_seeds():
    model = MLP()
    params = model.init_params(settings=2, seed=0)
    blocks = model.blocks(params)
    assert np.array_equal(params[0], params[1])
    assert abs(blocks["W1"][0].std() - np.sqrt(2 / 64)) < 0.01     # He
    assert abs(blocks["W2"][0].std() - np.sqrt(2 / 64)) < 0.01
    assert abs(blocks["W_out"][0].std() - np.sqrt(1 / 128)) < 0.01  # LeCun
    assert np.all(blocks["gain1"] == 1) and np.all(blocks["shift2"] == 0)
    assert np.all(blocks["b_out"] == 0)
    with pytest.raises(ValueError, match="seed must be an int or 3 ints"):
        model.init_params(settings=3, seed=[0, 1])


def test_untrained_network_guesses_near_uniformly():
    X, y = load_digits()
    model = MLP()
    loss = model.loss(model.init_params(settings=5, seed=range(5)), X, y)
    assert np.all(np.abs(loss - np.log(10)) < 0.5)


def test_decay_mask_marks_only_matrices():
    model = MLP()
    mask = model.decay_mask()
    blocks = model.blocks(mask[None, :])
    for name, block in blocks.items():
        assert np.all(block == (1.0 if name.startswith("W") else 0.0)), name


def test_bad_inputs_name_the_argument():
    model = MLP(sizes=(3, 4, 2))
    params = model.init_params(settings=1)
    with pytest.raises(ValueError, match=r"params must have shape \(settings, 30\)"):
        model.loss(params[:, :-1], np.zeros((1, 3)), [0])
    with pytest.raises(ValueError, match=r"X must have shape \(batch, 3\)"):
        model.loss(params, np.zeros((1, 4)), [0])
    with pytest.raises(ValueError, match=r"y must be in \[0, 1\]"):
        model.loss(params, np.zeros((1, 3)), [2])
    with pytest.raises(ValueError, match="sizes must be a whole number"):
        MLP(sizes=(3, 0, 2))
