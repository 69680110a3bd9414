"""Validation in real runs of the scripts on the CPU: a held-out share evaluated every N updates and at
the end, a validation file, eval loss and perplexity in the JSON lines, the log and the result; 8-bit
loading refused on the CPU before the model is read."""

from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path

from runtime.training.evaluation import held_out_count, parse_evaluation
from runtime.training.launcher import JobSpec, parse_progress
from runtime.training.presets import PRESETS
from tests.conftest import TEST_DATA, data_file
from tests.cuda import cuda_available
from tests.unit.training.conftest import run_script


def test_a_held_out_share_is_evaluated_every_n_updates_with_its_perplexity(
    tiny_chinese_llama: Path, tmp_path: Path
) -> None:
    fields = {**PRESETS["tiny-test"].fields, "max_steps": 6, "eval_steps": 3, "save_steps": 0}
    spec = JobSpec.from_dict(
        {
            **fields,
            "model": str(tiny_chinese_llama),
            "dataset": str(data_file(TEST_DATA / "zh_samples.txt")),
            "output_dir": str(tmp_path / "output"),
        }
    )
    run = run_script(spec, tmp_path / "spec.json")
    assert run.returncode == 0, run.events[-3:]
    evaluations = [parse_evaluation(e) for e in run.of("evaluation")]
    assert all(e is not None for e in evaluations), run.of("evaluation")
    # Every 3 updates; the last one is the end's (no second evaluation of step 6).
    assert [(e.step, e.total) for e in evaluations if e is not None] == [(3, 6), (6, 6)]
    for line, checked in zip(run.of("evaluation"), evaluations, strict=True):
        assert checked is not None and math.isfinite(checked.eval_loss) and checked.eval_loss > 0
        assert line["perplexity"] == checked.perplexity == math.exp(line["eval_loss"])
    log = (tmp_path / "output" / "train.log").read_text(encoding="utf-8")
    blocks = [int(w) for w in log.split("validation: ")[1].split()[:3:2]]  # "H of N sequences held out"
    assert blocks[0] == held_out_count(blocks[1], 0.01) >= 1 and evaluations[0].examples == blocks[0]  # type: ignore[union-attr]
    assert "validation at step 3/6: eval loss" in log and "perplexity" in log
    (result,) = run.of("result")
    assert result["eval_loss"] == run.of("evaluation")[-1]["eval_loss"]
    assert result["perplexity"] == math.exp(result["eval_loss"])
    # The progress lines are unchanged: one per update, the training loss.
    assert [p.step for p in map(parse_progress, run.of("progress")) if p is not None] == [1, 2, 3, 4, 5, 6]


def test_a_validation_file_is_evaluated_at_the_end(tiny_chinese_llama: Path, tmp_path: Path) -> None:
    records = json.loads(data_file(TEST_DATA / "zh_sft_sample.json").read_text(encoding="utf-8"))
    train, held = tmp_path / "train.jsonl", tmp_path / "validation.json"
    train.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records[:4]), encoding="utf-8")
    held.write_text(json.dumps(records[4:7], ensure_ascii=False), encoding="utf-8")
    spec = JobSpec(
        kind="sft",
        model=str(tiny_chinese_llama),
        dataset=str(train),
        validation_file=str(held),
        eval_steps=0,  # only at the end
        output_dir=str(tmp_path / "output"),
        block_size=96,
        batch_size=2,
        max_steps=2,
        lora_rank=2,
        lora_alpha=4,
        gradient_checkpointing=False,
        tiny_test=True,
    )
    run = run_script(spec, tmp_path / "spec.json")
    assert run.returncode == 0, run.events[-3:]
    (line,) = run.of("evaluation")
    checked = parse_evaluation(line)
    assert checked is not None and (checked.step, checked.examples) == (2, 3)
    # No share was held out: all four records trained (two steps of two).
    log = (tmp_path / "output" / "train.log").read_text(encoding="utf-8")
    assert f"validation: 3 sequences of {held}" in log and "held out" not in log


def test_8_bit_loading_is_refused_on_the_cpu_before_the_model_is_read(tiny_chinese_llama: Path, tmp_path: Path) -> None:
    spec = JobSpec(
        kind="pretrain",
        model=str(tiny_chinese_llama),
        dataset=str(data_file(TEST_DATA / "zh_samples.txt")),
        output_dir=str(tmp_path / "output"),
        block_size=32,
        max_steps=1,
        load_in_kbits=8,
        tiny_test=True,
    )
    run = run_script(spec, tmp_path / "spec.json")
    if cuda_available() and importlib.util.find_spec("bitsandbytes") is not None:
        assert run.returncode == 0, run.events[-3:]  # a GPU machine with bitsandbytes loads it in 8 bits
        return
    (error,) = run.of("error")
    expected = "training_bitsandbytes_missing" if cuda_available() else "training_kbits_needs_cuda"
    assert error["code"] == expected and run.returncode == 1
    assert "load_in_kbits" in error["message"]
    assert "trainable parameters" not in (tmp_path / "output" / "train.log").read_text(encoding="utf-8")
