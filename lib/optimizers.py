"""The five update rules of the book, each written once, line for line like its equation.

Symbols (the book's, used as argument and attribute names):

=============  ==============================================================
``w``          the weights (parameters) being trained
``g``          the gradient dL/dw at ``w``
``lr``         the learning rate, a number or a schedule ``k -> lr``
``t``          the number of steps taken, counting this one (1, 2, 3, ...)
``v``          Momentum's velocity; Adam's second moment
``s``          RMSProp's moving average of squared gradients
``m``          Adam's first moment
``beta``       a decay rate in [0, 1) (``beta1``, ``beta2`` for Adam)
``eps``        a small number that keeps a division finite
=============  ==============================================================

Every optimizer works the same way::

    opt = Adam(lr=1e-3)
    w = opt.step(w, grad)      # returns new weights; w and grad are left untouched

The ``k``-th call of ``step`` (k = 0, 1, 2, ...) uses the learning rate ``lr(k)`` when ``lr`` is a
schedule, as PyTorch's ``LambdaLR`` does; Adam's bias correction then uses ``t = k + 1``.

Hyperparameters may be numpy arrays that broadcast against ``w``: with ``w`` of shape
``(settings, dims)`` and ``lr`` of shape ``(settings, 1)`` one call steps a whole sweep at once.

Every rule matches ``torch.optim`` (float64, default options) to rounding; the tests check it
against trajectories recorded from PyTorch.

**What ``step`` accepts, and what it promises** (the same for every rule):

- *Checked first, changed never on error.* ``w`` and ``grad`` must be real arrays of one shape;
  every hyperparameter (and a schedule's value) must broadcast against ``w``. Everything is checked
  before anything changes: a step that raises leaves the optimizer exactly as it was, ``t`` included.
- *State bound to a shape.* Momentum, RMSProp, Adam and AdamW keep arrays of the weights' shape
  (and dtype) between steps. A later step with weights of another shape raises ``ValueError``
  ("Momentum holds state for weights of shape (1,), got (4,); create a new optimizer to start
  fresh") instead of stretching the old state over the new weights. A sweep's first step may
  start from ``w`` of shape (2,) with hyperparameters of shape (settings, 1): the state then takes
  the broadcast shape (settings, 2) from the first step on. SGD keeps no state and takes any shape.
- *Dtypes.* float64 and float32 weights are computed in their own dtype, and the result and the
  state have the weights' dtype: ``grad`` is cast to ``w``'s dtype, and array hyperparameters
  (float64 sweeps of shape (settings, 1)) are used in the weights' dtype, so float32 weights stay
  float32. Integer weights become float64. **float16 is refused** (``w`` or ``grad``): its largest
  number is 65504, so Adam's ``g**2`` of a gradient of 256 is already inf; train float16 models as
  mixed precision does, with float32 master weights and state. Bools, complex numbers, strings and
  None are refused too.
- *No silent freeze.* ``step`` raises no numpy warning. When the state overflows (a gradient
  whose square is inf: beyond about 1e154 in float64, 1e19 in float32), the weights it governs come
  back NaN, so :func:`lib.surfaces.run` and :func:`lib.training.train` report the run as diverged
  at that step. (PyTorch's Adam and RMSprop instead divide by ``sqrt(inf)`` and stop moving those
  weights without a sign: ``Adam(lr=.1).step(np.ones(2), np.full(2, 1e200))`` would return
  ``[1, 1]``; here it returns ``[nan, nan]``.) Non-finite weights or gradients give non-finite
  weights.

>>> Adam(lr=0.1).step(np.ones(2), np.full(2, 1e200))
array([nan, nan])
>>> Adam(lr=0.1).step(np.ones(2, dtype=np.float32), np.ones(2)).dtype
dtype('float32')
"""

import numpy as np

from . import _checks


class Optimizer:
    """What every rule shares: the learning rate, the step count ``t``, the input checks.

    A subclass writes one method, ``update(w, g, lr)``, which returns the new weights.
    """

    def __init__(self, lr):
        self.lr = lr if callable(lr) else _checks.non_negative("lr", lr)
        self.t = 0

    def lr_at(self, k):
        """The learning rate used by the ``k``-th call of ``step`` (k = 0, 1, 2, ...)."""
        return self._lr(_checks.count("k", k))

    def _lr(self, k):
        if callable(self.lr):
            return _checks.non_negative(f"lr (the schedule's value at step {k})", self.lr(k))
        return self.lr

    def step(self, w, grad):
        """Take one step from ``w`` along ``grad``; return the new weights as a new array.

        Checks everything before it changes anything (see the module docstring): on any error the
        optimizer, ``t`` included, is left as it was.
        """
        w = _float_array("w", w)
        g = _float_array("grad", grad)
        if g.shape != w.shape:
            raise ValueError(f"grad must have the shape of w {w.shape}, got {g.shape}")
        g = g.astype(w.dtype, copy=False)                          # computed in the weights' dtype
        lr = self._lr(self.t)                                      # t is the optimizer's own count
        if isinstance(lr, np.ndarray):
            lr = lr.astype(w.dtype, copy=False)
        hyper = self.hyperparameters()
        shape = self._step_shape(w, lr, hyper)
        self._check_state(w, shape)
        if shape != w.shape:                                       # a sweep's first step
            w, g = np.broadcast_to(w, shape), np.broadcast_to(g, shape)
        saved_t, saved_state = self.t, {name: getattr(self, name) for name in self.state_names}
        originals = self._use_dtype(w.dtype, hyper)
        try:
            with np.errstate(all="ignore"):                        # overflow is reported as NaN
                self.t += 1
                new = self.update(w, g, lr)
                state = [getattr(self, name) for name in self.state_names]
                overflowed = [~np.isfinite(s) for s in state
                              if s is not None and not np.isfinite(s).all()]
        except BaseException:
            self.t = saved_t
            for name, value in saved_state.items():
                setattr(self, name, value)
            raise
        finally:
            for name, value in originals.items():
                setattr(self, name, value)
        if overflowed:                                             # no silent freeze: NaN weights
            gone = np.logical_or.reduce(overflowed) if len(overflowed) > 1 else overflowed[0]
            new = np.where(gone, np.nan, new).astype(w.dtype, copy=False)
        return new

    def hyperparameters(self):
        """The hyperparameters other than ``lr``, by name (numbers or arrays)."""
        return {name: getattr(self, name) for name in self._arg_names if name != "lr"}

    def _step_shape(self, w, lr, hyper):
        """The shape of the new weights: ``w``'s, broadcast with every hyperparameter's.

        Remembered per combination of shapes (the hyperparameters are numbers or float arrays,
        see :mod:`lib._checks`), so a long run pays for the broadcast check once.
        """
        named = [("lr", lr), *hyper.items()]
        key = (w.shape, *(getattr(value, "shape", ()) for _, value in named))
        cache = self.__dict__.setdefault("_shapes", {})
        if key not in cache:
            cache[key] = self._broadcast_shape(w, named)
        return cache[key]

    @staticmethod
    def _broadcast_shape(w, named):
        shape = w.shape
        for name, value in named:
            try:
                shape = np.broadcast_shapes(shape, np.shape(value))
            except ValueError:
                raise ValueError(f"{name} must broadcast against w of shape {w.shape}, got shape "
                                 f"{np.shape(value)}") from None
        return shape

    def _check_state(self, w, shape):
        for name in self.state_names:
            held = getattr(self, name)
            if held is None:
                continue
            if held.shape != shape:
                given = f"{w.shape}" + (f" (broadcast to {shape} by the hyperparameters)"
                                        if shape != w.shape else "")
                raise ValueError(f"{type(self).__name__} holds state for weights of shape "
                                 f"{held.shape}, got {given}; create a new optimizer to start fresh")
            if held.dtype != w.dtype:
                raise ValueError(f"{type(self).__name__} holds state for {held.dtype} weights, got "
                                 f"w of dtype {w.dtype}; create a new optimizer to start fresh")

    def _use_dtype(self, dtype, hyper):
        """Swap array hyperparameters for copies in ``dtype`` (cached); return the originals."""
        originals = {}
        cache = self.__dict__.setdefault("_in_dtype", {})
        for name, value in hyper.items():
            if isinstance(value, np.ndarray) and value.dtype != dtype:
                key = (name, np.dtype(dtype).str)
                if key not in cache or cache[key][0] is not value:
                    cache[key] = (value, value.astype(dtype))
                originals[name] = value
                setattr(self, name, cache[key][1])
        return originals

    def update(self, w, g, lr):
        raise NotImplementedError

    def state(self):
        """The arrays this optimizer keeps between steps, by name (empty before the first step)."""
        return {name: getattr(self, name) for name in self.state_names
                if getattr(self, name) is not None}

    def state_nbytes(self):
        """Bytes of optimizer state held now (the memory table's numbers, measured)."""
        return sum(array.nbytes for array in self.state().values())

    state_names = ()

    def __repr__(self):
        args = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._arg_names)
        return f"{type(self).__name__}({args})"

    _arg_names = ("lr",)


class SGD(Optimizer):
    r"""Stochastic gradient descent: a step down the slope.

    .. math:: w \leftarrow w - \mathrm{lr}\, g

    Robbins & Monro (1951). Matches ``torch.optim.SGD(lr=lr)``.

    >>> SGD(lr=0.1).step([1.0, 2.0], [10.0, -10.0])
    array([0., 3.])
    """

    def update(self, w, g, lr):
        # w = w - lr*g
        return w - lr * g


class Momentum(Optimizer):
    r"""SGD with momentum (the heavy ball): the step follows a velocity that remembers past gradients.

    .. math:: v \leftarrow \beta v + g, \qquad w \leftarrow w - \mathrm{lr}\, v, \qquad v_0 = 0

    Polyak (1964). Matches ``torch.optim.SGD(lr=lr, momentum=beta)`` (no dampening).

    Convention: this is the seed's and PyTorch's form, in which ``v`` sums gradients (a steady
    gradient ``g`` builds up to ``g / (1 - beta)``). The "EMA" form ``v = beta*v + (1-beta)*g`` of
    some courses gives the same path with ``lr`` scaled by ``1 - beta``. Sutskever et al. (2013) write
    ``v = beta*v - lr*g; w = w + v``, which differs from this one when ``lr`` changes over time.

    >>> opt = Momentum(lr=0.1, beta=0.9)
    >>> w = opt.step([0.0], [1.0]); w
    array([-0.1])
    >>> opt.step(w, [1.0])        # v = 0.9*1 + 1 = 1.9
    array([-0.29])
    """

    state_names = ("v",)
    _arg_names = ("lr", "beta")

    def __init__(self, lr, beta=0.9):
        super().__init__(lr)
        self.beta = _checks.probability("beta", beta)
        self.v = None

    def update(self, w, g, lr):
        if self.v is None:
            # v_0 = 0
            self.v = np.zeros_like(w)
        # v = beta*v + g
        self.v = self.beta * self.v + g
        # w = w - lr*v
        return w - lr * self.v


class RMSProp(Optimizer):
    r"""RMSProp: divide each coordinate's step by the root of its recent mean squared gradient.

    .. math:: s \leftarrow \beta s + (1-\beta) g^2, \qquad
              w \leftarrow w - \mathrm{lr}\, \frac{g}{\sqrt{s} + \epsilon}, \qquad s_0 = 0

    Hinton, Srivastava & Swersky, Neural Networks for Machine Learning, lecture 6e (2012).
    Matches ``torch.optim.RMSprop(lr=lr, alpha=beta, eps=eps)``.

    Convention: the default ``beta = 0.99`` is PyTorch's (its ``alpha``). The seed says 0.999 and
    Hinton's lecture 0.9; the RMSProp chapter compares all three. ``eps`` is added *outside* the
    square root, as in PyTorch and the seed (TensorFlow/Keras put it inside).

    >>> opt = RMSProp(lr=0.01, beta=0.99)
    >>> w = opt.step([0.0, 0.0], [100.0, 1.0])   # first step: lr/sqrt(1-beta) in both coordinates
    >>> np.round(w, 6)
    array([-0.1, -0.1])
    """

    state_names = ("s",)
    _arg_names = ("lr", "beta", "eps")

    def __init__(self, lr, beta=0.99, eps=1e-8):
        super().__init__(lr)
        self.beta = _checks.probability("beta", beta)
        self.eps = _checks.non_negative("eps", eps)
        self.s = None

    def update(self, w, g, lr):
        if self.s is None:
            # s_0 = 0
            self.s = np.zeros_like(w)
        # s = beta*s + (1-beta)*g^2
        self.s = self.beta * self.s + (1 - self.beta) * g**2
        # w = w - lr*g/(sqrt(s)+eps)
        return w - lr * g / (np.sqrt(self.s) + self.eps)


class Adam(Optimizer):
    r"""Adam: Momentum's direction, RMSProp's per-coordinate scale, and bias correction.

    .. math::
        m &\leftarrow \beta_1 m + (1-\beta_1) g \\
        v &\leftarrow \beta_2 v + (1-\beta_2) g^2 \\
        \hat m &= m / (1-\beta_1^t), \qquad \hat v = v / (1-\beta_2^t) \\
        w &\leftarrow w - \mathrm{lr}\, \frac{\hat m}{\sqrt{\hat v} + \epsilon}

    Kingma & Ba (2015). Matches ``torch.optim.Adam(lr, betas=(beta1, beta2), eps, weight_decay)``.

    ``weight_decay`` here is the *coupled* L2 form: ``g + weight_decay * w`` enters the moments and is
    rescaled by them (PyTorch's Adam does the same). For decoupled decay use :class:`AdamW`.

    Convention: ``eps`` is added after bias correction, outside the square root (PyTorch, the paper).

    The seed's worked example, step 1 with g = 5: m = 0.5 and m_hat = 5.0.

    >>> opt = Adam(lr=0.001)
    >>> w = opt.step([1.0], [5.0])
    >>> m_hat = opt.m / (1 - opt.beta1**opt.t)
    >>> print(f"m = {opt.m[0]:.12g}, m_hat = {m_hat[0]:.12g}")     # 1 - 0.9 is not exactly 0.1
    m = 0.5, m_hat = 5
    """

    state_names = ("m", "v")
    _arg_names = ("lr", "beta1", "beta2", "eps", "weight_decay")

    def __init__(self, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0):
        super().__init__(lr)
        self.beta1 = _checks.probability("beta1", beta1)
        self.beta2 = _checks.probability("beta2", beta2)
        self.eps = _checks.non_negative("eps", eps)
        self.weight_decay = _checks.non_negative("weight_decay", weight_decay)
        self.m = None
        self.v = None

    def adam_update(self, g):
        """The bias-corrected direction m_hat / (sqrt(v_hat) + eps) for gradient g at step t."""
        if self.m is None:
            # m_0 = v_0 = 0
            self.m, self.v = np.zeros_like(g), np.zeros_like(g)
        t = self.t
        # m = beta1*m + (1-beta1)*g
        self.m = self.beta1 * self.m + (1 - self.beta1) * g
        # v = beta2*v + (1-beta2)*g^2
        self.v = self.beta2 * self.v + (1 - self.beta2) * g**2
        # m_hat = m / (1 - beta1^t),  v_hat = v / (1 - beta2^t)
        m_hat = self.m / (1 - self.beta1**t)
        v_hat = self.v / (1 - self.beta2**t)
        # the direction: m_hat / (sqrt(v_hat) + eps)
        return m_hat / (np.sqrt(v_hat) + self.eps)

    def update(self, w, g, lr):
        if np.any(self.weight_decay):
            # L2: the decay joins the gradient, g = g + weight_decay*w
            g = g + self.weight_decay * w
        # w = w - lr*adam_update(g)
        return w - lr * self.adam_update(g)


class AdamW(Adam):
    r"""AdamW: Adam with decoupled weight decay, the optimizer of Transformers and VLAs.

    .. math:: w \leftarrow w - \mathrm{lr}\,\Big(\frac{\hat m}{\sqrt{\hat v} + \epsilon} + \lambda w\Big)

    with :math:`\hat m, \hat v` from the plain gradient, exactly as in :class:`Adam`. The one
    difference from ``Adam(weight_decay=λ)`` is where ``λ w`` goes: beside Adam's direction, not
    inside the gradient, so it is not divided by :math:`\sqrt{\hat v}`.

    Loshchilov & Hutter (2019). Matches ``torch.optim.AdamW`` (which decays first,
    ``w *= 1 - lr*λ``, the same update rearranged).

    Convention: the decay is multiplied by ``lr``, as in PyTorch and optax. The paper multiplies it
    by the schedule multiplier only (its ``lr`` is ``alpha`` times that multiplier), so the paper's
    λ is this ``weight_decay`` times the base learning rate ``alpha``.

    >>> AdamW(lr=0.1, weight_decay=0.5).step([2.0], [0.0])   # zero gradient: only the decay acts
    array([1.9])
    """

    def __init__(self, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.01):
        super().__init__(lr, beta1, beta2, eps, weight_decay)

    def update(self, w, g, lr):
        # decoupled decay: w = w - lr*(adam_update(g) + weight_decay*w)
        return w - lr * (self.adam_update(g) + self.weight_decay * w)


_FLOATS = (np.dtype(np.float64), np.dtype(np.float32))


def _float_array(name, x):
    """``x`` as a float32 or float64 array (integers become float64); anything else is refused."""
    if type(x) is np.ndarray and x.dtype in _FLOATS:               # the common case, checked fast
        return x
    if _checks._refused(x):
        raise ValueError(f"{name} must be an array of real numbers, got {_checks.shown(x)}")
    try:
        array = np.asarray(x)
    except (TypeError, ValueError, OverflowError):
        raise ValueError(f"{name} must be an array of real numbers, got {_checks.shown(x)}") from None
    if array.dtype.kind in "iu":
        return array.astype(float)
    if array.dtype == np.float16:
        raise ValueError(f"{name} must be float32 or float64, got dtype float16 (its largest number "
                         "is 65504, so g**2 overflows from |g| = 256 on): keep float32 master "
                         "weights and state, as mixed-precision training does")
    if array.dtype not in (np.float32, np.float64):
        raise ValueError(f"{name} must be an array of real numbers (float32 or float64), got "
                         f"dtype {array.dtype}")
    return array
