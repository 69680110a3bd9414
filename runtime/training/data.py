"""Training data: reading it (bounded), the SFT prompt, tokenizing into examples; torch-free.

Both the scripts (on the GPU host) and the Advanced tab's dataset preview use this module, so the
preview shows exactly the token counts the run will train on.

* **pretrain**: UTF-8 text (a file, or a folder of ``.txt`` files), as the authors'
  ``run_clm_pt_with_peft.py`` reads it: each line tokenized with BOS before it, the lines
  concatenated and cut into blocks of ``block_size`` tokens (:mod:`runtime.training.token_cache`
  does the cutting, into its files), the labels equal to the inputs.
* **sft**: a JSON array or JSON-lines file of records ``{"instruction", "input" (optional),
  "output"}``, built as the authors' ``scripts/training/build_dataset.py`` builds them: the
  instruction and a non-empty input joined with ``\\n`` go into the generation's training prompt
  (:data:`TRAINING_PROMPTS`; not the inference templates of :mod:`runtime.chat.templates`, which
  chat keeps); BOS + prompt are not learned (labels -100), the output + EOS are; the sequence is
  cut to the maximum length. Generation 1 pads with ``[PAD]``, appended to a tokenizer without a
  pad token (49,953 → 49,954), as its ``run_clm_sft_with_peft.py`` does.

Tokenization is SentencePiece on the tokenizer's ``tokenizer.model`` (the Chinese-LLaMA tokenizers
are SentencePiece models): the same pieces llama.cpp produces from the same text (see
:mod:`runtime.tokens`), and no conversion into a ``tokenizers`` fast tokenizer at start-up. As in
the paper's scripts, prompt and answer are tokenized separately, so the answer begins with the
SentencePiece word-start piece.
"""

from __future__ import annotations

import array
import codecs
import logging
import os
import re
from collections.abc import Generator, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import sentencepiece

from runtime.errors import AppError, UntrustedJsonError
from runtime.tokens import TOKENIZER_MODEL, load_sentencepiece
from runtime.untrusted_json import MAX_DEPTH, parse_json

log = logging.getLogger(__name__)

#: Labels of tokens that are not learned (PyTorch's cross-entropy ``ignore_index``).
IGNORE_INDEX = -100
#: Largest dataset file read (a JSON file is parsed whole; plain text is read whole too).
MAX_DATASET_BYTES = 2 * 1024**3
#: Largest dataset file the preview reads the start of.
PREVIEW_BYTES = 4 * 1024 * 1024
#: Characters of a field kept in a preview row.
PREVIEW_CHARS = 200
#: Largest instruction record (one JSON object, or one line of JSON lines) read: the longest
#: training sequence (131,072 tokens) is under 2 MB of text, and a record is never held whole beyond this.
MAX_RECORD_BYTES = 4 * 1024 * 1024
#: Pre-training text is read this many bytes at a time, and a line longer than :data:`MAX_LINE_CHARS`
#: is tokenized in pieces of that size (the authors' script tokenizes a line whole, which for a file
#: of one 50 MB line holds gigabytes).
READ_CHUNK_BYTES = 256 * 1024
MAX_LINE_CHARS = 256 * 1024
#: Characters of the longest SentencePiece piece counted on when cutting a text before tokenizing
#: (SentencePiece's own limit is 16 by default; user-defined pieces may be longer).
MAX_PIECE_CHARS = 64
#: Characters of pre-training text tokenized in one call (the ids of a batch are held as Python
#: ints until they are packed: about 15 MB for this many characters).
ENCODE_BATCH_CHARS = 256 * 1024


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

    input_ids: Sequence[int]
    labels: Sequence[int]

    @property
    def learned_tokens(self) -> int:
        """How many labels are learned."""
        return sum(1 for label in self.labels if label != IGNORE_INDEX)


class TextPiece(NamedTuple):
    """A line of pre-training text, or a piece of a line too long to tokenize whole."""

    text: str
    starts_line: bool  # the line's first piece: BOS goes before it


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


# -- reading ---------------------------------------------------------------------------------------


def _unreadable(path: Path, exc: OSError) -> DatasetError:
    return DatasetError(
        f"Cannot read the dataset {path}: {exc.strerror or exc}.",
        code="training_dataset_unreadable",
        params={"path": str(path), "reason": exc.strerror or str(exc)},
    )


def _check_size(path: Path) -> None:
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise _unreadable(path, exc) from exc
    if size > MAX_DATASET_BYTES:
        raise DatasetError(
            f"The dataset {path} is {size / 1e9:.1f} GB; the limit is {MAX_DATASET_BYTES / 1e9:.0f} GB. "
            "Split it into several files in one folder.",
            code="training_dataset_too_large",
            params={"path": str(path), "size": size},
        )


def _record_too_large(path: Path, what: str, number: int) -> DatasetError:
    limit_mb = MAX_RECORD_BYTES // (1024 * 1024)
    message = (
        f"{what.capitalize()} {number} of {path} is longer than {limit_mb} MB; a training sequence holds far "
        "less (at most 131,072 tokens), so it was not read. Shorten that record or remove it, then start again."
    )
    params = {"path": str(path), "index": number, "limit_mb": limit_mb}
    if what == "line":
        return DatasetError(message, code="training_dataset_line_too_large", params=params)
    return DatasetError(message, code="training_dataset_record_too_large", params=params)


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


def text_files(path: str | os.PathLike[str]) -> list[Path]:
    """The files of a pre-training dataset: the file itself, or the ``.txt`` files of a folder (sorted).

    Raises:
        DatasetError: Missing, or a folder without ``.txt`` files.
    """
    return _text_files(Path(path))


def iter_lines(path: str | os.PathLike[str], *, limit_bytes: int = MAX_DATASET_BYTES) -> Iterator[TextPiece]:
    """The lines of a text file or a folder of ``.txt`` files (:func:`file_lines` of each)."""
    for file in _text_files(Path(path)):
        yield from file_lines(file, limit_bytes=limit_bytes)


def file_lines(file: Path, *, limit_bytes: int = MAX_DATASET_BYTES) -> Iterator[TextPiece]:
    """The lines of one text file, as ``datasets``' text loader gives them to the authors' script.

    Lines are split at ``\n`` after universal newlines (``\r\n`` and ``\r`` end a line too), without
    the line break; an empty line is a line (the script's tokenizer makes it a lone BOS), and a
    final line without a line break counts. Read a chunk at a time, so memory does not grow with a
    line's length: a line longer than :data:`MAX_LINE_CHARS` comes in pieces of about that size
    (cut after a space where there is one near the end), only the first of which starts the line,
    and the log names the line. With ``limit_bytes`` below the file's size (the preview), a line cut
    by the limit is left out.

    Raises:
        DatasetError: The file is over :data:`MAX_DATASET_BYTES` or cannot be read.
    """
    _check_size(file)
    try:
        yield from _file_lines(file, limit_bytes)
    except OSError as exc:
        raise _unreadable(file, exc) from exc


def _file_lines(file: Path, limit_bytes: int) -> Iterator[TextPiece]:
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    pending = ""  # the current line as far as it is read (under MAX_LINE_CHARS)
    starts = True  # whether pending begins its line
    carry = ""  # a \r at the end of a chunk: \r\n may continue in the next one
    number = 1
    told = False
    read = 0
    with file.open("rb") as handle:
        while read < limit_bytes:
            raw = handle.readline(min(READ_CHUNK_BYTES, limit_bytes - read))
            if not raw:
                break
            read += len(raw)
            text = carry + decoder.decode(raw)
            carry = "\r" if text.endswith("\r") else ""  # its \n (\r\n) may come in the next read
            pending, starts, number = yield from _split_lines(text[: len(text) - len(carry)], pending, starts, number)
            if len(pending) > MAX_LINE_CHARS:
                cut = pending.rfind(" ", len(pending) - 1024) + 1 or len(pending)
                if not told:
                    log.info(
                        "%s: line %d is longer than %d characters; it is tokenized in pieces",
                        file,
                        number,
                        MAX_LINE_CHARS,
                    )
                    told = True
                yield TextPiece(pending[:cut], starts)
                pending, starts = pending[cut:], False
    tail = decoder.decode(b"", final=True)
    if read >= limit_bytes and file.stat().st_size > read:
        return  # the preview's read ended inside a line, which may be cut
    pending, starts, _ = yield from _split_lines(carry + tail, pending, starts, number)
    if pending:
        yield TextPiece(pending, starts)


def _split_lines(
    text: str, pending: str, starts: bool, number: int
) -> Generator[TextPiece, None, tuple[str, bool, int]]:
    """Yield the lines ``text`` ends (``pending`` before the first); returns what is left of the last."""
    parts = text.replace("\r\n", "\n").replace("\r", "\n").split("\n") if "\r" in text else text.split("\n")
    for part in parts[:-1]:
        yield TextPiece(pending + part, starts)
        pending, starts = "", True
        number += 1
    return pending + parts[-1], starts, number


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

    Raises:
        DatasetError: As :func:`iter_sft_records`, or the file holds no records.
    """
    records: list[SftRecord] = []
    for record in iter_sft_records(path, limit_bytes=limit_bytes):
        records.append(record)
        if limit and len(records) >= limit:
            break
    if not records:
        raise _empty(Path(path))
    return records


def _empty(path: Path) -> DatasetError:
    return DatasetError(
        f"The dataset {path} holds no records.", code="training_dataset_empty", params={"path": str(path)}
    )


def iter_sft_records(path: str | os.PathLike[str], *, limit_bytes: int = MAX_DATASET_BYTES) -> Iterator[SftRecord]:
    """The records of an Alpaca-format JSON or JSON-lines file, one at a time.

    Read record by record: memory holds one record, never more than :data:`MAX_RECORD_BYTES` of it
    (a longer one is refused, named by its number). With ``limit_bytes`` below the file size (the
    preview), a JSON-lines file yields its first whole lines and a JSON array its first whole records.

    Raises:
        DatasetError: Missing, too large, not JSON, or a record too long or without its fields (named by number).
    """
    target = Path(path)
    _check_size(target)
    try:
        with target.open("rb") as handle:
            head = handle.read(4096)
            first = head.decode("utf-8", errors="replace").lstrip("\ufeff \t\r\n")[:1]
            handle.seek(len(codecs.BOM_UTF8) if head.startswith(codecs.BOM_UTF8) else 0)
            values = (
                _array_values(handle, target, limit_bytes)
                if first == "["
                else _line_values(handle, target, limit_bytes)
            )
            for index, value in enumerate(values):
                yield _record(value, index, target)
    except OSError as exc:
        raise _unreadable(target, exc) from exc


def _line_values(handle: Any, path: Path, limit_bytes: int) -> Iterator[Any]:
    """JSON lines, one at a time; a line over :data:`MAX_RECORD_BYTES` is refused without being kept."""
    read = 0
    number = 0
    while read < limit_bytes:
        raw = handle.readline(MAX_RECORD_BYTES + 1)
        if not raw:
            return
        number += 1
        read += len(raw)
        if len(raw) > MAX_RECORD_BYTES and not raw.endswith(b"\n"):
            raise _record_too_large(path, "line", number)
        if read > limit_bytes and not raw.endswith(b"\n"):
            return  # the preview's read ends inside this line
        line = raw.decode("utf-8", errors="replace").lstrip("\ufeff")
        if not line.strip():
            continue
        try:
            yield parse_json(line, source=f"line {number} of {path}", max_bytes=MAX_RECORD_BYTES)
        except UntrustedJsonError as exc:
            raise DatasetError(
                f"Line {number} of {path} is not JSON ({exc.params.get('detail') or exc.reason}). Instruction "
                "data is a JSON array, "
                "or one JSON object per line.",
                code="training_dataset_not_json",
                params={"path": str(path), "line": number},
            ) from exc


# Inside a JSON array: what changes the nesting (outside strings) and what ends a string.
_STRUCTURE = re.compile(rb'["\[\]{}]')
_STRING_END = re.compile(rb'["\\]')
_BETWEEN = re.compile(rb"[ \t\r\n,]*")


def _array_values(handle: Any, path: Path, limit_bytes: int) -> Iterator[Any]:
    """The elements of a JSON array, decoded one at a time (each at most :data:`MAX_RECORD_BYTES`).

    A small scanner finds where each element ends (strings, escapes and nesting) without decoding
    it; only the element's own bytes are kept, so memory does not grow with the file.
    """
    buffer = b""
    position = 0  # where scanning goes on in buffer
    start = -1  # where the current element starts in buffer (-1: between elements)
    depth = 0  # 0: before the array, 1: between its elements, 2 and more: inside one
    in_string = need = False
    read = number = 0

    def refill() -> bool:
        nonlocal buffer, position, start, read
        if read >= limit_bytes:
            return False
        chunk = handle.read(min(READ_CHUNK_BYTES, limit_bytes - read))
        if not chunk:
            return False
        read += len(chunk)
        keep = start if start >= 0 else position
        buffer, position = buffer[keep:] + chunk, position - keep
        if start >= 0:
            start = 0
            if len(buffer) > MAX_RECORD_BYTES:
                raise _record_too_large(path, "record", number + 1)
        return True

    while True:
        if need or position >= len(buffer):
            need = False
            if refill():
                continue
            if read >= limit_bytes:
                return  # the preview's read ends here
            where = "the array is not closed" if depth <= 1 else f"record {number + 1} is cut off"
            raise DatasetError(
                f"{path} is not valid JSON ({where} at the end of the file).",
                code="training_dataset_not_json",
                params={"path": str(path), "line": 0},
            )
        if depth <= 1:
            position = _BETWEEN.match(buffer, position).end()  # type: ignore[union-attr]
            if position >= len(buffer):
                continue
            char = buffer[position : position + 1]
            if depth == 0:
                if char != b"[":
                    raise DatasetError(
                        f"{path} is not valid JSON (it does not start with [).",
                        code="training_dataset_not_json",
                        params={"path": str(path), "line": 0},
                    )
                depth, position = 1, position + 1
            elif char == b"]":
                return
            elif char in (b"{", b"["):
                start, depth, position = position, 2, position + 1
            else:
                number += 1
                yield None  # not an object: named by the record check
                return
            continue
        if in_string:
            found = _STRING_END.search(buffer, position)
            if found is None:
                position = len(buffer)
            elif found.group() == b'"':
                in_string, position = False, found.end()
            elif found.end() < len(buffer):
                position = found.end() + 1  # the escaped character
            else:
                position, need = found.start(), True  # the escaped character is in the next chunk
            continue
        found = _STRUCTURE.search(buffer, position)
        if found is None:
            position = len(buffer)
            continue
        char, position = found.group(), found.end()
        if char == b'"':
            in_string = True
        elif char in (b"[", b"{"):
            depth += 1
            if depth - 1 > MAX_DEPTH:  # said at once: a preview's short read may never reach its end
                raise DatasetError(
                    f"{path} is not valid JSON (record {number + 1} is nested more than {MAX_DEPTH} levels deep).",
                    code="training_dataset_not_json",
                    params={"path": str(path), "line": 0},
                )
        else:
            depth -= 1
            if depth == 1:
                number += 1
                element, start = buffer[start:position], -1
                yield _decode_element(element, path, number)


def _decode_element(raw: bytes, path: Path, number: int) -> Any:
    try:
        return parse_json(raw, source=f"record {number} of {path}", max_bytes=MAX_RECORD_BYTES)
    except UntrustedJsonError as exc:
        detail = exc.params.get("detail") or exc.reason
        raise DatasetError(
            f"Record {number} of {path} is not valid JSON ({detail}). Instruction data is a JSON array, or one "
            "JSON object per line.",
            code="training_dataset_not_json",
            params={"path": str(path), "line": 0},
        ) from exc


# -- examples --------------------------------------------------------------------------------------


#: The training prompts of the authors' ``scripts/training/build_dataset.py`` (``PROMPT_TEMPLATE``), by
#: generation. Not the inference templates: the authors' own inference scripts use other spacing.
TRAINING_PROMPTS = {
    # ymcui/Chinese-LLaMA-Alpaca scripts/training/build_dataset.py
    1: (
        "Below is an instruction that describes a task. "
        "Write a response that appropriately completes the request.\n\n"
        "### Instruction:\n{instruction}\n\n### Response: "
    ),
    # ymcui/Chinese-LLaMA-Alpaca-2 scripts/training/build_dataset.py
    2: "[INST] <<SYS>>\nYou are a helpful assistant. 你是一个乐于助人的助手。\n<</SYS>>\n\n{instruction} [/INST]",
}


def training_prompt(record: SftRecord, generation: int = 1) -> str:
    """The prompt ``record`` is trained with (without BOS, ending before the answer): the instruction
    and a non-empty input joined with ``\\n``, in the generation's template."""
    instruction = record.instruction + ("\n" + record.input if record.input else "")
    return TRAINING_PROMPTS[generation].format_map({"instruction": instruction})


def _cut(text: str, block_size: int) -> str:
    """The start of ``text`` that holds at least ``block_size`` tokens: no piece is longer than
    :data:`MAX_PIECE_CHARS` characters, so nothing after it could be trained on."""
    return text[: block_size * MAX_PIECE_CHARS]


def _sft_ids(prompt: list[int], answer: list[int], block_size: int) -> Example:
    input_ids = (prompt + answer)[:block_size]
    labels = ([IGNORE_INDEX] * len(prompt) + answer)[:block_size]
    return Example(input_ids=input_ids, labels=labels)


def sft_example(
    processor: sentencepiece.SentencePieceProcessor, record: SftRecord, block_size: int, generation: int = 1
) -> Example:
    """BOS + prompt (not learned) + answer + EOS (learned), cut to ``block_size`` tokens.

    The texts are cut before tokenizing (:func:`_cut`), so a long record costs no more than a
    block's worth of tokens.
    """
    return sft_batch(processor, [record], block_size, generation)[0]


def sft_batch(
    processor: sentencepiece.SentencePieceProcessor,
    records: Sequence[SftRecord],
    block_size: int,
    generation: int = 1,
    *,
    threads: int = 1,
) -> list[Example]:
    """:func:`sft_example` of each record, tokenized together (on ``threads`` threads)."""
    prompts = processor.encode([_cut(training_prompt(r, generation), block_size) for r in records], num_threads=threads)
    answers = processor.encode([_cut(r.output, block_size) for r in records], num_threads=threads)
    bos, eos = processor.bos_id(), processor.eos_id()
    return [
        _sft_ids([bos, *prompt], [*answer, eos], block_size) for prompt, answer in zip(prompts, answers, strict=True)
    ]


def sft_examples(
    processor: sentencepiece.SentencePieceProcessor, records: list[SftRecord], block_size: int, generation: int = 1
) -> list[Example]:
    """The examples of ``records``; those whose answer is cut off entirely are left out."""
    examples = sft_batch(processor, records, block_size, generation)
    return [example for example in examples if example.learned_tokens > 0]


def encode_lines(
    processor: sentencepiece.SentencePieceProcessor, pieces: Iterable[TextPiece], *, threads: int = 1
) -> Iterator[array.array[int]]:
    """The token ids of pre-training text as the authors' ``run_clm_pt_with_peft.py`` makes them:
    each line tokenized with BOS before it (``LlamaTokenizer`` adds it; no EOS), concatenated.

    Yields the ids a batch of about :data:`ENCODE_BATCH_CHARS` characters at a time (4-byte ints),
    tokenized on ``threads`` threads.
    """
    bos = processor.bos_id()
    batch: list[TextPiece] = []
    size = 0
    for piece in pieces:
        batch.append(piece)
        size += len(piece.text)
        if size >= ENCODE_BATCH_CHARS:
            yield _encode_batch(processor, batch, bos, threads)
            batch, size = [], 0
    if batch:
        yield _encode_batch(processor, batch, bos, threads)


def _encode_batch(
    processor: sentencepiece.SentencePieceProcessor, batch: list[TextPiece], bos: int, threads: int
) -> array.array[int]:
    ids = array.array("i")
    for piece, tokens in zip(batch, processor.encode([p.text for p in batch], num_threads=threads), strict=True):
        if piece.starts_line and bos >= 0:
            ids.append(bos)
        ids.extend(tokens)
    return ids
