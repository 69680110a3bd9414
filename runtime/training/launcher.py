"""Where a training run runs: the job specification, the target interface, and this computer's target.

A run is described by a :class:`JobSpec`, written as a JSON file: the local target passes that file
to the script, a remote target copies it to the GPU host, and both hosts read it back with
:meth:`JobSpec.from_json`, which checks every field (a spec is input from elsewhere: a file the
user edited, a host's disk). The scripts (``python -m runtime.training.pretrain|sft --spec
JOB.json``) report JSON lines on stdout, one object per line (see :func:`parse_progress`)::

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

import dataclasses
import enum
import json
import math
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from runtime.errors import AppError, UntrustedJsonError
from runtime.jobs import JobProcess, Outcome
from runtime.paths import write_atomic
from runtime.untrusted_json import parse_json

#: Version of the JSON job specification; a host refuses a spec of a version it does not know.
SPEC_VERSION = 1
#: A spec file larger than this is not a spec (it is read whole).
MAX_SPEC_BYTES = 256 * 1024
#: The projections LoRA adapts (paper section 5: attention and MLP).
LORA_MODULES = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
#: The scripts' module names by job kind.
SCRIPTS = {"pretrain": "runtime.training.pretrain", "sft": "runtime.training.sft"}
#: What a computer needs to run the scripts (the ``train`` extra), import name -> package name.
TRAIN_REQUIREMENTS = {"torch": "torch", "transformers": "transformers", "peft": "peft", "accelerate": "accelerate"}
#: How to get them, for messages.
INSTALL_HINT = "pip install 'alpaca-desk[train]'"

JobKind = Literal["pretrain", "sft"]
TrainEvent = dict[str, Any]

_END = object()


class TrainingLaunchError(AppError):
    """A run could not be described or started: a bad spec, a target without torch or CUDA."""


class SpecError(TrainingLaunchError):
    """A job specification is not valid (``params``: ``field`` and ``reason``)."""


# -- the job specification -------------------------------------------------------------------------


@dataclass(frozen=True)
class JobSpec:
    """Everything a training script needs, as one JSON object (paths are paths *on the target*).

    Attributes:
        kind: ``pretrain`` (causal LM on plain text) or ``sft`` (Alpaca-format instructions).
        model: A Hugging Face model folder (LLaMA architecture).
        dataset: Pretrain: a UTF-8 text file or a folder of ``.txt`` files. SFT: a JSON array or a
            JSON-lines file of records with ``instruction``, optional ``input``, and ``output``.
        output_dir: Where the adapter, checkpoints, ``train.log`` and ``progress.jsonl`` go
            (empty: the launcher chooses).
        tokenizer: A tokenizer folder or ``tokenizer.model`` (empty: the model folder's).
        job_id: The run's id in the registry (the launcher sets it).
        lora_rank, lora_alpha, lora_dropout, lora_modules: The LoRA adapter.
        train_embeddings: ``auto`` (the embeddings and LM head are trained, ``modules_to_save``,
            when the tokenizer is larger than the model's vocabulary), ``yes`` or ``no``.
        stage: ``lora`` (LoRA, plus embeddings as above) or ``embeddings`` (the paper's stage 1 for
            7B: only the embeddings and LM head train, the transformer frozen).
        learning_rate, warmup_ratio, lr_scheduler, max_grad_norm, epochs, max_steps: The optimizer
            schedule (AdamW); ``max_steps`` > 0 overrides ``epochs``.
        block_size: Tokens per training sequence (pretrain blocks; SFT truncation).
        batch_size, grad_accum: Sequences per device per step, and steps per optimizer update.
        gradient_checkpointing, seed, precision: As named; precision ``auto`` takes bf16 where the
            GPU has it, else fp16, and fp32 on the CPU.
        save_steps, save_total_limit, log_steps: Checkpoint every ``save_steps`` updates (0: only
            at the end and on stop), keep that many; a progress line every ``log_steps``.
        resume: Continue from the newest checkpoint in ``output_dir`` if there is one.
        devices: CUDA device indices to use (empty: all); ``processes`` > 1 starts that many
            through ``torchrun`` (one per GPU).
        deepspeed: ``zero2`` (the built-in ZeRO-2 configuration), a DeepSpeed config file, or
            empty; needs ``pip install deepspeed`` on the GPU host.
        max_examples: Use at most this many SFT records or pretrain blocks (0: all).
        tiny_test: A tiny test configuration: allowed on the CPU (the script refuses it for a
            model of more than :data:`TINY_TEST_MAX_PARAMS` parameters).
        template: The SFT prompt template (``chinese-alpaca``, paper section 4.5).
        init_adapter: An adapter folder to continue training (the second stage after an
            ``embeddings`` stage), or empty for a fresh LoRA adapter.
    """

    kind: JobKind
    model: str
    dataset: str
    output_dir: str = ""
    tokenizer: str = ""
    job_id: str = ""
    lora_rank: int = 8
    lora_alpha: int = 32
    lora_dropout: float = 0.05
    lora_modules: tuple[str, ...] = LORA_MODULES
    train_embeddings: Literal["auto", "yes", "no"] = "auto"
    stage: Literal["lora", "embeddings"] = "lora"
    learning_rate: float = 2e-4
    warmup_ratio: float = 0.05
    lr_scheduler: Literal["cosine", "linear", "constant"] = "cosine"
    max_grad_norm: float = 1.0
    epochs: float = 1.0
    max_steps: int = 0
    block_size: int = 512
    batch_size: int = 1
    grad_accum: int = 1
    gradient_checkpointing: bool = False
    seed: int = 42
    precision: Literal["auto", "fp32", "fp16", "bf16"] = "auto"
    save_steps: int = 0
    save_total_limit: int = 2
    log_steps: int = 1
    resume: bool = True
    devices: tuple[int, ...] = ()
    processes: int = 1
    deepspeed: str = ""
    max_examples: int = 0
    tiny_test: bool = False
    template: str = "chinese-alpaca"
    init_adapter: str = ""
    version: int = SPEC_VERSION

    def __post_init__(self) -> None:
        _validate(self)

    def replace(self, **changes: Any) -> JobSpec:
        """A copy with ``changes`` (validated)."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """The JSON object."""
        data = dataclasses.asdict(self)
        data["lora_modules"] = list(self.lora_modules)
        data["devices"] = list(self.devices)
        return data

    def to_json(self) -> str:
        """The JSON text (what :meth:`from_json` reads)."""
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2) + "\n"

    def write(self, path: str | os.PathLike[str]) -> Path:
        """Write the spec file atomically; returns its path."""
        target = Path(path)
        write_atomic(target, self.to_json().encode("utf-8"))
        return target

    @classmethod
    def from_dict(cls, data: object) -> JobSpec:
        """Check a decoded JSON object field by field and build the spec.

        Raises:
            SpecError: Not an object, an unknown or missing field, a wrong type or a value out of range.
        """
        if not isinstance(data, dict):
            raise _spec_error("(spec)", "it must be a JSON object")
        fields = {f.name: f for f in dataclasses.fields(cls)}
        for key in data:
            if key not in fields:
                raise _spec_error(str(key), "unknown field (a spec written by a newer Alpaca Desk?)")
        values: dict[str, Any] = {}
        for name, spec_field in fields.items():
            if name not in data:
                if spec_field.default is dataclasses.MISSING:
                    raise _spec_error(name, "missing")
                continue
            values[name] = _coerce(name, data[name], _FIELD_TYPES[name])
        return cls(**values)

    @classmethod
    def from_json(cls, text: str | bytes) -> JobSpec:
        """Parse and check a spec's JSON text.

        Raises:
            SpecError: Too large, not JSON, or not a valid spec.
        """
        try:
            data = parse_json(text, source="the job specification", max_bytes=MAX_SPEC_BYTES)
        except UntrustedJsonError as exc:
            raise _spec_error("(spec)", exc.reason) from exc
        return cls.from_dict(data)

    @classmethod
    def read(cls, path: str | os.PathLike[str]) -> JobSpec:
        """Read and check a spec file.

        Raises:
            SpecError: Unreadable, too large, or not a valid spec (the message names the file).
        """
        target = Path(path)
        try:
            with target.open("rb") as handle:
                raw = handle.read(MAX_SPEC_BYTES + 1)
        except OSError as exc:
            raise SpecError(
                f"Cannot read the job specification {target}: {exc.strerror or exc}.",
                code="training_spec_unreadable",
                params={"path": str(target), "reason": exc.strerror or str(exc)},
            ) from exc
        try:
            return cls.from_json(raw)
        except SpecError as exc:
            raise SpecError(
                f"The job specification {target} is not valid: {exc}",
                code="training_spec_file_invalid",
                params={"path": str(target), **exc.params},
            ) from exc


#: Parameter count above which ``tiny_test`` is refused (a real model does not train on the CPU).
TINY_TEST_MAX_PARAMS = 50_000_000

_FIELD_TYPES: dict[str, Any] = {
    "kind": str,
    "model": str,
    "dataset": str,
    "output_dir": str,
    "tokenizer": str,
    "job_id": str,
    "lora_rank": int,
    "lora_alpha": int,
    "lora_dropout": float,
    "lora_modules": tuple[str, ...],
    "train_embeddings": str,
    "stage": str,
    "learning_rate": float,
    "warmup_ratio": float,
    "lr_scheduler": str,
    "max_grad_norm": float,
    "epochs": float,
    "max_steps": int,
    "block_size": int,
    "batch_size": int,
    "grad_accum": int,
    "gradient_checkpointing": bool,
    "seed": int,
    "precision": str,
    "save_steps": int,
    "save_total_limit": int,
    "log_steps": int,
    "resume": bool,
    "devices": tuple[int, ...],
    "processes": int,
    "deepspeed": str,
    "max_examples": int,
    "tiny_test": bool,
    "template": str,
    "init_adapter": str,
    "version": int,
}

_CHOICES: dict[str, tuple[str, ...]] = {
    "kind": ("pretrain", "sft"),
    "train_embeddings": ("auto", "yes", "no"),
    "stage": ("lora", "embeddings"),
    "lr_scheduler": ("cosine", "linear", "constant"),
    "precision": ("auto", "fp32", "fp16", "bf16"),
    "template": ("chinese-alpaca",),
}

# Inclusive ranges of the numeric fields: wide enough for any real run, narrow enough to catch typos.
_RANGES: dict[str, tuple[float, float]] = {
    "lora_rank": (1, 1024),
    "lora_alpha": (1, 100_000),
    "lora_dropout": (0.0, 0.9),
    "learning_rate": (1e-8, 1.0),
    "warmup_ratio": (0.0, 0.5),
    "max_grad_norm": (0.0, 1e4),
    "epochs": (0.01, 100.0),
    "max_steps": (0, 10_000_000),
    "block_size": (8, 131_072),
    "batch_size": (1, 4096),
    "grad_accum": (1, 4096),
    "seed": (0, 2**32 - 1),
    "save_steps": (0, 10_000_000),
    "save_total_limit": (1, 1000),
    "log_steps": (1, 100_000),
    "processes": (1, 64),
    "max_examples": (0, 10**10),
    "version": (SPEC_VERSION, SPEC_VERSION),
}

_MAX_STRING = 4096


def _spec_error(name: str, reason: str) -> SpecError:
    return SpecError(
        f"job specification field {name!r}: {reason}",
        code="training_spec_invalid",
        params={"field": name, "reason": reason},
    )


def _coerce(name: str, value: object, kind: Any) -> Any:
    """``value`` as ``kind`` if it is one (ints are accepted for floats), else a SpecError."""
    if kind is bool:
        if isinstance(value, bool):
            return value
        raise _spec_error(name, "must be true or false")
    if kind is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise _spec_error(name, "must be a whole number")
    if kind is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
            return float(value)
        raise _spec_error(name, "must be a finite number")
    if kind is str:
        if isinstance(value, str):
            return value
        raise _spec_error(name, "must be a string")
    item = int if kind == tuple[int, ...] else str
    if not isinstance(value, list) or len(value) > 64:
        raise _spec_error(name, "must be a list (of at most 64 items)")
    return tuple(_coerce(name, v, item) for v in value)


def _validate(spec: JobSpec) -> None:
    for name, choices in _CHOICES.items():
        if getattr(spec, name) not in choices:
            raise _spec_error(name, f"must be one of {', '.join(choices)}")
    for name, (low, high) in _RANGES.items():
        value = getattr(spec, name)
        if not low <= value <= high:
            raise _spec_error(name, f"{value} is outside {low:g}..{high:g}")
    for name, kind in _FIELD_TYPES.items():
        if kind is str and len(getattr(spec, name)) > _MAX_STRING:
            raise _spec_error(name, f"longer than {_MAX_STRING} characters")
    for name in ("model", "dataset"):
        if not getattr(spec, name):
            raise _spec_error(name, "must name a path")
    unknown = sorted(set(spec.lora_modules) - set(LORA_MODULES))
    if unknown or not spec.lora_modules:
        raise _spec_error("lora_modules", f"must be some of {', '.join(LORA_MODULES)}")
    if any(d < 0 or d > 255 for d in spec.devices):
        raise _spec_error("devices", "CUDA device indices are 0..255")
    if spec.devices and spec.processes > len(spec.devices):
        raise _spec_error("processes", "more processes than listed devices")
    if spec.job_id and not all(c.isalnum() or c in "-_." for c in spec.job_id):
        raise _spec_error("job_id", "letters, digits, '-', '_' and '.' only")
    if spec.stage == "embeddings" and spec.train_embeddings == "no":
        raise _spec_error("stage", "stage 'embeddings' trains the embeddings; train_embeddings cannot be 'no'")


# -- progress --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrainProgress:
    """One ``progress`` line, checked: every figure a number (None where the script had none)."""

    step: int
    total: int
    loss: float | None
    lr: float | None
    tokens_per_s: float | None
    gpu_memory_mb: float | None
    eta_s: float | None
    epoch: float | None


def _number(value: object) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def parse_progress(event: TrainEvent) -> TrainProgress | None:
    """The :class:`TrainProgress` of a ``progress`` event, or None for any other or malformed event.

    Events come from another process (possibly another computer): a line missing its step, or with
    a non-number where a number belongs, is ignored rather than trusted.
    """
    if not isinstance(event, dict) or event.get("event") != "progress":
        return None
    step, total = _number(event.get("step")), _number(event.get("total"))
    if step is None or total is None or step < 0 or total < 0:
        return None
    return TrainProgress(
        step=int(step),
        total=int(total),
        loss=_number(event.get("loss")),
        lr=_number(event.get("lr")),
        tokens_per_s=_number(event.get("tokens_per_s")),
        gpu_memory_mb=_number(event.get("gpu_memory_mb")),
        eta_s=_number(event.get("eta_s")),
        epoch=_number(event.get("epoch")),
    )


# -- the target interface --------------------------------------------------------------------------


class RunState(enum.StrEnum):
    """Where a run is."""

    STARTING = "starting"
    RUNNING = "running"
    FINISHED = "finished"
    FAILED = "failed"
    STOPPED = "stopped"

    @property
    def ended(self) -> bool:
        """Whether the run is over (finished, failed or stopped)."""
        return self in (RunState.FINISHED, RunState.FAILED, RunState.STOPPED)


@dataclass(frozen=True)
class RunOutcome:
    """How a run ended.

    Attributes:
        state: FINISHED, FAILED or STOPPED.
        adapter: The adapter folder on the target (FINISHED), else None.
        last_step: The last step a progress line reported.
        error, code, params: Why it failed (``code`` for the GUI's translation).
        checkpoint: The checkpoint a stopped run saved (a rerun resumes from it), or None.
    """

    state: RunState
    adapter: str | None = None
    last_step: int = 0
    error: str | None = None
    code: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    checkpoint: str | None = None


@dataclass(frozen=True)
class LogChunk:
    """Text of a run's log from an offset, and the offset to ask for next."""

    text: str
    next_offset: int


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


class EventQueue:
    """A run's events, from the thread that follows the run to whoever polls or iterates.

    The end, once put, stays visible to every later :meth:`poll` and :meth:`events` call.
    Both handles (this computer's, and the SSH target's) keep their events in one.
    """

    def __init__(self, job_id: str) -> None:
        self._job_id = job_id
        self._queue: queue.Queue[Any] = queue.Queue()

    def put(self, event: TrainEvent) -> None:
        """Add one event."""
        self._queue.put(event)

    def end(self) -> None:
        """No event follows."""
        self._queue.put(_END)

    def poll(self) -> list[TrainEvent]:
        """The events since the last call (none after the end)."""
        taken: list[TrainEvent] = []
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return taken
            if item is _END:
                self._queue.put(_END)  # the end stays visible to later calls
                return taken
            taken.append(item)

    def events(self, timeout: float | None = None) -> Iterator[TrainEvent]:
        """The events as they arrive, until the end; TimeoutError after ``timeout`` s without one."""
        while True:
            try:
                item = self._queue.get(timeout=timeout)
            except queue.Empty as exc:
                raise TimeoutError(f"no event from run {self._job_id} within {timeout} s") from exc
            if item is _END:
                self._queue.put(_END)
                return
            yield item


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


def check_output_dir(folder: str, *, spec_file: str | os.PathLike[str] | None = None) -> Path:
    """Accept a run's output folder only under the app's data folder (issue 20, item 10).

    A spec file can come from anywhere (a download, a colleague, another host's disk), and a run
    writes its adapter, checkpoints and logs into ``output_dir``: a path such as ``/etc/...`` in a
    spec must not be honoured without the user's word. So a folder named only inside a spec is
    used when it lies under the data folder (where the registry puts runs, and where a resumed
    run's folder is); any other needs the user's choice (``--out DIR``, or a folder chosen in the
    window), which callers pass as ``output_chosen``. Links and ``..`` are resolved first.

    Args:
        folder: The spec's ``output_dir``.
        spec_file: The spec file it came from, for the message.

    Returns:
        The folder, resolved.

    Raises:
        SpecError: ``training_output_outside`` (or ``training_output_outside_spec`` when the
            file is known): the folder is outside the data folder.
    """
    from runtime.paths import app_paths

    data = Path(os.path.realpath(app_paths().data))
    target = Path(os.path.realpath(Path(folder).expanduser()))
    if target == data or data in target.parents:
        return target
    if spec_file is not None:
        raise SpecError(
            f"The job specification {spec_file} names the output folder {folder}, outside Alpaca Desk's data "
            f"folder {data}; a folder named inside a spec file is not used without your word. To write there, "
            f"name it on the command line (--out {folder}); or remove output_dir from the spec and the run's "
            f"own folder is used.",
            code="training_output_outside_spec",
            params={"path": str(spec_file), "folder": folder, "data": str(data)},
        )
    raise SpecError(
        f"The run's output folder {folder} is outside Alpaca Desk's data folder {data} and was not chosen "
        f"here; it is not used. Choose the folder yourself, or leave it empty and the run's own folder is used.",
        code="training_output_outside",
        params={"folder": folder, "data": str(data)},
    )


#: Seconds a stopped run gets to finish its step and save a checkpoint before it is ended by force
#: (a step of a 7B model with gradient accumulation takes seconds; the checkpoint of an adapter
#: with trained embeddings another few).
STOP_GRACE_S = 60.0
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


def interrupt_group(pid: int) -> bool:
    """Send the interrupt (SIGINT; CTRL_BREAK on Windows) to the process group that ``pid`` leads.

    :class:`runtime.jobs.JobProcess` escalates to SIGTERM after 3 s, too soon for a training step
    and its checkpoint, so a run's stop sends the first signal itself and escalates after
    :data:`STOP_GRACE_S`. Returns False when the group is gone.
    """
    try:
        if os.name == "posix":
            os.killpg(pid, signal.SIGINT)
        else:
            os.kill(pid, signal.CTRL_BREAK_EVENT)  # type: ignore[attr-defined]
    except (ProcessLookupError, PermissionError, OSError):
        return False
    return True


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
        from runtime.training import registry  # the registry imports this module for JobSpec

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
