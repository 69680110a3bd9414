"""Real conversation databases and real damage, for the recovery tests (unit and GUI).

:func:`make_history` writes a history through the store; :func:`damage_page_with` overwrites the
database page that holds a given text with garbage, as a failing disk or a bad copy would, and
says which messages were on it.
"""

from __future__ import annotations

import random
import re
import sqlite3
from pathlib import Path

from runtime.store import ConversationStore

PARAMS = {"n_ctx": 2048, "max_tokens": 512, "temperature": 0.2, "top_k": 40, "top_p": 0.9, "seed": 7}
# Garbage for a damaged page. Its first byte (the page type) is none of SQLite's four B-tree page
# types, so no tool can mistake the page for rows: what is on it is simply gone.
GARBAGE_SEED = 7


def garbage(size: int) -> bytes:
    data = bytearray(random.Random(GARBAGE_SEED).randbytes(size))
    data[0] = 0xFF
    return bytes(data)


def make_history(db: Path, conversations: int = 6, turns: int = 30) -> dict[str, list[tuple[str, str]]]:
    """A real history; returns {title: [(role, text), ...]} of the visible messages.

    Each text carries a unique marker (``<c2-m17>``) so a test can find the page it is stored on.
    """
    expected: dict[str, list[tuple[str, str]]] = {}
    with ConversationStore(db) as store:
        for c in range(conversations):
            conv = store.create_conversation(f"Conversation {c}", template="chinese-alpaca")
            visible = []
            for m in range(turns):
                role = "user" if m % 2 == 0 else "assistant"
                text = f"<c{c}-m{m}> 羊驼 message {m} of conversation {c}. " + "Lorem ipsum " * 10
                store.add_message(conv.id, role, text, params=PARAMS if role == "assistant" else None)
                visible.append((role, text))
            # An edit hides the last answer (an earlier version, kept in the file) and adds another.
            store.truncate_after(conv.id, turns - 1)
            text = f"<c{c}-edit> the answer after an edit"
            store.add_message(conv.id, "assistant", text, status="stopped")
            expected[f"Conversation {c}"] = [*visible[:-1], ("assistant", text)]
    # Closing the last connection checkpoints the WAL into the file and removes it.
    assert not Path(f"{db}-wal").exists()
    return expected


def page_size(db: Path) -> int:
    conn = sqlite3.connect(db)
    try:
        return conn.execute("PRAGMA page_size").fetchone()[0]
    finally:
        conn.close()


def damage_page_with(db: Path, marker: str) -> set[str]:
    """Overwrite the page that holds ``marker`` with garbage; return the markers that were on it."""
    data = db.read_bytes()
    size = page_size(db)
    offset = data.index(marker.encode())
    page = offset // size
    lost = {
        token.decode() for token in set(re.findall(rb"<c\d+-(?:m\d+|edit)>", data[page * size : (page + 1) * size]))
    }
    with db.open("r+b") as handle:
        handle.seek(page * size)
        handle.write(garbage(size))
    return lost


def contents(store: ConversationStore) -> dict[str, list[tuple[str, str]]]:
    return {
        summary.title: [(m.role, m.content) for m in store.messages(summary.id)]
        for summary in store.list_conversations()
    }


def without(expected: dict[str, list[tuple[str, str]]], lost: set[str]) -> dict[str, list[tuple[str, str]]]:
    # A conversation whose messages were all lost is still there (its row was readable).
    return {
        title: [(role, text) for role, text in messages if text.split(" ", 1)[0] not in lost]
        for title, messages in expected.items()
    }
