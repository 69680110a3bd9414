"""Light and dark: the setting and the system's scheme repaint the real window live.

The window is the app's own, offscreen, with a conversation (a code block in the answer) and the
tokenizer panel counting Chinese text (the LLaMA tokenizer spells some of it in byte pieces).
Colours are read from what is drawn: the bubbles from a grab, the pieces from the document.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette

from app.main_window import AppContext, MainWindow
from app.theme import DARK, LIGHT, Colours, theme
from app.views.chat_view import MessageWidget
from app.views.code_block import CodeBlock
from app.views.markdown_view import TextView

#: 羊驼 is not in LLaMA's 32,000 pieces: it is spelt in byte pieces.
TEXT = "羊驼吃草。Alpacas eat grass."


def contrast(one: QColor, other: QColor) -> float:
    """WCAG 2 contrast ratio of two colours."""

    def luminance(colour: QColor) -> float:
        channels = []
        for value in (colour.redF(), colour.greenF(), colour.blueF()):
            channels.append(value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4)
        return 0.2126 * channels[0] + 0.7152 * channels[1] + 0.0722 * channels[2]

    high, low = sorted((luminance(one), luminance(other)), reverse=True)
    return (high + 0.05) / (low + 0.05)


@pytest.fixture
def window(qtbot) -> Iterator[MainWindow]:
    context = AppContext.open(show_errors=False)
    conversation = context.store.create_conversation(template="chinese-alpaca")
    context.store.add_message(conversation.id, "user", "Write a loop, please. 写一个循环。")
    answer = "Here:\n\n```python\nfor i in range(3):\n    print(i)\n```\n"
    context.store.add_message(conversation.id, "assistant", answer)
    win = MainWindow(context)
    win._replaced = True  # closing it in a test must not quit the shared QApplication
    qtbot.addWidget(win)
    win.resize(1000, 700)
    win.show()
    win.open_conversation(conversation.id)
    win.tokens_action.setChecked(True)
    panel = win.tokenizer_panel
    qtbot.waitUntil(lambda: panel.tokenizer_keys() == ["llama", "chinese-llama"])
    with qtbot.waitSignal(panel.updated):
        panel.set_text(TEXT)
    yield win
    win.set_colour_scheme("system")
    win.close()
    context.close()


def bubble(window: MainWindow, role: str) -> MessageWidget:
    return next(m for m in window.chat.messages() if m.role == role)


def bubble_colour(message: MessageWidget) -> QColor:
    """The colour drawn at the middle of the bubble's left margin (inside its rounded corners)."""
    image = message.grab().toImage()
    return image.pixelColor(3, image.height() // 2)


def piece_backgrounds(window: MainWindow) -> set[str]:
    document = window.tokenizer_panel.pieces_view.document()
    found: set[str] = set()
    block = document.begin()
    while block.isValid():
        fragments = block.begin()
        while not fragments.atEnd():
            brush = fragments.fragment().charFormat().background()
            if brush.style() != Qt.BrushStyle.NoBrush:
                found.add(brush.color().name())
            fragments += 1
        block = block.next()
    return found


def assert_drawn_in(window: MainWindow, scheme: Colours) -> None:
    assert (window.palette().color(QPalette.ColorRole.Window).lightness() < 128) == scheme.dark
    assert theme().dark == scheme.dark
    assert bubble_colour(bubble(window, "user")).name() == scheme.user_bubble
    assert bubble_colour(bubble(window, "assistant")).name() == scheme.assistant_bubble
    [code] = window.chat.findChildren(CodeBlock)
    assert (code._colours().background.lightness() < 128) == scheme.dark
    # The language and Copy keep the block's text colour, not the one a style sheet put back.
    assert code.copy_button.palette().color(QPalette.ColorRole.ButtonText) == code._colours().foreground
    pieces = piece_backgrounds(window)
    assert pieces, "the tokenizer panel shows no pieces"
    assert pieces <= {*scheme.pieces, scheme.byte_piece}
    assert scheme.byte_piece in pieces  # 羊驼 in bytes, red in either scheme


def test_the_setting_switches_light_and_dark_live(qtbot, window: MainWindow) -> None:
    window.set_colour_scheme("light")
    assert_drawn_in(window, LIGHT)
    window.set_colour_scheme("dark")
    assert window.ctx.settings.colour_scheme == "dark"
    assert window.colour_scheme_actions["dark"].isChecked()
    assert_drawn_in(window, DARK)
    window.set_colour_scheme("light")
    assert_drawn_in(window, LIGHT)


def test_system_follows_the_systems_scheme(qtbot, window: MainWindow) -> None:
    """The offscreen platform has no scheme of its own to change: the signal Qt sends when the
    system's scheme changes is sent here by hand, to the connections the app made."""
    window.set_colour_scheme("system")
    hints = QGuiApplication.styleHints()
    hints.colorSchemeChanged.emit(Qt.ColorScheme.Dark)
    assert_drawn_in(window, DARK)
    hints.colorSchemeChanged.emit(Qt.ColorScheme.Light)
    assert_drawn_in(window, LIGHT)
    # A forced scheme ignores the system's.
    window.set_colour_scheme("light")
    hints.colorSchemeChanged.emit(Qt.ColorScheme.Dark)
    assert_drawn_in(window, LIGHT)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_message_text_reads_well_on_its_bubble(qtbot, window: MainWindow, scheme: str) -> None:
    window.set_colour_scheme(scheme)
    for role in ("user", "assistant"):
        message = bubble(window, role)
        background = bubble_colour(message)
        text = message.findChild(TextView).palette().color(QPalette.ColorRole.Text)
        assert contrast(text, background) >= 4.5, (role, text.name(), background.name())
        detail = message.detail_label.palette().color(QPalette.ColorRole.WindowText)
        assert contrast(detail, background) >= 4.5, (role, "detail", detail.name(), background.name())
