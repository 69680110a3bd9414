"""Decoding parameters, the settings file, and the model-file checks that run before llama.cpp."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from runtime.chat.params import PRESETS, RANGES, DecodingParams
from runtime.errors import ModelLoadError, ParameterError
from runtime.models import ModelInfo, check_model_file, read_model_info
from runtime.settings import MAX_RECENT, SETTINGS_VERSION, Settings, load_settings, save_settings

# -- DecodingParams ---------------------------------------------------------------------------


def test_defaults_are_the_papers() -> None:
    """Chinese-LLaMA paper, section 6.2: context 2048, 512 new tokens, T 0.2, top-k 40, top-p 0.9,
    repetition penalty 1.1."""
    p = DecodingParams()
    assert (p.n_ctx, p.max_tokens, p.temperature, p.top_k, p.top_p, p.repeat_penalty) == (
        2048,
        512,
        0.2,
        40,
        0.9,
        1.1,
    )
    assert p.seed is None
    assert PRESETS["multi-turn chat"].temperature == 0.5
    assert PRESETS["multi-turn chat"].replace(temperature=0.2) == DecodingParams()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("n_ctx", 128),
        ("n_ctx", 65536),
        ("max_tokens", 0),
        ("max_tokens", 9000),
        ("temperature", -0.1),
        ("temperature", 2.5),
        ("top_k", -1),
        ("top_k", 201),
        ("top_p", 1.01),
        ("top_p", -0.5),
        ("repeat_penalty", 0.9),
        ("repeat_penalty", 2.01),
        ("n_ctx", 1000.5),  # not a whole number
        ("top_k", "40"),  # not a number
        ("temperature", True),  # a bool is not a number here
        ("seed", -1),
        ("seed", 2**32),
    ],
)
def test_out_of_range_values_name_the_field(field: str, value: object) -> None:
    with pytest.raises(ParameterError, match=rf"^{field}\b"):
        DecodingParams(**{field: value})  # type: ignore[arg-type]
    # ParameterError is a ValueError too, for callers that only know the standard one.
    with pytest.raises(ValueError):
        DecodingParams().replace(**{field: value})


def test_range_bounds_are_accepted() -> None:
    for name, rng in RANGES.items():
        if name in ("n_ctx", "max_tokens"):
            continue
        assert getattr(DecodingParams(**{name: rng.low}), name) == rng.low
        assert getattr(DecodingParams(**{name: rng.high}), name) == rng.high
    assert DecodingParams(n_ctx=256, max_tokens=255).n_ctx == 256
    assert DecodingParams(n_ctx=32768, max_tokens=8192).max_tokens == 8192
    assert DecodingParams(seed=0).seed == 0 and DecodingParams(seed=2**32 - 1).seed == 2**32 - 1


def test_max_tokens_must_leave_room_for_the_prompt() -> None:
    with pytest.raises(ParameterError, match=r"max_tokens \(512\).*n_ctx \(512\)"):
        DecodingParams(n_ctx=512)


def test_from_dict_ignores_unknown_keys_and_round_trips() -> None:
    params = DecodingParams(temperature=0.7, top_k=20, seed=42)
    data = params.to_dict()
    assert DecodingParams.from_dict({**data, "min_p": 0.05, "mirostat": 2}) == params
    assert DecodingParams.from_dict({}) == DecodingParams()
    assert json.loads(json.dumps(data)) == data


# -- settings -----------------------------------------------------------------------------------


def test_settings_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "config" / "settings.json"
    settings = Settings(
        language="zh_CN",
        recent_models=["/models/a.gguf", "/模型/b.gguf"],
        params=DecodingParams(temperature=0.5, max_tokens=256).to_dict(),
        n_threads=3,
        n_gpu_layers=10,
        show_decoding_panel=False,
    )
    save_settings(settings, path)
    assert [p.name for p in path.parent.iterdir()] == ["settings.json"]  # no temporary left behind
    assert "/模型/b.gguf" in path.read_text(encoding="utf-8")  # readable, not \\u-escaped
    loaded = load_settings(path)
    assert loaded == settings
    assert loaded.decoding_params() == DecodingParams(temperature=0.5, max_tokens=256)


def test_unknown_keys_are_ignored_and_bad_values_fixed(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_text(
        json.dumps(
            {
                "version": 99,
                "language": "klingon",
                "recent_models": [f"/m/{i}.gguf" for i in range(15)],
                "from_the_future": {"x": 1},
                "n_gpu_layers": 5,
            }
        ),
        encoding="utf-8",
    )
    loaded = load_settings(path)
    assert loaded.n_gpu_layers == 5
    assert loaded.language == "system"
    assert loaded.version == SETTINGS_VERSION
    assert loaded.recent_models == [f"/m/{i}.gguf" for i in range(MAX_RECENT)]
    assert not hasattr(loaded, "from_the_future")


@pytest.mark.parametrize("content", [b"{not json", b"", b"[1, 2, 3]", b"\xff\xfe\x00garbage", b"null"])
def test_corrupt_settings_give_defaults(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "settings.json"
    path.write_bytes(content)
    assert load_settings(path) == Settings()


def test_missing_settings_give_defaults(tmp_path: Path) -> None:
    assert load_settings(tmp_path / "nope.json") == Settings()


def test_invalid_saved_params_fall_back_to_the_papers(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"params": {"temperature": 9.0, "top_k": "many"}}), encoding="utf-8")
    assert load_settings(path).decoding_params() == DecodingParams()


def test_recent_models_keeps_newest_first_without_duplicates() -> None:
    settings = Settings()
    for name in ["a", "b", "a", *[f"m{i}" for i in range(12)]]:
        settings.add_recent_model(name)
    assert settings.recent_models[0] == "m11"
    assert len(settings.recent_models) == MAX_RECENT
    assert len(set(settings.recent_models)) == MAX_RECENT


# -- model files --------------------------------------------------------------------------------


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


@pytest.mark.parametrize("params", [None, "fast", [0.2, 40]])
def test_params_that_are_not_an_object_fall_back_to_the_papers(tmp_path: Path, params: object) -> None:
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"params": params}), encoding="utf-8")
    assert load_settings(path).decoding_params() == DecodingParams()
