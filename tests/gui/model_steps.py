"""Loading a model and getting an answer in the window, for the GUI tests of speculative decoding
(tests/gui/test_speculative_gui.py, tests/gui/test_draft_model_gui.py)."""

from __future__ import annotations

from pathlib import Path

from app.main_window import MainWindow
from tests.gui.clicks import type_text

LOAD_TIMEOUT_MS = 30_000
ANSWER_TIMEOUT_MS = 60_000
#: A message whose words repeat, so that prompt lookup finds earlier occurrences to copy from.
REPEATING = "Once upon a time there was a little girl named Lily. " * 3


def load(qtbot, window: MainWindow, path: Path) -> dict:
    """Load ``path`` as the window loads a model; returns the loaded model's info."""
    with qtbot.waitSignal(window.client.loaded, timeout=LOAD_TIMEOUT_MS) as loaded:
        window.open_model(str(path))
    return loaded.args[0]


def answer(qtbot, window: MainWindow, message: str = REPEATING.strip()) -> dict:
    """Type ``message`` and send it; returns the answer's stats once it is written."""
    type_text(qtbot, window.input, message)
    with qtbot.waitSignal(window.client.finished, timeout=ANSWER_TIMEOUT_MS) as done:
        window.send()
    return done.args[0]
