"""Quantizing in this process (runtime.models.quantize): refusals leave nothing behind."""

from __future__ import annotations

from pathlib import Path

import pytest

from runtime.errors import AppError, ModelLoadError
from runtime.models.quantize import quantize_gguf
from runtime.models.tiny import write_llama_gguf


@pytest.fixture(scope="module")
def f16_model(tmp_path_factory: pytest.TempPathFactory, llama_tokenizer: Path) -> Path:
    return write_llama_gguf(tmp_path_factory.mktemp("q") / "m-f16.gguf", tokenizer=llama_tokenizer, dtype="f16")


def test_quantize_reports_progress_and_writes_in_place(f16_model: Path, tmp_path: Path) -> None:
    seen: list[tuple[int, int, str]] = []
    result = quantize_gguf(
        f16_model, tmp_path / "m-q8_0.gguf", qtype="q8_0", threads=1, on_progress=lambda p: seen.append(
            (p.done, p.total, p.stage))
    )  # fmt: skip
    assert Path(result["path"]).is_file() and result["type"] == "q8_0"
    assert abs(result["estimate"] - result["bytes"]) / result["bytes"] < 0.05
    assert seen[-1][2] == "done" and any(stage == "quantizing q8_0" and done > 0 for done, _t, stage in seen)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m-q8_0.gguf"]


def test_quantize_refusals_write_nothing(f16_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(AppError) as bad_type:
        quantize_gguf(f16_model, tmp_path / "x.gguf", qtype="q1_x")
    assert bad_type.value.code == "quantize_bad_type"
    not_gguf = tmp_path / "not.gguf"
    not_gguf.write_bytes(b"PK\x03\x04 not a model")
    with pytest.raises(ModelLoadError):
        quantize_gguf(not_gguf, tmp_path / "y.gguf", qtype="q4_0")
    monkeypatch.setenv("ALPACA_DESK_FAKE_FREE_BYTES", "1000")
    with pytest.raises(AppError) as no_space:
        quantize_gguf(f16_model, tmp_path / "z.gguf", qtype="q4_0")
    assert no_space.value.code == "convert_no_space"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["not.gguf"]


def test_sizes_keep_a_unit_that_shows_them() -> None:
    from runtime.models.convert import format_size

    assert format_size(0) == "0 bytes"
    assert format_size(1000) == "1,000 bytes"
    assert format_size(300 * 1024) == "300.0 KiB"
    assert format_size(68 * 2**20 + 2**19) == "68.5 MiB"
    assert format_size(int(6.71 * 2**30)) == "6.71 GiB"
