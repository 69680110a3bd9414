"""The conversation flow: the list of saved conversations and what is done to them: new, open,
rename, delete, export as Markdown or JSON, and import."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QFileDialog, QStatusBar

from app.controllers import dialog_parent
from app.controllers.chat import VIEW_PAGE, ChatController
from app.inference_client import InferenceClient
from app.messages import error_text
from app.tasks import run_task
from app.views.conversation_list import ConversationListView
from runtime.errors import StoreError
from runtime.paths import write_atomic
from runtime.store import ConversationStore


class ConversationsController(QObject):
    """Keeps the conversation list in step with the store and acts on its requests.

    Which conversation is shown belongs to the chat controller (sending creates one); this
    controller reads it there and changes it through the chat controller's
    :meth:`~app.controllers.chat.ChatController.show_conversation` and
    :meth:`~app.controllers.chat.ChatController.clear_conversation`.

    Signals:
        error(str): A message for the user.
    """

    error = Signal(str)

    def __init__(
        self,
        store: ConversationStore,
        client: InferenceClient,
        chat_controller: ChatController,
        *,
        list_view: ConversationListView,
        status_bar: QStatusBar,
        parent: QObject | None = None,
    ) -> None:
        """Wire the list's requests (new, select, rename, delete, export, import, search).

        Args:
            store: The conversation store.
            client: The inference host's client: nothing is switched while an answer streams.
            chat_controller: Shows the conversation opened or started here.
            list_view: The conversation list.
            status_bar: Where a finished export is reported.
            parent: The window: owns this controller and parents its file dialogs.
        """
        super().__init__(parent)
        self.store = store
        self.client = client
        self.chat_controller = chat_controller
        self.conversations = list_view
        self.status_bar = status_bar
        self.conversations.new_requested.connect(self.new_conversation)
        self.conversations.selected.connect(self.open_conversation)
        self.conversations.rename_requested.connect(self.rename_conversation)
        self.conversations.delete_requested.connect(self.delete_conversation)
        self.conversations.export_requested.connect(self.export_conversation)
        self.conversations.import_requested.connect(self.import_conversation)
        self.conversations.search_changed.connect(lambda _text: self.refresh_conversations())

    def refresh_conversations(self) -> None:
        """Reload the conversation list (search applied)."""
        try:
            items = self.store.list_conversations(search=self.conversations.search_text())
        except StoreError as exc:
            self.error.emit(error_text(exc))
            return
        self.conversations.set_conversations([(c.id, c.title, c.updated_at) for c in items])
        self.conversations.select(self.chat_controller.conversation_id)

    def new_conversation(self) -> None:
        """Start an empty conversation (created in the store when the first message is sent)."""
        if self.client.is_generating:
            return
        self.conversations.select(None)
        self.chat_controller.clear_conversation()

    def open_conversation(self, conv_id: int) -> None:
        """Show a stored conversation."""
        if self.client.is_generating or conv_id == self.chat_controller.conversation_id:
            if conv_id != self.chat_controller.conversation_id:
                self.conversations.select(self.chat_controller.conversation_id)
            return
        try:
            conversation = self.store.get_conversation(conv_id)
            messages = self.store.messages(conv_id, last=VIEW_PAGE)
        except StoreError as exc:
            self.error.emit(error_text(exc))
            self.refresh_conversations()
            return
        self.conversations.select(conv_id)
        self.chat_controller.show_conversation(conv_id, conversation, messages)

    def rename_conversation(self, conv_id: int, title: str) -> None:
        """Rename (from the list's context menu)."""
        try:
            self.store.rename_conversation(conv_id, title.strip())
        except StoreError as exc:
            self.error.emit(error_text(exc))
        self.refresh_conversations()

    def delete_conversation(self, conv_id: int) -> None:
        """Delete (the list asked for confirmation)."""
        if self.client.is_generating and conv_id == self.chat_controller.conversation_id:
            self.error.emit(self.tr("Stop the answer before deleting this conversation."))
            return
        try:
            self.store.delete_conversation(conv_id)
        except StoreError as exc:
            self.error.emit(error_text(exc))
        if conv_id == self.chat_controller.conversation_id:
            self.new_conversation()
        self.refresh_conversations()

    def export_current(self, fmt: str) -> None:
        """Export the conversation shown, as ``"markdown"`` or ``"json"``."""
        if self.chat_controller.conversation_id is None:
            self.error.emit(self.tr("There is no conversation to export yet."))
            return
        self.export_conversation(self.chat_controller.conversation_id, fmt)

    def export_conversation(self, conv_id: int, fmt: str) -> None:
        """Write a conversation to a Markdown or JSON file the user picks."""
        try:
            conversation = self.store.get_conversation(conv_id)
        except StoreError as exc:
            self.error.emit(error_text(exc))
            return
        suffix = ".md" if fmt == "markdown" else ".json"
        safe = "".join(ch for ch in (conversation.title or "conversation") if ch not in '\\/:*?"<>|')
        path, _ = QFileDialog.getSaveFileName(
            dialog_parent(self),
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
            write_atomic(path, text.encode("utf-8"))  # an existing file stays whole if this fails
        except (StoreError, OSError) as exc:
            self.error.emit(self.tr("Could not export to {0}: {1}").format(path, exc))
            return
        self.status_bar.showMessage(self.tr("Exported to {0}").format(path), 5000)

    def import_conversation(self) -> None:
        """Read a JSON export back as a new conversation."""
        path, _ = QFileDialog.getOpenFileName(
            dialog_parent(self), self.tr("Import conversation"), str(Path.home()), self.tr("JSON (*.json)")
        )
        if not path:
            return

        def work() -> int:
            # Reading, checking and writing a large file takes seconds: the store does it on a
            # connection of its own, off the GUI thread (ConversationStore.import_file).
            return self.store.import_file(path)

        def done(conv_id: Any, error: BaseException | None) -> None:
            if error is not None:
                self.error.emit(error_text(error))
                return
            self.refresh_conversations()
            # In the next turn of the event loop: each step reads from a conversation that may
            # have 100,000 messages; together they kept the window from redrawing for half a second.
            QTimer.singleShot(0, self, lambda: self.open_conversation(conv_id))

        run_task(work, done)
