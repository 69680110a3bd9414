"""The whole window against a real inference host and a real SQLite store, offscreen."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from app.main_window import AppContext, MainWindow
from tests.gui.clicks import answering_file_dialog, choose_menu, click, type_text

LOAD_TIMEOUT_MS = 30_000
ANSWER_TIMEOUT_MS = 30_000


@pytest.fixture
def window(local_window: MainWindow) -> MainWindow:
    return local_window


def open_from_menu(qtbot, win: MainWindow, path: Path) -> None:
    """Model → Open model file…, the file chosen in the dialog."""
    with answering_file_dialog(qtbot, str(path)) as titles:
        choose_menu(qtbot, win, "Model", "Open model file…")
    assert titles == ["Open a GGUF model"]


def load(qtbot, win: MainWindow, path: Path) -> dict:
    with qtbot.waitSignal(win.client.loaded, timeout=LOAD_TIMEOUT_MS) as blocker:
        open_from_menu(qtbot, win, path)
    return blocker.args[0]


def type_message(qtbot, win: MainWindow, text: str) -> None:
    """Type ``text`` over whatever the input box holds."""
    type_text(qtbot, win.input, text, replace=True)
    assert win.input.toPlainText() == text


def press_enter(qtbot, win: MainWindow) -> None:
    qtbot.keyClick(win.input, Qt.Key.Key_Return)


def ask(qtbot, win: MainWindow, text: str) -> dict:
    type_message(qtbot, win, text)
    with qtbot.waitSignal(win.client.finished, timeout=ANSWER_TIMEOUT_MS) as blocker:
        press_enter(qtbot, win)
    return blocker.args[0]


def use_raw_template(win: MainWindow, **params) -> None:
    win.decoding.set_template_choice("raw")
    win.decoding.set_params(win.decoding.params().replace(seed=7, **params))


def test_open_model_send_and_stream(qtbot, window: MainWindow, stories_gguf: Path) -> None:
    info = load(qtbot, window, stories_gguf)
    assert info["vocab_size"] == 512
    assert "stories260K.gguf" in window.model_label.text()
    use_raw_template(window, max_tokens=60)
    tokens: list[str] = []
    window.client.token.connect(tokens.append)
    stats = ask(qtbot, window, "Once upon a time")
    assert stats["generated_tokens"] > 0
    assert len(tokens) > 1, "the answer must arrive as a stream of pieces"
    widgets = window.chat.messages()
    assert [w.role for w in widgets] == ["user", "assistant"]
    assert widgets[1].text == "".join(tokens) != ""
    stored = window.store.messages(window.conversation_id)
    assert stored[1].status == "complete"
    assert stored[1].content == "".join(tokens)
    assert stored[1].model == str(stories_gguf.resolve())
    assert widgets[1].detail_label.text().startswith("stories260K.gguf")
    provenance = widgets[1].detail_label.toolTip()
    assert "Seed: 7" in provenance and "raw" in provenance and "Temperature 0.2" in provenance
    assert stored[1].params["temperature"] == pytest.approx(0.2)
    assert "tokens/s" in window.speed_label.text()
    assert window.context_label.text().startswith("Context ")
    assert "in use)" in window.decoding._threads.text()  # what automatic settled on


def test_stop_keeps_partial_answer(qtbot, window: MainWindow, stories_gguf: Path) -> None:
    load(qtbot, window, stories_gguf)
    # With this seed the model writes all 2,000 tokens (seconds) unless it is stopped.
    use_raw_template(window, max_tokens=2000)
    tokens: list[str] = []
    window.client.token.connect(tokens.append)

    def stop_when_the_answer_starts(_text: str) -> None:
        window.client.token.disconnect(stop_when_the_answer_starts)
        click(qtbot, window.stop_button)  # the first piece is shown: the user clicks Stop

    window.client.token.connect(stop_when_the_answer_starts)
    stats = ask(qtbot, window, "Once upon a time")
    assert stats["reason"] == "cancelled"
    assert stats["generated_tokens"] < 2000
    answer = window.store.messages(window.conversation_id)[-1]
    assert answer.role == "assistant" and answer.status == "stopped"
    # What was streamed before the stop is kept, whole: in the store and on screen alike.
    assert tokens, "no piece of the answer arrived before the stop"
    assert answer.content == "".join(tokens) != ""
    shown = window.chat.messages()
    assert [w.role for w in shown] == ["user", "assistant"]
    assert shown[1].text == answer.content
    assert window.send_button.isEnabled() and not window.stop_button.isEnabled()


def test_conversation_survives_restart(qtbot, stories_gguf: Path) -> None:
    ctx = AppContext.open(show_errors=False)
    win = MainWindow(ctx)
    win._replaced = True
    qtbot.addWidget(win)
    win.show()
    load(qtbot, win, stories_gguf)
    use_raw_template(win, max_tokens=30)
    ask(qtbot, win, "Once upon a time")
    conv_id = win.conversation_id
    answer_text = win.chat.messages()[1].text
    win.close()
    ctx.close()

    ctx2 = AppContext.open(show_errors=False)
    try:
        win2 = MainWindow(ctx2)
        win2._replaced = True
        qtbot.addWidget(win2)
        assert conv_id in [c.id for c in ctx2.store.list_conversations()]
        win2.open_conversation(conv_id)
        texts = [w.text for w in win2.chat.messages()]
        assert texts == ["Once upon a time", answer_text]
        assert str(stories_gguf.resolve()) in ctx2.settings.recent_models
    finally:
        ctx2.close()


def test_bad_model_file_shows_message_and_app_stays_usable(
    qtbot, window: MainWindow, stories_gguf: Path, tmp_path: Path
) -> None:
    bad = tmp_path / "broken.gguf"
    bad.write_bytes(os.urandom(4096))
    open_from_menu(qtbot, window, bad)
    assert window.banner.isVisible()
    assert "broken.gguf" in window.banner.label.text()
    truncated = tmp_path / "half.gguf"
    truncated.write_bytes(stories_gguf.read_bytes()[: stories_gguf.stat().st_size // 2])
    with qtbot.waitSignal(window.client.failed, timeout=LOAD_TIMEOUT_MS):
        open_from_menu(qtbot, window, truncated)
    assert "half.gguf" in window.banner.label.text()
    load(qtbot, window, stories_gguf)
    use_raw_template(window, max_tokens=10)
    assert ask(qtbot, window, "Once upon a time")["generated_tokens"] > 0


def test_host_death_keeps_conversation_and_reload_works(qtbot, window: MainWindow, stories_gguf: Path) -> None:
    load(qtbot, window, stories_gguf)
    use_raw_template(window, max_tokens=20)
    ask(qtbot, window, "Once upon a time")
    before = [(m.role, m.content) for m in window.store.messages(window.conversation_id)]
    pid = window.client.host_pid
    assert pid is not None
    with qtbot.waitSignal(window.client.host_died, timeout=10_000) as blocker:
        os.kill(pid, signal.SIGKILL)
    assert blocker.args[0].startswith("host died")
    assert window.banner.isVisible() and window.banner.action_button.isVisible()
    assert [(m.role, m.content) for m in window.store.messages(window.conversation_id)] == before
    assert len(window.chat.messages()) == 2
    with qtbot.waitSignal(window.client.loaded, timeout=LOAD_TIMEOUT_MS):
        click(qtbot, window.banner.action_button)
    assert window.client.host_pid not in (None, pid)
    assert ask(qtbot, window, "The dog")["generated_tokens"] > 0


def test_regenerate_and_edit_resend(qtbot, window: MainWindow, stories_gguf: Path) -> None:
    load(qtbot, window, stories_gguf)
    use_raw_template(window, max_tokens=15)
    ask(qtbot, window, "Once upon a time")
    ask(qtbot, window, "The cat")
    answers = [w for w in window.chat.messages() if w.role == "assistant"]
    # Regenerate is offered on the newest answer only (an earlier one would hide what followed).
    assert [w.action_button.isVisibleTo(window) for w in answers] == [False, True]
    with qtbot.waitSignal(window.client.finished, timeout=ANSWER_TIMEOUT_MS):
        click(qtbot, answers[-1].action_button)  # Regenerate
    assert len(window.chat.messages()) == 4
    # Edit the first question: it and everything after it are replaced.
    click(qtbot, window.chat.messages()[0].action_button)
    assert window.input.toPlainText() == "Once upon a time"
    assert window.edit_label.isVisible()
    stats = ask(qtbot, window, "Lily went")
    assert stats["generated_tokens"] > 0
    visible = [(m.role, m.content) for m in window.store.messages(window.conversation_id)]
    assert [v[0] for v in visible] == ["user", "assistant"]
    assert visible[0][1] == "Lily went"


def test_send_without_model_keeps_text(qtbot, window: MainWindow) -> None:
    type_message(qtbot, window, "你好")
    press_enter(qtbot, window)
    assert window.input.toPlainText() == "你好"
    assert window.banner.isVisible()
    assert window.store.list_conversations() == []


def test_enter_sends_shift_enter_adds_line(qtbot, window: MainWindow, stories_gguf: Path) -> None:
    load(qtbot, window, stories_gguf)
    use_raw_template(window, max_tokens=5)
    window.input.setFocus()
    qtbot.keyClicks(window.input, "Once")
    qtbot.keyClick(window.input, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
    qtbot.keyClicks(window.input, "upon")
    assert window.input.toPlainText() == "Once\nupon"
    with qtbot.waitSignal(window.client.finished, timeout=ANSWER_TIMEOUT_MS):
        qtbot.keyClick(window.input, Qt.Key.Key_Return)
    assert window.chat.messages()[0].text == "Once\nupon"
    assert window.input.toPlainText() == ""


def test_language_switch_rebuilds_window_in_chinese(qtbot, context: AppContext) -> None:
    from PySide6.QtWidgets import QApplication

    from app.i18n import install_translators

    win = MainWindow(context)
    win._replaced = True
    qtbot.addWidget(win)
    win.show()
    try:
        choose_menu(qtbot, win, "Settings", "Language", "简体中文")
        replacements = [
            w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow) and w is not win and w.isVisible()
        ]
        assert replacements, "a new window must replace the old one"
        new = replacements[-1]
        new._replaced = True
        qtbot.addWidget(new)
        assert new.send_button.text() == "发送"
        assert new.menuBar().actions()[0].text().startswith("模型")
        assert context.settings.language == "zh_CN"
    finally:
        install_translators("en")


def test_cancel_load_then_load_again(qtbot, window: MainWindow, stories_gguf: Path) -> None:
    open_from_menu(qtbot, window, stories_gguf)
    # No event was handled since the choice: the load cannot have ended yet.
    assert window.client.is_loading and window.cancel_load_button.isVisible()
    old_pid = window.client.host_pid
    click(qtbot, window.cancel_load_button)
    assert not window.client.is_loading
    assert not window.cancel_load_button.isVisible()
    assert window.client.model_info is None
    info = load(qtbot, window, stories_gguf)
    assert info["file_name"] == "stories260K.gguf"
    assert window.client.host_pid != old_pid


def test_export_and_import_round_trip(qtbot, window: MainWindow, stories_gguf: Path, tmp_path: Path) -> None:
    import json

    load(qtbot, window, stories_gguf)
    use_raw_template(window, max_tokens=10)
    ask(qtbot, window, "Once upon a time")
    conv_id = window.conversation_id
    md_path, json_path = tmp_path / "chat.md", tmp_path / "chat.json"
    with answering_file_dialog(qtbot, str(md_path)):
        choose_menu(qtbot, window, "Conversation", "Export as Markdown…")
    assert "Once upon a time" in md_path.read_text(encoding="utf-8")
    with answering_file_dialog(qtbot, str(json_path)):
        choose_menu(qtbot, window, "Conversation", "Export as JSON…")
    exported = json.loads(json_path.read_text(encoding="utf-8"))
    assert [m["role"] for m in exported["messages"]] == ["user", "assistant"]
    with answering_file_dialog(qtbot, str(json_path)):
        choose_menu(qtbot, window, "Conversation", "Import from JSON…")
    qtbot.waitUntil(lambda: window.conversation_id != conv_id, timeout=30_000)
    assert [w.text for w in window.chat.messages()] == [m["content"] for m in exported["messages"]]
    # A file that is not an export gets a message, and nothing is added.
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "something else"}', encoding="utf-8")
    before = len(window.store.list_conversations())
    with answering_file_dialog(qtbot, str(bad)):
        choose_menu(qtbot, window, "Conversation", "Import from JSON…")
    qtbot.waitUntil(window.banner.isVisible, timeout=30_000)
    assert "something else" in window.banner.label.text()
    assert len(window.store.list_conversations()) == before


def test_send_waits_while_a_model_loads(qtbot, window: MainWindow, stories_gguf: Path) -> None:
    with qtbot.waitSignal(window.client.loaded, timeout=LOAD_TIMEOUT_MS):
        open_from_menu(qtbot, window, stories_gguf)
        assert window.client.is_loading  # no event was handled since the choice
        type_message(qtbot, window, "Once upon a time")
        press_enter(qtbot, window)  # Enter during the load: nothing is sent, the text stays
        assert window.store.list_conversations() == []
        assert window.input.toPlainText() == "Once upon a time"
    use_raw_template(window, max_tokens=5)
    with qtbot.waitSignal(window.client.finished, timeout=ANSWER_TIMEOUT_MS):
        press_enter(qtbot, window)
    assert len(window.chat.messages()) == 2


def test_refused_file_keeps_the_loaded_model(qtbot, window: MainWindow, stories_gguf: Path, tmp_path: Path) -> None:
    load(qtbot, window, stories_gguf)
    truncated = tmp_path / "half.gguf"
    truncated.write_bytes(stories_gguf.read_bytes()[: stories_gguf.stat().st_size // 2])
    with qtbot.waitSignal(window.client.loaded, timeout=LOAD_TIMEOUT_MS) as blocker:
        open_from_menu(qtbot, window, truncated)
    # The header check refused the file before the old model was released: it stays usable.
    assert blocker.args[0]["file_name"] == "stories260K.gguf"
    assert "half.gguf" in window.banner.label.text()
    assert window.send_button.isEnabled()
    use_raw_template(window, max_tokens=5)
    assert ask(qtbot, window, "Once upon a time")["generated_tokens"] > 0


def test_an_answer_from_a_busy_computer_says_so(window: MainWindow) -> None:
    from runtime.chat import usable_cores

    conversation = window.store.create_conversation()
    window.store.add_message(conversation.id, "user", "hi")
    busy = usable_cores() + 2.5
    answer = window.store.add_message(
        conversation.id, "assistant", "hello", stats={"tokens_per_s": 3.0, "generated_tokens": 2, "load_1m": busy}
    )
    calm = window.store.add_message(
        conversation.id, "assistant", "again", stats={"tokens_per_s": 30.0, "generated_tokens": 2, "load_1m": 0.2}
    )
    detail = window.chat_controller._detail(answer)
    assert "3.0 tokens/s" in detail and f"load {busy:.1f}" in detail
    assert "busy" not in window.chat_controller._detail(calm)
    # Where the host measured what other programs used (Linux), that figure decides, not the
    # load average: niced background work inflates the load but does not slow an answer.
    niced = window.store.add_message(
        conversation.id,
        "assistant",
        "niced",
        stats={"tokens_per_s": 30.0, "generated_tokens": 2, "load_1m": busy, "others_busy_cores": 0.1},
    )
    assert "busy" not in window.chat_controller._detail(niced)
    crowded = window.store.add_message(
        conversation.id,
        "assistant",
        "crowded",
        stats={"tokens_per_s": 3.0, "generated_tokens": 2, "load_1m": 0.5, "others_busy_cores": 1.2},
    )
    assert "other programs used 1.2 of" in window.chat_controller._detail(crowded)
