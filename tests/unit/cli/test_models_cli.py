"""``alpaca-desk convert|quantize|report`` as a user runs them: real processes, real files."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

from runtime.cli.models import quantized_name
from runtime.models.tiny_checkpoint import write_llama_checkpoint
from runtime.tokens import MergeResult

REPO_ROOT = Path(__file__).resolve().parents[3]
CLI_TIMEOUT_S = 300


def run_cli(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "runtime.cli", *args],
        cwd=REPO_ROOT,
        env={**os.environ, "ALPACA_DESK_HOME": str(home), "PYTHONIOENCODING": "utf-8"},
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=CLI_TIMEOUT_S,
        check=False,
    )


def test_quantized_names() -> None:
    assert quantized_name("/m/chinese-alpaca-7b-f16.gguf", "q4_k_m") == "chinese-alpaca-7b-q4_k_m.gguf"
    assert quantized_name("model.gguf", "q8_0") == "model-q8_0.gguf"


def test_convert_quantize_report(
    tmp_path: Path, isolated_dirs: Path, merged_vocab: MergeResult, zh_samples: Path
) -> None:
    folder = write_llama_checkpoint(tmp_path / "chinese-alpaca-tiny", tokenizer=merged_vocab.model_proto_bytes)
    f16 = tmp_path / "out" / "chinese-alpaca-tiny-f16.gguf"
    converted = run_cli("convert", str(folder), "--out", str(f16), "--json", home=isolated_dirs)
    assert converted.returncode == 0, converted.stderr
    result = json.loads(converted.stdout)
    assert result["path"] == str(f16) and result["template"] == "chinese-alpaca"  # from the name
    assert "[converting 21/21]" in converted.stderr

    quantized = run_cli(
        "quantize", str(f16), "--type", "q8_0", "--type", "q4_0", "--out", str(tmp_path / "q"), "--threads", "1",
        home=isolated_dirs,
    )  # fmt: skip
    assert quantized.returncode == 0, quantized.stderr
    q4 = tmp_path / "q" / "chinese-alpaca-tiny-q4_0.gguf"
    assert q4.is_file() and (tmp_path / "q" / "chinese-alpaca-tiny-q8_0.gguf").is_file()
    assert "quantizing q4_0" in quantized.stderr and "bits per weight" in quantized.stdout

    table = tmp_path / "report.csv"
    report = run_cli(
        "report", str(f16), str(q4), "--text", str(zh_samples), "--ctx", "64", "--max-chunks", "2",
        "--speed-tokens", "4", "--threads", "1", "--csv", str(table), home=isolated_dirs,
    )  # fmt: skip
    assert report.returncode == 0, report.stderr
    assert "chinese-alpaca-tiny-q4_0.gguf" in report.stdout and "Q4_0" in report.stdout
    rows = list(csv.DictReader(table.open(encoding="utf-8")))
    assert [row["quantization"] for row in rows] == ["F16", "Q4_0"]
    assert all(float(row["perplexity"]) > 1 for row in rows)


def test_bad_input_is_a_clear_message(tmp_path: Path, isolated_dirs: Path) -> None:
    (tmp_path / "empty").mkdir()
    out = tmp_path / "out.gguf"
    failed = run_cli("convert", str(tmp_path / "empty"), "--out", str(out), home=isolated_dirs)
    assert failed.returncode == 2
    assert "holds no model checkpoint" in failed.stderr and "Traceback" not in failed.stderr
    assert not out.exists()
