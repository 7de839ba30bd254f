r"""Weight decay on its own: a problem on which, on average, nothing but the decay moves the weights.

:class:`DisagreeingBatches` has two weights and two minibatches whose losses cancel:

.. math:: L_A(w) = \sigma \cdot w, \qquad L_B(w) = -\sigma \cdot w, \qquad
          L = \tfrac12 (L_A + L_B) = 0

so the data do not care what the weights are, yet every minibatch gradient is large: ``+sigma`` on
batch A, ``-sigma`` on batch B, with a different scale per weight (``sigma = (1, 100)`` by default).
This is the situation in which weight decay should decide, and in which the AdamW chapter shows
that Adam + L2 does not decay every weight alike: its decay term is divided by ``sqrt(v_hat)``,
which here is about ``sigma``. ``gradients("gaussian", rng)`` draws random slopes
``sigma * N(0, 1)`` instead of alternating ones (the same averages, wobblier curves).

:class:`SGDW` is SGD with momentum and decoupled weight decay (Loshchilov & Hutter 2019,
Algorithm 1): the control that shows why "L2 is weight decay" holds for plain SGD only.
"""

import itertools

import numpy as np

from . import _checks
from .optimizers import Momentum


class SGDW(Momentum):
    r"""SGD with momentum and decoupled weight decay (SGDW): the decay beside the velocity, not in it.

    .. math:: v \leftarrow \beta v + g, \qquad w \leftarrow w - \mathrm{lr}\,(v + \lambda w)

    :class:`lib.optimizers.Momentum`'s step from the gradient alone, and beside it every weight
    shrinks by ``lr * weight_decay`` of itself. Momentum fed the L2 gradient ``g + λ w`` instead
    (what ``torch.optim.SGD(lr, momentum=beta, weight_decay=λ)`` does) sums ``λ w`` into ``v``
    with the gradients, so a weight's decay at step k is ``lr λ (w_k + β w_{k-1} + β² w_{k-2}
    + ...)``: up to ``1 / (1 - β)`` times stronger, and late. With ``beta = 0`` the two are the same
    rule, plain SGD with L2.

    Loshchilov & Hutter (2019), Algorithm 1 (SGDW). Convention: the paper multiplies the decay by
    the schedule's multiplier ``eta_t`` only; this class multiplies it by the whole ``lr``, like
    :class:`lib.optimizers.AdamW` and PyTorch's AdamW, so the paper's ``λ`` is ``weight_decay``
    times the base rate. PyTorch has no SGDW.

    >>> opt = SGDW(lr=0.1, beta=0.9, weight_decay=0.5)
    >>> w = opt.step([2.0], [1.0]); w         # 2 - 0.1 * (1 + 0.5 * 2)
    array([1.8])
    >>> opt.step(w, [1.0])                    # v = 0.9 + 1: 1.8 - 0.1 * (1.9 + 0.5 * 1.8)
    array([1.52])
    """

    _arg_names = ("lr", "beta", "weight_decay")

    def __init__(self, lr, beta=0.9, weight_decay=0.0):
        super().__init__(lr, beta)
        self.weight_decay = _checks.non_negative("weight_decay", weight_decay)

    def update(self, w, g, lr):
        stepped = super().update(w, g, lr)                # Momentum: v from g alone, w - lr*v
        return stepped - lr * self.weight_decay * w       # decoupled weight decay, beside v


class DisagreeingBatches:
    """Two weights, two minibatches whose gradients ``+scales`` and ``-scales`` cancel.

    Attributes ``loss``, ``grad``, ``start`` and ``min_loss`` make it a problem for
    :func:`lib.surfaces.run`; pass ``grad=problem.gradients()`` so that the run sees the minibatch
    gradients (the full-batch ``grad`` is zero).

    >>> problem = DisagreeingBatches(scales=(1.0, 100.0))
    >>> next_grad = problem.gradients()
    >>> next_grad(problem.start), next_grad(problem.start), next_grad(problem.start)
    (array([  1., 100.]), array([  -1., -100.]), array([  1., 100.]))
    >>> float(problem.loss(problem.start)), problem.grad(problem.start)
    (0.0, array([0., 0.]))
    """

    def __init__(self, scales=(1.0, 100.0), start=(1.0, 1.0)):
        self.scales = _checks.point("scales", scales, what="two numbers, one per weight (finite)")
        _checks.hyperparameter("scales", self.scales, 0.0, 1e150)
        self.start = _checks.point("start", start, what="a point (w1, w2) of finite numbers")
        self.min_loss = 0.0
        self.name = f"disagreeing minibatches (gradient scales {self.scales[0]:g} and {self.scales[1]:g})"

    def batch_loss(self, w, batch):
        """The loss of minibatch ``batch`` (0 for A, 1 for B): ``±scales · w``."""
        sign = _sign(batch)
        w = _checks.real_array("w", w, "weights, real numbers of shape (..., 2)")
        if w.ndim == 0 or w.shape[-1] != 2:
            raise ValueError(f"w must have shape (..., 2), got shape {w.shape}")
        return sign * w @ self.scales

    def batch_grad(self, w, batch):
        """The gradient of minibatch ``batch`` (0 for A, 1 for B): ``±scales``, whatever ``w`` is."""
        sign = _sign(batch)
        return np.broadcast_to(sign * self.scales, _shape(w)).copy()

    def loss(self, w):
        """The full loss, the mean of the two batch losses: zero everywhere."""
        return np.zeros(_shape(w)[:-1])

    def grad(self, w):
        """The full gradient: zero everywhere (the two batches cancel)."""
        return np.zeros(_shape(w))

    def gradients(self, kind="alternating", rng=None):
        """A fresh gradient function ``w -> g`` for :func:`lib.surfaces.run`, one minibatch per call.

        ``"alternating"``: batch A, B, A, B, ... (``+scales``, ``-scales``, ...).
        ``"gaussian"``: ``scales * z`` with ``z ~ N(0, 1)`` drawn from ``rng`` (a numpy Generator),
        one draw per weight per setting: the loss of a batch with a random slope.
        """
        kind = _checks.choice("kind", kind, ("alternating", "gaussian"))
        if kind == "alternating":
            batches = itertools.count()
            return lambda w: self.batch_grad(w, next(batches) % 2)
        if kind == "gaussian":
            if not isinstance(rng, np.random.Generator):
                raise ValueError(f"rng must be a numpy Generator for kind='gaussian', got {rng!r}")
            return lambda w: self.scales * rng.standard_normal(np.shape(w))
        raise ValueError(f"kind must be 'alternating' or 'gaussian', got {kind!r}")


def _shape(w):
    w = _checks.real_array("w", w, "weights, real numbers of shape (..., 2)")
    if w.ndim == 0 or w.shape[-1] != 2:
        raise ValueError(f"w must have shape (..., 2), got shape {w.shape}")
    return w.shape


def _sign(batch):
    if isinstance(batch, (bool, np.bool_)) or not isinstance(batch, (int, np.integer)) \
            or batch not in (0, 1):
        raise ValueError(f"batch must be 0 (A) or 1 (B), got {batch!r}")
    return 1.0 - 2.0 * batch


def decay_rate(trajectory, lr, skip=100):
    r"""How fast each weight shrinks, per step and in units of ``lr``: the fitted slope of ``-log|w|``.

    For weights that shrink as :math:`w_k \approx w_0\, e^{-\mathrm{lr}\,\rho\, k}` this returns
    :math:`\rho` per weight (so AdamW's decoupled decay gives :math:`\rho = -\ln(1 - \mathrm{lr}\,
    \lambda)/\mathrm{lr} \approx \lambda`). The trajectory is first smoothed with the filter
    (1/4, 1/2, 1/4), which removes the step-to-step jitter of alternating minibatches, and the
    first ``skip`` steps (the optimizer's start-up) are left out of the least-squares fit.

    Args:
        trajectory: array (steps + 1, ..., n): the weights after each step, as
            :func:`lib.surfaces.run` returns them.
        lr: the (constant) learning rate of the run.
        skip: how many early steps to leave out of the fit.

    Returns an array (..., n) of rates.

    >>> steps = np.arange(501)[:, None]
    >>> w = np.exp(-0.01 * np.array([2.0, 0.5]) * steps)       # rates 2 and 0.5 at lr = 0.01
    >>> np.round(decay_rate(w, lr=0.01), 6)
    array([2. , 0.5])
    """
    trajectory = _checks.real_array("trajectory", trajectory, "weights after each step, "
                                    "an array (steps + 1, ..., n)")
    if trajectory.ndim < 2:
        raise ValueError(f"trajectory must be an array (steps + 1, ..., n), got shape {trajectory.shape}")
    lr = _checks.scalar("lr", lr, 0.0, low_open=True)
    skip = _checks.count("skip", skip)
    if trajectory.shape[0] < skip + 4:
        raise ValueError(f"trajectory needs more than skip + 3 = {skip + 3} rows, got {trajectory.shape[0]}")
    if not np.all(np.isfinite(trajectory)):
        raise ValueError("trajectory has NaN or infinite entries (a diverged run): no rate to fit")
    smooth = 0.25 * trajectory[:-2] + 0.5 * trajectory[1:-1] + 0.25 * trajectory[2:]
    steps = np.arange(1, trajectory.shape[0] - 1, dtype=float)[skip:]
    with np.errstate(divide="ignore"):
        logs = np.log(np.abs(smooth[skip:]))
    if not np.all(np.isfinite(logs)):
        raise ValueError("a weight reached exactly 0: its rate is not defined by a log-linear fit")
    centered = steps - steps.mean()
    slope = np.tensordot(centered, logs - logs.mean(axis=0), axes=(0, 0)) / (centered @ centered)
    return -slope / lr
