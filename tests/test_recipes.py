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


def test_batch_ramp_steps_by_hand():
    # Batch linear in tokens from 1 to 3 over 4 tokens: steps = int_0^4 dtau / (1 + tau/2) = 2 ln 3.
    assert recipes.steps_with_batch_ramp(4.0, 1.0, 3.0, 4.0) == pytest.approx(2 * math.log(3), rel=1e-12)
    # Batch linear in steps: N = 2 * 4 / (1 + 3) = 2 steps carry the 4 ramp tokens (1 + 3).
    assert recipes.steps_with_batch_ramp(4.0, 1.0, 3.0, 4.0, linear_in="steps") == pytest.approx(2.0)
    # Step 1 carries 1 token and step 2 starts at batch 1 + (3 - 1) / 2 = 2: 1.5 tokens after one step
    # of tokens(n) = n + n^2 / 2.
    assert recipes.steps_with_batch_ramp(1.5, 1.0, 3.0, 4.0, linear_in="steps") == pytest.approx(1.0)
    # After the ramp, whole batches: 4 + 6 tokens = ramp + 2 full steps of 3.
    assert recipes.steps_with_batch_ramp(10.0, 1.0, 3.0, 4.0, linear_in="steps") == pytest.approx(4.0)
    assert recipes.steps_with_batch_ramp(1e6, 1e3, 1e3, 1e9) == pytest.approx(1000.0)   # no ramp
    with pytest.raises(ValueError, match="start_batch"):
        recipes.steps_with_batch_ramp(1.0, 2.0, 1.0, 1.0)
    with pytest.raises(ValueError, match="linear_in"):
        recipes.steps_with_batch_ramp(1.0, 1.0, 2.0, 1.0, linear_in="epochs")


def test_gpt3_warmup_with_its_batch_ramp_is_thousands_of_steps():
    # Linear in tokens over 4B: 4e9 / 468e3 * ln((32e3 + 468e3 * 375e6 / 4e9) / 32e3)
    #   = 8547.0 * ln(75,875 / 32,000) = 8547.0 * 0.86335 = 7,379 steps.
    b = 32e3 + 468e3 * 375e6 / 4e9
    assert recipes.steps_with_batch_ramp(375e6, 32e3, 0.5e6, 4e9) == pytest.approx(
        4e9 / 468e3 * math.log(b / 32e3), rel=1e-12)
    assert round(4e9 / 468e3 * math.log(b / 32e3)) == 7_379
    low, high = recipes.gpt3_steps_range(375e6)
    assert 3_900 < low < 4_000 and 9_600 < high < 9_700               # not the full-batch 750
    assert GPT3_125M.warmup_steps == 750                              # kept: the full-batch count


def test_same_model_pairs_and_stages():
    from lib.recipes import LLAMA2_CHAT_SFT, OPENVLA_LORA, PRISMATIC_7B
    assert LLAMA2_7B.peak_lr / LLAMA2_CHAT_SFT.peak_lr == pytest.approx(15)     # 3e-4 / 2e-5
    assert PRISMATIC_7B.peak_lr == OPENVLA_7B.peak_lr == 2e-5
    assert OPENVLA_LORA.peak_lr / OPENVLA_7B.peak_lr == pytest.approx(25)       # 5e-4 / 2e-5
    assert OPENVLA_7B.stage == "VLA training" and PRISMATIC_7B.stage == "VLM training"
    assert [r.stage for r in recipes.RECIPES] == sorted((r.stage for r in recipes.RECIPES),
                                                          key=recipes.STAGES.index)
    for earlier, later in recipes.SAME_MODEL:
        assert recipes.STAGES.index(earlier.stage) < recipes.STAGES.index(later.stage)
    # 2 epochs x 27,540 annotations / 64 per step = 860.6 -> 861 (an upper bound)
    assert LLAMA2_CHAT_SFT.train_steps == 861 and "train_steps" in LLAMA2_CHAT_SFT.not_stated
    # Prismatic: 3% of 19,234 steps = 577.02 -> 577
    assert PRISMATIC_7B.warmup_steps == 577


def test_weight_decay_clipping_and_batches_as_the_sources_state_them():
    from lib.recipes import LLAMA2_CHAT_SFT, OPENVLA_LORA, PRISMATIC_7B
    assert OPENVLA_7B.weight_decay == 0.0 and PI0_OPENPI.weight_decay == 1e-10
    assert OPENVLA_LORA.weight_decay == 0.01 and "weight_decay" in OPENVLA_LORA.not_stated
    assert PRISMATIC_7B.weight_decay == LLAMA2_CHAT_SFT.weight_decay == LLAMA2_7B.weight_decay == 0.1
    assert OPENVLA_LORA.grad_clip == 0.0 and SEED_VLA_FINETUNE.grad_clip is None
    for r in (LLAMA2_7B, GPT3_125M, BERT_BASE, PRISMATIC_7B, OPENVLA_7B, PI0_OPENPI):
        assert r.grad_clip == 1.0
    assert LLAMA2_7B.batch.startswith("4M tokens") and recipes.LLAMA_BATCH_TOKENS == 4e6
    for r in recipes.RECIPES:
        assert set(r.not_stated) <= set(recipes.Recipe.__dataclass_fields__), r.name


def test_unknown_stage_is_refused():
    with pytest.raises(ValueError, match="stage must be one of"):
        recipes.Recipe("x", "pretraining", "AdamW", 0.9, 0.95, 1e-8, 0.1, 1e-4, 0, "constant", None,
                       1e-4, None, "", "")
