"""Record what an optimizer keeps between steps (Momentum's v, RMSProp's s, Adam's m and v) at every
step of a run, so a chapter can plot it: the per-coordinate step size of RMSProp, the moments of
Adam before and after bias correction.

:func:`record` is :func:`lib.surfaces.run` with a recorder around the optimizer::

    result, history = record(RMSProp(lr=0.1), badly_scaled(), steps=50)
    history["s"]          # shape (50, 2): s after steps 1, 2, ..., 50
    result.trajectory     # shape (51, 2), exactly what run() returns

Row ``k - 1`` of each history is the state after step ``k``, the step that produced
``result.trajectory[k]``. From the step a run diverges at, the histories are NaN, like the trajectory.
"""

import numpy as np

from . import _checks
from .surfaces import run


class Recorder:
    """An optimizer that is another optimizer, plus a copy of its state after every step.

    ``step`` and ``t`` are the wrapped optimizer's, so :func:`lib.surfaces.run` accepts it.

    >>> from lib.optimizers import Momentum
    >>> recorder = Recorder(Momentum(lr=0.1, beta=0.9))
    >>> w = recorder.step([0.0], [1.0]); w = recorder.step(w, [1.0])
    >>> recorder.history("v")            # v_1 = g = 1, v_2 = 0.9 * 1 + 1 = 1.9
    array([[1. ],
           [1.9]])
    """

    def __init__(self, optimizer):
        if not (callable(getattr(optimizer, "step", None)) and hasattr(optimizer, "state")):
            raise ValueError("optimizer must be an optimizer from lib.optimizers, got "
                             f"{_checks.shown(optimizer)}")
        self.optimizer = optimizer
        self.states = []

    @property
    def t(self):
        return self.optimizer.t

    def step(self, w, grad):
        w = self.optimizer.step(w, grad)
        self.states.append({name: np.array(value, dtype=float, copy=True)
                            for name, value in self.optimizer.state().items()})
        return w

    def history(self, name):
        """The state ``name`` after each step so far, stacked: shape (steps, *state shape)."""
        if not isinstance(name, str):
            raise ValueError(f"name must be the name of a state such as 'v', got {_checks.shown(name)}")
        if not self.states:
            raise ValueError("the optimizer has taken no step yet: there is no history")
        if name not in self.states[0]:
            raise ValueError(f"{type(self.optimizer).__name__} keeps no state {name!r}; "
                             f"it keeps {sorted(self.states[0])}")
        # A sweep's first state may have the start's shape, the later ones the sweep's: broadcast.
        return np.stack(np.broadcast_arrays(*[state[name] for state in self.states]))


def record(optimizer, problem, w0=None, steps=100, **run_options):
    """Run ``optimizer`` on ``problem`` as :func:`lib.surfaces.run` does, recording its state.

    Returns ``(result, history)``: the :class:`lib.surfaces.RunResult` and a dict from each state
    name (``"v"``, ``"s"``, ``"m"``) to an array of shape (steps, *w's shape), NaN from the step at
    which the run diverged on (rows are steps 1 .. steps, one behind the trajectory's rows).

    >>> from lib.optimizers import RMSProp
    >>> from lib.surfaces import badly_scaled
    >>> result, history = record(RMSProp(lr=0.01, beta=0.99), badly_scaled(), steps=3)
    >>> history["s"].shape, result.trajectory.shape
    ((3, 2), (4, 2))
    >>> history["s"][0] / badly_scaled().grad(badly_scaled().start) ** 2    # s_1 = (1 - beta) g^2
    array([0.01, 0.01])
    """
    recorder = Recorder(optimizer)
    with np.errstate(all="ignore"):                     # a diverging run is reported, not warned
        result = run(recorder, problem, w0, steps, **run_options)
    gone = np.isnan(result.trajectory[1:]).any(axis=-1)  # (steps, ...): diverged at or before
    history = {}
    for name in (recorder.states[0] if recorder.states else {}):
        values = recorder.history(name)
        mask = gone.reshape(gone.shape + (1,) * (values.ndim - gone.ndim))
        history[name] = np.where(mask, np.nan, values)
    return result, history
