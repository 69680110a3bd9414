"""The conversation store: every conversation and message in one SQLite file.

The app opens one :class:`ConversationStore` on ``app_paths().conversations_db`` and uses it
from the GUI thread only. Every write is its own short transaction, so a crash (or a kill)
never loses a message whose write had returned, and never leaves the file half-written.

Messages are never edited away silently: :meth:`ConversationStore.truncate_after` (edit and
resend, regenerate) only hides later messages (``active = 0``), so an earlier version of a
conversation can still be recovered from the file by hand.

This module opens and closes the store; its methods live in one module per job: ``_schema``
(migrations, checks at open), ``_connection`` (transactions, errors), ``_conversations``,
``_messages`` and ``_exchange`` (export and import). This package never imports Qt.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

from runtime.errors import StoreError
from runtime.store._conversations import ConversationsMixin
from runtime.store._exchange import ExchangeMixin
from runtime.store._messages import MessagesMixin
from runtime.store._schema import SCHEMA_VERSION, prepare_connection

__all__ = ["SCHEMA_VERSION", "ConversationStore"]


class ConversationStore(ExchangeMixin, ConversationsMixin, MessagesMixin):
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
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(
                f"Could not create the folder {self.path.parent} for the conversation database: "
                f"{exc.strerror or exc}. Check that the location exists and is writable, or start "
                f"Alpaca Desk with --data-dir pointing somewhere writable."
            ) from exc
        with self._translate("open the conversation history"):
            # isolation_level=None: sqlite3 issues no hidden BEGIN/COMMIT; every
            # transaction is explicit (``_transaction``), so "one write, one transaction" is visible.
            conn = sqlite3.connect(self.path, isolation_level=None)
        try:
            with self._translate("open the conversation history"):
                self.recovered_interrupted = prepare_connection(conn, self.path, mark_interrupted=mark_interrupted)
        except BaseException:
            # Release the file at once (Windows keeps open files locked) before reporting.
            conn.close()
            raise
        self._conn = conn

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
