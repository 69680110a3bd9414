"""A fenced code block of an answer: highlighted by Pygments, its language, a Copy button.

The block scrolls sideways inside itself: a long code line never makes the conversation wider
than the chat area.
"""

from __future__ import annotations

import functools
import math
import time

from pygments.lexer import Lexer
from pygments.lexers import get_lexer_by_name
from pygments.style import StyleMeta
from pygments.styles import get_style_by_name
from pygments.token import Token, _TokenType
from pygments.util import ClassNotFound
from PySide6.QtCore import QEvent, QObject, QRectF, QSize, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontDatabase,
    QGuiApplication,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPalette,
    QPen,
    QTextCharFormat,
    QTextCursor,
    QTextDocument,
    QTextOption,
    QWheelEvent,
)
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QSizePolicy, QTextBrowser, QToolButton, QVBoxLayout, QWidget

from app.theme import palette_is_dark
from app.views.heights import HeightsByWidth

#: Pygments styles, chosen by the palette: dark text on a light background, or the reverse.
LIGHT_STYLE = "default"
DARK_STYLE = "github-dark"
#: A fence's language longer than this is cut in the header (the info string is untrusted text).
LANGUAGE_SHOWN_MAX = 24
#: A code block longer than this is shown without colours: Pygments lexes in pure Python, about
#: a megabyte a second, and a streaming block is lexed again at every redraw.
HIGHLIGHT_MAX_CHARS = 60_000
#: The longest run of lexing on the GUI thread before the event loop goes on (seconds).
HIGHLIGHT_SLICE_S = 0.006
#: A code block still streaming is coloured up to this length; past it, once its fence closes.
HIGHLIGHT_OPEN_MAX_CHARS = 4_000
#: The pause before a block still streaming is lexed again with the text that came meanwhile (ms).
HIGHLIGHT_OPEN_PAUSE_MS = 400
#: How long the Copy button says "Copied".
COPIED_FEEDBACK_MS = 1500


@functools.lru_cache(maxsize=64)
def lexer_for(language: str) -> Lexer | None:
    """Pygments' lexer for a fence's language name (``python``, ``js``, ``c++``), None if unknown."""
    if not language:
        return None
    try:
        # The code is shown exactly as written: no newline added or stripped.
        return get_lexer_by_name(language.lower(), stripnl=False, ensurenl=False)
    except ClassNotFound:
        return None


class _Palette:
    """A Pygments style as Qt colours and character formats, one per token type."""

    def __init__(self, style_name: str) -> None:
        self.style: StyleMeta = get_style_by_name(style_name)
        self.background = QColor(self.style.background_color or "#ffffff")
        dark = self.background.lightness() < 128
        base = self.style.style_for_token(Token).get("color")
        self.foreground = QColor(f"#{base}") if base else QColor("#e6e6e6" if dark else "#1f1f1f")
        border = QColor(self.background)
        self.border = border.lighter(160) if dark else border.darker(115)
        self._formats: dict[_TokenType, QTextCharFormat] = {}

    def format_for(self, token: _TokenType) -> QTextCharFormat:
        """The format of ``token``'s text (every run gets its colour explicitly)."""
        found = self._formats.get(token)
        if found is None:
            spec = self.style.style_for_token(token)
            found = QTextCharFormat()
            found.setForeground(QColor(f"#{spec['color']}") if spec.get("color") else self.foreground)
            if spec.get("bgcolor"):
                found.setBackground(QColor(f"#{spec['bgcolor']}"))
            if spec.get("bold"):
                found.setFontWeight(QFont.Weight.Bold)
            if spec.get("italic"):
                found.setFontItalic(True)
            if spec.get("underline"):
                found.setFontUnderline(True)
            self._formats[token] = found
        return found


@functools.lru_cache(maxsize=4)
def _palette(style_name: str) -> _Palette:
    return _Palette(style_name)


def _utf16_length(text: str) -> int:
    # QTextDocument counts positions in UTF-16 units; Python strings count code points.
    return len(text) + sum(1 for char in text if ord(char) > 0xFFFF)


class _Highlight:
    """Pygments lexing one code text a slice at a time, formats applied as it goes.

    Pygments lexes in pure Python, slowly (34 ms for 1,500 characters of Python on this 2-core
    machine under load), and a code block of an answer can hold tens of thousands: lexing in one
    go would stall the GUI thread. Each slice runs for at most HIGHLIGHT_SLICE_S, then the event
    loop goes on; a thread would not help, as the GIL would make every Python call of the GUI
    thread (the chat's layout) wait for it.
    """

    def __init__(self, code: str, lexer: Lexer) -> None:
        self.code = code
        self._tokens = iter(lexer.get_tokens(code))
        self._position = 0

    def step(self, document: QTextDocument, colours: _Palette) -> bool:
        """Lex and colour the next slice of ``document``; True when the code is all done."""
        deadline = time.perf_counter() + HIGHLIGHT_SLICE_S
        runs: list[tuple[int, int, _TokenType]] = []
        done = True
        for count, (token, value) in enumerate(self._tokens):
            length = _utf16_length(value)
            if runs and runs[-1][2] is token and runs[-1][0] + runs[-1][1] == self._position:
                start, previous, _token = runs[-1]
                runs[-1] = (start, previous + length, token)
            else:
                runs.append((self._position, length, token))
            self._position += length
            if count % 64 == 63 and time.perf_counter() > deadline:
                done = False
                break
        end = document.characterCount() - 1
        cursor = QTextCursor(document)
        cursor.beginEditBlock()
        for start, length, token in runs:
            if start >= end:
                break
            cursor.setPosition(start)
            cursor.setPosition(min(start + length, end), QTextCursor.MoveMode.KeepAnchor)
            cursor.setCharFormat(colours.format_for(token))
        cursor.endEditBlock()
        return done


class CodeView(QTextBrowser):
    """The code itself: never wrapped, a horizontal scroll bar when a line is wider than the block.

    Signals:
        released(): a mouse button was released over the code.
    """

    released = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._heights = HeightsByWidth()
        self.setObjectName("codeView")
        self.setAccessibleName(self.tr("Code"))
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setOpenLinks(False)
        self.setUndoRedoEnabled(False)
        self.setLineWrapMode(QTextBrowser.LineWrapMode.NoWrap)
        self.setWordWrapMode(QTextOption.WrapMode.NoWrap)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse | Qt.TextInteractionFlag.TextSelectableByKeyboard
        )
        self.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.viewport().setAutoFillBackground(False)
        self.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.document().setDocumentMargin(2)
        self.setTabStopDistance(4 * self.fontMetrics().horizontalAdvance(" "))
        policy = QSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
        policy.setHeightForWidth(True)
        self.setSizePolicy(policy)

    def loadResource(self, kind: int, name: QUrl | str) -> object:  # noqa: N802 - Qt's name
        """Load nothing: the text comes from a model."""
        return None

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt's name
        """Say so after selecting (a message is activated by a click on its text)."""
        super().mouseReleaseEvent(event)
        self.released.emit()

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802 - Qt's name
        """Turn the wheel sideways only: an up or down turn scrolls the conversation."""
        if abs(event.angleDelta().y()) > abs(event.angleDelta().x()):
            event.ignore()
            return
        super().wheelEvent(event)

    def content_height(self) -> int:
        """The height of every line, without a scroll bar."""
        return math.ceil(self.document().size().height())

    def needs_scroll_bar(self, width: int) -> bool:
        """Whether a line is wider than ``width``."""
        return math.ceil(self.document().idealWidth()) > width

    def hasHeightForWidth(self) -> bool:  # noqa: N802 - Qt's name
        """The scroll bar, under the lines, comes only when a line is too wide."""
        return True

    def heightForWidth(self, width: int) -> int:  # noqa: N802 - Qt's name
        """The lines' height, and the scroll bar's when a line is wider than ``width``."""
        return self._heights.height(width, self._measure_height)

    def _measure_height(self, width: int) -> int:
        height = self.content_height()
        if self.needs_scroll_bar(width):
            height += self.horizontalScrollBar().sizeHint().height()
        return height

    def forget_heights(self) -> None:
        """The text or font changed."""
        self._heights.clear()
        self.updateGeometry()

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt's name
        """Forget the heights when the font or style changes."""
        super().changeEvent(event)
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange):
            self.forget_heights()

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        """As wide as the longest line; as high as the lines (the layout asks heightForWidth)."""
        return QSize(math.ceil(self.document().idealWidth()), self.content_height())

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        """Narrow: the block scrolls rather than widening the conversation."""
        return QSize(self.fontMetrics().averageCharWidth() * 4, self.content_height())


class CodeBlock(QFrame):
    """A fenced block of code: its language, a Copy button, and the code, highlighted."""

    def __init__(self, code: str = "", language: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("codeBlock")
        self._code: str | None = None
        self._language = ""
        self._closed = True
        self._dark: bool | None = None
        self._highlight: _Highlight | None = None
        self._highlight_timer = QTimer(self)
        self._highlight_timer.setSingleShot(True)
        self._highlight_timer.timeout.connect(self._highlight_step)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 2, 4, 4)
        layout.setSpacing(0)
        header = QHBoxLayout()
        header.setSpacing(4)
        self.language_label = QLabel()
        self.language_label.setObjectName("codeLanguage")
        self.copy_button = QToolButton()
        self.copy_button.setObjectName("copyCodeButton")
        self.copy_button.setText(self.tr("Copy"))
        self.copy_button.setToolTip(self.tr("Copy this code"))
        self.copy_button.setAccessibleName(self.tr("Copy code"))
        self.copy_button.setAutoRaise(True)
        self.copy_button.clicked.connect(self.copy)
        header.addWidget(self.language_label)
        header.addStretch(1)
        header.addWidget(self.copy_button)
        layout.addLayout(header)
        self.view = CodeView()
        layout.addWidget(self.view)
        self._copied_timer = QTimer(self)
        self._copied_timer.setSingleShot(True)
        self._copied_timer.setInterval(COPIED_FEEDBACK_MS)
        self._copied_timer.timeout.connect(lambda: self.copy_button.setText(self.tr("Copy")))
        for child in (self.language_label, self.copy_button, self.view):
            child.installEventFilter(self)
        self.set_code(code, language)

    @property
    def code(self) -> str:
        """The block's code, exactly as the answer wrote it between the fences."""
        return self._code or ""

    @property
    def language(self) -> str:
        """The language the fence names ("" if none)."""
        return self._language

    def set_code(self, code: str, language: str = "", *, closed: bool = True) -> None:
        """Show ``code``; ``closed`` False while its fence is still open (an answer streaming).

        A streaming block grows at its end: only the new text is added, uncoloured until the
        lexer, which runs in slices on the event loop, gets to it.
        """
        if code == self._code and language == self._language and closed == self._closed:
            return
        previous = self._code or ""
        self._closed = closed
        if language != self._language:
            self._language = language
            shown = language if len(language) <= LANGUAGE_SHOWN_MAX else language[: LANGUAGE_SHOWN_MAX - 1] + "…"
            self.language_label.setText(shown)
            self.view.setAccessibleDescription(language)
            previous = ""  # coloured by another lexer: start again
        self._code = code
        if previous and code.startswith(previous) and self._dark == palette_is_dark(self.palette()):
            cursor = QTextCursor(self.view.document())
            cursor.movePosition(QTextCursor.MoveOperation.End)
            cursor.insertText(code[len(previous) :], self._colours().format_for(Token))
            self.view.forget_heights()
        else:
            self._render()
        self._highlight_later()

    def is_highlighting(self) -> bool:
        """Whether colours are still being worked out."""
        return self._highlight is not None or self._highlight_timer.isActive()

    def copy(self) -> None:
        """Put the code on the clipboard, without the fence or the colours."""
        QGuiApplication.clipboard().setText(self.code)
        self.copy_button.setText(self.tr("Copied"))
        self._copied_timer.start()

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt's name
        """The style's background in a rounded box (a style sheet per block costs more to apply)."""
        colours = self._colours()
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(colours.border, 1))
        painter.setBrush(colours.background)
        painter.drawRoundedRect(QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5), 6, 6)

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt's name
        """A palette that turns dark (or light) gets the other set of colours."""
        if event.type() == QEvent.Type.PaletteChange and palette_is_dark(self.palette()) != self._dark:
            self._render()
            self._highlight_later()
        super().changeEvent(event)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        """A child styled again (the window's style sheet is set anew at a change of scheme) has
        lost the text colour it was given: it gets it back."""
        if event.type() == QEvent.Type.StyleChange and self._dark is not None and isinstance(watched, QWidget):
            self._colour_child(watched)
        return False

    def _colour_child(self, widget: QWidget) -> None:
        foreground = self._colours().foreground
        palette = widget.palette()
        if palette.color(QPalette.ColorRole.WindowText) == foreground:
            return
        for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.ButtonText, QPalette.ColorRole.Text):
            palette.setColor(role, foreground)
        widget.setPalette(palette)

    def _colours(self) -> _Palette:
        return _palette(DARK_STYLE if self._dark else LIGHT_STYLE)

    def _render(self) -> None:
        dark = palette_is_dark(self.palette())
        if dark != self._dark:
            self._dark = dark
            for widget in (self.language_label, self.copy_button, self.view):
                self._colour_child(widget)
            self.update()
        document = self.view.document()
        cursor = QTextCursor(document)
        cursor.beginEditBlock()
        cursor.select(QTextCursor.SelectionType.Document)
        cursor.removeSelectedText()
        cursor.insertText(self.code, self._colours().format_for(Token))
        cursor.endEditBlock()
        self._highlight = None
        # The view's own cursor was pushed to the end by the text inserted before it; at the
        # start, the view shows the beginnings of the lines.
        self.view.moveCursor(QTextCursor.MoveOperation.Start)
        self.view.horizontalScrollBar().setValue(0)
        self.view.forget_heights()

    def _highlight_later(self) -> None:
        # A lexing under way goes on while the code only grows (its colours stay right for the
        # text it has seen); the block is lexed again from its start once it is done.
        if self._highlight is not None and self.code.startswith(self._highlight.code):
            return
        self._highlight = None
        self._highlight_timer.start(0)

    def _highlight_step(self) -> None:
        if self._highlight is None:
            limit = HIGHLIGHT_MAX_CHARS if self._closed else HIGHLIGHT_OPEN_MAX_CHARS
            lexer = lexer_for(self._language) if len(self.code) <= limit else None
            if lexer is None:
                return
            self._highlight = _Highlight(self.code, lexer)
        if not self._highlight.step(self.view.document(), self._colours()):
            self._highlight_timer.start(0)
            return
        lexed, self._highlight = self._highlight.code, None
        self.view.forget_heights()  # bold text can make a line wider
        if lexed != self.code:
            # A block still streaming is lexed again after a pause: the decode needs the CPU.
            self._highlight_timer.start(0 if self._closed else HIGHLIGHT_OPEN_PAUSE_MS)
