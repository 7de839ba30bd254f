"""MatrixSplit: the hidden matrices to one rule, the rest to another (checked against each rule alone)."""

import numpy as np
import pytest

from lib.beyond import Muon
from lib.beyond_experiments import MatrixSplit
from lib.model import MLP
from lib.optimizers import SGD, AdamW
from lib.transformer import Transformer


def test_default_groups_leave_embeddings_and_head_to_the_rest():
    net = Transformer(vocab_size=7, seq_len=4, d_model=8, n_heads=2, n_layers=1)
    split = MatrixSplit(net, lambda: Muon(lr=0.1), lambda: AdamW(lr=1e-3))
    assert split.matrices == ("L0.attn.W_qkv", "L0.attn.W_proj", "L0.mlp.W_fc", "L0.mlp.W_proj")
    matrix_params = 8 * 24 + 8 * 8 + 8 * 32 + 32 * 8
    assert split.rest_index.size == net.num_params - matrix_params
    assert np.isclose(split.matrix_fraction(), matrix_params / net.num_params)


def test_each_group_moves_as_its_own_rule_would():
    net = MLP(sizes=(5, 4, 3))
    rng = np.random.default_rng(0)
    params = rng.normal(size=(2, net.num_params))
    grads = [rng.normal(size=params.shape) for _ in range(3)]
    split = MatrixSplit(net, lambda: Muon(lr=0.05, weight_decay=0.1), lambda: AdamW(lr=0.01))
    muon, adamw = Muon(lr=0.05, weight_decay=0.1), AdamW(lr=0.01)
    w = params
    W1 = params[:, :20].reshape(2, 5, 4)
    rest = params[:, 20:]
    for g in grads:
        w = split.step(w, g)
        W1 = muon.step(W1, g[:, :20].reshape(2, 5, 4))
        rest = adamw.step(rest, g[:, 20:])
    np.testing.assert_array_equal(w[:, :20], W1.reshape(2, -1))
    np.testing.assert_array_equal(w[:, 20:], rest)
    assert split.t == 3
    assert split.state_nbytes() == muon.state_nbytes() + adamw.state_nbytes()


def test_explicit_matrices_and_bad_input():
    net = MLP(sizes=(5, 4, 3))
    with pytest.raises(ValueError, match="matrices must name 2-D blocks"):
        MatrixSplit(net, lambda: Muon(lr=0.1), lambda: SGD(lr=0.1), matrices=("gain1",))
    with pytest.raises(ValueError, match="model must have a layout"):
        MatrixSplit(object(), lambda: Muon(lr=0.1), lambda: SGD(lr=0.1))
    with pytest.raises(ValueError, match="matrix_rule must be"):
        MatrixSplit(net, Muon(lr=0.1), lambda: SGD(lr=0.1))
    split = MatrixSplit(net, lambda: Muon(lr=0.1), lambda: SGD(lr=0.1), matrices=("W1", "W_out"))
    assert split.matrices == ("W1", "W_out")
    with pytest.raises(ValueError, match=r"params and grad must both have shape \(S, "):
        split.step(np.zeros(net.num_params), np.zeros(net.num_params))
