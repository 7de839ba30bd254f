"""A small decoder-only Transformer in numpy, with its backward pass written out by hand.

The language model the Transformer chapter trains, built like :class:`lib.model.MLP`: the
architecture is an immutable object, the parameters are *one flat vector per setting* stacked on a
leading settings axis, ``params`` of shape ``(S, P)``, and one call of
:meth:`Transformer.loss_and_grad` gives the losses ``(S,)`` and gradients ``(S, P)`` of S models,
which one optimizer from :mod:`lib.optimizers` steps at once::

    model = Transformer(vocab_size=96, seq_len=32, d_model=32, n_heads=4, n_layers=2)
    params = model.init_params(settings=4, seed=[0, 1, 2, 3])       # (4, P): four seeds
    keep_freed_memory()                                             # optional: a faster step
    loss, grad = model.loss_and_grad(params, tokens)                # tokens (B, seq_len + 1)
    grad, norms = clip_grad_norm(grad, 1.0)                         # per setting, as torch
    params = AdamW(lr=1e-3, weight_decay=0.1 * model.decay_mask()).step(params, grad)

**The network** (GPT-2's shape, Radford et al. 2019, as nanoGPT writes it)::

    x = tok_emb[tokens] + pos_emb[:T]                        token + learned position embeddings
    for each layer, Pre-LN  (norm="pre"):                     x = x + Attn(LN1(x))
                                                              x = x + MLP(LN2(x))
                    Post-LN (norm="post"):                    x = LN1(x + Attn(x))
                                                              x = LN2(x + MLP(x))
                    no LayerNorm (norm="none"):               x = x + Attn(x);  x = x + MLP(x)
    Pre-LN only: x = LN_f(x)                                  the final LayerNorm
    logits = x @ tok_emb.T  (tied=True)  or  x @ W_head       (no bias on the head)
    loss = mean softmax cross-entropy over all B * T positions

- ``Attn``: causal multi-head self-attention, ``qkv = h @ W_qkv + b_qkv`` (one fused matrix, as
  nanoGPT's ``c_attn``), per head ``softmax(q k^T / sqrt(d_head) + causal mask) v``, the heads
  concatenated and projected, ``@ W_proj + b_proj``.
- ``MLP``: ``gelu(h @ W_fc + b_fc) @ W_proj + b_proj`` with ``d_ff`` hidden units (4 d_model by
  default). The GELU is the **tanh approximation** of GPT-2 and BERT,
  ``0.5 u (1 + tanh(sqrt(2/pi) (u + 0.044715 u^3)))``, which is torch's
  ``nn.GELU(approximate="tanh")``; torch's default ``nn.GELU()`` is the exact erf form (numpy has
  no erf). The two differ by at most 4.7e-4 (at ``u`` = -2.70; checked on a grid of step 1e-4
  over [-8, 8]).
- ``LN``: LayerNorm over the features with a gain and a shift, ``eps`` 1e-5 (torch's default).
- ``norm="post"`` is the original Transformer's placement (Vaswani et al. 2017), ``"pre"`` the
  one GPT-2 and most later models use; Xiong et al. (2020) analyse why Post-LN needs a warmup and
  Pre-LN less so. ``"none"`` leaves out every LayerNorm, a control for experiments about
  LayerNorm.

The flat layout (:attr:`Transformer.layout`) names the blocks ``tok_emb``, ``pos_emb``, then per
layer ``L0.ln1.gain``, ``L0.ln1.shift``, ``L0.attn.W_qkv``, ``L0.attn.b_qkv``, ``L0.attn.W_proj``,
``L0.attn.b_proj``, ``L0.ln2.gain``, ``L0.ln2.shift``, ``L0.mlp.W_fc``, ``L0.mlp.b_fc``,
``L0.mlp.W_proj``, ``L0.mlp.b_proj``, then ``ln_f.gain``, ``ln_f.shift`` (Pre-LN) and ``W_head``
(untied). Matrices are stored ``(n_in, n_out)`` and applied as ``x @ W`` (torch's ``nn.Linear``
stores the transpose).

The tests check every block against central finite differences (Pre-LN, Post-LN, no LayerNorm,
tied and untied) and the loss and full gradient against PyTorch
(``tests/fixtures/torch_transformer.json``).
"""

import functools
import math
from dataclasses import dataclass

import numpy as np

from . import _checks
from .model import _float_dtype

MAX_SIZE = 4096
"""The largest ``vocab_size``, ``seq_len``, ``d_model`` or ``n_heads`` accepted, and a quarter of the
largest ``d_ff`` (a numpy model for a book, not a foundation model)."""

MAX_LAYERS = 64
"""The deepest model accepted."""

SETTINGS_CHUNK_ELEMENTS = 3 * 2**17
"""About how many activation elements per array one batched pass over stacked settings handles
(:meth:`Transformer.settings_chunk`)."""

NORMS = ("pre", "post", "none")
"""Where the LayerNorms go: Pre-LN, Post-LN, or none at all (a control)."""

_GELU_C = math.sqrt(2.0 / math.pi)
_GELU_A = 0.044715


@dataclass(frozen=True)
class Transformer:
    """A decoder-only Transformer (immutable); parameters are arrays passed in, never stored here.

    ``vocab_size`` symbols, contexts of ``seq_len`` tokens, width ``d_model`` split over
    ``n_heads`` heads (``d_model`` must be a multiple of ``n_heads``), ``n_layers`` blocks
    (0 gives a bigram model: embeddings and head only), LayerNorm placement ``norm`` ("pre",
    "post" or "none"), a ``tied`` output (the head is ``tok_emb.T``) or an untied ``W_head``, an
    MLP of ``d_ff`` hidden units (``None``: ``4 * d_model``), and the standard deviation
    ``init_std`` of the initial weights.

    >>> model = Transformer(vocab_size=11, seq_len=5, d_model=8, n_heads=2, n_layers=1)
    >>> model.num_params        # 11*8 + 5*8 + (2*8 + 8*24 + 24 + 8*8 + 8 + 2*8 + 8*32 + 32 + 32*8 + 8) + 2*8
    1016
    >>> [name for name, shape in model.layout][:4]
    ['tok_emb', 'pos_emb', 'L0.ln1.gain', 'L0.ln1.shift']
    >>> model.d_ff, model.d_head
    (32, 4)
    """

    vocab_size: int
    seq_len: int
    d_model: int
    n_heads: int
    n_layers: int
    norm: str = "pre"
    tied: bool = True
    d_ff: int = None
    init_std: float = 0.02
    eps: float = 1e-5

    def __post_init__(self):
        def setattr_(name, value):
            object.__setattr__(self, name, value)

        setattr_("vocab_size", _checks.count("vocab_size", self.vocab_size, 1, MAX_SIZE))
        setattr_("seq_len", _checks.count("seq_len", self.seq_len, 1, MAX_SIZE))
        setattr_("d_model", _checks.count("d_model", self.d_model, 1, MAX_SIZE))
        setattr_("n_heads", _checks.count("n_heads", self.n_heads, 1, MAX_SIZE))
        if self.d_model % self.n_heads:
            raise ValueError(f"n_heads must divide d_model = {self.d_model}, got {self.n_heads}")
        setattr_("n_layers", _checks.count("n_layers", self.n_layers, 0, MAX_LAYERS))
        setattr_("norm", _checks.choice("norm", self.norm, NORMS))
        setattr_("tied", _checks.boolean("tied", self.tied))
        d_ff = 4 * self.d_model if self.d_ff is None else self.d_ff
        setattr_("d_ff", _checks.count("d_ff", d_ff, 1, 4 * MAX_SIZE))
        setattr_("init_std", _checks.scalar("init_std", self.init_std, 0.0, 10.0))
        setattr_("eps", _checks.scalar("eps", self.eps, 0.0, 1.0, low_open=True))

    # ---- the flat layout ------------------------------------------------------------------------

    @property
    def d_head(self):
        """The width of one attention head, ``d_model // n_heads``."""
        return self.d_model // self.n_heads

    @property
    def layout(self):
        """``[(name, shape), ...]``: the blocks of the flat parameter vector, in order."""
        return [(name, shape) for name, shape, _, _ in self._spans]

    @functools.cached_property
    def _spans(self):
        """``((name, shape, start, stop), ...)``, computed once (the model is immutable)."""
        spans, start = [], 0
        for name, shape in self._layout():
            stop = start + math.prod(shape)
            spans.append((name, shape, start, stop))
            start = stop
        return tuple(spans)

    def _layout(self):
        D, F = self.d_model, self.d_ff
        blocks = [("tok_emb", (self.vocab_size, D)), ("pos_emb", (self.seq_len, D))]
        norm = self.norm != "none"
        for layer in range(self.n_layers):
            p = f"L{layer}."
            if norm:
                blocks += [(p + "ln1.gain", (D,)), (p + "ln1.shift", (D,))]
            blocks += [(p + "attn.W_qkv", (D, 3 * D)), (p + "attn.b_qkv", (3 * D,)),
                       (p + "attn.W_proj", (D, D)), (p + "attn.b_proj", (D,))]
            if norm:
                blocks += [(p + "ln2.gain", (D,)), (p + "ln2.shift", (D,))]
            blocks += [(p + "mlp.W_fc", (D, F)), (p + "mlp.b_fc", (F,)),
                       (p + "mlp.W_proj", (F, D)), (p + "mlp.b_proj", (D,))]
        if self.norm == "pre":
            blocks += [("ln_f.gain", (D,)), ("ln_f.shift", (D,))]
        if not self.tied:
            blocks.append(("W_head", (D, self.vocab_size)))
        return blocks

    @property
    def num_params(self):
        """P, the length of one setting's parameter vector."""
        return self._spans[-1][3]

    def blocks(self, params):
        """Named views into ``params`` (S, P): ``{"tok_emb": (S, V, D), ...}``, in layout order.

        They are views, so writing into a block writes into ``params``.

        >>> model = Transformer(vocab_size=5, seq_len=3, d_model=4, n_heads=2, n_layers=1,
        ...                     norm="none", tied=False)
        >>> {name: block.shape for name, block in model.blocks(model.init_params(2)).items()}
        ... # doctest: +NORMALIZE_WHITESPACE
        {'tok_emb': (2, 5, 4), 'pos_emb': (2, 3, 4), 'L0.attn.W_qkv': (2, 4, 12),
         'L0.attn.b_qkv': (2, 12), 'L0.attn.W_proj': (2, 4, 4), 'L0.attn.b_proj': (2, 4),
         'L0.mlp.W_fc': (2, 4, 16), 'L0.mlp.b_fc': (2, 16), 'L0.mlp.W_proj': (2, 16, 4),
         'L0.mlp.b_proj': (2, 4), 'W_head': (2, 4, 5)}
        """
        return self._views(self._check_params(params))

    def _views(self, params):
        S = params.shape[0]
        return {name: params[:, start:stop].reshape((S,) + shape)
                for name, shape, start, stop in self._spans}

    def decay_mask(self, embeddings=True):
        """``(P,)``: 1 on the weight matrices, 0 on biases and LayerNorm gains and shifts.

        Multiply a weight decay by it, ``AdamW(weight_decay=0.1 * model.decay_mask())``: the
        optimizers broadcast, so this is the parameter-group idiom without a new API. The
        matrices are the attention and MLP projections (``W_qkv``, ``W_proj``, ``W_fc``) and the
        untied head ``W_head``.

        **Embeddings.** With ``embeddings=True`` (the default) the token and position embeddings
        are decayed too: that is nanoGPT's rule (every parameter with 2 or more dimensions decays,
        so its tied ``wte`` and its ``wpe`` do), and with a tied output the token embedding *is*
        the head matrix. ``embeddings=False`` leaves both embeddings undecayed, as many other
        recipes do (e.g. the Hugging Face and minGPT-style groupings that exclude ``Embedding``
        modules); with a tied output that also leaves the head undecayed.

        >>> model = Transformer(vocab_size=2, seq_len=1, d_model=2, n_heads=1, n_layers=0,
        ...                     tied=False)                  # tok_emb, pos_emb, ln_f, W_head
        >>> model.decay_mask().astype(int).tolist()
        [1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1]
        >>> model.decay_mask(embeddings=False).astype(int).tolist()
        [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1]
        """
        embeddings = _checks.boolean("embeddings", embeddings)
        pieces = []
        for name, shape in self.layout:
            decayed = (name.split(".")[-1].startswith("W_")
                       or (embeddings and name in ("tok_emb", "pos_emb")))
            pieces.append(np.full(int(np.prod(shape)), float(decayed)))
        return np.concatenate(pieces)

    # ---- initialisation -------------------------------------------------------------------------

    def init_params(self, settings=1, seed=0, dtype=np.float64):
        """Fresh parameters of shape ``(settings, P)``.

        GPT-2's initialisation as nanoGPT writes it, without its extra scaling of the residual
        projections: every matrix and both embeddings ``N(0, init_std^2)`` (0.02 by default),
        biases 0, LayerNorm gains 1 and shifts 0. ``seed`` is an int (every setting starts from
        the *same* weights) or a sequence of ``settings`` ints (one initialisation per setting).
        ``dtype`` is float32 or float64; the draw is made in float64 and rounded, so a float32
        model starts from the float64 model's weights.

        >>> model = Transformer(vocab_size=5, seq_len=3, d_model=4, n_heads=2, n_layers=1)
        >>> p = model.init_params(settings=2, seed=[0, 1], dtype=np.float32)
        >>> p.shape, p.dtype, bool(np.all(p[0] == model.init_params(seed=0, dtype="float32")[0]))
        ((2, 284), dtype('float32'), True)
        """
        settings = _checks.count("settings", settings, minimum=1, maximum=10**4)
        try:
            seed_ndim = np.ndim(seed)
        except (TypeError, ValueError):
            seed_ndim = -1
        if isinstance(seed, (str, bytes)) or seed_ndim not in (0, 1):
            raise ValueError(f"seed must be an int or {settings} ints (one per setting), "
                             f"got {_checks.shown(seed)}")
        seeds = [seed] * settings if seed_ndim == 0 else list(seed)
        if len(seeds) != settings:
            raise ValueError(f"seed must be an int or {settings} ints (one per setting), "
                             f"got {len(seeds)}")
        seeds = [_checks.seed("seed", s) for s in seeds]
        dtype = _float_dtype("dtype", dtype)
        return np.stack([self._init_one(s) for s in seeds]).astype(dtype)

    def _init_one(self, seed):
        rng = np.random.default_rng(seed)
        pieces = []
        for name, shape in self.layout:
            last = name.split(".")[-1]
            if last.startswith("W_") or name in ("tok_emb", "pos_emb"):
                piece = rng.normal(0.0, self.init_std, shape)
            elif last == "gain":
                piece = np.ones(shape)
            else:
                piece = np.zeros(shape)
            pieces.append(piece.ravel())
        return np.concatenate(pieces)

    # ---- forward and backward -------------------------------------------------------------------

    def logits(self, params, tokens):
        """The outputs before the softmax, ``(S, B, seq_len, vocab_size)``, for input ``tokens``
        of shape ``(B, seq_len)``."""
        params = self._check_params(params)
        tokens = self._tokens("tokens", tokens, self.seq_len)
        logits_t = np.concatenate([self._forward(self._views(chunk), tokens)[0]
                                   for chunk in self._chunks(params, tokens.shape[0])])
        return np.swapaxes(logits_t, 1, 2).reshape(params.shape[0], tokens.shape[0], self.seq_len,
                                                   self.vocab_size)

    def loss(self, params, tokens, targets=None):
        """Mean next-token cross-entropy of each setting, ``(S,)`` (arguments as
        :meth:`loss_and_grad`)."""
        return self._scores(params, tokens, targets, accuracy=False)

    def evaluate(self, params, tokens, targets=None):
        """``(loss, accuracy)``, each ``(S,)``, from one forward pass: the mean cross-entropy and
        the fraction of the B * T positions whose most likely next token is the target.

        The signature :func:`lib.training.train` calls on its validation set.
        """
        return self._scores(params, tokens, targets, accuracy=True)

    def _scores(self, params, tokens, targets, accuracy):
        params = self._check_params(params)
        inputs, targets = self._batch(tokens, targets)
        targets = targets.ravel()
        losses, hits = [], []
        for chunk in self._chunks(params, inputs.shape[0]):
            logits_t, _ = self._forward(self._views(chunk), inputs)
            losses.append(_cross_entropy(logits_t, targets)[0])
            if accuracy:
                hits.append(np.mean(np.argmax(logits_t, axis=1) == targets, axis=-1))
        loss = np.concatenate(losses)
        return (loss, np.concatenate(hits)) if accuracy else loss

    def attention(self, params, tokens):
        """The attention weights, ``(n_layers, S, B, n_heads, seq_len, seq_len)``, for input
        ``tokens`` of shape ``(B, seq_len)``: entry ``[l, s, b, h, i, j]`` is how much query
        position ``i`` attends to key position ``j`` (0 for ``j > i``; each row sums to 1).

        For diagnosing a stuck run: a row close to ``1 / (i + 1)`` everywhere is uniform attention.

        >>> model = Transformer(vocab_size=5, seq_len=3, d_model=4, n_heads=2, n_layers=1)
        >>> weights = model.attention(np.zeros((1, model.num_params)), [[0, 1, 2]])
        >>> weights.shape, weights[0, 0, 0, 0].round(3).tolist()      # all-zero weights: uniform
        ((1, 1, 1, 2, 3, 3), [[1.0, 0.0, 0.0], [0.5, 0.5, 0.0], [0.333, 0.333, 0.333]])
        """
        params = self._check_params(params)
        tokens = self._tokens("tokens", tokens, self.seq_len)
        maps = []
        for chunk in self._chunks(params, tokens.shape[0]):
            _, cache = self._forward(self._views(chunk), tokens, keep=True)
            maps.append(np.stack([np.swapaxes(cache[layer]["attn"][4], -1, -2)
                                  for layer in range(self.n_layers)]) if self.n_layers else
                        np.zeros((0, chunk.shape[0], tokens.shape[0], self.n_heads,
                                  self.seq_len, self.seq_len), dtype=params.dtype))
        return np.concatenate(maps, axis=1)

    def generate(self, params, prompt, length, temperature=1.0, seed=0):
        """Continue ``prompt`` by ``length`` tokens for each setting: ``(S, len(prompt) + length)``.

        Each new token is drawn from the softmax of the last position's logits divided by
        ``temperature``, given the last ``seq_len`` tokens so far (``temperature=0``: the most
        likely token, greedy). ``prompt`` is a non-empty 1-D sequence of tokens; ``seed`` seeds
        one ``np.random.default_rng`` for all the draws, so a call is reproducible. One setting and
        one token at a time: a tool for looking at what a model writes, not for speed.

        >>> model = Transformer(vocab_size=3, seq_len=2, d_model=3, n_heads=1, n_layers=0,
        ...                     norm="none", tied=False)
        >>> params = np.zeros((1, model.num_params))
        >>> model.blocks(params)["tok_emb"][0] = np.eye(3)
        >>> model.blocks(params)["W_head"][0] = 5 * np.roll(np.eye(3), 1, axis=1)  # favours token + 1
        >>> model.generate(params, [0], 5, temperature=0).tolist()
        [[0, 1, 2, 0, 1, 2]]
        """
        params = self._check_params(params)
        given = prompt
        what = (f"a non-empty 1-D sequence of integer tokens in [0, {self.vocab_size - 1}]")
        try:
            prompt = None if _checks._refused(prompt) else np.asarray(prompt)
        except (TypeError, ValueError):
            prompt = None
        if (prompt is None or prompt.ndim != 1 or prompt.size == 0
                or prompt.dtype.kind not in "iu"):
            raise ValueError(f"prompt must be {what}, got {_checks.shown(given)}")
        if prompt.min() < 0 or prompt.max() >= self.vocab_size:
            raise ValueError(f"prompt must be {what}, got values {int(prompt.min())}.."
                             f"{int(prompt.max())}")
        length = _checks.count("length", length, minimum=0, maximum=10**5)
        temperature = _checks.scalar("temperature", temperature, 0.0)
        rng = np.random.default_rng(_checks.seed("seed", seed))
        out = np.empty((params.shape[0], prompt.size + length), dtype=np.int64)
        out[:, :prompt.size] = prompt
        for s in range(params.shape[0]):
            W = self._views(params[s:s + 1])
            for n in range(prompt.size, prompt.size + length):
                context = out[s:s + 1, max(0, n - self.seq_len):n]
                logits = self._forward(W, context)[0][0, :, -1].astype(np.float64)  # (V,)
                if temperature == 0.0:
                    out[s, n] = int(np.argmax(logits))
                    continue
                with np.errstate(over="ignore", invalid="ignore"):
                    z = logits / temperature
                    weights = np.exp(z - z.max())
                if not np.all(np.isfinite(weights)):        # a vanishing temperature: greedy
                    out[s, n] = int(np.argmax(logits))
                    continue
                cumulative = np.cumsum(weights)
                out[s, n] = min(int(np.searchsorted(cumulative, rng.random() * cumulative[-1],
                                                    side="right")), self.vocab_size - 1)
        return out

    def settings_chunk(self, batch):
        """The number of settings computed together in one pass for a batch of ``batch`` sequences.

        Stacking settings on the leading axis pays for itself while the arrays are small (numpy's
        overhead per call is shared) and costs once they outgrow the cache. Measured here
        (float32, 8 settings, CPU time, two versions of this code): stacked was 4.9-5.8x as fast
        as one by one at d8 T5 B3, 1.2-1.3x at d32 T16 B8, but 0.86-0.90x at d32 T32 B16 and
        0.78-0.81x at d64 T32 B32; at the Transformer chapter's d32 T16 B16 (2-6 settings, 2
        layers, Pre-LN and Post-LN, interleaved runs on a loaded machine) 4 stacked settings were
        1.05-1.08x as fast as one by one. So the settings are taken in chunks of about
        ``SETTINGS_CHUNK_ELEMENTS`` activation elements (per setting:
        ``batch * seq_len * (d_ff + 3 d_model + n_heads seq_len + vocab_size)``); the results do
        not depend on the chunking.

        >>> Transformer(vocab_size=96, seq_len=32, d_model=32, n_heads=4, n_layers=2).settings_chunk(16)
        1
        >>> Transformer(vocab_size=96, seq_len=16, d_model=32, n_heads=4, n_layers=2).settings_chunk(16)
        4
        >>> Transformer(vocab_size=11, seq_len=5, d_model=8, n_heads=2, n_layers=2).settings_chunk(3)
        340
        """
        batch = _checks.count("batch", batch, minimum=1)
        per_setting = batch * self.seq_len * (self.d_ff + 3 * self.d_model
                                              + self.n_heads * self.seq_len + self.vocab_size)
        return max(1, SETTINGS_CHUNK_ELEMENTS // per_setting)

    def _chunks(self, params, batch):
        chunk = self.settings_chunk(batch)
        return [params[start:start + chunk] for start in range(0, params.shape[0], chunk)]

    def loss_and_grad(self, params, tokens, targets=None):
        """Losses ``(S,)`` and their gradients with respect to ``params``, ``(S, P)``, by backprop.

        Two forms of the batch:

        - ``targets=None``: ``tokens`` is ``(B, seq_len + 1)``; the inputs are ``tokens[:, :-1]``
          and the targets, the next tokens, ``tokens[:, 1:]``;
        - ``tokens`` and ``targets`` both ``(B, seq_len)``: the inputs and their targets, so a
          :class:`lib.data.Split` of (inputs, targets) trains through the same loop as the MLP.

        Tokens are integers in ``[0, vocab_size)`` (floats holding whole numbers are accepted
        too, for a loop that casts its inputs to the weights' dtype). The loss is the mean over
        all B * T positions; everything is computed in the dtype of ``params``. Settings are
        computed in chunks (:meth:`settings_chunk`); the results do not depend on it.

        Backpropagation through each piece (``d`` = dLoss/d, ``N = B * T`` rows):

        - cross-entropy: ``dlogits = (softmax - onehot) / N``; head ``logits = x @ W``:
          ``dW = x.T @ dlogits``, ``dx = dlogits @ W.T`` (tied: ``W = tok_emb.T``)
        - LayerNorm ``y = gain * xhat + shift``: ``dgain = sum dy*xhat``, ``dshift = sum dy``,
          ``dx = (dxhat - mean dxhat - xhat * mean(dxhat*xhat)) / sqrt(var + eps)``,
          ``dxhat = dy * gain``
        - GELU (tanh form) ``g = 0.5 u (1 + t)``, ``t = tanh(c (u + a u^3))``:
          ``dg/du = 0.5 (1 + t) + 0.5 u (1 - t^2) c (1 + 3 a u^2)``
        - attention ``o = P v``, ``P = softmax(s)``, ``s = q k^T / sqrt(d_head)`` (masked):
          ``dv = P^T do``, ``dP = do v^T``, ``ds = P * (dP - sum_row(dP * P))``,
          ``dq = ds k / sqrt(d_head)``, ``dk = ds^T q / sqrt(d_head)`` (the code keeps ``s``,
          ``P`` and the logits transposed, so that each softmax reduces over axis -2, see
          ``_forward``)
        - residual ``x + f(x)``: the gradient flows through both; embeddings: ``dtok_emb`` sums the
          rows of ``dx`` by token (a one-hot matmul), ``dpos_emb`` sums them over the batch.
        """
        params = self._check_params(params)
        inputs, targets = self._batch(tokens, targets)
        chunks = self._chunks(params, inputs.shape[0])
        if len(chunks) == 1:
            return self._loss_and_grad(params, inputs, targets)
        loss = np.empty(params.shape[0], dtype=params.dtype)
        grad = np.empty_like(params)
        start = 0
        for chunk in chunks:
            stop = start + chunk.shape[0]
            loss[start:stop], grad[start:stop] = self._loss_and_grad(chunk, inputs, targets)
            start = stop
        return loss, grad

    def _loss_and_grad(self, params, inputs, targets):
        W = self._views(params)
        logits_t, cache = self._forward(W, inputs, keep=True)                       # (S, V, N)
        S, N = params.shape[0], inputs.size
        loss, probs_t = _cross_entropy(logits_t, targets.ravel())

        grad = np.zeros_like(params)
        dW = self._views(grad)
        dlogits_t = probs_t                                                        # (S, V, N)
        dlogits_t[:, targets.ravel(), np.arange(N)] -= 1.0
        dlogits_t /= N

        x_head = cache["x_head"]
        head = W["tok_emb"] if self.tied else np.swapaxes(W["W_head"], 1, 2)     # (S, V, D)
        if self.tied:
            dW["tok_emb"][...] = dlogits_t @ x_head                                # (S, V, D)
        else:
            dW["W_head"][...] = np.swapaxes(dlogits_t @ x_head, 1, 2)              # (S, D, V)
        dx = np.swapaxes(dlogits_t, 1, 2) @ head                                   # (S, N, D)
        if self.norm == "pre":
            dx = _ln_backward(dx, cache["ln_f"], W["ln_f.gain"], dW["ln_f.gain"], dW["ln_f.shift"])

        for layer in range(self.n_layers - 1, -1, -1):
            p, c = f"L{layer}.", cache[layer]
            if self.norm == "pre":
                dh = self._mlp_backward(dx, c["mlp"], W, dW, p)
                dx = dx + _ln_backward(dh, c["ln2"], W[p + "ln2.gain"], dW[p + "ln2.gain"],
                                       dW[p + "ln2.shift"])
                dh = self._attn_backward(dx, c["attn"], W, dW, p)
                dx = dx + _ln_backward(dh, c["ln1"], W[p + "ln1.gain"], dW[p + "ln1.gain"],
                                       dW[p + "ln1.shift"])
            elif self.norm == "post":
                dr = _ln_backward(dx, c["ln2"], W[p + "ln2.gain"], dW[p + "ln2.gain"],
                                  dW[p + "ln2.shift"])
                dx = dr + self._mlp_backward(dr, c["mlp"], W, dW, p)
                dr = _ln_backward(dx, c["ln1"], W[p + "ln1.gain"], dW[p + "ln1.gain"],
                                  dW[p + "ln1.shift"])
                dx = dr + self._attn_backward(dr, c["attn"], W, dW, p)
            else:
                dx = dx + self._mlp_backward(dx, c["mlp"], W, dW, p)
                dx = dx + self._attn_backward(dx, c["attn"], W, dW, p)

        B, T = inputs.shape
        dW["pos_emb"][...] = _sum_rows(dx.reshape(S, B, T * self.d_model)).reshape(S, T, -1)
        onehot = np.zeros((N, self.vocab_size), dtype=params.dtype)
        onehot[np.arange(N), inputs.ravel()] = 1.0
        dW["tok_emb"][...] += onehot.T @ dx                                        # (V, N) @ (S, N, D)
        return loss, grad

    # ---- the pieces -----------------------------------------------------------------------------

    def _forward(self, W, inputs, keep=False):
        """Logits, transposed: ``(S, V, B*T)``, and (``keep=True``) what the backward pass needs.

        Softmaxes reduce over the second-to-last axis (the vocabulary here, the keys in the
        attention): numpy reduces a short last axis row by row, about 10x slower (measured: the
        max over the last axis of (2048, 32) scores took 411 us, over axis -2 of their (64, 32, 32)
        transpose 41 us)."""
        S = W["tok_emb"].shape[0]
        B, T = inputs.shape
        D = self.d_model
        x = (W["tok_emb"][:, inputs] + W["pos_emb"][:, None, :T]).reshape(S, B * T, D)
        cache = {}
        mask = np.tril(np.full((T, T), -np.inf, dtype=x.dtype), k=-1)   # [key, query]: key > query
        for layer in range(self.n_layers):
            p, c = f"L{layer}.", {}
            if self.norm == "pre":
                h, c["ln1"] = _ln_forward(x, W[p + "ln1.gain"], W[p + "ln1.shift"], self.eps)
                x = x + self._attn_forward(h, W, p, B, T, mask, c)
                h, c["ln2"] = _ln_forward(x, W[p + "ln2.gain"], W[p + "ln2.shift"], self.eps)
                x = x + self._mlp_forward(h, W, p, c)
            elif self.norm == "post":
                r = x + self._attn_forward(x, W, p, B, T, mask, c)
                x, c["ln1"] = _ln_forward(r, W[p + "ln1.gain"], W[p + "ln1.shift"], self.eps)
                r = x + self._mlp_forward(x, W, p, c)
                x, c["ln2"] = _ln_forward(r, W[p + "ln2.gain"], W[p + "ln2.shift"], self.eps)
            else:
                x = x + self._attn_forward(x, W, p, B, T, mask, c)
                x = x + self._mlp_forward(x, W, p, c)
            if keep:
                cache[layer] = c
        if self.norm == "pre":
            x, cache["ln_f"] = _ln_forward(x, W["ln_f.gain"], W["ln_f.shift"], self.eps)
        cache["x_head"] = x
        head = W["tok_emb"] if self.tied else np.swapaxes(W["W_head"], 1, 2)       # (S, V, D)
        return head @ np.swapaxes(x, 1, 2), cache

    def _attn_forward(self, h, W, p, B, T, mask, c):
        S, N, D = h.shape
        H, dh = self.n_heads, self.d_head
        qkv = h @ W[p + "attn.W_qkv"]                                               # (S, N, 3D)
        qkv += W[p + "attn.b_qkv"][:, None, :]
        qkv = qkv.reshape(S, B, T, 3, H, dh).transpose(3, 0, 1, 4, 2, 5)            # (3, S, B, H, T, dh)
        q, k, v = qkv[0] * (1.0 / math.sqrt(dh)), qkv[1], qkv[2]
        scores = k @ np.swapaxes(q, -1, -2)                    # (S, B, H, T, T): [key, query]
        scores += mask
        scores -= scores.max(axis=-2, keepdims=True)
        probs = np.exp(scores, out=scores)                     # probs[..., j, i]: query i on key j
        probs /= _sum_keys(probs)
        o = (np.swapaxes(probs, -1, -2) @ v).transpose(0, 1, 3, 2, 4).reshape(S, N, D)
        c["attn"] = (h, q, k, v, probs, o)
        out = o @ W[p + "attn.W_proj"]
        out += W[p + "attn.b_proj"][:, None, :]
        return out

    def _attn_backward(self, da, cache, W, dW, p):
        h, q, k, v, probs, o = cache
        S, N, D = h.shape
        _, B, H, T, dh = q.shape
        dW[p + "attn.W_proj"][...] = np.swapaxes(o, 1, 2) @ da
        dW[p + "attn.b_proj"][...] = _sum_rows(da)
        do = (da @ np.swapaxes(W[p + "attn.W_proj"], 1, 2)).reshape(S, B, T, H, dh)
        do = do.transpose(0, 1, 3, 2, 4)                                             # (S, B, H, T, dh)
        dqkv = np.empty((3, S, B, H, T, dh), dtype=h.dtype)
        np.matmul(probs, do, out=dqkv[2])                                            # dv
        dscores = v @ np.swapaxes(do, -1, -2)                                        # dprobs [key, query]
        dscores -= _sum_keys(dscores * probs)
        dscores *= probs
        np.matmul(np.swapaxes(dscores, -1, -2), k, out=dqkv[0])
        dqkv[0] *= 1.0 / math.sqrt(dh)                                               # dq
        np.matmul(dscores, q, out=dqkv[1])                                           # dk (q is scaled)
        dqkv = dqkv.transpose(1, 2, 4, 0, 3, 5).reshape(S, N, 3 * D)
        dW[p + "attn.W_qkv"][...] = np.swapaxes(h, 1, 2) @ dqkv
        dW[p + "attn.b_qkv"][...] = _sum_rows(dqkv)
        return dqkv @ np.swapaxes(W[p + "attn.W_qkv"], 1, 2)

    def _mlp_forward(self, h, W, p, c):
        u = h @ W[p + "mlp.W_fc"]                                                   # (S, N, F)
        u += W[p + "mlp.b_fc"][:, None, :]
        u2 = u * u                                                                  # never u**3
        t = u2 * (_GELU_C * _GELU_A)
        t += _GELU_C
        t *= u
        np.tanh(t, out=t)                                      # t = tanh(c (u + a u^3))
        half_u = u * 0.5
        g = half_u * t
        g += half_u                                            # g = 0.5 u (1 + t)
        c["mlp"] = (h, u2, t, half_u, g)
        out = g @ W[p + "mlp.W_proj"]
        out += W[p + "mlp.b_proj"][:, None, :]
        return out

    def _mlp_backward(self, dm, cache, W, dW, p):
        h, u2, t, half_u, g = cache
        dW[p + "mlp.W_proj"][...] = np.swapaxes(g, 1, 2) @ dm
        dW[p + "mlp.b_proj"][...] = _sum_rows(dm)
        du = dm @ np.swapaxes(W[p + "mlp.W_proj"], 1, 2)                              # dg
        # dg/du = 0.5 (1 + t) + 0.5 u (1 - t^2) c (1 + 3 a u^2)
        slope = t * t
        np.subtract(1.0, slope, out=slope)
        slope *= half_u
        inner = u2 * (3.0 * _GELU_A * _GELU_C)
        inner += _GELU_C
        slope *= inner
        slope += 0.5
        np.multiply(t, 0.5, out=inner)
        slope += inner
        du *= slope
        dW[p + "mlp.W_fc"][...] = np.swapaxes(h, 1, 2) @ du
        dW[p + "mlp.b_fc"][...] = _sum_rows(du)
        return du @ np.swapaxes(W[p + "mlp.W_fc"], 1, 2)

    # ---- input checks ---------------------------------------------------------------------------

    def _check_params(self, params, name="params"):
        params = _checks.real_array(name, params, "an array of real numbers (float32 or "
                                    "float64)", keep_float32=True)
        if params.ndim != 2 or params.shape[1] != self.num_params:
            raise ValueError(f"{name} must have shape (settings, {self.num_params}) for this "
                             f"Transformer, got {params.shape}")
        return params

    def _tokens(self, name, tokens, length, other=""):
        """``tokens`` as an int64 array of shape ``(B, length)`` with values in [0, vocab_size)."""
        what = (f"integer tokens in [0, {self.vocab_size - 1}] of shape (batch, {length}){other}")
        given = tokens
        if _checks._refused(tokens):
            raise ValueError(f"{name} must be {what}, got {_checks.shown(given)}")
        try:
            tokens = np.asarray(tokens)
        except (TypeError, ValueError):
            raise ValueError(f"{name} must be {what}, got {_checks.shown(given)}") from None
        if tokens.ndim != 2 or tokens.shape[1] != length or tokens.shape[0] < 1:
            raise ValueError(f"{name} must be {what}, got shape {tokens.shape}")
        if tokens.dtype.kind == "f":
            with np.errstate(invalid="ignore"):
                whole = np.all(np.isfinite(tokens)) and np.all(tokens == np.round(tokens))
            if not whole:
                raise ValueError(f"{name} must be {what}, got non-integer values")
        elif tokens.dtype.kind not in "iu":
            raise ValueError(f"{name} must be {what}, got dtype {tokens.dtype}")
        if tokens.min() < 0 or tokens.max() >= self.vocab_size:
            raise ValueError(f"{name} must be {what}, got values "
                             f"{_checks.show(tokens.min())}..{_checks.show(tokens.max())}")
        return tokens.astype(np.int64)

    def _batch(self, tokens, targets):
        """``(inputs, targets)``, each ``(B, seq_len)``, from either form of the batch."""
        T = self.seq_len
        if targets is None:
            tokens = self._tokens("tokens", tokens, T + 1,
                                  f" (inputs and next-token targets) when targets is None, or "
                                  f"(batch, {T}) with targets of the same shape")
            return tokens[:, :-1], tokens[:, 1:]
        inputs = self._tokens("tokens", tokens, T, f" when targets are given (or (batch, {T + 1}) "
                              f"with targets=None)")
        targets = self._tokens("targets", targets, T, f", the shape of tokens {inputs.shape}")
        if targets.shape != inputs.shape:
            raise ValueError(f"targets must have the shape of tokens {inputs.shape}, "
                             f"got {targets.shape}")
        return inputs, targets


def clip_grad_norm(grad, max_norm):
    """Clip each setting's gradient to global L2 norm ``max_norm``: ``(clipped, norms)``.

    Exactly ``torch.nn.utils.clip_grad_norm_`` for each setting: the norm is taken over *all* of a
    setting's parameters (the last axis), ``factor = max_norm / (norm + 1e-6)`` clamped to at most
    1, and the gradient multiplied by it (so a gradient at or under the limit is unchanged but for
    the 1e-6). ``grad`` is ``(S, P)`` (or any ``(..., P)``); ``norms`` are the norms *before*
    clipping, shape ``(S,)``, in float64; ``clipped`` keeps the dtype of ``grad``. ``max_norm``
    is a number > 0, or an array of them that broadcasts against ``norms`` (one per setting).
    A gradient with inf or NaN gives NaN, as in torch (whose ``error_if_nonfinite`` is off by
    default).

    >>> clipped, norms = clip_grad_norm(np.array([[3.0, 4.0], [0.3, 0.4]]), 1.0)
    >>> norms.tolist()
    [5.0, 0.5]
    >>> np.round(clipped, 6).tolist()
    [[0.6, 0.8], [0.3, 0.4]]
    """
    grad = _checks.real_array("grad", grad,
                              "an array of real numbers (settings, P)",
                              keep_float32=True)
    if grad.ndim < 1 or grad.shape[-1] < 1:
        raise ValueError(f"grad must be an array of shape (settings, P) "
                         f"with P >= 1, got shape {grad.shape}")
    max_norm = _checks.positive("max_norm", max_norm)
    try:
        norms_shape = grad.shape[:-1]
        broadcast = np.broadcast_shapes(np.shape(max_norm), norms_shape)
        fits = broadcast == norms_shape
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(f"max_norm must be a number or broadcast against "
                         f"the {grad.shape[:-1]} norms, got shape "
                         f"{np.shape(max_norm)}")
    with np.errstate(over="ignore", invalid="ignore"):
        wide = grad.astype(np.float64)
        norms = np.sqrt(np.einsum("...p,...p->...", wide, wide))
        factor = np.minimum(max_norm / (norms + 1e-6), 1.0)
        clipped = grad * np.asarray(factor, dtype=grad.dtype)[..., None]
    return clipped, norms


def keep_freed_memory():
    """Ask glibc's ``malloc`` to keep freed memory for reuse: a faster step, in this process.

    A training step allocates and frees the same few hundred-kilobyte temporaries every time;
    glibc hands such blocks back to the operating system when they are freed (``mmap`` above its
    threshold, trimming the heap above another), and the next step takes page faults to get them
    back. Raising both thresholds (``mallopt(M_MMAP_THRESHOLD, 32 MiB)``,
    ``mallopt(M_TRIM_THRESHOLD, 512 MiB)``) keeps them in the process. Measured here (float32,
    L2 d32 T32 B16, one setting): system time 2.2 -> 0.0 ms a step, page faults 1842 -> 0 a step;
    at d64 B32 9.3 -> 0.0 ms. The process keeps up to its peak memory instead of returning it.

    It changes the whole process (every later allocation), so nothing calls it for you: a chapter
    or script that trains a Transformer calls it once. Returns True if the setting was applied,
    False where the C library has no ``mallopt`` (not glibc), where it does nothing.
    """
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3                   # from glibc's <malloc.h>
    return bool(mallopt(m_mmap_threshold, 32 * 2**20)) and bool(mallopt(m_trim_threshold, 512 * 2**20))


# ---- shared pieces --------------------------------------------------------------------------------

def _ln_forward(x, gain, shift, eps):
    """LayerNorm over the last axis; ``gain``/``shift`` are ``(S, D)``."""
    inv_d = 1.0 / x.shape[-1]
    centred = x - _sum_features(x) * inv_d
    inv_std = _sum_features(centred * centred)
    inv_std *= inv_d
    inv_std += eps
    np.sqrt(inv_std, out=inv_std)
    np.divide(1.0, inv_std, out=inv_std)
    xhat = centred
    xhat *= inv_std
    y = xhat * gain[:, None, :]
    y += shift[:, None, :]
    return y, (xhat, inv_std)


def _ln_backward(dy, cache, gain, dgain, dshift):
    """The input gradient of LayerNorm; writes the gain and shift gradients into ``dgain``/``dshift``."""
    xhat, inv_std = cache
    inv_d = 1.0 / xhat.shape[-1]
    dgain[...] = _sum_rows(dy * xhat)
    dshift[...] = _sum_rows(dy)
    dxhat = dy * gain[:, None, :]
    mean_dxhat = _sum_features(dxhat) * inv_d
    mean_both = _sum_features(dxhat * xhat) * inv_d
    dxhat -= mean_dxhat
    dxhat -= xhat * mean_both
    dxhat *= inv_std
    return dxhat


def _cross_entropy(logits_t, targets):
    """Mean cross-entropy ``(S,)`` of the softmax over the vocabulary of ``logits_t`` (S, V, N)
    against ``targets`` (N,), and the softmax (S, V, N); shifted by the column maximum so large
    logits neither overflow nor lose the loss."""
    shifted = logits_t - logits_t.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    norm = _sum_keys(exp)                                                     # (S, 1, N), >= 1
    loss = np.mean(np.log(norm[:, 0, :]) - shifted[:, targets, np.arange(len(targets))], axis=-1)
    exp /= norm
    return loss, exp


def _sum_rows(x):
    """``x.sum(axis=1)`` of ``(S, N, F)`` as a BLAS product with ones: (S, F), about 4x faster."""
    return _ones(x.shape[1], x.dtype) @ x


def _sum_features(x):
    """``x.sum(axis=-1, keepdims=True)`` as a BLAS product with ones, about 5x faster."""
    return (x @ _ones(x.shape[-1], x.dtype))[..., None]


def _sum_keys(x):
    """``x.sum(axis=-2, keepdims=True)`` as a BLAS product with ones."""
    return (_ones(x.shape[-2], x.dtype) @ x)[..., None, :]


@functools.lru_cache(maxsize=64)
def _ones(n, dtype):
    """A read-only vector of ``n`` ones, made once per length and dtype."""
    ones = np.ones(n, dtype=dtype)
    ones.flags.writeable = False
    return ones
