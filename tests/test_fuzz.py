"""Hostile input for every public function and constructor of lib/: a clear error or a sound result.

Each entry of ``CASES`` is one public callable with a set of valid arguments. The fuzz replaces one
argument at a time by a value drawn from ``HOSTILE`` (numbers, NaN, inf, bools, strings, None,
lists, 0-d and empty arrays, complex numbers, float16/32/64, arrays of mismatched shapes) and
requires that the call either

- raises ``ValueError`` or ``TypeError`` whose message names the replaced argument (as a word), or
- returns a result of the expected type and shape (``expect``) that is finite wherever the inputs
  were finite and moderate (|x| <= 1e6), unless the case reports divergence by design (``nan_ok``);

never another exception, never a ``RuntimeWarning`` (warnings are errors here).

``test_every_public_callable_is_covered`` enumerates the public names of every module of lib/ and
fails if one is neither in ``CASES`` nor in ``NOT_FUZZED`` (with the reason): a new function is
covered or the test says it is not.

The pytest tests draw with hypothesis (a fixed seed, so CI cannot flake; bounded to well under a
minute). Run ``python tests/test_fuzz.py`` to try every (case, argument, value of the fixed pool) combination
once and print how many calls were tried and how many failed, for whichever ``lib`` is importable
(``PYTHONPATH=/path/to/other/checkout python tests/test_fuzz.py`` counts another version).
"""

import importlib
import inspect
import math
import pkgutil
import re
import sys
import time
import warnings
from dataclasses import dataclass, field

import numpy as np
import pytest

import lib

# --- the hostile values ---------------------------------------------------------------------------

POOL = [
    0, 1, -1, 2, 3, 7, 100, -5, 0.5, -0.5, 2.5, 0.999, 1e-300, 1e300, -1e300, 10**400, 2**60,
    math.nan, math.inf, -math.inf, True, False, np.bool_(True), "5", "abc", "", b"1", None,
    1 + 2j, np.complex128(0.5), [], [1.0, 2.0], [[1.0], [2.0]], [1.0, "a"], (0.5, None),
    [[1.0, 2.0], [3.0]], np.float16(0.5), np.float32(0.5), np.float64(0.5), np.int64(3),
    np.array(0.5), np.array(3), np.zeros(0), np.zeros((0, 2)), np.ones(2), np.ones(3),
    np.ones((2, 2)), np.ones((3, 2)), np.ones((2, 3)), np.ones(2, dtype=np.float16),
    np.ones(2, dtype=np.float32), np.ones(2, dtype=complex), np.array([True, False]),
    np.array(["a", "b"]), np.array([np.nan, 1.0]), np.array([1e300, -1e300]),
    np.full((2, 1), 0.5), object(), print,
]
"""The fixed pool (also drawn from by hypothesis, with random floats and arrays besides)."""


def _moderate(value):
    """True for a finite real number or array of them, all at most 1e6 in size (and not bool)."""
    if value is None or isinstance(value, (bool, np.bool_, str, bytes, complex, np.complexfloating)):
        return True                            # not a number: a success must not depend on it
    try:
        array = np.asarray(value)
    except Exception:
        return True
    if array.dtype.kind not in "iuf":
        return True
    with np.errstate(all="ignore"):
        return bool(np.all(np.isfinite(array.astype(float)) & (np.abs(array.astype(float)) <= 1e6)))


def _all_finite(result, depth=0):
    """True if every number inside ``result`` (arrays, tuples, dicts, dataclass fields) is finite."""
    if depth > 4 or result is None or isinstance(result, (str, bytes, bool)):
        return True
    if isinstance(result, (int, np.integer)):
        return True
    if isinstance(result, (float, np.number)):
        return bool(np.isfinite(result))
    if isinstance(result, np.ndarray):
        return result.dtype.kind not in "fc" or bool(np.all(np.isfinite(result)))
    if isinstance(result, dict):
        return all(_all_finite(v, depth + 1) for v in result.values())
    if isinstance(result, (tuple, list)):
        return all(_all_finite(v, depth + 1) for v in result)
    if hasattr(result, "__dataclass_fields__"):
        return all(_all_finite(getattr(result, f), depth + 1) for f in result.__dataclass_fields__)
    return True


# --- the cases ------------------------------------------------------------------------------------

@dataclass
class Case:
    """``target()`` gives the callable (fresh each call, e.g. a bound method of a new object);
    ``kwargs()`` its valid arguments; ``expect(result, kwargs)`` checks a success."""

    target: object
    kwargs: object
    expect: object = None
    nan_ok: bool = False
    slow: bool = False
    allowed: tuple = ()
    answers: tuple = ()          # arguments a learner fills in: a checker answers "not a number"
    skip_args: tuple = field(default_factory=tuple)


def _small_model():
    from lib.model import MLP
    return MLP(sizes=(64, 8, 10))


_SPLIT = {}


def _split():
    if not _SPLIT:
        from lib.data import load_digits, train_val_split
        X, y = load_digits()
        _SPLIT["split"] = train_val_split(X[:200], y[:200], val_fraction=0.2, seed=0)
    return _SPLIT["split"]


def is_(kind):
    return lambda result, kwargs: isinstance(result, kind)


def _shape_of(*names):
    def shape(kwargs):
        return np.broadcast_shapes(*(np.shape(kwargs[n]) for n in names))
    return shape


def _step_expect(result, kwargs):
    w = np.asarray(kwargs["w"])
    assert isinstance(result, np.ndarray)
    assert result.dtype == (np.float32 if w.dtype == np.float32 else np.float64)
    assert result.shape[-w.ndim:] == w.shape if w.ndim else True
    return True


def _schedule_expect(result, kwargs):
    if np.ndim(kwargs["step"]) == 0:
        return isinstance(result, float)
    return isinstance(result, np.ndarray) and result.shape == np.shape(kwargs["step"])


def _points_expect(suffix):
    def expect(result, kwargs):
        w = np.asarray(kwargs["w"], dtype=float)
        return isinstance(result, (np.ndarray, np.floating)) and np.shape(result) == w.shape[:-1] + suffix
    return expect


def _optimizer_case(name, **extra):
    def target():
        from lib import optimizers
        return getattr(optimizers, name)
    return Case(target, lambda: {"lr": 0.1, **extra}, is_(object))


def _step_case(name):
    def target():
        from lib import optimizers
        opt = getattr(optimizers, name)(lr=0.1)
        opt.step(np.zeros(2), np.ones(2))                    # hold state for shape (2,)
        return opt.step
    return Case(target, lambda: {"w": np.ones(2), "grad": np.ones(2)}, _step_expect)


def _adagrad_step():
    opt = _mod("variants").Adagrad(lr=0.1)
    opt.step(np.zeros(2), np.ones(2))                        # hold state for shape (2,)
    return opt.step


def _schedule_case(factory, **kwargs):
    def target():
        from lib import schedules
        return getattr(schedules, factory)
    return Case(target, lambda: dict(kwargs), lambda r, k: callable(r) and np.isfinite(r(5)))


def _schedule_call_case(factory, *args):
    def target():
        from lib import schedules
        return getattr(schedules, factory)(*args)
    return Case(target, lambda: {"step": 5}, _schedule_expect)


def _surface_case(factory, **kwargs):
    def target():
        from lib import surfaces
        return getattr(surfaces, factory)
    return Case(target, lambda: dict(kwargs), lambda r, k: np.all(np.isfinite(r.levels)))


def _surface_method_case(factory, method, suffix, **extra):
    def target():
        from lib import surfaces
        return getattr(getattr(surfaces, factory)(), method)
    return Case(target, lambda: {"w": np.ones((3, 2)), **extra}, _points_expect(suffix))


def _run_expect(result, kwargs):
    gone = np.isnan(result.trajectory).any(axis=-1)
    return bool(np.all(gone.any(axis=0) == np.atleast_1d(result.diverged)))


def _mod(name):
    return importlib.import_module(f"lib.{name}")


def _nesterov_step():
    opt = _mod("variants").Nesterov(lr=0.1, beta=0.9)
    opt.step(np.zeros(2), np.ones(2))                        # hold state for shape (2,)
    return opt.step


CASES = {
    # optimizers
    "optimizers.SGD": _optimizer_case("SGD"),
    "optimizers.Momentum": _optimizer_case("Momentum", beta=0.9),
    "optimizers.RMSProp": _optimizer_case("RMSProp", beta=0.99, eps=1e-8),
    "optimizers.Adam": _optimizer_case("Adam", beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0),
    "optimizers.AdamW": _optimizer_case("AdamW", beta1=0.9, beta2=0.999, eps=1e-8,
                                        weight_decay=0.01),
    "variants.AdamWithoutBiasCorrection": Case(lambda: _mod("variants").AdamWithoutBiasCorrection,
                                               lambda: {"lr": 0.1, "beta1": 0.9}, is_(object)),
    "optimizers.SGD.step": _step_case("SGD"),
    "optimizers.Momentum.step": _step_case("Momentum"),
    "optimizers.RMSProp.step": _step_case("RMSProp"),
    "optimizers.Adam.step": _step_case("Adam"),
    "optimizers.AdamW.step": _step_case("AdamW"),
    "variants.AdamWithoutBiasCorrection.step": _step_case("Adam"),
    "variants.Adagrad": Case(lambda: _mod("variants").Adagrad,
                             lambda: {"lr": 0.1, "eps": 1e-10}, is_(object)),
    "variants.Adagrad.step": Case(_adagrad_step, lambda: {"w": np.ones(2), "grad": np.ones(2)},
                                  _step_expect),
    "variants.Nesterov": Case(lambda: _mod("variants").Nesterov, lambda: {"lr": 0.1, "beta": 0.9},
                              is_(object)),
    "variants.Nesterov.step": Case(_nesterov_step, lambda: {"w": np.ones(2), "grad": np.ones(2)},
                                   _step_expect),
    "optimizers.Optimizer.lr_at": Case(lambda: _mod("optimizers").SGD(lr=0.1).lr_at,
                                       lambda: {"k": 3}, is_(float)),
    # schedules: the factories and the schedules they make
    "schedules.constant": _schedule_case("constant", lr=0.1),
    "schedules.step_decay": _schedule_case("step_decay", lr=0.1, step_size=10, gamma=0.5),
    "schedules.linear_warmup": _schedule_case("linear_warmup", peak_lr=0.1, warmup_steps=10),
    "schedules.cosine_annealing": _schedule_case("cosine_annealing", lr_max=0.1, total_steps=100,
                                                 lr_min=0.0),
    "schedules.warmup_cosine": _schedule_case("warmup_cosine", peak_lr=0.1, warmup_steps=10,
                                              total_steps=100, min_lr=0.01),
    "schedules.warmup_linear": _schedule_case("warmup_linear", peak_lr=0.1, warmup_steps=10,
                                              total_steps=100, min_lr=0.0),
    "schedules.constant()": _schedule_call_case("constant", 0.1),
    "schedules.step_decay()": _schedule_call_case("step_decay", 0.1, 10, 0.5),
    "schedules.linear_warmup()": _schedule_call_case("linear_warmup", 0.1, 10),
    "schedules.cosine_annealing()": _schedule_call_case("cosine_annealing", 0.1, 100),
    "schedules.warmup_cosine()": _schedule_call_case("warmup_cosine", 0.1, 10, 100),
    "schedules.warmup_linear()": _schedule_call_case("warmup_linear", 0.1, 10, 100),
    "schedules.stack": Case(lambda: _mod("schedules").stack,
                            lambda: {"schedules": _mod("schedules").constant(0.1)},
                            lambda r, k: np.shape(r(3)) == (1, 1)),
    # surfaces
    "surfaces.Quadratic": Case(lambda: _mod("surfaces").Quadratic,
                               lambda: {"A": [[2.0, 0.0], [0.0, 8.0]], "minimum": (1.0, 0.0),
                                        "min_loss": 0.0, "xlim": (-10, 10), "ylim": (-10, 10),
                                        "start": (-8.0, 2.0), "name": "bowl"}, is_(object)),
    "surfaces.narrow_valley": _surface_case("narrow_valley", kappa=20.0, a=0.1, angle_degrees=30.0),
    "surfaces.badly_scaled": _surface_case("badly_scaled", ratio=100.0, a=1.0, minimum=(1.0, 0.5)),
    "surfaces.rosenbrock": _surface_case("rosenbrock", a=1.0, b=100.0),
    "surfaces.Rosenbrock": _surface_case("Rosenbrock", a=1.0, b=100.0),
    "surfaces.saddle": _surface_case("saddle", quartic=0.25),
    "surfaces.Saddle": _surface_case("Saddle", quartic=0.25),
    "surfaces.two_minima": _surface_case("two_minima", tilt=0.5),
    "surfaces.TwoMinima": _surface_case("TwoMinima", tilt=0.5),
    "surfaces.NoisyRegression": _surface_case("NoisyRegression", n_samples=50, noise=0.5, seed=0,
                                              w_true=(2.0, 1.0), correlation=0.8),
    "surfaces.Quadratic.loss": _surface_method_case("narrow_valley", "loss", ()),
    "surfaces.Quadratic.grad": _surface_method_case("narrow_valley", "grad", (2,)),
    "surfaces.Quadratic.hessian": _surface_method_case("narrow_valley", "hessian", (2, 2)),
    "surfaces.Rosenbrock.loss": _surface_method_case("rosenbrock", "loss", ()),
    "surfaces.Rosenbrock.grad": _surface_method_case("rosenbrock", "grad", (2,)),
    "surfaces.Rosenbrock.hessian": _surface_method_case("rosenbrock", "hessian", (2, 2)),
    "surfaces.Saddle.loss": _surface_method_case("saddle", "loss", ()),
    "surfaces.Saddle.grad": _surface_method_case("saddle", "grad", (2,)),
    "surfaces.Saddle.hessian": _surface_method_case("saddle", "hessian", (2, 2)),
    "surfaces.TwoMinima.loss": _surface_method_case("two_minima", "loss", ()),
    "surfaces.TwoMinima.grad": _surface_method_case("two_minima", "grad", (2,)),
    "surfaces.TwoMinima.hessian": _surface_method_case("two_minima", "hessian", (2, 2)),
    "surfaces.NoisyRegression.data_loss": _surface_method_case("NoisyRegression", "data_loss", ()),
    "surfaces.NoisyRegression.minibatch_grad": _surface_method_case(
        "NoisyRegression", "minibatch_grad", (2,), batch_size=8, rng=np.random.default_rng(0)),
    "surfaces.Parabola": Case(lambda: _mod("surfaces").Parabola,
                              lambda: {"lam": 2.0, "start": 1.0}, is_(object)),
    "surfaces.parabola": Case(lambda: _mod("surfaces").parabola,
                              lambda: {"lam": 10.0, "start": -2.0}, is_(object)),
    "surfaces.Parabola.loss": Case(lambda: _mod("surfaces").parabola().loss,
                                   lambda: {"x": np.ones(3)}, lambda r, k: np.shape(r) == np.shape(k["x"])),
    "surfaces.Parabola.grad": Case(lambda: _mod("surfaces").parabola().grad,
                                   lambda: {"x": np.ones(3)}, lambda r, k: np.shape(r) == np.shape(k["x"])),
    "surfaces.Parabola.hessian": Case(lambda: _mod("surfaces").parabola().hessian,
                                      lambda: {"x": np.ones(3)}, lambda r, k: np.shape(r) == np.shape(k["x"])),
    "surfaces.run_1d": Case(lambda: _mod("surfaces").run_1d,
                            lambda: {"optimizer": _mod("optimizers").SGD(lr=0.1),
                                     "problem": _mod("surfaces").parabola(), "x0": 1.0,
                                     "steps": 20, "bound": 1e6},
                            lambda r, k: r.trajectory.shape[0] == k["steps"] + 1, nan_ok=True),
    "surfaces.Surface.grid": Case(lambda: _mod("surfaces").narrow_valley().grid,
                                  lambda: {"resolution": 11},
                                  lambda r, k: r[2].shape == (k["resolution"],) * 2),
    "surfaces.run": Case(lambda: _mod("surfaces").run,
                         lambda: {"optimizer": _mod("optimizers").Momentum(lr=0.1),
                                  "problem": _mod("surfaces").narrow_valley(), "w0": (-8.0, 2.0),
                                  "steps": 20, "grad": None, "bound": 1e6},
                         _run_expect, nan_ok=True),
    "surfaces.steps_to_tolerance": Case(
        lambda: _mod("surfaces").steps_to_tolerance,
        lambda: {"result": _mod("surfaces").run(_mod("optimizers").SGD(lr=0.9),
                                                _mod("surfaces").narrow_valley(), steps=60),
                 "tol": 1e-3}, lambda r, k: r is None or isinstance(r, int)),
    # memory
    "memory.optimizer_class": Case(lambda: _mod("memory").optimizer_class,
                                   lambda: {"optimizer": "Adam"}, is_(type)),
    "memory.state_copies": Case(lambda: _mod("memory").state_copies,
                                lambda: {"optimizer": "Adam"}, is_(int)),
    "memory.precision": Case(lambda: _mod("memory").precision, lambda: {"name": "float32"},
                             is_(object)),
    "memory.per_parameter": Case(lambda: _mod("memory").per_parameter,
                                 lambda: {"optimizer": "Adam", "precision_name": "float32",
                                          "gradients": True}, is_(dict)),
    "memory.bytes_per_parameter": Case(lambda: _mod("memory").bytes_per_parameter,
                                       lambda: {"optimizer": "AdamW",
                                                "precision_name": "mixed precision (ZeRO)",
                                                "gradients": False}, is_(float)),
    "memory.training_bytes": Case(lambda: _mod("memory").training_bytes,
                                  lambda: {"n_params": 7e9, "optimizer": "SGD",
                                           "precision_name": "float32", "gradients": True},
                                  is_(dict)),
    "memory.total_bytes": Case(lambda: _mod("memory").total_bytes,
                               lambda: {"n_params": 1000, "optimizer": "Momentum",
                                        "precision_name": "float32", "gradients": True},
                               is_(float)),
    "memory.largest_model": Case(lambda: _mod("memory").largest_model,
                                 lambda: {"memory_bytes": 80e9, "optimizer": "AdamW",
                                          "precision_name": "mixed precision (ZeRO)",
                                          "gradients": True}, is_(int)),
    "memory.measured_state_bytes": Case(lambda: _mod("memory").measured_state_bytes,
                                        lambda: {"optimizer": _mod("optimizers").Adam(lr=1e-3),
                                                 "n_params": 10, "dtype": "float32"}, is_(int)),
    # model
    "model.MLP": Case(lambda: _mod("model").MLP,
                      lambda: {"sizes": (4, 3, 2), "layer_norm": True, "eps": 1e-5}, is_(object)),
    "model.MLP.init_params": Case(lambda: _mod("model").MLP(sizes=(4, 3, 2)).init_params,
                                  lambda: {"settings": 2, "seed": 0, "dtype": np.float64},
                                  lambda r, k: r.shape == (k["settings"], 26)),
    "model.MLP.blocks": Case(lambda: _mod("model").MLP(sizes=(4, 3, 2)).blocks,
                             lambda: {"params": np.zeros((2, 26))}, is_(dict)),
    "model.MLP.decay_mask": Case(lambda: _mod("model").MLP(sizes=(4, 3, 2)).decay_mask,
                                 lambda: {}, lambda r, k: r.shape == (26,)),
}

for _method in ("logits", "loss", "evaluate", "accuracy", "loss_and_grad"):
    CASES[f"model.MLP.{_method}"] = Case(
        (lambda m: lambda: getattr(_mod("model").MLP(sizes=(4, 3, 2)), m))(_method),
        lambda: {"params": np.full((2, 26), 0.1), "X": np.ones((5, 4)), "y": np.arange(5) % 2},
        is_(object))
    if _method in ("logits",):
        CASES[f"model.MLP.{_method}"].kwargs = lambda: {"params": np.full((2, 26), 0.1),
                                                        "X": np.ones((5, 4))}

CASES.update({
    # training
    "training.minibatches": Case(lambda: _mod("training").minibatches,
                                 lambda: {"n": 10, "batch_size": 4, "steps": 3, "seed": 0},
                                 lambda r, k: r.shape == (k["steps"], k["batch_size"])),
    "training.train": Case(lambda: _mod("training").train,
                           lambda: {"model": _small_model(),
                                    "optimizer": _mod("optimizers").Adam(lr=1e-2),
                                    "params0": _small_model().init_params(2, seed=0),
                                    "data": _split(), "steps": 3, "batch_size": 16, "seed": 0,
                                    "eval_every": 2, "diverge_loss": None},
                           is_(object), nan_ok=True, slow=True),
    "training.smooth": Case(lambda: _mod("training").smooth,
                            lambda: {"losses": [2.0, 1.0, 0.5], "beta": 0.9},
                            lambda r, k: r.shape == (3,) or True),
    "training.lr_range_test": Case(lambda: _mod("training").lr_range_test,
                                   lambda: {"model": _small_model(),
                                            "params0": _small_model().init_params(1, seed=0),
                                            "data": _split(), "lr_min": 1e-4, "lr_max": 1.0,
                                            "steps": 10, "batch_size": 16, "seed": 0,
                                            "beta": 0.9, "stop_factor": 4.0},
                                   is_(object), nan_ok=True, slow=True),
    "training.RangeTestResult.trimmed": Case(
        lambda: _mod("training").RangeTestResult(np.geomspace(1e-4, 1, 30), np.linspace(3, 1, 30),
                                                  np.linspace(3, 1, 30), 30, False).trimmed,
        lambda: {}, is_(tuple)),
    "training.suggest_min_over_10": Case(lambda: _mod("training").suggest_min_over_10,
                                         lambda: {"lrs": [1e-3, 1e-2, 1e-1], "losses": [2., 1., 3.]},
                                         is_(float)),
    "training.suggest_steepest": Case(lambda: _mod("training").suggest_steepest,
                                      lambda: {"lrs": [1e-3, 1e-2, 1e-1], "losses": [2., 1., 3.]},
                                      is_(float)),
    "training.suggest_valley": Case(lambda: _mod("training").suggest_valley,
                                    lambda: {"lrs": [1e-3, 1e-2, 1e-1], "losses": [2., 1., 3.]},
                                    is_(float)),
    # decay
    "decay.DisagreeingBatches": Case(lambda: _mod("decay").DisagreeingBatches,
                                     lambda: {"scales": (1.0, 100.0), "start": (1.0, 1.0)},
                                     is_(object)),
    "decay.DisagreeingBatches.batch_loss": Case(lambda: _mod("decay").DisagreeingBatches().batch_loss,
                                                lambda: {"w": np.ones(2), "batch": 0},
                                                is_(object)),
    "decay.DisagreeingBatches.batch_grad": Case(lambda: _mod("decay").DisagreeingBatches().batch_grad,
                                                lambda: {"w": np.ones(2), "batch": 1},
                                                lambda r, k: r.shape == np.shape(k["w"])),
    "decay.DisagreeingBatches.loss": Case(lambda: _mod("decay").DisagreeingBatches().loss,
                                          lambda: {"w": np.ones((3, 2))},
                                          lambda r, k: r.shape == np.shape(k["w"])[:-1]),
    "decay.DisagreeingBatches.grad": Case(lambda: _mod("decay").DisagreeingBatches().grad,
                                          lambda: {"w": np.ones((3, 2))},
                                          lambda r, k: r.shape == np.shape(k["w"])),
    "decay.DisagreeingBatches.gradients": Case(
        lambda: _mod("decay").DisagreeingBatches().gradients,
        lambda: {"kind": "gaussian", "rng": np.random.default_rng(0)}, lambda r, k: callable(r)),
    "decay.decay_rate": Case(lambda: _mod("decay").decay_rate,
                             lambda: {"trajectory": np.exp(-0.01 * np.arange(200)[:, None]
                                                           * np.array([1.0, 2.0])),
                                      "lr": 0.01, "skip": 10},
                             lambda r, k: r.shape == (2,)),
    # momentum theory
    "momentum_theory.iteration_matrix": Case(lambda: _mod("momentum_theory").iteration_matrix,
                                             lambda: {"lr": 0.5, "beta": 0.9, "lam": 2.0},
                                             lambda r, k: r.shape[-2:] == (2, 2)),
    "momentum_theory.spectral_radius": Case(lambda: _mod("momentum_theory").spectral_radius,
                                            lambda: {"lr": 0.5, "beta": 0.9, "lam": 2.0},
                                            is_(object)),
    "momentum_theory.convergence_rate": Case(lambda: _mod("momentum_theory").convergence_rate,
                                             lambda: {"lr": 0.5, "beta": 0.9,
                                                      "eigenvalues": [0.1, 2.0]}, is_(object)),
    "momentum_theory.eigenvalues": Case(lambda: _mod("momentum_theory").eigenvalues,
                                        lambda: {"lr": 0.5, "beta": 0.9, "lam": 2.0},
                                        lambda r, k: r.shape[-1:] == (2,)),
    "momentum_theory.critical_beta": Case(lambda: _mod("momentum_theory").critical_beta,
                                          lambda: {"lr": 0.1, "lam": 0.1}, is_(float)),
    "momentum_theory.damping": Case(lambda: _mod("momentum_theory").damping,
                                    lambda: {"lr": 0.1, "beta": 0.9, "lam": 0.1},
                                    lambda r, k: isinstance(r, str) or r.dtype == object),
    "momentum_theory.stable_lr_limit": Case(lambda: _mod("momentum_theory").stable_lr_limit,
                                            lambda: {"beta": 0.9, "lam": 2.0}, is_(object)),
    "momentum_theory.sgd_optimum": Case(lambda: _mod("momentum_theory").sgd_optimum,
                                        lambda: {"lambda_min": 0.1, "lambda_max": 2.0},
                                        is_(tuple)),
    "momentum_theory.polyak_optimum": Case(lambda: _mod("momentum_theory").polyak_optimum,
                                           lambda: {"lambda_min": 0.1, "lambda_max": 2.0},
                                           is_(tuple)),
    "momentum_theory.kappa_for_optimal_beta": Case(
        lambda: _mod("momentum_theory").kappa_for_optimal_beta, lambda: {"beta": 0.9},
        is_(float)),
    "momentum_theory.steps_to_shrink": Case(lambda: _mod("momentum_theory").steps_to_shrink,
                                            lambda: {"rate": 0.5, "factor": 1000.0},
                                            is_(object)),
    "momentum_theory.measured_rate": Case(lambda: _mod("momentum_theory").measured_rate,
                                          lambda: {"trajectory": np.hstack(
                                              [0.9 ** np.arange(101)[:, None],
                                               np.zeros((101, 1))]),
                                              "minimum": (0.0, 0.0), "window": 20},
                                          is_(object), nan_ok=True),
    # data
    "data.train_val_split": Case(lambda: _mod("data").train_val_split,
                                 lambda: {"X": np.arange(20.0).reshape(10, 2), "y": np.arange(10),
                                          "val_fraction": 0.3, "seed": 0}, is_(tuple)),
    # history
    "history.Recorder": Case(lambda: _mod("history").Recorder,
                             lambda: {"optimizer": _mod("optimizers").Momentum(lr=0.1)},
                             is_(object)),
    "history.Recorder.step": Case(lambda: _mod("history").Recorder(
        _mod("optimizers").Adam(lr=0.1)).step, lambda: {"w": np.ones(2), "grad": np.ones(2)},
        _step_expect),
    "history.record": Case(lambda: _mod("history").record,
                           lambda: {"optimizer": _mod("optimizers").RMSProp(lr=0.01),
                                    "problem": _mod("surfaces").badly_scaled(), "w0": None,
                                    "steps": 5}, is_(tuple), nan_ok=True),
    # race
    "race.lr_grid": Case(lambda: _mod("race").lr_grid, lambda: {"low": 0.25, "high": 1.0,
                                                                "ratio": 2.0},
                         lambda r, k: r.ndim == 2 and r.shape[1] == 1),
    "race.make_optimizer": Case(lambda: _mod("race").make_optimizer,
                                lambda: {"name": "Adam", "lr": 0.1}, is_(object)),
    "race.settled_at": Case(lambda: _mod("race").settled_at,
                            lambda: {"losses": np.array([5.0, 0.1, 2.0, 0.1, 0.01]),
                                     "min_loss": 0.0, "tol": 0.5}, is_(object)),
    "race.minibatch": Case(lambda: _mod("race").minibatch,
                           lambda: {"problem": _mod("surfaces").NoisyRegression(),
                                    "batch_size": 8, "seed": 0}, lambda r, k: callable(r)),
    "race.escape_bound": Case(lambda: _mod("race").escape_bound,
                              lambda: {"problem": _mod("surfaces").narrow_valley(), "factor": 2.0},
                              is_(float)),
    "race.sweep": Case(lambda: _mod("race").sweep,
                       lambda: {"problem": _mod("surfaces").narrow_valley(), "name": "SGD",
                                "lrs": [0.1, 0.5], "steps": 30, "tol": 1e-2},
                       is_(object), nan_ok=True),
    "race.sweep_all": Case(lambda: _mod("race").sweep_all,
                           lambda: {"problem": _mod("surfaces").narrow_valley(), "lrs": [0.1, 0.5],
                                    "steps": 20, "tol": 1e-2, "names": ("SGD", "Adam")},
                           is_(dict), nan_ok=True),
    "race.Sweep.index_of": Case(lambda: _mod("race").sweep(_mod("surfaces").narrow_valley(), "SGD",
                                                           [0.1, 0.5], 20, 1e-2).index_of,
                                lambda: {"lr": 0.5}, is_(int)),
    # experiments
    "experiments.decay_grid": Case(lambda: _mod("experiments").decay_grid,
                                   lambda: {"model": _small_model(), "data": _split(),
                                            "lrs": [1e-2], "l2_weight_decays": [0.0],
                                            "decoupled_weight_decays": [0.0], "steps": 3,
                                            "batch_size": 16, "seed": 0, "warmup_steps": 1},
                                   is_(object), nan_ok=True, slow=True),
    # diagnosis
    "diagnosis.moving_average": Case(lambda: _mod("diagnosis").moving_average,
                                     lambda: {"losses": [1.0, 2.0, 3.0, 4.0], "window": 2},
                                     is_(np.ndarray)),
    "diagnosis.diagnose": Case(lambda: _mod("diagnosis").diagnose,
                               lambda: {"losses": 2.3 * np.exp(-np.arange(50) / 10) + 0.05,
                                        "chance": 2.3, "spike_factor": 1.5, "rebound": 0.05,
                                        "early_drop": 0.6, "barely": 0.5, "diverge_factor": 1.5,
                                        "window": None},
                               lambda r, k: r.label in _mod("diagnosis").LABELS, nan_ok=True),
    # recipes
    "recipes.steps_for_tokens": Case(lambda: _mod("recipes").steps_for_tokens,
                                     lambda: {"tokens": 2.0e12, "tokens_per_step": 4e6}, is_(int)),
    "recipes.Recipe.schedule": Case(lambda: _mod("recipes").LLAMA2_7B.schedule, lambda: {},
                                    lambda r, k: callable(r)),
    # checkers
    "checkers.check_momentum_gains": Case(lambda: _mod("checkers").check_momentum_gains,
                                          lambda: {"steady_gain": 10.0, "alternating_gain": 0.5,
                                                   "beta": 0.9, "strict": False}, is_(object), allowed=(AssertionError,),
                                          answers=("steady_gain", "alternating_gain")),
    "checkers.check_bias_correction": Case(lambda: _mod("checkers").check_bias_correction,
                                           lambda: {"step": 10, "m_hat_factor": 1.5,
                                                    "v_hat_factor": 100.0, "beta1": 0.9,
                                                    "beta2": 0.999, "strict": False},
                                           is_(object), allowed=(AssertionError,),
                                           answers=("m_hat_factor", "v_hat_factor")),
    "checkers.check_memory": Case(lambda: _mod("checkers").check_memory,
                                  lambda: {"sgd_state_gb": 0.0, "adamw_state_gb": 56.0,
                                           "n_params": 7e9, "dtype": "float32", "strict": False},
                                  is_(object), allowed=(AssertionError,),
                                  answers=("sgd_state_gb", "adamw_state_gb")),
    "checkers.check_schedule": Case(lambda: _mod("checkers").check_schedule,
                                    lambda: {"values_at_steps": [0.0, 1e-4, 2e-4, 1e-4, 2e-5],
                                             "peak_lr": 2e-4, "min_lr": 2e-5, "warmup_steps": 2000,
                                             "total_steps": 100_000, "strict": False},
                                    is_(object), allowed=(AssertionError,)),
    # presentation: what needs no figure
    "interactive.log_slider": Case(lambda: _mod("interactive").log_slider,
                                   lambda: {"name": "lr", "low": 1e-3, "high": 1.0, "n": 5,
                                            "default": 0.1}, is_(object)),
    "interactive.linear_slider": Case(lambda: _mod("interactive").linear_slider,
                                      lambda: {"name": "steps", "low": 10, "high": 100, "n": 4,
                                               "default": 40, "integer": True}, is_(object)),
    "interactive.choice_slider": Case(lambda: _mod("interactive").choice_slider,
                                      lambda: {"name": "beta", "values": (0.0, 0.9),
                                               "default": 0.9}, is_(object)),
    "interactive.lr_slider": Case(lambda: _mod("interactive").lr_slider,
                                  lambda: {"low": 1e-3, "high": 1.0, "n": 5, "default": 0.1},
                                  is_(object)),
    "interactive.eps_slider": Case(lambda: _mod("interactive").eps_slider,
                                   lambda: {"low": 1e-8, "high": 1e-1, "n": 8, "default": 1e-8},
                                   is_(object)),
    "interactive.steps_slider": Case(lambda: _mod("interactive").steps_slider,
                                     lambda: {"low": 10, "high": 200, "n": 8, "default": 100},
                                     is_(object)),
    "plots.describe": Case(lambda: _mod("plots").describe,
                           lambda: {"result": _mod("surfaces").run(
                               _mod("optimizers").SGD(lr=0.5), _mod("surfaces").narrow_valley(),
                               steps=30), "tol": 1e-6, "min_loss": 0.0, "name": "SGD"},
                           is_(str)),
    # the rare-token problem
    "sparse.RareTokens": Case(lambda: _mod("sparse").RareTokens,
                              lambda: {"vocab": 5, "batch": 2, "zipf": 1.0, "target_seed": 0},
                              is_(object)),
    "sparse.RareTokens.counts": Case(lambda: _mod("sparse").RareTokens(vocab=4).counts,
                                     lambda: {"steps": 3, "seeds": [0, 1]}, is_(np.ndarray)),
    "sparse.RareTokens.grad": Case(lambda: _mod("sparse").RareTokens(vocab=2).grad,
                                   lambda: {"w": np.ones(2), "counts": np.ones(2)}, is_(np.ndarray)),
    "sparse.learn_tokens": Case(lambda: _mod("sparse").learn_tokens,
                                lambda: {"optimizer": _mod("optimizers").SGD(lr=0.1),
                                         "problem": _mod("sparse").RareTokens(vocab=2), "steps": 5,
                                         "seeds": [0], "tol": 0.1, "track": (0,), "counts": None},
                                is_(object)),
    "plots.shades": Case(lambda: _mod("plots").shades,
                         lambda: {"name": "RMSProp", "n": 3, "markevery": 0.1}, is_(list)),
    "plots.html_table": Case(lambda: _mod("plots").html_table,
                             lambda: {"header": ["lr"], "rows": [[0.1]], "caption": "c"},
                             is_(object)),
    # convergence: the one definition of "settled", and unbroken ranges
    "convergence.within": Case(lambda: _mod("convergence").within,
                               lambda: {"losses": [1.0, 0.1, 0.01], "min_loss": 0.0, "tol": 0.5},
                               is_(np.ndarray)),
    "convergence.first_touch": Case(lambda: _mod("convergence").first_touch,
                                    lambda: {"losses": [1.0, 0.1, 2.0], "min_loss": 0.0, "tol": 0.5},
                                    lambda r, k: r is None or isinstance(r, (int, np.ndarray))),
    "convergence.settled_at": Case(lambda: _mod("convergence").settled_at,
                                   lambda: {"losses": [1.0, 0.1, 2.0, 0.1], "min_loss": 0.0,
                                            "tol": 0.5, "window": None},
                                   lambda r, k: r is None or isinstance(r, (int, np.ndarray))),
    "convergence.unbroken_run": Case(lambda: _mod("convergence").unbroken_run,
                                     lambda: {"ok": [True, False, True, True]}, is_(object)),
    "surfaces.steps_to_settle": Case(
        lambda: _mod("surfaces").steps_to_settle,
        lambda: {"result": _mod("surfaces").run(_mod("optimizers").SGD(lr=0.9),
                                                _mod("surfaces").narrow_valley(), steps=60),
                 "tol": 1e-3, "window": None}, lambda r, k: r is None or isinstance(r, int)),
    # noise: seeded minibatch runs
    "noise.spread": Case(lambda: _mod("noise").spread,
                         lambda: {"values": [3.0, 1.0, 2.0], "axis": 0}, is_(tuple)),
    "noise.noise_floor": Case(
        lambda: _mod("noise").noise_floor,
        lambda: {"result": _mod("surfaces").run(_mod("optimizers").SGD(lr=0.1),
                                                _mod("surfaces").narrow_valley(), steps=10),
                 "window": 5}, is_(object), nan_ok=True),
    "noise.seeded_minibatch_grad": Case(
        lambda: _mod("noise").seeded_minibatch_grad,
        lambda: {"problem": _mod("surfaces").NoisyRegression(n_samples=50, seed=0),
                 "batch_size": 5, "seeds": [0, 1]}, lambda r, k: callable(r)),
    "noise.seeded_runs": Case(
        lambda: _mod("noise").seeded_runs,
        lambda: {"optimizer": _mod("optimizers").SGD(lr=0.1),
                 "problem": _mod("surfaces").NoisyRegression(n_samples=50, seed=0),
                 "batch_size": 5, "seeds": [0, 1], "steps": 5, "w0": None},
        is_(object), nan_ok=True),
    # recipes' arithmetic and the decoupled-decay SGD
    "recipes.steps_with_batch_ramp": Case(lambda: _mod("recipes").steps_with_batch_ramp,
                                          lambda: {"tokens": 4.0, "start_batch": 1.0,
                                                   "full_batch": 3.0, "ramp_tokens": 4.0,
                                                   "linear_in": "tokens"}, is_(float)),
    "recipes.gpt3_steps_range": Case(lambda: _mod("recipes").gpt3_steps_range,
                                     lambda: {"tokens": 375e6}, is_(tuple)),
    "decay.SGDW": Case(lambda: _mod("decay").SGDW,
                       lambda: {"lr": 0.1, "beta": 0.9, "weight_decay": 0.01}, is_(object)),
})

# --- the Transformer (lib/transformer.py) ---------------------------------------------------------

def _tiny_transformer():
    from lib.transformer import Transformer
    return Transformer(vocab_size=7, seq_len=4, d_model=6, n_heads=2, n_layers=1, d_ff=10)


def _transformer_batch():
    tokens = np.arange(15).reshape(3, 5) % 7
    return {"params": np.full((2, _tiny_transformer().num_params), 0.1), "tokens": tokens[:, :-1],
            "targets": tokens[:, 1:]}


def _pair_of_shapes(first, second=None):
    def expect(result, kwargs):
        return (isinstance(result, tuple) and len(result) == 2 and result[0].shape == first(kwargs)
                and (second is None or result[1].shape == second(kwargs)))
    return expect


CASES.update({
    "transformer.Transformer": Case(lambda: _mod("transformer").Transformer,
                                    lambda: {"vocab_size": 7, "seq_len": 4, "d_model": 6,
                                             "n_heads": 2, "n_layers": 1, "norm": "post",
                                             "tied": False, "d_ff": 10, "init_std": 0.02,
                                             "eps": 1e-5}, is_(object)),
    "transformer.Transformer.init_params": Case(
        lambda: _tiny_transformer().init_params,
        lambda: {"settings": 2, "seed": 0, "dtype": np.float32},
        lambda r, k: r.shape == (k["settings"], _tiny_transformer().num_params)),
    "transformer.Transformer.blocks": Case(lambda: _tiny_transformer().blocks,
                                           lambda: {"params": _transformer_batch()["params"]},
                                           is_(dict)),
    "transformer.Transformer.decay_mask": Case(
        lambda: _tiny_transformer().decay_mask, lambda: {"embeddings": False},
        lambda r, k: r.shape == (_tiny_transformer().num_params,)),
    "transformer.Transformer.logits": Case(
        lambda: _tiny_transformer().logits,
        lambda: {k: v for k, v in _transformer_batch().items() if k != "targets"},
        lambda r, k: r.shape == (2, 3, 4, 7)),
    "transformer.Transformer.loss": Case(
        lambda: _tiny_transformer().loss,
        lambda: {**_transformer_batch(), "tokens": np.arange(15).reshape(3, 5) % 7,
                 "targets": None},                        # the (B, seq_len + 1) form
        lambda r, k: r.shape == (2,)),
    "transformer.Transformer.evaluate": Case(lambda: _tiny_transformer().evaluate,
                                             _transformer_batch,
                                             _pair_of_shapes(lambda k: (2,), lambda k: (2,))),
    "transformer.Transformer.loss_and_grad": Case(
        lambda: _tiny_transformer().loss_and_grad, _transformer_batch,
        _pair_of_shapes(lambda k: (2,), lambda k: (2, _tiny_transformer().num_params))),
    "transformer.Transformer.attention": Case(
        lambda: _tiny_transformer().attention,
        lambda: {k: v for k, v in _transformer_batch().items() if k != "targets"},
        lambda r, k: r.shape == (1, 2, 3, 2, 4, 4)),
    "transformer.Transformer.generate": Case(
        lambda: _tiny_transformer().generate,
        lambda: {"params": _transformer_batch()["params"], "prompt": [1, 2], "length": 6,
                 "temperature": 0.7, "seed": 0},
        lambda r, k: r.shape == (2, len(k["prompt"]) + k["length"])),
    "transformer.Transformer.settings_chunk": Case(lambda: _tiny_transformer().settings_chunk,
                                                   lambda: {"batch": 3}, is_(int)),
    "transformer.clip_grad_norm": Case(
        lambda: _mod("transformer").clip_grad_norm,
        lambda: {"grad": np.arange(10.0).reshape(2, 5), "max_norm": 1.0},
        _pair_of_shapes(lambda k: np.shape(k["grad"]), lambda k: np.shape(k["grad"])[:-1])),
})


def _lion_step():
    opt = _mod("beyond").Lion(lr=0.1)
    opt.step(np.zeros(2), np.ones(2))                        # hold state for shape (2,)
    return opt.step


# beyond AdamW: the WSD schedule (lib.schedules) and the rules of lib.beyond
CASES.update({
    "schedules.warmup_stable_decay": _schedule_case("warmup_stable_decay", peak_lr=0.1,
                                                    warmup_steps=10, total_steps=100,
                                                    decay_steps=20, min_lr=0.0, decay="sqrt"),
    "schedules.warmup_stable_decay()": _schedule_call_case("warmup_stable_decay", 0.1, 10, 100, 20),
    "beyond.Lion": Case(lambda: _mod("beyond").Lion,
                        lambda: {"lr": 0.1, "beta1": 0.9, "beta2": 0.99, "weight_decay": 1e-3},
                        is_(object)),
    "beyond.Lion.step": Case(_lion_step, lambda: {"w": np.ones(2), "grad": np.ones(2)},
                             _step_expect),
})


def _primed_step(make, w):
    """A rule's step, after one step on ``w`` (so the state is bound to ``w``'s shape)."""
    def target():
        opt = make()
        opt.step(w, np.ones_like(w))
        return opt.step
    return target


def _sf_eval_point():
    opt = _mod("beyond").ScheduleFreeAdamW(lr=0.1)
    opt.step(np.zeros(2), np.ones(2))
    return opt.eval_point


CASES.update({
    "beyond.newton_schulz": Case(lambda: _mod("beyond").newton_schulz,
                                 lambda: {"M": np.arange(6.0).reshape(2, 3), "steps": 5,
                                          "eps": 1e-7},
                                 lambda r, k: r.shape == np.shape(k["M"])),
    "beyond.Muon": Case(lambda: _mod("beyond").Muon,
                        lambda: {"lr": 0.02, "beta": 0.95, "nesterov": True, "ns_steps": 5,
                                 "weight_decay": 0.1, "eps": 1e-7, "adjust_lr": "original"},
                        is_(object)),
    "beyond.Muon.step": Case(_primed_step(lambda: _mod("beyond").Muon(lr=0.02), np.ones((2, 3))),
                             lambda: {"w": np.ones((2, 3)), "grad": np.eye(2, 3)}, _step_expect),
    "beyond.ScheduleFreeAdamW": Case(lambda: _mod("beyond").ScheduleFreeAdamW,
                                     lambda: {"lr": 0.01, "beta1": 0.9, "beta2": 0.999,
                                              "eps": 1e-8, "weight_decay": 0.0,
                                              "warmup_steps": 5, "r": 0.0,
                                              "weight_lr_power": 2.0}, is_(object)),
    "beyond.ScheduleFreeAdamW.step": Case(
        _primed_step(lambda: _mod("beyond").ScheduleFreeAdamW(lr=0.1), np.ones(2)),
        lambda: {"w": np.ones(2), "grad": np.ones(2)}, _step_expect),
    "beyond.ScheduleFreeAdamW.eval_point": Case(_sf_eval_point, lambda: {"w": np.ones(2)},
                                                _step_expect),
    "beyond.Adafactor": Case(lambda: _mod("beyond").Adafactor,
                             lambda: {"lr": 0.01, "beta2_decay": -0.8, "eps": (None, 1e-3),
                                      "d": 1.0, "weight_decay": 0.0, "param_ndim": None},
                             is_(object)),
    "beyond.Adafactor.step": Case(
        _primed_step(lambda: _mod("beyond").Adafactor(lr=0.1), np.ones((2, 3))),
        lambda: {"w": np.ones((2, 3)), "grad": np.ones((2, 3))}, _step_expect),
})


def _blockwise():
    beyond = _mod("beyond")
    return beyond.Blockwise([("W", (2, 3)), ("b", (3,))],
                            lambda name, shape: beyond.Muon(lr=0.02) if len(shape) == 2
                            else beyond.Lion(lr=0.01))


CASES.update({
    "beyond.hidden_matrix": Case(lambda: _mod("beyond").hidden_matrix,
                                 lambda: {"name": "L0.mlp.W_fc", "shape": (4, 16)}, is_(bool)),
    "beyond.Blockwise": Case(lambda: _mod("beyond").Blockwise,
                             lambda: {"layout": [("W", (2, 3)), ("b", (3,))],
                                      "rule": lambda name, shape: _mod("beyond").Lion(lr=0.1)},
                             is_(object)),
    "beyond.Blockwise.step": Case(lambda: _blockwise().step,
                                  lambda: {"w": np.ones(9), "grad": np.ones(9)}, _step_expect),
})


NOT_FUZZED_BEYOND = {"beyond.Lion.update": "the rule itself, called by step after step's checks",
                     "beyond.Blockwise.state": "takes no argument",
                     "beyond.Blockwise.state_nbytes": "takes no argument",
                     "beyond.Blockwise.matrix_fraction": "takes no argument",
                     "beyond.Muon.update": "as Lion.update",
                     "beyond.ScheduleFreeAdamW.update": "as Lion.update",
                     "beyond.Adafactor.update": "as Lion.update",
                     "beyond.Muon.hyperparameters": "takes no argument",
                     "beyond.ScheduleFreeAdamW.hyperparameters": "takes no argument",
                     "beyond.Adafactor.hyperparameters": "takes no argument",
                     "beyond.Adafactor.second_moment": "takes no argument"}

CASES.update({
    "i18n.translate": Case(lambda: _mod("i18n").translate, lambda: {"text": "loss", "lang": "ko"}, is_(str)),
    "i18n.has_words": Case(lambda: _mod("i18n").has_words, lambda: {"text": "loss"}, is_(bool)),
    "i18n.catalogue": Case(lambda: _mod("i18n").catalogue, lambda: {"lang": "ko"}, is_(object)),
    "i18n.catalogue_path": Case(lambda: _mod("i18n").catalogue_path, lambda: {"lang": "ko"}, is_(object)),
    "i18n.variant_mime": Case(lambda: _mod("i18n").variant_mime, lambda: {"mime": "image/png", "lang": "ko"},
                              is_(str)),
})

NOT_FUZZED_I18N = {
    "i18n.Catalogue": "built by Catalogue.load / from_pairs from a .po file, not by callers",
    "i18n.Catalogue.lookup": "as translate (which checks its argument first)",
    "i18n.MissingTranslation": "an exception class",
    "i18n.editions": "takes no argument (reads the environment)",
    "i18n.figure_png": "called by the display hook with the kernel's own figure",
    "i18n.glue_variants": "called by the glue hook with the value being glued",
    "i18n.install": "an IPython hook, called once by plots.use_house_style",
    "i18n.timed": "a measurement context manager for the i18n benchmarks",
    "i18n.translated": "a context manager over the kernel's own figure (its lang is checked)",
    "interactive.InteractiveFigure.static_html_in": "as static_html, in one edition (its lang is checked)",
    "checkers.language": "takes no argument (reads the environment)",
}

NOT_FUZZED = {
    "transformer.keep_freed_memory": "takes no argument (a process-wide malloc setting)",
    "convergence.UnbrokenRun": "a result record, built by unbroken_run",
    "convergence.UnbrokenRun.ends": "reads an UnbrokenRun's grid values (its caller's own array)",
    "decay.SGDW.update": "the rule itself, called by step after step's checks",
    "experiments.DecayGrid.good": "as best",
    "experiments.DecayGrids": "a result record, built by decay_grid(seeds=...)",
    "experiments.DecayGrids.best": "as DecayGrid.best, per seed",
    "experiments.DecayGrids.good": "as DecayGrid.good, per seed",
    "experiments.DecayGrids.tolerated_weight_decay": "as DecayGrid.tolerated_weight_decay, per seed",
    "interactive.Slider.valuetext": "called by interactive() with the slider's own values",
    "race.Sweep.first_touch": "takes no argument",
    "race.Sweep.isolated_lrs": "takes no argument",
    "race.Sweep.unbroken": "takes no argument",
    "race.Sweep.unbroken_is_clipped": "takes no argument",
    "race.Sweep.unbroken_window": "takes no argument",
    # classes whose instances are data, built by the functions above (their fields are not checked)
    "checkers.CheckResult": "a result record, built by the checkers",
    "data.Split": "a NamedTuple of four arrays, built by train_val_split",
    "data.load_digits": "takes no argument",
    "diagnosis.Diagnosis": "a result record, built by diagnose",
    "experiments.DecayGrid": "a result record, built by decay_grid",
    "experiments.DecayGrid.best": "reads a DecayGrid; its name argument is checked (test_errors)",
    "experiments.DecayGrid.best_weight_decay": "as best",
    "experiments.DecayGrid.tolerated_weight_decay": "as best",
    "memory.Precision": "a frozen record of numbers with its source, not user input",
    "momentum_theory.Optimum": "a namedtuple, built by the optimum functions",
    "race.Sweep": "a result record, built by sweep",
    "race.Sweep.window": "takes no argument",
    "race.Sweep.window_is_clipped": "takes no argument",
    "recipes.Recipe": "published settings as data; its fields are checked in __post_init__",
    "surfaces.RunResult": "a result record, built by run",
    "surfaces.Surface": "a base class; its subclasses are fuzzed",
    "surfaces.Surface.loss": "abstract (subclasses fuzzed)",
    "surfaces.Surface.grad": "abstract (subclasses fuzzed)",
    "surfaces.Surface.hessian": "abstract (subclasses fuzzed)",
    "training.TrainResult": "a result record, built by train",
    "training.RangeTestResult": "a result record, built by lr_range_test",
    "schedules.Schedule": "built by the schedule factories (fuzzed, with the schedules they make)",
    "history.Recorder.history": "reads recorded states; its name argument is checked (test_errors)",
    "optimizers.Optimizer": "a base class; its subclasses are fuzzed",
    "optimizers.Optimizer.step": "fuzzed through every subclass",
    "optimizers.Optimizer.update": "abstract",
    "optimizers.Optimizer.state": "takes no argument",
    "optimizers.Optimizer.state_nbytes": "takes no argument",
    "optimizers.Optimizer.hyperparameters": "takes no argument",
    "optimizers.SGD.update": "the rule itself, called by step after step's checks",
    "optimizers.Momentum.update": "the rule itself, called by step after step's checks",
    "optimizers.RMSProp.update": "the rule itself, called by step after step's checks",
    "optimizers.Adam.update": "the rule itself, called by step after step's checks",
    "optimizers.Adam.adam_update": "the rule itself, called by step after step's checks",
    "optimizers.AdamW.update": "the rule itself, called by step after step's checks",
    "variants.AdamWithoutBiasCorrection.adam_update": "the rule itself, called by step",
    "variants.Adagrad.update": "the rule itself, called by step after step's checks",
    "sparse.TokenRun": "a result record, built by learn_tokens",
    "variants.Nesterov.update": "the rule itself, called by step after step's checks",
    # presentation that needs a live figure, axes or IPython (the page helper's tests cover it)
    "interactive.Slider": "built by the slider functions (fuzzed)",
    "interactive.Slider.text": "formats a slider value for display",
    "interactive.beta_slider": "choice_slider with fixed defaults (fuzzed)",
    "interactive.beta1_slider": "choice_slider with fixed defaults (fuzzed)",
    "interactive.beta2_slider": "choice_slider with fixed defaults (fuzzed)",
    "interactive.weight_decay_slider": "choice_slider with fixed defaults (fuzzed)",
    "interactive.warmup_slider": "choice_slider with fixed defaults (fuzzed)",
    "interactive.InteractiveFigure": "built by interactive() around a matplotlib figure",
    "interactive.InteractiveFigure.draw": "needs a figure",
    "interactive.InteractiveFigure.render": "needs a figure",
    "interactive.InteractiveFigure.background_png": "needs a figure",
    "interactive.InteractiveFigure.frames": "needs a figure",
    "interactive.InteractiveFigure.static_html": "needs a figure",
    "interactive.InteractiveFigure.widget": "needs a figure and ipywidgets",
    "interactive.interactive": "needs a figure (its arguments are checked at the top)",
    "interactive.measure_latency": "needs a figure; a benchmark tool",
    "plots.use_house_style": "takes no argument",
    "plots.house_style": "takes no argument",
    "plots.new_figure": "draws a figure (its arguments are checked at the top)",
    "plots.contour": "needs axes",
    "plots.fix_axes": "needs axes",
    "plots.trajectory_line": "needs axes",
    "plots.set_trajectory": "needs a line",
    "plots.status_text": "needs axes",
    "plots.loss_axes": "needs axes",
    "plots.set_loss_curve": "needs a line",
    "source.source": "reads source code of an object",
    "source.show_source": "displays source code in IPython",
}
NOT_FUZZED.update(NOT_FUZZED_BEYOND)
NOT_FUZZED.update(NOT_FUZZED_I18N)


# --- the Transformer chapter's data and loop (lib.text, lib.robot, training.plateaued) -------------

CASES.update({
    "text.vocabulary": Case(lambda: _mod("text").vocabulary, lambda: {"text": "banana"}, is_(str)),
    "text.encode": Case(lambda: _mod("text").encode, lambda: {"text": "nab", "vocab": "abn"},
                        lambda r, k: r.tolist() == [2, 0, 1]),
    "text.decode": Case(lambda: _mod("text").decode, lambda: {"ids": [2, 0, 1], "vocab": "abn"},
                        is_(str)),
    "text.char_split": Case(lambda: _mod("text").char_split,
                            lambda: {"ids": np.arange(100), "seq_len": 4, "n_train": 3, "n_val": 2,
                                     "val_fraction": 0.2, "seed": 0}, is_(tuple)),
    "text.unigram_loss": Case(lambda: _mod("text").unigram_loss,
                              lambda: {"ids": [0, 0, 1, 2], "vocab_size": 3}, is_(float)),
    "robot.quantize": Case(lambda: _mod("robot").quantize, lambda: {"x": [0.0, 0.5], "bins": 256},
                           is_((np.ndarray, np.integer))),
    "robot.dequantize": Case(lambda: _mod("robot").dequantize,
                             lambda: {"tokens": [0, 255], "bins": 256},
                             is_((np.ndarray, np.floating))),
    "robot.episodes": Case(lambda: _mod("robot").episodes,
                           lambda: {"n": 2, "steps": 2, "embodiment": _mod("robot").ARM_B, "seed": 0},
                           lambda r, k: r.shape == (k["n"], 1 + 4 * k["steps"])),
    "robot.action_positions": Case(lambda: _mod("robot").action_positions, lambda: {"steps": 2},
                                   is_(np.ndarray)),
    "robot.policy_split": Case(lambda: _mod("robot").policy_split,
                               lambda: {"embodiment": _mod("robot").ARM_A, "n_train": 4, "n_val": 2,
                                        "steps": 2, "seed": 0}, is_(tuple)),
    "robot.Embodiment": Case(lambda: _mod("robot").Embodiment,
                             lambda: {"name": "C", "rotation_deg": 45.0, "scale": 2.0, "gain": 1.0,
                                      "max_step": 0.5}, is_(object)),
    "robot.Embodiment.command": Case(lambda: _mod("robot").ARM_B.command,
                                     lambda: {"d": np.ones((3, 2))}, is_(np.ndarray)),
    "training.plateaued": Case(lambda: _mod("training").plateaued,
                               lambda: {"result": _mod("training").TrainResult(
                                   np.full((4, 2), 3.3), np.arange(1), np.zeros((1, 2)),
                                   np.zeros((1, 2)), np.array([-1, -1]), np.zeros((2, 3)), 0.0),
                                   "level": 3.29, "margin": 0.1, "last": 2}, is_(np.ndarray)),
})

NOT_FUZZED.update({
    "text.load_docstrings": "takes no argument",
    "robot.action_metrics": "needs a Transformer's logits (tests/test_robot.py checks it against "
                            "a hand-built model output)",
})


def public_callables():
    """Every public function, class and method defined in a module of lib/, as 'module.name'."""
    found = set()
    for info in pkgutil.iter_modules(lib.__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"lib.{info.name}")
        for name, value in vars(module).items():
            if name.startswith("_") or not callable(value):
                continue
            if getattr(value, "__module__", None) != module.__name__:
                continue
            found.add(f"{info.name}.{name}")
            if inspect.isclass(value):
                for attribute, member in vars(value).items():
                    if not attribute.startswith("_") and inspect.isfunction(member):
                        found.add(f"{info.name}.{name}.{attribute}")
    return found


def _covered_names():
    """The public names the cases stand for (a schedule's call counts for its factory)."""
    names = set()
    for key in CASES:
        names.add(key.rstrip("()"))
    # a subclass's step is Optimizer.step; a surface method fuzzed per subclass
    return names


# --- calling a case -------------------------------------------------------------------------------

FAILED, REFUSED, PASSED = "failed", "refused", "passed"


def _names(message, argument):
    return re.search(rf"(?<![A-Za-z0-9_]){re.escape(argument)}(?![A-Za-z0-9_])", message) is not None


NOT_NUMBERS = (bool, np.bool_, str, bytes, complex, np.complexfloating)


def _must_refuse(case, argument, value, valid):
    """True if ``value`` is not a number but ``argument`` takes one (its valid value is a real
    number): then a success is a silent wrong number (``lr=True`` taken as 1.0, ``"5"`` as 5)."""
    if argument in case.answers or isinstance(valid, (bool, np.bool_)):
        return False
    if not isinstance(valid, (int, float, np.integer, np.floating)):
        return False
    if value is None:
        try:
            default = inspect.signature(case.target()).parameters[argument].default
        except (KeyError, TypeError, ValueError):
            return True
        return default is not None
    return isinstance(value, NOT_NUMBERS)


def attempt(case, argument, value):
    """Call ``case`` with ``argument`` replaced by ``value``: (outcome, detail)."""
    kwargs = case.kwargs()
    valid = kwargs.get(argument)
    if argument is not None:
        kwargs[argument] = value
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        try:
            target = case.target()
            if "schedules" in kwargs:                  # stack(*schedules)
                result = target(kwargs["schedules"])
            else:
                result = target(**kwargs)
        except (ValueError, TypeError) as error:
            if argument is None:
                return FAILED, f"the valid call raised {type(error).__name__}: {error}"
            if _names(str(error), argument):
                return REFUSED, str(error)
            return FAILED, f"{type(error).__name__} does not name {argument!r}: {error}"
        except case.allowed:
            return REFUSED, "an allowed outcome"
        except Exception as error:                     # noqa: BLE001 - the point of the test
            return FAILED, f"{type(error).__name__}: {error}"
    try:
        ok = case.expect is None or case.expect(result, kwargs)
    except Exception as error:                         # noqa: BLE001
        return FAILED, f"result check raised {type(error).__name__}: {error} (result {result!r:.80})"
    if not ok:
        return FAILED, f"unexpected result {result!r:.120}"
    if argument is not None and _must_refuse(case, argument, value, valid):
        return FAILED, f"accepted {value!r:.40} ({type(value).__name__}) as a number"
    try:
        finite = case.nan_ok or not _moderate(value) or _all_finite(result)
    except Exception as error:                         # noqa: BLE001
        return FAILED, f"result is not numbers where numbers belong ({type(error).__name__})"
    if not finite:
        return FAILED, f"non-finite result from finite input: {result!r:.120}"
    return PASSED, ""


def arguments(case):
    return [a for a in case.kwargs() if a not in case.skip_args]


# --- the tests ------------------------------------------------------------------------------------

def test_every_public_callable_is_covered():
    public = public_callables()
    covered = _covered_names() | set(NOT_FUZZED)
    missing = sorted(public - covered)
    assert not missing, f"public callables neither fuzzed nor listed in NOT_FUZZED: {missing}"


@pytest.mark.parametrize("key", sorted(CASES))
def test_the_valid_call_succeeds(key):
    outcome, detail = attempt(CASES[key], None, None)
    assert outcome == PASSED, detail


try:
    from hypothesis import HealthCheck, given, settings, strategies as st
    from hypothesis.extra import numpy as hnp
except ImportError:                                     # the counting script runs without it
    given = None

if given is not None:
    FLOATS = st.floats(-1e3, 1e3) | st.sampled_from([math.nan, math.inf, -math.inf, 1e300])
    ARRAYS = hnp.arrays(st.sampled_from([np.float16, np.float32, np.float64, np.int64, np.bool_,
                                         np.complex128]),
                        hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3))
    HOSTILE = st.one_of(st.sampled_from(POOL), st.sampled_from(POOL), FLOATS,
                        st.integers(-10, 100), ARRAYS, st.lists(FLOATS, max_size=3))

    FAST = sorted(k for k, c in CASES.items() if not c.slow)
    SLOW = sorted(k for k, c in CASES.items() if c.slow)

    @pytest.mark.parametrize("key", FAST)
    @settings(max_examples=15, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(data=st.data())
    def test_hostile_argument_is_refused_by_name_or_gives_a_sound_result(key, data):
        case = CASES[key]
        argument = data.draw(st.sampled_from(arguments(case)) if arguments(case)
                             else st.none(), label="argument")
        if argument is None:
            return
        value = data.draw(HOSTILE, label="value")
        outcome, detail = attempt(case, argument, value)
        assert outcome != FAILED, f"{key}({argument}={value!r:.60}): {detail}"

    @pytest.mark.parametrize("key", SLOW)
    @settings(max_examples=4, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(data=st.data())
    def test_hostile_argument_to_a_training_run(key, data):
        case = CASES[key]
        argument = data.draw(st.sampled_from(arguments(case)), label="argument")
        value = data.draw(st.sampled_from(POOL), label="value")
        outcome, detail = attempt(case, argument, value)
        assert outcome != FAILED, f"{key}({argument}={value!r:.60}): {detail}"


# --- counting, for the closing note -------------------------------------------------------

def count(verbose=False):
    """Try every (case, argument, pool value) once: (tried, failed, by_case)."""
    tried = failed = 0
    by_case = {}
    for key, case in sorted(CASES.items()):
        try:
            case.target()
            names = arguments(case)
        except Exception as error:                       # noqa: BLE001 - an older lib
            by_case[key] = f"not available: {type(error).__name__}: {error}"
            continue
        outcome, detail = attempt(case, None, None)
        if outcome == FAILED:
            by_case[key] = f"valid call fails: {detail}"
            continue
        bad = 0
        for argument in names:
            for value in POOL:
                tried += 1
                outcome, detail = attempt(case, argument, value)
                if outcome == FAILED:
                    bad += 1
                    if verbose:
                        print(f"{key}({argument}={value!r:.40}): {detail[:160]}")
        failed += bad
        by_case[key] = bad
    return tried, failed, by_case


class _Timeout(Exception):
    """A call that ran longer than the counting script allows (an unchecked huge count)."""


def _guarded():
    """For counting an unchecked lib: at most 4 GB of address space and 10 s per call, as failures."""
    import resource
    import signal

    resource.setrlimit(resource.RLIMIT_AS, (4 * 2**30, resource.getrlimit(resource.RLIMIT_AS)[1]))

    def alarm(signum, frame):
        raise _Timeout("the call ran for more than 10 s")

    signal.signal(signal.SIGALRM, alarm)
    original = attempt

    def timed(case, argument, value):
        signal.alarm(10)
        try:
            return original(case, argument, value)
        except _Timeout as error:
            return FAILED, str(error)
        finally:
            signal.alarm(0)

    return timed


if __name__ == "__main__":
    attempt = _guarded()
    started = time.perf_counter()
    tried, failed, by_case = count(verbose="-v" in sys.argv)
    print(f"lib from {lib.__file__}")
    for key, value in by_case.items():
        if value:
            print(f"  {key}: {value}")
    print(f"{tried} calls tried, {failed} failed ({time.perf_counter() - started:.1f} s)")
