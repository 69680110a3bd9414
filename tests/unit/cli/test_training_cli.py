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
