"""The parent side of a job: start its process, read its events, cancel it, and say how it ended."""

from __future__ import annotations

import collections
import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runtime._exit import describe_exit
from runtime.jobs.protocol import CANCEL_GRACE_S, JobError, JobEvent
from runtime.jobs.scratch import scratch_prefix
from runtime.jobs.table import build_command, source_root

#: Lines of the child's stderr kept for the message of a job that dies.
STDERR_TAIL_LINES = 40


@dataclass(frozen=True)
class Outcome:
    """How a job ended.

    Attributes:
        ok: It finished and reported a result.
        cancelled: :meth:`JobProcess.cancel` was called before it finished.
        returncode: The process's exit status (negative: the signal that ended it on POSIX).
        result: The ``result`` event's fields (without ``"event"``), or None.
        error: The message of a failed job (its ``error`` event, or why the process died), or None.
        code: The error's code (see the codes of :mod:`runtime.tokens.vocab_jobs`), for the GUI's translation.
        params: The error's parameters.
    """

    ok: bool
    cancelled: bool
    returncode: int | None
    result: dict[str, Any] | None
    error: str | None
    code: str = ""
    params: dict[str, Any] = field(default_factory=dict)

    def raise_for_error(self) -> None:
        """Raise :class:`JobError` (with the code and params) unless the job finished."""
        if not self.ok and not self.cancelled:
            raise JobError(self.error or "The job failed.", code=self.code or "job_failed", params=self.params)


_END = object()


class JobProcess:
    """One job process: start it, read its events, cancel it, wait for its :class:`Outcome`.

    Args:
        command: The argv (see :func:`build_command`).
        on_event: Called from a reader thread with every event; must be quick and thread-safe
            (a Qt adapter re-emits it as a queued signal).
        env: Extra environment variables for the child.

    Events are also queued for :meth:`events`; :meth:`wait` works whether or not they are read.
    Nothing here blocks the caller except :meth:`events` and :meth:`wait`.
    """

    def __init__(
        self,
        command: Sequence[str],
        *,
        on_event: Callable[[JobEvent], None] | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        self.command = list(command)
        self._on_event = on_event
        self._env = env or {}
        self._proc: subprocess.Popen[bytes] | None = None
        self._queue: queue.Queue[Any] = queue.Queue()
        self._reader: threading.Thread | None = None
        self._stderr_reader: threading.Thread | None = None
        self._stderr_tail: collections.deque[str] = collections.deque(maxlen=STDERR_TAIL_LINES)
        self._result: dict[str, Any] | None = None
        self._error: JobEvent | None = None
        self._scratch: list[str] = []
        self._cancel_requested = threading.Event()
        self._exited = threading.Event()
        self._lock = threading.Lock()

    @property
    def pid(self) -> int | None:
        """The process id once started."""
        return self._proc.pid if self._proc is not None else None

    @property
    def running(self) -> bool:
        """Whether the process runs."""
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> None:
        """Start the process. Returns at once.

        Call it from a thread that lives as long as the job should: on Linux the job is stopped
        when the thread that started it ends (see :func:`runtime._exit.end_with_parent`).
        """
        if self._proc is not None:
            raise RuntimeError("a JobProcess starts once")
        env = {**os.environ, "PYTHONIOENCODING": "utf-8", "PYTHONUNBUFFERED": "1", **self._env}
        if not getattr(sys, "frozen", False):
            # `python -m runtime.jobs` must find this very package, whatever the working directory.
            root = str(source_root())
            env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH", "")) if p)
        kwargs: dict[str, Any] = {}
        if os.name == "posix":
            kwargs["start_new_session"] = True  # its own process group: cancel ends the whole group
        else:
            kwargs["creationflags"] = subprocess.CREATE_NEW_PROCESS_GROUP  # type: ignore[attr-defined]
        self._proc = subprocess.Popen(
            self.command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, **kwargs
        )
        self._reader = threading.Thread(target=self._read_events, name="job-events", daemon=True)
        self._stderr_reader = threading.Thread(target=self._read_stderr, name="job-stderr", daemon=True)
        # stderr's reader first: the events reader joins it when stdout ends, which for a child that
        # ends at once can come before the next line here ("cannot join thread before it is started").
        self._stderr_reader.start()
        self._reader.start()

    def _read_events(self) -> None:
        proc = self._proc
        assert proc is not None and proc.stdout is not None
        for raw in proc.stdout:
            line = raw.decode("utf-8", errors="replace").strip()
            if not line:
                continue
            try:
                # Our own job's JSON lines (runtime.untrusted_json is for input from outside); a
                # line some library printed is only text, and never ends this reader.
                event = json.loads(line)
            except (ValueError, RecursionError):
                event = None
            if not isinstance(event, dict) or "event" not in event:
                event = {"event": "log", "line": line}
            kind = event["event"]
            with self._lock:
                if kind == "result":
                    self._result = {k: v for k, v in event.items() if k != "event"}
                elif kind == "error":
                    self._error = event
                elif kind == "scratch" and isinstance(event.get("path"), str):
                    own = self._own_scratch(event["path"])
                    if own is not None:
                        self._scratch.append(str(own))
            self._deliver(event)
        proc.wait()
        self._exited.set()
        if self._stderr_reader is not None:
            self._stderr_reader.join(5)
        self._remove_scratch()
        self._queue.put(_END)

    def _read_stderr(self) -> None:
        proc = self._proc
        assert proc is not None and proc.stderr is not None
        for raw in proc.stderr:
            self._stderr_tail.append(raw.decode("utf-8", errors="replace").rstrip())

    def _deliver(self, event: JobEvent) -> None:
        if self._on_event is not None:
            try:
                self._on_event(event)
            except Exception:  # noqa: BLE001 - a failing callback must not stop the event stream
                traceback.print_exc()
        self._queue.put(event)

    def _own_scratch(self, announced: str) -> Path | None:
        """``announced`` if it is this job's temporary output, else None (and it is never removed).

        A child's events are not trusted with deletion: only a name made by :func:`scratch_prefix`
        for one of the paths on this job's own command line, in that path's folder, is accepted,
        so a confused or hostile child cannot make the parent remove anything else.
        """
        candidate = Path(os.path.abspath(announced))
        for word in self.command[1:]:
            if not word.startswith("--") or "=" not in word:
                continue
            destination = Path(os.path.abspath(word.split("=", 1)[1]))
            same_folder = os.path.realpath(candidate.parent) == os.path.realpath(destination.parent)
            if same_folder and candidate.name.startswith(scratch_prefix(destination)) and not candidate.is_symlink():
                return candidate
        return None

    def _remove_scratch(self) -> None:
        # A child that was killed before it could clean up leaves its temporary output: remove it.
        # (A child that finished renamed it away, and then it no longer exists.)
        with self._lock:
            paths, self._scratch = self._scratch, []
        for path in paths:
            target = Path(path)
            if target.is_dir():
                shutil.rmtree(target, ignore_errors=True)
            else:
                target.unlink(missing_ok=True)

    def events(self, timeout: float | None = None) -> Iterator[JobEvent]:
        """The events, as they arrive, until the process ends (``timeout``: at most this long per event).

        Raises:
            TimeoutError: No event within ``timeout`` seconds.
        """
        while True:
            try:
                item = self._queue.get(timeout=timeout)
            except queue.Empty as exc:
                raise TimeoutError(f"no event from the job within {timeout} s") from exc
            if item is _END:
                self._queue.put(_END)  # later calls (and wait) see the end too
                return
            yield item

    def cancel(self) -> None:
        """Ask the job to stop; returns at once (the escalation runs in a thread).

        SIGINT to the process group; if it still runs after :data:`CANCEL_GRACE_S`, SIGTERM; after as
        long again, SIGKILL. The job removes its temporary output; :meth:`wait` then reports
        ``cancelled``.
        """
        if self._proc is None or self._cancel_requested.is_set():
            return
        self._cancel_requested.set()
        if self._proc.poll() is not None:
            return
        threading.Thread(target=self._escalate, name="job-cancel", daemon=True).start()

    def _escalate(self) -> None:
        steps = [_interrupt, _terminate, _kill]
        for step in steps:
            if self._exited.is_set() or self._proc is None or self._proc.poll() is not None:
                return
            step(self._proc)
            if self._exited.wait(CANCEL_GRACE_S):
                return

    def wait(self, timeout: float | None = None) -> Outcome:
        """Wait for the process to end and return its :class:`Outcome`.

        Raises:
            TimeoutError: It still runs after ``timeout`` seconds.
        """
        if self._proc is None or self._reader is None:
            raise RuntimeError("the job was not started")
        self._reader.join(timeout)
        if self._reader.is_alive():
            raise TimeoutError(f"the job still runs after {timeout} s")
        returncode = self._proc.returncode
        cancelled = self._cancel_requested.is_set() and not (returncode == 0 and self._result is not None)
        with self._lock:
            result, error = self._result, self._error
        if cancelled:
            return Outcome(ok=False, cancelled=True, returncode=returncode, result=None, error=None, code="cancelled")
        if returncode == 0 and result is not None:
            return Outcome(ok=True, cancelled=False, returncode=returncode, result=result, error=None)
        if error is not None:
            params = error.get("params")
            return Outcome(
                ok=False,
                cancelled=False,
                returncode=returncode,
                result=None,
                error=str(error.get("message") or "The job failed."),
                code=str(error.get("code") or "job_failed"),
                params=params if isinstance(params, dict) else {},
            )
        return Outcome(
            ok=False,
            cancelled=False,
            returncode=returncode,
            result=None,
            error=self._death_message(returncode),
            code="job_crashed",
            params={"returncode": returncode, "log": "\n".join(self._stderr_tail)},
        )

    def _death_message(self, returncode: int | None) -> str:
        how = describe_exit(returncode)
        tail = "\n".join(list(self._stderr_tail)[-8:])
        message = f"The job process ended unexpectedly ({how}); the file it was working on may be damaged."
        return f"{message}\nLast lines of its log:\n{tail}" if tail else message


def _interrupt(proc: subprocess.Popen[bytes]) -> None:
    _signal_group(proc, signal.SIGINT if os.name == "posix" else signal.CTRL_BREAK_EVENT)  # type: ignore[attr-defined]


def _terminate(proc: subprocess.Popen[bytes]) -> None:
    if os.name == "posix":
        _signal_group(proc, signal.SIGTERM)
    else:
        proc.terminate()


def _kill(proc: subprocess.Popen[bytes]) -> None:
    if os.name == "posix":
        _signal_group(proc, signal.SIGKILL)
    else:
        proc.kill()


def _signal_group(proc: subprocess.Popen[bytes], sig: int) -> None:
    try:
        if os.name == "posix":
            os.killpg(proc.pid, sig)  # the child leads its own session, so its pid is the group id
        else:
            proc.send_signal(sig)
    except (ProcessLookupError, PermissionError, OSError):
        pass  # already gone


def run_job(
    job: str,
    *,
    on_event: Callable[[JobEvent], None] | None = None,
    timeout: float | None = None,
    **options: Any,
) -> Outcome:
    """Run a job to the end (a convenience for the command line and tests; blocks)."""
    process = JobProcess(build_command(job, **options), on_event=on_event)
    process.start()
    try:
        return process.wait(timeout)
    except BaseException:
        process.cancel()
        raise
