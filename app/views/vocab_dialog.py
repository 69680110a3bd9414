"""Tools → Extend a vocabulary: the paper's section 4.2 on the user's own corpus.

Train a SentencePiece model on a corpus (BPE, 20,000 pieces by default), then merge it into a
base tokenizer (LLaMA's): every base piece kept in order, each new piece appended with score 0,
optionally a pad token (Chinese-Alpaca: 49,954 = 49,953 + pad). Both steps run as job
processes with progress and cancel; the report gives the sizes and the token counts before
and after on the corpus.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.job_runner import JobRunner
from app.messages import error_text, user_message
from app.tasks import run_task
from runtime import tokens as tk
from runtime.models import embedding_rows


class VocabDialog(QDialog):
    """Train a vocabulary on a corpus and merge it into a base tokenizer."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Extend a vocabulary"))
        self.resize(640, 560)
        self.runner = JobRunner(self)
        self.runner.progress.connect(self._on_progress)
        self.runner.finished.connect(self._on_finished)
        self._step = ""
        self._addition = ""
        self._report: list[str] = []

        intro = QLabel(
            self.tr(
                "Chinese-LLaMA extends LLaMA's 32,000 pieces with 20,000 pieces learned from Chinese text "
                "(paper section 4.2), so Chinese needs about half the tokens. Do the same with your corpus: "
                "a SentencePiece model is trained on it and its new pieces are appended to the base tokenizer."
            )
        )
        intro.setWordWrap(True)

        self.corpus = QLineEdit()
        self.corpus.setPlaceholderText(self.tr("UTF-8 text, one sentence or paragraph per line"))
        self.size = QSpinBox()
        self.size.setRange(100, 200_000)
        self.size.setValue(20_000)
        self.size.setSingleStep(1000)
        self.size.setGroupSeparatorShown(True)
        self.size.setToolTip(self.tr("Pieces of the new SentencePiece model (the paper used 20,000)."))
        self.base = QLineEdit("llama")
        self.base.setToolTip(
            self.tr("The tokenizer to extend: 'llama' for the original LLaMA tokenizer, or a tokenizer.model file.")
        )
        self.addition = QLineEdit()
        self.addition.setPlaceholderText(self.tr("Optional: merge this .model instead of training one"))
        self.pad = QCheckBox(self.tr("Add a pad token (Chinese-Alpaca: 49,954 pieces)"))
        self.pad.setToolTip(
            self.tr(
                "Chinese-Alpaca's vocabulary is Chinese-LLaMA's plus one pad token added for instruction "
                "fine-tuning. A model's embedding matrix has exactly one row per piece, so a LLaMA tokenizer "
                "must go with LLaMA weights and an Alpaca tokenizer with Alpaca weights: mixing them breaks "
                "merging and conversion."
            )
        )
        self.output = QLineEdit()
        self.output.setPlaceholderText(self.tr("Folder for the new tokenizer"))
        self.target_model = QLineEdit()
        self.target_model.setPlaceholderText(self.tr("Optional: a GGUF file or model folder to check the size against"))
        self.target_model.setToolTip(
            self.tr(
                "The merged vocabulary must have exactly as many pieces as the model's embedding has rows; "
                "the report warns when they differ."
            )
        )

        form = QFormLayout()
        form.addRow(self.tr("Corpus"), self._with_browse(self.corpus, self._choose_corpus))
        form.addRow(self.tr("New pieces"), self.size)
        form.addRow(self.tr("Base tokenizer"), self._with_browse(self.base, self._choose_base))
        form.addRow(self.tr("Existing model"), self._with_browse(self.addition, self._choose_addition))
        form.addRow("", self.pad)
        form.addRow(self.tr("Output folder"), self._with_browse(self.output, self._choose_output))
        form.addRow(self.tr("For the model"), self._with_browse(self.target_model, self._choose_target_model))

        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, 1)
        self.progress_bar.setValue(0)
        self.stage_label = QLabel()
        self.report = QPlainTextEdit()
        self.report.setReadOnly(True)
        self.report.setPlaceholderText(self.tr("The report appears here."))

        self.run_button = QPushButton(self.tr("Train and merge"))
        self.run_button.setDefault(True)
        self.run_button.clicked.connect(self.start)
        self.cancel_button = QPushButton(self.tr("Cancel"))
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.runner.cancel)
        close = QPushButton(self.tr("Close"))
        close.clicked.connect(self.close)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.run_button)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(close)

        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.progress_bar)
        layout.addWidget(self.stage_label)
        layout.addWidget(self.report, 1)
        layout.addLayout(buttons)

    def _with_browse(self, edit: QLineEdit, handler: Any) -> QWidget:
        row = QWidget()
        layout = QHBoxLayout(row)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(edit, 1)
        button = QPushButton(self.tr("Browse…"))
        button.clicked.connect(handler)
        layout.addWidget(button)
        return row

    def _choose_corpus(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, self.tr("Choose a corpus"), "", self.tr("Text (*.txt);;All (*)"))
        if path:
            self.corpus.setText(path)
            if not self.output.text():
                self.output.setText(str(Path(path).with_name(Path(path).stem + "-tokenizer")))

    def _choose_base(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, self.tr("Choose the base tokenizer"), "", "tokenizer.model (*.model)"
        )
        if path:
            self.base.setText(path)

    def _choose_addition(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, self.tr("Choose a SentencePiece model"), "", "*.model")
        if path:
            self.addition.setText(path)

    def _choose_target_model(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, self.tr("Choose the model"), "", self.tr("GGUF models (*.gguf);;config.json (config.json)")
        )
        if path:
            self.target_model.setText(str(Path(path).parent) if path.endswith("config.json") else path)

    def _choose_output(self) -> None:
        path = QFileDialog.getExistingDirectory(self, self.tr("Choose the output folder"))
        if path:
            self.output.setText(path)

    # -- running -----------------------------------------------------------------------------

    def start(self) -> None:
        """Validate the form, then train (unless a model is given) and merge."""
        corpus = self.corpus.text().strip()
        addition = self.addition.text().strip()
        output = self.output.text().strip()
        problems = []
        if not addition and not corpus:
            problems.append(self.tr("Choose a corpus to train on, or an existing SentencePiece model to merge."))
        if corpus and not Path(corpus).is_file():
            problems.append(self.tr("The corpus {0} does not exist.").format(corpus))
        if not output:
            problems.append(self.tr("Choose an output folder."))
        elif Path(output).exists() and any(Path(output).iterdir()):
            problems.append(self.tr("The output folder {0} is not empty; choose a new one.").format(output))
        if problems:
            self.report.setPlainText("\n".join(problems))
            return
        self._report = []
        self.report.clear()
        self._set_running(True)
        out = Path(output)
        if addition:
            self._merge(addition)
            return
        self._step = "train"
        # The trained model is kept beside the output folder: it is the "chinese_sp.model" of
        # this corpus, useful on its own.
        self._addition = str(out.parent / f"{out.name}-new-pieces.model")
        self.runner.start("vocab-train", corpus=corpus, out=self._addition, size=self.size.value())

    def _merge(self, addition: str) -> None:
        self._step = "merge"
        base_text = self.base.text().strip() or "llama"

        def resolve() -> str:
            return tk.resolve_tokenizer(base_text).path

        def done(base_path: Any, error: BaseException | None) -> None:
            if error is not None:
                self._fail(error_text(error))
                return
            options: dict[str, Any] = {
                "base": base_path,
                "addition": addition,
                "out": self.output.text().strip(),
                "pad": self.pad.isChecked(),
            }
            if self.corpus.text().strip():
                options["sample"] = self.corpus.text().strip()
            self.runner.start("vocab-merge", **options)

        run_task(resolve, done)

    def _on_progress(self, done: int, total: int, stage: str) -> None:
        names = {
            "starting": self.tr("Starting"),
            "reading": self.tr("Reading the corpus"),
            "normalizing": self.tr("Normalizing"),
            "training": self.tr("Learning pieces"),
            "saving": self.tr("Saving"),
            "writing": self.tr("Writing the tokenizer"),
            "loading": self.tr("Loading"),
            "merging": self.tr("Merging"),
            "counting": self.tr("Counting tokens"),
            "done": self.tr("Done"),
        }
        self.progress_bar.setRange(0, max(total, 0))
        if total:
            self.progress_bar.setValue(min(done, total))
        self.stage_label.setText(names.get(stage, stage))

    def _on_finished(self, outcome: Any) -> None:
        if outcome.cancelled:
            self._set_running(False)
            self.stage_label.setText(self.tr("Cancelled; nothing was written."))
            self._cleanup()
            return
        if not outcome.ok:
            self._fail(user_message(outcome.code, outcome.params, outcome.error or ""))
            return
        result = outcome.result or {}
        if self._step == "train":
            self._report.append(
                self.tr("Trained {0:,} pieces on {1:,} lines in {2} s.").format(
                    int(result.get("vocab_size", 0)), int(result.get("sentences", 0)), result.get("seconds", "?")
                )
            )
            self._merge(self._addition)
            return
        self._set_running(False)
        if self._addition:
            self._report.append(self.tr("The newly trained model: {0}").format(self._addition))
            self._addition = ""
        self._report.append(
            self.tr("Base tokenizer: {0:,} pieces. Pieces added: {1:,}. Final size: {2:,}.").format(
                int(result.get("base_size", 0)), int(result.get("added", 0)), int(result.get("final_size", 0))
            )
        )
        if result.get("pad_token"):
            self._report.append(self.tr("A pad token was added: {0}.").format(result["pad_token"]))
        sample = result.get("sample")
        if isinstance(sample, dict):
            self._report.append(
                self.tr("On {0:,} characters of the corpus: {1:,} tokens before, {2:,} after ({3:.0%}).").format(
                    int(sample.get("chars", 0)),
                    int(sample.get("tokens_before", 0)),
                    int(sample.get("tokens_after", 0)),
                    float(sample.get("ratio", 1.0)),
                )
            )
        self._report.append(self.tr("Written to {0}").format(result.get("path", "")))
        self.report.setPlainText("\n".join(self._report))
        self.stage_label.setText(self.tr("Done"))
        target = self.target_model.text().strip()
        if target:
            self._check_size(int(result.get("final_size", 0)), target)

    def _check_size(self, size: int, target: str) -> None:
        """Compare the merged vocabulary with the model's embedding rows (read off the GUI thread)."""

        def done(rows: Any, error: BaseException | None) -> None:
            if error is not None:
                self._report.append(error_text(error))
            else:
                warning = tk.vocab_mismatch(size, int(rows))
                if warning is None:
                    self._report.append(self.tr("The model's embedding has {0:,} rows: the sizes match.").format(rows))
                else:
                    self._report.append(user_message(warning.code, warning.params, warning.message))
            self.report.setPlainText("\n".join(self._report))

        run_task(lambda: embedding_rows(target), done)

    def _fail(self, message: str) -> None:
        self._set_running(False)
        self._cleanup()
        self._report.append(message)
        self.report.setPlainText("\n".join(self._report))
        self.stage_label.setText(self.tr("Failed"))

    def _cleanup(self) -> None:
        """Remove a model trained in this run when the run did not complete."""
        if self._addition:
            for suffix in (".model", ".vocab"):
                Path(self._addition).with_suffix(suffix).unlink(missing_ok=True)
            self._addition = ""

    def _set_running(self, running: bool) -> None:
        self.run_button.setEnabled(not running)
        self.cancel_button.setEnabled(running)
        if running:
            self.progress_bar.setRange(0, 0)
            self.stage_label.setText(self.tr("Starting"))
        else:
            self.progress_bar.setRange(0, 1)
            self.progress_bar.setValue(1)
        for edit in (self.corpus, self.base, self.addition, self.output, self.target_model):
            edit.setEnabled(not running)

    def closeEvent(self, event: Any) -> None:
        """Closing cancels a running job (its partial output is removed)."""
        if self.runner.running:
            self.runner.cancel()
        super().closeEvent(event)
