"""A character corpus for the Transformer chapter: Python's own docstrings, shipped in ``lib/data/``.

About 300,000 characters of docstrings from 61 modules of the Python 3.11.7 standard library
(PSF licence; how the file was made is in ``lib/data/README.md``), 96 distinct symbols (printable
ASCII and the newline). Small enough that a numpy Transformer sees a real language in a few
hundred steps, real enough that its loss curve is that of next-character prediction::

    text = load_docstrings()
    vocab = vocabulary(text)                         # the 96 symbols, sorted
    ids = encode(text, vocab)                        # (299983,) ints in [0, 96)
    split = char_split(ids, seq_len=32, n_train=2048, n_val=128, seed=0)
    split.X_train.shape, split.y_train.shape         # ((2048, 32), (2048, 32)): next-char targets

:func:`unigram_loss` is the loss of the best model that ignores the context (it predicts every
character with its frequency): a Transformer "stuck at the unigram loss" has learned the
character counts and nothing else. Nothing is downloaded at run time.
"""

from pathlib import Path

import numpy as np

from . import _checks
from .data import Split

DOCSTRINGS_PATH = Path(__file__).parent / "data" / "docstrings.txt.gz"


def load_docstrings():
    """The shipped corpus as one string (299,983 characters).

    >>> text = load_docstrings()
    >>> len(text), len(set(text))
    (299983, 96)
    >>> text[:48]
    'This module implements specialized container dat'
    """
    import gzip
    with gzip.open(DOCSTRINGS_PATH, "rt", encoding="ascii", newline="") as f:
        return f.read()


def vocabulary(text):
    """The distinct characters of ``text``, sorted: a character's id is its index here.

    >>> vocabulary("banana")
    'abn'
    """
    if not isinstance(text, str) or not text:
        raise ValueError(f"text must be a non-empty string, got {_checks.shown(text)}")
    return "".join(sorted(set(text)))


def encode(text, vocab):
    """``text`` as an int64 array of ids into ``vocab`` (a string of distinct characters).

    >>> encode("nab", "abn").tolist()
    [2, 0, 1]
    """
    vocab = _check_vocab(vocab)
    if not isinstance(text, str):
        raise ValueError(f"text must be a string, got {_checks.shown(text)}")
    lookup = np.full(max(map(ord, vocab)) + 1, -1, dtype=np.int64)
    lookup[[ord(c) for c in vocab]] = np.arange(len(vocab))
    codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
    ids = np.where(codes < len(lookup), lookup[np.minimum(codes, len(lookup) - 1)], -1)
    if (ids < 0).any():
        bad = text[int(np.argmax(ids < 0))]
        raise ValueError(f"text must use only characters of vocab, got {bad!r}")
    return ids


def decode(ids, vocab):
    """The string that ``ids`` (integers in ``[0, len(vocab))``) stand for.

    >>> decode([2, 0, 1], "abn")
    'nab'
    """
    vocab = _check_vocab(vocab)
    ids = _ids("ids", ids, len(vocab))
    return "".join(vocab[i] for i in ids.ravel())


def char_split(ids, seq_len=32, n_train=2048, n_val=128, val_fraction=0.1, seed=0):
    """Windows of the corpus as a :class:`lib.data.Split` of (inputs, next-character targets).

    The last ``val_fraction`` of ``ids`` is held out: the ``n_train`` training windows start at
    random offsets in the first part, the ``n_val`` validation windows in the held-out part, none
    crossing the boundary. Each window is ``seq_len + 1`` consecutive ids; ``X`` is its first
    ``seq_len`` (the model's input) and ``y`` its last ``seq_len`` (the character that follows each
    input position), both ``(n, seq_len)`` int64, as :func:`lib.training.train` feeds them to
    ``model.loss_and_grad(params, X[batch], y[batch])``. Offsets come from
    ``np.random.default_rng(seed)``; the same seed gives the same windows.

    >>> split = char_split(np.arange(1000), seq_len=4, n_train=3, n_val=2, seed=0)
    >>> split.X_train.shape, split.y_train.shape, split.X_val.shape
    ((3, 4), (3, 4), (2, 4))
    >>> bool((split.y_train[:, :-1] == split.X_train[:, 1:]).all())     # targets: shifted by one
    True
    >>> bool(split.X_train.max() < 900 <= split.X_val.min())            # held-out tail
    True
    """
    ids = _ids("ids", ids, None)
    if ids.ndim != 1:
        raise ValueError(f"ids must be a 1-D array of token ids, got shape {ids.shape}")
    seq_len = _checks.count("seq_len", seq_len, minimum=1, maximum=10**6)
    n_train = _checks.count("n_train", n_train, minimum=1, maximum=10**7)
    n_val = _checks.count("n_val", n_val, minimum=1, maximum=10**7)
    val_fraction = _checks.scalar("val_fraction", val_fraction, 0.0, 1.0, low_open=True)
    rng = np.random.default_rng(_checks.seed("seed", seed))
    boundary = len(ids) - int(round(val_fraction * len(ids)))
    for part, size in (("training", boundary), ("held-out", len(ids) - boundary)):
        if size < seq_len + 1:
            raise ValueError(f"ids must be long enough for windows of seq_len + 1 = {seq_len + 1} "
                             f"in its {part} part, got {size} ids there (of {len(ids)})")
    starts_train = rng.integers(0, boundary - seq_len, size=n_train)
    starts_val = rng.integers(boundary, len(ids) - seq_len, size=n_val)
    window = np.arange(seq_len + 1)
    train, val = ids[starts_train[:, None] + window], ids[starts_val[:, None] + window]
    return Split(train[:, :-1], train[:, 1:], val[:, :-1], val[:, 1:])


def unigram_loss(ids, vocab_size=None):
    """The entropy (nats) of the id frequencies: the cross-entropy of the best context-free model.

    A model that predicts every position with the corpus's character frequencies scores exactly
    this on the same ids; a Transformer whose loss plateaus here has learned nothing beyond
    the counts. For comparison, guessing uniformly costs ``log(vocab_size)``.

    >>> round(unigram_loss([0, 0, 1, 1]), 6) == round(float(np.log(2)), 6)
    True
    >>> unigram_loss([3, 3, 3])
    0.0
    """
    ids = _ids("ids", ids, vocab_size)
    if ids.size == 0:
        raise ValueError("ids must hold at least one id, got an empty array")
    p = np.bincount(ids.ravel()) / ids.size
    p = p[p > 0]
    return float(max(-(p * np.log(p)).sum(), 0.0)) + 0.0           # + 0.0: never -0.0


def _check_vocab(vocab):
    if not isinstance(vocab, str) or not vocab or len(set(vocab)) != len(vocab):
        raise ValueError(f"vocab must be a non-empty string of distinct characters, got "
                         f"{_checks.shown(vocab)}")
    return vocab


def _ids(name, ids, vocab_size):
    if _checks._refused(ids):
        raise ValueError(f"{name} must be an array of integer token ids, got {_checks.shown(ids)}")
    try:
        array = np.asarray(ids)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be an array of integer token ids, got {_checks.shown(ids)}") from None
    if array.size == 0 and array.dtype.kind == "f":
        array = array.astype(np.int64)                                 # [] is an empty list of ids
    if array.dtype.kind not in "iu":
        raise ValueError(f"{name} must be an array of integer token ids, got {_checks.show(ids)} "
                         f"(dtype {array.dtype})")
    if vocab_size is not None:
        vocab_size = _checks.count("vocab_size", vocab_size, minimum=1)
    if array.size and (array.min() < 0 or (vocab_size is not None and array.max() >= vocab_size)):
        top = ", inf)" if vocab_size is None else f", {vocab_size}) (vocab_size = {vocab_size})"
        raise ValueError(f"{name} must be ids in [0{top}, got values from "
                         f"{int(array.min())} to {int(array.max())}")
    return array.astype(np.int64, copy=False)
