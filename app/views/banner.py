"""The message strip above the conversation: errors and notices, with an optional action."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QWidget


class Banner(QFrame):
    """A message strip above the conversation, with an optional action button."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("banner")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 6, 6)
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.action_button = QPushButton()
        self.close_button = QPushButton(self.tr("Dismiss"))
        self.close_button.clicked.connect(self.hide)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.action_button)
        layout.addWidget(self.close_button)
        self._action: Any = None
        self.action_button.clicked.connect(self._run_action)
        self.hide()

    def show_message(self, text: str, *, severity: str = "info", action: str = "", callback: Any = None) -> None:
        """Show ``text``; with ``action``, a button that calls ``callback`` and hides the banner."""
        self.setProperty("severity", severity)
        self.style().unpolish(self)
        self.style().polish(self)
        self.label.setText(text)
        self._action = callback
        self.action_button.setText(action)
        self.action_button.setVisible(bool(action))
        self.show()

    def _run_action(self) -> None:
        self.hide()
        if self._action is not None:
            self._action()
