"""The pretrain and sft scripts on the CPU with tiny models: the loss goes down, progress lines
parse, checkpoints resume with the step count, the adapter saves, and the CPU is refused for real runs."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import pytest
from safetensors import safe_open

from runtime.training.launcher import JobSpec, parse_progress
from runtime.training.presets import resolve
from tests.conftest import TEST_DATA, data_file
from tests.cuda import cuda_available
from tests.unit.training.conftest import FinishedRun, run_script


def _losses(run: FinishedRun) -> list[float]:
    progress = [parse_progress(e) for e in run.of("progress")]
    return [p.loss for p in progress if p is not None and p.loss is not None]


def test_pretraining_lowers_the_loss_and_reports_parseable_progress(pretrain_run: FinishedRun) -> None:
    assert pretrain_run.returncode == 0, pretrain_run.events[-3:]
    progress = [parse_progress(e) for e in pretrain_run.of("progress")]
    assert all(p is not None for p in progress)
    steps = [p.step for p in progress if p is not None]
    assert steps == list(range(1, 17))
    first = progress[0]
    assert first is not None and first.total == 16 and first.tokens_per_s and first.eta_s is not None
    assert first.gpu_memory_mb is None  # no GPU here
    losses = _losses(pretrain_run)
    assert sum(losses[-3:]) / 3 < sum(losses[:3]) / 3 - 0.3, losses
    # The same lines are in progress.jsonl, and the words in train.log (the tab's live log).
    lines = (pretrain_run.output / "progress.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in lines] == pretrain_run.events
    assert "step 16/16" in (pretrain_run.output / "train.log").read_text(encoding="utf-8")
    assert [e["step"] for e in pretrain_run.of("checkpoint")] == [8, 16]


def test_the_adapter_saves_with_its_embeddings_and_tokenizer(pretrain_run: FinishedRun) -> None:
    (result,) = pretrain_run.of("result")
    adapter = Path(result["adapter"])
    assert result["embeddings_trained"] is True and result["vocab_size"] == 49_953
    config = json.loads((adapter / "adapter_config.json").read_text(encoding="utf-8"))
    assert sorted(config["target_modules"]) == sorted(
        ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
    )
    assert sorted(config["modules_to_save"]) == ["embed_tokens", "lm_head"]
    assert (config["r"], config["lora_alpha"]) == (4, 8)
    with safe_open(str(adapter / "adapter_model.safetensors"), "np") as weights:
        keys = list(weights.keys())
        embeddings = [k for k in keys if "embed_tokens" in k and "original_module" not in k]
        assert embeddings and weights.get_slice(embeddings[0]).get_shape() == [49_953, 64]
    assert sum("lora_A" in k for k in keys) == 2 * 7  # 2 layers x 7 projections
    assert (adapter / "tokenizer.model").is_file()
    assert JobSpec.read(adapter / "training_spec.json").kind == "pretrain"


def test_the_vocabulary_is_extended_by_appending_rows_and_the_stages_train_what_they_should(
    tiny_llama: Path, chinese_llama_dir: Path
) -> None:
    import torch
    from safetensors.torch import load_file

    from runtime.training._trainer import prepare_model

    base = load_file(str(tiny_llama / "model.safetensors"))
    spec = resolve(
        JobSpec(kind="pretrain", model=str(tiny_llama), tokenizer=str(chinese_llama_dir), dataset="x", tiny_test=True),
        49_953,
    )
    model, extended, train_embeddings = prepare_model(spec, 49_953, dtype=torch.float32, cuda=False)
    assert extended and train_embeddings
    embeddings = model.get_input_embeddings().weight
    assert embeddings.shape == (49_953, 64)
    assert bool((embeddings[:32_000] == base["model.embed_tokens.weight"]).all())  # the original rows, untouched
    assert bool((model.get_output_embeddings().weight[:32_000] == base["lm_head.weight"]).all())
    trainable = {name for name, p in model.named_parameters() if p.requires_grad}
    assert any("lora_A" in name and "q_proj" in name for name in trainable)
    assert any("embed_tokens.modules_to_save" in name for name in trainable)
    assert any("lm_head.modules_to_save" in name for name in trainable)
    assert not any("base_layer" in name or "original_module" in name for name in trainable)

    # Stage 1 of the two-stage option (paper section 4.3): only the input embeddings learn.
    stage1, _, _ = prepare_model(spec.replace(stage="embeddings"), 49_953, dtype=torch.float32, cuda=False)
    trainable = {name for name, p in stage1.named_parameters() if p.requires_grad}
    assert trainable and all("embed_tokens.modules_to_save" in name for name in trainable)

    # The same vocabulary and train_embeddings "auto": LoRA alone.
    auto = spec.replace(train_embeddings="auto")
    same, extended, train_embeddings = prepare_model(auto, 32_000, dtype=torch.float32, cuda=False)
    assert not extended and not train_embeddings
    assert all("lora_" in name for name, p in same.named_parameters() if p.requires_grad)


def test_a_rerun_resumes_from_the_checkpoint_and_continues_the_step_count(
    pretrain_run: FinishedRun, tmp_path: Path
) -> None:
    output = tmp_path / "output"
    output.mkdir()
    shutil.copytree(pretrain_run.output / "checkpoint-8", output / "checkpoint-8")
    spec = pretrain_run.spec.replace(output_dir=str(output), max_steps=11, save_steps=0)
    rerun = run_script(spec, tmp_path / "spec.json")
    assert rerun.returncode == 0, rerun.events[-3:]
    steps = [e["step"] for e in rerun.of("progress")]
    assert steps == [9, 10, 11]
    assert "resuming from" in (output / "train.log").read_text(encoding="utf-8")


def test_instruction_tuning_learns_the_answers(tiny_chinese_llama: Path, tmp_path: Path) -> None:
    records = json.loads(data_file(TEST_DATA / "zh_sft_sample.json").read_text(encoding="utf-8"))[:8]
    dataset = tmp_path / "sft.jsonl"
    dataset.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    spec = JobSpec(
        kind="sft",
        model=str(tiny_chinese_llama),
        dataset=str(dataset),
        output_dir=str(tmp_path / "output"),
        block_size=128,
        batch_size=4,
        epochs=6,
        learning_rate=1e-2,
        lora_rank=8,
        lora_alpha=16,
        tiny_test=True,
    )
    run = run_script(spec, tmp_path / "spec.json")
    assert run.returncode == 0, run.events[-3:]
    losses = _losses(run)
    assert len(losses) == 12  # 8 records / batch 4 = 2 steps an epoch, 6 epochs
    # LoRA alone on a random 64-wide model moves slowly (about -0.2 here); batch noise is ~0.03.
    assert sum(losses[-3:]) / 3 < sum(losses[:3]) / 3 - 0.1, losses
    (result,) = run.of("result")
    # Generation 1's SFT (run_sft.sh): [PAD] appended (49,954) and embed_tokens, lm_head trained in full.
    assert (result["embeddings_trained"], result["vocab_size"], result["generation"]) == (True, 49_954, 1)
    adapter = Path(result["adapter"])
    config = json.loads((adapter / "adapter_config.json").read_text(encoding="utf-8"))
    assert sorted(config["modules_to_save"]) == ["embed_tokens", "lm_head"]
    assert (config["r"], config["lora_alpha"]) == (8, 16)  # the spec's own values are kept
    assert json.loads((adapter / "added_tokens.json").read_text(encoding="utf-8")) == {"[PAD]": 49_953}
    with safe_open(str(adapter / "adapter_model.safetensors"), "np") as weights:
        names = weights.keys()  # a safe_open is not iterable itself
        rows = [weights.get_slice(k).get_shape()[0] for k in names if "embed_tokens" in k]
        assert rows and set(rows) == {49_954}
    saved = JobSpec.read(adapter / "training_spec.json")  # the resolved recipe
    assert (saved.warmup_ratio, saved.weight_decay, saved.block_size) == (0.03, 0.0, 128)


def test_the_learning_rate_of_every_step_is_warm_up_then_cosine(tiny_chinese_llama: Path, tmp_path: Path) -> None:
    spec = JobSpec(
        kind="pretrain",
        model=str(tiny_chinese_llama),
        dataset=str(data_file(TEST_DATA / "zh_samples.txt")),
        output_dir=str(tmp_path / "output"),
        block_size=16,
        batch_size=1,
        max_steps=40,
        learning_rate=1e-3,
        warmup_ratio=0.1,
        lora_rank=2,
        lora_alpha=4,
        train_embeddings="no",
        gradient_checkpointing=False,
        tiny_test=True,
    )
    run = run_script(spec, tmp_path / "spec.json")
    assert run.returncode == 0, run.events[-3:]
    logged = {e["step"]: e["lr"] for e in run.of("progress")}
    assert sorted(logged) == list(range(1, 41))
    peak, total, warmup = 1e-3, 40, 4  # ceil(40 x 0.1)

    def formula(step: int) -> float:  # get_cosine_schedule_with_warmup, after `step` updates
        if step < warmup:
            return peak * step / warmup
        return peak * 0.5 * (1.0 + math.cos(math.pi * (step - warmup) / (total - warmup)))

    # transformers 5 logs the rate step s's update used (after s - 1 scheduler steps); 4.x logged it
    # after the scheduler's step. Either way every step must sit on the formula, with one shift.
    shift = 1 if logged[1] == 0.0 else 0
    for step, lr in logged.items():
        assert lr == pytest.approx(formula(step - shift), rel=1e-6, abs=1e-12), step
    rising = [logged[step + shift] for step in range(1, warmup + 1)]
    assert rising == sorted(rising) and rising[0] < rising[-1] == pytest.approx(peak)  # a real warm-up
    assert logged[40] < peak * 1e-2  # cosine decay to near zero


def test_a_real_run_needs_cuda(tiny_chinese_llama: Path, tmp_path: Path) -> None:
    spec = JobSpec(
        kind="pretrain",
        model=str(tiny_chinese_llama),
        dataset=str(data_file(TEST_DATA / "zh_samples.txt")),
        output_dir=str(tmp_path / "output"),
        block_size=32,
        max_steps=2,
    )
    run = run_script(spec, tmp_path / "spec.json")
    if cuda_available():  # a GPU machine: the same spec trains there
        assert run.returncode == 0, run.events[-3:]
        assert run.of("progress") and run.of("result")
        return
    (error,) = run.of("error")
    assert error["code"] == "training_no_cuda"
    assert "CUDA" in error["message"] and run.returncode == 1
    assert not run.of("progress")


def test_torchrun_runs_the_script_as_one_distributed_process(tiny_chinese_llama: Path, tmp_path: Path) -> None:
    # Several GPUs run through torchrun (one process each); on the CPU one process shows the wiring.
    spec = JobSpec(
        kind="pretrain",
        model=str(tiny_chinese_llama),
        dataset=str(data_file(TEST_DATA / "zh_samples.txt")),
        output_dir=str(tmp_path / "output"),
        block_size=32,
        batch_size=2,
        max_steps=3,
        tiny_test=True,
    )
    run = run_script(spec, tmp_path / "spec.json", torchrun=True)
    assert run.returncode == 0, run.events[-3:]
    assert [e["step"] for e in run.of("progress")] == [1, 2, 3]
    assert run.of("started")[0]["world_size"] == 1
    assert "torch.distributed on" in (tmp_path / "output" / "train.log").read_text(encoding="utf-8")


def test_the_second_stage_continues_from_the_first_stages_adapter(
    pretrain_run: FinishedRun, tiny_llama: Path, chinese_llama_dir: Path
) -> None:
    import torch
    from safetensors.torch import load_file

    from runtime.training._trainer import prepare_model

    (result,) = pretrain_run.of("result")
    saved = load_file(str(Path(result["adapter"]) / "adapter_model.safetensors"))
    spec = resolve(
        JobSpec(
            kind="pretrain",
            model=str(tiny_llama),
            tokenizer=str(chinese_llama_dir),
            dataset="x",
            init_adapter=result["adapter"],
            tiny_test=True,
        ),
        49_953,
    )
    model, extended, _ = prepare_model(spec, 49_953, dtype=torch.float32, cuda=False)
    assert extended
    assert torch.equal(model.get_input_embeddings().weight, saved["base_model.model.model.embed_tokens.weight"])
    trainable = {name for name, p in model.named_parameters() if p.requires_grad}
    assert any("lora_B" in name for name in trainable) and any("modules_to_save" in name for name in trainable)
