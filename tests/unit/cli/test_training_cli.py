"""``alpaca-desk train`` and ``alpaca-desk merge-lora`` as real processes, on tiny models."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import load_file, save_file

from runtime.training.launcher import JobSpec
from tests.conftest import SHIPPED_TOKENIZERS, TEST_DATA, data_file
from tests.unit.training.helpers import build_tiny_llama

REPO_ROOT = Path(__file__).resolve().parents[3]
CLI_TIMEOUT_S = 600


def _env(home: Path) -> dict[str, str]:
    return {**os.environ, "ALPACA_DESK_HOME": str(home), "PYTHONIOENCODING": "utf-8"}


def _cli(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "runtime.cli", *args],
        cwd=REPO_ROOT,
        env=_env(home),
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=CLI_TIMEOUT_S,
        check=False,
    )


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tokenizer = data_file(SHIPPED_TOKENIZERS / "llama" / "tokenizer.model")
    return build_tiny_llama(tmp_path_factory.mktemp("tiny"), tokenizer, seed=5)


def test_merge_lora_writes_the_merged_folder(tiny_model: Path, tmp_path: Path, isolated_dirs: Path) -> None:
    adapter = tmp_path / "lora"
    adapter.mkdir()
    key = "base_model.model.model.layers.1.mlp.down_proj"
    generator = np.random.default_rng(5)
    lora_a = generator.standard_normal((2, 128), dtype=np.float32)
    lora_b = generator.standard_normal((64, 2), dtype=np.float32)
    save_file(
        {f"{key}.lora_A.weight": lora_a, f"{key}.lora_B.weight": lora_b}, str(adapter / "adapter_model.safetensors")
    )
    (adapter / "adapter_config.json").write_text(json.dumps({"r": 2, "lora_alpha": 4}), encoding="utf-8")
    out = str(tmp_path / "merged")
    proc = _cli("merge-lora", str(tiny_model), str(adapter), "--out", out, "--json", home=isolated_dirs)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.splitlines()[-1])
    assert result["vocab_size"] == 32_000 and result["merged"] == 1
    merged = load_file(str(tmp_path / "merged" / "model.safetensors"))
    base = load_file(str(tiny_model / "model.safetensors"))
    weight = "model.layers.1.mlp.down_proj.weight"
    assert np.allclose(merged[weight], base[weight] + 2.0 * lora_b @ lora_a, atol=1e-6)
    assert (tmp_path / "merged" / "tokenizer.model").is_file()
    # Again into the same folder: refused, with the reason.
    again = _cli("merge-lora", str(tiny_model), str(adapter), "--out", out, home=isolated_dirs)
    assert again.returncode == 2 and "exists already" in again.stderr


# -- hostile adapters (issue #20, items 6 and 10) --------------------------------------------------


def _hostile_adapter(folder: Path, config_text: str, tensors: dict[str, np.ndarray] | None = None) -> Path:
    """An adapter folder with this adapter_config.json text and these tensors (default: one LoRA pair)."""
    folder.mkdir()
    if tensors is None:
        key = "base_model.model.model.layers.1.mlp.down_proj"
        generator = np.random.default_rng(6)
        tensors = {
            f"{key}.lora_A.weight": generator.standard_normal((2, 128), dtype=np.float32),
            f"{key}.lora_B.weight": generator.standard_normal((64, 2), dtype=np.float32),
        }
    save_file(tensors, str(folder / "adapter_model.safetensors"))
    (folder / "adapter_config.json").write_text(config_text, encoding="utf-8")
    return folder


def _snapshot(*folders: Path) -> dict[str, bytes]:
    return {str(p): p.read_bytes() for folder in folders for p in sorted(folder.rglob("*")) if p.is_file()}


def _merge_refused(base: Path, adapter: Path, tmp_path: Path, home: Path) -> str:
    """merge-lora's refusal: exit 2, one message without a traceback, nothing written, inputs unchanged."""
    before = _snapshot(base, adapter)
    out = tmp_path / "merged"
    proc = _cli("merge-lora", str(base), str(adapter), "--out", str(out), home=home)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stderr.startswith("error: ") and "Traceback" not in proc.stderr, proc.stderr
    assert not out.exists() and not [p for p in tmp_path.iterdir() if ".partial" in p.name]
    assert _snapshot(base, adapter) == before
    return proc.stderr


@pytest.mark.parametrize("alpha", ["1e308", "Infinity", "-Infinity", "NaN", '"16"', "true"])
def test_merge_lora_refuses_an_adapter_whose_alpha_is_not_a_sane_number(
    tiny_model: Path, tmp_path: Path, isolated_dirs: Path, alpha: str
) -> None:
    """Before, lora_alpha 1e308 or Infinity wrote inf/NaN weights and exited 0."""
    adapter = _hostile_adapter(tmp_path / "lora", '{"r": 2, "lora_alpha": ' + alpha + "}")
    message = _merge_refused(tiny_model, adapter, tmp_path, isolated_dirs)
    assert "lora_alpha is" in message and str(adapter / "adapter_config.json") in message
    assert "download or train the adapter again" in message


@pytest.mark.parametrize("rank", ["1e999", "0", "2.5", '"2"'])
def test_merge_lora_refuses_an_adapter_whose_rank_is_not_a_sane_number(
    tiny_model: Path, tmp_path: Path, isolated_dirs: Path, rank: str
) -> None:
    adapter = _hostile_adapter(tmp_path / "lora", '{"r": ' + rank + ', "lora_alpha": 4}')
    assert "r is" in _merge_refused(tiny_model, adapter, tmp_path, isolated_dirs)


def test_merge_lora_refuses_weights_that_merge_to_inf(tiny_model: Path, tmp_path: Path, isolated_dirs: Path) -> None:
    """A sane scale, but LoRA weights so large that B @ A overflows: the merged tensor is checked."""
    key = "base_model.model.model.layers.1.mlp.down_proj"
    tensors = {
        f"{key}.lora_A.weight": np.full((2, 128), 3e38, dtype=np.float32),
        f"{key}.lora_B.weight": np.full((64, 2), 3e38, dtype=np.float32),
    }
    adapter = _hostile_adapter(tmp_path / "lora", '{"r": 2, "lora_alpha": 4}', tensors)
    message = _merge_refused(tiny_model, adapter, tmp_path, isolated_dirs)
    assert "model.layers.1.mlp.down_proj.weight" in message and "not finite" in message and str(adapter) in message


def test_merge_lora_refuses_an_empty_adapter(tiny_model: Path, tmp_path: Path, isolated_dirs: Path) -> None:
    adapter = _hostile_adapter(tmp_path / "lora", '{"r": 2, "lora_alpha": 4}', tensors={})
    message = _merge_refused(tiny_model, adapter, tmp_path, isolated_dirs)
    assert "holds no weights" in message and str(adapter) in message


def test_merge_lora_refuses_a_pickle_adapter_without_advising_to_run_it(
    tiny_model: Path, tmp_path: Path, isolated_dirs: Path
) -> None:
    import pickle

    canary = tmp_path / "canary"

    class Evil:
        def __reduce__(self) -> tuple[object, tuple[str]]:
            return (os.system, (f"touch {canary}",))

    adapter = tmp_path / "lora"
    adapter.mkdir()
    (adapter / "adapter_model.bin").write_bytes(pickle.dumps({"x": Evil()}, protocol=2))
    (adapter / "adapter_config.json").write_text('{"r": 2, "lora_alpha": 4}', encoding="utf-8")
    message = _merge_refused(tiny_model, adapter, tmp_path, isolated_dirs)
    assert "adapter_model.bin" in message and "could run code" in message and "safetensors" in message
    assert "weights_only" not in message and "False" not in message
    assert not canary.exists()


# -- huge training records (issue #20, item 5) ------------------------------------------------------


def _train(kind: str, dataset: Path, model: Path, tmp_path: Path, home: Path) -> subprocess.CompletedProcess[str]:
    spec = JobSpec(
        kind=kind, model=str(model), dataset=str(dataset), block_size=32, batch_size=2, max_steps=2, tiny_test=True
    )
    return _cli("train", kind, "--spec", str(spec.write(tmp_path / f"{kind}.json")), home=home)


def test_train_sft_names_a_50_mb_record_and_a_prompt_that_fills_the_block(
    tiny_model: Path, tmp_path: Path, isolated_dirs: Path
) -> None:
    """Before: one 50 MB record took 2.9 GB and ended in a misleading error."""
    huge = tmp_path / "huge.jsonl"
    records = [
        {"instruction": "短", "output": "好"},
        {"instruction": "很长的指令" * (50 * 1024**2 // 15), "output": "答"},
    ]
    huge.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n", encoding="utf-8")
    proc = _train("sft", huge, tiny_model, tmp_path, isolated_dirs)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert f"Line 2 of {huge} is longer than 4 MB" in proc.stderr and "Shorten that record" in proc.stderr

    # Under the bound but with a prompt longer than a sequence: cut before tokenizing, and named.
    long_prompt = tmp_path / "long.json"
    long_prompt.write_text(
        json.dumps([{"instruction": "很长的指令" * 100_000, "output": "答"}], ensure_ascii=False), encoding="utf-8"
    )
    proc = _train("sft", long_prompt, tiny_model, tmp_path, isolated_dirs)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert f"Record 1 of {long_prompt} has a prompt" in proc.stderr and "raise the block size" in proc.stderr


def test_train_pretrain_trains_on_a_single_line_of_several_megabytes(
    tiny_model: Path, tmp_path: Path, isolated_dirs: Path
) -> None:
    """Before: a single-line text was cut into blocks in quadratic time and no step came."""
    line = tmp_path / "one-line.txt"
    line.write_text("我们今天去公园散步，天气很好。" * 200_000, encoding="utf-8")  # 9 MB, no newline
    proc = _train("pretrain", line, tiny_model, tmp_path, isolated_dirs)
    assert proc.returncode == 0, proc.stderr
    assert "step 2/2" in proc.stdout and "finished: adapter in" in proc.stdout


def test_train_runs_follows_lists_and_stops(tiny_model: Path, tmp_path: Path, isolated_dirs: Path) -> None:
    spec = JobSpec(
        kind="pretrain",
        model=str(tiny_model),
        dataset=str(data_file(TEST_DATA / "zh_samples.txt")),
        block_size=32,
        batch_size=2,
        max_steps=400,
        tiny_test=True,
    )
    spec_path = spec.write(tmp_path / "job.json")
    wrong = _cli("train", "sft", "--spec", str(spec_path), home=isolated_dirs)
    assert wrong.returncode == 2 and "alpaca-desk train pretrain" in wrong.stderr

    proc = subprocess.Popen(
        [sys.executable, "-m", "runtime.cli", "train", "pretrain", "--spec", str(spec_path)],
        cwd=REPO_ROOT,
        env=_env(isolated_dirs),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert first.startswith("run pretrain-"), first
        job_id = first.split()[1].rstrip(":")
        for line in proc.stdout:
            if line.startswith("step 3/400"):
                break
        status = _cli("train", "status", home=isolated_dirs)
        assert job_id in status.stdout and "running" in status.stdout
        stopped = _cli("train", "stop", job_id, home=isolated_dirs)
        assert stopped.returncode == 0, stopped.stderr
        rest, errors = proc.communicate(timeout=CLI_TIMEOUT_S)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
    assert proc.returncode == 130, errors
    assert "stopped at step" in rest and "checkpoint" in rest
    detail = json.loads(_cli("train", "status", job_id, "--json", home=isolated_dirs).stdout)
    assert detail["state"] == "stopped" and detail["last_step"] >= 3
    state = json.loads((Path(detail["checkpoint"]) / "trainer_state.json").read_text(encoding="utf-8"))
    assert state["global_step"] == detail["last_step"]
    missing = _cli("train", "status", "sft-nothing-here", home=isolated_dirs)
    assert missing.returncode == 2 and "No run sft-nothing-here" in missing.stderr


def test_a_spec_output_folder_outside_the_data_folder_needs_out(tmp_path: Path, isolated_dirs: Path) -> None:
    # Issue 20, item 10: a spec from elsewhere named "/etc/..." as its output folder, and it was used.
    from tests.measure import run_measured

    elsewhere = tmp_path / "etc" / "alpaca-out"
    spec = JobSpec(
        kind="sft", model="/models/llama", dataset="/data/sft.json", output_dir=str(elsewhere), tiny_test=True
    )
    spec_path = spec.write(tmp_path / "job.json")
    argv = [sys.executable, "-m", "runtime.cli", "train", "sft", "--spec", str(spec_path)]
    refused = run_measured(argv, env=_env(isolated_dirs), cwd=REPO_ROOT, timeout=CLI_TIMEOUT_S)
    assert refused.returncode == 2, refused.stderr
    assert "Traceback" not in refused.output
    assert f"The job specification {spec_path} names the output folder {elsewhere}" in refused.stderr
    assert f"--out {elsewhere}" in refused.stderr
    assert not elsewhere.exists() and not (isolated_dirs / "data" / "training").exists()
    assert refused.left_behind == [] and refused.peak_kib < 1024 * 1024

    # Named on the command line, it is the user's word. (/bin/false stands for a Python that ends at once.)
    chosen = _cli("train", "sft", "--spec", str(spec_path), "--out", str(elsewhere), "--python", "/bin/false",
                  home=isolated_dirs)  # fmt: skip
    assert "Traceback" not in chosen.stdout + chosen.stderr
    [run] = json.loads(_cli("train", "status", "--json", home=isolated_dirs).stdout)
    assert run["output_dir"] == str(elsewhere)


def test_train_preview_shows_the_filled_recipe_the_tokenizer_and_the_masked_sequences(
    tmp_path: Path, isolated_dirs: Path
) -> None:
    from runtime.tokens import merge_sentencepiece, write_merged

    tokenizer = tmp_path / "chinese-llama"
    write_merged(
        merge_sentencepiece(
            data_file(SHIPPED_TOKENIZERS / "llama" / "tokenizer.model"),
            data_file(SHIPPED_TOKENIZERS / "chinese_sp.model"),
        ),
        tokenizer,
    )
    spec = tmp_path / "job.json"
    # A plain spec: no learning rate, warm-up or length; the model is not read by the preview.
    spec.write_text(
        json.dumps(
            {
                "kind": "sft",
                "model": str(tmp_path / "no-model"),
                "tokenizer": str(tokenizer),
                "dataset": str(data_file(TEST_DATA / "zh_sft_sample.json")),
            }
        ),
        encoding="utf-8",
    )
    proc = _cli("train", "preview", "--spec", str(spec), "--examples", "2", "--json", home=isolated_dirs)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    resolved = result["resolved"]
    assert (resolved["generation"], resolved["learning_rate"], resolved["warmup_ratio"]) == (1, 1e-4, 0.03)
    assert (resolved["block_size"], resolved["weight_decay"], resolved["lora_rank"]) == (512, 0.0, 8)
    assert resolved["warmup_steps"] == -(-resolved["total_steps"] * 3 // 100) >= 1
    assert result["tokenizer_size"] == 49_954  # [PAD] added, as generation 1's SFT script does
    assert len(result["examples"]) == 2
    for example in result["examples"]:
        ids, labels = example["input_ids"], example["labels"]
        assert len(ids) == len(labels) and ids[0] == 1 and ids[-1] == 2  # BOS ... EOS
        prompt = labels.index(next(label for label in labels if label != -100))
        assert labels[:prompt] == [-100] * prompt and labels[prompt:] == ids[prompt:]  # the answer and EOS learned

    words = _cli("train", "preview", "--spec", str(spec), home=isolated_dirs)
    assert words.returncode == 0, words.stderr
    assert "generation 1, tokenizer of 49,954 tokens" in words.stdout and "learning_rate: 0.0001" in words.stdout
