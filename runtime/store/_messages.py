"""The store's messages: append, update while streaming, read in pages, count, hide after an edit."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from typing import Any

from runtime.errors import StoreError
from runtime.store._connection import StoreConnection, _lastrowid
from runtime.store.records import ROLES, STATUSES, Message, _dump_json, title_from_text
from runtime.untrusted_json import parse_json

#: A message's stored parameters are a few hundred characters; a longer cell is not decoded.
_MAX_JSON_CHARS = 1024 * 1024


class MessagesMixin(StoreConnection):
    """The message methods of :class:`~runtime.store.database.ConversationStore`."""

    def add_message(
        self,
        conv_id: int,
        role: str,
        content: str,
        *,
        status: str = "complete",
        model: str | None = None,
        template: str | None = None,
        params: Mapping[str, Any] | None = None,
        stats: Mapping[str, Any] | None = None,
    ) -> Message:
        """Append a message after the last visible one, in one transaction.

        The first user message of an untitled conversation also names it
        (:func:`title_from_text`). The conversation's ``updated_at`` moves to now.

        Args:
            conv_id: The conversation.
            role: ``'user'`` or ``'assistant'``.
            content: The text (empty for an answer that is about to stream).
            status: One of :data:`STATUSES`; ``'streaming'`` for an answer being written.
            model: The model that writes the answer.
            template: The chat template used.
            params: Decoding parameters (JSON-serialisable).
            stats: Generation statistics (JSON-serialisable).

        Returns:
            The stored message. Once this returns, the message survives a crash.

        Raises:
            ValueError: ``role`` or ``status`` is not a known value.
            TypeError: ``params`` or ``stats`` cannot be stored as JSON.
            StoreError: the conversation does not exist, or the write failed.
        """
        _check_role(role)
        _check_status(status)
        params_json = _dump_json(params, "params")
        stats_json = _dump_json(stats, "stats")
        now = self._clock()
        with self._write("save a message") as conn:
            title = self._require(conn, conv_id)
            seq = conn.execute(
                "SELECT COALESCE(MAX(seq), 0) + 1 FROM messages WHERE conversation_id = ? AND active = 1",
                (conv_id,),
            ).fetchone()[0]
            cursor = conn.execute(
                "INSERT INTO messages (conversation_id, seq, role, content, status, model, template,"
                " params, stats, active, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)",
                (conv_id, seq, role, content, status, model, template, params_json, stats_json, now, now),
            )
            message_id = _lastrowid(cursor)
            conn.execute("UPDATE conversations SET updated_at = ? WHERE id = ?", (now, conv_id))
            if role == "user" and not title and self._first_user_message(conn, conv_id) == message_id:
                conn.execute("UPDATE conversations SET title = ? WHERE id = ?", (title_from_text(content), conv_id))
        return self._get_message(message_id)

    def update_message(
        self,
        message_id: int,
        *,
        content: str | None = None,
        status: str | None = None,
        stats: Mapping[str, Any] | None = None,
    ) -> None:
        """Change a message in one transaction (called about once a second while streaming).

        Options left as None stay as they are. The conversation's ``updated_at`` moves to now.

        Args:
            message_id: The message.
            content: The full new text (not a delta).
            status: New status, one of :data:`STATUSES`.
            stats: New statistics; replaces the old ones.

        Raises:
            ValueError: ``status`` is not a known value.
            StoreError: the message does not exist, or the write failed.
        """
        if status is not None:
            _check_status(status)
        changes: dict[str, Any] = {}
        if content is not None:
            changes["content"] = content
        if status is not None:
            changes["status"] = status
        if stats is not None:
            changes["stats"] = _dump_json(stats, "stats")
        if not changes:
            return
        now = self._clock()
        changes["updated_at"] = now
        with self._write("save a message") as conn:
            row = conn.execute("SELECT conversation_id FROM messages WHERE id = ?", (message_id,)).fetchone()
            if row is None:
                raise StoreError(
                    f"Message {message_id} does not exist (its conversation may have been deleted); "
                    f"reload the conversation."
                )
            assignments = ", ".join(f"{name} = ?" for name in changes)
            conn.execute(f"UPDATE messages SET {assignments} WHERE id = ?", (*changes.values(), message_id))
            conn.execute("UPDATE conversations SET updated_at = ? WHERE id = ?", (now, row[0]))

    def messages(self, conv_id: int, *, last: int | None = None, before_seq: int | None = None) -> list[Message]:
        """Return the visible messages of a conversation, in order.

        Args:
            conv_id: The conversation.
            last: Only the newest ``last`` of them (a long conversation is shown and prompted in
                part; reading all of it would cost time and memory for nothing).
            before_seq: Only those before this position (the page above the ones shown).

        Raises:
            StoreError: the conversation does not exist.
        """
        bound = before_seq if before_seq is not None else -1
        with self._read("read the messages") as conn:
            self._require(conn, conv_id)
            query = (
                f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE conversation_id = ? AND active = 1"
                " AND (? < 0 OR seq < ?) ORDER BY seq DESC LIMIT ?"
            )
            rows = conn.execute(query, (conv_id, bound, bound, -1 if last is None else last)).fetchall()
        return [_message(row) for row in reversed(rows)]

    def revision(self) -> tuple[int, int]:
        """A value that changes whenever the database does, by this store or another connection.

        Callers that read the same messages again and again (the prompt of the conversation
        shown is read for the context meter, the template preview and the answer) keep what
        they read while this is unchanged: a long conversation's prompt is thousands of rows.
        """
        with self._read("check for changes") as conn:
            data_version = conn.execute("PRAGMA data_version").fetchone()[0]  # others' commits
            return conn.total_changes, int(data_version)  # total_changes: this connection's

    def message_count(self, conv_id: int) -> int:
        """How many visible messages a conversation has.

        Raises:
            StoreError: the conversation does not exist.
        """
        with self._read("count the messages") as conn:
            self._require(conn, conv_id)
            row = conn.execute(
                "SELECT COUNT(*) FROM messages WHERE conversation_id = ? AND active = 1", (conv_id,)
            ).fetchone()
        return int(row[0])

    def get_message(self, message_id: int) -> Message:
        """One message by id (visible or not).

        Raises:
            StoreError: there is no such message.
        """
        return self._get_message(message_id)

    def truncate_after(self, conv_id: int, seq: int) -> None:
        """Hide every visible message after position ``seq`` (edit and resend, regenerate).

        Hidden messages stay in the file (``active = 0``) but no longer appear in
        :meth:`messages`, counts, search or exports. The next message added gets ``seq + 1``.

        Args:
            conv_id: The conversation.
            seq: The last position to keep; 0 hides every message.

        Raises:
            StoreError: the conversation does not exist.
        """
        now = self._clock()
        with self._write("shorten a conversation") as conn:
            self._require(conn, conv_id)
            cursor = conn.execute(
                "UPDATE messages SET active = 0, updated_at = ? WHERE conversation_id = ? AND active = 1 AND seq > ?",
                (now, conv_id, seq),
            )
            if cursor.rowcount:
                conn.execute("UPDATE conversations SET updated_at = ? WHERE id = ?", (now, conv_id))

    @staticmethod
    def _first_user_message(conn: sqlite3.Connection, conv_id: int) -> int | None:
        # Counts hidden messages too: after an edit of the first message the conversation
        # keeps the title it got first (or the one the user gave it).
        row = conn.execute(
            "SELECT MIN(id) FROM messages WHERE conversation_id = ? AND role = 'user'", (conv_id,)
        ).fetchone()
        return row[0]

    def _get_message(self, message_id: int) -> Message:
        with self._read("read a message") as conn:
            row = conn.execute(f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE id = ?", (message_id,)).fetchone()
        if row is None:
            raise StoreError(f"Message {message_id} does not exist; reload the conversation.")
        return _message(row)


_MESSAGE_COLUMNS = (
    "id, conversation_id, seq, role, content, status, model, template, params, stats, created_at, updated_at"
)


def _message(row: tuple[Any, ...]) -> Message:
    values = list(row)
    values[8] = _load_json(values[8])
    values[9] = _load_json(values[9])
    return Message(*values)


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}, got {role!r}")


def _check_status(status: str) -> None:
    if status not in STATUSES:
        raise ValueError(f"status must be one of {', '.join(STATUSES)}, got {status!r}")


def _load_json(text: str | None) -> dict[str, Any] | None:
    # The app's own column, but a database file is a file on disk like the settings.
    return None if text is None else parse_json(text, source="a stored message", max_bytes=_MAX_JSON_CHARS)
