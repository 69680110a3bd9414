"""The job's process on the host: starting it detached, asking its state, following its log, stopping it.

The one command run through SSH to start a job is ``PYTHON JOBDIR/agent.py start JOBDIR/spec.json``
with each word quoted; status and stop ask the same agent. The log is read through SFTP from a byte
offset, whole lines only; the offset is the size of this computer's copy of the log
(:mod:`runtime.training.remote.records`), so a reconnect or a restarted app neither repeats nor
skips a line.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from runtime.errors import RemoteError
from runtime.jobs import ProgressCallback
from runtime.training.remote import records
from runtime.training.remote.connection import CONNECTION_ERRORS, Connection, connect, lost
from runtime.training.remote.hosts import Host, get_host
from runtime.training.remote.jobspec import RemoteJobSpec, exists, last_json
from runtime.training.remote.records import RemoteRun
from runtime.training.remote.upload import upload_job

#: The most bytes of log read at once (a longer line is cut into pieces of this size).
LOG_CHUNK_BYTES = 1024 * 1024
#: Seconds between asking the agent about a job whose log is quiet (a died agent is noticed this late).
STATUS_EVERY_S = 10.0


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
        run = upload_job(conn, spec, job_id, on_progress)
        return _launch(conn, run, spec.python or conn.host.python)
    finally:
        if not isinstance(host, Connection):
            conn.close()


def _launch(conn: Connection, run: RemoteRun, python: str) -> RemoteRun:
    """Have the agent start the uploaded job detached (``python``: the job's, named in errors)."""
    result = conn.run([conn.host.python, run.agent_path, "start", run.spec_path], action="starting the job")
    reply = last_json(result.text)
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


def job_status(conn: Connection, run: RemoteRun) -> JobStatus:
    """Ask the host's agent how the job is; the record on this computer is updated.

    Raises:
        RemoteError: The connection broke, or the job folder is not on the host.
    """
    result = conn.run([conn.host.python, run.agent_path, "status", run.spec_path], action="asking the job's state")
    reply = last_json(result.text)
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
        if not exists(conn, f"{run.job_dir}/exit.json") and time.monotonic() - asked < STATUS_EVERY_S:
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


def _pull(conn: Connection, run: RemoteRun, on_lines: Callable[[list[str]], None] | None, *, final: bool) -> bool:
    offset = records.mirror_offset(run.job_id)
    chunk = read_log(conn, run, offset, final=final)
    if not chunk.data:
        return False
    records.append_mirror(run.job_id, chunk.data)  # on disk before anyone sees it
    if on_lines is not None:
        on_lines(chunk.lines)
    return True
