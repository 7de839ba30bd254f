"""The Transformer of lib/transformer.py: backprop against central finite differences in every block,
the settings axis keeping settings apart, the two batch forms agreeing, the decay mask, gradient
clipping against hand-worked numbers, input checks, and golden values from PyTorch."""

import json
import math
import pathlib

import numpy as np
import pytest

from lib.transformer import Transformer, clip_grad_norm

FIXTURE_PATH = pathlib.Path(__file__).parent / "fixtures" / "torch_transformer.json"

CONFIGS = [(norm, tied) for norm in ("pre", "post", "none") for tied in (True, False)]


def small(norm="pre", tied=True, n_layers=2, **kwargs):
    return Transformer(vocab_size=7, seq_len=4, d_model=6, n_heads=2, n_layers=n_layers,
                       norm=norm, tied=tied, d_ff=kwargs.pop("d_ff", 10), **kwargs)


def perturbed(model, settings=2, scale=0.3, seed=0, dtype=np.float64):
    """Parameters away from the initial 0/1 gains and shifts and the tiny 0.02 weights, so every
    block has a gradient worth testing."""
    rng = np.random.default_rng(seed)
    params = model.init_params(settings=settings, seed=list(range(settings)))
    return (params + scale * rng.normal(size=params.shape)).astype(dtype)


def central_difference(model, params, tokens, j, h=1e-6):
    step = np.zeros_like(params)
    step[:, j] = h
    return (model.loss(params + step, tokens) - model.loss(params - step, tokens)) / (2 * h)


# ---- gradients against finite differences ---------------------------------------------------------

@pytest.mark.parametrize("norm, tied", CONFIGS)
def test_backprop_matches_finite_differences_on_a_sample_of_every_block(norm, tied):
    model = small(norm, tied)
    params = perturbed(model)
    rng = np.random.default_rng(1)
    tokens = rng.integers(0, model.vocab_size, size=(3, model.seq_len + 1))
    loss, grad = model.loss_and_grad(params, tokens)
    assert np.allclose(loss, model.loss(params, tokens), rtol=1e-13)

    offsets, start = {}, 0
    for name, shape in model.layout:
        offsets[name] = (start, start + int(np.prod(shape)))
        start += int(np.prod(shape))
    checked = set()
    for name, (lo, hi) in offsets.items():
        sample = rng.choice(np.arange(lo, hi), size=min(6, hi - lo), replace=False)
        numeric = np.stack([central_difference(model, params, tokens, j) for j in sample], axis=1)
        assert np.abs(numeric).max() > 1e-4, f"{name}: the test instance gives no gradient"
        assert np.allclose(grad[:, sample], numeric, rtol=1e-6, atol=1e-8), \
            f"{name}: backprop {grad[:, sample]} vs finite differences {numeric}"
        checked.add(name)
    assert checked == {name for name, _ in model.layout}


def test_every_coordinate_of_a_tiny_model_matches_finite_differences():
    """All coordinates, not a sample, on the smallest model with every kind of block."""
    model = Transformer(vocab_size=5, seq_len=3, d_model=4, n_heads=2, n_layers=1, d_ff=6,
                        tied=False)
    params = perturbed(model, settings=1)
    tokens = np.array([[0, 1, 4, 2], [3, 3, 0, 1]])
    _, grad = model.loss_and_grad(params, tokens)
    numeric = np.stack([central_difference(model, params, tokens, j)
                        for j in range(model.num_params)], axis=1)
    assert np.allclose(grad, numeric, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("norm", ["pre", "post", "none"])
def test_no_layers_is_a_bigram_model_with_the_right_gradient(norm):
    model = small(norm, tied=False, n_layers=0)
    params = perturbed(model)
    tokens = np.array([[0, 1, 2, 3, 4], [6, 5, 4, 3, 2]])
    _, grad = model.loss_and_grad(params, tokens)
    numeric = np.stack([central_difference(model, params, tokens, j)
                        for j in range(model.num_params)], axis=1)
    assert np.allclose(grad, numeric, rtol=1e-6, atol=1e-9)


def test_float32_gradients_agree_with_float64_and_keep_their_dtype():
    model = small("pre", True)
    params = perturbed(model)
    tokens = np.random.default_rng(2).integers(0, 7, size=(3, 5))
    loss64, grad64 = model.loss_and_grad(params, tokens)
    loss32, grad32 = model.loss_and_grad(params.astype(np.float32), tokens)
    assert loss32.dtype == np.float32 and grad32.dtype == np.float32
    assert np.allclose(loss32, loss64, rtol=1e-5)
    assert np.allclose(grad32, grad64, rtol=1e-3, atol=1e-5 * np.abs(grad64).max())


# ---- the settings axis and the batch forms --------------------------------------------------------

@pytest.mark.parametrize("norm, tied", CONFIGS)
def test_the_settings_axis_equals_one_by_one_runs(norm, tied):
    model = small(norm, tied)
    params = perturbed(model, settings=3)
    tokens = np.random.default_rng(3).integers(0, 7, size=(4, 5))
    loss, grad = model.loss_and_grad(params, tokens)
    for s in range(3):
        one_loss, one_grad = model.loss_and_grad(params[s:s + 1], tokens)
        assert np.allclose(one_loss, loss[s], rtol=1e-13, atol=0)
        assert np.allclose(one_grad[0], grad[s], rtol=1e-11, atol=1e-15)


def test_the_targets_form_equals_the_shifted_tokens_form():
    model = small("post", False)
    params = perturbed(model)
    tokens = np.random.default_rng(4).integers(0, 7, size=(3, 5))
    loss, grad = model.loss_and_grad(params, tokens)
    loss2, grad2 = model.loss_and_grad(params, tokens[:, :-1], tokens[:, 1:])
    assert np.array_equal(loss, loss2) and np.array_equal(grad, grad2)
    assert np.array_equal(model.loss(params, tokens[:, :-1], tokens[:, 1:]), loss)
    # whole-valued floats, as lib.training.train passes its inputs, are the same tokens
    loss3, grad3 = model.loss_and_grad(params, tokens[:, :-1].astype(float), tokens[:, 1:])
    assert np.array_equal(loss3, loss) and np.array_equal(grad3, grad)


def test_attention_is_causal_a_later_token_changes_no_earlier_logit():
    model = small("pre", True)
    params = perturbed(model, settings=1)
    a = np.array([[1, 2, 3, 4]])
    b = a.copy()
    b[0, 2] = 6
    la, lb = model.logits(params, a), model.logits(params, b)
    assert la.shape == (1, 1, 4, 7)
    assert np.array_equal(la[..., :2, :], lb[..., :2, :])
    assert not np.allclose(la[..., 2:, :], lb[..., 2:, :])


def test_a_uniform_model_has_the_loss_log_vocab_and_evaluate_counts_hits():
    """Hand-worked: with all weights 0 the logits are all equal, so the loss is log V."""
    model = small("pre", False)
    params = np.zeros((1, model.num_params))
    tokens = np.random.default_rng(5).integers(0, 7, size=(2, 5))
    assert np.allclose(model.loss(params, tokens), math.log(7), rtol=1e-14)
    # tied head = tok_emb.T with tok_emb = identity rows: the logit of the input token is largest,
    # so with targets equal to the inputs every position is a hit
    model = Transformer(vocab_size=4, seq_len=3, d_model=4, n_heads=1, n_layers=0, norm="none")
    params = np.zeros((1, model.num_params))
    model.blocks(params)["tok_emb"][0] = np.eye(4)
    tokens = np.array([[0, 1, 2], [3, 2, 1]])
    loss, accuracy = model.evaluate(params, tokens, tokens)
    assert accuracy.tolist() == [1.0]
    # logits are 1 for the right token and 0 for the 3 others: loss log(e + 3) - 1
    assert np.allclose(loss, math.log(math.e + 3) - 1, rtol=1e-14)


def test_init_params_follow_the_stated_distributions_and_seeds():
    model = Transformer(vocab_size=50, seq_len=16, d_model=32, n_heads=4, n_layers=2)
    params = model.init_params(settings=2, seed=[0, 1])
    blocks = model.blocks(params)
    for name, block in blocks.items():
        last = name.split(".")[-1]
        if last.startswith("W_") or name in ("tok_emb", "pos_emb"):
            assert 0.018 < block.std() < 0.022, name
        elif last == "gain":
            assert np.all(block == 1.0), name
        else:
            assert np.all(block == 0.0), name
    assert not np.array_equal(params[0], params[1])
    assert np.array_equal(model.init_params(seed=1)[0], params[1])
    assert model.init_params(dtype=np.float32).dtype == np.float32


# ---- the decay mask -------------------------------------------------------------------------------

@pytest.mark.parametrize("norm, tied", CONFIGS)
def test_decay_mask_picks_the_matrices(norm, tied):
    model = small(norm, tied)
    for embeddings in (True, False):
        mask = model.blocks(model.decay_mask(embeddings=embeddings)[None, :])
        for name, block in mask.items():
            matrix = name in ("W_head",) or name.endswith(("W_qkv", "W_proj", "W_fc"))
            embedding = name in ("tok_emb", "pos_emb")
            expected = 1.0 if matrix or (embedding and embeddings) else 0.0
            assert np.all(block == expected), (name, embeddings)
    layers = model.n_layers
    names = [n for n, _ in model.layout]
    assert sum(n.endswith(("W_qkv", "W_proj", "W_fc")) for n in names) == 4 * layers
    D, F, V, T = model.d_model, model.d_ff, model.vocab_size, model.seq_len
    matrices = layers * (3 * D * D + D * D + 2 * D * F) + (0 if tied else D * V)
    assert model.decay_mask(embeddings=False).sum() == matrices
    assert model.decay_mask().sum() == matrices + V * D + T * D


# ---- clipping -------------------------------------------------------------------------------------

def test_clip_grad_norm_against_hand_worked_numbers():
    grad = np.array([[3.0, 4.0, 0.0],           # norm 5: clipped to 1, factor 1 / (5 + 1e-6)
                     [0.0, 0.6, 0.8],           # norm 1: factor 1 / (1 + 1e-6) < 1, as torch
                     [0.0, 0.0, 0.0],           # norm 0: factor 1 / 1e-6, clamped to 1
                     [-1.0, 2.0, -2.0]])        # norm 3
    clipped, norms = clip_grad_norm(grad, 1.0)
    assert norms.tolist() == [5.0, 1.0, 0.0, 3.0]
    factors = np.array([1 / (5 + 1e-6), 1 / (1 + 1e-6), 1.0, 1 / (3 + 1e-6)])
    assert np.allclose(clipped, grad * factors[:, None], rtol=1e-15, atol=0)
    assert np.allclose(np.linalg.norm(clipped, axis=1), [1.0, 1.0, 0.0, 1.0], atol=1e-6)
    # a per-setting limit, and float32 kept
    clipped, norms = clip_grad_norm(grad.astype(np.float32), np.array([10.0, 0.5, 1.0, 1.5]))
    assert clipped.dtype == np.float32
    assert np.allclose(np.linalg.norm(clipped, axis=1), [5.0, 0.5, 0.0, 1.5], atol=1e-5)


def test_clip_grad_norm_of_a_non_finite_gradient_is_nan_without_warnings():
    with np.errstate(all="raise"):
        clipped, norms = clip_grad_norm(np.array([[np.inf, 1.0], [1.0, 0.0]]), 1.0)
    assert math.isinf(norms[0])                   # factor 0: inf * 0 is NaN, 1 * 0 is 0 (as torch)
    assert np.isnan(clipped[0, 0]) and clipped[0, 1] == 0.0
    assert np.allclose(clipped[1], [1 / (1 + 1e-6), 0.0])


# ---- input checks ---------------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, argument", [
    ({"vocab_size": 0}, "vocab_size"), ({"vocab_size": 2.5}, "vocab_size"),
    ({"seq_len": True}, "seq_len"), ({"d_model": -1}, "d_model"),
    ({"n_heads": 4}, "n_heads"),                         # 4 does not divide d_model 6
    ({"n_layers": 1000}, "n_layers"), ({"norm": "pre-ln"}, "norm"), ({"norm": None}, "norm"),
    ({"tied": 1}, "tied"), ({"d_ff": 0}, "d_ff"), ({"init_std": -0.02}, "init_std"),
    ({"init_std": math.nan}, "init_std"), ({"eps": 0.0}, "eps"),
])
def test_bad_architecture_is_refused_by_name(kwargs, argument):
    base = dict(vocab_size=7, seq_len=4, d_model=6, n_heads=2, n_layers=1)
    with pytest.raises(ValueError, match=rf"^{argument}\b"):
        Transformer(**{**base, **kwargs})


def test_bad_batches_are_refused_by_name():
    model = small()
    params = model.init_params(2)
    good = np.zeros((3, 5), dtype=int)
    cases = [
        (dict(params=params[:, :-1]), "params"),
        (dict(params=params.astype(complex)), "params"),
        (dict(tokens=np.zeros((3, 4), dtype=int)), "tokens"),        # needs seq_len + 1
        (dict(tokens=np.zeros(5, dtype=int)), "tokens"),
        (dict(tokens=np.full((3, 5), 7)), "tokens"),                  # vocab is 0..6
        (dict(tokens=np.full((3, 5), -1)), "tokens"),
        (dict(tokens=np.full((3, 5), 0.5)), "tokens"),
        (dict(tokens="abc"), "tokens"),
        (dict(tokens=np.zeros((3, 4), int), targets=np.zeros((3, 5), int)), "targets"),
        (dict(tokens=np.zeros((3, 4), int), targets=np.zeros((2, 4), int)), "targets"),
        (dict(tokens=np.zeros((3, 4), int), targets=np.full((3, 4), 9)), "targets"),
    ]
    for change, argument in cases:
        kwargs = {"params": params, "tokens": good, **change}
        with pytest.raises(ValueError, match=rf"^{argument}\b"):
            model.loss_and_grad(**kwargs)
    with pytest.raises(ValueError, match=r"^max_norm\b"):
        clip_grad_norm(np.ones((2, 3)), 0.0)
    with pytest.raises(ValueError, match=r"^max_norm\b"):
        clip_grad_norm(np.ones((2, 3)), np.ones(3))
    with pytest.raises(ValueError, match=r"^grad\b"):
        clip_grad_norm("grad", 1.0)
    with pytest.raises(ValueError, match=r"^embeddings\b"):
        model.decay_mask(embeddings=0)


# ---- golden values from PyTorch -------------------------------------------------------------------

FIXTURE = json.loads(FIXTURE_PATH.read_text())


def torch_to_lib(config, tensors):
    """Map torch's named tensors (nn.Linear weights stored (out, in)) into lib's flat layout (1, P)."""
    model = Transformer(vocab_size=config["vocab_size"], seq_len=config["seq_len"],
                        d_model=config["d_model"], n_heads=config["n_heads"],
                        n_layers=config["n_layers"], d_ff=config["d_ff"], norm=config["norm"],
                        tied=config["tied"])
    flat = np.full((1, model.num_params), np.nan)
    blocks = model.blocks(flat)
    names = {"wte.weight": ("tok_emb", False), "wpe.weight": ("pos_emb", False),
             "ln_f.weight": ("ln_f.gain", False), "ln_f.bias": ("ln_f.shift", False),
             "lm_head.weight": ("W_head", True)}
    for layer in range(config["n_layers"]):
        t, p = f"h.{layer}.", f"L{layer}."
        names.update({t + "ln_1.weight": (p + "ln1.gain", False),
                      t + "ln_1.bias": (p + "ln1.shift", False),
                      t + "ln_2.weight": (p + "ln2.gain", False),
                      t + "ln_2.bias": (p + "ln2.shift", False)})
        for part in ("attn.c_attn", "attn.c_proj", "mlp.c_fc", "mlp.c_proj"):
            ours = p + part.replace("c_attn", "qkv").replace("c_fc", "fc").replace("c_", "")
            kind = ours.rsplit(".", 1)
            names[t + part + ".weight"] = (f"{kind[0]}.W_{kind[1]}", True)
            names[t + part + ".bias"] = (f"{kind[0]}.b_{kind[1]}", False)
    for name, value in tensors.items():
        ours, transpose = names[name]
        value = np.array(value)
        blocks[ours][0] = value.T if transpose else value
    assert not np.isnan(flat).any(), "a lib block got no torch tensor"
    return model, flat


@pytest.mark.parametrize("config", FIXTURE["configs"], ids=lambda c: c["name"])
def test_forward_and_backward_match_pytorch(config):
    model, params = torch_to_lib(config, config["params"])
    _, torch_grad = torch_to_lib(config, config["grads"])
    tokens = np.array(config["tokens"])
    logits = model.logits(params, tokens[:, :-1])
    assert np.allclose(logits[0], np.array(config["logits"]), rtol=1e-12, atol=1e-13)
    loss, grad = model.loss_and_grad(params, tokens)
    assert abs(loss[0] - config["loss"]) < 1e-13 * config["loss"]
    scale = np.abs(torch_grad).max()
    assert np.allclose(grad, torch_grad, rtol=1e-10, atol=1e-12 * scale)
    if "clip" in config:
        _, torch_clipped = torch_to_lib(config, config["clip"]["clipped"])
        clipped, norms = clip_grad_norm(grad, config["clip"]["max_norm"])
        assert np.allclose(norms, config["clip"]["total_norm"], rtol=1e-12)
        assert np.allclose(clipped, torch_clipped, rtol=1e-10, atol=1e-12 * scale)


def test_clip_of_a_non_finite_gradient_matches_pytorch():
    case = FIXTURE["clip_nonfinite"]
    with np.errstate(all="raise"):
        clipped, norms = clip_grad_norm(np.array(case["grads"]), case["max_norm"])
    assert norms.tolist() == case["total_norm"]
    assert np.allclose(clipped, np.array(case["clipped"]), rtol=1e-15, equal_nan=True)


def test_fixture_covers_the_brief():
    """Guard against a regenerated fixture that silently lost coverage."""
    configs = {(c["norm"], c["tied"]) for c in FIXTURE["configs"]}
    assert configs == {("pre", True), ("post", False)}
    assert all(c["n_layers"] >= 2 and c["n_heads"] >= 2 for c in FIXTURE["configs"])
    assert any("clip" in c for c in FIXTURE["configs"])
    assert FIXTURE["meta"]["gelu"] == "tanh approximation"
    assert FIXTURE_PATH.stat().st_size < 300_000


def test_keep_freed_memory_applies_on_glibc_and_leaves_results_unchanged():
    import platform
    from lib.transformer import keep_freed_memory
    model = small("pre", True)
    params = perturbed(model)
    tokens = np.random.default_rng(6).integers(0, 7, size=(3, 5))
    before = model.loss_and_grad(params, tokens)
    applied = keep_freed_memory()
    assert applied is (platform.libc_ver()[0] == "glibc")
    after = model.loss_and_grad(params, tokens)
    assert np.array_equal(before[0], after[0]) and np.array_equal(before[1], after[1])


@pytest.mark.parametrize("chunk_elements", [1, 400, 2**30])
def test_results_do_not_depend_on_how_the_settings_are_chunked(chunk_elements, monkeypatch):
    """One setting per pass, a few per pass, and all at once give the same numbers."""
    from lib import transformer
    model = small("pre", False)
    params = perturbed(model, settings=5)
    tokens = np.random.default_rng(7).integers(0, 7, size=(3, 5))
    reference = [model.loss_and_grad(params[s:s + 1], tokens) for s in range(5)]
    monkeypatch.setattr(transformer, "SETTINGS_CHUNK_ELEMENTS", chunk_elements)
    expected_chunk = max(1, chunk_elements // (3 * 4 * (10 + 18 + 2 * 4 + 7)))
    assert model.settings_chunk(3) == expected_chunk
    loss, grad = model.loss_and_grad(params, tokens)
    assert loss.shape == (5,) and grad.shape == params.shape
    for s, (one_loss, one_grad) in enumerate(reference):
        assert np.allclose(loss[s], one_loss[0], rtol=1e-13, atol=0)
        assert np.allclose(grad[s], one_grad[0], rtol=1e-11, atol=1e-15)
    assert np.allclose(model.loss(params, tokens), loss, rtol=1e-13)
    ev_loss, accuracy = model.evaluate(params, tokens)
    assert np.allclose(ev_loss, loss, rtol=1e-13) and accuracy.shape == (5,)
    assert model.logits(params, tokens[:, :-1]).shape == (5, 3, 4, 7)


def test_attention_weights_are_the_causal_softmax_of_the_scaled_scores():
    """Recomputed by hand for layer 0 of a Pre-LN model, one query at a time."""
    model = small("pre", True)
    params = perturbed(model, settings=2)
    tokens = np.array([[1, 2, 3, 4], [6, 0, 6, 0]])
    weights = model.attention(params, tokens)
    assert weights.shape == (2, 2, 2, 2, 4, 4)
    assert np.allclose(weights.sum(axis=-1), 1.0, rtol=1e-14)
    assert np.all(np.triu(np.ones((4, 4)), k=1)[None] * weights == 0)
    W = model.blocks(params)
    D, dh = model.d_model, model.d_head
    for s in range(2):
        for b in range(2):
            x = W["tok_emb"][s][tokens[b]] + W["pos_emb"][s]
            mu, var = x.mean(axis=1, keepdims=True), x.var(axis=1, keepdims=True)
            h = (x - mu) / np.sqrt(var + 1e-5) * W["L0.ln1.gain"][s] + W["L0.ln1.shift"][s]
            qkv = h @ W["L0.attn.W_qkv"][s] + W["L0.attn.b_qkv"][s]
            for head in range(2):
                q = qkv[:, head * dh:(head + 1) * dh]
                k = qkv[:, D + head * dh:D + (head + 1) * dh]
                for i in range(4):
                    scores = [q[i] @ k[j] / math.sqrt(dh) for j in range(i + 1)]
                    expected = np.exp(scores) / np.sum(np.exp(scores))
                    assert np.allclose(weights[0, s, b, head, i, :i + 1], expected, rtol=1e-12)


def test_a_small_model_learns_a_deterministic_sequence_with_adam():
    """End to end: next token = (token + 2) mod 7 is learned (loss from log 7 = 1.95 to < 0.05)."""
    from lib.optimizers import Adam
    model = small("pre", True, n_layers=1)
    params = model.init_params(settings=2, seed=[0, 1])
    rng = np.random.default_rng(8)
    opt = Adam(lr=1e-2)
    for _ in range(300):
        start = rng.integers(0, 7, size=(8, 1))
        tokens = (start + 2 * np.arange(5)) % 7
        loss, grad = model.loss_and_grad(params, tokens)
        params = opt.step(params, grad)
    start = np.arange(7)[:, None]
    assert np.all(model.loss(params, (start + 2 * np.arange(5)) % 7) < 0.05)


def test_generate_is_reproducible_follows_the_softmax_and_continues_a_learned_rule():
    # a bigram model whose logits for the next token are log([1, 2, 3, 4]) after every token:
    # sampled at temperature 1, the tokens come out in proportions 0.1, 0.2, 0.3, 0.4
    model = Transformer(vocab_size=4, seq_len=3, d_model=1, n_heads=1, n_layers=0, norm="none",
                        tied=False)
    params = np.zeros((2, model.num_params))
    blocks = model.blocks(params)
    blocks["tok_emb"][...] = 1.0
    blocks["W_head"][...] = np.log([1.0, 2.0, 3.0, 4.0])
    out = model.generate(params, [0], 4000, temperature=1.0, seed=3)
    assert out.shape == (2, 4001) and np.array_equal(out, model.generate(params, [0], 4000, seed=3))
    counts = np.bincount(out[:, 1:].ravel(), minlength=4) / 8000
    assert np.allclose(counts, [0.1, 0.2, 0.3, 0.4], atol=0.02)      # 3.6 standard errors or more
    # a high temperature flattens the distribution, a tiny one is greedy
    hot = np.bincount(model.generate(params, [0], 4000, temperature=100.0, seed=4).ravel()[1:],
                      minlength=4) / 8000
    assert np.abs(hot - 0.25).max() < 0.03
    assert np.all(model.generate(params, [1], 50, temperature=1e-300)[:, 1:] == 3)
    assert np.all(model.generate(params, [1], 50, temperature=0)[:, 1:] == 3)
    with pytest.raises(ValueError, match=r"^prompt\b"):
        model.generate(params, [], 3)
    with pytest.raises(ValueError, match=r"^prompt\b"):
        model.generate(params, [4], 3)
    with pytest.raises(ValueError, match=r"^temperature\b"):
        model.generate(params, [1], 3, temperature=-1.0)
