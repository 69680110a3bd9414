"""Child process of the store's crash test: writes until it is killed.

Run as ``python -m tests.unit.store._store_writer DB`` from the repository root. It prints
``conv A B`` and ``streaming ID`` first, then loops forever: add a user message to A and print
``add ID I``, then rewrite the streaming answer in B and print ``upd N``. Each line is written
and flushed only after the write it reports has returned, so every printed line is a promise
the parent checks after killing this process at an arbitrary moment.
"""

from __future__ import annotations

import sys

from runtime.store import ConversationStore


def message_text(index: int) -> str:
    """Content of the ``index``-th user message: a few KB, so a kill often lands mid-write."""
    return f"message {index}: " + "你好，世界 😀 Alpaca 羊驼 " * 150 + f"end {index}"


def stream_text(updates: int) -> str:
    """Content of the streaming answer after ``updates`` updates (the full text each time)."""
    return "".join(f"片段{k}🦙 " for k in range(updates))


def main(db: str) -> None:
    """Write until killed."""
    out = sys.stdout
    store = ConversationStore(db)
    conv_a = store.create_conversation("writes")
    conv_b = store.create_conversation("streams")
    streaming = store.add_message(conv_b.id, "assistant", "", status="streaming", model="m.gguf")
    out.write(f"conv {conv_a.id} {conv_b.id}\nstreaming {streaming.id}\n")
    out.flush()
    index = 0
    while True:
        message = store.add_message(conv_a.id, "user", message_text(index))
        out.write(f"add {message.id} {index}\n")
        out.flush()
        store.update_message(streaming.id, content=stream_text(index + 1))
        out.write(f"upd {index + 1}\n")
        out.flush()
        index += 1


if __name__ == "__main__":
    main(sys.argv[1])
