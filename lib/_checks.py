"""Argument checks shared by the whole library: every error names the argument and what it must be.

One style for every message: ``<argument> must be <what>, got <value> (<type>)``, for example
``beta1 must be in [0.0, 1.0), got 1.0`` or ``lr must be a real number in [0.0, inf), got True
(bool)``. Every check raises :class:`ValueError`.

Numbers are real numbers only: ``bool`` (``True`` is not 1.0 here), ``str`` (``"0.5"``), ``bytes``,
``complex`` and ``None`` are refused, and so are arrays of them. Hyperparameters may be array-likes
(lists included) of real numbers, for sweeps; their shapes are checked against the weights where they
meet them (in :meth:`lib.optimizers.Optimizer.step`).

>>> hyperparameter("beta", 0.5, 0.0, 1.0)
0.5
>>> count("steps", 10.0)
10
>>> probability("beta", True)
Traceback (most recent call last):
...
ValueError: beta must be a real number in [0.0, 1.0), got True (bool)
"""

import numbers

import numpy as np

MAX_COUNT = 2**53
"""The largest count accepted (steps, sizes, ...): beyond it, float64 no longer holds every integer."""


def show(value, limit=60):
    """``repr(value)``, cut to ``limit`` characters, for messages."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def shown(value):
    """``value``'s repr and its type, as messages give them: ``'0.5' (str)``."""
    return f"{show(value)} ({type(value).__name__})"


def _interval(low, high, low_open=False, high_open=True):
    return f"{'(' if low_open else '['}{float(low)}, {float(high)}{')' if high_open else ']'}"


def _refused(value):
    """True for the values that look like numbers to numpy but are not real numbers here."""
    return value is None or isinstance(value, (bool, np.bool_, str, bytes, complex,
                                               np.complexfloating))


def real_array(name, value, what="an array of real numbers", keep_float32=False):
    """``value`` as a float64 array (any shape), refusing bools, strings, complex, None, objects.

    ``keep_float32=True`` returns float32 arrays as they are (everything else still as float64).
    """
    if _refused(value):
        raise ValueError(f"{name} must be {what}, got {shown(value)}")
    try:
        array = np.asarray(value)
    except (TypeError, ValueError, OverflowError):
        raise ValueError(f"{name} must be {what}, got {shown(value)}") from None
    if array.dtype.kind not in "iuf":
        kind = f"dtype {array.dtype}" if array.dtype.kind != "O" else "objects"
        raise ValueError(f"{name} must be {what}, got {show(value)} ({kind})")
    if keep_float32 and array.dtype == np.float32:
        return array
    with np.errstate(over="ignore"):
        return array.astype(float, copy=False)


def hyperparameter(name, value, low, high=np.inf, high_open=True, low_open=False):
    """Return ``value`` checked to be a real number (or array of them) in the interval, elementwise.

    The interval is ``[low, high)`` by default; ``high_open=False`` closes it on the right and
    ``low_open=True`` opens it on the left. Scalars come back as Python floats (so they do not
    up-cast float32 weights); array-likes come back as float64 arrays, ready to broadcast.
    """
    interval = _interval(low, high, low_open, high_open)
    array = real_array(name, value, f"a real number in {interval}")
    inside = (np.isfinite(array) & ((array > low) if low_open else (array >= low))
              & ((array < high) if high_open else (array <= high)))
    if not np.all(inside):
        bad = array if array.ndim == 0 else array[~inside].flat[0]
        raise ValueError(f"{name} must be in {interval}, got {float(bad)!r}")
    return float(array) if array.ndim == 0 else array


def non_negative(name, value):
    """A finite number >= 0, scalar or array."""
    return hyperparameter(name, value, 0.0, np.inf)


def positive(name, value):
    """A finite number > 0, scalar or array."""
    return hyperparameter(name, value, 0.0, np.inf, low_open=True)


def probability(name, value):
    """A decay rate such as beta: in [0, 1)."""
    return hyperparameter(name, value, 0.0, 1.0)


def rate(name, value):
    """A single learning rate: a real number >= 0 (not an array)."""
    return scalar(name, value, 0.0)


def finite(name, value):
    """Any finite real number (a scalar), as a Python float."""
    array = real_array(name, value, "a finite real number")
    if array.ndim != 0:
        raise ValueError(f"{name} must be a finite real number (a scalar), got {shown(value)}")
    if not np.isfinite(array):
        raise ValueError(f"{name} must be a finite real number, got {float(array)!r}")
    return float(array)


def scalar(name, value, low, high=np.inf, high_open=True, low_open=False):
    """A single real number (not an array) in the interval, as :func:`hyperparameter` checks it."""
    try:
        ndim = np.ndim(value)
    except (TypeError, ValueError, OverflowError):
        ndim = -1
    if ndim != 0 and not _refused(value):
        raise ValueError(f"{name} must be a real number in "
                         f"{_interval(low, high, low_open, high_open)}, got {shown(value)}")
    return hyperparameter(name, value, low, high, high_open, low_open)


def above(name, value, low_name, low, closed=False):
    """A finite number > ``low`` (>= with ``closed=True``), the value of the argument ``low_name``."""
    what = f"{'>=' if closed else '>'} {low_name} = {low!r} (a finite real number)"
    array = real_array(name, value, what)
    if array.ndim != 0:
        raise ValueError(f"{name} must be {what}, got {shown(value)}")
    if not (np.isfinite(array) and (array >= low if closed else array > low)):
        raise ValueError(f"{name} must be {what}, got {float(array)!r}")
    return float(array)


def sequence(name, value, what="a sequence"):
    """A list, tuple, range or 1-D array (not a string, not a number, not a 0-d array)."""
    if (isinstance(value, (str, bytes)) or not hasattr(value, "__iter__")
            or (isinstance(value, np.ndarray) and value.ndim == 0)):
        raise ValueError(f"{name} must be {what}, got {shown(value)}")
    return value


def count(name, value, minimum=0, maximum=MAX_COUNT):
    """A whole number in ``[minimum, maximum]`` (an int, or a float such as 7e9 with no fraction)."""
    what = (f"a whole number >= {minimum} (and at most 2**53)" if maximum == MAX_COUNT
            else f"a whole number in [{minimum}, {maximum}]")
    if isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "iuf":
        value = value.item()
    if _refused(value) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be {what}, got {shown(value)}")
    if not isinstance(value, numbers.Integral):
        if not (np.isfinite(value) and float(value).is_integer()):
            raise ValueError(f"{name} must be {what}, got {show(value)}")
    whole = int(value)
    if not minimum <= whole <= maximum:
        raise ValueError(f"{name} must be {what}, got {show(value)}")
    return whole


def point(name, value, shape=(2,), what=None):
    """A float64 array of exactly ``shape`` with finite entries (a start, a minimum, a w_true)."""
    what = what or f"finite real numbers of shape {tuple(shape)}"
    array = real_array(name, value, what)
    if array.shape != tuple(shape):
        raise ValueError(f"{name} must be {what}, got {show(value)} (shape {array.shape})")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must be {what}, got {show(value)} (not finite)")
    return np.array(array, dtype=float)


def boolean(name, value):
    """True or False (numpy's bools too); not 0, 1, "no" or None."""
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be True or False, got {shown(value)}")
    return bool(value)


def choice(name, value, options):
    """One of ``options`` (compared with ``==`` after a type check: strings stay strings)."""
    for option in options:
        if type(value) is type(option) and value == option:
            return value
    raise ValueError(f"{name} must be one of {list(options)}, got {shown(value)}")


def function(name, value, what="a function"):
    """A callable."""
    if not callable(value):
        raise ValueError(f"{name} must be {what}, got {shown(value)}")
    return value


def generator(name, value):
    """A ``np.random.Generator``."""
    if not isinstance(value, np.random.Generator):
        raise ValueError(f"{name} must be a numpy Generator (np.random.default_rng(seed)), "
                         f"got {shown(value)}")
    return value


def seed(name, value):
    """A seed for ``np.random.default_rng``: a whole number >= 0 (not a bool, a float or a string)."""
    if isinstance(value, np.random.SeedSequence):
        return value
    return count(name, value, minimum=0, maximum=2**128)
