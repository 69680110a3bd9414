"""The conversation: message bubbles with Markdown answers, and the input box."""

from __future__ import annotations

import time
from typing import Any

from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAccessible, QAccessibleAnnouncementEvent, QGuiApplication, QKeyEvent
from PySide6.QtWidgets import (
    QFrame,
    QLabel,
    QPlainTextEdit,
    QScrollArea,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.views.code_block import CodeBlock
from app.views.flow_layout import FlowLayout
from app.views.markdown_view import MarkdownView, answer_html

__all__ = ["ChatInput", "ChatView", "MessageWidget", "answer_html", "stable_prefix_end"]

# Re-rendering Markdown costs time proportional to the answer's length, so a streaming answer
# is redrawn at most this often rather than on every token (tokens can arrive at 500/s). Each
# redraw also repaints the view; at 10 per second the window took 0.025-0.096 s of CPU per 100
# tokens against 0.047-0.178 s at 20 (bench/window_throughput.py, stories260K): CPU that a 2-core
# laptop's decode needs.
STREAM_REFRESH_MS = 100
# A redraw that costs c ms waits at least REDRAW_COST_FACTOR * c ms for the next, and at most
# STREAM_REFRESH_MAX_MS (text still moves twice a second in a very long conversation).
REDRAW_COST_FACTOR = 10.0
STREAM_REFRESH_MAX_MS = 500
# A message longer than this shows its beginning only (the whole text is kept and copied).
DISPLAY_LIMIT = 20_000


#: An answer read out to a screen reader when it completes is cut after this many characters.
ANNOUNCE_LIMIT = 600


class DetailLabel(QLabel):
    """The small grey text after the role: one line where it fits, wrapped where it does not."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWordWrap(True)

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        """The text on one line (a word-wrapped QLabel guesses a narrower, taller shape)."""
        margins = self.contentsMargins()
        width = self.fontMetrics().horizontalAdvance(self.text()) + margins.left() + margins.right() + 1
        return QSize(width, self.heightForWidth(width))


class MessageWidget(QFrame):
    """One message: a header (role, details, actions) and its text.

    The header's parts flow onto a second row, and the text wraps, when the chat area is narrow:
    a message is never wider than the chat area.

    Signals:
        edit_requested(int): the user wants to edit and resend this message (its id).
        regenerate_requested(int): the user wants a new answer in place of this one (its id).
        activated(str): the message was clicked; its text (the tokenizer panel counts it).
    """

    edit_requested = Signal(int)
    regenerate_requested = Signal(int)
    activated = Signal(str)

    def __init__(self, message_id: int, role: str, text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.message_id = message_id
        self.role = role
        self._text = text
        self.setObjectName("userMessage" if role == "user" else "assistantMessage")
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setAccessibleName(self.tr("Your message") if role == "user" else self.tr("Answer"))

        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 8, 12, 8)
        layout.setSpacing(4)
        # The header is a widget of its own: its layout, and the heights it remembers, are
        # invalidated only when one of its parts changes, not each time the conversation's
        # layout is (at every redraw of a streaming answer).
        self.header = QWidget()
        header = FlowLayout(self.header, spacing=6)
        header.setContentsMargins(0, 0, 0, 0)
        self.role_label = QLabel(self.tr("You") if role == "user" else self.tr("Assistant"))
        self.role_label.setObjectName("roleLabel")
        self.detail_label = DetailLabel()
        self.detail_label.setObjectName("detailLabel")
        header.add_widget(self.role_label)
        header.add_widget(self.detail_label)
        self.copy_button = self._tool_button(self.tr("Copy"), self.tr("Copy this message"))
        self.copy_button.clicked.connect(self.copy)
        header.add_widget(self.copy_button, Qt.AlignmentFlag.AlignRight)
        if role == "user":
            self.action_button = self._tool_button(self.tr("Edit"), self.tr("Edit this message and resend it"))
            self.action_button.clicked.connect(lambda: self.edit_requested.emit(self.message_id))
        else:
            self.action_button = self._tool_button(self.tr("Regenerate"), self.tr("Write a new answer"))
            self.action_button.clicked.connect(lambda: self.regenerate_requested.emit(self.message_id))
        header.add_widget(self.action_button, Qt.AlignmentFlag.AlignRight)
        layout.addWidget(self.header)

        # Finished paragraphs of a streaming answer get views of their own, rendered once; only
        # the last, growing paragraph is rendered again as tokens arrive. Re-rendering the whole
        # answer costs time proportional to its length (80 ms for 4,000 characters here), which
        # would stall the GUI thread on long answers.
        self._frozen_parts: list[MarkdownView] = []
        self._frozen_length = 0
        self._body_layout = QVBoxLayout()
        self._body_layout.setSpacing(6)
        self._body_layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(self._body_layout)
        self.body = self._new_part()
        self.body.setObjectName("messageBody")
        self._body_layout.addWidget(self.body)
        self.set_text(text)

    def _new_part(self) -> MarkdownView:
        # Questions are shown as typed; answers are Markdown (code blocks, lists, tables), shown
        # through answer_document() so that nothing in them is taken as markup or loaded.
        part = MarkdownView(markdown=self.role != "user", accessible_name=self.accessibleName())
        part.clicked.connect(lambda: self.activated.emit(self._text))
        return part

    def mouseReleaseEvent(self, event: Any) -> None:
        """A click on the bubble activates the message."""
        self.activated.emit(self._text)
        super().mouseReleaseEvent(event)

    def _tool_button(self, text: str, tip: str) -> QToolButton:
        button = QToolButton()
        button.setText(text)
        button.setToolTip(tip)
        button.setAccessibleName(text)
        button.setAccessibleDescription(tip)
        button.setAutoRaise(True)
        return button

    @property
    def text(self) -> str:
        """The message's current text."""
        return self._text

    def parts(self) -> list[MarkdownView]:
        """The views that show the text: finished paragraphs of a streaming answer, then the rest."""
        return [*self._frozen_parts, self.body]

    def code_blocks(self) -> list[CodeBlock]:
        """The message's code blocks, in order."""
        return [block for part in self.parts() if part.isVisibleTo(self) for block in part.code_blocks()]

    def shown_text(self) -> str:
        """What the message shows, as plain text."""
        return "\n\n".join(part.plain_text() for part in self.parts() if part.isVisibleTo(self))

    def set_text(self, text: str) -> None:
        """Replace the text (and render it whole)."""
        for part in self._frozen_parts:
            part.deleteLater()
        self._frozen_parts = []
        self._frozen_length = 0
        self._text = text
        note = ""
        if len(text) > DISPLAY_LIMIT:
            # Laying out megabytes of text takes seconds on the GUI thread.
            note = self.tr("… {0:,} more characters not shown; Copy copies the whole message.").format(
                len(text) - DISPLAY_LIMIT
            )
            text = text[:DISPLAY_LIMIT]
        self.body.setVisible(True)
        self.body.set_text(text if text else "…", note)

    def stream_text(self, text: str) -> None:
        """Show ``text``, which extends the previous one: finished paragraphs are rendered once."""
        if not text.startswith(self._text[: self._frozen_length]):
            self.set_text(text)
            return
        self._text = text
        end = stable_prefix_end(text)
        if end > self._frozen_length:
            part = self._new_part()
            part.set_text(text[self._frozen_length : end].rstrip("\n"))
            self._body_layout.insertWidget(len(self._frozen_parts), part)
            self._frozen_parts.append(part)
            self._frozen_length = end
        tail = text[self._frozen_length :]
        self.body.setVisible(bool(tail) or not self._frozen_parts)
        self.body.set_text(tail if text else "…")

    def set_detail(self, text: str) -> None:
        """Small grey text after the role (model, speed, state)."""
        self.detail_label.setText(text)

    def set_actions_enabled(self, enabled: bool) -> None:
        """Edit/Regenerate are off while an answer streams."""
        self.action_button.setEnabled(enabled)

    def copy(self) -> None:
        """Put the message's text (Markdown source for answers) on the clipboard."""
        QGuiApplication.clipboard().setText(self._text)


def stable_prefix_end(text: str, *, max_tail: int = 600) -> int:
    """Where the finished paragraphs of a streaming Markdown text end (0 if none has).

    A paragraph is finished at a blank line outside a fenced code block: what follows can no
    longer change how it renders. A paragraph that grows past ``max_tail`` characters without
    one is also cut, at its last line break, else after its last sentence or word (outside a
    fence): that cut shows as a paragraph break, a small price for keeping each redraw short
    (laying out a label costs time in proportion to its text).
    """
    end = 0
    last_break = 0
    in_fence = False
    position = 0
    for line in text.splitlines(keepends=True):
        position += len(line)
        stripped = line.strip()
        if stripped.startswith("```") or stripped.startswith("~~~"):
            in_fence = not in_fence
        elif not in_fence and line.endswith("\n") and position < len(text):
            if not stripped:
                end = position
            last_break = position
    if len(text) - end <= max_tail:
        return end
    if last_break > end:
        return last_break
    if in_fence:
        return end
    tail = text[end:]
    cut = max(tail.rfind(mark) for mark in ("。", "！", "？", ". ", "! ", "? ", "，", ", ", " "))
    return end + cut + 1 if cut > 0 else end


class ChatView(QScrollArea):
    """The scrolling list of messages of one conversation.

    Signals:
        edit_requested(int): a user message's Edit was clicked (message id).
        regenerate_requested(int): an answer's Regenerate was clicked (message id).
        message_activated(str): a message was clicked; its text.
        earlier_requested(): the user asked for the messages above the ones shown.
        answer_announced(str): a completed answer was announced to screen readers (the words).
    """

    edit_requested = Signal(int)
    regenerate_requested = Signal(int)
    message_activated = Signal(str)
    earlier_requested = Signal()
    answer_announced = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("chatView")
        self.setAccessibleName(self.tr("Conversation"))
        self.setWidgetResizable(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self._content = QWidget()
        self._content.setObjectName("chatContent")
        self._layout = QVBoxLayout(self._content)
        self._layout.setContentsMargins(16, 16, 16, 16)
        self._layout.setSpacing(10)
        self._placeholder = QLabel()
        self._placeholder.setObjectName("placeholder")
        self._placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._placeholder.setWordWrap(True)
        # A long conversation is shown from its end, a page at a time: a widget per message for
        # 100,000 messages would take minutes and gigabytes to build.
        self._earlier_button = QToolButton()
        self._earlier_button.setObjectName("earlierButton")
        self._earlier_button.clicked.connect(self.earlier_requested)
        self._earlier_button.hide()
        self._layout.addWidget(self._earlier_button, 0, Qt.AlignmentFlag.AlignHCenter)
        self._layout.addWidget(self._placeholder)
        self._layout.addStretch(1)
        self.setWidget(self._content)
        self._messages: list[MessageWidget] = []
        self._stream_text = ""
        self._stream_widget: MessageWidget | None = None
        self._stream_timer = QTimer(self)
        self._stream_timer.setSingleShot(True)
        self._stream_timer.setInterval(STREAM_REFRESH_MS)
        self._stream_timer.timeout.connect(self._render_stream)
        self._follow = True
        self.verticalScrollBar().rangeChanged.connect(self._on_range_changed)
        self.verticalScrollBar().valueChanged.connect(self._on_scrolled)
        self.set_placeholder(self.tr("Open a model from the Model menu, then type a message below."))

    def set_placeholder(self, text: str) -> None:
        """Text shown while the conversation is empty."""
        self._placeholder.setText(text)
        self._placeholder.setVisible(not self._messages)

    def messages(self) -> list[MessageWidget]:
        """The message widgets, in order."""
        return list(self._messages)

    def clear(self) -> None:
        """Remove every message."""
        self._stream_timer.stop()
        self._stream_widget = None
        for widget in self._messages:
            widget.deleteLater()
        self._messages = []
        self._placeholder.setVisible(True)
        self.set_earlier_count(0)

    def set_earlier_count(self, count: int) -> None:
        """How many messages of the conversation are above the ones shown (0: none)."""
        self._earlier_button.setText(self.tr("Show {0} earlier messages").format(f"{count:,}"))
        self._earlier_button.setVisible(count > 0)

    def prepend_message(self, message_id: int, role: str, text: str) -> MessageWidget:
        """Put a message bubble above the ones shown (the view does not scroll to it)."""
        widget = self._new_message(message_id, role, text)
        self._layout.insertWidget(1, widget)  # below the "earlier" button
        self._messages.insert(0, widget)
        self._placeholder.setVisible(False)
        self._follow = False
        return widget

    def _new_message(self, message_id: int, role: str, text: str) -> MessageWidget:
        widget = MessageWidget(message_id, role, text)
        widget.edit_requested.connect(self.edit_requested)
        widget.regenerate_requested.connect(self.regenerate_requested)
        widget.activated.connect(self.message_activated)
        return widget

    def add_message(self, message_id: int, role: str, text: str, *, detail: str = "") -> MessageWidget:
        """Append a message bubble and scroll to it."""
        widget = self._new_message(message_id, role, text)
        widget.set_detail(detail)
        self._layout.insertWidget(self._layout.count() - 1, widget)
        self._messages.append(widget)
        self._placeholder.setVisible(False)
        self._follow = True
        return widget

    def begin_stream(self, widget: MessageWidget) -> None:
        """Tokens from now on go to ``widget``."""
        self._stream_widget = widget
        self._stream_text = widget.text
        self.set_actions_enabled(False)

    def append_stream(self, text: str) -> None:
        """Add streamed text; the bubble is redrawn at most every STREAM_REFRESH_MS."""
        self._stream_text += text
        if not self._stream_timer.isActive():
            self._stream_timer.start()

    def end_stream(self) -> None:
        """The answer ended: draw its final text, re-enable the actions and announce it."""
        self._stream_timer.stop()
        self._render_stream()
        self._stream_timer.setInterval(STREAM_REFRESH_MS)
        widget, self._stream_widget = self._stream_widget, None
        self.set_actions_enabled(True)
        if widget is not None:
            self._announce(widget)

    def _announce(self, widget: MessageWidget) -> None:
        # Once per answer, when it is complete: a screen reader that spoke at every redraw
        # would read the same growing text again and again.
        words = " ".join(widget.shown_text().split())
        if len(words) > ANNOUNCE_LIMIT:
            words = words[: ANNOUNCE_LIMIT - 1] + "…"
        if words:
            message = self.tr("Answer finished: {0}").format(words)
        else:
            message = self.tr("The answer ended without any text.")
        widget.setAccessibleDescription(message)
        event = QAccessibleAnnouncementEvent(widget, message)
        event.setPoliteness(QAccessible.AnnouncementPoliteness.Polite)
        QAccessible.updateAccessibility(event)
        self.answer_announced.emit(message)

    def stream_text(self) -> str:
        """Everything streamed into the current answer so far."""
        return self._stream_text

    def set_actions_enabled(self, enabled: bool) -> None:
        """Turn Edit/Regenerate on or off on every message."""
        for widget in self._messages:
            widget.set_actions_enabled(enabled)

    def _render_stream(self) -> None:
        if self._stream_widget is None:
            return
        started = time.perf_counter()
        self._stream_widget.stream_text(self._stream_text)
        # Lay out now rather than a moment later, so that the cost is measured here: it grows
        # with the conversation (Qt lays out the other messages again), and a redraw that
        # costs more is done less often, keeping the GUI's share of the CPU, which the decode
        # needs on a small laptop, near a tenth.
        self._layout.activate()
        cost_ms = (time.perf_counter() - started) * 1000.0
        interval = min(STREAM_REFRESH_MAX_MS, max(STREAM_REFRESH_MS, REDRAW_COST_FACTOR * cost_ms))
        self._stream_timer.setInterval(int(interval))

    def _on_scrolled(self, value: int) -> None:
        # Follow the answer only while the user stays at the bottom; scrolling up to read
        # earlier text must not be undone by every new token.
        self._follow = value >= self.verticalScrollBar().maximum() - 4

    def _on_range_changed(self, _low: int, high: int) -> None:
        if self._follow:
            self.verticalScrollBar().setValue(high)


class ChatInput(QPlainTextEdit):
    """The message box: Enter sends, Shift+Enter adds a line, Esc cancels an edit.

    Input methods (Chinese pinyin and others) commit text through input-method events, not key
    presses, so an Enter that confirms a composition never reaches :meth:`keyPressEvent`.

    Signals:
        send_requested(): Enter was pressed.
        escape_pressed(): Esc was pressed.
    """

    send_requested = Signal()
    escape_pressed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("chatInput")
        self.setAccessibleName(self.tr("Message to send"))
        self.setPlaceholderText(self.tr("Type a message. Enter sends, Shift+Enter starts a new line."))
        self.setTabChangesFocus(True)
        self.setMaximumHeight(110)
        self.setMinimumHeight(56)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Enter sends unless Shift (or an input method composition) is involved."""
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            if not event.modifiers() & Qt.KeyboardModifier.ShiftModifier:
                self.send_requested.emit()
                return
            self.insertPlainText("\n")
            return
        if event.key() == Qt.Key.Key_Escape:
            self.escape_pressed.emit()
            return
        super().keyPressEvent(event)
