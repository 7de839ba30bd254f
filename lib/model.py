"""A small multilayer perceptron in numpy, with backpropagation written out by hand.

The network the learning-rate chapters train on the digits (:mod:`lib.data`)::

    x (64) -> [Linear -> LayerNorm -> ReLU] x depth -> Linear -> softmax cross-entropy (10 classes)

**Many settings at once.** The parameters live in *one flat vector per setting*, stacked along a
leading "settings" axis: ``params`` has shape ``(S, P)``. Every array in the forward and backward
pass carries that axis too (activations are ``(S, B, width)``), so one call of
:meth:`MLP.loss_and_grad` gives the losses ``(S,)`` and gradients ``(S, P)`` of S networks, and one
optimizer from :mod:`lib.optimizers` with a learning rate of shape ``(S, 1)`` steps all of them::

    model = MLP()
    params = model.init_params(settings=3, seed=0)                 # (3, P), three equal copies
    opt = Adam(lr=np.array([[1e-3], [1e-2], [1e-1]]))
    loss, grad = model.loss_and_grad(params, X, y)                 # (3,), (3, P)
    params = opt.step(params, grad)                                # three lrs, one step

:meth:`MLP.blocks` gives named views into the flat vector (``W1``, ``gain1``, ``shift1``, ...,
``W_out``, ``b_out``), each with the settings axis in front.

**Why this network.** The default ``64 -> 64 -> 128 -> 10`` with LayerNorm (Ba, Kiros & Hinton
2016), 13,962 parameters, reaches 97-98% validation accuracy on the digits in 300 Adam steps, and
is just big enough for the phenomena the book shows to happen for real (Adam, batches of 32,
seeds 0-2, see ``tests/test_training.py``): without warmup, a peak learning rate of 0.03 makes the
loss jump 1.4-1.7 times its start at the first step and then fall; 0.1 makes it jump 2.7-3.8
times and leaves a lasting dent; 0.3 makes it jump 7-11 times and knocks the network to chance.
Warmup removes the jump; 1e-4 crawls. (Adam's first steps move every weight by about ``lr``
whatever its gradient, and the 128 features feeding the output layer add those moves up.) The
widths were chosen by experiment: 64 wide everywhere shows the same pattern less sharply (the
jump at 0.03 drowns in the minibatch noise), 128 everywhere more sharply but about half as fast.
"""

from dataclasses import dataclass

import numpy as np

from . import _checks

MAX_WIDTH = 4096
"""The widest layer :class:`MLP` accepts (a numpy network for a book, not a foundation model)."""


@dataclass(frozen=True)
class MLP:
    """The architecture (immutable); parameters are arrays passed in, never stored here.

    ``sizes`` are the layer widths from input to output; the default ``(64, 64, 128, 10)`` has two
    hidden layers, of 64 and 128. Each hidden layer is
    ``Linear (no bias) -> LayerNorm (gain, shift) -> ReLU``; the bias is left out because
    LayerNorm subtracts the mean and would cancel it. With
    ``layer_norm=False`` the hidden layers are ``Linear (with bias) -> ReLU``. The output layer is
    ``Linear (with bias)`` and the loss the mean softmax cross-entropy.

    >>> model = MLP(sizes=(64, 64, 128, 10))
    >>> model.num_params                    # 64*64 + 2*64 + 64*128 + 2*128 + 128*10 + 10
    13962
    >>> [name for name, shape in model.layout]
    ['W1', 'gain1', 'shift1', 'W2', 'gain2', 'shift2', 'W_out', 'b_out']
    """

    sizes: tuple = (64, 64, 128, 10)
    layer_norm: bool = True
    eps: float = 1e-5

    def __post_init__(self):
        _checks.sequence("sizes", self.sizes, "a sequence of layer widths such as (64, 64, 128, 10)")
        sizes = tuple(_checks.count("sizes", n, minimum=1, maximum=MAX_WIDTH) for n in self.sizes)
        if len(sizes) < 2:
            raise ValueError(f"sizes must list at least an input and an output width, got {sizes}")
        object.__setattr__(self, "sizes", sizes)
        object.__setattr__(self, "layer_norm", _checks.boolean("layer_norm", self.layer_norm))
        object.__setattr__(self, "eps", _checks.scalar("eps", self.eps, 0.0))

    # ---- the flat layout ------------------------------------------------------------------------

    @property
    def depth(self):
        """The number of hidden layers."""
        return len(self.sizes) - 2

    @property
    def layout(self):
        """``[(name, shape), ...]``: the blocks of the flat parameter vector, in order."""
        blocks = []
        for i, (n_in, n_out) in enumerate(zip(self.sizes[:-2], self.sizes[1:-1]), start=1):
            blocks.append((f"W{i}", (n_in, n_out)))
            if self.layer_norm:
                blocks += [(f"gain{i}", (n_out,)), (f"shift{i}", (n_out,))]
            else:
                blocks.append((f"b{i}", (n_out,)))
        blocks += [("W_out", self.sizes[-2:]), ("b_out", (self.sizes[-1],))]
        return blocks

    @property
    def num_params(self):
        """P, the length of one setting's parameter vector."""
        return sum(int(np.prod(shape)) for _, shape in self.layout)

    def blocks(self, params):
        """Named views into ``params`` (S, P): ``{"W1": (S, 64, h), "gain1": (S, h), ...}``.

        They are views, so writing into a block writes into ``params``.

        >>> model = MLP(sizes=(3, 4, 2))
        >>> params = model.init_params(settings=5, seed=0)
        >>> {name: block.shape for name, block in model.blocks(params).items()}
        {'W1': (5, 3, 4), 'gain1': (5, 4), 'shift1': (5, 4), 'W_out': (5, 4, 2), 'b_out': (5, 2)}
        """
        params = self._check_params(params)
        views, start = {}, 0
        for name, shape in self.layout:
            size = int(np.prod(shape))
            views[name] = params[:, start:start + size].reshape((params.shape[0],) + shape)
            start += size
        return views

    def decay_mask(self):
        """``(P,)``: 1 on the weight matrices, 0 on gains, shifts and biases.

        Multiply a weight decay by it (``weight_decay=lam * model.decay_mask()``) to decay only the
        matrices, as nanoGPT and most Transformer code do: a decayed LayerNorm gain would be pulled
        towards 0, which switches the layer off instead of regularising it.

        >>> MLP(sizes=(2, 3, 2)).decay_mask().astype(int).tolist()  # W1 gain1 shift1 W_out b_out
        [1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 0, 0]
        """
        return np.concatenate([np.full(int(np.prod(shape)), float(name.startswith("W")))
                               for name, shape in self.layout])

    # ---- initialisation -------------------------------------------------------------------------

    def init_params(self, settings=1, seed=0, dtype=np.float64):
        """Fresh parameters of shape ``(settings, P)``.

        Weights of the hidden layers are He-normal, ``N(0, 2/n_in)`` (He et al. 2015, for ReLU); the
        output layer is ``N(0, 1/n_in)`` (LeCun), which starts the logits at unit scale; LayerNorm
        gains are 1, shifts and biases 0.

        ``seed`` is an int (every setting starts from the *same* weights, so a sweep compares
        hyperparameters only) or a sequence of ``settings`` ints (one initialisation per setting,
        e.g. to repeat a run across seeds).

        >>> model = MLP(sizes=(3, 4, 2))
        >>> same = model.init_params(settings=2, seed=0)
        >>> bool(np.all(same[0] == same[1]))
        True
        >>> own = model.init_params(settings=2, seed=[0, 1])
        >>> bool(np.all(own[0] == same[0])), bool(np.any(own[1] != same[0]))
        (True, True)
        """
        settings = _checks.count("settings", settings, minimum=1, maximum=10**4)
        try:
            seed_ndim = np.ndim(seed)
        except (TypeError, ValueError):
            seed_ndim = -1
        if isinstance(seed, (str, bytes)) or seed_ndim not in (0, 1):
            raise ValueError(f"seed must be an int or {settings} ints (one per setting), "
                             f"got {_checks.shown(seed)}")
        seeds = [seed] * settings if np.ndim(seed) == 0 else list(seed)
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
            if name == "W_out":
                piece = rng.normal(0.0, np.sqrt(1.0 / shape[0]), shape)       # LeCun normal
            elif name.startswith("W"):
                piece = rng.normal(0.0, np.sqrt(2.0 / shape[0]), shape)       # He normal
            elif name.startswith("gain"):
                piece = np.ones(shape)
            else:
                piece = np.zeros(shape)
            pieces.append(piece.ravel())
        return np.concatenate(pieces)

    # ---- forward and backward -------------------------------------------------------------------

    def logits(self, params, X):
        """The network's outputs before the softmax, shape ``(S, B, classes)``."""
        return self._forward(self.blocks(params), self._inputs(X, params))[0]

    def loss(self, params, X, y):
        """Mean softmax cross-entropy of each setting on ``(X, y)``, shape ``(S,)``."""
        return _cross_entropy(self.logits(params, X), self._labels(y, X))[0]

    def evaluate(self, params, X, y):
        """``(loss, accuracy)``, each ``(S,)``, from one forward pass."""
        params = self._check_params(params)
        y = self._labels(y, self._inputs(X, params))
        logits = self.logits(params, X)
        return _cross_entropy(logits, y)[0], np.mean(np.argmax(logits, axis=-1) == y, axis=-1)

    def accuracy(self, params, X, y):
        """Fraction of ``X`` each setting classifies correctly, shape ``(S,)``.

        >>> model = MLP(sizes=(2, 3))                    # no hidden layer: logistic regression
        >>> params = np.array([[1.0, 0, 0, 0, 1.0, 0, 0, 0, 0]])      # W = [[1,0,0],[0,1,0]], b = 0
        >>> model.accuracy(params, [[2.0, 1.0], [0.0, 1.0]], [0, 2])            # argmax 0, 1
        array([0.5])
        """
        logits = self.logits(params, X)
        return np.mean(np.argmax(logits, axis=-1) == self._labels(y, X), axis=-1)

    def loss_and_grad(self, params, X, y):
        """Losses ``(S,)`` and their gradients with respect to ``params``, ``(S, P)``, by backprop.

        Backpropagation, layer by layer from the loss back to the input (``d`` = dLoss/d):

        - softmax cross-entropy, mean over the batch of B: ``dlogits = (softmax - onehot) / B``
        - ``z = a @ W + b``: ``dW = a.T @ dz``, ``db = sum_batch dz``, ``da = dz @ W.T``
        - ReLU ``a = max(u, 0)``: ``du = da * (u > 0)``
        - LayerNorm ``u = gain * zhat + shift`` with ``zhat = (z - mean z) / sqrt(var z + eps)``
          over the features: ``dgain = sum_batch du*zhat``, ``dshift = sum_batch du``, and with
          ``dzhat = du*gain``,
          ``dz = (dzhat - mean dzhat - zhat * mean(dzhat*zhat)) / sqrt(var z + eps)``

        The tests check every block against central finite differences.
        """
        params = self._check_params(params)
        X = self._inputs(X, params)
        y = self._labels(y, X)
        W = self.blocks(params)
        logits, cache = self._forward(W, X)
        loss, probs = _cross_entropy(logits, y)

        grad = np.empty_like(params)
        dW = self.blocks(grad)
        dlogits = probs
        dlogits[:, np.arange(len(y)), y] -= 1.0
        dlogits /= len(y)                                          # (softmax - onehot) / B

        a = cache[-1][-1] if cache else X
        dW["W_out"][:] = _matmul_T(a, dlogits)                     # a.T @ dlogits
        dW["b_out"][:] = dlogits.sum(axis=1)
        da = dlogits @ np.swapaxes(W["W_out"], 1, 2)               # dlogits @ W_out.T
        for i in range(self.depth, 0, -1):
            a_in, zhat, inv_std, u, a_out = cache[i - 1]
            du = da * (u > 0)                                      # ReLU
            if self.layer_norm:
                dW[f"gain{i}"][:] = np.sum(du * zhat, axis=1)
                dW[f"shift{i}"][:] = du.sum(axis=1)
                dzhat = du * W[f"gain{i}"][:, None, :]
                dz = inv_std * (dzhat - dzhat.mean(axis=-1, keepdims=True)
                                - zhat * np.mean(dzhat * zhat, axis=-1, keepdims=True))
            else:
                dW[f"b{i}"][:] = du.sum(axis=1)
                dz = du
            dW[f"W{i}"][:] = _matmul_T(a_in, dz)                   # a_in.T @ dz
            if i > 1:
                da = dz @ np.swapaxes(W[f"W{i}"], 1, 2)            # dz @ W.T
        return loss, grad

    def _forward(self, W, X):
        """Logits ``(S, B, classes)`` and, per hidden layer, what the backward pass needs."""
        a, cache = X, []
        for i in range(1, self.depth + 1):
            z = a @ W[f"W{i}"]                                     # (B, n) @ (S, n, h) -> (S, B, h)
            if self.layer_norm:
                centred = z - z.mean(axis=-1, keepdims=True)
                inv_std = 1.0 / np.sqrt(np.mean(centred**2, axis=-1, keepdims=True) + self.eps)
                zhat = centred * inv_std
                u = W[f"gain{i}"][:, None, :] * zhat + W[f"shift{i}"][:, None, :]
            else:
                zhat = inv_std = None
                u = z + W[f"b{i}"][:, None, :]
            a_out = np.maximum(u, 0.0)
            cache.append((a, zhat, inv_std, u, a_out))
            a = a_out
        logits = a @ W["W_out"] + W["b_out"][:, None, :]
        if logits.ndim == 2:                         # no hidden layer: (B, c) -> (S, B, c)
            logits = np.broadcast_to(logits, (W["b_out"].shape[0],) + logits.shape)
        return logits, cache

    # ---- input checks ---------------------------------------------------------------------------

    def _check_params(self, params, name="params"):
        params = _checks.real_array(name, params, "an array of real numbers (float32 or "
                                    "float64)", keep_float32=True)
        if params.ndim != 2 or params.shape[1] != self.num_params:
            raise ValueError(f"{name} must have shape (settings, {self.num_params}) for sizes "
                             f"{self.sizes}, got {params.shape}")
        return params

    def _inputs(self, X, params):
        X = _checks.real_array("X", X, "an array of real numbers").astype(np.asarray(params).dtype)
        if X.ndim != 2 or X.shape[1] != self.sizes[0]:
            raise ValueError(f"X must have shape (batch, {self.sizes[0]}), got {X.shape}")
        return X

    def _labels(self, y, X):
        given = y
        try:
            y = None if _checks._refused(y) else np.asarray(y)
        except (TypeError, ValueError):
            y = None
        if y is None:
            raise ValueError(f"y must be {len(X)} integer labels, got {_checks.shown(given)}")
        if y.shape != (len(X),) or y.dtype.kind not in "iu":
            raise ValueError(f"y must be {len(X)} integer labels, got shape {y.shape}, "
                             f"dtype {y.dtype}")
        if len(y) and (y.min() < 0 or y.max() >= self.sizes[-1]):
            raise ValueError(f"y must be in [0, {self.sizes[-1] - 1}], "
                             f"got {int(y.min())}..{int(y.max())}")
        return y


def _float_dtype(name, dtype):
    """float32 or float64, given as a type, a dtype or a name."""
    try:
        kind = np.dtype(dtype) if not isinstance(dtype, (bool, int, float)) and dtype is not None else None
    except TypeError:
        kind = None
    if kind is None or kind not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise ValueError(f"{name} must be float32 or float64, got {_checks.shown(dtype)}")
    return kind


def _matmul_T(a, d):
    """``a.T @ d`` per setting: ``(S or -, B, n) x (S, B, m) -> (S, n, m)``."""
    return np.swapaxes(a, -1, -2) @ d


def _cross_entropy(logits, y):
    """Mean cross-entropy ``(S,)`` of ``softmax(logits)`` against labels ``y``, and the softmax.

    Shifted by the row maximum first, so large logits neither overflow nor lose the loss.
    """
    shifted = logits - logits.max(axis=-1, keepdims=True)
    log_norm = np.log(np.sum(np.exp(shifted), axis=-1, keepdims=True))
    log_probs = shifted - log_norm
    loss = -np.mean(log_probs[:, np.arange(len(y)), y], axis=-1)
    return loss, np.exp(log_probs)
