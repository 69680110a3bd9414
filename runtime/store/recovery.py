"""A damaged conversation database: kept aside once, and what can still be read copied back.

:func:`open_store` is how the app opens its database. A file that is not a database, or whose
pages are damaged (``PRAGMA quick_check`` at open, see :class:`ConversationStore`), is renamed to
``conversations.sqlite3.damaged-YYYYmmdd-HHMMSS`` together with its ``-wal``/``-shm`` files, and a
new empty database starts at the usual path. The next start opens that new file, so the chats
of one session are still there at the next, and the damaged file is kept aside exactly once.

:func:`recover_conversations` then copies what can still be read from the kept file into the
store, as new conversations. It never writes to the kept file (it works on a copy): the file
stays as it was for any later attempt with better tools. In order of what each can save:

1. the ``sqlite3`` command-line tool's ``.recover``, which reads every page it can find, even
   pages no table points to any more (their rows land in a ``lost_and_found`` table);
2. Python's ``iterdump``, if it reads the whole file without an error;
3. reading each table row by row, stepping over the rows that cannot be read.

This module never imports Qt; it is slow on a large file, so the GUI runs it off its thread.
"""

from __future__ import annotations

import logging
import math
import os
import shutil
import sqlite3
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from runtime.errors import ImportFormatError, Notice, StoreError
from runtime.paths import keep_aside
from runtime.store.database import ConversationStore
from runtime.store.records import EXPORT_FORMAT, EXPORT_VERSION, ROLES, STATUSES
from runtime.untrusted_json import parse_json

log = logging.getLogger(__name__)

#: The label of a damaged database kept aside: ``conversations.sqlite3.damaged-YYYYmmdd-HHMMSS``.
DAMAGED_LABEL = "damaged"
#: SQLite's files beside a database, which belong to it: the -wal file holds its latest commits.
SIDECARS = ("-wal", "-shm", "-journal")
#: The command-line tool's ``.recover`` of a large file takes a while; a hung tool must not hang
#: the recovery, which then goes on with the next method.
CLI_TIMEOUT_S = 600.0
#: Reading row by row when the highest row id is unknown: stop after this many ids in a row that
#: cannot be read (a table whose root page is gone would otherwise be probed forever).
MAX_UNREADABLE_RUN = 10_000
#: A message's parameters are a few hundred characters; a longer cell is not decoded.
MAX_PARAMS_CHARS = 1024 * 1024

_CONVERSATION_COLUMNS = ("id", "title", "created_at", "updated_at", "template", "system_prompt", "model_path")
_MESSAGE_COLUMNS = (
    "id",
    "conversation_id",
    "seq",
    "role",
    "content",
    "status",
    "model",
    "template",
    "params",
    "stats",
    "active",
    "created_at",
    "updated_at",
)


class OpenedStore(NamedTuple):
    """What :func:`open_store` opened, and what the user must be told about it."""

    store: ConversationStore
    notices: list[Notice]


def open_store(
    path: str | os.PathLike[str], *, clock: Callable[[], float] = time.time, mark_interrupted: bool = True
) -> OpenedStore:
    """Open the conversation database at ``path``; keep a damaged one aside and start a new one.

    Args:
        path: The database (``app_paths().conversations_db``).
        clock: Source of timestamps, as for :class:`ConversationStore`.
        mark_interrupted: As for :class:`ConversationStore`; False where the app may be running.

    Returns:
        The store at ``path``, and a notice (code ``store_kept_aside``, params ``path``, ``kept``
        and ``detail``) when a damaged file was kept aside.

    Raises:
        StoreError: the file cannot be opened for another reason (locked, read-only, written by
            a newer version: nothing is moved then), or it is damaged and could not be moved aside.
    """
    path = Path(path)
    with tempfile.TemporaryDirectory(prefix="alpaca-desk-open-") as tmp:
        journals = _copy_journals(path, Path(tmp))
        try:
            return OpenedStore(ConversationStore(path, clock=clock, mark_interrupted=mark_interrupted), [])
        except StoreError as exc:
            if exc.code != "store_damaged":
                raise
            damage = exc
        try:
            kept = keep_aside(path, DAMAGED_LABEL, sidecars=SIDECARS, now=clock())
        except OSError as exc:
            log.error("conversation database %s is damaged and could not be moved aside: %s", path, exc)
            raise damage from exc
        for suffix, copy in journals.items():
            # SQLite removed it when the failed connection closed (see _copy_journals).
            if not os.path.lexists(f"{kept}{suffix}"):
                try:
                    shutil.copyfile(copy, f"{kept}{suffix}")
                except OSError as exc:
                    log.error("could not put back %s%s beside the kept file: %s", kept, suffix, exc)
    detail = str(damage.params.get("detail", damage))
    log.error("conversation database %s is damaged (%s); kept as %s, starting a new one", path, detail, kept)
    store = ConversationStore(path, clock=clock, mark_interrupted=mark_interrupted)
    notice = Notice(
        f"The conversation database {path} is damaged ({detail}). It was kept as {kept} and new chats go "
        f"to a new file in its place. Recover its messages to copy what can still be read.",
        code="store_kept_aside",
        params={"path": str(path), "kept": str(kept), "detail": detail},
    )
    return OpenedStore(store, [notice])


def _copy_journals(path: Path, folder: Path) -> dict[str, Path]:
    """Copies of the database's -wal and -journal files, made before SQLite opens it.

    When the last connection to a database closes, SQLite folds the -wal file into it and
    deletes it; a -wal file it cannot use (beside a file that is not a database) is deleted
    too. On a damaged database the -wal may hold the newest messages, so a copy is kept until
    the open has succeeded. They exist only after Alpaca Desk did not quit cleanly (a clean quit
    removes them), and SQLite keeps the -wal small (a checkpoint every 1,000 pages, 4 MB).
    """
    copies = {}
    for suffix in ("-wal", "-journal"):
        source = Path(f"{path}{suffix}")
        if source.is_file():
            try:
                shutil.copyfile(source, folder / f"copy{suffix}")
            except OSError as exc:
                # No room for the copy must not stop the start; the copy only matters if the
                # database then turns out to be damaged.
                log.warning("could not copy %s before opening it: %s", source, exc)
                continue
            copies[suffix] = folder / f"copy{suffix}"
    return copies


@dataclass(frozen=True)
class RecoveryReport:
    """What :func:`recover_conversations` copied.

    Attributes:
        damaged: The kept file it read (left unchanged).
        method: How the rows were read: ``"sqlite3 .recover"``, ``"iterdump"`` or ``"row by row"``.
        conversations: Conversations created in the store.
        messages: Messages copied into them.
        hidden: Earlier versions of messages (hidden by an edit or a regenerate) not copied; they
            stay in the kept file.
        skipped: Rows that were read but were not a usable message (damaged values).
    """

    damaged: Path
    method: str
    conversations: int
    messages: int
    hidden: int
    skipped: int

    def __str__(self) -> str:
        return (
            f"Recovered {self.messages} messages in {self.conversations} conversations from {self.damaged} "
            f"({self.method}; {self.hidden} earlier versions left in the file, {self.skipped} damaged rows skipped)."
        )


_DEFAULT_CLI = object()


def recover_conversations(
    damaged_path: str | os.PathLike[str],
    into_store: ConversationStore,
    *,
    sqlite3_cli: str | None | object = _DEFAULT_CLI,
) -> RecoveryReport:
    """Copy the readable conversations and messages of a damaged database into ``into_store``.

    Each recovered conversation becomes a new conversation (new ids: the store may already hold
    others), with its title, settings and visible messages in order; messages whose
    conversation row is lost are gathered by their old conversation id. Running it twice copies
    everything twice.

    Args:
        damaged_path: The damaged file (with its ``-wal`` file beside it, if any); only read.
        into_store: Where the conversations go. Use it from the calling thread only, like any
            store: a recovery thread opens its own (``mark_interrupted=False``).
        sqlite3_cli: The ``sqlite3`` command-line tool; default: the one on PATH; None: skip it.

    Returns:
        What was copied.

    Raises:
        StoreError: the damaged file is missing or cannot be copied, or writing to the store failed.
    """
    damaged = Path(damaged_path)
    if not damaged.is_file():
        raise StoreError(
            f"The damaged conversation database {damaged} does not exist any more; nothing to recover.",
            code="recover_missing",
            params={"path": str(damaged)},
        )
    cli = shutil.which("sqlite3") if sqlite3_cli is _DEFAULT_CLI else sqlite3_cli
    with tempfile.TemporaryDirectory(prefix="alpaca-desk-recover-") as tmp:
        # A copy: opening a database can write to it (a WAL checkpoint, a new -shm file), and the
        # kept file must stay exactly as it was.
        copy = Path(tmp) / "damaged.sqlite3"
        try:
            for suffix in ("", *SIDECARS):
                if os.path.isfile(f"{damaged}{suffix}"):
                    shutil.copyfile(f"{damaged}{suffix}", f"{copy}{suffix}")
            _fit_page_count(copy)
        except OSError as exc:
            raise StoreError(
                f"Could not copy {damaged} to recover from it: {exc.strerror or exc}. Check the drive and "
                f"free space (a copy as large as the file goes to the temporary folder), then try again.",
                code="store_ioerror",
                params={"path": str(damaged)},
            ) from exc
        source: Path | None = None
        method = ""
        if isinstance(cli, str) and cli:
            source, method = _recover_with_cli(cli, copy, Path(tmp) / "recovered.sqlite3"), "sqlite3 .recover"
        if source is None:
            source, method = _replay_iterdump(copy, Path(tmp) / "dumped.sqlite3"), "iterdump"
        if source is None:
            source, method = copy, "row by row"
        conn = sqlite3.connect(source, isolation_level=None)
        try:
            conversations, messages = _read_rows(conn)
        finally:
            conn.close()
    report = _import(conversations, messages, into_store, damaged=damaged, method=method)
    log.info("%s", report)
    return report


def _fit_page_count(copy: Path) -> None:
    """A file cut off (a full disk, a killed copy) still says in its header how many pages it had,
    and SQLite then refuses to read any of it ("malformed"), even the schema on page 1. Give the
    copy the page count it really has, so the pages that are left can be read."""
    with copy.open("r+b") as handle:
        header = handle.read(100)
        if len(header) < 100 or not header.startswith(b"SQLite format 3\x00"):
            return
        page_size = int.from_bytes(header[16:18], "big")
        page_size = 65_536 if page_size == 1 else page_size
        if page_size < 512 or page_size & (page_size - 1):
            return
        pages = os.fstat(handle.fileno()).st_size // page_size
        if 0 < pages < int.from_bytes(header[28:32], "big"):
            handle.seek(28)
            handle.write(pages.to_bytes(4, "big"))


# --- reading --------------------------------------------------------------------------------


def _recover_with_cli(cli: str, damaged: Path, target: Path) -> Path | None:
    """``sqlite3 damaged .recover | sqlite3 target``; the new database, or None if the tool failed."""
    script = target.with_suffix(".sql")
    try:
        with script.open("wb") as out:
            recover = subprocess.run(
                [cli, str(damaged), ".recover"],
                stdout=out,
                stderr=subprocess.PIPE,
                timeout=CLI_TIMEOUT_S,
                check=False,
            )
        if recover.returncode != 0:
            # Some builds lack the sqlite_dbpage table .recover needs ("no such table").
            log.warning("sqlite3 .recover failed (%s): %s", recover.returncode, recover.stderr.decode(errors="replace"))
            return None
        with script.open("rb") as sql:
            replay = subprocess.run(
                [cli, str(target)], stdin=sql, capture_output=True, timeout=CLI_TIMEOUT_S, check=False
            )
    except (OSError, subprocess.SubprocessError) as exc:
        log.warning("sqlite3 .recover could not run: %s", exc)
        return None
    if replay.returncode != 0 or not target.is_file():
        log.warning("replaying the recovered rows failed: %s", replay.stderr.decode(errors="replace"))
        return None
    return target


def _replay_iterdump(damaged: Path, target: Path) -> Path | None:
    """The whole file dumped as SQL and replayed into ``target``, or None at the first read error.

    A dump cut short by a damaged page is not used: reading row by row (the next method) gets
    every row the dump got, and the rows after the damaged page too.
    """
    try:
        source = sqlite3.connect(damaged)
        try:
            statements = list(source.iterdump())
        finally:
            source.close()
    except sqlite3.Error as exc:
        log.info("iterdump stopped (%s); reading row by row", exc)
        return None
    try:
        replay = sqlite3.connect(target, isolation_level=None)
        try:
            replay.executescript("\n".join(statements))
        finally:
            replay.close()
    except sqlite3.Error as exc:
        log.info("the dump could not be replayed (%s); reading row by row", exc)
        return None
    return target


def _read_rows(conn: sqlite3.Connection) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The readable conversation and message rows, including those .recover found without a table."""
    conversations = _readable_rows(conn, "conversations", _CONVERSATION_COLUMNS)
    messages = _readable_rows(conn, "messages", _MESSAGE_COLUMNS)
    for table in _lost_and_found_tables(conn):
        found_conversations, found_messages = _lost_and_found(conn, table)
        conversations += found_conversations
        messages += found_messages
    return conversations, messages


def _readable_rows(conn: sqlite3.Connection, table: str, columns: tuple[str, ...]) -> list[dict[str, Any]]:
    """Every row of ``table`` that can be read, stepping over unreadable ones.

    A damaged page breaks a scan when it reaches it. The scan then goes on from the next row id,
    looking each id up on its own until a scan gets past the damaged page: row ids live in a
    B-tree, so rows on intact pages are still found by their id.
    """
    names = ", ".join(columns)
    rows: dict[int, dict[str, Any]] = {}
    highest = _highest_rowid(conn, table)
    after = 0
    unreadable_run = 0
    while True:
        try:
            for row in conn.execute(f"SELECT rowid, {names} FROM {table} WHERE rowid > ? ORDER BY rowid", (after,)):
                rows[row[0]] = dict(zip(columns, row[1:], strict=True))
                after = row[0]
            break
        except sqlite3.Error as exc:
            if not _is_damage(exc):
                break  # not a database at all, or no such table: no row id can help
        after += 1
        if (highest is not None and after > highest) or unreadable_run > MAX_UNREADABLE_RUN:
            break
        try:
            row = conn.execute(f"SELECT rowid, {names} FROM {table} WHERE rowid = ?", (after,)).fetchone()
        except sqlite3.Error:
            unreadable_run += 1
            continue
        unreadable_run = 0
        if row is not None:
            rows[row[0]] = dict(zip(columns, row[1:], strict=True))
    return list(rows.values())


def _is_damage(exc: sqlite3.Error) -> bool:
    """A damaged page (worth stepping over), rather than a file or table that is not there at all."""
    name = getattr(exc, "sqlite_errorname", "") or ""
    return name.startswith("SQLITE_CORRUPT") or "malformed" in str(exc)


def _highest_rowid(conn: sqlite3.Connection, table: str) -> int | None:
    """The highest row id ``table`` ever had, from whichever source can still be read."""
    found = []
    for sql, args in (
        # AUTOINCREMENT keeps the highest id ever given in sqlite_sequence, a table of its own.
        ("SELECT seq FROM sqlite_sequence WHERE name = ?", (table,)),
        (f"SELECT max(rowid) FROM {table}", ()),
    ):
        try:
            row = conn.execute(sql, args).fetchone()
        except sqlite3.Error:
            continue
        if row is not None and isinstance(row[0], int):
            found.append(row[0])
    return max(found) if found else None


def _lost_and_found_tables(conn: sqlite3.Connection) -> list[str]:
    try:
        rows = conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'lost\\_and\\_found%' ESCAPE '\\'"
        ).fetchall()
    except sqlite3.Error:
        return []
    return [row[0] for row in rows]


def _lost_and_found(conn: sqlite3.Connection, table: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Rows .recover found on pages no table points to, told apart by their number of fields.

    Its columns are ``rootpgno, pgno, nfield, id, c0, c1, ...``: ``id`` is the row id and
    ``c0`` the (empty) id column, so ``c1`` onwards are the table's other columns in order.
    """
    conversations: list[dict[str, Any]] = []
    messages: list[dict[str, Any]] = []
    try:
        cursor = conn.execute(f'SELECT * FROM "{table}"')
        names = [d[0] for d in cursor.description]
        found = cursor.fetchall()
    except sqlite3.Error:
        return conversations, messages
    for values in found:
        row = dict(zip(names, values, strict=True))
        fields = [row.get(f"c{i}") for i in range(len(_MESSAGE_COLUMNS))]
        if row.get("nfield") == len(_MESSAGE_COLUMNS) and fields[3] in ROLES:
            messages.append({"id": row.get("id"), **dict(zip(_MESSAGE_COLUMNS[1:], fields[1:], strict=True))})
        elif row.get("nfield") == len(_CONVERSATION_COLUMNS) and isinstance(fields[2], int | float):
            conversation_fields = fields[1 : len(_CONVERSATION_COLUMNS)]
            conversations.append(
                {"id": row.get("id"), **dict(zip(_CONVERSATION_COLUMNS[1:], conversation_fields, strict=True))}
            )
    return conversations, messages


# --- writing --------------------------------------------------------------------------------


def _import(
    conversations: list[dict[str, Any]],
    messages: list[dict[str, Any]],
    into_store: ConversationStore,
    *,
    damaged: Path,
    method: str,
) -> RecoveryReport:
    """Create one conversation per old conversation id, oldest first (so the newest ends on top)."""
    by_id: dict[Any, dict[str, Any]] = {}
    for conv in conversations:
        by_id.setdefault(conv.get("id"), conv)
    # Old conversation id -> [(seq, old id, export message)], sorted below into their old order.
    grouped: dict[Any, list[tuple[float, float, dict[str, Any]]]] = {}
    hidden = skipped = 0
    for message in messages:
        if message.get("active") == 0:
            hidden += 1
            continue
        usable = _message_fields(message)
        if usable is None:
            skipped += 1
            continue
        order = (_number(message.get("seq")) or 0.0, _number(message.get("id")) or 0.0)
        grouped.setdefault(message.get("conversation_id"), []).append((*order, usable))
    created = copied = 0
    for conv_id in sorted(by_id.keys() | grouped.keys(), key=lambda key: _order(by_id.get(key), key)):
        rows = [fields for _seq, _id, fields in sorted(grouped.get(conv_id, []), key=lambda item: item[:2])]
        document = {
            "format": EXPORT_FORMAT,
            "version": EXPORT_VERSION,
            "conversation": _conversation_fields(by_id.get(conv_id)),
            "messages": rows,
        }
        try:
            into_store.import_json(document)
        except ImportFormatError as exc:  # the fields were checked above; a safety net only
            log.warning("recovered conversation %s not imported: %s", conv_id, exc)
            skipped += len(rows)
            continue
        created += 1
        copied += len(rows)
    return RecoveryReport(damaged, method, created, copied, hidden, skipped)


def _order(conv: dict[str, Any] | None, key: Any) -> tuple[float, float]:
    updated = _number(conv.get("updated_at")) if conv else None
    return (updated if updated is not None else 0.0, _number(key) or 0.0)


def _conversation_fields(conv: dict[str, Any] | None) -> dict[str, Any]:
    conv = conv or {}
    return {
        "title": _text(conv.get("title")) or "",
        "created_at": _number(conv.get("created_at")),
        "template": _text(conv.get("template")),
        "system_prompt": _text(conv.get("system_prompt")),
        "model_path": _text(conv.get("model_path")),
    }


def _message_fields(row: dict[str, Any]) -> dict[str, Any] | None:
    """An export message from a recovered row, or None if its role or text is unusable.

    Everything else that is damaged is dropped (a parameter block that is not JSON) or
    replaced (an unknown status becomes ``interrupted``), so one bad field does not cost the
    message.
    """
    content = _text(row.get("content"))
    if row.get("role") not in ROLES or content is None:
        return None
    status = row.get("status")
    return {
        "role": row["role"],
        "content": content,
        "status": status if status in STATUSES else "interrupted",
        "model": _text(row.get("model")),
        "template": _text(row.get("template")),
        "params": _json_object(row.get("params")),
        "stats": _json_object(row.get("stats")),
        "created_at": _number(row.get("created_at")),
        "updated_at": _number(row.get("updated_at")),
    }


def _text(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, bytes):
        # A damaged row can come back as a BLOB; its readable part is still the user's text.
        return value.decode("utf-8", errors="replace")
    return None


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def _json_object(value: Any) -> dict[str, Any] | None:
    text = _text(value)
    if text is None:
        return None
    try:
        # A damaged database's cell: it may hold anything.
        parsed = parse_json(text, source="a damaged row", max_bytes=MAX_PARAMS_CHARS)
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None
