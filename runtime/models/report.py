"""The quantization report: size, bits per weight, perplexity and decode speed of a model's files.

Perplexity is computed the way llama.cpp's ``llama-perplexity`` does (``tools/perplexity``, its
default mode), so the figures compare with the tables of the Chinese-LLaMA papers and with that
tool on any GGUF:

- the text is tokenized once, as ``common_tokenize(ctx, text, add_special=true)`` does: BOS (and
  whatever else the vocabulary adds) only where the vocabulary says so (``add_bos_token``), and
  special-token text such as ``<|im_start|>`` read as plain text, not as the special token;
- it is cut into non-overlapping windows of ``n_ctx`` tokens; the last, partial window is dropped;
- each window is evaluated from an empty cache, its first token replaced by BOS only when the
  vocabulary adds BOS (a BPE model such as SmolLM2 does not, and its BOS is ``<|im_start|>``);
- the loss is taken over the second half of each window (positions ``n_ctx / 2`` to ``n_ctx - 2``
  predicting the next token), so every scored token sees at least ``n_ctx / 2`` tokens of context.

Perplexity is ``exp(mean negative log-likelihood)`` over all scored tokens.

The default text is the bundled Chinese sample (``assets/report/zh_sample.txt``). The work runs in
a job process (``report``): a model is loaded per file, and a long text can take minutes.
"""

from __future__ import annotations

import csv
import io
import math
import os
import stat
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from runtime.errors import AppError
from runtime.jobs import Progress, ProgressCallback
from runtime.models.loader import check_model, open_llama

#: The default context size of the report (llama-perplexity's default is 512 as well).
DEFAULT_REPORT_CTX = 512
#: Tokens generated to measure decode speed.
SPEED_TOKENS = 64
#: A text file larger than this is refused (the report reads it whole).
MAX_TEXT_BYTES = 64 * 1024 * 1024
#: Columns of the CSV export, in order.
CSV_COLUMNS = (
    "file",
    "quantization",
    "bytes",
    "bits_per_weight",
    "perplexity",
    "tokens_per_second",
    "n_ctx",
    "n_chunks",
)


class ReportError(AppError):
    """The report cannot be made (text too short, a file that does not load, ...)."""


@dataclass(frozen=True)
class ReportRow:
    """One file of the report."""

    file: str
    quantization: str
    bytes: int
    bits_per_weight: float
    perplexity: float
    tokens_per_second: float
    n_ctx: int
    n_chunks: int

    def to_dict(self) -> dict[str, Any]:
        """A plain dict for JSON."""
        return asdict(self)


def default_text_path() -> Path:
    """The bundled Chinese sample text the report uses unless given another."""
    from runtime.paths import assets_dir

    return assets_dir() / "report" / "zh_sample.txt"


def read_text(path: str | os.PathLike[str]) -> str:
    """A UTF-8 text file for the report, bounded in size.

    Raises:
        ReportError: Missing, unreadable, empty or larger than :data:`MAX_TEXT_BYTES`.
    """
    file = Path(path).expanduser()
    try:
        status = file.stat()
        if not stat.S_ISREG(status.st_mode):
            # A named pipe would block the read until something writes to it; a device may never end.
            raise ReportError(
                f"{file} is not a regular file. Choose a UTF-8 text file.",
                code="report_text_unreadable",
                params={"path": str(file)},
            )
        size = status.st_size
        if size > MAX_TEXT_BYTES:
            raise ReportError(
                f"{file} is {size / 2**20:.0f} MiB; the report takes texts up to {MAX_TEXT_BYTES // 2**20} MiB.",
                code="report_text_too_large",
                params={"path": str(file)},
            )
        text = file.read_bytes().decode("utf-8", errors="replace")
    except OSError as exc:
        raise ReportError(
            f"Cannot read the text {file}: {exc.strerror or exc}.",
            code="report_text_unreadable",
            params={"path": str(file)},
        ) from exc
    if not text.strip():
        raise ReportError(f"{file} is empty.", code="report_text_unreadable", params={"path": str(file)})
    return text


def _load(path: str | os.PathLike[str], *, n_ctx: int, threads: int, logits_all: bool) -> Any:
    # ``-t N`` sets llama-perplexity's batch threads too; llama-cpp-python would otherwise evaluate
    # every window on all cores, and on a busy machine each barrier then waits for a descheduled thread.
    count = threads or None
    return open_llama(path, n_ctx=n_ctx, n_batch=n_ctx, n_threads=count, n_threads_batch=count, logits_all=logits_all)


def vocabulary_adds_bos(llm: Any) -> bool:
    """Whether the loaded model's vocabulary adds BOS (``llama_vocab_get_add_bos``)."""
    import llama_cpp

    return bool(llama_cpp.llama_vocab_get_add_bos(llama_cpp.llama_model_get_vocab(llm.model)))


def perplexity(
    path: str | os.PathLike[str],
    text: str,
    *,
    n_ctx: int = DEFAULT_REPORT_CTX,
    threads: int = 0,
    max_chunks: int = 0,
    on_progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
    stage: str = "perplexity",
) -> tuple[float, int]:
    """Perplexity of the model at ``path`` on ``text``, llama.cpp's way (see the module docstring).

    Args:
        path: A GGUF model.
        text: The text.
        n_ctx: Window size in tokens (at least 16).
        threads: Threads (0: llama.cpp's default).
        max_chunks: Evaluate at most this many windows (0: all).
        on_progress: Called with windows done of total.
        cancel: Set to stop between windows.
        stage: The progress stage name.

    Returns:
        ``(perplexity, windows evaluated)``.

    Raises:
        ReportError: The text is shorter than two windows, or cancelled (code ``cancelled``).
    """
    llm = _load(path, n_ctx=n_ctx, threads=threads, logits_all=True)
    try:
        # add_bos=True is llama_tokenize's add_special: BOS only when the vocabulary adds it.
        tokens = llm.tokenize(text.encode("utf-8"), add_bos=True, special=False)
        n_chunks = len(tokens) // n_ctx
        if max_chunks:
            n_chunks = min(n_chunks, max_chunks)
        if n_ctx < 16 or len(tokens) < 2 * n_ctx:
            raise ReportError(
                f"The text has {len(tokens):,} tokens for this model; the perplexity needs at least "
                f"{2 * n_ctx:,} (two windows of {n_ctx}). Use a longer text or a smaller context.",
                code="report_text_too_short",
                params={"tokens": len(tokens), "needed": 2 * n_ctx},
            )
        bos = llm.token_bos() if vocabulary_adds_bos(llm) else -1
        first = n_ctx // 2
        nll = 0.0
        count = 0
        for chunk in range(n_chunks):
            if cancel is not None and cancel.is_set():
                raise ReportError("The report was cancelled.", code="cancelled")
            window = tokens[chunk * n_ctx : (chunk + 1) * n_ctx]
            if bos >= 0:
                window = [bos, *window[1:]]
            llm.reset()
            llm.eval(window)
            logits = np.asarray(llm.scores[first : n_ctx - 1], dtype=np.float64)
            targets = np.asarray(tokens[chunk * n_ctx + first + 1 : (chunk + 1) * n_ctx])
            peak = logits.max(axis=1)
            log_z = peak + np.log(np.exp(logits - peak[:, None]).sum(axis=1))
            nll += float((log_z - logits[np.arange(len(targets)), targets]).sum())
            count += len(targets)
            if on_progress is not None:
                on_progress(Progress(chunk + 1, n_chunks, stage))
        return math.exp(nll / count), n_chunks
    finally:
        llm.close()


def decode_speed(path: str | os.PathLike[str], *, n_tokens: int = SPEED_TOKENS, threads: int = 0) -> float:
    """Tokens per second generating ``n_tokens`` tokens greedily after a short prompt, on this machine."""
    llm = _load(path, n_ctx=max(128, n_tokens + 32), threads=threads, logits_all=False)
    try:
        tokens = llm.tokenize("从前有一座山，".encode(), add_bos=True)
        llm.eval(tokens)
        started = time.perf_counter()
        produced = 0
        for _ in range(n_tokens):
            token = llm.sample(temp=0.0)
            llm.eval([token])
            produced += 1
        elapsed = time.perf_counter() - started
        return produced / elapsed if elapsed > 0 else 0.0
    finally:
        llm.close()


def file_figures(path: str | os.PathLike[str]) -> tuple[str, int, float]:
    """``(quantization, file bytes, bits per weight)``: bits of tensor data per parameter, as llama.cpp counts."""
    import gguf

    info = check_model(path)
    reader = gguf.GGUFReader(info.path)
    n_params = sum(int(t.n_elements) for t in reader.tensors)
    data_bytes = sum(int(t.n_bytes) for t in reader.tensors)
    return info.quantization, info.size_bytes, data_bytes * 8 / max(1, n_params)


def make_report(
    files: Sequence[str | os.PathLike[str]],
    *,
    text_path: str | os.PathLike[str] | None = None,
    n_ctx: int = DEFAULT_REPORT_CTX,
    threads: int = 0,
    max_chunks: int = 0,
    speed_tokens: int = SPEED_TOKENS,
    on_progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> dict[str, Any]:
    """The report for several files of one model: a row per file, as the report table shows it.

    Returns:
        ``{"text", "n_ctx", "rows": [ReportRow.to_dict(), ...], "seconds"}``.

    Raises:
        ReportError: See :func:`perplexity` and :func:`read_text`.
        runtime.errors.ModelLoadError: A file is not a usable GGUF model.
    """
    started = time.monotonic()
    text_file = Path(text_path) if text_path else default_text_path()
    text = read_text(text_file)
    # Every file is checked before the first is measured: a refused third file should not cost
    # the minutes of the first two.
    for file in files:
        check_model(file)
    rows = []
    for index, file in enumerate(files, start=1):
        stage = f"perplexity {index}/{len(files)}: {Path(file).name}"
        quantization, size, bpw = file_figures(file)
        ppl, chunks = perplexity(
            file,
            text,
            n_ctx=n_ctx,
            threads=threads,
            max_chunks=max_chunks,
            on_progress=on_progress,
            cancel=cancel,
            stage=stage,
        )
        if on_progress is not None:
            on_progress(Progress(0, 0, f"speed {index}/{len(files)}: {Path(file).name}"))
        speed = decode_speed(file, n_tokens=speed_tokens, threads=threads) if speed_tokens > 0 else 0.0
        rows.append(
            ReportRow(
                file=str(file),
                quantization=quantization,
                bytes=size,
                bits_per_weight=round(bpw, 4),
                perplexity=round(ppl, 4),
                tokens_per_second=round(speed, 2),
                n_ctx=n_ctx,
                n_chunks=chunks,
            )
        )
    return {
        "text": str(text_file),
        "n_ctx": n_ctx,
        "rows": [row.to_dict() for row in rows],
        "seconds": round(time.monotonic() - started, 3),
    }


def report_csv(rows: Sequence[dict[str, Any]]) -> str:
    """The report's rows as CSV text (columns :data:`CSV_COLUMNS`, file names without folders)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        values = {**row, "file": Path(str(row.get("file", ""))).name}
        writer.writerow([values.get(column, "") for column in CSV_COLUMNS])
    return buffer.getvalue()
