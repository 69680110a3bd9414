"""The tensors of a checkpoint's weight files: their list and shapes, and their data as float32.

A checkpoint stores its weights as safetensors shards (Hugging Face), as pickled
``pytorch_model*.bin`` shards, or as Meta's model-parallel ``consolidated.NN.pth`` shards. This
module is the only one that opens those files: :func:`_safetensors_entries`, :func:`_pickle_entries`
and :func:`_pth_entries` list each shard's tensors (checking each lies inside its file) for
:mod:`runtime.models.checkpoint`, and :class:`TensorReader` reads one tensor's data at a time
for :mod:`runtime.models.convert`. It is apart because it is where the untrusted bytes and the
optional torch dependency are, and the inspection and the writing of the GGUF need neither.

How it stays within memory: safetensors shards are memory-mapped (gguf-py's ``SafetensorsLocal``
gives each tensor's byte range; the ``safetensors`` package's numpy backend knows no bfloat16) and
pickled shards are opened with ``torch.load(mmap=True)``, so reading a tensor costs about that
tensor in float32, not the model.

Safety: pickles are read only with ``torch.load(weights_only=True)``, which refuses any object that
is not a tensor or a plain container instead of running it; a safetensors header is bounded
(:data:`MAX_SAFETENSORS_HEADER`). torch is optional: without it the safetensors path works and a
pickled checkpoint is refused with a message.

:class:`ConversionError` is defined here, the lowest of the three conversion modules, and raised by
all of them; :mod:`runtime.models.convert` offers it too.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from runtime.errors import AppError

#: A safetensors header larger than this is refused (a 70B model's is about 100 kB).
MAX_SAFETENSORS_HEADER = 64 * 1024 * 1024

_SAFETENSORS_DTYPES = {"F32": np.float32, "F16": np.float16, "BF16": np.uint16}
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


class ConversionError(AppError):
    """A checkpoint cannot be converted: the message names the file and what to do."""


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


class TensorReader:
    """Reads each tensor as float32 numpy, keeping at most one open pickle per shard.

    ``layout`` is the checkpoint's (:attr:`runtime.models.checkpoint.Checkpoint.layout`).
    """

    def __init__(self, layout: str) -> None:
        self._layout = layout
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
