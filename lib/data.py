"""The book's dataset: the UCI handwritten digits, shipped in ``lib/data/`` and split with a seed.

1,797 images of 8x8 pixels, ten classes (Alpaydin & Kaynak 1998, CC BY 4.0; source, licence and
citation in ``lib/data/README.md``). Small enough that a full training run takes seconds in numpy,
real enough that the loss curves of the learning-rate chapters are those of an actual network::

    X, y = load_digits()                          # (1797, 64) floats in [0, 1], (1797,) ints
    split = train_val_split(X, y, val_fraction=0.2, seed=0)
    split.X_train.shape, split.X_val.shape        # ((1438, 64), (359, 64))

Nothing is downloaded at run time.
"""

from pathlib import Path
from typing import NamedTuple

import numpy as np

from . import _checks

DIGITS_PATH = Path(__file__).parent / "data" / "digits.csv.gz"


def load_digits():
    """The 1,797 digits as ``(X, y)``: pixels scaled to [0, 1], shape (1797, 64), and labels 0..9.

    The file stores pixel counts 0..16 (each pixel of the 8x8 image counts the "on" pixels of a
    4x4 block of the original 32x32 bitmap); dividing by 16 puts the inputs on the unit scale a
    network's initialisation expects.

    >>> X, y = load_digits()
    >>> X.shape, X.dtype, float(X.min()), float(X.max())
    ((1797, 64), dtype('float64'), 0.0, 1.0)
    >>> y.shape, y.dtype, np.bincount(y).tolist()
    ((1797,), dtype('int64'), [178, 182, 177, 183, 181, 182, 181, 179, 174, 180])
    """
    table = np.loadtxt(DIGITS_PATH, delimiter=",", dtype=np.int64)
    return table[:, :64] / 16.0, table[:, 64]


class Split(NamedTuple):
    """A training set and a validation set (unpacks as ``X_train, y_train, X_val, y_val``)."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray


def train_val_split(X, y, val_fraction=0.2, seed=0):
    """Shuffle ``(X, y)`` with ``np.random.default_rng(seed)`` and hold out ``val_fraction`` of it.

    The validation set is ``round(val_fraction * n)`` examples; the same seed gives the same split.
    A plain random split (not stratified): with 1,797 roughly balanced digits every class still
    lands in both parts.

    >>> X, y = np.arange(20.0).reshape(10, 2), np.arange(10)
    >>> split = train_val_split(X, y, val_fraction=0.3, seed=0)
    >>> split.X_train.shape, split.X_val.shape
    ((7, 2), (3, 2))
    >>> sorted(split.y_train.tolist() + split.y_val.tolist()) == list(range(10))
    True
    """
    X = _checks.real_array("X", X, "an array of examples (real numbers)")
    if _checks._refused(y):
        raise ValueError(f"y must be an array of labels, got {_checks.shown(y)}")
    try:
        y = np.asarray(y)
    except (TypeError, ValueError):
        raise ValueError(f"y must be an array of labels, got {_checks.shown(y)}") from None
    if X.ndim == 0 or y.ndim == 0:
        raise ValueError(f"X and y must be arrays with one row per example, got shapes {X.shape} "
                         f"and {y.shape}")
    if len(X) != len(y):
        raise ValueError(f"X and y must have the same length, got {len(X)} and {len(y)}")
    val_fraction = _checks.scalar("val_fraction", val_fraction, 0.0, 1.0)
    seed = _checks.seed("seed", seed)
    n_val = int(round(val_fraction * len(X)))
    order = np.random.default_rng(seed).permutation(len(X))
    val, train = order[:n_val], order[n_val:]
    return Split(X[train], y[train], X[val], y[val])
