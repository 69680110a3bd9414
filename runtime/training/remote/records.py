"""This computer's record of its remote runs, so that a restarted app lists them and re-attaches.

Each run is two files in ``remote-runs/`` of the data folder: ``JOB_ID.json`` (host, job folder on
the host, state; written atomically) and ``JOB_ID.log``, this computer's copy of the job's log.
The copy holds only whole lines, each appended in one write and flushed to disk before it is shown,
so its size *is* the offset to resume reading the host's log from: there is no second number to
get out of step with it. An app killed at any moment therefore resumes with no line missing and
none repeated.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runtime.errors import RemoteError, UntrustedJsonError
from runtime.paths import app_paths, write_atomic
from runtime.untrusted_json import read_json_file

MAX_RECORD_BYTES = 256 * 1024
MAX_RUNS_LISTED = 1000
JOB_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$")
#: States of a run as this computer knows it (the host's are those of the job agent).
STATES = ("uploading", "upload_failed", "running", "finished", "failed", "stopped", "lost")
TERMINAL_STATES = frozenset({"finished", "failed", "stopped", "lost", "upload_failed"})


@dataclass(frozen=True)
class RemoteRun:
    """A run on an SSH host as this computer recorded it.

    Attributes:
        job_id: The run's id (also its folder's name on the host).
        host: The saved host's name.
        job_dir: The job's folder on the host (absolute).
        state: One of :data:`STATES`.
        created: When it was started (seconds since the epoch).
        module: The module the job runs.
        returncode: The job's exit status once it ended.
        error: Why it failed, when it did.
        downloaded: Where its results were downloaded to, once they were.
    """

    job_id: str
    host: str
    job_dir: str
    state: str = "uploading"
    created: float = 0.0
    module: str = ""
    returncode: int | None = None
    error: str = ""
    downloaded: str = ""

    def with_state(self, state: str, **changes: Any) -> RemoteRun:
        """A copy in ``state`` (and ``changes``)."""
        return dataclasses.replace(self, state=state, **changes)

    @property
    def spec_path(self) -> str:
        """The job specification's path on the host."""
        return f"{self.job_dir}/spec.json"

    @property
    def agent_path(self) -> str:
        """The job agent's path on the host."""
        return f"{self.job_dir}/agent.py"


def runs_dir() -> Path:
    """``remote-runs`` in the data folder."""
    return app_paths().data / "remote-runs"


def check_job_id(job_id: str) -> str:
    """``job_id`` if it is a valid id.

    Raises:
        RemoteError: It is not (``remote_job_not_found``: no run can have that id).
    """
    if not JOB_ID.match(job_id):
        raise RemoteError(
            f"There is no remote run {job_id!r} (a run's id is letters, digits, '.', '_' and '-').",
            code="remote_job_not_found",
            params={"job": job_id},
        )
    return job_id


def new_job_id(now: float | None = None) -> str:
    """A fresh id: the time and a random part (``20260101-120000-1a2b3c``)."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now))
    return f"{stamp}-{os.urandom(3).hex()}"


def save_run(run: RemoteRun) -> None:
    """Write the run's record atomically."""
    folder = runs_dir()
    folder.mkdir(parents=True, exist_ok=True)
    text = json.dumps(dataclasses.asdict(run), ensure_ascii=False, indent=2) + "\n"
    write_atomic(folder / f"{check_job_id(run.job_id)}.json", text.encode("utf-8"))


def load_run(job_id: str) -> RemoteRun:
    """The recorded run ``job_id``.

    Raises:
        RemoteError: No such run, or its record is damaged (``remote_job_not_found``).
    """
    path = runs_dir() / f"{check_job_id(job_id)}.json"
    run = _read_record(path)
    if run is None:
        raise RemoteError(
            f"There is no remote run {job_id!r} on this computer (alpaca-desk remote status lists them).",
            code="remote_job_not_found",
            params={"job": job_id},
        )
    return run


def _read_record(path: Path) -> RemoteRun | None:
    try:
        data = read_json_file(path, max_bytes=MAX_RECORD_BYTES)
    except (OSError, UntrustedJsonError):
        return None
    if not isinstance(data, dict):
        return None
    types = {f.name: f.type for f in dataclasses.fields(RemoteRun)}
    values: dict[str, Any] = {}
    for key, value in data.items():
        expected = types.get(key)
        if expected is None:
            continue
        if expected == "str" and not isinstance(value, str):
            return None
        if expected == "float" and not isinstance(value, int | float):
            return None
        if expected == "int | None" and not (value is None or type(value) is int):
            return None
        values[key] = value
    if not isinstance(values.get("job_id"), str) or not JOB_ID.match(values["job_id"]):
        return None
    if not values.get("host") or not values.get("job_dir") or values.get("state", "uploading") not in STATES:
        return None
    return RemoteRun(**values)


def list_runs() -> list[RemoteRun]:
    """Every recorded run, newest first (damaged records are left out)."""
    folder = runs_dir()
    if not folder.is_dir():
        return []
    runs = [run for path in sorted(folder.glob("*.json"))[-MAX_RUNS_LISTED:] if (run := _read_record(path))]
    return sorted(runs, key=lambda run: (run.created, run.job_id), reverse=True)


def mirror_path(job_id: str) -> Path:
    """This computer's copy of the job's log."""
    return runs_dir() / f"{check_job_id(job_id)}.log"


def mirror_offset(job_id: str) -> int:
    """How many bytes of the host's log this computer has: the copy's size.

    A copy that ends inside a line (a disk that lost the last write) is cut back to its last
    whole line first, so that line is read again whole.
    """
    path = mirror_path(job_id)
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return 0
    if size == 0:
        return 0
    with path.open("rb+") as handle:
        handle.seek(size - 1)
        if handle.read(1) == b"\n":
            return size
        start = max(0, size - 1024 * 1024)
        handle.seek(start)
        tail = handle.read()
        cut = start + tail.rfind(b"\n") + 1 if b"\n" in tail else start
        handle.truncate(cut)
        return cut


def append_mirror(job_id: str, data: bytes) -> None:
    """Append whole lines to the copy in one write, flushed to disk before returning."""
    if not data:
        return
    path = mirror_path(job_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        os.fsync(fd)
    finally:
        os.close(fd)


def read_mirror(job_id: str) -> list[str]:
    """The lines of this computer's copy of the job's log."""
    try:
        return mirror_path(job_id).read_bytes().decode("utf-8", errors="replace").splitlines()
    except FileNotFoundError:
        return []


def forget_run(job_id: str) -> None:
    """Remove the run's record and log copy from this computer (the host's folder stays)."""
    for path in (runs_dir() / f"{check_job_id(job_id)}.json", mirror_path(job_id)):
        path.unlink(missing_ok=True)
