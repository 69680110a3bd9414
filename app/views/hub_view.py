"""Model → Get models…: the catalogue (what each model is, its files, what is on disk, what suits
this computer) above the download manager (progress, speed, time left, pause, resume, cancel,
"Chat with it"). Layout only: :class:`app.controllers.hub.HubController` fills it and reacts."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.theme import colour_text

REPO_ROLE = Qt.ItemDataRole.UserRole
FILE_ROLE = Qt.ItemDataRole.UserRole + 1


def size_text(n: int) -> str:
    """Bytes as GB or MB."""
    if n >= 1_000_000_000:
        return f"{n / 1e9:.1f} GB"
    return f"{n / 1e6:.0f} MB" if n >= 1_000_000 else f"{n / 1e3:.0f} kB"


class HubDialog(QDialog):
    """The catalogue and the downloads.

    Signals:
        entry_selected(str): The user chose a repository in the catalogue.
        verify_requested(str): Re-check this repository's files on disk against their SHA-256.
        download_requested(str, str): Download this repository's file ("": every file).
        search_requested(str): Find GGUF repositories on the hub by name.
        settings_requested(): Open the hub settings.
        pause_requested(object), resume_requested(object), cancel_requested(object): A download.
        open_requested(object): "Chat with it" (a GGUF) or "Convert…" (full weights) on a download.
        drafter_requested(str, str): "Speed up with the 1.3B model" on this repository, whose file
            shown chosen is this one ("": none).
    """

    entry_selected = Signal(str)
    verify_requested = Signal(str)
    download_requested = Signal(str, str)
    search_requested = Signal(str)
    settings_requested = Signal()
    pause_requested = Signal(object)
    resume_requested = Signal(object)
    cancel_requested = Signal(object)
    open_requested = Signal(object)
    merge_requested = Signal(str)
    drafter_requested = Signal(str, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Get models"))
        self.resize(1000, 720)

        self.search = QLineEdit()
        self.search.setPlaceholderText(self.tr("Find any GGUF model on the hub by name"))
        self.search.returnPressed.connect(lambda: self.search_requested.emit(self.search.text().strip()))
        search_button = QPushButton(self.tr("Search the hub"))
        search_button.clicked.connect(lambda: self.search_requested.emit(self.search.text().strip()))
        settings_button = QPushButton(self.tr("Hub settings…"))
        settings_button.clicked.connect(self.settings_requested.emit)
        self.source_label = QLabel()
        self.source_label.setObjectName("detailLabel")
        self.source_label.setWordWrap(True)
        self.recommendation_label = QLabel()
        self.recommendation_label.setWordWrap(True)

        self.catalogue = QTreeWidget()
        self.catalogue.setRootIsDecorated(False)
        self.catalogue.setHeaderLabels(
            [self.tr("Model"), self.tr("Kind"), self.tr("Size"), self.tr("Context"), self.tr("On disk")]
        )
        self.catalogue.header().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.catalogue.header().setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.catalogue.currentItemChanged.connect(self._on_entry)

        self.details = QLabel()
        self.details.setWordWrap(True)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.details.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.files = QTreeWidget()
        self.files.setRootIsDecorated(False)
        self.files.setHeaderLabels(
            [
                self.tr("File"),
                self.tr("Quantization"),
                self.tr("Size"),
                self.tr("Memory · speed here"),
                self.tr("On disk"),
            ]
        )
        self.files.headerItem().setToolTip(
            3,
            self.tr(
                "The memory the model would take and how fast it would answer on this computer, planned "
                "before the download. Marked when it would not fit or answer slower than one reads."
            ),
        )
        self.files.header().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.files.itemDoubleClicked.connect(lambda *_: self._request_download())
        self.download_button = QPushButton(self.tr("Download"))
        self.download_button.setDefault(True)
        self.download_button.clicked.connect(self._request_download)
        self.verify_button = QPushButton(self.tr("Verify files on disk"))
        self.verify_button.clicked.connect(lambda: self.verify_requested.emit(self.selected_repo()))
        self.verify_result = QLabel()
        self.verify_result.setWordWrap(True)
        self.merge_button = QPushButton(self.tr("Merge with LLaMA weights…"))
        self.merge_button.clicked.connect(lambda: self.merge_requested.emit(self.selected_repo()))
        self.merge_button.hide()
        self.drafter_button = QPushButton(self.tr("Speed up with the 1.3B model"))
        self.drafter_button.setToolTip(
            self.tr(
                "Download the 1.3B model of the same family and make it the draft model: it guesses the "
                "next tokens and this model checks them, the same text, often faster."
            )
        )
        self.drafter_button.clicked.connect(self._request_drafter)
        self.drafter_button.hide()
        self.drafter_note = QLabel()
        self.drafter_note.setWordWrap(True)

        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(self.details)
        right_layout.addWidget(self.files, 1)
        entry_buttons = QHBoxLayout()
        entry_buttons.addWidget(self.verify_result, 1)
        entry_buttons.addWidget(self.verify_button)
        entry_buttons.addWidget(self.download_button)
        right_layout.addLayout(entry_buttons)
        merge_row = QHBoxLayout()
        merge_row.addWidget(self.drafter_note, 1)
        merge_row.addWidget(self.drafter_button)
        merge_row.addWidget(self.merge_button)
        right_layout.addLayout(merge_row)
        top = QSplitter(Qt.Orientation.Horizontal)
        top.addWidget(self.catalogue)
        top.addWidget(right)
        top.setSizes([650, 350])

        self.downloads = QTreeWidget()
        self.downloads.setRootIsDecorated(False)
        self.downloads.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.downloads.setHeaderLabels(
            [self.tr("Download"), self.tr("Progress"), self.tr("Speed"), self.tr("Time left"), self.tr("State")]
        )
        self.downloads.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.downloads.currentItemChanged.connect(lambda *_: self._update_buttons())
        self.pause_button = QPushButton(self.tr("Pause"))
        self.resume_button = QPushButton(self.tr("Resume"))
        self.cancel_button = QPushButton(self.tr("Cancel"))
        self.open_button = QPushButton(self.tr("Chat with it"))
        self.pause_button.clicked.connect(lambda: self._on_download_button(self.pause_requested))
        self.resume_button.clicked.connect(lambda: self._on_download_button(self.resume_requested))
        self.cancel_button.clicked.connect(lambda: self._on_download_button(self.cancel_requested))
        self.open_button.clicked.connect(lambda: self._on_download_button(self.open_requested))
        self.download_error = QLabel()
        self.download_error.setWordWrap(True)
        self.download_error.setObjectName("downloadError")
        colour_text(self.download_error, "error_text")
        buttons = QHBoxLayout()
        buttons.addWidget(self.download_error, 1)
        for button in (self.pause_button, self.resume_button, self.cancel_button, self.open_button):
            buttons.addWidget(button)
        bottom = QWidget()
        bottom_layout = QVBoxLayout(bottom)
        bottom_layout.setContentsMargins(0, 0, 0, 0)
        bottom_layout.addWidget(QLabel(self.tr("<b>Downloads</b>")))
        bottom_layout.addWidget(self.downloads, 1)
        bottom_layout.addLayout(buttons)

        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(top)
        splitter.addWidget(bottom)
        splitter.setSizes([470, 250])

        search_row = QHBoxLayout()
        search_row.addWidget(self.search, 1)
        search_row.addWidget(search_button)
        search_row.addWidget(settings_button)
        layout = QVBoxLayout(self)
        layout.addLayout(search_row)
        layout.addWidget(self.source_label)
        layout.addWidget(self.recommendation_label)
        layout.addWidget(splitter, 1)
        self._rows: dict[str, QTreeWidgetItem] = {}
        self._download_rows: dict[int, tuple[QTreeWidgetItem, QProgressBar, Any]] = {}
        self._update_buttons()

    # -- the catalogue -----------------------------------------------------------------------------

    def set_source(self, text: str) -> None:
        """Where the catalogue comes from (the snapshot, offline; or the hub)."""
        self.source_label.setText(text)
        self._fit_top_labels()

    def set_recommendation(self, text: str) -> None:
        """The "recommended for this computer" line."""
        self.recommendation_label.setText(text)
        self.recommendation_label.setVisible(bool(text))
        self._fit_top_labels()

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        self._fit_top_labels()

    def _fit_top_labels(self) -> None:
        # In a short window the layout squeezed these wrapped lines below the height their text
        # needs, and they were drawn cut off (the ★ line at 800 x 600 in Chinese): the lists below
        # give way instead.
        margins = self.layout().contentsMargins()
        width = max(1, self.width() - margins.left() - margins.right())
        for label in (self.source_label, self.recommendation_label):
            label.setMinimumHeight(label.heightForWidth(width) if label.text() else 0)

    def set_entries(self, rows: list[tuple[str, list[str]]], *, keep: str = "") -> None:
        """Fill the catalogue: (repo, [model, kind, size, context, on disk]) rows."""
        current = keep or self.selected_repo()
        self.catalogue.clear()
        self._rows = {}
        for repo, texts in rows:
            item = QTreeWidgetItem(texts)
            item.setData(0, REPO_ROLE, repo)
            item.setToolTip(0, repo)
            self.catalogue.addTopLevelItem(item)
            self._rows[repo] = item
        for column in range(2, 5):
            self.catalogue.resizeColumnToContents(column)
        if current in self._rows:
            self.catalogue.setCurrentItem(self._rows[current])

    def selected_repo(self) -> str:
        """The repository chosen in the catalogue, or ""."""
        item = self.catalogue.currentItem()
        return str(item.data(0, REPO_ROLE)) if item is not None else ""

    def select_repo(self, repo: str) -> None:
        """Choose ``repo`` in the catalogue."""
        if repo in self._rows:
            self.catalogue.setCurrentItem(self._rows[repo])

    def set_details(self, html: str, files: list[tuple[str, list[str], bool, str]], *, download_label: str) -> None:
        """The chosen entry: a description and its files ((name, [texts], recommended, plan tooltip) rows)."""
        self.details.setText(html)
        self.verify_result.clear()
        self.files.clear()
        for name, texts, recommended, plan_tip in files:
            item = QTreeWidgetItem(texts)
            item.setData(0, FILE_ROLE, name)
            if plan_tip:
                item.setToolTip(3, plan_tip)
            if recommended:
                font = item.font(0)
                font.setBold(True)
                for column in range(len(texts)):
                    item.setFont(column, font)
            self.files.addTopLevelItem(item)
            if recommended:
                self.files.setCurrentItem(item)
        for column in range(1, 5):
            self.files.resizeColumnToContents(column)
        if self.files.currentItem() is None and self.files.topLevelItemCount():
            self.files.setCurrentItem(self.files.topLevelItem(0))
        self.download_button.setText(download_label)

    def set_merge(self, *, shown: bool, enabled: bool) -> None:
        """ "Merge with LLaMA weights…" for a LoRA entry (enabled once its files are on disk)."""
        self.merge_button.setVisible(shown)
        self.merge_button.setEnabled(enabled)

    def set_drafter(self, *, shown: bool) -> None:
        """ "Speed up with the 1.3B model" for an entry that a 1.3B model drafts for."""
        self.drafter_button.setVisible(shown)

    def show_drafter_note(self, text: str) -> None:
        """What became of "Speed up with the 1.3B model" (downloading, chosen as the draft model)."""
        self.drafter_note.setText(text)

    def _request_drafter(self) -> None:
        item = self.files.currentItem()
        name = str(item.data(0, FILE_ROLE) or "") if item is not None else ""
        self.drafter_requested.emit(self.selected_repo(), name)

    def select_file(self, name: str) -> None:
        """Choose the file ``name``."""
        for index in range(self.files.topLevelItemCount()):
            item = self.files.topLevelItem(index)
            if item.data(0, FILE_ROLE) == name:
                self.files.setCurrentItem(item)

    def _on_entry(self, current: QTreeWidgetItem | None, _previous: object) -> None:
        if current is not None:
            self.entry_selected.emit(str(current.data(0, REPO_ROLE)))

    def _request_download(self) -> None:
        repo = self.selected_repo()
        if not repo:
            return
        item = self.files.currentItem()
        name = str(item.data(0, FILE_ROLE)) if item is not None and self.files.topLevelItemCount() else ""
        self.download_requested.emit(repo, name)

    # -- the downloads -----------------------------------------------------------------------------

    def show_download(self, download: Any, texts: list[str], *, percent: int, busy: bool, error: str) -> None:
        """Add or update the row of ``download``: [name, speed, time left, state] texts."""
        key = id(download)
        row = self._download_rows.get(key)
        if row is None:
            item = QTreeWidgetItem([texts[0], "", texts[1], texts[2], texts[3]])
            bar = QProgressBar()
            bar.setRange(0, 1000)
            self.downloads.addTopLevelItem(item)
            self.downloads.setItemWidget(item, 1, bar)
            self._download_rows[key] = (item, bar, download)
            if self.downloads.currentItem() is None:
                self.downloads.setCurrentItem(item)
        else:
            item, bar, _ = row
            for column, text in zip((0, 2, 3, 4), texts, strict=True):
                item.setText(column, text)
        bar.setRange(0, 0 if busy else 1000)
        bar.setValue(percent)
        item.setToolTip(4, error)
        self._update_buttons()

    def remove_download(self, download: Any) -> None:
        """Take ``download``'s row away."""
        row = self._download_rows.pop(id(download), None)
        if row is not None:
            index = self.downloads.indexOfTopLevelItem(row[0])
            self.downloads.takeTopLevelItem(index)
        self._update_buttons()

    def selected_download(self) -> Any:
        """The :class:`~app.controllers.downloads.Download` chosen in the list, or None."""
        current = self.downloads.currentItem()
        for item, _bar, download in self._download_rows.values():
            if item is current:
                return download
        return None

    def select_download(self, download: Any) -> None:
        """Choose ``download`` in the list."""
        row = self._download_rows.get(id(download))
        if row is not None:
            self.downloads.setCurrentItem(row[0])

    def progress_value(self, download: Any) -> int:
        """The progress bar's value (per mille) of ``download`` (tests)."""
        row = self._download_rows.get(id(download))
        return row[1].value() if row is not None else -1

    def _on_download_button(self, signal: Any) -> None:
        download = self.selected_download()
        if download is not None:
            signal.emit(download)

    def _update_buttons(self) -> None:
        download = self.selected_download()
        state = getattr(download, "state", "")
        self.pause_button.setEnabled(state in ("queued", "running"))
        self.resume_button.setEnabled(state in ("paused", "failed"))
        self.cancel_button.setEnabled(state in ("queued", "running", "paused", "failed"))
        self.open_button.setEnabled(state == "done")
        kind = getattr(download, "kind", "gguf")
        self.open_button.setText(
            self.tr("Chat with it")
            if kind == "gguf"
            else self.tr("Merge with LLaMA weights…")
            if kind == "lora"
            else self.tr("Convert to GGUF…")
        )
        self.download_error.setText(getattr(download, "error", "") or "")
