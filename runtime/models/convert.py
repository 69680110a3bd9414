"""Merged LLaMA weights -> GGUF: what a checkpoint folder holds, and its conversion, tensor by tensor.

Chinese-LLaMA / Chinese-Alpaca v1 were published as LoRA patches; the merge script writes either a
Hugging Face folder (``config.json`` with ``LlamaForCausalLM``, ``*.safetensors`` or
``pytorch_model*.bin`` shards, ``tokenizer.model``) or Meta's layout (``consolidated.NN.pth``,
``params.json``, ``tokenizer.model``). :func:`inspect_checkpoint` says what a folder holds and what is
wrong with it before any work; :func:`convert_checkpoint` writes the GGUF file llama.cpp loads.

How it stays within memory: safetensors shards are memory-mapped (gguf-py's ``SafetensorsLocal``
gives each tensor's byte range; the ``safetensors`` package's numpy backend knows no bfloat16) and
pickled shards are opened with ``torch.load(mmap=True)``; the output is written with gguf-py's
``GGUFWriter`` header first, then one tensor at a time, so the peak is about the largest tensor in
float32, not the model.

Safety: a checkpoint folder is someone else's files. Only ``LlamaForCausalLM`` (and the ``.pth``
layout) is accepted; a ``config.json`` that asks for remote code (``auto_map``) is refused, never
run; pickles are read only with ``torch.load(weights_only=True)``, which refuses any object that is
not a tensor or a plain container instead of running it; every JSON and header read is bounded.
torch is optional: without it the safetensors path works and a pickled checkpoint is refused with a
message. The job process that runs this starts with Python's isolated mode (see :mod:`runtime.jobs`),
so nothing in the folder can be imported.

Facts carried over from llama.cpp's ``convert_hf_to_gguf.py`` (the code is our own): Hugging Face
checkpoints store ``q_proj``/``k_proj`` rows in the rotate-half order, which llama.cpp's RoPE needs
interleaved (:func:`unpermute_hf_qk`); added tokens get score -1000; 1-D tensors stay float32.
"""

from __future__ import annotations

import json
import math
import os
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from runtime.errors import AppError
from runtime.jobs import Progress, ProgressCallback, remove_stale_scratch, scratch_path
from runtime.untrusted_json import read_json_file

#: The one Hugging Face architecture accepted.
LLAMA_ARCHITECTURE = "LlamaForCausalLM"
#: Output types of the conversion (the matrices; norms stay float32).
OUT_TYPES = ("f16", "bf16", "f32")
#: Vocabulary sizes of the LLaMA family the app knows (LLaMA, Chinese-LLaMA, Chinese-Alpaca, -2).
KNOWN_VOCABS = {32_000: "LLaMA", 49_953: "Chinese-LLaMA", 49_954: "Chinese-Alpaca", 55_296: "Chinese-LLaMA-2/Alpaca-2"}
#: JSON files of a checkpoint (config, index, tokenizer config) larger than this are refused.
MAX_JSON_BYTES = 32 * 1024 * 1024
#: A safetensors header larger than this is refused (a 70B model's is about 100 kB).
MAX_SAFETENSORS_HEADER = 64 * 1024 * 1024
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

_SAFETENSORS_DTYPES = {"F32": np.float32, "F16": np.float16, "BF16": np.uint16}
_SAFE_SHARD_NAME = re.compile(r"^[\w.\-]+$")
# How Meta's model-parallel shards split each tensor (fairscale): column-parallel layers along the
# output rows (axis 0), row-parallel ones and the parallel embedding along the columns (axis 1).
_PTH_SPLIT_AXIS = {
    "tok_embeddings": 1,
    "output": 0,
    "attention.wq": 0,
    "attention.wk": 0,
    "attention.wv": 0,
    "attention.wo": 1,
    "feed_forward.w1": 0,
    "feed_forward.w2": 1,
    "feed_forward.w3": 0,
}
# Tensors in checkpoints that llama.cpp computes itself.
_SKIPPED = re.compile(r"(rotary_emb\.inv_freq|rope\.freqs)$")
# The layer number in a tensor's name (Hugging Face "model.layers.3.", Meta "layers.3.").
_LAYER = re.compile(r"(?:^|\.)layers\.(\d+)\.")
#: Largest whole number a config may give (llama.cpp keeps the shape in 32-bit fields).
MAX_CONFIG_INT = 2**31 - 1
# The shape of each tensor a LLaMA checkpoint holds, by the end of its name, in terms of the
# config's numbers: V rows of the vocabulary, H hidden, F the feed-forward width, Q the rows of the
# query heads (heads x head size) and K those of the key/value heads.
_EXPECTED_SHAPES = {
    "embed_tokens.weight": ("V", "H"),
    "tok_embeddings.weight": ("V", "H"),
    "lm_head.weight": ("V", "H"),
    "output.weight": ("V", "H"),
    "norm.weight": ("H",),
    "input_layernorm.weight": ("H",),
    "post_attention_layernorm.weight": ("H",),
    "attention_norm.weight": ("H",),
    "ffn_norm.weight": ("H",),
    "q_proj.weight": ("Q", "H"),
    "attention.wq.weight": ("Q", "H"),
    "k_proj.weight": ("K", "H"),
    "attention.wk.weight": ("K", "H"),
    "v_proj.weight": ("K", "H"),
    "attention.wv.weight": ("K", "H"),
    "o_proj.weight": ("H", "Q"),
    "attention.wo.weight": ("H", "Q"),
    "gate_proj.weight": ("F", "H"),
    "up_proj.weight": ("F", "H"),
    "feed_forward.w1.weight": ("F", "H"),
    "feed_forward.w3.weight": ("F", "H"),
    "down_proj.weight": ("H", "F"),
    "feed_forward.w2.weight": ("H", "F"),
}
# The config's key for each letter (L: the layers), to name it in a message.
_HF_KEYS = {
    "H": "hidden_size",
    "F": "intermediate_size",
    "Q": "num_attention_heads",
    "K": "num_key_value_heads",
    "V": "the token embedding's rows",
    "L": "num_hidden_layers",
}
_PTH_KEYS = {
    "H": "dim",
    "F": "the feed-forward width",
    "Q": "n_heads",
    "K": "n_kv_heads",
    "V": "the token embedding's rows",
    "L": "n_layers",
}


class ConversionError(AppError):
    """A checkpoint cannot be converted: the message names the file and what to do."""


ScratchCallback = Callable[[Path], None]


@dataclass(frozen=True)
class Problem:
    """Something that stops the conversion, found before any work (``code``/``params`` translate it)."""

    code: str
    message: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TensorEntry:
    """One tensor of the checkpoint: its source name, shape (numpy order), dtype and where it lives."""

    name: str
    shape: tuple[int, ...]
    dtype: str
    parts: tuple[str, ...]  # the shard file(s) (several: Meta's model-parallel .pth shards)
    offset: int = 0  # safetensors: start of the data in the file
    nbytes: int = 0

    @property
    def n_elements(self) -> int:
        """How many numbers it holds."""
        return int(np.prod(self.shape, dtype=np.int64)) if self.shape else 1


@dataclass(frozen=True)
class Checkpoint:
    """What a checkpoint folder holds (see :func:`inspect_checkpoint`); ``problems`` empty = convertible.

    Attributes:
        folder: The folder inspected.
        layout: ``"safetensors"``, ``"bin"`` (Hugging Face pickles), ``"pth"`` (Meta's layout) or ``""``.
        architecture: ``LlamaForCausalLM`` (or ``llama-pth``), or what the config says instead.
        name: A name for the model (the folder's).
        n_params: Parameters (all tensors' elements).
        n_layers, hidden, n_heads, n_kv_heads, ffn: The shape.
        n_ctx: Training context length.
        rms_eps: RMS-norm epsilon.
        rope_theta: RoPE frequency base.
        embedding_rows: Rows of the token embedding (the model's vocabulary size).
        tokenizer_size: Pieces of ``tokenizer.model`` plus added tokens (0: no tokenizer).
        vocab_label: The known vocabulary of that size ("Chinese-LLaMA", ...) or "".
        dtype: The weights' storage type (``F16``, ``BF16``, ``F32``).
        total_bytes: Size of the weight files.
        vocab_bytes: What the vocabulary takes in a GGUF header (for size estimates).
        template: The chat template the model needs (``chinese-alpaca``, ``chinese-alpaca-2``, ``raw``).
        tensors: Every tensor.
        problems: What stops the conversion.
    """

    folder: str
    layout: str
    architecture: str = ""
    name: str = ""
    n_params: int = 0
    n_layers: int = 0
    hidden: int = 0
    n_heads: int = 0
    n_kv_heads: int = 0
    ffn: int = 0
    n_ctx: int = 2048
    rms_eps: float = 1e-6
    rope_theta: float = 10_000.0
    embedding_rows: int = 0
    tokenizer_size: int = 0
    vocab_label: str = ""
    dtype: str = ""
    total_bytes: int = 0
    vocab_bytes: int = 0
    template: str = "raw"
    tensors: tuple[TensorEntry, ...] = ()
    problems: tuple[Problem, ...] = ()

    @property
    def ok(self) -> bool:
        """Nothing stops the conversion."""
        return not self.problems

    def summary(self) -> dict[str, Any]:
        """Everything but the tensor list, JSON-ready (what the inspect job reports)."""
        data = asdict(self)
        data.pop("tensors")
        data["n_tensors"] = len(self.tensors)
        return data

    def raise_first_problem(self) -> None:
        """Raise the first problem as a :class:`ConversionError`."""
        if self.problems:
            problem = self.problems[0]
            raise ConversionError(problem.message, code=problem.code, params=problem.params)


# -- reading -------------------------------------------------------------------------------------


def _read_json(path: Path, what: str) -> Any:
    try:
        size = path.stat().st_size
        if size > MAX_JSON_BYTES:
            raise ConversionError(
                f"{path} is {size:,} bytes, too large for {what}; this is not a model checkpoint's file.",
                code="convert_bad_json",
                params={"path": str(path)},
            )
        return read_json_file(path, max_bytes=MAX_JSON_BYTES)
    except (OSError, ValueError) as exc:  # UntrustedJsonError is a ValueError
        raise ConversionError(
            f"{path} cannot be read as {what}: {exc}. Restore it from the model's download or merge.",
            code="convert_bad_json",
            params={"path": str(path), "detail": str(exc)},
        ) from exc


def _problem(code: str, message: str, **params: Any) -> Problem:
    return Problem(code, message, {key: str(value) for key, value in params.items()})


def _safetensors_entries(path: Path) -> list[TensorEntry]:
    """The tensors of one safetensors shard, each checked to lie inside the file."""
    from gguf.utility import SafetensorsLocal

    size = path.stat().st_size
    with path.open("rb") as handle:
        head = handle.read(8)
    header_len = int.from_bytes(head, "little") if len(head) == 8 else -1
    if header_len < 2 or header_len > min(MAX_SAFETENSORS_HEADER, size - 8):
        raise ConversionError(
            f"{path.name} is not a complete safetensors file (its header is damaged or cut off). "
            "Copy or download this shard again.",
            code="convert_shard_truncated",
            params={"path": str(path)},
        )
    try:
        local = SafetensorsLocal(path)
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
        raise ConversionError(
            f"{path.name} is not a valid safetensors file ({exc}). Copy or download this shard again.",
            code="convert_shard_truncated",
            params={"path": str(path)},
        ) from exc
    entries = []
    for name, tensor in local.tensors.items():
        dtype = _SAFETENSORS_DTYPES.get(tensor.dtype)
        if dtype is None:
            raise ConversionError(
                f"The tensor {name} in {path.name} is stored as {tensor.dtype}; only F32, F16 and BF16 "
                "weights can be converted (quantized checkpoints cannot).",
                code="convert_bad_tensor",
                params={"path": str(path), "tensor": name, "dtype": tensor.dtype},
            )
        shape = tuple(int(d) for d in tensor.shape)
        expected = int(np.prod(shape, dtype=np.int64)) * np.dtype(dtype).itemsize
        data_range = tensor.data_range
        if data_range.size != expected or data_range.offset + data_range.size > size:
            raise ConversionError(
                f"{path.name} is cut off or damaged: the tensor {name} does not fit in the file "
                f"({size:,} bytes). Copy or download this shard again.",
                code="convert_shard_truncated",
                params={"path": str(path), "tensor": name},
            )
        entries.append(TensorEntry(name, shape, tensor.dtype, (str(path),), data_range.offset, data_range.size))
    # Each tensor's bytes must be its own: a header whose ranges overlap makes two tensors share
    # (or one tensor read another's) bytes, which no writer does.
    ordered = sorted((e for e in entries if e.nbytes), key=lambda e: e.offset)
    for before, after in zip(ordered, ordered[1:], strict=False):
        if after.offset < before.offset + before.nbytes:
            raise ConversionError(
                f"{path.name} is damaged: its header puts the tensors {before.name} and {after.name} on the same "
                "bytes. Copy or download this shard again.",
                code="convert_shard_overlap",
                params={"path": str(path), "tensor": before.name, "other": after.name},
            )
    return entries


def _config_value_error(path: Path, key: str, value: object, expected: str) -> ConversionError:
    if isinstance(value, float) and not math.isfinite(value):
        shown = str(value)
    else:
        try:
            shown = json.dumps(value)[:80]
        except (TypeError, ValueError):
            shown = type(value).__name__
    return ConversionError(
        f"{path}: {key} is {shown}, not {expected}. The file is damaged or was not written for these weights; "
        f"restore {path.name} from the model's download or merge.",
        code="convert_bad_number",
        params={"path": str(path), "key": key, "value": shown, "expected": expected},
    )


def _whole(path: Path, config: dict[str, Any], key: str) -> int:
    """``config[key]`` as a whole number from 1 to :data:`MAX_CONFIG_INT` (0 when absent or null)."""
    value = config.get(key)
    if value is None:
        return 0
    expected = f"a whole number from 1 to {MAX_CONFIG_INT:,}"
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _config_value_error(path, key, value, expected)
    if isinstance(value, float) and not (math.isfinite(value) and value.is_integer()):
        raise _config_value_error(path, key, value, expected)
    if not 1 <= value <= MAX_CONFIG_INT:
        raise _config_value_error(path, key, value, expected)
    return int(value)


def _positive(path: Path, config: dict[str, Any], key: str, default: float) -> float:
    """``config[key]`` as a finite positive number (``default`` when absent or null)."""
    value = config.get(key)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float) or not (math.isfinite(value) and value > 0):
        raise _config_value_error(path, key, value, "a positive number")
    if value > 1e30:
        raise _config_value_error(path, key, value, "a positive number")
    return float(value)


def _check_shape(
    path: Path, shape: dict[str, Any], keys: dict[str, str], tensors: list[TensorEntry], rows: int
) -> None:
    """Every number of the config against the tensors actually present; a mismatch is named.

    ``keys`` names the config's key for each letter of :data:`_EXPECTED_SHAPES` (and ``L``, the
    layers). Work is linear in the tensors, whatever the numbers say.

    Raises:
        ConversionError: The config's shape is not LLaMA's, or does not describe these tensors.
    """
    hidden, heads, kv_heads, layers = shape["hidden"], shape["n_heads"], shape["n_kv_heads"], shape["n_layers"]

    def mismatch(letter: str, value: object, tensor: str, found: object) -> ConversionError:
        key = keys[letter]
        return ConversionError(
            f"{path}: {key} is {value}, but the weights do not match it ({tensor}: {found}). The config does "
            f"not describe these weights; restore {path.name} from the model's download or merge.",
            code="convert_config_mismatch",
            params={"path": str(path), "key": key, "value": str(value), "tensor": tensor, "found": str(found)},
        )

    if heads <= 0 or layers <= 0 or hidden % heads or (hidden // heads) % 2 or kv_heads > heads or heads % kv_heads:
        raise ConversionError(
            f"{path}: the shape it gives (hidden {hidden}, heads {heads}, key/value heads {kv_heads}, layers "
            f"{layers}) is not a LLaMA shape. Restore {path.name} from the model's download or merge.",
            code="convert_bad_json",
            params={"path": str(path), "folder": str(path.parent)},
        )
    present = {int(found.group(1)) for t in tensors if (found := _LAYER.search(t.name))}
    if len(present) != layers or max(present, default=-1) != layers - 1:
        if not present:
            found_layers = "no layer at all"
        else:
            gap = next((i for i in range(len(present) + 1) if i not in present), len(present))
            found_layers = f"{len(present):,} layers, numbered 0 to {max(present)}"
            if gap < max(present):
                found_layers += f" without layer {gap}"
        raise mismatch("L", f"{layers:,}", "the weights", found_layers)
    if not shape["ffn"]:
        shape["ffn"] = next(
            (t.shape[0] for t in tensors if t.name.endswith(("gate_proj.weight", "w1.weight")) and t.shape), 0
        )
    head_size = hidden // heads
    sizes = {"H": hidden, "F": shape["ffn"], "Q": heads * head_size, "K": kv_heads * head_size, "V": rows}
    shown = {"H": hidden, "F": shape["ffn"], "Q": heads, "K": kv_heads, "V": rows}
    for entry in tensors:
        suffix = next((s for s in _EXPECTED_SHAPES if entry.name == s or entry.name.endswith("." + s)), None)
        if suffix is None:
            continue
        letters = _EXPECTED_SHAPES[suffix]
        if entry.shape == tuple(sizes[letter] for letter in letters):
            continue
        # Name the first number that disagrees with this tensor.
        bad = next(
            (
                letter
                for axis, letter in enumerate(letters)
                if axis >= len(entry.shape) or entry.shape[axis] != sizes[letter]
            ),
            "H",
        )
        raise mismatch(bad, shown[bad], entry.name, tuple(entry.shape))


def _torch() -> Any:
    try:
        import torch
    except ImportError as exc:
        raise ConversionError(
            "This checkpoint is stored as PyTorch pickles (.bin/.pth), which need PyTorch to read, and "
            "PyTorch is not installed here. Save the model as safetensors (model.save_pretrained(..., "
            "safe_serialization=True)) or install torch.",
            code="convert_needs_torch",
        ) from exc
    return torch


def _load_pickle(path: Path) -> dict[str, Any]:
    """A pickled state dict, read with the restricted unpickler (memory-mapped where the format allows)."""
    torch = _torch()
    try:
        try:
            state = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
        except RuntimeError as exc:
            if "mmap" not in str(exc):
                raise
            state = torch.load(path, map_location="cpu", weights_only=True)  # the legacy format: no mmap
    except Exception as exc:  # noqa: BLE001 - torch raises UnpicklingError, RuntimeError, EOFError, ...
        unsafe = type(exc).__name__ == "UnpicklingError"
        raise ConversionError(
            (
                f"{path.name} holds more than tensors: loading it would run code from the file, which "
                "the app never does. Use weights saved as safetensors, or from a source you trust."
                if unsafe
                else f"{path.name} cannot be read as PyTorch weights ({exc}). Copy or download it again."
            ),
            code="convert_unsafe_pickle" if unsafe else "convert_shard_truncated",
            params={"path": str(path), "detail": str(exc)[:300]},
        ) from exc
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ConversionError(
            f"{path.name} is not a state dict of tensors.",
            code="convert_bad_tensor",
            params={"path": str(path)},
        )
    return state


def _torch_dtype_name(tensor: Any) -> str:
    return {"torch.float32": "F32", "torch.float16": "F16", "torch.bfloat16": "BF16"}.get(str(tensor.dtype), "")


def _pickle_entries(path: Path) -> list[TensorEntry]:
    entries = []
    for name, tensor in _load_pickle(path).items():
        dtype = _torch_dtype_name(tensor)
        if not dtype:
            raise ConversionError(
                f"The tensor {name} in {path.name} is {tensor.dtype}; only float32, float16 and bfloat16 "
                "weights can be converted.",
                code="convert_bad_tensor",
                params={"path": str(path), "tensor": name, "dtype": str(tensor.dtype)},
            )
        entries.append(TensorEntry(name, tuple(tensor.shape), dtype, (str(path),)))
    return entries


def _pth_entries(shards: list[Path]) -> list[TensorEntry]:
    """Meta's consolidated.NN.pth shards: one entry per tensor, its parts concatenated on load."""
    per_shard = [_pickle_entries(shard) for shard in shards]
    merged: list[TensorEntry] = []
    for entry in per_shard[0]:
        if len(shards) == 1 or len(entry.shape) < 2:
            merged.append(entry)  # one shard, or a norm vector that every shard holds in full
            continue
        axis = _pth_axis(entry.name)
        parts = []
        shape = list(entry.shape)
        shape[axis] = 0
        for shard, entries in zip(shards, per_shard, strict=True):
            match = next((e for e in entries if e.name == entry.name), None)
            if match is None:
                raise ConversionError(
                    f"{shard.name} lacks the tensor {entry.name} that {shards[0].name} has; the shards do "
                    "not belong together.",
                    code="convert_shard_missing",
                    params={"path": str(shard), "tensor": entry.name},
                )
            shape[axis] += match.shape[axis]
            parts.append(str(shard))
        merged.append(TensorEntry(entry.name, tuple(shape), entry.dtype, tuple(parts)))
    return merged


def _pth_axis(name: str) -> int:
    stem = name.removesuffix(".weight")
    for key, axis in _PTH_SPLIT_AXIS.items():
        if stem == key or stem.endswith("." + key):
            return axis
    return 0


def _hf_shards(folder: Path, index_name: str, pattern: str) -> tuple[list[Path], list[Problem]]:
    index = folder / index_name
    if index.is_file():
        data = _read_json(index, "a shard index")
        weight_map = data.get("weight_map") if isinstance(data, dict) else None
        if not isinstance(weight_map, dict) or not weight_map:
            return [], [_problem("convert_bad_json", f"{index} has no weight map.", path=index)]
        names = sorted({str(v) for v in weight_map.values()})
        bad = [n for n in names if not _SAFE_SHARD_NAME.match(n) or n in (".", "..")]
        if bad:
            message = f"{index} names a shard outside the folder ({bad[0]!r}); it is refused."
            return [], [_problem("convert_bad_json", message, path=index)]
        missing = [n for n in names if not (folder / n).is_file()]
        if missing:
            message = (
                f"{len(missing)} of the {len(names)} weight shards listed in {index_name} are missing "
                f"({', '.join(missing[:3])}). Download or copy them into {folder}."
            )
            return [], [_problem("convert_shard_missing", message, folder=folder, missing=", ".join(missing[:3]))]
        return [folder / n for n in names], []
    return sorted(p for p in folder.glob(pattern) if p.is_file()), []


def _tokenizer(folder: Path) -> tuple[Any, list[tuple[int, str, bool]], list[Problem]]:
    """The SentencePiece model and the added tokens (id, text, special) beyond its pieces."""
    from runtime.tokens import TokenizerError, read_model_proto

    path = folder / "tokenizer.model"
    if not path.is_file():
        message = (
            f"{folder} has no tokenizer.model. Copy the tokenizer that came with these weights into the "
            "folder (for Chinese-LLaMA/Alpaca: the merged Chinese tokenizer)."
        )
        return None, [], [_problem("convert_no_tokenizer", message, folder=folder)]
    try:
        proto = read_model_proto(path)
    except TokenizerError as exc:
        return None, [], [_problem("convert_no_tokenizer", str(exc), folder=folder)]
    n_pieces = len(proto.pieces)
    added: dict[int, tuple[str, bool]] = {}
    added_json = folder / "added_tokens.json"
    if added_json.is_file():
        data = _read_json(added_json, "the added tokens")
        if isinstance(data, dict):
            for text, token_id in data.items():
                if isinstance(token_id, int) and not isinstance(token_id, bool):
                    added[token_id] = (str(text), False)
    tokenizer_json = folder / "tokenizer.json"
    if tokenizer_json.is_file():
        data = _read_json(tokenizer_json, "the tokenizer")
        for item in data.get("added_tokens", []) if isinstance(data, dict) else []:
            if isinstance(item, dict) and isinstance(item.get("id"), int) and isinstance(item.get("content"), str):
                added[item["id"]] = (item["content"], bool(item.get("special")))
    extra = sorted((i, t, s) for i, (t, s) in added.items() if i >= n_pieces)
    problems = []
    expected = n_pieces
    for token_id, text, _special in extra:
        if token_id != expected:
            problems.append(
                _problem(
                    "convert_bad_json",
                    f"The added token {text!r} has id {token_id}, but the next free id is {expected}: the "
                    "tokenizer files do not belong together.",
                    folder=folder,
                )
            )
            break
        expected += 1
    return proto, extra, problems


def _chosen_template(name: str, vocab: int) -> str:
    # The rules of runtime.chat.templates.choose_template, which runtime.models cannot import
    # (runtime.chat depends on this package): a name with "alpaca" or Alpaca's pad token.
    lowered = name.lower()
    if any(tag in lowered for tag in ("alpaca-2", "alpaca2", "alpaca_2")):
        return "chinese-alpaca-2"
    if "alpaca" in lowered or vocab == 49_954:
        return "chinese-alpaca"
    return "raw"


def inspect_checkpoint(folder: str | os.PathLike[str]) -> Checkpoint:
    """What a checkpoint folder holds, and every problem that would stop its conversion.

    Reads the config, the tokenizer and each shard's tensor list (safetensors headers; pickles with
    the restricted unpickler, memory-mapped), never the weights themselves.

    Raises:
        ConversionError: The folder does not exist (problems with its content are returned instead).
    """
    root = Path(folder).expanduser()
    if not root.is_dir():
        raise ConversionError(
            f"{root} is not a folder. Choose the folder the merge script wrote.",
            code="convert_no_folder",
            params={"folder": str(root)},
        )
    try:
        return _inspect(root)
    except ConversionError as exc:
        return Checkpoint(str(root), "", name=root.name, problems=(Problem(exc.code, str(exc), exc.params),))


def _inspect(root: Path) -> Checkpoint:
    config_path, params_path = root / "config.json", root / "params.json"
    pth = sorted(root.glob("consolidated.*.pth"))
    problems: list[Problem] = []
    if config_path.is_file():
        config = _read_json(config_path, "a model config")
        if not isinstance(config, dict):
            raise ConversionError(f"{config_path} is not a JSON object.", code="convert_bad_json")
        architectures = config.get("architectures") or []
        architecture = str(architectures[0]) if isinstance(architectures, list) and architectures else ""
        if config.get("auto_map") or config.get("trust_remote_code"):
            raise ConversionError(
                f"{config_path} asks for code shipped with the model (auto_map / trust_remote_code). The app "
                "never runs code from a model folder; only plain LlamaForCausalLM checkpoints are converted.",
                code="convert_remote_code",
                params={"path": str(config_path)},
            )
        if architecture != LLAMA_ARCHITECTURE or config.get("model_type", "llama") != "llama":
            shown = architecture or str(config.get("model_type") or "unknown")
            raise ConversionError(
                f"{config_path} describes a {shown} model; only LLaMA models ({LLAMA_ARCHITECTURE}) such as "
                "Chinese-LLaMA and Chinese-Alpaca can be converted here.",
                code="convert_not_llama",
                params={"path": str(config_path), "architecture": shown},
            )
        shards, shard_problems = _hf_shards(root, "model.safetensors.index.json", "model*.safetensors")
        layout = "safetensors"
        if not shards and not shard_problems:
            shards, shard_problems = _hf_shards(root, "pytorch_model.bin.index.json", "pytorch_model*.bin")
            layout = "bin"
        if shard_problems:
            first = shard_problems[0]
            raise ConversionError(first.message, code=first.code, params=first.params)
        if not shards:
            raise ConversionError(
                f"{root} has a config.json but no weights (model*.safetensors or pytorch_model*.bin).",
                code="convert_no_weights",
                params={"folder": str(root)},
            )
        tensors: list[TensorEntry] = []
        for shard in shards:
            tensors += _safetensors_entries(shard) if layout == "safetensors" else _pickle_entries(shard)

        heads = _whole(config_path, config, "num_attention_heads")
        shape: dict[str, Any] = {
            "n_layers": _whole(config_path, config, "num_hidden_layers"),
            "hidden": _whole(config_path, config, "hidden_size"),
            "n_heads": heads,
            "n_kv_heads": _whole(config_path, config, "num_key_value_heads") or heads,
            "ffn": _whole(config_path, config, "intermediate_size"),
            "n_ctx": _whole(config_path, config, "max_position_embeddings") or 2048,
            "rms_eps": _positive(config_path, config, "rms_norm_eps", 1e-6),
            "rope_theta": _positive(config_path, config, "rope_theta", 10_000.0),
        }
        shape_keys = dict(_HF_KEYS)
        # transformers 5 writes the RoPE settings as rope_parameters; older versions as rope_theta
        # and rope_scaling.
        rope_parameters = config.get("rope_parameters")
        rope: dict[str, Any] = rope_parameters if isinstance(rope_parameters, dict) else {}
        if rope.get("rope_theta") is not None:
            shape["rope_theta"] = _positive(config_path, rope, "rope_theta", 10_000.0)
        scaled = config.get("rope_scaling") or rope.get("rope_type", "default") not in ("default", None)
        if scaled:
            problems.append(
                _problem(
                    "convert_unsupported",
                    f"{config_path} uses RoPE scaling ({config.get('rope_scaling') or rope}), which this "
                    "converter does not write; use llama.cpp's convert_hf_to_gguf.py for this model.",
                    path=config_path,
                )
            )
        torch_dtype = str(config.get("torch_dtype") or config.get("dtype") or "")
        architecture_shown = LLAMA_ARCHITECTURE
    elif params_path.is_file() and pth:
        params = _read_json(params_path, "the model parameters")
        if not isinstance(params, dict):
            raise ConversionError(f"{params_path} is not a JSON object.", code="convert_bad_json")
        layout = "pth"
        tensors = _pth_entries(pth)
        shards = pth
        heads = _whole(params_path, params, "n_heads")
        ffn_rows = next((t.shape[0] for t in tensors if t.name.endswith("feed_forward.w1.weight")), 0)
        shape = {
            "n_layers": _whole(params_path, params, "n_layers"),
            "hidden": _whole(params_path, params, "dim"),
            "n_heads": heads,
            "n_kv_heads": _whole(params_path, params, "n_kv_heads") or heads,
            "ffn": int(ffn_rows),
            "n_ctx": _whole(params_path, params, "max_seq_len") or 2048,
            "rms_eps": _positive(params_path, params, "norm_eps", 1e-6),
            "rope_theta": _positive(params_path, params, "rope_theta", 10_000.0),
        }
        config_path = params_path
        shape_keys = dict(_PTH_KEYS)
        torch_dtype = ""
        architecture_shown = "llama-pth"
    elif params_path.is_file() or pth:
        missing = "params.json" if pth else "consolidated.00.pth"
        raise ConversionError(
            f"{root} looks like Meta's layout but has no {missing}.",
            code="convert_shard_missing",
            params={"folder": str(root), "missing": missing},
        )
    else:
        raise ConversionError(
            f"{root} holds no model checkpoint: no config.json (Hugging Face) and no params.json with "
            "consolidated.*.pth (Meta's layout). Choose the folder the merge script wrote.",
            code="convert_empty_folder",
            params={"folder": str(root)},
        )

    by_name = {t.name: t for t in tensors}
    embed = by_name.get("model.embed_tokens.weight") or by_name.get("tok_embeddings.weight")
    if embed is None:
        raise ConversionError(
            f"{root}: the weights have no token embedding (model.embed_tokens.weight); shards may be missing.",
            code="convert_shard_missing",
            params={"folder": str(root), "missing": "model.embed_tokens.weight"},
        )
    embedding_rows = int(embed.shape[0])
    if not shape["hidden"]:
        shape["hidden"] = int(embed.shape[1])
    _check_shape(config_path, shape, shape_keys, tensors, embedding_rows)

    proto, added, tokenizer_problems = _tokenizer(root)
    problems += tokenizer_problems
    tokenizer_size = len(proto.pieces) + len(added) if proto is not None else 0
    # A GGUF token: its text with a 64-bit length, a float32 score and an int32 type.
    vocab_bytes = sum(16 + len(p.piece.encode("utf-8")) for p in proto.pieces) if proto is not None else 0
    if proto is not None and tokenizer_size != embedding_rows:
        from runtime.tokens import vocab_mismatch

        warning = vocab_mismatch(tokenizer_size, embedding_rows)
        text = warning.message if warning else ""
        problems.append(
            _problem(
                "convert_vocab_mismatch",
                f"{text} Nothing was converted.",
                tokenizer=f"{tokenizer_size:,}",
                rows=f"{embedding_rows:,}",
            )
        )
    dtypes = [t.dtype for t in tensors if len(t.shape) == 2]
    dtype = max(set(dtypes), key=dtypes.count) if dtypes else torch_dtype.upper()
    name = root.name
    return Checkpoint(
        folder=str(root),
        layout=layout,
        architecture=architecture_shown,
        name=name,
        n_params=sum(t.n_elements for t in tensors if not _SKIPPED.search(t.name)),
        embedding_rows=embedding_rows,
        tokenizer_size=tokenizer_size,
        vocab_label=KNOWN_VOCABS.get(embedding_rows, ""),
        dtype=dtype,
        total_bytes=sum(p.stat().st_size for p in shards),
        vocab_bytes=vocab_bytes,
        template=_chosen_template(name, embedding_rows),
        tensors=tuple(tensors),
        problems=tuple(problems),
        **shape,
    )


# -- converting ------------------------------------------------------------------------------------


def unpermute_hf_qk(weights: np.ndarray, n_heads: int) -> np.ndarray:
    """Hugging Face's q/k row order (each head's two RoPE halves apart) -> llama.cpp's (interleaved pairs).

    Hugging Face's conversion from Meta's checkpoints permuted these rows so that its
    ``rotate_half`` RoPE works; llama.cpp rotates adjacent pairs, as Meta did, so the rows go back.
    """
    rows = weights.shape[0]
    return weights.reshape(n_heads, 2, rows // n_heads // 2, *weights.shape[1:]).swapaxes(1, 2).reshape(weights.shape)


class _TensorReader:
    """Reads each tensor as float32 numpy, keeping at most one open pickle per shard."""

    def __init__(self, checkpoint: Checkpoint) -> None:
        self._layout = checkpoint.layout
        self._pickles: dict[str, dict[str, Any]] = {}

    def read(self, entry: TensorEntry) -> np.ndarray:
        if self._layout == "safetensors":
            path = entry.parts[0]
            if entry.dtype == "BF16":
                raw = np.memmap(path, dtype=np.uint16, mode="r", offset=entry.offset, shape=entry.shape)
                return (raw.astype(np.uint32) << 16).view(np.float32)
            dtype = _SAFETENSORS_DTYPES[entry.dtype]
            return np.asarray(np.memmap(path, dtype=dtype, mode="r", offset=entry.offset, shape=entry.shape))
        parts = [self._pickle(path)[entry.name] for path in entry.parts]
        if len(parts) == 1:
            return parts[0].float().numpy()
        import torch

        return torch.cat(parts, dim=_pth_axis(entry.name)).float().numpy()

    def _pickle(self, path: str) -> dict[str, Any]:
        if path not in self._pickles:
            self._pickles[path] = _load_pickle(Path(path))
        return self._pickles[path]


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
    reader = _TensorReader(checkpoint)
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


def _converted(planned: list[_Planned], reader: _TensorReader, cancel: threading.Event | None) -> Iterator[np.ndarray]:
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
