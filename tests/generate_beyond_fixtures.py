"""Record golden Lion trajectories with optax (float64), for tests/test_beyond.py.

Run once, from the repository root, with a Python that has jax and optax (not project
dependencies)::

    /tmp/jaxvenv/bin/python tests/generate_beyond_fixtures.py

It writes ``tests/fixtures/beyond_lion.json``. This script never imports the project's ``lib``:
the problems and their gradients (jax autograd) are its own. ``w`` holds the weights before step 0
and after each step. ``margin`` is the smallest |beta1*m + (1-beta1)*g| over all steps and
coordinates: Lion takes a sign, so a run is a fair test only where that argument stays far from 0
(rounding cannot flip a sign).
"""

import json
import pathlib

import jax
import jax.numpy as jnp
import optax

jax.config.update("jax_enable_x64", True)
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
    if spec["kind"] == "quadratic":
        A = jnp.array(spec["A"], dtype=jnp.float64)
        return lambda w: 0.5 * w @ (A @ w)
    a, b = spec["a"], spec["b"]
    return lambda w: (a - w[0]) ** 2 + b * (w[1] - w[0] ** 2) ** 2


def run(spec, hyper):
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


if __name__ == "__main__":
    main()
