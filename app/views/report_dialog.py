"""The quantization report window: size, bits per weight, perplexity and speed of one model's files.

It shows a table beside a chart of size against perplexity (:mod:`app.views.report_chart`,
pyqtgraph), and exports the table as CSV and the chart as PNG. The report runs in a job process,
driven by :class:`app.controllers.convert.ReportController`; the convert wizard offers it for the
files it wrote.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.controllers.convert import ReportController

__all__ = ["ReportDialog", "size_text"]


def size_text(size: float) -> str:
    """A file size as the report and the convert wizard show it: MiB below 1 GiB, else GiB."""
    return f"{size / 2**20:,.1f} MiB" if size < 2**30 else f"{size / 2**30:,.2f} GiB"


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
                size_text(row["bytes"]),
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
