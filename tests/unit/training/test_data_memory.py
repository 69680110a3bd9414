"""Memory does not follow the corpus: the pretrain script tokenizes a large corpus into the token cache
and trains on it memory-mapped, at the peak a small corpus costs (issue 22: "a corpus of any size trains
with memory independent of its size")."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from runtime.training.launcher import JobSpec
from runtime.training.presets import PRESETS
from tests.conftest import TEST_DATA, data_file
from tests.measure import run_measured
from tests.unit.training.conftest import RUN_TIMEOUT_S

REPO_ROOT = Path(__file__).resolve().parents[3]
MB = 1_000_000
SMALL_MB, LARGE_MB = 2, 200
#: What the large run may hold beyond 1.2 times the small one's peak. What grows here is not the text
#: but the number of sequences: the Trainer's shuffled order (torch's RandomSampler makes a Python list
#: of every index, about 40 bytes a sequence: 60 MB for the 1.5 million blocks of 64 tokens of 200 MB;
#: the authors' scripts have the same list). Measured: 533 MiB on 2 MB, 591 MiB on 200 MB (the 200 MB
#: tokenize in about 41 CPU-seconds; 224 s here on two cores under a load of 18). Before the cache,
#: about 40 bytes a token were held: some 4 GB for 200 MB of text.
ALLOWANCE_MIB = 48


def _corpus(path: Path, megabytes: int) -> Path:
    """Lines of Chinese text (the samples, repeated), ``megabytes`` of them, written a piece at a time."""
    sample = data_file(TEST_DATA / "zh_samples.txt").read_bytes()
    with path.open("wb") as handle:
        for _ in range(-(-megabytes * MB // len(sample))):
            handle.write(sample)
    return path


def _train_two_steps(folder: Path, model: Path, corpus: Path) -> tuple[int, float, str]:
    """Two steps of the tiny-test preset on ``corpus``, in a child: its peak (KiB), its time, its log."""
    folder.mkdir()
    # No validation: the held-out share of 200 MB is 15,000 sequences, whose evaluation is not the
    # memory under test (and takes many minutes on 2 cores).
    fields = {
        **PRESETS["tiny-test"].fields,
        "max_steps": 2,
        "save_steps": 0,
        "validation_split_percentage": 0.0,
        "eval_steps": 0,
    }
    spec = JobSpec.from_dict({**fields, "model": str(model), "dataset": str(corpus), "output_dir": str(folder / "out")})
    spec.write(folder / "spec.json")
    measured = run_measured(
        [sys.executable, "-m", "runtime.training.pretrain", "--spec", str(folder / "spec.json")],
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        cwd=folder,
        timeout=RUN_TIMEOUT_S,
    )
    assert measured.returncode == 0, measured.output[-3000:]
    return measured.peak_kib, measured.wall_s, (folder / "out" / "train.log").read_text(encoding="utf-8")


@pytest.mark.slow
def test_a_large_corpus_trains_at_the_memory_of_a_small_one(tmp_path: Path, tiny_llama: Path) -> None:
    small_peak, _, small_log = _train_two_steps(tmp_path / "small", tiny_llama, _corpus(tmp_path / "s.txt", SMALL_MB))
    large = _corpus(tmp_path / "l.txt", LARGE_MB)
    large_peak, seconds, large_log = _train_two_steps(tmp_path / "large", tiny_llama, large)
    for log in (small_log, large_log):
        assert "tokenizing into" in log and "step 2/2" in log
    figures = f"{small_peak // 1024} MiB on {SMALL_MB} MB, {large_peak // 1024} MiB on {LARGE_MB} MB ({seconds:.0f} s)"
    assert large_peak <= 1.2 * small_peak + ALLOWANCE_MIB * 1024, figures
