"""A training run's job specification (:class:`JobSpec`): its fields, their checks, and where its output may go.

A spec is written as a JSON file: the local target passes that file to the script, a remote
target copies it to the GPU host, and both read it back with :meth:`JobSpec.from_json`, which
checks every field (a spec is input from elsewhere: a file the user edited, a host's disk).
Nothing here imports torch; the launcher, the registry and the scripts all use it.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from runtime.errors import AppError, UntrustedJsonError
from runtime.paths import write_atomic
from runtime.untrusted_json import parse_json

#: Version of the JSON job specification; a host refuses a spec of a version it does not know.
SPEC_VERSION = 1
#: A spec file larger than this is not a spec (it is read whole).
MAX_SPEC_BYTES = 256 * 1024
#: The projections LoRA adapts (paper section 5: attention and MLP).
LORA_MODULES = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")

JobKind = Literal["pretrain", "sft"]


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
        generation: Whose recipe the fields left empty (``None``) take: 1 (Chinese-LLaMA/Alpaca),
            2 (Chinese-LLaMA-2/Alpaca-2), or 0: read from the tokenizer's size
            (:func:`runtime.training.presets.generation_of`).
        lora_rank, lora_alpha, lora_dropout, lora_modules: The LoRA adapter.
        train_embeddings: ``auto`` (the embeddings and LM head are trained, ``modules_to_save``,
            when the tokenizer is larger than the model's vocabulary), ``yes`` or ``no``.
        stage: ``lora`` (LoRA, plus embeddings as above) or ``embeddings`` (the paper's stage 1 for
            7B: only the input embeddings train, the transformer frozen).
        learning_rate, warmup_ratio, weight_decay, lr_scheduler, max_grad_norm, epochs, max_steps:
            The optimizer schedule (AdamW); ``max_steps`` > 0 overrides ``epochs``.
        block_size: Tokens per training sequence (pretrain blocks; SFT truncation).
        batch_size, grad_accum: Sequences per device per step, and steps per optimizer update.
        gradient_checkpointing, seed, precision: As named; precision ``auto`` takes bf16 where the
            GPU has it, else fp16, and fp32 on the CPU.

        The fields typed ``X | None`` are the recipe's: ``None`` (or absent from the JSON) takes the
        value of the authors' scripts for the run's kind and generation
        (:func:`runtime.training.presets.resolve`), so a plain spec trains as they did.
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
        template: Kept for older spec files (``chinese-alpaca``); the SFT prompt is the training
            prompt of the generation's ``build_dataset.py`` (:func:`runtime.training.data.training_prompt`).
        init_adapter: An adapter folder to continue training (the second stage after an
            ``embeddings`` stage), or empty for a fresh LoRA adapter.
        validation_split_percentage: The share of the training sequences held out for validation, as
            the scripts' ``--validation_split_percentage`` (which they pass to ``train_test_split`` as
            ``test_size``: 0.001 holds out 0.1%, at least one sequence); 0: none. Chosen by index with
            ``seed``, so a resumed run holds out the same ones.
        validation_file: A dataset of the same kind to validate on instead of a held-out share
            (``--validation_file`` of the SFT scripts); empty: the share.
        eval_steps: Validation loss and perplexity every this many updates, and at the end (0: only
            at the end).
        load_in_kbits: 16 (the model as ``precision`` says), or 8 / 4: the frozen base loaded
            quantized by bitsandbytes (``--load_in_kbits`` of generation 2's scripts; CUDA only).
    """

    kind: JobKind
    model: str
    dataset: str
    output_dir: str = ""
    tokenizer: str = ""
    job_id: str = ""
    generation: int = 0
    lora_rank: int | None = None
    lora_alpha: int | None = None
    lora_dropout: float = 0.05
    lora_modules: tuple[str, ...] = LORA_MODULES
    train_embeddings: Literal["auto", "yes", "no"] | None = None
    stage: Literal["lora", "embeddings"] = "lora"
    learning_rate: float | None = None
    warmup_ratio: float | None = None
    weight_decay: float | None = None
    lr_scheduler: Literal["cosine", "linear", "constant"] = "cosine"
    max_grad_norm: float = 1.0
    epochs: float = 1.0
    max_steps: int = 0
    block_size: int | None = None
    batch_size: int = 1
    grad_accum: int = 1
    gradient_checkpointing: bool | None = None
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
    validation_split_percentage: float | None = None
    validation_file: str = ""
    eval_steps: int | None = None
    load_in_kbits: int = 16
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
    "generation": int,
    "lora_rank": int,
    "lora_alpha": int,
    "lora_dropout": float,
    "lora_modules": tuple[str, ...],
    "train_embeddings": str,
    "stage": str,
    "learning_rate": float,
    "warmup_ratio": float,
    "weight_decay": float,
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
    "validation_split_percentage": float,
    "validation_file": str,
    "eval_steps": int,
    "load_in_kbits": int,
    "version": int,
}

#: The recipe's fields: ``None`` takes the kind's and generation's value (presets.resolve).
RECIPE_FIELDS = (
    "lora_rank",
    "lora_alpha",
    "train_embeddings",
    "learning_rate",
    "warmup_ratio",
    "weight_decay",
    "block_size",
    "gradient_checkpointing",
    "validation_split_percentage",
    "eval_steps",
)
#: The loading widths of ``load_in_kbits``: 16 unquantized, 8 and 4 through bitsandbytes.
LOAD_KBITS = (16, 8, 4)

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
    "generation": (0, 2),
    "lora_rank": (1, 1024),
    "lora_alpha": (1, 100_000),
    "lora_dropout": (0.0, 0.9),
    "learning_rate": (1e-8, 1.0),
    "warmup_ratio": (0.0, 0.5),
    "weight_decay": (0.0, 1.0),
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
    "validation_split_percentage": (0.0, 0.5),
    "eval_steps": (0, 10_000_000),
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
    """``value`` as ``kind`` if it is one (ints are accepted for floats), else a SpecError.

    A recipe field may be null: the recipe's value then."""
    if value is None and name in RECIPE_FIELDS:
        return None
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
        if getattr(spec, name) not in choices and not (name in RECIPE_FIELDS and getattr(spec, name) is None):
            raise _spec_error(name, f"must be one of {', '.join(choices)}")
    for name, (low, high) in _RANGES.items():
        value = getattr(spec, name)
        if value is not None and not low <= value <= high:
            raise _spec_error(name, f"{value} is outside {low:g}..{high:g}")
    for name, kind in _FIELD_TYPES.items():
        if kind is str and len(getattr(spec, name) or "") > _MAX_STRING:
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
    if spec.load_in_kbits not in LOAD_KBITS:
        raise _spec_error("load_in_kbits", "must be 16, 8 or 4")
    if spec.stage == "embeddings" and spec.train_embeddings == "no":
        raise _spec_error("stage", "stage 'embeddings' trains the embeddings; train_embeddings cannot be 'no'")


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
