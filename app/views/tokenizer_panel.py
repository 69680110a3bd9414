"""The tokenizer panel: how many tokens a text takes under each tokenizer (paper section 4.2).

LLaMA's 32,000 pieces know few Chinese characters, so Chinese text falls back to byte pieces;
the Chinese-LLaMA vocabulary (49,953) needs about half the tokens. The panel shows that live
for the text being typed (or a message), side by side, with the pieces highlighted.
"""

from __future__ import annotations

import html
import logging
from dataclasses import dataclass
from typing import Any

import shiboken6
from PySide6.QtCore import Qt, QThreadPool, QTimer, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMenu,
    QTableWidget,
    QTableWidgetItem,
    QTextBrowser,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.messages import error_text
from app.tasks import run_task
from app.theme import Colours, colour_text, follow_scheme
from runtime import tokens as tk

log = logging.getLogger(__name__)

DEBOUNCE_MS = 250
# The highlighted view shows at most this many characters: rendering every piece of a 1 MB
# paste would block the GUI thread; the counts above it always cover the whole text.
PREVIEW_CHARS = 2000
DEFAULT_TOKENIZERS = ("llama", "chinese-llama")


@dataclass
class _Entry:
    key: str  # a built-in name or a file path
    tokenizer: Any  # runtime.tokens.LoadedTokenizer


class TokenizerPanel(QWidget):
    """Side panel comparing token counts of the current text under several tokenizers.

    Signals:
        updated(list): a comparison finished; the list of ``runtime.tokens.TokenCount``.
    """

    updated = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("tokenizerPanel")
        self.setMinimumWidth(340)
        self._entries: list[_Entry] = []
        self._text = ""
        self._generation = 0
        self._n_ctx = 2048
        self._model_path: str | None = None
        self._last_counts: list[Any] = []
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(DEBOUNCE_MS)
        self._timer.timeout.connect(self._recount)
        self._defaults_added = False
        self._requested: list[str] = []
        self._preview = ""
        self._build()
        follow_scheme(self, self._colour_pieces)

    def showEvent(self, event: Any) -> None:
        """Load the default tokenizers the first time the panel is shown, not at start-up."""
        if not self._defaults_added:
            self._defaults_added = True
            for name in DEFAULT_TOKENIZERS:
                self.add_tokenizer(name)
        super().showEvent(event)

    # -- layout ------------------------------------------------------------------------------

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        header = QHBoxLayout()
        title = QLabel(self.tr("Tokenizers"))
        title.setObjectName("roleLabel")
        header.addWidget(title, 1)
        self.add_button = QToolButton()
        self.add_button.setText(self.tr("Add…"))
        self.add_button.setToolTip(self.tr("Compare with another tokenizer"))
        self.add_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.add_menu = QMenu(self.add_button)
        self.add_menu.aboutToShow.connect(self._fill_add_menu)
        self.add_button.setMenu(self.add_menu)
        header.addWidget(self.add_button)
        layout.addLayout(header)

        self.table = QTableWidget(0, 5)
        self.table.setHorizontalHeaderLabels(
            [self.tr("Tokenizer"), self.tr("Tokens"), self.tr("Chars/token"), self.tr("Bytes"), self.tr("Ratio")]
        )
        self.table.horizontalHeaderItem(3).setToolTip(
            self.tr("Pieces like <0xE5> that spell a character byte by byte because the vocabulary lacks it")
        )
        self.table.horizontalHeaderItem(4).setToolTip(self.tr("Tokens relative to the first tokenizer"))
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.setWordWrap(False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        for column in range(1, 5):
            self.table.horizontalHeader().setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._table_menu)
        layout.addWidget(self.table)

        self.capacity_label = QLabel()
        self.capacity_label.setWordWrap(True)
        layout.addWidget(self.capacity_label)
        self.prompt_label = QLabel()
        self.prompt_label.setWordWrap(True)
        self.prompt_label.setObjectName("detailLabel")
        layout.addWidget(self.prompt_label)
        self.error_label = QLabel()
        self.error_label.setWordWrap(True)
        colour_text(self.error_label, "error_text")
        self.error_label.hide()
        layout.addWidget(self.error_label)
        self.error_button = QToolButton()
        self.error_button.setText(self.tr("Open a tokenizer file…"))
        self.error_button.clicked.connect(self._choose_file)
        self.error_button.hide()
        # Shown only for a known tokenizer that is missing: the hub is contacted only on this click.
        self.fetch_button = QToolButton()
        self.fetch_button.setText(self.tr("Fetch it from the Hugging Face hub"))
        self.fetch_button.clicked.connect(self._fetch_missing)
        self.fetch_button.hide()
        self._missing_key: str | None = None
        error_buttons = QHBoxLayout()
        error_buttons.addWidget(self.error_button)
        error_buttons.addWidget(self.fetch_button)
        error_buttons.addStretch(1)
        layout.addLayout(error_buttons)

        pieces_row = QHBoxLayout()
        pieces_row.addWidget(QLabel(self.tr("Pieces of:")))
        self.pieces_choice = QComboBox()
        self.pieces_choice.currentIndexChanged.connect(lambda _i: self._schedule())
        pieces_row.addWidget(self.pieces_choice, 1)
        layout.addLayout(pieces_row)
        self.pieces_view = QTextBrowser()
        self.pieces_view.setObjectName("piecesView")
        self.pieces_view.setOpenLinks(False)
        self.pieces_view.setPlaceholderText(self.tr("Type or paste text in the message box to see its tokens."))
        layout.addWidget(self.pieces_view, 1)
        self.bos_note = QLabel(self.tr("Counts exclude the beginning-of-text token <s> that a prompt adds once."))
        self.bos_note.setTextFormat(Qt.TextFormat.PlainText)  # "<s>" is text here, not a tag
        self.bos_note.setWordWrap(True)
        self.bos_note.setObjectName("detailLabel")
        layout.addWidget(self.bos_note)

    # -- public API --------------------------------------------------------------------------

    def tokenizer_keys(self) -> list[str]:
        """Names or paths of the tokenizers compared, in order."""
        return [entry.key for entry in self._entries]

    def counts(self) -> list[Any]:
        """The last comparison (``TokenCount`` per tokenizer)."""
        return list(self._last_counts)

    def set_text(self, text: str) -> None:
        """Count ``text`` (debounced, off the GUI thread)."""
        if text == self._text:
            return
        self._text = text
        self._schedule()

    def set_model(self, path: str | None, n_ctx: int) -> None:
        """The loaded model, whose own vocabulary can be added, and its context size."""
        self._model_path = path
        self._n_ctx = n_ctx or 2048
        self._show_capacity()

    def set_prompt_count(self, n_tokens: int | None, n_ctx: int) -> None:
        """The whole prompt of the current conversation, as the model's tokenizer counts it."""
        if n_tokens is None:
            self.prompt_label.setText("")
            return
        self.prompt_label.setText(
            self.tr("This conversation's prompt (template included): {0} of {1} tokens, as the model counts.").format(
                n_tokens, n_ctx
            )
        )

    def add_tokenizer(self, key: str, *, fetch: bool = False) -> None:
        """Resolve and load a tokenizer off the GUI thread; a failure is shown in the panel.

        The known tokenizers ship with the app, so this works offline and sends nothing. A file the
        user picked is first opened in a separate process (the ``tokenizer-check`` job):
        sentencepiece can crash the whole process on a malformed model.

        Args:
            key: A known tokenizer's name, or a path.
            fetch: Fetch a known tokenizer's ``tokenizer.model`` from the Hugging Face hub; only
                when the user asked for it (the panel's fetch button).
        """
        if key in self.tokenizer_keys():
            return
        if key not in self._requested:
            self._requested.append(key)

        def work() -> Any:
            spec = tk.fetch_tokenizer(key) if fetch else tk.resolve_tokenizer(key)
            if spec.kind != "builtin" and not getattr(spec, "trusted", False):
                _check_in_child(spec.path)
            return tk.load_tokenizer(spec)

        def done(result: Any, error: BaseException | None) -> None:
            if not shiboken6.isValid(self.pieces_choice):
                return  # the window closed while the tokenizer loaded
            if error is not None:
                missing = isinstance(error, tk.TokenizerError) and error.code == "tokenizer_missing"
                self._show_error(error_text(error), missing_key=key if missing else None)
                return
            if key in self.tokenizer_keys():
                return
            # Tokenizers load in parallel; keep the order they were asked for (the first one is
            # the reference of the ratio column).
            rank = self._requested.index(key)
            index = sum(1 for entry in self._entries if self._requested.index(entry.key) < rank)
            self._entries.insert(index, _Entry(key, result))
            self.pieces_choice.insertItem(index, result.spec.label, key)
            if index == 0:
                self.pieces_choice.setCurrentIndex(0)
            self._schedule()

        run_task(work, done, pool=_panel_pool())

    def remove_tokenizer(self, key: str) -> None:
        """Stop comparing with this tokenizer."""
        self._entries = [e for e in self._entries if e.key != key]
        self._requested = [k for k in self._requested if k != key]
        index = self.pieces_choice.findData(key)
        if index >= 0:
            self.pieces_choice.removeItem(index)
        self._schedule()

    # -- counting ------------------------------------------------------------------------------

    def _schedule(self) -> None:
        self._timer.start()

    def _recount(self) -> None:
        self._generation += 1
        generation = self._generation
        text = self._text
        tokenizers = [entry.tokenizer for entry in self._entries]
        shown_key = self.pieces_choice.currentData()
        shown = next((e.tokenizer for e in self._entries if e.key == shown_key), None)
        if not text or not tokenizers:
            self._apply(generation, ([], ""), None)
            return

        def work() -> tuple[list[Any], str]:
            counts = tk.compare(text, tokenizers)
            preview = _pieces_html(shown, text[:PREVIEW_CHARS]) if shown is not None else ""
            if len(text) > PREVIEW_CHARS and preview:
                preview += "<p><i>" + html.escape(self._more_text(len(text))) + "</i></p>"
            return counts, preview

        run_task(work, lambda result, error: self._apply(generation, result, error), pool=_panel_pool())

    def _more_text(self, total: int) -> str:
        return self.tr("Showing the first {0} of {1} characters; the counts cover all of them.").format(
            f"{PREVIEW_CHARS:,}", f"{total:,}"
        )

    def _apply(self, generation: int, result: Any, error: BaseException | None) -> None:
        if generation != self._generation:
            return  # a newer text is being counted; this result is stale
        if error is not None:
            self._show_error(error_text(error))
            return
        counts, preview = result
        self.error_label.hide()
        self.error_button.hide()
        self.fetch_button.hide()
        self._last_counts = counts
        self.table.setRowCount(len(counts))
        for row, count in enumerate(counts):
            values = [
                count.label,
                f"{count.n_tokens:,}",
                f"{count.chars_per_token:.2f}",
                f"{count.byte_fallback:,}",
                f"{count.ratio_to_first:.2f}×",
            ]
            for column, value in enumerate(values):
                item = QTableWidgetItem(value)
                if column:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(row, column, item)
        self._fit_table_height()
        self._preview = preview
        self.pieces_view.setHtml(preview)
        self._show_capacity()
        self.updated.emit(counts)

    def _colour_pieces(self, scheme: Colours) -> None:
        """The pieces' backgrounds in ``scheme`` (set again on a live change of scheme)."""
        first, second = scheme.pieces
        self.pieces_view.document().setDefaultStyleSheet(
            f".piece0 {{ background-color: {first}; }} .piece1 {{ background-color: {second}; }} "
            f".bytePiece {{ background-color: {scheme.byte_piece}; }}"
        )
        if self._preview:
            self.pieces_view.setHtml(self._preview)

    def _fit_table_height(self) -> None:
        rows = sum(self.table.rowHeight(row) for row in range(self.table.rowCount()))
        frame = 2 * self.table.frameWidth()
        self.table.setFixedHeight(self.table.horizontalHeader().height() + max(rows, 24) + frame)

    def _show_capacity(self) -> None:
        counts = self._last_counts
        if len(counts) < 2 or not counts[0].n_tokens:
            self.capacity_label.setText("")
            return
        first, second = counts[0], counts[1]
        self.capacity_label.setText(
            self.tr(
                "A {n_ctx}-token context holds about {a} characters of this kind of text under {first} "
                "and {b} under {second}."
            ).format(
                n_ctx=f"{self._n_ctx:,}",
                a=f"{tk.context_capacity(first, self._n_ctx):,}",
                first=first.label,
                b=f"{tk.context_capacity(second, self._n_ctx):,}",
                second=second.label,
            )
        )

    def _show_error(self, message: str, *, missing_key: str | None = None) -> None:
        self.error_label.setText(message)
        self.error_label.show()
        self.error_button.show()  # the fix for a missing or broken tokenizer is one click away
        self._missing_key = missing_key
        self.fetch_button.setVisible(missing_key is not None)

    def _fetch_missing(self) -> None:
        key = self._missing_key
        if key is None:
            return
        self.fetch_button.hide()
        self.add_tokenizer(key, fetch=True)

    # -- menus -------------------------------------------------------------------------------

    def _fill_add_menu(self) -> None:
        self.add_menu.clear()
        choices = [
            ("llama", self.tr("Original LLaMA (32,000)")),
            ("chinese-llama", self.tr("Chinese-LLaMA (49,953)")),
            ("chinese-llama-2", self.tr("Chinese-LLaMA-2 (55,296)")),
        ]
        for key, label in choices:
            action = self.add_menu.addAction(label)
            action.setEnabled(key not in self.tokenizer_keys())
            action.triggered.connect(lambda _c=False, k=key: self.add_tokenizer(k))
        model = QAction(self.tr("The loaded model's vocabulary"), self.add_menu)
        model.setEnabled(bool(self._model_path) and self._model_path not in self.tokenizer_keys())
        model.triggered.connect(lambda: self._model_path and self.add_tokenizer(self._model_path))
        self.add_menu.addAction(model)
        self.add_menu.addSeparator()
        pick = self.add_menu.addAction(self.tr("From a file (tokenizer.model, folder or GGUF)…"))
        pick.triggered.connect(self._choose_file)

    def _choose_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self,
            self.tr("Choose a tokenizer"),
            "",
            self.tr("Tokenizers (*.model *.gguf tokenizer_config.json);;All files (*)"),
        )
        if path:
            if path.endswith("tokenizer_config.json"):
                path = path.rsplit("/", 1)[0]
            self.add_tokenizer(path)

    def _table_menu(self, position: Any) -> None:
        row = self.table.rowAt(position.y())
        if row < 0 or row >= len(self._entries):
            return
        key = self._entries[row].key
        menu = QMenu(self)
        remove = menu.addAction(self.tr("Remove from the comparison"))
        remove.triggered.connect(lambda: self.remove_tokenizer(key))
        menu.exec(self.table.viewport().mapToGlobal(position))


_POOL: list[QThreadPool] = []


def _panel_pool() -> QThreadPool:
    """The panel's own threads: on a 2-core laptop the shared pool has two, and a slow hub request
    in each would leave a tokenizer the user chose, or a count, waiting behind them. Not owned by
    a panel, so that closing one never waits on the GUI thread for a count to end."""
    if not _POOL:
        pool = QThreadPool()
        pool.setMaxThreadCount(2)
        _POOL.append(pool)
    return _POOL[0]


def _check_in_child(path: str) -> None:
    """Open an untrusted tokenizer file in a job process first; raises its error if it fails."""
    from runtime import jobs

    job = jobs.JobProcess(jobs.build_command("tokenizer-check", path=path))
    job.start()
    outcome = job.wait()
    if not outcome.ok:
        raise tk.TokenizerError(
            outcome.error or f"{path} could not be opened as a tokenizer.",
            code="tokenizer_unusable",
            params={"path": path},
        )


def _pieces_html(tokenizer: Any, text: str) -> str:
    """The text with each token's span on an alternating background; byte pieces in red."""
    segmentation = tokenizer.segment(text)
    parts: list[str] = []
    position = 0
    previous_span: tuple[int, int] | None = None
    for index, (token_id, piece, span) in enumerate(
        zip(segmentation.ids, segmentation.pieces, segmentation.spans, strict=False)
    ):
        start, end = span
        if span == previous_span:
            continue  # further byte pieces of the same character
        previous_span = span
        if start > position:
            parts.append(html.escape(text[position:start]))
        is_byte = piece.startswith("<0x") and piece.endswith(">")
        # Classes, not colours: the panel's style sheet gives them the current scheme's colours.
        kind = "bytePiece" if is_byte else f"piece{index % 2}"
        tip = html.escape(f"#{token_id} {piece}", quote=True)
        body = html.escape(text[start:end]).replace("\n", "↵<br>")
        parts.append(f'<span class="{kind}" title="{tip}">{body}</span>')
        position = max(position, end)
    if position < len(text):
        parts.append(html.escape(text[position:]))
    return "<div style='line-height:160%'>" + "".join(parts) + "</div>"
