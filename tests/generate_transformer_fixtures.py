"""Record golden forward and backward values of a small decoder-only Transformer with PyTorch.

Run once, from the repository root, with a Python that has torch (it is not a project dependency;
a scratch venv outside the repository: ``python3 -m venv /tmp/tv && /tmp/tv/bin/pip install
torch==2.13.0 numpy``)::

    /tmp/tv/bin/python tests/generate_transformer_fixtures.py

It writes ``tests/fixtures/torch_transformer.json``, which is committed;
``tests/test_transformer.py`` loads each configuration's parameters into ``lib.transformer``'s flat
layout and compares the logits, the loss and the full gradient.

This script is the independent reference, so it never imports the project's ``lib``: the model is
written here in torch's own terms, nanoGPT-style (``nn.Embedding``, ``nn.Linear`` with weights
stored ``(out, in)``, ``nn.LayerNorm(eps=1e-5)``, ``F.scaled_dot_product_attention(is_causal=True)``,
``nn.GELU(approximate="tanh")``, ``F.cross_entropy`` with its mean over all positions), and
autograd gives the gradient. The parameters are drawn from a fixed torch seed, away from the usual
tiny initialisation (weights N(0, 0.3^2), LayerNorm gains 1 + N(0, 0.2^2), biases and shifts
N(0, 0.2^2)) so that every block carries a gradient, and written out with torch's names and shapes.
Everything is float64.

Configurations: Pre-LN with a tied head, and Post-LN with an untied head (vocab 11, seq_len 5,
d_model 8, 2 heads, 2 layers, d_ff 32, batch 3). The Post-LN entry also records
``torch.nn.utils.clip_grad_norm_`` applied to its gradient (max_norm 0.5: the returned total norm
and the clipped gradient), and a gradient with an inf in it, clipped.

JSON layout (floats written by ``json``, which uses ``repr``: float64 round-trips exactly)::

    {"meta": {...},
     "configs": [{"name", "norm", "tied", "vocab_size", "seq_len", "d_model", "n_heads",
                  "n_layers", "d_ff", "tokens": (B, seq_len + 1) ints,
                  "params": {torch name: nested list}, "logits": (B, T, V), "loss": x,
                  "grads": {torch name: nested list}, "clip": {...} or absent}],
     "clip_nonfinite": {"max_norm", "grads": [[...]], "total_norm", "clipped": [[...]]}}
"""

import json
import math
import pathlib

import torch
import torch.nn.functional as F
from torch import nn

OUT = pathlib.Path(__file__).resolve().parent / "fixtures" / "torch_transformer.json"
SIZES = dict(vocab_size=11, seq_len=5, d_model=8, n_heads=2, n_layers=2, d_ff=32)
BATCH = 3


class Attention(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.heads = heads
        self.c_attn = nn.Linear(d, 3 * d)            # q, k, v side by side, as nanoGPT
        self.c_proj = nn.Linear(d, d)

    def forward(self, x):
        B, T, D = x.shape
        q, k, v = self.c_attn(x).split(D, dim=2)
        q, k, v = (t.view(B, T, self.heads, D // self.heads).transpose(1, 2) for t in (q, k, v))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)   # scale 1/sqrt(d_head)
        return self.c_proj(y.transpose(1, 2).contiguous().view(B, T, D))


class MLP(nn.Module):
    def __init__(self, d, d_ff):
        super().__init__()
        self.c_fc = nn.Linear(d, d_ff)
        self.gelu = nn.GELU(approximate="tanh")
        self.c_proj = nn.Linear(d_ff, d)

    def forward(self, x):
        return self.c_proj(self.gelu(self.c_fc(x)))


class Block(nn.Module):
    def __init__(self, d, heads, d_ff, norm):
        super().__init__()
        self.norm = norm
        self.ln_1 = nn.LayerNorm(d, eps=1e-5)
        self.attn = Attention(d, heads)
        self.ln_2 = nn.LayerNorm(d, eps=1e-5)
        self.mlp = MLP(d, d_ff)

    def forward(self, x):
        if self.norm == "pre":
            x = x + self.attn(self.ln_1(x))
            return x + self.mlp(self.ln_2(x))
        x = self.ln_1(x + self.attn(x))                 # Post-LN: normalise after the residual
        return self.ln_2(x + self.mlp(x))


class GPT(nn.Module):
    def __init__(self, vocab_size, seq_len, d_model, n_heads, n_layers, d_ff, norm, tied):
        super().__init__()
        self.norm = norm
        self.wte = nn.Embedding(vocab_size, d_model)
        self.wpe = nn.Embedding(seq_len, d_model)
        self.h = nn.ModuleList([Block(d_model, n_heads, d_ff, norm) for _ in range(n_layers)])
        if norm == "pre":
            self.ln_f = nn.LayerNorm(d_model, eps=1e-5)
        self.lm_head = nn.Linear(d_model, vocab_size, bias=False)
        if tied:
            self.lm_head.weight = self.wte.weight

    def forward(self, idx):
        x = self.wte(idx) + self.wpe(torch.arange(idx.shape[1]))
        for block in self.h:
            x = block(x)
        if self.norm == "pre":
            x = self.ln_f(x)
        return self.lm_head(x)


def nested(t):
    return t.detach().tolist()


def record(name, norm, tied, seed, clip=None):
    torch.manual_seed(seed)
    model = GPT(**SIZES, norm=norm, tied=tied).double()
    with torch.no_grad():
        for pname, p in model.named_parameters():
            if pname.endswith("weight") and p.ndim == 1:           # LayerNorm gains
                p.copy_(1.0 + 0.2 * torch.randn_like(p))
            elif p.ndim == 1:                                      # biases and shifts
                p.copy_(0.2 * torch.randn_like(p))
            else:                                                  # matrices and embeddings
                p.copy_(0.3 * torch.randn_like(p))
    tokens = torch.randint(0, SIZES["vocab_size"], (BATCH, SIZES["seq_len"] + 1))
    logits = model(tokens[:, :-1])
    loss = F.cross_entropy(logits.reshape(-1, SIZES["vocab_size"]), tokens[:, 1:].reshape(-1))
    loss.backward()
    params = dict(model.named_parameters())          # a tied lm_head.weight is listed once, as wte
    entry = {"name": name, "norm": norm, "tied": tied, **SIZES, "tokens": nested(tokens),
             "params": {k: nested(p) for k, p in params.items()}, "logits": nested(logits),
             "loss": loss.item(), "grads": {k: nested(p.grad) for k, p in params.items()}}
    if clip is not None:
        total = torch.nn.utils.clip_grad_norm_(list(params.values()), max_norm=clip)
        entry["clip"] = {"max_norm": clip, "total_norm": total.item(),
                         "clipped": {k: nested(p.grad) for k, p in params.items()}}
    return entry


def clip_nonfinite(max_norm=1.0):
    """One setting's gradient with an inf: torch's norm is inf, its factor 0, inf * 0 NaN."""
    grads = [[math.inf, 1.0], [1.0, 0.0]]
    clipped = []
    for row in grads:
        p = torch.zeros(2, dtype=torch.float64, requires_grad=True)
        p.grad = torch.tensor(row, dtype=torch.float64)
        total = torch.nn.utils.clip_grad_norm_([p], max_norm=max_norm)
        clipped.append((total.item(), nested(p.grad)))
    return {"max_norm": max_norm, "grads": grads, "total_norm": [c[0] for c in clipped],
            "clipped": [c[1] for c in clipped]}


def main():
    torch.set_default_dtype(torch.float64)
    fixture = {
        "meta": {"torch": torch.__version__, "script": "tests/generate_transformer_fixtures.py",
                 "dtype": "float64", "gelu": "tanh approximation", "layer_norm_eps": 1e-5,
                 "loss": "mean cross-entropy over all B * seq_len positions"},
        "configs": [record("pre_tied", "pre", True, seed=0),
                    record("post_untied", "post", False, seed=1, clip=0.5)],
        "clip_nonfinite": clip_nonfinite(),
    }
    OUT.write_text(json.dumps(fixture, separators=(",", ":")) + "\n")
    print(f"wrote {OUT} ({OUT.stat().st_size / 1e3:.0f} kB)")


if __name__ == "__main__":
    main()
