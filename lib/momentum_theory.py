r"""How fast gradient descent with and without momentum converges on a quadratic, from theory.

On a quadratic bowl with Hessian eigenvalue :math:`\lambda` (one eigen-direction; each direction
moves on its own), :class:`lib.optimizers.Momentum` (the heavy ball, ``v = beta*v + g``,
``w = w - lr*v``) is a linear map of the state :math:`(w, v)`:

.. math::
    \begin{pmatrix} w_{k+1} \\ v_{k+1} \end{pmatrix} = M \begin{pmatrix} w_k \\ v_k \end{pmatrix},
    \qquad
    M = \begin{pmatrix} 1 - \mathrm{lr}\,\lambda & -\mathrm{lr}\,\beta \\ \lambda & \beta \end{pmatrix}

(the minimum is at :math:`w = 0`). The error shrinks per step by the spectral radius of ``M``,
the larger modulus of the roots of :math:`z^2 - (1 + \beta - \mathrm{lr}\,\lambda) z + \beta = 0`.
``beta = 0`` is plain SGD, whose factor is :math:`|1 - \mathrm{lr}\,\lambda|`.

Facts this module computes (Polyak 1964; Goh 2017, "Why Momentum Really Works"):

- stability: the run converges iff :math:`0 < \mathrm{lr}\,\lambda < 2 + 2\beta` (with
  :math:`0 \le \beta < 1`); for SGD that is the familiar :math:`\mathrm{lr} < 2/\lambda_{max}`;
- on a bowl with eigenvalues in :math:`[\lambda_{min}, \lambda_{max}]` and condition number
  :math:`\kappa = \lambda_{max}/\lambda_{min}`, the best SGD step is
  :math:`2/(\lambda_{min}+\lambda_{max})` with rate :math:`(\kappa-1)/(\kappa+1)`, and the best
  heavy ball is :math:`\mathrm{lr} = (2/(\sqrt{\lambda_{max}}+\sqrt{\lambda_{min}}))^2`,
  :math:`\beta = ((\sqrt\kappa-1)/(\sqrt\kappa+1))^2` with rate
  :math:`(\sqrt\kappa-1)/(\sqrt\kappa+1)`.

Convention: ``v`` sums gradients (PyTorch's ``SGD(momentum=beta)``, the seed's form), so the
matrix carries ``lr`` where the "EMA" form ``v = beta*v + (1-beta)*g`` carries ``lr*(1-beta)``;
Goh (2017) writes the step with ``alpha`` = ``lr``, the same as here.

The same matrix as a two-step recurrence: eliminating ``v`` (``lr*v_k = w_{k-1} - w_k``) gives
:math:`w_{k+1} = (1 + \beta - \mathrm{lr}\,\lambda)\, w_k - \beta\, w_{k-1}`, the companion matrix
:math:`\begin{pmatrix} 1 + \beta - \mathrm{lr}\,\lambda & -\beta \\ 1 & 0 \end{pmatrix}` acting on
:math:`(w_k, w_{k-1})`, with the same trace :math:`1 + \beta - \mathrm{lr}\,\lambda` and determinant
:math:`\beta`, hence the same :func:`eigenvalues`. Their kind is the damping (:func:`damping`):
two real positive roots (over-damped, the error decays without changing sign), a double root
at :func:`critical_beta` (critically damped), a complex pair of modulus :math:`\sqrt\beta`
(under-damped: the error swings around the minimum), or real negative roots (large
:math:`\mathrm{lr}\,\lambda`: the sign flips at every step, as SGD's does above :math:`1/\lambda`).

``nesterov=True`` (the functions that take it) is :class:`lib.variants.Nesterov`, whose step is
``w = w - lr*(g + beta*v)``: :math:`M = \begin{pmatrix} 1 - \mathrm{lr}\,\lambda(1+\beta) &
-\mathrm{lr}\,\beta^2 \\ \lambda & \beta \end{pmatrix}`, trace
:math:`(1+\beta)(1-\mathrm{lr}\,\lambda)`, determinant :math:`\beta(1-\mathrm{lr}\,\lambda)`.

Every function broadcasts: ``lr`` and ``beta`` of shape (100, 1) and (1, 100) give a map.
"""

from collections import namedtuple

import numpy as np

from . import _checks

MAX_VALUE = 1e6
"""The largest ``lr`` and ``|lam|`` the functions here accept (their product, squared, stays finite)."""

Optimum = namedtuple("Optimum", ["lr", "beta", "rate"])
"""The best constant hyperparameters for a quadratic and the per-step rate they give."""


def iteration_matrix(lr, beta, lam, nesterov=False):
    """The matrix ``M`` with ``(w, v)`` after a step ``= M @ (w, v)`` before it; shape (..., 2, 2).

    ``nesterov=True``: the matrix of :class:`lib.variants.Nesterov` (see the module docstring).

    >>> iteration_matrix(0.5, 0.9, 2.0)
    array([[ 0.  , -0.45],
           [ 2.  ,  0.9 ]])
    """
    lr, beta, lam = _broadcast(lr, beta, lam)
    if _checks.boolean("nesterov", nesterov):
        top = np.stack([1 - lr * lam * (1 + beta), -lr * beta**2], axis=-1)
    else:
        top = np.stack([1 - lr * lam, -lr * beta], axis=-1)
    bottom = np.stack([lam, beta], axis=-1)
    return np.stack([top, bottom], axis=-2)


def eigenvalues(lr, beta, lam, nesterov=False):
    r"""The two eigenvalues of :func:`iteration_matrix`, the larger modulus first; complex,
    shape (..., 2): the roots of :math:`z^2 - (1+\beta-\mathrm{lr}\lambda)z + \beta` (heavy ball)
    or of :math:`z^2 - (1+\beta)(1-\mathrm{lr}\lambda)z + \beta(1-\mathrm{lr}\lambda)` (Nesterov).

    >>> eigenvalues(0.5, 0.0, 1.0)                     # SGD: 1 - lr*lam, and 0
    array([0.5+0.j, 0. +0.j])
    >>> z = eigenvalues(0.1, 0.9, 2.0)                  # complex pair of modulus sqrt(0.9)
    >>> np.round(np.abs(z), 6), bool(z[0].imag > 0)
    (array([0.948683, 0.948683]), True)
    """
    trace, det = _trace_det(lr, beta, lam, nesterov)
    disc = (trace**2 - 4 * det).astype(complex)
    root = np.sqrt(disc)
    z = np.stack([(trace + root) / 2, (trace - root) / 2], axis=-1)
    swap = np.abs(z[..., 1]) > np.abs(z[..., 0])
    return np.where(swap[..., None], z[..., ::-1], z)


def spectral_radius(lr, beta, lam, nesterov=False):
    r"""The factor by which the error in the direction with eigenvalue ``lam`` shrinks per step
    (in the long run): the larger root modulus of :math:`z^2 - (1+\beta-\mathrm{lr}\lambda)z + \beta`.

    Below 1 the run converges; at 1 or above it does not. ``nesterov=True``: of
    :class:`lib.variants.Nesterov` instead.

    >>> float(spectral_radius(0.9, 0.0, 2.0))          # SGD: |1 - 0.9*2|
    0.8
    >>> round(float(spectral_radius(0.1, 0.9, 2.0)), 6)  # complex roots: modulus sqrt(beta)
    0.948683
    """
    trace, det = _trace_det(lr, beta, lam, nesterov)    # z1 + z2, z1 * z2
    disc = trace**2 - 4 * det
    root = np.sqrt(np.abs(disc))
    real = np.maximum(abs(trace + root), abs(trace - root)) / 2
    modulus = np.sqrt(np.abs(det))      # a complex pair: |z|^2 = z1*z2 = det
    return np.where(disc >= 0, real, modulus)


def critical_beta(lr, lam):
    r"""The momentum at which the heavy ball is critically damped in the direction ``lam``:
    :math:`\beta_c = (1 - \sqrt{\mathrm{lr}\,\lambda})^2`, where the two real roots meet
    (for :math:`0 < \mathrm{lr}\,\lambda \le 1`). Below it the direction is over-damped (real
    roots, no overshoot), above it under-damped (complex roots: it swings past the minimum).

    >>> round(critical_beta(0.1, 0.1), 6)               # lr*lam = 0.01: (1 - 0.1)^2
    0.81
    """
    lr = _checks.scalar("lr", lr, 0.0, MAX_VALUE, low_open=True, high_open=False)
    lam = _checks.scalar("lam", lam, 0.0, MAX_VALUE, low_open=True, high_open=False)
    if lr * lam > 1:
        raise ValueError(f"lr * lam must be in (0, 1] for a critical beta in [0, 1), got "
                         f"lr={lr!r}, lam={lam!r} (product {lr * lam!r})")
    return float((1 - np.sqrt(lr * lam))**2)


def damping(lr, beta, lam, nesterov=False):
    """The kind of motion in the direction ``lam``, from :func:`eigenvalues`: ``"over-damped"``
    (real positive roots), ``"critical"`` (a double root), ``"under-damped"`` (a complex pair),
    ``"alternating"`` (a negative real root: the sign flips every step) or ``"unstable"``
    (a root of modulus >= 1). A string, or an array of strings for array arguments.

    >>> [damping(0.1, beta, 0.1) for beta in (0.5, 0.81, 0.9)]
    ['over-damped', 'critical', 'under-damped']
    >>> damping(0.9, 0.0, 2.0), damping(1.1, 0.0, 2.0)
    ('alternating', 'unstable')
    """
    z = eigenvalues(lr, beta, lam, nesterov)
    scale = np.maximum(np.abs(z).max(axis=-1), 1e-300)
    imag = np.abs(z.imag).max(axis=-1)
    gap = np.abs(z[..., 0] - z[..., 1])
    kind = np.where(imag > 1e-7 * scale, "under-damped",
                    np.where(gap <= 1e-7 * scale, "critical",
                             np.where(z.real.min(axis=-1) < -1e-12 * scale, "alternating",
                                      "over-damped")))
    kind = np.where(np.abs(z).max(axis=-1) >= 1, "unstable", kind).astype(object)
    return str(kind) if kind.ndim == 0 else kind


def convergence_rate(lr, beta, eigenvalues, nesterov=False):
    """The worst :func:`spectral_radius` over ``eigenvalues`` (a sequence, e.g. the Hessian's):
    the per-step factor of the slowest direction, which sets the pace of the whole run.

    >>> round(float(convergence_rate(0.9, 0.0, [0.1, 2.0])), 3)     # max(|1 - 0.09|, |1 - 1.8|)
    0.91
    """
    eigenvalues = _eigenvalue_sequence(eigenvalues)
    rates = [spectral_radius(lr, beta, lam, nesterov) for lam in eigenvalues]
    return np.max(rates, axis=0)        # the slowest direction sets the pace


def stable_lr_limit(beta, lam):
    """The largest stable learning rate for momentum ``beta`` and curvature ``lam``: (2 + 2 beta)/lam.

    >>> stable_lr_limit(0.0, 2.0), stable_lr_limit(0.9, 2.0)
    (1.0, 1.9)
    """
    beta = _checks.probability("beta", beta)
    return (2 + 2 * beta) / _checks.positive("lam", lam)


def sgd_optimum(lambda_min, lambda_max):
    """The best constant SGD step on a bowl with these extreme eigenvalues, and its rate.

    >>> sgd_optimum(0.1, 2.0)
    Optimum(lr=0.9523809523809523, beta=0.0, rate=0.9047619047619048)
    """
    lambda_min, lambda_max = _eigen_range(lambda_min, lambda_max)
    kappa = lambda_max / lambda_min
    return Optimum(2 / (lambda_min + lambda_max), 0.0, (kappa - 1) / (kappa + 1))


def polyak_optimum(lambda_min, lambda_max):
    r"""Polyak's best heavy ball on a bowl with these extreme eigenvalues (Polyak 1964):
    lr = (2/(√λ_max + √λ_min))², β = ((√κ − 1)/(√κ + 1))², rate (√κ − 1)/(√κ + 1).

    >>> best = polyak_optimum(1.0, 100.0)            # kappa = 100
    >>> round(best.lr, 6), round(best.beta, 6), round(best.rate, 6)
    (0.033058, 0.669421, 0.818182)
    """
    lambda_min, lambda_max = _eigen_range(lambda_min, lambda_max)
    root_kappa = np.sqrt(lambda_max / lambda_min)
    rate = (root_kappa - 1) / (root_kappa + 1)
    lr = (2 / (np.sqrt(lambda_max) + np.sqrt(lambda_min)))**2
    return Optimum(float(lr), float(rate**2), float(rate))


def kappa_for_optimal_beta(beta):
    """The condition number for which ``beta`` is Polyak's optimum: ((1 + √β)/(1 − √β))².

    >>> round(kappa_for_optimal_beta(0.9))
    1442
    """
    beta = _checks.scalar("beta", beta, 0.0, 1.0)
    return float(((1 + np.sqrt(beta)) / (1 - np.sqrt(beta)))**2)


def steps_to_shrink(rate, factor):
    """How many steps at a per-step ``rate`` (< 1) shrink an error by ``factor`` (> 1), rounded up.

    >>> steps_to_shrink(0.5, 1000)                  # 0.5**10 = 1/1024
    10
    """
    rate = _checks.hyperparameter("rate", rate, 0.0, 1.0, low_open=True)
    factor = _checks.scalar("factor", factor, 1.0, 1e300, low_open=True, high_open=False)
    rate = np.asarray(rate)
    steps = np.ceil(np.log(factor) / -np.log(rate) - 1e-9)
    return int(steps) if steps.ndim == 0 else steps.astype(int)


def measured_rate(trajectory, minimum=(0.0, 0.0), window=20):
    r"""The per-step rate at which a run's error shrank, measured from its trajectory.

    ``trajectory`` has shape (steps + 1, ..., 2), as :func:`lib.surfaces.run` returns it. The
    error :math:`e_k = \lVert w_k - w^* \rVert` oscillates when the roots are complex, so the
    rate is taken between its envelopes (maxima over ``window`` steps) at the middle and at the
    end of the run: :math:`(\max_\text{end} e / \max_\text{mid} e)^{1/\Delta k}`. A run that
    diverged (NaN or non-finite entries) gets ``inf``.

    >>> k = np.arange(101)[:, None]
    >>> trajectory = np.hstack([0.9**k, 0 * k])       # e_k = 0.9^k exactly
    >>> round(float(measured_rate(trajectory)), 12)
    0.9
    """
    trajectory = _checks.real_array("trajectory", trajectory, "an array (steps + 1, ..., 2)")
    if trajectory.ndim < 2 or trajectory.shape[-1] != 2:
        raise ValueError(f"trajectory must be an array (steps + 1, ..., 2), got shape "
                         f"{trajectory.shape}")
    minimum = _checks.point("minimum", minimum)
    window = _checks.count("window", window, minimum=1)
    steps = trajectory.shape[0] - 1
    mid = steps // 2
    if mid < window:
        raise ValueError(f"trajectory must have at least {2 * window} steps (rows - 1) for "
                         f"window={window}, got {steps}")
    with np.errstate(all="ignore"):
        error = np.linalg.norm(trajectory - minimum, axis=-1)
        late = np.max(error[steps - window + 1:], axis=0)
        middle = np.max(error[mid - window + 1:mid + 1], axis=0)
        rate = (late / middle)**(1 / (steps - mid))
    bad = ~np.all(np.isfinite(error), axis=0)
    rate = np.where(bad, np.inf, rate)
    return float(rate) if np.ndim(rate) == 0 else rate


def _broadcast(lr, beta, lam):
    """lr in [0, 1e6], beta in [0, 1) and lam in [-1e6, 1e6] (arrays allowed), broadcast together."""
    arrays = (_checks.hyperparameter("lr", lr, 0.0, MAX_VALUE, high_open=False),
              _checks.probability("beta", beta),
              _checks.hyperparameter("lam", lam, -MAX_VALUE, MAX_VALUE, high_open=False))
    try:
        return np.broadcast_arrays(*(np.asarray(a, dtype=float) for a in arrays))
    except ValueError:
        raise ValueError(f"lr, beta and lam must broadcast against each other, got shapes "
                         f"{[np.shape(a) for a in arrays]}") from None


def _eigenvalue_sequence(eigenvalues):
    """A non-empty 1-D array of eigenvalues in [-1e6, 1e6]."""
    eigenvalues = _checks.real_array("eigenvalues", eigenvalues, "a sequence of eigenvalues")
    if (eigenvalues.ndim != 1 or len(eigenvalues) == 0
            or not np.all(np.abs(eigenvalues) <= MAX_VALUE)):
        raise ValueError(f"eigenvalues must be a non-empty 1-D sequence of numbers in "
                         f"[-{MAX_VALUE:g}, {MAX_VALUE:g}], got {_checks.show(eigenvalues)}")
    return eigenvalues


def _trace_det(lr, beta, lam, nesterov):
    """Trace and determinant of the iteration matrix (the sum and product of its eigenvalues)."""
    lr, beta, lam = _broadcast(lr, beta, lam)
    if _checks.boolean("nesterov", nesterov):
        return (1 + beta) * (1 - lr * lam), beta * (1 - lr * lam)
    return 1 + beta - lr * lam, beta


def _eigen_range(lambda_min, lambda_max):
    lambda_min = _checks.scalar("lambda_min", lambda_min, 0.0, MAX_VALUE, low_open=True,
                                high_open=False)
    lambda_max = _checks.above("lambda_max", lambda_max, "lambda_min", lambda_min, closed=True)
    if lambda_max > MAX_VALUE:
        raise ValueError(f"lambda_max must be at most {MAX_VALUE:g}, got {lambda_max!r}")
    return lambda_min, lambda_max
