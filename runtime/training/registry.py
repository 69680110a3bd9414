"""The run registry: one folder per training run under the app's data folder.

``<data>/training/runs/<job id>/`` holds ``spec.json`` (the job specification the script read),
``run.json`` (this record: target, state, process id, last step and loss, adapter, error) and, for
runs on this computer, ``output/`` (the script's output: ``adapter/``, ``checkpoint-N/``,
``train.log``, ``progress.jsonl``). The process that launched a run keeps ``run.json`` current
(:class:`Recorder`); ``alpaca-desk train status|stop JOB_ID`` read it from another process.
Everything read back is checked: the folder is the user's, and so untrusted.
"""

from __future__ import annotations

import dataclasses
import json
import os
import secrets
import signal
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runtime.errors import AppError, UntrustedJsonError
from runtime.paths import app_paths, write_atomic
from runtime.training.runs import (
    STOP_GRACE_S,
    RunOutcome,
    RunState,
    TrainEvent,
    interrupt_group,
    parse_progress,
)
from runtime.training.spec import JobSpec
from runtime.untrusted_json import read_json_file

#: A ``run.json`` larger than this is not one of ours.
MAX_RECORD_BYTES = 64 * 1024
#: Seconds between ``run.json`` updates for progress (state changes are written at once).
RECORD_INTERVAL_S = 2.0


class RunNotFound(AppError):
    """No run of that id is registered (or its record is unreadable)."""


@dataclass(frozen=True)
class RunRecord:
    """A registered run (``run.json``).

    Attributes:
        job_id: The id (``sft-20260101-120000-ab12``).
        kind: ``pretrain`` or ``sft``.
        target: Where it runs (``local``, or a saved host's name).
        state: A :class:`~runtime.training.launcher.RunState` value.
        created: Seconds since the epoch.
        spec_path: The spec file on this computer.
        output_dir: The script's output folder (on the target).
        pid: The local child's process id (its group's id), or 0.
        last_step, total_steps, last_loss: The newest progress line's figures.
        adapter: The finished adapter folder (on the target), or "".
        checkpoint: The newest checkpoint (on the target), or "".
        error, code: Why it failed.
    """

    job_id: str
    kind: str
    target: str
    state: str
    created: float
    spec_path: str
    output_dir: str
    pid: int = 0
    last_step: int = 0
    total_steps: int = 0
    last_loss: float | None = None
    adapter: str = ""
    checkpoint: str = ""
    error: str = ""
    code: str = ""

    @property
    def run_dir(self) -> Path:
        """The run's folder in the registry."""
        return Path(self.spec_path).parent

    @property
    def log_path(self) -> Path:
        """The script's log (for runs on this computer)."""
        return Path(self.output_dir) / "train.log"

    @property
    def spec(self) -> JobSpec:
        """The run's spec, read back from its file.

        Raises:
            SpecError: The file is gone or no longer valid.
        """
        return JobSpec.read(self.spec_path)


_RECORD_TYPES: dict[str, Any] = {
    "job_id": str,
    "kind": str,
    "target": str,
    "state": str,
    "created": float,
    "spec_path": str,
    "output_dir": str,
    "pid": int,
    "last_step": int,
    "total_steps": int,
    "last_loss": float,
    "adapter": str,
    "checkpoint": str,
    "error": str,
    "code": str,
}

_lock = threading.Lock()


def runs_dir() -> Path:
    """Where run folders go."""
    return app_paths().data / "training" / "runs"


def new_job_id(kind: str, *, now: float | None = None) -> str:
    """A fresh id: the kind, the local time, and 4 random hex digits."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now))
    return f"{kind}-{stamp}-{secrets.token_hex(2)}"


def create_run(spec: JobSpec, *, target: str) -> RunRecord:
    """Register a new run of ``spec`` on ``target``: its folder, ``spec.json`` and ``run.json``.

    The spec gets the run's id, and (when it has none) the output folder ``output/`` in the run's
    folder.
    """
    job_id = spec.job_id or new_job_id(spec.kind)
    run_dir = runs_dir() / job_id
    run_dir.mkdir(parents=True, exist_ok=False)
    output_dir = spec.output_dir or str(run_dir / "output")
    spec = spec.replace(job_id=job_id, output_dir=output_dir)
    spec_path = spec.write(run_dir / "spec.json")
    record = RunRecord(
        job_id=job_id,
        kind=spec.kind,
        target=target,
        state=RunState.STARTING.value,
        created=time.time(),
        spec_path=str(spec_path),
        output_dir=output_dir,
    )
    _write(record)
    return record


def _write(record: RunRecord) -> None:
    data = json.dumps(dataclasses.asdict(record), ensure_ascii=False, indent=2) + "\n"
    write_atomic(Path(record.spec_path).parent / "run.json", data.encode("utf-8"))


def _check_id(job_id: str) -> None:
    if not job_id or not all(c.isalnum() or c in "-_." for c in job_id) or job_id.startswith("."):
        raise RunNotFound(
            f"{job_id!r} is not a run id (see `alpaca-desk train status` for the list).",
            code="training_run_not_found",
            params={"job": job_id},
        )


def load_run(job_id: str) -> RunRecord:
    """The record of run ``job_id``.

    Raises:
        RunNotFound: No such run, or its ``run.json`` is damaged.
    """
    _check_id(job_id)
    path = runs_dir() / job_id / "run.json"
    try:
        data = read_json_file(path, max_bytes=MAX_RECORD_BYTES)
    except UntrustedJsonError:
        data = None  # too large, too deep or not JSON: damaged (below)
    except OSError as exc:
        raise RunNotFound(
            f"No run {job_id} in {runs_dir()} (see `alpaca-desk train status` for the list).",
            code="training_run_not_found",
            params={"job": job_id},
        ) from exc
    record = _record_from(data)
    if record is None or record.job_id != job_id:
        raise RunNotFound(
            f"The record of run {job_id} ({path}) is damaged; its folder can be deleted.",
            code="training_run_damaged",
            params={"job": job_id, "path": str(path)},
        )
    return record


def _record_from(data: object) -> RunRecord | None:
    if not isinstance(data, dict):
        return None
    values: dict[str, Any] = {}
    for name, kind in _RECORD_TYPES.items():
        if name not in data:
            continue
        value = data[name]
        if value is None and name == "last_loss":
            values[name] = None
        elif kind is float and isinstance(value, (int, float)) and not isinstance(value, bool):
            values[name] = float(value)
        elif (kind is int and isinstance(value, int) and not isinstance(value, bool)) or (
            kind is str and isinstance(value, str)
        ):
            values[name] = value
        else:
            return None
    try:
        record = RunRecord(**values)
    except TypeError:
        return None  # a required field missing
    if record.state not in {s.value for s in RunState}:
        return None
    return record


def update_run(job_id: str, **changes: Any) -> RunRecord:
    """Change fields of a run's record (read, change, write atomically)."""
    with _lock:
        record = dataclasses.replace(load_run(job_id), **changes)
        _write(record)
        return record


def list_runs() -> list[RunRecord]:
    """Every readable run, newest first (damaged records are left out)."""
    root = runs_dir()
    if not root.is_dir():
        return []
    records = []
    for folder in root.iterdir():
        try:
            records.append(refresh(load_run(folder.name)))
        except (RunNotFound, OSError):
            continue
    return sorted(records, key=lambda r: r.created, reverse=True)


def _alive(record: RunRecord) -> bool:
    """Whether the run's local process still runs (and is ours: its command line names the spec)."""
    if record.target != "local" or record.pid <= 0:
        return False
    try:
        os.kill(record.pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return False  # someone else's process now has that id
    if sys.platform.startswith("linux"):
        # A process id is reused after its process ends: check it is still the run's script.
        try:
            cmdline = Path(f"/proc/{record.pid}/cmdline").read_bytes()
        except OSError:
            return False
        return os.fsencode(record.spec_path) in cmdline
    return True


def refresh(record: RunRecord) -> RunRecord:
    """``record``, marked failed if it claims to run on this computer but its process is gone.

    The launcher writes the end of every run it sees end; a launcher that was itself killed
    could not, and its run ended with it (runs end with their parent).
    """
    if record.target != "local" or RunState(record.state).ended or _alive(record):
        return record
    if record.state == RunState.STARTING.value and time.time() - record.created < 30:
        return record  # just registered; the process is being started
    return update_run(
        record.job_id,
        state=RunState.FAILED.value,
        error="The process that ran it is gone (the app or command that started it was closed or killed).",
        code="training_run_lost",
    )


def stop_run(job_id: str) -> RunRecord:
    """Stop a run on this computer from any process: SIGINT to its process group (it saves a
    checkpoint), SIGTERM after :data:`STOP_GRACE_S`, SIGKILL after as long again. Blocks until it ends.

    Raises:
        RunNotFound: No such run.
        AppError: The run is on another target (its own launcher stops it) or already ended.
    """
    record = refresh(load_run(job_id))
    if record.target != "local":
        raise AppError(
            f"Run {job_id} runs on {record.target}; stop it from the Advanced tab.",
            code="training_stop_remote",
            params={"job": job_id, "target": record.target},
        )
    if not _alive(record):
        raise AppError(
            f"Run {job_id} is not running ({record.state}).",
            code="training_not_running",
            params={"job": job_id, "state": record.state},
        )
    # The run's launcher (another process) holds its JobProcess; here only the process id is known.
    steps: list[Any] = [interrupt_group, signal.SIGTERM, getattr(signal, "SIGKILL", signal.SIGTERM)]
    for step in steps:
        if callable(step):
            sent = step(record.pid)
        else:
            try:
                os.killpg(record.pid, step) if os.name == "posix" else os.kill(record.pid, step)
                sent = True
            except (ProcessLookupError, PermissionError):
                sent = False
        if not sent:
            break
        deadline = time.monotonic() + (STOP_GRACE_S if callable(step) else 3.0)
        while time.monotonic() < deadline and _alive(record):
            time.sleep(0.1)
        if not _alive(record):
            break
    # The launcher writes the run's end when it sees it; give it a moment.
    deadline = time.monotonic() + 5.0
    while time.monotonic() < deadline and not RunState(load_run(job_id).state).ended:
        time.sleep(0.1)
    return load_run(job_id)


class Recorder:
    """Keeps a run's ``run.json`` current from its events (a :class:`LocalRunHandle` listener)."""

    def __init__(self, job_id: str) -> None:
        self.job_id = job_id
        self._last_write = 0.0
        self._changes: dict[str, Any] = {}

    def __call__(self, event: TrainEvent) -> None:
        """Take one event."""
        progress = parse_progress(event)
        if progress is not None:
            self._changes.update(last_step=progress.step, total_steps=progress.total, last_loss=progress.loss)
        elif event.get("event") == "checkpoint" and isinstance(event.get("path"), str):
            self._changes["checkpoint"] = event["path"]
        elif event.get("event") == "started":
            self._changes["state"] = RunState.RUNNING.value
        else:
            return
        now = time.monotonic()
        if now - self._last_write >= RECORD_INTERVAL_S or "state" in self._changes:
            self._flush(now)

    def _flush(self, now: float) -> None:
        changes, self._changes = self._changes, {}
        self._last_write = now
        try:
            update_run(self.job_id, **changes)
        except (RunNotFound, OSError):
            pass  # the record was deleted under the run; the run goes on

    def finish(self, outcome: RunOutcome) -> None:
        """Write how the run ended."""
        self._changes.update(
            state=outcome.state.value,
            adapter=outcome.adapter or "",
            error=outcome.error or "",
            code=outcome.code,
        )
        if outcome.checkpoint:
            self._changes["checkpoint"] = outcome.checkpoint
        if outcome.last_step:
            self._changes["last_step"] = outcome.last_step
        self._flush(time.monotonic())
