"""The list of saved conversations, with search, new, rename, delete, export and import.

The view only shows what it is given and asks for changes through signals; the controller
owns the store and calls :meth:`ConversationListView.set_conversations` with the result.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QDateTime, QLocale, QPoint, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QFont, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

# Searching hits the store; waiting until typing pauses saves a query per keystroke.
SEARCH_DEBOUNCE_MS = 200
_ID_ROLE = Qt.ItemDataRole.UserRole
# The stored title, kept apart from the display text, which reads "Untitled" for an empty one.
_TITLE_ROLE = Qt.ItemDataRole.UserRole + 1


class ConversationListView(QWidget):
    """Saved conversations: a search field, "New chat" and "Import…" buttons and the list.

    Double-click (or F2) renames a conversation in place; the context menu offers rename,
    export and delete, and the Delete key deletes after a confirmation.

    Signals:
        new_requested(): The user asked for a new conversation.
        selected(int): The user picked a conversation (not emitted by :meth:`select` or
            :meth:`set_conversations`).
        rename_requested(int, str): The user renamed a conversation; the new title, stripped
            and not empty.
        delete_requested(int): The user confirmed deleting a conversation.
        export_requested(int, str): The user asked to export a conversation as
            ``"markdown"`` or ``"json"``.
        import_requested(): The user asked to import a conversation file.
        search_changed(str): The search text, once typing has paused for 200 ms.
    """

    new_requested = Signal()
    selected = Signal(int)
    rename_requested = Signal(int, str)
    delete_requested = Signal(int)
    export_requested = Signal(int, str)
    import_requested = Signal()
    search_changed = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._search = QLineEdit()
        self._search.setPlaceholderText(self.tr("Search conversations"))
        self._search.setClearButtonEnabled(True)
        self._search.setAccessibleName(self.tr("Search conversations"))
        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(SEARCH_DEBOUNCE_MS)
        self._search_timer.timeout.connect(self._emit_search)
        self._search.textChanged.connect(self._search_timer.start)
        # Escape clears the search (the debounce then reports the empty text).
        clear = QAction(self.tr("Clear search"), self._search)
        clear.setShortcut(QKeySequence.StandardKey.Cancel)
        clear.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        clear.triggered.connect(self._search.clear)
        self._search.addAction(clear)
        self._last_search = ""

        self._new = QPushButton(self.tr("New chat"))
        self._new.setToolTip(self.tr("Start a new conversation"))
        self._new.clicked.connect(self.new_requested)
        self._import = QPushButton(self.tr("Import…"))
        self._import.setToolTip(self.tr("Import a conversation from an Alpaca Desk JSON file"))
        self._import.clicked.connect(self.import_requested)

        self._list = QListWidget()
        self._list.setAccessibleName(self.tr("Conversations"))
        self._list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self._list.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked | QAbstractItemView.EditTrigger.EditKeyPressed
        )
        self._list.setTextElideMode(Qt.TextElideMode.ElideRight)
        # A long title is cut short on purpose; its tooltip holds the whole of it.
        self._list.setProperty("elidesOnPurpose", True)
        self._list.setUniformItemSizes(True)
        self._list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self._list.customContextMenuRequested.connect(self._show_context_menu)
        self._list.currentItemChanged.connect(self._current_item_changed)
        self._list.itemChanged.connect(self._item_edited)
        delete = QAction(self._list)
        delete.setShortcut(QKeySequence.StandardKey.Delete)
        delete.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        delete.triggered.connect(self._delete_current)
        self._list.addAction(delete)

        # Shown in the list's place when there is nothing to list.
        self._empty = QLabel()
        self._empty.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
        self._empty.setMargin(12)
        self._empty.setWordWrap(True)
        self._empty.setEnabled(False)

        buttons = QHBoxLayout()
        buttons.addWidget(self._new, 1)
        buttons.addWidget(self._import)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self._search)
        column.addLayout(buttons)
        column.addWidget(self._list, 1)
        column.addWidget(self._empty, 1)
        self._update_empty_state()

    # --- Public API -----------------------------------------------------------------------

    def set_conversations(self, items: Sequence[tuple[int, str, float]]) -> None:
        """Show conversations in the given order: ``(id, title, updated_at epoch seconds)``.

        The selected conversation stays selected if it is still in the list.
        """
        current = self.current_id()
        locale = QLocale()
        # Taller rows than the default, which packs titles too tightly to pick one easily.
        row_size = QSize(0, self._list.fontMetrics().height() + 12)
        # Italic sets "Untitled" apart from a conversation that is really called that.
        untitled_font = QFont(self._list.font())
        untitled_font.setItalic(True)
        # Blocked: rebuilding is not the user picking or renaming anything.
        self._list.blockSignals(True)
        try:
            self._list.clear()
            for conv_id, title, updated_at in items:
                item = QListWidgetItem(title or self.tr("Untitled"))
                item.setSizeHint(row_size)
                if not title:
                    item.setFont(untitled_font)
                item.setData(_ID_ROLE, conv_id)
                item.setData(_TITLE_ROLE, title)
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsEditable)
                when = locale.toString(QDateTime.fromSecsSinceEpoch(int(updated_at)), QLocale.FormatType.ShortFormat)
                item.setToolTip(self.tr("{title}\nLast changed {when}").format(title=item.text(), when=when))
                self._list.addItem(item)
                if conv_id == current:
                    self._list.setCurrentItem(item)
        finally:
            self._list.blockSignals(False)
        self._update_empty_state()

    def select(self, conv_id: int | None) -> None:
        """Select a conversation by id (``None`` or an unknown id: no selection)."""
        self._list.blockSignals(True)
        try:
            item = self._find(conv_id) if conv_id is not None else None
            if item is None:
                self._list.setCurrentRow(-1)
            else:
                self._list.setCurrentItem(item)
                self._list.scrollToItem(item)
        finally:
            self._list.blockSignals(False)

    def current_id(self) -> int | None:
        """The id of the selected conversation, or ``None``."""
        item = self._list.currentItem()
        return None if item is None else int(item.data(_ID_ROLE))

    def search_text(self) -> str:
        """The text in the search field."""
        return self._search.text()

    def focus_search(self) -> None:
        """Put the keyboard focus in the search field, its text selected so typing replaces it."""
        self._search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self._search.selectAll()

    # --- Internals ------------------------------------------------------------------------

    def _find(self, conv_id: int) -> QListWidgetItem | None:
        for row in range(self._list.count()):
            item = self._list.item(row)
            if item.data(_ID_ROLE) == conv_id:
                return item
        return None

    def _update_empty_state(self) -> None:
        empty = self._list.count() == 0
        if self._search.text().strip():
            self._empty.setText(self.tr("No conversation matches the search."))
        else:
            self._empty.setText(self.tr("No conversations yet."))
        self._empty.setVisible(empty)
        self._list.setVisible(not empty)

    def _emit_search(self) -> None:
        text = self._search.text()
        if text != self._last_search:
            self._last_search = text
            self.search_changed.emit(text)

    def _current_item_changed(self, current: QListWidgetItem | None, _previous: object) -> None:
        if current is not None:
            self.selected.emit(int(current.data(_ID_ROLE)))

    def _item_edited(self, item: QListWidgetItem) -> None:
        old = item.data(_TITLE_ROLE) or ""
        new = item.text().strip()
        self._list.blockSignals(True)
        try:
            if not new or new == old or (not old and new == self.tr("Untitled")):
                # Nothing to rename to: put back what was shown.
                item.setText(old or self.tr("Untitled"))
                return
            item.setText(new)
            item.setData(_TITLE_ROLE, new)
            item.setFont(self._list.font())
        finally:
            self._list.blockSignals(False)
        self.rename_requested.emit(int(item.data(_ID_ROLE)), new)

    def _show_context_menu(self, pos: QPoint) -> None:
        item = self._list.itemAt(pos)
        if item is None:
            return
        self._build_context_menu(item).exec(self._list.viewport().mapToGlobal(pos))

    def _build_context_menu(self, item: QListWidgetItem) -> QMenu:
        conv_id = int(item.data(_ID_ROLE))
        menu = QMenu(self)
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        menu.addAction(self.tr("Rename"), lambda: self._list.editItem(item))
        menu.addSeparator()
        menu.addAction(self.tr("Export as Markdown…"), lambda: self.export_requested.emit(conv_id, "markdown"))
        menu.addAction(self.tr("Export as JSON…"), lambda: self.export_requested.emit(conv_id, "json"))
        menu.addSeparator()
        menu.addAction(self.tr("Delete…"), lambda: self._delete(item))
        return menu

    def _delete_current(self) -> None:
        item = self._list.currentItem()
        if item is not None:
            self._delete(item)

    def _delete(self, item: QListWidgetItem) -> None:
        # Read before the dialog: the list may be rebuilt while it is open.
        conv_id = int(item.data(_ID_ROLE))
        if self._confirm_delete(item.text()):
            self.delete_requested.emit(conv_id)

    def _confirm_delete(self, title: str) -> bool:
        """Ask before deleting; a separate method so tests can answer for the user."""
        answer = QMessageBox.question(
            self,
            self.tr("Delete conversation"),
            self.tr("Delete “{title}”? This cannot be undone.").format(title=title),
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel,
        )
        return answer == QMessageBox.StandardButton.Yes
