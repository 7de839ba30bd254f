"""Helpers for the "Beyond AdamW" chapter that are not update rules themselves.

:class:`MatrixSplit` gives a model's hidden weight matrices to one rule (Muon) and every other
parameter to another (AdamW): the parameter groups of a Muon recipe, for the book's models whose
parameters are one flat vector per setting, ``(S, P)``, laid out by ``model.layout``.

>>> from lib.beyond import Muon
>>> from lib.model import MLP
>>> from lib.optimizers import AdamW
>>> split = MatrixSplit(MLP(sizes=(4, 3, 2)), lambda: Muon(lr=0.02), lambda: AdamW(lr=1e-3))
>>> split.matrices                          # the hidden matrix; the output layer goes to AdamW
('W1',)
>>> params = np.zeros((2, MLP(sizes=(4, 3, 2)).num_params))
>>> split.step(params, np.ones_like(params)).shape, split.t
((2, 26), 1)
"""

import math

import numpy as np

from . import _checks

OUTSIDE_MUON = ("tok_emb", "pos_emb", "W_head", "W_out")
"""Matrices that go to AdamW by convention even though they are 2-D: the embeddings (a row per
symbol, not one linear map) and the output layer (Jordan et al. 2024; Liu et al. 2025)."""


class MatrixSplit:
    """One rule on a model's hidden matrices, another on the rest of its flat parameter vector.

    ``model`` is anything with ``layout`` (``[(name, shape), ...]``, the blocks of the flat vector
    in order) and ``num_params``: :class:`lib.model.MLP` or :class:`lib.transformer.Transformer`.
    ``matrix_rule`` and ``rest_rule`` are functions that return a fresh optimizer (``lambda:
    Muon(lr=0.02)``): each matrix gets its own instance of ``matrix_rule()``, because its state
    has that matrix's shape, and everything else shares one ``rest_rule()``. ``matrices`` names
    the blocks that go to the matrix rule; by default every 2-D block except the embeddings and
    the output layer (:data:`OUTSIDE_MUON`).

    ``step(params, grad)`` takes ``(S, P)`` arrays (S settings, as :func:`lib.training.train`
    passes them) and returns the new ``(S, P)`` parameters; each matrix is stepped as a stack of
    S matrices ``(S, A, B)``. Hyperparameters must therefore broadcast against ``(S, A, B)`` for
    the matrix rule and ``(S, R)`` for the rest (numbers and schedules always do).
    """

    def __init__(self, model, matrix_rule, rest_rule, matrices=None):
        layout = getattr(model, "layout", None)
        if layout is None or not hasattr(model, "num_params"):
            raise ValueError(f"model must have a layout and num_params (an MLP or a Transformer), "
                             f"got {_checks.shown(model)}")
        _checks.function("matrix_rule", matrix_rule, "a function returning a fresh optimizer")
        _checks.function("rest_rule", rest_rule, "a function returning a fresh optimizer")
        spans, start = {}, 0
        for name, shape in layout:
            stop = start + math.prod(shape)
            spans[name] = (tuple(shape), start, stop)
            start = stop
        two_d = [name for name, (shape, _, _) in spans.items() if len(shape) == 2]
        if matrices is None:
            matrices = [name for name in two_d if name not in OUTSIDE_MUON]
        _checks.sequence("matrices", matrices, "a sequence of names of 2-D blocks of the layout")
        for name in matrices:
            if name not in two_d:
                raise ValueError(f"matrices must name 2-D blocks of the model's layout {two_d}, "
                                 f"got {name!r}")
        self.model = model
        self.matrices = tuple(matrices)
        self._spans = {name: spans[name] for name in self.matrices}
        rest = np.ones(model.num_params, dtype=bool)
        for _, start, stop in self._spans.values():
            rest[start:stop] = False
        self.rest_index = np.flatnonzero(rest)
        self.matrix_opts = {name: matrix_rule() for name in self.matrices}
        self.rest_opt = rest_rule()
        self.t = 0

    def step(self, params, grad):
        """One step of every group; returns new ``(S, P)`` parameters."""
        params = np.asarray(params)
        grad = np.asarray(grad)
        if params.ndim != 2 or params.shape[1] != self.model.num_params or grad.shape != params.shape:
            raise ValueError(f"params and grad must both have shape (S, {self.model.num_params}), "
                             f"got {params.shape} and {grad.shape}")
        S = params.shape[0]
        new = np.empty_like(params)
        for name, (shape, start, stop) in self._spans.items():
            w = params[:, start:stop].reshape((S,) + shape)
            g = grad[:, start:stop].reshape((S,) + shape)
            new[:, start:stop] = self.matrix_opts[name].step(w, g).reshape(S, -1)
        if self.rest_index.size:
            new[:, self.rest_index] = self.rest_opt.step(params[:, self.rest_index],
                                                         grad[:, self.rest_index])
        self.t += 1
        return new

    def state_nbytes(self):
        """Bytes of state held by every group together."""
        return (sum(opt.state_nbytes() for opt in self.matrix_opts.values())
                + self.rest_opt.state_nbytes())

    def matrix_fraction(self):
        """The fraction of the parameters that the matrix rule updates."""
        return 1 - self.rest_index.size / self.model.num_params

    def __repr__(self):
        return (f"MatrixSplit({type(self.model).__name__}, matrices={list(self.matrices)}, "
                f"rest={self.rest_opt!r})")
