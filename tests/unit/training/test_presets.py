"""The authors' recipes: each preset's values, a plain spec's defaults by kind and generation (no torch)."""

from __future__ import annotations

import pytest

from runtime.training.launcher import JobSpec
from runtime.training.presets import PRESETS, generation_of, resolve, total_steps, warmup_steps

# The values of ymcui/Chinese-LLaMA-Alpaca(-2) scripts/training/run_pt.sh and run_sft.sh, written out here.
SCRIPTS = {
    ("pretrain", 1): {"learning_rate": 2e-4, "warmup_ratio": 0.05, "weight_decay": 0.01, "lora_rank": 8,
                      "lora_alpha": 32, "block_size": 512, "train_embeddings": "yes"},
    ("sft", 1): {"learning_rate": 1e-4, "warmup_ratio": 0.03, "weight_decay": 0.0, "lora_rank": 8,
                 "lora_alpha": 32, "block_size": 512, "train_embeddings": "yes"},
    ("pretrain", 2): {"learning_rate": 2e-4, "warmup_ratio": 0.05, "weight_decay": 0.01, "lora_rank": 64,
                      "lora_alpha": 128, "block_size": 512, "train_embeddings": "auto"},
    ("sft", 2): {"learning_rate": 1e-4, "warmup_ratio": 0.03, "weight_decay": 0.0, "lora_rank": 64,
                 "lora_alpha": 128, "block_size": 1024, "train_embeddings": "yes"},
}  # fmt: skip


def _values(spec: JobSpec, names: list[str]) -> dict[str, object]:
    return {name: getattr(spec, name) for name in names}


def test_the_generation_is_read_from_the_tokenizer() -> None:
    assert [generation_of(n) for n in (49_953, 49_954, 55_296, 32_000)] == [1, 1, 2, 1]


@pytest.mark.parametrize(("kind", "size", "generation"), [("pretrain", 49_953, 1), ("sft", 49_953, 1),
                                                          ("pretrain", 55_296, 2), ("sft", 55_296, 2)])  # fmt: skip
def test_a_plain_spec_trains_with_its_kinds_and_generations_recipe(kind: str, size: int, generation: int) -> None:
    spec = JobSpec(kind=kind, model="/m", dataset="/d")  # type: ignore[arg-type]
    resolved = resolve(spec, size)
    expected = SCRIPTS[(kind, generation)]
    assert resolved.generation == generation
    assert _values(resolved, list(expected)) == expected
    assert resolved.gradient_checkpointing is True  # on by default, a switch
    assert (resolved.lr_scheduler, resolved.epochs, resolved.lora_dropout) == ("cosine", 1.0, 0.05)


def test_an_sft_spec_without_a_learning_rate_trains_at_1e_4_and_given_values_are_kept() -> None:
    spec = JobSpec(kind="sft", model="/m", dataset="/d")
    assert resolve(spec, 49_953).learning_rate == 1e-4
    mine = resolve(spec.replace(learning_rate=3e-4, gradient_checkpointing=False), 49_953)
    assert (mine.learning_rate, mine.gradient_checkpointing, mine.warmup_ratio) == (3e-4, False, 0.03)
    # The generation can be overridden: a 49,953 tokenizer trained with generation 2's recipe.
    assert resolve(spec.replace(generation=2), 49_953).lora_rank == 64


@pytest.mark.parametrize(
    ("name", "kind", "generation"),
    [("llama-pretrain", "pretrain", 1), ("alpaca-sft", "sft", 1), ("llama-2-pretrain", "pretrain", 2),
     ("alpaca-2-sft", "sft", 2), ("llama-pretrain-stage1", "pretrain", 1)],
)  # fmt: skip
def test_each_scripts_preset_holds_the_scripts_values(name: str, kind: str, generation: int) -> None:
    fields = PRESETS[name].fields
    assert (fields["kind"], fields["generation"]) == (kind, generation)
    assert {key: fields[key] for key in SCRIPTS[(kind, generation)]} == SCRIPTS[(kind, generation)]
    assert (fields["batch_size"], fields["grad_accum"], fields["gradient_checkpointing"]) == (1, 8, True)
    spec = JobSpec.from_dict({**fields, "model": "/m", "dataset": "/d"})
    assert resolve(spec, 32_000) == spec.replace(generation=generation)  # nothing left to fill
    assert PRESETS["llama-pretrain-stage1"].fields["stage"] == "embeddings"


def test_the_tiny_test_preset_is_a_valid_spec_on_the_cpu() -> None:
    spec = JobSpec.from_dict({**PRESETS["tiny-test"].fields, "model": "/m", "dataset": "/d"})
    assert spec.tiny_test and spec.precision == "fp32" and spec.gradient_checkpointing is False


def test_steps_and_warm_up_are_counted_as_the_trainer_counts_them() -> None:
    spec = resolve(JobSpec(kind="sft", model="/m", dataset="/d", batch_size=2, grad_accum=4), 49_953)
    assert total_steps(spec, 100) == 13  # 50 batches: 12 full accumulations and one part
    assert total_steps(spec.replace(max_steps=40), 100) == 40
    assert warmup_steps(1000, 0.03) == 30 and warmup_steps(40, 0.05) == 2 and warmup_steps(7, 0.03) == 1
