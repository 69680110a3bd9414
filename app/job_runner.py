"""Qt face of a job process (runtime.jobs): its progress and outcome become signals."""

from __future__ import annotations

import threading
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal, Slot

from runtime import jobs


class JobRunner(QObject):
    """Runs one job process at a time.

    Signals:
        progress(int, int, str): done, total (0 when unknown) and the stage name.
        finished(object): the ``runtime.jobs.Outcome`` when the process has ended.
    """

    progress = Signal(int, int, str)
    finished = Signal(object)
    _event = Signal(object)
    _waited = Signal(object, object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._job: jobs.JobProcess | None = None
        self._event.connect(self._dispatch)
        self._waited.connect(self._done, Qt.ConnectionType.QueuedConnection)

    @property
    def running(self) -> bool:
        """Whether a job is in progress."""
        return self._job is not None

    def start(self, job: str, **options: Any) -> None:
        """Start ``job`` with ``options``; returns at once."""
        if self._job is not None:
            raise RuntimeError("a job is already running")
        process = jobs.JobProcess(jobs.build_command(job, **options), on_event=self._event.emit)
        self._job = process
        process.start()
        # Waiting for the process blocks for as long as the job runs (minutes to hours), so it
        # happens on a thread of its own, not on Qt's global pool: that pool has as many threads
        # as cores, and two jobs waited for there left none on a 2-core laptop for the short
        # tasks the views run (counting tokens, previews), which then did not run at all. A daemon
        # thread, so that quitting the app is not held up by a job (its process ends with us).
        threading.Thread(target=self._wait, args=(process,), name=f"wait-{job}", daemon=True).start()

    def _wait(self, process: jobs.JobProcess) -> None:
        try:
            outcome, error = process.wait(), None
        except Exception as exc:  # noqa: BLE001 - reported as the job's failure
            outcome, error = None, exc
        try:
            self._waited.emit(outcome, error)
        except RuntimeError:
            pass  # the runner was deleted (its window closed): nobody is left to tell

    def cancel(self) -> None:
        """Stop the job (its partial output is removed); ``finished`` follows with cancelled=True."""
        if self._job is not None:
            self._job.cancel()

    @Slot(object)
    def _dispatch(self, event: dict[str, Any]) -> None:
        if event.get("event") == "progress":
            self.progress.emit(int(event.get("done") or 0), int(event.get("total") or 0), str(event.get("stage", "")))

    def _done(self, outcome: Any, error: BaseException | None) -> None:
        self._job = None
        if error is not None:
            outcome = jobs.Outcome(
                ok=False, cancelled=False, returncode=None, result=None, error=str(error), code="job_failed"
            )
        self.finished.emit(outcome)
