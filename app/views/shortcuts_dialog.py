"""Help → Keyboard shortcuts: a table of the window's actions that have keys.

The rows are read from the live QActions when the dialog opens, so a shortcut added, changed or
removed anywhere in the menus shows here without anyone editing a list.
"""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QMenu,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)


def plain_text(text: str) -> str:
    """An action's text without its mnemonic marks (``&New`` → ``New``; ``&&`` stays one ``&``)."""
    return text.replace("&&", "\0").replace("&", "").replace("\0", "&")


def actions_with_keys(menus: Iterable[QMenu]) -> list[tuple[str, QAction]]:
    """Every action in ``menus`` and their submenus that has a shortcut, in menu order, with the
    plain title of the top menu it sits under."""
    found: list[tuple[str, QAction]] = []

    def walk(menu: QMenu, top: str) -> None:
        for action in menu.actions():
            submenu = action.menu()
            if isinstance(submenu, QMenu):
                walk(submenu, top)
            elif not action.isSeparator() and action.shortcuts():
                found.append((top, action))

    for menu in menus:
        walk(menu, plain_text(menu.title()))
    return found


class ShortcutsDialog(QDialog):
    """Menu, action and keys, one row per action that has a shortcut."""

    def __init__(self, actions: list[tuple[str, QAction]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Keyboard shortcuts"))
        self.table = QTableWidget(len(actions), 3)
        self.table.setHorizontalHeaderLabels([self.tr("Keys"), self.tr("Action"), self.tr("Menu")])
        self.table.setAccessibleName(self.tr("Keyboard shortcuts"))
        self.table.setAccessibleDescription(
            self.tr("Each row: the keys, what they do, and the menu that has the action.")
        )
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        for row, (menu, action) in enumerate(actions):
            keys = ", ".join(key.toString(QKeySequence.SequenceFormat.NativeText) for key in action.shortcuts())
            for column, text in enumerate((keys, plain_text(action.text()), menu)):
                self.table.setItem(row, column, QTableWidgetItem(text))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addWidget(buttons)
        self.resize(560, 420)

    def rows(self) -> list[tuple[str, str, str]]:
        """What the table shows: (keys, action, menu) per row."""
        rows = []
        for row in range(self.table.rowCount()):
            keys, action, menu = (self.table.item(row, column) for column in range(3))
            assert keys is not None and action is not None and menu is not None
            rows.append((keys.text(), action.text(), menu.text()))
        return rows
