"""SentencePiece tokenizers: safe loading, counting and segmenting text, and the Chinese-LLaMA merge.

Chinese-LLaMA (Cui, Yang and Yao, arXiv 2304.08177, section 4.2) extends LLaMA's 32,000-piece
SentencePiece vocabulary with a 20,000-piece Chinese model: every LLaMA piece stays where it is (so
the original embeddings keep their rows) and every Chinese piece LLaMA lacks is appended with score 0.
The result is the 49,953-piece Chinese-LLaMA vocabulary; Chinese-Alpaca adds one pad token (49,954).

Everything here works on the ``ModelProto`` protobuf that sentencepiece itself ships
(``sentencepiece_model_pb2``), so the files written are ordinary SentencePiece models.

Where a tokenizer comes from (:func:`resolve_tokenizer`): a known name (``llama``, ``chinese-llama``,
``chinese-llama-2``), a SentencePiece ``.model`` file, a Hugging Face tokenizer folder, or a GGUF
model's vocabulary. :func:`load_tokenizer` turns that into a :class:`LoadedTokenizer`, which counts
(:func:`compare`) and segments (:meth:`LoadedTokenizer.segment`) text.

Counting conventions, the same everywhere in the application:

* **BOS is not counted** unless asked (``add_bos=True``): the counts are the tokens of the text
  itself. A model's prompt adds one BOS token in front (see :attr:`LoadedTokenizer.add_bos`).
* **Lone surrogates** (possible in Python strings, never in UTF-8 text) are replaced with U+FFFD
  before encoding: sentencepiece only takes valid UTF-8. One character stays one character, so
  spans still index the caller's text.
* **GGUF vocabularies** of the ``llama`` (SentencePiece, "SPM") kind are converted to a
  SentencePiece model piece for piece (scores, types, unk/bos/eos, the space prefix); for those,
  the counts equal llama.cpp's ``llama_tokenize`` with ``add_bos=False`` (tested against
  llama-cpp-python on every paragraph of the Chinese samples). One known exception: a text that
  *starts* with a user-defined piece typed out literally (Alpaca's ``<pad>``) gets the dummy
  prefix before that piece from sentencepiece and after it from llama.cpp (same count, other
  order). Other GGUF tokenizer kinds (GPT-2 style BPE, ...) are refused.
"""

from __future__ import annotations

import json
import mmap
import os
import re
import shutil
import struct
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeAlias

import sentencepiece
from google.protobuf.message import DecodeError
from sentencepiece import sentencepiece_model_pb2 as sp_pb2

from runtime.errors import AppError

#: The pad piece :func:`merge_sentencepiece` callers use unless they need another spelling.
#: (Chinese-Alpaca's Hugging Face tokenizer spells it ``[PAD]``; either works the same way.)
DEFAULT_PAD_TOKEN = "<pad>"

#: File names of the Hugging Face tokenizer folder :func:`write_merged` produces.
TOKENIZER_MODEL = "tokenizer.model"
TOKENIZER_CONFIG = "tokenizer_config.json"
SPECIAL_TOKENS_MAP = "special_tokens_map.json"

#: The paper's Chinese SentencePiece model, as a file name in a tokenizers folder.
CHINESE_SP_MODEL = "chinese_sp.model"

#: Larger files are refused before they are read. Real SentencePiece models are a few MB (LLaMA's
#: is 0.5 MB; 250,000-piece multilingual ones about 5 MB); this leaves a wide margin.
MAX_MODEL_BYTES = 64 * 1024 * 1024

#: Default context size for :func:`context_capacity` (the paper's, section 6.2).
DEFAULT_N_CTX = 2048

# sentencepiece_model_pb2 builds its classes at import time, so type checkers cannot see them;
# these aliases are the one place that admits it.
ModelProto: TypeAlias = Any
_ModelProto: Any = sp_pb2.ModelProto  # type: ignore[attr-defined]
_Piece: Any = _ModelProto.SentencePiece

_GGUF_MAGIC = b"GGUF"
_BYTE_PIECE = re.compile(r"<0x([0-9A-Fa-f]{2})>")
_SURROGATES = re.compile("[\ud800-\udfff]")


class TokenizerError(AppError):
    """A tokenizer file is missing, empty, or not a SentencePiece model."""


# -- reading SentencePiece models ------------------------------------------------------------------

_WHAT_TO_DO = "Choose a tokenizer.model file, a Hugging Face tokenizer folder or a GGUF model."


def _not_sentencepiece(where: str | os.PathLike[str], reason: str, code: str, **params: object) -> TokenizerError:
    return TokenizerError(
        f"{where} is not a SentencePiece model ({reason}). {_WHAT_TO_DO}",
        code=code,
        params={"path": str(where), **params},
    )


def _parse(data: bytes, where: str | os.PathLike[str]) -> ModelProto:
    """Parse ``data`` as a ModelProto, refusing anything that is not a usable one."""
    # An empty byte string is a valid (empty) protobuf message, so check the size first.
    if not data:
        raise _not_sentencepiece(where, "the file is empty", "tokenizer_empty")
    proto = _ModelProto()
    try:
        proto.ParseFromString(data)
    except (DecodeError, RuntimeWarning, ValueError) as exc:
        raise _not_sentencepiece(where, f"it does not parse: {exc}", "tokenizer_invalid", detail=str(exc)) from exc
    # Arbitrary bytes sometimes decode as a message made only of unknown fields; a real model has
    # pieces, and ids 0..2 (unk, bos, eos) are what every LLaMA-family consumer relies on.
    if len(proto.pieces) == 0:
        raise _not_sentencepiece(where, "it has no pieces", "tokenizer_invalid", detail="no pieces")
    if not any(piece.type == _Piece.UNKNOWN for piece in proto.pieces):
        raise _not_sentencepiece(where, "it has no unknown piece", "tokenizer_invalid", detail="no unknown piece")
    return proto


def _check_file(path: Path) -> int:
    """The size of ``path``; a TokenizerError unless it is an existing, readable, not-huge file."""
    if not path.exists():
        raise _not_sentencepiece(path, "the file does not exist", "tokenizer_not_found")
    if not path.is_file():
        raise _not_sentencepiece(path, "it is a folder, not a file", "tokenizer_is_folder")
    size = path.stat().st_size
    if size > MAX_MODEL_BYTES:
        raise _not_sentencepiece(
            path,
            f"it is {size / 2**20:,.0f} MB, far larger than any tokenizer",
            "tokenizer_too_large",
            size_mb=round(size / 2**20),
        )
    return size


def read_model_proto(source: str | os.PathLike[str] | bytes) -> ModelProto:
    """Read and validate a SentencePiece ``ModelProto``.

    Args:
        source: A SentencePiece model file, or the serialized ``ModelProto`` bytes.

    Returns:
        The parsed model (a fresh object the caller may modify).

    Raises:
        TokenizerError: The file is missing, unreadable, empty, huge (over :data:`MAX_MODEL_BYTES`)
            or not a SentencePiece model. Codes: ``tokenizer_not_found``, ``tokenizer_is_folder``,
            ``tokenizer_unreadable``, ``tokenizer_empty``, ``tokenizer_too_large``, ``tokenizer_invalid``.
    """
    if isinstance(source, bytes | bytearray):
        return _parse(bytes(source), "<SentencePiece model bytes>")
    path = Path(source)
    try:
        _check_file(path)
        data = path.read_bytes()
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise _not_sentencepiece(path, f"it cannot be read: {reason}", "tokenizer_unreadable", detail=reason) from exc
    return _parse(data, path)


def _processor(proto_bytes: bytes, where: str | os.PathLike[str]) -> sentencepiece.SentencePieceProcessor:
    try:
        return sentencepiece.SentencePieceProcessor(model_proto=proto_bytes)
    except (RuntimeError, OSError) as exc:
        raise _not_sentencepiece(
            where, f"sentencepiece refused it: {exc}", "tokenizer_rejected", detail=str(exc)
        ) from exc


def load_sentencepiece(path: str | os.PathLike[str]) -> sentencepiece.SentencePieceProcessor:
    """Load a SentencePiece model file safely.

    The file is parsed with protobuf first: sentencepiece's C++ loader can crash the process on
    malformed input, while a protobuf parse error is an ordinary exception.

    Args:
        path: The ``tokenizer.model`` (or any ``.model``) file.

    Returns:
        A ready processor.

    Raises:
        TokenizerError: The file is missing, empty, or not a SentencePiece model.
    """
    proto = read_model_proto(path)
    return _processor(proto.SerializeToString(), path)


# -- GGUF vocabularies -----------------------------------------------------------------------------


def _gguf_error(path: Path, message: str, code: str, **params: object) -> TokenizerError:
    return TokenizerError(message, code=code, params={"path": str(path), **params})


# GGUF metadata value types (gguf.GGUFValueType) -> struct format of one value; 8 is STRING, 9 ARRAY.
_GGUF_SCALARS = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q", 12: "d"}
_GGUF_STRING, _GGUF_ARRAY = 8, 9


class _GGUFMetadata:
    """A minimal reader of a GGUF header's key/value section (versions 2 and 3, either byte order).

    The ``gguf`` package's reader builds numpy views for every part of every string and takes
    seconds on a 50,000-token vocabulary; this one reads only the keys asked for, in tens of
    milliseconds, and never looks at tensors. Malformed input raises ``struct.error``/``ValueError``.
    """

    def __init__(self, data: Any, wanted: set[str]) -> None:
        self._data = data
        self._offset = 4
        version = self._unpack("<I")
        self._order = "<" if version < 0x10000 else ">"
        if self._order == ">":
            version = int.from_bytes(version.to_bytes(4, "little"), "big")
        if version not in (2, 3):
            raise ValueError(f"GGUF version {version} is not supported")
        self._unpack(self._order + "Q")  # tensor count
        n_kv = self._unpack(self._order + "Q")
        self.values: dict[str, Any] = {}
        for _ in range(n_kv):
            key = self._string()
            kind = self._unpack(self._order + "I")
            if key in wanted:
                self.values[key] = self._value(kind)
            else:
                self._skip(kind)

    def _unpack(self, fmt: str) -> Any:
        (value,) = struct.unpack_from(fmt, self._data, self._offset)
        self._offset += struct.calcsize(fmt)
        return value

    def _string(self) -> str:
        length = self._unpack(self._order + "Q")
        end = self._offset + length
        if end > len(self._data):
            raise ValueError("a string runs past the end of the file")
        text = bytes(self._data[self._offset : end]).decode("utf-8", errors="replace")
        self._offset = end
        return text

    def _value(self, kind: int) -> Any:
        if kind == _GGUF_STRING:
            return self._string()
        if kind == _GGUF_ARRAY:
            item_kind = self._unpack(self._order + "I")
            count = self._unpack(self._order + "Q")
            if count > len(self._data):
                raise ValueError("an array is longer than the file")
            if item_kind in _GGUF_SCALARS:
                fmt = f"{self._order}{count}{_GGUF_SCALARS[item_kind]}"
                values = list(struct.unpack_from(fmt, self._data, self._offset))
                self._offset += struct.calcsize(fmt)
                return values
            return [self._value(item_kind) for _ in range(count)]
        if kind in _GGUF_SCALARS:
            return self._unpack(self._order + _GGUF_SCALARS[kind])
        raise ValueError(f"unknown GGUF value type {kind}")

    def _skip(self, kind: int) -> None:
        if kind == _GGUF_ARRAY:
            item_kind = self._unpack(self._order + "I")
            count = self._unpack(self._order + "Q")
            if item_kind in _GGUF_SCALARS:
                self._offset += count * struct.calcsize(_GGUF_SCALARS[item_kind])
            else:
                for _ in range(count):
                    self._skip(item_kind)
        elif kind == _GGUF_STRING:
            length = self._unpack(self._order + "Q")  # (not inlined: _unpack moves the offset itself)
            self._offset += length
        elif kind in _GGUF_SCALARS:
            self._offset += struct.calcsize(_GGUF_SCALARS[kind])
        else:
            raise ValueError(f"unknown GGUF value type {kind}")
        if self._offset > len(self._data):
            raise ValueError("the metadata runs past the end of the file")


def read_gguf_vocab(path: str | os.PathLike[str]) -> tuple[ModelProto, bool]:
    """A GGUF model's vocabulary as a SentencePiece ``ModelProto``.

    Only the ``llama`` tokenizer kind (SentencePiece, "SPM": LLaMA, LLaMA-2, Chinese-LLaMA/Alpaca,
    Mistral) is converted: tokens, scores and token types become pieces (GGUF token types are
    SentencePiece's piece types, the inverse of :mod:`runtime.models.tiny`' table), unk/bos/eos keep
    their ids, and ``tokenizer.ggml.add_space_prefix`` becomes the dummy prefix. sentencepiece's BPE
    encoder and llama.cpp's SPM tokenizer then agree token for token.

    Args:
        path: The ``.gguf`` file. Only its metadata is read (memory-mapped), never the weights.

    Returns:
        The model, and whether the model adds a BOS token (``tokenizer.ggml.add_bos_token``).

    Raises:
        TokenizerError: ``gguf_invalid`` (not a readable GGUF file), ``gguf_no_vocab`` (no
            ``tokenizer.ggml.tokens``), ``gguf_unsupported_vocab`` (not a SentencePiece vocabulary).
    """
    file = Path(path)
    try:
        with file.open("rb") as handle:
            magic = handle.read(4)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise _gguf_error(
            file, f"Cannot read {file}: {reason}. Check the file's permissions.", "tokenizer_unreadable", reason=reason
        ) from exc
    if magic != _GGUF_MAGIC:
        raise _gguf_error(file, f"{file} is not a GGUF file. {_WHAT_TO_DO}", "gguf_invalid", detail="no GGUF signature")
    prefix = "tokenizer.ggml."
    names = ("tokens", "model", "scores", "token_type", "add_bos_token", "add_space_prefix")
    ids = ("unknown", "bos", "eos")
    wanted = {prefix + name for name in names} | {f"{prefix}{name}_token_id" for name in ids}
    try:
        with file.open("rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
            values = _GGUFMetadata(data, wanted).values
    except (OSError, ValueError, struct.error, OverflowError, MemoryError, RecursionError) as exc:
        raise _gguf_error(
            file,
            f"{file} is not a readable GGUF file ({exc}); it may be truncated. Download it again, or choose "
            "a tokenizer.model file or a Hugging Face tokenizer folder.",
            "gguf_invalid",
            detail=str(exc),
        ) from exc
    tokens, kind = values.get(prefix + "tokens"), values.get(prefix + "model")
    scores, types = values.get(prefix + "scores"), values.get(prefix + "token_type")
    add_bos, add_space_prefix = values.get(prefix + "add_bos_token"), values.get(prefix + "add_space_prefix")
    token_ids = {name: values.get(f"{prefix}{name}_token_id") for name in ids}
    if not tokens or not isinstance(tokens, list):
        raise _gguf_error(
            file,
            f"{file} has no vocabulary (no tokenizer.ggml.tokens in its metadata), so it cannot count tokens. "
            "Choose the tokenizer.model that belongs to this model instead.",
            "gguf_no_vocab",
        )
    if kind != "llama":
        raise _gguf_error(
            file,
            f"{file} has a {kind or 'unnamed'} vocabulary; only SentencePiece vocabularies (tokenizer.ggml.model "
            "'llama', as in LLaMA and Chinese-LLaMA/Alpaca) can be compared here. Choose a tokenizer.model file.",
            "gguf_unsupported_vocab",
            kind=str(kind),
        )
    proto = _proto_from_vocab(
        [str(t) for t in tokens],
        scores=list(scores) if scores is not None and len(scores) == len(tokens) else None,
        types=list(types) if types is not None and len(types) == len(tokens) else None,
        unk_id=_int_or(token_ids["unknown"], 0),
        bos_id=_int_or(token_ids["bos"], 1),
        eos_id=_int_or(token_ids["eos"], 2),
        add_dummy_prefix=True if add_space_prefix is None else bool(add_space_prefix),
    )
    return proto, True if add_bos is None else bool(add_bos)


def _int_or(value: Any, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def _proto_from_vocab(
    tokens: list[str],
    *,
    scores: list[float] | None,
    types: list[int] | None,
    unk_id: int,
    bos_id: int,
    eos_id: int,
    add_dummy_prefix: bool,
) -> ModelProto:
    proto = _ModelProto()
    n = len(tokens)
    valid_types = {_Piece.NORMAL, _Piece.UNKNOWN, _Piece.CONTROL, _Piece.USER_DEFINED, _Piece.UNUSED, _Piece.BYTE}
    any_byte = False
    for index, token in enumerate(tokens):
        if types is not None and int(types[index]) in valid_types:
            kind = int(types[index])
        elif index == unk_id:
            kind = _Piece.UNKNOWN
        elif index in (bos_id, eos_id):
            kind = _Piece.CONTROL
        elif _BYTE_PIECE.fullmatch(token):
            kind = _Piece.BYTE
        else:
            kind = _Piece.NORMAL
        any_byte = any_byte or kind == _Piece.BYTE
        score = float(scores[index]) if scores is not None else 0.0
        proto.pieces.append(_Piece(piece=token, score=score, type=kind))
    spec = proto.trainer_spec
    spec.model_type = sp_pb2.TrainerSpec.BPE  # type: ignore[attr-defined]  # llama.cpp's SPM tokenizer is sentencepiece's BPE
    spec.vocab_size = n
    spec.byte_fallback = any_byte
    # sentencepiece finds bos/eos/unk by their piece text, so record both the ids and the spellings.
    for field, index in (("unk", unk_id), ("bos", bos_id), ("eos", eos_id)):
        setattr(spec, f"{field}_id", index if 0 <= index < n else -1)
        if 0 <= index < n:
            setattr(spec, f"{field}_piece", tokens[index])
    spec.pad_id = -1
    normalizer = proto.normalizer_spec
    normalizer.name = "identity"
    normalizer.add_dummy_prefix = add_dummy_prefix
    normalizer.remove_extra_whitespaces = False
    normalizer.escape_whitespaces = True
    return proto


# -- where tokenizers come from --------------------------------------------------------------------


@dataclass(frozen=True)
class KnownTokenizer:
    """A tokenizer the application knows by name.

    Attributes:
        name: The name (``resolve_tokenizer("chinese-llama")``).
        label: What the user sees.
        size: Its number of pieces, checked when it is fetched.
        hub_repo: The Hugging Face hub repository whose ``tokenizer.model`` it is.
        folder: Its folder in a tokenizers directory (``<dir>/<folder>/tokenizer.model``).
    """

    name: str
    label: str
    size: int
    hub_repo: str
    folder: str


KNOWN_TOKENIZERS: dict[str, KnownTokenizer] = {
    known.name: known
    for known in (
        KnownTokenizer("llama", "LLaMA (32,000)", 32_000, "hf-internal-testing/llama-tokenizer", "llama"),
        KnownTokenizer("chinese-llama", "Chinese-LLaMA (49,953)", 49_953, "hfl/chinese-llama-lora-7b", "chinese-llama"),
        KnownTokenizer(
            "chinese-llama-2", "Chinese-LLaMA-2 (55,296)", 55_296, "hfl/chinese-llama-2-7b", "chinese-llama-2"
        ),
    )
}
#: The default pair of the comparison (original against Chinese).
DEFAULT_TOKENIZERS = ("llama", "chinese-llama")


@dataclass(frozen=True)
class TokenizerSpec:
    """Where a tokenizer is, before it is loaded.

    Attributes:
        kind: ``"builtin"`` (a known name; ``path`` is its ``tokenizer.model``), ``"sentencepiece"``
            (a ``.model`` file), ``"hf_folder"`` (a folder holding ``tokenizer.model``; ``path`` is the
            folder) or ``"gguf"`` (a model's vocabulary; ``path`` is the ``.gguf`` file).
        path: The file or folder.
        label: What the user sees.
        trusted: Files the application itself wrote or ships (the known names): no need to check
            them in a separate process before loading.
    """

    kind: str
    path: str
    label: str
    trusted: bool = False


def tokenizer_cache_dir() -> Path:
    """``<cache>/tokenizers``: known tokenizers fetched or merged by the application."""
    from runtime.paths import app_paths

    return app_paths().cache / "tokenizers"


def shared_tokenizer_dir() -> Path:
    """The development/test copy: ``$ALPACA_DESK_SHARED_DATA/tokenizers`` or ``../shared/data/tokenizers``."""
    env = os.environ.get("ALPACA_DESK_SHARED_DATA")
    base = Path(env) if env else Path(__file__).resolve().parents[3] / "shared" / "data"
    return base / "tokenizers"


def _search_dirs(shared_dirs: Sequence[str | os.PathLike[str]] | None) -> list[Path]:
    extra = [shared_tokenizer_dir()] if shared_dirs is None else [Path(d) for d in shared_dirs]
    return [tokenizer_cache_dir(), *extra]


def _find(dirs: list[Path], relative: str) -> Path | None:
    for folder in dirs:
        candidate = folder / relative
        if candidate.is_file():
            return candidate
    return None


def missing_tokenizer_error(known: KnownTokenizer, *, offline: bool = True) -> TokenizerError:
    """The error for a known tokenizer that is not on this computer (code ``tokenizer_missing``)."""
    where = "You are offline; when online" if offline else "When online"
    return TokenizerError(
        f"The {known.label} tokenizer is not on this computer. Add it by opening its {TOKENIZER_MODEL} file "
        f"(or a GGUF model that uses it). {where}, it can be fetched from the Hugging Face hub "
        f"({known.hub_repo}, only {TOKENIZER_MODEL}).",
        code="tokenizer_missing",
        params={"name": known.name, "label": known.label, "repo": known.hub_repo, "size": known.size},
    )


def _label_for(path: Path) -> str:
    if path.name == TOKENIZER_MODEL and path.parent.name:
        return f"{path.parent.name}/{path.name}"
    return path.name


def resolve_tokenizer(
    name_or_path: str | os.PathLike[str], *, shared_dirs: Sequence[str | os.PathLike[str]] | None = None
) -> TokenizerSpec:
    """Find a tokenizer by name or path (nothing is loaded; the network is never used).

    Names (:data:`KNOWN_TOKENIZERS`) are looked up in the application's cache
    (:func:`tokenizer_cache_dir`), then in ``shared_dirs`` (default: :func:`shared_tokenizer_dir`),
    each laid out as ``<name>/tokenizer.model`` (and ``chinese_sp.model``), then in the Hugging Face
    cache (a copy another tool downloaded). ``chinese-llama`` is merged on the fly from ``llama``
    and ``chinese_sp.model`` when both are there, and the result kept in the cache; this takes
    about half a second once, so call it off the GUI thread.

    A path may be a SentencePiece model file, a Hugging Face tokenizer folder (holding
    ``tokenizer.model``) or a GGUF file (recognized by its signature, whatever its name).

    Raises:
        TokenizerError: ``tokenizer_missing`` (a known name not on this computer: the message says
            how to add it), ``tokenizer_not_found`` (neither a name nor an existing path),
            ``tokenizer_folder_without_model`` (a folder without ``tokenizer.model``), or any error
            of :func:`fetch_tokenizer` / :func:`merge_sentencepiece` for a damaged cached file.
    """
    text = os.fspath(name_or_path)
    known = KNOWN_TOKENIZERS.get(text)
    if known is not None:
        return _resolve_known(known, _search_dirs(shared_dirs))
    path = Path(text).expanduser()
    if not path.exists():
        names = ", ".join(KNOWN_TOKENIZERS)
        raise TokenizerError(
            f"No tokenizer named or at {text!r}: the file does not exist. Give one of {names}, or a "
            f"{TOKENIZER_MODEL} file, a Hugging Face tokenizer folder or a GGUF model.",
            code="tokenizer_not_found",
            params={"path": text, "names": names},
        )
    path = path.resolve()
    if path.is_dir():
        model = path / TOKENIZER_MODEL
        if not model.is_file():
            raise TokenizerError(
                f"The folder {path} has no {TOKENIZER_MODEL}. Choose a folder that holds one (a Hugging Face "
                f"tokenizer folder), or the {TOKENIZER_MODEL} or GGUF file itself.",
                code="tokenizer_folder_without_model",
                params={"path": str(path)},
            )
        return TokenizerSpec(kind="hf_folder", path=str(path), label=path.name or str(path))
    try:
        with path.open("rb") as handle:
            magic = handle.read(4)
    except OSError:
        magic = b""  # reading again in load_tokenizer reports why
    kind = "gguf" if magic == _GGUF_MAGIC else "sentencepiece"
    return TokenizerSpec(kind=kind, path=str(path), label=_label_for(path))


def _resolve_known(known: KnownTokenizer, dirs: list[Path]) -> TokenizerSpec:
    relative = f"{known.folder}/{TOKENIZER_MODEL}"
    found = _find(dirs, relative)
    if found is None and known.name == "chinese-llama":
        found = _merge_chinese_llama(dirs)
    if found is None:
        try:
            return fetch_tokenizer(known.name, offline=True)
        except TokenizerError as exc:
            if exc.code != "tokenizer_missing":
                raise
            raise missing_tokenizer_error(known) from None
    return TokenizerSpec(kind="builtin", path=str(found), label=known.label, trusted=True)


def _merge_chinese_llama(dirs: list[Path]) -> Path | None:
    llama = _find(dirs, f"llama/{TOKENIZER_MODEL}")
    if llama is None:
        try:
            llama = Path(fetch_tokenizer("llama", offline=True).path)
        except TokenizerError:
            return None
    chinese = _find(dirs, CHINESE_SP_MODEL)
    if chinese is None:
        return None
    merged = merge_sentencepiece(llama, chinese)
    return write_merged(merged, tokenizer_cache_dir() / KNOWN_TOKENIZERS["chinese-llama"].folder)


def fetch_tokenizer(
    name: str,
    *,
    cache_dir: str | os.PathLike[str] | None = None,
    offline: bool = False,
    hub_cache_dir: str | os.PathLike[str] | None = None,
) -> TokenizerSpec:
    """Get a known tokenizer's ``tokenizer.model`` from the Hugging Face hub (only that file).

    The hub's own cache is used, so a copy any other tool downloaded is found without the network.
    The file is checked (a SentencePiece model of the expected size) and copied to
    ``<cache_dir>/<name>/tokenizer.model``, where :func:`resolve_tokenizer` finds it from then on.
    Blocks for the download: call it off the GUI thread.

    Args:
        name: A key of :data:`KNOWN_TOKENIZERS`.
        cache_dir: Default: :func:`tokenizer_cache_dir`.
        offline: Use only the Hugging Face cache (also implied by ``HF_HUB_OFFLINE=1``).
        hub_cache_dir: The Hugging Face cache (default: the hub's own, ``$HF_HOME/hub``).

    Raises:
        TokenizerError: ``tokenizer_unknown`` (not a known name), ``tokenizer_missing`` (offline
            and not cached), ``tokenizer_fetch_failed`` (the download failed), ``tokenizer_wrong_size``,
            or an error of :func:`read_model_proto` for a damaged download.
    """
    known = KNOWN_TOKENIZERS.get(name)
    if known is None:
        names = ", ".join(KNOWN_TOKENIZERS)
        raise TokenizerError(
            f"There is no known tokenizer named {name!r}; the known ones are {names}.",
            code="tokenizer_unknown",
            params={"name": name, "names": names},
        )
    from huggingface_hub import constants, hf_hub_download

    offline = offline or bool(constants.HF_HUB_OFFLINE)
    try:
        downloaded = Path(
            hf_hub_download(
                known.hub_repo,
                TOKENIZER_MODEL,
                cache_dir=str(hub_cache_dir) if hub_cache_dir is not None else None,
                local_files_only=offline,
            )
        )
    except Exception as exc:  # noqa: BLE001 - hub errors, HTTP errors, OSError, offline mode
        if offline:
            raise missing_tokenizer_error(known, offline=True) from exc
        raise TokenizerError(
            f"Could not fetch the {known.label} tokenizer from the Hugging Face hub ({known.hub_repo}): {exc}. "
            f"Check the connection and try again, or open its {TOKENIZER_MODEL} file.",
            code="tokenizer_fetch_failed",
            params={"name": known.name, "label": known.label, "repo": known.hub_repo, "detail": str(exc)},
        ) from exc
    proto = read_model_proto(downloaded)
    if len(proto.pieces) != known.size:
        raise TokenizerError(
            f"{downloaded} has {len(proto.pieces):,} pieces, not the {known.size:,} of the {known.label} tokenizer; "
            f"it was not used. Open the right {TOKENIZER_MODEL} file instead.",
            code="tokenizer_wrong_size",
            params={"path": str(downloaded), "size": len(proto.pieces), "expected": known.size, "label": known.label},
        )
    target = Path(cache_dir) if cache_dir is not None else tokenizer_cache_dir()
    target = target / known.folder / TOKENIZER_MODEL
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        shutil.copyfile(downloaded, tmp)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return TokenizerSpec(kind="builtin", path=str(target), label=known.label, trusted=True)


# -- loading, counting, segmenting -----------------------------------------------------------------


@dataclass(frozen=True)
class Segmentation:
    """How a tokenizer cuts one text.

    Attributes:
        ids: The token ids (no BOS).
        pieces: Each token's piece (``▁`` for a space or the dummy prefix, ``<0xE7>`` for a byte).
        spans: Each token's ``(start, end)`` character offsets in the caller's text. Spans follow each
            other without gaps or overlaps, except that the byte-fallback pieces of one character
            all carry that character's span, and that a piece made only of the dummy prefix ``▁``
            (which stands for no character of the text) has an empty span. So the distinct spans, in
            order, tile the text exactly.
        byte_fallback: How many pieces are byte-fallback pieces (``<0x..>``).
    """

    ids: list[int]
    pieces: list[str]
    spans: list[tuple[int, int]]
    byte_fallback: int


@dataclass(frozen=True)
class TokenCount:
    """One tokenizer's count of one text.

    Attributes:
        label: The tokenizer's label.
        n_tokens: Tokens of the text (plus BOS only when ``compare(..., add_bos=True)``).
        n_chars: Characters (Unicode code points) of the text.
        chars_per_token: ``n_chars / n_tokens`` (0 for an empty text).
        byte_fallback: Byte-fallback pieces among the tokens.
        ratio_to_first: ``n_tokens`` divided by the first tokenizer's (1.0 for the first).
    """

    label: str
    n_tokens: int
    n_chars: int
    chars_per_token: float
    byte_fallback: int
    ratio_to_first: float


def valid_text(text: str) -> str:
    """``text`` with lone surrogates replaced by U+FFFD (same length), so it encodes as UTF-8."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return _SURROGATES.sub("\ufffd", text)
    return text


class LoadedTokenizer:
    """A ready SentencePiece tokenizer; thread-safe (encoding only reads the model).

    Attributes:
        spec: Where it came from.
        processor: The sentencepiece processor.
        n_vocab: Number of pieces.
        add_bos: Whether the model's prompts start with BOS (``add_bos_token`` of a tokenizer folder
            or GGUF; true for a plain SentencePiece model that has a BOS piece).
        bos_id: The BOS id, or -1.
    """

    def __init__(self, spec: TokenizerSpec, proto: ModelProto, *, add_bos: bool = True) -> None:
        import numpy as np

        self.spec = spec
        self.processor = _processor(proto.SerializeToString(), spec.path)
        self.n_vocab = len(proto.pieces)
        self.bos_id = self.processor.bos_id()
        self.add_bos = bool(add_bos and self.bos_id >= 0)
        self.unk_id = self.processor.unk_id()
        self._pieces = [piece.piece for piece in proto.pieces]
        # Per piece: its length in characters of the normalized text, and whether it is a byte piece.
        # A character spelled in bytes counts once, on its lead byte (continuation bytes 0x80-0xBF
        # count zero), so a cumulative sum of lengths gives every token's end offset.
        char_len = np.zeros(self.n_vocab, dtype=np.int64)
        is_byte = np.zeros(self.n_vocab, dtype=bool)
        for index, piece in enumerate(proto.pieces):
            if piece.type == _Piece.BYTE and (match := _BYTE_PIECE.fullmatch(piece.piece)):
                is_byte[index] = True
                char_len[index] = 0 if 0x80 <= int(match.group(1), 16) < 0xC0 else 1
            elif piece.type in (_Piece.NORMAL, _Piece.USER_DEFINED):
                char_len[index] = len(piece.piece)
        self._char_len = char_len
        self._is_byte = is_byte
        normalizer = proto.normalizer_spec
        # Piece lengths add up to offsets in the original text only when normalization is the
        # identity plus "space -> ▁" (and the dummy prefix): LLaMA's and every tokenizer derived from
        # it. Others (NFKC, whitespace folding) take the slower path through sentencepiece's offsets.
        self._fast_spans = (
            normalizer.name == "identity"
            and not normalizer.precompiled_charsmap
            and not normalizer.remove_extra_whitespaces
            and normalizer.escape_whitespaces
            and not proto.trainer_spec.treat_whitespace_as_suffix
        )
        self._dummy_prefix = 1 if normalizer.add_dummy_prefix else 0

    @property
    def label(self) -> str:
        """The spec's label."""
        return self.spec.label

    def __repr__(self) -> str:
        return f"LoadedTokenizer({self.spec.label!r}, n_vocab={self.n_vocab})"

    def encode(self, text: str) -> list[int]:
        """Token ids of ``text``, without BOS."""
        return self.processor.encode(valid_text(text))

    def count(self, text: str, *, add_bos: bool = False) -> int:
        """Number of tokens of ``text`` (plus one for BOS if ``add_bos`` and the model adds one)."""
        return len(self.encode(text)) + (1 if add_bos and self.add_bos else 0)

    def byte_fallback_count(self, ids: Sequence[int]) -> int:
        """How many of ``ids`` are byte-fallback pieces."""
        import numpy as np

        if not ids:
            return 0
        return int(np.count_nonzero(self._is_byte[np.asarray(ids, dtype=np.int64)]))

    def segment(self, text: str) -> Segmentation:
        """Tokens of ``text`` with their pieces and exact character spans (see :class:`Segmentation`)."""
        import numpy as np

        clean = valid_text(text)
        ids = self.processor.encode(clean)
        if not ids:
            return Segmentation(ids=[], pieces=[], spans=[], byte_fallback=0)
        array = np.asarray(ids, dtype=np.int64)
        spans = self._fast_span_arrays(array, len(text)) if self._fast_spans else None
        if spans is None:
            array, starts, ends = self._proto_span_arrays(clean)
            ids = array.tolist()
        else:
            starts, ends = spans
        pieces = [self._pieces[i] for i in ids]
        return Segmentation(
            ids=ids,
            pieces=pieces,
            spans=list(zip(starts.tolist(), ends.tolist(), strict=True)),
            byte_fallback=int(np.count_nonzero(self._is_byte[array])),
        )

    def _fast_span_arrays(self, ids: Any, n_chars: int) -> tuple[Any, Any] | None:
        import numpy as np

        if self.unk_id >= 0 and bool(np.any(ids == self.unk_id)):
            return None  # an unknown piece's length is not its piece's: ask sentencepiece
        lengths = self._char_len[ids]
        ends = np.cumsum(lengths)
        starts = ends - lengths
        is_byte = self._is_byte[ids]
        starts[is_byte] = ends[is_byte] - 1  # every byte piece of a character: that character
        if self._dummy_prefix:
            # Offsets so far are in "▁" + text; the dummy prefix itself is no character of the text.
            np.subtract(starts, 1, out=starts)
            np.subtract(ends, 1, out=ends)
            np.maximum(starts, 0, out=starts)
            np.maximum(ends, 0, out=ends)
        if int(ends[-1]) != n_chars:
            return None  # some normalization after all: the exact path below is always right
        return starts, ends

    def _proto_span_arrays(self, clean: str) -> tuple[Any, Any, Any]:
        """Spans from sentencepiece's own alignment (byte offsets into the original text)."""
        import numpy as np

        result = _encode_with_offsets(self.processor, clean)
        pieces = result.pieces
        ids = np.fromiter((p.id for p in pieces), dtype=np.int64, count=len(pieces))
        begins = np.fromiter((p.begin for p in pieces), dtype=np.int64, count=len(pieces))
        ends = np.fromiter((p.end for p in pieces), dtype=np.int64, count=len(pieces))
        data = np.frombuffer(clean.encode("utf-8"), dtype=np.uint8)
        # Byte offset -> character offset: the number of characters (lead bytes) before it.
        char_at = np.zeros(len(data) + 1, dtype=np.int64)
        np.cumsum((data & 0xC0) != 0x80, out=char_at[1:])
        starts, stops = char_at[begins], char_at[ends]
        is_byte = self._is_byte[ids]
        # sentencepiece gives the leading byte pieces of a character an empty span and the last one
        # the character: give them all the character's span.
        for index in range(len(ids) - 2, -1, -1):
            if is_byte[index] and is_byte[index + 1] and starts[index] == stops[index] == starts[index + 1]:
                stops[index] = stops[index + 1]
        return ids, starts, stops


def _encode_with_offsets(processor: sentencepiece.SentencePieceProcessor, text: str) -> Any:
    try:
        return processor.encode(text, out_type="proto")  # sentencepiece >= 0.2.1
    except (ValueError, TypeError):
        return processor.encode(text, out_type="immutable_proto")  # type: ignore[arg-type]  # sentencepiece 0.2.0


_CACHE_SIZE = 8
_cache: OrderedDict[tuple[Any, ...], LoadedTokenizer] = OrderedDict()
_cache_lock = threading.Lock()


def _read_add_bos(folder: Path) -> bool:
    try:
        config = json.loads((folder / TOKENIZER_CONFIG).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return True  # no (readable) config: LlamaTokenizer's default
    value = config.get("add_bos_token", True) if isinstance(config, dict) else True
    return value if isinstance(value, bool) else True


def load_tokenizer(spec: TokenizerSpec) -> LoadedTokenizer:
    """Load a resolved tokenizer; the last few are kept, keyed by path and modification time.

    The file is parsed and checked with protobuf (:func:`read_model_proto`) or the ``gguf`` reader
    before sentencepiece sees it. For files the user chose, run the ``tokenizer-check`` job
    (:mod:`runtime.jobs`) first: a model that passes the checks could still crash sentencepiece.

    Raises:
        TokenizerError: The file is missing or not a usable tokenizer (the codes of
            :func:`read_model_proto` and :func:`read_gguf_vocab`, and ``tokenizer_rejected``).
    """
    path = Path(spec.path)
    model_file = path / TOKENIZER_MODEL if spec.kind == "hf_folder" else path
    try:
        stat = model_file.stat()
        key: tuple[Any, ...] = (spec.kind, str(model_file), stat.st_mtime_ns, stat.st_size, spec.label)
    except OSError:
        key = ()
    if key:
        with _cache_lock:
            cached = _cache.get(key)
            if cached is not None:
                _cache.move_to_end(key)
                return cached
    if spec.kind == "gguf":
        proto, add_bos = read_gguf_vocab(path)
    else:
        proto = read_model_proto(model_file)
        add_bos = _read_add_bos(path) if spec.kind == "hf_folder" else True
    tokenizer = LoadedTokenizer(spec, proto, add_bos=add_bos)
    if key:
        with _cache_lock:
            _cache[key] = tokenizer
            while len(_cache) > _CACHE_SIZE:
                _cache.popitem(last=False)
    return tokenizer


def compare(text: str, tokenizers: Sequence[LoadedTokenizer], *, add_bos: bool = False) -> list[TokenCount]:
    """Count ``text`` under each tokenizer; ratios are to the first one.

    Args:
        text: Any text: NULs, emoji, mixed scripts and lone surrogates (replaced by U+FFFD) count.
        tokenizers: The tokenizers, in display order.
        add_bos: Count the BOS token a model puts in front of a prompt (for each tokenizer whose
            model adds one). Off by default: the counts are those of the text alone, and equal
            ``llama_cpp.Llama.tokenize(text.encode(), add_bos=False)`` for a GGUF's own vocabulary.
    """
    clean = valid_text(text)
    n_chars = len(text)
    rows: list[tuple[str, int, int]] = []
    for tokenizer in tokenizers:
        ids = tokenizer.processor.encode(clean)
        n_tokens = len(ids) + (1 if add_bos and tokenizer.add_bos else 0)
        rows.append((tokenizer.spec.label, n_tokens, tokenizer.byte_fallback_count(ids)))
    first = rows[0][1] if rows else 0
    return [
        TokenCount(
            label=label,
            n_tokens=n_tokens,
            n_chars=n_chars,
            chars_per_token=n_chars / n_tokens if n_tokens else 0.0,
            byte_fallback=byte_fallback,
            ratio_to_first=n_tokens / first if first else 1.0,
        )
        for label, n_tokens, byte_fallback in rows
    ]


def context_capacity(count: TokenCount, n_ctx: int = DEFAULT_N_CTX) -> int:
    """About how many characters of text like the counted one fit in ``n_ctx`` tokens (0 if unknown)."""
    if count.n_tokens <= 0 or n_ctx <= 0:
        return 0
    return int(n_ctx * count.n_chars / count.n_tokens)


# -- vocabulary sizes ------------------------------------------------------------------------------


@dataclass(frozen=True)
class VocabWarning:
    """A vocabulary/embedding size mismatch: ``message`` in English, ``code``/``params`` to translate."""

    message: str
    code: str
    params: dict[str, object]


LLAMA_VOCAB = 32_000
CHINESE_LLAMA_VOCAB = 49_953
CHINESE_ALPACA_VOCAB = 49_954


def vocab_mismatch(tokenizer_size: int, embedding_rows: int) -> VocabWarning | None:
    """Why a tokenizer of ``tokenizer_size`` pieces does not fit a model with ``embedding_rows`` rows.

    None when they match. The classic mistakes get their own explanation: the original LLaMA
    tokenizer (32,000) with Chinese-LLaMA/Alpaca weights, and Chinese-LLaMA (49,953) against
    Chinese-Alpaca (49,954, the same vocabulary plus a pad token).
    """
    if tokenizer_size == embedding_rows:
        return None
    params: dict[str, object] = {"tokenizer": tokenizer_size, "rows": embedding_rows}
    sizes = {tokenizer_size, embedding_rows}
    head = f"The tokenizer has {tokenizer_size:,} pieces but the model has {embedding_rows:,} embedding rows."
    if sizes == {CHINESE_LLAMA_VOCAB, CHINESE_ALPACA_VOCAB}:
        return VocabWarning(
            f"{head} Chinese-LLaMA (49,953) and Chinese-Alpaca (49,954: the same vocabulary plus a pad "
            "token) must not be mixed: merging LoRA weights or converting the model fails or shifts the "
            "last row. Use the tokenizer that came with these weights (Alpaca's for Alpaca, LLaMA's for LLaMA).",
            "vocab_llama_alpaca_mismatch",
            params,
        )
    if LLAMA_VOCAB in sizes and sizes & {CHINESE_LLAMA_VOCAB, CHINESE_ALPACA_VOCAB}:
        return VocabWarning(
            f"{head} That is the original LLaMA vocabulary (32,000) against the extended Chinese one "
            "(49,953, or 49,954 for Alpaca): Chinese-LLaMA/Alpaca weights need the merged Chinese tokenizer, "
            "and the original LLaMA weights need LLaMA's. Mixing them breaks merging and conversion.",
            "vocab_llama_chinese_mismatch",
            params,
        )
    return VocabWarning(
        f"{head} They must be equal for merging and conversion; use the tokenizer that belongs to these weights.",
        "vocab_size_mismatch",
        params,
    )


def check_vocab_matches(tokenizer_size: int, embedding_rows: int) -> str | None:
    """The warning text of :func:`vocab_mismatch`, or None when the sizes match."""
    warning = vocab_mismatch(tokenizer_size, embedding_rows)
    return None if warning is None else warning.message


# -- the Chinese-LLaMA merge -----------------------------------------------------------------------


@dataclass(frozen=True)
class MergeResult:
    """A merged SentencePiece vocabulary.

    Attributes:
        model_proto_bytes: The serialized ``ModelProto``: the content of a ``tokenizer.model`` file.
        base_size: Pieces in the base model (all kept, unchanged, at their original ids).
        added: Pieces appended from the addition model (not counting the pad piece).
        final_size: Pieces in the merged model, pad piece included.
        pad_token: The appended pad piece (its id is ``final_size - 1``), or None.
    """

    model_proto_bytes: bytes
    base_size: int
    added: int
    final_size: int
    pad_token: str | None = None

    def processor(self) -> sentencepiece.SentencePieceProcessor:
        """A SentencePiece processor for the merged vocabulary."""
        return sentencepiece.SentencePieceProcessor(model_proto=self.model_proto_bytes)

    def model_proto(self) -> ModelProto:
        """A fresh, mutable ``ModelProto`` of the merged vocabulary."""
        return _parse(self.model_proto_bytes, "<merged tokenizer>")


def merge_sentencepiece(
    base: str | os.PathLike[str],
    addition: str | os.PathLike[str],
    *,
    pad_token: str | None = None,
) -> MergeResult:
    """Merge two SentencePiece vocabularies the way Chinese-LLaMA did (paper section 4.2).

    Every base piece is kept unchanged (piece, score, type) and in order, so token ids of the base
    model stay valid. Each addition piece the base lacks is appended, in the addition model's order,
    as a NORMAL piece with score 0. The base model's trainer and normalizer settings are kept, so the
    merged model still byte-falls-back like LLaMA's.

    Args:
        base: The base model file (LLaMA's ``tokenizer.model``).
        addition: The model whose pieces are added (the paper's Chinese SentencePiece model).
        pad_token: If given, this piece is appended last as a USER_DEFINED piece (Chinese-Alpaca's
            pad token; :data:`DEFAULT_PAD_TOKEN` is the usual spelling).

    Returns:
        The merged model and its size accounting.

    Raises:
        TokenizerError: Either file is not a SentencePiece model.
        ValueError: ``pad_token`` is empty or already a piece of the merged vocabulary.
    """
    merged = read_model_proto(base)
    extra = read_model_proto(addition)
    base_size = len(merged.pieces)
    known = {piece.piece for piece in merged.pieces}
    added = 0
    for piece in extra.pieces:
        if piece.piece in known:
            continue
        # Score 0 is what the paper's merge script uses; it is above every (negative) LLaMA score,
        # so the BPE merges prefer the new Chinese pieces, which is the point of the merge.
        merged.pieces.append(_Piece(piece=piece.piece, score=0.0, type=_Piece.NORMAL))
        known.add(piece.piece)
        added += 1
    if pad_token is not None:
        if not pad_token:
            raise ValueError("pad_token must be a non-empty string")
        if pad_token in known:
            raise ValueError(f"pad_token {pad_token!r} is already a piece of the merged vocabulary")
        # USER_DEFINED (not CONTROL) so that the piece survives encode/decode like Hugging Face's
        # added pad token, and sentencepiece accepts it without touching trainer_spec.pad_id.
        merged.pieces.append(_Piece(piece=pad_token, score=0.0, type=_Piece.USER_DEFINED))
    return MergeResult(
        model_proto_bytes=merged.SerializeToString(),
        base_size=base_size,
        added=added,
        final_size=len(merged.pieces),
        pad_token=pad_token,
    )


def _piece_at(proto: ModelProto, index: int, fallback: str) -> str:
    if 0 <= index < len(proto.pieces):
        return proto.pieces[index].piece
    return fallback


def write_merged(result: MergeResult, out_dir: str | os.PathLike[str]) -> Path:
    """Write a merged vocabulary as ``tokenizer.model`` plus a minimal Hugging Face tokenizer folder.

    The folder holds ``tokenizer.model``, ``tokenizer_config.json`` (``LlamaTokenizer``, bos/eos/unk,
    ``add_bos_token`` true) and ``special_tokens_map.json``: what ``AutoTokenizer.from_pretrained``
    and llama.cpp's converter expect beside LLaMA weights.

    Args:
        result: The merge to write.
        out_dir: The folder (created if needed); existing files of the same names are replaced.

    Returns:
        The path of the written ``tokenizer.model``.
    """
    proto = result.model_proto()
    spec = proto.trainer_spec
    special = {
        "bos_token": _piece_at(proto, spec.bos_id, "<s>"),
        "eos_token": _piece_at(proto, spec.eos_id, "</s>"),
        "unk_token": _piece_at(proto, spec.unk_id, "<unk>"),
    }
    if result.pad_token is not None:
        special["pad_token"] = result.pad_token
    config = {
        "tokenizer_class": "LlamaTokenizer",
        **special,
        "add_bos_token": True,
        "add_eos_token": False,
        # legacy=True keeps Hugging Face's tokenization identical to plain sentencepiece (and so to
        # llama.cpp), which is how the Chinese-LLaMA tokenizers were published.
        "legacy": True,
        "clean_up_tokenization_spaces": False,
        "sp_model_kwargs": {},
    }
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    model_path = folder / TOKENIZER_MODEL
    _write_atomic(model_path, result.model_proto_bytes)
    _write_atomic(folder / TOKENIZER_CONFIG, _json_bytes(config))
    _write_atomic(folder / SPECIAL_TOKENS_MAP, _json_bytes(special))
    return model_path


def _json_bytes(value: object) -> bytes:
    return (json.dumps(value, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def _write_atomic(path: Path, data: bytes) -> None:
    # A reader (or a crash) never sees half a file: write beside it, then rename over it. The thread
    # id keeps two threads of one process that write the same file apart.
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
