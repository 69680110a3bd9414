"""Validation without torch: the held-out share by index, perplexity, the evaluation lines, the spec's
new fields, and the 8-/4-bit loading configuration and its refusals."""

from __future__ import annotations

import json
import math

import pytest

from runtime.training.evaluation import (
    MAX_PERPLEXITY_LOSS,
    Complement,
    held_out_count,
    held_out_indices,
    parse_evaluation,
    perplexity,
)
from runtime.training.launcher import JobSpec, SpecError
from runtime.training.presets import PRESETS, resolve
from runtime.training.quantization import bitsandbytes_config, check_kbits
from runtime.training.spec import TrainingLaunchError


def test_the_share_is_counted_as_train_test_split_counts_it() -> None:
    # ceil(share x n), as datasets' train_test_split(test_size=share); one is always left to train on.
    assert [held_out_count(n, 0.001) for n in (0, 1, 2, 999, 1000, 1001, 50_000)] == [0, 0, 1, 1, 1, 2, 50]
    assert held_out_count(10, 0.5) == 5 and held_out_count(3, 0.5) == 2 and held_out_count(100, 0.0) == 0


def test_the_held_out_indices_depend_on_the_seed_only() -> None:
    first = held_out_indices(100_000, 0.001, seed=42)
    assert first == held_out_indices(100_000, 0.001, seed=42) == sorted(set(first)) and len(first) == 100
    assert first != held_out_indices(100_000, 0.001, seed=43)
    assert all(0 <= i < 100_000 for i in first)


def test_the_training_side_is_every_other_index_in_order() -> None:
    held = held_out_indices(1000, 0.05, seed=7)
    rest = Complement(1000, held)
    assert len(rest) == 950
    assert list(rest) == [i for i in range(1000) if i not in set(held)]
    assert rest[-1] == max(set(range(1000)) - set(held)) and rest[0:3] == list(rest)[:3]
    with pytest.raises(IndexError):
        rest[950]
    # A corpus of any size: nothing is listed but the held-out indices.
    huge = Complement(10**12, [0, 5, 10**12 - 1])
    assert len(huge) == 10**12 - 3 and huge[0] == 1 and huge[4] == 6 and huge[len(huge) - 1] == 10**12 - 2


def test_perplexity_is_exp_of_the_loss_and_never_overflows() -> None:
    assert perplexity(0.0) == 1.0 and perplexity(2.0) == pytest.approx(math.exp(2.0))
    assert math.isfinite(perplexity(1e6)) and perplexity(1e6) == math.exp(MAX_PERPLEXITY_LOSS)
    json.dumps(perplexity(1e6), allow_nan=False)  # a JSON line can carry it


def test_evaluation_lines_parse_and_malformed_ones_are_ignored() -> None:
    line = {"event": "evaluation", "step": 50, "total": 200, "eval_loss": 2.0, "perplexity": 7.39, "examples": 4}
    checked = parse_evaluation(line)
    assert checked is not None and (checked.step, checked.total, checked.examples) == (50, 200, 4)
    assert checked.eval_loss == 2.0 and checked.perplexity == pytest.approx(math.exp(2.0))
    for bad in ({**line, "eval_loss": None}, {**line, "step": "x"}, {**line, "event": "progress"}, [], None):
        assert parse_evaluation(bad) is None


def test_the_new_fields_are_checked_and_old_specs_still_load() -> None:
    old = json.loads(JobSpec(kind="sft", model="/m", dataset="/d").to_json())
    for name in ("validation_split_percentage", "validation_file", "eval_steps", "load_in_kbits"):
        del old[name]
    spec = JobSpec.from_dict(old)  # a spec written before these fields
    assert (spec.validation_split_percentage, spec.validation_file, spec.eval_steps, spec.load_in_kbits) == (
        None,
        "",
        None,
        16,
    )
    bad = [
        ("validation_split_percentage", 0.6),
        ("validation_split_percentage", -0.1),
        ("validation_split_percentage", "1%"),
        ("eval_steps", -1),
        ("eval_steps", 1.5),
        ("load_in_kbits", 2),
        ("load_in_kbits", 32),
        ("validation_file", 3),
    ]
    for name, value in bad:
        with pytest.raises(SpecError) as caught:
            JobSpec.from_dict({**old, name: value})
        assert caught.value.params["field"] == name
    ok = JobSpec.from_dict({**old, "validation_split_percentage": 0, "eval_steps": 0, "load_in_kbits": 4})
    assert (ok.validation_split_percentage, ok.eval_steps, ok.load_in_kbits) == (0.0, 0, 4)


@pytest.mark.parametrize(
    ("kind", "size"), [("pretrain", 49_953), ("sft", 49_953), ("pretrain", 55_296), ("sft", 55_296)]
)
def test_every_recipe_holds_out_the_scripts_share_and_evaluates_every_100_updates(kind: str, size: int) -> None:
    resolved = resolve(JobSpec(kind=kind, model="/m", dataset="/d"), size)  # type: ignore[arg-type]
    # run_pt.sh / run_sft.sh: --validation_split_percentage 0.001; run_sft.sh: --eval_steps 100.
    assert (resolved.validation_split_percentage, resolved.eval_steps) == (0.001, 100)
    assert resolved.gradient_checkpointing is True and resolved.load_in_kbits == 16
    assert resolved.weight_decay == (0.01 if kind == "pretrain" else 0.0)  # by kind, as the scripts
    tiny = JobSpec.from_dict({**PRESETS["tiny-test"].fields, "model": "/m", "dataset": "/d"})
    assert tiny.validation_split_percentage == 0.01 and tiny.eval_steps == 50


def test_the_8_and_4_bit_configurations_are_those_of_generation_2s_scripts() -> None:
    from transformers import BitsAndBytesConfig

    assert bitsandbytes_config(16, precision="fp16", skip_modules=None) == {}
    eight = bitsandbytes_config(8, precision="fp16", skip_modules=["embed_tokens", "lm_head"])
    four = bitsandbytes_config(4, precision="bf16", skip_modules=["embed_tokens", "lm_head"])
    assert (eight["load_in_8bit"], eight["load_in_4bit"], eight["llm_int8_threshold"]) == (True, False, 6.0)
    assert (four["load_in_8bit"], four["load_in_4bit"]) == (False, True)
    assert (four["bnb_4bit_quant_type"], four["bnb_4bit_use_double_quant"]) == ("nf4", True)
    assert four["bnb_4bit_compute_dtype"] == "bfloat16" and four["llm_int8_skip_modules"] == ["embed_tokens", "lm_head"]
    # transformers takes them as they are (building the configuration needs no GPU).
    config = BitsAndBytesConfig(**four)
    assert (
        config.load_in_4bit
        and config.bnb_4bit_quant_type == "nf4"
        and config.llm_int8_skip_modules
        == [
            "embed_tokens",
            "lm_head",
        ]
    )
    assert BitsAndBytesConfig(**eight).load_in_8bit


def test_8_or_4_bits_are_refused_without_cuda_or_bitsandbytes() -> None:
    check_kbits(16, cuda=False)  # nothing to check
    with pytest.raises(TrainingLaunchError) as no_cuda:
        check_kbits(4, cuda=False, has_bitsandbytes=True)
    assert no_cuda.value.code == "training_kbits_needs_cuda" and "CUDA" in str(no_cuda.value)
    with pytest.raises(TrainingLaunchError) as missing:
        check_kbits(8, cuda=True, has_bitsandbytes=False)
    assert missing.value.code == "training_bitsandbytes_missing" and "pip install bitsandbytes" in str(missing.value)
    check_kbits(8, cuda=True, has_bitsandbytes=True)
