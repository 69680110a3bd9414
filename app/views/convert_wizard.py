"""The convert-and-quantize wizard and the quantization report window (layout and what they show).

The wizard's four pages: pick a checkpoint folder (what it holds and its problems, inspected in a
job), choose the outputs (sizes estimated, free space checked), run (a progress bar per stage with
elapsed and remaining time, Cancel), and the result ("Chat with it", "Make a quantization report").
The flow lives in :mod:`app.controllers.convert`.

The report shows a table (size, bits per weight, perplexity, speed) beside a chart of size against
perplexity (:mod:`app.views.report_chart`, pyqtgraph), and exports the table as CSV and the chart
as PNG.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QSplitter,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.controllers.convert import ConvertController, PlannedOutput, ReportController, plan_outputs, space_shortfall

# The quantization types offered, as runtime.models.quantize lists them (repeated: that module loads llama.cpp).
QUANT_CHOICES = ("q8_0", "q6_k", "q5_k_m", "q5_0", "q4_k_m", "q4_0", "q3_k_m", "q2_k")
# Checked by default: the usual choice for a laptop and the nearly lossless one.
DEFAULT_QUANTS = ("q8_0", "q4_k_m")


def _mib(size: float) -> str:
    return f"{size / 2**20:,.1f} MiB" if size < 2**30 else f"{size / 2**30:,.2f} GiB"


def _duration(seconds: float) -> str:
    seconds = max(0, int(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}"


class ConvertWizard(QDialog):
    """Convert and quantize merged weights, step by step.

    Signals:
        chat_requested(str): the user wants to chat with this GGUF file.
        report_requested(object): the list of GGUF files to compare in a quantization report.
    """

    chat_requested = Signal(str)
    report_requested = Signal(object)

    def __init__(self, parent: QWidget | None = None, *, controller: ConvertController | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Convert and quantize my weights"))
        self.resize(720, 560)
        self.controller = controller or ConvertController(self)
        self.controller.inspected.connect(self._on_inspected)
        self.controller.inspect_failed.connect(self._on_inspect_failed)
        self.controller.stage_progress.connect(self._on_stage_progress)
        self.controller.stage_finished.connect(self._on_stage_finished)
        self.controller.finished.connect(self._on_finished)
        self.controller.failed.connect(self._on_failed)
        self.controller.cancelled.connect(self._on_cancelled)
        self._inspection: dict[str, Any] = {}
        self._outputs: list[PlannedOutput] = []
        self._results: list[dict[str, Any]] = []

        self.pages = QStackedWidget()
        self.pages.addWidget(self._pick_page())
        self.pages.addWidget(self._outputs_page())
        self.pages.addWidget(self._run_page())
        self.pages.addWidget(self._result_page())

        self.back_button = QPushButton(self.tr("Back"))
        self.back_button.clicked.connect(self.back)
        self.next_button = QPushButton(self.tr("Next"))
        self.next_button.setDefault(True)
        self.next_button.clicked.connect(self.next)
        self.cancel_button = QPushButton(self.tr("Cancel"))
        self.cancel_button.clicked.connect(self.cancel)
        self.close_button = QPushButton(self.tr("Close"))
        self.close_button.clicked.connect(self.close)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        for button in (self.back_button, self.next_button, self.cancel_button, self.close_button):
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.pages, 1)
        layout.addLayout(buttons)
        self._show_page(0)

    # -- pages ---------------------------------------------------------------------------------

    def _pick_page(self) -> QWidget:
        page = QWidget()
        intro = QLabel(
            self.tr(
                "Choose the folder the merge script wrote: a Hugging Face folder (config.json, *.safetensors or "
                "pytorch_model*.bin, tokenizer.model) or Meta's layout (consolidated.*.pth, params.json, "
                "tokenizer.model). It is checked before anything is written."
            )
        )
        intro.setWordWrap(True)
        self.folder_edit = QLineEdit()
        self.folder_edit.setPlaceholderText(self.tr("Checkpoint folder"))
        browse = QPushButton(self.tr("Browse…"))
        browse.clicked.connect(self._choose_folder)
        self.inspect_button = QPushButton(self.tr("Check the folder"))
        self.inspect_button.clicked.connect(self.inspect)
        row = QHBoxLayout()
        row.addWidget(self.folder_edit, 1)
        row.addWidget(browse)
        row.addWidget(self.inspect_button)
        self.inspection_label = QLabel()
        self.inspection_label.setWordWrap(True)
        self.inspection_label.setTextFormat(Qt.TextFormat.PlainText)
        self.inspection_label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.inspection_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout = QVBoxLayout(page)
        layout.addWidget(intro)
        layout.addLayout(row)
        layout.addWidget(self.inspection_label, 1)
        return page

    def _outputs_page(self) -> QWidget:
        page = QWidget()
        self.outtype_combo = QComboBox()
        for outtype, label in (
            ("f16", self.tr("F16 (16-bit, the usual)")),
            ("bf16", self.tr("BF16 (16-bit, the training type)")),
            ("f32", self.tr("F32 (32-bit, exact)")),
        ):
            self.outtype_combo.addItem(label, outtype)
        self.outtype_combo.currentIndexChanged.connect(self._update_sizes)
        self.quant_checks: dict[str, QCheckBox] = {}
        quants = QGridLayout()
        for index, qtype in enumerate(QUANT_CHOICES):
            check = QCheckBox(qtype.upper())
            check.setChecked(qtype in DEFAULT_QUANTS)
            check.toggled.connect(self._update_sizes)
            self.quant_checks[qtype] = check
            quants.addWidget(check, index // 2, index % 2)
        self.out_dir_edit = QLineEdit()
        self.out_dir_edit.textChanged.connect(self._update_sizes)
        browse = QPushButton(self.tr("Browse…"))
        browse.clicked.connect(self._choose_out_dir)
        out_row = QHBoxLayout()
        out_row.addWidget(self.out_dir_edit, 1)
        out_row.addWidget(browse)
        self.threads_spin = QSpinBox()
        self.threads_spin.setRange(0, max(1, os.cpu_count() or 1))
        self.threads_spin.setSpecialValueText(self.tr("All cores"))
        self.template_combo = QComboBox()
        for template, label in (
            ("auto", self.tr("Automatic (from the name and vocabulary)")),
            ("chinese-alpaca", "Chinese-Alpaca"),
            ("chinese-alpaca-2", "Chinese-Alpaca-2"),
            ("raw", self.tr("None (a base model)")),
        ):
            self.template_combo.addItem(label, template)
        self.space_label = QLabel()
        self.space_label.setWordWrap(True)
        form = QFormLayout(page)
        form.addRow(self.tr("Converted file"), self.outtype_combo)
        form.addRow(self.tr("Quantized files"), quants)
        form.addRow(self.tr("Output folder"), out_row)
        form.addRow(self.tr("Threads"), self.threads_spin)
        form.addRow(self.tr("Chat template"), self.template_combo)
        form.addRow(self.space_label)
        return page

    def _run_page(self) -> QWidget:
        page = QWidget()
        self.stage_grid = QGridLayout()
        self.run_status = QLabel()
        self.run_status.setWordWrap(True)
        layout = QVBoxLayout(page)
        layout.addLayout(self.stage_grid)
        layout.addWidget(self.run_status)
        layout.addStretch(1)
        self.stage_bars: list[QProgressBar] = []
        self.stage_times: list[QLabel] = []
        return page

    def _result_page(self) -> QWidget:
        page = QWidget()
        self.result_label = QLabel()
        self.result_label.setWordWrap(True)
        self.result_list = QListWidget()
        self.chat_button = QPushButton(self.tr("Chat with it"))
        self.chat_button.clicked.connect(self._chat)
        self.report_button = QPushButton(self.tr("Make a quantization report"))
        self.report_button.clicked.connect(lambda: self.report_requested.emit(self.result_files()))
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.chat_button)
        row.addWidget(self.report_button)
        layout = QVBoxLayout(page)
        layout.addWidget(self.result_label)
        layout.addWidget(self.result_list, 1)
        layout.addLayout(row)
        return page

    # -- navigation ----------------------------------------------------------------------------

    def _show_page(self, index: int) -> None:
        self.pages.setCurrentIndex(index)
        running = self.controller.running
        self.back_button.setVisible(index == 1 or index in (2, 3) and not running)
        self.next_button.setVisible(index in (0, 1))
        self.next_button.setText(self.tr("Convert") if index == 1 else self.tr("Next"))
        self.next_button.setEnabled(index == 0 and self._inspection_ok() or index == 1 and self._can_start())
        self.cancel_button.setVisible(index == 2)
        self.cancel_button.setEnabled(running)
        self.close_button.setVisible(index != 2 or not running)

    def _inspection_ok(self) -> bool:
        checkpoint = self._inspection.get("checkpoint") or {}
        return bool(checkpoint) and not checkpoint.get("problems")

    def next(self) -> None:
        """Go on: from the folder to the outputs, from the outputs to the run."""
        if self.pages.currentIndex() == 0:
            if not self.out_dir_edit.text().strip():
                self.out_dir_edit.setText(self.folder_edit.text().strip())
            self._show_page(1)
            self._update_sizes()
        elif self.pages.currentIndex() == 1 and self._can_start():
            self.start()

    def back(self) -> None:
        """Back to the folder (from the outputs), or to the outputs (after a run)."""
        self._show_page(0 if self.pages.currentIndex() == 1 else 1)
        if self.pages.currentIndex() == 1:
            self._update_sizes()

    # -- step 1: the folder ----------------------------------------------------------------------

    def _choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, self.tr("Choose the checkpoint folder"))
        if folder:
            self.folder_edit.setText(folder)
            self.inspect()

    def open_folder(self, folder: str, quant: str = "") -> None:
        """Start from ``folder`` (full weights the hub downloaded), ``quant`` preselected.

        ``quant`` is a quantization as GGUF file names spell it (``Q4_K``, ``q5_k_m``, ``Q8_0``);
        the K-quant families without a size letter mean their medium mixture, as in llama.cpp.
        """
        wanted = quant.lower()
        wanted = {"q5_k": "q5_k_m", "q4_k": "q4_k_m", "q3_k": "q3_k_m"}.get(wanted, wanted)
        if wanted in self.quant_checks:
            for qtype, check in self.quant_checks.items():
                check.setChecked(qtype == wanted)
        self.folder_edit.setText(folder)
        self.out_dir_edit.clear()
        self.inspect()

    def inspect(self) -> None:
        """Check the chosen folder (in a job process)."""
        folder = self.folder_edit.text().strip()
        if not folder or self.controller.running:
            return
        self._inspection = {}
        self.inspection_label.setText(self.tr("Checking {0}…").format(folder))
        self.inspect_button.setEnabled(False)
        self._show_page(0)
        self.controller.inspect(folder)

    def _on_inspected(self, result: dict[str, Any]) -> None:
        self._inspection = result
        self.inspect_button.setEnabled(True)
        self.inspection_label.setText(self.describe(result.get("checkpoint") or {}))
        self._show_page(0)

    def _on_inspect_failed(self, message: str) -> None:
        self.inspect_button.setEnabled(True)
        self.inspection_label.setText(message)
        self._show_page(0)

    def describe(self, checkpoint: dict[str, Any]) -> str:
        """What the inspection found, as the first page shows it."""
        from app.messages import user_message

        problems = checkpoint.get("problems") or []
        if not checkpoint.get("layout"):
            return "\n".join(user_message(p["code"], p["params"], p["message"]) for p in problems)
        layouts = {
            "safetensors": self.tr("Hugging Face, safetensors"),
            "bin": self.tr("Hugging Face, PyTorch .bin"),
            "pth": self.tr("Meta's consolidated.*.pth"),
        }
        rows = int(checkpoint.get("embedding_rows", 0))
        tokenizer = int(checkpoint.get("tokenizer_size", 0))
        vocab = f"{rows:,}"
        if checkpoint.get("vocab_label"):
            vocab += f" ({checkpoint['vocab_label']})"
        matches = self.tr("matches the tokenizer") if rows == tokenizer else self.tr("does NOT match the tokenizer")
        lines = [
            self.tr("Format: {0}").format(layouts.get(checkpoint["layout"], checkpoint["layout"])),
            self.tr("Architecture: {0}").format(checkpoint.get("architecture", "")),
            self.tr("Parameters: {0:,}").format(int(checkpoint.get("n_params", 0))),
            self.tr("Layers: {0}; hidden size: {1}; attention heads: {2} ({3} key/value)").format(
                checkpoint.get("n_layers"),
                checkpoint.get("hidden"),
                checkpoint.get("n_heads"),
                checkpoint.get("n_kv_heads"),
            ),  # fmt: skip
            self.tr("Vocabulary: {0}, {1} ({2:,} pieces)").format(vocab, matches, tokenizer),
            self.tr("Weights: {0}, {1} in all").format(
                checkpoint.get("dtype", ""), _mib(checkpoint.get("total_bytes", 0))
            ),
            self.tr("Chat template: {0}").format(checkpoint.get("template", "")),
        ]
        if problems:
            lines.append("")
            lines.append(self.tr("Problems (nothing will be written until they are fixed):"))
            lines += ["• " + user_message(p["code"], p["params"], p["message"]) for p in problems]
        else:
            lines.append("")
            lines.append(self.tr("No problems found."))
        return "\n".join(lines)

    # -- step 2: the outputs ---------------------------------------------------------------------

    def _choose_out_dir(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, self.tr("Choose the output folder"))
        if folder:
            self.out_dir_edit.setText(folder)

    def planned(self) -> list[PlannedOutput]:
        """The files the chosen options will write."""
        checkpoint = self._inspection.get("checkpoint") or {}
        return plan_outputs(
            name=str(checkpoint.get("name") or "model"),
            out_dir=self.out_dir_edit.text().strip(),
            outtype=str(self.outtype_combo.currentData()),
            qtypes=[q for q, check in self.quant_checks.items() if check.isChecked()],
            estimates=self._inspection.get("estimates") or {},
        )

    def _update_sizes(self) -> None:
        estimates = self._inspection.get("estimates") or {}
        outtype = str(self.outtype_combo.currentData())
        self.outtype_combo.setToolTip(_mib(estimates.get(outtype, 0)))
        for qtype, check in self.quant_checks.items():
            check.setText(f"{qtype.upper()}  ({_mib(estimates.get(qtype, 0))})")
        self._show_page(self.pages.currentIndex())
        out_dir = self.out_dir_edit.text().strip()
        if not out_dir:
            self.space_label.setText(self.tr("Choose an output folder."))
            return
        outputs = self.planned()
        needed = sum(output.estimate for output in outputs)
        shortfall = space_shortfall(outputs, out_dir)
        if shortfall is not None:
            self.space_label.setText(
                self.tr("Not enough space: the files need about {0}, and {1} has {2} free.").format(
                    _mib(shortfall[1]), out_dir, _mib(shortfall[0])
                )
            )
        else:
            self.space_label.setText(
                self.tr("The files need about {0}; there is enough free space.").format(_mib(needed))
            )

    def _can_start(self) -> bool:
        out_dir = self.out_dir_edit.text().strip()
        return bool(self._inspection_ok() and out_dir and space_shortfall(self.planned(), out_dir) is None)

    # -- step 3: the run -----------------------------------------------------------------------------

    def start(self) -> None:
        """Start converting and quantizing."""
        self._outputs = self.planned()
        self._results = []
        while self.stage_grid.count():
            item = self.stage_grid.takeAt(0)
            if item is not None and item.widget() is not None:
                item.widget().deleteLater()
        self.stage_bars, self.stage_times = [], []
        for index, output in enumerate(self._outputs):
            label = (
                self.tr("Converting to {0}").format(output.kind.upper())
                if index == 0
                else self.tr("Quantizing to {0}").format(output.kind.upper())
            )
            bar = QProgressBar()
            bar.setRange(0, 1)
            bar.setValue(0)
            times = QLabel(self.tr("waiting"))
            self.stage_grid.addWidget(QLabel(label), index, 0)
            self.stage_grid.addWidget(bar, index, 1)
            self.stage_grid.addWidget(times, index, 2)
            self.stage_bars.append(bar)
            self.stage_times.append(times)
        self.run_status.setText("")
        threads = self.threads_spin.value() or None
        self.controller.start(
            folder=self.folder_edit.text().strip(),
            outputs=self._outputs,
            threads=threads,
            template=str(self.template_combo.currentData()),
        )
        self._show_page(2)

    def cancel(self) -> None:
        """Cancel the run."""
        self.cancel_button.setEnabled(False)
        self.run_status.setText(self.tr("Cancelling…"))
        self.controller.cancel()

    def _on_stage_progress(self, stage: int, done: int, total: int, elapsed: float) -> None:
        if not 0 <= stage < len(self.stage_bars):
            return
        bar = self.stage_bars[stage]
        bar.setRange(0, max(total, 1))
        bar.setValue(min(done, max(total, 1)))
        remaining = elapsed * (total - done) / done if done and total else None
        text = self.tr("{0} elapsed").format(_duration(elapsed))
        if remaining is not None:
            text += self.tr(", about {0} left").format(_duration(remaining))
        self.stage_times[stage].setText(text)

    def _on_stage_finished(self, stage: int, result: dict[str, Any]) -> None:
        self._results.append(result)
        if 0 <= stage < len(self.stage_bars):
            self.stage_bars[stage].setRange(0, 1)
            self.stage_bars[stage].setValue(1)
            self.stage_times[stage].setText(
                self.tr("done: {0} in {1}").format(_mib(result.get("bytes", 0)), _duration(result.get("seconds", 0)))
            )

    def _on_finished(self, results: list[dict[str, Any]]) -> None:
        self.result_list.clear()
        for result in results:
            kind = str(result.get("type") or result.get("outtype") or "").upper()
            item = QListWidgetItem(f"{Path(result['path']).name}  —  {kind}, {_mib(result.get('bytes', 0))}")
            item.setData(Qt.ItemDataRole.UserRole, result["path"])
            self.result_list.addItem(item)
        self.result_list.setCurrentRow(self.result_list.count() - 1)
        self.result_label.setText(self.tr("Done. The files are in {0}.").format(self.out_dir_edit.text().strip()))
        self._show_page(3)

    def _on_failed(self, message: str) -> None:
        self.run_status.setText(message)
        self._show_page(2)

    def _on_cancelled(self) -> None:
        self.run_status.setText(self.tr("Cancelled; the file in progress was removed."))
        self._show_page(2)

    # -- step 4: the result ----------------------------------------------------------------------

    def result_files(self) -> list[str]:
        """The files written, in order."""
        return [str(self.result_list.item(i).data(Qt.ItemDataRole.UserRole)) for i in range(self.result_list.count())]

    def _chat(self) -> None:
        item = self.result_list.currentItem()
        if item is not None:
            self.chat_requested.emit(str(item.data(Qt.ItemDataRole.UserRole)))

    def closeEvent(self, event: Any) -> None:
        """Closing cancels a running job (its partial output is removed)."""
        if self.controller.running:
            self.controller.cancel()
        super().closeEvent(event)


class ReportDialog(QDialog):
    """The quantization report: size, bits per weight, perplexity and speed of one model's files."""

    COLUMNS = ("file", "quantization", "bytes", "bits_per_weight", "perplexity", "tokens_per_second")

    def __init__(
        self, files: list[str], parent: QWidget | None = None, *, controller: ReportController | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Quantization report"))
        self.resize(1040, 560)
        self.controller = controller or ReportController(self)
        self.controller.progress.connect(self._on_progress)
        self.controller.finished.connect(self._on_finished)
        self.controller.failed.connect(self._on_failed)
        self.controller.cancelled.connect(self._on_cancelled)
        self.rows: list[dict[str, Any]] = []

        intro = QLabel(
            self.tr(
                "Perplexity is computed as llama.cpp's llama-perplexity does: windows of the context size, the loss "
                "over the second half of each. Lower is better; compare files of the same model only."
            )
        )
        intro.setWordWrap(True)
        self.files_list = QListWidget()
        self.files_list.addItems(files)
        self.files_list.setMaximumHeight(90)
        self.text_edit = QLineEdit()
        self.text_edit.setPlaceholderText(self.tr("The bundled Chinese sample"))
        browse = QPushButton(self.tr("Browse…"))
        browse.clicked.connect(self._choose_text)
        text_row = QHBoxLayout()
        text_row.addWidget(self.text_edit, 1)
        text_row.addWidget(browse)
        self.ctx_spin = QSpinBox()
        self.ctx_spin.setRange(64, 8192)
        self.ctx_spin.setSingleStep(64)
        self.ctx_spin.setValue(512)
        form = QFormLayout()
        form.addRow(self.tr("Files"), self.files_list)
        form.addRow(self.tr("Text"), text_row)
        form.addRow(self.tr("Context"), self.ctx_spin)

        self.table = QTableWidget(0, len(self.COLUMNS))
        self.table.setHorizontalHeaderLabels(
            [self.tr("File"), self.tr("Type"), self.tr("Size"), self.tr("Bits/weight"), self.tr("Perplexity"),
             self.tr("Tokens/s")]
        )  # fmt: skip
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.verticalHeader().setVisible(False)
        # Imported here: pyqtgraph takes about a second to import, paid when a report opens only.
        from app.views.report_chart import ReportChart

        self.chart = ReportChart()
        results = QSplitter(Qt.Orientation.Horizontal)
        results.addWidget(self.table)
        results.addWidget(self.chart)
        results.setStretchFactor(0, 3)
        results.setStretchFactor(1, 2)
        results.setSizes([580, 440])  # the table's six columns whole, the rest to the chart
        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, 1)
        self.status = QLabel()
        self.status.setWordWrap(True)

        self.run_button = QPushButton(self.tr("Make the report"))
        self.run_button.setDefault(True)
        self.run_button.clicked.connect(self.start)
        self.cancel_button = QPushButton(self.tr("Cancel"))
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.controller.cancel)
        self.csv_button = QPushButton(self.tr("Export CSV…"))
        self.csv_button.setEnabled(False)
        self.csv_button.clicked.connect(self._export_csv)
        self.png_button = QPushButton(self.tr("Export chart as PNG…"))
        self.png_button.setEnabled(False)
        self.png_button.clicked.connect(self._export_png)
        close = QPushButton(self.tr("Close"))
        close.clicked.connect(self.close)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        for button in (self.run_button, self.cancel_button, self.csv_button, self.png_button, close):
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(results, 1)
        layout.addWidget(self.progress_bar)
        layout.addWidget(self.status)
        layout.addLayout(buttons)

    def files(self) -> list[str]:
        """The files compared."""
        return [self.files_list.item(i).text() for i in range(self.files_list.count())]

    def _choose_text(self) -> None:
        path, _filter = QFileDialog.getOpenFileName(
            self, self.tr("Choose a text"), "", self.tr("Text (*.txt);;All files (*)")
        )
        if path:
            self.text_edit.setText(path)

    def start(self, *, max_chunks: int = 0, speed_tokens: int = 64, threads: int | None = None) -> None:
        """Make the report (in a job process)."""
        self.run_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.csv_button.setEnabled(False)
        self.png_button.setEnabled(False)
        self.progress_bar.setRange(0, 0)
        self.status.setText(self.tr("Starting"))
        self.controller.start(
            self.files(),
            text=self.text_edit.text().strip() or None,
            n_ctx=self.ctx_spin.value(),
            threads=threads,
            max_chunks=max_chunks,
            speed_tokens=speed_tokens,
        )

    def _on_progress(self, done: int, total: int, stage: str) -> None:
        self.progress_bar.setRange(0, max(total, 0))
        if total:
            self.progress_bar.setValue(min(done, total))
        kind, _space, rest = stage.partition(" ")
        names = {"perplexity": self.tr("Perplexity {0}"), "speed": self.tr("Speed {0}")}
        self.status.setText(names[kind].format(rest) if kind in names else stage)

    def _on_finished(self, report: dict[str, Any]) -> None:
        self.rows = list(report.get("rows") or [])
        self.table.setRowCount(len(self.rows))
        for r, row in enumerate(self.rows):
            values = (
                Path(str(row["file"])).name,
                str(row["quantization"]),
                _mib(row["bytes"]),
                f"{row['bits_per_weight']:.2f}",
                f"{row['perplexity']:.4f}",
                f"{row['tokens_per_second']:.1f}",
            )
            for c, value in enumerate(values):
                item = QTableWidgetItem(value)
                if c >= 2:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(r, c, item)
        self.table.resizeColumnsToContents()
        self.chart.set_rows(self.rows)
        self._idle()
        self.csv_button.setEnabled(bool(self.rows))
        self.png_button.setEnabled(bool(self.rows))
        self.status.setText(
            self.tr("Perplexity over windows of {0} tokens of {1}.").format(report.get("n_ctx"), report.get("text"))
        )

    def _on_failed(self, message: str) -> None:
        self._idle()
        self.status.setText(message)

    def _on_cancelled(self) -> None:
        self._idle()
        self.status.setText(self.tr("Cancelled."))

    def _idle(self) -> None:
        self.run_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        self.progress_bar.setRange(0, 1)
        self.progress_bar.setValue(1)

    def _export_csv(self) -> None:
        path, _filter = QFileDialog.getSaveFileName(self, self.tr("Export CSV"), "report.csv", "CSV (*.csv)")
        if path:
            self.export_csv(path)

    def export_csv(self, path: str) -> None:
        """Write the table as CSV to ``path``."""
        from runtime.models.report import report_csv
        from runtime.paths import write_atomic

        write_atomic(Path(path), report_csv(self.rows).encode("utf-8"))

    def _export_png(self) -> None:
        path, _filter = QFileDialog.getSaveFileName(
            self, self.tr("Export chart as PNG"), "report.png", self.tr("PNG image (*.png)")
        )
        if not path:
            return
        if Path(path).suffix.lower() != ".png":  # a file dialog without the system's may leave it off
            path += ".png"
        try:
            self.export_png(path)
        except OSError as exc:
            self.status.setText(self.tr("Cannot write {0}: {1}").format(path, exc.strerror or exc))

    def export_png(self, path: str) -> None:
        """Write the chart as a PNG image to ``path`` (whole or not at all)."""
        from runtime.paths import write_atomic

        write_atomic(Path(path), self.chart.png_bytes())

    def closeEvent(self, event: Any) -> None:
        """Closing cancels a running report."""
        if self.controller.running:
            self.controller.cancel()
        super().closeEvent(event)
