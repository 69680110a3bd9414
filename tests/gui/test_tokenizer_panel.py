"""The tokenizer panel counts what is typed, off the GUI thread, with the real tokenizers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer

from app.main_window import AppContext, MainWindow

POEM = "白日依山尽，黄河入海流。欲穷千里目，更上一层楼。"


def commit_with_input_method(widget, text: str) -> None:
    """Type Chinese the way an input method delivers it: one commit event, not key presses."""
    from PySide6.QtGui import QInputMethodEvent
    from PySide6.QtWidgets import QApplication

    widget.setFocus()
    event = QInputMethodEvent()
    event.setCommitString(text)
    QApplication.sendEvent(widget, event)


@pytest.fixture
def window(qtbot) -> Iterator[MainWindow]:
    ctx = AppContext.open(show_errors=False)
    win = MainWindow(ctx)
    win._replaced = True
    qtbot.addWidget(win)
    win.show()
    win.tokens_action.setChecked(True)
    panel = win.tokenizer_panel
    qtbot.waitUntil(lambda: panel.tokenizer_keys() == ["llama", "chinese-llama"], timeout=30_000)
    yield win
    ctx.close()


def test_typing_updates_counts(qtbot, window: MainWindow) -> None:
    panel = window.tokenizer_panel
    with qtbot.waitSignal(panel.updated, timeout=10_000) as blocker:
        commit_with_input_method(window.input, POEM)
    counts = blocker.args[0]
    assert [(c.label.split(" ")[0], c.n_tokens) for c in counts] == [("LLaMA", 37), ("Chinese-LLaMA", 21)]
    assert panel.table.item(0, 1).text() == "37"
    assert panel.table.item(1, 1).text() == "21"
    assert counts[0].byte_fallback > 0 and counts[1].ratio_to_first == pytest.approx(21 / 37, abs=0.01)
    assert "2,048" in panel.capacity_label.text()
    assert "白" in panel.pieces_view.toPlainText()


def test_clicking_a_message_counts_it(qtbot, window: MainWindow) -> None:
    widget = window.chat.add_message(1, "assistant", POEM)
    with qtbot.waitSignal(window.tokenizer_panel.updated, timeout=10_000) as blocker:
        widget.activated.emit(widget.text)
    assert blocker.args[0][1].n_tokens == 21


def test_pasting_a_megabyte_keeps_the_event_loop_running(qtbot, window: MainWindow, zh_samples: Path) -> None:
    sample = zh_samples.read_text(encoding="utf-8")
    big = (sample * (1_000_000 // len(sample) + 1))[:1_000_000]
    ticks = [0]
    timer = QTimer()
    timer.setInterval(5)
    timer.timeout.connect(lambda: ticks.__setitem__(0, ticks[0] + 1))
    panel = window.tokenizer_panel
    with qtbot.waitSignal(panel.updated, timeout=60_000) as blocker:
        timer.start()
        panel.set_text(big)
    timer.stop()
    assert blocker.args[0][0].n_chars == 1_000_000
    # The event loop kept turning while the megabyte was counted on a worker thread.
    assert ticks[0] > 10
    assert "1,000,000" in panel.pieces_view.toPlainText()


def test_bad_tokenizer_file_gives_message_and_panel_keeps_working(qtbot, window: MainWindow, tmp_path: Path) -> None:
    bad = tmp_path / "tokenizer.model"
    bad.write_bytes(b"\x00\x01 definitely not a sentencepiece model" * 10)
    panel = window.tokenizer_panel
    panel.add_tokenizer(str(bad))
    qtbot.waitUntil(panel.error_label.isVisible, timeout=30_000)
    assert "tokenizer.model" in panel.error_label.text()
    assert panel.tokenizer_keys() == ["llama", "chinese-llama"]
    with qtbot.waitSignal(panel.updated, timeout=10_000):
        panel.set_text(POEM)


def test_missing_named_tokenizer_offers_a_fetch_only_on_request(
    qtbot, window: MainWindow, monkeypatch, tmp_path: Path
) -> None:
    # A damaged install: the shipped tokenizers are gone, and nothing is in the cache.
    monkeypatch.setattr("runtime.tokens._known.shipped_tokenizer_dir", lambda: tmp_path / "no-tokenizers")
    panel = window.tokenizer_panel
    panel.add_tokenizer("chinese-llama-2")
    qtbot.waitUntil(panel.error_label.isVisible, timeout=30_000)
    assert "tokenizer.model" in panel.error_label.text()
    assert panel.error_button.isVisible()
    assert panel.fetch_button.isVisible()  # the hub is one click away, and only on that click
    assert "chinese-llama-2" not in panel.tokenizer_keys()
    # Offline (HF_HUB_OFFLINE=1 in the tests), the fetch finds nothing and says so again.
    panel.error_label.hide()
    panel.fetch_button.click()
    assert not panel.fetch_button.isVisible()
    qtbot.waitUntil(panel.error_label.isVisible, timeout=30_000)
    assert panel.fetch_button.isVisible()
    assert "chinese-llama-2" not in panel.tokenizer_keys()
