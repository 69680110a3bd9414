"""Long jobs in a child process: the one pattern every long job follows (see ARCHITECTURE.md).

1. A pure argv builder, :func:`build_command` (unit-tested on its argv).
2. A child process, ``python -m runtime.jobs JOB --option=value ...`` (in a frozen build, the
   executable's ``job`` subcommand), in its own process group / session.
3. Progress as JSON lines on the child's stdout, one object per line::

       {"event": "started", "job": "vocab-train", "pid": 1234}
       {"event": "scratch", "path": "/out/.zh.model.partial-x1y2"}      # temporary output to clean
       {"event": "progress", "done": 300, "total": 1435, "stage": "training"}
       {"event": "result", ...}                                           # the job's figures
       {"event": "error", "message": "...", "code": "...", "params": {...}}
       {"event": "cancelled"}

   Anything else the child or a native library prints goes to stderr, which the parent keeps
   (the last lines) for the error message of a job that dies.
4. Cancel ends the process group: SIGINT, then SIGTERM after :data:`CANCEL_GRACE_S` seconds,
   then SIGKILL. The child stops at the first signal (the work runs in a thread; the main
   thread removes the temporary output and exits). Output is written under a temporary name
   beside its destination and renamed into place only when complete, so a cancelled or failed
   job leaves nothing behind; should the child be killed before it cleans up, the parent removes
   the ``scratch`` paths it announced.
5. :meth:`JobProcess.wait` returns an :class:`Outcome`.

The jobs (:data:`JOBS`): ``vocab-train``, ``vocab-merge`` and ``tokenizer-check``, implemented in
:mod:`runtime.tokens.vocab_jobs`; ``hub-download`` in :mod:`runtime.hub.download` (its ``.part``
files are kept, not scratch: a cancelled or killed download resumes from them); ``convert-inspect``,
``convert``, ``quantize`` and ``report``, in :mod:`runtime.models.model_jobs`; ``lora-merge``
(:mod:`runtime.training.merge`).
"""

from __future__ import annotations

import argparse
import collections
import importlib
import json
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from runtime._exit import describe_exit, end_with_parent
from runtime.errors import AppError

#: Seconds between the escalation steps of :meth:`JobProcess.cancel` (SIGINT, SIGTERM, SIGKILL).
CANCEL_GRACE_S = 3.0
#: Lines of the child's stderr kept for the message of a job that dies.
STDERR_TAIL_LINES = 40
#: ``STAGE=PATH``: a job that reports progress in ``STAGE`` waits there until the file ``PATH``
#: exists. For tests of cancelling: a cancel that must come while the job works cannot lose the
#: race against a fast machine, and a test that opens the gate shows the job then goes on.
GATE_ENV = "ALPACA_DESK_JOB_GATE"

JobEvent = dict[str, Any]


class JobError(AppError):
    """A job failed, or its process ended without saying why."""


@dataclass(frozen=True)
class Progress:
    """How far a job is: ``done`` of ``total`` (0 when unknown) in ``stage``."""

    done: int
    total: int
    stage: str


ProgressCallback = Callable[[Progress], None]


# -- the jobs and their argv -----------------------------------------------------------------------


@dataclass(frozen=True)
class JobOption:
    """One option of a job: ``name`` in Python, ``--name-with-dashes`` on the command line."""

    name: str
    kind: type = str
    required: bool = False
    default: Any = None
    help: str = ""

    @property
    def flag(self) -> str:
        """The command-line spelling."""
        return "--" + self.name.replace("_", "-")


@dataclass(frozen=True)
class JobDefinition:
    """A job: its options and the function that runs it (``module:function``, imported in the child).

    The function is called as ``function(context, **options)`` and returns the result dict.
    ``isolated`` jobs read untrusted folders (model checkpoints): their Python starts in isolated
    mode (``-I``: no working directory, ``PYTHONPATH`` or user site-packages on ``sys.path``), so no
    file in such a folder can be imported in their place.
    """

    name: str
    target: str
    options: tuple[JobOption, ...]
    help: str
    isolated: bool = False


JOBS: dict[str, JobDefinition] = {
    job.name: job
    for job in (
        JobDefinition(
            "vocab-train",
            "runtime.tokens.vocab_jobs:train_job",
            (
                JobOption("corpus", required=True, help="UTF-8 text, one sentence or paragraph per line"),
                JobOption("out", required=True, help="the .model file to write (a .vocab is written beside it)"),
                JobOption("size", int, default=20_000, help="vocabulary size (the paper's: 20,000)"),
                JobOption("model_type", default="bpe", help="bpe (the paper's) or unigram"),
                JobOption("character_coverage", float, default=0.9995, help="share of characters covered"),
                JobOption("max_sentences", int, default=2_000_000, help="sample at most this many lines"),
                JobOption("threads", int, help="training threads (default: the CPU count)"),
            ),
            "train a SentencePiece model on a corpus",
        ),
        JobDefinition(
            "vocab-merge",
            "runtime.tokens.vocab_jobs:merge_job",
            (
                JobOption("base", required=True, help="the base tokenizer.model (LLaMA's)"),
                JobOption("addition", required=True, help="the model whose new pieces are appended"),
                JobOption("out", required=True, help="the folder to write (tokenizer.model and HF files)"),
                JobOption("pad", bool, default=False, help="append a pad token (Chinese-Alpaca: 49,954)"),
                JobOption("sample", help="a text file: count its tokens before and after the merge"),
            ),
            "merge a SentencePiece vocabulary into a base one (paper section 4.2)",
        ),
        JobDefinition(
            "lora-merge",
            "runtime.training.merge:merge_job",
            (
                JobOption("base", required=True, help="the base model's Hugging Face folder"),
                JobOption("adapters", required=True, help="a JSON array of LoRA adapter folders, merged in order"),
                JobOption("out", required=True, help="the merged model's folder (must not exist)"),
                JobOption("dtype", default="auto", help="auto (the base's), float16, bfloat16 or float32"),
            ),
            "merge LoRA adapters into their base model (needs the train extra)",
        ),
        JobDefinition(
            "tokenizer-check",
            "runtime.tokens.vocab_jobs:check_job",
            (JobOption("path", required=True, help="a tokenizer.model, tokenizer folder or GGUF file"),),
            "open an untrusted tokenizer in this separate process and report its size",
        ),
        JobDefinition(
            "hub-download",
            "runtime.hub.download:download_job",
            (
                JobOption("repo", required=True, help="the repository, e.g. hfl/chinese-alpaca-2-7b-gguf"),
                JobOption("files", help='a JSON list of file names (default: all), e.g. ["ggml-model-q4_k.gguf"]'),
                JobOption("endpoint", help="the hub (default: https://huggingface.co)"),
                JobOption("proxy", help="an HTTP(S) proxy URL"),
                JobOption("models_dir", help="the models folder (default: the app's)"),
                JobOption("network_log", help="the network log file (default: the app's)"),
                JobOption("stall_timeout", float, help="seconds without a byte before a retry (default: 30)"),
            ),
            "download files of a hub repository: resumable, verified, recorded in the models folder's manifest",
        ),
        JobDefinition(
            "convert-inspect",
            "runtime.models.model_jobs:inspect_job",
            (JobOption("folder", required=True, help="a Hugging Face LLaMA folder or Meta's consolidated.*.pth"),),
            "say what a checkpoint folder holds and what stops its conversion, with output size estimates",
            isolated=True,
        ),
        JobDefinition(
            "convert",
            "runtime.models.model_jobs:convert_job",
            (
                JobOption("src", required=True, help="a Hugging Face LLaMA folder or Meta's consolidated.*.pth"),
                JobOption("out", required=True, help="the .gguf file to write"),
                JobOption("outtype", default="f16", help="f16, bf16 or f32"),
                JobOption("name", help="general.name (default: the folder's name)"),
                JobOption("template", default="auto", help="auto, raw, chinese-alpaca or chinese-alpaca-2"),
            ),
            "convert merged LLaMA weights to GGUF",
            isolated=True,
        ),
        JobDefinition(
            "quantize",
            "runtime.models.model_jobs:quantize_job",
            (
                JobOption("src", required=True, help="an F16/BF16/F32 .gguf file"),
                JobOption("out", required=True, help="the quantized .gguf file to write"),
                JobOption("type", required=True, help="q8_0, q6_k, q5_k_m, q5_0, q4_k_m, q4_0, q3_k_m or q2_k"),
                JobOption("threads", int, help="quantization threads (default: all cores)"),
            ),
            "quantize a GGUF file with llama.cpp's quantizer",
            isolated=True,
        ),
        JobDefinition(
            "report",
            "runtime.models.model_jobs:report_job",
            (
                JobOption("files", required=True, help="GGUF files of one model, one path per line"),
                JobOption("text", help="a UTF-8 text (default: the bundled Chinese sample)"),
                JobOption("ctx", int, default=512, help="perplexity window in tokens"),
                JobOption("threads", int, help="threads (default: llama.cpp's)"),
                JobOption("max_chunks", int, default=0, help="evaluate at most this many windows (0: all)"),
                JobOption("speed_tokens", int, default=64, help="tokens generated to measure speed (0: skip)"),
            ),
            "the quantization report: size, bits per weight, perplexity and speed per file",
            isolated=True,
        ),
    )
}


def scratch_prefix(destination: Path) -> str:
    """How a job names its temporary output beside ``destination`` (``.NAME.partial-``)."""
    return f".{destination.name}.partial-"


def scratch_path(destination: Path) -> Path:
    """This process's temporary output for ``destination``: ``.NAME.partial-PID`` beside it.

    The process id in the name is what lets a later run see that nobody writes it any more
    (:func:`remove_stale_scratch`).
    """
    return destination.with_name(f"{scratch_prefix(destination)}{os.getpid()}")


def remove_stale_scratch(folder: Path, *, names_ending: str) -> list[Path]:
    """Remove the ``.NAME.partial-PID`` left in ``folder`` by processes that no longer run.

    A job killed outright (SIGKILL, a power cut, a parent killed while the job was stuck in
    native code) leaves its temporary output, often as large as the file it was writing, and
    nobody else will ever remove it. Only names this pattern makes, for destinations ending in
    ``names_ending``, are considered, and only when no process with that id runs, or the one that
    does started after the file was last written (its id was reused). Symbolic links are left.

    Returns:
        What was removed.
    """
    pattern = re.compile(r"\.(.+)\.partial-(\d+)")
    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        match = pattern.fullmatch(entry.name)
        if match is None or not match.group(1).endswith(names_ending):
            continue
        try:
            if entry.is_symlink() or not _written_by_an_ended_process(int(match.group(2)), entry.stat().st_mtime):
                continue
            if entry.is_dir():
                shutil.rmtree(entry.path)
            else:
                os.unlink(entry.path)
        except OSError:
            continue  # gone meanwhile, or not ours to remove: leave it
        removed.append(Path(entry.path))
    return removed


def _written_by_an_ended_process(pid: int, last_written: float) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except (PermissionError, OSError):
        return False  # runs, as another user
    started = _process_start_time(pid)
    return started is not None and started > last_written + 1.0


def _process_start_time(pid: int) -> float | None:
    """When process ``pid`` started (seconds since the epoch), on Linux; None elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8").rsplit(")", 1)[1].split()
        ticks = int(fields[19])  # field 22 of proc(5): starttime, counted from field 3 here
        boot = next(
            int(line.split()[1])
            for line in Path("/proc/stat").read_text(encoding="utf-8").splitlines()
            if line.startswith("btime ")
        )
        return boot + ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, StopIteration):
        return None


def job_command(*, isolated: bool = False) -> list[str]:
    """The argv prefix that runs a job: the frozen executable's ``job`` subcommand, or this Python.

    ``isolated``: Python's isolated mode, which ignores ``PYTHONPATH`` and the working directory,
    so this package is put on ``sys.path`` by name. (A frozen build imports only from its bundle.)
    """
    if getattr(sys, "frozen", False):
        return [sys.executable, "job"]
    if isolated:
        root = str(Path(__file__).resolve().parent.parent)
        boot = f"import sys; sys.path.insert(0, {root!r}); from runtime.jobs import main; raise SystemExit(main())"
        return [sys.executable, "-I", "-c", boot]
    return [sys.executable, "-m", "runtime.jobs"]


def build_command(job: str, **options: Any) -> list[str]:
    """The argv of a job process.

    Options are written ``--name=value`` (so a path that starts with ``-`` stays a value); None
    leaves an option out; a bool option is a flag.

    Raises:
        ValueError: An unknown job or option, or a required option missing.
    """
    definition = JOBS.get(job)
    if definition is None:
        raise ValueError(f"unknown job {job!r}; the jobs are {', '.join(JOBS)}")
    known = {option.name for option in definition.options}
    unknown = sorted(set(options) - known)
    if unknown:
        raise ValueError(f"job {job!r} has no option {unknown[0]!r}; its options are {', '.join(sorted(known))}")
    argv = [*job_command(isolated=definition.isolated), job]
    for option in definition.options:
        value = options.get(option.name)
        if value is None:
            if option.required:
                raise ValueError(f"job {job!r} needs the option {option.name!r}")
            continue
        if option.kind is bool:
            if value:
                argv.append(option.flag)
            continue
        argv.append(f"{option.flag}={os.fspath(value) if isinstance(value, os.PathLike) else value}")
    return argv


# -- the parent side -------------------------------------------------------------------------------


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
            root = str(Path(__file__).resolve().parent.parent)
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


# -- the child side --------------------------------------------------------------------------------


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
        stage, _, gate = os.environ.get(GATE_ENV, "").partition("=")
        self._gate: tuple[str, Path] | None = (stage, Path(gate)) if stage and gate else None

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
        if gate is not None and progress.stage == gate[0]:
            self._gate = None
            while not gate[1].exists() and not self.cancelled.is_set():
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


if __name__ == "__main__":
    raise SystemExit(main())
