"""The authors' recipes: each generation's and kind's values, the presets, and filling a spec from them.

Every value below is the one the authors' own scripts pass, named with the file beside it:

* generation 1, Chinese-LLaMA / Chinese-Alpaca: ``ymcui/Chinese-LLaMA-Alpaca``
  ``scripts/training/run_pt.sh`` and ``run_sft.sh``;
* generation 2, Chinese-LLaMA-2 / Chinese-Alpaca-2: ``ymcui/Chinese-LLaMA-Alpaca-2``, the same files.

What both share and :class:`~runtime.training.spec.JobSpec` has as plain defaults: LoRA on q, k, v,
o, gate, up and down (``lora_trainable``), dropout 0.05, cosine decay (``--lr_scheduler_type
cosine``), one epoch (``--num_train_epochs 1``), gradient clipping at 1.0 (the Trainer's default;
the scripts do not set it). What differs by kind and generation is :data:`RECIPES`; a spec field
left ``None`` takes its value there (:func:`resolve`). The batch layout (``per_device_train_batch_size
1``, ``gradient_accumulation_steps 8``) is in the presets only: it depends on the GPUs, and a spec
says its own.

The generation is read from the tokenizer (:func:`generation_of`): Chinese-LLaMA's 49,953 pieces
(49,954 with Alpaca's pad token) are generation 1, Chinese-LLaMA-2's 55,296 generation 2; a spec's
``generation`` overrides it.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

from runtime.training.spec import RECIPE_FIELDS, JobSpec

#: Tokenizer sizes of generation 1 (Chinese-LLaMA; Chinese-Alpaca with its ``[PAD]``) and generation 2.
GENERATION_1_SIZES = (49_953, 49_954)
GENERATION_2_SIZE = 55_296

RecipeKey = tuple[str, int]

#: The recipe fields by (kind, generation), from the authors' scripts.
RECIPES: dict[RecipeKey, dict[str, Any]] = {
    ("pretrain", 1): {
        "learning_rate": 2e-4,  # Chinese-LLaMA-Alpaca run_pt.sh: lr=2e-4
        "warmup_ratio": 0.05,  # run_pt.sh: --warmup_ratio 0.05
        "weight_decay": 0.01,  # run_pt.sh: --weight_decay 0.01
        "lora_rank": 8,  # run_pt.sh: lora_rank=8
        "lora_alpha": 32,  # run_pt.sh: lora_alpha=32
        "block_size": 512,  # run_pt.sh: --block_size 512
        "train_embeddings": "yes",  # run_pt.sh: modules_to_save="embed_tokens,lm_head"
        "gradient_checkpointing": True,  # run_pt.sh: --gradient_checkpointing
        "validation_split_percentage": 0.001,  # run_pt.sh: --validation_split_percentage 0.001
        # run_pt.sh splits the blocks but passes no --do_eval; evaluated here as in run_sft.sh (100).
        "eval_steps": 100,
    },
    ("sft", 1): {
        "learning_rate": 1e-4,  # Chinese-LLaMA-Alpaca run_sft.sh: lr=1e-4
        "warmup_ratio": 0.03,  # run_sft.sh: --warmup_ratio 0.03
        "weight_decay": 0.0,  # run_sft.sh: --weight_decay 0
        "lora_rank": 8,  # run_sft.sh: lora_rank=8
        "lora_alpha": 32,  # run_sft.sh: lora_alpha=32
        "block_size": 512,  # run_sft.sh: --max_seq_length 512
        "train_embeddings": "yes",  # run_sft.sh: modules_to_save="embed_tokens,lm_head"
        "gradient_checkpointing": True,  # run_sft.sh: --gradient_checkpointing
        "validation_split_percentage": 0.001,  # run_sft.sh: --validation_split_percentage 0.001
        "eval_steps": 100,  # run_sft.sh: --evaluation_strategy steps --eval_steps 100
    },
    ("pretrain", 2): {
        "learning_rate": 2e-4,  # Chinese-LLaMA-Alpaca-2 run_pt.sh: lr=2e-4
        "warmup_ratio": 0.05,  # run_pt.sh: --warmup_ratio 0.05
        "weight_decay": 0.01,  # run_pt.sh: --weight_decay 0.01
        "lora_rank": 64,  # run_pt.sh: lora_rank=64
        "lora_alpha": 128,  # run_pt.sh: lora_alpha=128
        "block_size": 512,  # run_pt.sh: block_size=512
        # run_pt.sh passes no modules_to_save (Chinese-LLaMA-2's vocabulary is already 55,296 rows);
        # "auto" still trains them when the tokenizer is larger than the model.
        "train_embeddings": "auto",
        # Not in this run_pt.sh; on here as in the other three scripts (memory over speed; a switch).
        "gradient_checkpointing": True,
        "validation_split_percentage": 0.001,  # run_pt.sh: --validation_split_percentage 0.001
        # run_pt.sh splits the blocks but passes no --do_eval; evaluated here as in run_sft.sh (100).
        "eval_steps": 100,
    },
    ("sft", 2): {
        "learning_rate": 1e-4,  # Chinese-LLaMA-Alpaca-2 run_sft.sh: lr=1e-4
        "warmup_ratio": 0.03,  # run_sft.sh: --warmup_ratio 0.03
        "weight_decay": 0.0,  # run_sft.sh: --weight_decay 0
        "lora_rank": 64,  # run_sft.sh: lora_rank=64
        "lora_alpha": 128,  # run_sft.sh: lora_alpha=128
        "block_size": 1024,  # run_sft.sh: --max_seq_length 1024
        "train_embeddings": "yes",  # run_sft.sh: modules_to_save="embed_tokens,lm_head"
        "gradient_checkpointing": True,  # run_sft.sh: --gradient_checkpointing
        "validation_split_percentage": 0.001,  # run_sft.sh: --validation_split_percentage 0.001
        "eval_steps": 100,  # run_sft.sh: --evaluation_strategy steps --eval_steps 100
    },
}

#: What the scripts pass for the batch (both generations, both kinds): one sequence per GPU, 8 accumulated
#: (run_pt.sh / run_sft.sh: per_device_train_batch_size=1, gradient_accumulation_steps=8).
SCRIPT_BATCH = {"batch_size": 1, "grad_accum": 8}
#: Checkpoints: run_pt.sh / run_sft.sh: --save_steps 200 --save_total_limit 3.
SCRIPT_SAVES = {"save_steps": 200, "save_total_limit": 3}


def generation_of(tokenizer_size: int) -> int:
    """The generation a tokenizer of this many pieces belongs to.

    55,296 is generation 2; every other size (49,953 and 49,954, and LLaMA's own 32,000) takes
    generation 1's recipe, the paper's.
    """
    return 2 if tokenizer_size == GENERATION_2_SIZE else 1


def recipe(kind: str, generation: int) -> dict[str, Any]:
    """The recipe fields of ``kind`` (``pretrain``/``sft``) and ``generation`` (1 or 2)."""
    return dict(RECIPES[(kind, generation if generation in (1, 2) else 1)])


def resolve(spec: JobSpec, tokenizer_size: int) -> JobSpec:
    """``spec`` with its generation and every recipe field filled in (what the run trains with).

    Args:
        spec: The spec as written; its ``None`` fields take the recipe's values.
        tokenizer_size: The tokenizer's pieces (with ``added_tokens.json``), before a pad is added.
    """
    generation = spec.generation or generation_of(tokenizer_size)
    values = recipe(spec.kind, generation)
    filled = {name: values[name] for name in RECIPE_FIELDS if getattr(spec, name) is None}
    return dataclasses.replace(spec, generation=generation, **filled)


def total_steps(spec: JobSpec, examples: int) -> int:
    """The optimizer updates a run of ``spec`` on ``examples`` sequences makes (as the Trainer counts them).

    ``max_steps`` when set; else the epochs times the updates of an epoch (the batches of every
    process, rounded up, over the accumulation, rounded up).
    """
    if spec.max_steps:
        return spec.max_steps
    batches = math.ceil(examples / (spec.batch_size * spec.processes))
    per_epoch = max(batches // spec.grad_accum + int(batches % spec.grad_accum > 0), 1)
    return math.ceil(spec.epochs * per_epoch)


def warmup_steps(total: int, warmup_ratio: float) -> int:
    """The warm-up of a run of ``total`` updates: the share rounded up (``TrainingArguments.get_warmup_steps``)."""
    return math.ceil(total * warmup_ratio)


def learning_rate_at(step: int, *, peak: float, total: int, warmup: int) -> float:
    """The learning rate after ``step`` updates under linear warm-up then cosine decay to zero
    (``transformers.get_cosine_schedule_with_warmup``, one half-cycle)."""
    if step < warmup:
        return peak * step / max(1, warmup)
    progress = (step - warmup) / max(1, total - warmup)
    return peak * max(0.0, 0.5 * (1.0 + math.cos(math.pi * progress)))


@dataclass(frozen=True)
class Preset:
    """A named set of spec fields (``kind`` included)."""

    name: str
    label: str
    fields: dict[str, Any] = field(default_factory=dict)


def _script_preset(name: str, label: str, kind: str, generation: int, **extra: Any) -> Preset:
    return Preset(
        name, label, {"kind": kind, "generation": generation, **recipe(kind, generation), **SCRIPT_BATCH, **extra}
    )


PRESETS: dict[str, Preset] = {
    preset.name: preset
    for preset in (
        _script_preset("llama-pretrain", "Chinese-LLaMA: pre-training with LoRA", "pretrain", 1, **SCRIPT_SAVES),
        _script_preset(
            "llama-pretrain-stage1",
            "Chinese-LLaMA 7B, stage 1 of 2: input embeddings only",
            "pretrain",
            1,
            # Paper section 4.3 (7B): stage 1 fixes the transformer and trains the embeddings only;
            # stage 2 is the LoRA preset above, continued from this adapter (init_adapter).
            stage="embeddings",
            **SCRIPT_SAVES,
        ),
        _script_preset("alpaca-sft", "Chinese-Alpaca: instruction fine-tuning with LoRA", "sft", 1, **SCRIPT_SAVES),
        _script_preset("llama-2-pretrain", "Chinese-LLaMA-2: pre-training with LoRA", "pretrain", 2, **SCRIPT_SAVES),
        _script_preset("alpaca-2-sft", "Chinese-Alpaca-2: instruction fine-tuning with LoRA", "sft", 2, **SCRIPT_SAVES),
        Preset(
            "tiny-test",
            "Tiny test on the CPU (a tiny model only)",
            {
                "kind": "pretrain",
                "tiny_test": True,
                "block_size": 64,
                "batch_size": 4,
                "grad_accum": 1,
                "max_steps": 200,
                "learning_rate": 5e-3,
                "warmup_ratio": 0.05,
                "weight_decay": 0.0,
                "lora_rank": 4,
                "lora_alpha": 8,
                "train_embeddings": "auto",
                "gradient_checkpointing": False,  # a tiny model on the CPU: speed over memory
                "validation_split_percentage": 0.01,  # a few of a small corpus's blocks
                "eval_steps": 50,
                "precision": "fp32",
                "save_steps": 50,
            },
        ),
    )
}
