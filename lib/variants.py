"""Variants of the book's update rules that exist to be compared with the real ones.

Each variant is a subclass of a rule in :mod:`lib.optimizers` that changes one thing, so that a
chapter can show what that one thing does. None of them is meant for training.

:class:`AdamWithoutBiasCorrection`
    Adam with ``m_hat = m`` and ``v_hat = v``: the moments straight from their zero start. The Adam
    chapter uses it to show what bias correction is for.

:class:`Adagrad`
    RMSProp's ancestor: the *sum* of all squared gradients where RMSProp keeps a moving average.
    The RMSProp chapter uses it to show why a moving average: the sum only grows, so every
    effective step shrinks, like 1/sqrt(t) under a steady gradient, and never recovers.
:class:`Nesterov`
    Momentum whose step looks ahead: it uses the gradient plus the new velocity ``g + beta*v``
    instead of ``v``. The Momentum chapter compares it with the heavy ball.
"""

import numpy as np

from . import _checks
from .optimizers import Adam, Momentum, Optimizer


class AdamWithoutBiasCorrection(Adam):
    r"""Adam without bias correction: the step is :math:`\mathrm{lr}\, m / (\sqrt{v} + \epsilon)`.

    .. math::
        m &\leftarrow \beta_1 m + (1-\beta_1) g, \qquad v \leftarrow \beta_2 v + (1-\beta_2) g^2 \\
        w &\leftarrow w - \mathrm{lr}\, \frac{m}{\sqrt{v} + \epsilon}

    The one difference from :class:`lib.optimizers.Adam` is the step count that the correction
    factors ``1 / (1 - beta**t)`` see: infinity, where they are exactly 1 (``beta**inf`` is 0 for
    every ``beta`` in [0, 1)). Everything else, the moments included, is Adam's own code, so the two
    cannot drift apart. (``self.t`` itself still counts steps, for learning-rate schedules.)

    Without the correction the first step is not smaller than Adam's, as "m is biased towards 0"
    suggests, but larger: with ``m = (1 - beta1) g`` and ``v = (1 - beta2) g**2`` it is
    ``lr (1 - beta1) / sqrt(1 - beta2)``, about 3.16 lr for the default betas, because v's bias
    (a factor 1000) is larger than m's (a factor 10) and enters under a square root.

    >>> plain, corrected = AdamWithoutBiasCorrection(lr=0.001), Adam(lr=0.001)
    >>> round(float(plain.step([0.0], [5.0])[0] / corrected.step([0.0], [5.0])[0]), 4)
    3.1623
    >>> plain.t
    1
    """

    def adam_update(self, g):
        # the correction factors at t = inf: 1/(1 - 0) = 1
        counted, self.t = self.t, np.inf
        try:
            return super().adam_update(g)
        finally:
            self.t = counted


class Adagrad(Optimizer):
    r"""Adagrad: divide each coordinate's step by the root of the *sum* of its squared gradients.

    .. math:: s \leftarrow s + g^2, \qquad
              w \leftarrow w - \mathrm{lr}\, \frac{g}{\sqrt{s} + \epsilon}, \qquad s_0 = 0

    Duchi, Hazan & Singer, Adaptive subgradient methods for online learning and stochastic
    optimization, JMLR 12 (2011). RMSProp is this rule with ``s`` a moving average instead of a
    sum: the sum only grows, so under a steady gradient ``g`` the effective step
    ``lr / (sqrt(s) + eps)`` is ``lr / (sqrt(t) |g|)`` and shrinks for ever, while RMSProp's
    settles at ``lr / |g|``.

    Matches ``torch.optim.Adagrad(lr=lr, eps=eps)`` with its other defaults (``lr_decay=0``,
    ``weight_decay=0``, ``initial_accumulator_value=0``).

    Convention: ``eps`` is added *after* the square root, as in PyTorch (default 1e-10); ``s``
    starts at 0 (PyTorch's ``initial_accumulator_value``). Keras's ``Adagrad`` starts ``s`` at 0.1
    (``initial_accumulator_value=0.1``, ``epsilon=1e-7``), so its first steps are smaller than these.
    The default ``lr = 0.01`` is PyTorch's (Keras: 0.001).

    >>> opt = Adagrad(lr=0.1)
    >>> w = np.zeros(2)
    >>> for _ in range(4):                     # a steady gradient: s = t g^2
    ...     w = opt.step(w, [3.0, 0.01])
    >>> np.round(w, 6)                         # steps 0.1/sqrt(t): 0.1 + 0.0707 + 0.0577 + 0.05
    array([-0.278446, -0.278446])
    """

    state_names = ("s",)
    _arg_names = ("lr", "eps")

    def __init__(self, lr=0.01, eps=1e-10):
        super().__init__(lr)
        self.eps = _checks.non_negative("eps", eps)
        self.s = None

    def update(self, w, g, lr):
        if self.s is None:
            self.s = np.zeros_like(w)
        # s = s + g^2: a sum, which only grows
        self.s = self.s + g**2
        # w = w - lr*g/(sqrt(s)+eps)
        return w - lr * g / (np.sqrt(self.s) + self.eps)


class Nesterov(Momentum):
    r"""Nesterov momentum: the heavy ball's velocity, with a step that looks one velocity ahead.

    .. math::
        v \leftarrow \beta v + g, \qquad
        w \leftarrow w - \mathrm{lr}\,(g + \beta v), \qquad v_0 = 0

    The one difference from :class:`lib.optimizers.Momentum` is the step: the heavy ball moves by
    ``lr*v``, Nesterov by ``lr*(g + beta*v)``, the step the heavy ball would take if it looked at
    where its velocity is about to carry it. The velocity line is Momentum's own code
    (``super().update``), so the two cannot drift apart. Nesterov (1983) for the method;
    Sutskever et al. (2013) for its form as momentum in deep learning.

    Matches ``torch.optim.SGD(lr=lr, momentum=beta, nesterov=True)`` (no dampening) step for step:
    torch's buffer is this ``v`` (it starts at the first gradient, which is ``beta*0 + g``), and its
    step is ``lr*(g + beta*buf)``.

    Convention: Sutskever et al. (2013) write ``v = beta*v - lr*grad(w + beta*v); w = w + v``, the
    gradient taken at the look-ahead point ``w + beta*v``. With a constant ``lr`` that is this rule
    seen from the look-ahead point (the weights here are their ``w + beta*v``): the same sequence of
    steps, written in the variable where the gradient is evaluated. PyTorch and this library keep
    the gradient at ``w`` itself, so no second gradient evaluation is needed.

    >>> opt = Nesterov(lr=0.1, beta=0.9)
    >>> w = opt.step([0.0], [1.0]); w          # v = 1, step lr*(1 + 0.9*1) = 0.19
    array([-0.19])
    >>> opt.step(w, [1.0])                     # v = 1.9, step lr*(1 + 0.9*1.9) = 0.271
    array([-0.461])
    """

    def update(self, w, g, lr):
        super().update(w, g, lr)                  # v = beta*v + g (Momentum's)
        return w - lr * (g + self.beta * self.v)  # w = w - lr*(g + beta*v)
