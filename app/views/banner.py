"""The message strip above the conversation: errors and notices, with an optional action.

The strip keeps every message it was given until the user dismisses it (or presses its button):
the newest is shown, the others wait behind it and come back one after another, with "1 of 3" so
the user knows more are waiting. A message with a ``key`` replaces the earlier one with the same key
(transient messages share the empty key: a new error replaces the last error, never a start-up
notice). A message with ``rebuild`` can be built again for another window in the current
language, which is how a language switch keeps the notices and their buttons.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QWidget


@dataclass(frozen=True)
class BannerMessage:
    """One message of the strip.

    Attributes:
        text: What it says.
        severity: ``info`` or ``error`` (the colour).
        action: The button's label ("" for none).
        callback: What the button does.
        key: Messages with the same key replace each other ("" for transient messages).
        rebuild: Builds this message again for another window (a language switch), in the
            language installed now; None: carried over as it is, without its button.
    """

    text: str
    severity: str = "info"
    action: str = ""
    callback: Callable[[], Any] | None = None
    key: str = ""
    rebuild: Callable[[Any], BannerMessage] | None = None


class Banner(QFrame):
    """A message strip above the conversation, with an optional action button; messages queue."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("banner")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 6, 6)
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.count_label = QLabel()
        self.action_button = QPushButton()
        self.close_button = QPushButton(self.tr("Dismiss"))
        self.close_button.clicked.connect(self.dismiss)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.count_label)
        layout.addWidget(self.action_button)
        layout.addWidget(self.close_button)
        self._messages: list[BannerMessage] = []
        self.action_button.clicked.connect(self._run_action)
        self.hide()

    def show_message(
        self, text: str, *, severity: str = "info", action: str = "", callback: Any = None, key: str = ""
    ) -> None:
        """Show ``text`` now; with ``action``, a button that calls ``callback`` and dismisses it.

        The messages shown before wait behind it, except one with the same ``key``, which it replaces.
        """
        self.push(BannerMessage(text, severity, action, callback, key))

    def push(self, message: BannerMessage) -> None:
        """Show ``message`` now, in front of the waiting ones (replacing the one with its key)."""
        self._messages = [message, *(m for m in self._messages if m.key != message.key)]
        self._show_current()

    def messages(self) -> list[BannerMessage]:
        """The messages shown and waiting, the one shown first."""
        return list(self._messages)

    def dismiss(self) -> None:
        """Drop the message shown; the next one waiting comes up (the strip hides when none is left)."""
        if self._messages:
            self._messages.pop(0)
        self._show_current()

    def adopt(self, previous: Banner, window: Any) -> None:
        """Take over ``previous``'s messages (a language switch): each rebuilt for ``window`` in the
        language installed now where it can be, else as it was, without its button."""
        adopted = [
            m.rebuild(window) if m.rebuild is not None else replace(m, action="", callback=None)
            for m in previous.messages()
        ]
        keys = {m.key for m in adopted}
        self._messages = [*adopted, *(m for m in self._messages if m.key not in keys)]
        self._show_current()

    def _show_current(self) -> None:
        if not self._messages:
            self.hide()
            return
        message = self._messages[0]
        self.setProperty("severity", message.severity)
        self.style().unpolish(self)
        self.style().polish(self)
        self.label.setText(message.text)
        self.action_button.setText(message.action)
        self.action_button.setVisible(bool(message.action))
        waiting = len(self._messages)
        self.count_label.setText(self.tr("{0} of {1}").format(1, waiting) if waiting > 1 else "")
        self.count_label.setVisible(waiting > 1)
        self.show()

    def _run_action(self) -> None:
        if not self._messages:
            return
        callback = self._messages[0].callback
        self.dismiss()
        if callback is not None:
            callback()
