"""Hostile and broken inputs at start, through the real window: bad settings and a damaged
conversation database are told once in the banner, and the damaged file's readable messages come
back with the banner's button (a real recovery off the GUI thread)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from app.i18n import install_translators
from app.main_window import AppContext, MainWindow
from app.notices import show_startup_notices
from tests.unit.store._damage import damage_page_with, make_history, without

LOAD_TIMEOUT_MS = 30_000
RECOVERY_TIMEOUT_MS = 60_000


@pytest.fixture
def open_window(qtbot) -> Iterator:
    """Opens the context and its first window as app.main does; closes them after the test."""
    opened: list[AppContext] = []

    def start() -> MainWindow:
        context = AppContext.open(show_errors=False)
        opened.append(context)
        window = MainWindow(context)
        window._replaced = True  # closing it in a test must not quit the shared QApplication
        qtbot.addWidget(window)
        show_startup_notices(window)
        window.show()
        return window

    yield start
    for context in opened:
        context.close()


def write_settings(home: Path, data: object) -> Path:
    path = home / "config" / "settings.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_bad_settings_open_the_window_with_defaults_and_a_notice(open_window, isolated_dirs: Path) -> None:
    write_settings(isolated_dirs, {"show_decoding_panel": "yes", "show_tokenizer_panel": None, "n_threads": "many"})
    window = open_window()
    assert window.decoding.isVisible() and not window.tokenizer_panel.isVisible()  # the defaults
    assert window.banner.isVisible() and not window.banner.action_button.isVisible()
    lines = window.banner.label.text().splitlines()
    assert len(lines) == 3
    assert any("show_decoding_panel" in line and '"yes"' in line and "true" in line for line in lines)
    assert any("show_tokenizer_panel" in line and "null" in line and "false" in line for line in lines)
    assert any("n_threads" in line and '"many"' in line for line in lines)


def test_settings_notices_are_translated(open_window, isolated_dirs: Path) -> None:
    write_settings(isolated_dirs, {"language": "zh_CN", "n_gpu_layers": "all"})
    install_translators("zh_CN")
    try:
        window = open_window()
        text = window.banner.label.text()
    finally:
        install_translators("en")
    assert text == '设置“n_gpu_layers”的值 "all" 无效，已改用默认值 0。'


def test_a_settings_file_that_is_not_json_is_kept_and_named(open_window, isolated_dirs: Path) -> None:
    path = write_settings(isolated_dirs, {})
    path.write_text('{"language": "zh_CN", "recent_models": ["/m/a.gguf"', encoding="utf-8")
    window = open_window()
    [kept] = path.parent.glob("settings.json.bad-*")
    assert kept.name in window.banner.label.text()
    assert '"/m/a.gguf"' in kept.read_text(encoding="utf-8")


def test_a_model_loads_although_the_saved_thread_count_was_garbage(
    qtbot, open_window, isolated_dirs: Path, stories_gguf: Path
) -> None:
    write_settings(isolated_dirs, {"n_threads": "many"})
    window = open_window()
    assert window.ctx.settings.n_threads is None
    with qtbot.waitSignal(window.client.loaded, timeout=LOAD_TIMEOUT_MS):
        window.open_model(str(stories_gguf))
    assert "stories260K.gguf" in window.model_label.text()


def test_a_damaged_database_is_kept_aside_and_its_messages_recovered_from_the_banner(
    qtbot, open_window, isolated_dirs: Path
) -> None:
    db = isolated_dirs / "data" / "conversations.sqlite3"
    expected = make_history(db)
    lost = damage_page_with(db, "<c4-m20>")
    window = open_window()
    [kept] = db.parent.glob("conversations.sqlite3.damaged-*")
    assert str(kept) in window.banner.label.text()
    assert window.banner.action_button.isVisible()
    assert window.banner.action_button.text() == "Recover messages"
    assert window.store.list_conversations() == []  # a new, empty file in its place

    qtbot.mouseClick(window.banner.action_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Recovered" in window.banner.label.text(), timeout=RECOVERY_TIMEOUT_MS)
    recovered = {
        c.title: [(m.role, m.content) for m in window.store.messages(c.id)] for c in window.store.list_conversations()
    }
    assert recovered == without(expected, lost)
    assert window.conversations._list.count() == len(expected)
    assert str(kept) in window.banner.label.text()


def test_the_next_start_uses_the_new_file_quietly(open_window, isolated_dirs: Path) -> None:
    db = isolated_dirs / "data" / "conversations.sqlite3"
    db.parent.mkdir(parents=True)
    db.write_bytes(b"\x00garbage" * 1000)
    first = open_window()
    first.store.create_conversation("chatted after the damage")
    first.ctx.close()
    second = open_window()
    assert not second.banner.isVisible()
    assert [c.title for c in second.store.list_conversations()] == ["chatted after the damage"]
    assert len(list(db.parent.glob("*damaged*"))) == 1


def test_every_start_notice_queues_and_the_recovery_survives_a_language_switch(
    qtbot, isolated_dirs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue #20, item 4: a truncated database, a settings value reset and an empty models folder,
    started through app.main as a user does: every notice is shown one after another (the offer of
    models last), none replaces another, and "Recover messages" works after a language switch."""
    import sys

    from PySide6.QtWidgets import QApplication

    from app import main as app_main
    from app.main_window import MainWindow

    db = isolated_dirs / "data" / "conversations.sqlite3"
    make_history(db, conversations=12, turns=60)
    size = db.stat().st_size
    with db.open("r+b") as handle:  # a copy cut off at 80 %, as a full disk or a killed copy leaves it
        handle.truncate(size * 4 // 5)
    write_settings(isolated_dirs, {"n_threads": "many"})
    (isolated_dirs / "models").mkdir(parents=True, exist_ok=True)
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)  # app.main installs its own
    seen: dict[str, object] = {}
    failures: list[BaseException] = []

    def windows() -> list[MainWindow]:
        return [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()]

    def check() -> None:
        try:
            [window] = windows()
            window._replaced = True  # the test closes it; it must not quit the shared QApplication first
            banner = window.banner
            seen["texts"] = [m.text for m in banner.messages()]
            seen["first"] = (banner.label.text(), banner.action_button.text(), banner.count_label.text())
            window.set_language("zh_CN")
            [switched] = windows()
            switched._replaced = True
            banner = switched.banner
            seen["switched"] = [(m.text, m.action) for m in banner.messages()]
            seen["button"] = banner.action_button.text()
            qtbot.mouseClick(banner.action_button, Qt.MouseButton.LeftButton)
            qtbot.waitUntil(
                lambda: banner.messages()[0].key == "store_recovery" and "…" not in banner.label.text(),
                timeout=RECOVERY_TIMEOUT_MS,
            )
            seen["recovered"] = banner.label.text()
            seen["conversations"] = len(switched.store.list_conversations())
            # The other notices still wait behind the recovery's result, one after another.
            seen["waiting"] = [m.key for m in banner.messages()]
            banner.dismiss()
            seen["next"] = (banner.label.text(), banner.count_label.text())
            banner.dismiss()
            seen["last"] = (banner.label.text(), banner.action_button.text(), banner.count_label.isVisible())
            banner.dismiss()
            seen["hidden"] = not banner.isVisible()
            switched.close()
        except BaseException as exc:  # noqa: BLE001 - raised again after app.exec() returns
            failures.append(exc)
        finally:
            install_translators("en")
            QApplication.instance().exit(0)

    from PySide6.QtCore import QTimer

    QTimer.singleShot(0, check)
    try:
        code = app_main.main(["--data-dir", str(isolated_dirs), "--no-err-windows", "--lang", "en"])
    finally:
        install_translators("en")
    if failures:
        raise failures[0]
    assert code == 0
    [kept] = db.parent.glob("conversations.sqlite3.damaged-*")
    texts = seen["texts"]
    assert len(texts) == 3, texts
    assert str(kept) in texts[0]
    assert "n_threads" in texts[1] and '"many"' in texts[1]
    assert "No model is installed yet" in texts[2]
    assert seen["first"] == (texts[0], "Recover messages", "1 of 3")
    switched = seen["switched"]
    assert [action for _, action in switched] == ["恢复消息", "", "获取模型…"], switched
    assert str(kept) in switched[0][0] and "n_threads" in switched[1][0]
    assert seen["button"] == "恢复消息"
    assert str(kept) in seen["recovered"] and seen["conversations"] > 0
    assert seen["waiting"] == ["store_recovery", "startup_notices", "offer_models"]
    assert "n_threads" in seen["next"][0] and seen["next"][1] == "第 1 条，共 2 条"
    assert "模型" in seen["last"][0] and seen["last"][1] == "获取模型…" and not seen["last"][2]
    assert seen["hidden"]


# -- issue 20, item 2: JSON nested 100,000 levels deep ---------------------------------------------

DEEP = "[" * 100_000 + "]" * 100_000


def test_deeply_nested_settings_open_the_window_and_are_kept(open_window, isolated_dirs: Path) -> None:
    path = write_settings(isolated_dirs, {})
    path.write_text('{"show_tokenizer_panel": true, "params": ' + DEEP + "}", encoding="utf-8")
    window = open_window()
    assert window.decoding.isVisible() and not window.tokenizer_panel.isVisible()  # the defaults
    [kept] = path.parent.glob("settings.json.bad-*")
    text = window.banner.label.text()
    assert kept.name in text and str(path) in text and "nested more than 64 levels deep" in text
    assert kept.read_text(encoding="utf-8").endswith(DEEP + "}")


def test_a_deeply_nested_download_queue_is_kept_and_named(open_window, isolated_dirs: Path) -> None:
    queue = isolated_dirs / "data" / "downloads.json"
    queue.parent.mkdir(parents=True, exist_ok=True)
    queue.write_text('{"version": 1, "downloads": ' + DEEP + "}", encoding="utf-8")
    window = open_window()
    assert window.ctx.downloads.items == []
    [kept] = queue.parent.glob("downloads.json.bad-*")
    assert kept.stat().st_size == len('{"version": 1, "downloads": ') + len(DEEP) + 1
    text = window.banner.label.text()
    assert f"The download queue {queue} could not be read" in text and kept.name in text
    assert "nested more than 64 levels deep" in text


def test_the_deep_settings_notice_is_translated(open_window, isolated_dirs: Path) -> None:
    path = write_settings(isolated_dirs, {})
    path.write_text("[" + DEEP + "]", encoding="utf-8")
    install_translators("zh_CN")
    try:
        window = open_window()
        text = window.banner.label.text()
    finally:
        install_translators("en")
    assert text.startswith(f"无法读取设置文件 {path}（it is nested more than 64 levels deep")
