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
