"""The thread tuner: measured choices on an idle machine, a busy one, and one that changes."""

from __future__ import annotations

from runtime.chat._threads import ThreadTuner, candidate_counts


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def run(tuner: ThreadTuner, clock: FakeClock, cost: dict[int, float], tokens: int) -> list[int]:
    """Decode ``tokens`` tokens where a token with n threads takes ``cost[n]`` seconds."""
    used = []
    for _ in range(tokens):
        n = tuner.next_count()
        used.append(n)
        clock.now += cost[n]
        tuner.record(n, cost[n])
    return used


def test_candidates() -> None:
    assert candidate_counts(1) == (1,)
    assert candidate_counts(2) == (1, 2)
    assert candidate_counts(8) == (1, 4, 7, 8)


def test_idle_machine_settles_on_more_threads() -> None:
    clock = FakeClock()
    tuner = ThreadTuner(4, clock=clock, free_cores=lambda: 4.0)
    used = run(tuner, clock, {1: 0.004, 2: 0.0025, 3: 0.002, 4: 0.0015}, 200)
    assert used[0] == 1  # the safe start
    assert tuner.best == 4
    assert used[-50:] == [4] * 50


def test_busy_machine_never_gambles_on_extra_threads() -> None:
    clock = FakeClock()
    tuner = ThreadTuner(2, clock=clock, free_cores=lambda: 1.0)  # another process holds a core
    used = run(tuner, clock, {1: 0.001, 2: 1.4}, 2000)
    assert set(used) == {1}


def test_a_losing_trial_is_cut_short_and_retried_ever_later() -> None:
    clock = FakeClock()
    tuner = ThreadTuner(2, clock=clock, free_cores=lambda: 2.0)
    used = run(tuner, clock, {1: 0.001, 2: 0.5}, 40_000)  # 40 s of decoding
    trials = [i for i, n in enumerate(used) if n == 2]
    # Each trial is one token (it cost more than the best's whole trial at once), and the
    # waits double: 1, 2, 4, 8, 16 s ... so a handful of trials in 40 s, not forty.
    assert 3 <= len(trials) <= 7
    assert tuner.best == 1


def test_a_stall_falls_back_to_one_thread_at_once() -> None:
    clock = FakeClock()
    tuner = ThreadTuner(2, clock=clock, free_cores=lambda: 2.0)
    run(tuner, clock, {1: 0.004, 2: 0.002}, 100)
    assert tuner.best == 2
    # A build starts: a two-thread token now waits for the scheduler.
    n = tuner.next_count()
    assert n == 2
    clock.now += 0.3
    tuner.record(2, 0.3)
    assert tuner.best == 1 and tuner.next_count() == 1


def test_a_fixed_count_is_always_used() -> None:
    clock = FakeClock()
    tuner = ThreadTuner(8, fixed=3, clock=clock, free_cores=lambda: 8.0)
    assert set(run(tuner, clock, {3: 0.01}, 50)) == {3}
    assert tuner.best == 3


def write_stat(path, user: int, nice: int, system: int, idle: int) -> None:
    # The first lines of a real /proc/stat: the machine's totals, then one line per CPU.
    path.write_text(
        f"cpu  {user} {nice} {system} {idle} 0 0 0 0 0 0\ncpu0 {user} {nice} {system} {idle} 0 0 0 0 0 0\nintr 1\n"
    )


def test_niced_work_counts_as_idle_and_normal_work_as_busy(tmp_path, monkeypatch) -> None:
    import os

    from runtime.chat import _threads

    stat = tmp_path / "stat"
    monkeypatch.setattr(_threads, "usable_cores", lambda: 2)
    monkeypatch.setattr(_threads, "_wall_cpus", lambda: 2)
    monkeypatch.setattr(_threads.time, "process_time", lambda: 0.0)  # this process used nothing
    hz = os.sysconf("SC_CLK_TCK")
    write_stat(stat, 0, 0, 0, 0)
    meter = _threads.CpuUse(str(stat), min_window_s=0.5)
    # One second on two CPUs: a niced build on one core, the other idle.
    write_stat(stat, 0, hz, 0, hz)
    assert meter.others_busy() == 0.0
    assert _threads.idle_cores(meter) == 2.0  # cached: the next call is in the same window
    # The next second: a normal-priority process on one core.
    write_stat(stat, hz, hz, 0, 2 * hz)
    assert meter.others_busy() == 1.0
    # A window shorter than min_window_s repeats the last figure instead of a noisy one.
    write_stat(stat, hz + 1, hz, 0, 2 * hz)
    assert meter.others_busy() == 1.0


def test_unreadable_stat_falls_back_to_the_load_average(tmp_path) -> None:
    import os

    from runtime.chat._threads import CpuUse, idle_cores

    meter = CpuUse(str(tmp_path / "missing"))
    assert meter.others_busy() is None
    (tmp_path / "garbage").write_text("not a stat file\n")
    assert CpuUse(str(tmp_path / "garbage")).others_busy() is None
    assert (idle_cores(meter) is None) == (not hasattr(os, "getloadavg"))


def test_a_busy_process_on_this_machine_is_seen() -> None:
    import os
    import subprocess
    import sys
    import time

    from runtime.chat._threads import CpuUse, usable_cores

    assert os.path.exists("/proc/stat")  # the tests run on Linux (CI and here)
    # The spinner inherits this process's niceness. Run niced (nice -n 19 pytest), its time is
    # niced time, which the meter rightly counts as idle: then only the bounds are checked.
    niced = os.getpriority(os.PRIO_PROCESS, 0) > 0
    ticks = os.sysconf("SC_CLK_TCK")
    meter = CpuUse()
    started = time.monotonic()
    spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(1.5)
        busy = meter.others_busy()
        window_s = time.monotonic() - started
        # What the spinner really got, from the kernel: on a machine that is busy already it may
        # be well under a core, so that (not a fixed figure) is what the meter must have seen.
        with open(f"/proc/{spinner.pid}/stat", encoding="ascii") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        spinner_cores = (int(fields[11]) + int(fields[12])) / ticks / window_s
    finally:
        spinner.kill()
        spinner.wait()
    assert busy is not None and 0.0 <= busy <= usable_cores()
    if not niced:
        assert spinner_cores > 0.1  # it ran
        # Clock ticks (1/100 s) on both sides make the figures a little uneven.
        assert busy >= 0.9 * spinner_cores * usable_cores() / (os.cpu_count() or 1) - 0.05, (busy, spinner_cores)
