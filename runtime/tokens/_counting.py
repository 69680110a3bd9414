"""Loaded tokenizers: counting, comparing and segmenting text with exact character spans."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sentencepiece

from runtime.tokens._gguf_vocab import read_gguf_vocab
from runtime.tokens._known import TokenizerSpec
from runtime.tokens._spm import (
    _BYTE_PIECE,
    _SURROGATES,
    DEFAULT_N_CTX,
    TOKENIZER_CONFIG,
    TOKENIZER_MODEL,
    ModelProto,
    _Piece,
    _processor,
    read_model_proto,
)
from runtime.untrusted_json import read_json_file

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


#: A tokenizer_config.json is a few kilobytes (with every added token, a few hundred).
MAX_TOKENIZER_CONFIG_BYTES = 4 * 1024 * 1024
_CACHE_SIZE = 8
_cache: OrderedDict[tuple[Any, ...], LoadedTokenizer] = OrderedDict()
_cache_lock = threading.Lock()


def _read_add_bos(folder: Path) -> bool:
    try:
        config = read_json_file(folder / TOKENIZER_CONFIG, max_bytes=MAX_TOKENIZER_CONFIG_BYTES)
    except (OSError, ValueError):  # UntrustedJsonError is a ValueError
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
