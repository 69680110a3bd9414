"""The store's access to its SQLite connection: transactions, and sqlite3 errors turned into StoreError.

:class:`StoreConnection` is the base of every part of :class:`~runtime.store.database.ConversationStore`:
it hands out the open connection for a read or a one-transaction write, and reports a failure with
the file's path and what the user can do about it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from runtime.errors import StoreError


class StoreConnection:
    """The open connection of a :class:`~runtime.store.database.ConversationStore`, which sets these.

    Attributes:
        path: The database file.
    """

    path: Path
    _clock: Callable[[], float]
    _conn: sqlite3.Connection | None

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
