"""Where a training run runs: the target interface, and this computer's target.

A run is described by a :class:`JobSpec` (:mod:`runtime.training.spec`); its events, progress and
states are in :mod:`runtime.training.runs`. Both are offered here too, for the targets' users.
The scripts (``python -m runtime.training.pretrain|sft --spec JOB.json``) report JSON lines on
stdout, one object per line (see :func:`parse_progress`)::

    {"event": "started", "job": "sft", "pid": 1234, "world_size": 1, "device": "cuda:0"}
    {"event": "progress", "step": 12, "total": 400, "loss": 2.31, "lr": 0.0002, "tokens_per_s": 5120.0,
     "gpu_memory_mb": 10240.0, "eta_s": 1210.5, "epoch": 0.03}
    {"event": "checkpoint", "step": 200, "path": ".../checkpoint-200"}
    {"event": "result", "adapter": ".../adapter", "steps": 400, "final_loss": 1.42}
    {"event": "error", "message": "...", "code": "training_no_cuda", "params": {...}}
    {"event": "cancelled", "step": 57, "checkpoint": ".../checkpoint-57"}

Every target implements :class:`TrainingTarget` and hands back a :class:`RunHandle`; the GUI and
the command line use only these two interfaces, so a second kind of target (SSH, in
``runtime.training.remote``) plugs in beside :class:`LocalTarget`. Nothing here imports torch.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runtime.jobs import JobProcess, Outcome
from runtime.training import registry
from runtime.training.runs import (
    STOP_GRACE_S,
    EventQueue,
    LogChunk,
    RunOutcome,
    RunState,
    TrainEvent,
    TrainProgress,
    interrupt_group,
    parse_progress,
)
from runtime.training.spec import (
    LORA_MODULES,
    MAX_SPEC_BYTES,
    SPEC_VERSION,
    TINY_TEST_MAX_PARAMS,
    JobKind,
    JobSpec,
    SpecError,
    TrainingLaunchError,
    check_output_dir,
)
from runtime.untrusted_json import parse_json

__all__ = [
    "INSTALL_HINT",
    "LORA_MODULES",
    "MAX_SPEC_BYTES",
    "SCRIPTS",
    "SPEC_VERSION",
    "STOP_GRACE_S",
    "TINY_TEST_MAX_PARAMS",
    "TRAIN_REQUIREMENTS",
    "EventQueue",
    "JobKind",
    "JobSpec",
    "LocalRunHandle",
    "LocalTarget",
    "LogChunk",
    "RunHandle",
    "RunOutcome",
    "RunState",
    "SpecError",
    "TargetCheck",
    "TrainEvent",
    "TrainProgress",
    "TrainingLaunchError",
    "TrainingTarget",
    "build_command",
    "build_env",
    "check_output_dir",
    "check_python",
    "interrupt_group",
    "parse_progress",
]

#: The scripts' module names by job kind.
SCRIPTS = {"pretrain": "runtime.training.pretrain", "sft": "runtime.training.sft"}
#: What a computer needs to run the scripts (the ``train`` extra), import name -> package name.
TRAIN_REQUIREMENTS = {"torch": "torch", "transformers": "transformers", "peft": "peft", "accelerate": "accelerate"}
#: How to get them, for messages.
INSTALL_HINT = "pip install 'alpaca-desk[train]'"


# -- the target interface --------------------------------------------------------------------------


@dataclass(frozen=True)
class TargetCheck:
    """Whether a target can run a spec now.

    Attributes:
        ready: It can (the train extra is installed, and CUDA is there or the spec is a tiny test).
        missing: Import names of the ``train`` extra that are missing.
        devices: CUDA device names found.
        message: What is wrong and what to do (English; ``code``/``params`` for translation).
    """

    ready: bool
    missing: tuple[str, ...] = ()
    devices: tuple[str, ...] = ()
    message: str = ""
    code: str = ""
    params: dict[str, Any] = field(default_factory=dict)


class RunHandle(ABC):
    """A started run. Thread-safe; nothing blocks except :meth:`events` and :meth:`wait`."""

    job_id: str

    @property
    @abstractmethod
    def state(self) -> RunState:
        """Where the run is now."""

    @abstractmethod
    def poll(self) -> list[TrainEvent]:
        """The events that arrived since the last call (never blocks)."""

    @abstractmethod
    def events(self, timeout: float | None = None) -> Iterator[TrainEvent]:
        """Every event not yet taken by :meth:`poll`, as it arrives, until the run ends.

        Raises:
            TimeoutError: No event within ``timeout`` seconds.
        """

    @abstractmethod
    def log_tail(self, offset: int = 0) -> LogChunk:
        """The run's log (``train.log``) from byte ``offset`` (at most 1 MiB per call)."""

    @abstractmethod
    def stop(self) -> None:
        """Ask the run to stop (it saves a checkpoint when it can); returns at once."""

    @abstractmethod
    def wait(self, timeout: float | None = None) -> RunOutcome:
        """Wait for the end.

        Raises:
            TimeoutError: Still running after ``timeout`` seconds.
        """

    @abstractmethod
    def fetch_adapter(self, dest: str | os.PathLike[str]) -> Path:
        """Copy the finished run's adapter folder to ``dest`` on this computer; returns ``dest``.

        Raises:
            TrainingLaunchError: The run has no adapter (not finished, or it failed).
        """


class TrainingTarget(ABC):
    """A place runs run: this computer, or a GPU host over SSH.

    Attributes:
        kind: ``local`` or ``ssh``.
        name: A stable id (``local``; a saved host's name).
        label: What the user sees.
    """

    kind: str
    name: str
    label: str

    @abstractmethod
    def check(self, spec: JobSpec | None = None) -> TargetCheck:
        """Whether the target can run ``spec`` (or any run); may take seconds (it starts Python)."""

    @abstractmethod
    def start(self, spec: JobSpec) -> RunHandle:
        """Start a run of ``spec`` and return its handle.

        Raises:
            TrainingLaunchError: It could not be started.
        """


# -- this computer -----------------------------------------------------------------------------------


#: Bytes of the log returned per :meth:`RunHandle.log_tail` call.
LOG_CHUNK_BYTES = 1024 * 1024
#: Seconds allowed for the environment check (importing torch is slow on a cold disk).
CHECK_TIMEOUT_S = 120.0

# Run by the target's Python: which of the train extra's packages it has, and its CUDA devices.
_CHECK_SCRIPT = """
import importlib.util, json, sys
names = json.loads(sys.argv[1])  # our own argument
missing = [n for n in names if importlib.util.find_spec(n) is None]
devices = []
if "torch" not in missing:
    import torch
    if torch.cuda.is_available():
        devices = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
print(json.dumps({"missing": missing, "devices": devices}))
"""


def build_command(
    spec: JobSpec, spec_path: str | os.PathLike[str], *, python: str | None = None, torchrun: bool | None = None
) -> list[str]:
    """The argv that runs ``spec`` (its file at ``spec_path``) with ``python`` (default: this one).

    One process is ``python -m runtime.training.KIND --spec FILE``; more (``spec.processes`` > 1)
    go through torchrun on this host, which starts one per GPU and sets their ranks (``torchrun``
    True: through torchrun even for one process).
    """
    interpreter = python or sys.executable
    script = SCRIPTS[spec.kind]
    if torchrun or (torchrun is None and spec.processes > 1):
        return [
            interpreter,
            "-m",
            "torch.distributed.run",
            "--standalone",
            f"--nproc-per-node={spec.processes}",
            "-m",
            script,
            "--spec",
            os.fspath(spec_path),
        ]
    return [interpreter, "-m", script, "--spec", os.fspath(spec_path)]


def build_env(spec: JobSpec) -> dict[str, str]:
    """The extra environment of a run: the GPUs it may use."""
    env = {"TOKENIZERS_PARALLELISM": "false"}
    if spec.devices:
        env["CUDA_VISIBLE_DEVICES"] = ",".join(str(d) for d in spec.devices)
    return env


def check_python(python: str | None = None, *, needs_cuda: bool = True) -> TargetCheck:
    """Whether ``python`` (default: this one) has the train extra, and CUDA when ``needs_cuda``.

    Runs in a child process (importing torch costs seconds and memory the app should not pay).
    """
    interpreter = python or sys.executable
    if getattr(sys, "frozen", False) and python is None:
        return _missing_check(tuple(TRAIN_REQUIREMENTS), interpreter)
    try:
        proc = subprocess.run(
            [interpreter, "-c", _CHECK_SCRIPT, json.dumps(list(TRAIN_REQUIREMENTS))],
            capture_output=True,
            text=True,
            timeout=CHECK_TIMEOUT_S,
            stdin=subprocess.DEVNULL,
        )
        # The last line of a Python the user named: bounded like any other answer from outside.
        report = parse_json(proc.stdout.strip().splitlines()[-1], source=f"the check of {interpreter}", max_bytes=65536)
        missing = tuple(str(n) for n in report["missing"])
        devices = tuple(str(d) for d in report["devices"])
    except (OSError, subprocess.SubprocessError, ValueError, KeyError, IndexError, TypeError):
        return _missing_check(tuple(TRAIN_REQUIREMENTS), interpreter)
    if missing:
        return _missing_check(missing, interpreter)
    if needs_cuda and not devices:
        return TargetCheck(
            ready=False,
            message="No CUDA GPU was found on this computer; training needs one (only the tiny test "
            "configurations run on the CPU). Use a computer with an NVIDIA GPU, or a remote GPU host.",
            code="training_no_cuda",
        )
    return TargetCheck(ready=True, devices=devices)


def _missing_check(missing: tuple[str, ...], interpreter: str) -> TargetCheck:
    names = ", ".join(TRAIN_REQUIREMENTS[n] for n in missing)
    return TargetCheck(
        ready=False,
        missing=missing,
        message=f"Training needs {names} in the Python that runs it ({interpreter}). Install them "
        f"with: {INSTALL_HINT} (or on a GPU host, and train there).",
        code="training_extra_missing",
        params={"packages": names, "python": interpreter, "command": INSTALL_HINT},
    )


class LocalRunHandle(RunHandle):
    """A run on this computer: a child process in its own process group (:class:`runtime.jobs.JobProcess`)."""

    def __init__(self, spec: JobSpec, spec_path: Path, command: Sequence[str], env: dict[str, str]) -> None:
        self.job_id = spec.job_id
        self.spec = spec
        self.spec_path = spec_path
        self.output_dir = Path(spec.output_dir)
        self._state = RunState.STARTING
        self._lock = threading.Lock()
        self._pending = EventQueue(self.job_id)
        self._outcome_value: RunOutcome | None = None
        self._last_step = 0
        self._checkpoint: str | None = None
        self._stopped_by_child = False
        self._stop_requested = threading.Event()
        self._listeners: list[Any] = []
        self._end_listeners: list[Any] = []
        self._end_lock = threading.Lock()
        self._process = JobProcess(command, on_event=self._on_event, env=env)

    @property
    def pid(self) -> int | None:
        """The child's process id (its process group's id too)."""
        return self._process.pid

    @property
    def state(self) -> RunState:
        """Where the run is now."""
        with self._lock:
            return self._state

    def add_listener(self, listener: Any) -> None:
        """Call ``listener(event)`` from the reader thread for every event (before it is queued)."""
        self._listeners.append(listener)

    def start(self) -> None:
        """Start the child (see :meth:`runtime.jobs.JobProcess.start` on which thread)."""
        self._process.start()

    def _on_event(self, event: TrainEvent) -> None:
        kind = event.get("event")
        with self._lock:
            if kind in ("started", "progress") and self._state is RunState.STARTING:
                self._state = RunState.RUNNING
            progress = parse_progress(event)
            if progress is not None:
                self._last_step = progress.step
            if kind == "cancelled":
                self._stopped_by_child = True
            if kind in ("checkpoint", "cancelled") and isinstance(event.get("checkpoint", event.get("path")), str):
                self._checkpoint = str(event.get("checkpoint", event.get("path")))
        for listener in self._listeners:
            listener(event)
        self._pending.put(event)

    def poll(self) -> list[TrainEvent]:
        """The events since the last call."""
        return self._pending.poll()

    def events(self, timeout: float | None = None) -> Iterator[TrainEvent]:
        """The events as they arrive, until the run ends."""
        yield from self._pending.events(timeout)

    def log_tail(self, offset: int = 0) -> LogChunk:
        """``train.log`` from ``offset``."""
        path = self.output_dir / "train.log"
        try:
            with path.open("rb") as handle:
                handle.seek(max(0, offset))
                data = handle.read(LOG_CHUNK_BYTES)
        except OSError:
            return LogChunk("", offset)
        # Stop at the last whole line so a multi-byte character is never split between calls.
        cut = data.rfind(b"\n") + 1 if len(data) == LOG_CHUNK_BYTES else len(data)
        return LogChunk(data[:cut].decode("utf-8", errors="replace"), offset + cut)

    def stop(self) -> None:
        """SIGINT to the group (the script saves a checkpoint); after :data:`STOP_GRACE_S`, the job
        pattern's escalation (SIGINT, SIGTERM, SIGKILL)."""
        pid = self._process.pid
        if pid is None or self._stop_requested.is_set() or not self._process.running:
            return
        self._stop_requested.set()
        interrupt_group(pid)

        def escalate() -> None:
            try:
                self._process.wait(STOP_GRACE_S)
            except TimeoutError:
                self._process.cancel()

        threading.Thread(target=escalate, name=f"stop-{self.job_id}", daemon=True).start()

    def wait(self, timeout: float | None = None) -> RunOutcome:
        """Wait for the child to end; the end listeners have run when this returns."""
        outcome = self._outcome(self._process.wait(timeout))
        with self._end_lock:  # a second caller waits until the first has told the listeners
            if self._outcome_value is None:
                self._outcome_value = outcome
                with self._lock:
                    self._state = outcome.state
                for listener in self._end_listeners:
                    listener(outcome)
                self._pending.end()
            return self._outcome_value

    def add_end_listener(self, listener: Any) -> None:
        """Call ``listener(outcome)`` once when the run has ended (from whichever thread waits first)."""
        self._end_listeners.append(listener)

    def _outcome(self, outcome: Outcome) -> RunOutcome:
        with self._lock:
            step, checkpoint = self._last_step, self._checkpoint
            stopped = self._stopped_by_child or self._stop_requested.is_set()
        # A stop from this handle, or from another process (``alpaca-desk train stop``): the child
        # said "cancelled", or was ended by force after it was asked to stop.
        if outcome.cancelled or (stopped and not outcome.ok):
            return RunOutcome(RunState.STOPPED, last_step=step, checkpoint=checkpoint, code="cancelled")
        if outcome.ok and outcome.result is not None:
            adapter = outcome.result.get("adapter")
            return RunOutcome(
                RunState.FINISHED, adapter=str(adapter) if isinstance(adapter, str) else None, last_step=step
            )
        return RunOutcome(
            RunState.FAILED,
            last_step=step,
            error=outcome.error,
            code=outcome.code,
            params=outcome.params,
            checkpoint=checkpoint,
        )

    def fetch_adapter(self, dest: str | os.PathLike[str]) -> Path:
        """Copy the adapter (it is on this computer already)."""
        source = self.output_dir / "adapter"
        if not (source / "adapter_config.json").is_file():
            raise TrainingLaunchError(
                f"Run {self.job_id} has no adapter yet ({source} is missing): it has not finished.",
                code="training_no_adapter",
                params={"job": self.job_id, "path": str(source)},
            )
        target = Path(dest)
        if target.resolve() != source.resolve():
            shutil.copytree(source, target, dirs_exist_ok=True)
        return target


class LocalTarget(TrainingTarget):
    """This computer: the script runs as a child process of the caller, in its own process group.

    Args:
        python: The Python with the ``train`` extra (default: the one running the app; a frozen app
            has none and must be given one).
    """

    kind = "local"
    name = "local"
    label = "This computer"

    def __init__(self, python: str | None = None) -> None:
        self.python = python

    def check(self, spec: JobSpec | None = None) -> TargetCheck:
        """The train extra, and a CUDA GPU unless ``spec`` is a tiny test."""
        return check_python(self.python, needs_cuda=not (spec is not None and spec.tiny_test))

    def start(self, spec: JobSpec, *, output_chosen: bool = False) -> LocalRunHandle:
        """Register the run, write its spec file and start the script.

        The caller's thread should live as long as the run (the child ends with it, see
        :meth:`runtime.jobs.JobProcess.start`).

        Args:
            spec: The run; its ``output_dir`` (if any) must be under the data folder unless
                ``output_chosen`` (see :func:`check_output_dir`).
            output_chosen: The user chose ``spec.output_dir`` here (``--out``, a folder dialog).

        Raises:
            SpecError: ``training_output_outside``: an output folder outside the data folder that
                the user did not choose. Nothing is registered then.
        """
        if spec.output_dir and not output_chosen:
            check_output_dir(spec.output_dir)
        if self.python is None and getattr(sys, "frozen", False):
            check = _missing_check(tuple(TRAIN_REQUIREMENTS), sys.executable)
            raise TrainingLaunchError(check.message, code=check.code, params=check.params)

        record = registry.create_run(spec, target=self.name)
        spec = record.spec
        handle = LocalRunHandle(
            spec,
            Path(record.spec_path),
            build_command(spec, record.spec_path, python=self.python),
            build_env(spec),
        )
        recorder = registry.Recorder(record.job_id)
        handle.add_listener(recorder)
        handle.add_end_listener(recorder.finish)
        handle.start()
        registry.update_run(record.job_id, state=RunState.RUNNING.value, pid=handle.pid)
        # The registry learns the end even when nobody waits on the handle (a crash says nothing).
        threading.Thread(target=handle.wait, name=f"run-{record.job_id}", daemon=True).start()
        return handle
