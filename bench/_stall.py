"""The GUI-thread stall meter shared by the GUI benchmarks.

A QTimer ticks every ``tick_ms`` on the GUI thread; the longest gap between two ticks, less
the interval, is how long the event loop could not run. Kept apart from ``_common`` so that
benchmarks without a GUI never import Qt.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QEventLoop, QTimer


def measure_stall(
    start: Callable[[], Any], done_signal: Any, *, tick_ms: int = 16, timeout_ms: int = 120_000
) -> tuple[float, float]:
    """Call ``start()``, run the event loop until ``done_signal`` fires, and return
    ``(largest stall in ms, elapsed ms)``."""
    gaps: list[float] = []
    last = [time.perf_counter()]

    def tick() -> None:
        now = time.perf_counter()
        gaps.append((now - last[0]) * 1000.0 - tick_ms)
        last[0] = now

    timer = QTimer()
    timer.setInterval(tick_ms)
    timer.timeout.connect(tick)
    loop = QEventLoop()
    done_signal.connect(loop.quit)
    QTimer.singleShot(timeout_ms, loop.quit)
    started = time.perf_counter()
    last[0] = started
    timer.start()
    start()
    loop.exec()
    elapsed = (time.perf_counter() - started) * 1000.0
    timer.stop()
    done_signal.disconnect(loop.quit)
    return max(gaps, default=0.0), elapsed
