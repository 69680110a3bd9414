"""The settings file: typed, versioned, and tolerant of damage: a bad value or a broken file gives
the defaults and a notice, and the user's file is never lost."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from runtime.chat import DecodingParams
from runtime.settings import MAX_RECENT, SETTINGS_VERSION, Settings, load_settings, save_settings


def test_settings_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "config" / "settings.json"
    settings = Settings(
        language="zh_CN",
        colour_scheme="dark",
        recent_models=["/models/a.gguf", "/模型/b.gguf"],
        params=DecodingParams(temperature=0.5, max_tokens=256).to_dict(),
        n_threads=3,
        n_gpu_layers=10,
        show_decoding_panel=False,
        speculative="draft",
        draft_model="/模型/chinese-alpaca-2-1.3b/ggml-model-q4_0.gguf",
    )
    save_settings(settings, path)
    assert [p.name for p in path.parent.iterdir()] == ["settings.json"]  # no temporary left behind
    assert "/模型/b.gguf" in path.read_text(encoding="utf-8")  # readable, not \\u-escaped
    loaded, notices = load_settings(path)
    assert loaded == settings
    assert notices == []
    assert loaded.decoding_params() == DecodingParams(temperature=0.5, max_tokens=256)


def test_unknown_keys_are_kept_and_bad_values_fixed(tmp_path: Path) -> None:
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
    loaded, notices = load_settings(path)
    assert [n.params["name"] for n in notices] == ["language"]
    assert loaded.n_gpu_layers == 5
    assert loaded.language == "system"
    assert loaded.version == SETTINGS_VERSION
    assert loaded.recent_models == [f"/m/{i}.gguf" for i in range(MAX_RECENT)]
    assert not hasattr(loaded, "from_the_future")
    # A newer version's keys survive a save by this one (nothing the user had is lost).
    loaded.n_gpu_layers = 7
    save_settings(loaded, path)
    saved = json.loads(path.read_text(encoding="utf-8"))
    assert saved["from_the_future"] == {"x": 1}
    assert saved["n_gpu_layers"] == 7 and "kept_unknown" not in saved
    assert load_settings(path).settings.n_gpu_layers == 7


def test_a_huge_settings_file_is_not_read_and_kept_aside(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    with path.open("wb") as handle:  # sparse: 64 MiB of nothing, cheap to make
        handle.truncate(64 * 1024 * 1024)
    loaded, [notice] = load_settings(path)
    assert loaded == Settings()
    assert notice.code == "settings_kept_aside" and "67,108,864 bytes" in notice.params["reason"]
    [kept] = tmp_path.glob("settings.json.bad-*")
    assert kept.stat().st_size == 64 * 1024 * 1024 and not path.exists()


@pytest.mark.parametrize("content", [b"{not json", b"", b"[1, 2, 3]", b"\xff\xfe\x00garbage", b"null"])
def test_corrupt_settings_are_kept_aside_and_give_defaults(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "settings.json"
    path.write_bytes(content)
    loaded, notices = load_settings(path)
    assert loaded == Settings()
    [notice] = notices
    [kept] = tmp_path.glob("settings.json.bad-*")
    assert re.fullmatch(r"settings\.json\.bad-\d{8}-\d{6}", kept.name)
    assert kept.read_bytes() == content  # byte for byte: nothing the user had is lost
    assert not path.exists()  # so the next save cannot overwrite it, and the next start is quiet
    assert notice.code == "settings_kept_aside"
    assert notice.params["kept"] == kept.name and kept.name in str(notice)
    assert load_settings(path) == (Settings(), [])


def test_a_second_bad_file_never_overwrites_the_first_backup(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    for content in ('{"language": "zh_CN", "recent_models": ["/m/a.gguf"', "{also broken"):
        path.write_text(content, encoding="utf-8")
        load_settings(path)
    backups = sorted(tmp_path.glob("settings.json.bad-*"))
    assert len(backups) == 2
    assert {b.read_text(encoding="utf-8") for b in backups} == {
        '{"language": "zh_CN", "recent_models": ["/m/a.gguf"',
        "{also broken",
    }


def test_a_settings_file_that_cannot_be_moved_aside_is_left_in_place(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.mkdir()  # a folder where the file belongs: unreadable as a file
    (path / "keep-me").write_text("x", encoding="utf-8")
    loaded, [notice] = load_settings(path)
    assert loaded == Settings()
    assert notice.code == "settings_kept_aside"
    [kept] = tmp_path.glob("settings.json.bad-*")
    assert (kept / "keep-me").read_text(encoding="utf-8") == "x"


def test_missing_settings_give_defaults_quietly(tmp_path: Path) -> None:
    assert load_settings(tmp_path / "nope.json") == (Settings(), [])


BAD_VALUES = [
    ("show_decoding_panel", "yes", True),
    ("show_decoding_panel", None, True),
    ("show_tokenizer_panel", 1, False),
    ("n_threads", "many", None),
    ("n_threads", 0, None),
    ("n_threads", 10**9, None),
    ("n_threads", 2.5, None),
    ("n_threads", True, None),
    ("n_gpu_layers", None, 0),
    ("n_gpu_layers", -2, 0),
    ("n_gpu_layers", "all", 0),
    ("language", 7, "system"),
    ("colour_scheme", "purple", "system"),
    ("colour_scheme", None, "system"),
    ("recent_models", "/m/a.gguf", []),
    ("recent_models", {"a": 1}, []),
    ("serve_enabled", "yes", False),
    ("serve_host", "", "127.0.0.1"),
    ("serve_host", "0.0.0.0 ", "127.0.0.1"),
    ("serve_port", 70000, 8080),
    ("serve_port", "8080", 8080),
    ("kv_type", "q5_1", "f16"),
    ("kv_type", ["q8_0"], "f16"),
    ("speculative", "medusa", "off"),
    ("draft_model", 5, ""),
    ("draft_model", ["/m/a.gguf"], ""),
    ("draft_model", None, ""),
    ("draft_model", "/m/a\0.gguf", ""),
]


@pytest.mark.parametrize(("name", "value", "default"), BAD_VALUES)
def test_a_bad_value_falls_back_to_its_default_with_a_notice(
    tmp_path: Path, name: str, value: object, default: object
) -> None:
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"language": "zh_CN", "n_gpu_layers": 3, name: value}), encoding="utf-8")
    loaded, notices = load_settings(path)
    assert getattr(loaded, name) == default
    # The good values beside it are kept.
    expected = Settings(language="zh_CN", n_gpu_layers=3)
    setattr(expected, name, default)
    assert loaded == expected
    [notice] = notices
    assert notice.code == "settings_bad_value"
    assert notice.params == {"name": name, "value": json.dumps(value), "default": json.dumps(default)}
    assert name in str(notice) and json.dumps(value) in str(notice)
    assert list(tmp_path.iterdir()) == [path]  # valid JSON: nothing to keep aside


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("n_threads", None),
        ("n_threads", 8),
        ("n_gpu_layers", -1),
        ("serve_enabled", True),
        ("serve_host", "0.0.0.0"),
        ("serve_port", 0),
        ("kv_type", "q4_0"),
        ("speculative", "draft"),
        ("draft_model", "/models/hfl/chinese-alpaca-2-1.3b-gguf/ggml-model-q4_0.gguf"),
        ("draft_model", ""),
    ],
)
def test_good_values_give_no_notice(tmp_path: Path, name: str, value: object) -> None:
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({name: value}), encoding="utf-8")
    loaded, notices = load_settings(path)
    assert getattr(loaded, name) == value and notices == []


def test_recent_models_keep_their_good_entries(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"recent_models": ["/m/a.gguf", None, 3, "", "/m/b.gguf"]}), encoding="utf-8")
    loaded, [notice] = load_settings(path)
    assert loaded.recent_models == ["/m/a.gguf", "/m/b.gguf"]
    assert notice.code == "settings_dropped_entries"
    assert notice.params == {"name": "recent_models", "value": '[null, 3, ""]'}


def test_invalid_saved_params_fall_back_to_the_papers_field_by_field(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    params = {"temperature": 9.0, "top_k": "many", "top_p": 0.5, "n_ctx": 4096.0, "max_tokens": 100000, "seed": "x"}
    path.write_text(json.dumps({"params": params}), encoding="utf-8")
    loaded, notices = load_settings(path)
    assert loaded.decoding_params() == DecodingParams(top_p=0.5, n_ctx=4096)
    assert loaded.params["n_ctx"] == 4096 and isinstance(loaded.params["n_ctx"], int)
    assert sorted(n.params["name"] for n in notices) == [
        "params.max_tokens",
        "params.seed",
        "params.temperature",
        "params.top_k",
    ]
    shown = {n.params["name"]: (n.params["value"], n.params["default"]) for n in notices}
    assert shown["params.top_k"] == ('"many"', "40")
    assert shown["params.max_tokens"] == ("100000", "512")


def test_a_long_bad_value_is_shortened_in_the_notice(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"language": "x" * 5000}), encoding="utf-8")
    _, [notice] = load_settings(path)
    assert len(notice.params["value"]) <= 60 and notice.params["value"].endswith("…")


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
    loaded, [notice] = load_settings(path)
    assert loaded.decoding_params() == DecodingParams()
    assert notice.params["name"] == "params"


def test_an_absurdly_long_draft_model_path_falls_back_to_none(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"speculative": "draft", "draft_model": "/m/" + "a" * 5000}), encoding="utf-8")
    loaded, [notice] = load_settings(path)
    assert (loaded.speculative, loaded.draft_model) == ("draft", "")
    assert notice.params["name"] == "draft_model"


def test_the_kv_cache_types_are_the_planners() -> None:
    from runtime.models.plan import KV_TYPES
    from runtime.settings import KV_CACHE_TYPES

    assert KV_CACHE_TYPES == KV_TYPES
