"""Record golden trajectories of the rules beyond AdamW (float64), for tests/test_beyond.py.

Run once, from the repository root, with a Python that has the reference (not project
dependencies)::

    /tmp/jaxvenv/bin/python tests/generate_beyond_fixtures.py lion        # jax + optax
    /work/fixture-venv/bin/python tests/generate_beyond_fixtures.py torch  # torch 2.13, schedulefree

``lion`` writes ``tests/fixtures/beyond_lion.json`` from ``optax.lion``; ``torch`` writes
``beyond_muon.json`` (``torch.optim.Muon``), ``beyond_adafactor.json`` (``torch.optim.Adafactor``)
and ``beyond_schedulefree.json`` (``schedulefree.AdamWScheduleFree`` 1.4.1; install it with
``--no-deps`` beside torch 2.13). This script never imports the project's ``lib``:
the problems and their gradients (jax or torch autograd) are its own. ``w`` holds the weights before step 0
and after each step. ``margin`` is the smallest |beta1*m + (1-beta1)*g| over all steps and
coordinates: Lion takes a sign, so a run is a fair test only where that argument stays far from 0
(rounding cannot flip a sign).

Muon: torch runs Newton-Schulz in bfloat16 on every device (``grad.bfloat16()`` in
``torch/optim/_muon.py``). The golden runs patch ``torch.optim._muon._zeropower_via_newtonschulz``
with torch's own function minus that cast (so float64 throughout); ``bfloat16_first_step`` records
one unpatched step, to measure what the cast changes. Schedule-Free: ``y`` is the point the
gradient is taken at (the package's train mode), ``x`` the averaged point its ``eval()`` gives.
"""

import json
import pathlib
import sys

OUT = pathlib.Path(__file__).resolve().parent / "fixtures" / "beyond_lion.json"
N_STEPS = 60
PROBLEMS = {
    "quadratic": {"kind": "quadratic", "A": [[10.0, 3.0], [3.0, 1.2]], "w0": [-2.0, 1.5]},
    "rosenbrock": {"kind": "rosenbrock", "a": 1.0, "b": 100.0, "w0": [-1.5, 2.0]},
}
SETTINGS = [{"lr": 0.01, "beta1": 0.9, "beta2": 0.99, "weight_decay": 0.0},
            {"lr": 0.003, "beta1": 0.9, "beta2": 0.99, "weight_decay": 1e-3},
            {"lr": 0.02, "beta1": 0.95, "beta2": 0.98, "weight_decay": 0.1}]


def loss(spec):
    import jax.numpy as jnp

    if spec["kind"] == "quadratic":
        A = jnp.array(spec["A"], dtype=jnp.float64)
        return lambda w: 0.5 * w @ (A @ w)
    a, b = spec["a"], spec["b"]
    return lambda w: (a - w[0]) ** 2 + b * (w[1] - w[0] ** 2) ** 2


def run(spec, hyper):
    import jax
    import jax.numpy as jnp
    import optax

    jax.config.update("jax_enable_x64", True)
    grad = jax.grad(loss(spec))
    opt = optax.lion(learning_rate=hyper["lr"], b1=hyper["beta1"], b2=hyper["beta2"],
                     weight_decay=hyper["weight_decay"])
    w = jnp.array(spec["w0"], dtype=jnp.float64)
    state = opt.init(w)
    ws, margin = [w.tolist()], float("inf")
    for _ in range(N_STEPS):
        g = grad(w)
        mu = state[0].mu
        margin = min(margin, float(jnp.min(jnp.abs(hyper["beta1"] * mu + (1 - hyper["beta1"]) * g))))
        updates, state = opt.update(g, state, w)
        w = optax.apply_updates(w, updates)
        ws.append(w.tolist())
    return ws, margin


def main():
    import jax
    import optax

    trajectories = []
    for name, spec in PROBLEMS.items():
        for hyper in SETTINGS:
            ws, margin = run(spec, hyper)
            trajectories.append({"problem": name, "hyper": hyper, "margin": margin, "w": ws})
    meta = {"optax": optax.__version__, "jax": jax.__version__, "dtype": "float64",
            "n_steps": N_STEPS}
    OUT.write_text(json.dumps({"meta": meta, "problems": PROBLEMS,
                               "trajectories": trajectories}, indent=1))
    print(f"wrote {OUT}: {len(trajectories)} runs, smallest margin "
          f"{min(t['margin'] for t in trajectories):.3g}")


# --- torch: Muon, Adafactor, Schedule-Free AdamW -------------------------------------------------

FIXTURES = pathlib.Path(__file__).resolve().parent / "fixtures"
TORCH_STEPS = 40


def matrix_problems():
    """Least squares 0.5 ||X W - Y||_F^2 on seeded random data, a tall, a wide and a square W."""
    import numpy as np

    problems = {}
    for name, (k, a, b), seed in [("tall", (7, 4, 3), 1), ("wide", (6, 3, 5), 2),
                                  ("square", (5, 4, 4), 3)]:
        rng = np.random.default_rng(seed)
        problems[name] = {"kind": "least_squares", "X": rng.normal(size=(k, a)).tolist(),
                          "Y": rng.normal(size=(k, b)).tolist(),
                          "w0": (0.5 * rng.normal(size=(a, b))).tolist()}
    return problems


def torch_loss(spec):
    import torch

    if spec["kind"] == "least_squares":
        X = torch.tensor(spec["X"], dtype=torch.float64)
        Y = torch.tensor(spec["Y"], dtype=torch.float64)
        return lambda w: 0.5 * ((X @ w - Y) ** 2).sum()
    if spec["kind"] == "quadratic":
        A = torch.tensor(spec["A"], dtype=torch.float64)
        return lambda w: 0.5 * w @ (A @ w)
    a, b = spec["a"], spec["b"]
    return lambda w: (a - w[0]) ** 2 + b * (w[1] - w[0] ** 2) ** 2


def torch_run(spec, make, n_steps=TORCH_STEPS, averaged=None):
    """Steps of ``make([w])`` on ``spec``; ``averaged(opt, w)`` gives an extra point per step."""
    import torch

    loss = torch_loss(spec)
    w = torch.tensor(spec["w0"], dtype=torch.float64, requires_grad=True)
    opt = make([w])
    ws, xs = [w.detach().tolist()], []
    for _ in range(n_steps):
        opt.zero_grad()
        loss(w).backward()
        opt.step()
        ws.append(w.detach().tolist())
        if averaged is not None:
            xs.append(averaged(opt, w))
    return ws, xs


def float64_newton_schulz(grad, ns_coefficients, ns_steps, eps):
    """torch 2.13's _zeropower_via_newtonschulz, line for line, without ``grad.bfloat16()``."""
    import torch

    a, b, c = ns_coefficients
    ortho_grad = grad.clone()
    if grad.size(0) > grad.size(1):
        ortho_grad = ortho_grad.T
    ortho_grad.div_(ortho_grad.norm().clamp(min=eps))
    for _ in range(ns_steps):
        gram_matrix = ortho_grad @ ortho_grad.T
        gram_update = torch.addmm(gram_matrix, gram_matrix, gram_matrix, beta=b, alpha=c)
        ortho_grad = torch.addmm(ortho_grad, gram_update, ortho_grad, beta=a)
    if grad.size(0) > grad.size(1):
        ortho_grad = ortho_grad.T
    return ortho_grad


MUON_SETTINGS = [
    {"lr": 0.02, "beta": 0.95, "nesterov": True, "ns_steps": 5, "weight_decay": 0.1,
     "eps": 1e-7, "adjust_lr": "original"},
    {"lr": 0.05, "beta": 0.9, "nesterov": False, "ns_steps": 5, "weight_decay": 0.0,
     "eps": 1e-7, "adjust_lr": "original"},
    {"lr": 0.01, "beta": 0.95, "nesterov": True, "ns_steps": 3, "weight_decay": 0.01,
     "eps": 1e-7, "adjust_lr": "match_rms_adamw"},
]


def muon_fixture():
    import torch
    import torch.optim._muon as muon_module

    def make(h):
        return lambda params: torch.optim.Muon(
            params, lr=h["lr"], momentum=h["beta"], nesterov=h["nesterov"],
            ns_steps=h["ns_steps"], weight_decay=h["weight_decay"], eps=h["eps"],
            adjust_lr_fn=h["adjust_lr"])

    problems, runs = matrix_problems(), []
    original = muon_module._zeropower_via_newtonschulz
    for name, spec in problems.items():
        bf16, _ = torch_run(spec, make(MUON_SETTINGS[0]), n_steps=1)
        muon_module._zeropower_via_newtonschulz = float64_newton_schulz
        try:
            for hyper in MUON_SETTINGS:
                ws, _ = torch_run(spec, make(hyper))
                runs.append({"problem": name, "hyper": hyper, "w": ws})
        finally:
            muon_module._zeropower_via_newtonschulz = original
        spec["bfloat16_first_step"] = bf16[1]
    return problems, runs


ADAFACTOR_SETTINGS = [
    {"lr": 0.01, "beta2_decay": -0.8, "eps": [None, 1e-3], "d": 1.0, "weight_decay": 0.0},
    {"lr": 0.05, "beta2_decay": -0.8, "eps": [None, 1e-3], "d": 1.0, "weight_decay": 0.01},
    {"lr": 0.3, "beta2_decay": -0.5, "eps": [1e-6, 1e-2], "d": 2.0, "weight_decay": 0.0},
]


def adafactor_fixture():
    import torch

    problems = {**matrix_problems(), **PROBLEMS}
    runs = []
    for name, spec in problems.items():
        for h in ADAFACTOR_SETTINGS:
            ws, _ = torch_run(spec, lambda p, h=h: torch.optim.Adafactor(
                p, lr=h["lr"], beta2_decay=h["beta2_decay"], eps=tuple(h["eps"]), d=h["d"],
                weight_decay=h["weight_decay"]))
            runs.append({"problem": name, "hyper": h, "w": ws})
    return problems, runs


SCHEDULEFREE_SETTINGS = [
    {"lr": 0.05, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.0,
     "warmup_steps": 0, "r": 0.0, "weight_lr_power": 2.0},
    {"lr": 0.02, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.01,
     "warmup_steps": 10, "r": 0.0, "weight_lr_power": 2.0},
    {"lr": 0.1, "beta1": 0.95, "beta2": 0.99, "eps": 1e-6, "weight_decay": 0.0,
     "warmup_steps": 5, "r": 1.0, "weight_lr_power": 0.0},
]


def eval_point(opt, w):
    """The package's eval() point x, read without disturbing the run (y is restored exactly)."""
    y = w.detach().clone()
    opt.eval()
    x = w.detach().tolist()
    opt.train()
    with __import__("torch").no_grad():
        w.copy_(y)
    return x


def schedulefree_fixture():
    import schedulefree

    problems = {"tall": matrix_problems()["tall"], **PROBLEMS}
    runs = []
    for name, spec in problems.items():
        for h in SCHEDULEFREE_SETTINGS:
            def make(params, h=h):
                opt = schedulefree.AdamWScheduleFree(
                    params, lr=h["lr"], betas=(h["beta1"], h["beta2"]), eps=h["eps"],
                    weight_decay=h["weight_decay"], warmup_steps=h["warmup_steps"], r=h["r"],
                    weight_lr_power=h["weight_lr_power"])
                opt.train()
                return opt
            ws, xs = torch_run(spec, make, averaged=eval_point)
            runs.append({"problem": name, "hyper": h, "y": ws, "x": [spec["w0"], *xs]})
    return problems, runs


def torch_main():
    import numpy
    import schedulefree  # noqa: F401  (its version is recorded)
    import torch
    from importlib.metadata import version

    torch.set_default_dtype(torch.float64)
    meta = {"torch": torch.__version__, "numpy": numpy.__version__,
            "schedulefree": version("schedulefree"), "dtype": "float64", "n_steps": TORCH_STEPS}
    for name, make in [("muon", muon_fixture), ("adafactor", adafactor_fixture),
                       ("schedulefree", schedulefree_fixture)]:
        problems, runs = make()
        out = FIXTURES / f"beyond_{name}.json"
        out.write_text(json.dumps({"meta": meta, "problems": problems, "trajectories": runs},
                                  indent=1))
        print(f"wrote {out}: {len(runs)} runs")


if __name__ == "__main__":
    which = sys.argv[1] if len(sys.argv) > 1 else "lion"
    if which not in ("lion", "torch"):
        sys.exit("usage: generate_beyond_fixtures.py lion|torch")
    main() if which == "lion" else torch_main()
