"""Preparing and uploading a job: its record, the host's Python and free disk, and its files.

Every upload goes to ``NAME.part`` and is renamed into place when complete, and a file already in
place with the right size is not sent again: a start whose connection dropped during the upload is
started again with the same job id and sends only what is missing. ``spec.json`` goes last, so its
presence means the upload is complete. The bytes still to send are compared with the free space of
the job folder's disk before anything is sent, and a write the host refuses (SFTP says only
"Failure") is named ``remote_disk_full`` when that disk turns out full.
"""

from __future__ import annotations

import contextlib
import json
import posixpath
import time
from collections.abc import Callable
from pathlib import Path

from runtime.errors import RemoteError
from runtime.jobs import Progress, ProgressCallback
from runtime.training.remote import records, sources
from runtime.training.remote.connection import CONNECTION_ERRORS, Connection, lost
from runtime.training.remote.jobspec import RemoteJobSpec, check_relative, job_dir_for
from runtime.training.remote.records import RemoteRun

#: Python the agent needs on the host.
MIN_PYTHON = (3, 8)


def agent_source() -> bytes:
    """The job agent's source, as uploaded to each job folder.

    Raises:
        RemoteError: This build does not carry it (``remote_agent_missing``).
    """
    path = sources.source_file(sources.AGENT)
    try:
        return path.read_bytes()
    except OSError as exc:
        raise sources.missing(path) from exc


def check_python(conn: Connection, python: str | None = None) -> str:
    """The host's Python version (``3.11.7``), checked to run the agent.

    Raises:
        RemoteError: ``remote_python_missing`` (not found, or older than 3.8).
    """
    interpreter = python or conn.host.python
    probe = "import sys; print('%d.%d.%d' % sys.version_info[:3])"
    result = conn.run([interpreter, "-c", probe], action="checking Python")
    version = result.text.strip()
    parts = version.split(".")
    ok = result.returncode == 0 and len(parts) == 3 and all(p.isdigit() for p in parts)
    if not ok or tuple(int(p) for p in parts[:2]) < MIN_PYTHON:
        shown = version if ok else (result.error_text or f"exit status {result.returncode}")
        raise RemoteError(
            f"{conn.host.name} has no usable Python at {interpreter!r} ({shown}). Install Python "
            f"{MIN_PYTHON[0]}.{MIN_PYTHON[1]} or newer there, or set the host's Python to its full path.",
            code="remote_python_missing",
            params={"name": conn.host.name, "python": interpreter, "found": shown},
        )
    return version


def _plan(spec: RemoteJobSpec) -> list[tuple[Path, str]]:
    """(local file, name in the job folder) for every file to upload, in order."""
    plan: list[tuple[Path, str]] = []
    for package in spec.code:
        root = Path(package)
        if not root.is_dir():
            raise RemoteError(
                f"The code folder {root} to upload does not exist.",
                code="remote_spec_invalid",
                params={"reason": f"no folder {root}"},
            )
        for path in sorted(root.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix not in (".pyc", ".pyo"):
                plan.append((path, "code/" + "/".join((root.name, *path.relative_to(root).parts))))
    for local, name in spec.code_files:
        if not Path(local).is_file():
            raise RemoteError(
                f"The source file {local} to upload does not exist.",
                code="remote_spec_invalid",
                params={"reason": f"no file {local}"},
            )
        plan.append((Path(local), "code/" + check_relative(name)))
    for local, name in spec.files:
        if not Path(local).is_file():
            raise RemoteError(
                f"The file {local} to upload does not exist.",
                code="remote_spec_invalid",
                params={"reason": f"no file {local}"},
            )
        plan.append((Path(local), check_relative(name)))
    return plan


def _mkdirs(conn: Connection, path: str, made: set[str]) -> None:
    if path in made or path in ("", "/"):
        return
    parent = posixpath.dirname(path)
    if parent != path:
        _mkdirs(conn, parent, made)
    try:
        conn.sftp.stat(path)
    except FileNotFoundError:
        conn.sftp.mkdir(path)
    made.add(path)


def free_space(conn: Connection, path: str) -> int | None:
    """Bytes free on the host's file system holding ``path`` (which must exist); None: unknown.

    ``df -P`` (POSIX output) rather than SFTP: OpenSSH's statvfs extension is not in paramiko.
    """
    df = conn.run(["df", "-Pk", path], action="measuring free disk")
    rows = df.text.strip().splitlines()
    if df.returncode == 0 and len(rows) >= 2:
        columns = rows[-1].split()
        if len(columns) >= 4 and columns[3].isdigit():
            return int(columns[3]) * 1024
    return None


def _no_room(conn: Connection, run: RemoteRun, needed: int) -> RemoteError | None:
    """The error to give when the job folder's disk has less than ``needed`` bytes free (None: it has)."""
    free = free_space(conn, run.job_dir)
    if free is None or free >= needed:
        return None
    return RemoteError(
        f"{conn.host.name} has no room for the job: {run.job_dir} has {free / 1e6:.1f} MB free and the job "
        f"needs {needed / 1e6:.1f} MB more. Free some space there, or give the host another jobs folder, "
        "then start the run again.",
        code="remote_disk_full",
        params={
            "name": conn.host.name,
            "path": run.job_dir,
            "free": f"{free / 1e6:.1f}",
            "needed": f"{needed / 1e6:.1f}",
        },
    )


def _no_room_after(conn: Connection, run: RemoteRun, needed: int) -> RemoteError | None:
    """:func:`_no_room` after a failed write: None also when the host cannot be asked."""
    try:
        return _no_room(conn, run, needed)
    except RemoteError:
        return None


def _remote_size(conn: Connection, path: str) -> int | None:
    try:
        return conn.sftp.stat(path).st_size
    except FileNotFoundError:
        return None


def _put(conn: Connection, data_source: Path | bytes, remote: str, on_bytes: Callable[[int], None]) -> None:
    """Upload to ``remote.part`` and rename into place (``posix-rename``: replaces an older file)."""
    partial = remote + ".part"
    sent = [0]

    def callback(done: int, total: int) -> None:
        on_bytes(done - sent[0])
        sent[0] = done

    try:
        if isinstance(data_source, bytes):
            with conn.sftp.open(partial, "wb") as handle:
                handle.write(data_source)
            on_bytes(len(data_source))
        else:
            conn.sftp.put(str(data_source), partial, callback=callback, confirm=True)
    except OSError:
        # A refused write (a full disk) leaves a partial file that would keep the space taken; a
        # resent file starts over anyway. After a dropped connection this fails too: nothing to do.
        with contextlib.suppress(*CONNECTION_ERRORS):
            conn.sftp.remove(partial)
        raise
    conn.sftp.posix_rename(partial, remote)


def upload_job(
    conn: Connection, spec: RemoteJobSpec, job_id: str | None, on_progress: ProgressCallback | None
) -> RemoteRun:
    """Record the run (state ``uploading``), check the host's Python and send the job's folder.

    Args:
        job_id: A run whose upload was cut off (only the missing files are sent); None: a new run.
        on_progress: Called with the bytes sent of the total (stage ``uploading``).

    Returns:
        The run as it was before its state became ``uploading``, ready to start.

    Raises:
        RemoteError: An invalid spec, a run started already, no Python on the host, no room there,
            a refused upload, a dropped connection (``ssh_connection_lost``); the run is then
            recorded ``upload_failed`` once its upload began.
    """
    if not all(part.isidentifier() for part in spec.module.split(".")):
        raise RemoteError(
            f"{spec.module!r} is not a Python module name.",
            code="remote_spec_invalid",
            params={"reason": f"module {spec.module!r}"},
        )
    plan = _plan(spec)
    python = spec.python or conn.host.python
    if job_id is not None:
        run = records.load_run(job_id)
        if run.state not in ("uploading", "upload_failed"):
            raise RemoteError(
                f"The remote run {job_id} was started already ({run.state}).",
                code="remote_job_started",
                params={"job": job_id, "state": run.state},
            )
    else:
        new_id = records.new_job_id()
        run = RemoteRun(new_id, conn.host.name, job_dir_for(conn, new_id), created=time.time(), module=spec.module)
    records.save_run(run.with_state("uploading"))
    check_python(conn)
    agent_spec = {
        "version": 1,
        "job_id": run.job_id,
        "module": spec.module,
        "python": python,
        "args": list(spec.args),
        "env": dict(spec.env),
        "script_spec": "job.json" if spec.script_spec is not None else "",
        "stop_grace_s": spec.stop_grace_s,
    }
    generated: list[tuple[bytes, str]] = [(agent_source(), "agent.py")]
    if spec.script_spec is not None:
        generated.append(((json.dumps(spec.script_spec, ensure_ascii=False, indent=2) + "\n").encode(), "job.json"))
    spec_bytes = (json.dumps(agent_spec, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
    total = sum(path.stat().st_size for path, _ in plan) + sum(len(data) for data, _ in generated) + len(spec_bytes)
    done = [0]
    placed = [0]  # bytes of the files in place (a partial file is removed when its upload fails)

    def advance(count: int) -> None:
        done[0] += count
        if on_progress is not None:
            on_progress(Progress(done[0], total, "uploading"))

    try:
        made: set[str] = set()
        _mkdirs(conn, run.job_dir, made)
        _mkdirs(conn, f"{run.job_dir}/out", made)
        to_send: list[tuple[Path, str]] = []
        for path, name in plan:
            remote = f"{run.job_dir}/{name}"
            _mkdirs(conn, posixpath.dirname(remote), made)
            size = path.stat().st_size
            if _remote_size(conn, remote) == size:
                advance(size)  # sent whole before the connection dropped
                placed[0] += size
                continue
            to_send.append((path, remote))
        no_room = _no_room(conn, run, total - placed[0])  # before sending anything
        if no_room is not None:
            raise no_room
        for path, remote in to_send:
            _put(conn, path, remote, advance)
            placed[0] += path.stat().st_size
        for data, name in generated:
            _put(conn, data, f"{run.job_dir}/{name}", advance)
        _put(conn, spec_bytes, run.spec_path, advance)  # last: its presence means the upload is complete
    except RemoteError as exc:
        records.save_run(run.with_state("upload_failed", error=str(exc)))
        raise
    except CONNECTION_ERRORS as exc:
        if isinstance(exc, OSError) and not _is_disconnect(conn, exc):
            # SFTP reports a full disk as a bare "Failure": the free space tells it apart.
            error = _no_room_after(conn, run, total - placed[0]) or RemoteError(
                f"Uploading the job to {conn.host.name} failed: {exc}. Check the free space and permissions of "
                f"{run.job_dir} on the host, then start it again.",
                code="remote_upload_failed",
                params={"name": conn.host.name, "path": run.job_dir, "reason": str(exc)},
            )
        else:
            error = lost(conn.host, "uploading the job (nothing was started; start it again to send the rest)", exc)
        records.save_run(run.with_state("upload_failed", error=str(error)))
        raise error from exc
    return run


def _is_disconnect(conn: Connection, exc: BaseException) -> bool:
    """Whether ``exc`` is the connection breaking rather than the host refusing a file."""
    if not conn.alive:
        return True
    return isinstance(exc, EOFError) or "socket is closed" in str(exc).lower() or "connection" in str(exc).lower()
