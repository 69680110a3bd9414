"""Errors from runtime/ reach the user translated."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.i18n import install_translators
from app.messages import error_text, user_message
from runtime.errors import ModelLoadError
from runtime.models import check_model_file


@pytest.fixture
def chinese(qapp):
    install_translators("zh_CN")
    yield
    install_translators("en")


def test_legacy_ggml_file_message_in_chinese(chinese, tmp_path: Path) -> None:
    old = tmp_path / "ggml-model-q4_0.bin"
    old.write_bytes(b"tjgg" + bytes(64))
    with pytest.raises(ModelLoadError) as caught:
        check_model_file(old)
    text = error_text(caught.value)
    assert "ggml-model-q4_0.bin" in text
    assert "GGUF" in text and "旧" in text, text


def test_every_runtime_code_has_a_translation(chinese) -> None:
    from app.messages import _messages

    for code, sentence in _messages().items():
        assert any("\u4e00" <= ch <= "\u9fff" for ch in sentence), f"{code} is not translated: {sentence}"


def test_unknown_code_falls_back_to_english(qapp) -> None:
    assert user_message("no-such-code", {}, "plain English") == "plain English"
    assert user_message("model_empty", {}, "fallback when a value is missing") == "fallback when a value is missing"


def test_every_error_code_raised_in_runtime_is_translated(qapp) -> None:
    import re
    from pathlib import Path

    from app.messages import _messages

    root = Path(__file__).resolve().parents[2] / "runtime"
    source = "\n".join(p.read_text(encoding="utf-8") for p in root.rglob("*.py"))
    codes = set(re.findall(r'code="([a-z_]+)"', source))
    codes |= set(re.findall(r'"((?:tokenizer|gguf)_[a-z_]+)"', source))
    # Reached only from the command line, not errors at all (a cancelled job), or not a code
    # (tokenizer_class is a key of Hugging Face's tokenizer_config.json, tokenizer_cache_dir and
    # gguf_tensor_shapes are functions).
    not_in_the_gui = {
        "text_unreadable",
        "vocab_model_type",
        "cancelled",
        "job_failed",
        "tokenizer_class",
        "tokenizer_cache_dir",
        "gguf_tensor_shapes",  # a function, named in runtime.models.convert's __all__
        "tokenizer_size",  # a key of `train preview`'s JSON and a function of runtime.training.prepare
        # `alpaca-desk serve`'s key file (the window keeps its key in the keyring), and the server's
        # answer while the window has no model (an HTTP error, never shown in the window).
        "serve_key_file_unreadable",
        "serve_key_file_bad",
        "serve_no_model",
    }
    missing = sorted(codes - set(_messages()) - not_in_the_gui)
    assert not missing, f"error codes without a translated message in app/messages.py: {missing}"
