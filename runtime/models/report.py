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
  predicting the next token), so every scored token sees at least ``n_ctx / 2`` tokens of context;
  only those positions' logits are computed, and their log-softmax sums float exponentials in double;
- flash attention is on, as llama.cpp's "auto" (llama-perplexity's default) turns it on for the CPU,
  and the threads are one per core, batch and generation alike (llama-perplexity's ``-t`` default).

On SmolLM2-135M-Instruct Q4_1 with the Apache licence at ``n_ctx`` 512 the report gives 15.9411,
llama-perplexity 15.9411 (``bench/report_real.py`` compares every quantization type).

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

from runtime.errors import AppError, ModelLoadError
from runtime.jobs import Progress, ProgressCallback
from runtime.models.info import ModelInfo
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


def _threads(threads: int) -> int:
    # llama-perplexity's and llama-bench's default is llama.cpp's count of physical cores, for the
    # batch threads too; llama-cpp-python's own would generate on half the logical cores.
    if threads:
        return threads
    from runtime.models.machine import default_threads

    return default_threads()


def _load(model: str | os.PathLike[str] | ModelInfo, *, n_ctx: int, threads: int, flash_attn: bool) -> Any:
    # ``-t N`` sets llama-perplexity's batch threads too; llama-cpp-python would otherwise evaluate
    # every window on all cores, and on a busy machine each barrier then waits for a descheduled thread.
    count = _threads(threads)
    return open_llama(model, n_ctx=n_ctx, n_batch=n_ctx, n_threads=count, n_threads_batch=count, flash_attn=flash_attn)


def _load_for_perplexity(model: str | os.PathLike[str] | ModelInfo, *, n_ctx: int, threads: int) -> Any:
    # llama-perplexity leaves flash attention to llama.cpp ("auto"), which turns it on wherever the
    # backend has the kernel, the CPU included. Its sums round differently from the plain path's:
    # without it SmolLM2's perplexity on the Apache licence was 0.16% off llama-perplexity's, with
    # it equal to four decimals. llama-cpp-python offers on or off only: on, and off for a
    # llama.cpp that refuses it.
    try:
        return _load(model, n_ctx=n_ctx, threads=threads, flash_attn=True)
    except ModelLoadError:
        return _load(model, n_ctx=n_ctx, threads=threads, flash_attn=False)


def vocabulary_adds_bos(llm: Any) -> bool:
    """Whether the loaded model's vocabulary adds BOS (``llama_vocab_get_add_bos``)."""
    import llama_cpp

    return bool(llama_cpp.llama_vocab_get_add_bos(llama_cpp.llama_model_get_vocab(llm.model)))


def perplexity(
    model: str | os.PathLike[str] | ModelInfo,
    text: str,
    *,
    n_ctx: int = DEFAULT_REPORT_CTX,
    threads: int = 0,
    max_chunks: int = 0,
    on_progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
    stage: str = "perplexity",
) -> tuple[float, int]:
    """Perplexity of ``model`` on ``text``, llama.cpp's way (see the module docstring).

    Args:
        model: A GGUF model, or the :class:`ModelInfo` that ``check_model`` returned for it.
        text: The text.
        n_ctx: Window size in tokens (at least 16).
        threads: Threads (0: one per core, as llama-perplexity).
        max_chunks: Evaluate at most this many windows (0: all).
        on_progress: Called with windows done of total.
        cancel: Set to stop between windows.
        stage: The progress stage name.

    Returns:
        ``(perplexity, windows evaluated)``.

    Raises:
        ReportError: The text is shorter than two windows, or cancelled (code ``cancelled``).
    """
    llm = _load_for_perplexity(model, n_ctx=n_ctx, threads=threads)
    try:
        return _perplexity_of(
            llm, text, n_ctx=n_ctx, max_chunks=max_chunks, on_progress=on_progress, cancel=cancel, stage=stage
        )
    finally:
        llm.close()


def _perplexity_of(
    llm: Any,
    text: str,
    *,
    n_ctx: int,
    max_chunks: int,
    on_progress: ProgressCallback | None,
    cancel: threading.Event | None,
    stage: str,
) -> tuple[float, int]:
    """:func:`perplexity` with the model loaded (a context of ``n_ctx``)."""
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
    nll = 0.0
    count = 0
    with _WindowScorer(llm, n_ctx) as scorer:
        for chunk in range(n_chunks):
            if cancel is not None and cancel.is_set():
                raise ReportError("The report was cancelled.", code="cancelled")
            window = tokens[chunk * n_ctx : (chunk + 1) * n_ctx]
            if bos >= 0:
                window = [bos, *window[1:]]
            window_nll, scored = scorer.second_half_nll(window)
            nll += window_nll
            count += scored
            if on_progress is not None:
                on_progress(Progress(chunk + 1, n_chunks, stage))
    return math.exp(nll / count), n_chunks


class _WindowScorer:
    """Evaluates one window from an empty cache and scores its second half, as llama-perplexity does.

    Only positions ``n_ctx / 2`` onwards ask for logits (llama-perplexity's ``pos >= first``):
    the output matrix of the first half is never computed, nor copied out. Computing every
    position's (``logits_all``) cost SmolLM2 about a tenth more time than llama-perplexity, its
    49,152-token output matrix being a fifth of the model's multiplications.
    """

    #: Rows of logits turned into probabilities at a time (bounds the float temporaries).
    ROWS = 128

    def __init__(self, llm: Any, n_ctx: int) -> None:
        import llama_cpp

        self._llm = llm
        self._n_ctx = n_ctx
        self._first = n_ctx // 2
        self._n_vocab = llama_cpp.llama_vocab_n_tokens(llama_cpp.llama_model_get_vocab(llm.model))
        self._batch = llama_cpp.llama_batch_init(n_ctx, 0, 1)
        batch = self._batch
        # Positions, sequence and which logits: the same for every window.
        for i in range(n_ctx):
            batch.pos[i] = i
            batch.n_seq_id[i] = 1
            batch.seq_id[i][0] = 0
            batch.logits[i] = 1 if i >= self._first else 0
        batch.n_tokens = n_ctx
        self._batch_tokens = np.ctypeslib.as_array(batch.token, shape=(n_ctx,))

    def __enter__(self) -> _WindowScorer:
        return self

    def __exit__(self, *_exc: object) -> None:
        import llama_cpp

        llama_cpp.llama_batch_free(self._batch)

    def second_half_nll(self, window: Sequence[int]) -> tuple[float, int]:
        """``(summed negative log-likelihood, tokens scored)``: positions ``n_ctx / 2`` to ``n_ctx - 2``
        each predicting the next token of ``window`` (``n_ctx`` tokens)."""
        import llama_cpp

        ctx = self._llm.ctx
        llama_cpp.llama_memory_clear(llama_cpp.llama_get_memory(ctx), True)
        self._batch_tokens[:] = window
        if llama_cpp.llama_decode(ctx, self._batch) != 0:
            raise ReportError(
                "llama.cpp could not evaluate a window of the text for the report (out of memory?). Close other "
                "programs or choose a smaller context, and run the report again.",
                code="report_decode_failed",
            )
        n_scored = self._n_ctx - 1 - self._first
        logits = np.ctypeslib.as_array(
            llama_cpp.llama_get_logits(ctx), shape=(self._n_ctx - self._first, self._n_vocab)
        )
        targets = np.asarray(window[self._first + 1 :], dtype=np.intp)
        nll = 0.0
        for start in range(0, n_scored, self.ROWS):
            rows = logits[start : min(start + self.ROWS, n_scored)]
            picked = rows[np.arange(len(rows)), targets[start : start + len(rows)]]
            # llama-perplexity's log_softmax: float exponentials of (logit - max), summed in double.
            peak = rows.max(axis=1)
            sums = np.exp(rows - peak[:, None]).sum(axis=1, dtype=np.float64)
            nll += float((np.log(sums) + peak - picked).sum())
        return nll, n_scored


def decode_speed(model: str | os.PathLike[str] | ModelInfo, *, n_tokens: int = SPEED_TOKENS, threads: int = 0) -> float:
    """Tokens per second generating ``n_tokens`` tokens greedily after a short prompt, on this machine."""
    # Flash attention off, as llama-bench and the chat on the CPU have it.
    llm = _load(model, n_ctx=max(128, n_tokens + 32), threads=threads, flash_attn=False)
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


def bits_per_weight(llm: Any) -> float:
    """Bits of tensor data per parameter of a loaded model, as llama.cpp counts them (its "BPW")."""
    import llama_cpp

    return llama_cpp.llama_model_size(llm.model) * 8 / max(1, llama_cpp.llama_model_n_params(llm.model))


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
    # the minutes of the first two. The checks read the whole header (SmolLM2's 49,152 tokens and
    # as many merges take seconds), so each file is checked once and its facts handed on.
    checked = [check_model(file) for file in files]
    rows = []
    for index, (file, info) in enumerate(zip(files, checked, strict=True), start=1):
        stage = f"perplexity {index}/{len(files)}: {Path(file).name}"
        llm = _load_for_perplexity(info, n_ctx=n_ctx, threads=threads)
        try:
            bpw = bits_per_weight(llm)
            ppl, chunks = _perplexity_of(
                llm, text, n_ctx=n_ctx, max_chunks=max_chunks, on_progress=on_progress, cancel=cancel, stage=stage
            )
        finally:
            llm.close()
        if on_progress is not None:
            on_progress(Progress(0, 0, f"speed {index}/{len(files)}: {Path(file).name}"))
        speed = decode_speed(info, n_tokens=speed_tokens, threads=threads) if speed_tokens > 0 else 0.0
        rows.append(
            ReportRow(
                file=str(file),
                quantization=info.quantization,
                bytes=info.size_bytes,
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
