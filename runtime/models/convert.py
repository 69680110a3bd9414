"""Merged LLaMA weights -> GGUF: the conversion, tensor by tensor, and its size and space checks.

:func:`convert_checkpoint` writes the GGUF file llama.cpp loads from a checkpoint folder that
:func:`runtime.models.checkpoint.inspect_checkpoint` found convertible, reading each tensor through
:class:`runtime.models.tensors.TensorReader`. The output is written with gguf-py's ``GGUFWriter``
header first, then one tensor at a time, so the peak is about the largest tensor in float32, not
the model. The job process that runs this starts with Python's isolated mode (see
:mod:`runtime.jobs`), so nothing in the folder can be imported.

This module is the public entry point of the conversion: it also offers the names of
:mod:`runtime.models.checkpoint` and :mod:`runtime.models.tensors` that callers use
(:func:`inspect_checkpoint`, :class:`Checkpoint`, :class:`ConversionError`, ...).

Facts carried over from llama.cpp's ``convert_hf_to_gguf.py`` (the code is our own): Hugging Face
checkpoints store ``q_proj``/``k_proj`` rows in the rotate-half order, which llama.cpp's RoPE needs
interleaved (:func:`unpermute_hf_qk`); added tokens get score -1000; 1-D tensors stay float32.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from runtime.jobs import Progress, ProgressCallback, remove_stale_scratch, scratch_path
from runtime.models.checkpoint import (
    _SKIPPED,
    KNOWN_VOCABS,
    LLAMA_ARCHITECTURE,
    MAX_CONFIG_INT,
    MAX_JSON_BYTES,
    Checkpoint,
    Problem,
    _tokenizer,
    inspect_checkpoint,
)
from runtime.models.tensors import MAX_SAFETENSORS_HEADER, ConversionError, TensorEntry, TensorReader

__all__ = [
    "CHAT_TEMPLATES",
    "KNOWN_VOCABS",
    "LLAMA_ARCHITECTURE",
    "MAX_CONFIG_INT",
    "MAX_JSON_BYTES",
    "MAX_SAFETENSORS_HEADER",
    "OUT_TYPES",
    "TEMPLATE_CHOICES",
    "Checkpoint",
    "ConversionError",
    "Problem",
    "ScratchCallback",
    "TensorEntry",
    "check_free_space",
    "convert_checkpoint",
    "estimate_gguf_bytes",
    "estimate_header_bytes",
    "format_size",
    "free_bytes",
    "gguf_tensor_shapes",
    "inspect_checkpoint",
    "unpermute_hf_qk",
]

#: Output types of the conversion (the matrices; norms stay float32).
OUT_TYPES = ("f16", "bf16", "f32")
#: Chat templates for the template choice (Jinja, stored as ``tokenizer.chat_template``). They
#: render what runtime.chat.templates renders for the same names.
CHAT_TEMPLATES = {
    "chinese-alpaca": (
        "{% if messages[0]['role'] == 'system' %}{% set system = messages[0]['content'] %}"
        "{% set messages = messages[1:] %}{% else %}{% set system = 'Below is an instruction that describes a "
        "task. Write a response that appropriately completes the request.' %}{% endif %}"
        "{{ bos_token }}{{ system }}\n\n{% for message in messages %}{% if message['role'] == 'user' %}"
        "### Instruction:\n{{ message['content'] }}\n\n### Response:\n\n{% else %}{{ message['content'] }}"
        "{{ eos_token }}\n\n{% endif %}{% endfor %}"
    ),
    "chinese-alpaca-2": (
        "{% if messages[0]['role'] == 'system' %}{% set system = messages[0]['content'] %}"
        "{% set messages = messages[1:] %}{% else %}{% set system = 'You are a helpful assistant. "
        "你是一个乐于助人的助手。' %}{% endif %}{% for message in messages %}{% if message['role'] == 'user' %}"
        "{{ bos_token }}[INST] {% if loop.first %}<<SYS>>\n{{ system }}\n<</SYS>>\n\n{% endif %}"
        "{{ message['content'] }} [/INST]{% else %} {{ message['content'] }} {{ eos_token }}{% endif %}{% endfor %}"
    ),
}
TEMPLATE_CHOICES = ("auto", "raw", *CHAT_TEMPLATES)

ScratchCallback = Callable[[Path], None]


def unpermute_hf_qk(weights: np.ndarray, n_heads: int) -> np.ndarray:
    """Hugging Face's q/k row order (each head's two RoPE halves apart) -> llama.cpp's (interleaved pairs).

    Hugging Face's conversion from Meta's checkpoints permuted these rows so that its
    ``rotate_half`` RoPE works; llama.cpp rotates adjacent pairs, as Meta did, so the rows go back.
    """
    rows = weights.shape[0]
    return weights.reshape(n_heads, 2, rows // n_heads // 2, *weights.shape[1:]).swapaxes(1, 2).reshape(weights.shape)


@dataclass(frozen=True)
class _Planned:
    entry: TensorEntry
    gguf_name: str
    out_type: Any  # gguf.GGMLQuantizationType
    permute_heads: int  # 0: none


def _plan(checkpoint: Checkpoint, outtype: str) -> list[_Planned]:
    import gguf

    names = gguf.get_tensor_name_map(gguf.MODEL_ARCH.LLAMA, checkpoint.n_layers)
    matrix_type = {
        "f16": gguf.GGMLQuantizationType.F16,
        "bf16": gguf.GGMLQuantizationType.BF16,
        "f32": gguf.GGMLQuantizationType.F32,
    }[outtype]
    planned = []
    for entry in checkpoint.tensors:
        if _SKIPPED.search(entry.name):
            continue
        gguf_name = names.get_name(entry.name, try_suffixes=(".weight", ".bias"))
        if gguf_name is None:
            raise ConversionError(
                f"The checkpoint has a tensor {entry.name} that a LLaMA model does not have; it cannot be converted.",
                code="convert_bad_tensor",
                params={"tensor": entry.name},
            )
        permute = 0
        if checkpoint.layout != "pth":
            if entry.name.endswith("self_attn.q_proj.weight"):
                permute = checkpoint.n_heads
            elif entry.name.endswith("self_attn.k_proj.weight"):
                permute = checkpoint.n_kv_heads
        out_type = matrix_type if len(entry.shape) > 1 else gguf.GGMLQuantizationType.F32
        planned.append(_Planned(entry, gguf_name, out_type, permute))
    return planned


def _write_metadata(writer: Any, checkpoint: Checkpoint, outtype: str, name: str, template: str) -> None:
    import gguf

    from runtime.models.tiny import _TOKEN_TYPES

    proto, added, _problems = _tokenizer(Path(checkpoint.folder))
    file_type = {
        "f16": gguf.LlamaFileType.MOSTLY_F16,
        "bf16": gguf.LlamaFileType.MOSTLY_BF16,
        "f32": gguf.LlamaFileType.ALL_F32,
    }[outtype]
    writer.add_name(name)
    writer.add_file_type(file_type)
    writer.add_vocab_size(checkpoint.embedding_rows)
    writer.add_context_length(checkpoint.n_ctx)
    writer.add_embedding_length(checkpoint.hidden)
    writer.add_block_count(checkpoint.n_layers)
    writer.add_feed_forward_length(checkpoint.ffn)
    writer.add_rope_dimension_count(checkpoint.hidden // checkpoint.n_heads)
    writer.add_head_count(checkpoint.n_heads)
    writer.add_head_count_kv(checkpoint.n_kv_heads)
    writer.add_layer_norm_rms_eps(checkpoint.rms_eps)
    writer.add_rope_freq_base(checkpoint.rope_theta)

    spec = proto.trainer_spec
    writer.add_tokenizer_model("llama")
    writer.add_token_list([p.piece for p in proto.pieces] + [text for _i, text, _s in added])
    writer.add_token_scores([p.score for p in proto.pieces] + [-1000.0] * len(added))
    types = [_TOKEN_TYPES.get(p.type, gguf.TokenType.NORMAL) for p in proto.pieces]
    types += [gguf.TokenType.CONTROL if special else gguf.TokenType.USER_DEFINED for _i, _t, special in added]
    writer.add_token_types(types)
    writer.add_unk_token_id(spec.unk_id)
    writer.add_bos_token_id(spec.bos_id)
    writer.add_eos_token_id(spec.eos_id)
    pad = next((i for i, text, _s in added if text in ("<pad>", "[PAD]")), None)
    if pad is None and spec.pad_id >= 0:
        pad = spec.pad_id
    if pad is None:
        pad = next((i for i, p in enumerate(proto.pieces) if p.piece in ("<pad>", "[PAD]")), None)
    if pad is not None:
        writer.add_pad_token_id(pad)
    writer.add_add_bos_token(True)
    writer.add_add_eos_token(False)
    writer.add_add_space_prefix(proto.normalizer_spec.add_dummy_prefix)
    chosen = checkpoint.template if template == "auto" else template
    if chosen in CHAT_TEMPLATES:
        writer.add_chat_template(CHAT_TEMPLATES[chosen])


def convert_checkpoint(
    folder: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    outtype: str = "f16",
    name: str | None = None,
    template: str = "auto",
    on_progress: ProgressCallback | None = None,
    on_scratch: ScratchCallback | None = None,
    cancel: threading.Event | None = None,
) -> dict[str, Any]:
    """Convert a checkpoint folder to one GGUF file, tensor by tensor.

    Args:
        folder: A Hugging Face LLaMA folder or Meta's ``consolidated.*.pth`` layout.
        out: The ``.gguf`` file to write (written under a temporary name beside it, renamed when complete).
        outtype: ``f16``, ``bf16`` or ``f32`` for the matrices (norms stay float32).
        name: ``general.name`` (default: the folder's name).
        template: ``auto`` (from the name and vocabulary), ``raw``, ``chinese-alpaca`` or ``chinese-alpaca-2``;
            the chat templates are stored as ``tokenizer.chat_template``.
        on_progress: Called with stage ``converting`` (tensors done of total) and ``done``.
        on_scratch: Called with the temporary file, so a caller can remove it if the process dies.
        cancel: Set to stop between tensors (the temporary file is removed).

    Returns:
        ``{"path", "bytes", "n_tensors", "n_params", "outtype", "template", "seconds"}``.

    Raises:
        ConversionError: A problem of :func:`inspect_checkpoint`, a tensor that cannot be read, the
            output cannot be written, or ``cancel`` was set (code ``cancelled``).
    """
    import time

    import gguf

    started = time.monotonic()
    if outtype not in OUT_TYPES:
        raise ConversionError(
            f"Unknown output type {outtype!r}; choose one of {', '.join(OUT_TYPES)}.",
            code="convert_bad_outtype",
            params={"outtype": outtype},
        )
    if template not in TEMPLATE_CHOICES:
        raise ConversionError(
            f"Unknown template {template!r}; choose one of {', '.join(TEMPLATE_CHOICES)}.",
            code="convert_bad_template",
            params={"template": template},
        )
    checkpoint = inspect_checkpoint(folder)
    checkpoint.raise_first_problem()
    planned = _plan(checkpoint, outtype)
    target = Path(out).expanduser()
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConversionError(
            f"Cannot create the folder {target.parent}: {exc.strerror or exc}. Choose another output folder.",
            code="convert_write_failed",
            params={"path": str(target), "detail": str(exc)},
        ) from exc
    needed = estimate_gguf_bytes(checkpoint, outtype)
    remove_stale_scratch(target.parent, names_ending=".gguf")  # before the space check: it frees space
    check_free_space(target.parent, needed)
    tmp = scratch_path(target)
    if on_scratch is not None:
        on_scratch(tmp)
    reader = TensorReader(checkpoint.layout)
    writer = gguf.GGUFWriter(tmp, arch=gguf.MODEL_ARCH_NAMES[gguf.MODEL_ARCH.LLAMA])
    total = len(planned)
    try:
        _write_metadata(writer, checkpoint, outtype, name or checkpoint.name, template)
        for plan in planned:
            shape = plan.entry.shape
            if plan.out_type == gguf.GGMLQuantizationType.BF16:
                writer.add_tensor_info(
                    plan.gguf_name, shape, np.dtype(np.uint16), plan.entry.n_elements * 2, plan.out_type
                )
            else:
                dtype = np.dtype(np.float16 if plan.out_type == gguf.GGMLQuantizationType.F16 else np.float32)
                writer.add_tensor_info(plan.gguf_name, shape, dtype, plan.entry.n_elements * dtype.itemsize)
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_ti_data_to_file()
        for done, data in enumerate(_converted(planned, reader, cancel), start=1):
            writer.write_tensor_data(data)
            if on_progress is not None:
                on_progress(Progress(done, total, "converting"))
        writer.close()
        os.replace(tmp, target)
    except OSError as exc:
        raise ConversionError(
            f"Cannot write {target}: {exc.strerror or exc}. Choose another output folder.",
            code="convert_write_failed",
            params={"path": str(target), "detail": str(exc)},
        ) from exc
    finally:
        writer.close()
        tmp.unlink(missing_ok=True)
    if on_progress is not None:
        on_progress(Progress(total, total, "done"))
    return {
        "path": str(target),
        "bytes": target.stat().st_size,
        "n_tensors": total,
        "n_params": checkpoint.n_params,
        "outtype": outtype,
        "template": checkpoint.template if template == "auto" else template,
        "seconds": round(time.monotonic() - started, 3),
    }


def _converted(planned: list[_Planned], reader: TensorReader, cancel: threading.Event | None) -> Iterator[np.ndarray]:
    import gguf

    for plan in planned:
        if cancel is not None and cancel.is_set():
            raise ConversionError("The conversion was cancelled.", code="cancelled")
        data = reader.read(plan.entry)
        if plan.permute_heads:
            data = unpermute_hf_qk(data, plan.permute_heads)
        if plan.out_type == gguf.GGMLQuantizationType.F16:
            yield data.astype(np.float16)
        elif plan.out_type == gguf.GGMLQuantizationType.BF16:
            yield gguf.quants.quantize(np.ascontiguousarray(data, dtype=np.float32), plan.out_type)
        else:
            yield np.ascontiguousarray(data, dtype=np.float32)
        del data


# -- sizes and space -------------------------------------------------------------------------------

#: GGUF header bytes besides the vocabulary (metadata, tensor list, chat template), a generous bound.
_HEADER_BYTES = 64 * 1024
#: GGUF aligns each tensor's data to 32 bytes.
_ALIGNMENT = 32


def estimate_gguf_bytes(checkpoint: Checkpoint, outtype: str) -> int:
    """The converted file's size: the tensors in ``outtype`` (norms float32) plus header and vocabulary."""
    per = {"f16": 2, "bf16": 2, "f32": 4}[outtype]
    tensors = sum(
        t.n_elements * (per if len(t.shape) > 1 else 4) + _ALIGNMENT // 2
        for t in checkpoint.tensors
        if not _SKIPPED.search(t.name)
    )
    return tensors + estimate_header_bytes(checkpoint)


def estimate_header_bytes(checkpoint: Checkpoint) -> int:
    """The GGUF header of the converted file (metadata, vocabulary, tensor list), which quantizing keeps."""
    return _HEADER_BYTES + checkpoint.vocab_bytes


def gguf_tensor_shapes(checkpoint: Checkpoint) -> list[tuple[str, tuple[int, ...]]]:
    """The converted file's tensors (GGUF names, numpy shapes), for quantization size estimates."""
    return [(plan.gguf_name, plan.entry.shape) for plan in _plan(checkpoint, "f16")]


def free_bytes(folder: str | os.PathLike[str]) -> int:
    """Free space in ``folder`` (or its nearest existing parent). ``ALPACA_DESK_FAKE_FREE_BYTES`` overrides it.

    The override exists so that tests can simulate a full disk without filling one.
    """
    fake = os.environ.get("ALPACA_DESK_FAKE_FREE_BYTES")
    if fake and fake.isdigit():
        return int(fake)
    import shutil

    path = Path(folder).expanduser().absolute()
    while not path.exists() and path != path.parent:
        path = path.parent
    return shutil.disk_usage(path).free


def format_size(n: int) -> str:
    """A size on disk in words a person reads at a glance: ``512 bytes``, ``68.2 MiB``, ``6.71 GiB``.

    Small sizes keep their unit (a free space of 300 KiB is not "0.00 GiB").
    """
    if n < 1024:
        return f"{n:,} bytes"
    for unit, scale in (("KiB", 2**10), ("MiB", 2**20)):
        if n < 1024 * scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n / 2**30:,.2f} GiB"


def check_free_space(folder: str | os.PathLike[str], needed: int) -> None:
    """Refuse to start when ``folder`` has less than ``needed`` bytes free.

    Raises:
        ConversionError: Code ``convert_no_space``.
    """
    available = free_bytes(folder)
    if available < needed:
        raise ConversionError(
            f"{folder} has {format_size(available)} free, but the output needs about {format_size(needed)}. "
            "Free some space or choose another folder; nothing was written.",
            code="convert_no_space",
            params={
                "folder": str(folder),
                "free": available,
                "needed": needed,
                "free_size": format_size(available),
                "needed_size": format_size(needed),
            },
        )
