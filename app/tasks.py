"""One-shot work off the GUI thread: ``run_task(func, on_done)``."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, Signal

log = logging.getLogger(__name__)


class _Signals(QObject):
    """Carrier of a task's result back to the GUI thread (a QRunnable is not a QObject).

    Signals:
        done(object, object): the result, and the exception (one of them is None).
    """

    done = Signal(object, object)


class _Task(QRunnable):
    def __init__(self, func: Callable[[], Any], signals: _Signals) -> None:
        super().__init__()
        self._func = func
        self.signals = signals

    def run(self) -> None:
        try:
            result = self._func()
        except Exception as exc:  # noqa: BLE001 - delivered to on_done, which decides
            log.debug("task failed", exc_info=True)
            self._deliver(None, exc)
            return
        self._deliver(result, None)

    def _deliver(self, result: Any, error: BaseException | None) -> None:
        try:
            self.signals.done.emit(result, error)
        except RuntimeError:
            # The carrier's C++ object is gone: the application is quitting (its QObjects are
            # deleted before the pool's threads finish), and nobody is left to receive this result.
            log.debug("task finished after its receiver was deleted; result dropped")


_pending: set[_Signals] = set()


def run_task(
    func: Callable[[], Any],
    on_done: Callable[[Any, BaseException | None], None],
    *,
    pool: QThreadPool | None = None,
) -> None:
    """Run ``func`` on a thread pool; call ``on_done(result, error)`` on the GUI thread.

    Args:
        func: the work; must not touch widgets.
        on_done: receives the result and None, or None and the exception.
        pool: a pool of its own for work that must not overlap (``setMaxThreadCount(1)``);
            the global pool otherwise.
    """
    signals = _Signals()
    _pending.add(signals)  # keep the QObject alive until it has delivered

    def deliver(result: Any, error: BaseException | None) -> None:
        _pending.discard(signals)
        on_done(result, error)

    # Queued: ``signals`` lives on the GUI thread, so ``deliver`` runs there, whichever
    # pool thread emitted.
    signals.done.connect(deliver, Qt.ConnectionType.QueuedConnection)
    (pool or QThreadPool.globalInstance()).start(_Task(func, signals))
