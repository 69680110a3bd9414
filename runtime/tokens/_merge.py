"""The Chinese-LLaMA vocabulary merge (paper section 4.2) and vocabulary-size checks."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import sentencepiece

from runtime.paths import write_atomic
from runtime.tokens._spm import (
    SPECIAL_TOKENS_MAP,
    TOKENIZER_CONFIG,
    TOKENIZER_MODEL,
    ModelProto,
    _parse,
    _Piece,
    read_model_proto,
)

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
    write_atomic(model_path, result.model_proto_bytes)
    write_atomic(folder / TOKENIZER_CONFIG, _json_bytes(config))
    write_atomic(folder / SPECIAL_TOKENS_MAP, _json_bytes(special))
    return model_path


def _json_bytes(value: object) -> bytes:
    return (json.dumps(value, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
