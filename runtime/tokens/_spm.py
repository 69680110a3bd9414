"""Reading SentencePiece models safely: size and format checks before sentencepiece sees the bytes.

Also the names every module of this package shares: :class:`TokenizerError`, the file names of a
tokenizer folder, and the ``ModelProto`` alias.
"""

from __future__ import annotations

import os
import re
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
