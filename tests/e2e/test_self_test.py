"""``python -m app --self-test`` from source, the start-up isolation helpers, the licence text and the
``--exit-when-shown`` start-up probe. Each test runs the app in a child process, as a user would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from app import isolation
from app.licenses import third_party_licenses_text
from app.main import CLI_COMMANDS

REPO_ROOT = Path(__file__).resolve().parents[2]


def run_app(*args: str, env: dict[str, str] | None = None, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    environment = dict(os.environ)
    environment.pop("QT_QPA_PLATFORM", None)  # the self-test must choose offscreen by itself
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "app", *args],
        cwd=REPO_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def last_json(stdout: str) -> dict:
    lines = [line for line in stdout.splitlines() if line.strip()]
    assert lines, "no output"
    return json.loads(lines[-1])


def test_self_test_with_a_real_model(stories_gguf: Path) -> None:
    proc = run_app("--self-test", "--model", str(stories_gguf))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    result = last_json(proc.stdout)
    assert result["ok"] is True
    assert result["host"]["command"][1:] == ["-m", "runtime.chat.host"]
    assert result["host"]["generated_tokens"] >= 1
    assert result["host"]["generated_text"].strip()
    # sentencepiece, given the GGUF's own vocabulary, counts exactly as llama.cpp does.
    assert result["sentencepiece"] == {
        "vocabulary": "model",
        "pieces": 512,
        "tokens": result["host"]["llama_tokens"],
        "matches_llama": True,
    }
    window = result["window"]
    assert window["platform"] == "offscreen" and window["shown"] is True
    assert window["translations"] == {"app": True, "qtbase": True}
    assert "帮助(&H)" in window["menus"]  # the Chinese interface
    assert result["chart"]["size"][0] == 400 and result["chart"]["png_bytes"] > 1000
    assert result["imports"]["modules"] >= 10
    assert result["network"] == []
    assert result["isolation"] == {"frozen": False}
    versions = result["versions"]
    assert versions["llama_cpp_python"].startswith("0.3.")
    assert versions["qt"] and versions["pyside6"] and versions["sentencepiece"] and versions["python"]
    assert versions["pyqtgraph"].startswith("0.14")


def test_self_test_builds_its_own_model_when_given_none() -> None:
    proc = run_app("--self-test", "--lang", "en")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    result = last_json(proc.stdout)
    assert result["ok"] is True and result["model"] == "built-in tiny model"
    assert result["host"]["model"] == "self-test-tiny.gguf"
    assert result["sentencepiece"]["matches_llama"] is True
    assert result["window"]["language"] == "en"


def test_self_test_failure_is_one_json_line_and_exit_code_1(tmp_path: Path) -> None:
    proc = run_app("--self-test", "--model", str(tmp_path / "missing.gguf"))
    assert proc.returncode == 1
    result = last_json(proc.stdout)
    assert result == {"ok": False, "stage": "model", "error": f"no such model file: {tmp_path / 'missing.gguf'}"}


def test_exit_when_shown_reports_the_first_paint(tmp_path: Path) -> None:
    proc = run_app(
        "--exit-when-shown", "--no-err-windows", "--data-dir", str(tmp_path), env={"QT_QPA_PLATFORM": "offscreen"}
    )
    assert proc.returncode == 0, proc.stderr
    # The one line is written by the filter that sees the window's first paint, and only then does
    # the app quit: without a paint there is no line (and no exit, which the timeout fails).
    lines = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
    assert len(lines) == 1 and set(lines[0]) == {"shown_after_s"}, proc.stdout
    shown = lines[0]["shown_after_s"]
    if sys.platform.startswith("linux"):
        # /proc gives the process's start: the paint is measured from it (null only elsewhere).
        assert isinstance(shown, float) and shown > 0, shown
    else:
        assert shown is None or shown > 0


def test_network_watch_records_internet_lookups_and_connections() -> None:
    code = (
        "import socket\n"
        "from app.self_test import NetworkWatch\n"
        "watch = NetworkWatch().install()\n"
        "socket.socketpair()  # a local pair is not the network\n"
        "try:\n"
        "    socket.getaddrinfo('localhost', 80)\n"
        "    socket.create_connection(('127.0.0.1', 9), timeout=0.5)\n"
        "except OSError:\n"
        "    pass\n"
        "print(watch.events)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, check=True)
    assert "name lookup of 'localhost'" in out.stdout
    assert "socket.connect to ('127.0.0.1', 9)" in out.stdout


def test_isolation_flags_modules_from_outside_the_bundle(tmp_path: Path) -> None:
    bundle = tmp_path / "bundle"
    (bundle / "pkg").mkdir(parents=True)
    inside, outside, virtual = ModuleType("inside"), ModuleType("outside"), ModuleType("virtual")
    inside.__file__ = str(bundle / "pkg" / "inside.py")
    outside.__file__ = str(tmp_path / "elsewhere" / "outside.py")
    virtual.__file__ = "pyimod01_archive.py"  # made up by a loader: no place on disk
    problems = isolation.find_problems(
        [bundle],
        modules={"inside": inside, "outside": outside, "virtual": virtual},
        packages=("json", "no_such_package_here"),
        maps_file=None,
    )
    assert problems[0] == f"module outside was loaded from {outside.__file__}"
    assert problems[1].startswith("package json would be imported from ")
    assert problems[2] == "package no_such_package_here is missing from the bundle"
    assert len(problems) == 3
    message = isolation.refusal_message(problems, [bundle])
    assert "cannot start" in message and "module outside" in message


def test_isolation_scrubs_what_would_load_code_from_elsewhere(tmp_path: Path) -> None:
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    env = {
        "PYTHONPATH": "/decoy",
        "PYTHONHOME": "/decoy",
        "LLAMA_CPP_LIB_PATH": "/decoy/lib",
        "QT_PLUGIN_PATH": str(bundle / "plugins"),
        "QT_QPA_PLATFORM": "offscreen",
        "HOME": "/home/user",
    }
    removed = isolation.scrub_environment(env, roots=[bundle])
    assert sorted(removed) == ["LLAMA_CPP_LIB_PATH", "PYTHONHOME", "PYTHONPATH"]
    assert env == {"QT_PLUGIN_PATH": str(bundle / "plugins"), "QT_QPA_PLATFORM": "offscreen", "HOME": "/home/user"}
    env["QT_PLUGIN_PATH"] = os.pathsep.join([str(bundle / "plugins"), "/usr/lib/qt6/plugins"])
    assert isolation.scrub_environment(env, roots=[bundle]) == ["QT_PLUGIN_PATH"]


def test_isolation_does_nothing_from_source() -> None:
    assert not isolation.is_frozen()
    isolation.isolate_at_start()  # no exit, no change
    assert "job" in CLI_COMMANDS and "host" in CLI_COMMANDS


def test_third_party_licenses_from_source() -> None:
    text = third_party_licenses_text()
    for name in ("Python", "llama_cpp_python", "llama.cpp / ggml", "PySide6_Essentials", "sentencepiece", "numpy"):
        assert name in text
    assert "Permission is hereby granted" in text  # MIT texts are included, not just named
    # The tokenizers the app ships, with their licence texts.
    assert "LLaMA tokenizer" in text and "Meta Platforms" in text
    assert "chinese_sp.model" in text and "Apache License" in text


def test_licences_dialog_shows_the_text(qtbot: object) -> None:
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QDialog, QPlainTextEdit

    from app.licenses import show_third_party_licenses

    seen: dict[str, str] = {}

    def close_it() -> None:
        dialog = QApplication.activeModalWidget()
        assert isinstance(dialog, QDialog)
        seen["title"] = dialog.windowTitle()
        text = dialog.findChild(QPlainTextEdit)
        assert text is not None
        seen["text"] = text.toPlainText()
        dialog.reject()

    QTimer.singleShot(200, close_it)
    show_third_party_licenses(None, "Licences")
    assert seen["title"] == "Licences"
    assert "llama_cpp_python" in seen["text"]


@pytest.mark.parametrize("word", ["chat", "host", "job"])
def test_subcommands_go_to_the_command_line(word: str) -> None:
    proc = run_app(word, "--help", timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "usage:" in proc.stdout


def test_second_app_on_the_same_data_folder_refuses(tmp_path: Path) -> None:
    import time

    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    first = subprocess.Popen(
        [sys.executable, "-m", "app", "--no-err-windows", "--data-dir", str(tmp_path)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        lock = tmp_path / "data" / "alpaca-desk.lock"
        deadline = time.monotonic() + 30
        while not lock.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert lock.exists()
        second = run_app("--no-err-windows", "--data-dir", str(tmp_path), env={"QT_QPA_PLATFORM": "offscreen"})
        assert second.returncode == 1
        assert "already running" in second.stderr
    finally:
        first.terminate()
        first.wait(10)
