"""What a run trains with, found before it starts: the tokenizer (with the pad token its script adds),
the spec with its recipe filled in, the training sequences, and the previews of both.

torch-free: the scripts on the GPU host, ``alpaca-desk train preview`` and the training tab's
dataset preview all use it, so what is shown is what the run trains on.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sentencepiece

from runtime.tokens import TokenizerError
from runtime.training.added_tokens import ADDED_TOKENS_FILE, AddedTokensError, read_added_tokens
from runtime.training.data import (
    PREVIEW_BYTES,
    PREVIEW_CHARS,
    DatasetError,
    PreviewRow,
    iter_lines,
    load_processor,
    read_sft_records,
    sft_example,
    tokenizer_file,
)
from runtime.training.evaluation import held_out_count
from runtime.training.presets import GENERATION_2_SIZE, generation_of, resolve, total_steps, warmup_steps
from runtime.training.spec import JobSpec
from runtime.training.token_cache import RUN_CACHE_DIR, TokenDataset, load_or_build

log = logging.getLogger("runtime.training")

#: The pad token generation 1's SFT script adds to a tokenizer without one (``DEFAULT_PAD_TOKEN``).
SFT_PAD_TOKEN = "[PAD]"


def added_tokens(path: str | os.PathLike[str], pieces: int) -> dict[str, int]:
    """The tokens of ``added_tokens.json`` beside the tokenizer of ``pieces`` pieces (``{}`` without one).

    Raises:
        TokenizerError: The file is there but unreadable, not an object of token → id, or its ids do
            not follow the pieces in turn.
    """
    file = tokenizer_file(path).parent / ADDED_TOKENS_FILE
    if not file.is_file():
        return {}
    try:
        return read_added_tokens(file, pieces)
    except AddedTokensError as exc:
        raise TokenizerError(
            f"{file} cannot be used with the {pieces:,} pieces of the tokenizer.model beside it ({exc.reason}). "
            "Put there the tokenizer.model and added_tokens.json that were saved together; training did not start.",
            code="training_added_tokens_bad",
            params={"path": str(file), "pieces": f"{pieces:,}", "reason": exc.reason},
        ) from exc


@dataclass(frozen=True)
class TrainingTokenizer:
    """The tokenizer a run trains with.

    Attributes:
        processor: The SentencePiece model (``tokenizer.model``).
        size: Its vocabulary as ``len(LlamaTokenizer)`` counts it: pieces, added tokens, and the pad
            token added for the run (the model's embeddings are resized to this).
        pad: The pad token's id.
        added: Tokens beyond the pieces (``added_tokens.json``, and the pad added here), token → id.
        pad_added: Whether the pad token was added for this run (it was not in the tokenizer's files).
    """

    processor: sentencepiece.SentencePieceProcessor
    size: int
    pad: int
    added: dict[str, int]
    pad_added: bool = False


def tokenizer_size(path: str | os.PathLike[str]) -> int:
    """The tokenizer's size as ``len(LlamaTokenizer)`` counts it: pieces plus ``added_tokens.json``."""
    processor = load_processor(path)
    pieces = int(processor.get_piece_size())
    return _size(pieces, added_tokens(path, pieces))


def _size(pieces: int, added: dict[str, int]) -> int:
    return max([pieces - 1, *added.values()]) + 1


def training_tokenizer(path: str | os.PathLike[str], kind: str, generation: int) -> TrainingTokenizer:
    """Load the tokenizer of a ``kind`` run of ``generation``, with the pad token its script gives it.

    Generation 1's SFT script adds ``[PAD]`` to a tokenizer without a pad token (Chinese-LLaMA's
    49,953 pieces become Chinese-Alpaca's 49,954); generation 2's SFT script accepts only
    Chinese-LLaMA-2's 55,296-piece tokenizer (which has ``<pad>``). Elsewhere a batch is padded with
    ``<pad>`` or UNK (masked out of attention and loss, so any id works).

    Raises:
        TokenizerError: Missing, not SentencePiece, or (generation 2 SFT) not 55,296 pieces.
    """
    processor = load_processor(path)
    pieces = int(processor.get_piece_size())
    added = added_tokens(path, pieces)
    size = _size(pieces, added)
    pad = _pad_of(processor, added)
    if kind == "sft" and generation == 2 and size != GENERATION_2_SIZE:
        raise TokenizerError(
            f"The tokenizer {tokenizer_file(path)} has {size:,} tokens; Chinese-Alpaca-2's instruction tuning "
            f"(run_sft.sh) takes Chinese-LLaMA-2's tokenizer of {GENERATION_2_SIZE:,}. Use that tokenizer, "
            "or set the spec's generation to 1.",
            code="tokenizer_wrong_size",
            params={
                "path": str(tokenizer_file(path)),
                "size": size,
                "expected": GENERATION_2_SIZE,
                "label": "Chinese-LLaMA-2",
            },
        )
    if pad is None and kind == "sft" and generation == 1:
        return TrainingTokenizer(processor, size + 1, size, {**added, SFT_PAD_TOKEN: size}, pad_added=True)
    if pad is None:
        pad = max(0, int(processor.unk_id()))
    return TrainingTokenizer(processor, size, pad, added)


def _pad_of(processor: sentencepiece.SentencePieceProcessor, added: dict[str, int]) -> int | None:
    for token in (SFT_PAD_TOKEN, "<pad>"):
        if token in added:
            return added[token]
    piece = processor.piece_to_id("<pad>")
    if piece != processor.unk_id() and processor.id_to_piece(piece) == "<pad>":
        return int(piece)
    return None


def pad_id(processor: sentencepiece.SentencePieceProcessor) -> int:
    """The id used to pad batches: a ``<pad>`` piece if the vocabulary has one, else UNK's."""
    pad = _pad_of(processor, {})
    return pad if pad is not None else max(0, int(processor.unk_id()))


def resolve_spec(spec: JobSpec) -> tuple[JobSpec, TrainingTokenizer]:
    """The spec with its generation and recipe filled in (:func:`runtime.training.presets.resolve`),
    and the tokenizer the run trains with (the pad token added where the generation's script adds it).

    Raises:
        TokenizerError: The tokenizer cannot be loaded, or does not fit the generation's SFT.
    """
    path = spec.tokenizer or spec.model
    resolved = resolve(spec, tokenizer_size(path))
    return resolved, training_tokenizer(path, resolved.kind, resolved.generation)


def token_dataset(
    spec: JobSpec,
    tokenizer: TrainingTokenizer,
    cache_dir: str | os.PathLike[str],
    *,
    dataset: str | os.PathLike[str] | None = None,
) -> TokenDataset:
    """The training sequences of a resolved ``spec``'s dataset, or of ``dataset`` (a validation file,
    built with the same recipe), read from the token cache in ``cache_dir`` (tokenized into it the
    first time: :mod:`runtime.training.token_cache`). At most ``max_examples`` pre-training blocks,
    or the sequences of the first ``max_examples`` SFT records (0: all); SFT records whose prompt
    fills the whole sequence are left out and counted (``left_out``, ``first_left_out``).

    Raises:
        DatasetError: As for reading the dataset.
        OSError: ``cache_dir`` cannot be written.
    """
    assert spec.block_size is not None, "a resolved spec"
    return load_or_build(
        spec.kind,
        dataset if dataset is not None else spec.dataset,
        tokenizer.processor,
        cache_dir,
        block_size=spec.block_size,
        generation=spec.generation,
        max_examples=spec.max_examples,
    )


def run_sequences(
    spec: JobSpec, tokenizer: TrainingTokenizer, *, dataset: str | os.PathLike[str] | None = None
) -> TokenDataset:
    """What a run of a resolved ``spec`` trains on: :func:`token_dataset` of its dataset (or of
    ``dataset``: a validation file), with the token cache beside the run's output
    (:data:`runtime.training.token_cache.RUN_CACHE_DIR`), checked.

    Raises:
        DatasetError: As for reading the dataset; ``training_dataset_too_small`` (no sequence at all)
            or ``training_prompt_too_long`` (every record's prompt fills its sequence).
    """
    assert spec.block_size is not None, "a resolved spec"
    path = dataset if dataset is not None else spec.dataset
    cache = Path(spec.output_dir or ".").resolve() / RUN_CACHE_DIR
    sequences = token_dataset(spec, tokenizer, cache, dataset=path)
    first = sequences.first_left_out
    if first:
        log.warning(
            "%s: %d records left out, their prompt filling the %d tokens of a sequence (the first: record %d)",
            path,
            sequences.left_out,
            spec.block_size,
            first[0],
        )
    if not len(sequences) and first:
        others = sequences.left_out - 1
        raise DatasetError(
            f"Record {first[0]} of {path} has a prompt (instruction and input) longer than the "
            f"{spec.block_size} tokens of a training sequence, so none of its answer can be learned"
            + (f", and so have the other {others} records" if others else "")
            + ". Shorten the instruction and input, or raise the block size.",
            code="training_prompt_too_long",
            params={"path": str(path), "index": first[0], "block_size": spec.block_size},
        )
    if not len(sequences):
        raise DatasetError(
            f"The dataset {path} gives no training sequence of {spec.block_size} tokens; "
            "use more text or a smaller block size.",
            code="training_dataset_too_small",
            params={"path": str(path), "block_size": spec.block_size},
        )
    return sequences


def preview_cache_dir() -> Path:
    """Where previews (``train preview``, the training tab's) keep their token cache: the app's cache
    folder (a run keeps its own beside its output)."""
    from runtime.paths import app_paths

    return app_paths().cache / "training-data"


def run_preview(spec: JobSpec, *, cache_dir: str | os.PathLike[str], examples: int = 3) -> dict[str, Any]:
    """What a run of ``spec`` trains with, before it starts (``alpaca-desk train preview``).

    The dataset is read from the token cache in ``cache_dir`` (tokenized into it the first time).

    Returns:
        ``resolved``: the spec with its generation and recipe filled in, plus ``total_steps`` and
        ``warmup_steps`` (counted from the whole dataset, less the held-out share, unless
        ``max_steps`` is set);
        ``tokenizer_size``: the tokenizer's size with the pad token the run adds; ``examples``: the
        first ``examples`` training sequences, each ``input_ids`` and ``labels``.

    Raises:
        DatasetError, TokenizerError: As for a run.
    """
    resolved, tokenizer = resolve_spec(spec)
    assert resolved.warmup_ratio is not None
    sequences = token_dataset(resolved, tokenizer, cache_dir)
    count = len(sequences)
    if not resolved.validation_file:  # the held-out share does not train
        count -= held_out_count(count, resolved.validation_split_percentage or 0.0)
    total = total_steps(resolved, count)
    return {
        "resolved": {
            **resolved.to_dict(),
            "total_steps": total,
            "warmup_steps": warmup_steps(total, resolved.warmup_ratio),
        },
        "tokenizer_size": tokenizer.size,
        "examples": [
            {"input_ids": list(example.input_ids), "labels": list(example.labels)}
            for example in (sequences[index] for index in range(min(examples, len(sequences))))
        ],
    }


def preview(
    kind: str,
    dataset: str | os.PathLike[str],
    tokenizer: str | os.PathLike[str],
    *,
    rows: int = 5,
    generation: int = 0,
) -> list[PreviewRow]:
    """The first ``rows`` records (sft) or non-empty lines (pretrain) and their token counts under ``tokenizer``.

    Reads at most :data:`PREVIEW_BYTES` of the file. ``generation`` 0: the tokenizer's.

    Raises:
        DatasetError: As for reading the dataset.
        TokenizerError: The tokenizer cannot be loaded.
    """
    processor = load_processor(tokenizer)
    if kind == "sft":
        if not generation:
            generation = generation_of(tokenizer_size(tokenizer))
        result = []
        for record in read_sft_records(dataset, limit=rows, limit_bytes=PREVIEW_BYTES):
            example = sft_example(processor, record, block_size=1_000_000, generation=generation)
            text = record.instruction + (f"\n{record.input}" if record.input else "") + "\n→ " + record.output
            result.append(PreviewRow(text[:PREVIEW_CHARS], len(example.input_ids), example.learned_tokens))
        return result
    result = []
    for piece in iter_lines(dataset, limit_bytes=PREVIEW_BYTES):
        if not piece.text.strip():
            continue
        count = len(processor.encode(piece.text)) + piece.starts_line  # BOS before each line
        result.append(PreviewRow(piece.text[:PREVIEW_CHARS], count, count))
        if len(result) >= rows:
            break
    return result
