"""The quantization report's pieces: the sample text, perplexity's refusals, the CSV, the size rules."""

from __future__ import annotations

import csv
import hashlib
import io
from pathlib import Path

import pytest

from runtime.models.quantize import QuantizeError, estimate_quantized_bytes, quant_type, tensor_type
from runtime.models.report import ReportError, default_text_path, perplexity, read_text, report_csv
from tests.conftest import DATA_FILES, TEST_DATA


def test_the_bundled_sample_is_the_documented_file() -> None:
    path = default_text_path()
    assert hashlib.sha256(path.read_bytes()).hexdigest() == DATA_FILES[TEST_DATA / "zh_samples.txt"]
    assert (path.parent / "README.md").is_file()


def test_text_refusals(tmp_path: Path, stories_gguf: Path) -> None:
    with pytest.raises(ReportError) as missing:
        read_text(tmp_path / "nope.txt")
    assert missing.value.code == "report_text_unreadable"
    (tmp_path / "empty.txt").write_text("  \n", encoding="utf-8")
    with pytest.raises(ReportError):
        read_text(tmp_path / "empty.txt")
    with pytest.raises(ReportError) as short:
        perplexity(stories_gguf, "Once upon a time.", n_ctx=64, threads=1)
    assert short.value.code == "report_text_too_short" and "needs at least 128" in str(short.value)


def test_perplexity_of_a_real_model(stories_gguf: Path) -> None:
    """stories260K on a story of its kind: far better than chance over its 512 pieces."""
    text = "Once upon a time, there was a little girl named Lily. She loved to play outside. " * 40
    ppl, chunks = perplexity(stories_gguf, text, n_ctx=128, threads=1, max_chunks=3)
    assert chunks == 3 and 1.0 < ppl < 50


def test_csv_columns_and_names() -> None:
    rows = [{"file": "/m/a-q4_0.gguf", "quantization": "Q4_0", "bytes": 10, "bits_per_weight": 4.5,
             "perplexity": 9.47, "tokens_per_second": 12.5, "n_ctx": 512, "n_chunks": 3}]  # fmt: skip
    parsed = list(csv.DictReader(io.StringIO(report_csv(rows))))
    assert parsed[0]["file"] == "a-q4_0.gguf" and parsed[0]["perplexity"] == "9.47"


def test_type_rules_follow_llama_cpp() -> None:
    q4km, q4_0, q8 = quant_type("Q4_K_M"), quant_type("q4_0"), quant_type("q8_0")
    assert tensor_type("output.weight", (32000, 4096), q4km, n_layers=32) == "Q6_K"
    assert tensor_type("output.weight", (32000, 64), q4_0, n_layers=2) == "Q8_0"  # rows not a multiple of 256
    assert tensor_type("output.weight", (32000, 4096), q8, n_layers=32) == "Q8_0"
    assert tensor_type("blk.0.attn_v.weight", (4096, 4096), q4km, n_layers=32) == "Q6_K"  # more bits
    assert tensor_type("blk.5.attn_v.weight", (4096, 4096), q4km, n_layers=32) == "Q4_K"
    assert tensor_type("blk.0.attn_q.weight", (64, 64), q4km, n_layers=2) == "Q5_0"  # block fallback
    assert tensor_type("blk.0.attn_norm.weight", (4096,), q4km, n_layers=32) == "F32"
    with pytest.raises(QuantizeError):
        quant_type("q1_x")
    # A 7B LLaMA at Q4_0: about 3.8 GB (llama.cpp's published figure for 7B Q4_0 is 3.56 GiB).
    shapes = [("token_embd.weight", (32000, 4096)), ("output.weight", (32000, 4096))]
    for i in range(32):
        shapes += [(f"blk.{i}.attn_{n}.weight", (4096, 4096)) for n in ("q", "k", "v", "output")]
        shapes += [(f"blk.{i}.ffn_{n}.weight", (11008, 4096)) for n in ("gate", "up")]
        shapes += [(f"blk.{i}.ffn_down.weight", (4096, 11008))]
    size = estimate_quantized_bytes(shapes, "q4_0", n_layers=32, header_bytes=0)
    assert 3.5 < size / 2**30 < 3.7
