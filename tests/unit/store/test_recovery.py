"""A damaged conversation database, with real SQLite files: kept aside once, a new file at the usual
path from then on, and the readable messages copied back by runtime.store.recover_conversations."""

from __future__ import annotations

import random
import sys
import textwrap
from pathlib import Path

import pytest

from runtime.errors import StoreError
from runtime.store import ConversationStore, RecoveryReport, open_store, recover_conversations
from tests.unit.store._damage import PARAMS, contents, damage_page_with, make_history, without


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "data" / "conversations.sqlite3"


# --- quarantine ---------------------------------------------------------------------------------


def test_random_bytes_are_kept_aside_once_and_one_new_file_is_used_from_then_on(db: Path) -> None:
    db.parent.mkdir(parents=True)
    junk = random.Random(1).randbytes(8192)
    db.write_bytes(junk)
    Path(f"{db}-wal").write_bytes(b"wal of the damaged file")

    store, [notice] = open_store(db)
    [kept] = db.parent.glob("conversations.sqlite3.damaged-*[0-9]")
    assert kept.read_bytes() == junk  # the user's file, byte for byte
    assert Path(f"{kept}-wal").read_bytes() == b"wal of the damaged file"  # moved with it
    assert notice.code == "store_kept_aside"
    assert notice.params["kept"] == str(kept) and notice.params["path"] == str(db)
    assert str(kept) in str(notice)
    assert store.path == db
    conv = store.create_conversation("after the damage")
    store.add_message(conv.id, "user", "kept across starts")
    store.close()

    # The next starts open the same new file: the chats of the previous start are there.
    for _ in range(2):
        store, notices = open_store(db)
        assert notices == []
        assert [c.title for c in store.list_conversations()] == ["after the damage"]
        store.close()
    assert sorted(p.name for p in db.parent.iterdir() if "damaged" in p.name) == [kept.name, f"{kept.name}-wal"]


def test_good_header_and_a_damaged_page_is_found_at_open_and_kept_aside(db: Path) -> None:
    make_history(db)
    damage_page_with(db, "<c3-m10>")
    damaged = db.read_bytes()
    # quick_check finds it: the file is not used (an empty list and writes into a damaged file).
    with pytest.raises(StoreError) as info:
        ConversationStore(db)
    assert info.value.code == "store_damaged"
    assert db.read_bytes() == damaged

    store, [notice] = open_store(db)
    assert store.list_conversations() == []
    store.close()
    [kept] = db.parent.glob("conversations.sqlite3.damaged-*")
    assert kept.read_bytes() == damaged
    store, notices = open_store(db)
    assert notices == []
    store.close()
    assert len(list(db.parent.glob("*damaged*"))) == 1


def test_the_newest_messages_in_the_wal_file_are_kept_and_recovered(db: Path, tmp_path: Path) -> None:
    """After a crash the newest commits are only in the -wal file; SQLite deletes a -wal file
    when the connection that found the damage closes, so open_store puts a copy beside the kept file."""
    expected = make_history(db)
    crashed = tmp_path / "crashed" / "conversations.sqlite3"
    crashed.parent.mkdir()
    with ConversationStore(db) as running:
        conv = running.create_conversation("only in the wal")
        running.add_message(conv.id, "user", "<c9-m0> written just before the crash")
        # The files as a crash at this moment leaves them: the new rows are only in the -wal file.
        for suffix in ("", "-wal"):
            crashed.with_name(crashed.name + suffix).write_bytes(Path(f"{db}{suffix}").read_bytes())
    wal = Path(f"{crashed}-wal").read_bytes()
    assert wal and b"<c9-m0>" in wal and b"<c9-m0>" not in crashed.read_bytes()
    lost = damage_page_with(crashed, "<c2-m12>")

    store, [notice] = open_store(crashed)
    kept = Path(notice.params["kept"])
    assert Path(f"{kept}-wal").read_bytes() == wal
    recover_conversations(kept, store, sqlite3_cli=None)
    assert contents(store) == {
        **without(expected, lost),
        "only in the wal": [("user", "<c9-m0> written just before the crash")],
    }
    store.close()


def test_other_open_errors_move_nothing(db: Path) -> None:
    db.mkdir(parents=True)  # a folder where the file belongs: "unable to open", not damage
    with pytest.raises(StoreError) as info:
        open_store(db)
    assert info.value.code == "store_cantopen"
    assert db.is_dir() and not list(db.parent.glob("*damaged*"))


# --- recovery -----------------------------------------------------------------------------------


def test_recovery_brings_back_every_readable_message(db: Path) -> None:
    expected = make_history(db)
    lost = damage_page_with(db, "<c2-m12>")
    assert lost  # the damaged page held messages
    store, [notice] = open_store(db)
    kept = Path(notice.params["kept"])
    before = kept.read_bytes()

    report = recover_conversations(kept, store, sqlite3_cli=None)

    assert isinstance(report, RecoveryReport)
    assert report.method == "row by row"  # iterdump stops at the damaged page
    # Exactly the messages that were not on the damaged page, in their order, in their conversations.
    assert contents(store) == without(expected, lost)
    assert report.messages == sum(len(m) for m in without(expected, lost).values())
    assert report.conversations == 6
    assert report.hidden == 6 - sum(1 for c in range(6) if f"<c{c}-m29>" in lost)
    assert report.skipped == 0
    assert kept.read_bytes() == before  # recovery only reads the kept file (a copy of it)
    assert not Path(f"{kept}-wal").exists() and not Path(f"{kept}-shm").exists()
    # Answers keep their parameters and status.
    conv = next(c for c in store.list_conversations() if c.title == "Conversation 0")
    last = store.messages(conv.id)[-1]
    assert last.status == "stopped" and last.content == "<c0-edit> the answer after an edit"
    assert store.messages(conv.id)[1].params == PARAMS
    store.close()


@pytest.mark.parametrize("tool", ["none", "whatever is on PATH"])
def test_a_file_cut_off_at_four_fifths_gives_back_the_messages_before_the_cut(db: Path, tool: str) -> None:
    """Issue #20: a truncated file (its header still counting the lost pages) made SQLite refuse all
    of it, even page 1; recovery reads a copy whose page count is the file's."""
    expected = make_history(db, conversations=12, turns=60)
    size = db.stat().st_size
    with db.open("r+b") as handle:
        handle.truncate(size * 4 // 5)
    store, [notice] = open_store(db)
    kept = Path(notice.params["kept"])
    before = kept.read_bytes()
    report = recover_conversations(kept, store, **({"sqlite3_cli": None} if tool == "none" else {}))
    recovered = contents(store)
    assert report.conversations == 12 and report.messages > 0
    for title, messages in recovered.items():  # whatever came back is exactly what was written
        assert all(message in expected[title] for message in messages)
    assert kept.read_bytes() == before
    store.close()


def test_messages_whose_conversation_row_is_lost_are_still_recovered(db: Path) -> None:
    expected = make_history(db, conversations=3, turns=6)
    # The few conversation rows share one page with their titles; garbage over it loses them all.
    damage_page_with(db, "Conversation 1")
    store, [notice] = open_store(db)
    report = recover_conversations(notice.params["kept"], store, sqlite3_cli=None)
    assert report.conversations == 3
    recovered = {c.title: [(m.role, m.content) for m in store.messages(c.id)] for c in store.list_conversations()}
    # Titled after their first message, as a new conversation is.
    assert sorted(recovered.values()) == sorted(expected.values())
    assert all(title.startswith("<c") for title in recovered)
    store.close()


def test_recovery_of_a_readable_file_uses_iterdump_and_copies_everything(db: Path, tmp_path: Path) -> None:
    expected = make_history(db, conversations=2, turns=4)
    into = ConversationStore(tmp_path / "new.sqlite3")
    report = recover_conversations(db, into, sqlite3_cli=None)
    assert report.method == "iterdump"
    assert contents(into) == expected
    assert (report.conversations, report.messages, report.hidden) == (2, 8, 2)
    into.close()


def test_recovery_of_random_bytes_finds_nothing_and_says_so(db: Path) -> None:
    db.parent.mkdir(parents=True)
    db.write_bytes(random.Random(3).randbytes(4096))
    store, [notice] = open_store(db)
    report = recover_conversations(notice.params["kept"], store, sqlite3_cli=None)
    assert (report.conversations, report.messages) == (0, 0)
    assert store.list_conversations() == []
    assert "Recovered 0 messages" in str(report)
    store.close()


def test_recovery_of_a_missing_file_is_a_store_error(tmp_path: Path) -> None:
    with ConversationStore(tmp_path / "new.sqlite3") as into, pytest.raises(StoreError) as info:
        recover_conversations(tmp_path / "gone.sqlite3", into)
    assert info.value.code == "recover_missing"


def test_recovery_with_the_sqlite3_tool_on_path_gets_at_least_the_readable_messages(db: Path) -> None:
    """Whatever this machine's ``sqlite3`` does (missing, a build whose .recover fails, or a
    working one, which may also find rows on pages no table points to any more), nothing that is
    readable is missed."""
    expected = make_history(db, conversations=3, turns=10)
    lost = damage_page_with(db, "<c1-m4>")
    store, [notice] = open_store(db)
    report = recover_conversations(notice.params["kept"], store)
    got = contents(store)
    for title, messages in without(expected, lost).items():
        assert all(message in got[title] for message in messages), title
    assert report.method in {"sqlite3 .recover", "row by row"}
    store.close()


FAKE_CLI = textwrap.dedent(
    '''
    """Stands in for the sqlite3 command-line tool: ``.recover`` prints what a real one prints for
    a file whose messages table lost its root page: the schema, and the message rows it still
    found on their leaf page in lost_and_found; ``sqlite3 DB`` runs SQL from stdin."""
    import sqlite3
    import sys

    if sys.argv[2:] == [".recover"]:
        print("BEGIN;")
        print("PRAGMA writable_schema = on;")
        print("CREATE TABLE conversations (id INTEGER PRIMARY KEY AUTOINCREMENT, title TEXT NOT NULL "
              "DEFAULT '', created_at REAL NOT NULL, updated_at REAL NOT NULL, template TEXT, "
              "system_prompt TEXT, model_path TEXT);")
        print("INSERT INTO 'conversations'('id', 'title', 'created_at', 'updated_at', 'template', "
              "'system_prompt', 'model_path') VALUES( 1, 'Found', 10.0, 11.0, NULL, NULL, NULL );")
        print("CREATE TABLE lost_and_found(rootpgno INTEGER, pgno INTEGER, nfield INTEGER, id INTEGER, "
              "c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12);")
        print("INSERT INTO 'lost_and_found' VALUES(4, 9, 13, 1, NULL, 1, 1, 'user', 'question', "
              "'complete', NULL, NULL, NULL, NULL, 1, 10.0, 10.0);")
        print("INSERT INTO 'lost_and_found' VALUES(4, 9, 13, 2, NULL, 1, 2, 'assistant', 'answer', "
              "'complete', 'm.gguf', NULL, '{\\"top_k\\": 40}', NULL, 1, 11.0, 11.0);")
        print("INSERT INTO 'lost_and_found' VALUES(4, 9, 13, 3, NULL, 1, 2, 'assistant', 'old answer', "
              "'complete', NULL, NULL, NULL, NULL, 0, 11.0, 11.0);")
        print("PRAGMA writable_schema = off;")
        print("COMMIT;")
    else:
        conn = sqlite3.connect(sys.argv[1])
        conn.executescript(sys.stdin.read())
        conn.close()
    '''
)


def test_rows_the_sqlite3_tool_finds_without_a_table_are_recovered(db: Path, tmp_path: Path) -> None:
    cli = tmp_path / "sqlite3"
    cli.write_text(f"#!{sys.executable}\n{FAKE_CLI}", encoding="utf-8")
    cli.chmod(0o755)
    db.parent.mkdir(parents=True)
    db.write_bytes(random.Random(4).randbytes(4096))
    store, [notice] = open_store(db)
    report = recover_conversations(notice.params["kept"], store, sqlite3_cli=str(cli))
    assert report.method == "sqlite3 .recover"
    assert (report.conversations, report.messages, report.hidden) == (1, 2, 1)
    [conv] = store.list_conversations()
    assert conv.title == "Found"
    messages = store.messages(conv.id)
    assert [(m.role, m.content) for m in messages] == [("user", "question"), ("assistant", "answer")]
    assert messages[1].params == {"top_k": 40} and messages[1].model == "m.gguf"
    store.close()


def test_a_failing_sqlite3_tool_falls_back_to_reading_row_by_row(db: Path, tmp_path: Path) -> None:
    cli = tmp_path / "sqlite3"
    # As some builds do: "Error: in prepare, no such table: sqlite_dbpage", exit status 1.
    cli.write_text(f"#!{sys.executable}\nimport sys\nprint('BEGIN;')\nsys.exit(1)\n", encoding="utf-8")
    cli.chmod(0o755)
    expected = make_history(db)
    lost = damage_page_with(db, "<c1-m2>")
    store, [notice] = open_store(db)
    report = recover_conversations(notice.params["kept"], store, sqlite3_cli=str(cli))
    assert report.method == "row by row"
    assert contents(store) == without(expected, lost)
    store.close()


def test_a_store_opened_for_recovery_leaves_a_streaming_answer_alone(db: Path) -> None:
    with ConversationStore(db) as app_store:
        conv = app_store.create_conversation()
        answer = app_store.add_message(conv.id, "assistant", "half an ans", status="streaming")
        with ConversationStore(db, mark_interrupted=False) as second:
            assert second.recovered_interrupted == 0
        assert app_store.messages(conv.id)[0].status == "streaming"
        app_store.update_message(answer.id, content="half an answer", status="complete")
