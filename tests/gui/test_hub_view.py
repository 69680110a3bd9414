"""Model → Get models… against the fake hub: choose an entry, watch progress, pause, resume,
finish, "Chat with it" (a real download job, a real host loading the downloaded GGUF)."""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtWidgets import QDialogButtonBox

from app.main_window import AppContext, MainWindow
from app.views.hub_view import FILE_ROLE, REPO_ROLE
from tests.fakehub import FakeHub
from tests.gui.clicks import (
    choose_menu,
    click,
    click_dialog_button,
    click_item,
    download_from_the_hub,
    tree_row,
    type_text,
)

REPO = "hfl/chinese-alpaca-2-1.3b-gguf"
NAME = "ggml-model-q4_0.gguf"


def assert_resumed(qtbot, hub: FakeHub, first: int, *, kept: int, size: int) -> None:
    """The file's GET requests from the ``first``-th on asked for the bytes after the ``kept`` ones
    (one request, ``Range: bytes=KEPT-``), and the hub sent exactly the rest of the file."""
    resumed = hub.file_gets(REPO, NAME)[first:]
    # The client can have the last byte before the server thread has counted it.
    qtbot.waitUntil(lambda: all(r.finished for r in resumed), timeout=10_000)
    assert [r.headers.get("range") for r in resumed] == [f"bytes={kept}-"], "resumed, not restarted"
    assert sum(r.served for r in resumed) == size - kept


def test_catalogue_download_pause_resume_finish_and_chat(
    qtbot, window: MainWindow, hub: FakeHub, stories_gguf: Path
) -> None:
    data = stories_gguf.read_bytes()
    hub.add(REPO, NAME, data)
    hub.add(REPO, "ggml-model-q8_0.gguf", b"\0" * 4096)
    # A quarter of the file (more than the 256 KiB the downloader reads at a time), then the hub
    # holds the rest: the pause comes first, however slow the machine.
    hub.allow(300_000)
    # First run: nothing installed, so the window offers the catalogue.
    window.offer_models()
    assert window.banner.isVisible() and window.banner.action_button.isVisible()
    click(qtbot, window.banner.action_button)
    dialog = window.hub_controller.dialog
    assert dialog is not None and dialog.isVisible()
    assert dialog.catalogue.topLevelItemCount() >= 25  # the shipped snapshot

    # A 7B Alpaca-2 names the 1.3B model that drafts for it.
    click_item(qtbot, dialog.catalogue, tree_row(dialog.catalogue, "hfl/chinese-alpaca-2-7b-gguf", role=REPO_ROLE))
    qtbot.waitUntil(
        lambda: "hfl/chinese-alpaca-2-1.3b-gguf, of the same vocabulary, can draft" in dialog.details.text()
    )
    click_item(qtbot, dialog.catalogue, tree_row(dialog.catalogue, REPO, role=REPO_ROLE))
    # The file list is asked of the (fake) hub when the entry is chosen.
    qtbot.waitUntil(lambda: dialog.files.topLevelItemCount() == 2, timeout=10_000)
    assert "Sizes from the hub" in dialog.details.text()
    assert "Speed it up" not in dialog.details.text()  # nothing smaller drafts for the 1.3B
    click_item(qtbot, dialog.files, tree_row(dialog.files, NAME, role=FILE_ROLE))
    click(qtbot, dialog.download_button)
    manager = window.ctx.downloads
    [item] = manager.items
    assert item.files == [NAME]
    qtbot.waitUntil(lambda: item.done > 0 and dialog.progress_value(item) > 0, timeout=20_000)
    [row] = [dialog.downloads.topLevelItem(i) for i in range(dialog.downloads.topLevelItemCount())]
    assert NAME in row.text(0)
    click_item(qtbot, dialog.downloads, row)
    assert dialog.selected_download() is item
    click(qtbot, dialog.pause_button)
    qtbot.waitUntil(lambda: item.state == "paused" and manager._process is None, timeout=20_000)
    part = window.ctx.paths.models / "hfl" / "chinese-alpaca-2-1.3b-gguf" / (NAME + ".part")
    kept = part.stat().st_size
    assert 0 < kept < len(data)
    # The queue is saved: a restart would resume it.
    saved = json.loads((window.ctx.paths.data / "downloads.json").read_text(encoding="utf-8"))
    assert saved["downloads"][0]["repo"] == REPO

    hub.allow(None)
    first = len(hub.file_gets(REPO, NAME))
    click(qtbot, dialog.resume_button)
    qtbot.waitUntil(lambda: item.state == "done", timeout=30_000)
    assert_resumed(qtbot, hub, first, kept=kept, size=len(data))
    target = part.with_name(NAME)
    assert target.read_bytes() == data and not part.exists()
    assert dialog.open_button.isEnabled() and dialog.open_button.text() == "Chat with it"
    assert dialog.catalogue.currentItem().text(4) != ""  # on disk now
    click(qtbot, dialog.verify_button)
    qtbot.waitUntil(lambda: "SHA-256" in dialog.verify_result.text(), timeout=10_000)
    assert dialog.verify_result.text().startswith("1 file(s) checked")
    with qtbot.waitSignal(window.client.loaded, timeout=30_000) as loaded:
        click(qtbot, dialog.open_button)
    assert loaded.args[0]["path"] == str(target)
    assert not dialog.isVisible()


def test_hub_settings_apply_at_once_and_keep_the_token_out_of_files(qtbot, window: MainWindow, hub: FakeHub) -> None:
    controller = window.hub_controller
    choose_menu(qtbot, window, "Settings", "Model hub…")
    dialog = controller._settings_dialog
    assert dialog.isVisible()
    type_text(qtbot, dialog.endpoint, "not a url", replace=True)
    click_dialog_button(qtbot, dialog, QDialogButtonBox.StandardButton.Ok)
    assert dialog.isVisible() and dialog.problem.isVisible()
    type_text(qtbot, dialog.endpoint, "https://hf-mirror.com/", replace=True)
    assert not dialog.offline.isChecked()
    click(qtbot, dialog.offline)
    type_text(qtbot, dialog.token, "hf_secret_token")
    click_dialog_button(qtbot, dialog, QDialogButtonBox.StandardButton.Ok)
    assert not dialog.isVisible()
    settings = window.ctx.settings
    assert (settings.hub_endpoint, settings.hub_offline) == ("https://hf-mirror.com", True)
    stored = window.ctx.paths.settings_file.read_text(encoding="utf-8")
    assert "hf-mirror.com" in stored and "hf_secret_token" not in stored
    # Offline: the catalogue says so and a download waits instead of connecting.
    choose_menu(qtbot, window, "Model", "Get models…")
    hub_dialog = controller.dialog
    assert hub_dialog is not None and hub_dialog.isVisible()
    assert "Offline mode is on" in hub_dialog.source_label.text()
    click_item(qtbot, hub_dialog.catalogue, tree_row(hub_dialog.catalogue, REPO, role=REPO_ROLE))
    click_item(qtbot, hub_dialog.files, tree_row(hub_dialog.files, NAME, role=FILE_ROLE))
    click(qtbot, hub_dialog.download_button)
    [item] = window.ctx.downloads.items
    assert (item.repo, item.files) == (REPO, [NAME])
    assert item.state == "paused" and "Offline" in item.error
    assert hub.requests == []


def test_a_download_running_when_the_app_quits_resumes_at_the_next_start(
    qtbot, hub: FakeHub, stories_gguf: Path
) -> None:
    data = stories_gguf.read_bytes()
    hub.add(REPO, NAME, data)
    hub.allow(300_000)  # the rest is held: the app quits in the middle of the download
    first = AppContext.open(show_errors=False)
    first.settings.hub_endpoint = hub.url
    first.save_settings()
    window = MainWindow(first)
    window._replaced = True
    qtbot.addWidget(window)
    window.show()
    item = download_from_the_hub(qtbot, window, REPO, NAME)
    qtbot.waitUntil(lambda: item.done > 100_000, timeout=20_000)
    process = first.downloads._process
    first.close()  # the app quits in the middle of the download
    process.wait(30)
    first_gets = len(hub.file_gets(REPO, NAME))
    saved = json.loads((first.paths.data / "downloads.json").read_text(encoding="utf-8"))
    assert [d["state"] for d in saved["downloads"]] == ["running"]
    part = first.paths.models / "hfl" / "chinese-alpaca-2-1.3b-gguf" / (NAME + ".part")
    kept = part.stat().st_size
    assert kept > 0

    hub.allow(None)
    second = AppContext.open(show_errors=False)
    try:
        again_window = MainWindow(second)
        again_window._replaced = True
        qtbot.addWidget(again_window)
        second.downloads.resume_pending()  # what app.main does at start
        [again] = second.downloads.items
        qtbot.waitUntil(lambda: again.state == "done", timeout=30_000)
        assert part.with_name(NAME).read_bytes() == data
        assert_resumed(qtbot, hub, first_gets, kept=kept, size=len(data))
    finally:
        second.close()


def test_full_weights_go_to_the_convert_wizard_hook(qtbot, window: MainWindow, tmp_path: Path) -> None:
    from app.controllers.downloads import Download

    controller = window.hub_controller
    controller.open_dialog()
    controller._ram = 16_000_000_000  # a 16 GB computer, whatever this one has
    weights = tmp_path / "hfl" / "chinese-alpaca-2-7b"
    item = Download("hfl/chinese-alpaca-2-7b", [], state="done", kind="full", paths=[str(weights / "config.json")])
    with qtbot.waitSignal(controller.convert_requested) as requested:
        controller.open_download(item)
    folder, quant = requested.args
    assert folder == str(weights) and quant in {"Q6_K", "Q5_K", "Q5_0", "Q4_K"}
    # The convert wizard opens on that folder with that quantization (its file-name spelling
    # mapped to the wizard's choice: a K-quant without a size letter is the medium mixture).
    wizard = window._convert_wizard
    assert wizard.isVisible() and wizard.folder_edit.text() == str(weights)
    expected = {"Q6_K": "q6_k", "Q5_K": "q5_k_m", "Q5_0": "q5_0", "Q4_K": "q4_k_m"}[quant]
    assert [q for q, check in wizard.quant_checks.items() if check.isChecked()] == [expected]
    wizard.close()
