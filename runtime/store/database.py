"""The conversation store: every conversation and message in one SQLite file.

The app opens one :class:`ConversationStore` on ``app_paths().conversations_db`` and uses it
from the GUI thread only. Every write is its own short transaction, so a crash (or a kill)
never loses a message whose write had returned, and never leaves the file half-written.

Messages are never edited away silently: :meth:`ConversationStore.truncate_after` (edit and
resend, regenerate) only hides later messages (``active = 0``), so an earlier version of a
conversation can still be recovered from the file by hand.

This module never imports Qt.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any

from runtime.errors import StoreError
from runtime.store.records import (
    EXPORT_FORMAT,
    EXPORT_VERSION,
    ROLES,
    STATUSES,
    UNSET,
    Conversation,
    ConversationSummary,
    Message,
    _dump_json,
    _Unset,
    title_from_text,
)
from runtime.store.transfer import _validate_import, markdown_document, read_import_file
from runtime.untrusted_json import parse_json

# Each entry upgrades the schema from version i to i + 1 (``PRAGMA user_version``). Add new
# entries at the end; never edit a released one, files in the wild were made with it.
# Role and status are checked in Python rather than with CHECK constraints: adding a status
# later would otherwise force a table rebuild in a migration.
_MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        # AUTOINCREMENT so the id of a deleted conversation is never reused: an open tab or a
        # remembered "last conversation" id can then never point at a different conversation.
        """CREATE TABLE conversations (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            title TEXT NOT NULL DEFAULT '',
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL,
            template TEXT,
            system_prompt TEXT,
            model_path TEXT
        )""",
        """CREATE TABLE messages (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
            seq INTEGER NOT NULL,
            role TEXT NOT NULL,
            content TEXT NOT NULL,
            status TEXT NOT NULL,
            model TEXT,
            template TEXT,
            params TEXT,
            stats TEXT,
            active INTEGER NOT NULL DEFAULT 1,
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL
        )""",
        # seq is unique among the visible messages only: hidden ones keep their old numbers.
        "CREATE UNIQUE INDEX messages_active_seq ON messages(conversation_id, seq) WHERE active = 1",
        # A full index too: the foreign-key cascade on delete cannot use a partial one.
        "CREATE INDEX messages_conversation ON messages(conversation_id, seq)",
        # Keeps the crash recovery on open cheap however large the file grows.
        "CREATE INDEX messages_streaming ON messages(status) WHERE status = 'streaming'",
        "CREATE INDEX conversations_updated ON conversations(updated_at)",
    ),
)
SCHEMA_VERSION = len(_MIGRATIONS)
#: A message's stored parameters are a few hundred characters; a longer cell is not decoded.
_MAX_JSON_CHARS = 1024 * 1024


class ConversationStore:
    """Conversations and their messages in one SQLite file.

    Open it once per app and use it from one thread. On open, every message still marked
    ``'streaming'`` is marked ``'interrupted'``: the app ended while that answer was being
    written (only one app instance uses the file at a time).

    Attributes:
        path: The database file.
        recovered_interrupted: How many streaming messages were marked interrupted on open.

    Raises:
        StoreError: (from the constructor) the file cannot be opened or created, is not a
            database, is damaged, or was written by a newer Alpaca Desk.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        clock: Callable[[], float] = time.time,
        mark_interrupted: bool = True,
    ) -> None:
        """Open (or create) the store at ``path``.

        Args:
            path: The SQLite file; its folder is created if missing.
            clock: Source of timestamps; tests pass a fake one to get a stable order.
            mark_interrupted: Mark streaming messages interrupted (see above). False for a
                second connection opened while the app runs (a recovery thread), which must not
                touch the answer the app is writing.
        """
        self.path = Path(path)
        self._clock = clock
        self._conn: sqlite3.Connection | None = None
        self.recovered_interrupted = 0
        self._mark_interrupted = mark_interrupted
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(
                f"Could not create the folder {self.path.parent} for the conversation database: "
                f"{exc.strerror or exc}. Check that the location exists and is writable, or start "
                f"Alpaca Desk with --data-dir pointing somewhere writable."
            ) from exc
        with self._translate("open the conversation history"):
            # isolation_level=None: the module issues no hidden BEGIN/COMMIT; every
            # transaction below is explicit, so "one write, one transaction" is visible here.
            conn = sqlite3.connect(self.path, isolation_level=None)
        try:
            with self._translate("open the conversation history"):
                self._setup(conn)
        except BaseException:
            # Release the file at once (Windows keeps open files locked) before reporting.
            conn.close()
            raise
        self._conn = conn

    def _setup(self, conn: sqlite3.Connection) -> None:
        # WAL: a write appends to the -wal file and never rewrites pages in place, so a kill at
        # any moment leaves the database consistent. synchronous=NORMAL in WAL mode keeps
        # every committed transaction through an app crash; only a power cut can lose the
        # last few commits (never corrupt). FULL would fsync on each streaming update, about
        # once a second, which costs battery and stalls on slow laptop disks for no real gain.
        # The first statement also reads the header: a file that is not a database fails here.
        conn.execute("PRAGMA journal_mode=WAL").fetchone()
        # A file with a good header and damaged pages opens without complaint and shows an
        # empty or partial list, and every write goes into the damaged file. quick_check finds
        # it before anything is written. Its cost is bounded: it reads each page once (linear in
        # the file size, about 1 ms per MB from the page cache: 0.2 s for 80,000 messages,
        # 170 MB), without integrity_check's cross-check of every index entry against its row.
        # quick_check(1) stops at the first problem: one is enough to stop using the file.
        problem = conn.execute("PRAGMA quick_check(1)").fetchone()[0]
        if problem != "ok":
            raise sqlite3.DatabaseError(f"database disk image is malformed ({problem})")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.create_function("casefold", 1, _casefold, deterministic=True)
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"The conversation database {self.path} was written by a newer version of "
                f"Alpaca Desk (schema {version}, this version knows up to {SCHEMA_VERSION}). "
                f"Update Alpaca Desk, or start it with --data-dir pointing to another folder.",
                code="store_newer",
                params={"path": str(self.path)},
            )
        for target in range(version + 1, SCHEMA_VERSION + 1):
            with _transaction(conn):
                for statement in _MIGRATIONS[target - 1]:
                    conn.execute(statement)
                # user_version lives in the file header and changes within the transaction,
                # so a crash mid-upgrade leaves the old version and the old schema together.
                conn.execute(f"PRAGMA user_version = {target}")
        if self._mark_interrupted:
            with _transaction(conn):
                cursor = conn.execute("UPDATE messages SET status = 'interrupted' WHERE status = 'streaming'")
                self.recovered_interrupted = cursor.rowcount
        # The file passed quick_check; damage that happens later is reported on use, and
        # found by quick_check at the next start.

    # --- life cycle -------------------------------------------------------------------------

    def close(self) -> None:
        """Close the file; further calls raise :class:`StoreError`. Closing twice is fine."""
        if self._conn is not None:
            conn, self._conn = self._conn, None
            with self._translate("close the conversation history"):
                conn.close()

    def __enter__(self) -> ConversationStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- conversations ----------------------------------------------------------------------

    def create_conversation(
        self,
        title: str = "",
        *,
        template: str | None = None,
        system_prompt: str | None = None,
        model_path: str | None = None,
    ) -> Conversation:
        """Create an empty conversation.

        Args:
            title: Its title; leave empty to name it after the first user message.
            template: Chat template name, or None for the app default.
            system_prompt: System prompt, or None for the template's default.
            model_path: Model to use, or None.

        Returns:
            The new conversation.
        """
        now = self._clock()
        with self._write("create a conversation") as conn:
            cursor = conn.execute(
                "INSERT INTO conversations (title, created_at, updated_at, template, system_prompt,"
                " model_path) VALUES (?, ?, ?, ?, ?, ?)",
                (title, now, now, template, system_prompt, model_path),
            )
            conv_id = _lastrowid(cursor)
        return self.get_conversation(conv_id)

    def list_conversations(self, *, search: str = "") -> list[ConversationSummary]:
        """List conversations, most recently updated first.

        Args:
            search: Keep only conversations whose title or any visible message contains this
                text, ignoring case; blank lists all.

        Returns:
            One summary per conversation.
        """
        needle = _casefold(search.strip())
        sql = (
            "SELECT c.id, c.title, c.updated_at,"
            " (SELECT COUNT(*) FROM messages m WHERE m.conversation_id = c.id AND m.active = 1)"
            " FROM conversations c"
        )
        args: tuple[Any, ...] = ()
        if needle:
            # instr() instead of LIKE: no wildcard escaping, and casefold() (Python's) folds
            # non-ASCII letters too, which SQLite's own lower()/LIKE do not.
            sql += (
                " WHERE instr(casefold(c.title), ?) > 0 OR EXISTS (SELECT 1 FROM messages m"
                " WHERE m.conversation_id = c.id AND m.active = 1 AND instr(casefold(m.content), ?) > 0)"
            )
            args = (needle, needle)
        sql += " ORDER BY c.updated_at DESC, c.id DESC"
        with self._read("list the conversations") as conn:
            rows = conn.execute(sql, args).fetchall()
        return [ConversationSummary(id=r[0], title=r[1], updated_at=r[2], message_count=r[3]) for r in rows]

    def get_conversation(self, conv_id: int) -> Conversation:
        """Return one conversation.

        Raises:
            StoreError: it does not exist (deleted).
        """
        with self._read("read a conversation") as conn:
            row = conn.execute(
                "SELECT id, title, created_at, updated_at, template, system_prompt, model_path"
                " FROM conversations WHERE id = ?",
                (conv_id,),
            ).fetchone()
        if row is None:
            raise _missing_conversation(conv_id)
        return Conversation(*row)

    def rename_conversation(self, conv_id: int, title: str) -> None:
        """Set a conversation's title (the list order does not change).

        Raises:
            StoreError: it does not exist.
        """
        with self._write("rename a conversation") as conn:
            self._require(conn, conv_id)
            conn.execute("UPDATE conversations SET title = ? WHERE id = ?", (title, conv_id))

    def update_conversation(
        self,
        conv_id: int,
        *,
        template: str | None | _Unset = UNSET,
        system_prompt: str | None | _Unset = UNSET,
        model_path: str | None | _Unset = UNSET,
    ) -> None:
        """Change a conversation's settings; options left out stay as they are.

        Args:
            conv_id: The conversation.
            template: New chat template name, or None for the app default.
            system_prompt: New system prompt, or None for the template's default.
            model_path: New model, or None.

        Raises:
            StoreError: it does not exist.
        """
        changes = {
            name: value
            for name, value in (
                ("template", template),
                ("system_prompt", system_prompt),
                ("model_path", model_path),
            )
            if value is not UNSET
        }
        with self._write("change a conversation's settings") as conn:
            self._require(conn, conv_id)
            if changes:
                # Column names come from the fixed tuple above, never from the caller.
                assignments = ", ".join(f"{name} = ?" for name in changes)
                conn.execute(f"UPDATE conversations SET {assignments} WHERE id = ?", (*changes.values(), conv_id))

    def delete_conversation(self, conv_id: int) -> None:
        """Delete a conversation and all its messages, hidden ones included, for good.

        Raises:
            StoreError: it does not exist.
        """
        with self._write("delete a conversation") as conn:
            self._require(conn, conv_id)
            conn.execute("DELETE FROM conversations WHERE id = ?", (conv_id,))

    # --- messages ---------------------------------------------------------------------------

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

    # --- export and import ------------------------------------------------------------------

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

    # --- internals --------------------------------------------------------------------------

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            raise StoreError(f"The conversation database {self.path} is closed; restart Alpaca Desk.")
        return self._conn

    @contextmanager
    def _read(self, action: str) -> Iterator[sqlite3.Connection]:
        conn = self._connection()
        with self._translate(action):
            yield conn

    @contextmanager
    def _write(self, action: str) -> Iterator[sqlite3.Connection]:
        conn = self._connection()
        with self._translate(action), _transaction(conn):
            yield conn

    @contextmanager
    def _translate(self, action: str) -> Iterator[None]:
        """Turn sqlite3 errors into a StoreError naming the file and what to do."""
        try:
            yield
        except sqlite3.Error as exc:
            code, advice = _advice(exc)
            raise StoreError(
                f'Could not {action}: the conversation database {self.path} reported "{exc}". {advice}',
                code=code,
                params={"path": str(self.path), "detail": str(exc)},
            ) from exc

    def _require(self, conn: sqlite3.Connection, conv_id: int) -> str:
        """Return the conversation's title, or raise StoreError if it does not exist."""
        row = conn.execute("SELECT title FROM conversations WHERE id = ?", (conv_id,)).fetchone()
        if row is None:
            raise _missing_conversation(conv_id)
        return row[0]

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


_MESSAGE_COLUMNS = (
    "id, conversation_id, seq, role, content, status, model, template, params, stats, created_at, updated_at"
)


def _message(row: tuple[Any, ...]) -> Message:
    values = list(row)
    values[8] = _load_json(values[8])
    values[9] = _load_json(values[9])
    return Message(*values)


@contextmanager
def _transaction(conn: sqlite3.Connection) -> Iterator[None]:
    # IMMEDIATE takes the write lock at the start, so a busy file is reported (after the
    # connection's 5 s busy timeout) before anything is written rather than at COMMIT.
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
        # COMMIT is inside the try: if it fails (disk full), the transaction must not stay
        # open, or every later write would fail with "cannot start a transaction".
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def _lastrowid(cursor: sqlite3.Cursor) -> int:
    rowid = cursor.lastrowid
    assert rowid is not None  # an INSERT always sets it
    return rowid


def _casefold(text: str | None) -> str:
    return text.casefold() if text else ""


def _missing_conversation(conv_id: int) -> StoreError:
    return StoreError(
        f"Conversation {conv_id} does not exist (it may have been deleted); reload the conversation list."
    )


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}, got {role!r}")


def _check_status(status: str) -> None:
    if status not in STATUSES:
        raise ValueError(f"status must be one of {', '.join(STATUSES)}, got {status!r}")


def _load_json(text: str | None) -> dict[str, Any] | None:
    # The app's own column, but a database file is a file on disk like the settings.
    return None if text is None else parse_json(text, source="a stored message", max_bytes=_MAX_JSON_CHARS)


def _advice(exc: sqlite3.Error) -> tuple[str, str]:
    """A code for the GUI's translation, and what the user can do, by the SQLite result code."""
    name = getattr(exc, "sqlite_errorname", "") or ""
    text = str(exc).lower()
    if name.startswith(("SQLITE_NOTADB", "SQLITE_CORRUPT")) or "not a database" in text or "malformed" in text:
        return "store_damaged", (
            "The file is damaged or is not an Alpaca Desk database. Restart Alpaca Desk: it keeps the "
            "damaged file aside, starts a new one and offers to recover the messages that can still be read."
        )
    if name.startswith("SQLITE_FULL") or "disk is full" in text:
        return "store_full", "The disk is full; free some space and try again."
    if name.startswith("SQLITE_READONLY") or "readonly" in text:
        return "store_readonly", "The file or its folder is read-only; make them writable, or use --data-dir elsewhere."
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "locked" in text:
        return "store_locked", "Another program (another Alpaca Desk?) is using the file; close it and try again."
    if name.startswith(("SQLITE_CANTOPEN", "SQLITE_PERM", "SQLITE_AUTH")) or "unable to open" in text:
        return (
            "store_cantopen",
            "Check that the path is a file (not a folder) you may read and write, or use --data-dir.",
        )
    if name.startswith("SQLITE_IOERR") or "i/o error" in text:
        return "store_ioerror", "The disk reported an error; check the drive (and free space), then try again."
    return "store_error", "Try again; if it keeps happening, restart Alpaca Desk."
