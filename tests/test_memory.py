"""lib/memory.py against numbers worked by hand from the seed and the papers it leaves out.

Every expected value is arithmetic in the comments, not output copied from the code.
"""

import numpy as np
import pytest

from lib import memory
from lib.optimizers import SGD, Adam, AdamW, Momentum, RMSProp

N_7B = 7e9


def test_state_copies_match_what_the_optimizers_hold_after_one_step():
    # SGD keeps nothing; Momentum keeps v; RMSProp keeps s; Adam and AdamW keep m and v.
    # Measured: float32 weights of 1,000 values -> 0, 4,000, 4,000, 8,000, 8,000 bytes.
    fresh = [SGD(0.1), Momentum(0.1), RMSProp(0.1), Adam(0.1), AdamW(0.1)]
    measured = [memory.measured_state_bytes(opt, 1_000) for opt in fresh]
    assert measured == [0, 4_000, 4_000, 8_000, 8_000]
    assert [memory.state_copies(name) for name in memory.OPTIMIZERS] == [0, 1, 1, 2, 2]


def test_state_bytes_follow_the_dtype_of_the_weights():
    # float64: 8 bytes per value -> Adam holds 2 x 10 x 8 = 160 bytes for 10 weights.
    assert memory.measured_state_bytes(Adam(0.1), 10, dtype="float64") == 160
    assert memory.measured_state_bytes(Momentum(0.1), 10, dtype="float64") == 80


def test_the_seeds_table_n_2n_3n_and_its_7b_figures():
    # The seed counts float32 weights plus state, no gradients:
    #   SGD N x 4 B; Momentum 2N x 4 B; Adam 3N x 4 B.
    #   7e9 x 4 B = 28e9 B = 28 GB;  3 x 28 = 84 GB.
    seed = {name: memory.total_bytes(N_7B, name, "float32", gradients=False) for name in memory.OPTIMIZERS}
    assert seed["SGD"] == pytest.approx(28e9, rel=1e-15)
    assert seed["Momentum"] == pytest.approx(56e9, rel=1e-15)
    assert seed["Adam"] == seed["AdamW"] == pytest.approx(84e9, rel=1e-15)
    assert seed["RMSProp"] == pytest.approx(56e9, rel=1e-15)   # not in the seed's table: also 2N


def test_practice_3_optimizer_state_alone():
    # Practice 3 asks for the optimizer state only: SGD has none (0 GB);
    # AdamW has m and v: 2 x 7e9 x 4 B = 56e9 B = 56 GB.
    sgd = memory.training_bytes(N_7B, "SGD", "float32")
    adamw = memory.training_bytes(N_7B, "AdamW", "float32")
    assert sgd["optimizer state"] == 0
    assert adamw["optimizer state"] == pytest.approx(56e9, rel=1e-15)


def test_float32_with_gradients():
    # Add the gradients (another 28 GB): SGD 28 + 28 = 56 GB; Adam 28 + 28 + 56 = 112 GB.
    assert memory.total_bytes(N_7B, "SGD", "float32") == pytest.approx(56e9, rel=1e-15)
    assert memory.total_bytes(N_7B, "Adam", "float32") == pytest.approx(112e9, rel=1e-15)
    assert memory.bytes_per_parameter("Adam", "float32") == 16.0


def test_zero_mixed_precision_adam_is_16_bytes_per_parameter():
    # ZeRO, section 3.1: fp16 weights 2 + fp16 gradients 2 + (fp32 master 4 + m 4 + v 4) = 16 bytes,
    # "K = 12" bytes of optimizer states; a 1.5B GPT-2 needs 16 x 1.5e9 = 24e9 B = 24 GB.
    parts = memory.per_parameter("Adam", "mixed precision (ZeRO)")
    assert parts["weights"] + parts["gradients"] == 4
    assert parts["master weights"] + parts["optimizer state"] == 12
    assert memory.bytes_per_parameter("Adam", "mixed precision (ZeRO)") == 16
    assert memory.total_bytes(1.5e9, "Adam", "mixed precision (ZeRO)") == pytest.approx(24e9, rel=1e-15)
    # For 7B that is 16 x 7e9 = 112 GB: no less than float32 with gradients.
    assert memory.total_bytes(N_7B, "AdamW", "mixed precision (ZeRO)") == pytest.approx(112e9, rel=1e-15)


def test_bfloat16_only_halves_float32():
    # 2 + 2 + 2 x 2 = 8 bytes for Adam; 7e9 x 8 = 56 GB.
    assert memory.bytes_per_parameter("Adam", "bfloat16 only") == 8
    assert memory.total_bytes(N_7B, "Adam", "bfloat16 only") == pytest.approx(56e9, rel=1e-15)


def test_eight_bit_state_saves_about_three_quarters_of_the_state():
    # Dettmers et al.: each state value 1 byte, plus a float32 scale per 2,048 values:
    #   1 + 4/2048 = 1.001953125 bytes; Adam's two states 2.00390625 bytes instead of 8,
    #   a saving of 1 - 2.00390625/8 = 0.74951171875.
    state_8bit = memory.per_parameter("Adam", "mixed + 8-bit state")["optimizer state"]
    assert state_8bit == 2.00390625
    assert 1 - state_8bit / 8 == 0.74951171875
    # Total: 2 + 2 + 4 + 2.00390625 = 10.00390625 bytes per parameter.
    assert memory.bytes_per_parameter("AdamW", "mixed + 8-bit state") == 10.00390625


def test_gib_versus_gb():
    # 28e9 B / 2^30 B = 26.077 GiB: tools that print GiB show the seed's 28 GB as about 26.
    assert memory.total_bytes(N_7B, "SGD", gradients=False) / memory.GiB == pytest.approx(26.0770320892, rel=1e-10)


def test_bad_arguments_name_the_argument():
    with pytest.raises(ValueError, match="optimizer must be one of"):
        memory.state_copies("Adagrad")
    with pytest.raises(ValueError, match="precision must be one of"):
        memory.per_parameter("Adam", "float8")
    with pytest.raises(ValueError, match="n_params"):
        memory.training_bytes(-1, "Adam")
    used = Adam(0.1)
    used.step(np.zeros(2), np.ones(2))
    with pytest.raises(ValueError, match="fresh"):
        memory.measured_state_bytes(used, 10)


def test_largest_model_is_the_exact_inverse_not_a_menu_size():
    # Issue 12: 80 GB at ZeRO's 16 bytes per parameter is 80e9 / 16 = 5e9 parameters (5B), not the
    # calculator's 2.7B, which was only the largest size on its slider.
    assert memory.largest_model(80e9, "AdamW", "mixed precision (ZeRO)") == 5_000_000_000
    # 24 GB card: 24e9 / 16 = 1.5e9.
    assert memory.largest_model(24e9, "Adam", "mixed precision (ZeRO)") == 1_500_000_000
    # The seed's float32 Adam without gradients, 12 B: 80e9 / 12 = 6,666,666,666.67 -> 6,666,666,666.
    assert memory.largest_model(80e9, "Adam", "float32", gradients=False) == 6_666_666_666
    # SGD, float32, no gradients: 4 B -> 80e9 / 4 = 2e10.
    assert memory.largest_model(80e9, "SGD", "float32", gradients=False) == 20_000_000_000
    # Mixed + 8-bit state, 10.00390625 = 2561/256 B: 80e9 x 256 / 2561 = 20,480e9 / 2,561
    #   = 7,996,876,220.226...  (2,561 x 7,996,876,220 = 20,479,999,999,420; remainder 580 < 2,561).
    assert memory.largest_model(80e9, "AdamW", "mixed + 8-bit state") == 7_996_876_220
    # bfloat16 only, Momentum: 2 + 2 + 2 = 6 B -> 60 B hold 10 parameters, 59 B hold 9.
    assert memory.largest_model(60, "Momentum", "bfloat16 only") == 10
    assert memory.largest_model(59, "Momentum", "bfloat16 only") == 9
    assert memory.largest_model(0, "SGD") == 0


def test_largest_model_fits_and_one_more_does_not():
    # The defining property, checked with total_bytes on the boundary (16 B x 5e9 = 80e9 exactly).
    n = memory.largest_model(80e9, "AdamW", "mixed precision (ZeRO)")
    assert memory.total_bytes(n, "AdamW", "mixed precision (ZeRO)") == 80e9
    assert memory.total_bytes(n + 1, "AdamW", "mixed precision (ZeRO)") > 80e9


def test_largest_model_bad_arguments_name_the_argument():
    for bad in (-1.0, float("nan"), float("inf"), "80e9", None, True, [80e9]):
        with pytest.raises(ValueError, match="memory_bytes"):
            memory.largest_model(bad, "Adam")
    with pytest.raises(ValueError, match="optimizer must be one of"):
        memory.largest_model(80e9, "Lion")
    with pytest.raises(ValueError, match="precision_name"):
        memory.largest_model(80e9, "Adam", "float8")
    with pytest.raises(ValueError, match="gradients"):
        memory.largest_model(80e9, "Adam", "float32", gradients=1)
