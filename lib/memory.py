r"""Training memory, counted per parameter: the weights, their gradients, and the optimizer's state.

For a model with ``N`` parameters, each kind of array below holds ``N`` values; what differs is how
many such arrays there are and how many bytes each value takes:

=====================  ================================================================
weights                the parameters the model computes with
gradients              dL/dw, one value per parameter (the seed's table leaves these out)
master weights         a float32 copy of the weights kept by mixed-precision training
optimizer state        ``state_copies`` arrays: 0 for SGD, 1 for Momentum (``v``) and
                       RMSProp (``s``), 2 for Adam and AdamW (``m``, ``v``)
=====================  ================================================================

The number of state arrays is read from the optimizers themselves (their ``state_names``), so this
module cannot drift from :mod:`lib.optimizers`.

The seed counts float32 weights plus state, without gradients: ``N`` for SGD, ``2N`` for Momentum and
``3N`` for Adam, so 7e9 parameters take 28 GB and 84 GB. The sources below add the rest:

* Micikevicius et al. (2018), *Mixed Precision Training*: compute in float16, keep a float32 master
  copy of the weights for the update.
* Rajbhandari et al. (2020), *ZeRO*, section 3.1: mixed-precision Adam holds float16 weights and
  gradients (2 + 2 bytes) and float32 master weights, m and v (4 + 4 + 4 bytes): 16 bytes per parameter,
  so a 1.5B-parameter GPT-2 needs at least 24 GB for these "model states" alone.
* Dettmers et al. (2022), *8-bit Optimizers via Block-wise Quantization*: m and v stored in 8 bits,
  with one float32 scale (the block's absolute maximum) per block of 2,048 values.

Units: GB means 10**9 bytes, as in the seed (7e9 x 4 B = 28 GB); ``GiB`` (2**30 bytes) is what
``nvidia-smi`` and most tools print. Activations, temporary buffers and fragmentation are not
counted: they depend on the batch, the sequence length and the framework, not on the optimizer.

>>> per_parameter("Adam", "float32", gradients=False)     # the seed's 3N: weights + m + v
{'weights': 4.0, 'gradients': 0.0, 'master weights': 0.0, 'optimizer state': 8.0}
>>> total_bytes(7e9, "Adam", "float32", gradients=False) / GB
84.0
>>> total_bytes(7e9, "AdamW", "mixed precision (ZeRO)") / GB    # 16 bytes per parameter
112.0
>>> largest_model(80 * GB, "AdamW", "mixed precision (ZeRO)") / 1e9   # what fits one 80 GB card
5.0
"""

import math
from dataclasses import dataclass
from fractions import Fraction

from . import _checks, optimizers

GB = 10**9
"""Bytes in a gigabyte (decimal, as in the seed's 28 GB)."""

GiB = 2**30
"""Bytes in a gibibyte (binary, as most tools print)."""

DTYPE_BYTES = {"float64": 8, "float32": 4, "bfloat16": 2, "float16": 2, "int8": 1}
"""Bytes per value of each number format."""

OPTIMIZERS = {
    "SGD": optimizers.SGD,
    "Momentum": optimizers.Momentum,
    "RMSProp": optimizers.RMSProp,
    "Adam": optimizers.Adam,
    "AdamW": optimizers.AdamW,
}
"""The book's five optimizers by name, in the order of the chapters."""

BLOCK_SIZE_8BIT = 2048
"""Values per quantisation block in Dettmers et al.'s 8-bit optimizers (one float32 scale each)."""


@dataclass(frozen=True)
class Precision:
    """How a training setup stores each kind of array: bytes per value (0 = not kept).

    Attributes:
        name: a short name for menus and tables.
        weights, gradients, master, state: bytes per value of the weights, the gradients, the
            float32 master copy of the weights, and each optimizer-state array.
        source: where the accounting comes from.
    """

    name: str
    weights: float
    gradients: float
    master: float
    state: float
    source: str


PRECISIONS = {
    p.name: p for p in (
        Precision("float32", 4, 4, 0, 4,
                  "everything in float32: the seed's setting (which also leaves out the gradients)"),
        Precision("mixed precision (ZeRO)", 2, 2, 4, 4,
                  "fp16/bf16 weights and gradients, float32 master weights and state: "
                  "Micikevicius et al. (2018); Rajbhandari et al. (2020), section 3.1"),
        Precision("bfloat16 only", 2, 2, 0, 2,
                  "every array in bfloat16, no float32 copy (this calculator's assumption of a "
                  "pure-bf16 setup; it saves memory at the cost of update precision)"),
        Precision("mixed + 8-bit state", 2, 2, 4, 1 + DTYPE_BYTES["float32"] / BLOCK_SIZE_8BIT,
                  "mixed precision as ZeRO, with m and v in 8 bits plus one float32 scale per "
                  "block of 2,048 values: Dettmers et al. (2022)"),
    )
}
"""The training setups of the calculator, by name."""


def optimizer_class(optimizer):
    """The class of ``optimizer``, given as a name ("Adam"), a class or an instance."""
    if isinstance(optimizer, str):
        try:
            return OPTIMIZERS[optimizer]
        except KeyError:
            raise ValueError(f"optimizer must be one of {list(OPTIMIZERS)}, got {optimizer!r}") from None
    if isinstance(optimizer, type) and issubclass(optimizer, optimizers.Optimizer):
        return optimizer
    if isinstance(optimizer, optimizers.Optimizer):
        return type(optimizer)
    raise ValueError(f"optimizer must be a name in {list(OPTIMIZERS)}, an optimizer class or an "
                     f"optimizer, got {optimizer!r}")


def state_copies(optimizer):
    """How many arrays the size of the weights ``optimizer`` keeps between steps.

    >>> [state_copies(name) for name in OPTIMIZERS]
    [0, 1, 1, 2, 2]
    """
    cls = optimizer_class(optimizer)
    if getattr(cls, "factored_state", False):
        raise ValueError(f"optimizer {cls.__name__} keeps factored state (a row and a column per "
                         "matrix), not whole copies of the weights: measure it with "
                         "measured_state_bytes(opt, shape=(m, n))")
    return len(cls.state_names)


def precision(name, argument="name"):
    """The :class:`Precision` called ``name`` (a :class:`Precision` passes through)."""
    if isinstance(name, Precision):
        return name
    if not isinstance(name, str) or name not in PRECISIONS:
        raise ValueError(f"{argument}: the precision must be one of {list(PRECISIONS)}, got "
                         f"{_checks.shown(name)}")
    return PRECISIONS[name]


def per_parameter(optimizer, precision_name="float32", gradients=True):
    """Bytes per parameter by component: weights, gradients, master weights, optimizer state.

    ``gradients=False`` drops the gradients, as the seed's table does.

    >>> per_parameter("Adam", "mixed precision (ZeRO)")      # ZeRO's 2 + 2 + (4 + 4 + 4)
    {'weights': 2.0, 'gradients': 2.0, 'master weights': 4.0, 'optimizer state': 8.0}
    """
    p = precision(precision_name, "precision_name")
    gradients = _checks.boolean("gradients", gradients)
    return {
        "weights": float(p.weights),
        "gradients": float(p.gradients) if gradients else 0.0,
        "master weights": float(p.master),
        "optimizer state": float(state_copies(optimizer) * p.state),
    }


def bytes_per_parameter(optimizer, precision_name="float32", gradients=True):
    """The sum of :func:`per_parameter`: 16 for mixed-precision Adam, 12 for the seed's float32 Adam.

    >>> bytes_per_parameter("SGD", "float32", gradients=False)
    4.0
    """
    return sum(per_parameter(optimizer, precision_name, gradients).values())


def training_bytes(n_params, optimizer, precision_name="float32", gradients=True):
    """Bytes by component for a model of ``n_params`` parameters (a dict like :func:`per_parameter`).

    >>> training_bytes(1_000, "Momentum")
    {'weights': 4000.0, 'gradients': 4000.0, 'master weights': 0.0, 'optimizer state': 4000.0}
    """
    n_params = _checks.count("n_params", n_params)
    return {name: n_params * b for name, b in per_parameter(optimizer, precision_name, gradients).items()}


def total_bytes(n_params, optimizer, precision_name="float32", gradients=True):
    """All the bytes of :func:`training_bytes` together.

    >>> total_bytes(7e9, "SGD", "float32", gradients=False) / GB      # the seed's 28 GB
    28.0
    """
    return sum(training_bytes(n_params, optimizer, precision_name, gradients).values())


def largest_model(memory_bytes, optimizer, precision_name="float32", gradients=True):
    """The most parameters whose weights, gradients and optimizer state fit in ``memory_bytes``.

    The exact answer, ``floor(memory_bytes / bytes_per_parameter)``, not the largest size on some
    menu: it is the inverse of :func:`total_bytes` (activations are not counted, as there).
    ``memory_bytes`` is a number of bytes (``80 * GB`` for an 80 GB card).

    >>> largest_model(80 * GB, "AdamW", "mixed precision (ZeRO)")      # 80e9 B / 16 B per parameter
    5000000000
    >>> largest_model(80 * GB, "Adam", "float32", gradients=False)     # the seed's 3N: 80e9 / 12
    6666666666
    """
    memory_bytes = _checks.scalar("memory_bytes", memory_bytes, 0.0)
    per = bytes_per_parameter(optimizer, precision_name, gradients)
    # exact rational arithmetic: 80e9 / 16 is 5e9 on the dot, never 4999999999 by rounding
    return math.floor(Fraction(memory_bytes) / Fraction(per))


def measured_state_bytes(optimizer, n_params=None, dtype="float32", shape=None):
    """Bytes of state a fresh ``optimizer`` (an instance) holds after one step on ``n_params`` weights.

    This runs the optimizer (``state_nbytes`` after one step with a gradient of ones), so it measures
    what :func:`state_copies` predicts. The weights are a vector of ``n_params`` values, or an array
    of ``shape`` (a matrix ``(m, n)`` for the rules of :mod:`lib.beyond` that need one: Muon takes
    only matrices, Adafactor stores a matrix's second moment as a row and a column, m + n values);
    give one of the two (or both, agreeing). A :class:`lib.beyond.Blockwise` is measured on its
    whole layout (``n_params`` defaults to its size): Muon's buffer on the matrices, AdamW's two
    on the rest, for example.

    >>> measured_state_bytes(optimizers.Adam(lr=1e-3), 1_000)      # m and v: 2 x 1,000 x 4 bytes
    8000
    >>> from lib.beyond import Adafactor
    >>> measured_state_bytes(Adafactor(), shape=(1_000, 500))      # (1,000 + 500) x 4 bytes
    6000
    """
    import numpy as np

    from .beyond import Blockwise

    if not isinstance(optimizer, (optimizers.Optimizer, Blockwise)):
        raise ValueError(f"optimizer must be an optimizer instance such as Adam(lr=1e-3) (for a "
                         f"name or a class, use state_copies), got {_checks.shown(optimizer)}")
    if isinstance(optimizer, Blockwise) and n_params is None and shape is None:
        n_params = optimizer.size                                  # the whole layout
    if shape is not None:
        shape = _weights_shape(shape)
        given = None if n_params is None else _checks.count("n_params", n_params, 1, 10**8)
        if given is not None and given != math.prod(shape):
            raise ValueError(f"n_params must be the number of values in shape {shape}, "
                             f"{math.prod(shape)}, got {n_params!r}")
    elif n_params is None:
        raise ValueError("n_params must be given (a whole number in [1, 100000000]), or shape")
    else:
        shape = (_checks.count("n_params", n_params, minimum=1, maximum=10**8),)
    if isinstance(dtype, (type, np.dtype)):
        try:
            dtype = np.dtype(dtype).name
        except TypeError:
            pass
    dtype = _checks.choice("dtype", dtype, ("float32", "float64"))
    if getattr(optimizer, "t", 0) != 0:
        raise ValueError("optimizer must be fresh (it has already taken a step)")
    w = np.zeros(shape, dtype=dtype)
    optimizer.step(w, np.ones_like(w))
    return optimizer.state_nbytes()


def _weights_shape(shape):
    """``shape`` checked: a tuple of 1 to 3 whole numbers >= 1, at most 10**8 values in all."""
    what = "a tuple of 1 to 3 whole numbers >= 1 (such as (1024, 4096)), at most 10**8 values"
    if not isinstance(shape, (tuple, list)) or not 1 <= len(shape) <= 3:
        raise ValueError(f"shape must be {what}, got {_checks.shown(shape)}")
    sizes = []
    for size in shape:
        try:
            sizes.append(_checks.count("shape", size, minimum=1, maximum=10**8))
        except ValueError:
            raise ValueError(f"shape must be {what}, got {_checks.shown(shape)}") from None
    if math.prod(sizes) > 10**8:
        raise ValueError(f"shape must be {what}, got {tuple(sizes)} ({math.prod(sizes)} values)")
    return tuple(sizes)
