"""Record golden optimizer trajectories and learning-rate sequences with PyTorch.

Run once, from the repository root, with a Python that has torch (it is not a project dependency)::

    /path/to/torch/python tests/generate_torch_fixtures.py

It writes ``tests/fixtures/torch_trajectories.json``, which is committed (with the argument
``adagrad`` it writes only ``tests/fixtures/torch_adagrad.json``, see ``main_adagrad``); ``tests/test_against_torch.py``
replays every trajectory with ``lib.optimizers`` and ``lib.schedules`` and compares every step.

``python tests/generate_torch_fixtures.py nesterov`` writes only ``tests/fixtures/torch_nesterov.json``
(``torch.optim.SGD(momentum=beta, nesterov=True)``, same problems and layout), which
``tests/test_variants.py`` replays with ``lib.variants.Nesterov``; it leaves the main fixture alone.

This script is the independent reference, so it never imports the project's ``lib``: the problems,
their gradients (torch autograd) and the schedule multipliers (written below from the published
closed forms) are all its own. Everything runs in float64 with torch's plain single-tensor
implementations (``foreach=False``).

The contract being recorded: the k-th optimizer step (k = 0, 1, 2, ...) uses the schedule's value
at k. torch's ``LambdaLR`` sets ``lr = base_lr * lambda(0)`` when it is built and moves to
``lambda(k + 1)`` at each ``scheduler.step()``, which we call after each ``optimizer.step()``; with
``base_lr = 1.0`` the lambda *is* the learning rate. ``StepLR`` and ``CosineAnnealingLR`` are torch's
own schedulers, recorded so the tests compare ``lib.schedules.step_decay`` and ``cosine_annealing``
with them, not with a formula of ours.

JSON layout (floats are written with ``repr``, which round-trips float64 exactly)::

    {"meta": {...},
     "problems": {name: {"kind": ..., <data>, "checks": [{"w": [...], "loss": x, "grad": [...]}]}},
     "trajectories": [{"name", "problem", "optimizer", "hyper", "schedule", "amplification",
                       "lrs", "w"}],
     "schedules": [{"name", "schedule", "lrs"}]}

``w`` holds the weights before step 0 and after each step (n_steps + 1 rows); ``lrs[k]`` is the
learning rate torch used for step k. ``schedule`` is null (constant ``hyper["lr"]``) or a spec
``{"kind": <lib.schedules function name>, "args": {...}, "torch": <how torch made it>}``.
"""

import json
import math
import pathlib
import sys

OUT = pathlib.Path(__file__).resolve().parent / "fixtures" / "torch_trajectories.json"
N_STEPS = 80


# ---------------------------------------------------------------------------------------------
# Problems: loss functions written for torch autograd, with their data stored in the fixture.
# ---------------------------------------------------------------------------------------------

def quadratic_spec():
    # f(w) = 0.5 * w^T A w, an ill-conditioned valley rotated off the axes:
    # eigenvalues (11.2 +- sqrt(11.2^2 - 4*3)) / 2 = 10.93 and 0.274, condition number about 40.
    return {"kind": "quadratic", "A": [[10.0, 3.0], [3.0, 1.2]], "w0": [-2.0, 1.5]}


def rosenbrock_spec():
    # f(x, y) = (a - x)^2 + b (y - x^2)^2, the banana valley, from the classic start (-1.5, 2).
    return {"kind": "rosenbrock", "a": 1.0, "b": 100.0, "w0": [-1.5, 2.0]}


def least_squares_spec():
    # f(w) = 0.5 * mean((X w - y)^2) over 20 fixed samples of 5 features. The data are fixed
    # numbers (a small deterministic generator, so no RNG library is involved), stored in the JSON.
    n, d = 20, 5
    X = [[round(math.sin(1.0 + 0.7 * i + 1.3 * j) + 0.3 * math.cos(2.1 * i * (j + 1)), 6)
          for j in range(d)] for i in range(n)]
    w_true = [1.0, -2.0, 0.5, 3.0, -1.0]
    y = [round(sum(X[i][j] * w_true[j] for j in range(d)) + 0.1 * math.sin(5.0 * i), 6)
         for i in range(n)]
    return {"kind": "least_squares", "X": X, "y": y, "w0": [0.0] * d}


def loss_fn(torch, spec):
    """The problem's loss as a function of a float64 tensor w."""
    if spec["kind"] == "quadratic":
        A = torch.tensor(spec["A"], dtype=torch.float64)
        return lambda w: 0.5 * w @ (A @ w)
    if spec["kind"] == "rosenbrock":
        a, b = spec["a"], spec["b"]
        return lambda w: (a - w[0]) ** 2 + b * (w[1] - w[0] ** 2) ** 2
    if spec["kind"] == "least_squares":
        X = torch.tensor(spec["X"], dtype=torch.float64)
        y = torch.tensor(spec["y"], dtype=torch.float64)
        return lambda w: 0.5 * torch.mean((X @ w - y) ** 2)
    raise ValueError(spec["kind"])


# ---------------------------------------------------------------------------------------------
# Schedules: lambdas for LambdaLR (base lr 1.0, so the lambda returns the learning rate itself),
# written from the published closed forms, and torch's own StepLR / CosineAnnealingLR.
# ---------------------------------------------------------------------------------------------

def warmup_cosine_lambda(peak_lr, warmup_steps, total_steps, min_lr):
    # Hugging Face transformers, get_cosine_with_min_lr_schedule_with_warmup (num_cycles = 0.5):
    #   warmup: step / max(1, warmup_steps)
    #   after:  progress = (step - warmup) / max(1, total - warmup)
    #           factor = 0.5 * (1 + cos(pi * progress)), rescaled to [min_lr_rate, 1].
    # Written here in absolute terms (min_lr + (peak - min_lr) * factor). Past total_steps HF's
    # cosine would rise again; the book's contract is "reaches the minimum and stays there", so
    # progress is capped at 1 (the only departure from HF's formula).
    def lr(step):
        if step < warmup_steps:
            return peak_lr * float(step) / float(max(1, warmup_steps))
        progress = min(1.0, float(step - warmup_steps) / float(max(1, total_steps - warmup_steps)))
        return min_lr + (peak_lr - min_lr) * 0.5 * (1.0 + math.cos(math.pi * progress))
    return lr


def warmup_linear_lambda(peak_lr, warmup_steps, total_steps, min_lr):
    # Hugging Face transformers, get_linear_schedule_with_warmup:
    #   warmup: step / max(1, warmup_steps)
    #   after:  max(0, (total - step) / max(1, total - warmup))
    # generalised to end at min_lr instead of 0 (identical when min_lr = 0); the max(0, .)
    # becomes "stay at min_lr after total_steps".
    def lr(step):
        if step < warmup_steps:
            return peak_lr * float(step) / float(max(1, warmup_steps))
        remaining = max(0.0, float(total_steps - step) / float(max(1, total_steps - warmup_steps)))
        return min_lr + (peak_lr - min_lr) * remaining
    return lr


def linear_warmup_lambda(peak_lr, warmup_steps):
    # Hugging Face get_constant_schedule_with_warmup: min(1, step / warmup), times the peak.
    def lr(step):
        if step < warmup_steps:
            return peak_lr * float(step) / float(max(1.0, warmup_steps))
        return peak_lr
    return lr


LAMBDAS = {"warmup_cosine": warmup_cosine_lambda, "warmup_linear": warmup_linear_lambda,
           "linear_warmup": linear_warmup_lambda}


def make_scheduler(torch, optimizer, schedule):
    """Attach the scheduler described by ``schedule`` to ``optimizer`` (whose lr is already set)."""
    sched = torch.optim.lr_scheduler
    kind, args = schedule["kind"], schedule["args"]
    if schedule["torch"] == "LambdaLR":
        for group in optimizer.param_groups:
            group["lr"] = 1.0
            group["initial_lr"] = 1.0
        return sched.LambdaLR(optimizer, LAMBDAS[kind](**args))
    if schedule["torch"] == "StepLR":
        assert kind == "step_decay"
        return sched.StepLR(optimizer, step_size=args["step_size"], gamma=args["gamma"])
    if schedule["torch"] == "CosineAnnealingLR":
        assert kind == "cosine_annealing"
        return sched.CosineAnnealingLR(optimizer, T_max=args["total_steps"], eta_min=args["lr_min"])
    raise ValueError(schedule)


def schedule_spec(kind, base_lr):
    """The schedules used with optimizer trajectories, scaled to the trajectory's base lr."""
    if kind == "warmup_cosine":
        # total below N_STEPS: the last steps check "stays at min_lr".
        return {"kind": kind, "torch": "LambdaLR",
                "args": {"peak_lr": base_lr, "warmup_steps": 10, "total_steps": 70,
                         "min_lr": 0.1 * base_lr}}
    if kind == "warmup_linear":
        return {"kind": kind, "torch": "LambdaLR",
                "args": {"peak_lr": base_lr, "warmup_steps": 15, "total_steps": N_STEPS,
                         "min_lr": 0.0}}
    if kind == "step_decay":
        return {"kind": kind, "torch": "StepLR",
                "args": {"lr": base_lr, "step_size": 20, "gamma": 0.5}}
    if kind == "cosine_annealing":
        # T_max = N_STEPS: steps 0..N_STEPS-1 are all inside torch's first half-period.
        return {"kind": kind, "torch": "CosineAnnealingLR",
                "args": {"lr_max": base_lr, "total_steps": N_STEPS, "lr_min": 0.05 * base_lr}}
    raise ValueError(kind)


# ---------------------------------------------------------------------------------------------
# Optimizers: the book's names and hyperparameters -> torch.optim.
# ---------------------------------------------------------------------------------------------

def make_optimizer(torch, name, params, hyper):
    optim = torch.optim
    if name == "SGD":
        return optim.SGD(params, lr=hyper["lr"], foreach=False)
    if name == "Momentum":
        return optim.SGD(params, lr=hyper["lr"], momentum=hyper["beta"], dampening=0.0,
                         nesterov=False, foreach=False)
    if name == "Nesterov":
        return optim.SGD(params, lr=hyper["lr"], momentum=hyper["beta"], dampening=0.0,
                         nesterov=True, foreach=False)
    if name == "RMSProp":
        return optim.RMSprop(params, lr=hyper["lr"], alpha=hyper["beta"], eps=hyper["eps"],
                             momentum=0.0, centered=False, foreach=False)
    if name == "Adam":
        return optim.Adam(params, lr=hyper["lr"], betas=(hyper["beta1"], hyper["beta2"]),
                          eps=hyper["eps"], weight_decay=hyper["weight_decay"], amsgrad=False,
                          foreach=False)
    if name == "AdamW":
        return optim.AdamW(params, lr=hyper["lr"], betas=(hyper["beta1"], hyper["beta2"]),
                           eps=hyper["eps"], weight_decay=hyper["weight_decay"], amsgrad=False,
                           foreach=False)
    raise ValueError(name)


def optimizer_settings(problem):
    """(optimizer, hyperparameters) pairs for one problem; learning rates suit its curvature."""
    # Largest curvature: quadratic 10.9; Rosenbrock about 1900 at the start; least squares small.
    sgd_lr = {"quadratic": (0.05, 0.15), "rosenbrock": (2e-4, 5e-4), "least_squares": (0.1, 0.4)}
    mom_lr = {"quadratic": 0.02, "rosenbrock": 1e-4, "least_squares": 0.05}
    ada_lr = {"quadratic": 0.1, "rosenbrock": 0.02, "least_squares": 0.05}
    rms_short_lr = {"quadratic": 0.05, "rosenbrock": 0.003, "least_squares": 0.025}[problem]
    a, b = sgd_lr[problem]
    m, r = mom_lr[problem], ada_lr[problem]
    return [
        ("SGD", {"lr": a}),
        ("SGD", {"lr": b}),
        ("Momentum", {"lr": m, "beta": 0.9}),
        ("Momentum", {"lr": 2 * m, "beta": 0.5}),
        ("Momentum", {"lr": 0.5 * m, "beta": 0.99}),
        # Short memories (beta = 0.9, beta2 = 0.9) at the full rate reach, within 80 steps, a regime
        # where the effective step lr/sqrt(s) is far beyond the curvature's stability limit and
        # each step multiplies any perturbation (rounding included) several times over: a
        # comparison there tests chaos, not the rule (see amplification()). Smaller rates keep
        # these runs out of it.
        ("RMSProp", {"lr": rms_short_lr, "beta": 0.9, "eps": 1e-8}),
        ("RMSProp", {"lr": r, "beta": 0.99, "eps": 1e-8}),
        ("RMSProp", {"lr": 0.5 * r, "beta": 0.999, "eps": 1e-6}),
        ("Adam", {"lr": r, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.0}),
        ("Adam", {"lr": r, "beta1": 0.9, "beta2": 0.95, "eps": 1e-8, "weight_decay": 0.0}),
        ("Adam", {"lr": 0.25 * r, "beta1": 0.5, "beta2": 0.9, "eps": 1e-3, "weight_decay": 0.0}),
        ("Adam", {"lr": r, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.1}),
        ("Adam", {"lr": r, "beta1": 0.8, "beta2": 0.95, "eps": 1e-8, "weight_decay": 0.5}),
        ("AdamW", {"lr": r, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.01}),
        ("AdamW", {"lr": r, "beta1": 0.9, "beta2": 0.95, "eps": 1e-8, "weight_decay": 0.1}),
        ("AdamW", {"lr": r, "beta1": 0.8, "beta2": 0.99, "eps": 1e-6, "weight_decay": 0.5}),
    ]


# With a schedule: every optimizer meets every schedule once, the problems taken in turn.
SCHEDULED = [
    ("SGD", 0), ("Momentum", 2), ("RMSProp", 6), ("Adam", 9), ("Adam", 11), ("AdamW", 14),
]
SCHEDULE_KINDS = ["warmup_cosine", "warmup_linear", "step_decay", "cosine_annealing"]


def run(torch, problem_spec, name, hyper, schedule=None, n_steps=N_STEPS, nudge=0.0):
    f = loss_fn(torch, problem_spec)
    w = torch.tensor(problem_spec["w0"], dtype=torch.float64, requires_grad=True)
    optimizer = make_optimizer(torch, name, [w], hyper)
    scheduler = make_scheduler(torch, optimizer, schedule) if schedule else None
    ws, lrs = [w.detach().tolist()], []
    for _ in range(n_steps):
        optimizer.zero_grad()
        f(w).backward()
        if nudge:   # see amplification(): a relative error injected into every step's gradient
            signs = torch.tensor([(-1.0) ** (len(lrs) + i) for i in range(w.numel())])
            w.grad.mul_(1.0 + nudge * signs)
        lrs.append(float(optimizer.param_groups[0]["lr"]))
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        ws.append(w.detach().tolist())
    if not all(math.isfinite(x) for row in ws for x in row):
        raise RuntimeError(f"{name} {hyper} diverged on {problem_spec['kind']}")
    return ws, lrs


# A trajectory is a fair test only where rounding stays small: two correct implementations that
# round differently (torch's Adam uses lerp and folds the bias corrections; its RMSprop uses
# addcdiv) drift apart by a few ulps per step, and a chaotic stretch of the run would multiply that
# drift until any tolerance is meaningless. So every recorded run is checked for it: run it again
# with a relative error of NUDGE put into every gradient, as rounding would (its sign alternating
# over steps and coordinates: a uniform scaling would be invisible to Adam and RMSProp),
# and see how far the two runs separate, relative to NUDGE.
NUDGE = 1e-12
MAX_AMPLIFICATION = 10.0


def amplification(torch, spec, name, hyper, schedule, ws):
    nudged, _ = run(torch, spec, name, hyper, schedule, nudge=NUDGE)
    return max(abs(a - b) for row, other in zip(ws, nudged) for a, b in zip(row, other)) / NUDGE


def gradient_checks(torch, spec):
    """Loss and autograd gradient at a few points, so the test can check its own gradient code."""
    f = loss_fn(torch, spec)
    d = len(spec["w0"])
    points = [spec["w0"], [0.3 * (i + 1) - 0.7 for i in range(d)], [1.1 - 0.45 * i for i in range(d)]]
    checks = []
    for point in points:
        w = torch.tensor(point, dtype=torch.float64, requires_grad=True)
        loss = f(w)
        loss.backward()
        checks.append({"w": point, "loss": float(loss.detach()), "grad": w.grad.tolist()})
    return checks


def schedule_sequences(torch):
    """Longer lr sequences from torch's schedulers alone (no optimizer dynamics involved)."""
    cases = [
        ("StepLR lr=0.1 step_size=7 gamma=0.3",
         {"kind": "step_decay", "torch": "StepLR", "args": {"lr": 0.1, "step_size": 7, "gamma": 0.3}},
         60),
        ("StepLR lr=1.0 step_size=1 gamma=0.9",
         {"kind": "step_decay", "torch": "StepLR", "args": {"lr": 1.0, "step_size": 1, "gamma": 0.9}},
         100),
        ("StepLR lr=3e-4 step_size=100 gamma=1.0",
         {"kind": "step_decay", "torch": "StepLR",
          "args": {"lr": 3e-4, "step_size": 100, "gamma": 1.0}}, 250),
        ("CosineAnnealingLR T_max=100 eta_min=0.001",
         {"kind": "cosine_annealing", "torch": "CosineAnnealingLR",
          "args": {"lr_max": 0.1, "total_steps": 100, "lr_min": 0.001}}, 101),
        ("CosineAnnealingLR T_max=1000 eta_min=0",
         {"kind": "cosine_annealing", "torch": "CosineAnnealingLR",
          "args": {"lr_max": 3e-4, "total_steps": 1000, "lr_min": 0.0}}, 1001),
        ("CosineAnnealingLR T_max=7 eta_min=0.2",
         {"kind": "cosine_annealing", "torch": "CosineAnnealingLR",
          "args": {"lr_max": 1.0, "total_steps": 7, "lr_min": 0.2}}, 8),
        ("LambdaLR HF warmup+cosine, peak 3e-4, warmup 100, total 1000, min 3e-5",
         {"kind": "warmup_cosine", "torch": "LambdaLR",
          "args": {"peak_lr": 3e-4, "warmup_steps": 100, "total_steps": 1000, "min_lr": 3e-5}}, 1200),
        ("LambdaLR HF warmup+cosine, no warmup, min 0",
         {"kind": "warmup_cosine", "torch": "LambdaLR",
          "args": {"peak_lr": 1.0, "warmup_steps": 0, "total_steps": 50, "min_lr": 0.0}}, 60),
        ("LambdaLR HF warmup+linear, peak 1e-4, warmup 10, total 110, min 0",
         {"kind": "warmup_linear", "torch": "LambdaLR",
          "args": {"peak_lr": 1e-4, "warmup_steps": 10, "total_steps": 110, "min_lr": 0.0}}, 130),
        ("LambdaLR HF warmup+linear, warmup = total",
         {"kind": "warmup_linear", "torch": "LambdaLR",
          "args": {"peak_lr": 0.5, "warmup_steps": 20, "total_steps": 20, "min_lr": 0.05}}, 30),
        ("LambdaLR HF constant with warmup, peak 1e-3, warmup 37",
         {"kind": "linear_warmup", "torch": "LambdaLR",
          "args": {"peak_lr": 1e-3, "warmup_steps": 37}}, 80),
    ]
    out = []
    for name, spec, n in cases:
        # A dummy parameter: only the scheduler's lr sequence matters here.
        p = torch.zeros(1, dtype=torch.float64, requires_grad=True)
        base = spec["args"].get("lr", spec["args"].get("lr_max", 1.0))
        optimizer = torch.optim.SGD([p], lr=base, foreach=False)
        scheduler = make_scheduler(torch, optimizer, spec)
        lrs = []
        for _ in range(n):
            lrs.append(float(optimizer.param_groups[0]["lr"]))
            optimizer.step()
            scheduler.step()
        out.append({"name": name, "schedule": spec, "lrs": lrs})
    return out


def main():
    import torch  # only here: importing this module (e.g. pytest --doctest-modules) needs no torch

    torch.set_default_dtype(torch.float64)
    problems = {"quadratic": quadratic_spec(), "rosenbrock": rosenbrock_spec(),
                "least_squares": least_squares_spec()}
    for name, spec in problems.items():
        spec["checks"] = gradient_checks(torch, spec)

    trajectories = []
    for problem, spec in problems.items():
        for name, hyper in optimizer_settings(problem):
            ws, lrs = run(torch, spec, name, hyper)
            trajectories.append({"name": f"{problem} {name} {hyper}", "problem": problem,
                                 "optimizer": name, "hyper": hyper, "schedule": None,
                                 "amplification": amplification(torch, spec, name, hyper, None, ws),
                                 "lrs": lrs, "w": ws})
    problem_names = list(problems)
    for i, (name, index) in enumerate(SCHEDULED):
        for j, kind in enumerate(SCHEDULE_KINDS):
            problem = problem_names[(i + j) % len(problem_names)]
            opt_name, hyper = optimizer_settings(problem)[index]
            assert opt_name == name
            schedule = schedule_spec(kind, hyper["lr"])
            ws, lrs = run(torch, problems[problem], name, hyper, schedule)
            trajectories.append({"name": f"{problem} {name} {hyper} {schedule['torch']} {kind}",
                                 "problem": problem, "optimizer": name, "hyper": hyper,
                                 "schedule": schedule,
                                 "amplification": amplification(torch, problems[problem], name,
                                                                hyper, schedule, ws),
                                 "lrs": lrs, "w": ws})
    for trajectory in trajectories:
        if trajectory["amplification"] > MAX_AMPLIFICATION:
            raise RuntimeError(f"{trajectory['name']} amplifies rounding "
                               f"{trajectory['amplification']:.3g}-fold: too chaotic to compare")

    fixture = {
        "meta": {
            "generator": "tests/generate_torch_fixtures.py",
            "torch": torch.__version__,
            "python": sys.version.split()[0],
            "dtype": "float64",
            "n_steps": N_STEPS,
            "amplification": f"max |w - w_nudged| / {NUDGE} over the run, for a relative error of "
                             f"{NUDGE} put into every gradient (each run is below "
                             f"{MAX_AMPLIFICATION})",
            "contract": "lrs[k] is the learning rate of optimizer step k; w[0] is the start and "
                        "w[k+1] the weights after step k",
        },
        "problems": problems,
        "trajectories": trajectories,
        "schedules": schedule_sequences(torch),
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(fixture, indent=None, separators=(",", ":"))
    OUT.write_text(text + "\n")
    print(f"wrote {OUT} ({len(text) / 1e3:.0f} kB): {len(trajectories)} trajectories, "
          f"{len(fixture['schedules'])} schedule sequences")


# ---------------------------------------------------------------------------------------------
# Adagrad (lib.variants.Adagrad), in its own file so torch_trajectories.json is left as it is:
#     /path/to/torch/python tests/generate_torch_fixtures.py adagrad
# writes only tests/fixtures/torch_adagrad.json (same layout for "problems" and "trajectories").
# ---------------------------------------------------------------------------------------------

ADAGRAD_OUT = OUT.parent / "torch_adagrad.json"


def adagrad_settings(problem):
    """Adagrad settings: torch's defaults (lr_decay 0, initial_accumulator_value 0) and eps."""
    lr = {"quadratic": 0.5, "rosenbrock": 0.05, "least_squares": 0.3}[problem]
    return [{"lr": lr, "eps": 1e-10}, {"lr": 0.2 * lr, "eps": 1e-10}, {"lr": lr, "eps": 1e-3}]


def run_adagrad(torch, spec, hyper, nudge=0.0, n_steps=N_STEPS):
    f = loss_fn(torch, spec)
    w = torch.tensor(spec["w0"], dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.Adagrad([w], lr=hyper["lr"], eps=hyper["eps"], lr_decay=0.0,
                                    weight_decay=0.0, initial_accumulator_value=0.0,
                                    foreach=False)
    ws = [w.detach().tolist()]
    for k in range(n_steps):
        optimizer.zero_grad()
        f(w).backward()
        if nudge:
            signs = torch.tensor([(-1.0) ** (k + i) for i in range(w.numel())])
            w.grad.mul_(1.0 + nudge * signs)
        optimizer.step()
        ws.append(w.detach().tolist())
    if not all(math.isfinite(x) for row in ws for x in row):
        raise RuntimeError(f"Adagrad {hyper} diverged on {spec['kind']}")
    return ws


def main_adagrad():
    import torch

    torch.set_default_dtype(torch.float64)
    problems = {"quadratic": quadratic_spec(), "rosenbrock": rosenbrock_spec(),
                "least_squares": least_squares_spec()}
    for spec in problems.values():
        spec["checks"] = gradient_checks(torch, spec)
    trajectories = []
    for problem, spec in problems.items():
        for hyper in adagrad_settings(problem):
            ws = run_adagrad(torch, spec, hyper)
            nudged = run_adagrad(torch, spec, hyper, nudge=NUDGE)
            amp = max(abs(a - b) for r, o in zip(ws, nudged) for a, b in zip(r, o)) / NUDGE
            if amp > MAX_AMPLIFICATION:
                raise RuntimeError(f"Adagrad {hyper} on {problem} amplifies rounding {amp:.3g}-fold")
            trajectories.append({"name": f"{problem} Adagrad {hyper}", "problem": problem,
                                 "optimizer": "Adagrad", "hyper": hyper, "amplification": amp,
                                 "w": ws})
    fixture = {"meta": {"generator": "tests/generate_torch_fixtures.py adagrad",
                        "torch": torch.__version__, "python": sys.version.split()[0],
                        "dtype": "float64", "n_steps": N_STEPS,
                        "torch_call": "torch.optim.Adagrad(lr, eps, lr_decay=0, weight_decay=0, "
                                      "initial_accumulator_value=0, foreach=False)",
                        "contract": "w[0] is the start and w[k+1] the weights after step k"},
               "problems": problems, "trajectories": trajectories}
    text = json.dumps(fixture, indent=None, separators=(",", ":"))
    ADAGRAD_OUT.write_text(text + "\n")
    print(f"wrote {ADAGRAD_OUT} ({len(text) / 1e3:.0f} kB): {len(trajectories)} trajectories")


# ---------------------------------------------------------------------------------------------
# Nesterov (lib.variants.Nesterov), in its own file:
#     /path/to/torch/python tests/generate_torch_fixtures.py nesterov
# writes only tests/fixtures/torch_nesterov.json.
# ---------------------------------------------------------------------------------------------

NESTEROV_OUT = OUT.parent / "torch_nesterov.json"


def nesterov_settings(problem):
    """Nesterov's (hyperparameters) for one problem: the Momentum settings' learning rates."""
    m = {"quadratic": 0.02, "rosenbrock": 1e-4, "least_squares": 0.05}[problem]
    return [{"lr": m, "beta": 0.9}, {"lr": 2 * m, "beta": 0.5}, {"lr": 0.5 * m, "beta": 0.99},
            {"lr": 1.5 * m, "beta": 0.7}]          # torch refuses nesterov=True with momentum 0


def main_nesterov():
    """Write torch_nesterov.json: torch's SGD(nesterov=True) on the three problems, constant lr and
    two schedules (warmup + cosine through LambdaLR, StepLR), each run checked for amplification."""
    import torch

    torch.set_default_dtype(torch.float64)
    problems = {"quadratic": quadratic_spec(), "rosenbrock": rosenbrock_spec(),
                "least_squares": least_squares_spec()}
    for spec in problems.values():
        spec["checks"] = gradient_checks(torch, spec)
    trajectories = []
    for problem, spec in problems.items():
        settings = [(hyper, None) for hyper in nesterov_settings(problem)]
        base = nesterov_settings(problem)[0]
        settings += [(base, schedule_spec(kind, base["lr"])) for kind in ("warmup_cosine", "step_decay")]
        for hyper, schedule in settings:
            ws, lrs = run(torch, spec, "Nesterov", hyper, schedule)
            tail = f" {schedule['torch']} {schedule['kind']}" if schedule else ""
            trajectories.append({"name": f"{problem} Nesterov {hyper}{tail}", "problem": problem,
                                 "optimizer": "Nesterov", "hyper": hyper, "schedule": schedule,
                                 "amplification": amplification(torch, spec, "Nesterov", hyper,
                                                                schedule, ws),
                                 "lrs": lrs, "w": ws})
    for trajectory in trajectories:
        if trajectory["amplification"] > MAX_AMPLIFICATION:
            raise RuntimeError(f"{trajectory['name']} amplifies rounding "
                               f"{trajectory['amplification']:.3g}-fold: too chaotic to compare")
    fixture = {
        "meta": {"generator": "tests/generate_torch_fixtures.py nesterov", "torch": torch.__version__,
                 "python": sys.version.split()[0], "dtype": "float64", "n_steps": N_STEPS,
                 "optimizer": "torch.optim.SGD(lr, momentum=beta, dampening=0, nesterov=True, "
                              "foreach=False)",
                 "contract": "lrs[k] is the learning rate of optimizer step k; w[0] is the start and "
                             "w[k+1] the weights after step k"},
        "problems": problems,
        "trajectories": trajectories,
    }
    text = json.dumps(fixture, indent=None, separators=(",", ":"))
    NESTEROV_OUT.write_text(text + "\n")
    print(f"wrote {NESTEROV_OUT} ({len(text) / 1e3:.0f} kB): {len(trajectories)} trajectories")


if __name__ == "__main__":
    if sys.argv[1:] == ["adagrad"]:
        main_adagrad()
    elif sys.argv[1:] == ["nesterov"]:
        main_nesterov()
    else:
        main()
