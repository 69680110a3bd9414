"""Model → Convert and quantize my weights: the flow behind the wizard and the quantization report.

Everything that reads the user's checkpoint runs in job processes (``convert-inspect``,
``convert``, ``quantize``, ``report`` of :mod:`runtime.jobs`, started isolated): the GUI process
never opens a pickle or a weight file. The controllers sequence the jobs and turn their events
into signals; the views (:mod:`app.views.convert_wizard`) only show them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from app.job_runner import JobRunner
from app.messages import user_message
from runtime.models.convert import free_bytes


@dataclass(frozen=True)
class PlannedOutput:
    """One file the run will write: ``kind`` is the conversion's outtype (``f16``) or a quantization type."""

    kind: str
    path: Path
    estimate: int


def plan_outputs(
    *, name: str, out_dir: str | Path, outtype: str, qtypes: list[str], estimates: dict[str, int]
) -> list[PlannedOutput]:
    """The files of a run, in order: the converted GGUF, then one per quantization type."""
    folder = Path(out_dir)
    outputs = [PlannedOutput(outtype, folder / f"{name}-{outtype}.gguf", int(estimates.get(outtype, 0)))]
    outputs += [PlannedOutput(q, folder / f"{name}-{q}.gguf", int(estimates.get(q, 0))) for q in qtypes]
    return outputs


def space_shortfall(outputs: list[PlannedOutput], out_dir: str | Path) -> tuple[int, int] | None:
    """``(free, needed)`` bytes when the folder lacks the space for every output, else None."""
    needed = sum(output.estimate for output in outputs)
    free = free_bytes(out_dir)
    return (free, needed) if free < needed else None


class _JobController(QObject):
    """A controller of one :class:`JobRunner`: ``running`` and ``cancel`` are its job's, and each
    outcome goes to :meth:`_on_finished`."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.runner = JobRunner(self)
        self.runner.finished.connect(self._on_finished)

    @property
    def running(self) -> bool:
        """Whether a job runs."""
        return self.runner.running

    def cancel(self) -> None:
        """Stop the job in progress (its temporary output is removed)."""
        self.runner.cancel()

    def _on_finished(self, outcome: Any) -> None:
        raise NotImplementedError


class ConvertController(_JobController):
    """Inspect a checkpoint folder, then convert and quantize it, one job after another.

    Signals:
        inspected(object): the ``convert-inspect`` result: ``{"checkpoint": {...}, "estimates": {...}}``.
        inspect_failed(str): why the folder could not be inspected (translated).
        stage_progress(int, int, int, float): stage index, done, total, seconds since the stage began.
        stage_finished(int, object): stage index and its job's result.
        finished(object): the list of result dicts of every stage, when all are done.
        failed(str): a stage failed (translated message; the stages before it are kept).
        cancelled(): the run was cancelled (the stage in progress left nothing behind).
    """

    inspected = Signal(object)
    inspect_failed = Signal(str)
    stage_progress = Signal(int, int, int, float)
    stage_finished = Signal(int, object)
    finished = Signal(object)
    failed = Signal(str)
    cancelled = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.runner.progress.connect(self._on_progress)
        self._mode = ""
        self._folder = ""
        self._outputs: list[PlannedOutput] = []
        self._options: dict[str, Any] = {}
        self._stage = -1
        self._stage_started = 0.0
        self._results: list[dict[str, Any]] = []

    def inspect(self, folder: str) -> None:
        """Inspect ``folder`` in a job; ``inspected`` or ``inspect_failed`` follows."""
        self._mode = "inspect"
        self._folder = folder
        self.runner.start("convert-inspect", folder=folder)

    def start(
        self, *, folder: str, outputs: list[PlannedOutput], threads: int | None = None, template: str = "auto"
    ) -> None:
        """Convert ``folder`` to ``outputs[0]`` and quantize it to each further output."""
        self._mode = "run"
        self._folder = folder
        self._outputs = list(outputs)
        self._options = {"threads": threads, "template": template}
        self._results = []
        self._stage = -1
        self._next_stage()

    def _next_stage(self) -> None:
        self._stage += 1
        self._stage_started = time.monotonic()
        if self._stage >= len(self._outputs):
            self.finished.emit(list(self._results))
            return
        output = self._outputs[self._stage]
        if self._stage == 0:
            self.runner.start(
                "convert",
                src=self._folder,
                out=str(output.path),
                outtype=output.kind,
                template=self._options["template"],
            )
        else:
            self.runner.start(
                "quantize",
                src=str(self._outputs[0].path),
                out=str(output.path),
                type=output.kind,
                threads=self._options["threads"],
            )

    def _on_progress(self, done: int, total: int, _stage: str) -> None:
        if self._mode == "run":
            self.stage_progress.emit(self._stage, done, total, time.monotonic() - self._stage_started)

    def _on_finished(self, outcome: Any) -> None:
        if self._mode == "inspect":
            if outcome.ok:
                self.inspected.emit(outcome.result or {})
            elif not outcome.cancelled:
                self.inspect_failed.emit(user_message(outcome.code, outcome.params, outcome.error or ""))
            return
        if outcome.cancelled:
            self.cancelled.emit()
            return
        if not outcome.ok:
            self.failed.emit(user_message(outcome.code, outcome.params, outcome.error or ""))
            return
        self._results.append(outcome.result or {})
        self.stage_finished.emit(self._stage, outcome.result or {})
        self._next_stage()


class ReportController(_JobController):
    """The quantization report of several files, in a ``report`` job.

    Signals:
        progress(int, int, str): done, total, stage (``perplexity 2/3: NAME``, ``speed ...``).
        finished(object): the report (``{"text", "n_ctx", "rows": [...]}``).
        failed(str): why it failed (translated).
        cancelled(): the report was cancelled.
    """

    progress = Signal(int, int, str)
    finished = Signal(object)
    failed = Signal(str)
    cancelled = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.runner.progress.connect(self.progress)

    def start(
        self,
        files: list[str],
        *,
        text: str | None = None,
        n_ctx: int = 512,
        threads: int | None = None,
        max_chunks: int = 0,
        speed_tokens: int = 64,
    ) -> None:
        """Make the report for ``files`` (one model's GGUF files)."""
        self.runner.start(
            "report",
            files="\n".join(files),
            text=text or None,
            ctx=n_ctx,
            threads=threads,
            max_chunks=max_chunks,
            speed_tokens=speed_tokens,
        )

    def _on_finished(self, outcome: Any) -> None:
        if outcome.cancelled:
            self.cancelled.emit()
        elif outcome.ok:
            self.finished.emit(outcome.result or {})
        else:
            self.failed.emit(user_message(outcome.code, outcome.params, outcome.error or ""))
