"""Messages follow the chat area's width; code blocks; what screen readers are told.

Measured on real widgets offscreen: the real main window resized from 1280 to 800 pixels, and a
chat view alone while an answer streams.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication, QWidget

from app.main_window import AppContext, MainWindow
from app.views.chat_view import ChatView, MessageWidget
from app.views.code_block import CodeBlock
from app.views.markdown_view import TextView, split_fences

ENGLISH = (
    "Alpacas are domesticated camelids from South America, kept for their soft fibre, which makes it "
    "easy to remember a great many facts about them and their cousins the llamas. " * 3
)
CHINESE = "羊驼是一种原产于南美洲的驯养骆驼科动物，性情温顺，毛质柔软，常被用来制作保暖的衣物。" * 4
LONG_URL = "Read https://example.com/" + "a-very/long-path/segment" * 14 + "?q=alpaca&lang=zh for more."
LONG_CODE = "```python\nprint('" + "x" * 400 + "')\nvalue = 1\n```"
MIXED = "Intro paragraph.\n\n```js\nconst a = 1;\n```\n\nAnd " + "unbreakable" * 30 + " words."


def settle(app: QApplication) -> None:
    for _ in range(4):
        app.processEvents()


def fits(qtbot, view: ChatView) -> None:
    """Nothing is cut once the layout has settled (each nested layout takes a turn of the event
    loop, and the scroll bar that a taller answer brings narrows the view once more)."""
    found: list[str] = []

    def settled() -> bool:
        found[:] = overflows(view)
        return not found

    try:
        qtbot.waitUntil(settled, timeout=30_000)
    except qtbot.TimeoutError:
        pass
    assert found == [], f"at {view.width()} px"


def overflows(view: ChatView) -> list[str]:
    """Every part of every message that reaches past the right edge of the chat's viewport, or is cut."""
    viewport = view.viewport()
    limit = viewport.width()
    found: list[str] = []

    def right_edge(widget: QWidget) -> int:
        return widget.mapTo(viewport, QPoint(widget.width(), 0)).x()

    for message in view.messages():
        name = f"message {message.message_id}"
        if message.width() > limit or right_edge(message) > limit:
            found.append(f"{name}: {message.width()} px wide, ends at {right_edge(message)} of {limit}")
        for button in (message.copy_button, message.action_button):
            if right_edge(button) > limit:
                found.append(f"{name}: {button.text()} ends at {right_edge(button)} of {limit}")
        for part in message.parts():
            if not part.isVisibleTo(message):
                continue
            for shown in part.parts():
                if right_edge(shown) > limit:
                    found.append(f"{name}: {type(shown).__name__} ends at {right_edge(shown)} of {limit}")
                if isinstance(shown, TextView):
                    document_width = shown.document().size().width()
                    if document_width > shown.viewport().width() + 1:
                        found.append(f"{name}: text laid out {document_width:.0f} px wide in {shown.width()}")
                    document_height = shown.document().size().height()
                    if document_height > shown.viewport().height() + 1:
                        found.append(f"{name}: text {document_height:.0f} px high in {shown.height()}")
                elif isinstance(shown, CodeBlock):
                    code = shown.view
                    if code.document().size().height() > code.viewport().height() + 1:
                        found.append(f"{name}: code {code.document().size().height():.0f} px high in {code.height()}")
                    too_wide = code.document().idealWidth() > code.viewport().width() + 1
                    if too_wide and code.horizontalScrollBar().maximum() <= 0:
                        found.append(f"{name}: a code line wider than its block, and no scroll bar")
    return found


@pytest.fixture
def window(qtbot) -> Iterator[MainWindow]:
    context = AppContext.open(show_errors=False)
    win = MainWindow(context)
    win._replaced = True  # closing it in a test must not quit the shared QApplication
    qtbot.addWidget(win)
    win.resize(1280, 800)
    win.show()
    yield win
    win.close()
    context.close()


def test_messages_wrap_to_the_chat_area_at_every_width(qtbot, window: MainWindow) -> None:
    app = QApplication.instance()
    chat = window.chat
    chat.add_message(1, "user", "Tell me about alpacas " + "https://example.com/" + "q" * 300)
    english = chat.add_message(2, "assistant", ENGLISH, detail="stories260K · 123.4 tokens/s · 512 tokens · complete")
    chat.add_message(3, "assistant", CHINESE)
    chat.add_message(4, "assistant", LONG_URL)
    chat.add_message(5, "assistant", LONG_CODE)
    chat.add_message(6, "assistant", MIXED)
    # The window is fitted to the screen (the offscreen one is 800 pixels wide): without the side
    # panels the chat area gets the room that wrapping can be seen in.
    window.panel_action.setChecked(False)
    window.tokens_action.setChecked(False)
    settle(app)
    fits(qtbot, chat)
    text = english.body.parts()[0]
    qtbot.waitUntil(lambda: text.height() == text.heightForWidth(text.width()))
    wide_size, wide_viewport, wide_height = window.size(), chat.viewport().width(), text.height()

    window.resize(wide_size.width() // 2, 600)
    settle(app)
    qtbot.waitUntil(lambda: chat.viewport().width() < wide_viewport * 3 // 4)  # the chat area got narrower
    fits(qtbot, chat)
    # The text wraps again at the new width: more lines than at 1280 pixels (the new height comes
    # with a later turn of the event loop on a busy machine).
    qtbot.waitUntil(lambda: english.body.parts()[0].height() > wide_height)
    code = chat.messages()[4].code_blocks()[0]
    assert code.view.horizontalScrollBar().maximum() > 0  # the long line scrolls inside its block

    window.resize(wide_size)
    settle(app)
    fits(qtbot, chat)
    qtbot.waitUntil(lambda: english.body.parts()[0].height() == wide_height)


def test_the_measure_catches_a_message_forced_wider(qtbot) -> None:
    app = QApplication.instance()
    view = ChatView()
    qtbot.addWidget(view)
    view.resize(500, 600)
    view.show()
    message = view.add_message(1, "assistant", ENGLISH)
    settle(app)
    assert overflows(view) == []
    message.setMinimumWidth(view.viewport().width() + 200)
    settle(app)
    assert any("message 1" in line for line in overflows(view))


def test_a_streaming_answer_wraps_again_when_the_view_narrows(qtbot) -> None:
    view = ChatView()
    qtbot.addWidget(view)
    view.resize(900, 700)
    view.show()
    view.add_message(1, "user", "Explain, with code.")
    widget = view.add_message(2, "assistant", "")
    view.begin_stream(widget)
    answer = ENGLISH + "\n\n" + CHINESE + "\n\n" + LONG_URL + "\n\n```python\nprint('" + "y" * 300 + "')\n"
    widths = iter([700, 520, 360, 300])
    for index in range(0, len(answer), 25):
        view.append_stream(answer[index : index + 25])
        view._render_stream()  # what the stream timer does
        if index % 300 == 0:
            view.resize(next(widths, 300), 700)
        fits(qtbot, view)
    # The fence is still open while the answer streams: its code shows in a block already.
    blocks = widget.code_blocks()
    assert len(blocks) == 1 and blocks[0].code.startswith("print('yyy")
    view.end_stream()
    fits(qtbot, view)


def test_code_blocks_are_highlighted_show_their_language_and_copy_exact_code(qtbot) -> None:
    code = 'def greet(name: str) -> str:\n    """Say hello."""\n    return f"hello {name}"  # 你好\n\n\ngreet("羊驼")'
    text = f"Here is code:\n\n```python title=greet.py\n{code}\n```\n\nAnd after it, **bold** text."
    message = MessageWidget(1, "assistant", text)
    qtbot.addWidget(message)
    message.resize(500, 400)
    message.show()
    [block] = message.code_blocks()
    assert block.language == "python" and block.language_label.text() == "python"
    qtbot.waitUntil(lambda: not block.is_highlighting(), timeout=5000)
    colours = {fragment_colour(block, word) for word in ("def", "greet", "return", "# 你好", '"""Say hello."""')}
    assert len(colours) >= 3  # keywords, names, strings and comments differ

    QGuiApplication.clipboard().clear()
    qtbot.mouseClick(block.copy_button, Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text() == code
    assert block.copy_button.text() == "Copied"

    # The text around the block renders as before: Markdown, not code.
    paragraphs = [part.source_text for part in message.body.parts() if isinstance(part, TextView)]
    assert paragraphs == ["Here is code:", "And after it, **bold** text."]
    assert "**" not in message.shown_text() and "bold" in message.shown_text()


def fragment_colour(block: CodeBlock, word: str) -> str:
    document = block.view.document()
    cursor = document.find(word)
    assert not cursor.isNull(), word
    return cursor.charFormat().foreground().color().name()


def contrast(one: QColor, other: QColor) -> float:
    def luminance(colour: QColor) -> float:
        channels = []
        for value in (colour.redF(), colour.greenF(), colour.blueF()):
            channels.append(value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4)
        return 0.2126 * channels[0] + 0.7152 * channels[1] + 0.0722 * channels[2]

    high, low = sorted((luminance(one), luminance(other)), reverse=True)
    return (high + 0.05) / (low + 0.05)


@pytest.mark.parametrize("dark", [False, True])
def test_code_colours_read_well_on_a_light_and_a_dark_palette(qtbot, dark: bool) -> None:
    block = CodeBlock()
    qtbot.addWidget(block)
    if dark:
        palette = block.palette()
        for role, colour in (
            (QPalette.ColorRole.Base, "#1e1e1e"),
            (QPalette.ColorRole.Window, "#2b2b2b"),
            (QPalette.ColorRole.Text, "#eeeeee"),
            (QPalette.ColorRole.WindowText, "#eeeeee"),
        ):
            palette.setColor(role, QColor(colour))
        block.setPalette(palette)
    block.set_code("import os\n# a comment\nvalue = os.getcwd() + 'text' * 3\n", "python")
    block.show()
    qtbot.waitUntil(lambda: not block.is_highlighting(), timeout=5000)
    background = block._colours().background
    assert (background.lightness() < 128) == dark
    document = block.view.document()
    text = document.begin()
    while text.isValid():
        iterator = text.begin()
        while not iterator.atEnd():
            fragment = iterator.fragment()
            if fragment.text().strip():
                colour = fragment.charFormat().foreground().color()
                assert contrast(colour, background) >= 3.0, (fragment.text(), colour.name(), background.name())
            iterator += 1
        text = text.next()


def test_an_unfinished_fence_is_code_to_the_end() -> None:
    segments = split_fences("Intro\n\n```python\nx = 1\n")
    assert [(s.kind, s.text, s.language, s.closed) for s in segments] == [
        ("text", "Intro", "", True),
        ("code", "x = 1", "python", False),
    ]
    # A closing fence must be the opening one's marker, at least as long, alone on its line.
    segments = split_fences("````\n```\ninner\n```\n````\nafter")
    assert [(s.kind, s.text) for s in segments] == [("code", "```\ninner\n```"), ("text", "after")]


def test_controls_without_visible_text_have_accessible_names(qtbot) -> None:
    from app.views.chat_view import ChatInput

    view = ChatView()
    qtbot.addWidget(view)
    chat_input = ChatInput()
    qtbot.addWidget(chat_input)
    message = view.add_message(1, "assistant", "Text\n\n```sh\nls -l\n```")
    [block] = message.code_blocks()
    text_view = message.body.parts()[0]
    for widget in (view, chat_input, message, text_view, block.view, block.copy_button, message.copy_button):
        assert widget.accessibleName(), type(widget).__name__
    assert block.copy_button.accessibleName() == "Copy code"


def test_a_finished_answer_is_announced_once_not_per_token(qtbot) -> None:
    view = ChatView()
    qtbot.addWidget(view)
    view.show()
    announced: list[str] = []
    view.answer_announced.connect(announced.append)
    widget = view.add_message(1, "assistant", "")
    view.begin_stream(widget)
    for token in ["羊驼", "是", "一种", "动物", "。", "\n\n", "Alpacas", " are", " calm", "."] * 10:
        view.append_stream(token)
        view._render_stream()
    assert announced == [] and widget.accessibleDescription() == ""
    view.end_stream()
    assert len(announced) == 1
    assert announced[0].startswith("Answer finished: 羊驼是一种动物。")
    assert widget.accessibleDescription() == announced[0]
    view.end_stream()  # a second end (an error after a stop) announces nothing more
    assert len(announced) == 1


def wheel(widget: QWidget, *, down: int = 0, right: int = 0) -> bool:
    """Turn the wheel over ``widget``; whether it kept the event.

    An event that a widget leaves unaccepted goes on to its parents when it comes from the
    window system: to the conversation, which scrolls. (One sent by a test does not travel.)
    """
    from PySide6.QtCore import QPointF
    from PySide6.QtGui import QWheelEvent

    centre = QPointF(widget.width() / 2, min(10, widget.height() / 2))
    event = QWheelEvent(
        centre,
        widget.mapToGlobal(centre),
        QPoint(0, 0),
        QPoint(-right, -down),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(widget, event)
    return event.isAccepted()


def test_the_wheel_over_a_message_is_left_to_the_conversation(qtbot) -> None:
    app = QApplication.instance()
    view = ChatView()
    qtbot.addWidget(view)
    view.resize(500, 300)
    view.show()
    message = view.add_message(1, "assistant", ENGLISH + "\n\n```python\nprint('" + "z" * 200 + "')\n```")
    settle(app)
    code = message.code_blocks()[0].view
    text = message.body.parts()[0]
    assert not wheel(text.viewport(), down=120)
    assert not wheel(code.viewport(), down=120)
    # Sideways, the code block scrolls its long line.
    assert wheel(code.viewport(), right=120)
    assert code.horizontalScrollBar().value() > 0


def test_a_click_on_the_text_or_the_code_activates_the_message(qtbot) -> None:
    message = MessageWidget(1, "assistant", "Some text.\n\n```\ncode\n```")
    qtbot.addWidget(message)
    message.resize(400, 300)
    message.show()
    text = message.body.parts()[0]
    for target in (text.viewport(), message.code_blocks()[0].view.viewport()):
        with qtbot.waitSignal(message.activated) as blocker:
            qtbot.mouseClick(target, Qt.MouseButton.LeftButton, pos=QPoint(5, 5))
        assert blocker.args == [message.text]


def test_the_header_flows_onto_rows_within_its_width(qtbot) -> None:
    from PySide6.QtWidgets import QLabel, QToolButton

    from app.views.flow_layout import FlowLayout

    header = QWidget()
    qtbot.addWidget(header)
    layout = FlowLayout(header)
    layout.setContentsMargins(0, 0, 0, 0)
    title = QLabel("Assistant")
    buttons = [QToolButton(text=name) for name in ("Copy", "Regenerate")]
    layout.add_widget(title)
    for button in buttons:
        layout.add_widget(button, Qt.AlignmentFlag.AlignRight)
    header.show()
    one_row = layout.heightForWidth(600)
    header.resize(600, one_row)
    layout.setGeometry(header.rect())
    assert buttons[-1].geometry().right() == 599  # the buttons sit at the right end
    assert one_row == max(widget.sizeHint().height() for widget in (title, *buttons))  # one row
    narrow = buttons[-1].sizeHint().width() + 10
    assert layout.heightForWidth(narrow) > one_row  # more rows
    header.resize(narrow, layout.heightForWidth(narrow))
    layout.setGeometry(header.rect())
    for widget in (title, *buttons):
        assert widget.geometry().right() < narrow, widget.text()
    for widget in (title, *buttons):
        widget.hide()
    assert layout.heightForWidth(600) == 0
