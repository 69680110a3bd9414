"""runtime.paths: keeping a file aside without ever overwriting one, and telling a folder that
cannot be written (for real: by creating a file in it, which holds for root too)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from runtime.paths import AppPaths, keep_aside, unwritable_reason

NOON = 1_700_000_000.0  # any fixed time: both calls below fall in the same second


def test_keep_aside_moves_a_database_with_its_wal_and_never_overwrites(tmp_path: Path) -> None:
    db = tmp_path / "conversations.sqlite3"
    for generation in (1, 2):
        db.write_text(f"database {generation}", encoding="utf-8")
        Path(f"{db}-wal").write_text(f"wal {generation}", encoding="utf-8")
        keep_aside(db, "damaged", sidecars=("-wal", "-shm"), now=NOON)
    first, second = sorted(tmp_path.glob("conversations.sqlite3.damaged-*[0-9]"), key=lambda p: len(p.name))
    assert second.name == f"{first.name}-2"  # the same second: a new name, not the old one replaced
    assert first.read_text(encoding="utf-8") == "database 1"
    assert Path(f"{first}-wal").read_text(encoding="utf-8") == "wal 1"
    assert second.read_text(encoding="utf-8") == "database 2"
    assert Path(f"{second}-wal").read_text(encoding="utf-8") == "wal 2"
    assert not db.exists() and not Path(f"{db}-wal").exists()


def test_keep_aside_of_a_missing_file_moves_nothing(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        keep_aside(tmp_path / "missing.json", "bad")
    assert list(tmp_path.iterdir()) == []


def test_unwritable_reason(tmp_path: Path) -> None:
    assert unwritable_reason(tmp_path / "new" / "folder") is None
    assert (tmp_path / "new" / "folder").is_dir()
    assert os.listdir(tmp_path / "new" / "folder") == []  # the probe file is gone
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    # The words are the system's ("Not a directory", "File exists" on Linux).
    assert unwritable_reason(blocker / "sub")
    assert unwritable_reason(blocker)


def test_startup_problem_names_the_first_folder_that_cannot_be_used(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    fine = {name: tmp_path / name for name in ("config", "data", "cache", "logs", "models")}
    assert AppPaths(**fine).startup_problem() is None
    assert AppPaths(**{**fine, "data": blocker}).startup_problem()[0] == blocker
    assert AppPaths(**{**fine, "cache": blocker / "c"}).startup_problem()[0] == blocker / "c"
    # Without a log folder the app still runs (without a log file).
    assert AppPaths(**{**fine, "logs": blocker / "logs"}).startup_problem() is None


def test_each_directory_can_be_moved_by_the_variable_the_docs_name(tmp_path: Path, monkeypatch) -> None:
    from runtime import paths

    monkeypatch.delenv(paths.HOME_ENV, raising=False)
    doc = paths.__doc__ or ""
    for key, variable in paths.DIR_ENV.items():
        assert variable.removeprefix("ALPACA_DESK") in doc  # the module's docstring names it
        monkeypatch.setenv(variable, str(tmp_path / key))
    resolved = paths.app_paths()
    assert resolved.logs == tmp_path / "logs"
    assert {key: getattr(resolved, key) for key in paths.DIR_ENV} == {key: tmp_path / key for key in paths.DIR_ENV}
