"""Get models → a first-generation LoRA repository → "Merge with LLaMA weights…": the dialog.

The user chooses the original LLaMA weights (Hugging Face format), sees the merge chain (LLaMA +
each adapter, on disk or not, with a button to download a missing one), the output folder and the
disk space the merge needs, then merges with progress and Cancel. Layout only:
:class:`app.controllers.lora_merge.LoraMergeController` fills it and reacts.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.theme import colour_text


class LoraMergeDialog(QDialog):
    """Choose the base, see the chain and the space, merge.

    Signals:
        base_changed(str): The LLaMA folder was chosen or edited.
        out_changed(str): The output folder was edited.
        download_requested(): "Download the missing adapters".
        merge_requested(): "Merge".
        cancel_requested(): "Cancel" while merging.
    """

    base_changed = Signal(str)
    out_changed = Signal(str)
    download_requested = Signal()
    merge_requested = Signal()
    cancel_requested = Signal()

    def __init__(self, repo: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Merge {0} with LLaMA weights").format(repo))
        self.resize(720, 460)
        intro = QLabel(
            self.tr(
                "This repository holds LoRA weights only. They are merged into Meta's original LLaMA weights, "
                "in Hugging Face format (config.json, tokenizer.model and the weight files), to make a model "
                "that the convert wizard then turns into a GGUF file for chatting."
            )
        )
        intro.setWordWrap(True)

        self.base_edit = QLineEdit()
        self.base_edit.setPlaceholderText(self.tr("The folder of the original LLaMA weights (Hugging Face format)"))
        self.base_edit.editingFinished.connect(self._on_base_edited)
        browse = QPushButton(self.tr("Choose…"))
        browse.clicked.connect(self._choose_base)
        base_row = QHBoxLayout()
        base_row.addWidget(self.base_edit, 1)
        base_row.addWidget(browse)
        self.base_status = QLabel()
        self.base_status.setWordWrap(True)
        self.base_status.setObjectName("detailLabel")

        self.chain_label = QLabel()
        self.chain_label.setWordWrap(True)
        self.chain_label.setTextFormat(Qt.TextFormat.RichText)
        self.download_button = QPushButton(self.tr("Download the missing adapters"))
        self.download_button.clicked.connect(self.download_requested.emit)
        chain_row = QHBoxLayout()
        chain_row.addWidget(self.chain_label, 1)
        chain_row.addWidget(self.download_button, 0, Qt.AlignmentFlag.AlignTop)

        self.out_edit = QLineEdit()
        self.out_edit.editingFinished.connect(self._on_out_edited)
        self.space_label = QLabel()
        self.space_label.setWordWrap(True)

        form = QFormLayout()
        form.addRow(self.tr("LLaMA weights:"), base_row)
        form.addRow("", self.base_status)
        form.addRow(self.tr("Merge chain:"), chain_row)
        form.addRow(self.tr("Merged model:"), self.out_edit)
        form.addRow(self.tr("Disk space:"), self.space_label)

        self.problem = QLabel()
        self.problem.setWordWrap(True)
        self.problem.setObjectName("mergeProblem")
        colour_text(self.problem, "error_text")
        self.problem.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.hide()

        self.merge_button = QPushButton(self.tr("Merge"))
        self.merge_button.setDefault(True)
        self.merge_button.clicked.connect(self.merge_requested.emit)
        self.cancel_button = QPushButton(self.tr("Cancel"))
        self.cancel_button.clicked.connect(self._on_cancel)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.merge_button)
        buttons.addWidget(self.cancel_button)

        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.problem)
        layout.addStretch(1)
        layout.addWidget(self.status)
        layout.addWidget(self.progress)
        layout.addLayout(buttons)
        self.running = False
        self.set_ready(False)

    # -- what the controller sets ----------------------------------------------------------------

    def set_base(self, folder: str) -> None:
        """Put ``folder`` in the LLaMA field and check it (as choosing it does)."""
        self.base_edit.setText(folder)
        self.base_changed.emit(folder)

    def set_chain(self, html: str, *, missing: bool) -> None:
        """The chain (rich text) and whether the download button is offered."""
        self.chain_label.setText(html)
        self.download_button.setVisible(missing)

    def set_problem(self, text: str) -> None:
        """What stops the merge ("" when nothing does)."""
        self.problem.setText(text)
        self.problem.setVisible(bool(text))

    def set_ready(self, ready: bool) -> None:
        """Whether Merge can be pressed."""
        self.merge_button.setEnabled(ready and not self.running)

    def set_running(self, running: bool) -> None:
        """While merging: progress shown, inputs locked, Cancel stops the job."""
        self.running = running
        self.progress.setVisible(running)
        self.progress.setRange(0, 0)
        for widget in (self.base_edit, self.out_edit, self.download_button):
            widget.setEnabled(not running)
        if running:
            self.merge_button.setEnabled(False)
        self.cancel_button.setText(self.tr("Cancel") if running else self.tr("Close"))

    def set_progress(self, done: int, total: int) -> None:
        """Weight files merged of all."""
        if total:
            self.progress.setRange(0, total)
            self.progress.setValue(done)

    # -- input -------------------------------------------------------------------------------------

    def _on_base_edited(self) -> None:
        # Only a change by the user: editingFinished also comes when the field merely loses focus.
        if self.base_edit.isModified():
            self.base_edit.setModified(False)
            self.base_changed.emit(self.base_edit.text().strip())

    def _on_out_edited(self) -> None:
        if self.out_edit.isModified():
            self.out_edit.setModified(False)
            self.out_changed.emit(self.out_edit.text().strip())

    def _choose_base(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, self.tr("The original LLaMA weights (Hugging Face format)"))
        if folder:
            self.set_base(folder)

    def _on_cancel(self) -> None:
        if self.running:
            self.cancel_requested.emit()
        else:
            self.reject()
