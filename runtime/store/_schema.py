"""The store's schema: its migrations, and the checks and settings of a connection at open."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from runtime.errors import StoreError
from runtime.store._connection import _casefold, _transaction

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


def prepare_connection(conn: sqlite3.Connection, path: Path, *, mark_interrupted: bool) -> int:
    """Check a newly opened file, bring its schema up to date and recover interrupted answers.

    Args:
        conn: The new connection (no transaction open).
        path: Its file, for the messages.
        mark_interrupted: Mark every ``'streaming'`` message ``'interrupted'``.

    Returns:
        How many messages were marked interrupted.

    Raises:
        StoreError: the file was written by a newer Alpaca Desk.
        sqlite3.DatabaseError: the file is not a database, or is damaged.
    """
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
            f"The conversation database {path} was written by a newer version of "
            f"Alpaca Desk (schema {version}, this version knows up to {SCHEMA_VERSION}). "
            f"Update Alpaca Desk, or start it with --data-dir pointing to another folder.",
            code="store_newer",
            params={"path": str(path)},
        )
    for target in range(version + 1, SCHEMA_VERSION + 1):
        with _transaction(conn):
            for statement in _MIGRATIONS[target - 1]:
                conn.execute(statement)
            # user_version lives in the file header and changes within the transaction,
            # so a crash mid-upgrade leaves the old version and the old schema together.
            conn.execute(f"PRAGMA user_version = {target}")
    interrupted = 0
    if mark_interrupted:
        with _transaction(conn):
            cursor = conn.execute("UPDATE messages SET status = 'interrupted' WHERE status = 'streaming'")
            interrupted = cursor.rowcount
    # The file passed quick_check; damage that happens later is reported on use, and
    # found by quick_check at the next start.
    return interrupted
