"""Qt face of a job process (runtime.jobs): its progress and outcome become signals."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, Signal, Slot

from app.tasks import run_task
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

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._job: jobs.JobProcess | None = None
        self._event.connect(self._dispatch)

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
        # Waiting for the process blocks, so it happens on a pool thread.
        run_task(process.wait, self._done)

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
