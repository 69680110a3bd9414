"""How many threads llama.cpp decodes with: chosen by measuring, and chosen again as the load changes.

One token of a small model takes a millisecond or two, and llama.cpp's worker threads meet at a
barrier after each of the graph's few hundred operations. On a laptop that is doing something
else too (a build, a browser tab), one of those threads is often not running: every barrier then
waits for the scheduler, and two threads on two busy cores decode five to twenty times slower
than one (measured here: stories260K at 155 against 747 tokens/s with a competing process). On
an idle machine all cores win. No fixed number is right, so the host measures: each candidate
thread count decodes a few tokens, the fastest is kept, and the others are tried again from
time to time, so a build that starts or ends mid-answer is noticed.

The cost: a slower count is re-tried less and less often (after 1, 2, 4 ... 32 s) and a trial
stops as soon as it has cost more than the best count would have.
"""

from __future__ import annotations

import collections
import os
import statistics
import time
from collections.abc import Callable

# Defined beside the machine's other figures (runtime.models, which the report also uses without
# the chat package); the chat modules import them from here.
from runtime.models.machine import default_threads, usable_cores  # noqa: F401 - re-exported

#: A token this many times slower than the chosen count's mean (and slower than the floor) means
#: a worker thread was descheduled: measured here, such tokens take 0.1 to 1.3 s instead of 1 ms.
STALL_FACTOR = 20.0
STALL_FLOOR_S = 0.02


PROC_STAT = "/proc/stat"


def _read_proc_stat(path: str) -> tuple[float, float] | None:
    """(busy, total) CPU seconds of the whole machine since boot, from the ``cpu`` line of ``path``.

    Busy is user, system, interrupt and steal time. Time spent in niced processes counts as idle:
    the scheduler gives a nice-0 thread almost all of a core that a nice-19 indexer or build is
    using (CFS weights 1024 against 15), so such work does not slow decoding; llama-bench at two
    threads was as fast beside two niced builds as on an idle machine here.
    """
    try:
        with open(path, encoding="ascii") as stat:
            fields = stat.readline().split()
    except (OSError, ValueError):
        return None
    if len(fields) < 8 or fields[0] != "cpu":
        return None
    try:
        user, _nice, system, idle, iowait, irq, softirq = (int(v) for v in fields[1:8])
        steal = int(fields[8]) if len(fields) > 8 else 0
    except ValueError:
        return None
    ticks = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    busy = user + system + irq + softirq + steal
    total = busy + idle + iowait + _nice
    return busy / ticks, total / ticks


class CpuUse:
    """How many cores other programs keep busy, measured between successive calls.

    Linux only (``/proc/stat``); elsewhere, or when it cannot be read, :meth:`others_busy` returns
    None and callers fall back to the load average. The load average is a poor guide here: it
    counts niced background work that gives way to us, and it lags by a minute.

    Args:
        path: The kernel's CPU statistics (tests pass a file of their own).
        min_window_s: Calls closer together than this return the previous figure: a shorter
            window is mostly clock-tick noise.
    """

    def __init__(self, path: str = PROC_STAT, *, min_window_s: float = 0.5) -> None:
        self._path = path
        self._min_window_s = min_window_s
        self._last = self._sample()
        self._figure: float | None = None

    def _sample(self) -> tuple[float, float, float] | None:
        machine = _read_proc_stat(self._path)
        if machine is None:
            return None
        # This process's own CPU time, all threads: its decode threads are not "other programs".
        return machine[0], machine[1], time.process_time()

    def others_busy(self) -> float | None:
        """Cores (of :func:`usable_cores`) that other programs used since the previous call."""
        now = self._sample()
        last = self._last
        if now is None or last is None:
            self._last = now
            return None
        d_total = now[1] - last[1]
        if d_total <= 0:
            return self._figure
        window_s = d_total / _wall_cpus()
        if window_s < self._min_window_s:
            return self._figure
        self._last = now
        d_busy_others = max(0.0, (now[0] - last[0]) - (now[2] - last[2]))
        self._figure = usable_cores() * min(1.0, d_busy_others / d_total)
        return self._figure


def _wall_cpus() -> int:
    """CPUs the kernel's totals add up over (all of them, not only those this process may use)."""
    return os.cpu_count() or 1


def idle_cores(cpu_use: CpuUse | None = None) -> float | None:
    """About how many cores nothing else is using.

    With ``cpu_use`` (Linux), what other programs at normal priority used since the previous
    call; otherwise the load average less this process's own decode loop. None where the
    platform has neither (Windows).
    """
    if cpu_use is not None:
        busy = cpu_use.others_busy()
        if busy is not None:
            return usable_cores() - busy
    if not hasattr(os, "getloadavg"):
        return None
    return usable_cores() - max(0.0, os.getloadavg()[0] - 1.0)


def candidate_counts(most: int) -> tuple[int, ...]:
    """The thread counts tried, smallest first: one, half, one fewer than all, and all."""
    return tuple(sorted({n for n in (1, most // 2, most - 1, most) if n >= 1}))


class ThreadTuner:
    """Picks the thread count for each next token from the measured time per token.

    It starts with one thread (never much slower when the machine is idle, and never the
    disaster that too many threads are when it is busy), then tries each other count for a
    few tokens and keeps whichever decodes fastest on average: the mean, not the median,
    since a token that waited for the scheduler is a real cost. A count that loses is tried
    again after 1, 2, 4 ... up to 32 seconds; a trial is cut short as soon as it has cost more
    than the best count would have. When several threads are in use and one token stalls (a
    build started), it falls back to one thread at once; when the best count gets twice as
    fast (the machine got idle), every count is tried again.

    Args:
        most: The largest count to try (:func:`default_threads` when automatic).
        fixed: A count the user chose: always used, nothing is measured.
        samples: Tokens that make a trial.
        retry_s: The first wait before a losing count is tried again (it doubles each loss).
        max_retry_s: The longest such wait.
        clock: The time source (tests pass a fake one).
        free_cores: How many cores are idle (None: unknown); by default :func:`idle_cores`
            measured since the previous trial. A count is not tried while fewer cores than it
            needs are idle: on a busy machine one token of such a trial took up to 1.4 s here.
    """

    def __init__(
        self,
        most: int,
        *,
        fixed: int | None = None,
        samples: int = 4,
        retry_s: float = 1.0,
        max_retry_s: float = 32.0,
        clock: Callable[[], float] = time.perf_counter,
        free_cores: Callable[[], float | None] | None = None,
    ) -> None:
        self.fixed = fixed is not None and fixed > 0
        self.candidates: tuple[int, ...] = (fixed,) if fixed and fixed > 0 else candidate_counts(max(1, most))
        self._samples = samples
        self._retry_s = retry_s
        self._max_retry_s = max_retry_s
        self._clock = clock
        if free_cores is None:
            cpu_use = CpuUse()
            free_cores = lambda: idle_cores(cpu_use)  # noqa: E731 - a closure over this tuner's meter
        self._free_cores = free_cores
        now = clock()
        self._times: dict[int, collections.deque[float]] = {n: collections.deque(maxlen=16) for n in self.candidates}
        self._wait = dict.fromkeys(self.candidates, retry_s)
        self._next_try = dict.fromkeys(self.candidates, now)
        self._best = self.candidates[0]
        self._chosen_mean: float | None = None
        self._trial: int | None = None
        self._trial_times: list[float] = []
        self.current = self._best

    @property
    def best(self) -> int:
        """The count that decodes fastest so far (the one a prompt batch uses)."""
        return self._best

    def next_count(self) -> int:
        """The thread count for the next token."""
        if self.fixed:
            return self.current
        if self._trial is None and len(self._times[self._best]) >= self._samples:
            now = self._clock()
            due = [n for n in self.candidates if n != self._best and now >= self._next_try[n]]
            if due:
                free = self._free_cores()
                # The extra threads need idle cores; look again after the usual wait if not.
                for n in due:
                    if free is None or n <= 1 or free >= n - 0.5:
                        self._trial, self._trial_times = n, []
                        break
                    self._next_try[n] = now + self._wait[n]
        self.current = self._trial if self._trial is not None else self._best
        return self.current

    def record(self, count: int, seconds: float) -> None:
        """How long one token took with ``count`` threads."""
        if self.fixed:
            return
        if count == self._trial:
            self._record_trial(seconds)
        elif count == self._best:
            times = self._times[count]
            times.append(seconds)
            if self._chosen_mean is None and len(times) >= self._samples:
                self._chosen_mean = statistics.fmean(times)
            if (
                count != self.candidates[0]
                and self._chosen_mean is not None
                and seconds > max(STALL_FACTOR * self._chosen_mean, STALL_FLOOR_S)
            ):
                # One token waited far longer than this count's usual time: a worker thread was
                # not running (the machine got busy). More threads are then a gamble that can
                # cost seconds a token, so fall back to one at once and try this count later.
                self._demote(count)
                return
            recent = list(times)[-8:]
            if self._chosen_mean is not None and len(recent) == 8 and statistics.fmean(recent) < self._chosen_mean / 2:
                # Twice as fast as when chosen: the machine got idler, and more threads may pay
                # again; every count deserves a new trial now. (Slower is handled above: more
                # threads would not help a busier machine.)
                now = self._clock()
                self._next_try = dict.fromkeys(self.candidates, now)
                self._wait = dict.fromkeys(self.candidates, self._retry_s)
                self._chosen_mean = statistics.fmean(recent)

    def _demote(self, count: int) -> None:
        now = self._clock()
        self._wait[count] = min(2 * self._wait[count], self._max_retry_s)
        self._next_try[count] = now + self._wait[count]
        self._best = self.candidates[0]
        self._times[self._best].clear()
        self._chosen_mean = None

    def _record_trial(self, seconds: float) -> None:
        assert self._trial is not None
        trial = self._trial
        self._trial_times.append(seconds)
        best_mean = statistics.fmean(list(self._times[self._best])[-8:])
        spent = sum(self._trial_times)
        lost = spent > self._samples * best_mean * 1.1  # already costlier than the best's whole trial
        if not lost and len(self._trial_times) < self._samples:
            return
        now = self._clock()
        trial_mean = spent / len(self._trial_times)
        if not lost and trial_mean < 0.9 * best_mean:  # a margin, so noise does not flip the choice
            loser = self._best
            self._best = trial
            self._times[trial] = collections.deque(self._trial_times, maxlen=16)
            self._chosen_mean = trial_mean
            self._wait[trial] = self._retry_s
            self._next_try[loser] = now + self._wait[loser]
        else:
            self._wait[trial] = min(2 * self._wait[trial], self._max_retry_s)
            self._next_try[trial] = now + self._wait[trial]
        self._trial = None
