"""The model-file checks that run before llama.cpp sees a file."""

from __future__ import annotations

import json
from pathlib import Path

import gguf
import numpy as np
import pytest

import runtime.models.info
from runtime.errors import ModelLoadError
from runtime.models import ModelInfo, check_model_file, embedding_rows, read_model_info
from tests.unit.conftest import MetadataValue, copy_gguf


def test_read_model_info_of_stories260k(stories_gguf: Path) -> None:
    info = read_model_info(stories_gguf)
    assert info.vocab_size == 512
    assert info.architecture == "llama"
    assert info.file_name == "stories260K.gguf"
    assert info.size_bytes == stories_gguf.stat().st_size
    assert info.context_length > 0
    assert 200_000 < info.n_params < 400_000  # "260K" parameters (embeddings included)
    assert info.params_label.endswith("K")
    assert info.has_chat_template is False and info.chat_template is None
    assert ModelInfo.from_dict(json.loads(json.dumps(info.to_dict()))) == info


def test_check_model_file_names_what_is_wrong(tmp_path: Path, stories_gguf: Path) -> None:
    assert check_model_file(stories_gguf) == stories_gguf.resolve()
    cases = {
        "gone.gguf": (None, "not found"),
        "empty.gguf": (b"", "empty"),
        "old.bin": (b"lmgg" + bytes(64), "old GGML"),
        "text.gguf": (b"hello, I am not a model", "not a GGUF"),
    }
    for name, (content, phrase) in cases.items():
        path = tmp_path / name
        if content is not None:
            path.write_bytes(content)
        with pytest.raises(ModelLoadError, match=phrase) as caught:
            read_model_info(path)
        assert name in str(caught.value)


# -- untrusted metadata: every field read is checked for its type and range ----------------------

T = gguf.GGUFValueType
MAX_CTX = runtime.models.info.MAX_CONTEXT_LENGTH
MAX_TEMPLATE = runtime.models.info.MAX_CHAT_TEMPLATE_CHARS

# case: (field, value as copy_gguf takes it, phrase of the problem)
BAD_METADATA: dict[str, tuple[str, MetadataValue, str]] = {
    "context-length-text": ("llama.context_length", ("abc", T.STRING), "is a STRING ('abc'), not a whole number"),
    "context-length-float": ("llama.context_length", (2048.0, T.FLOAT32), "not a whole number"),
    "context-length-uint32-max": ("llama.context_length", (2**32 - 1, T.UINT32), "outside 1.."),
    "context-length-past-the-limit": ("llama.context_length", (MAX_CTX + 1, T.UINT64), "outside 1.."),
    "context-length-zero": ("llama.context_length", (0, T.UINT32), "is 0, outside"),
    "context-length-negative": ("llama.context_length", (-5, T.INT32), "is -5, outside"),
    "file-type-array": ("general.file_type", ([1, 2], T.ARRAY, T.UINT32), "is an array of UINT32"),
    "file-type-negative": ("general.file_type", (-1, T.INT32), "is -1, outside"),
    "architecture-number": ("general.architecture", (7, T.UINT32), "is a UINT32, not text"),
    "architecture-odd-name": ("general.architecture", ("llama\nrm -rf", T.STRING), "not an architecture name"),
    "name-array": ("general.name", ([1], T.ARRAY, T.INT32), "is an array of INT32, not text"),
    "name-not-utf8": ("general.name", (b"\xff\xfe", T.STRING), "not valid UTF-8"),
    "name-too-long": ("general.name", ("n" * 5000, T.STRING), "long (at most 1,024 characters"),
    "embedding-length-text": ("llama.embedding_length", ("wide", T.STRING), "not a whole number"),
    "block-count-too-many": ("llama.block_count", (100_000, T.UINT32), "outside 1..512"),
    "vocab-size-negative": ("llama.vocab_size", (-1, T.INT32), "outside"),
    "tokens-not-strings": ("tokenizer.ggml.tokens", ([1, 2, 3], T.ARRAY, T.INT32), "not a list of strings"),
    "chat-template-number": ("tokenizer.chat_template", (7, T.UINT32), "is a UINT32, not text"),
    # llama.cpp computes with these as they are: a NaN turned every answer into "EEEE".
    "rope-freq-base-nan": ("llama.rope.freq_base", (float("nan"), T.FLOAT32), "is nan, not a finite number"),
    "rope-freq-base-zero": ("llama.rope.freq_base", (0.0, T.FLOAT32), "is 0.0, not a number above 0"),
    "rope-scale-infinite": ("llama.rope.scaling.factor", (float("-inf"), T.FLOAT64), "is -inf, not a finite"),
    "rms-epsilon-nan": ("llama.attention.layer_norm_rms_epsilon", (float("nan"), T.FLOAT32), "is nan"),
    # A template over the limit is not a damaged file: it is kept cut short and the sandbox
    # refuses it by name, while the model works with the built-in templates
    # (tests/unit/chat/test_template_sandbox.py).
}


@pytest.mark.parametrize("case", list(BAD_METADATA))
def test_bad_metadata_is_a_damaged_file_naming_the_field(stories_gguf: Path, tmp_path: Path, case: str) -> None:
    field, value, phrase = BAD_METADATA[case]
    path = copy_gguf(stories_gguf, tmp_path / f"{case}.gguf", changes={field: value})
    with pytest.raises(ModelLoadError) as caught:
        read_model_info(path)
    error = caught.value
    message = str(error)
    assert error.code == "model_bad_metadata"
    assert error.params["field"] == field
    assert error.params["name"] == path.name
    assert message.startswith(f"{path.name} is damaged or unusual: {field} ")
    assert phrase in message
    assert "\n" not in message  # one line on the command line, whatever the file holds
    assert len(message) < 400  # a hostile value is shown cut short


def test_plausible_metadata_is_read_as_it_is(stories_gguf: Path, tmp_path: Path) -> None:
    """Values at the limits, a file type this gguf does not know, and a real chat template pass."""
    template = "{% for m in messages %}{{ m.content }}{% endfor %}"
    changes: dict[str, MetadataValue] = {
        "llama.context_length": (MAX_CTX, T.UINT64),
        "general.file_type": (4000, T.UINT32),
        "general.name": ("中文羊驼 7B", T.STRING),
        "tokenizer.chat_template": (template, T.STRING),
        "llama.vocab_size": (512, T.UINT32),
    }
    info = read_model_info(copy_gguf(stories_gguf, tmp_path / "long.gguf", changes=changes))
    assert info.context_length == MAX_CTX
    assert info.quantization == "F32"  # unknown file type: named from the tensors instead
    assert info.name == "中文羊驼 7B"
    assert info.chat_template == template and info.has_chat_template
    assert info.vocab_size == 512
    # Missing fields are unknown, not errors: the name falls back to the file's.
    bare = copy_gguf(stories_gguf, tmp_path / "bare.gguf", remove=("general.name", "llama.context_length"))
    info = read_model_info(bare)
    assert (info.name, info.context_length) == ("bare", 0)


def test_embedding_rows_checks_the_embedding_shape(tmp_path: Path, stories_gguf: Path) -> None:
    assert embedding_rows(stories_gguf) == 512
    path = tmp_path / "flat.gguf"
    writer = gguf.GGUFWriter(path, arch="llama")
    writer.add_tensor("token_embd.weight", np.zeros(64, dtype=np.float32))  # one dimension, no rows
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    with pytest.raises(ModelLoadError) as caught:
        embedding_rows(path)
    assert caught.value.code == "model_bad_metadata"
    assert caught.value.params["field"] == "token_embd.weight"


@pytest.mark.parametrize("value", [True, -5, 0, "many", 2**40])
def test_embedding_rows_of_a_folder_checks_vocab_size(tmp_path: Path, value: object) -> None:
    (tmp_path / "config.json").write_text(json.dumps({"vocab_size": value}), encoding="utf-8")
    with pytest.raises(ModelLoadError) as caught:
        embedding_rows(tmp_path)
    assert caught.value.code == "model_no_vocab_size"
