"""``alpaca-desk plan`` and ``chat --kv``, run as real processes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from runtime.models.tiny import write_llama_gguf
from tests.unit.cli.test_chat_cli import run_cli


@pytest.fixture(scope="module")
def kv_model(tmp_path_factory: pytest.TempPathFactory, llama_tokenizer: Path) -> Path:
    # Head size 32: a q8_0 KV cache stores blocks of 32 values.
    folder = tmp_path_factory.mktemp("plan-cli")
    return write_llama_gguf(folder / "kv.gguf", tokenizer=llama_tokenizer, hidden=64, layers=2, heads=2, ffn=128)


def test_plan_prints_memory_speed_and_their_parts(kv_model: Path, isolated_dirs: Path) -> None:
    result = run_cli(
        "plan", str(kv_model), "--ctx", "8192", "--kv", "q8_0", "--threads", "1", "--json", home=isolated_dirs
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["n_ctx"] == 8192 and data["kv_type"] == "q8_0" and data["threads"] == 1
    # 2 layers x 8,192 tokens x 2 heads x 32 x K and V, 34 bytes per 32 values.
    assert data["kv_cache_bytes"] == 2 * 8192 * 2 * 32 * 2 * 34 // 32
    assert data["memory_bytes"] >= data["weights_bytes"] + data["kv_cache_bytes"] + data["baseline_bytes"]
    assert data["tokens_per_second"] > 0 and data["exact"] is True
    assert data["machine"]["bandwidth"] > 0
    assert (isolated_dirs / "cache" / "machine.json").is_file()  # the probe was kept
    text = run_cli("plan", str(kv_model), home=isolated_dirs)
    assert text.returncode == 0, text.stderr
    assert "memory_bytes" in text.stdout and "tokens_per_second" in text.stdout and "KV cache" in text.stdout
    # No GPU here: nothing to offload, and the text says nothing of it.
    assert data["gpu_layers"] == 0 and data["free_vram_bytes"] == 0 and "gpu_layers" not in text.stdout
    # A GPU described by its free memory: this model's every layer and its output fit in 1 GB.
    gpu = run_cli("plan", str(kv_model), "--vram", "1", "--json", home=isolated_dirs)
    assert gpu.returncode == 0, gpu.stderr
    assert json.loads(gpu.stdout)["gpu_layers"] == 3  # 2 layers + 1: everything
    described = run_cli("plan", str(kv_model), "--vram", "1", home=isolated_dirs)
    assert "gpu_layers         3 of 3" in described.stdout


def test_chat_with_a_q8_0_kv_cache_reports_its_speed(kv_model: Path, isolated_dirs: Path) -> None:
    args = ["chat", str(kv_model), "--prompt", "Once upon a time", "--template", "raw", "--threads", "1"]
    result = run_cli(*args, "--kv", "q8_0", "--max-tokens", "8", "--seed", "1", "--json", home=isolated_dirs)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["tokens_per_second"] == data["stats"]["tokens_per_s"] > 0
    refused = run_cli(*args, "--kv", "q5_1", home=isolated_dirs)
    assert refused.returncode == 2 and "q5_1" in refused.stderr
