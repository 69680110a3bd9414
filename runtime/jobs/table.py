"""The jobs and their argv: the table of jobs (:data:`JOBS`) and the pure builder of a job's command line."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any


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


def source_root() -> Path:
    """The folder that holds the ``runtime`` package (a checkout's root, or site-packages)."""
    return Path(__file__).resolve().parents[2]


def job_command(*, isolated: bool = False) -> list[str]:
    """The argv prefix that runs a job: the frozen executable's ``job`` subcommand, or this Python.

    ``isolated``: Python's isolated mode, which ignores ``PYTHONPATH`` and the working directory,
    so this package is put on ``sys.path`` by name. (A frozen build imports only from its bundle.)
    """
    if getattr(sys, "frozen", False):
        return [sys.executable, "job"]
    if isolated:
        root = str(source_root())
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
