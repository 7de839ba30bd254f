"""Rare and frequent gradients: a vocabulary of token embeddings, each learned only when it appears.

The problem behind "small and rare gradients get large steps" (the RMSProp chapter): a vocabulary of
``vocab`` tokens with Zipf frequencies p_k proportional to 1 / k**zipf; each step draws a batch of
``batch`` tokens, and token k's weight w_k (a one-number embedding) is pulled towards its own
target w*_k (fixed numbers of size 0.5 to 2 and either sign, drawn once from ``target_seed``)

.. math:: L = \\frac{1}{B} \\sum_{\\text{tokens } i \\text{ in the batch}} \\tfrac12 (w_{k_i} - w^*_{k_i})^2,
          \\qquad \\frac{\\partial L}{\\partial w_k} = \\frac{c_k}{B}\\,(w_k - w^*_k),

with c_k the number of times token k is in the batch. A token that is not drawn gets a gradient of
exactly 0; a rare token's gradient is zero most of the time, and small on average. There is no noise
in the targets: the only randomness is which tokens appear (seeded, ``np.random.default_rng``).

:func:`learn_tokens` runs an optimizer on it for several seeds at once and reports, per token, the
step from which its error stays within ``tol`` (the book's "settled", as
:func:`lib.convergence.settled_at`), counted without storing the whole run.
"""

from dataclasses import dataclass

import numpy as np

from . import _checks


class RareTokens:
    """Token embeddings with Zipf frequencies; each weight moves only when its token is drawn.

    >>> problem = RareTokens(vocab=4, batch=2, zipf=1.0)
    >>> np.round(problem.frequencies, 3)           # 1, 1/2, 1/3, 1/4, normalised
    array([0.48, 0.24, 0.16, 0.12])
    >>> problem.grad(problem.targets + 1, np.array([2, 0, 1, 0]))   # 1 above every target
    array([1. , 0. , 0.5, 0. ])
    """

    def __init__(self, vocab=50, batch=8, zipf=1.0, target_seed=0):
        self.vocab = _checks.count("vocab", vocab, minimum=2, maximum=100_000)
        self.batch = _checks.count("batch", batch, minimum=1, maximum=100_000)
        self.zipf = _checks.scalar("zipf", zipf, 0.0, 4.0, high_open=False)
        rng = np.random.default_rng(_checks.seed("target_seed", target_seed))
        self.targets = rng.uniform(0.5, 2.0, self.vocab) * rng.choice([-1.0, 1.0], self.vocab)
        weights = 1.0 / np.arange(1, self.vocab + 1) ** self.zipf
        self.frequencies = weights / weights.sum()
        # the chance that token k is in a batch at all: 1 - (1 - p_k)^B
        self.appears = 1.0 - (1.0 - self.frequencies) ** self.batch

    def counts(self, steps, seeds):
        """How often each token is drawn at each step: an int array (steps, seeds, vocab)."""
        steps = _checks.count("steps", steps, minimum=1, maximum=1_000_000)
        seeds = _seed_list(seeds)
        draws = [np.random.default_rng(seed).multinomial(self.batch, self.frequencies, size=steps)
                 for seed in seeds]
        return np.stack(draws, axis=1)

    def grad(self, w, counts):
        """dL/dw = counts / batch * (w - targets), token by token."""
        w = _checks.real_array("w", w)
        counts = _checks.real_array("counts", counts)
        if counts.shape[-1:] != (self.vocab,) or w.shape[-1:] != (self.vocab,):
            raise ValueError(f"w and counts must end with an axis of vocab = {self.vocab}, got "
                             f"shapes {w.shape} and {counts.shape}")
        return counts / self.batch * (w - self.targets)


@dataclass(frozen=True)
class TokenRun:
    """What :func:`learn_tokens` measured; arrays have the shape (*settings, seeds, vocab).

    Attributes:
        settled: the step from which ``|w_k - w*_k| < tol`` to the end of the run (-1: never).
        final_error: ``|w_k - w*_k|`` after the last step.
        largest_step: the largest single move ``|w_k(t+1) - w_k(t)|`` over the run.
        tracked: the weights of the tokens in ``track`` at every step, (steps + 1, *settings, seeds,
            len(track)).
    """

    settled: np.ndarray
    final_error: np.ndarray
    largest_step: np.ndarray
    tracked: np.ndarray


def learn_tokens(optimizer, problem, steps, seeds, tol=0.1, track=(), counts=None):
    """Run ``optimizer`` on ``problem`` from w = 0 for every seed at once; see :class:`TokenRun`.

    The optimizer's hyperparameters may be arrays of shape (settings, 1, 1) (a sweep); every
    setting sees the same tokens for a given seed. ``counts`` (from :meth:`RareTokens.counts`) may
    be passed to reuse one draw; otherwise it is drawn from ``seeds``.

    >>> from lib.optimizers import SGD
    >>> run = learn_tokens(SGD(lr=1.0), RareTokens(vocab=3, batch=4), steps=200, seeds=[0, 1])
    >>> bool(np.all(run.settled[:, 0] <= run.settled[:, 2]))   # the frequent token first
    True
    """
    if not isinstance(problem, RareTokens):
        raise ValueError(f"problem must be a RareTokens, got {_checks.shown(problem)}")
    if not hasattr(optimizer, "step"):
        raise ValueError(f"optimizer must be an optimizer of lib.optimizers, got "
                         f"{_checks.shown(optimizer)}")
    seeds = _seed_list(seeds)
    steps = _checks.count("steps", steps, minimum=1, maximum=1_000_000)
    tol = _checks.scalar("tol", tol, 0.0, low_open=True)
    track = [_checks.count("track", k, maximum=problem.vocab - 1)
             for k in _checks.sequence("track", track, "a sequence of token indices")]
    if counts is None:
        counts = problem.counts(steps, seeds)
    counts = np.asarray(counts)
    if counts.shape != (steps, len(seeds), problem.vocab):
        raise ValueError(f"counts must have shape (steps, seeds, vocab) = "
                         f"{(steps, len(seeds), problem.vocab)}, got {counts.shape}")
    w = np.zeros((len(seeds), problem.vocab))
    error = np.abs(w - problem.targets)
    last_out = np.where(error >= tol, 0, -1)
    largest = np.zeros_like(w)
    tracked = [w[..., track]]
    for t in range(steps):
        new = optimizer.step(w, problem.grad(w, counts[t]))
        largest = np.fmax(largest, np.abs(new - w))
        w = new
        error = np.abs(w - problem.targets)
        # the last step outside the tolerance (NaN counts as outside)
        last_out = np.where(~(error < tol), t + 1, last_out)
        tracked.append(w[..., track])
    settled = np.where(last_out >= steps, -1, last_out + 1)
    return TokenRun(settled=settled, final_error=error, largest_step=largest,
                    tracked=np.stack(np.broadcast_arrays(*tracked)))


def _seed_list(seeds):
    seeds = list(_checks.sequence("seeds", seeds, "a sequence of seeds (whole numbers >= 0)"))
    if not seeds:
        raise ValueError("seeds must hold at least one seed, got an empty sequence")
    return [_checks.seed("seeds", s) for s in seeds]
