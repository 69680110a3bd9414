"""A message's text as the chat shows it: wrapped paragraphs, and fenced code in code blocks.

Everything here is as wide as it is given and no wider: a paragraph wraps at word boundaries
and, for a word longer than the line (a URL, a hash), anywhere; a code block scrolls sideways.
Nothing a message holds can make the conversation wider than the chat area.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from PySide6.QtCore import QEvent, QSize, Qt, QUrl, Signal
from PySide6.QtGui import QFont, QMouseEvent, QTextCursor, QTextDocument, QTextOption
from PySide6.QtWidgets import QFrame, QSizePolicy, QTextBrowser, QVBoxLayout, QWidget

from app.views.code_block import CodeBlock
from app.views.heights import HeightsByWidth

_MARKDOWN_FEATURES = QTextDocument.MarkdownFeature.MarkdownDialectGitHub | QTextDocument.MarkdownFeature.MarkdownNoHTML
_WRAP = QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere
# An opening fence: up to three spaces (more inside a list item), three or more backticks or
# tildes, then the info string, whose first word names the language.
_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<marker>`{3,}|~{3,})(?P<info>.*)$")


def answer_document(markdown: str, font: QFont | None = None) -> QTextDocument:
    """Model output as Markdown in a document, made safe to show: no raw HTML and no images.

    An answer is untrusted text. Raw HTML in it (``<img>``, ``<a href=file:...>``, ``<style>``)
    is shown as the characters it is, and Markdown images become their text: Qt would load an
    image's file while laying the text out, and a path like ``/dev/zero`` never ends. Every
    paragraph wraps, indented code too (Markdown marks it as lines not to be broken).

    Args:
        markdown: The answer's text.
        font: The font of the widget that shows it.
    """
    document = QTextDocument()
    if font is not None:
        document.setDefaultFont(font)
    document.setDocumentMargin(0)
    option = document.defaultTextOption()
    option.setWrapMode(_WRAP)
    document.setDefaultTextOption(option)
    document.setMarkdown(markdown, _MARKDOWN_FEATURES)
    images: list[tuple[int, int, str]] = []
    unbreakable: list[int] = []
    block = document.begin()
    while block.isValid():
        if block.blockFormat().nonBreakableLines():
            unbreakable.append(block.position())
        iterator = block.begin()
        while not iterator.atEnd():
            fragment = iterator.fragment()
            if fragment.isValid() and fragment.charFormat().isImageFormat():
                name = fragment.charFormat().toImageFormat().name()
                images.append((fragment.position(), fragment.length(), name))
            iterator += 1
        block = block.next()
    cursor = QTextCursor(document)
    for position, length, name in reversed(images):  # from the end, so earlier positions hold
        cursor.setPosition(position)
        cursor.setPosition(position + length, QTextCursor.MoveMode.KeepAnchor)
        cursor.insertText(f"[{name}]")
    for position in unbreakable:  # no image precedes these in their block: positions hold
        cursor.setPosition(position)
        block_format = cursor.blockFormat()
        block_format.setNonBreakableLines(False)
        cursor.setBlockFormat(block_format)
    return document


def answer_html(markdown: str, font: QFont | None = None) -> str:
    """:func:`answer_document` as HTML."""
    return answer_document(markdown, font).toHtml()


@dataclass(frozen=True)
class Segment:
    """A piece of a message: Markdown text, or the code of a fenced block.

    Attributes:
        kind: "text" or "code".
        text: The Markdown, or the code without its fences.
        language: The fence's first word ("" for text or a fence that names none).
        closed: False for a fence still open (an answer streaming, or one that stopped).
    """

    kind: str
    text: str
    language: str = ""
    closed: bool = True


def split_fences(markdown: str) -> list[Segment]:
    """``markdown`` cut into text and fenced code blocks, in order; blank text is left out.

    A fence closes at a line of the same marker, at least as long, and nothing else; a fence
    that never closes runs to the end (a streaming answer). Code lines lose the fence's
    indentation, as CommonMark says.
    """
    segments: list[Segment] = []
    text_lines: list[str] = []
    lines = markdown.splitlines(keepends=True)
    index = 0

    def flush_text() -> None:
        text = "".join(text_lines).strip("\n")
        if text.strip():
            segments.append(Segment("text", text))
        text_lines.clear()

    while index < len(lines):
        line = lines[index]
        match = _FENCE.match(line.rstrip("\r\n"))
        if match is None or (match["marker"][0] == "`" and "`" in match["info"]):
            text_lines.append(line)
            index += 1
            continue
        flush_text()
        marker = match["marker"]
        indent = len(match["indent"].expandtabs(4))
        info = match["info"].strip()
        language = info.split()[0] if info else ""
        closing = re.compile(rf"^[ \t]*{re.escape(marker[0])}{{{len(marker)},}}[ \t]*$")
        code_lines: list[str] = []
        index += 1
        closed = False
        while index < len(lines):
            if closing.match(lines[index].rstrip("\r\n")):
                closed = True
                index += 1
                break
            code_lines.append(_dedent(lines[index], indent))
            index += 1
        code = "".join(code_lines)
        segments.append(Segment("code", code[:-1] if code.endswith("\n") else code, language, closed))
    flush_text()
    return segments


def _dedent(line: str, indent: int) -> str:
    removed = 0
    while removed < indent and line[:1] == " ":
        line = line[1:]
        removed += 1
    return line


class TextView(QTextBrowser):
    """Rich or plain text that wraps to its width, as high as its text, and selectable.

    QScrollArea asks every widget of the conversation for its height at a width each time the
    content's layout changes; the height is remembered per width until the text, font or style
    changes (laying out every message again on each redraw of a streaming answer made the GUI's
    CPU per token grow with the conversation). The width is never remembered: a resize lays the
    text out at the new width.

    Signals:
        released(): a mouse button was released over the text (the click selects, and is kept).
    """

    released = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._heights = HeightsByWidth()
        self._source = ""
        self._markdown = True
        self._document: QTextDocument | None = None
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setOpenLinks(False)  # an answer's link is shown, never followed on a click
        self.setUndoRedoEnabled(False)
        self.setLineWrapMode(QTextBrowser.LineWrapMode.WidgetWidth)
        self.setWordWrapMode(_WRAP)
        self.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse | Qt.TextInteractionFlag.LinksAccessibleByMouse
        )
        self.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.viewport().setAutoFillBackground(False)
        self.viewport().setCursor(Qt.CursorShape.IBeamCursor)
        policy = QSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
        policy.setHeightForWidth(True)
        self.setSizePolicy(policy)

    @property
    def source_text(self) -> str:
        """The text shown (Markdown, or plain)."""
        return self._source

    def show_text(self, text: str, *, markdown: bool) -> None:
        """Show ``text``: Markdown through :func:`answer_document`, or as typed."""
        if text == self._source and markdown == self._markdown and self.document().characterCount() > 1:
            return
        self._source = text
        self._markdown = markdown
        if markdown:
            document = answer_document(text, self.font())
        else:
            document = QTextDocument()
            document.setDefaultFont(self.font())
            document.setDocumentMargin(0)
            document.setPlainText(text)
        document.setParent(self)
        old, self._document = self._document, document
        self.setDocument(document)
        self.setWordWrapMode(_WRAP)
        if old is not None:
            old.deleteLater()
        self._heights.clear()
        self.updateGeometry()

    def loadResource(self, kind: int, name: QUrl | str) -> object:  # noqa: N802 - Qt's name
        """Load nothing: the text may come from a model."""
        return None

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt's name
        """Say so after selecting (a message is activated by a click on its text)."""
        super().mouseReleaseEvent(event)
        self.released.emit()

    def hasHeightForWidth(self) -> bool:  # noqa: N802 - Qt's name
        """Wrapped text: the narrower, the higher."""
        return True

    def heightForWidth(self, width: int) -> int:  # noqa: N802 - Qt's name
        """The height the text needs at ``width``, laid out once per text and width."""
        return self._heights.height(width, self._measure_height)

    def _measure_height(self, width: int) -> int:
        document = self.document()
        if document.textWidth() != width:
            # Measure on a copy: the shown document stays laid out at the widget's width.
            document = document.clone()
            document.setTextWidth(width)
        return math.ceil(document.size().height())

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        """The text's height at the current width."""
        return QSize(self.fontMetrics().averageCharWidth() * 40, self.heightForWidth(max(1, self.width())))

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        """A few characters wide: any text wraps to the width it is given."""
        return QSize(self.fontMetrics().averageCharWidth() * 4, self.fontMetrics().lineSpacing())

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt's name
        """Forget the heights when the font or style changes (QTextEdit gives the text the new font)."""
        super().changeEvent(event)
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange):
            self._heights.clear()
            self.updateGeometry()


class MarkdownView(QWidget):
    """Text and code blocks, top to bottom; shown again in place as a streaming answer grows.

    Signals:
        clicked(): the text was clicked (QTextBrowser would otherwise keep the click).
    """

    clicked = Signal()

    def __init__(self, *, markdown: bool, accessible_name: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._markdown = markdown
        self._accessible_name = accessible_name
        self._parts: list[TextView | CodeBlock] = []
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(6)
        self.setProperty("source", "")

    def parts(self) -> list[TextView | CodeBlock]:
        """The text views and code blocks shown, in order."""
        return list(self._parts)

    def code_blocks(self) -> list[CodeBlock]:
        """The code blocks shown, in order."""
        return [part for part in self._parts if isinstance(part, CodeBlock)]

    def plain_text(self) -> str:
        """What is shown, as plain text (code as written)."""
        return "\n\n".join(
            part.code if isinstance(part, CodeBlock) else part.document().toPlainText() for part in self._parts
        )

    def set_text(self, text: str, note: str = "") -> None:
        """Show ``text`` (Markdown or plain), then ``note`` as a paragraph of its own."""
        self.setProperty("source", text)  # what the view shows, for tests and accessibility
        segments = split_fences(text) if self._markdown else [Segment("text", text)]
        if note:
            segments.append(Segment("text", note))
        for index, segment in enumerate(segments):
            part = self._parts[index] if index < len(self._parts) else None
            wanted = CodeBlock if segment.kind == "code" else TextView
            if not isinstance(part, wanted):
                part = self._new_part(segment)
                if index < len(self._parts):
                    old = self._parts[index]
                    self._layout.replaceWidget(old, part)
                    old.deleteLater()
                    self._parts[index] = part
                else:
                    self._layout.addWidget(part)
                    self._parts.append(part)
            if isinstance(part, CodeBlock):
                part.set_code(segment.text, segment.language, closed=segment.closed)
            else:
                part.show_text(segment.text, markdown=self._markdown)
        for part in self._parts[len(segments) :]:
            self._layout.removeWidget(part)
            part.deleteLater()
        del self._parts[len(segments) :]

    def _new_part(self, segment: Segment) -> TextView | CodeBlock:
        part: TextView | CodeBlock
        if segment.kind == "code":
            part = CodeBlock()
            part.view.released.connect(self.clicked)
        else:
            part = TextView()
            part.setAccessibleName(self._accessible_name)
            part.released.connect(self.clicked)
        return part
