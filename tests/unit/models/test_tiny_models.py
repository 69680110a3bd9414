"""Tiny GGUF builders: llama.cpp loads them, tokenizes like sentencepiece, and scripted ones answer."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import gguf
import llama_cpp
import pytest
import sentencepiece

from runtime.models import tiny as tiny_models
from runtime.models.tiny import build_bench_model, script_for_answer, write_llama_gguf
from runtime.tokens import DEFAULT_PAD_TOKEN, MergeResult, TokenizerError, merge_sentencepiece

# The Alpaca prompt the app sends ends in two newlines; the scripted answer follows the last one.
PROMPT = "### Instruction:\n\n打个招呼\n\n### Response:\n\n"
# Chinese pieces plus an emoji that the merged vocabulary only has as four byte-fallback pieces.
ANSWER = "你好，世界😀"


@pytest.fixture(scope="module")
def merged(llama_tokenizer: Path, chinese_sp_model: Path) -> MergeResult:
    return merge_sentencepiece(llama_tokenizer, chinese_sp_model)


@pytest.fixture(scope="module")
def sp(merged: MergeResult) -> sentencepiece.SentencePieceProcessor:
    return merged.processor()


@pytest.fixture(scope="module")
def zh_random_model(tmp_path_factory: pytest.TempPathFactory, merged: MergeResult) -> Path:
    path = tmp_path_factory.mktemp("tiny") / "zh-random-f32.gguf"
    return write_llama_gguf(path, tokenizer=merged.model_proto_bytes, name="zh-random")


@pytest.fixture(scope="module")
def zh_llm(zh_random_model: Path) -> Iterator[llama_cpp.Llama]:
    llm = llama_cpp.Llama(str(zh_random_model), n_ctx=256, verbose=False)
    yield llm
    llm.close()


@pytest.fixture(scope="module")
def scripted_model(
    tmp_path_factory: pytest.TempPathFactory, merged: MergeResult, sp: sentencepiece.SentencePieceProcessor
) -> Path:
    transitions = script_for_answer(sp, after_token=sp.encode(PROMPT)[-1], answer=ANSWER)
    path = tmp_path_factory.mktemp("tiny") / "zh-scripted.gguf"
    return write_llama_gguf(path, tokenizer=merged.model_proto_bytes, weights="scripted", transitions=transitions)


def _paragraphs(zh_samples: Path) -> list[str]:
    text = zh_samples.read_text(encoding="utf-8")
    return [paragraph for paragraph in text.split("\n\n") if paragraph.strip()]


def test_model_has_the_merged_vocabulary_and_metadata(zh_llm: llama_cpp.Llama) -> None:
    assert zh_llm.n_vocab() == 49_953
    meta = zh_llm.metadata
    assert meta["general.architecture"] == "llama"
    assert meta["general.name"] == "zh-random"
    assert meta["tokenizer.ggml.model"] == "llama"
    assert (meta["tokenizer.ggml.bos_token_id"], meta["tokenizer.ggml.eos_token_id"]) == ("1", "2")
    assert meta["tokenizer.ggml.add_bos_token"] == "true"
    assert meta["llama.context_length"] == "2048"
    assert meta["llama.rope.dimension_count"] == "16"
    assert zh_llm.token_bos() == 1
    assert zh_llm.token_eos() == 2


def test_llama_cpp_tokenizes_like_sentencepiece(
    zh_llm: llama_cpp.Llama, sp: sentencepiece.SentencePieceProcessor, zh_samples: Path
) -> None:
    paragraphs = _paragraphs(zh_samples)
    assert len(paragraphs) > 1000
    for paragraph in paragraphs:
        assert zh_llm.tokenize(paragraph.encode("utf-8"), add_bos=False) == sp.encode(paragraph), paragraph
    # Both add the dummy-prefix space, both fall back to bytes for what the vocabulary lacks.
    assert zh_llm.tokenize(b"\xf0\x9f\x98\x80", add_bos=False) == sp.encode("😀")
    assert zh_llm.tokenize(PROMPT.encode(), add_bos=True) == [1, *sp.encode(PROMPT)]


def test_user_defined_pieces_are_where_llama_cpp_differs(
    tmp_path: Path, llama_tokenizer: Path, chinese_sp_model: Path
) -> None:
    """Documents the one known difference: llama.cpp treats USER_DEFINED pieces as special fragments.

    It matches them before tokenizing the text around them and gives the text that follows one a
    dummy-prefix space of its own; sentencepiece does not. Only text containing the literal pad
    piece (Chinese-Alpaca's ``<pad>``) is affected.
    """
    padded = merge_sentencepiece(llama_tokenizer, chinese_sp_model, pad_token=DEFAULT_PAD_TOKEN)
    path = write_llama_gguf(tmp_path / "pad.gguf", tokenizer=padded.model_proto_bytes, layers=1)
    sp = padded.processor()
    llm = llama_cpp.Llama(str(path), n_ctx=64, verbose=False)
    try:
        assert llm.n_vocab() == 49_954
        text = "a<pad>b"
        assert sp.encode(text, out_type=str) == ["▁a", "<pad>", "b"]
        assert [sp.id_to_piece(t) for t in llm.tokenize(text.encode(), add_bos=False)] == [
            "▁a",
            "<pad>",
            "▁b",
        ]
    finally:
        llm.close()


def test_answer_needs_byte_fallback(sp: sentencepiece.SentencePieceProcessor) -> None:
    pieces = sp.encode(ANSWER, out_type=str)
    assert pieces[-4:] == ["<0xF0>", "<0x9F>", "<0x98>", "<0x80>"]


def test_script_for_answer_chains_the_pieces(sp: sentencepiece.SentencePieceProcessor, merged: MergeResult) -> None:
    after = sp.encode(PROMPT)[-1]
    assert sp.id_to_piece(after) == "<0x0A>"
    transitions = script_for_answer(merged.model_proto_bytes, after_token=after, answer=ANSWER)
    chain = [after]
    while chain[-1] in transitions:
        chain.append(transitions[chain[-1]])
    assert chain[-1] == 2
    # No dummy prefix: the first piece is the bare "你", not "▁你", so no space appears in front.
    assert sp.id_to_piece(chain[1]) == "你"
    assert sp.decode(chain[1:-1]) == ANSWER


def test_script_for_answer_rejects_what_a_bigram_cannot_say(sp: sentencepiece.SentencePieceProcessor) -> None:
    with pytest.raises(ValueError, match="'你' .*twice"):
        script_for_answer(sp, after_token=13, answer="你好你")
    with pytest.raises(ValueError, match="after_token"):
        script_for_answer(sp, after_token=sp.piece_to_id("你"), answer="你好")
    with pytest.raises(ValueError, match="empty"):
        script_for_answer(sp, after_token=13, answer="")
    with pytest.raises(TokenizerError):
        script_for_answer(b"not a model", after_token=13, answer="你好")


@pytest.mark.parametrize(
    "sampling",
    [
        {"temperature": 0.0},
        {"temperature": 1.0, "top_k": 40, "top_p": 0.9, "repeat_penalty": 1.1, "seed": 7},
        {"temperature": 0.2, "top_k": 0, "top_p": 1.0, "min_p": 0.0, "repeat_penalty": 1.1, "seed": 1},
    ],
)
def test_scripted_model_answers_exactly(scripted_model: Path, sampling: dict[str, float]) -> None:
    llm = llama_cpp.Llama(str(scripted_model), n_ctx=256, verbose=False)
    try:
        result = llm.create_completion(PROMPT, max_tokens=32, **sampling)
    finally:
        llm.close()
    choice = result["choices"][0]
    assert choice["text"] == ANSWER
    assert choice["finish_reason"] == "stop"
    assert result["usage"]["completion_tokens"] == 8  # 你 好 ， 世界 + four byte pieces


def test_scripted_q8_0_model_answers_with_spaces(
    tmp_path: Path, merged: MergeResult, sp: sentencepiece.SentencePieceProcessor
) -> None:
    prompt = "问：你好\n答："
    answer = "Hello, 世界😀 ok"
    transitions = script_for_answer(sp, after_token=sp.encode(prompt)[-1], answer=answer)
    path = write_llama_gguf(
        tmp_path / "s.gguf",
        tokenizer=merged.model_proto_bytes,
        weights="scripted",
        transitions=transitions,
        dtype="q8_0",
    )
    llm = llama_cpp.Llama(str(path), n_ctx=128, verbose=False)
    try:
        assert llm.create_completion(prompt, max_tokens=32, temperature=0)["choices"][0]["text"] == answer
    finally:
        llm.close()


def test_random_q8_0_model_loads_and_generates(tmp_path: Path, merged: MergeResult) -> None:
    path = write_llama_gguf(
        tmp_path / "q8.gguf",
        tokenizer=merged.model_proto_bytes,
        dtype="q8_0",
        kv_heads=2,
        chat_template="{% for m in messages %}{{ m.content }}{% endfor %}",
        seed=3,
    )
    assert [p.name for p in tmp_path.iterdir()] == ["q8.gguf"]  # the temporary file is gone

    reader = gguf.GGUFReader(path)
    types = {tensor.name: tensor.tensor_type for tensor in reader.tensors}
    assert len(types) == 3 + 2 * 9
    assert types["blk.0.attn_q.weight"] == gguf.GGMLQuantizationType.Q8_0
    assert types["token_embd.weight"] == gguf.GGMLQuantizationType.Q8_0
    assert types["blk.1.ffn_norm.weight"] == gguf.GGMLQuantizationType.F32
    assert types["output_norm.weight"] == gguf.GGMLQuantizationType.F32

    llm = llama_cpp.Llama(str(path), n_ctx=128, verbose=False, seed=1)
    try:
        assert llm.metadata["llama.attention.head_count_kv"] == "2"
        assert llm.metadata["tokenizer.chat_template"].startswith("{% for m in messages %}")
        result = llm.create_completion("你好", max_tokens=4, temperature=0.8, seed=1)
    finally:
        llm.close()
    assert result["usage"]["completion_tokens"] >= 1


def test_f16_from_a_tokenizer_file(tmp_path: Path, llama_tokenizer: Path) -> None:
    path = write_llama_gguf(tmp_path / "f16.gguf", tokenizer=llama_tokenizer, dtype="f16", layers=1)
    types = {tensor.name: tensor.tensor_type for tensor in gguf.GGUFReader(path).tensors}
    assert types["output.weight"] == gguf.GGMLQuantizationType.F16
    assert types["blk.0.attn_norm.weight"] == gguf.GGMLQuantizationType.F32
    llm = llama_cpp.Llama(str(path), n_ctx=64, verbose=False)
    try:
        assert llm.n_vocab() == 32_000
    finally:
        llm.close()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"hidden": 60, "heads": 4}, "head dimension"),
        ({"hidden": 64, "heads": 5}, "multiple of heads"),
        ({"kv_heads": 3}, "multiple of kv_heads"),
        ({"hidden": 48, "heads": 4, "dtype": "q8_0"}, "q8_0 needs"),
        ({"dtype": "q4_0"}, "dtype must be"),
        ({"weights": "scripted"}, "transitions"),
        ({"weights": "random", "transitions": {13: 14}}, "only apply"),
        ({"weights": "scripted", "transitions": {i: i + 1 for i in range(65)}}, "do not fit"),
        ({"weights": "scripted", "transitions": {13: 10**6}}, "outside the vocabulary"),
        ({"weights": "zeros"}, "weights must be"),
    ],
)
def test_write_llama_gguf_validates(tmp_path: Path, merged: MergeResult, kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        write_llama_gguf(tmp_path / "x.gguf", tokenizer=merged.model_proto_bytes, **kwargs)
    assert list(tmp_path.iterdir()) == []


def test_bench_model_is_cached_by_shape(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, llama_tokenizer: Path, chinese_sp_model: Path
) -> None:
    calls: list[dict] = []

    def fake_write(path: Path, **kwargs: object) -> Path:
        calls.append(kwargs)
        Path(path).write_bytes(b"GGUF")
        return Path(path)

    monkeypatch.setattr(tiny_models, "write_llama_gguf", fake_write)
    first = build_bench_model(tmp_path / "cache", llama_tokenizer, chinese_sp_model)
    second = build_bench_model(tmp_path / "cache", llama_tokenizer, chinese_sp_model)
    assert first == second
    assert len(calls) == 1
    assert "v49953-h768-l12-a12-f2048-c2048-q8_0" in first.name
    assert (calls[0]["hidden"], calls[0]["layers"], calls[0]["dtype"]) == (768, 12, "q8_0")
