"""lib.variants.Adagrad against torch.optim.Adagrad, and against numbers worked by hand.

The fixture ``fixtures/torch_adagrad.json`` was written by ``generate_torch_fixtures.py adagrad``
with ``torch.optim.Adagrad`` (float64, lr_decay 0, weight_decay 0, initial_accumulator_value 0);
the lib computes its own gradients (the numpy formulas of ``test_against_torch``, which that file
checks against torch's autograd) and must land on torch's weights after every step.
"""

import json
import math
import pathlib

import numpy as np
import pytest

from lib.variants import Adagrad
from test_against_torch import ATOL_TRAJECTORY, RTOL_TRAJECTORY, gradient

FIXTURE = json.loads((pathlib.Path(__file__).parent / "fixtures" / "torch_adagrad.json").read_text())


def test_fixture_has_every_problem_and_small_amplification():
    problems = {t["problem"] for t in FIXTURE["trajectories"]}
    assert problems == {"quadratic", "rosenbrock", "least_squares"}
    assert all(t["amplification"] < 10 for t in FIXTURE["trajectories"])


@pytest.mark.parametrize("trajectory", FIXTURE["trajectories"], ids=lambda t: t["name"])
def test_matches_torch_every_step(trajectory):
    problem = FIXTURE["problems"][trajectory["problem"]]
    grad = gradient(problem)
    for check in problem["checks"]:                       # our gradient is torch's autograd
        np.testing.assert_allclose(grad(np.array(check["w"])), check["grad"], rtol=1e-14, atol=1e-14)
    opt = Adagrad(**trajectory["hyper"])
    expected = np.array(trajectory["w"])
    w = expected[0]
    for k in range(len(expected) - 1):
        w = opt.step(w, grad(w))
        np.testing.assert_allclose(w, expected[k + 1], rtol=RTOL_TRAJECTORY, atol=ATOL_TRAJECTORY,
                                   err_msg=f"step {k}")


def test_steady_gradient_steps_shrink_like_one_over_sqrt_t():
    # s_t = t g^2, so step t moves lr |g| / (sqrt(t) |g|) = lr / sqrt(t), whatever g is
    opt, w = Adagrad(lr=0.5, eps=0.0), np.zeros(2)
    for t in range(1, 101):
        new = opt.step(w, [4.0, -0.002])
        assert np.allclose(np.abs(new - w), 0.5 / math.sqrt(t), rtol=1e-12)
        w = new


def test_eps_outside_the_root_and_defaults_are_torchs():
    opt = Adagrad()
    assert (opt.lr, opt.eps) == (0.01, 1e-10)
    # one step with g = 1e-6 and eps = 1e-6: s = 1e-12, step = lr * 1e-6 / (1e-6 + 1e-6) = lr / 2
    assert Adagrad(lr=1.0, eps=1e-6).step([0.0], [1e-6])[0] == pytest.approx(-0.5, rel=1e-12)


@pytest.mark.parametrize("bad", [{"lr": -1.0}, {"eps": -1e-3}, {"eps": float("nan")}])
def test_bad_arguments_name_themselves(bad):
    with pytest.raises(ValueError, match=next(iter(bad))):
        Adagrad(**bad)
