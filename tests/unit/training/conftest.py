"""Tiny Hugging Face LLaMA models with the real vocabularies, and one pretraining run the tests share.

Training runs are the slow part (the script imports torch and transformers), so a session fixture
runs one extended-vocabulary pretraining (LLaMA's 32,000 rows under Chinese-LLaMA's 49,953-piece
tokenizer, the paper's section 4.2 case) and the tests read its events, adapter and checkpoints.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from runtime.jobs import JobProcess
from runtime.tokens import merge_sentencepiece, write_merged
from runtime.training.launcher import JobSpec, TrainEvent, build_command, build_env
from runtime.training.tiny import write_tiny_llama
from tests.conftest import SHIPPED_TOKENIZERS, TEST_DATA, data_file

#: Seconds a tiny run may take on a busy two-core machine (a safety net, not a measurement).
RUN_TIMEOUT_S = 900


@dataclass(frozen=True)
class FinishedRun:
    """A run of a training script: its spec, every event, and how the process ended."""

    spec: JobSpec
    events: list[TrainEvent]
    returncode: int | None

    @property
    def output(self) -> Path:
        return Path(self.spec.output_dir)

    def of(self, kind: str) -> list[TrainEvent]:
        return [e for e in self.events if e.get("event") == kind]


def run_script(spec: JobSpec, spec_path: Path, *, torchrun: bool = False) -> FinishedRun:
    """Run ``spec`` through the launcher's argv and collect its events."""
    spec.write(spec_path)
    process = JobProcess(build_command(spec, spec_path, torchrun=torchrun), env=build_env(spec))
    process.start()
    events = list(process.events(timeout=RUN_TIMEOUT_S))
    outcome = process.wait(RUN_TIMEOUT_S)
    return FinishedRun(spec, events, outcome.returncode)


@pytest.fixture(scope="session")
def chinese_llama_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The 49,953-piece Chinese-LLaMA tokenizer folder, merged from the shipped models."""
    folder = tmp_path_factory.mktemp("chinese-llama-tokenizer")
    merged = merge_sentencepiece(
        data_file(SHIPPED_TOKENIZERS / "llama" / "tokenizer.model"), data_file(SHIPPED_TOKENIZERS / "chinese_sp.model")
    )
    write_merged(merged, folder)
    return folder


@pytest.fixture(scope="session")
def tiny_llama(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A random LLaMA (hidden 64, 2 layers) with LLaMA's 32,000-piece vocabulary and tokenizer."""
    tokenizer = data_file(SHIPPED_TOKENIZERS / "llama" / "tokenizer.model")
    return write_tiny_llama(tmp_path_factory.mktemp("tiny-llama"), tokenizer, seed=1)


@pytest.fixture(scope="session")
def tiny_chinese_llama(tmp_path_factory: pytest.TempPathFactory, chinese_llama_dir: Path) -> Path:
    """A random LLaMA (hidden 64, 2 layers) with the 49,953-piece Chinese-LLaMA vocabulary."""
    return write_tiny_llama(tmp_path_factory.mktemp("tiny-chinese-llama"), chinese_llama_dir, seed=2)


@pytest.fixture(scope="session")
def pretrain_run(tmp_path_factory: pytest.TempPathFactory, tiny_llama: Path, chinese_llama_dir: Path) -> FinishedRun:
    """16 steps of pretraining on the Chinese samples, the vocabulary extended from 32,000 to 49,953."""
    folder = tmp_path_factory.mktemp("pretrain-run")
    spec = JobSpec(
        kind="pretrain",
        model=str(tiny_llama),
        tokenizer=str(chinese_llama_dir),
        dataset=str(data_file(TEST_DATA / "zh_samples.txt")),
        output_dir=str(folder / "output"),
        block_size=64,
        batch_size=4,
        max_steps=16,
        save_steps=8,
        learning_rate=5e-3,
        lora_rank=4,
        lora_alpha=8,
        tiny_test=True,
    )
    return run_script(spec, folder / "spec.json")
