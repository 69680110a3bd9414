"""A saved SSH host as a training target: the launcher's interface on top of the detached-job runner.

:class:`RemoteTarget` is :class:`~runtime.training.launcher.TrainingTarget` for a host; its
:meth:`~RemoteTarget.start` registers the run (the training registry, with the host as its target,
and the remote-run record, both under the same id), connects, and hands the upload and the
following to a thread, so the caller gets a :class:`RemoteRunHandle` at once:

1. :func:`remote_job` turns the user's :class:`~runtime.training.launcher.JobSpec` (paths on this
   computer) into the job the runner sends: the script and the ``runtime`` modules it imports as
   ``code/``, the model, data, tokenizer and adapter files under ``data/``, and the spec with those
   paths rewritten relative to the job folder (the script's working directory) and ``out`` as its
   output folder.
2. :func:`runtime.training.remote.runner.start_job` uploads it and starts the script detached.
3. :func:`runtime.training.remote.runner.follow` tails ``log.jsonl`` (the script's JSON lines)
   into this computer's copy, reconnecting when the connection drops; each line becomes an event.

The handle's :attr:`~RemoteRunHandle.phase` says what the user sees (``uploading``, ``running``,
``lost connection``, ``re-attached``, then the end); :attr:`~RemoteRunHandle.state` maps it to the
launcher's :class:`~runtime.training.launcher.RunState`. A ``{"event": "remote", "phase": ...}``
event marks each change, and ``{"event": "upload", "done": ..., "total": ...}`` the upload's bytes.
Closing the app (or :meth:`RemoteRunHandle.detach`) leaves the job running; :meth:`RemoteTarget.attach`
follows it again from the last line this computer has.
"""

from __future__ import annotations

import dataclasses
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from runtime.errors import AppError, RemoteError
from runtime.jobs import Progress
from runtime.training import registry
from runtime.training.launcher import (
    SCRIPTS,
    STOP_GRACE_S,
    EventQueue,
    JobSpec,
    LogChunk,
    RunHandle,
    RunOutcome,
    RunState,
    TargetCheck,
    TrainEvent,
    TrainingLaunchError,
    TrainingTarget,
    build_env,
    parse_progress,
)
from runtime.training.remote import records
from runtime.training.remote.connection import Connection, connect, needs_passphrase
from runtime.training.remote.hosts import Host, get_host
from runtime.training.remote.probe import probe_host
from runtime.training.remote.records import RemoteRun
from runtime.training.remote.runner import (
    ADAPTER_FOLDER,
    RemoteJobSpec,
    download,
    follow,
    job_dir_for,
    parse_line,
    start_job,
    stop_job,
)
from runtime.training.remote.sources import module_sources

#: The most files a model, dataset or adapter folder may hold to be uploaded.
MAX_UPLOAD_FILES = 10_000
#: Seconds between upload progress events.
UPLOAD_EVENT_S = 0.25
#: Where a finished run's adapter is in its job folder.
ADAPTER_IN_JOB = ADAPTER_FOLDER
#: Remote phases by the launcher's state they count as.
PHASE_STATES = {
    "uploading": RunState.STARTING,
    "connecting": RunState.STARTING,
    "running": RunState.RUNNING,
    "lost connection": RunState.RUNNING,
    "re-attached": RunState.RUNNING,
    "finished": RunState.FINISHED,
    "failed": RunState.FAILED,
    "upload_failed": RunState.FAILED,
    "lost": RunState.FAILED,
    "stopped": RunState.STOPPED,
}


def _folder_files(local: Path, name: str) -> list[tuple[Path, str]]:
    """Every regular file under ``local`` as (file, ``name/relative/path``), bounded."""
    found: list[tuple[Path, str]] = []
    for path in sorted(local.rglob("*")):
        if "__pycache__" in path.parts or path.is_symlink() or not path.is_file():
            continue
        found.append((path, "/".join((name, *path.relative_to(local).parts))))
        if len(found) > MAX_UPLOAD_FILES:
            raise TrainingLaunchError(
                f"{local} holds more than {MAX_UPLOAD_FILES} files; that is not a model, dataset or adapter folder.",
                code="training_spec_invalid",
                params={"field": name.rpartition("/")[2], "reason": f"{local} holds too many files"},
            )
    return found


def _place(value: str, field_name: str, name: str, files: list[tuple[Path, str]]) -> str:
    """Add the file or folder ``value`` (a path here) to ``files`` as ``name``; its path in the job."""
    local = Path(value).expanduser()
    if local.is_dir():
        files.extend(_folder_files(local, name))
        return name
    if local.is_file():
        named = f"{name}/{local.name}"
        files.append((local, named))
        return named
    raise TrainingLaunchError(
        f"The {field_name} {local} does not exist on this computer, so it cannot be sent to the host.",
        code="training_spec_invalid",
        params={"field": field_name, "reason": f"{local} does not exist on this computer"},
    )


def remote_job(spec: JobSpec) -> tuple[JobSpec, RemoteJobSpec]:
    """The spec as the host sees it, and the job that carries it (a pure function of files here).

    Paths become relative to the job folder: ``data/model``, ``data/dataset/NAME`` (or
    ``data/dataset`` for a folder), ``data/tokenizer[/NAME]``, ``data/init_adapter``,
    ``data/deepspeed/NAME``; the output folder is ``out``.

    Raises:
        TrainingLaunchError: A path of the spec is not here, the run needs torchrun (several
            processes: not supported over SSH yet), or a folder holds too many files.
        RemoteError: ``remote_agent_missing``: this installation lacks the script's sources.
    """
    if spec.processes > 1:
        raise TrainingLaunchError(
            "Several processes (torchrun) are not supported on SSH hosts yet; set processes to 1.",
            code="training_spec_invalid",
            params={"field": "processes", "reason": "more than 1 is not supported on SSH hosts yet"},
        )
    files: list[tuple[Path, str]] = []
    changes: dict[str, Any] = {
        "model": _place(spec.model, "model", "data/model", files),
        "dataset": _place(spec.dataset, "dataset", "data/dataset", files),
        "output_dir": "out",
    }
    if spec.tokenizer:
        changes["tokenizer"] = _place(spec.tokenizer, "tokenizer", "data/tokenizer", files)
    if spec.init_adapter:
        changes["init_adapter"] = _place(spec.init_adapter, "init_adapter", "data/init_adapter", files)
    if spec.deepspeed and spec.deepspeed != "zero2":
        changes["deepspeed"] = _place(spec.deepspeed, "deepspeed", "data/deepspeed", files)
    on_host = spec.replace(**changes)
    job = RemoteJobSpec(
        module=SCRIPTS[spec.kind],
        script_spec=on_host.to_dict(),
        # The script runs from this installation's code (the host needs only the train extra): its
        # source and the runtime modules it imports, found the same way in a checkout and a frozen build.
        code_files=tuple(module_sources([SCRIPTS[spec.kind]])),
        files=tuple(files),
        env=build_env(spec),
        stop_grace_s=STOP_GRACE_S,
    )
    return on_host, job


class RemoteRunHandle(RunHandle):
    """A run on an SSH host, followed through this computer's copy of its log.

    Created by :meth:`RemoteTarget.start` (upload, start, follow) or :meth:`RemoteTarget.attach`
    (the events of the copy first, then follow). Thread-safe like the local handle.
    """

    def __init__(self, target: RemoteTarget, job_id: str, *, attaching: bool) -> None:
        self.job_id = job_id
        self.target = target
        self._attaching = attaching
        self._lock = threading.Lock()
        self._phase = "connecting" if attaching else "uploading"
        self._was_lost = False
        self._pending = EventQueue(job_id)
        self._listeners: list[Callable[[TrainEvent], None]] = []
        self._end_listeners: list[Callable[[RunOutcome], None]] = []
        self._cancel = threading.Event()
        self._ended = threading.Event()
        self._outcome_value: RunOutcome | None = None
        self._last_step = 0
        self._adapter: str | None = None
        self._checkpoint: str | None = None
        self._error_event: TrainEvent | None = None
        self._thread: threading.Thread | None = None

    # -- what the launcher's interface asks -----------------------------------------------------

    @property
    def phase(self) -> str:
        """``uploading``, ``connecting``, ``running``, ``lost connection``, ``re-attached``, or the end
        (``finished``, ``failed``, ``stopped``, ``lost``, ``upload_failed``)."""
        with self._lock:
            return self._phase

    @property
    def state(self) -> RunState:
        """The phase as the launcher's state."""
        return PHASE_STATES.get(self.phase, RunState.RUNNING)

    @property
    def detached(self) -> bool:
        """Whether following stopped while the job may still run (:meth:`detach`)."""
        return self._cancel.is_set() and self._outcome_value is None

    def add_listener(self, listener: Callable[[TrainEvent], None]) -> None:
        """Call ``listener(event)`` from the following thread for every event (before it is queued)."""
        self._listeners.append(listener)

    def add_end_listener(self, listener: Callable[[RunOutcome], None]) -> None:
        """Call ``listener(outcome)`` once when the run has ended."""
        self._end_listeners.append(listener)

    def poll(self) -> list[TrainEvent]:
        """The events since the last call."""
        return self._pending.poll()

    def events(self, timeout: float | None = None) -> Iterator[TrainEvent]:
        """The events as they arrive, until the run ends (or following stops: :meth:`detach`)."""
        yield from self._pending.events(timeout)

    def log_tail(self, offset: int = 0) -> LogChunk:
        """This computer's copy of the job's log (its JSON lines) from ``offset``, whole lines."""
        try:
            with records.mirror_path(self.job_id).open("rb") as handle:
                handle.seek(max(0, offset))
                data = handle.read(records.MAX_RECORD_BYTES * 4)
        except OSError:
            return LogChunk("", offset)
        cut = data.rfind(b"\n") + 1
        return LogChunk(data[:cut].decode("utf-8", errors="replace"), offset + cut)

    def stop(self) -> None:
        """Stop the job on the host (SIGINT to its process group: it saves a checkpoint; SIGTERM and
        SIGKILL after the grace); returns at once, the end arrives as events."""

        def stop_it() -> None:
            try:
                with self.target.connect() as conn:
                    stop_job(conn, records.load_run(self.job_id), timeout=STOP_GRACE_S + 60)
            except AppError as exc:
                self._emit({"event": "log", "line": f"stop failed: {exc}"})

        threading.Thread(target=stop_it, name=f"stop-{self.job_id}", daemon=True).start()

    def detach(self) -> None:
        """Stop following; the job goes on (attach again with :meth:`RemoteTarget.attach`)."""
        self._cancel.set()

    def wait(self, timeout: float | None = None) -> RunOutcome:
        """Wait for the end.

        Raises:
            TimeoutError: Not ended within ``timeout``, or following was detached first.
        """
        if not self._ended.wait(timeout) or self._outcome_value is None:
            raise TimeoutError(f"run {self.job_id} has not ended (or is no longer followed)")
        return self._outcome_value

    def fetch_adapter(
        self, dest: str | os.PathLike[str], *, on_progress: Callable[[Progress], None] | None = None
    ) -> Path:
        """Download the finished run's adapter (``out/adapter``) to ``dest`` (which must not exist).

        Raises:
            TrainingLaunchError: The run has not finished.
            RemoteError: The download failed (nothing is left at ``dest``).
        """
        run = records.load_run(self.job_id)
        if run.state != "finished":
            raise TrainingLaunchError(
                f"Run {self.job_id} has no adapter yet ({ADAPTER_IN_JOB} on {run.host}): it has not finished.",
                code="training_no_adapter",
                params={"job": self.job_id, "path": f"{run.host}:{run.job_dir}/{ADAPTER_IN_JOB}"},
            )
        with self.target.connect() as conn:
            return download(conn, run, Path(dest), remote=ADAPTER_IN_JOB, on_progress=on_progress)

    # -- the following thread -------------------------------------------------------------------

    def _emit(self, event: TrainEvent) -> None:
        kind = event.get("event")
        progress = parse_progress(event)
        with self._lock:
            if progress is not None:
                self._last_step = progress.step
            if kind == "result" and isinstance(event.get("adapter"), str):
                self._adapter = str(event["adapter"])
            if kind in ("checkpoint", "cancelled"):
                path = event.get("checkpoint", event.get("path"))
                if isinstance(path, str):
                    self._checkpoint = path
            if kind == "error":
                self._error_event = event
        for listener in self._listeners:
            listener(event)
        self._pending.put(event)

    def _set_phase(self, phase: str) -> None:
        with self._lock:
            if phase == self._phase:
                return
            self._phase = phase
        self._emit({"event": "remote", "phase": phase, "job": self.job_id})

    def _on_state(self, name: str) -> None:
        if name == "reconnecting":
            self._was_lost = True
            self._set_phase("lost connection")
        elif name == "running":
            self._set_phase("re-attached" if self._was_lost or self._attaching else "running")
        elif name != "connecting":
            self._set_phase(name)

    def _on_lines(self, lines: list[str]) -> None:
        for line in lines:
            self._emit(parse_line(line))

    def run_thread(self, upload: Callable[[], RemoteRun] | None) -> None:
        """Start following (after ``upload``, which starts the job) on a thread of its own."""
        self._thread = threading.Thread(target=self._run, args=(upload,), name=f"remote-{self.job_id}", daemon=True)
        self._thread.start()

    def _run(self, upload: Callable[[], RemoteRun] | None) -> None:
        try:
            if upload is not None:
                run = upload()
                self._set_phase("running")
            else:
                run = records.load_run(self.job_id)
                for line in records.read_mirror(self.job_id):  # what this computer has already
                    self._emit(parse_line(line))
            if run.state == "upload_failed":  # never started: nothing to follow
                ended = run
            else:  # an ended job too: follow reads what the log holds beyond this computer's copy
                ended = follow(
                    run,
                    on_lines=self._on_lines,
                    on_state=self._on_state,
                    cancel=self._cancel,
                    passphrase=self.target.passphrase,
                    host=self.target.host,
                )
            if ended.state not in records.TERMINAL_STATES:  # detached: the job goes on
                self._pending.end()
                return
            self._finish(ended)
        except AppError as exc:
            self._emit({"event": "error", "message": str(exc), "code": exc.code, "params": dict(exc.params)})
            state = records.load_run(self.job_id) if _recorded(self.job_id) else None
            self._finish(state or RemoteRun(self.job_id, self.target.name, "?", state="failed", error=str(exc)))

    def _finish(self, run: RemoteRun) -> None:
        self._set_phase(run.state)
        with self._lock:
            step, adapter, checkpoint, error_event = self._last_step, self._adapter, self._checkpoint, self._error_event
        state = PHASE_STATES.get(run.state, RunState.FAILED)
        if state is RunState.FINISHED:
            outcome = RunOutcome(state, adapter=adapter, last_step=step)
        elif state is RunState.STOPPED:
            outcome = RunOutcome(state, last_step=step, checkpoint=checkpoint, code="cancelled")
        elif error_event is not None:
            params = error_event.get("params")
            outcome = RunOutcome(
                state,
                last_step=step,
                checkpoint=checkpoint,
                error=str(error_event.get("message") or run.error),
                code=str(error_event.get("code") or ""),
                params=params if isinstance(params, dict) else {},
            )
        elif run.state == "lost":
            outcome = RunOutcome(
                state,
                last_step=step,
                checkpoint=checkpoint,
                error=f"The job on {run.host} ended without a word (the host restarted, or its processes were killed).",
                code="remote_job_lost",
                params={"name": run.host, "job": run.job_id},
            )
        else:
            detail = run.error or f"exit status {run.returncode}"
            outcome = RunOutcome(
                state,
                last_step=step,
                checkpoint=checkpoint,
                error=f"The job on {run.host} failed: {detail}; its log: alpaca-desk train attach {run.job_id}",
                code="remote_start_failed",
                params={"name": run.host, "reason": detail},
            )
        self._outcome_value = outcome
        for listener in self._end_listeners:
            listener(outcome)
        self._ended.set()
        self._pending.end()


def _recorded(job_id: str) -> bool:
    try:
        records.load_run(job_id)
    except RemoteError:
        return False
    return True


class RemoteTarget(TrainingTarget):
    """A saved SSH host (:mod:`runtime.training.remote.hosts`) as a place to train.

    Args:
        host: The host, or a saved host's name.
        passphrase: The key file's passphrase when it has one (default: the keyring's, if saved).
    """

    kind = "ssh"

    def __init__(self, host: Host | str, *, passphrase: str | None = None) -> None:
        self.host = get_host(host) if isinstance(host, str) else host
        self.name = self.host.name
        self.label = f"{self.host.name} ({self.host.target})"
        self._passphrase = passphrase

    @property
    def passphrase(self) -> str | None:
        """The key's passphrase: given, or the keyring's (asked on first use, on a worker thread:
        a keyring may take a while to answer)."""
        if self._passphrase is None and needs_passphrase(self.host):
            from runtime.training.remote.secrets import stored_passphrase

            self._passphrase = stored_passphrase(self.host)
        return self._passphrase

    def connect(self) -> Connection:
        """A connection to the host (the caller closes it).

        Raises:
            HostKeyUnknown: The user has not accepted the host's key yet.
            RemoteError: No connection, a refused login, a changed host key.
        """
        return connect(self.host, passphrase=self.passphrase)

    def check(self, spec: JobSpec | None = None) -> TargetCheck:
        """Connect and test the host: Python, the train extra, and a CUDA GPU unless ``spec`` is a tiny test."""
        try:
            with self.connect() as conn:
                report = probe_host(conn)
        except AppError as exc:
            return TargetCheck(ready=False, message=str(exc), code=exc.code, params=dict(exc.params))
        tiny = spec is not None and spec.tiny_test
        missing = [item for item in report.missing if not (tiny and item.startswith("a CUDA GPU"))]
        absent = tuple(name for name, found in report.modules.items() if not found)
        if missing:
            return TargetCheck(
                ready=False,
                missing=absent,
                devices=tuple(report.gpus),
                message=f"{self.host.name} lacks: " + "; ".join(missing) + ".",
                code="remote_host_not_ready",
                params={"name": self.host.name, "missing": "; ".join(missing)},
            )
        return TargetCheck(ready=True, devices=tuple(report.gpus))

    def start(self, spec: JobSpec) -> RemoteRunHandle:
        """Register the run and return its handle; connecting, the upload, the start and the
        following happen on the handle's thread (nothing here waits for the network, so a window
        may call it on its own thread).

        An unknown host key, a refused login or a dropped upload arrive as an ``error`` event and a
        FAILED outcome (the message says what to do: accept the key in the hosts window, ...).

        Raises:
            TrainingLaunchError: A file of the spec is not on this computer.
        """
        remote_job(spec)  # checks the files before anything is registered or sent
        record = registry.create_run(spec.replace(output_dir="out"), target=self.name)
        handle = RemoteRunHandle(self, record.job_id, attaching=False)
        recorder = registry.Recorder(record.job_id)
        handle.add_listener(recorder)
        handle.add_end_listener(recorder.finish)
        on_host, job = remote_job(record.spec)
        job = dataclasses.replace(job, script_spec=on_host.to_dict())

        def upload() -> RemoteRun:
            shown = [0.0]

            def progress(p: Progress) -> None:
                # SFTP reports every 32 KiB: an event every UPLOAD_EVENT_S is plenty for a progress bar.
                now = time.monotonic()
                if now - shown[0] >= UPLOAD_EVENT_S or p.done >= p.total:
                    shown[0] = now
                    handle._emit({"event": "upload", "done": p.done, "total": p.total})

            with self.connect() as conn:
                job_dir = job_dir_for(conn, record.job_id)
                registry.update_run(record.job_id, output_dir=f"{job_dir}/out")
                # The runner's record under the registry's id, so that both name the run alike.
                records.save_run(
                    RemoteRun(
                        record.job_id, self.name, job_dir, state="uploading", created=time.time(), module=job.module
                    )
                )
                run = start_job(conn, job, job_id=record.job_id, on_progress=progress)
            registry.update_run(record.job_id, state=RunState.RUNNING.value)
            return run

        handle.run_thread(upload)
        return handle

    def attach(self, job_id: str) -> RemoteRunHandle:
        """Follow a run of this host again: the events this computer has, then the new ones.

        Raises:
            RemoteError: No such remote run here (``remote_job_not_found``).
        """
        run = records.load_run(job_id)
        if run.host != self.name:
            raise RemoteError(
                f"There is no remote run {job_id} on {self.name}.",
                code="remote_job_not_found",
                params={"job": job_id},
            )
        handle = RemoteRunHandle(self, job_id, attaching=True)
        try:
            registry.load_run(job_id)
        except registry.RunNotFound:
            pass  # a job started with `alpaca-desk remote run`: followed, not in the training registry
        else:
            recorder = registry.Recorder(job_id)
            handle.add_listener(recorder)
            handle.add_end_listener(recorder.finish)
        handle.run_thread(None)
        return handle


def available_targets() -> list[TrainingTarget]:
    """This computer, then every saved host (a damaged hosts file gives none; the hosts window says why)."""
    from runtime.training.launcher import LocalTarget
    from runtime.training.remote.hosts import load_hosts

    return [LocalTarget(), *(RemoteTarget(host) for host in load_hosts().hosts)]


def target_for(name: str, *, passphrase: str | None = None) -> TrainingTarget:
    """The target called ``name``: ``local`` (this computer) or a saved host's name."""
    from runtime.training.launcher import LocalTarget

    if name == "local":
        return LocalTarget()
    return RemoteTarget(name, passphrase=passphrase)
