"""Closing the window while a download runs (app.controllers.tray): a real download job from the fake
hub, the real main window offscreen.

Offscreen there is no system tray, so the tests that take the tray path say it is there through the
controller's one seam (``tray_available``); the tray icon, its menu and its actions are the real
widgets all the same (the desktop only draws them)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QDialogButtonBox

from app.main_window import AppContext, MainWindow
from runtime.hub.manifest import read_manifest
from tests.fakehub import FakeHub
from tests.gui.clicks import choose_menu, click, click_dialog_button, click_in_menu, download_from_the_hub

REPO = "hfl/chinese-alpaca-2-1.3b-gguf"
NAME = "ggml-model-q4_0.gguf"
SLOW = 100_000  # bytes per second: progress comes in steady steps
#: Bytes the hub sends before it holds the rest of the 1.2 MB model (FakeHub.allow): the download
#: runs until a test lets the rest through, however long its steps take. More than the 256 KiB
#: the downloader reads at a time, or it would report no progress.
FIRST_BYTES = 400_000


@pytest.fixture
def open_window(qtbot, hub: FakeHub) -> Iterator[Callable[..., MainWindow]]:
    """Make the main window as the app does, with or without a system tray."""
    made: list[tuple[MainWindow, AppContext]] = []

    def make(*, tray: bool) -> MainWindow:
        context = AppContext.open(show_errors=False)
        context.settings.hub_endpoint = hub.url
        window = MainWindow(context)
        window.tray_controller.tray_available = tray
        qtbot.addWidget(window)
        window.show()
        made.append((window, context))
        return window

    yield make
    for window, context in made:
        window._replaced = True  # the test is over: closing it must not ask or hide again
        context.close()
    QApplication.setQuitOnLastWindowClosed(True)


def start_download(qtbot, window: MainWindow, hub: FakeHub, data: bytes) -> object:
    """Model → Get models…, the entry, the file, Download; the dialog closed (Esc) once it runs."""
    hub.add(REPO, NAME, data)
    hub.faults.rate = SLOW
    hub.allow(FIRST_BYTES)
    item = download_from_the_hub(qtbot, window, REPO, NAME)
    qtbot.waitUntil(lambda: item.done > 0, timeout=20_000)
    dialog = window.hub_controller.dialog
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    assert not dialog.isVisible()
    return item


def assert_resumed(qtbot, hub: FakeHub, first: int, *, kept: int, size: int) -> None:
    """The file's GET requests from the ``first``-th on asked for the bytes after the ``kept`` ones
    (one request, ``Range: bytes=KEPT-``), and the hub sent exactly the rest of the file."""
    resumed = hub.file_gets(REPO, NAME)[first:]
    # The client can have the last byte before the server thread has counted it.
    qtbot.waitUntil(lambda: all(r.finished for r in resumed), timeout=10_000)
    assert [r.headers.get("range") for r in resumed] == [f"bytes={kept}-"], "resumed, not restarted"
    assert sum(r.served for r in resumed) == size - kept


def part_file(window: MainWindow) -> Path:
    return window.ctx.paths.models / "hfl" / "chinese-alpaca-2-1.3b-gguf" / (NAME + ".part")


def saved_states(window: MainWindow) -> list[str]:
    saved = json.loads((window.ctx.paths.data / "downloads.json").read_text(encoding="utf-8"))
    return [d["state"] for d in saved["downloads"]]


@pytest.mark.parametrize("why", ["no tray", "setting off"])
def test_closing_asks_keep_downloading_keeps_the_window_and_quit_leaves_the_part_for_resume(
    qtbot, open_window, hub: FakeHub, stories_gguf: Path, why: str
) -> None:
    data = stories_gguf.read_bytes()
    window = open_window(tray=why != "no tray")
    if why == "setting off":
        # Settings → Model hub…: the user turned "Keep downloading in the tray" off.
        choose_menu(qtbot, window, "Settings", "Model hub…")
        settings_dialog = window.hub_controller._settings_dialog
        assert settings_dialog.isVisible() and settings_dialog.keep_in_tray.isChecked()
        click(qtbot, settings_dialog.keep_in_tray)
        click_dialog_button(qtbot, settings_dialog, QDialogButtonBox.StandardButton.Ok)
        assert not settings_dialog.isVisible()
        assert window.ctx.settings.keep_downloading_in_tray is False
        assert '"keep_downloading_in_tray": false' in window.ctx.paths.settings_file.read_text(encoding="utf-8")
    item = start_download(qtbot, window, hub, data)
    process = window.ctx.downloads._process
    controller = window.tray_controller

    window.close()
    box = controller.question
    assert box is not None and box.isVisible() and window.isVisible()
    assert box.text() == "A download is running. Quit and resume it the next time you start Alpaca Desk?"
    assert box.defaultButton() is box.keep_button and box.escapeButton() is box.keep_button
    click(qtbot, box.keep_button)
    qtbot.waitUntil(lambda: controller.question is None)
    assert window.isVisible() and not box.isVisible()
    assert process.running and item.state == "running"
    so_far = item.done
    hub.allow(FIRST_BYTES)  # still short of the whole file
    qtbot.waitUntil(lambda: item.done > so_far, timeout=20_000)  # it goes on downloading

    window.close()
    box = controller.question
    assert box is not None and box.isVisible()
    click(qtbot, box.quit_button)
    qtbot.waitUntil(lambda: not window.isVisible())
    outcome = process.wait(30)
    assert outcome.cancelled
    # What is on disk stays, and the saved queue resumes it at the next start.
    kept = part_file(window).stat().st_size
    assert 0 < kept < len(data)
    assert not part_file(window).with_name(NAME).exists()
    assert saved_states(window) == ["running"]
    assert (window.ctx.paths.config / "window.ini").is_file()  # the window's own close ran


def test_closed_to_the_tray_the_download_finishes_and_a_click_on_the_message_chats_with_it(
    qtbot, open_window, hub: FakeHub, stories_gguf: Path
) -> None:
    data = stories_gguf.read_bytes()
    window = open_window(tray=True)
    controller = window.tray_controller
    assert controller.tray is None  # no icon while nothing downloads
    item = start_download(qtbot, window, hub, data)
    tray = controller.tray
    assert tray is not None and tray.isVisible()
    qtbot.waitUntil(lambda: "%" in tray.progress_actions[0].text(), timeout=10_000)
    assert tray.progress_actions[0].text().startswith(NAME + ": ")
    assert tray.toolTip().startswith("Alpaca Desk: downloading 1 file(s) · ")
    assert tray.pause_action.isEnabled() and not tray.resume_action.isEnabled()
    choose_menu(qtbot, window, "Model", "Get models…")
    hub_dialog = window.hub_controller.dialog
    assert hub_dialog.isVisible()
    process = window.ctx.downloads._process

    window.close()
    assert controller.hidden_in_tray and not window.isVisible()
    assert not hub_dialog.isVisible()  # the window's dialogs hide with it
    assert QApplication.quitOnLastWindowClosed() is False
    assert tray.isVisible()
    assert [title for title, _text in tray.messages] == ["Alpaca Desk is still downloading"]
    assert window.ctx.settings.tray_notice_shown
    assert process.running and item.state == "running"
    # Shown again from the tray, and closed again: the message is not repeated.
    click_in_menu(qtbot, tray.menu, tray.show_action)
    assert window.isVisible() and hub_dialog.isVisible() and not controller.hidden_in_tray
    assert QApplication.quitOnLastWindowClosed() is True
    window.close()
    assert controller.hidden_in_tray and len(tray.messages) == 1

    hub.faults.rate = 0
    hub.allow(None)
    qtbot.waitUntil(lambda: item.state == "done", timeout=30_000)
    target = part_file(window).with_name(NAME)
    assert target.read_bytes() == data and not part_file(window).exists()
    [entry] = read_manifest(window.ctx.downloads.models_dir)
    assert (entry.repo, entry.path, entry.sha256) == (REPO, NAME, hashlib.sha256(data).hexdigest())
    title, text = tray.messages[-1]
    assert title == "Download finished"
    assert text == f"{NAME} is downloaded and verified. Click to chat with it."
    # The app runs on in the tray until the user comes back or quits.
    assert not window.isVisible() and tray.isVisible() and QApplication.quitOnLastWindowClosed() is False

    with qtbot.waitSignal(window.client.loaded, timeout=30_000) as loaded:
        tray.messageClicked.emit()  # what the desktop does when the message is clicked
    assert loaded.args[0]["path"] == str(target)
    assert window.isVisible() and QApplication.quitOnLastWindowClosed() is True
    assert not tray.isVisible()  # nothing downloads and the window is back: no icon


def test_the_tray_pauses_resumes_and_its_quit_ends_the_app_leaving_the_part_for_resume(
    qtbot, open_window, hub: FakeHub, stories_gguf: Path
) -> None:
    data = stories_gguf.read_bytes()
    window = open_window(tray=True)
    controller = window.tray_controller
    manager = window.ctx.downloads
    item = start_download(qtbot, window, hub, data)
    tray = controller.tray
    assert tray is not None

    click_in_menu(qtbot, tray.menu, tray.pause_action)
    qtbot.waitUntil(lambda: item.state == "paused" and manager._process is None, timeout=20_000)
    assert tray.isVisible()  # paused from the tray: the icon stays, offering Resume
    assert tray.resume_action.isEnabled() and not tray.pause_action.isEnabled()
    assert tray.progress_actions[0].text() == f"{NAME}: paused"
    click_in_menu(qtbot, tray.menu, tray.resume_action)
    qtbot.waitUntil(lambda: item.state == "running" and manager._process is not None, timeout=20_000)
    process = manager._process

    window.close()
    assert controller.hidden_in_tray and not window.isVisible()
    # "Quit" in the tray menu, inside the application's event loop as app.main runs it: the loop
    # ends (app.main then closes the context), the job stops, its bytes stay for the next start.
    app = QApplication.instance()
    quit_chosen: list[bool] = []

    def quit_from_the_tray() -> None:
        quit_chosen.append(True)
        click_in_menu(qtbot, tray.menu, tray.quit_action)

    guard = QTimer()
    guard.setSingleShot(True)
    guard.timeout.connect(lambda: app.exit(99))  # a Quit that did not end the loop fails the test
    guard.start(60_000)
    QTimer.singleShot(0, quit_from_the_tray)
    code = app.exec()
    guard.stop()
    assert (code, quit_chosen) == (0, [True])
    assert process.wait(30).cancelled
    assert 0 < part_file(window).stat().st_size < len(data)
    assert saved_states(window) == ["running"]
    assert not tray.isVisible() and QApplication.quitOnLastWindowClosed() is True
    assert (window.ctx.paths.config / "window.ini").is_file()
    kept = part_file(window).stat().st_size

    # The next start (app.main: a new context, the window, resume_pending) goes on from the .part.
    hub.faults.rate = 0
    hub.allow(None)
    first = len(hub.file_gets(REPO, NAME))
    again = open_window(tray=True)
    again.ctx.downloads.resume_pending()
    [resumed] = again.ctx.downloads.items
    qtbot.waitUntil(lambda: resumed.state == "done", timeout=30_000)
    assert part_file(again).with_name(NAME).read_bytes() == data
    assert_resumed(qtbot, hub, first, kept=kept, size=len(data))


def test_model_quit_asks_even_with_a_tray_and_a_download_failing_in_the_tray_says_so(
    qtbot, open_window, hub: FakeHub, stories_gguf: Path
) -> None:
    data = stories_gguf.read_bytes()
    window = open_window(tray=True)
    controller = window.tray_controller
    item = start_download(qtbot, window, hub, data)
    # Model → Quit is a request to quit, not to hide: it asks while a download runs.
    choose_menu(qtbot, window, "Model", "Quit")
    box = controller.question
    assert box is not None and box.isVisible() and not controller.hidden_in_tray
    click(qtbot, box.keep_button)
    qtbot.waitUntil(lambda: controller.question is None)
    assert window.isVisible() and item.state == "running"

    window.close()
    assert controller.hidden_in_tray
    hub.faults.flip_byte = len(data) - 10  # the rest arrives damaged: the checksum refuses it
    hub.faults.rate = 0
    hub.allow(None)
    qtbot.waitUntil(lambda: item.state == "failed", timeout=30_000)
    tray = controller.tray
    assert tray is not None and tray.isVisible() and not window.isVisible()
    title, text = tray.messages[-1]
    assert title == "Download failed" and text.startswith(f"{NAME}: ") and "checksum" in text.lower()
    tray.messageClicked.emit()
    dialog = window.hub_controller.dialog
    assert window.isVisible() and dialog is not None and dialog.isVisible()  # where the failure is shown
    assert not part_file(window).with_name(NAME).exists()
