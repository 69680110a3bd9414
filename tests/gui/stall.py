"""The GUI-thread stall meter of the GUI tests (bench/_stall.py is the benchmarks' own copy).

A QTimer ticks every ``TICK_MS`` on the GUI thread. Between two ticks the GUI thread did some
work; the most CPU time it spent between two ticks (``worst``) is how long it kept the event loop
from running. The tests assert on that CPU time, not on the wall-clock gap (``worst_wall``):
work put on the GUI thread by mistake shows in both, but on a machine that is busy with other
things (CI, a parallel build) the wall-clock gap also counts the time the scheduler gave to
other processes, and a bound on it fails for reasons that have nothing to do with the app.
Time in the benchmarks (bench/) stays wall-clock: that is what a user meets.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from PySide6.QtCore import QTimer

TICK_MS = 16


class Stall:
    """The largest stall seen while the meter ran, in ms: GUI-thread CPU (``worst``) and wall clock."""

    def __init__(self) -> None:
        self.gaps: list[float] = []
        self.wall_gaps: list[float] = []

    @property
    def worst(self) -> float:
        return max(self.gaps, default=0.0)

    @property
    def worst_wall(self) -> float:
        return max(self.wall_gaps, default=0.0)


@contextmanager
def stall_meter() -> Iterator[Stall]:
    """Measure the event loop's stalls while the block runs (the block must run the loop)."""
    stall = Stall()
    last = [time.perf_counter(), time.thread_time()]

    def tick() -> None:
        now, cpu = time.perf_counter(), time.thread_time()
        stall.wall_gaps.append((now - last[0]) * 1000.0 - TICK_MS)
        stall.gaps.append((cpu - last[1]) * 1000.0)
        last[0], last[1] = now, cpu

    timer = QTimer()
    timer.setInterval(TICK_MS)
    timer.timeout.connect(tick)
    timer.start()
    try:
        yield stall
    finally:
        timer.stop()
