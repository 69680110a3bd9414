"""A published LoRA repository, from the hub to a merged model: the chain, the checks, and peft's weights.

The repositories are tiny peft adapters shaped like hfl/chinese-llama-plus-lora-7b and
hfl/chinese-alpaca-plus-lora-7b (``adapter_config.json``, ``adapter_model.bin`` with the resized
embeddings and LM head, the extended tokenizer), served by the fake hub, downloaded by the real
``hub-download`` job, checked by the real ``convert-inspect`` job and merged by ``lora-merge``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from runtime.hub import CatalogueEntry, load_catalogue
from runtime.jobs import JobProcess, build_command
from runtime.models.convert import ConversionError
from runtime.training.published import (
    LoraChainError,
    adapter_folder,
    check_base_folder,
    check_base_summary,
    check_order,
    check_space,
    default_out,
    final_vocabulary,
    merge_chain,
    merge_job_options,
    merged_bytes,
    recommended_quant,
    resolve_adapter,
)
from tests.fakehub import FakeHub
from tests.lora_repos import build_chain_in_child, peft_merged, repo_files

LLAMA_PLUS = "hfl/chinese-llama-plus-lora-7b"
ALPACA_PLUS = "hfl/chinese-alpaca-plus-lora-7b"
REPO_ROOT = Path(__file__).resolve().parents[3]
JOB_TIMEOUT_S = 600  # a safety net on a busy two-core machine, not a measurement


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    built = build_chain_in_child(tmp_path_factory.mktemp("lora-chain"))
    return {role: Path(path) for role, path in built.items()}


@pytest.fixture
def hub(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeHub]:
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
    with FakeHub() as server:
        yield server


@pytest.fixture(scope="module")
def entries() -> dict[str, CatalogueEntry]:
    return {entry.repo: entry for entry in load_catalogue().entries}


def _run(job: str, **options: Any) -> dict[str, Any]:
    process = JobProcess(build_command(job, **options))
    process.start()
    outcome = process.wait(JOB_TIMEOUT_S)
    assert outcome.ok, outcome.error
    return outcome.result or {}


def test_the_shipped_catalogue_knows_the_papers_merge_recipes(entries: dict[str, CatalogueEntry]) -> None:
    assert merge_chain(entries, ALPACA_PLUS) == [LLAMA_PLUS, ALPACA_PLUS]
    assert merge_chain(entries, "hfl/chinese-alpaca-pro-lora-13b") == [
        "hfl/chinese-llama-plus-lora-13b",
        "hfl/chinese-alpaca-pro-lora-13b",
    ]
    assert merge_chain(entries, "hfl/chinese-alpaca-lora-7b") == ["hfl/chinese-alpaca-lora-7b"]
    assert merge_chain(entries, LLAMA_PLUS) == [LLAMA_PLUS]
    with pytest.raises(LoraChainError) as unknown:
        merge_chain(entries, "hfl/chinese-alpaca-2-7b-gguf")
    assert unknown.value.code == "lora_chain_unknown"
    circle = {**entries, LLAMA_PLUS: replace(entries[LLAMA_PLUS], merge_after=ALPACA_PLUS)}
    with pytest.raises(LoraChainError, match="circle"):
        merge_chain(circle, ALPACA_PLUS)


def test_a_catalogue_lora_downloads_and_merges_to_peft_s_weights(
    chain: dict[str, Path], hub: FakeHub, entries: dict[str, CatalogueEntry], tmp_path: Path
) -> None:
    import torch
    from safetensors.torch import load_file

    models_dir = tmp_path / "models"
    for repo, role in ((LLAMA_PLUS, "llama_plus"), (ALPACA_PLUS, "alpaca_plus")):
        for name, data in repo_files(chain[role]).items():
            hub.add(repo, name, data)
    # The chain from the catalogue; neither adapter is on disk yet.
    repos = merge_chain(entries, ALPACA_PLUS)
    assert [adapter_folder(models_dir, repo) for repo in repos] == [None, None]
    for repo in repos:
        _run(
            "hub-download", repo=repo, endpoint=hub.url, models_dir=str(models_dir),
            network_log=str(tmp_path / "network.log"),
        )  # fmt: skip
    adapters = [adapter_folder(models_dir, repo) for repo in repos]
    assert adapters == [models_dir / LLAMA_PLUS, models_dir / ALPACA_PLUS]
    folders = [a for a in adapters if a is not None]
    check_order(folders, models_dir, entries)

    base = check_base_folder(chain["base"])
    summary = _run("convert-inspect", folder=str(base))["checkpoint"]
    check_base_summary(summary)  # the tiny LLaMA: 32,000 rows, no size given
    rows = final_vocabulary(folders)
    needed = merged_bytes(summary, rows)
    out = default_out(models_dir, ALPACA_PLUS)
    assert out == models_dir / "merged" / "chinese-alpaca-plus-7b"
    check_space(out, needed)
    result = _run("lora-merge", **merge_job_options(base, folders, out))
    assert result["vocab_size"] == rows == 49_954 and result["replaced"] == 4  # two embeddings, two LM heads

    merged = load_file(str(out / "model.safetensors"))
    expected = peft_merged(base, folders).state_dict()
    assert set(merged) == set(expected)
    for key, tensor in expected.items():
        assert torch.allclose(merged[key], tensor, atol=1e-6), key
    written = sum(p.stat().st_size for p in out.iterdir() if p.name.endswith(".safetensors"))
    assert abs(written - needed) < 0.02 * needed, (written, needed)  # the space estimate is the real size
    config = json.loads((out / "config.json").read_text(encoding="utf-8"))
    assert config["vocab_size"] == 49_954


def test_the_base_must_be_the_original_llama_in_hugging_face_format(tmp_path: Path) -> None:
    meta = tmp_path / "7B"
    meta.mkdir()
    (meta / "consolidated.00.pth").write_bytes(b"\0")
    (meta / "params.json").write_text("{}", encoding="utf-8")
    with pytest.raises(LoraChainError) as pth:
        check_base_folder(meta)
    assert pth.value.code == "lora_base_meta_format" and "convert_llama_weights_to_hf" in str(pth.value)
    with pytest.raises(LoraChainError) as empty:
        check_base_folder(tmp_path)
    assert empty.value.code == "lora_base_not_hf"
    with pytest.raises(LoraChainError) as absent:
        check_base_folder(tmp_path / "nothing")
    assert absent.value.code == "lora_base_not_folder"

    llama_7b = {"folder": "/m", "layout": "safetensors", "embedding_rows": 32_000, "hidden": 4096, "problems": []}
    check_base_summary(llama_7b, "7B")
    with pytest.raises(LoraChainError) as size:
        check_base_summary(llama_7b, "13B")
    assert size.value.code == "lora_base_size" and "7B" in str(size.value)
    with pytest.raises(LoraChainError) as vocab:
        check_base_summary({**llama_7b, "embedding_rows": 49_953, "vocab_label": "Chinese-LLaMA"}, "7B")
    assert vocab.value.code == "lora_base_vocab" and "49,953 tokens (Chinese-LLaMA)" in str(vocab.value)
    problem = {"code": "convert_not_llama", "message": "not LLaMA", "params": {"architecture": "GPT2"}}
    with pytest.raises(LoraChainError) as inspected:
        check_base_summary({**llama_7b, "problems": [problem]}, "7B")
    assert inspected.value.code == "convert_not_llama"


def test_space_order_and_repository_ids(
    chain: dict[str, Path], entries: dict[str, CatalogueEntry], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    summary = {"total_bytes": 13_476_839_424, "embedding_rows": 32_000, "hidden": 4096, "dtype": "F16"}
    needed = merged_bytes(summary, 49_954)
    assert needed == 13_476_839_424 + 17_954 * 4096 * 2 * 2
    monkeypatch.setenv("ALPACA_DESK_FAKE_FREE_BYTES", str(needed))  # the margin is missing
    with pytest.raises(ConversionError) as full:
        check_space(tmp_path / "merged", needed)
    assert full.value.code == "convert_no_space"
    monkeypatch.delenv("ALPACA_DESK_FAKE_FREE_BYTES")

    models_dir = tmp_path / "models"
    with pytest.raises(LoraChainError) as missing:
        resolve_adapter(ALPACA_PLUS, models_dir)
    assert missing.value.code == "lora_adapter_missing" and f"alpaca-desk download {ALPACA_PLUS}" in str(missing.value)
    shutil.copytree(chain["alpaca_plus"], models_dir / ALPACA_PLUS)
    shutil.copytree(chain["llama_plus"], models_dir / LLAMA_PLUS)
    alpaca, llama = resolve_adapter(ALPACA_PLUS, models_dir), resolve_adapter(LLAMA_PLUS, models_dir)
    assert alpaca == models_dir / ALPACA_PLUS
    with pytest.raises(LoraChainError) as order:
        check_order([alpaca], models_dir, entries)
    assert order.value.code == "lora_chain_order"
    assert "LLaMA + hfl/chinese-llama-plus-lora-7b + hfl/chinese-alpaca-plus-lora-7b" in str(order.value)
    with pytest.raises(LoraChainError):
        check_order([alpaca, llama], models_dir, entries)
    check_order([llama, alpaca], models_dir, entries)
    check_order([chain["alpaca_plus"]], models_dir, entries)  # a folder of one's own is not judged
    (models_dir / ALPACA_PLUS / "adapter_model.bin.part").write_bytes(b"")
    assert adapter_folder(models_dir, ALPACA_PLUS) is None  # a download is unfinished

    entry = entries[ALPACA_PLUS]
    big = recommended_quant(entry, ram=32 << 30, free=1 << 40)
    small = recommended_quant(entry, ram=8 << 30, free=1 << 40)
    assert (big, small) == ("Q6_K", "Q4_K")
    assert recommended_quant(entry, ram=2 << 30, free=1 << 40) == ""


def test_merge_lora_takes_downloaded_repository_ids_in_the_recipe_s_order(
    chain: dict[str, Path], tmp_path: Path, isolated_dirs: Path
) -> None:
    import shutil

    models_dir = isolated_dirs / "models"
    shutil.copytree(chain["alpaca_plus"], models_dir / ALPACA_PLUS)
    shutil.copytree(chain["llama_plus"], models_dir / LLAMA_PLUS)
    env = {**os.environ, "ALPACA_DESK_HOME": str(isolated_dirs), "PYTHONIOENCODING": "utf-8"}

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        argv = [sys.executable, "-m", "runtime.cli", "merge-lora", *args]
        return subprocess.run(argv, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=JOB_TIMEOUT_S)

    out = tmp_path / "merged"
    wrong = cli(str(chain["base"]), ALPACA_PLUS, "--out", str(out))
    assert wrong.returncode == 2 and "chinese-llama-plus-lora-7b" in wrong.stderr and not out.exists()
    right = cli(str(chain["base"]), LLAMA_PLUS, ALPACA_PLUS, "--out", str(out), "--json")
    assert right.returncode == 0, right.stderr
    assert json.loads(right.stdout.splitlines()[-1])["vocab_size"] == 49_954
