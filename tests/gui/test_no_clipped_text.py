"""No text is cut at 800x600, in English and in Chinese: the main window with each side panel, and
every dialog the menus open, measured on the real widgets offscreen.

Each label, button, combo box and spin box shown is measured with its own font
(``fontMetrics().horizontalAdvance``) against the room its style gives the text: a label's
contents rect, a button's contents sub-element, a combo box's edit field, a spin box's line edit.
A spin box is measured with every text it can show (its largest value, its special value text), so
that "Automatic (16 in use)" after an answer is measured too, not only the text shown at start.
Text cut by a parent's edge counts too (a splitter pane narrower than its panel), unless a scroll
bar brings it into view. Widgets that elide on purpose carry the ``elidesOnPurpose`` property (and
a tooltip with the full text), and are left out.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import QPoint, QRect, QSize, Qt
from PySide6.QtGui import QFontMetrics, QTextDocument
from PySide6.QtGui import Qt as GuiQt
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractScrollArea,
    QAbstractSpinBox,
    QApplication,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QGroupBox,
    QLabel,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QStyle,
    QStyleOptionButton,
    QStyleOptionComboBox,
    QTabBar,
    QToolButton,
    QWidget,
)

from app.context import AppContext
from app.i18n import install_translators
from app.main_window import MainWindow
from runtime.chat import usable_cores
from runtime.hub.catalogue import load_catalogue
from tests.fakehub import FakeHub

#: QLineEdit draws its text this far inside its contents rect (QLineEditPrivate::horizontalMargin),
#: and keeps a pixel for the cursor.
LINE_EDIT_MARGIN = 2 * 2 + 1
SCREEN = (800, 600)


def _plain(widget: QLabel) -> str:
    text = widget.text()
    if widget.textFormat() == Qt.TextFormat.RichText or (
        widget.textFormat() == Qt.TextFormat.AutoText and GuiQt.mightBeRichText(text)
    ):
        document = QTextDocument()
        document.setHtml(text)
        return document.toPlainText()
    return text


def _widest(metrics: QFontMetrics, text: str) -> int:
    return max((metrics.horizontalAdvance(line) for line in text.split("\n")), default=0)


def _without_mnemonic(text: str) -> str:
    return text.replace("&&", "\0").replace("&", "").replace("\0", "&")


def _label_room(label: QLabel) -> int:
    room = label.contentsRect().width() - 2 * label.margin()
    indent = label.indent()
    if indent < 0 and label.frameWidth() > 0:
        indent = label.fontMetrics().horizontalAdvance("x") // 2  # QLabel's default indent
    return room - max(indent, 0)


def _button_room(button: QAbstractButton) -> int:
    style = button.style()
    if isinstance(button, QCheckBox | QRadioButton):
        option = QStyleOptionButton()
        option.initFrom(button)
        element = (
            QStyle.SubElement.SE_CheckBoxContents
            if isinstance(button, QCheckBox)
            else QStyle.SubElement.SE_RadioButtonContents
        )
        rect = style.subElementRect(element, option, button)
        return rect.width()
    if isinstance(button, QPushButton):
        option = QStyleOptionButton()
        button.initStyleOption(option)
        rect = style.subElementRect(QStyle.SubElement.SE_PushButtonContents, option, button)
        icon = button.icon()
        icon_width = button.iconSize().width() + 4 if not icon.isNull() else 0
        return rect.width() - icon_width
    return button.contentsRect().width() - (button.iconSize().width() + 4 if not button.icon().isNull() else 0)


def _spin_texts(spin: QAbstractSpinBox) -> list[str]:
    """Every text the spin box may show: the current one, its special value text, its widest values."""
    texts = [spin.text()]
    if isinstance(spin, QSpinBox | QDoubleSpinBox):
        if spin.specialValueText():
            texts.append(spin.specialValueText())
        for value in (spin.maximum(), spin.minimum()):
            if value == spin.minimum() and spin.specialValueText():
                continue
            texts.append(spin.prefix() + spin.textFromValue(value) + spin.suffix())  # type: ignore[arg-type]
    return texts


def _name(widget: QWidget) -> str:
    chain = []
    probe: QWidget | None = widget
    while probe is not None and len(chain) < 4:
        chain.append(probe.objectName() or type(probe).__name__)
        probe = probe.parentWidget()
    return "/".join(reversed(chain))


def _hidden_width(widget: QWidget) -> int:
    """How much of ``widget``'s width its parents cut off at their edges (a splitter pane or a
    scroll area narrower than it), where no horizontal scroll bar brings the rest into view."""
    left, right = 0, widget.width()
    child, parent = widget, widget.parentWidget()
    while parent is not None and not child.isWindow():
        area = parent.parentWidget()
        scrolls = isinstance(area, QAbstractScrollArea) and parent is area.viewport()
        if scrolls and area.horizontalScrollBar().isVisible():
            break  # the rest is a scroll away
        origin = widget.mapFrom(parent, QPoint(0, 0)).x()
        left, right = max(left, origin), min(right, origin + parent.width())
        child, parent = parent, parent.parentWidget()
    return widget.width() - max(0, right - left)


def clipped_texts(root: QWidget) -> list[str]:
    """Every text shown in ``root`` (and its children) that its widget does not give room to."""
    found: list[str] = []
    shown: dict[QWidget, set[str]] = {}

    def check(widget: QWidget, text: str, room: int, metrics: QFontMetrics | None = None) -> None:
        need = _widest(metrics or widget.fontMetrics(), text)
        room -= _hidden_width(widget)
        if text.strip() and need > room and text not in shown.get(widget, ()):
            shown.setdefault(widget, set()).add(text)
            found.append(f"{_name(widget)} {text!r}: needs {need} px, has {room}")

    widgets = [root, *root.findChildren(QWidget)]
    for widget in widgets:
        if not widget.isVisible() or widget.property("elidesOnPurpose"):
            continue
        if isinstance(widget, QLabel):
            if widget.wordWrap() or widget.pixmap() is not None and not widget.pixmap().isNull():
                continue
            check(widget, _plain(widget), _label_room(widget))
        elif isinstance(widget, QToolButton) and widget.toolButtonStyle() == Qt.ToolButtonStyle.ToolButtonIconOnly:
            continue
        elif isinstance(widget, QAbstractButton):
            if isinstance(widget.parentWidget(), QAbstractSpinBox | QTabBar):
                continue
            check(widget, _without_mnemonic(widget.text()), _button_room(widget))
        elif isinstance(widget, QComboBox):
            if widget.isEditable() and widget.lineEdit() is not None:
                room = widget.lineEdit().contentsRect().width() - LINE_EDIT_MARGIN
            else:
                option = QStyleOptionComboBox()
                widget.initStyleOption(option)
                rect: QRect = widget.style().subControlRect(
                    QStyle.ComplexControl.CC_ComboBox, option, QStyle.SubControl.SC_ComboBoxEditField, widget
                )
                room = rect.width()
                if not widget.itemIcon(widget.currentIndex()).isNull():
                    room -= widget.iconSize().width() + 4
            check(widget, widget.currentText(), room)
            # The popup grows to its longest item, as far as the screen allows.
            screen = widget.screen().availableGeometry().width()
            for index in range(widget.count()):
                check(widget, widget.itemText(index), screen - 40)
        elif isinstance(widget, QAbstractSpinBox):
            line_edit = widget.findChild(QWidget, "qt_spinbox_lineedit")
            if line_edit is None:
                continue
            room = line_edit.contentsRect().width() - LINE_EDIT_MARGIN
            for text in _spin_texts(widget):
                check(widget, text, room)
        elif isinstance(widget, QGroupBox) and widget.title():
            check(widget, _without_mnemonic(widget.title()), widget.width() - 16)
        elif isinstance(widget, QTabBar):
            if widget.elideMode() != Qt.TextElideMode.ElideNone and widget.property("elidesOnPurpose"):
                continue
            for index in range(widget.count()):
                room = (
                    widget.tabRect(index).width()
                    - 2 * widget.style().pixelMetric(QStyle.PixelMetric.PM_TabBarTabHSpace, None, widget) // 2
                )
                check(widget, _without_mnemonic(widget.tabText(index)), room)
    return found


def settle(qtbot, widget: QWidget) -> None:
    """A few turns of the event loop: nested layouts each take one."""
    app = QApplication.instance()
    for _ in range(5):
        app.processEvents()
    qtbot.wait(50)


@pytest.fixture(params=["en", "zh_CN"])
def language(request: pytest.FixtureRequest) -> Iterator[str]:
    install_translators(request.param)
    yield request.param
    install_translators("en")


@pytest.fixture
def small_window(qtbot, hub: FakeHub, language: str) -> Iterator[MainWindow]:
    context = AppContext.open(show_errors=False)
    context.settings.hub_endpoint = hub.url
    context.settings.hub_offline = True  # the catalogue as shipped, with nothing asked of the hub
    win = MainWindow(context)
    win._replaced = True  # closing it in a test must not quit the shared QApplication
    qtbot.addWidget(win)
    win.resize(*SCREEN)
    win.show()
    qtbot.waitUntil(lambda: win.frameGeometry().width() <= SCREEN[0])
    yield win
    context.close()


def test_main_window_with_the_decoding_panel(qtbot, small_window: MainWindow) -> None:
    win = small_window
    win.panel_action.setChecked(True)
    win.tokens_action.setChecked(False)
    # After an answer the Threads box says how many threads automatic used (two digits on a
    # workstation).
    win.decoding.show_threads_in_use(max(usable_cores(), 64))
    settle(qtbot, win)
    assert clipped_texts(win) == [], "\n".join(clipped_texts(win))


def test_main_window_with_the_tokenizer_panel(qtbot, small_window: MainWindow) -> None:
    win = small_window
    win.panel_action.setChecked(False)
    win.tokens_action.setChecked(True)
    settle(qtbot, win)
    assert clipped_texts(win) == [], "\n".join(clipped_texts(win))


def test_main_window_with_both_panels(qtbot, small_window: MainWindow) -> None:
    # 800 pixels cannot give both panels their width: what the decoding panel cannot show is a
    # scroll away, never cut at its edge.
    win = small_window
    win.panel_action.setChecked(True)
    win.tokens_action.setChecked(True)
    win.decoding.show_threads_in_use(max(usable_cores(), 64))
    settle(qtbot, win)
    assert clipped_texts(win) == [], "\n".join(clipped_texts(win))


def test_dialogs(qtbot, small_window: MainWindow) -> None:
    win = small_window
    found: list[str] = []
    opened: list[QWidget] = []

    def measure(widget: QWidget) -> None:
        opened.append(widget)
        # A window larger than the screen is made as small as the screen (800x600) allows; one
        # that cannot be made that small is a failure of its own.
        minimum = widget.minimumSizeHint().expandedTo(widget.minimumSize())
        if minimum.width() > SCREEN[0] or minimum.height() > SCREEN[1]:
            found.append(f"{type(widget).__name__} needs {minimum.width()}x{minimum.height()} px")
        QWidget.resize(widget, QWidget.size(widget).boundedTo(QSize(*SCREEN)))
        settle(qtbot, widget)
        found.extend(f"{type(widget).__name__}: {text}" for text in clipped_texts(widget))

    hub_dialog = win.hub_controller.open_dialog()
    entries = load_catalogue().entries
    for entry in entries[:: max(1, len(entries) // 4)]:  # GGUF, full weights and LoRA entries
        hub_dialog.select_repo(entry.repo)  # its details, files and buttons
        qtbot.waitUntil(lambda repo=entry.repo: repo in hub_dialog.details.text())
        measure(hub_dialog)
    win.hub_controller.open_settings()
    measure(next(w for w in QApplication.topLevelWidgets() if type(w).__name__ == "HubSettingsDialog"))
    win.open_convert_wizard()
    wizard = win._convert_wizard
    for index in range(wizard.pages.count()):
        wizard.pages.setCurrentIndex(index)
        measure(wizard)
    win.open_training_tool()
    measure(win._training_view)
    win.open_vocab_tool()
    measure(win._vocab_dialog)
    win.open_hosts()
    measure(win._hosts_dialog)
    win.show_shortcuts()
    measure(win._shortcuts_dialog)
    for widget in opened:
        widget.close()
    assert found == [], "\n".join(found)


def test_the_measure_finds_cut_text_and_leaves_out_what_elides_on_purpose(qtbot) -> None:
    holder = QWidget()
    qtbot.addWidget(holder)
    long_text = "A text far longer than forty pixels"
    label = QLabel(long_text, holder)
    button = QPushButton(long_text, holder)
    check = QCheckBox(long_text, holder)
    combo = QComboBox(holder)
    combo.addItem(long_text)
    spin = QSpinBox(holder)
    spin.setSpecialValueText("Automatic (16 in use)")
    elided = QLabel(long_text, holder)
    elided.setProperty("elidesOnPurpose", True)
    wrapped = QLabel(long_text, holder)
    wrapped.setWordWrap(True)
    for index, widget in enumerate((label, button, check, combo, spin, elided, wrapped)):
        widget.setGeometry(0, 30 * index, 40, 26)
    holder.show()
    settle(qtbot, holder)
    found = clipped_texts(holder)
    assert [line.split(" ", 1)[0].rsplit("/", 1)[-1] for line in found] == [
        "QLabel",
        "QPushButton",
        "QCheckBox",
        "QComboBox",
        "QSpinBox",
    ], found
