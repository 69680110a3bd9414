"""The settings file: typed, versioned, and tolerant of damage."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from runtime.chat import DecodingParams
from runtime.settings import MAX_RECENT, SETTINGS_VERSION, Settings, load_settings, save_settings


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


@pytest.mark.parametrize("params", [None, "fast", [0.2, 40]])
def test_params_that_are_not_an_object_fall_back_to_the_papers(tmp_path: Path, params: object) -> None:
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"params": params}), encoding="utf-8")
    assert load_settings(path).decoding_params() == DecodingParams()
