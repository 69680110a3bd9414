"""The main window: the shell that builds the views, menus and status bar, wires the controllers
(app/controllers/) to them and to the inference host, and keeps the layout and the language."""

from __future__ import annotations

import logging

from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtGui import QCloseEvent, QGuiApplication, QShowEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from app.context import AppContext
from app.controllers.chat import ChatController
from app.controllers.conversations import ConversationsController
from app.controllers.downloads import DownloadManager
from app.controllers.hub import HubController, has_any_model
from app.controllers.models import ModelsController
from app.controllers.server import ServerController
from app.controllers.tray import TrayController
from app.i18n import install_translators
from app.menus import build_menus
from app.theme import follow_scheme, theme, window_style_sheet
from app.views.banner import Banner, BannerMessage
from app.views.chat_view import ChatInput, ChatView
from app.views.conversation_list import ConversationListView
from app.views.decoding_panel import DecodingPanel
from app.views.shortcuts_dialog import ShortcutsDialog, actions_with_keys
from app.views.tokenizer_panel import TokenizerPanel
from app.window_geometry import fit_to_screen

log = logging.getLogger(__name__)


class MainWindow(QMainWindow):
    """Conversation list, chat, decoding and tokenizer panels; menus for models and conversations.

    The flows live in three controllers, built and wired here: :attr:`models_controller`,
    :attr:`chat_controller` and :attr:`conversations_controller`. The window keeps the layout,
    the menus, the panels, the language switch, the banner for errors and the controls that
    depend on the host's state; its public flow methods (:meth:`send`, :meth:`open_model`, ...)
    hand over to the controllers for the tests, benchmarks and start-up code that call them.
    """

    def __init__(self, context: AppContext) -> None:
        super().__init__()
        self.ctx = context
        self.client = context.client
        self.store = context.store
        self.setWindowTitle(self.tr("Alpaca Desk"))
        theme().set_scheme(context.settings.colour_scheme)
        # Set again at every scheme change: widgets under a style sheet keep the palette they
        # were polished with until it is.
        follow_scheme(self, lambda scheme: self.setStyleSheet(window_style_sheet(scheme)))
        self.resize(1280, 800)  # fitted to the screen in _restore_geometry

        self._build_ui()
        self._build_controllers()
        self._build_menus()
        self._connect_views()
        self._connect_client()
        self._restore_geometry()
        self.refresh_conversations()
        self.decoding.set_params(context.settings.decoding_params())
        self.decoding.set_threads(context.settings.n_threads)
        self.decoding.threads_changed.connect(self._on_threads_changed)
        self.models_controller.show_client_state()

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
        self._name_for_screen_readers()
        status.addWidget(self.model_label, 1)
        status.addWidget(self.busy_bar)
        status.addWidget(self.cancel_load_button)
        status.addPermanentWidget(self.context_label)
        status.addPermanentWidget(self.speed_label)

    def _name_for_screen_readers(self) -> None:
        """Names and descriptions for the controls whose purpose no visible text of their own
        gives (a screen reader reads a button's text, but only a placeholder or nothing here)."""
        self.chat.setAccessibleName(self.tr("Conversation"))
        self.chat.setAccessibleDescription(self.tr("The messages of the conversation shown, oldest first."))
        self.input.setAccessibleName(self.tr("Message"))
        self.input.setAccessibleDescription(
            self.tr(
                "Type a message. Enter sends it, Shift+Enter starts a new line, Esc stops an answer or cancels an edit."
            )
        )
        self.send_button.setAccessibleDescription(self.tr("Send the message to the model (Enter)."))
        self.stop_button.setAccessibleDescription(self.tr("Stop the answer being written (Esc)."))
        self.conversations.setAccessibleName(self.tr("Saved conversations"))
        self.decoding.setAccessibleName(self.tr("Decoding settings"))
        self.tokenizer_panel.setAccessibleName(self.tr("Tokenizer panel"))
        self.busy_bar.setAccessibleName(self.tr("Loading the model"))
        self.model_label.setAccessibleName(self.tr("Model"))
        self.context_label.setAccessibleName(self.tr("Context used"))
        self.context_label.setAccessibleDescription(
            self.tr("How much of the model's context window the conversation fills, in tokens.")
        )
        self.speed_label.setAccessibleName(self.tr("Answer speed"))
        self.speed_label.setAccessibleDescription(
            self.tr("How fast the last answer was written, in tokens per second.")
        )

    def _build_controllers(self) -> None:
        self.models_controller = ModelsController(
            self.ctx,
            self.client,
            decoding=self.decoding,
            tokenizer_panel=self.tokenizer_panel,
            model_label=self.model_label,
            busy_bar=self.busy_bar,
            cancel_load_button=self.cancel_load_button,
            banner=self.banner,
            parent=self,
        )
        models = self.models_controller
        self.chat_controller = ChatController(
            self.store,
            self.client,
            chat_view=self.chat,
            chat_input=self.input,
            decoding=self.decoding,
            tokenizer_panel=self.tokenizer_panel,
            banner=self.banner,
            edit_label=self.edit_label,
            context_label=self.context_label,
            speed_label=self.speed_label,
            status_bar=self.statusBar(),
            # The models controller owns the loaded context size; the chat reads it.
            n_ctx_loaded=lambda: models.n_ctx_loaded,
            parent=self,
        )
        self.conversations_controller = ConversationsController(
            self.store,
            self.client,
            self.chat_controller,
            list_view=self.conversations,
            status_bar=self.statusBar(),
            parent=self,
        )
        for controller in (self.models_controller, self.chat_controller, self.conversations_controller):
            controller.error.connect(self.show_error)
        for controller in (self.models_controller, self.chat_controller):
            controller.controls_changed.connect(self._update_controls)
        # The chat reacts to a model after the models controller has chosen its template.
        self.models_controller.model_loaded.connect(self.chat_controller.on_model_loaded)
        self.models_controller.model_unloaded.connect(self.chat_controller.on_model_unloaded)
        self.chat_controller.conversations_changed.connect(self.conversations_controller.refresh_conversations)
        # The local server shares this window's host and follows its model (app.controllers.server).
        self.server_controller = ServerController(
            self.ctx, self.client, template=self.decoding.effective_template, status_bar=self.statusBar(), parent=self
        )
        self.models_controller.model_loaded.connect(self.server_controller.on_model_loaded)
        self.decoding.template_changed.connect(self.server_controller.template_changed)
        self.server_controller.error.connect(self.show_error)
        self.server_controller.reconcile()
        if self.ctx.downloads is None:
            self.ctx.downloads = DownloadManager(self.ctx)
        self.hub_controller = HubController(self.ctx, self.ctx.downloads, parent=self)
        self.hub_controller.open_model.connect(self.open_model)
        self.hub_controller.convert_requested.connect(self.convert_downloaded_weights)
        self.hub_controller.convert_wizard_connected = True
        self.hub_controller.error.connect(self.show_error)
        self.hub_controller.drafter_offer.ready.connect(self.models_controller.use_draft_model)
        # Closing the window while downloads run: to the tray, or a question (app.controllers.tray).
        self.tray_controller = TrayController(
            self.ctx,
            self.ctx.downloads,
            open_download=self.hub_controller.open_download,
            open_downloads_view=self.hub_controller.open_dialog,
            parent=self,
        )

    def _connect_views(self) -> None:
        self.input.textChanged.connect(self._count_draft)
        self.chat.message_activated.connect(self.tokenizer_panel.set_text)
        self.send_button.clicked.connect(self.chat_controller.send)
        self.stop_button.clicked.connect(self.chat_controller.stop)

    def _build_menus(self) -> None:
        build_menus(self)

    def _connect_client(self) -> None:
        # The chat first: when a request fails or the host dies, the answer being written is
        # saved and ended before the model is marked gone and a reload is offered (Qt calls a
        # signal's slots in the order they were connected).
        self.chat_controller.connect_client()
        self.models_controller.connect_client()

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
        self.fit_to_screen()

    def fit_to_screen(self) -> None:
        """Keep the whole window on its screen (see :func:`app.window_geometry.fit_to_screen`)."""
        fit_to_screen(self)

    def showEvent(self, event: QShowEvent) -> None:
        """Fit the window to its screen again once shown, when the frame's size is known."""
        super().showEvent(event)
        if not event.spontaneous():
            QTimer.singleShot(0, self.fit_to_screen)

    # -- the flows, for callers outside the window (tests, benchmarks, start-up) -----------------

    def open_model(self, path: str) -> None:
        """Load ``path`` in the host (see :meth:`ModelsController.open_model`)."""
        self.models_controller.open_model(path)

    def offer_models(self) -> None:
        """First run: no model installed yet, so the banner offers the catalogue."""
        if has_any_model(self.ctx):
            return
        self.banner.push(self.models_offer())

    def models_offer(self) -> BannerMessage:
        """The banner's offer of the catalogue (it waits behind the start-up notices, and a language
        switch builds it again for the new window)."""
        return BannerMessage(
            self.tr("No model is installed yet. Get a Chinese-Alpaca model for this computer from the catalogue."),
            action=self.tr("Get models…"),
            callback=self.hub_controller.open_dialog,
            key="offer_models",
            rebuild=lambda window: window.models_offer(),
        )

    def cancel_load(self) -> None:
        """Abandon the model being loaded."""
        self.models_controller.cancel_load()

    def refresh_conversations(self) -> None:
        """Reload the conversation list (search applied)."""
        self.conversations_controller.refresh_conversations()

    def new_conversation(self) -> None:
        """Start an empty conversation (created in the store when the first message is sent)."""
        self.conversations_controller.new_conversation()

    def open_conversation(self, conv_id: int) -> None:
        """Show a stored conversation."""
        self.conversations_controller.open_conversation(conv_id)

    def export_conversation(self, conv_id: int, fmt: str) -> None:
        """Write a conversation to a Markdown or JSON file the user picks."""
        self.conversations_controller.export_conversation(conv_id, fmt)

    def import_conversation(self) -> None:
        """Read a JSON export back as a new conversation."""
        self.conversations_controller.import_conversation()

    @property
    def conversation_id(self) -> int | None:
        """The conversation shown (None: a new one, not stored yet); the chat controller owns it."""
        return self.chat_controller.conversation_id

    def send(self) -> None:
        """Send the input box's text as the next instruction."""
        self.chat_controller.send()

    def stop(self) -> None:
        """Stop the answer; what was written so far is kept."""
        self.chat_controller.stop()

    # -- panels, language, tools, about ----------------------------------------------------------

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

    def set_colour_scheme(self, scheme: str) -> None:
        """Draw light, dark or as the system does (``system``), now and at the next start."""
        self.ctx.settings.colour_scheme = scheme
        self.ctx.save_settings()
        theme().set_scheme(scheme)
        for code, action in self.colour_scheme_actions.items():
            action.setChecked(code == scheme)

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
        self.server_controller.shutdown()  # the port is free before the new window's server binds it
        replacement = MainWindow(self.ctx)
        replacement.setGeometry(self.geometry())
        if self.conversation_id is not None:
            replacement.open_conversation(self.conversation_id)
            replacement.refresh_conversations()
        else:
            replacement.decoding.set_template_choice(self.decoding.template_choice())
            replacement.decoding.set_system_prompt(self.decoding.system_prompt())
        replacement.input.setPlainText(self.input.toPlainText())
        replacement.chat_controller.editing_seq = self.chat_controller.editing_seq
        if self.chat_controller.editing_seq is not None:
            replacement.edit_label.setText(self.edit_label.text())
            replacement.edit_label.show()
        replacement.models_controller.loading_path = self.models_controller.loading_path
        if self.client.is_loading:
            replacement.model_label.setText(self.model_label.text())
        # The notices still waiting (a damaged database's "Recover messages" among them) go along,
        # rebuilt in the new language.
        replacement.banner.adopt(self.banner, replacement)
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
        fit_to_screen(dialog)
        dialog.raise_()

    def open_hosts(self) -> None:
        """The saved SSH hosts that training can run on, in their own window."""
        from app.views.hosts_dialog import HostsDialog

        dialog = getattr(self, "_hosts_dialog", None)
        if dialog is None:
            dialog = HostsDialog(self)
            self._hosts_dialog = dialog
        dialog.show()
        fit_to_screen(dialog)
        dialog.raise_()

    def open_convert_wizard(self) -> None:
        """Model → Convert and quantize my weights (the wizard, in its own window)."""
        from app.views.convert_wizard import ConvertWizard

        wizard = getattr(self, "_convert_wizard", None)
        if wizard is None:
            wizard = ConvertWizard(self)
            wizard.chat_requested.connect(self.open_model)
            wizard.report_requested.connect(self.open_quantization_report)
            self._convert_wizard = wizard
        wizard.show()
        fit_to_screen(wizard)
        wizard.raise_()

    def convert_downloaded_weights(self, folder: str, quant: str) -> None:
        """Full weights from the hub, into the wizard with this computer's quantization chosen."""
        self.open_convert_wizard()
        self._convert_wizard.open_folder(folder, quant)

    def open_quantization_report(self, files: list[str]) -> None:
        """The quantization report for ``files`` (one model's GGUF files), in its own window."""
        from app.views.report_dialog import ReportDialog

        dialog = ReportDialog(list(files), self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self._report_dialog = dialog
        dialog.show()
        dialog.raise_()

    def open_training_tool(self) -> None:
        """LoRA pre-training, instruction fine-tuning and merging (paper sections 4.3-5), in its own window."""
        from app.controllers.training import TrainingController
        from app.views.training_view import TrainingView

        view = getattr(self, "_training_view", None)
        if view is None:
            view = TrainingView()
            self._training_view = view
            self._training_controller = TrainingController(view)
            self._training_controller.convert_requested.connect(
                lambda folder: self.convert_downloaded_weights(folder, "")
            )
        view.show()
        fit_to_screen(view)  # opened at 1180x760, more than a small or scaled screen has
        view.raise_()

    def show_shortcuts(self) -> None:
        """Help → Keyboard shortcuts: every menu action that has keys, read from the menus now."""
        menus = [menu for action in self.menuBar().actions() if isinstance(menu := action.menu(), QMenu)]
        dialog = ShortcutsDialog(actions_with_keys(menus), self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self._shortcuts_dialog = dialog
        dialog.show()
        dialog.raise_()

    def copy_last_answer(self) -> None:
        """Put the last answer's text (its Markdown) on the clipboard, also while it is written."""
        answers = [widget for widget in self.chat.messages() if widget.role == "assistant"]
        if not answers:
            self.statusBar().showMessage(self.tr("There is no answer to copy yet."), 5000)
            return
        text = self.chat.stream_text() if self.client.is_generating else answers[-1].text
        QGuiApplication.clipboard().setText(text)
        self.statusBar().showMessage(self.tr("The last answer was copied."), 5000)

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

    def _update_controls(self) -> None:
        generating = self.client.is_generating
        loading = self.client.is_loading
        loaded = self.client.model_info is not None
        self.send_button.setEnabled(loaded and not generating and not loading)
        self.stop_button.setEnabled(generating)
        self.stop_action.setEnabled(generating)
        self.unload_action.setEnabled(loaded and not loading)
        self.conversations.setEnabled(not generating)

    def _on_threads_changed(self, count: int | None) -> None:
        # Sent with each answer, so it applies from the next one; kept for the next start.
        self.ctx.settings.n_threads = count
        self.ctx.save_settings()

    def closeEvent(self, event: QCloseEvent) -> None:
        """Save the streaming answer and the window layout (unless downloads keep the app running)."""
        if not getattr(self, "_replaced", False) and self.tray_controller.keeps_window_open():
            event.ignore()
            return
        self.chat_controller.finish_on_close()
        self.server_controller.shutdown()
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
        self.chat_controller.disconnect_client()
        self.models_controller.disconnect_client()
