"""A GGUF file's header (its metadata and tensor list), read without touching the weights.

Deliberately not gguf's ``GGUFReader``, although its constants are used here: that reader is
made for editing a file in place, and makes a numpy array of every value it meets, one per
vocabulary piece, per score, per token type and per merge. For SmolLM2's 49,152 BPE pieces and
48,900 merges that is 245,408 arrays, 4.4 s and 190 MB before llama.cpp sees the file, on every
load, plan and report. This reader keeps each numeric array as one view of the mapped file,
steps over arrays of strings counting them, and refuses counts no model has, so that a crafted
header ends in a bounded time with an error instead of running through a large file entry by entry.
"""

from __future__ import annotations

import mmap
import os
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
from gguf.constants import GGML_QUANT_SIZES, GGUF_DEFAULT_ALIGNMENT, GGMLQuantizationType, GGUFValueType

GGUF_MAGIC = b"GGUF"
#: The versions llama.cpp reads: version 1 (2023) had 32-bit counts and is refused there too.
SUPPORTED_VERSIONS = (2, 3)
#: At most this many metadata keys (real models have 20 to 60).
MAX_KEYS = 1 << 16
#: At most this many tensors (a 405B model has about 1,100; an MoE model with its experts stored
#: one by one a few thousand).
MAX_TENSORS = 1 << 20
#: At most this many strings in all the header's arrays (a vocabulary of 256K pieces and as
#: many merges is 512K): stepping over one costs a Python loop turn, so this bounds the time.
MAX_STRINGS = 1 << 24
#: At most this many dimensions per tensor (ggml's GGML_MAX_DIMS).
MAX_DIMS = 4

_NUMPY_TYPES: dict[GGUFValueType, type[np.generic]] = {
    GGUFValueType.UINT8: np.uint8,
    GGUFValueType.INT8: np.int8,
    GGUFValueType.UINT16: np.uint16,
    GGUFValueType.INT16: np.int16,
    GGUFValueType.UINT32: np.uint32,
    GGUFValueType.INT32: np.int32,
    GGUFValueType.FLOAT32: np.float32,
    GGUFValueType.BOOL: np.bool_,
    GGUFValueType.UINT64: np.uint64,
    GGUFValueType.INT64: np.int64,
    GGUFValueType.FLOAT64: np.float64,
}
_STRUCT_CODES = {
    GGUFValueType.UINT8: "B",
    GGUFValueType.INT8: "b",
    GGUFValueType.UINT16: "H",
    GGUFValueType.INT16: "h",
    GGUFValueType.UINT32: "I",
    GGUFValueType.INT32: "i",
    GGUFValueType.FLOAT32: "f",
    GGUFValueType.BOOL: "?",
    GGUFValueType.UINT64: "Q",
    GGUFValueType.INT64: "q",
    GGUFValueType.FLOAT64: "d",
}
INTEGER_TYPES = frozenset(
    {
        GGUFValueType.UINT8,
        GGUFValueType.INT8,
        GGUFValueType.UINT16,
        GGUFValueType.INT16,
        GGUFValueType.UINT32,
        GGUFValueType.INT32,
        GGUFValueType.UINT64,
        GGUFValueType.INT64,
    }
)
FLOAT_TYPES = frozenset({GGUFValueType.FLOAT32, GGUFValueType.FLOAT64})


class GGUFHeaderError(ValueError):
    """The header is not one llama.cpp could read: truncated, damaged, or with impossible counts."""


@dataclass(frozen=True)
class HeaderField:
    """One metadata key's value.

    ``value`` is a Python number (or bool) for a number; a ``memoryview`` of the file's bytes for
    a string (not decoded: it may be any size); a numpy array viewing the file for an array of
    numbers; a :class:`StringArray` for an array of strings.
    """

    key: str
    type: GGUFValueType
    item_type: GGUFValueType | None  # an array's element type (None for a single value)
    count: int  # an array's length; 1 for a single value
    value: Any

    @property
    def is_array(self) -> bool:
        return self.type == GGUFValueType.ARRAY


class StringArray:
    """An array of strings in the header, read only when iterated (each item a ``memoryview``)."""

    def __init__(self, buffer: Any, start: int, count: int, order: str) -> None:
        self._buffer = buffer
        self._start = start
        self._count = count
        self._length = struct.Struct(order + "Q")

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[memoryview]:
        # Every length was checked against the buffer when the header was parsed.
        view, unpack, at = memoryview(self._buffer), self._length.unpack_from, self._start
        for _ in range(self._count):
            length = unpack(view, at)[0]
            yield view[at + 8 : at + 8 + length]
            at += 8 + length


@dataclass(frozen=True)
class HeaderTensor:
    """One tensor's entry in the header."""

    name: str
    shape: tuple[int, ...]  # GGUF's order, innermost dimension first
    tensor_type: int  # a GGMLQuantizationType value
    data_offset: int  # where its bytes start in the file
    n_elements: int
    n_bytes: int


@dataclass(frozen=True)
class GGUFHeader:
    """A GGUF file's version, metadata and tensor list, and where the tensor data starts."""

    version: int
    fields: dict[str, HeaderField]
    tensors: tuple[HeaderTensor, ...]
    data_offset: int  # the first tensor byte (the header, padded to the alignment)
    header_bytes: int  # the header's own bytes, before that padding


class _Cursor:
    """Bounds-checked little- or big-endian reads from a buffer, moving forward."""

    def __init__(self, buffer: Any, order: str) -> None:
        self.buffer = buffer
        self.size = len(buffer)
        self.order = order
        self.at = 0
        self._u64 = struct.Struct(order + "Q")
        self._u32 = struct.Struct(order + "I")

    def need(self, n: int, what: str) -> None:
        if n < 0 or self.at + n > self.size:
            raise GGUFHeaderError(f"the header ends in the middle of {what} (at byte {self.at:,})")

    def u32(self, what: str) -> int:
        self.need(4, what)
        (value,) = self._u32.unpack_from(self.buffer, self.at)
        self.at += 4
        return int(value)

    def u64(self, what: str) -> int:
        self.need(8, what)
        (value,) = self._u64.unpack_from(self.buffer, self.at)
        self.at += 8
        return int(value)

    def string(self, what: str) -> memoryview:
        length = self.u64(what)
        self.need(length, what)
        view = memoryview(self.buffer)[self.at : self.at + length]
        self.at += length
        return view

    def text(self, what: str, *, limit: int = 65_536) -> str:
        """A key or tensor name: short UTF-8 text."""
        raw = self.string(what)
        if len(raw) > limit:
            raise GGUFHeaderError(f"{what} is {len(raw):,} bytes long")
        try:
            return bytes(raw).decode("utf-8")
        except UnicodeDecodeError:
            raise GGUFHeaderError(f"{what} is not UTF-8 text") from None

    def skip_strings(self, count: int, what: str) -> None:
        """Step over ``count`` strings, checking each length against the bytes left."""
        buffer, size, unpack, at = self.buffer, self.size, self._u64.unpack_from, self.at
        for _ in range(count):
            if at + 8 > size:
                self.at = at
                raise GGUFHeaderError(f"the header ends in the middle of {what} (at byte {at:,})")
            at += 8 + unpack(buffer, at)[0]
        if at > size:
            self.at = size
            raise GGUFHeaderError(f"the header ends in the middle of {what} (at byte {size:,})")
        self.at = at

    def scalar(self, value_type: GGUFValueType, what: str) -> Any:
        code = _STRUCT_CODES[value_type]
        width = struct.calcsize(code)
        self.need(width, what)
        (value,) = struct.unpack_from(self.order + code, self.buffer, self.at)
        self.at += width
        return value

    def numbers(self, value_type: GGUFValueType, count: int, what: str) -> np.ndarray:
        dtype = np.dtype(_NUMPY_TYPES[value_type]).newbyteorder("<" if self.order == "<" else ">")
        self.need(count * dtype.itemsize, what)
        array = np.frombuffer(self.buffer, dtype=dtype, count=count, offset=self.at)
        self.at += count * dtype.itemsize
        return array


def _value_type(raw: int, what: str) -> GGUFValueType:
    try:
        return GGUFValueType(raw)
    except ValueError:
        raise GGUFHeaderError(f"{what} has an unknown value type {raw}") from None


def _read_fields(cursor: _Cursor, count: int) -> dict[str, HeaderField]:
    fields: dict[str, HeaderField] = {}
    strings_left = MAX_STRINGS
    for index in range(count):
        key = cursor.text(f"metadata key {index + 1}")
        if key in fields:
            raise GGUFHeaderError(f"the key {key} appears twice")
        value_type = _value_type(cursor.u32(key), key)
        if value_type == GGUFValueType.STRING:
            fields[key] = HeaderField(key, value_type, None, 1, cursor.string(key))
        elif value_type == GGUFValueType.ARRAY:
            item_type = _value_type(cursor.u32(key), key)
            length = cursor.u64(key)
            if item_type == GGUFValueType.ARRAY:
                # llama.cpp does not read arrays of arrays either.
                raise GGUFHeaderError(f"{key} is an array of arrays")
            if item_type == GGUFValueType.STRING:
                if length > strings_left:
                    raise GGUFHeaderError(f"{key} has {length:,} strings, more than any model's header")
                strings_left -= length
                value: StringArray | np.ndarray = StringArray(cursor.buffer, cursor.at, length, cursor.order)
                cursor.skip_strings(length, key)
            else:
                value = cursor.numbers(item_type, length, key)
            fields[key] = HeaderField(key, value_type, item_type, length, value)
        else:
            fields[key] = HeaderField(key, value_type, None, 1, cursor.scalar(value_type, key))
    return fields


def _read_tensors(cursor: _Cursor, count: int) -> list[tuple[str, tuple[int, ...], int, int, int, int]]:
    entries = []
    names: set[str] = set()
    for index in range(count):
        name = cursor.text(f"tensor {index + 1}'s name")
        if name in names:
            raise GGUFHeaderError(f"the tensor {name} appears twice")
        names.add(name)
        n_dims = cursor.u32(name)
        if not 1 <= n_dims <= MAX_DIMS:
            raise GGUFHeaderError(f"the tensor {name} has {n_dims} dimensions")
        shape = tuple(cursor.u64(name) for _ in range(n_dims))
        raw_type = cursor.u32(name)
        try:
            block, block_bytes = GGML_QUANT_SIZES[GGMLQuantizationType(raw_type)]
        except (ValueError, KeyError):
            raise GGUFHeaderError(f"the tensor {name} has an unknown type {raw_type}") from None
        n_elements = 1
        for dim in shape:
            n_elements *= dim
        if n_elements >= 1 << 62 or shape[0] % block:
            raise GGUFHeaderError(f"the tensor {name} has an impossible shape {list(shape)}")
        offset = cursor.u64(name)
        entries.append((name, shape, raw_type, offset, n_elements, n_elements // block * block_bytes))
    return entries


def parse_header(buffer: Any) -> GGUFHeader:
    """The header of the GGUF file in ``buffer`` (bytes, or a file mapped with :mod:`mmap`).

    Numeric arrays and strings are views of ``buffer``, not copies.

    Raises:
        GGUFHeaderError: not GGUF, a version llama.cpp does not read, truncated, or a count, type
            or shape no model has; the message says which and where.
    """
    if bytes(buffer[:4]) != GGUF_MAGIC:
        raise GGUFHeaderError("it does not start with the GGUF signature")
    cursor = _Cursor(buffer, "<")
    cursor.at = 4
    version = cursor.u32("the version")
    if version & 0xFFFF == 0 and version:
        # Written for the other byte order (gguf's writer can make big-endian files).
        cursor = _Cursor(buffer, ">")
        cursor.at = 4
        version = cursor.u32("the version")
    if version not in SUPPORTED_VERSIONS:
        raise GGUFHeaderError(f"it is GGUF version {version}; llama.cpp reads versions 2 and 3")
    tensor_count = cursor.u64("the tensor count")
    key_count = cursor.u64("the key count")
    if key_count > MAX_KEYS:
        raise GGUFHeaderError(f"it says it has {key_count:,} metadata keys")
    if tensor_count > MAX_TENSORS:
        raise GGUFHeaderError(f"it says it has {tensor_count:,} tensors")
    fields = _read_fields(cursor, key_count)
    entries = _read_tensors(cursor, tensor_count)
    alignment = GGUF_DEFAULT_ALIGNMENT
    if "general.alignment" in fields:
        field = fields["general.alignment"]
        if field.type != GGUFValueType.UINT32 or not field.value or field.value & (field.value - 1):
            raise GGUFHeaderError("general.alignment is not a power of two")
        alignment = int(field.value)
    header_bytes = cursor.at
    data_offset = -(-header_bytes // alignment) * alignment
    tensors = tuple(
        HeaderTensor(name, shape, raw_type, data_offset + offset, n_elements, n_bytes)
        for name, shape, raw_type, offset, n_elements, n_bytes in entries
    )
    return GGUFHeader(version, fields, tensors, data_offset, header_bytes)


def read_header(path: str | os.PathLike[str]) -> GGUFHeader:
    """The header of the GGUF file at ``path``, read through a read-only mapping of the file.

    The mapping stays open while the header's views do (it closes when the last is dropped).

    Raises:
        GGUFHeaderError: see :func:`parse_header`.
        OSError: the file cannot be opened or mapped (``ENOMEM`` under a memory limit).
    """
    with open(path, "rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        if size == 0:
            raise GGUFHeaderError("the file is empty")
        mapped = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
    return parse_header(mapped)
