"""lib/recipes.py: each recipe's schedule against values worked by hand from its source."""

import math

import pytest

from lib import recipes
from lib.recipes import BERT_BASE, GPT3_125M, LLAMA2_7B, OPENVLA_7B, PI0_OPENPI, SEED_VLA_FINETUNE


def test_llama2_steps_from_tokens():
    # 2.0e12 tokens / 4e6 tokens per step = 500,000 steps; with 4M = 2^22 = 4,194,304 tokens,
    # 2e12 / 4,194,304 = 476,837.16 -> 476,837.
    assert LLAMA2_7B.train_steps == 500_000
    assert recipes.steps_for_tokens(2.0e12, 2**22) == 476_837
    # The seed's 2,000,000 steps at 4M tokens per step: 8e12 tokens, 4 times the paper's 2e12.
    assert recipes.SEED_LLAMA2_TOTAL_STEPS * recipes.LLAMA_BATCH_TOKENS == 4 * recipes.LLAMA2_TOKENS


def test_llama2_schedule():
    s = LLAMA2_7B.schedule()
    assert s(0) == 0.0
    assert s(1_000) == pytest.approx(1.5e-4, rel=1e-12)              # half-way up the warmup
    assert s(2_000) == pytest.approx(3e-4, rel=1e-12)                # the peak
    # Half-way through the cosine, t = 2,000 + 249,000 = 251,000: (3e-4 + 3e-5) / 2 = 1.65e-4.
    assert s(251_000) == pytest.approx(1.65e-4, rel=1e-12)
    assert s(500_000) == pytest.approx(3e-5, rel=1e-12)              # 10% of the peak
    assert (LLAMA2_7B.beta1, LLAMA2_7B.beta2, LLAMA2_7B.eps, LLAMA2_7B.weight_decay) == (0.9, 0.95, 1e-5, 0.1)


def test_gpt3_small_in_steps():
    # 375e6 / 0.5e6 = 750 warmup steps; 260e9 / 0.5e6 = 520,000; 300e9 / 0.5e6 = 600,000.
    assert (GPT3_125M.warmup_steps, GPT3_125M.decay_steps, GPT3_125M.train_steps) == (750, 520_000, 600_000)
    s = GPT3_125M.schedule()
    assert s(750) == pytest.approx(6e-4, rel=1e-12)
    assert s(520_000) == pytest.approx(6e-5, rel=1e-12)
    assert s(600_000) == pytest.approx(6e-5, rel=1e-12)              # "continues at 10%"


def test_bert_linear_warmup_and_decay():
    s = BERT_BASE.schedule()
    assert s(5_000) == pytest.approx(5e-5, rel=1e-12)
    assert s(10_000) == pytest.approx(1e-4, rel=1e-12)
    # Half-way down: 10,000 + 990,000 / 2 = 505,000 -> 5e-5.
    assert s(505_000) == pytest.approx(5e-5, rel=1e-12)
    assert s(1_000_000) == 0.0
    # BERT's own code decays from step 0: at 10,000 it gives 1e-4 (1 - 10,000/1e6) = 0.99e-4,
    # 1% of the peak below the lib.
    bert_code_at_warmup_end = 1e-4 * (1 - 10_000 / 1_000_000)
    assert s(10_000) - bert_code_at_warmup_end == pytest.approx(0.01 * 1e-4, rel=1e-9)


def test_openvla_is_constant():
    s = OPENVLA_7B.schedule()
    assert s(0) == s(1) == s(10**6) == 2e-5
    assert OPENVLA_7B.warmup_steps == 0 and OPENVLA_7B.weight_decay == 0.0


def test_openpi_cosine_includes_warmup_in_decay_steps():
    s = PI0_OPENPI.schedule()
    assert s(1_000) == pytest.approx(2.5e-5, rel=1e-12)
    # optax: the cosine runs from step 1,000 to 30,000 (29,000 steps); half-way at 15,500:
    # 2.5e-6 + 0.5 (2.5e-5 - 2.5e-6) = 1.375e-5.
    assert s(15_500) == pytest.approx(1.375e-5, rel=1e-12)
    assert s(30_000) == pytest.approx(2.5e-6, rel=1e-12)
    # openpi starts warmup at peak / 1001 = 2.4975e-8 instead of 0.
    assert PI0_OPENPI.peak_lr / 1001 < 2.5e-8


def test_seed_vla_finetune():
    s = SEED_VLA_FINETUNE.schedule()
    assert s(500) == pytest.approx(2e-5, rel=1e-12)
    # Half-way through the cosine, 500 + 49,500 / 2 = 25,250: 1e-5.
    assert s(25_250) == pytest.approx(1e-5, rel=1e-12)
    assert s(50_000) == 0.0
    # A quarter of the way: 0.5 (1 + cos(pi/4)) 2e-5 = 1.7071e-5.
    assert s(500 + 49_500 / 4) == pytest.approx(1e-5 * (1 + math.cos(math.pi / 4)), rel=1e-12)


def test_every_recipe_has_a_source_and_a_horizon_or_is_constant():
    for recipe in recipes.RECIPES:
        assert recipe.source
        assert recipe.horizon or recipe.decay == "constant"
        assert recipe.schedule()(0) in (0.0, recipe.peak_lr)


def test_bad_recipe_is_refused():
    with pytest.raises(ValueError, match="decay must be"):
        recipes.Recipe("x", "pre-training", "AdamW", 0.9, 0.95, 1e-8, 0.1, 1e-4, 0, "step", 10, 0.0,
                       10, "", "")
    with pytest.raises(ValueError, match="needs decay_steps"):
        recipes.Recipe("x", "pre-training", "AdamW", 0.9, 0.95, 1e-8, 0.1, 1e-4, 0, "cosine", None, 0.0,
                       10, "", "")
    with pytest.raises(ValueError, match="tokens_per_step"):
        recipes.steps_for_tokens(1e9, 0)
