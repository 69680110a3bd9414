"""Tests of runtime.store: the SQLite conversation store (no Qt anywhere)."""

from __future__ import annotations

import json
import random
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from runtime.errors import ImportFormatError, StoreError
from runtime.paths import app_paths
from runtime.store import (
    EXPORT_FORMAT,
    SCHEMA_VERSION,
    Conversation,
    ConversationStore,
    ConversationSummary,
    Message,
    title_from_text,
)
from tests.unit.store._store_writer import message_text, stream_text

REPO_ROOT = Path(__file__).resolve().parents[3]
PARAMS = {"n_ctx": 2048, "max_tokens": 512, "temperature": 0.2, "top_k": 40, "top_p": 0.9, "seed": 7}
STATS = {"tokens": 12, "tokens_per_s": 8.5, "seed": 1234}
CHINESE = "请用三句话介绍一下羊驼。🦙✨\n第二行：中文标点，“引号”与emoji 😀"


class FakeClock:
    """Timestamps 1000, 1001, ...: every write is strictly later than the one before."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        self.now += 1.0
        return self.now


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "data" / "conversations.sqlite3"


@pytest.fixture
def store(db: Path) -> Iterator[ConversationStore]:
    with ConversationStore(db, clock=FakeClock()) as opened:
        yield opened


def raw_rows(db: Path, sql: str, args: tuple = ()) -> list[tuple]:
    """Query the file behind the store's back, as a recovery tool would."""
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


# --- opening ------------------------------------------------------------------------------------


def test_opens_app_paths_db_with_wal_and_schema_version() -> None:
    db = app_paths().conversations_db  # under the test's tmp_path (conftest), folder not created yet
    with ConversationStore(db) as store:
        assert store.path == db
        assert store.recovered_interrupted == 0
        assert store._conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert store._conn.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
    assert raw_rows(db, "PRAGMA journal_mode") == [("wal",)]
    assert raw_rows(db, "PRAGMA user_version") == [(SCHEMA_VERSION,)]
    # Reopening an existing file changes nothing.
    with ConversationStore(db) as store:
        assert store.list_conversations() == []


@pytest.mark.parametrize(
    "content",
    [
        random.Random(1).randbytes(8192),
        b"SQLite format 3\x00" + random.Random(2).randbytes(8176),
        "这不是数据库\n".encode() * 100,
    ],
    ids=["random-bytes", "sqlite-header-then-garbage", "text-file"],
)
def test_corrupt_file_gives_store_error_and_is_left_alone(db: Path, content: bytes) -> None:
    db.parent.mkdir(parents=True)
    db.write_bytes(content)
    with pytest.raises(StoreError) as info:
        ConversationStore(db)
    message = str(info.value)
    assert str(db) in message
    assert "keeps the damaged file aside" in message
    assert db.read_bytes() == content  # the user's file is never overwritten


def test_path_that_is_a_folder_gives_store_error(db: Path) -> None:
    db.mkdir(parents=True)
    with pytest.raises(StoreError, match="unable to open"):
        ConversationStore(db)


def test_newer_schema_gives_store_error(db: Path) -> None:
    ConversationStore(db).close()
    conn = sqlite3.connect(db)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(StoreError, match="newer version of Alpaca Desk"):
        ConversationStore(db)


def test_closed_store_raises_store_error(db: Path) -> None:
    store = ConversationStore(db)
    store.close()
    store.close()  # twice is fine
    with pytest.raises(StoreError, match="closed"):
        store.list_conversations()


def test_disk_full_gives_store_error_and_store_stays_usable(store: ConversationStore) -> None:
    conv = store.create_conversation("full")
    # Cap the file at its current size: the next large write fails as on a full disk.
    pages = store._conn.execute("PRAGMA page_count").fetchone()[0]
    store._conn.execute(f"PRAGMA max_page_count = {pages}")
    with pytest.raises(StoreError, match="disk is full"):
        store.add_message(conv.id, "user", "x" * 100_000)
    store._conn.execute("PRAGMA max_page_count = 1073741823")
    # The failed transaction was rolled back: nothing half-written, later writes work.
    assert store.messages(conv.id) == []
    assert store.add_message(conv.id, "user", "ok").seq == 1


# --- conversations ------------------------------------------------------------------------------


def test_create_and_get_conversation_round_trip(store: ConversationStore) -> None:
    conv = store.create_conversation(
        "羊驼", template="alpaca", system_prompt="You are helpful.", model_path="/m/7b.gguf"
    )
    assert isinstance(conv, Conversation)
    assert conv == store.get_conversation(conv.id)
    assert (conv.title, conv.template, conv.system_prompt, conv.model_path) == (
        "羊驼",
        "alpaca",
        "You are helpful.",
        "/m/7b.gguf",
    )
    assert conv.created_at == conv.updated_at
    plain = store.create_conversation()
    assert (plain.title, plain.template, plain.system_prompt, plain.model_path) == ("", None, None, None)
    assert plain.id != conv.id


def test_missing_conversation_gives_clear_store_error(store: ConversationStore) -> None:
    for call in (
        lambda: store.get_conversation(99),
        lambda: store.rename_conversation(99, "x"),
        lambda: store.update_conversation(99, template="x"),
        lambda: store.delete_conversation(99),
        lambda: store.add_message(99, "user", "x"),
        lambda: store.messages(99),
        lambda: store.truncate_after(99, 0),
        lambda: store.export_json(99),
        lambda: store.export_markdown(99),
    ):
        with pytest.raises(StoreError, match="Conversation 99 does not exist"):
            call()


def test_rename_and_update_conversation(store: ConversationStore) -> None:
    conv = store.create_conversation("old", template="alpaca", system_prompt="sys", model_path="/a.gguf")
    store.rename_conversation(conv.id, "新名字")
    store.update_conversation(conv.id, system_prompt=None)  # None is stored explicitly ...
    got = store.get_conversation(conv.id)
    assert (got.title, got.template, got.system_prompt, got.model_path) == (
        "新名字",
        "alpaca",
        None,
        "/a.gguf",
    )
    store.update_conversation(conv.id, template="llama-2", model_path=None)  # ... the rest untouched
    got = store.get_conversation(conv.id)
    assert (got.template, got.system_prompt, got.model_path) == ("llama-2", None, None)
    store.update_conversation(conv.id)  # nothing to change is fine
    # Settings and names are not "activity": the list order stays.
    assert got.updated_at == conv.updated_at


def test_delete_conversation_removes_its_messages(store: ConversationStore, db: Path) -> None:
    keep = store.create_conversation("keep")
    gone = store.create_conversation("gone")
    store.add_message(keep.id, "user", "stay")
    store.add_message(gone.id, "user", "a")
    store.add_message(gone.id, "assistant", "b")
    store.truncate_after(gone.id, 1)
    store.delete_conversation(gone.id)
    assert [c.id for c in store.list_conversations()] == [keep.id]
    assert raw_rows(db, "SELECT COUNT(*) FROM messages WHERE conversation_id = ?", (gone.id,)) == [(0,)]
    assert [m.content for m in store.messages(keep.id)] == ["stay"]
    with pytest.raises(StoreError):
        store.get_conversation(gone.id)


def test_list_newest_updated_first_with_counts(store: ConversationStore) -> None:
    first = store.create_conversation("first")
    second = store.create_conversation("second")
    assert [c.id for c in store.list_conversations()] == [second.id, first.id]
    message = store.add_message(first.id, "user", "hi")
    store.add_message(first.id, "assistant", "hello")
    summaries = store.list_conversations()
    assert [c.id for c in summaries] == [first.id, second.id]
    assert summaries[0] == ConversationSummary(
        id=first.id, title="first", updated_at=store.get_conversation(first.id).updated_at, message_count=2
    )
    assert summaries[1].message_count == 0
    store.add_message(second.id, "user", "x")
    assert [c.id for c in store.list_conversations()] == [second.id, first.id]
    store.update_message(message.id, content="edited")  # an update counts as activity too
    assert [c.id for c in store.list_conversations()] == [first.id, second.id]


def test_search_titles_and_content_ignoring_case(store: ConversationStore) -> None:
    apple = store.create_conversation("Äpfel und Birnen")
    llama = store.create_conversation("About LLaMA")
    chinese = store.create_conversation("羊驼的故事")
    store.add_message(llama.id, "user", "What is a Vicuña?")
    store.add_message(chinese.id, "user", "随便聊聊")
    store.add_message(chinese.id, "assistant", "hidden later: 隐藏")
    store.truncate_after(chinese.id, 1)

    def found(text: str) -> set[int]:
        return {c.id for c in store.list_conversations(search=text)}

    assert found("äpfel") == {apple.id}  # non-ASCII letters fold too
    assert found("llama") == {llama.id}
    assert found("  LLAMA ") == {llama.id}
    assert found("VICUÑA") == {llama.id}  # message content matches as well
    assert found("羊驼") == {chinese.id}
    assert found("随便") == {chinese.id}
    assert found("隐藏") == set()  # hidden messages are not searched
    assert found("%") == set()  # no LIKE wildcards
    assert found("nothing like this") == set()
    assert found("") == found("   ") == {apple.id, llama.id, chinese.id}


# --- messages -----------------------------------------------------------------------------------


def test_add_message_round_trip_every_field(store: ConversationStore) -> None:
    conv = store.create_conversation("t")
    user = store.add_message(conv.id, "user", CHINESE)
    answer = store.add_message(
        conv.id,
        "assistant",
        "羊驼是南美洲的动物。🦙",
        status="stopped",
        model="chinese-alpaca-7b.Q4_K_M.gguf",
        template="alpaca",
        params=PARAMS,
        stats=STATS,
    )
    assert isinstance(answer, Message)
    assert (user.seq, answer.seq) == (1, 2)
    assert user == Message(
        id=user.id,
        conversation_id=conv.id,
        seq=1,
        role="user",
        content=CHINESE,
        status="complete",
        model=None,
        template=None,
        params=None,
        stats=None,
        created_at=user.created_at,
        updated_at=user.created_at,
    )
    assert (answer.status, answer.model, answer.template) == (
        "stopped",
        "chinese-alpaca-7b.Q4_K_M.gguf",
        "alpaca",
    )
    assert (answer.params, answer.stats) == (PARAMS, STATS)
    assert store.messages(conv.id) == [user, answer]
    assert store.get_conversation(conv.id).updated_at == answer.created_at


def test_add_message_rejects_unknown_role_status_and_unserialisable_params(store: ConversationStore) -> None:
    conv = store.create_conversation("t")
    with pytest.raises(ValueError, match="role"):
        store.add_message(conv.id, "system", "x")
    with pytest.raises(ValueError, match="status"):
        store.add_message(conv.id, "user", "x", status="done")
    with pytest.raises(TypeError, match="params"):
        store.add_message(conv.id, "assistant", "x", params={"f": object()})
    assert store.messages(conv.id) == []


def test_update_message_while_streaming(store: ConversationStore) -> None:
    conv = store.create_conversation("t")
    store.add_message(conv.id, "user", "q")
    message = store.add_message(conv.id, "assistant", "", status="streaming", params=PARAMS)
    for text in ("羊", "羊驼", "羊驼🦙"):
        store.update_message(message.id, content=text)
    store.update_message(message.id, status="complete", stats=STATS)
    store.update_message(message.id)  # nothing to change: no-op
    (_, got) = store.messages(conv.id)
    assert (got.content, got.status, got.stats, got.params) == ("羊驼🦙", "complete", STATS, PARAMS)
    assert got.updated_at > got.created_at
    assert store.get_conversation(conv.id).updated_at == got.updated_at
    with pytest.raises(ValueError, match="status"):
        store.update_message(message.id, status="finished")
    with pytest.raises(StoreError, match="Message 999 does not exist"):
        store.update_message(999, content="x")


def test_auto_title_from_first_user_message(store: ConversationStore) -> None:
    conv = store.create_conversation()
    store.add_message(conv.id, "assistant", "A greeting does not name it.")
    assert store.get_conversation(conv.id).title == ""
    store.add_message(conv.id, "user", "\n  写一首关于   春天的诗  \n第二行不算")
    assert store.get_conversation(conv.id).title == "写一首关于 春天的诗"
    store.add_message(conv.id, "user", "a later message never renames")
    assert store.get_conversation(conv.id).title == "写一首关于 春天的诗"

    long = store.create_conversation()
    store.add_message(long.id, "user", "x" * 100)
    title = store.get_conversation(long.id).title
    assert len(title) <= 40 and title.endswith("…")

    named = store.create_conversation("My title")
    store.add_message(named.id, "user", "something else")
    assert store.get_conversation(named.id).title == "My title"


def test_title_from_text() -> None:
    assert title_from_text("  hello\tworld  \nmore") == "hello world"
    assert title_from_text("\n\n  \n") == ""
    assert title_from_text("a" * 40) == "a" * 40
    assert title_from_text("a" * 41) == "a" * 39 + "…"
    assert title_from_text("汉" * 50, limit=10) == "汉" * 9 + "…"


def test_truncate_after_hides_later_messages_but_keeps_them(store: ConversationStore, db: Path) -> None:
    conv = store.create_conversation("t")
    for index in range(4):
        store.add_message(conv.id, "user" if index % 2 == 0 else "assistant", f"m{index}")
    before = store.get_conversation(conv.id).updated_at
    store.truncate_after(conv.id, 2)  # regenerate from the second message on
    assert [(m.seq, m.content) for m in store.messages(conv.id)] == [(1, "m0"), (2, "m1")]
    assert store.get_conversation(conv.id).updated_at > before
    assert store.list_conversations()[0].message_count == 2
    new = store.add_message(conv.id, "user", "m2 edited")
    assert new.seq == 3
    store.truncate_after(conv.id, 3)  # nothing after 3: no change
    assert [m.content for m in store.messages(conv.id)] == ["m0", "m1", "m2 edited"]
    assert "m3" not in store.export_markdown(conv.id)
    assert [m["content"] for m in store.export_json(conv.id)["messages"]] == ["m0", "m1", "m2 edited"]
    # Nothing is lost: the hidden versions are still in the file.
    rows = raw_rows(db, "SELECT seq, content, active FROM messages WHERE conversation_id = ? ORDER BY id", (conv.id,))
    assert rows == [(1, "m0", 1), (2, "m1", 1), (3, "m2", 0), (4, "m3", 0), (3, "m2 edited", 1)]
    store.truncate_after(conv.id, 0)
    assert store.messages(conv.id) == []


def test_streaming_message_marked_interrupted_on_reopen(db: Path) -> None:
    with ConversationStore(db) as store:
        conv = store.create_conversation("t")
        store.add_message(conv.id, "user", "q")
        answer = store.add_message(conv.id, "assistant", "半个回答", status="streaming")
        done = store.add_message(conv.id, "assistant", "full", status="stopped")
    # The "app" ended without ever completing the streaming answer.
    with ConversationStore(db) as store:
        assert store.recovered_interrupted == 1
        by_id = {m.id: m for m in store.messages(conv.id)}
        assert (by_id[answer.id].status, by_id[answer.id].content) == ("interrupted", "半个回答")
        assert by_id[done.id].status == "stopped"
    with ConversationStore(db) as store:
        assert store.recovered_interrupted == 0


# --- export and import --------------------------------------------------------------------------


def test_export_markdown(store: ConversationStore) -> None:
    conv = store.create_conversation(
        "羊驼问答",
        template="alpaca",
        system_prompt="你是助手。\n\n简短回答。",
        model_path="C:\\models\\7b.gguf",
    )
    store.add_message(conv.id, "user", CHINESE)
    store.add_message(
        conv.id,
        "assistant",
        "羊驼住在安第斯山。🦙",
        model="/models/chinese-alpaca-7b.gguf",
        template="alpaca",
        params={"temperature": 0.2, "top_k": 40, "n_ctx": 2048.0, "seed": None},
        stats=STATS,
    )
    store.add_message(conv.id, "assistant", "Part", status="stopped")
    text = store.export_markdown(conv.id)
    assert text.startswith("# 羊驼问答\n")
    assert "template: alpaca" in text.splitlines()[2] and "model: 7b.gguf" in text.splitlines()[2]
    assert "> 你是助手。\n>\n> 简短回答。" in text
    assert f"## User\n\n{CHINESE}\n\n## Assistant\n\n羊驼住在安第斯山。🦙\n\n" in text
    assert "*model: chinese-alpaca-7b.gguf · template: alpaca · temperature 0.2, top_k 40, n_ctx 2048*" in text
    assert "seed" not in text  # unset values are left out
    assert text.endswith("## Assistant\n\nPart\n\n*answer stopped*\n")
    assert store.export_markdown(store.create_conversation().id).startswith("# Untitled conversation\n")


def test_export_json_import_json_round_trip(store: ConversationStore) -> None:
    conv = store.create_conversation("中文 😀 round trip", template="alpaca", system_prompt="系统提示 ✨")
    store.add_message(conv.id, "user", CHINESE)
    store.add_message(conv.id, "assistant", "回答 🦙", model="m.gguf", template="alpaca", params=PARAMS, stats=STATS)
    store.add_message(conv.id, "user", "hidden")
    store.truncate_after(conv.id, 2)
    exported = store.export_json(conv.id)
    assert exported["format"] == EXPORT_FORMAT and exported["version"] == 1
    assert exported["conversation"]["title"] == "中文 😀 round trip"
    assert len(exported["messages"]) == 2
    assert set(exported["messages"][1]) == set(Message.__dataclass_fields__)

    # Through real JSON text, as a file would go.
    data = json.loads(json.dumps(exported, ensure_ascii=False))
    imported = store.import_json(data)
    again = store.import_json(data)  # always a new conversation, never an overwrite
    assert len({conv.id, imported.id, again.id}) == 3
    assert (imported.title, imported.template, imported.system_prompt, imported.model_path) == (
        conv.title,
        conv.template,
        conv.system_prompt,
        conv.model_path,
    )
    assert imported.created_at == conv.created_at
    assert store.list_conversations()[0].id == again.id  # newest import on top

    def essentials(messages: list[Message]) -> list[tuple]:
        return [
            (m.seq, m.role, m.content, m.status, m.model, m.template, m.params, m.stats, m.created_at) for m in messages
        ]

    assert essentials(store.messages(imported.id)) == essentials(store.messages(conv.id))
    assert [m.content for m in store.messages(conv.id)] == [CHINESE, "回答 🦙"]  # original untouched


def test_import_fills_defaults_titles_and_settles_streaming(store: ConversationStore) -> None:
    data = {
        "format": EXPORT_FORMAT,
        "version": 1,
        "conversation": {"title": ""},
        "messages": [
            {"role": "user", "content": "Minimal 最小\nsecond line"},
            {"role": "assistant", "content": "half", "status": "streaming"},
        ],
    }
    conv = store.import_json(data)
    assert conv.title == "Minimal 最小"
    assert [(m.seq, m.status) for m in store.messages(conv.id)] == [(1, "complete"), (2, "interrupted")]


def _valid() -> dict:
    return {
        "format": EXPORT_FORMAT,
        "version": 1,
        "conversation": {"title": "t", "created_at": 1.0, "template": None},
        "messages": [{"role": "user", "content": "hi", "status": "complete", "params": None}],
    }


def _changed(path: tuple, value: object) -> dict:
    data = _valid()
    target = data
    for key in path[:-1]:
        target = target[key]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return data


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ([1, 2], "not a JSON object"),
        (_changed(("format",), "chatgpt-export"), "'chatgpt-export', expected \"alpaca-desk-conversation\""),
        (_changed(("format",), KeyError), '"format" is missing'),
        (_changed(("version",), "1"), '"version" must be a whole number'),
        (_changed(("version",), 2), "newer Alpaca Desk"),
        (_changed(("conversation",), KeyError), '"conversation" must be an object, not null'),
        (_changed(("conversation", "title"), 5), '"title" must be text, not int'),
        (_changed(("conversation", "created_at"), "yesterday"), '"created_at" must be a number'),
        (_changed(("conversation", "template"), ["alpaca"]), '"template" must be text or null, not list'),
        (_changed(("messages",), KeyError), 'no "messages" list'),
        (_changed(("messages",), {"0": "hi"}), '"messages" must be a list, not dict'),
        (_changed(("messages", 0), "hi"), '"messages"[0] must be an object, not str'),
        (_changed(("messages", 0, "role"), "system"), '"messages"[0]."role" must be "user" or "assistant"'),
        (_changed(("messages", 0, "content"), KeyError), '"messages"[0]."content" must be text, not null'),
        (_changed(("messages", 0, "content"), 42), '"content" must be text, not int'),
        (_changed(("messages", 0, "status"), "done"), '"status" must be one of'),
        (_changed(("messages", 0, "params"), [0.2]), '"params" must be an object or null, not list'),
        (_changed(("messages", 0, "created_at"), True), '"created_at" must be a number'),
    ],
)
def test_import_rejects_bad_data(store: ConversationStore, data: object, expected: str) -> None:
    with pytest.raises(ImportFormatError) as info:
        store.import_json(data)
    message = str(info.value)
    assert expected in message
    assert message.startswith("Cannot import this file: ")
    assert "Alpaca Desk" in message  # and says what to do
    assert store.list_conversations() == []  # nothing half-imported


def test_import_format_error_is_a_store_error() -> None:
    assert issubclass(ImportFormatError, StoreError)


# --- crash safety -------------------------------------------------------------------------------


def test_kill_mid_write_loses_nothing_acknowledged(db: Path) -> None:
    """SIGKILL a writer mid-loop: the file is intact and holds every write it acknowledged."""
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.unit.store._store_writer", str(db)],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
    )
    # If the child hangs or dies early, this kill closes its stdout, so the reads below end.
    watchdog = threading.Timer(20.0, child.kill)
    watchdog.start()
    try:
        lines = []
        adds = 0
        while adds < 50:
            line = child.stdout.readline()
            if not line:
                break
            lines.append(line)
            adds += line.startswith("add ")
        # Kill at once: the child is still writing (about 10 KB per message), so the kill lands
        # in or between transactions, while the streaming answer is being rewritten.
        child.kill()  # SIGKILL on POSIX, TerminateProcess on Windows: no clean-up runs
        child.wait()
        # Read the rest through the same buffered reader: communicate() would read the pipe's file
        # descriptor directly and miss lines readline() had already buffered (seen under load).
        rest = child.stdout.read()
        errors = child.stderr.read()
    finally:
        watchdog.cancel()
    assert adds >= 50, f"writer stopped early: {errors}"
    lines += rest.splitlines(keepends=True)
    # Only complete lines count as acknowledgements.
    words = [line.split() for line in lines if line.endswith("\n")]
    conv_a, conv_b = (int(w) for w in words[0][1:])
    streaming_id = int(words[1][1])
    acked = {int(w[1]): int(w[2]) for w in words if w[0] == "add"}
    updates = [int(w[1]) for w in words if w[0] == "upd"]
    assert len(acked) >= 50

    # SQLite's own check, before the store's recovery touches anything.
    assert raw_rows(db, "PRAGMA integrity_check") == [("ok",)]
    with ConversationStore(db) as store:
        assert store.recovered_interrupted == 1
        messages = store.messages(conv_a)
        by_id = {m.id: m for m in messages}
        for message_id, index in acked.items():
            assert by_id[message_id].content == message_text(index)
            assert by_id[message_id].status == "complete"
        # At most one more: written, but killed before it printed its id.
        assert len(messages) - len(acked) in (0, 1)
        assert [m.seq for m in messages] == list(range(1, len(messages) + 1))
        (answer,) = store.messages(conv_b)
        assert answer.id == streaming_id
        assert answer.status == "interrupted"
        last = updates[-1] if updates else 0
        assert answer.content in (stream_text(last), stream_text(last + 1))


def test_revision_changes_with_every_write_from_this_store_or_another(store: ConversationStore, db: Path) -> None:
    conversation = store.create_conversation()
    first = store.revision()
    assert store.revision() == first  # reading changes nothing
    store.add_message(conversation.id, "user", "你好")
    second = store.revision()
    assert second != first
    # Another process's connection (the import runs on one of its own) is seen too.
    other = sqlite3.connect(db)
    with other:
        other.execute("UPDATE conversations SET title = 'changed elsewhere' WHERE id = ?", (conversation.id,))
    other.close()
    assert store.revision() != second
