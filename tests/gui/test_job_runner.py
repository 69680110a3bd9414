"""JobRunner: a job's outcome arrives as a signal, and waiting for jobs never starves the views' tasks."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QThreadPool

from app.job_runner import JobRunner
from app.tasks import run_task


def test_running_jobs_leave_the_global_pool_to_the_views(qtbot, llama_tokenizer: Path, tmp_path: Path) -> None:
    pool = QThreadPool.globalInstance()
    pool.waitForDone()
    runners = [JobRunner() for _ in range(pool.maxThreadCount() + 1)]
    finished: list[object] = []
    for runner in runners:
        runner.finished.connect(finished.append)
        runner.start("tokenizer-check", path=str(llama_tokenizer))
    # Each job is a Python process that takes a while to start; a short task queued now must
    # run at once, not after the jobs (it waited for a job to end when they were waited for on
    # the global pool, and with as many jobs as pool threads it did not run until one ended).
    done: list[tuple[int, int]] = []
    run_task(lambda: 7, lambda result, _error: done.append((result, len(finished))))
    qtbot.waitUntil(lambda: bool(done), timeout=30_000)
    assert done == [(7, 0)]
    qtbot.waitUntil(lambda: len(finished) == len(runners), timeout=60_000)
    assert all(outcome.ok for outcome in finished)
    assert not any(runner.running for runner in runners)


def test_a_failing_job_reports_its_error(qtbot, tmp_path: Path) -> None:
    bad = tmp_path / "tokenizer.model"
    bad.write_bytes(b"not a sentencepiece model")
    runner = JobRunner()
    with qtbot.waitSignal(runner.finished, timeout=60_000) as blocker:
        runner.start("tokenizer-check", path=str(bad))
    outcome = blocker.args[0]
    assert not outcome.ok and not outcome.cancelled
    assert outcome.error
