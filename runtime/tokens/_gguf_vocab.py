"""A GGUF model's vocabulary as a SentencePiece model, read from the file's metadata alone.

Only the metadata is parsed (memory-mapped, bounds-checked), never the tensors, so a multi-GB model
file costs a few MB here.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sentencepiece import sentencepiece_model_pb2 as sp_pb2

from runtime.tokens._spm import _BYTE_PIECE, _GGUF_MAGIC, _WHAT_TO_DO, ModelProto, TokenizerError, _ModelProto, _Piece

# -- GGUF vocabularies -----------------------------------------------------------------------------


def _gguf_error(path: Path, message: str, code: str, **params: object) -> TokenizerError:
    return TokenizerError(message, code=code, params={"path": str(path), **params})


def _plain(field: Any) -> Any:
    """A header field's value as Python values: text for a string, a list for an array."""
    from runtime.gguf_header import StringArray

    if field is None:
        return None
    if isinstance(field.value, memoryview):
        return bytes(field.value).decode("utf-8", errors="replace")
    if isinstance(field.value, StringArray):
        return [bytes(item).decode("utf-8", errors="replace") for item in field.value]
    if field.is_array:
        return field.value.tolist()
    return field.value


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
    # Imported here: it pulls in numpy and gguf, which counting with a tokenizer.model does not need.
    from runtime.gguf_header import read_header

    try:
        fields = read_header(file).fields
        values = {key: _plain(fields.get(key)) for key in wanted}
    except (OSError, ValueError, MemoryError) as exc:
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
