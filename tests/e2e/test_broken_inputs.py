"""``python -m app`` started on settings, folders and files it cannot use, as a user would meet
them: it starts with defaults where it can, else says what is wrong and where and exits with a
status of its own, and it never prints a traceback.

The app runs offscreen with ``--no-err-windows`` (its messages go to stderr instead of dialogs)
and ``--exit-when-shown`` (it quits after the window's first paint).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.main import FOLDER_EXIT_CODE

REPO_ROOT = Path(__file__).resolve().parents[2]
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def run_app(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONIOENCODING": "utf-8", **(env or {})}
    environment.pop("ALPACA_DESK_HOME", None)  # --data-dir decides
    return subprocess.run(
        [sys.executable, "-m", "app", "--no-err-windows", "--exit-when-shown", "--lang", "en", *args],
        cwd=REPO_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=180,
        check=False,
    )


def assert_refused(proc: subprocess.CompletedProcess[str], folder: Path) -> None:
    assert proc.returncode == FOLDER_EXIT_CODE, proc.stderr
    assert f"Alpaca Desk cannot use the folder {folder}" in proc.stderr
    assert "--data-dir" in proc.stderr
    assert "already running" not in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    assert "shown_after_s" not in proc.stdout  # no window


def test_a_data_folder_under_a_regular_file_is_named_with_what_to_do(tmp_path: Path) -> None:
    # A path that runs through a regular file cannot be created, by root or anyone.
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where a folder is expected", encoding="utf-8")
    proc = run_app("--data-dir", str(blocker / "alpaca"))
    assert_refused(proc, blocker / "alpaca" / "data")
    # No log file either, and it says so before the refusal.
    assert "runs without a log file" in proc.stderr


@pytest.fixture
def read_only_data_folder(tmp_path: Path):
    """A --data-dir whose data folder cannot be written; yields (base, data folder).

    As root, permission bits do not stop writes (chmod would test nothing), so there the data
    folder's place is taken by a regular file, which cannot be written into by anyone. Other
    users get a real read-only tree that already holds a conversation database.
    """
    base = tmp_path / "home"
    data = base / "data"
    if IS_ROOT:
        base.mkdir()
        data.write_text("a file where the data folder belongs", encoding="utf-8")
        yield base, data
        return
    data.mkdir(parents=True)
    (data / "conversations.sqlite3").write_bytes(b"")
    for folder in (data, base):
        folder.chmod(0o555)
    try:
        yield base, data
    finally:
        for folder in (base, data):
            folder.chmod(0o755)


def test_a_read_only_data_folder_is_not_taken_for_a_running_app(read_only_data_folder) -> None:
    base, data = read_only_data_folder
    proc = run_app("--data-dir", str(base))
    assert_refused(proc, data)


def test_an_unwritable_log_folder_only_costs_the_log_file(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    logs = home / "logs"
    logs.write_text("a file where the log folder belongs", encoding="utf-8")
    proc = run_app("--data-dir", str(home))
    assert proc.returncode == 0, proc.stderr
    assert "shown_after_s" in proc.stdout  # the window opened
    assert f"The log folder {logs} cannot be written" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert logs.read_text(encoding="utf-8") == "a file where the log folder belongs"


@pytest.mark.parametrize(
    "settings",
    [
        {"show_decoding_panel": "yes"},
        {"show_decoding_panel": None},
        {"n_threads": "many", "n_gpu_layers": [1]},
        None,
    ],
    ids=["flag-text", "flag-null", "numbers", "null"],
)
def test_bad_settings_start_the_app(tmp_path: Path, settings: object) -> None:
    config = tmp_path / "home" / "config"
    config.mkdir(parents=True)
    (config / "settings.json").write_text(json.dumps(settings), encoding="utf-8")
    proc = run_app("--data-dir", str(tmp_path / "home"))
    assert proc.returncode == 0, proc.stderr
    assert "shown_after_s" in proc.stdout
    assert "Traceback" not in proc.stderr
    # The file saved at exit holds valid values, so the next start is quiet.
    saved = json.loads((config / "settings.json").read_text(encoding="utf-8"))
    assert saved["show_decoding_panel"] is True and saved["n_threads"] is None


def test_uncaught_errors_are_still_caught_without_a_log_file(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "logs").write_text("a file where the log folder belongs", encoding="utf-8")
    code = (
        "import sys\n"
        "from app.main import _setup_logging\n"
        "notice = _setup_logging(no_err_windows=True)\n"
        "print(notice.code, sys.excepthook.__name__)\n"
    )
    env = {**os.environ, "ALPACA_DESK_HOME": str(home)}
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, env=env, capture_output=True, text=True, check=False
    )
    assert proc.stdout.split() == ["log_unwritable", "excepthook"], proc.stderr


def test_deeply_nested_settings_start_the_app_and_are_kept(tmp_path: Path) -> None:
    # Issue 20, item 2: a settings file nested 100,000 levels deep stopped the start (RecursionError).
    from tests.measure import run_measured

    config = tmp_path / "home" / "config"
    config.mkdir(parents=True)
    deep = '{"language": "en", "params": ' + "[" * 100_000 + "]" * 100_000 + "}"
    (config / "settings.json").write_text(deep, encoding="utf-8")
    environment = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONIOENCODING": "utf-8"}
    environment.pop("ALPACA_DESK_HOME", None)
    argv = [sys.executable, "-m", "app", "--no-err-windows", "--exit-when-shown", "--lang", "en"]
    proc = run_measured([*argv, "--data-dir", str(tmp_path / "home")], env=environment, cwd=REPO_ROOT, timeout=180)
    assert proc.returncode == 0, proc.stderr
    assert "shown_after_s" in proc.stdout
    assert "Traceback" not in proc.output
    [kept] = config.glob("settings.json.bad-*")
    assert kept.read_text(encoding="utf-8") == deep
    assert json.loads((config / "settings.json").read_text(encoding="utf-8"))["params"]["n_ctx"] == 2048
    assert proc.left_behind == []
    assert proc.peak_kib < 1024 * 1024
