"""What a user does, for the GUI tests: mouse clicks on buttons, list rows and menus, and answers
to the app's own (non-native) file dialogs. Each step checks first that a user could take it: the
widget is shown and enabled, the menu entry is there."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from PySide6.QtCore import QPoint, Qt, QTimer
from PySide6.QtGui import QAction, QInputMethodEvent
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QCheckBox,
    QComboBox,
    QDialogButtonBox,
    QFileDialog,
    QLineEdit,
    QMainWindow,
    QMenu,
    QTreeWidget,
    QTreeWidgetItem,
    QWidget,
)

#: Safety net for a menu or a dialog to appear (never reached when the app works).
APPEAR_TIMEOUT_MS = 10_000


def click(qtbot, button: QAbstractButton) -> None:
    """Click ``button`` with the left mouse button (it must be visible and enabled). A check box
    is clicked on its box: a click right of its label does not toggle it."""
    assert button.isVisible(), f"{button.text()!r} is not shown"
    assert button.isEnabled(), f"{button.text()!r} is disabled"
    if isinstance(button, QCheckBox):
        checked = button.isChecked()
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton, pos=QPoint(6, button.height() // 2))
        assert button.isChecked() is not checked, f"the click did not toggle {button.text()!r}"
        return
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def click_dialog_button(qtbot, dialog: QWidget, which: QDialogButtonBox.StandardButton) -> None:
    """Click a dialog's standard button (OK, Cancel, ...)."""
    boxes = [box for box in dialog.findChildren(QDialogButtonBox) if box.button(which) is not None]
    assert boxes, f"{dialog.windowTitle()!r} has no {which} button"
    click(qtbot, boxes[0].button(which))


def tree_row(tree: QTreeWidget, text: str, *, role: int | None = None) -> QTreeWidgetItem:
    """The top-level row of ``tree`` whose first column shows ``text`` (or holds it as ``role``'s data)."""
    for index in range(tree.topLevelItemCount()):
        item = tree.topLevelItem(index)
        if (item.data(0, role) if role is not None else item.text(0)) == text:
            return item
    raise AssertionError(f"no row {text!r} in the list")


def type_text(qtbot, widget: QWidget, text: str, *, replace: bool = False) -> None:
    """Type ``text`` into ``widget`` (a line edit, a text box, a spin box) as a user does: key
    presses for ASCII, an input method's commit for the rest (Chinese is typed through one, and
    QTest makes key presses of ASCII only). ``replace``: select what is there first (Ctrl+A)."""
    widget.setFocus()
    if replace:
        qtbot.keyClick(widget, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    if text.isascii():
        qtbot.keyClicks(widget, text)
        return
    event = QInputMethodEvent()
    event.setCommitString(text)
    QApplication.sendEvent(widget, event)


def choose_in_combo(qtbot, combo: QComboBox, data: object) -> None:
    """Choose the entry of ``combo`` holding ``data`` with the keyboard: Home, then Down. (A click
    on an entry of the list a click just opened is taken for the end of a double click.)"""
    index = combo.findData(data)
    assert index >= 0, f"no entry {data!r} in the list"
    assert combo.isVisible() and combo.isEnabled(), f"{combo.currentText()!r} cannot be used"
    combo.setFocus()
    qtbot.keyClick(combo, Qt.Key.Key_Home)
    for _ in range(index):
        qtbot.keyClick(combo, Qt.Key.Key_Down)
    assert combo.currentIndex() == index


def click_item(qtbot, tree: QTreeWidget, item: QTreeWidgetItem, column: int = 0) -> None:
    """Click ``item``'s row in ``tree`` (scrolled into view first, as a user scrolls to it)."""
    tree.scrollToItem(item)
    rect = tree.visualItemRect(item)
    assert rect.isValid(), f"{item.text(0)!r} is not shown"
    x = tree.header().sectionViewportPosition(column) + 4
    qtbot.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(x, rect.center().y()))
    assert tree.currentItem() is item


def _plain(text: str) -> str:
    return text.replace("&&", "\0").replace("&", "").replace("\0", "&")


def _action_named(menu: QMenu, text: str) -> QAction:
    found = [a for a in menu.actions() if _plain(a.text()) == text]
    assert found, f"no {text!r} in the menu {_plain(menu.title())!r}: {[_plain(a.text()) for a in menu.actions()]}"
    return found[0]


def click_in_menu(qtbot, menu: QMenu, action: QAction) -> None:
    """Click ``action`` in ``menu``, shown first where it is not (a context menu, a tray icon's
    menu: offscreen there is no tray to right-click, so the menu pops up where it would)."""
    if not menu.isVisible():
        menu.popup(QPoint(0, 0))
    qtbot.waitUntil(menu.isVisible, timeout=APPEAR_TIMEOUT_MS)
    assert action in menu.actions() and action.isVisible(), f"{action.text()!r} is not in the menu"
    assert action.isEnabled(), f"{action.text()!r} is disabled"
    rect = menu.actionGeometry(action)
    qtbot.mouseClick(menu, Qt.MouseButton.LeftButton, pos=rect.center())


def choose_menu(qtbot, window: QMainWindow, *path: str) -> None:
    """Choose ``path`` (``"Model", "Open model file…"``) from ``window``'s menu bar with the mouse."""
    assert window.isVisible(), "the window is not shown: its menus cannot be opened"
    bar = window.menuBar()
    top = [a for a in bar.actions() if _plain(a.text()) == path[0]]
    assert top, f"no menu {path[0]!r} in {[_plain(a.text()) for a in bar.actions()]}"
    menu = top[0].menu()
    qtbot.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.actionGeometry(top[0]).center())
    qtbot.waitUntil(menu.isVisible, timeout=APPEAR_TIMEOUT_MS)
    for name in path[1:-1]:
        action = _action_named(menu, name)
        submenu = action.menu()
        qtbot.mouseClick(menu, Qt.MouseButton.LeftButton, pos=menu.actionGeometry(action).center())
        qtbot.waitUntil(submenu.isVisible, timeout=APPEAR_TIMEOUT_MS)
        menu = submenu
    click_in_menu(qtbot, menu, _action_named(menu, path[-1]))


@contextmanager
def answering_file_dialog(qtbot, path: str) -> Iterator[list[str]]:
    """Inside the block, the next file dialog the app opens is answered as a user answers it: the
    path pasted into its file name box, then Enter. The app's dialogs are Qt's own widgets here
    (offscreen there is no native one). The path is pasted (Ctrl+V), not typed key by key: Qt's
    dialog moves into each folder as its separator is typed, which a key-by-key test outpaces.
    Yields the dialog titles seen (one when it was answered)."""
    seen: list[str] = []
    done = [False]

    def answer() -> None:
        if done[0]:
            return
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, QFileDialog) or not dialog.isVisible():
            QTimer.singleShot(20, answer)  # not open yet: look again a little later
            return
        done[0] = True
        seen.append(dialog.windowTitle())
        name_box = dialog.findChild(QLineEdit, "fileNameEdit")
        assert name_box is not None, "the file dialog has no file name box"
        name_box.setFocus()
        qtbot.keyClick(name_box, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
        QApplication.clipboard().setText(path)
        qtbot.keyClick(name_box, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
        qtbot.keyClick(name_box, Qt.Key.Key_Return)

    QTimer.singleShot(0, answer)
    try:
        yield seen
    finally:
        done[0] = True
    assert seen, "no file dialog was opened"


def download_from_the_hub(qtbot, window: QMainWindow, repo: str, name: str) -> Any:
    """Model → Get models…, the catalogue entry ``repo``, its file ``name`` once the hub's list is
    shown, Download. Returns the download (the dialog stays open)."""
    from app.views.hub_view import FILE_ROLE, REPO_ROLE

    choose_menu(qtbot, window, "Model", "Get models…")
    dialog = window.hub_controller.dialog
    assert dialog is not None and dialog.isVisible()
    click_item(qtbot, dialog.catalogue, tree_row(dialog.catalogue, repo, role=REPO_ROLE))
    qtbot.waitUntil(lambda: "Sizes from the hub" in dialog.details.text(), timeout=APPEAR_TIMEOUT_MS)
    click_item(qtbot, dialog.files, tree_row(dialog.files, name, role=FILE_ROLE))
    before = list(window.ctx.downloads.items)
    click(qtbot, dialog.download_button)
    [item] = [d for d in window.ctx.downloads.items if d not in before]
    assert (item.repo, item.files) == (repo, [name])
    return item
