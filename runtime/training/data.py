"""Training data: reading it (bounded), the SFT prompt, tokenizing into examples; torch-free.

Both the scripts (on the GPU host) and the Advanced tab's dataset preview use this module, so the
preview shows exactly the token counts the run will train on.

* **pretrain**: UTF-8 text (a file, or a folder of ``.txt`` files); paragraphs (split at blank
  lines) are tokenized, each followed by EOS, concatenated and cut into blocks of ``block_size``
  tokens (the last partial block is dropped), the labels equal to the inputs.
* **sft**: a JSON array or JSON-lines file of records ``{"instruction", "input" (optional),
  "output"}``. The prompt is the Chinese-Alpaca template of paper section 4.5 (the instruction and a
  non-empty input joined with ``\\n``, rendered by :mod:`runtime.chat.templates`), the answer is the
  output followed by EOS; only the answer's tokens are learned (the prompt's labels are -100).

Tokenization is SentencePiece on the tokenizer's ``tokenizer.model`` (the Chinese-LLaMA tokenizers
are SentencePiece models): the same pieces llama.cpp produces from the same text (see
:mod:`runtime.tokens`), and no conversion into a ``tokenizers`` fast tokenizer at start-up. As in
the paper's scripts, prompt and answer are tokenized separately, so the answer begins with the
SentencePiece word-start piece.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sentencepiece

from runtime.chat.templates import Turn, render
from runtime.errors import AppError, UntrustedJsonError
from runtime.tokens import TOKENIZER_MODEL, load_sentencepiece
from runtime.untrusted_json import MAX_DEPTH, nesting_depth, parse_json

#: Labels of tokens that are not learned (PyTorch's cross-entropy ``ignore_index``).
IGNORE_INDEX = -100
#: Largest dataset file read (a JSON file is parsed whole; plain text is read whole too).
MAX_DATASET_BYTES = 2 * 1024**3
#: Largest dataset file the preview reads the start of.
PREVIEW_BYTES = 4 * 1024 * 1024
#: Characters of a field kept in a preview row.
PREVIEW_CHARS = 200


class DatasetError(AppError):
    """A dataset cannot be used (missing, too large, not the expected format)."""


@dataclass(frozen=True)
class SftRecord:
    """One Alpaca-format record."""

    instruction: str
    input: str
    output: str


@dataclass(frozen=True)
class Example:
    """One training sequence: token ids and labels of the same length (-100: not learned)."""

    input_ids: list[int]
    labels: list[int]

    @property
    def learned_tokens(self) -> int:
        """How many labels are learned."""
        return sum(1 for label in self.labels if label != IGNORE_INDEX)


@dataclass(frozen=True)
class PreviewRow:
    """One record of the dataset preview: its text (shortened) and its token counts."""

    text: str
    tokens: int
    learned: int


# -- tokenizer -------------------------------------------------------------------------------------


def tokenizer_file(path: str | os.PathLike[str]) -> Path:
    """The ``tokenizer.model`` of a tokenizer folder, a model folder, or the file itself."""
    target = Path(path)
    return target / TOKENIZER_MODEL if target.is_dir() else target


def load_processor(path: str | os.PathLike[str]) -> sentencepiece.SentencePieceProcessor:
    """Load a tokenizer for training (checked with protobuf before sentencepiece sees it).

    Raises:
        TokenizerError: Missing or not a SentencePiece model.
    """
    return load_sentencepiece(tokenizer_file(path))


def pad_id(processor: sentencepiece.SentencePieceProcessor) -> int:
    """The id used to pad batches: Alpaca's ``<pad>`` piece if the vocabulary has one, else UNK's.

    Padding is masked out of attention and loss, so any id works; the pad piece keeps it honest.
    """
    pad = processor.piece_to_id("<pad>")
    if pad != processor.unk_id() and processor.id_to_piece(pad) == "<pad>":
        return int(pad)
    return max(0, int(processor.unk_id()))


# -- reading ---------------------------------------------------------------------------------------


def _read_bytes(path: Path, limit: int) -> bytes:
    try:
        size = path.stat().st_size
        if size > MAX_DATASET_BYTES:
            raise DatasetError(
                f"The dataset {path} is {size / 1e9:.1f} GB; the limit is {MAX_DATASET_BYTES / 1e9:.0f} GB. "
                "Split it into several files in one folder.",
                code="training_dataset_too_large",
                params={"path": str(path), "size": size},
            )
        with path.open("rb") as handle:
            return handle.read(limit)
    except OSError as exc:
        raise DatasetError(
            f"Cannot read the dataset {path}: {exc.strerror or exc}.",
            code="training_dataset_unreadable",
            params={"path": str(path), "reason": exc.strerror or str(exc)},
        ) from exc


def _text_files(path: Path) -> list[Path]:
    if path.is_dir():
        files = sorted(p for p in path.rglob("*.txt") if p.is_file())
        if not files:
            raise DatasetError(
                f"The folder {path} holds no .txt files; pre-training reads UTF-8 text files.",
                code="training_dataset_empty",
                params={"path": str(path)},
            )
        return files
    if not path.exists():
        raise DatasetError(
            f"The dataset {path} does not exist.",
            code="training_dataset_unreadable",
            params={"path": str(path), "reason": "missing"},
        )
    return [path]


def iter_paragraphs(path: str | os.PathLike[str], *, limit_bytes: int = MAX_DATASET_BYTES) -> Iterator[str]:
    """The non-empty paragraphs (split at blank lines) of a text file or a folder of ``.txt`` files."""
    for file in _text_files(Path(path)):
        text = _read_bytes(file, limit_bytes).decode("utf-8", errors="replace")
        for paragraph in text.replace("\r\n", "\n").split("\n\n"):
            stripped = paragraph.strip()
            if stripped:
                yield stripped


def _record(value: Any, index: int, path: Path) -> SftRecord:
    def bad(reason: str) -> DatasetError:
        return DatasetError(
            f"Record {index + 1} of {path} {reason}. Instruction data is a JSON array (or JSON lines) of "
            'objects with "instruction", optional "input", and "output" strings.',
            code="training_dataset_bad_record",
            params={"path": str(path), "index": index + 1, "reason": reason},
        )

    if not isinstance(value, dict):
        raise bad("is not an object")
    fields = {}
    for name in ("instruction", "input", "output"):
        field = value.get(name, "" if name == "input" else None)
        if field is None:
            raise bad(f'has no "{name}"')
        if not isinstance(field, str):
            raise bad(f'has a "{name}" that is not a string')
        fields[name] = field
    if not fields["instruction"].strip() or not fields["output"].strip():
        raise bad("has an empty instruction or output")
    return SftRecord(**fields)


def read_sft_records(
    path: str | os.PathLike[str], *, limit: int = 0, limit_bytes: int = MAX_DATASET_BYTES
) -> list[SftRecord]:
    """The records of an Alpaca-format JSON or JSON-lines file (at most ``limit``; 0: all).

    With ``limit_bytes`` below the file size (the preview), a JSON-lines file yields its first whole
    lines and a JSON array its first whole records.

    Raises:
        DatasetError: Missing, too large, not JSON, or a record without its fields (named by number).
    """
    target = Path(path)
    raw = _read_bytes(target, limit_bytes + 1)
    truncated = len(raw) > limit_bytes
    text = raw[:limit_bytes].decode("utf-8", errors="replace").lstrip("\ufeff")
    values: list[Any] = []
    if text.lstrip().startswith("["):
        values = _json_array(text, truncated, target)
    else:
        lines = text.splitlines()
        if truncated and lines:
            lines = lines[:-1]  # the last line may be cut
        for number, line in enumerate(lines):
            if not line.strip():
                continue
            try:
                values.append(parse_json(line, source=f"line {number + 1} of {target}", max_bytes=limit_bytes))
            except UntrustedJsonError as exc:
                detail = exc.params.get("detail") or exc.reason
                raise DatasetError(
                    f"Line {number + 1} of {target} is not JSON ({detail}). Instruction data is a JSON array, "
                    "or one JSON object per line.",
                    code="training_dataset_not_json",
                    params={"path": str(target), "line": number + 1},
                ) from exc
            if limit and len(values) >= limit:
                break
    if limit:
        values = values[:limit]
    records = [_record(value, index, target) for index, value in enumerate(values)]
    if not records:
        raise DatasetError(
            f"The dataset {target} holds no records.",
            code="training_dataset_empty",
            params={"path": str(target)},
        )
    return records


def _json_array(text: str, truncated: bool, path: Path) -> list[Any]:
    if not truncated:
        try:
            data = parse_json(text, source=str(path), max_bytes=len(text))
        except UntrustedJsonError as exc:
            raise DatasetError(
                f"{path} is not valid JSON ({exc.params.get('detail') or exc.reason}).",
                code="training_dataset_not_json",
                params={"path": str(path), "line": 0},
            ) from exc
        if not isinstance(data, list):
            raise DatasetError(
                f"{path} is JSON but not an array of records.",
                code="training_dataset_not_json",
                params={"path": str(path), "line": 0},
            )
        return data
    # Only the start was read: decode the array's objects one by one until the text runs out,
    # after the same nesting bound as every untrusted document (raw_decode recurses too).
    if nesting_depth(text) > MAX_DEPTH:
        raise DatasetError(
            f"{path} is not valid JSON (it is nested more than {MAX_DEPTH} levels deep).",
            code="training_dataset_not_json",
            params={"path": str(path), "line": 0},
        )
    decoder = json.JSONDecoder()
    values: list[Any] = []
    position = text.index("[") + 1
    while True:
        while position < len(text) and text[position] in " \t\r\n,":
            position += 1
        if position >= len(text) or text[position] == "]":
            return values
        try:
            value, position = decoder.raw_decode(text, position)
        except ValueError:
            return values  # the cut record
        values.append(value)


# -- examples --------------------------------------------------------------------------------------


def alpaca_prompt(record: SftRecord) -> str:
    """The Chinese-Alpaca prompt of ``record`` (paper section 4.5), without BOS, ending before the answer."""
    prompt = render("chinese-alpaca", [Turn(user=record.instruction, input=record.input)])
    return "".join(part for part in prompt.parts if isinstance(part, str))


def sft_example(processor: sentencepiece.SentencePieceProcessor, record: SftRecord, block_size: int) -> Example:
    """BOS + prompt (not learned) + answer + EOS (learned), cut to ``block_size`` tokens."""
    prompt = [processor.bos_id(), *processor.encode(alpaca_prompt(record))]
    answer = [*processor.encode(record.output), processor.eos_id()]
    input_ids = (prompt + answer)[:block_size]
    labels = ([IGNORE_INDEX] * len(prompt) + answer)[:block_size]
    return Example(input_ids=input_ids, labels=labels)


def sft_examples(
    processor: sentencepiece.SentencePieceProcessor, records: list[SftRecord], block_size: int
) -> list[Example]:
    """The examples of ``records``; those whose answer is cut off entirely are left out."""
    examples = (sft_example(processor, record, block_size) for record in records)
    return [example for example in examples if example.learned_tokens > 0]


def pretrain_examples(
    processor: sentencepiece.SentencePieceProcessor,
    paragraphs: Iterator[str] | list[str],
    block_size: int,
    *,
    limit: int = 0,
) -> list[Example]:
    """Blocks of ``block_size`` tokens from the paragraphs (each followed by EOS); at most ``limit`` (0: all)."""
    examples: list[Example] = []
    buffer: list[int] = []
    for paragraph in paragraphs:
        buffer.extend(processor.encode(paragraph))
        buffer.append(processor.eos_id())
        while len(buffer) >= block_size:
            block, buffer = buffer[:block_size], buffer[block_size:]
            examples.append(Example(input_ids=block, labels=list(block)))
            if limit and len(examples) >= limit:
                return examples
    return examples


def preview(
    kind: str, dataset: str | os.PathLike[str], tokenizer: str | os.PathLike[str], *, rows: int = 5
) -> list[PreviewRow]:
    """The first ``rows`` records (sft) or paragraphs (pretrain) and their token counts under ``tokenizer``.

    Reads at most :data:`PREVIEW_BYTES` of the file.

    Raises:
        DatasetError: As for reading the dataset.
        TokenizerError: The tokenizer cannot be loaded.
    """
    processor = load_processor(tokenizer)
    if kind == "sft":
        result = []
        for record in read_sft_records(dataset, limit=rows, limit_bytes=PREVIEW_BYTES):
            example = sft_example(processor, record, block_size=1_000_000)
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
