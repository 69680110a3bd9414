"""The main window as people reach it: on screens of every scale, from the keyboard alone, through a
screen reader; and the dialogs' tab order. Real windows offscreen, a real model in the host."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import QRect, Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QComboBox,
    QLabel,
    QLineEdit,
    QListWidget,
    QPlainTextEdit,
    QProgressBar,
    QWidget,
)

from app.main_window import MainWindow
from app.views.shortcuts_dialog import ShortcutsDialog
from tests.conftest import REPO_ROOT
from tests.gui.clicks import answering_file_dialog, click

LOAD_TIMEOUT_MS = 30_000
ANSWER_TIMEOUT_MS = 30_000
CHILD_TIMEOUT_S = 120

CTRL = Qt.KeyboardModifier.ControlModifier
SHIFT = Qt.KeyboardModifier.ShiftModifier


# -- geometry: a process per screen set-up ---------------------------------------------------------


def run_window(tmp_path: Path, screens: list[dict], scale: float, *geometry: int) -> dict:
    """The main window in a child process on ``screens`` (offscreen, physical pixels) at
    ``scale``; ``geometry``: where to put it before closing (which saves it)."""
    config = tmp_path / f"screens-{len(list(tmp_path.glob('screens-*.json')))}.json"
    config.write_text(json.dumps({"screens": screens}), encoding="utf-8")
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": f"offscreen:configfile={config}",
        "QT_SCALE_FACTOR": str(scale),
        # The child imports this tree, whatever the environment's installed copy points at.
        "PYTHONPATH": str(REPO_ROOT),
    }
    result = subprocess.run(
        [sys.executable, "-m", "tests.gui.window_geometry_child", *(str(value) for value in geometry)],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=CHILD_TIMEOUT_S,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def screen(name: str, x: int, width: int, height: int) -> dict:
    return {"name": name, "x": x, "y": 0, "width": width, "height": height, "logicalDpi": 96, "dpr": 1}


def inside_a_screen(report: dict) -> bool:
    frame = QRect(*report["frame"])
    return any(QRect(*available).contains(frame) for available in report["screens"])


LAPTOP = screen("laptop", 0, 1920, 1080)


def test_geometry_saved_at_full_size_fits_the_screen_at_scale_2(tmp_path: Path) -> None:
    saved = run_window(tmp_path, [LAPTOP], 1.0, 0, 0, 1920, 1080)
    assert saved["placed"][2] >= 1900 and saved["placed"][3] >= 1000, f"not made screen-sized: {saved}"
    restored = run_window(tmp_path, [LAPTOP], 2.0)
    assert restored["scale"] == 2.0 and restored["screens"] == [[0, 0, 960, 540]]
    assert inside_a_screen(restored), f"the restored window is off its screen: {restored}"
    # Shrunk to the screen, not to a token size.
    assert restored["frame"][2] >= 900 and restored["frame"][3] >= 500


def test_first_geometry_fits_the_screen_at_scale_2(tmp_path: Path) -> None:
    first = run_window(tmp_path, [LAPTOP], 2.0)
    assert inside_a_screen(first), f"the first window is larger than its screen: {first}"


def test_geometry_on_a_screen_that_is_gone_comes_back(tmp_path: Path) -> None:
    monitor = screen("monitor", 3840, 2560, 1440)
    saved = run_window(tmp_path, [LAPTOP, monitor], 1.0, 5000, 100, 1200, 800)
    assert saved["placed"][0] >= 3840, f"the window was not put on the second screen: {saved}"
    restored = run_window(tmp_path, [LAPTOP], 1.0)
    assert inside_a_screen(restored), f"the window stayed where no screen is: {restored}"
    # Qt drops a geometry saved on a screen it no longer has: the first size, fitted, is used.
    assert restored["frame"][2] >= 800 and restored["frame"][3] >= 600, f"shrunk for nothing: {restored}"


# -- the keyboard ----------------------------------------------------------------------------------


@pytest.fixture
def window(qtbot, local_window: MainWindow) -> MainWindow:
    activate(qtbot, local_window)
    return local_window


def press(qtbot, key: Qt.Key, modifiers: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier) -> None:
    """A key as the user presses it: to whichever widget has the focus."""
    target = QApplication.focusWidget() or QApplication.activeWindow()
    assert target is not None, "no window has the keyboard"
    qtbot.keyClick(target, key, modifiers)


def type_keys(qtbot, text: str) -> None:
    target = QApplication.focusWidget()
    assert target is not None
    qtbot.keyClicks(target, text)


def activate(qtbot, win: QWidget) -> None:
    """Give ``win`` the keyboard, as the window manager does when a dialog over it closes
    (offscreen nothing does)."""
    win.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is win)


def open_with_keys(qtbot, win: MainWindow, model: Path) -> None:
    """Ctrl+O, the model's path typed into the file dialog, Enter."""
    loaded = qtbot.waitSignal(win.client.loaded, timeout=LOAD_TIMEOUT_MS)
    with loaded, answering_file_dialog(qtbot, str(model)):
        press(qtbot, Qt.Key.Key_O, CTRL)
    activate(qtbot, win)


def shown_conversations(win: MainWindow) -> list[str]:
    rows = win.conversations.findChild(QListWidget)
    if not rows.isVisible():
        return []
    return [rows.item(row).text() for row in range(rows.count())]


def test_chat_from_the_keyboard_alone(qtbot, window: MainWindow, stories_gguf: Path) -> None:
    client = window.client
    # Ctrl+O: the model file, typed into the file dialog.
    open_with_keys(qtbot, window, stories_gguf)
    # A long answer (this seed writes all 2,000 tokens unless stopped), so that Esc stops it.
    window.decoding.set_template_choice("raw")
    window.decoding.set_params(window.decoding.params().replace(seed=7, max_tokens=2000))

    press(qtbot, Qt.Key.Key_N, CTRL)
    assert window.conversation_id is None and window.chat.messages() == []
    press(qtbot, Qt.Key.Key_L, CTRL)
    assert QApplication.focusWidget() is window.input
    type_keys(qtbot, "Once upon a time")
    with qtbot.waitSignal(client.finished, timeout=ANSWER_TIMEOUT_MS) as finished:
        with qtbot.waitSignal(client.token, timeout=ANSWER_TIMEOUT_MS):
            press(qtbot, Qt.Key.Key_Return)
        assert window.stop_action.isEnabled()
        press(qtbot, Qt.Key.Key_Escape)
    assert finished.args[0]["reason"] == "cancelled"
    answer = window.store.messages(window.conversation_id)[-1]
    assert answer.role == "assistant" and answer.status == "stopped" and answer.content
    assert not window.stop_action.isEnabled()

    QApplication.clipboard().clear()
    press(qtbot, Qt.Key.Key_C, CTRL | SHIFT)
    assert QApplication.clipboard().text() == answer.content

    # A second conversation, so that the search has one to leave out.
    press(qtbot, Qt.Key.Key_N, CTRL)
    press(qtbot, Qt.Key.Key_L, CTRL)
    type_keys(qtbot, "Lily")
    window.decoding.set_params(window.decoding.params().replace(max_tokens=5))
    with qtbot.waitSignal(client.finished, timeout=ANSWER_TIMEOUT_MS):
        press(qtbot, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: len(shown_conversations(window)) == 2)

    press(qtbot, Qt.Key.Key_F, CTRL)
    search = QApplication.focusWidget()
    assert isinstance(search, QLineEdit) and window.conversations.isAncestorOf(search)
    type_keys(qtbot, "upon")
    qtbot.waitUntil(lambda: len(shown_conversations(window)) == 1)
    [title] = shown_conversations(window)
    assert "Once upon a time".startswith(title.rstrip("…")) or "upon" in title
    # Esc in the search field clears it (no answer is being written, so Esc is the field's).
    press(qtbot, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: len(shown_conversations(window)) == 2)
    assert search.text() == ""


def test_esc_still_cancels_an_edit_when_no_answer_is_written(qtbot, window: MainWindow, stories_gguf: Path) -> None:
    open_with_keys(qtbot, window, stories_gguf)
    window.decoding.set_template_choice("raw")
    window.decoding.set_params(window.decoding.params().replace(seed=7, max_tokens=5))
    press(qtbot, Qt.Key.Key_L, CTRL)
    type_keys(qtbot, "Once upon a time")
    with qtbot.waitSignal(window.client.finished, timeout=ANSWER_TIMEOUT_MS):
        press(qtbot, Qt.Key.Key_Return)
    click(qtbot, window.chat.messages()[0].action_button)  # Edit
    assert window.edit_label.isVisibleTo(window) and QApplication.focusWidget() is window.input
    press(qtbot, Qt.Key.Key_Escape)
    assert not window.edit_label.isVisibleTo(window)
    assert window.chat_controller.editing_seq is None


def test_help_lists_every_shortcut_from_the_actions(qtbot, window: MainWindow) -> None:
    press(qtbot, Qt.Key.Key_F1)
    qtbot.waitUntil(lambda: isinstance(QApplication.activeWindow(), ShortcutsDialog))
    dialog = QApplication.activeWindow()
    assert isinstance(dialog, ShortcutsDialog)
    rows = {action: keys for keys, action, _menu in dialog.rows()}
    assert rows["New conversation"] == "Ctrl+N"
    assert rows["Search conversations"] == "Ctrl+F"
    assert rows["Write a message"] == "Ctrl+L"
    assert rows["Stop the answer"] == "Esc"
    assert rows["Copy the last answer"] == "Ctrl+Shift+C"
    assert rows["Keyboard shortcuts"] == "F1"
    # Built from the actions themselves: a key given to an action now shows the next time.
    window.unload_action.setShortcut("Ctrl+U")
    press(qtbot, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not isinstance(QApplication.activeWindow(), ShortcutsDialog))
    activate(qtbot, window)
    press(qtbot, Qt.Key.Key_F1)
    qtbot.waitUntil(lambda: isinstance(QApplication.activeWindow(), ShortcutsDialog))
    again = {action: keys for keys, action, _menu in QApplication.activeWindow().rows()}
    assert again["Unload model"] == "Ctrl+U"


# -- screen readers ------------------------------------------------------------------------------


def test_controls_without_text_have_accessible_names(window: MainWindow) -> None:
    def has_own_text(widget: QWidget) -> bool:
        if isinstance(widget, QAbstractButton | QLabel):
            return bool(widget.text().strip())
        return False

    owned: list[QWidget] = [
        window.chat,
        window.input,
        window.send_button,
        window.stop_button,
        window.busy_bar,
        window.model_label,
        window.context_label,
        window.speed_label,
        window.conversations,
        window.decoding,
        window.tokenizer_panel,
    ]
    nameless = [type(w).__name__ for w in owned if not (has_own_text(w) or w.accessibleName())]
    assert nameless == []
    for widget in (window.input, window.context_label, window.speed_label, window.chat):
        assert widget.accessibleDescription(), f"{widget.accessibleName()} has no description"
    assert isinstance(window.busy_bar, QProgressBar) and window.busy_bar.accessibleName()


# -- the dialogs' tab order ----------------------------------------------------------------------


def _dialogs() -> list[tuple[str, Callable[[], QWidget]]]:
    from app.views.hosts_dialog import HostsDialog
    from app.views.hub_settings_view import HubSettingsDialog
    from app.views.hub_view import HubDialog
    from app.views.lora_merge_dialog import LoraMergeDialog
    from app.views.vocab_dialog import VocabDialog

    return [
        ("hub", HubDialog),
        ("hosts", HostsDialog),
        ("lora-merge", lambda: LoraMergeDialog("hfl/chinese-alpaca-lora-7b")),
        ("vocab", VocabDialog),
        ("hub-settings", HubSettingsDialog),
    ]


def _tab_stops(dialog: QWidget) -> list[QWidget]:
    """The controls Tab can reach: shown, enabled, taking focus by Tab."""
    stops = []
    for widget in dialog.findChildren(QWidget):
        if (
            widget.isVisibleTo(dialog)
            and widget.isEnabled()
            and widget.focusPolicy() & Qt.FocusPolicy.TabFocus
            and widget.focusProxy() is None
            and not isinstance(widget.parentWidget(), QComboBox)  # a combo's own line edit
            and widget.window() is dialog
        ):
            stops.append(widget)
    return stops


@pytest.mark.parametrize("name", [name for name, _ in _dialogs()])
def test_dialog_tab_order_follows_reading_order(qtbot, name: str) -> None:
    """Tab visits every control once, each below the one before or in a column to its right:
    never back up and to the left."""
    dialog = dict(_dialogs())[name]()
    qtbot.addWidget(dialog)
    dialog.show()
    activate(qtbot, dialog)
    stops = _tab_stops(dialog)
    first = next(widget for widget in dialog.findChildren(QWidget) if widget in stops)
    first.setFocus(Qt.FocusReason.TabFocusReason)
    order = [QApplication.focusWidget()]
    for _ in range(len(stops) + 3):
        focused = QApplication.focusWidget()
        assert not isinstance(focused, QPlainTextEdit) or focused.isReadOnly() or focused.tabChangesFocus(), (
            "Tab would be typed into a text box instead of moving on"
        )
        press(qtbot, Qt.Key.Key_Tab)
        if QApplication.focusWidget() is order[0]:
            break
        order.append(QApplication.focusWidget())
    assert set(order) == set(stops), "Tab misses or repeats a control"
    assert len(order) == len(stops)
    for before, after in zip(order, order[1:], strict=False):
        top_left = before.mapTo(dialog, before.rect().topLeft())
        next_top_left = after.mapTo(dialog, after.rect().topLeft())
        below = next_top_left.y() >= top_left.y() - 4
        right_column = next_top_left.x() >= top_left.x() + before.width()
        assert below or right_column, (
            f"Tab goes back up from {describe(before)} at {top_left.toTuple()} "
            f"to {describe(after)} at {next_top_left.toTuple()}"
        )


def describe(widget: QWidget) -> str:
    text = widget.text() if isinstance(widget, QAbstractButton) else widget.accessibleName()
    return f"{type(widget).__name__} {text!r}"
