"""The convert-and-quantize wizard: its steps, and what each page shows as they go.

The wizard's four pages: pick a checkpoint folder (what it holds and its problems, inspected in a
job), choose the outputs (sizes estimated, free space checked), run (a progress bar per stage with
elapsed and remaining time, Cancel), and the result ("Chat with it", "Make a quantization report").
The pages' widgets and layout are in :mod:`app.views.convert_pages`; the flow's jobs live in
:mod:`app.controllers.convert`. The quantization report window is :mod:`app.views.report_dialog`
(its class is importable from here too).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from app.controllers.convert import ConvertController, PlannedOutput, plan_outputs, space_shortfall
from app.views.convert_pages import DEFAULT_QUANTS, QUANT_CHOICES, FolderPage, OutputsPage, ResultPage, RunPage
from app.views.report_dialog import ReportDialog, size_text

__all__ = ["DEFAULT_QUANTS", "QUANT_CHOICES", "ConvertWizard", "ReportDialog"]


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

        folder_page, outputs_page, run_page, result_page = FolderPage(), OutputsPage(), RunPage(), ResultPage()
        self.pages = QStackedWidget()
        for page in (folder_page, outputs_page, run_page, result_page):
            self.pages.addWidget(page)
        # The pages' widgets that the steps read and fill, named on the wizard.
        self.folder_edit = folder_page.folder_edit
        self.inspect_button = folder_page.inspect_button
        self.inspection_label = folder_page.inspection_label
        self.outtype_combo = outputs_page.outtype_combo
        self.quant_checks = outputs_page.quant_checks
        self.out_dir_edit = outputs_page.out_dir_edit
        self.threads_spin = outputs_page.threads_spin
        self.template_combo = outputs_page.template_combo
        self.space_label = outputs_page.space_label
        self.stage_grid = run_page.stage_grid
        self.run_status = run_page.run_status
        self.stage_bars: list[QProgressBar] = []
        self.stage_times: list[QLabel] = []
        self.result_label = result_page.result_label
        self.result_list = result_page.result_list
        self.chat_button = result_page.chat_button
        self.report_button = result_page.report_button
        folder_page.browse_button.clicked.connect(self._choose_folder)
        self.inspect_button.clicked.connect(self.inspect)
        self.outtype_combo.currentIndexChanged.connect(self._update_sizes)
        for check in self.quant_checks.values():
            check.toggled.connect(self._update_sizes)
        self.out_dir_edit.textChanged.connect(self._update_sizes)
        outputs_page.browse_button.clicked.connect(self._choose_out_dir)
        self.chat_button.clicked.connect(self._chat)
        self.report_button.clicked.connect(lambda: self.report_requested.emit(self.result_files()))

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
                checkpoint.get("dtype", ""), size_text(checkpoint.get("total_bytes", 0))
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
        self.outtype_combo.setToolTip(size_text(estimates.get(outtype, 0)))
        for qtype, check in self.quant_checks.items():
            check.setText(f"{qtype.upper()}  ({size_text(estimates.get(qtype, 0))})")
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
                    size_text(shortfall[1]), out_dir, size_text(shortfall[0])
                )
            )
        else:
            self.space_label.setText(
                self.tr("The files need about {0}; there is enough free space.").format(size_text(needed))
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
                self.tr("done: {0} in {1}").format(
                    size_text(result.get("bytes", 0)), _duration(result.get("seconds", 0))
                )
            )

    def _on_finished(self, results: list[dict[str, Any]]) -> None:
        self.result_list.clear()
        for result in results:
            kind = str(result.get("type") or result.get("outtype") or "").upper()
            item = QListWidgetItem(f"{Path(result['path']).name}  —  {kind}, {size_text(result.get('bytes', 0))}")
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
