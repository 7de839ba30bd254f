"""Checkers for the practice exercises: right or wrong, with a hint, never the answer.

A learner computes an answer in a cell and hands it to a checker::

    from lib.checkers import check_memory
    check_memory(sgd_state_gb=..., adamw_state_gb=...)

The checker returns a :class:`CheckResult`: truthy when the answer is right, shown as a green
✓ or a red ✗ with a hint aimed at the usual mistake (forgot the bias correction, bytes instead of
GB, the weights counted as optimizer state, the warmup off by one step, the cosine counted from the
wrong step). The expected value is computed inside, from :mod:`lib.optimizers` and
:mod:`lib.schedules`, and never appears in a message, in the result or in its repr.

An answer is right when it agrees with the expected value to the number of significant figures
the question asks for (:data:`SIGNIFICANT_FIGURES`; more figures are welcome); one that agrees only
to one figure fewer is told so.

For the test cells of a worksheet (nbgrader), pass ``graded=True``::

    check_memory(sgd_state_gb, adamw_state_gb, graded=True)   # a test cell

In the student's own notebook the check then shows its verdict box (✓, or ✗ with the hint) and the
notebook runs on, so Run All reaches every exercise. When nbgrader runs the notebook (``nbgrader
autograde`` or ``validate``, which set the ``NBGRADER_EXECUTION`` environment variable), a wrong
answer raises ``AssertionError`` with the hint, so the test cell fails and scores 0; a right one
shows its box as display output and returns None (so nbgrader, which reads a test cell's returned
value as a partial score, gives full points without a warning). ``strict=True`` raises on a wrong
answer everywhere.

>>> check_memory(sgd_state_gb=28, adamw_state_gb=84)
✗ Optimizer-state memory: Both numbers count the weights themselves. The question asks for the optimizer state: what the optimizer keeps between steps in addition to the weights (the study note's memory table counts the weights too).
>>> bool(check_momentum_gains(steady_gain=None, alternating_gain=None))
False
"""

import contextvars
import functools
import html
import math
import os
from dataclasses import dataclass, field, replace

import numpy as np

from . import _checks, i18n
from .optimizers import SGD, Adam, AdamW, Momentum
from .schedules import cosine_annealing, linear_warmup, warmup_cosine, warmup_linear

PRACTICE_STEPS = (0, 1_000, 2_000, 50_000, 100_000)
"""The steps at which the study note's practice 4 asks for the learning rate."""

SIGNIFICANT_FIGURES = {"check_momentum_gains": 2, "check_bias_correction": 3, "check_memory": 2,
                       "check_schedule": 3}
"""The precision each question asks for: an answer is right when it agrees with the expected value
to this many significant figures (more are welcome)."""


@dataclass(frozen=True)
class CheckResult:
    """What a checker says: ``correct`` (the truth value) and a ``message``, for one ``exercise``.

    It holds no expected value. ``repr`` is one line (✓ or ✗, the exercise, the message); in
    Jupyter and on the book's pages it shows as a coloured box.
    """

    exercise: str
    correct: bool
    message: str
    editions: tuple = field(default=(), compare=False, repr=False)
    """The same verdict in the book's other editions, as (language, exercise, message) triples:
    filled while the book executes with ``OPTBOOK_EDITIONS`` (see :func:`_in_every_edition`)."""

    def __bool__(self):
        return bool(self.correct)

    @property
    def mark(self):
        return "✓" if self.correct else "✗"

    def __repr__(self):
        return f"{self.mark} {self.exercise}: {self.message}"

    __str__ = __repr__

    def _repr_html_(self):
        return self._box(self.exercise, self.message)

    def _box(self, exercise, message):
        colour, background = ("#116329", "#e6f4ea") if self.correct else ("#b42318", "#fdecea")
        return (f'<div class="optbook-check" role="status" style="border-left: 4px solid {colour}; '
                f'background: {background}; padding: 0.45em 0.8em; margin: 0.3em 0; '
                f'color: #1f2328; border-radius: 3px;">'
                f'<strong style="color: {colour};">{self.mark} {html.escape(exercise)}</strong>: '
                f'{html.escape(message)}</div>')

    def _repr_mimebundle_(self, include=None, exclude=None):
        """The box, and the box of each other edition as its variant (``text/x.optbook-ko+html``,
        which the Korean edition of the book shows: _ext/optbook_editions.py)."""
        bundle = {"text/plain": repr(self), "text/html": self._repr_html_()}
        for lang, exercise, message in self.editions:
            bundle[i18n.variant_mime("text/html", lang)] = self._box(exercise, message)
            bundle[i18n.variant_mime("text/plain", lang)] = f"{self.mark} {exercise}: {message}"
        return bundle


# ---- shared machinery ---------------------------------------------------------------------------

_SPEAKING = contextvars.ContextVar("optbook_checker_language", default=None)


def language():
    """The language of the verdicts and hints: the kernel's edition (``OPTBOOK_LANG``, see
    :func:`lib.i18n.editions`; a Korean worksheet sets it in its first cell), English by default."""
    return _SPEAKING.get() or i18n.editions()[0]


def _in_every_edition(check):
    """``check``, whose verdict also carries its words in the book's other editions.

    While the book executes (``OPTBOOK_EDITIONS=en,ko``) a verdict is shown on both editions'
    pages from one execution: the check runs once more per other edition, in that language (it is
    deterministic and holds no state), and the result keeps those words in
    :attr:`CheckResult.editions`. Outside the book build there are no other editions and nothing
    runs twice.
    """
    @functools.wraps(check)
    def wrapper(*args, **kwargs):
        __tracebackhide__ = True
        result = check(*args, **kwargs)
        others = i18n.editions()[1]
        if not isinstance(result, CheckResult) or not others or _SPEAKING.get():
            return result
        words = []
        for lang in others:
            token = _SPEAKING.set(lang)
            try:
                again = check(*args, **dict(kwargs, strict=False, graded=False))
            finally:
                _SPEAKING.reset(token)
            words.append((lang, again.exercise, again.message))
        return replace(result, editions=tuple(words))
    return wrapper


def _say(message, **values):
    """``message`` (English, the msgid) in :func:`language`, with ``{name}`` filled from ``values``.

    The translations are the checkers' entries of ``locales/<lang>/LC_MESSAGES/figures.po``; a
    message that is not there is an error (:class:`lib.i18n.MissingTranslation`), never English
    in a Korean worksheet. Values are inserted as given (numbers, names; a phrase is passed already
    translated, e.g. ``direction=_direction(...)``)."""
    lang = language()
    text = message
    if lang != "en":
        catalogue = i18n.catalogue(lang)
        text = catalogue.exact.get(message) or catalogue.by_msgid.get(message)
        if not text:
            raise i18n.MissingTranslation(
                f"checker message {message!r} is not in "
                f"{i18n.catalogue_path(lang).relative_to(i18n.ROOT)}: add it and its translation")
    return text.format(**values) if values else text


def _grading():
    """True while nbgrader executes the notebook (autograde or validate)."""
    return bool(os.environ.get("NBGRADER_EXECUTION"))


def _show(result):
    """Show ``result`` as display output (its box in Jupyter), not as the cell's value."""
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:                                  # pragma: no cover - IPython is installed
        get_ipython = None
    if get_ipython is not None and get_ipython() is not None:
        display(result)
    else:
        print(result)


class _Answer:
    """Collects the verdict of one checker: the first hint that applies, or right."""

    def __init__(self, exercise, strict, graded=False):
        self.exercise = exercise
        self.strict = strict
        self.graded = graded

    def result(self, correct, message):
        __tracebackhide__ = True          # IPython and pytest show the learner's line, not these
        result = CheckResult(self.exercise, bool(correct), message)
        if self.strict and not result:
            raise AssertionError(repr(result))
        if self.graded and _grading():
            if not result:
                raise AssertionError(repr(result))
            _show(result)
            return None
        return result

    def wrong(self, message):
        __tracebackhide__ = True
        return self.result(False, message)

    def right(self, message):
        return self.result(True, message)


def _number(value):
    """``value`` as a float, or None if it is not a single real number."""
    if value is None or isinstance(value, (str, bytes, bool, np.bool_, complex, np.complexfloating)):
        return None
    try:
        array = _checks.real_array("answer", value)
    except ValueError:
        return None
    if array.ndim != 0 or not np.isfinite(array):
        return None
    return float(array)


def _missing(answer, names_values):
    """A "not answered yet" result if any value is None or ``...``, else a "not a number" one."""
    __tracebackhide__ = True
    empty = [name for name, value in names_values if value is None or value is Ellipsis]
    if empty:
        return answer.wrong(_say("Not answered yet: set {names} to your answer (a number) and "
                                 "run the cell again.", names=", ".join(empty)))
    bad = [name for name, value in names_values if _number(value) is None]
    if bad:
        return answer.wrong(_say("{names}: give a single finite number (a float or an int).",
                                 names=", ".join(bad)))
    return None


def _close(value, target, rel, abs_tol=0.0):
    return math.isclose(value, target, rel_tol=rel, abs_tol=abs_tol)


def _agrees(value, target, digits, zero_tol=1e-12):
    """``value`` is ``target`` to ``digits`` significant figures: both round to the same
    ``digits`` figures, or ``value`` is within half a unit of the last of them from ``target``
    (a target of 0: ``value`` within ``zero_tol``)."""
    if target == 0:
        return abs(value) <= zero_tol
    rounded = float(f"{target:.{digits}g}")
    if float(f"{value:.{digits}g}") == rounded:
        return True
    unit = 10.0 ** (math.floor(math.log10(abs(rounded))) - digits + 1)
    return abs(value - target) <= 0.5 * unit * (1 + 1e-9)


def _figures(digits):
    if digits == 1:
        return _say("{n} significant figure", n=digits)
    return _say("{n} significant figures", n=digits)


def _direction(high):
    """"too high" or "too low", in the worksheet's language."""
    return _say("too high") if high else _say("too low")


def _not_precise(answer, digits):
    __tracebackhide__ = True
    return answer.wrong(_say("Close: right to {fewer}, but the question asks for {figures}. Do not "
                             "round before the end (keep the full precision of every "
                             "intermediate number).", fewer=_figures(digits - 1),
                             figures=_figures(digits)))


# ---- practice 1: SGD vs Momentum ----------------------------------------------------------------

def _momentum_velocity(beta, gradients):
    """The velocity Momentum (lib.optimizers) holds after the given sequence of 1-D gradients."""
    opt = Momentum(lr=1.0, beta=beta)
    w = np.zeros(1)
    for g in gradients:
        w = opt.step(w, [g])
    return float(opt.v[0])


@_in_every_edition
def check_momentum_gains(steady_gain, alternating_gain, *, beta=0.9, strict=False, graded=False):
    """Practice 1: how Momentum's velocity answers a steady gradient and an alternating one.

    ``steady_gain``: after many steps of the same gradient g, v / g (the speed-up along the
    valley floor). ``alternating_gain``: after many steps of a gradient that flips sign every step,
    +g, -g, +g, ..., the size |v| / |g| (what is left of the zig-zag across the valley). Both for
    the update ``v = beta*v + g`` of :class:`lib.optimizers.Momentum`.
    """
    __tracebackhide__ = True
    strict = _checks.boolean("strict", strict)
    graded = _checks.boolean("graded", graded)
    answer = _Answer(_say("Momentum's gains"), strict, graded)
    beta = _checks.scalar("beta", beta, 0.0, 0.99, high_open=False)
    missing = _missing(answer, [("steady_gain", steady_gain), ("alternating_gain", alternating_gain)])
    if missing is not None:
        return missing
    steady, alternating = _number(steady_gain), abs(_number(alternating_gain))
    n = 5_000                                       # beta**n is below 1e-21 for beta <= 0.99
    want_steady = _momentum_velocity(beta, np.ones(n))
    want_alternating = abs(_momentum_velocity(beta, (-1.0) ** np.arange(n)))
    rel = 0.01                                      # how near a typical mistake must be
    digits = SIGNIFICANT_FIGURES["check_momentum_gains"]
    steady_ok = _agrees(steady, want_steady, digits)
    alternating_ok = _agrees(alternating, want_alternating, digits)
    if steady_ok and alternating_ok:
        return answer.right(_say("Right. Along the floor the gradients add up, across the valley they "
                                 "cancel: Momentum favours the direction the gradient keeps."))
    if not steady_ok:
        if beta > 0 and _close(steady, want_steady - 1, rel):
            return answer.wrong(_say("The study note's 'past gradients weigh 9 times the current one' "
                                     "counts only the past. The gain is the whole velocity over one "
                                     "gradient: the current gradient is part of v too."))
        if _close(steady, beta, rel) or _close(steady, 1 - beta, rel):
            return answer.wrong(_say("That is a weight, not a sum. In v = beta*v + g nothing is "
                                     "scaled down by (1 - beta): a steady g adds up, "
                                     "v = g + beta*g + beta^2*g + ... Sum that series."))
        if _close(steady, 1.0, rel):
            return answer.wrong(_say("With v = beta*v + g the velocity keeps growing while the gradient "
                                     "stays the same: v = g + beta*g + beta^2*g + ..."))
        if _close(steady, want_alternating, rel):
            return answer.wrong(_say("Your steady gain is what the alternating gradient gives; a steady "
                                     "gradient never changes sign, so every term adds."))
        return answer.wrong(_say("Steady gain: {direction}. Write out v after 1, 2, 3 steps of the "
                                 "same g, then let the geometric series run to infinity.",
                                 direction=_direction(steady > want_steady)))
    if _close(alternating, want_steady, rel):
        return answer.wrong(_say("Your steady gain is right, but the alternating one equals it: with "
                                 "+g, -g, +g, ... the terms alternate in sign and partly cancel."))
    if _close(alternating, 1.0, rel):
        return answer.wrong(_say("Your steady gain is right. With an alternating gradient the "
                                 "velocity is not just the latest gradient: v = g - beta*g + beta^2*g "
                                 "- ... Sum that series."))
    if _close(alternating, 1 - beta, rel) or _close(alternating, beta, rel):
        return answer.wrong(_say("Your steady gain is right. For the alternating one, sum "
                                 "g - beta*g + beta^2*g - ... (a geometric series with ratio -beta)."))
    return answer.wrong(_say("Your steady gain is right; the alternating one is {direction}. Sum "
                             "g - beta*g + beta^2*g - ... (ratio -beta).",
                             direction=_direction(alternating > want_alternating)))


# ---- practice 2: Adam's bias correction ---------------------------------------------------------

def _adam_correction_factors(step, beta1, beta2):
    """m_hat / m and v_hat / v after ``step`` steps of lib.optimizers.Adam.

    With a steady gradient g the moments are m = (1 - beta1^t) g and v = (1 - beta2^t) g^2 (sums
    of geometric series), so the corrections that turn them back into g and g^2 are g / m and
    g^2 / v. Computed by running Adam, not by retyping its formula.
    """
    opt = Adam(lr=0.0, beta1=beta1, beta2=beta2)
    w, g = np.zeros(1), np.ones(1)
    for _ in range(step):
        w = opt.step(w, g)
    return float(g[0] / opt.m[0]), float(g[0] ** 2 / opt.v[0])


@_in_every_edition
def check_bias_correction(step, m_hat_factor, v_hat_factor, *, beta1=0.9, beta2=0.999,
                          strict=False, graded=False):
    """Practice 2: how many times larger than m and v the corrected m_hat and v_hat are at ``step``.

    ``m_hat_factor`` is m_hat / m and ``v_hat_factor`` is v_hat / v at step ``step`` (t = 1 is the
    first step), for Adam with ``beta1``, ``beta2`` (default 0.9 and 0.999, as in the note).
    """
    __tracebackhide__ = True
    strict = _checks.boolean("strict", strict)
    graded = _checks.boolean("graded", graded)
    step = _checks.count("step", step, minimum=1)
    if step > 100_000:
        raise ValueError(f"step must be in [1, 100000], got {step}")
    answer = _Answer(_say("Bias correction at step {step}", step=step), strict, graded)
    beta1 = _checks.scalar("beta1", beta1, 0.0, 1.0, low_open=True)
    beta2 = _checks.scalar("beta2", beta2, 0.0, 1.0, low_open=True)
    for name, beta in (("beta1", beta1), ("beta2", beta2)):      # the hints divide by beta**step
        if beta ** step < 1e-300:
            raise ValueError(f"{name} must be large enough that {name}**step stays above 1e-300 "
                             f"(step = {step}), got {beta!r}")
    missing = _missing(answer, [("m_hat_factor", m_hat_factor), ("v_hat_factor", v_hat_factor)])
    if missing is not None:
        return missing
    m_f, v_f = _number(m_hat_factor), _number(v_hat_factor)
    want_m, want_v = _adam_correction_factors(step, beta1, beta2)
    rel = 2e-3                                      # how near a typical mistake must be
    digits = SIGNIFICANT_FIGURES["check_bias_correction"]
    m_ok, v_ok = _agrees(m_f, want_m, digits), _agrees(v_f, want_v, digits)
    if m_ok and v_ok:
        return answer.right(_say("Right. Note which of the two corrections still matters at this "
                                 "step, and which has all but vanished.") if step > 1 else
                            _say("Right. Before correction both moments are far too small."))

    def matches(m_value, v_value):
        return _close(m_f, m_value, rel) and _close(v_f, v_value, rel)

    if m_f <= 0 or v_f <= 0:
        return answer.wrong(_say("A correction factor is m_hat / m (and v_hat / v): dividing by "
                                 "1 - beta^t, a number between 0 and 1, makes the moment larger, so "
                                 "both factors are greater than 1."))
    if not m_ok and not v_ok and matches(1.0, 1.0):
        return answer.wrong(_say("Factors of 1 mean no correction at all: you forgot the bias "
                                 "correction. m_hat = m / (1 - beta1^t) and v_hat = v / (1 - beta2^t)."))
    if matches(1 / want_m, 1 / want_v):
        return answer.wrong(_say("You gave 1 - beta^t, the number Adam divides by. The factor is how "
                                 "much that division enlarges the moment: its reciprocal."))
    if matches(beta1 ** step, beta2 ** step) or matches(1 / beta1 ** step, 1 / beta2 ** step):
        return answer.wrong(_say("You used beta^t. The correction divides by 1 - beta^t (t = the step "
                                 "number), not by beta^t."))
    if matches(want_v, want_m):
        return answer.wrong(_say("Swapped: beta1 goes with the first moment m, beta2 with the second "
                                 "moment v."))
    for other in (step - 1, step + 1):
        if other >= 1 and matches(*_adam_correction_factors(other, beta1, beta2)):
            return answer.wrong(_say("Off by one step: t counts the steps taken, including this one, so "
                                     "the first step has t = 1."))
    if m_ok and _close(v_f, 1.0, rel):
        return answer.wrong(_say("m is right, but v needs its own correction too: "
                                 "v_hat = v / (1 - beta2^t)."))
    if v_ok and not m_ok and _close(m_f, 1.0, rel) and step < 50:
        return answer.wrong(_say("v is right, but m needs its own correction too: "
                                 "m_hat = m / (1 - beta1^t)."))
    if _agrees(m_f, want_m, digits - 1) and _agrees(v_f, want_v, digits - 1):
        return _not_precise(answer, digits)
    parts = []
    if not m_ok:
        parts.append(_say("m_hat_factor is {direction} (beta1 goes with m)",
                          direction=_direction(m_f > want_m)))
    if not v_ok:
        parts.append(_say("v_hat_factor is {direction} (beta2 goes with v)",
                          direction=_direction(v_f > want_v)))
    return answer.wrong(_say("{parts}. Compute 1 / (1 - beta^t) with t = the step number; for "
                             "t = 100 a calculator or numpy helps (beta^100 is not small for "
                             "beta = 0.999).", parts="; ".join(parts)))


# ---- practice 3: optimizer-state memory ---------------------------------------------------------

def _state_bytes_per_parameter(optimizer, dtype):
    """Bytes of state per parameter that ``optimizer`` (lib.optimizers) holds for ``dtype`` weights."""
    n = 1_000
    w = np.zeros(n, dtype=dtype)
    optimizer.step(w, np.ones(n, dtype=dtype))
    return optimizer.state_nbytes() / n


@_in_every_edition
def check_memory(sgd_state_gb, adamw_state_gb, *, n_params=7e9, dtype="float32", strict=False,
                 graded=False):
    """Practice 3: the optimizer state of a model of ``n_params`` weights, in GB (10^9 bytes).

    Optimizer state is what the optimizer keeps between steps besides the weights: nothing for
    plain SGD, the two moments m and v for AdamW. Weights are ``dtype`` (float32 in the note).
    """
    __tracebackhide__ = True
    strict = _checks.boolean("strict", strict)
    graded = _checks.boolean("graded", graded)
    answer = _Answer(_say("Optimizer-state memory"), strict, graded)
    n_params = _checks.scalar("n_params", n_params, 1.0, 1e18, high_open=False)
    given = dtype
    try:
        dtype = np.dtype(dtype) if isinstance(dtype, (str, type, np.dtype)) else None
    except TypeError:
        dtype = None
    if dtype is None or dtype not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise ValueError(f"dtype must be 'float32' or 'float64', got {_checks.shown(given)}")
    missing = _missing(answer, [("sgd_state_gb", sgd_state_gb), ("adamw_state_gb", adamw_state_gb)])
    if missing is not None:
        return missing
    sgd, adamw = _number(sgd_state_gb), _number(adamw_state_gb)
    GB = 1e9
    per_param = {name: _state_bytes_per_parameter(opt, dtype) for name, opt in
                 (("sgd", SGD(lr=0.1)), ("adamw", AdamW()), ("momentum", Momentum(lr=0.1)))}
    want_sgd = per_param["sgd"] * n_params / GB
    want_adamw = per_param["adamw"] * n_params / GB
    weights = dtype.itemsize * n_params / GB
    rel = 0.02

    def near(value, target):
        return _close(value, target, rel, abs_tol=1e-6)

    digits = SIGNIFICANT_FIGURES["check_memory"]
    sgd_ok = _agrees(sgd, want_sgd, digits, zero_tol=1e-6)
    adamw_ok = _agrees(adamw, want_adamw, digits, zero_tol=1e-6)
    if sgd_ok and adamw_ok:
        return answer.right(_say("Right. The weights (and, while training, the gradients) come on top "
                                 "of this."))
    if near(sgd, weights) and near(adamw, want_adamw + weights):
        return answer.wrong(_say("Both numbers count the weights themselves. The question asks for the "
                                 "optimizer state: what the optimizer keeps between steps in addition "
                                 "to the weights (the study note's memory table counts the weights too)."))
    if near(adamw, want_adamw + 2 * weights):
        return answer.wrong(_say("Too much for AdamW: either you added the weights and the gradients "
                                 "(count only what AdamW keeps between steps), or you used 8 bytes per "
                                 "number (float32 has 4)."))
    scales = [(GB, _say("bytes: divide by 10^9 to get GB")),
              (GB * 8, _say("bits: a float32 number is 4 bytes, and 1 GB is 10^9 bytes")),
              (8.0, _say("gigabits: a float32 number is 4 bytes (32 bits); count bytes, not bits")),
              (GB / 2**30, _say("GiB (2^30 bytes); the question asks for GB, 10^9 bytes")),
              (1e3, _say("MB: 1 GB is 1000 MB"))]
    for factor, what in scales:
        if near(adamw, want_adamw * factor) and (sgd_ok or near(sgd, want_sgd * factor)):
            return answer.wrong(_say("Right idea, wrong unit: your answer is in {what}.",
                                     what=what))
    if not adamw_ok:
        if near(adamw, weights):
            return answer.wrong(_say("AdamW keeps two numbers per parameter, the first moment m and the "
                                     "second moment v, both in the weights' precision (float32, 4 bytes)."))
        if near(adamw, want_adamw + weights):
            return answer.wrong(_say("AdamW: you counted the weights as well. The optimizer state is "
                                     "only what AdamW adds: its moments m and v."))
        return answer.wrong(_say("AdamW is {direction}. Count the numbers AdamW stores per "
                                 "parameter (m and v), times 4 bytes for float32, times the "
                                 "number of parameters, then convert bytes to GB.",
                                 direction=_direction(adamw > want_adamw)))
    if near(sgd, weights):
        return answer.wrong(_say("SGD: that is the size of the weights (or of the velocity that SGD "
                                 "with momentum keeps). Plain SGD, w = w - lr*g, keeps nothing "
                                 "between steps."))
    return answer.wrong(_say("SGD: plain SGD (w = w - lr*g) needs only the current gradient; what does "
                             "it carry from one step to the next?"))


# ---- practice 4: the warmup + cosine schedule ---------------------------------------------------

@_in_every_edition
def check_schedule(values_at_steps, *, peak_lr=2e-4, min_lr=2e-5, warmup_steps=2_000,
                   total_steps=100_000, strict=False, graded=False):
    """Practice 4: the warmup + cosine learning rate at steps 0, 1000, 2000, 50000 and 100000.

    ``values_at_steps`` is a sequence of five learning rates for :data:`PRACTICE_STEPS`, in that
    order, or a dict ``{step: lr}`` (any steps, which must include those five). The schedule is
    :func:`lib.schedules.warmup_cosine`: a straight rise from 0 at step 0 to ``peak_lr`` at
    ``warmup_steps``, then the seed's cosine from ``peak_lr`` down to ``min_lr`` at
    ``total_steps``, its step t counted from the end of warmup.
    """
    __tracebackhide__ = True
    strict = _checks.boolean("strict", strict)
    graded = _checks.boolean("graded", graded)
    answer = _Answer(_say("Warmup + cosine schedule"), strict, graded)
    schedule = warmup_cosine(peak_lr, warmup_steps, total_steps, min_lr)
    if values_at_steps is None or values_at_steps is Ellipsis:
        return answer.wrong(_say("Not answered yet: give the five learning rates, for steps "
                                 "{steps}.", steps=", ".join(map(str, PRACTICE_STEPS))))
    if isinstance(values_at_steps, dict):
        given = {}
        for step, value in values_at_steps.items():
            if _number(step) is None or _number(step) < 0:
                return answer.wrong(_say("The keys must be steps (whole numbers >= 0), got "
                                         "{key}.", key=repr(step)))
            given[int(step)] = value
        absent = [s for s in PRACTICE_STEPS if s not in given]
        if absent:
            return answer.wrong(_say("Missing steps: {steps}.", steps=", ".join(map(str, absent))))
    else:
        values = list(np.asarray(values_at_steps, dtype=object).ravel()) \
            if not isinstance(values_at_steps, (list, tuple)) else list(values_at_steps)
        if len(values) != len(PRACTICE_STEPS):
            return answer.wrong(_say("Give {n} values, one for each of the steps {steps}; got "
                                     "{got}.", n=len(PRACTICE_STEPS), got=len(values),
                                     steps=", ".join(map(str, PRACTICE_STEPS))))
        given = dict(zip(PRACTICE_STEPS, values))
    if any(v is None or v is Ellipsis for v in given.values()):
        empty = [str(s) for s, v in given.items() if v is None or v is Ellipsis]
        return answer.wrong(_say("Not answered yet for step(s) {steps}.", steps=", ".join(empty)))
    bad = [str(s) for s, v in given.items() if _number(v) is None]
    if bad:
        return answer.wrong(_say("Each learning rate must be a single finite number; not so at "
                                 "step(s) {steps}.", steps=", ".join(bad)))
    steps = np.array(sorted(given))
    got = np.array([_number(given[s]) for s in steps])
    rel, abs_tol = 0.01, 1e-4 * peak_lr            # how near a typical mistake must be
    digits = SIGNIFICANT_FIGURES["check_schedule"]

    def matches(values, where=None):
        ok = np.isclose(got, values, rtol=rel, atol=abs_tol)
        return bool(np.all(ok if where is None else ok[where]))

    def agrees(values, figures):
        return np.array([_agrees(g, v, figures, zero_tol=abs_tol) for g, v in zip(got, values)],
                        dtype=bool)

    want = schedule(steps)
    wrong = ~agrees(want, digits)
    if not wrong.any():
        return answer.right(_say("Right. Note where the cosine's midpoint falls: half way through the "
                                 "decay, not half way through training."))

    warm = steps < warmup_steps
    T = total_steps - warmup_steps
    # Typical mistakes, each computed with the lib's own schedules.
    cosine_from_zero = np.where(warm, want, cosine_annealing(peak_lr, total_steps, min_lr)(steps))
    cosine_whole_T = np.where(warm, want, cosine_annealing(peak_lr, total_steps, min_lr)(
        np.maximum(steps - warmup_steps, 0)))
    off_by_one = np.where(warm, linear_warmup(peak_lr, warmup_steps)(steps + 1), want)
    to_zero = warmup_cosine(peak_lr, warmup_steps, total_steps, 0.0)(steps)
    no_warmup = cosine_annealing(peak_lr, total_steps, min_lr)(steps)
    from_min = np.where(warm, min_lr + (peak_lr - min_lr) * steps / max(warmup_steps, 1), want)
    linear = warmup_linear(peak_lr, warmup_steps, total_steps, min_lr)(steps)
    after = ~warm
    if matches(no_warmup) and not matches(want, warm):
        return answer.wrong(_say("Your schedule has no warmup: at step 0 the learning rate is still 0 "
                                 "and it rises in a straight line to the peak at the end of warmup."))
    if matches(off_by_one) and not matches(want, warm):
        return answer.wrong(_say("Off by one in the warmup: at step 0 the learning rate is 0 "
                                 "(lr = peak * step / warmup_steps), so the very first step does not "
                                 "move the weights."))
    if matches(from_min) and not matches(want, warm):
        return answer.wrong(_say("The warmup starts from 0, not from min_lr: min_lr is where the "
                                 "cosine ends."))
    if matches(want, warm):
        if matches(cosine_from_zero, after):
            rough = all(_agrees(a, b, digits - 1, zero_tol=abs_tol)
                        for a, b in zip(cosine_from_zero, want))
            same = (_say(", and rounded to {fewer} the two conventions give the same values",
                         fewer=_figures(digits - 1)) if rough else "")
            return answer.wrong(_say("The warmup is right, but your cosine counts t from step 0. "
                                     "That is a convention, not a slip: it is timm's default "
                                     "(CosineLRScheduler with warmup_prefix=False){same}. The "
                                     "question (and the note's formula) counts t from the end of "
                                     "warmup: t = step - warmup_steps, over T = total_steps - "
                                     "warmup_steps = {T} steps; give {figures}.", same=same, T=T,
                                     figures=_figures(digits)))
        if matches(cosine_whole_T, after):
            return answer.wrong(_say("t is right (counted from the end of warmup), but T is not: the "
                                     "decay lasts total_steps - warmup_steps steps, so it reaches "
                                     "min_lr exactly at the last step."))
        if matches(to_zero, after):
            return answer.wrong(_say("The cosine decays to min_lr, not to 0: "
                                     "lr = min_lr + 0.5*(peak - min_lr)*(1 + cos(pi*t/T))."))
        if matches(linear, after):
            return answer.wrong(_say("That is a linear decay (BERT's). The question asks for the cosine "
                                     "shape, which stays high longer at first and flattens at the end."))
    if agrees(want, digits - 1).all():
        return _not_precise(answer, digits)
    if np.any(got > peak_lr * (1 + rel)):
        return answer.wrong(_say("No value of this schedule exceeds the peak learning rate; check the "
                                 "factor 0.5 in lr = min_lr + 0.5*(peak - min_lr)*(1 + cos(pi*t/T))."))
    first = int(np.flatnonzero(wrong)[0])
    step, value, target = int(steps[first]), got[first], want[first]
    direction = _direction(value > target)
    if step < warmup_steps:
        phase = _say("step {s} is in the warmup, where lr rises in a straight line from 0 at step 0 "
                     "to the peak at step {w}", s=step, w=warmup_steps)
    elif step <= total_steps:
        phase = _say("step {s} is in the cosine decay: t = step - {w} out of T = {T}, and "
                     "lr = min_lr + 0.5*(peak - min_lr)*(1 + cos(pi*t/T))", s=step, w=warmup_steps,
                     T=T)
    else:
        phase = _say("after the last step the schedule stays at min_lr")
    wrong_steps = ", ".join(str(int(s)) for s in steps[wrong])
    return answer.wrong(_say("Not right at step(s) {wrong_steps}. At step {step} your value is "
                             "{direction}: {phase}.", wrong_steps=wrong_steps, step=step,
                             direction=direction, phase=phase))


EXPECTED_VALUE_FUNCTIONS = {
    "check_momentum_gains": (_momentum_velocity,),
    "check_bias_correction": (_adam_correction_factors,),
    "check_memory": (_state_bytes_per_parameter,),
    "check_schedule": (warmup_cosine,),
}
"""The functions each checker computes its expected value with (the right answer, from the
question's givens). A worksheet's student notebook must not import or define any of them
(tests/test_worksheets.py scans it); the optimizers these helpers run (SGD, Momentum, Adam, AdamW)
are the experiments' tools, and an answer from them is a simulation the learner writes."""
