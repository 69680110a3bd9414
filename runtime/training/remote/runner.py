"""Detached jobs on an SSH host: upload, start, status, log tail, stop, download, re-attach.

A job's folder on the host (``REMOTE_DIR/JOB_ID``)::

    agent.py        the job agent (runtime/training/remote/agent.py), run by the host's Python
    spec.json       the agent's specification: module, interpreter, arguments, environment
    job.json        the script's own specification (``--spec``), when the job has one
    code/           on PYTHONPATH: copies of the packages the job needs (e.g. ``runtime``)
    data/...        the data files the job reads
    out/            what the job writes (downloaded when it finishes)
    log.jsonl       the job's stdout: JSON lines      stderr.log   its stderr
    agent.json      the agent's pid and process group  exit.json   how the job ended

Every upload goes to ``NAME.part`` and is renamed into place when complete, and a file already in
place with the right size is not sent again: a start whose connection dropped during the upload is
started again with the same job id and sends only what is missing (:func:`start_job`). The job's
command is fixed (``PYTHON -m MODULE --spec SPEC ARGS...``) and reaches the host as an argv in
``spec.json``, never as text for a shell; the one command run through SSH to start it is
``PYTHON JOBDIR/agent.py start JOBDIR/spec.json`` with each word quoted.

The log is read through SFTP from a byte offset, whole lines only; the offset is the size of this
computer's copy of the log (:mod:`runtime.training.remote.records`), so a reconnect or a restarted
app neither repeats nor skips a line.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import posixpath
import re
import shutil
import stat
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runtime.errors import RemoteError
from runtime.jobs import Progress, ProgressCallback
from runtime.training.remote import records, sources
from runtime.training.remote.connection import CONNECTION_ERRORS, Connection, connect, lost
from runtime.training.remote.hosts import Host, get_host
from runtime.training.remote.records import RemoteRun
from runtime.untrusted_json import parse_json

#: The most bytes of log read at once (a longer line is cut into pieces of this size).
LOG_CHUNK_BYTES = 1024 * 1024
#: Files and folders a download may hold, and the most a job's result may weigh.
MAX_DOWNLOAD_ENTRIES = 20_000
#: A line of the remote log (or of the agent's answer) longer than this is shown as text, not decoded.
MAX_EVENT_CHARS = 1024 * 1024
#: Seconds between asking the agent about a job whose log is quiet (a died agent is noticed this late).
STATUS_EVERY_S = 10.0
#: Python the agent needs on the host.
MIN_PYTHON = (3, 8)
_RELATIVE = re.compile(r"^[^\x00-\x1f\x7f]+$")


@dataclass(frozen=True)
class RemoteJobSpec:
    """What to run on the host.

    Attributes:
        module: The module the job runs (``python -m MODULE --spec SPEC``), e.g. ``runtime.training.sft``.
        script_spec: The script's own specification (a JSON object), uploaded as ``job.json`` and
            passed as ``--spec``; relative paths in it resolve against the job folder (the job's
            working directory): ``data/train.json``, ``out``. None: ``--spec`` names ``spec.json``.
        args: More arguments after ``--spec SPEC``; each reaches the script as one argument, whatever
            it holds (spaces, quotes, ``$(...)``, newlines): no shell parses them.
        python: The interpreter for the job on the host (empty: the host's, e.g. a virtual
            environment's ``bin/python``).
        code: Local package folders copied whole to ``code/`` (on the job's PYTHONPATH).
        code_files: Single source files and their names under ``code/``
            (``runtime/training/sft.py``): a package's modules that a job needs, and no more
            (:func:`runtime.training.remote.sources.module_sources`).
        files: Local files and the relative names they get in the job folder (``data/train.json``).
        env: Environment variables for the job.
        stop_grace_s: Seconds a stopped job gets after SIGINT before SIGTERM (a training run
            saves a checkpoint in that time).
    """

    module: str
    script_spec: dict[str, Any] | None = None
    args: tuple[str, ...] = ()
    python: str = ""
    code: tuple[Path, ...] = ()
    code_files: tuple[tuple[Path, str], ...] = ()
    files: tuple[tuple[Path, str], ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    stop_grace_s: float = 3.0


@dataclass(frozen=True)
class JobStatus:
    """What the agent says about a job: ``state`` (running, finished, failed, stopped, lost,
    not_started), exit status, error, the log's size, and whether processes of a stopped or lost
    job still run (``leftover``)."""

    state: str
    returncode: int | None = None
    error: str = ""
    log_size: int = 0
    leftover: bool = False

    @property
    def ended(self) -> bool:
        """Whether the job no longer runs."""
        return self.state in ("finished", "failed", "stopped", "lost")


@dataclass(frozen=True)
class LogChunk:
    """Whole lines of the job's log read from ``start``; ``data`` is their bytes, ``end`` the new offset."""

    start: int
    data: bytes

    @property
    def end(self) -> int:
        """The offset after these lines."""
        return self.start + len(self.data)

    @property
    def lines(self) -> list[str]:
        """The lines, decoded."""
        return self.data.decode("utf-8", errors="replace").splitlines()


def parse_line(line: str) -> dict[str, Any]:
    """A log line as an event: its JSON object, or ``{"event": "log", "line": line}``."""
    try:
        # A line from another computer's disk: bounded like any other JSON from outside.
        event = parse_json(line, source="a line of the remote log", max_bytes=MAX_EVENT_CHARS)
    except ValueError:
        event = None
    if isinstance(event, dict) and isinstance(event.get("event"), str):
        return event
    return {"event": "log", "line": line}


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


def _check_relative(name: str) -> str:
    parts = name.split("/")
    if (
        not name
        or name.startswith("/")
        or not _RELATIVE.match(name)
        or any(part in ("", ".", "..") for part in parts)
        or parts[0] in ("agent.py", "spec.json", "job.json", "log.jsonl", "agent.json", "exit.json", "code")
    ):
        raise RemoteError(
            f"{name!r} cannot be a file's name in a job folder (a relative path without '..', not one of the "
            "agent's own files).",
            code="remote_spec_invalid",
            params={"reason": f"bad file name {name!r}"},
        )
    return name


def job_dir_for(conn: Connection, job_id: str) -> str:
    """The job's folder on the host: ``remote_dir/JOB_ID`` (relative remote_dir: in the login folder)."""
    base = conn.host.remote_dir
    if not base.startswith("/"):
        base = posixpath.join(conn.home(), base)
    return posixpath.join(posixpath.normpath(base), records.check_job_id(job_id))


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
        plan.append((Path(local), "code/" + _check_relative(name)))
    for local, name in spec.files:
        if not Path(local).is_file():
            raise RemoteError(
                f"The file {local} to upload does not exist.",
                code="remote_spec_invalid",
                params={"reason": f"no file {local}"},
            )
        plan.append((Path(local), _check_relative(name)))
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


def start_job(
    host: Host | Connection,
    spec: RemoteJobSpec,
    *,
    job_id: str | None = None,
    passphrase: str | None = None,
    on_progress: ProgressCallback | None = None,
) -> RemoteRun:
    """Upload the job and start it detached; the run is recorded on this computer first.

    Args:
        host: The saved host, or an open connection to it.
        spec: What to run.
        job_id: A run to start again whose upload was cut off (only the missing files are sent);
            None: a new run.
        passphrase: The key's passphrase, when ``host`` is a host and its key has one.
        on_progress: Called with the bytes sent of the total (stage ``uploading``).

    Returns:
        The run as recorded (state ``running``).

    Raises:
        RemoteError: No connection, no Python on the host, a dropped connection
            (``ssh_connection_lost``: start it again with the same ``job_id``), a failed start.
    """
    conn = host if isinstance(host, Connection) else connect(host, passphrase=passphrase)
    try:
        return _start(conn, spec, job_id, on_progress)
    finally:
        if not isinstance(host, Connection):
            conn.close()


def _start(
    conn: Connection, spec: RemoteJobSpec, job_id: str | None, on_progress: ProgressCallback | None
) -> RemoteRun:
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
    result = conn.run([conn.host.python, run.agent_path, "start", run.spec_path], action="starting the job")
    reply = _last_json(result.text)
    if reply is None or reply.get("state") != "running":
        reason = str((reply or {}).get("error") or result.error_text or f"exit status {result.returncode}")
        code = (
            "remote_python_missing"
            if (reply or {}).get("code") == "python_missing" or result.returncode == 127
            else "remote_start_failed"
        )
        records.save_run(run.with_state("failed", error=reason))
        raise RemoteError(
            f"The job could not start on {conn.host.name}: {reason}.",
            code=code,
            params={"name": conn.host.name, "python": python, "found": reason, "reason": reason},
        )
    started = run.with_state("running", error="")
    records.save_run(started)
    return started


def _is_disconnect(conn: Connection, exc: BaseException) -> bool:
    """Whether ``exc`` is the connection breaking rather than the host refusing a file."""
    if not conn.alive:
        return True
    return isinstance(exc, EOFError) or "socket is closed" in str(exc).lower() or "connection" in str(exc).lower()


def _last_json(text: str) -> dict[str, Any] | None:
    for line in reversed(text.strip().splitlines()):
        try:
            data = parse_json(line, source="the agent's answer", max_bytes=MAX_EVENT_CHARS)
        except ValueError:
            continue
        if isinstance(data, dict):
            return data
    return None


def job_status(conn: Connection, run: RemoteRun) -> JobStatus:
    """Ask the host's agent how the job is; the record on this computer is updated.

    Raises:
        RemoteError: The connection broke, or the job folder is not on the host.
    """
    result = conn.run([conn.host.python, run.agent_path, "status", run.spec_path], action="asking the job's state")
    reply = _last_json(result.text)
    if reply is None:
        raise RemoteError(
            f"{conn.host.name} did not report the state of job {run.job_id}: "
            f"{result.error_text or 'exit status ' + str(result.returncode)}. Its folder {run.job_dir} may be gone.",
            code="remote_job_not_found",
            params={"job": run.job_id},
        )
    status = JobStatus(
        state=str(reply.get("state", "lost")),
        returncode=reply.get("returncode") if type(reply.get("returncode")) is int else None,
        error=str(reply.get("error", "")),
        log_size=int(reply["log_size"]) if type(reply.get("log_size")) is int else 0,
        leftover=bool(reply.get("leftover", False)),
    )
    if status.ended and run.state not in records.TERMINAL_STATES:
        records.save_run(run.with_state(status.state, returncode=status.returncode, error=status.error))
    return status


def read_log(conn: Connection, run: RemoteRun, offset: int, *, final: bool = False) -> LogChunk:
    """Whole lines of the host's log from byte ``offset`` (at most :data:`LOG_CHUNK_BYTES`).

    Args:
        final: The job has ended: a last line without a newline counts too.

    Raises:
        RemoteError: The connection broke.
    """
    try:
        with conn.sftp.open(f"{run.job_dir}/log.jsonl", "rb") as handle:
            handle.seek(offset)
            data = handle.read(LOG_CHUNK_BYTES)
    except FileNotFoundError:
        return LogChunk(offset, b"")
    except CONNECTION_ERRORS as exc:
        raise lost(conn.host, "reading the job's log", exc) from exc
    cut = data.rfind(b"\n") + 1
    if cut == 0 and len(data) == LOG_CHUNK_BYTES:
        cut = len(data)  # one line longer than a chunk: passed on in pieces rather than waited for
    elif final and len(data) < LOG_CHUNK_BYTES:
        cut = len(data)
        if data and not data.endswith(b"\n"):
            data += b"\n"
            return LogChunk(offset, data)
    return LogChunk(offset, data[:cut])


def stop_job(conn: Connection, run: RemoteRun, *, timeout: float = 660) -> JobStatus:
    """End the job's process group on the host (SIGINT, SIGTERM, SIGKILL) and return its state.

    ``timeout`` covers the longest ``stop_grace_s`` a job may ask for (the agent waits that long
    after SIGINT, and returns as soon as the group has ended).
    """
    conn.run([conn.host.python, run.agent_path, "stop", run.spec_path], action="stopping the job", timeout=timeout)
    return job_status(conn, run)


def follow(
    run: RemoteRun,
    *,
    on_lines: Callable[[list[str]], None] | None = None,
    on_state: Callable[[str], None] | None = None,
    cancel: threading.Event | None = None,
    passphrase: str | None = None,
    poll_s: float = 0.5,
    reconnect_s: Sequence[float] = (1, 2, 5, 10, 30),
    host: Host | None = None,
) -> RemoteRun:
    """Re-attach to a run and follow its log until it ends, reconnecting when the connection drops.

    Each batch of new lines is appended to this computer's copy of the log (flushed) and then
    passed to ``on_lines``; reading resumes from the copy's size, so nothing is repeated or lost
    across reconnects and restarts.

    Args:
        run: The recorded run.
        on_lines: Called with each batch of new lines.
        on_state: Called with ``connecting``, ``running``, ``reconnecting`` and the final state.
        cancel: Set it to stop following (the job goes on).
        passphrase: The key's passphrase, if it has one.
        poll_s: Seconds between looks at a quiet log.
        reconnect_s: Waits between reconnection attempts (the last repeats).
        host: The host (default: the saved host named in the run).

    Returns:
        The run as recorded after following (its final state, or as it was when cancelled).

    Raises:
        RemoteError: A failure that reconnecting does not mend (host key, login, job not found).
    """
    host = host or get_host(run.host)
    cancel = cancel or threading.Event()
    attempts = 0
    while not cancel.is_set():
        try:
            _notify(on_state, "connecting" if attempts == 0 else "reconnecting")
            with connect(host, passphrase=passphrase) as conn:
                attempts = 0
                _notify(on_state, "running")
                ended = _follow_connected(conn, run, on_lines, cancel, poll_s)
                if ended is not None:
                    _notify(on_state, ended.state)
                    return ended
        except RemoteError as exc:
            if exc.code not in ("ssh_connection_lost", "ssh_connect_failed", "ssh_command_timeout"):
                raise
        wait = reconnect_s[min(attempts, len(reconnect_s) - 1)]
        attempts += 1
        cancel.wait(wait)
    return records.load_run(run.job_id)


def _notify(on_state: Callable[[str], None] | None, state: str) -> None:
    if on_state is not None:
        on_state(state)


def _follow_connected(
    conn: Connection,
    run: RemoteRun,
    on_lines: Callable[[list[str]], None] | None,
    cancel: threading.Event,
    poll_s: float,
) -> RemoteRun | None:
    asked = 0.0
    while not cancel.is_set():
        got = _pull(conn, run, on_lines, final=False)
        if got:
            continue
        # The exit record is a cheap SFTP stat; asking the agent starts a Python on the host, so it
        # is done when the job has ended, and now and then to notice an agent that died ("lost").
        if not _exists(conn, f"{run.job_dir}/exit.json") and time.monotonic() - asked < STATUS_EVERY_S:
            cancel.wait(poll_s)
            continue
        asked = time.monotonic()
        status = job_status(conn, run)
        if status.ended or status.state == "not_started":
            while _pull(conn, run, on_lines, final=True):
                pass
            final_state = status.state if status.ended else "lost"
            ended = records.load_run(run.job_id).with_state(
                final_state, returncode=status.returncode, error=status.error
            )
            records.save_run(ended)
            return ended
        cancel.wait(poll_s)
    return None


def _exists(conn: Connection, path: str) -> bool:
    try:
        conn.sftp.stat(path)
    except FileNotFoundError:
        return False
    except CONNECTION_ERRORS as exc:
        raise lost(conn.host, "following the job", exc) from exc
    return True


def _pull(conn: Connection, run: RemoteRun, on_lines: Callable[[list[str]], None] | None, *, final: bool) -> bool:
    offset = records.mirror_offset(run.job_id)
    chunk = read_log(conn, run, offset, final=final)
    if not chunk.data:
        return False
    records.append_mirror(run.job_id, chunk.data)  # on disk before anyone sees it
    if on_lines is not None:
        on_lines(chunk.lines)
    return True


def _walk(conn: Connection, root: str) -> Iterator[tuple[str, int]]:
    """(path relative to ``root``, size) of every regular file under ``root`` (links are skipped)."""
    stack = [""]
    seen = 0
    while stack:
        relative = stack.pop()
        for entry in conn.sftp.listdir_attr(posixpath.join(root, relative) if relative else root):
            seen += 1
            if seen > MAX_DOWNLOAD_ENTRIES:
                raise RemoteError(
                    f"{root} on {conn.host.name} holds more than {MAX_DOWNLOAD_ENTRIES} files; not downloaded.",
                    code="remote_download_failed",
                    params={"name": conn.host.name, "path": root, "reason": "too many files"},
                )
            name = entry.filename
            if name in (".", "..") or "/" in name or not _RELATIVE.match(name):
                continue
            path = f"{relative}/{name}" if relative else name
            mode = entry.st_mode or 0
            if stat.S_ISDIR(mode):
                stack.append(path)
            elif stat.S_ISREG(mode):
                yield path, entry.st_size or 0


def download(
    conn: Connection,
    run: RemoteRun,
    destination: Path,
    *,
    remote: str = "out",
    on_progress: ProgressCallback | None = None,
) -> Path:
    """Download the folder ``remote`` of the job's folder (default: ``out``) to ``destination``.

    The files go into a temporary folder beside ``destination``, renamed into place when all are
    complete (an existing ``destination`` is refused, never overwritten).

    Raises:
        RemoteError: ``remote_download_failed`` (no such folder, too many files, not enough room
            here, an existing destination), ``ssh_connection_lost``.
    """
    source = f"{run.job_dir}/{_check_download_name(remote)}"
    destination = Path(destination)
    if destination.exists():
        raise _download_failed(conn, source, f"{destination} exists already")
    try:
        files = sorted(_walk(conn, source))
    except FileNotFoundError as exc:
        raise _download_failed(conn, source, "the job wrote no such folder") from exc
    except CONNECTION_ERRORS as exc:
        raise lost(conn.host, "listing the results", exc) from exc
    total = sum(size for _, size in files)
    destination.parent.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(destination.parent).free
    if total > free:
        raise _download_failed(
            conn, source, f"it needs {total} bytes and {destination.parent} has {free} free on this computer"
        )
    partial = destination.with_name(f".{destination.name}.partial-{os.getpid()}")
    shutil.rmtree(partial, ignore_errors=True)
    done = 0
    try:
        for relative, size in files:
            target = partial.joinpath(*relative.split("/"))
            target.parent.mkdir(parents=True, exist_ok=True)
            base = done

            def callback(sent: int, _total: int, base: int = base) -> None:
                if on_progress is not None:
                    on_progress(Progress(base + sent, total, "downloading"))

            conn.sftp.get(f"{source}/{relative}", str(target), callback=callback)
            done += size
        if on_progress is not None:
            on_progress(Progress(total, total, "downloading"))
        os.replace(partial, destination)
    except CONNECTION_ERRORS as exc:
        shutil.rmtree(partial, ignore_errors=True)
        raise lost(conn.host, "downloading the results (download them again)", exc) from exc
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    records.save_run(dataclasses.replace(records.load_run(run.job_id), downloaded=str(destination)))
    return destination


#: Where a training run's adapter is in its job folder (the checkpoints are beside it in ``out``).
ADAPTER_FOLDER = "out/adapter"


def results_folder(conn: Connection, run: RemoteRun, *, with_checkpoints: bool = False) -> str:
    """What to download of a finished job: ``out/adapter`` when the job wrote one (a training
    run; its checkpoints are only wanted to resume there), else, or ``with_checkpoints``, ``out``.

    Raises:
        RemoteError: ``ssh_connection_lost``.
    """
    if with_checkpoints:
        return "out"
    return ADAPTER_FOLDER if _exists(conn, f"{run.job_dir}/{ADAPTER_FOLDER}") else "out"


def _check_download_name(name: str) -> str:
    if name == "out":
        return name
    return _check_relative(name)


def _download_failed(conn: Connection, path: str, reason: str) -> RemoteError:
    return RemoteError(
        f"Cannot download {path} from {conn.host.name}: {reason}.",
        code="remote_download_failed",
        params={"name": conn.host.name, "path": path, "reason": reason},
    )


#: Where :func:`environment_spec` puts the virtual environment (relative: in the login folder).
DEFAULT_VENV = ".alpaca-desk/venv"


def train_requirements() -> list[str]:
    """The ``train`` extra's requirements of this installation (``torch>=2.1``, ...), from its metadata."""
    from importlib.metadata import PackageNotFoundError, requires

    try:
        declared = requires("alpaca-desk") or []
    except PackageNotFoundError:
        return []
    found = []
    for requirement in declared:
        name, _, marker = requirement.partition(";")
        if re.search(r"""extra\s*==\s*["']train["']""", marker):
            found.append(name.strip())
    return found


def environment_spec(
    *, venv: str = DEFAULT_VENV, requirements: Sequence[str] = (), pip_args: Sequence[str] = ()
) -> RemoteJobSpec:
    """A job that creates a virtual environment on the host and installs ``requirements`` into it.

    Its ``result`` event names the environment's Python (``{"event": "result", "python": ...}``): set
    it as the host's Python so that later jobs run with those packages.
    """
    return RemoteJobSpec(
        module="envsetup",
        script_spec={"venv": venv, "requirements": list(requirements), "pip_args": list(pip_args)},
        files=((sources.source_file(sources.ENVSETUP), "envsetup.py"),),
    )
