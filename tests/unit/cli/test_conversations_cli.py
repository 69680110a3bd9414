"""``python -m runtime.cli conversations recover``: the banner's recovery, on the command line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from runtime.store import ConversationStore, open_store
from tests.unit.store._damage import damage_page_with, make_history, without

REPO_ROOT = Path(__file__).resolve().parents[3]


def run_cli(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ALPACA_DESK_HOME": str(home), "PYTHONIOENCODING": "utf-8"}
    return subprocess.run(
        [sys.executable, "-m", "runtime.cli", *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
        check=False,
    )


def test_recover_into_the_apps_database(isolated_dirs: Path) -> None:
    db = isolated_dirs / "data" / "conversations.sqlite3"
    expected = make_history(db, conversations=3, turns=20)
    lost = damage_page_with(db, "<c1-m9>")
    store, [notice] = open_store(db)  # as the app's start does
    store.close()

    result = run_cli("conversations", "recover", notice.params["kept"], "--json", home=isolated_dirs)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["damaged"] == notice.params["kept"]
    assert report["conversations"] == 3
    assert report["messages"] == sum(len(m) for m in without(expected, lost).values())
    with ConversationStore(db) as store:
        got = {c.title: [(m.role, m.content) for m in store.messages(c.id)] for c in store.list_conversations()}
    assert got == without(expected, lost)


def test_recover_a_missing_file_says_so(isolated_dirs: Path, tmp_path: Path) -> None:
    result = run_cli("conversations", "recover", str(tmp_path / "gone.sqlite3"), home=isolated_dirs)
    assert result.returncode == 2
    assert "does not exist any more" in result.stderr
    assert "Traceback" not in result.stderr
