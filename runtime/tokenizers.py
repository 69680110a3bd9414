"""SentencePiece tokenizers: safe loading and the Chinese-LLaMA vocabulary merge.

Chinese-LLaMA (Cui, Yang and Yao, arXiv 2304.08177, section 4.2) extends LLaMA's 32,000-piece
SentencePiece vocabulary with a 20,000-piece Chinese model: every LLaMA piece stays where it is (so
the original embeddings keep their rows) and every Chinese piece LLaMA lacks is appended with score 0.
The result is the 49,953-piece Chinese-LLaMA vocabulary; Chinese-Alpaca adds one pad token (49,954).

Everything here works on the ``ModelProto`` protobuf that sentencepiece itself ships
(``sentencepiece_model_pb2``), so the files written are ordinary SentencePiece models.
"""

from __future__ import annotations

import json
import os
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

# sentencepiece_model_pb2 builds its classes at import time, so type checkers cannot see them;
# these aliases are the one place that admits it.
ModelProto: TypeAlias = Any
_ModelProto: Any = sp_pb2.ModelProto  # type: ignore[attr-defined]
_Piece: Any = _ModelProto.SentencePiece


class TokenizerError(AppError):
    """A tokenizer file is missing, empty, or not a SentencePiece model."""


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


def _not_sentencepiece(where: str | os.PathLike[str], reason: str) -> TokenizerError:
    return TokenizerError(f"{where} is not a SentencePiece model ({reason}).")


def _parse(data: bytes, where: str | os.PathLike[str]) -> ModelProto:
    """Parse ``data`` as a ModelProto, refusing anything that is not a usable one."""
    # An empty byte string is a valid (empty) protobuf message, so check the size first.
    if not data:
        raise _not_sentencepiece(where, "the file is empty")
    proto = _ModelProto()
    try:
        proto.ParseFromString(data)
    except (DecodeError, RuntimeWarning, ValueError) as exc:
        raise _not_sentencepiece(where, f"it does not parse: {exc}") from exc
    # Arbitrary bytes sometimes decode as a message made only of unknown fields; a real model has
    # pieces, and ids 0..2 (unk, bos, eos) are what every LLaMA-family consumer relies on.
    if len(proto.pieces) == 0:
        raise _not_sentencepiece(where, "it has no pieces")
    if not any(piece.type == _Piece.UNKNOWN for piece in proto.pieces):
        raise _not_sentencepiece(where, "it has no unknown piece")
    return proto


def read_model_proto(source: str | os.PathLike[str] | bytes) -> ModelProto:
    """Read and validate a SentencePiece ``ModelProto``.

    Args:
        source: A SentencePiece model file, or the serialized ``ModelProto`` bytes.

    Returns:
        The parsed model (a fresh object the caller may modify).

    Raises:
        TokenizerError: The file is missing, unreadable, empty, or not a SentencePiece model.
    """
    if isinstance(source, bytes | bytearray):
        return _parse(bytes(source), "<SentencePiece model bytes>")
    path = Path(source)
    if not path.exists():
        raise _not_sentencepiece(path, "the file does not exist")
    if not path.is_file():
        raise _not_sentencepiece(path, "it is a folder, not a file")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise _not_sentencepiece(path, f"it cannot be read: {exc.strerror or exc}") from exc
    return _parse(data, path)


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
    try:
        return sentencepiece.SentencePieceProcessor(model_proto=proto.SerializeToString())
    except (RuntimeError, OSError) as exc:
        raise _not_sentencepiece(path, f"sentencepiece refused it: {exc}") from exc


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
    # A reader (or a crash) never sees half a file: write beside it, then rename over it.
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
