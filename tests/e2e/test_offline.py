"""Offline means no packets: the CLI and the window make no network attempt, DNS included.

Child processes run with tests/netguard on PYTHONPATH, whose ``sitecustomize`` records every socket
connect and name lookup made through Python (an audit hook), in the process and in the host it
starts. The window runs in this process under the same kind of hook. ``HF_HUB_OFFLINE`` and
``HF_HUB_DISABLE_TELEMETRY`` (which the test set-up may have set) are removed first: the app
itself must keep quiet, not the test environment.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
GUARD = REPO_ROOT / "tests" / "netguard"
POEM = "白日依山尽，黄河入海流。欲穷千里目，更上一层楼。"
_WATCHED = {"socket.connect", "socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyname_ex"}
_events: list[str] = []
_recording = False


def _hook(event: str, args: tuple) -> None:
    if _recording and event in _WATCHED:
        if event == "socket.connect" and getattr(args[0], "family", None) == socket.AF_UNIX:
            return
        _events.append(f"{event} {args[1] if event == 'socket.connect' else args[0]!r}")


sys.addaudithook(_hook)  # audit hooks cannot be removed; it records only while _recording is set


def guarded_env(log: Path, home: Path) -> dict[str, str]:
    env = dict(os.environ)
    for name in ("HF_HUB_OFFLINE", "HF_HUB_DISABLE_TELEMETRY", "QT_QPA_PLATFORM"):
        env.pop(name, None)
    env["ALPACA_DESK_NET_LOG"] = str(log)
    env["ALPACA_DESK_HOME"] = str(home)
    env["PYTHONPATH"] = os.pathsep.join([str(GUARD), str(REPO_ROOT)])
    return env


def run_cli(*args: str, log: Path, home: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "runtime.cli", *args],
        cwd=REPO_ROOT,
        env=guarded_env(log, home),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def attempts(log: Path) -> list[str]:
    return log.read_text(encoding="utf-8").splitlines() if log.exists() else []


def test_the_guard_sees_a_lookup(tmp_path: Path) -> None:
    """Control: a process that looks a name up is caught (localhost: /etc/hosts, nothing sent)."""
    log = tmp_path / "net.log"
    code = "import socket\ntry:\n    socket.getaddrinfo('localhost', 9)\nexcept OSError:\n    pass\n"
    subprocess.run([sys.executable, "-c", code], env=guarded_env(log, tmp_path / "home"), timeout=60, check=True)
    assert any("socket.getaddrinfo 'localhost'" in line for line in attempts(log))


def test_cli_counts_and_chats_without_a_network_attempt(tmp_path: Path, stories_gguf: Path) -> None:
    log, home = tmp_path / "net.log", tmp_path / "home"
    poem = tmp_path / "poem.txt"
    poem.write_text(POEM, encoding="utf-8")
    tokens = run_cli("tokens", "--json", "--tokenizer", "chinese-llama-2", "--tokenizer", "chinese-llama", str(poem),
                     log=log, home=home)  # fmt: skip
    assert tokens.returncode == 0, tokens.stderr
    chat = run_cli("chat", str(stories_gguf), "--prompt", "Once upon a time", "--template", "raw",
                   "--max-tokens", "8", "--json", log=log, home=home)  # fmt: skip
    assert chat.returncode == 0, chat.stderr
    assert attempts(log) == []


def test_the_server_answers_without_a_network_attempt(tmp_path: Path, stories_gguf: Path) -> None:
    log, home = tmp_path / "net.log", tmp_path / "home"
    server = subprocess.Popen(
        [sys.executable, "-m", "runtime.cli", "serve", str(stories_gguf), "--port", "0"],
        cwd=REPO_ROOT,
        env=guarded_env(log, home),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert server.stdout is not None
        port = next(int(m.group(1)) for line in server.stdout if (m := re.search(r"127\.0\.0\.1:(\d+)/v1", line)))
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=180)
        conn.request("POST", "/v1/completions", body=json.dumps({"prompt": "Once upon a time", "max_tokens": 8}))
        assert conn.getresponse().status == 200
        conn.close()
    finally:
        server.send_signal(signal.SIGINT)
        assert server.wait(180) == 0
    assert attempts(log) == []


@pytest.mark.gui
def test_window_chat_and_tokenizer_panel_without_a_network_attempt(
    qtbot, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, stories_gguf: Path
) -> None:
    global _recording
    from app.main_window import AppContext, MainWindow

    log = tmp_path / "net.log"
    for name in ("HF_HUB_OFFLINE", "HF_HUB_DISABLE_TELEMETRY"):
        monkeypatch.delenv(name, raising=False)
    # The host this window starts is watched by the guard as well.
    monkeypatch.setenv("ALPACA_DESK_NET_LOG", str(log))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(GUARD), str(REPO_ROOT)]))
    _recording = True
    try:
        context = AppContext.open(show_errors=False)
        window = MainWindow(context)
        window._replaced = True
        qtbot.addWidget(window)
        window.show()
        with qtbot.waitSignal(window.client.loaded, timeout=30_000):
            window.open_model(str(stories_gguf))
        window.decoding.set_template_choice("raw")
        window.decoding.set_params(window.decoding.params().replace(max_tokens=8))
        window.input.setPlainText("Once upon a time")
        with qtbot.waitSignal(window.client.finished, timeout=30_000):
            window.send()
        panel = window.tokenizer_panel
        window.tokens_action.setChecked(True)
        qtbot.waitUntil(lambda: panel.tokenizer_keys() == ["llama", "chinese-llama"], timeout=30_000)
        with qtbot.waitSignal(panel.updated, timeout=10_000):
            panel.set_text(POEM)
        # With the tokenizers missing, the panel says so and still sends nothing.
        monkeypatch.setattr("runtime.tokens._known.shipped_tokenizer_dir", lambda: tmp_path / "none")
        panel.add_tokenizer("chinese-llama-2")
        qtbot.waitUntil(panel.error_label.isVisible, timeout=30_000)
        assert panel.fetch_button.isVisible()
        window.close()
        context.close()
    finally:
        _recording = False
    assert _events == []
    assert attempts(log) == []


def test_an_offline_hub_lookup_sends_no_telemetry(tmp_path: Path) -> None:
    """huggingface_hub looks up its agent registry while building headers unless telemetry is off;
    the app turns it off for every process, so even a cache-only lookup stays silent."""
    log = tmp_path / "net.log"
    code = (
        "from runtime.tokens import TokenizerError, fetch_tokenizer\n"
        "try:\n"
        "    fetch_tokenizer('chinese-llama-2', offline=True, cache_dir='cache', hub_cache_dir='hub')\n"
        "except TokenizerError as exc:\n"
        "    assert exc.code == 'tokenizer_missing', exc\n"
    )
    env = guarded_env(log, tmp_path / "home")
    env["HF_HOME"] = str(tmp_path / "hf")  # no cached registry from an earlier run
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert attempts(log) == []


@pytest.mark.gui
def test_window_browses_the_model_catalogue_offline_without_a_network_attempt(
    qtbot, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Offline mode: the catalogue (the shipped snapshot), its entries, a search and a download
    request make no connection and no name lookup (issue 11)."""
    global _recording
    from app.main_window import AppContext, MainWindow

    for name in ("HF_HUB_OFFLINE", "HF_HUB_DISABLE_TELEMETRY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
    _events.clear()
    _recording = True
    try:
        context = AppContext.open(show_errors=False)
        context.settings.hub_offline = True
        window = MainWindow(context)
        window._replaced = True
        qtbot.addWidget(window)
        window.show()
        dialog = window.hub_controller.open_dialog()
        for repo in ("hfl/chinese-alpaca-2-7b-gguf", "hfl/chinese-alpaca-2-7b", "hfl/chinese-alpaca-pro-lora-7b"):
            dialog.select_repo(repo)
            assert repo in dialog.details.text()
        dialog.search_requested.emit("alpaca")
        item = window.hub_controller.download("hfl/chinese-alpaca-2-7b-gguf", "ggml-model-q4_k.gguf")
        assert item is not None and item.state == "paused"
        qtbot.wait(300)
        assert "Offline mode is on" in dialog.source_label.text()
        window.close()
        context.close()
    finally:
        _recording = False
    assert _events == []
