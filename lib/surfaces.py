r"""The problems of the 2-D chapters: loss surfaces with exact gradients and Hessians, a noisy
regression for the "stochastic" in SGD, and :func:`run`, which trains an optimizer on one of them.

Every problem has the same face::

    valley = narrow_valley()
    valley.loss(w)       # shape (...)          for w of shape (..., 2)
    valley.grad(w)       # shape (..., 2)
    valley.hessian(w)    # shape (..., 2, 2)
    valley.minima        # shape (k, 2), the known minimizers, the global one first
    valley.min_loss      # the loss at the global minimum
    valley.xlim, valley.ylim, valley.start, valley.levels    # for the plots

and every formula is written once, in the method that computes it. Leading axes are free: a grid
of shape (200, 200, 2) gives a (200, 200) loss for a contour plot, and a sweep of shape
(settings, 2) gives one loss per setting.

The problems, each with the lesson it is for:

- :func:`narrow_valley`: ½(a x² + b y²) with b = κ a; SGD's zig-zag, the threshold lr = 2/λ_max.
- :func:`badly_scaled`: ½(a x² + b y²) with b = 100 a; RMSProp's per-coordinate step.
- :func:`rosenbrock`: (a − x)² + b (y − x²)²; a curved, flat-bottomed valley.
- :func:`saddle`: x² − y² + c y⁴; stalling at a saddle, then escaping.
- :func:`two_minima`: (x² − 1)² + tilt·x + y²/2; a local minimum that momentum rolls past.
- :class:`NoisyRegression`: (1/2n) Σᵢ (xᵢ·w − yᵢ)²; the noise of minibatch gradients.

:func:`run` returns a :class:`RunResult`; a run that blows up stops cleanly (NaN from the step it
left the bound on, no numpy warnings) and says where (``diverged_at``).

Every ``loss``, ``grad`` and ``hessian`` raises no numpy warning: far from the minimum (|w| beyond
about 1e75) they overflow to inf (or NaN) silently, and :func:`run` reports that as divergence.
Arguments are checked up front; curvatures are at most :data:`MAX_CURVATURE`.
"""

import functools
from dataclasses import dataclass

import numpy as np

from . import _checks, convergence

MAX_CURVATURE = 1e6
"""The largest curvature (Hessian entry, kappa * a, Rosenbrock's b) a surface accepts: beyond it
the losses of the plotting window overflow float64 long before any optimizer runs."""

MAX_COORDINATE = 1e6
"""The largest coordinate of a minimum (and noise level) a surface accepts."""

MAX_ROSENBROCK_A = 1e3
"""Rosenbrock's minimum is (a, a²): |a| up to 1e3 keeps a² and the losses around it finite."""


def _quiet(method):
    """``method`` computed without numpy warnings: far out, a loss overflows to inf silently."""
    @functools.wraps(method)
    def quiet(self, w, *args, **kwargs):
        with np.errstate(over="ignore", invalid="ignore"):
            return method(self, w, *args, **kwargs)
    return quiet


class Surface:
    """What every problem shares: its name, minima, plotting window, start point and levels.

    A subclass writes ``loss``, ``grad`` and ``hessian``; each takes ``w`` of shape (..., 2).

    Attributes:
        name: a short description for titles and legends.
        minima: array (k, 2) of known minimizers, the global one first (k = 0 if there is none).
        min_loss: the loss at the global minimum (``-inf`` if the loss is unbounded below).
        xlim, ylim: a plotting window (pairs of floats) that shows the minima and ``start``.
        start: a default starting point, array (2,).
        levels: increasing loss values for ``plt.contour`` (log-spaced above ``min_loss``).
    """

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        for name in ("loss", "grad", "hessian", "data_loss"):
            if name in vars(cls):
                setattr(cls, name, _quiet(vars(cls)[name]))

    def __init__(self, name, minima, xlim, ylim, start, levels=None):
        if not isinstance(name, str):
            raise ValueError(f"name must be a string, got {_checks.shown(name)}")
        self.name = name
        self.minima = np.array(minima, dtype=float).reshape(-1, 2)
        self.min_loss = float(self.loss(self.minima[0])) if len(self.minima) else -np.inf
        self.xlim = _window("xlim", xlim)
        self.ylim = _window("ylim", ylim)
        self.start = _checks.point("start", start)
        if levels is None:
            self.levels = self._default_levels()
        else:
            self.levels = _checks.real_array("levels", levels, "increasing finite loss values")
            if (self.levels.ndim != 1 or not np.all(np.isfinite(self.levels))
                    or np.any(np.diff(self.levels) <= 0)):
                raise ValueError(f"levels must be increasing finite loss values (1-D), got "
                                 f"{_checks.show(levels)}")

    def loss(self, w):
        raise NotImplementedError

    def grad(self, w):
        raise NotImplementedError

    def hessian(self, w):
        raise NotImplementedError

    def grid(self, resolution=201):
        """The loss on a ``resolution`` x ``resolution`` grid over the window: ``(X, Y, Z)``,
        ready for ``plt.contour(X, Y, Z, levels=surface.levels)``."""
        resolution = _checks.count("resolution", resolution, minimum=2, maximum=4096)
        X, Y = np.meshgrid(np.linspace(*self.xlim, resolution), np.linspace(*self.ylim, resolution))
        return X, Y, self.loss(np.stack([X, Y], axis=-1))

    def _default_levels(self, count=15, decades=4):
        """``count`` levels from ``min_loss`` + (highest loss in the window) / 10**decades up to
        that highest loss, evenly spaced on a log scale, so the contours crowd near the minimum."""
        Z = self.grid(61)[2]
        if not np.isfinite(self.min_loss):
            return np.linspace(Z.min(), Z.max(), count + 2)[1:-1]
        span = Z.max() - self.min_loss
        return self.min_loss + np.geomspace(span / 10**decades, span, count)

    def __repr__(self):
        return f"<{type(self).__name__}: {self.name}>"


class Quadratic(Surface):
    r"""A quadratic bowl, the model of every minimum seen up close.

    .. math:: L(w) = \tfrac12 (w - w^*)^\top A\, (w - w^*) + L^*, \qquad
              \nabla L = A (w - w^*), \qquad \nabla^2 L = A

    ``A`` (2 x 2, symmetric, positive definite) is the Hessian, ``minimum`` is :math:`w^*` and
    ``min_loss`` is :math:`L^*`. Gradient descent is stable for ``lr < 2 / lambda_max``, and the
    condition number ``kappa = lambda_max / lambda_min`` sets how slowly it then converges.

    >>> bowl = Quadratic([[2.0, 0.0], [0.0, 8.0]], minimum=[1.0, 0.0], name="a bowl")
    >>> float(bowl.loss([2.0, 1.0]))            # ½(2·1² + 8·1²)
    5.0
    >>> bowl.grad([2.0, 1.0])
    array([2., 8.])
    >>> bowl.lambda_min, bowl.lambda_max, bowl.kappa
    (2.0, 8.0, 4.0)
    """

    def __init__(self, A, minimum=(0.0, 0.0), min_loss=0.0, *, name="quadratic",
                 xlim=(-10, 10), ylim=(-10, 10), start=(-8.0, 2.0), levels=None):
        A = np.array(_checks.real_array("A", A, "a symmetric 2 x 2 matrix"), dtype=float)
        if A.shape != (2, 2) or not np.all(np.isfinite(A)) or not np.allclose(A, A.T):
            raise ValueError(f"A must be a finite symmetric 2 x 2 matrix, got {_checks.show(A.tolist())}")
        if np.max(np.abs(A)) > MAX_CURVATURE:
            raise ValueError(f"A must have entries of at most {MAX_CURVATURE:g} in size, got "
                             f"{_checks.show(A.tolist())}")
        self.A = (A + A.T) / 2                                    # exactly symmetric after rounding
        eigenvalues = np.linalg.eigvalsh(A)
        if not eigenvalues[0] > 0:
            raise ValueError(f"A must be positive definite, got eigenvalues {eigenvalues.tolist()}")
        self.lambda_min, self.lambda_max = float(eigenvalues[0]), float(eigenvalues[1])
        self.kappa = self.lambda_max / self.lambda_min          # the condition number
        self.minimum = _checks.point("minimum", minimum)
        if np.max(np.abs(self.minimum)) > MAX_COORDINATE:
            raise ValueError(f"minimum must have coordinates of at most {MAX_COORDINATE:g} in size, "
                             f"got {_checks.show(self.minimum.tolist())}")
        self._offset = _checks.scalar("min_loss", min_loss, -MAX_COORDINATE, MAX_COORDINATE,
                                      high_open=False)
        super().__init__(name, [self.minimum], xlim, ylim, start, levels)

    def loss(self, w):
        d = _points(w) - self.minimum
        return 0.5 * np.einsum("...i,ij,...j->...", d, self.A, d) + self._offset

    def grad(self, w):
        return (_points(w) - self.minimum) @ self.A              # A is symmetric: A d = d A

    def hessian(self, w):
        return np.array(np.broadcast_to(self.A, _points(w).shape[:-1] + (2, 2)))


def narrow_valley(kappa=20.0, a=0.1, angle_degrees=0.0):
    r"""The seed's narrow valley: a long, gentle slope along x between steep walls in y.

    .. math:: L(x, y) = \tfrac12 (a x^2 + b y^2), \qquad b = \kappa a

    The Hessian is diag(a, b), so ``lambda_min = a``, ``lambda_max = b`` and the condition
    number is ``kappa``. SGD is stable for ``lr < 2 / lambda_max`` (1.0 by default); just below
    that it bounces from wall to wall (y is multiplied by 1 − lr·b each step, which is negative)
    while creeping along the floor (x is multiplied by 1 − lr·a, close to 1).

    ``angle_degrees`` turns the valley counterclockwise about the minimum at the origin (the
    start point and window turn with it), so that its axes are no longer the coordinate axes.

    Args:
        kappa: the condition number b / a, >= 1 (default 20).
        a: the curvature along the valley floor, > 0 (default 0.1; then b = 2.0).
        angle_degrees: the direction of the valley floor, counterclockwise from the x axis.

    >>> valley = narrow_valley()
    >>> valley.lambda_min, valley.lambda_max, valley.kappa
    (0.1, 2.0, 20.0)
    >>> 2 / valley.lambda_max                   # SGD's learning rate must stay below this
    1.0
    >>> valley.start, float(valley.loss(valley.start))
    (array([-8.,  2.]), 7.2)
    """
    kappa = _checks.scalar("kappa", kappa, 1.0, MAX_CURVATURE, high_open=False)
    a = _checks.scalar("a", a, 0.0, MAX_CURVATURE, low_open=True, high_open=False)
    angle_degrees = _checks.finite("angle_degrees", angle_degrees)
    b = kappa * a
    if b > MAX_CURVATURE:
        raise ValueError(f"kappa must be at most {MAX_CURVATURE:g} / a = {MAX_CURVATURE / a:g} "
                         f"(b = kappa * a is the steep curvature), got {kappa!r}")
    turn = _rotation(angle_degrees)
    A = turn @ np.diag([a, b]) @ turn.T
    xlim, ylim = _turned_window((-10, 10), (-4, 4), turn)
    name = f"narrow valley (κ = {kappa:g})"
    if angle_degrees:
        name += f", turned {angle_degrees:g}°"
    return Quadratic(A, name=name, xlim=xlim, ylim=ylim, start=turn @ [-8.0, 2.0])


def badly_scaled(ratio=100.0, a=1.0, minimum=(0.0, 0.0)):
    r"""A bowl whose two coordinates differ ``ratio`` times in curvature, hence in gradient.

    .. math:: L(x, y) = \tfrac12 \big(a (x - x^*)^2 + b (y - y^*)^2\big), \qquad b = \text{ratio} \cdot a

    At equal distances from the minimum the y-gradient is ``ratio`` (100) times the x-gradient.
    SGD must keep ``lr < 2 / b`` = 0.02 for y, and with such a step x shrinks only by a factor
    1 − lr·a ≈ 0.98 per step: it crawls. RMSProp divides each coordinate by its own gradient
    scale and moves both at about ``lr`` per step. Move ``minimum`` away from the origin to see
    weight decay pull against the loss (the AdamW chapter).

    Args:
        ratio: b / a, >= 1 (default 100).
        a: the curvature in x, > 0 (default 1.0; then b = 100).
        minimum: the minimizer (x*, y*), default the origin.

    >>> bowl = badly_scaled()
    >>> bowl.grad([1.0, 1.0])                    # the same distance, 100 times the gradient
    array([  1., 100.])
    >>> bowl.lambda_max
    100.0
    """
    ratio = _checks.scalar("ratio", ratio, 1.0, MAX_CURVATURE, high_open=False)
    a = _checks.scalar("a", a, 0.0, MAX_CURVATURE, low_open=True, high_open=False)
    if ratio * a > MAX_CURVATURE:
        raise ValueError(f"ratio must be at most {MAX_CURVATURE:g} / a = {MAX_CURVATURE / a:g}, "
                         f"got {ratio!r}")
    minimum = _checks.point("minimum", minimum)
    if np.max(np.abs(minimum)) > MAX_COORDINATE:
        raise ValueError(f"minimum must have coordinates of at most {MAX_COORDINATE:g} in size, "
                         f"got {_checks.show(minimum.tolist())}")
    return Quadratic(np.diag([a, ratio * a]), minimum, name=f"badly scaled bowl ({ratio:g}x)",
                     xlim=minimum[0] + np.array([-5, 5]), ylim=minimum[1] + np.array([-2.5, 2.5]),
                     start=minimum + [-4.0, 2.0])


class Rosenbrock(Surface):
    r"""Rosenbrock's banana: a curved, flat-bottomed valley, easy to find and slow to follow.

    .. math::
        L &= (a - x)^2 + b\,(y - x^2)^2 \\
        \nabla L &= \big(-2(a - x) - 4 b x (y - x^2),\; 2 b (y - x^2)\big) \\
        \nabla^2 L &= \begin{pmatrix} 2 - 4 b (y - x^2) + 8 b x^2 & -4 b x \\ -4 b x & 2 b \end{pmatrix}

    The minimum is at (a, a²) with loss 0. This is the standard, unscaled form (Rosenbrock 1960),
    so learning rates compare with the literature: with a = 1, b = 100 the Hessian at the minimum
    has eigenvalues ≈ 1001.6 and ≈ 0.40 (κ ≈ 2500), so plain gradient descent needs
    ``lr < 2/1001.6 ≈ 0.002`` near the minimum, and the gradient at the classic start
    (−1.2, 1) is ≈ (−215.6, −88). A smaller ``b`` gives a gentler valley.

    >>> banana = Rosenbrock()
    >>> banana.minima, banana.min_loss
    (array([[1., 1.]]), 0.0)
    >>> banana.grad([-1.2, 1.0])
    array([-215.6,  -88. ])
    """

    def __init__(self, a=1.0, b=100.0):
        self.a = _checks.scalar("a", a, -MAX_ROSENBROCK_A, MAX_ROSENBROCK_A, high_open=False)
        self.b = _checks.scalar("b", b, 0.0, MAX_CURVATURE, low_open=True, high_open=False)
        super().__init__(f"Rosenbrock (a = {self.a:g}, b = {self.b:g})", [[self.a, self.a**2]],
                         xlim=(-2, 2), ylim=(-1, 3), start=(-1.2, 1.0))

    def loss(self, w):
        x, y = _xy(w)
        a, b = self.a, self.b
        return (a - x)**2 + b * (y - x**2)**2

    def grad(self, w):
        x, y = _xy(w)
        a, b = self.a, self.b
        return np.stack([-2 * (a - x) - 4 * b * x * (y - x**2),
                         2 * b * (y - x**2)], axis=-1)

    def hessian(self, w):
        x, y = _xy(w)
        b = self.b
        return _symmetric(2 - 4 * b * (y - x**2) + 8 * b * x**2, -4 * b * x, 2 * b)


def rosenbrock(a=1.0, b=100.0):
    """Rosenbrock's function with minimum (a, a²); see :class:`Rosenbrock`."""
    return Rosenbrock(a, b)


class Saddle(Surface):
    r"""A saddle at the origin: a minimum along x, a maximum along y.

    .. math::
        L &= x^2 - y^2 + c\, y^4 \\
        \nabla L &= (2x,\; -2y + 4 c y^3) \\
        \nabla^2 L &= \operatorname{diag}(2,\; -2 + 12 c y^2)

    At the origin the gradient is zero and the Hessian diag(2, −2) is indefinite. Near the y = 0
    line the gradient points almost only along x, so gradient descent walks straight to the
    saddle and stalls there; the y-offset grows by a factor 1 + 2·lr per step until the run
    escapes. The quartic term ``c y⁴`` (``quartic``, default 1/4) is there so that it has
    somewhere to go: two minima at (0, ±1/√(2c)) = (0, ±√2) with loss −1/(4c) = −1.
    ``quartic=0`` gives the pure x² − y², unbounded below (no minima, ``min_loss = -inf``).

    >>> s = Saddle()
    >>> s.grad([0.0, 0.0]), s.hessian([0.0, 0.0])
    (array([0., 0.]), array([[ 2.,  0.],
           [ 0., -2.]]))
    >>> s.minima, round(s.min_loss, 12)
    (array([[ 0.        ,  1.41421356],
           [ 0.        , -1.41421356]]), -1.0)
    """

    def __init__(self, quartic=0.25):
        self.quartic = _checks.scalar("quartic", quartic, 0.0, MAX_CURVATURE, high_open=False)
        if 0 < self.quartic < 1e-6:
            raise ValueError(f"quartic must be 0 or in [1e-06, {MAX_CURVATURE:g}] (its minima are at "
                             f"y = ±1/sqrt(2*quartic)), got {self.quartic!r}")
        c = self.quartic
        minima = [[0.0, np.sqrt(1 / (2 * c))], [0.0, -np.sqrt(1 / (2 * c))]] if c > 0 else []
        name = "saddle x² − y²" + (f" + {c:g} y⁴" if c > 0 else "")
        super().__init__(name, minima, xlim=(-3, 3), ylim=(-2.5, 2.5), start=(-2.5, 1e-3))
        self.saddle_point = np.zeros(2)

    def loss(self, w):
        x, y = _xy(w)
        return x**2 - y**2 + self.quartic * y**4

    def grad(self, w):
        x, y = _xy(w)
        return np.stack([2 * x, -2 * y + 4 * self.quartic * y**3], axis=-1)

    def hessian(self, w):
        x, y = _xy(w)
        return _symmetric(2.0, 0.0, -2 + 12 * self.quartic * y**2)


def saddle(quartic=0.25):
    """The saddle x² − y² + quartic·y⁴ at the origin; see :class:`Saddle`."""
    return Saddle(quartic)


class TwoMinima(Surface):
    r"""A tilted double well: a shallow local minimum on the right, a deeper global one on the left.

    .. math::
        L &= (x^2 - 1)^2 + \text{tilt}\cdot x + \tfrac12 y^2 \\
        \nabla L &= \big(4x(x^2 - 1) + \text{tilt},\; y\big) \\
        \nabla^2 L &= \operatorname{diag}(12 x^2 - 4,\; 1)

    The minima are the outer roots of 4x³ − 4x + tilt = 0 (y = 0), near x = ∓1; the tilt
    lowers the left one. From the default start (1.6, 1) on the right-hand slope (measured for
    tilt = 0.5 over 3000 steps): plain gradient descent settles in the local minimum for every
    lr below 0.14 (a larger first step jumps the barrier outright), while Momentum with
    beta = 0.9 rolls over the barrier into the global minimum for every lr from 0.0071 to 0.074
    (too little speed below, too wild above). The tests check lr = 0.02 for both.

    Attributes ``global_minimum`` and ``local_minimum`` name the two rows of ``minima``.

    >>> well = TwoMinima()
    >>> np.round(well.minima, 3)
    array([[-1.057,  0.   ],
           [ 0.93 ,  0.   ]])
    >>> round(float(well.loss(well.local_minimum) - well.min_loss), 3)   # how much deeper the global one is
    0.998
    """

    def __init__(self, tilt=0.5):
        # Two minima need three real roots: 0 < tilt < 8 / (3 √3).
        self.tilt = _checks.scalar("tilt", tilt, 0.0, 8 / (3 * np.sqrt(3)))
        if self.tilt == 0:
            raise ValueError("tilt must be in (0, 1.5396), got 0.0 (the two minima would tie)")
        roots = np.sort(np.roots([4.0, 0.0, -4.0, self.tilt]).real)
        self.global_minimum = np.array([roots[0], 0.0])      # the left root is the lower one
        self.local_minimum = np.array([roots[2], 0.0])
        super().__init__(f"two minima (tilt = {self.tilt:g})",
                         [self.global_minimum, self.local_minimum],
                         xlim=(-2, 2), ylim=(-1.5, 1.5), start=(1.6, 1.0))

    def loss(self, w):
        x, y = _xy(w)
        return (x**2 - 1)**2 + self.tilt * x + 0.5 * y**2

    def grad(self, w):
        x, y = _xy(w)
        return np.stack([4 * x * (x**2 - 1) + self.tilt, y], axis=-1)

    def hessian(self, w):
        x, y = _xy(w)
        return _symmetric(12 * x**2 - 4, 0.0, 1.0)


def two_minima(tilt=0.5):
    """A tilted double well with a local and a lower global minimum; see :class:`TwoMinima`."""
    return TwoMinima(tilt)


class NoisyRegression(Quadratic):
    r"""Linear regression with two weights on generated data: the "stochastic" in SGD.

    The data: ``n_samples`` inputs :math:`x_i` drawn from a normal distribution with unit
    variances and correlation ``correlation`` (so the bowl is tilted and elongated), and targets
    :math:`y_i = x_i \cdot w_\text{true} + \text{noise}\cdot \varepsilon_i` with
    :math:`\varepsilon_i \sim N(0, 1)`, all from ``np.random.default_rng(seed)``.

    .. math::
        L(w) &= \frac{1}{2n} \sum_{i=1}^n (x_i \cdot w - y_i)^2 = \frac{1}{2n}\lVert Xw - y\rVert^2 \\
        \nabla L &= \frac1n X^\top (X w - y), \qquad \nabla^2 L = \frac1n X^\top X

    The loss is a :class:`Quadratic` with :math:`A = X^\top X / n` and minimum the least-squares
    solution :math:`\hat w = (X^\top X)^{-1} X^\top y` (close to, not equal to, ``w_true``), so
    ``loss`` and ``grad`` cost nothing per sample. :meth:`minibatch_grad` is the one that reads
    the data: the same formula over ``batch_size`` samples drawn without replacement, an
    unbiased estimate of the full gradient whose noise shrinks as the batch grows (and vanishes
    at ``batch_size = n_samples``).

    Args:
        n_samples: how many (x, y) pairs (default 100).
        noise: the standard deviation of the target noise (default 0.5).
        seed: the seed of the generator that draws the data (default 0).
        w_true: the weights that generated the targets (default (2, 1)).
        correlation: the correlation of the two inputs, in (−1, 1) (default 0.8; then the
            Hessian's eigenvalues are about 1.8 and 0.2).

    >>> problem = NoisyRegression(seed=0)
    >>> problem.X.shape, problem.y.shape
    ((100, 2), (100,))
    >>> rng = np.random.default_rng(1)
    >>> problem.minibatch_grad(problem.start, batch_size=10, rng=rng).shape
    (2,)
    >>> bool(np.allclose(problem.minibatch_grad(problem.start, 100, rng), problem.grad(problem.start)))
    True
    """

    def __init__(self, n_samples=100, noise=0.5, seed=0, w_true=(2.0, 1.0), correlation=0.8):
        n_samples = _checks.count("n_samples", n_samples, minimum=2, maximum=10**6)
        self.noise = _checks.scalar("noise", noise, 0.0, MAX_COORDINATE, high_open=False)
        correlation = _checks.scalar("correlation", correlation, -1.0, 1.0, low_open=True)
        self.seed = _checks.seed("seed", seed)
        self.w_true = _checks.point("w_true", w_true)
        if np.max(np.abs(self.w_true)) > MAX_COORDINATE:
            raise ValueError(f"w_true must have coordinates of at most {MAX_COORDINATE:g} in size, "
                             f"got {_checks.show(self.w_true.tolist())}")
        rng = np.random.default_rng(self.seed)
        z = rng.standard_normal((n_samples, 2))
        x1 = z[:, 0]
        x2 = correlation * z[:, 0] + np.sqrt(1 - correlation**2) * z[:, 1]  # corr(x1, x2) = correlation
        self.X = np.stack([x1, x2], axis=-1)
        self.y = self.X @ self.w_true + self.noise * rng.standard_normal(n_samples)
        self.n_samples = n_samples

        A = self.X.T @ self.X / n_samples
        w_hat = np.linalg.solve(self.X.T @ self.X, self.X.T @ self.y)   # least squares
        residual = self.X @ w_hat - self.y
        min_loss = 0.5 * np.mean(residual**2)
        super().__init__(A, w_hat, min_loss,
                         name=f"noisy regression (n = {n_samples}, noise = {self.noise:g})",
                         xlim=w_hat[0] + np.array([-4.0, 4.0]), ylim=w_hat[1] + np.array([-4.0, 4.0]),
                         start=w_hat + [-3.0, 1.0])

    def data_loss(self, w):
        """The loss straight from the data, (1/2n) Σ (x_i·w − y_i)², equal to ``loss`` up to
        rounding but O(n) per point: a check of the algebra, not for sweeps."""
        residual = np.einsum("ni,...i->...n", self.X, _points(w)) - self.y
        return 0.5 * np.mean(residual**2, axis=-1)

    def minibatch_grad(self, w, batch_size, rng):
        r"""The gradient on a random minibatch B of ``batch_size`` samples:
        :math:`\frac{1}{|B|} \sum_{i \in B} x_i (x_i \cdot w - y_i)`.

        Samples are drawn without replacement from ``rng`` (a ``np.random.Generator``), a fresh
        batch for every point: for ``w`` of shape (settings, 2) each setting gets its own batch.
        """
        batch_size = _checks.count("batch_size", batch_size, minimum=1)
        if batch_size > self.n_samples:
            raise ValueError(f"batch_size must be in [1, {self.n_samples}], got {batch_size}")
        _checks.generator("rng", rng)
        w = _points(w)
        keys = rng.random(w.shape[:-1] + (self.n_samples,))
        batch = np.argpartition(keys, batch_size - 1, axis=-1)[..., :batch_size]  # a random subset
        X, y = self.X[batch], self.y[batch]                                      # (..., B, 2), (..., B)
        residual = np.einsum("...bi,...i->...b", X, w) - y
        return np.einsum("...bi,...b->...i", X, residual) / batch_size


@dataclass
class RunResult:
    """What :func:`run` returns.

    Attributes:
        trajectory: array (steps + 1, ..., 2); ``trajectory[0]`` is ``w0``, ``trajectory[k]`` the
            weights after k steps. From ``diverged_at`` on it is NaN, so a plot simply stops.
        losses: array (steps + 1, ...), the full-batch loss at each point (NaN after divergence).
        diverged_at: the first step k at which the weights were non-finite or outside the bound
            (or the loss non-finite). One run: an int, or None if it never diverged. A sweep: an
            int array of the settings' shape, with -1 for the runs that never diverged.
        min_loss: the problem's ``min_loss``, kept for :func:`steps_to_tolerance`.
    """

    trajectory: np.ndarray
    losses: np.ndarray
    diverged_at: object
    min_loss: float

    @property
    def diverged(self):
        """True where the run diverged (a bool, or a bool array for a sweep)."""
        if np.ndim(self.diverged_at) == 0:
            return self.diverged_at is not None
        return self.diverged_at >= 0


def run(optimizer, problem, w0=None, steps=100, *, grad=None, bound=1e6):
    """Train: ``steps`` times ``w = optimizer.step(w, grad(w))`` from ``w0``; a :class:`RunResult`.

    Args:
        optimizer: a fresh optimizer from :mod:`lib.optimizers` (one that has taken no step yet).
        problem: a surface or :class:`NoisyRegression` (anything with ``loss``, ``grad``, ``start``).
        w0: the start, shape (2,) or (settings..., 2); default ``problem.start``.
        steps: how many steps.
        grad: a function ``w -> gradient`` to use instead of ``problem.grad``, e.g. a minibatch
            gradient ``lambda w: problem.minibatch_grad(w, 8, rng)``. The recorded losses are
            always the full-batch ``problem.loss``.
        bound: a run has diverged once ``|w|`` (the Euclidean norm) exceeds this (default 1e6).

    A sweep is one call: give the optimizer hyperparameters of shape (settings, 1) (they
    broadcast against w) and ``w0`` of shape (settings, 2), or just (2,), which is broadcast to
    the sweep's shape. Divergence is detected per setting; overflow along the way raises no numpy
    warning, and everything from the divergent step on is NaN.

    >>> from lib.optimizers import SGD
    >>> valley = narrow_valley()                       # lambda_max = 2: SGD needs lr < 1
    >>> run(SGD(lr=0.5), valley, steps=100).diverged_at is None
    True
    >>> result = run(SGD(lr=1.1), valley, steps=100)
    >>> result.diverged_at, result.trajectory.shape
    (72, (101, 2))
    >>> sweep = run(SGD(lr=np.array([[0.5], [1.1]])), valley, steps=100)
    >>> sweep.diverged_at, sweep.losses.shape
    (array([-1, 72]), (101, 2))
    """
    steps = _checks.count("steps", steps)
    bound = _checks.scalar("bound", bound, 0.0, low_open=True)
    if not (callable(getattr(optimizer, "step", None)) and hasattr(optimizer, "t")):
        raise ValueError("optimizer must be an optimizer from lib.optimizers (something with "
                         f"step(w, grad) and t), got {_checks.shown(optimizer)}")
    for attribute in ("loss", "grad", "start", "min_loss"):
        if not hasattr(problem, attribute):
            raise ValueError(f"problem must be a surface or a NoisyRegression (something with "
                             f"loss, grad, start and min_loss), got {_checks.shown(problem)}")
    if grad is not None:
        _checks.function("grad", grad, "a function w -> gradient (or None)")
    if getattr(optimizer, "t", 0) != 0:
        raise ValueError(f"optimizer must be fresh, but it has already taken {optimizer.t} steps "
                         "(its state would carry over): create a new one for each run")
    grad = problem.grad if grad is None else grad
    try:
        w = _points(problem.start if w0 is None else w0, "w0")
    except ValueError as error:
        raise ValueError(f"{error} (w0 is the start: w must have shape (..., 2))") from None

    points = [w]
    with np.errstate(all="ignore"):                      # overflow is detected below, not warned
        for _ in range(steps):
            w = optimizer.step(w, grad(w))
            points.append(w)
        trajectory = np.stack(np.broadcast_arrays(*points))   # w0 broadcast to the sweep's shape
        losses = problem.loss(trajectory)
        bad = ~(np.isfinite(trajectory).all(axis=-1) & np.isfinite(losses)
                & (np.linalg.norm(trajectory, axis=-1) <= bound))
    gone = np.logical_or.accumulate(bad, axis=0)        # diverged at or before each step
    trajectory[gone] = np.nan
    losses[gone] = np.nan
    return RunResult(trajectory, losses, _first_step(gone), problem.min_loss)


def steps_to_tolerance(result, tol):
    """The *first touch*: the first step k at which ``losses[k] - min_loss < tol``, whether or not
    the loss stays there, reported as ``diverged_at`` is: for one run an int, or None if never
    reached; for a sweep an int array with -1 for never.

    This is not the book's "converged" (the loss below ``tol`` *and staying there*): that is
    :func:`steps_to_settle`. The two agree when the loss falls monotonically, as here:

    >>> from lib.optimizers import SGD
    >>> steps_to_tolerance(run(SGD(lr=0.9), narrow_valley(), steps=200), tol=1e-3)
    43

    (By hand: the loss after k steps is 3.2·0.91^(2k) + 4·0.8^(2k), first below 1e-3 at k = 43.)
    """
    tol = _checks.scalar("tol", tol, 0.0, low_open=True)
    if not isinstance(result, RunResult):
        raise ValueError(f"result must be a RunResult (what run returns), got {_checks.shown(result)}")
    if not np.isfinite(result.min_loss):
        raise ValueError("steps_to_tolerance needs a problem with a finite min_loss")
    return _first_step(result.losses - result.min_loss < tol)


def steps_to_settle(result, tol, window=None):
    """The step from which ``losses - min_loss < tol`` holds to the end of the run (or for
    ``window`` more steps): :func:`lib.convergence.settled_at` on a :class:`RunResult`, reported
    like :func:`steps_to_tolerance` (int or None; for a sweep an int array with -1 for never).

    >>> from lib.optimizers import RMSProp
    >>> bouncing = run(RMSProp(lr=0.6), narrow_valley(), steps=200)   # touches at 6, bounces out
    >>> steps_to_tolerance(bouncing, tol=1e-3), steps_to_settle(bouncing, tol=1e-3)
    (6, None)
    """
    tol = _checks.scalar("tol", tol, 0.0, low_open=True)
    if not isinstance(result, RunResult):
        raise ValueError(f"result must be a RunResult (what run returns), got {_checks.shown(result)}")
    if not np.isfinite(result.min_loss):
        raise ValueError("steps_to_settle needs a problem with a finite min_loss")
    return convergence.settled_at(result.losses, result.min_loss, tol, window=window)


def _first_step(flags):
    """The first index along axis 0 where ``flags`` holds: int or None, or an int array with -1."""
    first = np.where(flags.any(axis=0), np.argmax(flags, axis=0), -1)
    if first.ndim == 0:
        return None if first < 0 else int(first)
    return first


def _points(w, name="w"):
    """``w`` as a float array of shape (..., 2)."""
    w = _checks.real_array(name, w, "points in the plane, real numbers of shape (..., 2)")
    if w.ndim == 0 or w.shape[-1] != 2:
        raise ValueError(f"{name} must have shape (..., 2) (points in the plane), got shape {w.shape}")
    return w


def _window(name, limits):
    """A plotting range ``(low, high)`` of finite floats with low < high."""
    pair = _checks.real_array(name, limits, "a pair (low, high) of finite numbers")
    if pair.shape != (2,) or not np.all(np.isfinite(pair)) or not pair[0] < pair[1]:
        raise ValueError(f"{name} must be a pair (low, high) of finite numbers with low < high, "
                         f"got {_checks.show(limits)}")
    return float(pair[0]), float(pair[1])


def _xy(w):
    """The two coordinates of ``w`` (shape (..., 2)), each of shape (...)."""
    w = _points(w)
    return w[..., 0], w[..., 1]


def _symmetric(hxx, hxy, hyy):
    """The 2 x 2 matrices [[hxx, hxy], [hxy, hyy]], shape (..., 2, 2), from arrays of shape (...)."""
    hxx, hxy, hyy = np.broadcast_arrays(hxx, hxy, hyy)
    return np.stack([np.stack([hxx, hxy], axis=-1), np.stack([hxy, hyy], axis=-1)], axis=-2)


def _rotation(angle_degrees):
    """The matrix that turns the plane counterclockwise by ``angle_degrees``."""
    theta = np.deg2rad(float(angle_degrees))
    return np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])


def _turned_window(xlim, ylim, turn):
    """The smallest axis-aligned window holding the window (xlim, ylim) after ``turn``."""
    corners = np.array([[x, y] for x in xlim for y in ylim]) @ turn.T
    return (corners[:, 0].min(), corners[:, 0].max()), (corners[:, 1].min(), corners[:, 1].max())


# --- one dimension: the tools chapter's first problem ----------------------------------------------

class Parabola:
    r"""The 1-D problem of the tools chapter: a parabola with its minimum at 0.

    .. math:: f(x) = \tfrac{\lambda}{2} x^2, \qquad f'(x) = \lambda x, \qquad f''(x) = \lambda

    ``lam`` is the curvature :math:`\lambda` (the 1-D Hessian); the default 2 gives
    :math:`f(x) = x^2`. Gradient descent multiplies x by :math:`1 - \mathrm{lr}\,\lambda` per step:
    it creeps for lr < 1/lam, overshoots and oscillates for 1/lam < lr < 2/lam, diverges above.
    ``loss``, ``grad`` and ``hessian`` take x of any shape. Train it with :func:`run_1d`.

    >>> f = parabola()                      # f(x) = x^2
    >>> float(f.loss(3.0)), float(f.grad(3.0)), float(f.hessian(3.0))
    (9.0, 6.0, 2.0)
    """

    def __init__(self, lam=2.0, start=1.0):
        self.lam = _checks.scalar("lam", lam, 0.0, MAX_CURVATURE, low_open=True, high_open=False)
        self.start = _checks.scalar("start", start, -MAX_COORDINATE, MAX_COORDINATE,
                                    high_open=False)
        self.minimum = 0.0
        self.min_loss = 0.0
        self.name = f"f(x) = ({self.lam:g}/2) x²"

    def _x(self, x):
        return _checks.real_array("x", x, "real numbers (points on the line)")

    def loss(self, x):
        """f(x) = (lam/2) x², the shape of ``x`` (inf far out, without a warning)."""
        x = self._x(x)
        with np.errstate(over="ignore", invalid="ignore"):
            return 0.5 * self.lam * x * x

    def grad(self, x):
        """f'(x) = lam x, the shape of ``x``."""
        x = self._x(x)
        with np.errstate(over="ignore", invalid="ignore"):
            return self.lam * x

    def hessian(self, x):
        """f''(x) = lam everywhere, the shape of ``x``."""
        return np.full(np.shape(self._x(x)), self.lam)

    def __repr__(self):
        return f"<Parabola: {self.name}>"


def parabola(lam=2.0, start=1.0):
    r"""The parabola :math:`f(x) = \tfrac{\lambda}{2} x^2` (default :math:`x^2`), started at ``start``.

    >>> parabola(lam=10.0).lam, parabola().start
    (10.0, 1.0)
    """
    return Parabola(lam, start)


class _OnTheLine:
    """A 1-D problem as :func:`run` sees it: the point (x, 0) of the plane, the second coordinate
    with zero gradient, so every optimizer of the library leaves it at 0."""

    def __init__(self, problem):
        self.problem = problem
        self.start = np.array([problem.start, 0.0])
        self.min_loss = problem.min_loss

    def loss(self, w):
        return self.problem.loss(w[..., 0])

    def grad(self, w):
        g = self.problem.grad(w[..., 0])
        return np.stack([g, np.zeros_like(g)], axis=-1)


def run_1d(optimizer, problem, x0=None, steps=20, *, bound=1e6):
    """Train on a 1-D problem (a :class:`Parabola`): :func:`run` on the line, x only.

    Returns a :class:`RunResult` whose ``trajectory`` has shape (steps + 1, ...) (no trailing 2):
    ``trajectory[k]`` is x after k steps; ``losses``, ``diverged_at`` (``|x| > bound``) as in
    :func:`run`. A sweep: hyperparameters of shape (settings, 1), as for :func:`run`.

    >>> from lib.optimizers import SGD
    >>> run_1d(SGD(lr=0.1), parabola(), steps=3).trajectory    # x times 1 - 0.1*2 = 0.8
    array([1.   , 0.8  , 0.64 , 0.512])
    >>> run_1d(SGD(lr=1.1), parabola(), steps=100).diverged_at   # |x| = 1.2^k passes 1e6
    76
    """
    if not isinstance(problem, Parabola):
        raise ValueError(f"problem must be a 1-D problem (a Parabola, from parabola()), got "
                         f"{_checks.shown(problem)}")
    line = _OnTheLine(problem)
    if x0 is None:
        w0 = line.start
    else:
        x0 = _checks.real_array("x0", x0, "the start: real numbers (points on the line)")
        w0 = np.stack([x0, np.zeros_like(x0)], axis=-1)
    result = run(optimizer, line, w0, steps, bound=bound)
    return RunResult(result.trajectory[..., 0], result.losses, result.diverged_at,
                     result.min_loss)
