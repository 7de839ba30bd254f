"""Reading a loss curve: what its shape says about the learning rate.

:func:`diagnose` takes a training-loss curve, one value per step as :func:`lib.training.train`
records it (NaN after a run diverged), and names its pattern, the seed's "학습률 진단" (learning-rate
diagnosis) made into code::

    result = train(model, Adam(lr=lrs), params0, split, steps=300)
    d = diagnose(result.train_loss[:, 0], chance=np.log(10))
    d.label, d.explanation, d.fix        # ('early spike', 'the loss jumped to 3.1x ...', 'warm ...')

The patterns, checked in this order (the first that matches is the label; any later ones that also
match are listed in ``also``):

=================  ==========================================================================
``diverging``      the curve stops being finite (the run blew up), or ends well above its start
``stuck``          (only with ``chance``) it ends flat at the loss of guessing, after a blow-up
                   or after having been well below it: a too-large step knocked the network out
``early spike``    within the first tenth of the run a step's loss jumps above ``spike_factor``
                   times the initial loss (the seed's practice 6)
``oscillating``    after the first quarter the smoothed loss climbs back up, by more than
                   ``rebound`` times the initial loss, above the lowest level it had reached
``too slow``       the loss ends above ``barely`` times its start, or falls too late: its first
                   quarter brought less than ``early_drop`` of the run's total drop
``healthy``        none of the above: it fell and levelled off
=================  ==========================================================================

"Smoothed" is a trailing moving average over ``window`` steps (default: a fifteenth of the run),
which removes most of the minibatch noise. The thresholds are heuristics, calibrated on the
digits MLP of :mod:`lib.model` trained with Adam for 300 steps (seeds 0-2, lr 1e-4 to 1, warmup 0
to 100 steps, then a constant rate or a cosine decay to 0). The shape of a curve says nothing
about the loss a better setting would reach, so a curve can look healthy and still be beaten; and
on a task whose loss cannot fall to half its start (fine-tuning a good model), ``too slow`` needs
a smaller ``barely``.
"""

from dataclasses import dataclass, field

import numpy as np

from . import _checks

DIVERGING, STUCK, EARLY_SPIKE, OSCILLATING, TOO_SLOW, HEALTHY = (
    "diverging", "stuck", "early spike", "oscillating", "too slow", "healthy")
LABELS = (DIVERGING, STUCK, EARLY_SPIKE, OSCILLATING, TOO_SLOW, HEALTHY)
"""Every label :func:`diagnose` can return, in the order it checks them."""

FIXES = {
    DIVERGING: "lower the lr (÷10) or warm it up",
    STUCK: "restart with a lower lr (÷10) and a warmup",
    EARLY_SPIKE: "warm the lr up from 0 over the first steps",
    OSCILLATING: "lower the lr (÷3) or decay it",
    TOO_SLOW: "raise the lr (×3) or train longer",
    HEALTHY: "keep it",
}
"""The usual first remedy for each pattern."""


@dataclass(frozen=True)
class Diagnosis:
    """What :func:`diagnose` returns.

    ``label``        one of :data:`LABELS`
    ``explanation``  one short sentence with the numbers behind the label
    ``fix``          the usual first remedy (:data:`FIXES`)
    ``step``         the step where the pattern shows (blow-up, spike), or None
    ``evidence``     the measured numbers the decision used, by name
    ``also``         other patterns that matched too, in checking order
    """

    label: str
    explanation: str
    fix: str
    step: object = None
    evidence: dict = field(default_factory=dict)
    also: tuple = ()

    def __str__(self):
        also = f" (also {', '.join(self.also)})" if self.also else ""
        return f"{self.label}{also}: {self.explanation}"


def moving_average(losses, window):
    """Trailing mean of ``window`` consecutive losses: ``out[j] = mean(losses[j : j + window])``.

    >>> moving_average([1.0, 2.0, 3.0, 4.0], window=2)
    array([1.5, 2.5, 3.5])
    """
    losses = _checks.real_array("losses", losses, "a 1-D loss curve (real numbers)")
    if losses.ndim != 1:
        raise ValueError(f"losses must be a 1-D loss curve, got shape {losses.shape}")
    window = _checks.count("window", window, minimum=1)
    if window > len(losses):
        raise ValueError(f"window must be at most len(losses) = {len(losses)}, got {window}")
    return np.convolve(losses, np.ones(window) / window, mode="valid")


def diagnose(losses, chance=None, spike_factor=1.5, rebound=0.05,
             early_drop=0.6, barely=0.5, diverge_factor=1.5,
             window=None):
    """Name the pattern of a training-loss curve; return a Diagnosis.

    ``losses``: one loss per step (at least 10), the first being the
    loss before any update. Values after the first non-finite one are
    ignored (a diverged run). ``chance``: the loss of guessing,
    ``log(classes)`` for cross-entropy; without it ``stuck`` is never
    returned. The other arguments are the thresholds of the table in
    the module's docstring, as fractions or multiples of the initial
    loss ``losses[0]``.

    >>> steps = np.arange(300)
    >>> diagnose(2.3 * np.exp(-steps / 30) + 0.05).label
    'healthy'
    >>> diagnose(2.3 - 0.002 * steps).label
    'too slow'
    >>> fall = 2.3 * np.exp(-steps / 30)
    >>> print(diagnose(np.r_[2.3, 7.0, 5.0, fall[3:] + 0.05]))
    ... # doctest: +NORMALIZE_WHITESPACE
    early spike: the loss jumped to 3.0x its start at step 1,
    then came down
    >>> d = diagnose(np.r_[fall[:50], np.full(250, np.nan)])
    >>> d.label, d.step
    ('diverging', 50)
    """
    losses = _checks.real_array("losses", losses,
                                "a 1-D loss curve (real numbers)")
    if losses.ndim != 1 or len(losses) < 10:
        raise ValueError("losses must be a 1-D curve of at least 10 "
                         f"steps, got shape {losses.shape}")
    spike_factor = _checks.scalar("spike_factor", spike_factor, 1.0)
    diverge_factor = _checks.scalar("diverge_factor", diverge_factor,
                                    1.0)
    rebound = _checks.scalar("rebound", rebound, 0.0)
    early_drop = _checks.scalar("early_drop", early_drop, 0.0, 1.0)
    barely = _checks.scalar("barely", barely, 0.0)
    if chance is not None:
        chance = _checks.scalar("chance", chance, 0.0)
    if window is not None:
        window = _checks.count("window", window, minimum=1)

    n = len(losses)
    bad = np.flatnonzero(~np.isfinite(losses))
    if bad.size and bad[0] == 0:
        return _result(DIVERGING,
                       "the loss is not finite from the start", 0,
                       {"start": np.nan})
    start = float(losses[0])
    if start <= 0:
        raise ValueError("losses[0] must be > 0 (the thresholds are "
                         f"fractions of it), got {start}")
    if bad.size:
        k = int(bad[0])
        blew = k - 1 if losses[k - 1] > diverge_factor * start else k
        return _result(DIVERGING, f"the loss blew up at step {blew}",
                       blew, {"start": start,
                              "last_finite": float(losses[k - 1])})

    if window is None:
        window = max(3, n // 15)
    window = min(_checks.count("window", window, minimum=1), n // 2)
    smooth = moving_average(losses, window)
    final = float(smooth[-1])
    early = losses[1:max(10, n // 10) + 1]
    spike_step = int(np.argmax(early)) + 1
    spike_ratio = float(losses[spike_step] / start)
    lowest_so_far = np.minimum.accumulate(smooth)
    quarter = len(smooth) // 4
    climb = float(np.max((smooth - lowest_so_far)[quarter:]) / start)
    drop = start - final
    early_share = (float((start - smooth[quarter]) / drop) if drop > 0
                   else 0.0)
    evidence = {"start": start, "final": final,
                "final_ratio": final / start,
                "spike_ratio": spike_ratio, "spike_step": spike_step,
                "rebound": climb, "early_share": early_share,
                "window": window}

    found = []                   # (label, explanation, step), in order
    ratio = final / start
    if final > diverge_factor * start:
        rise = (int(np.argmax(smooth > diverge_factor * start))
                + window - 1)
        found.append((DIVERGING,
                      f"the loss climbed to {ratio:.1f}x its start",
                      rise))
    if chance is not None:
        at_chance = abs(final - chance) < 0.1 * chance
        flat = abs(final - smooth[len(smooth) // 2]) < 0.05 * start
        knocked = (spike_ratio > spike_factor
                   or smooth.min() < 0.8 * chance)
        evidence["chance"] = chance
        if at_chance and flat and knocked:
            found.append((STUCK, "flat at the loss of guessing "
                                 f"({chance:.2f}) after a blow-up",
                          None))
    if spike_ratio > spike_factor:
        after = ("then came down" if final < 0.9 * start
                 else "and has not come down since")
        found.append((EARLY_SPIKE,
                      f"the loss jumped to {spike_ratio:.1f}x its "
                      f"start at step {spike_step}, {after}",
                      spike_step))
    if climb > rebound:
        found.append((OSCILLATING,
                      "the smoothed loss climbs back up by "
                      f"{climb:.0%} of its start after falling", None))
    if ratio > barely:
        found.append((TOO_SLOW, f"after {n} steps the loss is still "
                                f"{ratio:.0%} of its start", None))
    elif early_share < early_drop:
        found.append((TOO_SLOW,
                      "falling slowly: the first quarter brought "
                      f"only {early_share:.0%} of the drop", None))
    if not found:
        found.append((HEALTHY, f"it fell to {ratio:.1%} of its start "
                               "and levelled off", None))
    (label, explanation, step), rest = found[0], found[1:]
    return _result(label, explanation, step, evidence,
                   tuple(other[0] for other in rest))


def _result(label, explanation, step, evidence, also=()):
    return Diagnosis(label, explanation, FIXES[label], step, evidence, also)
