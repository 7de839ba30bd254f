"""Published training recipes as data: optimizer settings and learning-rate schedules, with sources.

Each :class:`Recipe` records what a paper or a released configuration states, and what had to be
derived (a step count from a token count, say) is marked as derived in ``notes``. Its
:meth:`Recipe.schedule` is a schedule from :mod:`lib.schedules`, so it can be plotted or passed as
``lr`` to an optimizer like any other::

    s = LLAMA2_7B.schedule()
    s(2_000)          # 3e-4, the peak, at the end of warmup

Sources are named by paper (with section or table) or by repository and file; no URLs. A value
the source does not state is still a number here (the lib needs one to draw the schedule), and
its field is listed in ``not_stated``, so a table can mark it as an assumption.

Conventions: step counts follow :mod:`lib.schedules` (warmup from 0 at step 0; the decay ends at
``decay_steps``, counted from step 0 and including the warmup, like optax's ``decay_steps``). Where a
source counts differently, ``notes`` says how and by how much.

>>> LLAMA2_7B.schedule()(LLAMA2_7B.decay_steps) == LLAMA2_7B.min_lr
True
"""

import math
from dataclasses import dataclass

from . import _checks, schedules

STAGES = ("pre-training", "VLM training", "VLA training", "fine-tuning")
"""The stages a recipe can belong to, from random weights to the narrowest task."""


@dataclass(frozen=True)
class Recipe:
    """One published training setting.

    Attributes:
        name: the model and stage, e.g. "Llama 2 7B (pre-training)".
        stage: one of :data:`STAGES`: "pre-training" (from random weights), "VLM training" (a
            vision-language model from a pretrained LLM), "VLA training" (a VLA from a VLM, on
            robot data, all weights trained) or "fine-tuning" (a trained model on a narrower task).
        optimizer: the optimizer's name as the source gives it.
        beta1, beta2, eps, weight_decay: its hyperparameters.
        peak_lr: the largest learning rate.
        warmup_steps: steps of linear warmup from 0 to ``peak_lr`` (0: none).
        decay: "cosine", "linear" or "constant".
        decay_steps: the step at which the decay reaches ``min_lr`` (``None`` for "constant").
        min_lr: the learning rate after the decay.
        train_steps: how long training runs (``None`` if the source gives no step count).
        batch: the batch per step, as the source states it.
        source: where the numbers come from.
        notes: what was derived, and where the source's convention differs from the lib's.
        grad_clip: the global-norm clipping threshold; 0 if the source clips nothing, None if it
            does not say.
        decayed: which parameters the weight decay applies to, as the source sets it.
        not_stated: the fields whose values the source does not state (the value here is an
            assumption, explained in ``notes``).
    """

    name: str
    stage: str
    optimizer: str
    beta1: float
    beta2: float
    eps: float
    weight_decay: float
    peak_lr: float
    warmup_steps: int
    decay: str
    decay_steps: object
    min_lr: float
    train_steps: object
    batch: str
    source: str
    notes: str = ""
    grad_clip: object = None
    decayed: str = "not stated"
    not_stated: tuple = ()

    def __post_init__(self):
        for name in ("name", "stage", "optimizer", "batch", "source", "notes"):
            if not isinstance(getattr(self, name), str):
                raise ValueError(f"{name} must be a string, got {_checks.shown(getattr(self, name))}")
        if self.stage not in STAGES:
            raise ValueError(f"stage must be one of {STAGES}, got {self.stage!r}")
        for name in ("beta1", "beta2"):
            _checks.scalar(name, getattr(self, name), 0.0, 1.0)
        for name in ("eps", "weight_decay", "peak_lr"):
            _checks.scalar(name, getattr(self, name), 0.0)
        _checks.scalar("min_lr", self.min_lr, 0.0, self.peak_lr, high_open=False)
        _checks.count("warmup_steps", self.warmup_steps)
        for name in ("decay_steps", "train_steps"):
            if getattr(self, name) is not None:
                _checks.count(name, getattr(self, name), minimum=1)
        if not isinstance(self.decay, str) or self.decay not in ("cosine", "linear", "constant"):
            raise ValueError(f"decay must be 'cosine', 'linear' or 'constant', got {self.decay!r}")
        if self.decay != "constant" and self.decay_steps is None:
            raise ValueError(f"{self.name}: a {self.decay} decay needs decay_steps")

    def schedule(self):
        """This recipe's learning rate as a :mod:`lib.schedules` schedule."""
        if self.decay == "cosine":
            return schedules.warmup_cosine(self.peak_lr, self.warmup_steps, self.decay_steps, self.min_lr)
        if self.decay == "linear":
            return schedules.warmup_linear(self.peak_lr, self.warmup_steps, self.decay_steps, self.min_lr)
        if self.warmup_steps:
            return schedules.linear_warmup(self.peak_lr, self.warmup_steps)
        return schedules.constant(self.peak_lr)

    @property
    def horizon(self):
        """The last step worth plotting: ``train_steps``, else ``decay_steps``, else None."""
        return self.train_steps or self.decay_steps


def steps_for_tokens(tokens, tokens_per_step):
    """How many optimizer steps ``tokens`` take at ``tokens_per_step`` (rounded to a whole step).

    >>> steps_for_tokens(2.0e12, 4e6)        # Llama 2: 2.0T tokens at 4M tokens per step
    500000
    """
    tokens = _checks.scalar("tokens", tokens, 0.0, 1e30, high_open=False)
    tokens_per_step = _checks.scalar("tokens_per_step", tokens_per_step, 0.0, 1e30, low_open=True,
                                     high_open=False)
    steps = tokens / tokens_per_step
    if not steps <= _checks.MAX_COUNT:
        raise ValueError(f"tokens / tokens_per_step must be at most 2**53 steps, got {steps:.3g}")
    return int(round(steps))


def steps_with_batch_ramp(tokens, start_batch, full_batch, ramp_tokens, linear_in="tokens"):
    """How many optimizer steps the first ``tokens`` take when the batch (in tokens) grows linearly
    from ``start_batch`` to ``full_batch`` over the first ``ramp_tokens`` tokens, then stays.

    GPT-3 grows its batch "linearly" (Brown et al. 2020, Appendix B) without saying against what.
    ``linear_in="tokens"``: with the tokens seen, b = b0 + (B - b0) tau / R, so the steps are the
    integral of d tau / b = R / (B - b0) ln(b / b0). ``linear_in="steps"``: with the step count, over
    the N = 2 R / (b0 + B) steps that carry R tokens. Returns a float (not rounded).

    >>> steps_with_batch_ramp(4.0, 1.0, 3.0, 4.0, linear_in="steps")   # N = 2*4/(1+3) = 2 steps
    2.0
    >>> round(steps_with_batch_ramp(4.0, 1.0, 3.0, 4.0), 4)            # 4/2 ln 3
    2.1972
    """
    tokens = _checks.scalar("tokens", tokens, 0.0, 1e30, high_open=False)
    start_batch = _checks.scalar("start_batch", start_batch, 0.0, 1e30, low_open=True, high_open=False)
    full_batch = _checks.scalar("full_batch", full_batch, 0.0, 1e30, low_open=True, high_open=False)
    ramp_tokens = _checks.scalar("ramp_tokens", ramp_tokens, 0.0, 1e30, low_open=True, high_open=False)
    if not start_batch <= full_batch:
        raise ValueError(f"full_batch must be >= start_batch ({start_batch!r}), got {full_batch!r}")
    if not isinstance(linear_in, str) or linear_in not in ("tokens", "steps"):
        raise ValueError(f"linear_in must be 'tokens' or 'steps', got {linear_in!r}")
    b0, B, R = float(start_batch), float(full_batch), float(ramp_tokens)
    ramped = min(float(tokens), R)
    if b0 == B:
        steps = ramped / b0
    elif linear_in == "tokens":
        steps = R / (B - b0) * math.log((b0 + (B - b0) * ramped / R) / b0)
    else:
        a = (B - b0) / (2 * (2 * R / (b0 + B)))                # tokens(n) = b0 n + a n^2
        steps = (-b0 + math.sqrt(b0 * b0 + 4 * a * ramped)) / (2 * a)
    return steps + max(float(tokens) - R, 0.0) / B


LLAMA2_TOKENS = 2.0e12
"""Llama 2's pre-training tokens (Touvron et al. 2023, Table 1)."""

LLAMA_BATCH_TOKENS = 4e6
"""Tokens per step of Llama 2's pre-training: "All models are trained with a global batch-size of
4M tokens" (Touvron et al. 2023, Table 1's caption; Llama 1 used the same, Touvron et al. 2023a)."""

SEED_LLAMA2_TOTAL_STEPS = 2_000_000
"""The study note's (the seed's) "Total: 2,000,000 steps" for Llama 2 (no source given)."""

LLAMA2_7B = Recipe(
    name="Llama 2 7B (pre-training)",
    stage="pre-training",
    optimizer="AdamW",
    beta1=0.9, beta2=0.95, eps=1e-5, weight_decay=0.1,
    peak_lr=3e-4, warmup_steps=2_000,
    decay="cosine", decay_steps=steps_for_tokens(LLAMA2_TOKENS, LLAMA_BATCH_TOKENS), min_lr=3e-5,
    train_steps=steps_for_tokens(LLAMA2_TOKENS, LLAMA_BATCH_TOKENS),
    batch="4M tokens",
    source="Touvron et al. (2023), Llama 2, section 2.2 and Table 1 (its caption states the 4M-token "
           "batch)",
    notes="Step count derived: 2.0T tokens / 4M tokens per step = 500,000 steps (476,837 if 4M "
          "means 2^22 tokens); the paper states tokens, not steps. The study note's 2,000,000 steps "
          "would be 8T tokens at this batch, four times the paper's. The paper does not say which "
          "parameters are decayed.",
    grad_clip=1.0,
)

LLAMA2_CHAT_SFT_ANNOTATIONS = 27_540
"""Llama-2-Chat's supervised fine-tuning set: 27,540 annotations (Touvron et al. 2023, section 3.1)."""

LLAMA2_CHAT_SFT = Recipe(
    name="Llama-2-Chat (supervised fine-tuning)",
    stage="fine-tuning",
    optimizer="AdamW",
    beta1=0.9, beta2=0.95, eps=1e-5, weight_decay=0.1,
    peak_lr=2e-5, warmup_steps=0,
    decay="cosine", decay_steps=round(2 * LLAMA2_CHAT_SFT_ANNOTATIONS / 64), min_lr=0.0,
    train_steps=round(2 * LLAMA2_CHAT_SFT_ANNOTATIONS / 64),
    batch="64 sequences of 4,096 tokens",
    source="Touvron et al. (2023), Llama 2, section 3.1 (cosine schedule, initial learning rate "
           "2e-5, weight decay 0.1, batch 64, sequence length 4,096, 2 epochs)",
    notes="The same model as the pre-training row, fine-tuned: 15 times lower peak. The paper states "
          "no warmup, floor, betas, eps or clipping for this stage: the betas and eps here are "
          "pre-training's, warmup 0 and floor 0 are placeholders. Steps derived as an upper bound, "
          "2 epochs x 27,540 annotations / 64 = 861; the paper packs prompts and answers into "
          "4,096-token sequences, so the real count is likely lower.",
    not_stated=("beta1", "beta2", "eps", "warmup_steps", "min_lr", "decay_steps", "train_steps",
                "grad_clip"),
)

GPT3_BATCH_TOKENS = 0.5e6
"""GPT-3 Small's batch, 0.5M tokens (Brown et al. 2020, Table 2.1)."""

GPT3_RAMP = dict(start_batch=32e3, full_batch=GPT3_BATCH_TOKENS, ramp_tokens=(4e9, 12e9))
"""GPT-3's batch ramp: "from a small value (32k tokens) to the full value over the first 4-12
billion tokens of training, depending on the model size" (Brown et al. 2020, Appendix B)."""


def gpt3_steps_range(tokens):
    """(fewest, most) steps the first ``tokens`` of GPT-3 Small take with its batch ramp, over
    every reading the paper leaves open: a ramp of 4B or 12B tokens, linear in tokens or in steps.

    >>> low, high = gpt3_steps_range(375e6)          # the warmup: thousands of steps, not 750
    >>> round(low), round(high)
    (3987, 9651)
    """
    counts = [steps_with_batch_ramp(tokens, GPT3_RAMP["start_batch"], GPT3_RAMP["full_batch"], ramp,
                                    linear_in)
              for ramp in GPT3_RAMP["ramp_tokens"] for linear_in in ("tokens", "steps")]
    return min(counts), max(counts)


GPT3_125M = Recipe(
    name="GPT-3 Small 125M (pre-training)",
    stage="pre-training",
    optimizer="Adam (weight decay 0.1)",
    beta1=0.9, beta2=0.95, eps=1e-8, weight_decay=0.1,
    peak_lr=6e-4, warmup_steps=steps_for_tokens(375e6, GPT3_BATCH_TOKENS),
    decay="cosine", decay_steps=steps_for_tokens(260e9, GPT3_BATCH_TOKENS), min_lr=6e-5,
    train_steps=steps_for_tokens(300e9, GPT3_BATCH_TOKENS),
    batch="0.5M tokens (after a ramp from 32k)",
    source="Brown et al. (2020), GPT-3, Table 2.1 and Appendix B",
    notes="The paper counts tokens: warmup over 375M, cosine to 10% over 260B, then 10% until "
          "300B. The steps here are at the full 0.5M-token batch (750, 520,000 and 600,000), which "
          "undercounts the warmup: the batch ramps up from 32k tokens over the first 4-12B tokens, "
          "so the 375M warmup tokens take about 4,000-9,700 steps (gpt3_steps_range), 0.7-1.5% of "
          "training, not 0.12%. The paper does not say which parameters are decayed.",
    grad_clip=1.0,
)

BERT_BASE = Recipe(
    name="BERT (pre-training)",
    stage="pre-training",
    optimizer="Adam (decoupled weight decay 0.01)",
    beta1=0.9, beta2=0.999, eps=1e-6, weight_decay=0.01,
    peak_lr=1e-4, warmup_steps=10_000,
    decay="linear", decay_steps=1_000_000, min_lr=0.0, train_steps=1_000_000,
    batch="256 sequences of 512 tokens",
    source="Devlin et al. (2019), BERT, Appendix A.2; eps, clipping, the decayed parameters and the "
           "decay's form from google-research/bert, optimization.py",
    notes="The paper says 'L2 weight decay'; the released optimizer (AdamWeightDecayOptimizer) "
          "decays the weights outside Adam's moments, as AdamW does, and has no bias correction. "
          "Its linear decay runs from step 0 to 1M (not from the end of warmup), so from step "
          "10,000 on its lr is below the lib's by at most 1% of the peak.",
    grad_clip=1.0,
    decayed="all but LayerNorm parameters and biases",
)

PRISMATIC_7B = Recipe(
    name="Prismatic 7B VLM (OpenVLA's base)",
    stage="VLM training",
    optimizer="AdamW",
    beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.1,
    peak_lr=2e-5, warmup_steps=round(0.03 * 19_234),
    decay="cosine", decay_steps=19_234, min_lr=0.0, train_steps=19_234,
    batch="128 examples",
    source="Karamcheti et al. (2024), Prismatic VLMs; openvla repository, prismatic/conf/models.py "
           "(Prism_7B_DINOSigLIP_224px, finetune_* settings of LLaVa_v15_Reproduction_7B) and "
           "prismatic/training/strategies/fsdp.py",
    notes="Vision encoders plus Llama 2 7B, trained on image-text data in one stage: peak 2e-5, "
          "warmup 3% of the steps, cosine to 0 (Hugging Face's schedule), 2 epochs, global batch "
          "128, clipping at 1.0. Betas and eps are PyTorch's AdamW defaults (the code sets none). "
          "The config fixes epochs, not steps: 19,234 steps assume the 1,231k-example "
          "llava-lvis4v-lrv mix (2 x 1,231,000 / 128); only the 3% share is stated.",
    grad_clip=1.0,
    decayed="matrices only: biases and parameters with fewer than 2 dimensions are not decayed",
    not_stated=("beta1", "beta2", "eps", "warmup_steps", "decay_steps", "train_steps"),
)

OPENVLA_7B = Recipe(
    name="OpenVLA 7B (training on robot data)",
    stage="VLA training",
    optimizer="AdamW",
    beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0,
    peak_lr=2e-5, warmup_steps=0,
    decay="constant", decay_steps=None, min_lr=2e-5, train_steps=None,
    batch="2,048 examples",
    source="Kim et al. (2024), OpenVLA; openvla repository, prismatic/conf/vla.py "
           "(learning_rate 2e-5, lr_scheduler_type 'constant', warmup_ratio 0, weight_decay 0, "
           "max_grad_norm 1.0, global_batch_size 2048)",
    notes="Every weight of the Prismatic VLM trained on 970k robot episodes: a training run of its "
          "own, not a fine-tune, at the same peak as the VLM's training (2e-5), constant, with no "
          "warmup and no weight decay. Betas and eps are PyTorch's AdamW defaults (the config sets "
          "none). The config gives epochs, not steps; the paper reports 27 epochs.",
    grad_clip=1.0,
    decayed="none (weight decay 0)",
    not_stated=("beta1", "beta2", "eps"),
)

OPENVLA_LORA = Recipe(
    name="OpenVLA 7B (LoRA fine-tuning)",
    stage="fine-tuning",
    optimizer="AdamW (PyTorch defaults)",
    beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.01,
    peak_lr=5e-4, warmup_steps=0,
    decay="constant", decay_steps=None, min_lr=5e-4, train_steps=None,
    batch="16 examples",
    source="openvla repository, vla-scripts/finetune.py (learning_rate 5e-4, batch_size 16, "
           "lora_rank 32, AdamW(trainable_params, lr=learning_rate), a constant rate)",
    notes="Fine-tuning OpenVLA on a new robot task trains only LoRA adapters (rank 32) added to "
          "the frozen model, at 25 times OpenVLA's own rate: the adapters start at zero and are "
          "not the pretrained weights, so their rate is not the same knob. Weight decay 0.01, betas "
          "and eps are torch.optim.AdamW's defaults (the script passes only lr); the script clips "
          "no gradients. max_steps (200,000) is a cap, not a schedule.",
    grad_clip=0.0,
    decayed="every LoRA parameter (PyTorch's default 0.01; the base model is frozen)",
    not_stated=("beta1", "beta2", "eps", "weight_decay"),
)

PI0_OPENPI = Recipe(
    name="π0 / openpi (fine-tuning default)",
    stage="fine-tuning",
    optimizer="AdamW",
    beta1=0.9, beta2=0.95, eps=1e-8, weight_decay=1e-10,
    peak_lr=2.5e-5, warmup_steps=1_000,
    decay="cosine", decay_steps=30_000, min_lr=2.5e-6, train_steps=30_000,
    batch="32 examples (TrainConfig default)",
    source="Black et al. (2024), π0; openpi repository, src/openpi/training/optimizer.py "
           "(CosineDecaySchedule, AdamW) and training/config.py (num_train_steps 30,000, "
           "batch_size 32)",
    notes="optax's warmup_cosine_decay_schedule: decay_steps = 30,000 includes the 1,000 warmup "
          "steps. openpi starts the warmup at peak_lr / 1001, not 0 (a difference below 2.5e-8). "
          "Weight decay 1e-10 is zero in effect; the code says 0 'can cause out-of-memory errors', "
          "so it sets a negligible value.",
    grad_clip=1.0,
    decayed="every parameter (no mask), at 1e-10",
)

SEED_VLA_FINETUNE = Recipe(
    name="The study note's VLA fine-tuning example",
    stage="fine-tuning",
    optimizer="AdamW",
    beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.01,
    peak_lr=2e-5, warmup_steps=500,
    decay="cosine", decay_steps=50_000, min_lr=0.0, train_steps=50_000,
    batch="not stated",
    source="the study note, section 7 (its VLA fine-tuning example)",
    notes="Schedule from the study note; the optimizer values are its 'typical AdamW settings' "
          "(beta2 0.999 of its '0.95 or 0.999', weight decay 0.01 of its '0.01 to 0.1').",
    not_stated=("eps", "grad_clip"),
)

RECIPES = (LLAMA2_7B, GPT3_125M, BERT_BASE, PRISMATIC_7B, OPENVLA_7B, LLAMA2_CHAT_SFT, OPENVLA_LORA,
           PI0_OPENPI, SEED_VLA_FINETUNE)
"""Every recipe here, in the order of :data:`STAGES` (pre-training first)."""

SAME_MODEL = ((LLAMA2_7B, LLAMA2_CHAT_SFT), (PRISMATIC_7B, OPENVLA_7B), (OPENVLA_7B, OPENVLA_LORA))
"""Pairs (earlier stage, later stage) of the same model: the fair test of "fine-tuning uses a lower
peak". Llama 2 7B is also the language model inside Prismatic 7B."""
