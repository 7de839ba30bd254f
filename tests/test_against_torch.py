"""Replay PyTorch's recorded trajectories with the lib and compare every step.

The fixture ``fixtures/torch_trajectories.json`` was written by ``generate_torch_fixtures.py`` with
``torch.optim`` and ``torch.optim.lr_scheduler`` in float64 (torch is needed only to regenerate it).
Each trajectory starts at the recorded ``w[0]``; the lib computes its own gradients (numpy
formulas below, checked against torch's autograd at recorded points) and must land on torch's
``w[k + 1]`` after every step ``k``.
"""

import json
import pathlib

import numpy as np
import pytest

from lib import optimizers, schedules

FIXTURE_PATH = pathlib.Path(__file__).parent / "fixtures" / "torch_trajectories.json"
FIXTURE = json.loads(FIXTURE_PATH.read_text())
PROBLEMS = FIXTURE["problems"]
TRAJECTORIES = FIXTURE["trajectories"]
SCHEDULE_SEQUENCES = FIXTURE["schedules"]

# Tolerances. torch and the lib compute the same formulas in a different order (torch's Adam uses
# lerp for m, divides sqrt(v) by sqrt(1 - beta2^t) instead of dividing v, and folds lr/(1 - beta1^t)
# into one step size; RMSprop and Adam use addcdiv; the least-squares gradient is a matmul whose
# summation order is the BLAS's; StepLR and CosineAnnealingLR update the lr recursively instead of
# by the closed form), so the two agree to rounding, not bit for bit. The generator keeps only runs
# that do not amplify rounding (each fixture trajectory records its "amplification", all below 10).
# Measured here over all 72 runs x 80 steps: largest |lib - torch| in w is 5.3e-15, with |w| < 3.
# Relative error alone is meaningless for coordinates passing near 0, hence the atol. The bounds
# below leave about 10x room for another CPU or BLAS.
RTOL_TRAJECTORY = 1e-13
ATOL_TRAJECTORY = 5e-14
RTOL_GRADIENT = 1e-14       # numpy vs autograd on the same formula: measured <= 4.4e-16 absolute
ATOL_GRADIENT = 1e-14
# Learning rates: measured worst 2.3e-15 of the peak, after CosineAnnealingLR's 1000 recursive
# updates (LambdaLR and StepLR: a few ulps). Near the end of a cosine the lr tends to lr_min, which
# may be 0, so the absolute part is scaled by the schedule's peak.
RTOL_LR = 1e-14
ATOL_LR_FRACTION = 1e-14


def gradient(problem):
    """The numpy gradient of a fixture problem (the same loss torch differentiated)."""
    kind = problem["kind"]
    if kind == "quadratic":
        A = np.array(problem["A"])
        assert np.array_equal(A, A.T)
        return lambda w: A @ w                                    # d/dw 0.5 w^T A w = A w (A symmetric)
    if kind == "rosenbrock":
        a, b = problem["a"], problem["b"]

        def grad(w):
            x, y = w
            return np.array([-2 * (a - x) - 4 * b * x * (y - x**2),  # d/dx (a-x)^2 + b(y-x^2)^2
                             2 * b * (y - x**2)])                   # d/dy
        return grad
    if kind == "least_squares":
        X, y = np.array(problem["X"]), np.array(problem["y"])
        return lambda w: X.T @ (X @ w - y) / len(y)               # d/dw 0.5 mean((Xw - y)^2)
    raise ValueError(kind)


def loss(problem):
    kind = problem["kind"]
    if kind == "quadratic":
        A = np.array(problem["A"])
        return lambda w: 0.5 * w @ A @ w
    if kind == "rosenbrock":
        a, b = problem["a"], problem["b"]
        return lambda w: (a - w[0]) ** 2 + b * (w[1] - w[0] ** 2) ** 2
    if kind == "least_squares":
        X, y = np.array(problem["X"]), np.array(problem["y"])
        return lambda w: 0.5 * np.mean((X @ w - y) ** 2)
    raise ValueError(kind)


def lib_schedule(spec):
    """The lib schedule that a fixture's schedule spec describes (same name, same arguments)."""
    return getattr(schedules, spec["kind"])(**spec["args"])


def lib_optimizer(trajectory):
    hyper = dict(trajectory["hyper"])
    if trajectory["schedule"] is not None:
        hyper["lr"] = lib_schedule(trajectory["schedule"])
    return getattr(optimizers, trajectory["optimizer"])(**hyper)


def peak(spec):
    args = spec["args"]
    return max(args.get(name, 0.0) for name in ("lr", "lr_max", "peak_lr"))


def test_fixture_covers_the_brief():
    """Guard against a regenerated fixture that silently lost coverage."""
    assert FIXTURE["meta"]["dtype"] == "float64"
    assert set(PROBLEMS) == {"quadratic", "rosenbrock", "least_squares"}
    optimizers_seen = {t["optimizer"] for t in TRAJECTORIES}
    assert optimizers_seen == {"SGD", "Momentum", "RMSProp", "Adam", "AdamW"}
    for name in optimizers_seen:
        runs = [t for t in TRAJECTORIES if t["optimizer"] == name]
        assert {t["problem"] for t in runs} == set(PROBLEMS)
        assert any(t["schedule"] is None for t in runs)
        assert {t["schedule"]["torch"] for t in runs if t["schedule"]} == {
            "LambdaLR", "StepLR", "CosineAnnealingLR"}
    assert {t["hyper"]["beta"] for t in TRAJECTORIES if t["optimizer"] == "RMSProp"} >= {0.9, 0.99, 0.999}
    adam = [t["hyper"] for t in TRAJECTORIES if t["optimizer"] == "Adam"]
    assert any(h["beta2"] == 0.95 for h in adam)
    assert any(h["weight_decay"] > 0 for h in adam) and any(h["weight_decay"] == 0 for h in adam)
    assert all(len(t["w"]) == len(t["lrs"]) + 1 >= 51 for t in TRAJECTORIES)
    # Only runs that do not blow rounding up (the tolerances below rely on it).
    assert all(t["amplification"] < 10 for t in TRAJECTORIES)


@pytest.mark.parametrize("name", sorted(PROBLEMS))
def test_problem_gradients_match_autograd(name):
    problem = PROBLEMS[name]
    grad, f = gradient(problem), loss(problem)
    for check in problem["checks"]:
        w = np.array(check["w"])
        np.testing.assert_allclose(grad(w), check["grad"], rtol=RTOL_GRADIENT, atol=ATOL_GRADIENT)
        np.testing.assert_allclose(f(w), check["loss"], rtol=RTOL_GRADIENT)


@pytest.mark.parametrize("trajectory", TRAJECTORIES, ids=[t["name"] for t in TRAJECTORIES])
def test_trajectory_matches_torch(trajectory):
    grad = gradient(PROBLEMS[trajectory["problem"]])
    opt = lib_optimizer(trajectory)
    expected = np.array(trajectory["w"])
    w = expected[0].copy()
    schedule = opt.lr if callable(opt.lr) else (lambda k: opt.lr)
    for k, lr in enumerate(trajectory["lrs"]):
        # The k-th step uses the schedule's value at k: the lr torch used for its step k.
        np.testing.assert_allclose(schedule(k), lr, rtol=RTOL_LR,
                                   atol=ATOL_LR_FRACTION * trajectory["hyper"]["lr"],
                                   err_msg=f"learning rate of step {k}")
        w = opt.step(w, grad(w))
        np.testing.assert_allclose(w, expected[k + 1], rtol=RTOL_TRAJECTORY, atol=ATOL_TRAJECTORY,
                                   err_msg=f"weights after step {k}")
    assert opt.t == len(trajectory["lrs"])


@pytest.mark.parametrize("sequence", SCHEDULE_SEQUENCES, ids=[s["name"] for s in SCHEDULE_SEQUENCES])
def test_schedule_matches_torch_scheduler(sequence):
    spec = sequence["schedule"]
    schedule = lib_schedule(spec)
    expected = np.array(sequence["lrs"])
    steps = np.arange(len(expected))
    atol = ATOL_LR_FRACTION * peak(spec)
    # Vectorised: one call over all steps ...
    np.testing.assert_allclose(schedule(steps), expected, rtol=RTOL_LR, atol=atol)
    # ... and one int at a time, as an optimizer calls it.
    np.testing.assert_allclose([schedule(int(k)) for k in steps], expected, rtol=RTOL_LR, atol=atol)
