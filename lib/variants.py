"""Variants of the book's update rules that exist to be compared with the real ones.

Each variant is a subclass of a rule in :mod:`lib.optimizers` that changes one thing, so that a
chapter can show what that one thing does. None of them is meant for training.

:class:`AdamWithoutBiasCorrection`
    Adam with ``m_hat = m`` and ``v_hat = v``: the moments straight from their zero start. The Adam
    chapter uses it to show what bias correction is for.
"""

import numpy as np

from .optimizers import Adam


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
