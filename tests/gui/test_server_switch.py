"""Settings → Local server: the switch serves the window's model over the window's own host."""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import keyring
import pytest
from PySide6.QtCore import QPoint, Qt

from app.controllers.server import LISTENING, OFF
from app.main_window import MainWindow
from app.views.server_dialog import ServerDialog
from tests.gui.clicks import choose_menu, click
from tests.gui.test_main_window import ANSWER_TIMEOUT_MS, ask, load, use_raw_template
from tests.hubkeyring import FileKeyring

START_TIMEOUT_MS = 30_000


@pytest.fixture(autouse=True)
def test_keyring(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FileKeyring]:
    monkeypatch.setenv("ALPACA_DESK_TEST_KEYRING", str(tmp_path / "keyring.json"))
    previous = keyring.get_keyring()
    backend = FileKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


@pytest.fixture
def window(local_window: MainWindow) -> Iterator[MainWindow]:
    yield local_window
    local_window.server_controller.shutdown()


class Call:
    """One HTTP request on a thread of its own, so that the Qt event loop keeps running."""

    def __init__(self, url: str, key: str | None, method: str, path: str, body: dict | None = None) -> None:
        self.status: int | None = None
        self.body: Any = None
        self.error: BaseException | None = None
        self.done = threading.Event()
        parts = urlsplit(url)
        headers = {"content-type": "application/json"}
        if key:
            headers["authorization"] = f"Bearer {key}"

        def run() -> None:
            try:
                conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)
                conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
                response = conn.getresponse()
                self.status = response.status
                self.body = json.loads(response.read())
                conn.close()
            except BaseException as exc:  # noqa: BLE001 - reported to the test
                self.error = exc
            finally:
                self.done.set()

        threading.Thread(target=run, daemon=True).start()

    def wait(self, qtbot) -> Any:
        qtbot.waitUntil(self.done.is_set, timeout=ANSWER_TIMEOUT_MS * 2)
        assert self.error is None, self.error
        return self.body


def open_dialog(qtbot, win: MainWindow) -> ServerDialog:
    choose_menu(qtbot, win, "Settings", "Local server…")
    dialog = win.server_controller.dialog
    assert isinstance(dialog, ServerDialog) and dialog.isVisible()
    return dialog


def switch_on(qtbot, win: MainWindow, dialog: ServerDialog) -> str:
    dialog.port_box.setValue(0)  # any free port
    click(qtbot, dialog.switch)
    controller = win.server_controller
    qtbot.waitUntil(lambda: controller.state == LISTENING, timeout=START_TIMEOUT_MS)
    assert win.ctx.settings.serve_enabled and controller.url in dialog.status_label.text()
    return controller.url


def test_the_switch_serves_the_loaded_model_and_waits_for_the_windows_answer(
    qtbot, window: MainWindow, stories_gguf: Path
) -> None:
    load(qtbot, window, stories_gguf)
    # With this seed the window's answer runs all 2,000 tokens (seconds): time for a request to queue.
    use_raw_template(window, max_tokens=2000)
    dialog = open_dialog(qtbot, window)
    assert not dialog.switch.isChecked() and window.ctx.settings.serve_enabled is False  # off by default
    url = switch_on(qtbot, window, dialog)
    key = window.server_controller.api_key
    assert dialog.key_edit.text() == key and FileKeyring().get_password("Alpaca Desk local server", "api-key") == key
    assert window.server_controller.label.isVisible()

    models = Call(url, key, "GET", "/v1/models").wait(qtbot)
    assert [m["id"] for m in models["data"]] == ["stories260K.gguf"]
    assert Call(url, None, "GET", "/v1/models").wait(qtbot)["error"]["type"] == "authentication_error"
    chat = {"messages": [{"role": "user", "content": "Once upon a time"}], "max_tokens": 8, "temperature": 0}
    answer = Call(url, key, "POST", "/v1/chat/completions", chat).wait(qtbot)
    assert answer["choices"][0]["message"]["content"] and answer["usage"]["completion_tokens"] > 0

    # The window streams a long answer; a request made meanwhile waits behind it, then is served.
    statuses: list[str] = []
    window.server_controller.changed.connect(lambda: statuses.append(window.server_controller.label.text()))
    call: list[Call] = []

    def request_while_streaming(_text: str) -> None:
        window.client.token.disconnect(request_while_streaming)
        call.append(Call(url, key, "POST", "/v1/chat/completions", chat))

    window.client.token.connect(request_while_streaming)
    stats = ask(qtbot, window, "Once upon a time")
    assert stats["reason"] in ("length", "stop") and stats["generated_tokens"] > 0
    waited = call[0].wait(qtbot)
    assert waited["choices"][0]["message"]["content"] == answer["choices"][0]["message"]["content"]
    # The activity arrives by queued signals, in order: the count last.
    qtbot.waitUntil(lambda: window.server_controller.served == 2)
    assert "Local server: a request waits for the answer in this window" in statuses
    assert "Local server: answering a request" in statuses
    assert "Requests served: 2." in dialog.status_label.text()

    # Switching off stops listening.
    click(qtbot, dialog.switch)
    qtbot.waitUntil(lambda: window.server_controller.state == OFF, timeout=START_TIMEOUT_MS)
    assert window.ctx.settings.serve_enabled is False and not window.server_controller.label.isVisible()
    refused = Call(url, key, "GET", "/v1/models")
    qtbot.waitUntil(refused.done.is_set)
    assert isinstance(refused.error, ConnectionRefusedError)
    lines = (window.ctx.paths.logs / "network.log").read_text(encoding="utf-8").splitlines()
    served = [entry["status"] for entry in map(json.loads, lines) if entry["method"] == "SERVE"]
    assert served == ["listening", "closed"]  # the network log names where the app listened


def test_the_server_follows_the_windows_model(qtbot, window: MainWindow, stories_gguf: Path) -> None:
    dialog = open_dialog(qtbot, window)
    url = switch_on(qtbot, window, dialog)
    key = window.server_controller.api_key
    body = Call(url, key, "GET", "/v1/models").wait(qtbot)
    assert body["error"]["message"] == "no model is loaded in Alpaca Desk"
    assert body["error"]["code"] == "model_not_loaded"
    assert "No model is loaded" in dialog.status_label.text()

    load(qtbot, window, stories_gguf)  # loaded while the server listens: served from the next request
    assert [m["id"] for m in Call(url, key, "GET", "/v1/models").wait(qtbot)["data"]] == ["stories260K.gguf"]
    with qtbot.waitSignal(window.client.unloaded):
        choose_menu(qtbot, window, "Model", "Unload model")
    chat = {"messages": [{"role": "user", "content": "Hi"}], "max_tokens": 4}
    body = Call(url, key, "POST", "/v1/chat/completions", chat).wait(qtbot)
    assert body["error"]["code"] == "model_not_loaded"


def test_another_address_without_a_key_is_refused(qtbot, window: MainWindow) -> None:
    dialog = open_dialog(qtbot, window)
    click(qtbot, dialog.require_key_box)  # no key ...
    dialog.host_edit.setText("0.0.0.0")  # ... and every network's address
    errors: list[str] = []
    window.server_controller.error.connect(errors.append)
    # The refusal turns the switch back off at once (``click`` would expect it to stay on).
    qtbot.mouseClick(dialog.switch, Qt.MouseButton.LeftButton, pos=QPoint(6, dialog.switch.height() // 2))
    assert window.server_controller.state == OFF and not dialog.switch.isChecked()
    assert window.ctx.settings.serve_enabled is False
    assert errors and "0.0.0.0" in errors[0] and "API key" in errors[0]
    assert errors[0] in dialog.status_label.text()


def test_switching_off_never_stops_the_windows_answer(qtbot, window: MainWindow, stories_gguf: Path) -> None:
    load(qtbot, window, stories_gguf)
    use_raw_template(window, max_tokens=2000)
    dialog = open_dialog(qtbot, window)
    url = switch_on(qtbot, window, dialog)
    controller = window.server_controller
    chat = {"messages": [{"role": "user", "content": "Hi"}], "max_tokens": 4}
    calls: list[Call] = []

    def queue_a_request_then_switch_off(_text: str) -> None:
        window.client.token.disconnect(queue_a_request_then_switch_off)
        calls.append(Call(url, controller.api_key, "POST", "/v1/chat/completions", chat))
        qtbot.waitUntil(lambda: controller.activity == "waiting")
        click(qtbot, dialog.switch)  # the request waiting behind the window's answer is cancelled, alone

    window.client.token.connect(queue_a_request_then_switch_off)
    stats = ask(qtbot, window, "Once upon a time")
    assert stats["reason"] != "cancelled" and stats["generated_tokens"] == 2000
    qtbot.waitUntil(lambda: controller.state == OFF)
    qtbot.waitUntil(calls[0].done.is_set)
