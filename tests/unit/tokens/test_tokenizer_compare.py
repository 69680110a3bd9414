"""Counting and segmenting text under several tokenizers (issue 3), with real sentencepiece and llama.cpp."""

from __future__ import annotations

import os
import random
import shutil
from collections.abc import Iterator
from pathlib import Path

import gguf
import pytest
import sentencepiece

from runtime import tokens as tk
from runtime.models.tiny import write_llama_gguf
from runtime.tokens import MergeResult, TokenizerError, TokenizerSpec

POEM = "白日依山尽，黄河入海流。欲穷千里目，更上一层楼。"
# Leading and doubled spaces, a NUL, emoji (byte fallback), a rare character, a newline, Latin, digits,
# the SentencePiece space symbol itself and a trailing space: every case the span arithmetic must get right.
MIXED = "  Hi 🦙 白日\x00依山\n尽 ab 12345  犇犇 end ▁x 🦙🦙 "
NAMES = ("llama", "chinese-llama", "chinese-llama-2")


@pytest.fixture(scope="module")
def paragraphs(zh_samples: Path) -> list[str]:
    text = zh_samples.read_text(encoding="utf-8")
    found = [p for p in text.split("\n\n") if p.strip()]
    assert len(found) > 1000
    return found


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """An application directory for the module's shared tokenizers (the autouse one is per test)."""
    path = tmp_path_factory.mktemp("module-home")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ALPACA_DESK_HOME", str(path))
        yield path


@pytest.fixture(scope="module")
def loaded(home: Path) -> dict[str, tk.LoadedTokenizer]:
    """The known tokenizers as the app finds them: shipped, and Chinese-LLaMA merged from them."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ALPACA_DESK_HOME", str(home))
        return {name: tk.load_tokenizer(tk.resolve_tokenizer(name)) for name in NAMES}


@pytest.fixture(scope="module")
def reference(
    llama_tokenizer: Path, chinese_llama2_tokenizer: Path, merged_sp: sentencepiece.SentencePieceProcessor
) -> dict[str, sentencepiece.SentencePieceProcessor]:
    """Plain sentencepiece processors, loaded independently of runtime.tokens."""
    return {
        "llama": sentencepiece.SentencePieceProcessor(model_file=str(llama_tokenizer)),
        "chinese-llama": merged_sp,
        "chinese-llama-2": sentencepiece.SentencePieceProcessor(model_file=str(chinese_llama2_tokenizer)),
    }


def reference_spans(sp: sentencepiece.SentencePieceProcessor, text: str) -> list[tuple[int, int]]:
    """Spans from sentencepiece's own alignment: byte offsets into the text, made character offsets."""
    result = sp.encode(text, out_type="proto")
    data = text.encode("utf-8")
    char_at = [0] * (len(data) + 1)
    for index in range(len(data)):
        char_at[index + 1] = char_at[index] + (1 if data[index] & 0xC0 != 0x80 else 0)
    spans = [(char_at[p.begin], char_at[p.end]) for p in result.pieces]
    # The leading byte pieces of a character have an empty span; they take the character's.
    for index in range(len(spans) - 2, -1, -1):
        start, end = spans[index]
        if start == end and result.pieces[index].piece.startswith("<0x") and spans[index + 1][0] == start:
            spans[index] = spans[index + 1]
    return spans


def assert_tiles(text: str, segmentation: tk.Segmentation) -> None:
    """Distinct spans, in order, cover the text exactly; byte pieces of one character share a span."""
    assert len(segmentation.ids) == len(segmentation.pieces) == len(segmentation.spans)
    distinct: list[tuple[int, int]] = []
    for span in segmentation.spans:
        if not distinct or span != distinct[-1]:
            distinct.append(span)
    covered = [span for span in distinct if span[0] != span[1]]
    assert "".join(text[start:end] for start, end in covered) == text
    assert all(a[1] == b[0] for a, b in zip(covered, covered[1:], strict=False))
    for piece, (start, end) in zip(segmentation.pieces, segmentation.spans, strict=True):
        if piece.startswith("<0x") and piece.endswith(">"):
            assert end - start == 1  # exactly the one character the bytes spell
        elif start < end:
            spelled = piece.replace("▁", " ")
            # A first piece may begin with the dummy prefix, which stands for no character.
            allowed = {spelled, spelled[1:]} if start == 0 and spelled.startswith(" ") else {spelled}
            assert text[start:end] in allowed or text[start:end] == piece  # "▁" in the text is itself
    assert segmentation.byte_fallback == sum(p.startswith("<0x") for p in segmentation.pieces)


# -- counts ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_counts_equal_sentencepiece_on_every_paragraph(
    name: str, loaded: dict[str, tk.LoadedTokenizer], reference: dict, paragraphs: list[str]
) -> None:
    tokenizer, sp = loaded[name], reference[name]
    for paragraph in paragraphs:
        expected = sp.encode(paragraph)
        (count,) = tk.compare(paragraph, [tokenizer])
        assert count.n_tokens == len(expected), paragraph[:40]
        assert count.n_chars == len(paragraph)
        assert count.byte_fallback == sum(sp.id_to_piece(i).startswith("<0x") for i in expected)
        assert tokenizer.segment(paragraph).ids == expected


def test_the_poem_halves(loaded: dict[str, tk.LoadedTokenizer]) -> None:
    counts = tk.compare(POEM, [loaded["llama"], loaded["chinese-llama"]])
    assert [c.n_tokens for c in counts] == [37, 21]
    assert [c.label for c in counts] == ["LLaMA (32,000)", "Chinese-LLaMA (49,953)"]
    assert counts[0].byte_fallback > 0 and counts[1].byte_fallback == 0
    assert counts[0].ratio_to_first == 1.0
    assert counts[1].ratio_to_first == pytest.approx(21 / 37)
    assert counts[1].chars_per_token == pytest.approx(24 / 21)
    assert tk.context_capacity(counts[0]) == int(2048 * 24 / 37)
    assert tk.context_capacity(counts[1], 4096) == int(4096 * 24 / 21)
    assert loaded["llama"].n_vocab == 32_000
    assert loaded["chinese-llama"].n_vocab == 49_953
    assert loaded["chinese-llama-2"].n_vocab == 55_296


def test_bos_is_counted_only_when_asked(loaded: dict[str, tk.LoadedTokenizer]) -> None:
    tokenizers = [loaded["llama"], loaded["chinese-llama"]]
    without = tk.compare(POEM, tokenizers)
    with_bos = tk.compare(POEM, tokenizers, add_bos=True)
    assert [c.n_tokens for c in with_bos] == [c.n_tokens + 1 for c in without]
    assert loaded["llama"].count(POEM) == 37
    assert loaded["llama"].count(POEM, add_bos=True) == 38


def test_empty_text_and_no_tokenizers(loaded: dict[str, tk.LoadedTokenizer]) -> None:
    (count,) = tk.compare("", [loaded["llama"]])
    assert (count.n_tokens, count.n_chars, count.chars_per_token, count.ratio_to_first) == (0, 0, 0.0, 1.0)
    assert tk.context_capacity(count) == 0
    assert tk.compare(POEM, []) == []
    assert loaded["llama"].segment("") == tk.Segmentation(ids=[], pieces=[], spans=[], byte_fallback=0)


def test_nul_emoji_mixed_scripts_and_lone_surrogates_count(loaded: dict[str, tk.LoadedTokenizer]) -> None:
    texts = ["\x00\x00", "🦙🐪", "Ünïcödé русский العربية 日本語 한국어", "前\ud83e后", "\udc00", MIXED + "\ud800"]
    for tokenizer in loaded.values():
        for text in texts:
            (count,) = tk.compare(text, [tokenizer])
            assert count.n_tokens > 0 and count.n_chars == len(text)
            assert_tiles(tk.valid_text(text), tokenizer.segment(text))
    # A lone surrogate counts as U+FFFD does: one character, one (byte-fallback) character's tokens.
    llama = loaded["llama"]
    assert llama.count("前\ud83e后") == llama.count("前\ufffd后")
    assert llama.segment("前\ud83e后").spans[-1][1] == 3


# -- spans -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_spans_are_exact(name: str, loaded: dict[str, tk.LoadedTokenizer], reference: dict) -> None:
    tokenizer = loaded[name]
    for text in (MIXED, POEM, " " + POEM, "🦙", " ", "a", "犇", "x  \n\n  y"):
        segmentation = tokenizer.segment(text)
        assert segmentation.ids == reference[name].encode(text)
        assert segmentation.spans == reference_spans(reference[name], text), text
        assert_tiles(text, segmentation)
    if name == "llama":
        segmentation = tokenizer.segment(MIXED)
        first = segmentation.pieces.index("<0xF0>")
        assert segmentation.pieces[first : first + 4] == ["<0xF0>", "<0x9F>", "<0xA6>", "<0x99>"]
        assert segmentation.spans[first : first + 4] == [(5, 6)] * 4  # 🦙: four bytes, one character


@pytest.mark.parametrize("name", NAMES)
def test_spans_equal_sentencepiece_alignment_on_every_paragraph(
    name: str, loaded: dict[str, tk.LoadedTokenizer], reference: dict, paragraphs: list[str]
) -> None:
    tokenizer, sp = loaded[name], reference[name]
    sample = paragraphs[::10]  # sentencepiece's proto output is the slow part of this check
    for paragraph in sample:
        assert tokenizer.segment(paragraph).spans == reference_spans(sp, paragraph), paragraph[:40]


def test_spans_with_a_normalizing_tokenizer(chinese_sp_model: Path) -> None:
    # The paper's Chinese model normalizes (NFKC, whitespace folding): offsets come from sentencepiece.
    tokenizer = tk.load_tokenizer(tk.resolve_tokenizer(str(chinese_sp_model)))
    sp = sentencepiece.SentencePieceProcessor(model_file=str(chinese_sp_model))
    for text in ("ＡＢＣ１２３ 全角", "  spaces   folded  ", "ﬁ①㈱ 白日依山尽", POEM, "前\ud83e后"):
        segmentation = tokenizer.segment(text)
        clean = tk.valid_text(text)
        assert segmentation.ids == sp.encode(clean)
        assert segmentation.spans == reference_spans(sp, clean)


# -- GGUF vocabularies -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def zh_gguf(tmp_path_factory: pytest.TempPathFactory, merged_vocab: MergeResult) -> Path:
    """A tiny random model with the Chinese-LLaMA vocabulary (a model's own tokenizer)."""
    folder = tmp_path_factory.mktemp("gguf")
    return write_llama_gguf(
        folder / "zh-tiny.gguf", tokenizer=merged_vocab.model_proto_bytes, hidden=32, layers=1, heads=2, ffn=32
    )


def test_gguf_vocabulary_equals_llama_cpp(zh_gguf: Path, paragraphs: list[str], merged_vocab: MergeResult) -> None:
    import llama_cpp

    spec = tk.resolve_tokenizer(str(zh_gguf))
    assert (spec.kind, spec.label, spec.trusted) == ("gguf", "zh-tiny.gguf", False)
    tokenizer = tk.load_tokenizer(spec)
    assert tokenizer.n_vocab == 49_953 and tokenizer.add_bos
    # The vocabulary read back is the merged one, piece for piece.
    proto, add_bos = tk.read_gguf_vocab(zh_gguf)
    original = merged_vocab.model_proto()
    assert add_bos
    assert [(p.piece, p.score, p.type) for p in proto.pieces] == [(p.piece, p.score, p.type) for p in original.pieces]

    model = llama_cpp.Llama(model_path=str(zh_gguf), vocab_only=True, verbose=False)
    try:
        for paragraph in [*paragraphs, MIXED, POEM, " leading", "trailing  ", "\n"]:
            expected = model.tokenize(paragraph.encode("utf-8"), add_bos=False)
            assert tokenizer.encode(paragraph) == expected, paragraph[:40]
            (count,) = tk.compare(paragraph, [tokenizer])
            assert count.n_tokens == len(expected)
        with_bos = model.tokenize(POEM.encode("utf-8"), add_bos=True)
        assert tk.compare(POEM, [tokenizer], add_bos=True)[0].n_tokens == len(with_bos) == 22
    finally:
        model.close()


def test_real_gguf_vocabulary(stories_gguf: Path) -> None:
    import llama_cpp

    tokenizer = tk.load_tokenizer(tk.resolve_tokenizer(str(stories_gguf)))
    assert tokenizer.n_vocab == 512
    model = llama_cpp.Llama(model_path=str(stories_gguf), vocab_only=True, verbose=False)
    try:
        for text in ("Once upon a time, there was a little girl.", '  Lily said: "Hi!"\n', MIXED):
            assert tokenizer.encode(text) == model.tokenize(text.encode("utf-8"), add_bos=False)
    finally:
        model.close()


def _gguf_with(path: Path, *, tokens: list[str] | None, model: str = "llama") -> Path:
    writer = gguf.GGUFWriter(path, arch="llama")
    writer.add_name("test")
    if tokens is not None:
        writer.add_tokenizer_model(model)
        writer.add_token_list(tokens)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


# -- bad input -------------------------------------------------------------------------------------


def _error_for(path: Path) -> TokenizerError:
    with pytest.raises(TokenizerError) as info:
        tk.load_tokenizer(tk.resolve_tokenizer(str(path)))
    error = info.value
    assert str(path) in str(error)
    assert error.code and error.params.get("path") == str(path)
    return error


def test_bad_files_give_clear_errors(tmp_path: Path) -> None:
    empty = tmp_path / "empty.model"
    empty.write_bytes(b"")
    assert _error_for(empty).code == "tokenizer_empty"

    text = tmp_path / "notes.model"
    text.write_text("这不是模型 not a model\n" * 50, encoding="utf-8")
    assert _error_for(text).code == "tokenizer_invalid"

    corrupt = tmp_path / "corrupt.model"
    corrupt.write_bytes(b"\x0a\xff\xff\xff\xff\x0f" + bytes(range(256)) * 4)
    assert _error_for(corrupt).code == "tokenizer_invalid"

    noise = tmp_path / "noise.bin"
    noise.write_bytes(random.Random(3).randbytes(20 * 1024 * 1024))
    assert _error_for(noise).code == "tokenizer_invalid"

    huge = tmp_path / "huge.model"
    with huge.open("wb") as handle:  # sparse: no disk space used
        handle.truncate(tk.MAX_MODEL_BYTES + 1)
    error = _error_for(huge)
    assert error.code == "tokenizer_too_large" and "larger than any tokenizer" in str(error)


def test_truncated_model_file(tmp_path: Path, llama_tokenizer: Path) -> None:
    truncated = tmp_path / "tokenizer.model"
    truncated.write_bytes(llama_tokenizer.read_bytes()[:100_000])
    # protobuf reads the complete pieces; sentencepiece then finds the model inconsistent.
    assert _error_for(truncated).code in ("tokenizer_invalid", "tokenizer_rejected")


def test_bad_gguf_files(tmp_path: Path, zh_gguf: Path) -> None:
    no_vocab = _gguf_with(tmp_path / "no-vocab.gguf", tokens=None)
    error = _error_for(no_vocab)
    assert error.code == "gguf_no_vocab" and "tokenizer.model" in str(error)

    gpt2 = _gguf_with(tmp_path / "gpt2.gguf", tokens=["a", "b"], model="gpt2")
    error = _error_for(gpt2)
    assert error.code == "gguf_unsupported_vocab" and error.params["kind"] == "gpt2"

    truncated = tmp_path / "truncated.gguf"
    truncated.write_bytes(zh_gguf.read_bytes()[:50_000])
    assert _error_for(truncated).code == "gguf_invalid"

    signature_only = tmp_path / "signature.gguf"
    signature_only.write_bytes(b"GGUF")
    assert _error_for(signature_only).code == "gguf_invalid"


def test_paths_that_are_not_tokenizers(tmp_path: Path) -> None:
    with pytest.raises(TokenizerError) as info:
        tk.resolve_tokenizer(str(tmp_path / "absent.model"))
    assert info.value.code == "tokenizer_not_found" and "absent.model" in str(info.value)
    with pytest.raises(TokenizerError) as info:
        tk.resolve_tokenizer(str(tmp_path))
    assert info.value.code == "tokenizer_folder_without_model" and str(tmp_path) in str(info.value)


# -- where tokenizers come from --------------------------------------------------------------------


def test_hugging_face_folder_reads_add_bos(tmp_path: Path, llama_tokenizer: Path) -> None:
    folder = tmp_path / "hf"
    folder.mkdir()
    shutil.copyfile(llama_tokenizer, folder / "tokenizer.model")
    spec = tk.resolve_tokenizer(str(folder))
    assert (spec.kind, spec.path, spec.label) == ("hf_folder", str(folder.resolve()), "hf")
    assert tk.load_tokenizer(spec).add_bos
    (folder / "tokenizer_config.json").write_text('{"add_bos_token": false}', encoding="utf-8")
    os.utime(folder / "tokenizer.model", ns=(1, 1))  # a new key: the cached tokenizer is not reused
    tokenizer = tk.load_tokenizer(spec)
    assert not tokenizer.add_bos
    assert tk.compare(POEM, [tokenizer], add_bos=True)[0].n_tokens == 37


def test_loaded_tokenizers_are_cached(llama_tokenizer: Path, tmp_path: Path) -> None:
    spec = tk.resolve_tokenizer(str(llama_tokenizer))
    assert spec.kind == "sentencepiece" and spec.label == "llama/tokenizer.model"
    assert tk.load_tokenizer(spec) is tk.load_tokenizer(spec)
    copy = tmp_path / "copy.model"
    shutil.copyfile(llama_tokenizer, copy)
    first = tk.load_tokenizer(tk.resolve_tokenizer(str(copy)))
    os.utime(copy, ns=(10**18, 10**18))
    assert tk.load_tokenizer(tk.resolve_tokenizer(str(copy))) is not first


def test_chinese_llama_is_merged_into_the_cache(isolated_dirs: Path) -> None:
    spec = tk.resolve_tokenizer("chinese-llama")
    assert (spec.kind, spec.trusted) == ("builtin", True)
    cached = isolated_dirs / "cache" / "tokenizers" / "chinese-llama" / "tokenizer.model"
    assert Path(spec.path) == cached and cached.is_file()
    assert tk.load_tokenizer(spec).n_vocab == 49_953
    # Found in the cache from now on, even without the shipped files.
    assert tk.resolve_tokenizer("chinese-llama", search_dirs=[]).path == str(cached)


def test_missing_named_tokenizer_says_how_to_add_it(tmp_path: Path) -> None:
    with pytest.raises(TokenizerError) as info:
        tk.resolve_tokenizer("chinese-llama-2", search_dirs=[tmp_path])
    error = info.value
    assert error.code == "tokenizer_missing"
    assert "Chinese-LLaMA-2" in str(error) and "tokenizer.model" in str(error)
    assert "hfl/chinese-llama-2-7b" in str(error)
    assert error.params == {
        "name": "chinese-llama-2",
        "label": "Chinese-LLaMA-2 (55,296)",
        "repo": "hfl/chinese-llama-2-7b",
        "size": 55_296,
    }
    with pytest.raises(TokenizerError) as info:
        tk.resolve_tokenizer("chinese-llama", search_dirs=[tmp_path])
    assert info.value.code == "tokenizer_missing" and "Chinese-LLaMA (49,953)" in str(info.value)


def test_fetch_offline(tmp_path: Path, llama_tokenizer: Path) -> None:
    with pytest.raises(TokenizerError) as info:
        tk.fetch_tokenizer("chinese-llama-2", cache_dir=tmp_path / "cache", offline=True)
    assert info.value.code == "tokenizer_missing" and "offline" in str(info.value)
    with pytest.raises(TokenizerError) as info:
        tk.fetch_tokenizer("gpt-4", offline=True)
    assert info.value.code == "tokenizer_unknown"

    # A copy another tool downloaded into the Hugging Face cache is found without the network.
    hub = tmp_path / "hub"
    repo = hub / "models--hf-internal-testing--llama-tokenizer"
    commit = "0" * 40
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(commit, encoding="utf-8")
    (repo / "snapshots" / commit).mkdir(parents=True)
    shutil.copyfile(llama_tokenizer, repo / "snapshots" / commit / "tokenizer.model")
    spec = tk.fetch_tokenizer("llama", cache_dir=tmp_path / "cache", offline=True, hub_cache_dir=hub)
    assert Path(spec.path) == tmp_path / "cache" / "llama" / "tokenizer.model"
    assert (spec.kind, spec.trusted) == ("builtin", True)
    assert Path(spec.path).read_bytes() == llama_tokenizer.read_bytes()

    # The wrong file under a known name is refused.
    shutil.copyfile(llama_tokenizer.parent.parent / "chinese_sp.model", repo / "snapshots" / commit / "tokenizer.model")
    with pytest.raises(TokenizerError) as info:
        tk.fetch_tokenizer("llama", cache_dir=tmp_path / "other", offline=True, hub_cache_dir=hub)
    assert info.value.code == "tokenizer_wrong_size"


# -- vocabulary sizes ------------------------------------------------------------------------------


def test_vocab_size_checks() -> None:
    assert tk.check_vocab_matches(49_953, 49_953) is None
    alpaca = tk.vocab_mismatch(49_953, 49_954)
    assert alpaca is not None and alpaca.code == "vocab_llama_alpaca_mismatch"
    assert "pad" in alpaca.message and alpaca.params == {"tokenizer": 49_953, "rows": 49_954}
    text = tk.check_vocab_matches(32_000, 49_953)
    assert text is not None and "32,000" in text and "49,953" in text and "Chinese" in text
    assert tk.vocab_mismatch(49_954, 32_000).code == "vocab_llama_chinese_mismatch"  # type: ignore[union-attr]
    assert tk.vocab_mismatch(55_296, 32_000).code == "vocab_size_mismatch"  # type: ignore[union-attr]


def test_spec_is_a_plain_value() -> None:
    spec = TokenizerSpec(kind="sentencepiece", path="/x/tokenizer.model", label="x")
    assert not spec.trusted and spec == TokenizerSpec("sentencepiece", "/x/tokenizer.model", "x")
