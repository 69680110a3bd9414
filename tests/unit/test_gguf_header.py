"""runtime.gguf_header: the same header gguf's own reader reads, and a bounded refusal of crafted ones."""

from __future__ import annotations

import struct
from pathlib import Path

import gguf
import numpy as np
import pytest

import runtime.gguf_header
from runtime.gguf_header import GGUFHeaderError, HeaderField, parse_header, read_header
from tests.unit.conftest import zh_scripted  # noqa: F401 - a fixture this module uses

T = gguf.GGUFValueType


def _field_values(field: HeaderField) -> object:
    if field.type == T.STRING:
        return bytes(field.value)
    if field.is_array and field.item_type == T.STRING:
        return [bytes(item) for item in field.value]
    if field.is_array:
        return field.value.tolist()
    return field.value


def _reference_values(field: gguf.ReaderField) -> object:
    if field.types == [T.STRING]:
        return bytes(field.parts[-1])
    if field.types[0] == T.ARRAY and field.types[-1] == T.STRING:
        return [bytes(field.parts[index]) for index in field.data]
    if field.types[0] == T.ARRAY:
        return [value for index in field.data for value in field.parts[index].tolist()]
    return field.parts[-1].tolist()[0]


def _assert_same_as_gguf_reader(path: Path) -> None:
    ours = read_header(path)
    reference = gguf.GGUFReader(path)
    expected_keys = [name for name in reference.fields if not name.startswith("GGUF.")]
    assert list(ours.fields) == expected_keys
    for key in expected_keys:
        field, expected = ours.fields[key], reference.fields[key]
        assert [field.type] + ([field.item_type] if field.is_array else []) == expected.types[:2] or (
            field.is_array and field.count == 0
        ), key
        assert field.count == (len(expected.data) if field.is_array else 1), key
        assert _field_values(field) == _reference_values(expected), key
    assert ours.data_offset == reference.data_offset
    assert len(ours.tensors) == len(reference.tensors)
    for tensor, expected_tensor in zip(ours.tensors, reference.tensors, strict=True):
        assert tensor.name == expected_tensor.name
        assert tensor.shape == tuple(int(d) for d in expected_tensor.shape)
        assert tensor.tensor_type == int(expected_tensor.tensor_type)
        assert tensor.data_offset == int(expected_tensor.data_offset)
        assert tensor.n_elements == int(expected_tensor.n_elements)
        assert tensor.n_bytes == int(expected_tensor.n_bytes)


def test_the_real_models_read_as_gguf_reads_them(stories_gguf: Path, smollm2_gguf: Path) -> None:
    # stories260K: a SentencePiece vocabulary, f32 tensors. SmolLM2: BPE with merges, a chat
    # template, Q4_1 blocks.
    _assert_same_as_gguf_reader(stories_gguf)
    _assert_same_as_gguf_reader(smollm2_gguf)


def test_the_paper_vocabulary_model_reads_as_gguf_reads_it(zh_scripted) -> None:  # noqa: F811
    _assert_same_as_gguf_reader(zh_scripted.path)


def test_a_big_endian_file_reads_as_gguf_reads_it(tmp_path: Path) -> None:
    path = tmp_path / "big-endian.gguf"
    writer = gguf.GGUFWriter(path, arch="llama", endianess=gguf.GGUFEndian.BIG)
    writer.add_uint32("llama.context_length", 4096)
    writer.add_float32("llama.rope.freq_base", 10000.0)
    writer.add_array("tokenizer.ggml.tokens", ["<unk>", "你好", "a"])
    writer.add_array("tokenizer.ggml.scores", [0.0, -1.5, -2.0])
    writer.add_tensor("token_embd.weight", np.arange(12, dtype=np.float32).reshape(3, 4))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    header = read_header(path)
    assert header.fields["llama.context_length"].value == 4096
    assert header.fields["tokenizer.ggml.scores"].value.tolist() == [0.0, -1.5, -2.0]
    assert [bytes(piece).decode() for piece in header.fields["tokenizer.ggml.tokens"].value] == ["<unk>", "你好", "a"]
    assert header.tensors[0].shape == (4, 3)


def test_every_cut_of_a_header_is_refused_by_name(stories_gguf: Path) -> None:
    whole = stories_gguf.read_bytes()
    header_bytes = read_header(stories_gguf).header_bytes
    for cut in range(4, header_bytes, max(1, header_bytes // 400)):
        with pytest.raises(GGUFHeaderError, match="ends in the middle of|appears twice|impossible|unknown"):
            parse_header(whole[:cut])


def _header(*, version: int = 3, tensors: int = 0, keys: list[bytes], count: int | None = None) -> bytes:
    body = b"".join(keys)
    return b"GGUF" + struct.pack("<IQQ", version, tensors, len(keys) if count is None else count) + body


def _string(text: bytes) -> bytes:
    return struct.pack("<Q", len(text)) + text


def _key(name: str, value_type: int, payload: bytes) -> bytes:
    return _string(name.encode()) + struct.pack("<I", value_type) + payload


@pytest.mark.parametrize(
    ("data", "phrase"),
    [
        (_header(version=1, keys=[]), "version 1"),
        (_header(keys=[], count=1 << 40), "1,099,511,627,776 metadata keys"),
        (_header(keys=[], tensors=1 << 50), "tensors"),
        # An array of strings that says it holds 2**40 entries: refused before a single step.
        (_header(keys=[_key("tokenizer.ggml.tokens", 9, struct.pack("<IQ", 8, 1 << 40))]), "more than any model"),
        (_header(keys=[_key("a.b", 9, struct.pack("<IQ", 9, 1))]), "array of arrays"),
        (_header(keys=[_key("a.b", 42, b"")]), "unknown value type 42"),
        (_header(keys=[_key("a.b", 4, struct.pack("<I", 1))] * 2), "appears twice"),
        (_header(keys=[_key("a.b", 8, struct.pack("<Q", 1 << 60))]), "ends in the middle of a.b"),
        # A float array longer than the file.
        (_header(keys=[_key("a.b", 9, struct.pack("<IQ", 6, 1 << 61))]), "ends in the middle of a.b"),
        (_header(keys=[_key("general.alignment", 4, struct.pack("<I", 24))]), "not a power of two"),
        (b"GGML" + bytes(20), "GGUF signature"),
    ],
)
def test_crafted_headers_are_refused_naming_what_is_wrong(data: bytes, phrase: str) -> None:
    with pytest.raises(GGUFHeaderError, match=phrase):
        parse_header(data)


def test_crafted_tensor_entries_are_refused(tmp_path: Path) -> None:
    def tensor(name: bytes, dims: list[int], raw_type: int) -> bytes:
        return (
            _string(name)
            + struct.pack("<I", len(dims))
            + struct.pack(f"<{len(dims)}Q", *dims)
            + struct.pack("<IQ", raw_type, 0)
        )

    cases = {
        "unknown type 99": tensor(b"w", [32], 99),
        "5 dimensions": tensor(b"w", [1, 1, 1, 1, 1], 0),
        "impossible shape": tensor(b"w", [1 << 40, 1 << 40], 0),
        # Q4_0 packs 32 values per block: a row of 33 is not a whole number of blocks.
        "impossible shape [33]": tensor(b"w", [33], 2),
    }
    for phrase, entry in cases.items():
        with pytest.raises(GGUFHeaderError, match=phrase.replace("[", r"\[").replace("]", r"\]")):
            parse_header(_header(tensors=1, keys=[]) + entry)
    with pytest.raises(GGUFHeaderError, match="the tensor w appears twice"):
        parse_header(_header(tensors=2, keys=[]) + tensor(b"w", [32], 0) * 2)


def test_the_strings_in_all_arrays_are_bounded_together(monkeypatch: pytest.MonkeyPatch) -> None:
    # Each array under the limit, both together over it: the second is refused before its first step.
    monkeypatch.setattr(runtime.gguf_header, "MAX_STRINGS", 10)
    first = _key("a.one", 9, struct.pack("<IQ", 8, 6) + _string(b"x") * 6)
    second = _key("a.two", 9, struct.pack("<IQ", 8, 6) + _string(b"y") * 6)
    with pytest.raises(GGUFHeaderError, match="a.two has 6 strings"):
        parse_header(_header(keys=[first, second]))
    assert parse_header(_header(keys=[first])).fields["a.one"].count == 6
