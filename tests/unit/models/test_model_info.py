"""The model-file checks that run before llama.cpp sees a file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from runtime.errors import ModelLoadError
from runtime.models import ModelInfo, check_model_file, read_model_info


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
