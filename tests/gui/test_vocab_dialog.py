"""The vocabulary-extension tool trains and merges through real job processes."""

from __future__ import annotations

from pathlib import Path

import sentencepiece as spm
from PySide6.QtCore import Qt

from app.views.vocab_dialog import VocabDialog
from runtime.jobs import GATE_ENV


def corpus_file(zh_samples: Path, tmp_path: Path) -> Path:
    text = zh_samples.read_text(encoding="utf-8")
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n".join(p.replace("\n", " ") for p in text.split("\n\n") if p.strip()), encoding="utf-8")
    return corpus


def test_train_and_merge_with_pad(qtbot, zh_samples: Path, tmp_path: Path) -> None:
    dialog = VocabDialog()
    qtbot.addWidget(dialog)
    dialog.corpus.setText(str(corpus_file(zh_samples, tmp_path)))
    dialog.size.setValue(3000)
    dialog.pad.setChecked(True)
    out = tmp_path / "my-tokenizer"
    dialog.output.setText(str(out))
    dialog.start()
    assert not dialog.run_button.isEnabled()
    qtbot.waitUntil(lambda: dialog.run_button.isEnabled(), timeout=120_000)
    report = dialog.report.toPlainText()
    assert "32,000" in report, report
    merged = spm.SentencePieceProcessor(model_file=str(out / "tokenizer.model"))
    assert merged.get_piece_size() > 32_000
    assert merged.id_to_piece(merged.get_piece_size() - 1) == "<pad>"
    assert f"{merged.get_piece_size():,}" in report
    assert (tmp_path / "my-tokenizer-new-pieces.model").is_file()
    assert (out / "tokenizer_config.json").is_file()


def test_merge_existing_model_reproduces_chinese_llama(qtbot, chinese_sp_model: Path, tmp_path: Path) -> None:
    dialog = VocabDialog()
    qtbot.addWidget(dialog)
    dialog.addition.setText(str(chinese_sp_model))
    out = tmp_path / "chinese-llama"
    dialog.output.setText(str(out))
    dialog.start()
    qtbot.waitUntil(lambda: dialog.run_button.isEnabled(), timeout=60_000)
    assert "49,953" in dialog.report.toPlainText()
    assert spm.SentencePieceProcessor(model_file=str(out / "tokenizer.model")).get_piece_size() == 49_953


def test_bad_input_is_explained_and_nothing_runs(qtbot, tmp_path: Path) -> None:
    dialog = VocabDialog()
    qtbot.addWidget(dialog)
    dialog.corpus.setText(str(tmp_path / "missing.txt"))
    dialog.start()
    assert "missing.txt" in dialog.report.toPlainText()
    assert "output folder" in dialog.report.toPlainText()
    assert dialog.run_button.isEnabled() and not dialog.runner.running


def test_cancel_leaves_no_output(qtbot, zh_samples: Path, tmp_path: Path, monkeypatch) -> None:
    # The job waits at its first "training" progress until a gate file exists, which this test
    # never makes: the Cancel is sure to come while sentencepiece is at work, however fast it is.
    monkeypatch.setenv(GATE_ENV, f"training={tmp_path / 'gate'}")
    dialog = VocabDialog()
    qtbot.addWidget(dialog)
    dialog.corpus.setText(str(corpus_file(zh_samples, tmp_path)))
    dialog.size.setValue(3000)
    out = tmp_path / "never"
    dialog.output.setText(str(out))
    qtbot.mouseClick(dialog.run_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.stage_label.text() == "Learning pieces", timeout=60_000)
    with qtbot.waitSignal(dialog.runner.finished, timeout=60_000) as blocker:
        qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
    assert blocker.args[0].cancelled
    assert not out.exists()
    assert not (tmp_path / "never-new-pieces.model").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["corpus.txt"]  # no temporary output either
    assert "Cancelled" in dialog.stage_label.text()
    assert dialog.run_button.isEnabled()


def test_size_check_warns_about_llama_alpaca_mix(qtbot, chinese_sp_model: Path, tmp_path: Path) -> None:
    # A model folder whose embedding has Chinese-Alpaca's 49,954 rows, merged without the pad token.
    model = tmp_path / "chinese-alpaca-7b"
    model.mkdir()
    (model / "config.json").write_text('{"vocab_size": 49954}', encoding="utf-8")
    dialog = VocabDialog()
    qtbot.addWidget(dialog)
    dialog.addition.setText(str(chinese_sp_model))
    dialog.output.setText(str(tmp_path / "merged"))
    dialog.target_model.setText(str(model))
    dialog.start()
    qtbot.waitUntil(lambda: "49,954" in dialog.report.toPlainText(), timeout=60_000)
    assert "Chinese-Alpaca" in dialog.report.toPlainText()


def test_size_check_against_gguf_rows(qtbot, stories_gguf: Path, tmp_path: Path) -> None:
    from runtime.models import embedding_rows

    assert embedding_rows(stories_gguf) == 512
