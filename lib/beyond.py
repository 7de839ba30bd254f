"""Update rules beyond AdamW (issue 16), written like the five rules of :mod:`lib.optimizers`.

Each rule subclasses :class:`lib.optimizers.Optimizer`, so ``step(w, grad)`` has the same contract
(checks first, state bound to a shape, broadcasting hyperparameters for sweeps, the weights' dtype,
NaN instead of a silent freeze).
"""

import numpy as np

from . import _checks
from .optimizers import Optimizer


class Lion(Optimizer):
    r"""Lion: the sign of an interpolated momentum, with decoupled weight decay.

    .. math::
        c &= \mathrm{sign}(\beta_1 m + (1-\beta_1) g) \\
        w &\leftarrow w - \mathrm{lr}\,(c + \lambda w) \\
        m &\leftarrow \beta_2 m + (1-\beta_2) g, \qquad m_0 = 0

    Chen et al. (2023), *Symbolic Discovery of Optimization Algorithms*. Every coordinate moves by
    exactly ``lr`` (plus the decay): the update has the same size everywhere. One state buffer
    (``m``), half of Adam's. Matches ``optax.lion(learning_rate=lr, b1=beta1, b2=beta2,
    weight_decay=weight_decay)`` (torch has no Lion).

    Convention: ``beta1`` interpolates for the sign, ``beta2`` is the momentum's decay (optax's
    ``b1``, ``b2``; the paper's :math:`\beta_1, \beta_2`); defaults 0.9 and 0.99 as both.
    ``weight_decay`` (the paper's :math:`\lambda`) is multiplied by ``lr``, as in optax; its default
    here is optax's, 1e-3. ``lr`` has no default (optax has none): the paper's advice is an ``lr``
    3-10x smaller than AdamW's and a ``weight_decay`` 3-10x larger, so that ``lr * weight_decay``
    stays about the same.

    >>> Lion(lr=0.1, weight_decay=0.0).step([1.0, 1.0, 1.0], [100.0, -0.001, 0.0])
    array([0.9, 1.1, 1. ])
    """

    state_names = ("m",)
    _arg_names = ("lr", "beta1", "beta2", "weight_decay")

    def __init__(self, lr, beta1=0.9, beta2=0.99, weight_decay=1e-3):
        super().__init__(lr)
        self.beta1 = _checks.probability("beta1", beta1)
        self.beta2 = _checks.probability("beta2", beta2)
        self.weight_decay = _checks.non_negative("weight_decay", weight_decay)
        self.m = None

    def update(self, w, g, lr):
        if self.m is None:
            self.m = np.zeros_like(w)                                  # m_0 = 0
        c = np.sign(self.beta1 * self.m + (1 - self.beta1) * g)        # c = sign(beta1*m + (1-beta1)*g)
        self.m = self.beta2 * self.m + (1 - self.beta2) * g            # m = beta2*m + (1-beta2)*g
        return w - lr * (c + self.weight_decay * w)                    # w = w - lr*(c + wd*w)
