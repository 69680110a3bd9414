"""The draft model's row of the decoding panel, shown under "Speculative decoding" while "Draft
model" is chosen: the file chosen, a button to choose it, and what to do while there is none."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from app.theme import colour_text

__all__ = ["DraftModelRow"]


class DraftModelRow(QWidget):
    """The draft model file: its name (the full path as its tooltip) and "Draft model…".

    Signals:
        choose_requested(): "Draft model…" was clicked: the owner asks for a file (a dialog is
            the controller's, as for the model itself) and calls :meth:`set_path`.
    """

    choose_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._path = ""
        self.file_label = QLabel()
        self.file_label.setWordWrap(True)
        self.choose_button = QPushButton(self.tr("Draft model…"))
        self.choose_button.setToolTip(
            self.tr(
                "Choose the GGUF file that drafts: a smaller model of the same family, with the same "
                "vocabulary (for Chinese-Alpaca-2 and Chinese-LLaMA-2 7B or 13B, the 1.3B model)."
            )
        )
        self.choose_button.clicked.connect(self.choose_requested)
        # Shown while no file is chosen: "Draft model" alone would load the model without drafting.
        self.hint = QLabel(
            self.tr(
                "No draft model chosen: click Draft model… and choose a smaller GGUF model of the same "
                "family, or download the 1.3B model in Model → Get models…."
            )
        )
        self.hint.setWordWrap(True)
        colour_text(self.hint, "warning_text")
        line = QHBoxLayout()
        line.setContentsMargins(0, 0, 0, 0)
        line.addWidget(self.file_label, 1)
        line.addWidget(self.choose_button)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.addLayout(line)
        column.addWidget(self.hint)
        self.set_path("")

    def path(self) -> str:
        """The draft model file chosen ("" for none)."""
        return self._path

    def set_path(self, path: str) -> None:
        """Show ``path`` as the draft model file ("" for none)."""
        self._path = path
        self.file_label.setText(Path(path).name if path else self.tr("(none)"))
        self.file_label.setToolTip(path)
        self.hint.setVisible(not path)
