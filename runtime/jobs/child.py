"""The child side of a job: ``python -m runtime.jobs JOB ...`` runs one job here and reports JSON lines.

:func:`main` parses the job's options, runs its function in a worker thread with a
:class:`JobContext`, stops at the first SIGINT or SIGTERM (removing the temporary output), and
writes the events with an :class:`Emitter` on the real stdout (:func:`event_stream`).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import shutil
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TextIO

from runtime._exit import end_with_parent
from runtime.errors import AppError
from runtime.jobs.protocol import CANCEL_GRACE_S, GATE_ENV, JobEvent, Progress
from runtime.jobs.table import JOBS


class JobContext:
    """What a job function gets: progress reporting, temporary output, and the cancel flag.

    Attributes:
        cancelled: Set when the job is asked to stop; a job's Python loops may check it (native
            work is not interrupted: the process exits instead).
    """

    def __init__(self, emit: Callable[[JobEvent], None]) -> None:
        self._emit = emit
        self._scratch: list[Path] = []
        self._lock = threading.Lock()
        self.cancelled = threading.Event()
        self._last_progress: tuple[int, int, str] | None = None
        where, _, gate = os.environ.get(GATE_ENV, "").partition("=")
        stage, _, share = where.partition("@")
        self._gate: tuple[str, float, Path] | None = (stage, float(share or 0), Path(gate)) if stage and gate else None

    def emit(self, event: str, **fields: Any) -> None:
        """Send one event to the parent."""
        self._emit({"event": event, **fields})

    def progress(self, progress: Progress) -> None:
        """Report progress (repeats of the same figures are dropped)."""
        key = (progress.done, progress.total, progress.stage)
        with self._lock:
            if key == self._last_progress:
                return
            self._last_progress = key
        self.emit("progress", done=progress.done, total=progress.total, stage=progress.stage)
        gate = self._gate
        if gate is not None and progress.stage == gate[0] and progress.done >= gate[1] * progress.total:
            self._gate = None
            while not gate[2].exists() and not self.cancelled.is_set():
                time.sleep(0.05)

    def scratch(self, path: Path) -> None:
        """Announce temporary output: removed if the job is cancelled or fails."""
        with self._lock:
            self._scratch.append(path)
        self.emit("scratch", path=str(path))

    def remove_scratch(self) -> None:
        """Remove the temporary output that still exists.

        The job's worker thread may still be writing into it (native code runs on while the
        process is being stopped), so a file it creates during the removal can leave the folder
        behind: try a few times, briefly, before the process ends.
        """
        with self._lock:
            paths = list(self._scratch)
        for path in paths:
            for _attempt in range(20):
                if path.is_dir() and not path.is_symlink():
                    shutil.rmtree(path, ignore_errors=True)
                else:
                    path.unlink(missing_ok=True)
                if not os.path.lexists(path):
                    break
                time.sleep(0.05)


class Emitter:
    """Writes events as JSON lines to a stream, one whole line at a time (also for the training scripts)."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._lock = threading.Lock()

    def __call__(self, event: JobEvent) -> None:
        line = json.dumps(event, ensure_ascii=False, default=str)
        with self._lock:
            try:
                self._stream.write(line + "\n")
                self._stream.flush()
            except (OSError, ValueError):
                pass  # the parent is gone; nothing to tell


class _Stop(BaseException):
    """Raised in the child's main thread by SIGINT/SIGTERM (a BaseException, like KeyboardInterrupt)."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="alpaca-desk job", description="Run one job (used by the app).")
    sub = parser.add_subparsers(dest="job", required=True)
    for definition in JOBS.values():
        job_parser = sub.add_parser(definition.name, help=definition.help)
        for option in definition.options:
            if option.kind is bool:
                job_parser.add_argument(option.flag, dest=option.name, action="store_true", help=option.help)
            else:
                job_parser.add_argument(
                    option.flag,
                    dest=option.name,
                    type=option.kind,
                    required=option.required,
                    default=option.default,
                    help=option.help,
                )
    return parser


def event_stream() -> TextIO:
    """Keep the real stdout for events only; route fd 1 (print, native libraries) to stderr."""
    sys.stdout.flush()
    events = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return events


def main(argv: Sequence[str] | None = None) -> int:
    """Run one job in this process, reporting JSON lines on stdout (``python -m runtime.jobs JOB ...``)."""
    args = _parser().parse_args(argv)
    definition = JOBS[args.job]
    options = {option.name: getattr(args, option.name) for option in definition.options}
    emit = Emitter(event_stream())
    context = JobContext(emit)

    def stop(_signum: int, _frame: Any) -> None:
        context.cancelled.set()
        raise _Stop

    for name in ("SIGINT", "SIGTERM", "SIGBREAK"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), stop)
    # A job whose parent is gone stops as if cancelled (its temporary output removed) instead of
    # running on as an orphan: SIGTERM reaches the handler above. Should the work keep Python's
    # lock in one long C call, that handler never runs: SIGKILL follows after the cancel's grace
    # (what is left behind then is removed by the next run: remove_stale_scratch).
    end_with_parent(
        death_signal=signal.SIGTERM, before_exit=context.remove_scratch, status=130, kill_after_s=CANCEL_GRACE_S
    )

    outcome: dict[str, Any] = {}

    def work() -> None:
        try:
            module_name, function_name = definition.target.split(":")
            function = getattr(importlib.import_module(module_name), function_name)
            outcome["result"] = function(context, **options)
        except BaseException as exc:  # noqa: BLE001 - reported to the parent below
            outcome["error"] = exc
            outcome["traceback"] = traceback.format_exc()

    emit({"event": "started", "job": definition.name, "pid": os.getpid()})
    worker = threading.Thread(target=work, name=f"job-{definition.name}", daemon=True)
    try:
        worker.start()
        while worker.is_alive():
            worker.join(0.1)  # short waits: a signal is handled at once
    except (_Stop, KeyboardInterrupt):
        context.remove_scratch()
        emit({"event": "cancelled"})
        sys.stderr.flush()
        os._exit(130)  # the worker may be inside native code that cannot be interrupted
    error = outcome.get("error")
    if error is not None:
        context.remove_scratch()
        if isinstance(error, AppError):
            emit({"event": "error", "message": str(error), "code": error.code, "params": error.params})
        else:
            sys.stderr.write(outcome.get("traceback", ""))
            emit(
                {
                    "event": "error",
                    "message": f"The {definition.name} job failed: {error}",
                    "code": "job_failed",
                    "params": {"job": definition.name, "detail": str(error)},
                }
            )
        return 1
    result = outcome.get("result")
    emit({"event": "result", **(result if isinstance(result, dict) else {})})
    return 0
