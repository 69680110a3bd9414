"""What a run trains with, found before it starts: the tokenizer (with the pad token its script adds),
the spec with its recipe filled in, the training sequences, and the previews of both.

torch-free: the scripts on the GPU host, ``alpaca-desk train preview`` and the training tab's
dataset preview all use it, so what is shown is what the run trains on.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import sentencepiece

from runtime.errors import UntrustedJsonError
from runtime.tokens import TokenizerError
from runtime.training.data import (
    PREVIEW_BYTES,
    PREVIEW_CHARS,
    Example,
    PreviewRow,
    iter_paragraphs,
    load_processor,
    pretrain_examples,
    read_sft_records,
    sft_example,
    tokenizer_file,
)
from runtime.training.evaluation import held_out_count
from runtime.training.presets import GENERATION_2_SIZE, generation_of, resolve, total_steps, warmup_steps
from runtime.training.spec import JobSpec
from runtime.untrusted_json import parse_json

#: The pad token generation 1's SFT script adds to a tokenizer without one (``DEFAULT_PAD_TOKEN``).
SFT_PAD_TOKEN = "[PAD]"
#: Where a Hugging Face tokenizer folder keeps tokens added after the SentencePiece pieces.
ADDED_TOKENS_FILE = "added_tokens.json"


def added_tokens(path: str | os.PathLike[str]) -> dict[str, int]:
    """The tokens of ``added_tokens.json`` beside the tokenizer (``{}`` without one).

    Raises:
        TokenizerError: The file is there but not an object of token → id.
    """
    file = tokenizer_file(path).parent / ADDED_TOKENS_FILE
    if not file.is_file():
        return {}
    try:
        value = parse_json(file.read_bytes()[: 1024 * 1024 + 1], source=str(file), max_bytes=1024 * 1024)
    except (OSError, UntrustedJsonError) as exc:
        raise TokenizerError(
            f"Cannot read {file}: {exc}.", code="tokenizer_unreadable", params={"path": str(file)}
        ) from exc
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, int) and not isinstance(v, bool) for k, v in value.items()
    ):
        raise TokenizerError(
            f"Cannot read {file}: it is not an object of token → id.",
            code="tokenizer_unreadable",
            params={"path": str(file)},
        )
    return dict(value)


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
    return _size(int(processor.get_piece_size()), added_tokens(path))


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
    added = added_tokens(path)
    size = _size(int(processor.get_piece_size()), added)
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


def training_examples(
    spec: JobSpec, tokenizer: TrainingTokenizer, *, limit: int = 0
) -> tuple[list[Example], list[int]]:
    """The training sequences of a resolved ``spec`` (at most ``limit``, else ``max_examples``; 0: all),
    and the numbers of the SFT records left out because their prompt fills the whole sequence.

    Raises:
        DatasetError: As for reading the dataset.
    """
    assert spec.block_size is not None, "a resolved spec"
    limit = limit or spec.max_examples
    if spec.kind != "sft":
        paragraphs = iter_paragraphs(spec.dataset)
        return pretrain_examples(tokenizer.processor, paragraphs, spec.block_size, limit=limit), []
    examples: list[Example] = []
    left_out: list[int] = []
    for number, record in enumerate(read_sft_records(spec.dataset, limit=spec.max_examples), 1):
        example = sft_example(tokenizer.processor, record, spec.block_size, spec.generation)
        if example.learned_tokens:
            examples.append(example)
            if limit and len(examples) >= limit:
                break
        else:
            left_out.append(number)
    return examples, left_out


def run_preview(spec: JobSpec, *, examples: int = 3) -> dict[str, Any]:
    """What a run of ``spec`` trains with, before it starts (``alpaca-desk train preview``).

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
    first, _ = training_examples(resolved, tokenizer, limit=max(1, examples))
    count = len(first) if resolved.max_steps else len(training_examples(resolved, tokenizer)[0])
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
            {"input_ids": list(example.input_ids), "labels": list(example.labels)} for example in first[:examples]
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
    """The first ``rows`` records (sft) or paragraphs (pretrain) and their token counts under ``tokenizer``.

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
    for paragraph in iter_paragraphs(dataset, limit_bytes=PREVIEW_BYTES):
        count = len(processor.encode(paragraph)) + 1
        result.append(PreviewRow(paragraph[:PREVIEW_CHARS], count, count))
        if len(result) >= rows:
            break
    return result
