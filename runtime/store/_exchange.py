"""The store's export and import: a conversation out as Markdown or JSON, an export file in as a new one.

The formats and the checks of an untrusted file are in :mod:`runtime.store.transfer`; this module
reads and writes the rows.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Mapping
from dataclasses import asdict
from typing import Any

from runtime.store._connection import _lastrowid, _transaction
from runtime.store._conversations import ConversationsMixin
from runtime.store._messages import MessagesMixin
from runtime.store.records import EXPORT_FORMAT, EXPORT_VERSION, Conversation, _dump_json, title_from_text
from runtime.store.transfer import _validate_import, markdown_document, read_import_file


class ExchangeMixin(ConversationsMixin, MessagesMixin):
    """The export and import methods of :class:`~runtime.store.database.ConversationStore`."""

    def export_markdown(self, conv_id: int) -> str:
        """Render a conversation as readable Markdown (see :func:`markdown_document`).

        Raises:
            StoreError: the conversation does not exist.
        """
        return markdown_document(self.get_conversation(conv_id), self.messages(conv_id))

    def export_json(self, conv_id: int) -> dict[str, Any]:
        """Export a conversation and its visible messages with every field.

        Returns:
            ``{"format": "alpaca-desk-conversation", "version": 1, "conversation": {...},
            "messages": [...]}``, ready for ``json.dump`` and for :meth:`import_json`.

        Raises:
            StoreError: the conversation does not exist.
        """
        conv = self.get_conversation(conv_id)
        return {
            "format": EXPORT_FORMAT,
            "version": EXPORT_VERSION,
            "conversation": asdict(conv),
            "messages": [asdict(message) for message in self.messages(conv_id)],
        }

    def import_json(self, data: Mapping[str, Any]) -> Conversation:
        """Create a new conversation from an :meth:`export_json` document.

        Nothing existing is changed: the import always gets new ids. Titles, settings,
        messages and their timestamps are kept; the conversation's ``updated_at`` is now, so
        it appears at the top of the list. An answer exported while streaming becomes
        ``'interrupted'``. Message ids and ``seq`` in the file are ignored; the list order counts.

        Args:
            data: The parsed JSON document.

        Returns:
            The new conversation.

        Raises:
            ImportFormatError: the document is not a valid export; the message says what is
                wrong and what to do.
            StoreError: the write failed.
        """
        conv_fields, message_rows = _validate_import(data)
        with self._write("import a conversation") as conn:
            conv_id = _insert_import(conn, conv_fields, message_rows, self._clock())
        return self.get_conversation(conv_id)

    def import_file(self, path: str | os.PathLike[str]) -> int:
        """Read, check and add an export file as a new conversation, on a connection of its own.

        The one method meant for a worker thread: a large import must not stall the window, and
        the store's own connection belongs to the GUI thread. The file is refused before it is
        read when it is too large (:data:`MAX_IMPORT_BYTES`), then checked like :meth:`import_json`;
        everything is written in one transaction, so a failure leaves nothing behind.

        Returns:
            The new conversation's id.

        Raises:
            ImportFormatError: the file is too large, not JSON, or not a valid export.
            StoreError: the write failed.
        """
        conv_fields, message_rows = _validate_import(read_import_file(path))
        with self._translate("import a conversation"):
            conn = sqlite3.connect(self.path, isolation_level=None, timeout=5.0)
            try:
                conn.execute("PRAGMA foreign_keys=ON")
                with _transaction(conn):
                    return _insert_import(conn, conv_fields, message_rows, self._clock())
            finally:
                conn.close()


def _insert_import(
    conn: sqlite3.Connection, conv_fields: dict[str, Any], message_rows: list[dict[str, Any]], now: float
) -> int:
    """Insert a checked import (see :func:`_validate_import`) inside the caller's transaction."""
    title = conv_fields["title"]
    if not title:
        first_user = next((m for m in message_rows if m["role"] == "user"), None)
        title = title_from_text(first_user["content"]) if first_user else ""
    cursor = conn.execute(
        "INSERT INTO conversations (title, created_at, updated_at, template, system_prompt,"
        " model_path) VALUES (?, ?, ?, ?, ?, ?)",
        (
            title,
            conv_fields["created_at"] if conv_fields["created_at"] is not None else now,
            now,
            conv_fields["template"],
            conv_fields["system_prompt"],
            conv_fields["model_path"],
        ),
    )
    conv_id = _lastrowid(cursor)
    for seq, m in enumerate(message_rows, start=1):
        created = m["created_at"] if m["created_at"] is not None else now
        updated = m["updated_at"] if m["updated_at"] is not None else created
        conn.execute(
            "INSERT INTO messages (conversation_id, seq, role, content, status, model, template,"
            " params, stats, active, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)",
            (
                conv_id,
                seq,
                m["role"],
                m["content"],
                m["status"],
                m["model"],
                m["template"],
                _dump_json(m["params"], "params"),
                _dump_json(m["stats"], "stats"),
                created,
                updated,
            ),
        )
    return conv_id
