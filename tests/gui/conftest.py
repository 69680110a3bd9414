"""Fixtures shared by the GUI tests: the app's context and main window, and the fake hub with a window
pointed at it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from app.context import AppContext
from app.main_window import MainWindow
from tests.fakehub import FakeHub


@pytest.fixture
def hub(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeHub]:
    """A real HTTP server on 127.0.0.1 that answers as the hub does; tokens are kept in no keyring."""
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
    with FakeHub() as server:
        yield server


@pytest.fixture
def window(qtbot, hub: FakeHub) -> Iterator[MainWindow]:
    """The main window as the app makes it, with the fake hub as its endpoint."""
    context = AppContext.open(show_errors=False)
    context.settings.hub_endpoint = hub.url
    win = MainWindow(context)
    win._replaced = True  # closing it in a test must not quit the shared QApplication
    qtbot.addWidget(win)
    win.show()
    yield win
    context.close()


@pytest.fixture
def context() -> Iterator[AppContext]:
    """The app's context as it opens at start (settings, store, inference client), closed after the test."""
    ctx = AppContext.open(show_errors=False)
    yield ctx
    ctx.close()


@pytest.fixture
def local_window(qtbot, context: AppContext) -> Iterator[MainWindow]:
    """The main window on ``context``, shown; an answer still streaming at the end is stopped."""
    win = MainWindow(context)
    win._replaced = True  # closing it in a test must not quit the shared QApplication
    qtbot.addWidget(win)
    win.show()
    yield win
    if context.client.is_generating:
        with qtbot.waitSignal(context.client.finished, timeout=5000, raising=False):
            win.stop()
