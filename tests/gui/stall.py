"""The GUI-thread stall meter of the GUI tests (bench/_stall.py is the benchmarks' own copy).

A QTimer ticks every ``TICK_MS`` on the GUI thread; the longest gap between two ticks, less the
interval, is how long the event loop could not run.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from PySide6.QtCore import QTimer

TICK_MS = 16


class Stall:
    """The largest stall seen while the meter ran, in ms (``worst``)."""

    def __init__(self) -> None:
        self.gaps: list[float] = []

    @property
    def worst(self) -> float:
        return max(self.gaps, default=0.0)


@contextmanager
def stall_meter() -> Iterator[Stall]:
    """Measure the event loop's stalls while the block runs (the block must run the loop)."""
    stall = Stall()
    last = [time.perf_counter()]

    def tick() -> None:
        now = time.perf_counter()
        stall.gaps.append((now - last[0]) * 1000.0 - TICK_MS)
        last[0] = now

    timer = QTimer()
    timer.setInterval(TICK_MS)
    timer.timeout.connect(tick)
    timer.start()
    try:
        yield stall
    finally:
        timer.stop()
