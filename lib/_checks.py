"""Argument checks shared by the rules: every error names the argument and its allowed range."""

import numpy as np


def hyperparameter(name, value, low, high=np.inf, high_open=True):
    """Return ``value`` checked to lie in ``[low, high)`` (or ``[low, high]``), elementwise.

    Scalars come back as Python floats (so they do not up-cast float32 weights); arrays come back as
    float64 arrays, ready to broadcast against the weights.
    """
    interval = f"[{low}, {high})" if high_open else f"[{low}, {high}]"
    try:
        array = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number in {interval}, got {value!r}") from None
    inside = np.isfinite(array) & (array >= low) & ((array < high) if high_open else (array <= high))
    if not np.all(inside):
        bad = array if array.ndim == 0 else array[~inside].flat[0]
        raise ValueError(f"{name} must be in {interval}, got {float(bad)!r}")
    return float(array) if array.ndim == 0 else array


def non_negative(name, value):
    """A finite number >= 0, scalar or array."""
    return hyperparameter(name, value, 0.0, np.inf)


def positive(name, value):
    """A finite number > 0, scalar or array."""
    value = non_negative(name, value)
    if np.any(np.asarray(value) == 0):
        raise ValueError(f"{name} must be > 0, got 0.0")
    return value


def probability(name, value):
    """A decay rate such as beta: in [0, 1)."""
    return hyperparameter(name, value, 0.0, 1.0)


def count(name, value, minimum=0):
    """A whole number of steps, >= minimum."""
    try:
        whole = not isinstance(value, (bool, np.bool_)) and float(value).is_integer()
    except (TypeError, ValueError):
        whole = False
    if not whole or value < minimum:
        raise ValueError(f"{name} must be a whole number >= {minimum}, got {value!r}")
    return int(value)
