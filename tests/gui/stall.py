"""The GUI-thread stall meter of the GUI tests (bench/_stall.py is the benchmarks' own copy).

A QTimer ticks every ``TICK_MS`` on the GUI thread. The gap between two ticks, less the
interval, is how long the event loop could not run: a stall. It has three parts, which the
kernel's per-thread scheduler statistics (``/proc/self/task/TID/schedstat``) tell apart:

- CPU time the GUI thread spent (work put on it by mistake);
- time it was blocked, off the CPU of its own accord: waiting on a pipe, a lock, the GIL, a
  ``time.sleep`` (the idle wait for the next tick falls inside the interval);
- time it was ready to run but waited for a CPU that other processes held.

The tests bound ``worst``: the first two together, the stall the app caused. The third part is
left out: on a machine busy with other things (CI, a parallel build) it counts the time the
scheduler gave to other processes, and a bound on it would fail for reasons that have nothing to
do with the app. Time in the benchmarks (bench/) stays wall-clock: that is what a user meets.
Where the kernel keeps no such statistics, ``worst`` falls back to the wall-clock gap.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from PySide6.QtCore import QTimer

TICK_MS = 16


class Stall:
    """The largest stalls seen while the meter ran, in ms.

    Attributes:
        gaps: per tick, the wall-clock gap less the interval and less the time spent waiting for
            a CPU (``worst``).
        cpu_gaps: per tick, the GUI thread's CPU time (``worst_cpu``).
        wall_gaps: per tick, the wall-clock gap less the interval (``worst_wall``).
    """

    def __init__(self) -> None:
        self.gaps: list[float] = []
        self.cpu_gaps: list[float] = []
        self.wall_gaps: list[float] = []

    @property
    def worst(self) -> float:
        return max(self.gaps, default=0.0)

    @property
    def worst_cpu(self) -> float:
        return max(self.cpu_gaps, default=0.0)

    @property
    def worst_wall(self) -> float:
        return max(self.wall_gaps, default=0.0)


def _run_queue_wait_s(tid: int) -> float | None:
    """Seconds thread ``tid`` of this process has waited for a CPU while ready to run."""
    try:
        with open(f"/proc/self/task/{tid}/schedstat", encoding="ascii") as stat:
            return int(stat.read().split()[1]) / 1e9
    except (OSError, ValueError, IndexError):
        return None


@contextmanager
def stall_meter() -> Iterator[Stall]:
    """Measure the event loop's stalls while the block runs (the block must run the loop)."""
    stall = Stall()
    tid = threading.get_native_id()
    last = [time.perf_counter(), time.thread_time(), _run_queue_wait_s(tid)]

    def tick() -> None:
        now, cpu, waited = time.perf_counter(), time.thread_time(), _run_queue_wait_s(tid)
        wall_ms = (now - last[0]) * 1000.0 - TICK_MS
        stall.wall_gaps.append(wall_ms)
        stall.cpu_gaps.append((cpu - last[1]) * 1000.0)
        queued_ms = (waited - last[2]) * 1000.0 if waited is not None and last[2] is not None else 0.0
        stall.gaps.append(wall_ms - queued_ms)
        last[0], last[1], last[2] = now, cpu, waited

    timer = QTimer()
    timer.setInterval(TICK_MS)
    timer.timeout.connect(tick)
    timer.start()
    try:
        yield stall
    finally:
        timer.stop()
