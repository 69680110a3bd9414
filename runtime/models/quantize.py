"""Quantizing a GGUF file with llama.cpp's own quantizer, and how large each type's file will be.

The work is ``llama_model_quantize`` from llama-cpp-python: the same code as llama.cpp's
``llama-quantize`` program, so the file is the one that program writes. It runs in a job process
(``quantize``, :mod:`runtime.models.model_jobs`): the native call cannot be interrupted, and a
cancelled job simply ends its process. Progress comes from llama.cpp's log, which prints one line
per tensor (``[  12/ 291] blk.1.attn_q.weight - ...``); the output is written under a temporary
name beside the destination and renamed when complete.

Size estimates (:func:`estimate_quantized_bytes`) follow llama.cpp's choice of type per tensor
(``llama_tensor_get_type`` in ``src/llama-quant.cpp``) for the types offered here: the output
matrix gets Q6_K (Q8_0 when its rows are not a multiple of 256), the ``_M`` mixtures give some
``attn_v`` and ``ffn_down`` matrices more bits, and a tensor whose rows do not divide into the
type's blocks falls back to a 32-block type. Norm vectors stay float32.
"""

from __future__ import annotations

import ctypes
import os
import re
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runtime.errors import AppError
from runtime.jobs import Progress, ProgressCallback, remove_stale_scratch, scratch_path
from runtime.models import native_log
from runtime.models.loader import check_model


class QuantizeError(AppError):
    """A quantization failed or cannot start."""


@dataclass(frozen=True)
class QuantType:
    """A quantization type offered to the user: its ``llama_ftype`` and the main ggml type."""

    name: str
    ftype: int
    main: str  # ggml type name of most matrices
    label: str  # a few words on what it is


#: The types offered, best quality first (llama.h's ``LLAMA_FTYPE_MOSTLY_*`` numbers).
QUANT_TYPES: dict[str, QuantType] = {
    t.name: t
    for t in (
        QuantType("q8_0", 7, "Q8_0", "8-bit, nearly lossless"),
        QuantType("q6_k", 18, "Q6_K", "6-bit k-quant"),
        QuantType("q5_k_m", 17, "Q5_K", "5-bit k-quant, mixed"),
        QuantType("q5_0", 8, "Q5_0", "5-bit, legacy"),
        QuantType("q4_k_m", 15, "Q4_K", "4-bit k-quant, mixed (the usual choice)"),
        QuantType("q4_0", 2, "Q4_0", "4-bit, legacy"),
        QuantType("q3_k_m", 12, "Q3_K", "3-bit k-quant, mixed"),
        QuantType("q2_k", 10, "Q2_K", "2-bit k-quant, much worse"),
    )
}

# ggml types: (block size, bytes per block) - the same table as gguf.GGML_QUANT_SIZES, by name.
_BLOCKS = {
    "F32": (1, 4),
    "F16": (1, 2),
    "BF16": (1, 2),
    "Q8_0": (32, 34),
    "Q6_K": (256, 210),
    "Q5_K": (256, 176),
    "Q5_0": (32, 22),
    "Q5_1": (32, 24),
    "Q4_K": (256, 144),
    "Q4_0": (32, 18),
    "Q3_K": (256, 110),
    "Q2_K": (256, 84),
}
_FALLBACK = {"Q2_K": "Q4_0", "Q3_K": "Q4_0", "Q4_K": "Q5_0", "Q5_K": "Q5_1", "Q6_K": "Q8_0"}
_PROGRESS_LINE = re.compile(r"\[\s*(\d+)/\s*(\d+)\]\s+(\S+)")
# Alignment padding per tensor (GGUF aligns each tensor's data to 32 bytes).
_ALIGNMENT = 32


def quant_type(name: str) -> QuantType:
    """The :class:`QuantType` called ``name`` (case-insensitive).

    Raises:
        QuantizeError: Not one of :data:`QUANT_TYPES`.
    """
    found = QUANT_TYPES.get(name.lower())
    if found is None:
        raise QuantizeError(
            f"Unknown quantization type {name!r}; choose one of {', '.join(QUANT_TYPES)}.",
            code="quantize_bad_type",
            params={"type": name},
        )
    return found


def _more_bits(i_layer: int, n_layers: int) -> bool:
    # llama.cpp's use_more_bits: the first and last eighth of the layers and every third between.
    return i_layer < n_layers // 8 or i_layer >= 7 * n_layers // 8 or (i_layer - n_layers // 8) % 3 == 2


def tensor_type(name: str, shape: Sequence[int], qtype: QuantType, *, n_layers: int, n_gqa: int = 1) -> str:
    """The ggml type llama.cpp gives one tensor (GGUF ``name``, numpy ``shape``) when quantizing to ``qtype``."""
    if len(shape) < 2 or not name.endswith(".weight") or "norm" in name:
        return "F32"
    chosen = qtype.main
    layer_match = re.match(r"blk\.(\d+)\.", name)
    layer = int(layer_match.group(1)) if layer_match else 0
    q = qtype.name
    if name == "output.weight":
        chosen = "Q8_0" if q == "q8_0" or shape[-1] % 256 else "Q6_K"
    elif name.endswith("attn_v.weight"):
        if q == "q2_k":
            chosen = "Q4_K" if n_gqa >= 4 else "Q3_K"
        elif q == "q3_k_m":
            chosen = "Q5_K" if layer < 2 else "Q4_K"
        elif q in ("q4_k_m", "q5_k_m") and _more_bits(layer, n_layers):
            chosen = "Q6_K"
    elif name.endswith("ffn_down.weight"):
        if q == "q2_k":
            chosen = "Q3_K"
        elif q == "q3_k_m":
            chosen = "Q5_K" if layer < n_layers // 16 else "Q3_K"
        elif q in ("q4_k_m", "q5_k_m") and _more_bits(layer, n_layers):
            chosen = "Q6_K"
    elif name.endswith("attn_output.weight"):
        if q == "q2_k":
            chosen = "Q3_K"
        elif q == "q3_k_m":
            chosen = "Q4_K"
    if shape[-1] % _BLOCKS[chosen][0]:
        chosen = _FALLBACK.get(chosen, chosen)
        if shape[-1] % _BLOCKS[chosen][0]:
            chosen = "F16"
    return chosen


def tensor_bytes(shape: Sequence[int], ggml_type: str) -> int:
    """Bytes of a tensor of numpy ``shape`` stored as ``ggml_type``."""
    block, size = _BLOCKS[ggml_type]
    n = 1
    for dim in shape:
        n *= int(dim)
    return n // block * size


def estimate_quantized_bytes(
    tensors: Iterable[tuple[str, Sequence[int]]], qtype: str, *, n_layers: int, header_bytes: int, n_gqa: int = 1
) -> int:
    """The file size llama.cpp's quantizer will write for these tensors (GGUF names, numpy shapes).

    ``header_bytes``: the GGUF header with its metadata and tensor list (mostly the vocabulary),
    which quantizing keeps as it is.
    """
    chosen = quant_type(qtype)
    total = sum(
        tensor_bytes(shape, tensor_type(name, shape, chosen, n_layers=n_layers, n_gqa=n_gqa)) + _ALIGNMENT // 2
        for name, shape in tensors
    )
    return total + header_bytes


@dataclass(frozen=True)
class GgufShape:
    """What the estimate needs from a GGUF file: its tensors (GGUF names, numpy shapes) and a few facts."""

    tensors: tuple[tuple[str, tuple[int, ...]], ...]
    n_layers: int
    n_vocab: int
    n_gqa: int
    n_params: int
    header_bytes: int


def gguf_shape(path: str | os.PathLike[str]) -> GgufShape:
    """Read a GGUF file's tensor shapes (checked first, as a load checks it)."""
    from runtime.models.info import check_model_file, model_info_from_header, open_header

    file = check_model_file(path)
    header = open_header(file)
    info = model_info_from_header(file, header)
    tensors = tuple((t.name, tuple(reversed(t.shape))) for t in header.tensors)
    heads = header.fields.get("llama.attention.head_count")
    kv_heads = header.fields.get("llama.attention.head_count_kv")
    n_gqa = 1
    if heads is not None and kv_heads is not None and not heads.is_array and not kv_heads.is_array:
        try:
            n_gqa = max(1, int(heads.value) // max(1, int(kv_heads.value)))
        except (TypeError, ValueError):  # a string where a count belongs: llama.cpp refuses the file itself
            n_gqa = 1
    n_params = sum(t.n_elements for t in header.tensors)
    layers = 1 + max((int(m.group(1)) for n, _s in tensors if (m := re.match(r"blk\.(\d+)\.", n))), default=-1)
    return GgufShape(tensors, layers, int(info.vocab_size or 0), n_gqa, n_params, header.data_offset)


class _QuantizeLog:
    """llama.cpp's log during a quantization: per-tensor progress, and the last lines for an error."""

    def __init__(self, stage: str, on_progress: ProgressCallback | None) -> None:
        self._stage = stage
        self._on_progress = on_progress
        self._partial = ""
        self.lines: list[str] = []

    def feed(self, text: str) -> None:
        self._partial += text
        *lines, self._partial = self._partial.split("\n")
        for line in lines:
            self._line(line)
        # The per-tensor line is logged in two calls ("[  3/ 21] name - ..., " then "size = ...\n"):
        # report progress as soon as its first half arrives.
        match = _PROGRESS_LINE.search(self._partial)
        if match and self._on_progress is not None:
            self._on_progress(Progress(int(match.group(1)) - 1, int(match.group(2)), self._stage))

    def _line(self, line: str) -> None:
        if line.strip():
            self.lines = [*self.lines[-39:], line]
        match = _PROGRESS_LINE.search(line)
        if match and self._on_progress is not None:
            self._on_progress(Progress(int(match.group(1)), int(match.group(2)), self._stage))


_LOG_LOCK = threading.Lock()


def _with_log(log: _QuantizeLog, work: Callable[[], int]) -> int:
    """Run ``work`` with llama.cpp's log going to ``log`` (one quantization at a time per process)."""
    import llama_cpp

    # The process's native log keeps the lines too: an assertion that fails mid-way is reported
    # with the log before it, as the host reports one.
    native = native_log.install()

    def on_log(level: int, text: bytes | None, _user_data: Any) -> None:
        log.feed((text or b"").decode("utf-8", errors="replace"))
        native.on_log(level, text)

    callback = llama_cpp.llama_log_callback(on_log)
    with _LOG_LOCK:
        llama_cpp.llama_log_set(callback, ctypes.c_void_p(0))
        try:
            return work()
        finally:
            # Back to the native log before ``callback`` (local to this frame) can be freed.
            native.restore_log()


_SIZE_LINE = re.compile(r"(model|quant) size\s*=\s*([0-9.]+) MiB \(([0-9.]+) BPW\)")


@dataclass(frozen=True)
class DryRun:
    """What llama.cpp's quantizer would write, from a dry run (nothing quantized, nothing written)."""

    n_tensors: int
    source_data_bytes: int
    data_bytes: int
    bits_per_weight: float
    estimate: int  # the output file's size: the source's header plus the quantized tensor data


def dry_run(src: str | os.PathLike[str], qtype: str, *, threads: int = 0) -> DryRun:
    """Ask llama.cpp's quantizer how large ``src`` quantized to ``qtype`` will be (a second or so).

    Its own per-tensor type choice gives the sizes, so the estimate is exact to the MiB rounding of
    its log (a few kB). Reading the same facts with gguf-py's reader takes far longer on a large
    vocabulary (it builds an object per token).

    Raises:
        QuantizeError: llama.cpp refused the file.
    """
    import llama_cpp

    chosen = quant_type(qtype)
    source = Path(check_model(src).path)
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = chosen.ftype
    params.nthread = max(0, int(threads))
    params.dry_run = True
    log = _QuantizeLog("dry run", None)
    status = _with_log(
        log,
        lambda: int(
            llama_cpp.llama_model_quantize(
                str(source).encode(), str(source.with_name(source.name + ".dry-run")).encode(), ctypes.byref(params)
            )
        ),
    )
    sizes = {m.group(1): (float(m.group(2)), float(m.group(3))) for m in map(_SIZE_LINE.search, log.lines) if m}
    counts = [int(m.group(2)) for m in map(_PROGRESS_LINE.search, log.lines) if m]
    if status != 0 or "quant" not in sizes or "model" not in sizes:
        tail = "\n".join(log.lines[-6:])
        raise QuantizeError(
            f"llama.cpp could not quantize {source.name} to {chosen.name}.\n{tail}",
            code="quantize_failed",
            params={"path": str(source), "type": chosen.name, "log": tail},
        )
    source_data = int(sizes["model"][0] * 2**20)
    data = int(sizes["quant"][0] * 2**20)
    header = max(0, source.stat().st_size - source_data)
    return DryRun(max(counts, default=0), source_data, data, sizes["quant"][1], header + data)


def _raise_disk_full(target: Path, tmp: Path, estimate: int, source: Path, chosen: QuantType) -> None:
    """Raise ``quantize_disk_full`` when the failed write ran out of space (else return).

    llama.cpp's quantizer reports a failed write as a bare stream error; the disk itself says
    whether it filled: the part written plus what is still free is less than the output needs.
    (The real free space, not :func:`runtime.models.convert.free_bytes`, which a test may override.)
    """
    import shutil

    try:
        written = tmp.stat().st_size if tmp.is_file() else 0
        free = shutil.disk_usage(target.parent).free
    except OSError:
        return
    if written + free >= estimate:
        return
    from runtime.models.convert import format_size

    # What the user has to work with once the unfinished file has given its space back.
    tmp.unlink(missing_ok=True)
    try:
        free = shutil.disk_usage(target.parent).free
    except OSError:
        pass

    raise QuantizeError(
        f"The disk that holds {target.parent} filled up while {source.name} was quantized to {chosen.name}: "
        f"{format_size(free)} is free, and the file needs about {format_size(estimate)}. Free some space or "
        "choose another folder, then quantize again; the unfinished file was removed.",
        code="quantize_disk_full",
        params={
            "folder": str(target.parent),
            "name": source.name,
            "type": chosen.name,
            "free_size": format_size(free),
            "needed_size": format_size(estimate),
        },
    )


def quantize_gguf(
    src: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    qtype: str,
    threads: int = 0,
    on_progress: ProgressCallback | None = None,
    on_scratch: Callable[[Path], None] | None = None,
) -> dict[str, Any]:
    """Quantize ``src`` (an F32/F16/BF16 GGUF) to ``out`` with llama.cpp's quantizer.

    Args:
        src: The GGUF file to quantize.
        out: The file to write (under a temporary name beside it first).
        qtype: One of :data:`QUANT_TYPES`.
        threads: Quantization threads (0: all cores).
        on_progress: Called with stage ``quantizing q4_0`` and tensors done of total, then ``done``.
        on_scratch: Called with the temporary file, so a caller can remove it if the process dies.

    Returns:
        ``{"path", "type", "bytes", "estimate", "seconds", "bits_per_weight"}`` (the estimate from
        :func:`dry_run`, bits per weight as llama.cpp counts them: tensor data over parameters).

    Raises:
        QuantizeError: Unknown type, not enough disk space, or llama.cpp refused the file.
        runtime.errors.ModelLoadError: ``src`` is not a usable GGUF file.
    """
    import llama_cpp

    from runtime.models.convert import check_free_space

    chosen = quant_type(qtype)
    # The chat's checks, before llama.cpp's quantizer reads the file: it trusts the metadata as
    # the loader does (too many blocks abort it), and an unusable source gives an unusable output.
    source = Path(check_model(src).path)
    planned = dry_run(source, chosen.name, threads=threads)
    estimate = planned.estimate
    target = Path(out).expanduser()
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_scratch(target.parent, names_ending=".gguf")  # before the space check: it frees space
    check_free_space(target.parent, estimate)
    tmp = scratch_path(target)
    if on_scratch is not None:
        on_scratch(tmp)
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = chosen.ftype
    params.nthread = max(0, int(threads))
    stage = f"quantizing {chosen.name}"
    log = _QuantizeLog(stage, on_progress)
    started = time.monotonic()
    if on_progress is not None:
        on_progress(Progress(0, planned.n_tensors, stage))
    try:
        status = _with_log(
            log,
            lambda: int(llama_cpp.llama_model_quantize(str(source).encode(), str(tmp).encode(), ctypes.byref(params))),
        )
        if status != 0 or not tmp.is_file():
            _raise_disk_full(target, tmp, estimate, source, chosen)
            tail = "\n".join(log.lines[-6:])
            raise QuantizeError(
                f"llama.cpp could not quantize {source.name} to {chosen.name}.\n{tail}",
                code="quantize_failed",
                params={"path": str(source), "type": chosen.name, "log": tail},
            )
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    size = target.stat().st_size
    if on_progress is not None:
        on_progress(Progress(planned.n_tensors, planned.n_tensors, "done"))
    return {
        "path": str(target),
        "type": chosen.name,
        "bytes": size,
        "estimate": estimate,
        "seconds": round(time.monotonic() - started, 3),
        "bits_per_weight": round(planned.bits_per_weight, 4),
    }
