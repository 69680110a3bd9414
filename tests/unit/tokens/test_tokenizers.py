"""SentencePiece loading and the Chinese-LLaMA vocabulary merge (paper section 4.2)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sentencepiece import sentencepiece_model_pb2 as sp_pb2

from runtime.errors import AppError
from runtime.tokens import (
    DEFAULT_PAD_TOKEN,
    MergeResult,
    TokenizerError,
    load_sentencepiece,
    merge_sentencepiece,
    read_model_proto,
    write_merged,
)

POEM = "白日依山尽，黄河入海流。欲穷千里目，更上一层楼。"
_SP = sp_pb2.ModelProto.SentencePiece


@pytest.fixture(scope="module")
def merged(llama_tokenizer: Path, chinese_sp_model: Path) -> MergeResult:
    return merge_sentencepiece(llama_tokenizer, chinese_sp_model)


def test_merge_gives_the_chinese_llama_vocabulary(merged: MergeResult, llama_tokenizer: Path) -> None:
    assert (merged.base_size, merged.added, merged.final_size) == (32_000, 17_953, 49_953)
    assert merged.pad_token is None
    llama = read_model_proto(llama_tokenizer)
    result = merged.model_proto()
    assert len(result.pieces) == 49_953
    for original, kept in zip(llama.pieces, result.pieces[:32_000], strict=True):
        assert (kept.piece, kept.score, kept.type) == (original.piece, original.score, original.type)
    appended = result.pieces[32_000:]
    assert all(piece.score == 0.0 and piece.type == _SP.NORMAL for piece in appended)
    assert len({piece.piece for piece in result.pieces}) == 49_953
    # The base model's settings survive, byte fallback above all (emoji, rare characters).
    assert result.trainer_spec.byte_fallback
    assert result.normalizer_spec == llama.normalizer_spec


def test_merge_with_pad_token(llama_tokenizer: Path, chinese_sp_model: Path) -> None:
    result = merge_sentencepiece(llama_tokenizer, chinese_sp_model, pad_token=DEFAULT_PAD_TOKEN)
    assert (result.added, result.final_size, result.pad_token) == (17_953, 49_954, "<pad>")
    last = result.model_proto().pieces[-1]
    assert (last.piece, last.type) == ("<pad>", _SP.USER_DEFINED)
    sp = result.processor()
    assert sp.piece_to_id("<pad>") == 49_953
    assert sp.vocab_size() == 49_954


def test_pad_token_must_be_new(llama_tokenizer: Path, chinese_sp_model: Path) -> None:
    with pytest.raises(ValueError, match="already a piece"):
        merge_sentencepiece(llama_tokenizer, chinese_sp_model, pad_token="</s>")
    with pytest.raises(ValueError, match="non-empty"):
        merge_sentencepiece(llama_tokenizer, chinese_sp_model, pad_token="")


def test_merging_a_model_into_itself_adds_nothing(llama_tokenizer: Path) -> None:
    result = merge_sentencepiece(llama_tokenizer, llama_tokenizer)
    assert (result.base_size, result.added, result.final_size) == (32_000, 0, 32_000)


def test_merged_tokenizer_halves_chinese_tokens(merged: MergeResult, llama_tokenizer: Path) -> None:
    llama = load_sentencepiece(llama_tokenizer)
    chinese = merged.processor()
    before = llama.encode(POEM)
    after = chinese.encode(POEM)
    assert len(before) == 37
    assert len(after) == 21
    assert any(piece.startswith("<0x") for piece in llama.id_to_piece(before))
    assert chinese.decode(after) == POEM


def test_write_merged_makes_a_tokenizer_folder(tmp_path: Path, llama_tokenizer: Path, chinese_sp_model: Path) -> None:
    result = merge_sentencepiece(llama_tokenizer, chinese_sp_model, pad_token=DEFAULT_PAD_TOKEN)
    model_path = write_merged(result, tmp_path / "merged")
    folder = tmp_path / "merged"
    assert model_path == folder / "tokenizer.model"
    assert sorted(p.name for p in folder.iterdir()) == [
        "special_tokens_map.json",
        "tokenizer.model",
        "tokenizer_config.json",
    ]
    assert model_path.read_bytes() == result.model_proto_bytes
    assert load_sentencepiece(model_path).vocab_size() == 49_954

    config = json.loads((folder / "tokenizer_config.json").read_text(encoding="utf-8"))
    assert config["tokenizer_class"] == "LlamaTokenizer"
    assert config["add_bos_token"] is True
    assert config["add_eos_token"] is False
    assert (config["bos_token"], config["eos_token"], config["unk_token"]) == ("<s>", "</s>", "<unk>")
    special = json.loads((folder / "special_tokens_map.json").read_text(encoding="utf-8"))
    assert special == {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "pad_token": "<pad>"}


def test_write_merged_without_pad_has_no_pad_entry(tmp_path: Path, merged: MergeResult) -> None:
    write_merged(merged, tmp_path)
    special = json.loads((tmp_path / "special_tokens_map.json").read_text(encoding="utf-8"))
    assert "pad_token" not in special


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("empty.model", b"", "empty"),
        ("text.model", "这不是模型\nnot a model either\n".encode(), "does not parse"),
        ("noise.model", bytes(range(256)) * 8, "does not parse"),
        # Valid protobuf wire format, but no pieces: must not reach sentencepiece.
        ("unknown-field.model", b"\x08\x01", "no pieces"),
    ],
)
def test_bad_files_raise_a_clear_error(tmp_path: Path, name: str, content: bytes, reason: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(TokenizerError, match=reason) as info:
        load_sentencepiece(path)
    assert isinstance(info.value, AppError)
    assert str(path) in str(info.value)
    assert "is not a SentencePiece model" in str(info.value)


def test_missing_file_and_folder(tmp_path: Path) -> None:
    with pytest.raises(TokenizerError, match="does not exist"):
        load_sentencepiece(tmp_path / "absent.model")
    with pytest.raises(TokenizerError, match="folder"):
        load_sentencepiece(tmp_path)


def test_gguf_file_is_not_a_tokenizer(stories_gguf: Path) -> None:
    with pytest.raises(TokenizerError, match="not a SentencePiece model"):
        load_sentencepiece(stories_gguf)


def test_merge_rejects_bad_input(tmp_path: Path, llama_tokenizer: Path) -> None:
    bad = tmp_path / "bad.model"
    bad.write_bytes(b"GGUF\x03\x00\x00\x00")
    with pytest.raises(TokenizerError, match="bad.model"):
        merge_sentencepiece(llama_tokenizer, bad)
    with pytest.raises(TokenizerError, match="bad.model"):
        merge_sentencepiece(bad, llama_tokenizer)


def test_read_model_proto_accepts_bytes(merged: MergeResult) -> None:
    assert len(read_model_proto(merged.model_proto_bytes).pieces) == 49_953
    with pytest.raises(TokenizerError, match="empty"):
        read_model_proto(b"")
