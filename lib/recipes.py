"""Published training recipes as data: optimizer settings and learning-rate schedules, with sources.

Each :class:`Recipe` records what a paper or a released configuration states, and what had to be
derived (a step count from a token count, say) is marked as derived in ``notes``. Its
:meth:`Recipe.schedule` is a schedule from :mod:`lib.schedules`, so it can be plotted or passed as
``lr`` to an optimizer like any other::

    s = LLAMA2_7B.schedule()
    s(2_000)          # 3e-4, the peak, at the end of warmup

Sources are named by paper (with section or table) or by repository and file; no URLs.

Conventions: step counts follow :mod:`lib.schedules` (warmup from 0 at step 0; the decay ends at
``decay_steps``, counted from step 0 and including the warmup, like optax's ``decay_steps``). Where a
source counts differently, ``notes`` says how and by how much.

>>> LLAMA2_7B.schedule()(LLAMA2_7B.decay_steps) == LLAMA2_7B.min_lr
True
"""

from dataclasses import dataclass

from . import _checks, schedules


@dataclass(frozen=True)
class Recipe:
    """One published training setting.

    Attributes:
        name: the model and stage, e.g. "Llama 2 7B (pre-training)".
        stage: "pre-training" or "fine-tuning" (for VLAs, training on robot data from a VLM).
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

    def __post_init__(self):
        for name in ("name", "stage", "optimizer", "batch", "source", "notes"):
            if not isinstance(getattr(self, name), str):
                raise ValueError(f"{name} must be a string, got {_checks.shown(getattr(self, name))}")
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


LLAMA2_TOKENS = 2.0e12
"""Llama 2's pre-training tokens (Touvron et al. 2023, Table 1)."""

LLAMA_BATCH_TOKENS = 4e6
"""Tokens per step of Llama 1's pre-training ("4M", Touvron et al. 2023a, Table 2); Llama 2 says it
adopts most of Llama 1's pre-training setting (Touvron et al. 2023, section 2.2)."""

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
    batch="4M tokens (Llama 1's, adopted)",
    source="Touvron et al. (2023), Llama 2, section 2.2 and Table 1; batch from Llama 1 "
           "(Touvron et al. 2023a, arXiv:2302.13971, Table 2)",
    notes="Step count derived: 2.0T tokens / 4M tokens per step = 500,000 steps (476,837 if 4M "
          "means 2^22 tokens); the paper states tokens, not steps. The study note's 2,000,000 steps "
          "would be 8T tokens at this batch, four times the paper's.",
)

GPT3_BATCH_TOKENS = 0.5e6
"""GPT-3 Small's batch, 0.5M tokens (Brown et al. 2020, Table 2.1)."""

GPT3_125M = Recipe(
    name="GPT-3 Small 125M (pre-training)",
    stage="pre-training",
    optimizer="Adam (weight decay 0.1)",
    beta1=0.9, beta2=0.95, eps=1e-8, weight_decay=0.1,
    peak_lr=6e-4, warmup_steps=steps_for_tokens(375e6, GPT3_BATCH_TOKENS),
    decay="cosine", decay_steps=steps_for_tokens(260e9, GPT3_BATCH_TOKENS), min_lr=6e-5,
    train_steps=steps_for_tokens(300e9, GPT3_BATCH_TOKENS),
    batch="0.5M tokens",
    source="Brown et al. (2020), GPT-3, Table 2.1 and Appendix B",
    notes="The paper counts tokens: warmup over 375M, cosine to 10% over 260B, then 10% until "
          "300B. Steps derived at the full 0.5M-token batch (750, 520,000 and 600,000); the paper "
          "also ramps the batch up over the first 4-12B tokens, so early steps carry fewer tokens.",
)

BERT_BASE = Recipe(
    name="BERT (pre-training)",
    stage="pre-training",
    optimizer="Adam (decoupled weight decay 0.01)",
    beta1=0.9, beta2=0.999, eps=1e-6, weight_decay=0.01,
    peak_lr=1e-4, warmup_steps=10_000,
    decay="linear", decay_steps=1_000_000, min_lr=0.0, train_steps=1_000_000,
    batch="256 sequences of 512 tokens",
    source="Devlin et al. (2019), BERT, Appendix A.2; eps and the decay's form from "
           "google-research/bert, optimization.py",
    notes="The paper says 'L2 weight decay'; the released optimizer (AdamWeightDecayOptimizer) "
          "decays the weights outside Adam's moments, as AdamW does, and has no bias correction. "
          "Its linear decay runs from step 0 to 1M (not from the end of warmup), so from step "
          "10,000 on its lr is below the lib's by at most 1% of the peak.",
)

OPENVLA_7B = Recipe(
    name="OpenVLA 7B (training on robot data)",
    stage="fine-tuning",
    optimizer="AdamW",
    beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0,
    peak_lr=2e-5, warmup_steps=0,
    decay="constant", decay_steps=None, min_lr=2e-5, train_steps=None,
    batch="2,048 examples",
    source="Kim et al. (2024), OpenVLA; openvla repository, prismatic/conf/vla.py "
           "(learning_rate 2e-5, lr_scheduler_type 'constant', warmup_ratio 0, weight_decay 0)",
    notes="A constant rate with no warmup, starting from a pretrained VLM (Prismatic-7B). Betas "
          "and eps are PyTorch's AdamW defaults (the config sets none). The config gives epochs, "
          "not steps; the paper reports 27 epochs over its robot data mixture.",
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
           "(CosineDecaySchedule, AdamW) and training/config.py (num_train_steps 30,000)",
    notes="optax's warmup_cosine_decay_schedule: decay_steps = 30,000 includes the 1,000 warmup "
          "steps. openpi starts the warmup at peak_lr / 1001, not 0 (a difference below 2.5e-8). "
          "Gradients are clipped to global norm 1.0.",
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
)

RECIPES = (LLAMA2_7B, GPT3_125M, BERT_BASE, OPENVLA_7B, PI0_OPENPI, SEED_VLA_FINETUNE)
"""Every recipe here, pre-training first."""
