"""The paper's recipes as presets: starting values for a :class:`~runtime.training.launcher.JobSpec`.

All share the recipe of sections 4.3-4.5: LoRA on q, k, v, o, gate, up and down (rank 8, alpha 32,
dropout 0.05), AdamW at 2e-4 with 5 % warm-up and cosine decay, gradient clipping at 1.0, one epoch,
512-token blocks. ``tiny-test`` is for trying the tab without a GPU (CPU allowed, a tiny model only).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Preset:
    """A named set of spec fields (``kind`` included)."""

    name: str
    label: str
    fields: dict[str, Any] = field(default_factory=dict)


PRESETS: dict[str, Preset] = {
    preset.name: preset
    for preset in (
        Preset(
            "pretrain",
            "Pre-training with LoRA (Chinese-LLaMA, sections 4.3-4.4)",
            {"kind": "pretrain", "block_size": 512, "batch_size": 1, "grad_accum": 8, "save_steps": 500},
        ),
        Preset(
            "pretrain-stage1",
            "Pre-training stage 1 of 2: embeddings only (7B)",
            {"kind": "pretrain", "stage": "embeddings", "block_size": 512, "batch_size": 1, "grad_accum": 8},
        ),
        Preset(
            "sft",
            "Instruction fine-tuning with LoRA (Chinese-Alpaca, section 4.5)",
            {"kind": "sft", "block_size": 512, "batch_size": 1, "grad_accum": 8, "save_steps": 500},
        ),
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
                "lora_rank": 4,
                "lora_alpha": 8,
                "precision": "fp32",
                "save_steps": 50,
            },
        ),
    )
}
