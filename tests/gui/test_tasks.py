"""run_task delivers results and errors on the GUI thread."""

from __future__ import annotations

import threading

from app.tasks import run_task


def test_result_arrives_on_gui_thread(qtbot) -> None:
    seen: list[tuple[object, object, bool]] = []
    worker_threads: list[bool] = []

    def work() -> int:
        worker_threads.append(threading.current_thread() is threading.main_thread())
        return 42

    run_task(
        work, lambda result, error: seen.append((result, error, threading.current_thread() is threading.main_thread()))
    )
    qtbot.waitUntil(lambda: bool(seen), timeout=30_000)
    assert seen == [(42, None, True)]
    assert worker_threads == [False]


def test_error_is_delivered(qtbot) -> None:
    seen: list[object] = []

    def work() -> None:
        raise ValueError("broken tokenizer")

    run_task(work, lambda result, error: seen.append(error))
    qtbot.waitUntil(lambda: bool(seen), timeout=30_000)
    assert isinstance(seen[0], ValueError)


def test_a_task_finishing_after_its_carrier_is_deleted_is_dropped_quietly(qtbot, caplog) -> None:
    """What happens at exit: Qt deletes its objects while a pool thread is still working."""
    import shiboken6

    from app.tasks import _Signals, _Task

    signals = _Signals()
    seen: list[object] = []
    signals.done.connect(lambda result, error: seen.append(result))
    task = _Task(lambda: 42, signals)
    shiboken6.delete(signals)
    task.run()  # must not raise "Signal source has been deleted"
    assert seen == []
    assert not [r for r in caplog.records if r.levelname in ("WARNING", "ERROR")]
