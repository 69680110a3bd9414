"""The main window and the controller logic that ties the views, the store and the host together."""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from app.i18n import LANGUAGES, install_translators
from app.inference_client import InferenceClient
from app.messages import error_text
from app.tasks import run_task
from app.views.chat_view import ChatInput, ChatView
from app.views.conversation_list import ConversationListView
from app.views.decoding_panel import DecodingPanel
from app.views.tokenizer_panel import TokenizerPanel
from runtime.chat import templates
from runtime.errors import AppError, StoreError
from runtime.models import check_model_file, params_label
from runtime.paths import AppPaths, app_paths
from runtime.settings import Settings, load_settings, save_settings
from runtime.store import ConversationStore, Message

log = logging.getLogger(__name__)

# While an answer streams, its text is written to the store at least this often, so a crash
# loses at most this much of it.
STREAM_SAVE_INTERVAL_MS = 1000

STYLE_SHEET = """
#chatContent { background: palette(base); }
#userMessage { background: #eef3fb; border-radius: 8px; }
#assistantMessage { background: #f6f6f4; border-radius: 8px; }
#roleLabel { font-weight: 600; }
#detailLabel { color: #6b6b6b; font-size: 11px; }
#placeholder { color: #808080; font-size: 14px; }
#banner { background: #fff4d6; border: 1px solid #e6c877; border-radius: 6px; }
#banner[severity="error"] { background: #fde7e7; border-color: #e39a9a; }
"""


@dataclass
class AppContext:
    """What outlives a main window (a language switch rebuilds the window, not these)."""

    paths: AppPaths
    settings: Settings
    store: ConversationStore
    client: InferenceClient
    store_warning: str = ""

    @classmethod
    def open(cls, *, show_errors: bool = True) -> AppContext:
        """Open settings, the conversation store and start the inference host."""
        paths = app_paths().ensure()
        settings = load_settings(paths.settings_file)
        warning = ""
        try:
            store = ConversationStore(paths.conversations_db)
        except StoreError as exc:
            # Never overwrite the user's file: keep it for recovery and chat in a new one.
            fallback = paths.data / f"conversations-{time.strftime('%Y%m%d-%H%M%S')}.sqlite3"
            log.error("cannot open %s: %s; using %s", paths.conversations_db, exc, fallback)
            warning = error_text(exc)
            store = ConversationStore(fallback)
        client = InferenceClient()
        client.start()
        return cls(paths=paths, settings=settings, store=store, client=client, store_warning=warning)

    def save_settings(self) -> None:
        """Write the settings file (atomic)."""
        try:
            save_settings(self.settings, self.paths.settings_file)
        except OSError as exc:
            log.warning("could not save settings: %s", exc)

    def close(self) -> None:
        """End the host and close the store."""
        self.client.shutdown()
        self.store.close()


class Banner(QFrame):
    """A message strip above the conversation, with an optional action button."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("banner")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 6, 6)
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.action_button = QPushButton()
        self.close_button = QPushButton(self.tr("Dismiss"))
        self.close_button.clicked.connect(self.hide)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.action_button)
        layout.addWidget(self.close_button)
        self._action: Any = None
        self.action_button.clicked.connect(self._run_action)
        self.hide()

    def show_message(self, text: str, *, severity: str = "info", action: str = "", callback: Any = None) -> None:
        """Show ``text``; with ``action``, a button that calls ``callback`` and hides the banner."""
        self.setProperty("severity", severity)
        self.style().unpolish(self)
        self.style().polish(self)
        self.label.setText(text)
        self._action = callback
        self.action_button.setText(action)
        self.action_button.setVisible(bool(action))
        self.show()

    def _run_action(self) -> None:
        self.hide()
        if self._action is not None:
            self._action()


class MainWindow(QMainWindow):
    """Conversation list, chat, decoding panel; menus for models and conversations."""

    def __init__(self, context: AppContext) -> None:
        super().__init__()
        self.ctx = context
        self.client = context.client
        self.store = context.store
        self.setWindowTitle(self.tr("Alpaca Desk"))
        self.setStyleSheet(STYLE_SHEET)
        self.resize(1280, 800)

        self.conversation_id: int | None = None
        self._streaming_message_id: int | None = None
        self._editing_seq: int | None = None
        self._n_ctx_loaded = 0
        self._last_context_used = 0
        self._dropped_turns = 0
        self._loading_path = ""
        # The prompt preview re-renders the conversation: at most every 150 ms while typing.
        self._preview_timer = QTimer(self)
        self._preview_timer.setSingleShot(True)
        self._preview_timer.setInterval(150)
        self._preview_timer.timeout.connect(self._update_preview)
        self._save_timer = QTimer(self)
        self._save_timer.setInterval(STREAM_SAVE_INTERVAL_MS)
        self._save_timer.timeout.connect(self._save_stream)

        self._build_ui()
        self._build_menus()
        self._connect_client()
        self._restore_geometry()
        self.refresh_conversations()
        self.decoding.set_params(context.settings.decoding_params())
        if context.store_warning:
            self.banner.show_message(
                self.tr(
                    "Your conversation file could not be opened and was left untouched; "
                    "new chats go to a new file. Details: {0}"
                ).format(context.store_warning),
                severity="error",
            )
        info = self.client.model_info
        if info:
            self._on_loaded(info)
        self._on_loading(self.client.is_loading)

    # -- construction ------------------------------------------------------------------------

    def _build_ui(self) -> None:
        self.conversations = ConversationListView()
        self.chat = ChatView()
        self.input = ChatInput()
        self.banner = Banner()
        self.decoding = DecodingPanel()
        self.tokenizer_panel = TokenizerPanel()

        self.send_button = QPushButton(self.tr("Send"))
        self.send_button.setDefault(True)
        self.stop_button = QPushButton(self.tr("Stop"))
        self.edit_label = QLabel()
        self.edit_label.setObjectName("detailLabel")
        self.edit_label.hide()

        column = QWidget()
        column_layout = QVBoxLayout(column)
        column_layout.setContentsMargins(0, 0, 0, 0)
        column_layout.addWidget(self.banner)
        column_layout.addWidget(self.chat, 1)
        column_layout.addWidget(self.edit_label)
        input_row = QHBoxLayout()
        input_row.addWidget(self.input, 1)
        buttons = QVBoxLayout()
        buttons.addWidget(self.send_button)
        buttons.addWidget(self.stop_button)
        buttons.addStretch(1)
        input_row.addLayout(buttons)
        column_layout.addLayout(input_row)

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.conversations)
        self.splitter.addWidget(column)
        self.splitter.addWidget(self.decoding)
        self.splitter.addWidget(self.tokenizer_panel)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setStretchFactor(2, 0)
        self.splitter.setStretchFactor(3, 0)
        self.splitter.setSizes([230, 700, 320, 400])
        self.setCentralWidget(self.splitter)
        self.decoding.setVisible(self.ctx.settings.show_decoding_panel)
        self.tokenizer_panel.setVisible(self.ctx.settings.show_tokenizer_panel)

        status = self.statusBar()
        self.model_label = QLabel(self.tr("No model loaded"))
        self.busy_bar = QProgressBar()
        self.busy_bar.setRange(0, 0)
        self.busy_bar.setMaximumWidth(120)
        self.busy_bar.hide()
        self.cancel_load_button = QPushButton(self.tr("Cancel loading"))
        self.cancel_load_button.hide()
        self.context_label = QLabel()
        self.speed_label = QLabel()
        status.addWidget(self.model_label, 1)
        status.addWidget(self.busy_bar)
        status.addWidget(self.cancel_load_button)
        status.addPermanentWidget(self.context_label)
        status.addPermanentWidget(self.speed_label)

        self.input.send_requested.connect(self.send)
        self.input.escape_pressed.connect(self.cancel_edit)
        self.input.textChanged.connect(self._preview_timer.start)
        self.input.textChanged.connect(self._count_draft)
        self.chat.message_activated.connect(self.tokenizer_panel.set_text)
        self.send_button.clicked.connect(self.send)
        self.stop_button.clicked.connect(self.stop)
        self.cancel_load_button.clicked.connect(self.cancel_load)
        self.chat.edit_requested.connect(self.edit_message)
        self.chat.regenerate_requested.connect(self.regenerate)
        self.conversations.new_requested.connect(self.new_conversation)
        self.conversations.selected.connect(self.open_conversation)
        self.conversations.rename_requested.connect(self.rename_conversation)
        self.conversations.delete_requested.connect(self.delete_conversation)
        self.conversations.export_requested.connect(self.export_conversation)
        self.conversations.import_requested.connect(self.import_conversation)
        self.conversations.search_changed.connect(lambda _text: self.refresh_conversations())
        self.decoding.params_changed.connect(self._on_params_changed)
        self.decoding.template_changed.connect(self._on_template_changed)
        self.decoding.system_prompt_changed.connect(self._on_system_changed)

    def _build_menus(self) -> None:
        bar = self.menuBar()
        model_menu = bar.addMenu(self.tr("&Model"))
        open_action = model_menu.addAction(self.tr("&Open model file…"))
        open_action.setShortcut(QKeySequence.StandardKey.Open)
        open_action.triggered.connect(self.choose_model)
        self.recent_menu = model_menu.addMenu(self.tr("Recent models"))
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        self.unload_action = model_menu.addAction(self.tr("&Unload model"))
        self.unload_action.triggered.connect(self.unload_model)
        model_menu.addSeparator()
        quit_action = model_menu.addAction(self.tr("&Quit"))
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)

        chat_menu = bar.addMenu(self.tr("&Conversation"))
        new_action = chat_menu.addAction(self.tr("&New conversation"))
        new_action.setShortcut(QKeySequence.StandardKey.New)
        new_action.triggered.connect(self.new_conversation)
        export_md = chat_menu.addAction(self.tr("Export as &Markdown…"))
        export_md.triggered.connect(lambda: self._export_current("markdown"))
        export_json = chat_menu.addAction(self.tr("Export as &JSON…"))
        export_json.triggered.connect(lambda: self._export_current("json"))
        import_action = chat_menu.addAction(self.tr("&Import from JSON…"))
        import_action.triggered.connect(self.import_conversation)

        view_menu = bar.addMenu(self.tr("&View"))
        self.panel_action = view_menu.addAction(self.tr("&Decoding panel"))
        self.panel_action.setCheckable(True)
        self.panel_action.setChecked(self.ctx.settings.show_decoding_panel)
        self.panel_action.toggled.connect(self._toggle_panel)
        self.tokens_action = view_menu.addAction(self.tr("&Tokenizer panel"))
        self.tokens_action.setCheckable(True)
        self.tokens_action.setChecked(self.ctx.settings.show_tokenizer_panel)
        self.tokens_action.toggled.connect(self._toggle_tokenizer_panel)

        tools_menu = bar.addMenu(self.tr("&Tools"))
        vocab_action = tools_menu.addAction(self.tr("&Extend a vocabulary…"))
        vocab_action.triggered.connect(self.open_vocab_tool)

        settings_menu = bar.addMenu(self.tr("&Settings"))
        language_menu = settings_menu.addMenu(self.tr("&Language"))
        group = QActionGroup(self)
        self._language_actions: dict[str, QAction] = {}
        choices = [("system", self.tr("System language"))] + list(LANGUAGES.items())
        for code, label in choices:
            action = QAction(label, self, checkable=True)
            action.setChecked(self.ctx.settings.language == code)
            action.triggered.connect(lambda _checked=False, c=code: self.set_language(c))
            group.addAction(action)
            language_menu.addAction(action)
            self._language_actions[code] = action

        help_menu = bar.addMenu(self.tr("&Help"))
        about = help_menu.addAction(self.tr("&About Alpaca Desk"))
        about.triggered.connect(self.about)

    def _connect_client(self) -> None:
        self.client.loading.connect(self._on_loading)
        self.client.loaded.connect(self._on_loaded)
        self.client.unloaded.connect(self._on_unloaded)
        self.client.prompt_ready.connect(self._on_prompt_ready)
        self.client.token.connect(self._on_token)
        self.client.finished.connect(self._on_finished)
        self.client.failed.connect(self._on_failed)
        self.client.host_died.connect(self._on_host_died)
        self.client.counted.connect(self._on_counted)

    def _qsettings(self) -> QSettings:
        """Window geometry and splitter state, kept in the app's own config folder (so that
        ``--data-dir`` and tests never touch the user's)."""
        return QSettings(str(self.ctx.paths.config / "window.ini"), QSettings.Format.IniFormat)

    def _restore_geometry(self) -> None:
        qsettings = self._qsettings()
        geometry = qsettings.value("window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        sizes = qsettings.value("window/splitter")
        if sizes is not None:
            self.splitter.restoreState(sizes)

    # -- models ------------------------------------------------------------------------------

    def choose_model(self) -> None:
        """Ask for a .gguf file and load it."""
        start = str(self.ctx.paths.models)
        if self.ctx.settings.recent_models:
            start = str(Path(self.ctx.settings.recent_models[0]).parent)
        path, _ = QFileDialog.getOpenFileName(
            self, self.tr("Open a GGUF model"), start, self.tr("GGUF models (*.gguf);;All files (*)")
        )
        if path:
            self.open_model(path)

    def open_model(self, path: str) -> None:
        """Load ``path`` in the host; a bad file gets a message and changes nothing else."""
        try:
            check_model_file(path)  # reads 4 bytes: quick enough for the GUI thread
        except AppError as exc:
            self.show_error(error_text(exc))
            return
        if self.client.is_generating:
            self.stop()
        self._loading_path = path
        self.client.load(
            path,
            n_ctx=self.decoding.params().n_ctx,
            n_threads=self.ctx.settings.n_threads,
            n_gpu_layers=self.ctx.settings.n_gpu_layers,
        )
        self.model_label.setText(self.tr("Loading {0}…").format(Path(path).name))

    def cancel_load(self) -> None:
        """Abandon the model being loaded."""
        self.client.cancel_load()
        self.model_label.setText(self.tr("Loading cancelled. No model loaded"))

    def unload_model(self) -> None:
        """Release the model's memory."""
        if self.client.is_generating:
            self.stop()
        self.client.unload()
        self._on_unloaded()

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        recent = self.ctx.settings.recent_models
        if not recent:
            empty = self.recent_menu.addAction(self.tr("(none yet)"))
            empty.setEnabled(False)
            return
        for path in recent:
            action = self.recent_menu.addAction(Path(path).name)
            action.setToolTip(path)
            action.setStatusTip(path)
            action.triggered.connect(lambda _checked=False, p=path: self.open_model(p))

    def _on_loading(self, busy: bool) -> None:
        self.busy_bar.setVisible(busy)
        self.cancel_load_button.setVisible(busy)
        self._update_controls()

    def _on_loaded(self, info: dict[str, Any]) -> None:
        self._n_ctx_loaded = int(info.get("n_ctx") or 0)
        self.ctx.settings.add_recent_model(info["path"])
        self.ctx.save_settings()
        auto = templates.choose_template(
            vocab_size=info.get("vocab_size"),
            name=f"{info.get('name', '')} {info.get('file_name', '')}",
            has_chat_template=bool(info.get("has_chat_template")),
        )
        self.decoding.set_auto_template(auto)
        self.tokenizer_panel.set_model(info.get("path"), self._n_ctx_loaded)
        self.decoding.set_jinja_source(info.get("chat_template"), info.get("file_name"))
        self.model_label.setText(
            self.tr("{name} · {params} · {quant} · vocabulary {vocab}").format(
                name=info.get("file_name", ""),
                params=params_label(int(info.get("n_params") or 0)),
                quant=info.get("quantization", ""),
                vocab=f"{int(info.get('vocab_size') or 0):,}",
            )
        )
        self.model_label.setToolTip(info.get("path", ""))
        self.chat.set_placeholder(self.tr("Type a message below to start."))
        self._request_count()
        self._update_controls()
        self.input.setFocus()

    def _on_unloaded(self) -> None:
        self._n_ctx_loaded = 0
        self.tokenizer_panel.set_model(None, 0)
        self.tokenizer_panel.set_prompt_count(None, 0)
        self.model_label.setText(self.tr("No model loaded"))
        self.context_label.setText("")
        self._update_controls()

    # -- conversations -------------------------------------------------------------------------

    def refresh_conversations(self) -> None:
        """Reload the conversation list (search applied)."""
        try:
            items = self.store.list_conversations(search=self.conversations.search_text())
        except StoreError as exc:
            self.show_error(error_text(exc))
            return
        self.conversations.set_conversations([(c.id, c.title, c.updated_at) for c in items])
        self.conversations.select(self.conversation_id)

    def new_conversation(self) -> None:
        """Start an empty conversation (created in the store when the first message is sent)."""
        if self.client.is_generating:
            return
        self.conversation_id = None
        self._editing_seq = None
        self.chat.clear()
        self._dropped_turns = 0
        self._last_context_used = 0
        self._show_context(0)
        self.conversations.select(None)
        self.cancel_edit()
        self._update_preview()
        self.input.setFocus()

    def open_conversation(self, conv_id: int) -> None:
        """Show a stored conversation."""
        if self.client.is_generating or conv_id == self.conversation_id:
            if conv_id != self.conversation_id:
                self.conversations.select(self.conversation_id)
            return
        try:
            conversation = self.store.get_conversation(conv_id)
            messages = self.store.messages(conv_id)
        except StoreError as exc:
            self.show_error(error_text(exc))
            self.refresh_conversations()
            return
        self.conversation_id = conv_id
        self.conversations.select(conv_id)
        self.cancel_edit()
        self.chat.clear()
        for message in messages:
            self._add_message_widget(message)
        self.decoding.set_template_choice(conversation.template)
        self.decoding.set_system_prompt(conversation.system_prompt)
        self._last_context_used = 0
        self._show_context(0)
        self._request_count()
        self._update_preview()

    def rename_conversation(self, conv_id: int, title: str) -> None:
        """Rename (from the list's context menu)."""
        try:
            self.store.rename_conversation(conv_id, title.strip())
        except StoreError as exc:
            self.show_error(error_text(exc))
        self.refresh_conversations()

    def delete_conversation(self, conv_id: int) -> None:
        """Delete (the list asked for confirmation)."""
        if self.client.is_generating and conv_id == self.conversation_id:
            self.show_error(self.tr("Stop the answer before deleting this conversation."))
            return
        try:
            self.store.delete_conversation(conv_id)
        except StoreError as exc:
            self.show_error(error_text(exc))
        if conv_id == self.conversation_id:
            self.new_conversation()
        self.refresh_conversations()

    def _export_current(self, fmt: str) -> None:
        if self.conversation_id is None:
            self.show_error(self.tr("There is no conversation to export yet."))
            return
        self.export_conversation(self.conversation_id, fmt)

    def export_conversation(self, conv_id: int, fmt: str) -> None:
        """Write a conversation to a Markdown or JSON file the user picks."""
        try:
            conversation = self.store.get_conversation(conv_id)
        except StoreError as exc:
            self.show_error(error_text(exc))
            return
        suffix = ".md" if fmt == "markdown" else ".json"
        safe = "".join(ch for ch in (conversation.title or "conversation") if ch not in '\\/:*?"<>|')
        path, _ = QFileDialog.getSaveFileName(
            self,
            self.tr("Export conversation"),
            str(Path.home() / f"{safe.strip() or 'conversation'}{suffix}"),
            self.tr("Markdown (*.md)") if fmt == "markdown" else self.tr("JSON (*.json)"),
        )
        if not path:
            return
        try:
            if fmt == "markdown":
                text = self.store.export_markdown(conv_id)
            else:
                text = json.dumps(self.store.export_json(conv_id), ensure_ascii=False, indent=2)
            Path(path).write_text(text, encoding="utf-8")
        except (StoreError, OSError) as exc:
            self.show_error(self.tr("Could not export to {0}: {1}").format(path, exc))
            return
        self.statusBar().showMessage(self.tr("Exported to {0}").format(path), 5000)

    def import_conversation(self) -> None:
        """Read a JSON export back as a new conversation."""
        path, _ = QFileDialog.getOpenFileName(
            self, self.tr("Import conversation"), str(Path.home()), self.tr("JSON (*.json)")
        )
        if not path:
            return

        def read() -> Any:
            # A file of any size: parsed off the GUI thread; the store (GUI thread) gets the result.
            return json.loads(Path(path).read_text(encoding="utf-8"))

        def done(data: Any, error: BaseException | None) -> None:
            if isinstance(error, OSError | UnicodeDecodeError | ValueError):
                self.show_error(
                    self.tr("{0} is not a readable JSON file ({1}). Choose a file exported by Alpaca Desk.").format(
                        Path(path).name, error
                    )
                )
                return
            if error is not None:
                self.show_error(error_text(error))
                return
            try:
                conversation = self.store.import_json(data)
            except AppError as exc:
                self.show_error(error_text(exc))
                return
            self.refresh_conversations()
            self.open_conversation(conversation.id)

        run_task(read, done)

    # -- chatting ------------------------------------------------------------------------------

    def send(self) -> None:
        """Send the input box's text as the next instruction."""
        text = self.input.toPlainText().strip()
        if not text or self.client.is_generating or self.client.is_loading:
            return
        if self.client.model_info is None:
            self.show_error(
                self.tr("No model is loaded. Open a GGUF model file from the Model menu first; your message is kept.")
            )
            return
        try:
            if self.conversation_id is None:
                conversation = self.store.create_conversation(
                    template=self.decoding.template_choice(), system_prompt=self.decoding.system_prompt()
                )
                self.conversation_id = conversation.id
            if self._editing_seq is not None:
                self.store.truncate_after(self.conversation_id, self._editing_seq - 1)
                self._reload_messages()
            user = self.store.add_message(self.conversation_id, "user", text)
        except StoreError as exc:
            self.show_error(error_text(exc))
            return
        self.cancel_edit()
        self.input.clear()
        self._add_message_widget(user)
        self._start_answer()
        self.refresh_conversations()

    def _start_answer(self) -> None:
        assert self.conversation_id is not None
        params = self.decoding.params()
        template = self.decoding.effective_template()
        info = self.client.model_info or {}
        try:
            messages = self.store.messages(self.conversation_id)
            answer = self.store.add_message(
                self.conversation_id,
                "assistant",
                "",
                status="streaming",
                model=info.get("path") or info.get("file_name"),
                template=template,
                params=params.to_dict(),
            )
        except StoreError as exc:
            self.show_error(error_text(exc))
            return
        widget = self._add_message_widget(answer)
        self.chat.begin_stream(widget)
        self._streaming_message_id = answer.id
        self._save_timer.start()
        self.client.chat(
            template=template,
            system=self.decoding.system_prompt(),
            turns=_turns(messages),
            params=params.to_dict(),
        )
        self._update_controls()

    def stop(self) -> None:
        """Stop the answer; what was written so far is kept."""
        self.client.stop()

    def regenerate(self, message_id: int) -> None:
        """Replace an answer with a new one (the old one stays in the file, hidden)."""
        if self.client.is_generating or self.client.is_loading or self.conversation_id is None:
            return
        if self.client.model_info is None:
            self.show_error(self.tr("No model is loaded. Open a GGUF model file from the Model menu first."))
            return
        try:
            messages = self.store.messages(self.conversation_id)
            # Only the newest answer can be regenerated: replacing an earlier one would hide the
            # conversation that followed it.
            if not messages or messages[-1].id != message_id or messages[-1].role != "assistant":
                return
            self.store.truncate_after(self.conversation_id, messages[-1].seq - 1)
            self._reload_messages()
        except StoreError as exc:
            self.show_error(error_text(exc))
            return
        self._start_answer()

    def edit_message(self, message_id: int) -> None:
        """Put an earlier question back in the input box; sending replaces it and what follows."""
        if self.client.is_generating or self.conversation_id is None:
            return
        try:
            messages = self.store.messages(self.conversation_id)
        except StoreError as exc:
            self.show_error(error_text(exc))
            return
        target = next((m for m in messages if m.id == message_id), None)
        if target is None:
            return
        self._editing_seq = target.seq
        self.input.setPlainText(target.content)
        self.input.setFocus()
        self.edit_label.setText(
            self.tr("Editing an earlier message: Send replaces it and the messages after it. Esc cancels.")
        )
        self.edit_label.show()

    def cancel_edit(self) -> None:
        """Leave edit mode (the input text stays)."""
        self._editing_seq = None
        self.edit_label.hide()

    def _reload_messages(self) -> None:
        assert self.conversation_id is not None
        self.chat.clear()
        for message in self.store.messages(self.conversation_id):
            self._add_message_widget(message)

    def _add_message_widget(self, message: Message) -> Any:
        widget = self.chat.add_message(message.id, message.role, message.content)
        widget.set_detail(self._detail(message))
        widget.detail_label.setToolTip(self._provenance(message))
        # Regenerate is offered on the newest answer only.
        for other in self.chat.messages():
            if other.role == "assistant":
                other.action_button.setVisible(other is widget)
        return widget

    def _provenance(self, message: Message) -> str:
        """What produced an answer, to reproduce it: model, template, parameters, seed, timings."""
        if message.role != "assistant":
            return ""
        stats = message.stats or {}
        params = message.params or {}
        lines = [
            self.tr("Model: {0}").format(message.model or "?"),
            self.tr("Template: {0}").format(message.template or "?"),
            self.tr("Temperature {0}, top-k {1}, top-p {2}, repetition penalty {3}, context {4}").format(
                params.get("temperature", "?"),
                params.get("top_k", "?"),
                params.get("top_p", "?"),
                params.get("repeat_penalty", "?"),
                params.get("n_ctx", "?"),
            ),
        ]
        if "seed" in stats:
            lines.append(self.tr("Seed: {0}").format(stats["seed"]))
        if "prompt_tokens" in stats:
            lines.append(
                self.tr("Prompt {0} tokens, answer {1} tokens, first token after {2:.0f} ms").format(
                    stats["prompt_tokens"],
                    stats.get("generated_tokens", 0),
                    float(stats.get("time_to_first_token_s", 0.0)) * 1000,
                )
            )
        return "\n".join(lines)

    def _detail(self, message: Message) -> str:
        if message.role != "assistant":
            return ""
        bits: list[str] = []
        if message.model:
            bits.append(Path(message.model).name)
        stats = message.stats or {}
        if stats.get("tokens_per_s"):
            bits.append(self.tr("{0:.1f} tokens/s").format(float(stats["tokens_per_s"])))
        if stats.get("generated_tokens"):
            bits.append(self.tr("{0} tokens").format(int(stats["generated_tokens"])))
        states = {
            "streaming": self.tr("writing…"),
            "interrupted": self.tr("interrupted (the app closed while it was written)"),
            "stopped": self.tr("stopped"),
            "error": self.tr("failed"),
        }
        if message.status in states:
            bits.append(states[message.status])
        dropped = int(stats.get("dropped_turns") or 0)
        if dropped:
            bits.append(self.tr("%n earlier turn(s) left out to fit the context", "", dropped))
        return " · ".join(bits)

    def _save_stream(self) -> None:
        if self._streaming_message_id is None:
            return
        try:
            self.store.update_message(self._streaming_message_id, content=self.chat.stream_text())
        except StoreError as exc:
            log.warning("could not save the streaming answer: %s", exc)

    def _finish_stream(self, status: str, stats: dict[str, Any] | None) -> None:
        message_id = self._streaming_message_id
        self._streaming_message_id = None
        self._save_timer.stop()
        self.chat.end_stream()
        if message_id is None:
            return
        stats = dict(stats or {})
        if self._dropped_turns:
            stats["dropped_turns"] = self._dropped_turns
        try:
            self.store.update_message(message_id, content=self.chat.stream_text(), status=status, stats=stats or None)
            message = next((m for m in self.store.messages(self.conversation_id or -1) if m.id == message_id), None)
        except StoreError as exc:
            self.show_error(error_text(exc))
            message = None
        if message is not None:
            for widget in self.chat.messages():
                if widget.message_id == message_id:
                    widget.set_detail(self._detail(message))
                    widget.detail_label.setToolTip(self._provenance(message))
        self.refresh_conversations()
        self._update_controls()

    def _on_prompt_ready(self, n_tokens: int, dropped: int) -> None:
        self._dropped_turns = dropped
        self._show_context(n_tokens)
        self.tokenizer_panel.set_prompt_count(n_tokens, self._n_ctx_loaded)
        if dropped:
            self.statusBar().showMessage(self.tr("%n earlier turn(s) left out to fit the context", "", dropped), 8000)

    def _request_count(self) -> None:
        """Ask the host how many tokens this conversation's prompt takes (answer: ``counted``)."""
        if self.conversation_id is None or self.client.is_generating:
            return
        try:
            messages = self.store.messages(self.conversation_id)
        except StoreError:
            return
        turns = _turns(messages)
        if not turns:
            return
        # The meter shows what the next prompt will hold: the conversation so far, answered.
        self.client.count(
            template=self.decoding.effective_template(),
            system=self.decoding.system_prompt(),
            turns=[*turns, {"user": "", "assistant": None}],
            params=self.decoding.params().to_dict(),
        )

    def _on_counted(self, n_tokens: int, dropped: int) -> None:
        self._show_context(n_tokens)
        self.tokenizer_panel.set_prompt_count(n_tokens, self._n_ctx_loaded)
        self._dropped_turns = dropped

    def _on_token(self, text: str) -> None:
        self.chat.append_stream(text)

    def _on_finished(self, stats: dict[str, Any]) -> None:
        reason = stats.get("reason")
        self._finish_stream("stopped" if reason == "cancelled" else "complete", stats)
        used = int(stats.get("prompt_tokens", 0)) + int(stats.get("generated_tokens", 0))
        self._show_context(used)
        if stats.get("tokens_per_s"):
            self.speed_label.setText(self.tr("{0:.1f} tokens/s").format(float(stats["tokens_per_s"])))
        if reason == "context_full":
            self.banner.show_message(
                self.tr(
                    "The answer stopped because the context window is full. Start a new conversation "
                    "or raise the context size."
                ),
            )

    def _on_failed(self, message: str) -> None:
        if self._streaming_message_id is not None:
            self._finish_stream("error", {"error": message})
        self.show_error(message)
        if self.client.model_info is None:
            self.model_label.setText(self.tr("No model loaded"))
        self._update_controls()

    def _on_host_died(self, message: str) -> None:
        if self._streaming_message_id is not None:
            self._finish_stream("error", {"error": message})
        self._on_unloaded()
        path = self._loading_path or (self.ctx.settings.recent_models[:1] or [""])[0]
        self.banner.show_message(
            self.tr("The model process stopped unexpectedly. Your conversation is safe.\n{0}").format(message),
            severity="error",
            action=self.tr("Restart and reload the model") if path else "",
            callback=(lambda: self.open_model(path)) if path else None,
        )

    # -- settings ------------------------------------------------------------------------------

    def _on_params_changed(self, params: Any) -> None:
        self.ctx.settings.params = params.to_dict()
        self.ctx.save_settings()
        if self._n_ctx_loaded and params.n_ctx != self._n_ctx_loaded and self.client.model_info:
            path = self.client.model_info.get("path", "")
            self.banner.show_message(
                self.tr("The context size {0} takes effect when the model is loaded again.").format(params.n_ctx),
                action=self.tr("Reload now"),
                callback=lambda: self.open_model(path),
            )
        self._show_context(self._last_context_used)

    def _on_template_changed(self, name: Any) -> None:
        if self.conversation_id is not None:
            try:
                self.store.update_conversation(self.conversation_id, template=name)
            except StoreError as exc:
                self.show_error(error_text(exc))
        self._update_preview()

    def _on_system_changed(self, text: Any) -> None:
        if self.conversation_id is not None:
            try:
                self.store.update_conversation(self.conversation_id, system_prompt=text)
            except StoreError as exc:
                self.show_error(error_text(exc))
        self._update_preview()

    def _update_preview(self) -> None:
        messages: list[Message] = []
        if self.conversation_id is not None:
            try:
                messages = self.store.messages(self.conversation_id)
            except StoreError:
                messages = []
        turns = [templates.Turn(user=t["user"], assistant=t.get("assistant")) for t in _turns(messages)]
        self.decoding.set_preview_turns(turns, self.input.toPlainText())

    def _toggle_tokenizer_panel(self, visible: bool) -> None:
        self.tokenizer_panel.setVisible(visible)
        self._give_width(self.tokenizer_panel, 380)
        self.ctx.settings.show_tokenizer_panel = visible
        self.ctx.save_settings()
        if visible:
            self._count_draft()

    def _count_draft(self) -> None:
        if self.tokenizer_panel.isVisible() and self.input.toPlainText():
            self.tokenizer_panel.set_text(self.input.toPlainText())

    def _give_width(self, panel: QWidget, width: int) -> None:
        """A panel shown after being hidden may come back 0 px wide: take room from the chat."""
        index = self.splitter.indexOf(panel)
        sizes = self.splitter.sizes()
        if panel.isVisible() and index >= 0 and sizes[index] < 100:
            sizes[1] = max(300, sizes[1] - width)
            sizes[index] = width
            self.splitter.setSizes(sizes)

    def _toggle_panel(self, visible: bool) -> None:
        self.decoding.setVisible(visible)
        self._give_width(self.decoding, 320)
        self.ctx.settings.show_decoding_panel = visible
        self.ctx.save_settings()

    def set_language(self, code: str) -> None:
        """Switch the interface language now: the window is rebuilt in the new language."""
        if self.client.is_generating:
            self.show_error(self.tr("Stop the answer before switching the language."))
            for action in self._language_actions.values():
                action.setChecked(False)
            current = self._language_actions.get(self.ctx.settings.language)
            if current is not None:
                current.setChecked(True)
            return
        self.ctx.settings.language = code
        self.ctx.save_settings()
        install_translators(code)
        replacement = MainWindow(self.ctx)
        replacement.setGeometry(self.geometry())
        if self.conversation_id is not None:
            replacement.open_conversation(self.conversation_id)
            replacement.refresh_conversations()
        else:
            replacement.decoding.set_template_choice(self.decoding.template_choice())
            replacement.decoding.set_system_prompt(self.decoding.system_prompt())
        replacement.input.setPlainText(self.input.toPlainText())
        replacement._editing_seq = self._editing_seq
        if self._editing_seq is not None:
            replacement.edit_label.setText(self.edit_label.text())
            replacement.edit_label.show()
        replacement._loading_path = self._loading_path
        if self.client.is_loading:
            replacement.model_label.setText(self.model_label.text())
        replacement.show()
        self._replaced = True
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.close()

    def open_vocab_tool(self) -> None:
        """The vocabulary-extension tool (paper section 4.2), in its own window."""
        from app.views.vocab_dialog import VocabDialog

        dialog = getattr(self, "_vocab_dialog", None)
        if dialog is None:
            dialog = VocabDialog(self)
            self._vocab_dialog = dialog
        dialog.show()
        dialog.raise_()

    def about(self) -> None:
        """Version and privacy statement."""
        from app.licenses import show_third_party_licenses
        from runtime import __version__

        text = self.tr(
            "<b>Alpaca Desk</b> {0}<br>Chat offline with Chinese-LLaMA and Chinese-Alpaca models "
            "(Cui, Yang and Yao, arXiv 2304.08177) through llama.cpp.<br><br>"
            "Your conversations stay on this computer: nothing is sent anywhere."
        ).format(__version__)
        box = QMessageBox(QMessageBox.Icon.Information, self.tr("About Alpaca Desk"), text, parent=self)
        licences = box.addButton(self.tr("Third-party licences…"), QMessageBox.ButtonRole.ActionRole)
        box.addButton(QMessageBox.StandardButton.Close)
        box.exec()
        if box.clickedButton() is licences:
            show_third_party_licenses(self, self.tr("Third-party licences"))

    # -- helpers -------------------------------------------------------------------------------

    def show_error(self, message: str) -> None:
        """Show an error inline (never modal) and log it."""
        if message.startswith(("TypeError:", "ValueError:", "KeyError:", "RuntimeError:", "AttributeError:")):
            message = self.tr("Something went wrong inside Alpaca Desk ({0}). Please report it.").format(message)
        log.info("user message: %s", message)
        self.banner.show_message(message, severity="error")

    def _show_context(self, used: int) -> None:
        self._last_context_used = used
        n_ctx = self._n_ctx_loaded or self.decoding.params().n_ctx
        if not self.client.model_info:
            self.context_label.setText("")
            return
        self.context_label.setText(self.tr("Context {0} / {1}").format(used, n_ctx))
        # Nearly full: the oldest turns are about to be left out of the next prompt.
        self.context_label.setStyleSheet("color: #b54708;" if n_ctx and used > 0.9 * n_ctx else "")

    def _update_controls(self) -> None:
        generating = self.client.is_generating
        loading = self.client.is_loading
        loaded = self.client.model_info is not None
        self.send_button.setEnabled(loaded and not generating and not loading)
        self.stop_button.setEnabled(generating)
        self.unload_action.setEnabled(loaded and not loading)
        self.conversations.setEnabled(not generating)

    def closeEvent(self, event: QCloseEvent) -> None:
        """Save the streaming answer and the window layout."""
        if self._streaming_message_id is not None:
            self.client.stop()
            self._finish_stream("stopped", None)
        qsettings = self._qsettings()
        qsettings.setValue("window/geometry", self.saveGeometry())
        qsettings.setValue("window/splitter", self.splitter.saveState())
        self.ctx.save_settings()
        if getattr(self, "_replaced", False):
            self._disconnect_client()
        else:
            from PySide6.QtWidgets import QApplication

            QApplication.instance().quit()  # type: ignore[union-attr]
        super().closeEvent(event)

    def _disconnect_client(self) -> None:
        """A replaced window (language switch) must stop reacting to the shared host."""
        if getattr(self, "_client_disconnected", False):
            return
        self._client_disconnected = True
        for signal, slot in (
            (self.client.loading, self._on_loading),
            (self.client.loaded, self._on_loaded),
            (self.client.unloaded, self._on_unloaded),
            (self.client.prompt_ready, self._on_prompt_ready),
            (self.client.token, self._on_token),
            (self.client.finished, self._on_finished),
            (self.client.failed, self._on_failed),
            (self.client.host_died, self._on_host_died),
            (self.client.counted, self._on_counted),
        ):
            try:
                signal.disconnect(slot)
            except (RuntimeError, TypeError):
                pass


def _turns(messages: list[Message]) -> list[dict[str, Any]]:
    """Messages as template turns: each user message with the answer that followed it."""
    turns: list[dict[str, Any]] = []
    for message in messages:
        if message.role == "user":
            turns.append({"user": message.content, "assistant": None})
        elif turns and turns[-1]["assistant"] is None:
            if message.status == "error" and not message.content:
                # A failed answer (and the question that failed, often for being too long) is
                # not sent to the model again.
                turns.pop()
            else:
                turns[-1]["assistant"] = message.content
    return turns
