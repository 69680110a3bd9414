"""The decoding panel's prompt preview: read-only text rendered on a worker thread.

The preview renders on a worker thread: a model file's template runs in the template sandbox,
which may take its full time limit. What to render is the panel's business; this widget decides
when: a change starts the debounce timer, at most one render is in flight, and one that finishes
after a newer change is dropped and followed by a render of the newest state, so typing never
queues up renders.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import shiboken6
from PySide6.QtCore import QTimer, Signal
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import QPlainTextEdit, QWidget

from app.messages import error_text
from app.tasks import run_task
from runtime.errors import AppError

__all__ = ["PREVIEW_DEBOUNCE_MS", "PromptPreview"]

# Rendering on every keystroke of the draft would be wasted work; 150 ms feels immediate.
PREVIEW_DEBOUNCE_MS = 150


class PromptPreview(QPlainTextEdit):
    """The exact text the model reads, in a fixed-width font, rendered off the GUI thread.

    Args:
        prepare: Called on the GUI thread when a render starts; it reads what to render and
            returns the work to run on the worker, which returns the text (an ``AppError`` it
            raises is shown as its message).

    Signals:
        rendered(str): The preview shows a newly rendered text (or why there is none).
    """

    rendered = Signal(str)

    def __init__(self, prepare: Callable[[], Callable[[], str]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._prepare = prepare
        self.setReadOnly(True)
        self.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.setMinimumHeight(self.fontMetrics().lineSpacing() * 12)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(PREVIEW_DEBOUNCE_MS)
        self._timer.timeout.connect(self.render_now)
        # Each change counts a generation; a render that ends on an older one is stale.
        self._generation = 0
        self._busy = False

    def schedule(self) -> None:
        """Render once the debounce has passed without another change."""
        self._timer.start()

    def render_now(self) -> None:
        """Render the newest state now, or as soon as the render in flight ends."""
        self._generation += 1
        if not self._busy:
            self._start()
        # Otherwise the render in flight sees the new generation when it ends and starts this one.

    def is_rendering(self) -> bool:
        """Whether a render is in flight."""
        return self._busy

    def _start(self) -> None:
        generation = self._generation
        work = self._prepare()
        self._busy = True
        run_task(work, lambda result, error: self._done(generation, result, error))

    def _done(self, generation: int, result: Any, error: BaseException | None) -> None:
        if not shiboken6.isValid(self):
            return  # the panel was closed while its preview rendered
        self._busy = False
        if generation != self._generation:
            self._start()  # something changed meanwhile: this result is stale
            return
        if error is None:
            text = str(result)
        elif isinstance(error, AppError):
            text = error_text(error)
        else:
            raise error
        bar = self.verticalScrollBar()
        # The draft is at the end, so a preview that was scrolled to the end follows it; one
        # scrolled elsewhere stays where the user is reading.
        at_end = bar.value() >= bar.maximum()
        position = bar.value()
        self.setPlainText(text)
        bar.setValue(bar.maximum() if at_end else position)
        self.rendered.emit(text)
