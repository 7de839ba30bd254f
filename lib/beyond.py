"""Update rules beyond AdamW (issue 16), written like the five rules of :mod:`lib.optimizers`.

Each rule subclasses :class:`lib.optimizers.Optimizer`, so ``step(w, grad)`` has the same contract
(checks first, state bound to a shape, broadcasting hyperparameters for sweeps, the weights' dtype,
NaN instead of a silent freeze).
"""

import math

import numpy as np

from . import _checks
from .optimizers import Optimizer, _float_array


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
            self.m = np.zeros_like(w)                            # m_0 = 0
        # c = sign(beta1*m + (1-beta1)*g)
        c = np.sign(self.beta1 * self.m + (1 - self.beta1) * g)
        # m = beta2*m + (1-beta2)*g
        self.m = self.beta2 * self.m + (1 - self.beta2) * g
        # w = w - lr*(c + wd*w)
        return w - lr * (c + self.weight_decay * w)


# --- Muon ------------------------------------------------------------------------------------------

NS_COEFFICIENTS = (3.4445, -4.7750, 2.0315)
"""The quintic Newton-Schulz coefficients (a, b, c) of Keller Jordan's Muon, used by torch."""


def newton_schulz(M, steps=5, eps=1e-7):
    r"""Push every singular value of the matrix ``M`` towards 1, keeping its singular vectors.

    .. math::
        X_0 = M / \max(\lVert M \rVert_F, \epsilon), \qquad
        X_{k+1} = a X_k + (b A_k + c A_k^2) X_k, \quad A_k = X_k X_k^\top

    with :data:`NS_COEFFICIENTS` ``(a, b, c) = (3.4445, -4.7750, 2.0315)``. Each iteration maps a
    singular value :math:`\sigma` of ``X`` to :math:`a\sigma + b\sigma^3 + c\sigma^5`, steep at 0
    (slope ``a``), so five steps carry every :math:`\sigma` between 0.002 and 1 into [0.68, 1.21]
    (smaller ones grow by at most :math:`a^5 \approx 490`): the result is about :math:`U V^\top`
    of the SVD :math:`M = U \Sigma V^\top` (the orthogonal matrix nearest ``M``), not exactly it. A tall ``M`` (more rows than columns) is transposed first, so ``A`` is the
    smaller Gram matrix, and back after. Dividing by the Frobenius norm makes the largest singular
    value at most 1, where the iteration is stable.

    ``M`` has shape (m, n), or (..., m, n) for a stack of matrices (each its own, as a sweep's
    settings are); its dtype is kept (float32 or float64). Matches torch's
    ``torch.optim._muon._zeropower_via_newtonschulz`` except that torch computes in bfloat16
    (on every device), this in ``M``'s own dtype; see :class:`Muon`.

    >>> s = np.linalg.svd(newton_schulz(np.diag([1.0, 0.1])), compute_uv=False)
    >>> bool(np.all((s > 0.6) & (s < 1.25)))
    True
    """
    X = np.array(_checks.real_array("M", M, keep_float32=True))
    if X.ndim < 2:
        raise ValueError(f"M must be a matrix (m, n) or a stack of them (..., m, n), "
                         f"got shape {X.shape}")
    steps = _checks.count("steps", steps, minimum=0, maximum=99)
    eps = _checks.scalar("eps", eps, 0.0, low_open=True)
    with np.errstate(all="ignore"):
        return _newton_schulz(X, steps, eps)


def _newton_schulz(X, steps, eps):
    a, b, c = NS_COEFFICIENTS
    tall = X.shape[-2] > X.shape[-1]
    if tall:
        X = np.swapaxes(X, -1, -2)
    norm = np.sqrt(np.sum(X * X, axis=(-2, -1), keepdims=True))
    # X_0 = M / max(||M||_F, eps)
    X = X / np.maximum(norm, eps).astype(X.dtype, copy=False)
    for _ in range(steps):
        # A = X X^T
        A = X @ np.swapaxes(X, -1, -2)
        # X = a X + (b A + c A^2) X
        X = a * X + (b * A + c * (A @ A)) @ X
    return np.swapaxes(X, -1, -2) if tall else X


def _matrix_lr_ratio(shape, adjust_lr):
    """Muon's lr multiplier for a matrix of ``shape`` (A rows, B columns), as torch's _adjust_lr."""
    A, B = shape[-2:]
    if adjust_lr == "original":
        return math.sqrt(max(1.0, A / B))
    return 0.2 * math.sqrt(max(A, B))


class Muon(Optimizer):
    r"""Muon: momentum, orthogonalised by Newton-Schulz, for the hidden weight matrices.

    .. math::
        m &\leftarrow \beta m + (1-\beta) g, \qquad m_0 = 0 \\
        u &= (1-\beta) g + \beta m \quad \text{(Nesterov; plain: } u = m \text{)} \\
        O &= \mathrm{NS}_5(u) \approx U V^\top \quad (u = U \Sigma V^\top) \\
        w &\leftarrow w (1 - \mathrm{lr}\,\lambda) - \mathrm{lr}\cdot r(A, B)\, O

    Keller Jordan et al. (2024), *Muon: An optimizer for hidden layers in neural networks*. The one
    idea: keep the momentum's singular vectors and throw away its singular values, so every
    direction of the matrix update moves by about the same amount (a rare direction is not
    drowned by a dominant one). :func:`newton_schulz` does that without an SVD. Matches
    ``torch.optim.Muon`` (PyTorch >= 2.9) with its default ``adjust_lr_fn``, on float64.

    The shape rule: ``w`` must be a matrix (A rows, B columns), or a stack (..., A, B) whose leading
    axes are a sweep's settings (each matrix its own run). Vectors (biases, norm gains) and, by
    convention, embeddings and the output head go to AdamW: orthogonalising a vector would only
    normalise it, and an embedding's rows are not one linear map. Array hyperparameters sweep over
    whole matrices only, so their last two axes must have size 1 (``lr`` of shape (S, 1, 1)).

    ``adjust_lr`` chooses :math:`r(A, B)`: ``"original"`` (torch's default, Keller Jordan's)
    is :math:`\sqrt{\max(1, A/B)}`; ``"match_rms_adamw"`` is Moonshot's
    :math:`0.2\sqrt{\max(A, B)}` (Liu et al. 2025, *Muon is Scalable for LLM Training*). Why the
    second exists: :math:`U V^\top` has RMS :math:`1/\sqrt{\max(A, B)}`, so Muon's update shrinks as
    matrices grow, while AdamW's update has an RMS of about 0.2 to 0.4 whatever the shape (Liu et
    al. measured it in LLM training). Scaling by :math:`0.2\sqrt{\max(A, B)}` gives Muon's update
    an RMS of 0.2, so one ``lr`` and one ``weight_decay``, tuned for AdamW, serve both the Muon
    matrices and the AdamW rest.

    Convention: ``beta`` is torch's ``momentum`` and the buffer is an exponential average
    (torch's ``buf.lerp_(grad, 1 - momentum)``), not the sum :math:`\mu B + g` that torch's
    docstring prints; Nesterov is ``grad.lerp(buf, momentum)``. Weight decay is decoupled and
    uses the unadjusted ``lr``, as torch does. ``eps`` guards the Frobenius-norm division. torch
    runs Newton-Schulz in bfloat16 (8 significant bits; on the tests' three problems torch's first
    step differs from the float64 one by 1.0 to 2.4% of its largest entry); this computes in the
    weights' dtype, and the tests compare with torch's iteration run in float64.

    >>> opt = Muon(lr=0.1, weight_decay=0.0)
    >>> w = opt.step(np.zeros((2, 2)), np.diag([10.0, 0.1]))    # a gradient 100x smaller ...
    >>> np.round(np.diag(w), 3)                                 # ... moves its weight as far
    array([-0.07, -0.07])
    """

    state_names = ("m",)
    matrix_rule = True             # lib.beyond.Blockwise hands it blocks as matrices
    _arg_names = ("lr", "beta", "nesterov", "ns_steps", "weight_decay", "eps", "adjust_lr")

    def __init__(self, lr=1e-3, beta=0.95, nesterov=True, ns_steps=5, weight_decay=0.1,
                 eps=1e-7, adjust_lr="original"):
        super().__init__(lr)
        self.beta = _checks.probability("beta", beta)
        self.nesterov = _checks.boolean("nesterov", nesterov)
        self.ns_steps = _checks.count("ns_steps", ns_steps, minimum=0, maximum=99)
        self.weight_decay = _checks.non_negative("weight_decay", weight_decay)
        self.eps = _checks.positive("eps", eps)
        self.adjust_lr = _checks.choice("adjust_lr", adjust_lr, ("original", "match_rms_adamw"))
        self.m = None

    def hyperparameters(self):
        return {"beta": self.beta, "weight_decay": self.weight_decay, "eps": self.eps}

    def step(self, w, grad):
        w = _matrices("Muon", w)
        _whole_matrix_sweep(self, 2)
        return super().step(w, grad)

    def update(self, w, g, lr):
        if self.m is None:
            self.m = np.zeros_like(w)                         # m_0 = 0
        beta = self.beta
        # m = beta*m + (1-beta)*g
        self.m = beta * self.m + (1 - beta) * g
        # Nesterov looks ahead: u = (1-beta)*g + beta*m
        u = (1 - beta) * g + beta * self.m if self.nesterov else self.m
        # O = NS(u), about U V^T
        O = _newton_schulz(u, self.ns_steps, self.eps)
        # r(A, B), the shape's lr multiplier
        r = _matrix_lr_ratio(w.shape, self.adjust_lr)
        # decoupled decay, then the orthogonalised step
        return w * (1 - lr * self.weight_decay) - (lr * r) * O


def _matrices(rule, w):
    """``w`` as a float array with at least two axes (a matrix, or a sweep's stack of them)."""
    w = _float_array("w", w)
    if w.ndim < 2:
        raise ValueError(f"w must be a matrix of shape (A, B), or a stack (..., A, B) of a "
                         f"sweep's settings, got shape {w.shape}: {rule} orthogonalises 2-D "
                         "weights; give vectors (biases, norm gains) to AdamW")
    return w


def _whole_matrix_sweep(opt, core):
    """Array hyperparameters may sweep over leading axes only: their last ``core`` axes are 1."""
    named = [("lr", opt.lr), *opt.hyperparameters().items()]
    for name, value in named:
        shape = np.shape(value) if isinstance(value, np.ndarray) else ()
        if any(size != 1 for size in shape[-core:]) if core else False:
            ones = ", ".join(["1"] * core)
            raise ValueError(f"{name} must be a number or an array of shape (settings, {ones}) "
                             f"that sweeps whole {'matrices' if core == 2 else 'vectors'}, got "
                             f"shape {shape}")


# --- Schedule-Free AdamW ---------------------------------------------------------------------------

class ScheduleFreeAdamW(Optimizer):
    r"""Schedule-Free AdamW: no decay schedule; an average of the iterates does its work.

    Three sequences: ``z`` takes AdamW's steps, ``x`` is a weighted average of the ``z``'s, and the
    gradient is taken at ``y``, between them:

    .. math::
        y_t &= (1-\beta_1)\, z_t + \beta_1 x_t \\
        v &\leftarrow \beta_2 v + (1-\beta_2) g(y_t)^2, \qquad
            d_t = \frac{g(y_t)}{\sqrt{v / (1-\beta_2^t)} + \epsilon} + \lambda y_t \\
        z_{t+1} &= z_t - \gamma_t d_t \\
        x_{t+1} &= (1 - c_{t+1})\, x_t + c_{t+1} z_{t+1}, \qquad
            c_{t+1} = \frac{t^r \gamma_{\max}^p}{\sum_{i \le t} i^r \gamma_{\max,i}^p}

    with :math:`\gamma_t` = ``lr`` times a linear warmup over ``warmup_steps``,
    :math:`\gamma_{\max}` the largest :math:`\gamma` so far, ``r`` and ``p = weight_lr_power``.
    With ``r = 0`` and no warmup, ``c = 1/t``: ``x`` is the plain mean of all ``z``'s.
    Defazio et al. (2024), *The Road Less Scheduled*. The one idea: averaging the iterates gives
    what a decaying schedule gives, without knowing the run's length in advance; ``beta1``
    (AdamW's momentum) becomes the interpolation between ``z`` and ``x``. Matches
    ``schedulefree.AdamWScheduleFree`` (package version 1.4.1) with every option, float64.

    Which point is which: ``step(w, grad)`` takes and returns ``y``, the point where the next
    gradient is evaluated (the package's train mode: the model's weights during training, so the
    training loss of a minibatch is measured at ``y``). The point to evaluate, test, checkpoint
    and report convergence at is ``x``, :meth:`eval_point` of the current ``y`` (the package's
    ``eval()``). ``z`` is kept as state (``opt.z``); ``x`` is not stored but recovered from ``y``
    and ``z``, as the package does, so the state is two buffers, like AdamW's.

    Convention: ``beta1``, ``beta2`` are the package's ``betas``; ``weight_decay`` (decoupled,
    taken at ``y`` and multiplied by the lr) is its ``weight_decay``; ``warmup_steps``, ``r`` and
    ``weight_lr_power`` keep its names. ``beta1`` must be above 0: ``x`` is recovered by dividing
    by it. There is no bias correction for a first moment because there is no first moment.

    >>> opt = ScheduleFreeAdamW(lr=0.1)
    >>> y = opt.step([1.0], [2.0])          # first step: z = 1 - 0.1, x = z (c = 1), y follows
    >>> print(f"{y[0]:.4f} {opt.eval_point(y)[0]:.4f}")
    0.9000 0.9000
    """

    state_names = ("z", "v")
    _arg_names = ("lr", "beta1", "beta2", "eps", "weight_decay", "warmup_steps", "r",
                  "weight_lr_power")

    def __init__(self, lr=0.0025, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0,
                 warmup_steps=0, r=0.0, weight_lr_power=2.0):
        super().__init__(lr)
        self.beta1 = _checks.hyperparameter("beta1", beta1, 0.0, 1.0, low_open=True)
        self.beta2 = _checks.probability("beta2", beta2)
        self.eps = _checks.non_negative("eps", eps)
        self.weight_decay = _checks.non_negative("weight_decay", weight_decay)
        self.warmup_steps = _checks.count("warmup_steps", warmup_steps)
        self.r = _checks.non_negative("r", r)
        self.weight_lr_power = _checks.non_negative("weight_lr_power", weight_lr_power)
        self.z = self.v = None
        self.lr_max = self.weight_sum = None

    def hyperparameters(self):
        names = ("beta1", "beta2", "eps", "weight_decay", "r", "weight_lr_power")
        return {name: getattr(self, name) for name in names}

    def update(self, y, g, lr):
        if self.z is None:
            # z_1 = x_1 = y_1, v = 0; gamma_max and the weights' sum
            # start as the package starts them
            self.z, self.v = y.copy(), np.zeros_like(y)
            self.lr_max, self.weight_sum = -1.0, 0.0
        t, beta1, beta2 = self.t, self.beta1, self.beta2
        if t <= self.warmup_steps:
            lr = lr * (t / self.warmup_steps)                 # linear warmup
        # the averaging weight t^r gamma_max^p and c = weight / (sum of weights)
        lr_max = np.maximum(lr, self.lr_max)
        weight = t**self.r * lr_max**self.weight_lr_power
        weight_sum = self.weight_sum + weight
        c = _ratio(weight, weight_sum, y.dtype)
        # v = beta2*v + (1-beta2)*g^2
        self.v = beta2 * self.v + (1 - beta2) * g**2
        # d = g / (sqrt(v_hat) + eps) + weight_decay*y
        d = g / (np.sqrt(self.v / (1 - beta2**t)) + self.eps)
        d = d + self.weight_decay * y
        # y = (1-beta1) z + beta1 x at the new z and x, without forming x
        y = y + c * (self.z - y)
        y = y + lr * (beta1 * (1 - c) - 1) * d
        # z = z - lr*d
        self.z = self.z - lr * d
        self.lr_max, self.weight_sum = _plain(lr_max), _plain(weight_sum)
        return y

    def eval_point(self, w):
        r"""The averaged point ``x`` for the current ``y = w``: where to measure the loss.

        :math:`x = (y - (1-\beta_1) z) / \beta_1`, written as the package's
        ``y.lerp(z, 1 - 1/beta1)``. Before the first step ``x = y = z``, so ``w`` comes back.
        """
        y = _float_array("w", w)
        if self.z is None:
            return y.copy()
        if y.shape != self.z.shape:
            raise ValueError(f"w must be the y this optimizer returned, of "
                             f"shape {self.z.shape}, got shape {y.shape}")
        beta1 = self.beta1
        if isinstance(beta1, np.ndarray):
            beta1 = beta1.astype(y.dtype, copy=False)
        with np.errstate(all="ignore"):
            z = self.z.astype(y.dtype, copy=False)
            return y + (1 - 1 / beta1) * (z - y)


def _ratio(weight, weight_sum, dtype):
    """weight / weight_sum, 0 where the sum is 0 (all lr 0 so far), without up-casting float32."""
    if np.ndim(weight_sum) == 0:
        return float(weight / weight_sum) if weight_sum > 0 else 0.0
    return np.where(weight_sum > 0, weight / weight_sum, 0.0).astype(dtype, copy=False)


def _is_pair(value):
    """True for a tuple, list or 1-D array of two entries."""
    if not isinstance(value, (tuple, list, np.ndarray)):
        return False
    return (value.ndim == 1 if isinstance(value, np.ndarray) else True) and len(value) == 2


def _plain(value):
    return float(value) if np.ndim(value) == 0 else value


# --- Adafactor -------------------------------------------------------------------------------------

class Adafactor(Optimizer):
    r"""Adafactor: Adam's second moment stored as a row and a column, O(m + n) per matrix.

    For a matrix gradient ``G`` (m rows, n columns), with :math:`t` the step and
    :math:`\hat\beta_{2,t} = 1 - t^{\tau}` (``tau = beta2_decay``):

    .. math::
        R &\leftarrow \hat\beta_{2,t} R + (1-\hat\beta_{2,t})\, \mathrm{mean}_{\text{cols}}(G^2)
            \quad (m \times 1), \qquad
        C \leftarrow \hat\beta_{2,t} C + (1-\hat\beta_{2,t})\, \mathrm{mean}_{\text{rows}}(G^2)
            \quad (1 \times n) \\
        \hat V &= \frac{R\, C}{\max(\mathrm{mean}(R), \epsilon_1)}, \qquad
        U = \frac{G}{\sqrt{\max(\hat V, \epsilon_1^2)}}, \qquad
        \hat U = \frac{U}{\max(1, \mathrm{RMS}(U) / d)} \\
        w &\leftarrow w (1 - \mathrm{lr}\,\lambda) - \alpha_t \hat U, \qquad
        \alpha_t = \max(\epsilon_2, \mathrm{RMS}(w))\, \min(\mathrm{lr}, 1/\sqrt{t})

    A vector (a bias, a norm gain) keeps a full :math:`\hat V`, Adam's ``v`` with the same
    :math:`\hat\beta_{2,t}`. Shazeer & Stern (2018), *Adafactor: Adaptive Learning Rates with
    Sublinear Memory Cost*. The one idea: the outer product :math:`R C / \mathrm{mean}(R)` is
    the rank-1 matrix nearest (in the I-divergence) to the full second moment, so m + n numbers
    replace m n. Two more changes relative to Adam: the step is *relative* (:math:`\alpha_t`
    scales with the weights' own RMS) and clipped by the update's RMS (``d``); there is no first
    moment. Matches ``torch.optim.Adafactor`` (PyTorch >= 2.5), float64.

    Convention: the names are torch's (``lr``, ``beta2_decay``, ``eps = (eps1, eps2)``, ``d``,
    ``weight_decay``); the paper's :math:`\hat\beta_{2,t} = 1 - t^{-0.8}`, its relative step
    :math:`\rho_t = \min(10^{-2}, 1/\sqrt t)` (torch uses ``lr`` for the 0.01), its
    :math:`\epsilon_1 = 10^{-30}`, :math:`\epsilon_2 = 10^{-3}` and :math:`d = 1`. Where the paper
    adds :math:`\epsilon_1` to :math:`G^2`, torch (and this) clamp :math:`\mathrm{mean}(R)` and
    :math:`\hat V` by it; ``eps1 = None`` means the dtype's machine epsilon. ``weight_decay`` is
    decoupled and multiplied by ``lr``, as in torch. torch's ``maximize`` is left out.

    Shapes: ``w`` with two or more axes is factored over its last two; a sweep's settings are
    the leading axes, each matrix its own run (its own RMS; torch would take the RMS of a 3-D
    tensor whole), so array hyperparameters have shape (S, 1, 1). A vector ``w`` (n,) is not
    factored; a sweep of it with ``lr`` of shape (S, 1) gives S vectors. ``param_ndim`` (2, 1
    or 0; keyword only, not torch's) says how many trailing axes one parameter has when ``w``
    already carries a settings axis at the first step: ``param_ndim=1`` with ``w`` of shape
    (S, n) is S vectors, where the default would factor one S x n matrix.

    >>> opt = Adafactor()
    >>> _ = opt.step(np.ones((1000, 500)), np.ones((1000, 500)))
    >>> opt.state_nbytes()                   # (1000 + 500) float64 numbers, not 500,000
    12000
    """

    state_names = ("row_var", "col_var", "variance")
    factored_state = True          # not whole copies of w: lib.memory.state_copies refuses it
    matrix_rule = True             # lib.beyond.Blockwise hands it blocks as matrices
    _arg_names = ("lr", "beta2_decay", "eps", "d", "weight_decay")

    def __init__(self, lr=1e-2, beta2_decay=-0.8, eps=(None, 1e-3), d=1.0, weight_decay=0.0, *,
                 param_ndim=None):
        super().__init__(lr)
        self.param_ndim = None if param_ndim is None else _checks.count("param_ndim", param_ndim,
                                                                        0, 2)
        self.beta2_decay = _checks.hyperparameter("beta2_decay", beta2_decay, -np.inf, 0.0,
                                                  high_open=False)
        if not _is_pair(eps):
            raise ValueError(f"eps must be a pair (eps1, eps2), eps1 None or > 0 and eps2 >= 0, "
                             f"got {_checks.shown(eps)}")
        self.eps1 = None if eps[0] is None else _checks.positive("eps[0]", eps[0])
        self.eps2 = _checks.non_negative("eps[1]", eps[1])
        self.d = _checks.hyperparameter("d", d, 1.0)
        self.weight_decay = _checks.non_negative("weight_decay", weight_decay)
        self.row_var = self.col_var = self.variance = None
        self._core = self._shape = None

    @property
    def eps(self):
        """``(eps1, eps2)`` as torch takes them."""
        return (self.eps1, self.eps2)

    def hyperparameters(self):
        named = {"beta2_decay": self.beta2_decay, "eps1": self.eps1, "eps2": self.eps2,
                 "d": self.d, "weight_decay": self.weight_decay}
        return {name: value for name, value in named.items() if value is not None}

    def step(self, w, grad):
        w = _float_array("w", w)
        if self._shape is not None:
            self._given_core = self._core
        elif self.param_ndim is not None:
            if w.ndim < self.param_ndim:
                raise ValueError(f"w must have at least param_ndim = {self.param_ndim} axes, got "
                                 f"shape {w.shape}")
            self._given_core = self.param_ndim
        else:
            self._given_core = min(w.ndim, 2)
        _whole_matrix_sweep(self, self._given_core)
        return super().step(w, grad)

    def _check_state(self, w, shape):
        held = self.variance if self.variance is not None else self.row_var
        if held is None:
            return
        if shape != self._shape:
            raise ValueError(f"Adafactor holds state for weights of shape {self._shape}, got "
                             f"{w.shape}; create a new optimizer to start fresh")
        if held.dtype != w.dtype:
            raise ValueError(f"Adafactor holds state for {held.dtype} weights, got w of dtype "
                             f"{w.dtype}; create a new optimizer to start fresh")

    def update(self, w, g, lr):
        no_state = self.row_var is None and self.variance is None
        if self._shape is None or no_state:
            self._core, self._shape = self._given_core, w.shape
        t = self.t
        eps1 = np.finfo(w.dtype).eps if self.eps1 is None else self.eps1
        # beta2_t = 1 - t^tau
        keep = 1 - t**self.beta2_decay
        # relative step: alpha = max(eps2, RMS(w)) * min(lr, 1/sqrt(t))
        rho = np.minimum(lr, 1 / t**0.5) if np.ndim(lr) else min(lr, 1 / t**0.5)
        alpha = np.maximum(self.eps2, self._rms(w)) * rho
        # decoupled decay
        w = w * (1 - lr * self.weight_decay)
        if self._core == 2:
            if self.row_var is None:
                self.row_var = np.zeros_like(w[..., :1])       # R: m x 1
                self.col_var = np.zeros_like(w[..., :1, :])    # C: 1 x n
            g2 = g * g
            # R, C: moving averages of G^2's row and column means
            row_mean = g2.mean(axis=-1, keepdims=True)
            col_mean = g2.mean(axis=-2, keepdims=True)
            row = keep * self.row_var + (1 - keep) * row_mean
            col = keep * self.col_var + (1 - keep) * col_mean
            self.row_var, self.col_var = row, col
        else:
            if self.variance is None:
                self.variance = np.zeros_like(w)       # a vector: the full V
            self.variance = keep * self.variance + (1 - keep) * g * g
        # V = R C / max(mean(R), eps1) for a matrix, the full V for a vector
        V = self.second_moment()
        # U = G / sqrt(V), clipped so that RMS(U) <= d
        U = g / np.sqrt(np.maximum(V, eps1 * eps1))
        U = U / np.maximum(1.0, self._rms(U) / self.d)
        return w - alpha * U

    def second_moment(self):
        r"""The second-moment estimate :math:`\hat V` the last step divided by (before the
        :math:`\epsilon_1^2` floor), of the weights' shape: :math:`R C / \max(\mathrm{mean}(R),
        \epsilon_1)` for a matrix, the full ``variance`` for a vector; None before the first step.
        """
        if self.variance is not None:
            return self.variance
        if self.row_var is None:
            return None
        row, col = self.row_var, self.col_var
        eps1 = np.finfo(row.dtype).eps if self.eps1 is None else self.eps1
        if isinstance(eps1, np.ndarray):
            eps1 = eps1.astype(row.dtype, copy=False)
        return (row @ col) / np.maximum(row.mean(axis=-2, keepdims=True), eps1)

    def _rms(self, x):
        """The root mean square of each parameter (the last ``_core`` axes), kept for broadcasting."""
        axes = tuple(range(-self._core, 0))
        return np.sqrt(np.sum(x * x, axis=axes, keepdims=True)) / math.sqrt(
            max(1, int(np.prod([x.shape[a] for a in axes]))))


# --- a rule per block: Muon on the hidden matrices, AdamW on the rest ------------------------------

def hidden_matrix(name, shape):
    """True for a block Muon is meant for: a matrix that is neither an embedding nor the head.

    The usual split (Jordan et al. 2024; Liu et al. 2025): Muon for the hidden layers' weight
    matrices; AdamW for embeddings (a lookup table, not one linear map), the output head,
    and every vector (biases, LayerNorm gains and shifts). The names are those of
    :attr:`lib.model.MLP.layout` and :attr:`lib.transformer.Transformer.layout`.

    >>> [hidden_matrix(n, s) for n, s in [("tok_emb", (5, 4)), ("L0.attn.W_qkv", (4, 12)),
    ...                                   ("L0.attn.b_qkv", (12,)), ("W_head", (4, 5))]]
    [False, True, False, False]
    """
    if not isinstance(name, str):
        raise ValueError(f"name must be a block's name (a str), got {_checks.shown(name)}")
    if not isinstance(shape, tuple) or not all(isinstance(s, (int, np.integer))
                                               and not isinstance(s, (bool, np.bool_))
                                               and s >= 0 for s in shape):
        raise ValueError(f"shape must be a block's shape (a tuple of whole numbers), got "
                         f"{_checks.shown(shape)}")
    return len(shape) == 2 and "emb" not in name and name not in ("W_out", "W_head")


class Blockwise:
    r"""One flat parameter vector, one optimizer per block of its layout.

    ``layout`` is a model's ``[(name, shape), ...]`` (``model.layout``); ``rule(name, shape)``
    returns a fresh optimizer for that block, for example::

        rule = lambda name, shape: (Muon(lr=0.02) if hidden_matrix(name, shape)
                                    else AdamW(lr=3e-3, weight_decay=0.0))
        opt = Blockwise(model.layout, rule)
        params = opt.step(params, grad)          # params, grad: (S, P) or (P,)

    ``step`` cuts ``w`` into its blocks, steps each with its own rule and puts them back, so
    :func:`lib.training.train` takes it like any optimizer. A rule with ``matrix_rule`` (Muon,
    Adafactor) gets its block as (S, *shape), the others as (S, size): a sweep's array
    hyperparameters are (S, 1, 1) for the former and (S, 1) for the latter. ``state_nbytes()``
    adds up the blocks' state (Muon's one buffer on the matrices, AdamW's two on the rest).
    ``rules[name]`` is a block's optimizer (its state, e.g. Muon's ``rules[name].m``),
    ``slices[name]`` its part of the flat vector (to cut a per-parameter array such as a decay
    mask for its rule), and ``matrix_fraction()`` the share of the parameters a matrix rule steps.
    Every step's checks run before any block changes; a step that raises leaves every rule as
    it was.

    >>> opt = Blockwise([("W", (2, 2)), ("b", (2,))],
    ...                 lambda name, shape: Muon(lr=0.1, weight_decay=0.0) if len(shape) == 2
    ...                 else Lion(lr=0.1, weight_decay=0.0))
    >>> np.round(opt.step(np.zeros(6), np.array([10.0, 0, 0, 0.1, 3.0, -3.0])), 3)
    array([-0.07,  0.  ,  0.  , -0.07, -0.1 ,  0.1 ])
    """

    def __init__(self, layout, rule):
        _checks.sequence("layout", layout, "a sequence of (name, shape) pairs (model.layout)")
        _checks.function("rule", rule, "a function (name, shape) -> a fresh optimizer")
        self.layout, self.rules, self.slices, names, start = [], {}, {}, set(), 0
        for entry in layout:
            name, shape = _layout_entry(entry)
            if name in names:
                raise ValueError(f"layout must name each block once, got {name!r} twice")
            names.add(name)
            opt = rule(name, shape)
            if not (callable(getattr(opt, "step", None)) and getattr(opt, "t", None) == 0):
                raise ValueError(f"rule must return a fresh optimizer (step(w, grad), t = 0) for "
                                 f"block {name!r}, got {_checks.shown(opt)}")
            if isinstance(opt, Adafactor) and opt.param_ndim is None:
                opt.param_ndim = min(len(shape), 2)
            self.layout.append((name, shape))
            self.rules[name] = opt
            self.slices[name] = slice(start, start + math.prod(shape))
            start += math.prod(shape)
        if not self.layout:
            raise ValueError("layout must have at least one block, got an empty sequence")
        self.size = sum(math.prod(shape) for _, shape in self.layout)
        self.t = 0

    def step(self, w, grad):
        """Step every block with its rule; return the new flat weights, as a new array."""
        w, g = _float_array("w", w), _float_array("grad", grad)
        if w.ndim not in (1, 2) or w.shape[-1] != self.size:
            raise ValueError(f"w must have shape (P,) or (settings, P) with P = {self.size} "
                             f"(the layout's size), got shape {w.shape}")
        if g.shape != w.shape:
            raise ValueError(f"grad must have the shape of w {w.shape}, got {g.shape}")
        lead, start, pieces = w.shape[:-1], 0, []
        saved = {name: dict(opt.__dict__) for name, opt in self.rules.items()}
        try:
            for name, shape in self.layout:
                opt, stop = self.rules[name], start + math.prod(shape)
                block = lead + (shape if getattr(opt, "matrix_rule", False) else (stop - start,))
                new = opt.step(w[..., start:stop].reshape(block),
                               g[..., start:stop].reshape(block))
                pieces.append(new.reshape(new.shape[:new.ndim - len(block) + len(lead)] + (-1,)))
                start = stop
            shape = np.broadcast_shapes(*(piece.shape[:-1] for piece in pieces))
            new = np.concatenate([np.broadcast_to(p, shape + p.shape[-1:]) for p in pieces],
                                 axis=-1)
        except BaseException:
            for name, opt in self.rules.items():
                opt.__dict__.clear()
                opt.__dict__.update(saved[name])
            raise
        self.t += 1
        return new

    def state(self):
        """Every block's state arrays, as ``{"block.name": array}``."""
        return {f"{block}.{name}": array for block, opt in self.rules.items()
                for name, array in opt.state().items()}

    def state_nbytes(self):
        """Bytes of optimizer state held now, all blocks together."""
        return sum(opt.state_nbytes() for opt in self.rules.values())

    def matrix_fraction(self):
        """The fraction of the parameters in blocks whose rule is a matrix rule (Muon, Adafactor)."""
        return sum(math.prod(shape) for name, shape in self.layout
                   if getattr(self.rules[name], "matrix_rule", False)) / self.size

    def __repr__(self):
        kinds = sorted({type(opt).__name__ for opt in self.rules.values()})
        return f"Blockwise({len(self.layout)} blocks: {', '.join(kinds)})"


def _layout_entry(entry):
    what = "a (name, shape) pair with a str name and a tuple of whole numbers >= 1"
    try:
        name, shape = entry
    except (TypeError, ValueError):
        raise ValueError(f"layout must be a sequence of {what}, got {_checks.shown(entry)}") from None
    if not isinstance(name, str) or not isinstance(shape, tuple) or not shape:
        raise ValueError(f"layout must be a sequence of {what}, got {_checks.shown(entry)}")
    try:
        shape = tuple(_checks.count("layout", size, minimum=1) for size in shape)
    except ValueError:
        raise ValueError(f"layout must be a sequence of {what}, got {_checks.shown(entry)}") from None
    return name, shape
