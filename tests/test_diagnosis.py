"""diagnose(): each pattern of a loss curve gets its own label, on hand-made curves with known
answers and on curves from real training runs of the digits MLP (the runs the chapter shows)."""

import numpy as np
import pytest

from lib import schedules
from lib.data import load_digits, train_val_split
from lib.diagnosis import (DIVERGING, EARLY_SPIKE, FIXES, HEALTHY, LABELS, OSCILLATING, STUCK,
                           TOO_SLOW, diagnose, moving_average)
from lib.model import MLP
from lib.optimizers import Adam
from lib.training import train

STEPS = np.arange(300)
CHANCE = np.log(10)


def noisy(curve, scale=0.02, seed=0):
    """Multiplicative minibatch-like noise, so no test passes only on a perfectly clean curve."""
    return curve * (1 + scale * np.random.default_rng(seed).standard_normal(len(curve)))


def decay(start=2.3, floor=0.05, tau=30.0):
    return (start - floor) * np.exp(-STEPS / tau) + floor


# ---- hand-made curves, one per label ---------------------------------------------------------

SYNTHETIC = {
    HEALTHY: noisy(decay()),
    TOO_SLOW: noisy(2.3 - 0.002 * STEPS),                              # a straight, slow line
    EARLY_SPIKE: noisy(np.r_[2.3, 8.0, 6.0, 4.0, decay()[4:]]),
    OSCILLATING: noisy(decay(floor=0.3) + 0.4 * (STEPS > 150) * np.abs(np.sin(STEPS / 12))),
    DIVERGING: np.r_[decay()[:80], np.full(220, np.nan)],
    STUCK: noisy(np.r_[2.3, 9.0, 5.0, np.full(297, CHANCE)]),
}


@pytest.mark.parametrize("label", LABELS)
def test_each_hand_made_curve_gets_its_own_label(label):
    result = diagnose(SYNTHETIC[label], chance=CHANCE)
    assert result.label == label, str(result)
    assert result.fix == FIXES[label]
    assert str(result).startswith(label)


def test_labels_and_fixes_are_distinct():
    assert len(set(LABELS)) == len(LABELS) == 6
    assert len(set(FIXES.values())) == len(FIXES) and set(FIXES) == set(LABELS)
    assert "raise" in FIXES[TOO_SLOW] and "lower" in FIXES[OSCILLATING]
    assert "warm" in FIXES[EARLY_SPIKE] and "lower" in FIXES[DIVERGING]


def test_a_slowly_decaying_exponential_is_too_slow_because_it_falls_late():
    curve = 2.3 * np.exp(-STEPS / 150)                  # ends at 14 % of its start, still falling
    result = diagnose(curve, window=3)
    assert result.label == TOO_SLOW and "first quarter" in result.explanation
    assert result.evidence["final_ratio"] < 0.5
    # the smoothed curve has 298 points (window 3); its first quarter ends at point 74, the mean
    # of steps 74-76
    at_quarter = np.mean(curve[74:77])
    share = (curve[0] - at_quarter) / (curve[0] - np.mean(curve[-3:]))
    assert result.evidence["early_share"] == pytest.approx(share) and share < 0.6
    assert diagnose(2.3 * np.exp(-STEPS / 40)).label == HEALTHY     # the same, faster: healthy
    shallow = 2.3 * (0.7 + 0.3 * np.exp(-STEPS / 10))              # falls at once, but only by 30 %
    result = diagnose(shallow)
    assert result.evidence["early_share"] > 0.9
    assert result.label == TOO_SLOW and "still 70% of its start" in result.explanation
    assert diagnose(shallow, barely=0.8).label == HEALTHY


def test_the_numbers_behind_a_hand_made_rebound_and_spike():
    curve = np.r_[2.0, np.full(149, 0.2), np.full(150, 0.6)]      # falls to 0.2, climbs to 0.6
    result = diagnose(curve, window=3)
    assert result.label == OSCILLATING
    assert result.evidence["rebound"] == pytest.approx((0.6 - 0.2) / 2.0)
    assert result.evidence["final"] == pytest.approx(0.6)
    spiky = np.r_[2.0, 2.0, 5.0, decay()[3:]]
    spike = diagnose(spiky)
    assert spike.label == EARLY_SPIKE and spike.step == 2
    assert spike.evidence["spike_ratio"] == pytest.approx(2.5)
    assert "2.5x its start at step 2" in spike.explanation


def test_the_spike_threshold_is_a_parameter():
    mild = np.r_[2.0, 2.8, decay()[2:]]                               # a 1.4x jump
    assert diagnose(mild).label == HEALTHY
    assert diagnose(mild, spike_factor=1.3).label == EARLY_SPIKE


def test_checking_order_and_secondary_patterns():
    blown = SYNTHETIC[EARLY_SPIKE].copy()
    blown[200:] = np.nan
    assert diagnose(blown).label == DIVERGING                      # a blow-up beats everything
    spike_then_bounce = SYNTHETIC[OSCILLATING].copy()
    spike_then_bounce[1:4] = [8.0, 6.0, 4.0]
    result = diagnose(spike_then_bounce)
    assert result.label == EARLY_SPIKE and result.also == (OSCILLATING,)
    assert "also oscillating" in str(result)


def test_stuck_needs_the_chance_level_and_a_blow_up():
    curve = SYNTHETIC[STUCK]
    without = diagnose(curve)                                      # no chance level given
    assert without.label == EARLY_SPIKE and "not come down" in without.explanation
    flat_from_the_start = noisy(np.full(300, CHANCE))              # never knocked: just not learning
    assert diagnose(flat_from_the_start, chance=CHANCE).label == TOO_SLOW


def test_divergence_step_and_a_rising_curve():
    curve = np.r_[decay()[:60], 30.0, np.full(239, np.nan)]       # blew up at step 60
    result = diagnose(curve)
    assert result.label == DIVERGING and result.step == 60
    rising = 2.3 * np.exp(STEPS / 100)
    result = diagnose(rising)
    assert result.label == DIVERGING and "climbed" in result.explanation
    assert diagnose(np.r_[np.nan, np.ones(20)]).step == 0


def test_moving_average_and_argument_checks():
    assert np.allclose(moving_average([0.0, 3.0, 6.0, 9.0], 3), [3.0, 6.0])
    with pytest.raises(ValueError, match="at least 10"):
        diagnose([2.0, 1.0, 0.5])
    with pytest.raises(ValueError, match="1-D"):
        diagnose(np.ones((20, 2)))
    with pytest.raises(ValueError, match="spike_factor must be in"):
        diagnose(decay(), spike_factor=0.5)
    with pytest.raises(ValueError, match="losses\\[0\\] must be > 0"):
        diagnose(np.r_[0.0, decay()])
    with pytest.raises(ValueError, match="window must be at most"):
        moving_average([1.0, 2.0], 3)


# ---- curves from real runs -------------------------------------------------------------------

# (peak lr, warmup steps, expected label), Adam on the default MLP, 300 steps, batch 32. Calibrated
# over seeds 0-2 and warmups 0-100: these settings got the same label on seeds 0 and 1.
REAL = [(3e-3, 0, HEALTHY), (1e-4, 0, TOO_SLOW), (0.1, 0, EARLY_SPIKE), (0.3, 0, DIVERGING),
        (0.3, 30, OSCILLATING), (1.0, 10, STUCK)]
SPLIT = train_val_split(*load_digits(), val_fraction=0.2, seed=0)


@pytest.fixture(scope="module", params=[0, 1])
def real_runs(request):
    seed = request.param
    model = MLP()
    lr = schedules.stack(*(schedules.linear_warmup(peak, warmup) for peak, warmup, _ in REAL))
    return train(model, Adam(lr=lr), model.init_params(len(REAL), seed=seed), SPLIT, steps=300,
                 batch_size=32, seed=seed, eval_every=300)


def test_real_runs_get_the_labels_of_the_seed_panels(real_runs):
    labels = [diagnose(real_runs.train_loss[:, s], chance=CHANCE).label for s in range(len(REAL))]
    assert labels == [expected for *_, expected in REAL]


def test_real_runs_agree_with_what_the_validation_set_says(real_runs):
    val = real_runs.val_loss[-1]
    healthy, slow, spike, diverged, oscillating, stuck = range(len(REAL))
    assert np.isnan(val[diverged]) and real_runs.diverged[diverged]
    assert val[healthy] < 0.15                                     # the healthy run is the best
    assert val[healthy] < min(val[slow], val[spike], val[oscillating], val[stuck])
    assert abs(val[stuck] - CHANCE) < 0.2                          # stuck means: guessing
    spike_run = diagnose(real_runs.train_loss[:, spike], chance=CHANCE)
    assert spike_run.evidence["spike_ratio"] > 2 and spike_run.step <= 10
