"""The tokenized dataset on disk: a corpus tokenized once into flat token files, read memory-mapped.

Holding a tokenized corpus in Python lists costs about 40 bytes a token on every rank, so a corpus
like the paper's (tens of GB of text) cannot train that way. Here it is tokenized once, a batch at a
time, into files, and the trainer's dataset (:class:`TokenDataset`) reads each sequence from
``np.memmap`` views of them: memory does not grow with the corpus, and the page cache is shared by
the ranks of a multi-GPU run. The authors' scripts do the same with the ``datasets`` library (Arrow
files, memory-mapped). ``datasets`` is not used, deliberately: it would add pyarrow and pandas to
the GPU host and to the app, whose preview reads the same files, for what flat token arrays do;
memory-mapped flat arrays of token ids are what llama-style trainers read.

An entry is a folder, ``CACHE/KEY.tokens``:

* ``tokens.bin``: every sequence's ids one after another, ``uint16`` when the vocabulary fits (both
  Chinese-LLaMA tokenizers do), else ``uint32``;
* ``offsets.bin``: ``int64``, one more than the sequences: where each sequence starts in ``tokens.bin``;
* ``masked.bin`` (SFT only): ``int32`` per sequence, how many of its first tokens (BOS + prompt) are
  not learned;
* ``meta.json``: what was tokenized, with what, and the counts.

The KEY is the SHA-256 of what decides the tokens: the format, the kind, the generation (the SFT
prompt), the block size, ``max_examples``, the tokenizer model's bytes, and of each corpus file its
name, size, modification time (ns) and the SHA-256 of 16 samples of 64 KB spread over it (a
bounded cost: 1 MB a file, where hashing a corpus of tens of GB whole would take minutes before
every start). Any write changes the modification time, so an edited corpus is tokenized again;
an unchanged one is reused. An entry is written under a temporary name (``.KEY.tokens.partial-PID``)
and renamed into place when whole: a run killed while tokenizing leaves no half entry, and the
next run removes what it left. Processes that build the same entry at once (the ranks of a
``torchrun``) take turns on a lock file: the first tokenizes, the others then read its files.

Where the cache is, the caller says: the training scripts keep it beside the run's output
(:data:`RUN_CACHE_DIR` in ``output_dir``), because a GPU host has no app cache folder, the output
folder is the one the run is sure to be able to write (checked, as for every run, by
``check_output_dir``), it is on the disk that holds the checkpoints, and a resumed run (the same
output folder) reads the cache again without tokenizing. ``alpaca-desk train preview`` keeps its
own in the app's cache folder.
"""

from __future__ import annotations

import array
import contextlib
import hashlib
import json
import logging
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import sentencepiece

from runtime.jobs import remove_stale_scratch, scratch_path
from runtime.training.data import (
    IGNORE_INDEX,
    DatasetError,
    Example,
    encode_lines,
    file_lines,
    iter_sft_records,
    sft_batch,
    text_files,
)
from runtime.untrusted_json import read_json_file

log = logging.getLogger(__name__)

#: The cache's folder in a run's output folder.
RUN_CACHE_DIR = "data-cache"
#: The layout of an entry; a different one is never read.
FORMAT = 1
#: What an entry's folder name ends with.
SUFFIX = ".tokens"
#: An entry's meta.json lists each corpus file (about 150 bytes each); one larger than this is not
#: an entry this module wrote, and is read no further.
MAX_META_BYTES = 64 * 1024 * 1024
#: Samples hashed per corpus file for the key, and their size.
KEY_SAMPLES = 16
KEY_SAMPLE_BYTES = 64 * 1024
#: SFT records tokenized together.
SFT_BATCH = 512
#: Numbers of left-out SFT records kept in ``meta.json`` (the count is kept whole).
LEFT_OUT_KEPT = 100
#: Seconds between two log lines while a corpus is tokenized.
LOG_EVERY_S = 30.0


class TokenDataset:
    """The sequences of a cache entry, read through ``np.memmap`` (a map-style dataset: ``len`` and
    indexing, each item an :class:`~runtime.training.data.Example` of Python ints)."""

    def __init__(self, folder: Path, meta: dict[str, Any], rows: np.ndarray | None = None) -> None:
        self.folder = folder
        self.meta = meta
        self._rows = rows
        self._maps: tuple[np.ndarray, np.ndarray, np.ndarray | None] | None = None

    @classmethod
    def open(cls, folder: Path) -> TokenDataset:
        """The entry in ``folder`` (as :func:`load_or_build` left it)."""
        return cls(folder, _read_meta(folder))

    def __len__(self) -> int:
        return len(self._rows) if self._rows is not None else int(self.meta["sequences"])

    def __getitem__(self, index: int) -> Example:
        if not -len(self) <= index < len(self):
            raise IndexError(index)
        index %= len(self)
        row = int(self._rows[index]) if self._rows is not None else index
        tokens, offsets, masked = self._arrays()
        ids: list[int] = tokens[int(offsets[row]) : int(offsets[row + 1])].tolist()
        if masked is None:
            return Example(input_ids=ids, labels=ids)  # the model shifts the labels itself
        hidden = int(masked[row])
        return Example(input_ids=ids, labels=[IGNORE_INDEX] * hidden + ids[hidden:])

    def __iter__(self) -> Iterator[Example]:
        return (self[index] for index in range(len(self)))

    def select(self, rows: Any) -> TokenDataset:
        """The sequences at ``rows`` (indices into this dataset), in that order."""
        chosen = np.asarray(rows, dtype=np.int64)
        return TokenDataset(self.folder, self.meta, self._rows[chosen] if self._rows is not None else chosen)

    @property
    def token_count(self) -> int:
        """Tokens in the sequences (reads only the offsets of a selection)."""
        if self._rows is None:
            return int(self.meta["tokens"])
        _tokens, offsets, _masked = self._arrays()
        return int((offsets[self._rows + 1] - offsets[self._rows]).sum())

    @property
    def left_out(self) -> int:
        """SFT records left out because their prompt fills the whole sequence."""
        return int(self.meta.get("left_out", 0))

    @property
    def first_left_out(self) -> list[int]:
        """The numbers (from 1) of the first of those records."""
        return list(self.meta.get("left_out_first", []))

    def _arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        if self._maps is None:
            sequences = int(self.meta["sequences"])
            offsets = _map(self.folder / "offsets.bin", np.int64, sequences + 1)
            tokens = _map(self.folder / "tokens.bin", np.dtype(self.meta["dtype"]), int(self.meta["tokens"]))
            masked = _map(self.folder / "masked.bin", np.int32, sequences) if self.meta["kind"] == "sft" else None
            self._maps = (tokens, offsets, masked)
        return self._maps

    def __getstate__(self) -> dict[str, Any]:
        # A DataLoader worker maps the files again rather than receiving their contents.
        return {**self.__dict__, "_maps": None}


def _map(path: Path, dtype: Any, count: int) -> np.ndarray:
    if count == 0:
        return np.zeros(0, dtype=dtype)  # mmap cannot map an empty file
    return np.memmap(path, dtype=dtype, mode="r", shape=(count,))


def load_or_build(
    kind: str,
    dataset: str | os.PathLike[str],
    processor: sentencepiece.SentencePieceProcessor,
    cache_dir: str | os.PathLike[str],
    *,
    block_size: int,
    generation: int,
    max_examples: int = 0,
) -> TokenDataset:
    """The sequences of ``dataset`` under ``processor``: the cache entry when there is one for this
    corpus, tokenizer and fields, else tokenized now into a new entry in ``cache_dir``.

    Raises:
        DatasetError: As for reading the dataset.
        OSError: ``cache_dir`` cannot be written.
    """
    files = text_files(dataset) if kind == "pretrain" else [Path(dataset)]
    fields = {
        "format": FORMAT,
        "kind": kind,
        "generation": generation if kind == "sft" else 0,
        "block_size": block_size,
        "max_examples": max_examples,
        "tokenizer_sha256": hashlib.sha256(processor.serialized_model_proto()).hexdigest(),
        "source": str(Path(dataset).resolve()),
    }
    corpus = [_fingerprint(file, Path(dataset)) for file in files]
    key = hashlib.sha256(json.dumps([{**fields, "source": ""}, corpus], sort_keys=True).encode()).hexdigest()[:32]
    cache = Path(cache_dir)
    cache.mkdir(parents=True, exist_ok=True)
    entry = cache / f"{key}{SUFFIX}"
    with _locked(cache / f".{key}.lock"):
        found = _complete(entry)
        if found is not None:
            log.info("%s: reusing its tokens in %s (%d sequences)", dataset, entry, len(found))
            return found
        remove_stale_scratch(cache, names_ending=SUFFIX)
        partial = scratch_path(entry)
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir()
        try:
            started = time.monotonic()
            log.info("%s: tokenizing into %s", dataset, entry)
            dtype = np.uint16 if processor.get_piece_size() <= 2**16 else np.uint32
            writer = _Writer(partial, np.dtype(dtype), sft=kind == "sft")
            with writer:
                if kind == "sft":
                    _write_sft(writer, processor, Path(dataset), block_size, generation, max_examples)
                else:
                    _write_pretrain(writer, processor, files, block_size, max_examples)
            meta = {**fields, "files": corpus, **writer.counts(), "seconds": round(time.monotonic() - started, 1)}
            (partial / "meta.json").write_text(json.dumps(meta, ensure_ascii=False, indent=1), encoding="utf-8")
            if entry.exists():
                shutil.rmtree(entry)  # incomplete or unreadable (checked above)
            os.replace(partial, entry)
        except BaseException:
            shutil.rmtree(partial, ignore_errors=True)
            raise
        log.info("%s: %d sequences of %d tokens in %.1f s", dataset, meta["sequences"], meta["tokens"], meta["seconds"])
        _remove_superseded(cache, entry, fields)
        return TokenDataset(entry, meta)


def _fingerprint(file: Path, dataset: Path) -> dict[str, Any]:
    """What identifies a corpus file's contents at a bounded cost (see the module's description)."""
    try:
        status = file.stat()
        digest = hashlib.sha256()
        with file.open("rb") as handle:
            last = max(0, status.st_size - KEY_SAMPLE_BYTES)
            for number in range(KEY_SAMPLES):
                handle.seek(last * number // (KEY_SAMPLES - 1))
                digest.update(handle.read(KEY_SAMPLE_BYTES))
    except OSError as exc:
        raise DatasetError(
            f"Cannot read the dataset {file}: {exc.strerror or exc}.",
            code="training_dataset_unreadable",
            params={"path": str(file), "reason": exc.strerror or str(exc)},
        ) from exc
    name = file.relative_to(dataset).as_posix() if file != dataset else file.name
    return {"name": name, "size": status.st_size, "mtime_ns": status.st_mtime_ns, "samples": digest.hexdigest()}


def _read_meta(entry: Path) -> dict[str, Any]:
    """An entry's meta.json, through the bounded reader: the cache folder can be written by anyone
    who can write the user's files.

    Raises:
        OSError: Missing or unreadable.
        ValueError: Not JSON, too large or too deep (UntrustedJsonError), or not an object.
    """
    meta = read_json_file(entry / "meta.json", max_bytes=MAX_META_BYTES)
    if not isinstance(meta, dict):
        raise ValueError(f"{entry / 'meta.json'} is not a JSON object")
    return meta


def _complete(entry: Path) -> TokenDataset | None:
    """The entry if it is whole (renamed into place, its files of the sizes its meta.json gives)."""
    try:
        meta = _read_meta(entry)
        sizes = {
            "tokens.bin": int(meta["tokens"]) * np.dtype(meta["dtype"]).itemsize,
            "offsets.bin": (int(meta["sequences"]) + 1) * 8,
        }
        if meta["kind"] == "sft":
            sizes["masked.bin"] = int(meta["sequences"]) * 4
        if meta.get("format") != FORMAT or any((entry / name).stat().st_size != size for name, size in sizes.items()):
            return None
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return TokenDataset(entry, meta)


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (POSIX; elsewhere the rename into place is the only guard)."""
    try:
        import fcntl
    except ImportError:
        yield
        return
    with path.open("a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _remove_superseded(cache: Path, entry: Path, fields: dict[str, Any]) -> None:
    """Remove the entries of earlier versions of the same corpus (same fields, other contents)."""
    for other in cache.glob(f"*{SUFFIX}"):
        if other == entry:
            continue
        try:
            meta = _read_meta(other)
        except (OSError, ValueError):
            continue
        if all(meta.get(name) == value for name, value in fields.items()):
            shutil.rmtree(other, ignore_errors=True)
            with contextlib.suppress(OSError):
                (cache / f".{other.name.removesuffix(SUFFIX)}.lock").unlink()
            log.info("removed %s, the tokens of an earlier version of %s", other, fields["source"])


class _Writer:
    """Appends sequences to an entry's files (buffered writes: nothing is mapped while building)."""

    def __init__(self, folder: Path, dtype: np.dtype, *, sft: bool) -> None:
        self.dtype = dtype
        self._tokens = (folder / "tokens.bin").open("wb")
        self._offsets = (folder / "offsets.bin").open("wb")
        self._masked = (folder / "masked.bin").open("wb") if sft else None
        self._pending_offsets = array.array("q", [0])
        self._pending_masked = array.array("i")
        self.sequences = 0
        self.tokens = 0
        self.left_out: list[int] = []
        self.left_out_count = 0
        self._logged = time.monotonic()

    def __enter__(self) -> _Writer:
        return self

    def __exit__(self, *exc: object) -> None:
        self._flush()
        for handle in (self._tokens, self._offsets, self._masked):
            if handle is not None:
                handle.close()

    def add(self, ids: np.ndarray, masked: int = 0) -> None:
        """One sequence."""
        self._tokens.write(ids.astype(self.dtype, copy=False).tobytes())
        self.tokens += len(ids)
        self.sequences += 1
        self._pending_offsets.append(self.tokens)
        if self._masked is not None:
            self._pending_masked.append(masked)
        if len(self._pending_offsets) >= 65_536:
            self._flush()

    def add_blocks(self, ids: np.ndarray, block_size: int) -> None:
        """Whole blocks of ``block_size`` tokens (``len(ids)`` is a multiple of it)."""
        if not len(ids):
            return
        self._tokens.write(ids.astype(self.dtype, copy=False).tobytes())
        count = len(ids) // block_size
        self._pending_offsets.extend(range(self.tokens + block_size, self.tokens + len(ids) + 1, block_size))
        self.tokens += len(ids)
        self.sequences += count
        if len(self._pending_offsets) >= 65_536:
            self._flush()

    def leave_out(self, number: int) -> None:
        self.left_out_count += 1
        if len(self.left_out) < LEFT_OUT_KEPT:
            self.left_out.append(number)

    def tell(self, what: str) -> None:
        """A log line now and then, for a long tokenization."""
        if time.monotonic() - self._logged >= LOG_EVERY_S:
            self._logged = time.monotonic()
            log.info("tokenizing %s: %d sequences, %d tokens so far", what, self.sequences, self.tokens)

    def counts(self) -> dict[str, Any]:
        return {
            "dtype": self.dtype.name,
            "sequences": self.sequences,
            "tokens": self.tokens,
            "left_out": self.left_out_count,
            "left_out_first": self.left_out,
        }

    def _flush(self) -> None:
        self._offsets.write(self._pending_offsets.tobytes())
        self._pending_offsets = array.array("q")
        if self._masked is not None:
            self._masked.write(self._pending_masked.tobytes())
            self._pending_masked = array.array("i")


def _threads() -> int:
    """SentencePiece threads: the cores this process may use (a GPU host has many)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return max(1, os.cpu_count() or 1)


def _write_pretrain(
    writer: _Writer,
    processor: sentencepiece.SentencePieceProcessor,
    files: list[Path],
    block_size: int,
    max_examples: int,
) -> None:
    """Each file's lines with BOS, concatenated and cut into blocks, as ``group_texts`` of the
    authors' ``run_clm_pt_with_peft.py`` cuts them: the remainder shorter than a block is dropped,
    and a file with fewer tokens than a block is one shorter sequence.

    The script groups 1,000 lines at a time (``datasets.map``'s batch, split again by
    ``--preprocessing_num_workers``), dropping each group's remainder; here a file is grouped whole,
    so the sequences are the same but for the seams of those groups, and fewer tokens are lost.
    """
    threads = _threads()
    for file in files:
        rest = np.zeros(0, dtype=np.int32)
        blocks = writer.sequences
        for batch in encode_lines(processor, file_lines(file), threads=threads):
            ids = np.concatenate([rest, np.frombuffer(batch, dtype=np.int32)])
            full = len(ids) // block_size * block_size
            if max_examples:
                full = min(full, (max_examples - writer.sequences) * block_size)
            writer.add_blocks(ids[:full], block_size)
            if max_examples and writer.sequences >= max_examples:
                return
            rest = ids[full:]
            writer.tell(str(file))
        if writer.sequences == blocks and len(rest):
            writer.add(rest)
            if max_examples and writer.sequences >= max_examples:
                return


def _write_sft(
    writer: _Writer,
    processor: sentencepiece.SentencePieceProcessor,
    dataset: Path,
    block_size: int,
    generation: int,
    max_examples: int,
) -> None:
    """The examples of ``build_dataset.py`` (:func:`runtime.training.data.sft_batch`); a record whose
    answer is cut off entirely is left out, and counted."""
    threads = _threads()
    records = iter_sft_records(dataset)
    number = 0
    while True:
        batch = []
        for record in records:
            batch.append(record)
            if len(batch) >= SFT_BATCH or (max_examples and number + len(batch) >= max_examples):
                break
        if not batch:
            break
        for example in sft_batch(processor, batch, block_size, generation, threads=threads):
            number += 1
            hidden = sum(1 for label in example.labels if label == IGNORE_INDEX)
            if hidden < len(example.input_ids):
                writer.add(np.asarray(example.input_ids, dtype=np.int64), hidden)
            else:
                writer.leave_out(number)
        writer.tell(str(dataset))
        if max_examples and number >= max_examples:
            break
    if number == 0:
        raise DatasetError(
            f"The dataset {dataset} holds no records.", code="training_dataset_empty", params={"path": str(dataset)}
        )
