"""The convert-and-quantize wizard and the quantization report, offscreen, with real job processes."""

from __future__ import annotations

import csv
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from app.main_window import AppContext, MainWindow
from app.views.convert_wizard import ConvertWizard, ReportDialog
from runtime.models.tiny_checkpoint import write_llama_checkpoint
from runtime.tokens import merge_sentencepiece
from tests.gui.clicks import answering_file_dialog, choose_in_combo, choose_menu, click, type_text

JOB_TIMEOUT_MS = 240_000


@pytest.fixture(scope="module")
def merged_bytes(llama_tokenizer: Path, chinese_sp_model: Path) -> bytes:
    return merge_sentencepiece(llama_tokenizer, chinese_sp_model).model_proto_bytes


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory, merged_bytes: bytes) -> Path:
    folder = tmp_path_factory.mktemp("wizard") / "chinese-alpaca-tiny"
    return write_llama_checkpoint(folder, tokenizer=merged_bytes)


@pytest.fixture
def window(qtbot) -> Iterator[MainWindow]:
    context = AppContext.open(show_errors=False)
    win = MainWindow(context)
    win._replaced = True  # closing it in a test must not quit the shared QApplication
    qtbot.addWidget(win)
    win.show()
    yield win
    context.close()


def inspect(qtbot, wizard: ConvertWizard, folder: Path) -> None:
    """Type the folder, click "Check the folder", wait for the inspection."""
    type_text(qtbot, wizard.folder_edit, str(folder), replace=True)
    with qtbot.waitSignal(wizard.controller.inspected, timeout=JOB_TIMEOUT_MS):
        click(qtbot, wizard.inspect_button)


def show_wizard(qtbot) -> ConvertWizard:
    wizard = ConvertWizard()
    qtbot.addWidget(wizard)
    wizard.show()
    qtbot.waitExposed(wizard)
    return wizard


def test_wizard_from_folder_to_chat(qtbot, window: MainWindow, checkpoint: Path, tmp_path: Path) -> None:
    choose_menu(qtbot, window, "Model", "Convert and quantize my weights…")
    wizard: ConvertWizard = window._convert_wizard
    qtbot.waitExposed(wizard)
    assert not wizard.next_button.isEnabled()
    inspect(qtbot, wizard, checkpoint)
    shown = wizard.inspection_label.text()
    assert "49,953 (Chinese-LLaMA), matches the tokenizer" in shown and "No problems found." in shown
    assert "Layers: 2; hidden size: 64" in shown and "chinese-alpaca" in shown
    click(qtbot, wizard.next_button)
    assert wizard.pages.currentIndex() == 1 and wizard.next_button.text() == "Convert"
    out = tmp_path / "out"
    type_text(qtbot, wizard.out_dir_edit, str(out), replace=True)
    for qtype, check in wizard.quant_checks.items():
        if check.isChecked() != (qtype in ("q8_0", "q4_0")):
            click(qtbot, check)
    assert [q for q, check in wizard.quant_checks.items() if check.isChecked()] == ["q8_0", "q4_0"]
    assert "MiB" in wizard.quant_checks["q4_0"].text() and "enough free space" in wizard.space_label.text()
    with qtbot.waitSignal(wizard.controller.finished, timeout=JOB_TIMEOUT_MS):
        click(qtbot, wizard.next_button)
        assert wizard.pages.currentIndex() == 2 and wizard.cancel_button.isEnabled()
        assert len(wizard.stage_bars) == 3
    assert wizard.pages.currentIndex() == 3
    files = wizard.result_files()
    assert [Path(f).name for f in files] == [f"chinese-alpaca-tiny-{k}.gguf" for k in ("f16", "q8_0", "q4_0")]
    assert all(Path(f).is_file() for f in files) and "done" in wizard.stage_times[2].text()
    assert sorted(p.name for p in out.iterdir()) == sorted(Path(f).name for f in files)  # nothing else
    # "Chat with it" opens the selected file (the last quantization) in the chat.
    with qtbot.waitSignal(window.client.loaded, timeout=JOB_TIMEOUT_MS) as loaded:
        click(qtbot, wizard.chat_button)
    assert loaded.args[0]["path"] == files[-1]
    assert "chinese-alpaca-tiny-q4_0.gguf" in window.model_label.text()
    # "Make a quantization report" opens the report for the files written.
    click(qtbot, wizard.report_button)
    report: ReportDialog = window._report_dialog
    assert report.isVisible() and report.files() == files


def test_wizard_shows_problems_and_refuses_without_space(
    qtbot, checkpoint: Path, llama_tokenizer: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wizard = show_wizard(qtbot)
    broken = shutil.copytree(checkpoint, tmp_path / "broken")
    shutil.copy(llama_tokenizer, broken / "tokenizer.model")
    inspect(qtbot, wizard, broken)
    assert "does NOT match the tokenizer" in wizard.inspection_label.text()
    assert "32,000" in wizard.inspection_label.text() and not wizard.next_button.isEnabled()

    inspect(qtbot, wizard, checkpoint)
    click(qtbot, wizard.next_button)
    assert wizard.pages.currentIndex() == 1
    monkeypatch.setenv("ALPACA_DESK_FAKE_FREE_BYTES", "1000")
    type_text(qtbot, wizard.out_dir_edit, str(tmp_path / "out"), replace=True)
    assert "Not enough space" in wizard.space_label.text() and not wizard.next_button.isEnabled()
    # Neither a click on the disabled Convert nor Enter (its default button) starts anything.
    qtbot.mouseClick(wizard.next_button, Qt.MouseButton.LeftButton)
    qtbot.keyClick(wizard.out_dir_edit, Qt.Key.Key_Return)
    assert wizard.pages.currentIndex() == 1 and not wizard.controller.running
    assert not (tmp_path / "out").exists()


def test_wizard_cancel_leaves_nothing(qtbot, tmp_path: Path, merged_bytes: bytes) -> None:
    larger = write_llama_checkpoint(tmp_path / "larger", tokenizer=merged_bytes, layers=40, hidden=128, ffn=256)
    wizard = show_wizard(qtbot)
    inspect(qtbot, wizard, larger)
    click(qtbot, wizard.next_button)
    out = tmp_path / "out"
    type_text(qtbot, wizard.out_dir_edit, str(out), replace=True)
    choose_in_combo(qtbot, wizard.outtype_combo, "f32")  # the slowest
    with qtbot.waitSignal(wizard.controller.cancelled, timeout=JOB_TIMEOUT_MS):
        with qtbot.waitSignal(wizard.controller.stage_progress, timeout=JOB_TIMEOUT_MS):
            click(qtbot, wizard.next_button)
        click(qtbot, wizard.cancel_button)
    assert "Cancelled" in wizard.run_status.text()
    assert not out.exists() or list(out.iterdir()) == []


def test_report_dialog_table_and_csv(qtbot, tmp_path: Path, checkpoint: Path, zh_samples: Path) -> None:
    from runtime.models.convert import convert_checkpoint

    f16 = tmp_path / "m-f16.gguf"
    convert_checkpoint(checkpoint, f16)
    dialog = ReportDialog([str(f16)])
    qtbot.addWidget(dialog)
    dialog.show()
    type_text(qtbot, dialog.text_edit, str(zh_samples))
    type_text(qtbot, dialog.ctx_spin, "64", replace=True)
    assert dialog.ctx_spin.value() == 64
    # Two windows and four tokens of speed: a click would measure the whole text (minutes).
    with qtbot.waitSignal(dialog.controller.finished, timeout=JOB_TIMEOUT_MS):
        dialog.start(max_chunks=2, speed_tokens=4, threads=1)
    assert dialog.table.rowCount() == 1 and dialog.table.item(0, 1).text() == "F16"
    assert float(dialog.table.item(0, 4).text()) > 1 and dialog.csv_button.isEnabled()
    target = tmp_path / "report.csv"
    with answering_file_dialog(qtbot, str(target)) as titles:
        click(qtbot, dialog.csv_button)
    assert titles == ["Export CSV"]
    rows = list(csv.DictReader(target.open(encoding="utf-8")))
    assert rows[0]["file"] == "m-f16.gguf" and json.loads(rows[0]["n_ctx"]) == 64


def test_report_chart_points_and_png(qtbot, tmp_path: Path, checkpoint: Path, zh_samples: Path) -> None:
    from PySide6.QtGui import QImage

    from runtime.models.convert import convert_checkpoint
    from runtime.models.quantize import quantize_gguf

    f16 = tmp_path / "m-f16.gguf"
    convert_checkpoint(checkpoint, f16)
    files = [f16] + [tmp_path / f"m-{q}.gguf" for q in ("q8_0", "q4_0")]
    for target in files[1:]:
        quantize_gguf(f16, target, qtype=target.stem.removeprefix("m-"), threads=1)
    dialog = ReportDialog([str(f) for f in files])
    qtbot.addWidget(dialog)
    dialog.show()
    type_text(qtbot, dialog.text_edit, str(zh_samples))
    type_text(qtbot, dialog.ctx_spin, "64", replace=True)
    assert dialog.ctx_spin.value() == 64
    assert not dialog.png_button.isEnabled()
    with qtbot.waitSignal(dialog.controller.finished, timeout=JOB_TIMEOUT_MS):
        dialog.start(max_chunks=2, speed_tokens=4, threads=1)
    assert dialog.png_button.isEnabled()

    # One point per file, at (size in MiB, perplexity) of its report row, labelled with its type.
    chart = dialog.chart
    rows = sorted(dialog.rows, key=lambda row: row["bytes"])
    assert [row["quantization"] for row in rows] == ["Q4_0", "Q8_0", "F16"]
    assert chart.unit == "MiB" and "MiB" in chart.plot.getAxis("bottom").labelText
    xs, ys = chart.scatter.getData()
    assert list(xs) == pytest.approx([row["bytes"] / 2**20 for row in rows])
    assert list(ys) == pytest.approx([row["perplexity"] for row in rows])
    assert [(label.toPlainText(), label.pos().x(), label.pos().y()) for label in chart.labels] == [
        (row["quantization"], pytest.approx(row["bytes"] / 2**20), pytest.approx(row["perplexity"])) for row in rows
    ]
    # Every point lies inside the visible range.
    (x_min, x_max), (y_min, y_max) = chart.plot.getViewBox().viewRange()
    assert all(x_min < x < x_max for x in xs) and all(y_min < y < y_max for y in ys)

    target = tmp_path / "out" / "report.png"
    target.parent.mkdir()
    with answering_file_dialog(qtbot, str(target)) as titles:
        click(qtbot, dialog.png_button)
    assert titles == ["Export chart as PNG"]
    data = target.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 5_000
    image = QImage(str(target))
    assert not image.isNull() and image.width() == 1200 and image.height() > 100
    assert list(target.parent.iterdir()) == [target]  # written under a temporary name, renamed into place


def test_chart_points_units_and_broken_rows() -> None:
    from app.views.report_chart import chart_points

    rows = [
        {"quantization": "F16", "bytes": 13 * 2**30, "perplexity": 9.128},
        {"quantization": "Q2_K", "bytes": 2**31, "perplexity": float("inf")},
        {"quantization": "Q4_0", "bytes": 3 * 2**30 + 2**29, "perplexity": 9.476},
    ]
    unit, points = chart_points(rows)
    assert unit == "GiB"
    assert [(p.label, p.size, p.perplexity) for p in points] == [("Q4_0", 3.5, 9.476), ("F16", 13.0, 9.128)]
    unit, points = chart_points([{"quantization": "Q8_0", "bytes": 3 * 2**20, "perplexity": 20.0}])
    assert unit == "MiB" and [(p.size, p.perplexity) for p in points] == [(3.0, 20.0)]
