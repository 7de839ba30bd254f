"""Variants of the book's update rules that exist to be compared with the real ones.

Each variant is a subclass of a rule in :mod:`lib.optimizers` that changes one thing, so that a
chapter can show what that one thing does. None of them is meant for training.

:class:`AdamWithoutBiasCorrection`
    Adam with ``m_hat = m`` and ``v_hat = v``: the moments straight from their zero start. The Adam
    chapter uses it to show what bias correction is for.

:class:`Nesterov`
    Momentum whose step looks ahead: it uses the gradient plus the new velocity ``g + beta*v``
    instead of ``v``. The Momentum chapter compares it with the heavy ball.
"""

import numpy as np

from .optimizers import Adam, Momentum


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
        counted, self.t = self.t, np.inf          # the correction factors at t = inf: 1/(1 - 0) = 1
        try:
            return super().adam_update(g)
        finally:
            self.t = counted


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
