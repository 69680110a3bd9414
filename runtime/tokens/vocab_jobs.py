"""The vocabulary-extension tool (paper section 4.2): train a SentencePiece model, merge it, check files.

Each function here is what a job of :mod:`runtime.jobs` runs (``vocab-train``, ``vocab-merge``,
``tokenizer-check``); the ``*_job`` adapters connect them to the job's progress events and
temporary-output bookkeeping. Output is written under a temporary name beside its destination
and renamed into place when complete.

Error codes (``TokenizerError.code``): ``corpus_not_found``, ``corpus_empty``,
``vocab_size_too_small``, ``vocab_size_too_large``, ``vocab_train_failed``, ``vocab_model_type``,
plus those of :mod:`runtime.tokens` for the tokenizer files.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from runtime.jobs import JobContext, Progress, ProgressCallback, scratch_prefix
from runtime.tokens import (
    DEFAULT_PAD_TOKEN,
    TokenizerError,
    check_vocab_matches,
    load_sentencepiece,
    load_tokenizer,
    merge_sentencepiece,
    resolve_tokenizer,
    valid_text,
    write_merged,
)

__all__ = ["PAD_EXPLANATION", "check_tokenizer", "check_vocab_matches", "merge_vocabulary", "train_vocabulary"]

#: Why the pad token exists, and why the two vocabularies must not be mixed (shown with ``--pad``).
PAD_EXPLANATION = (
    "Chinese-Alpaca's vocabulary is Chinese-LLaMA's 49,953 pieces plus one pad token (49,954), added for "
    "instruction fine-tuning. The embedding matrix of each model has exactly as many rows as its "
    "vocabulary has pieces, so a LLaMA tokenizer must go with LLaMA weights and an Alpaca tokenizer with "
    "Alpaca weights: mixing them breaks LoRA merging and conversion."
)

#: Characters of the sample text counted before and after a merge.
SAMPLE_CHARS = 200_000
#: Longest corpus line used in training, in bytes (sentencepiece's default, 4,192, drops long paragraphs).
MAX_SENTENCE_BYTES = 16_384
MODEL_TYPES = ("bpe", "unigram")

ScratchCallback = Callable[[Path], None]


def _scratch_dir(destination: Path, on_scratch: ScratchCallback | None) -> Path:
    destination.parent.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=scratch_prefix(destination), dir=destination.parent))
    if on_scratch is not None:
        on_scratch(folder)
    return folder


def _report(on_progress: ProgressCallback | None, done: int, total: int, stage: str) -> None:
    if on_progress is not None:
        on_progress(Progress(done, total, stage))


# -- training --------------------------------------------------------------------------------------


class _TrainerLog:
    """Turns sentencepiece's training log into progress (stages, and merges done for BPE)."""

    _MERGES = re.compile(r"\b(?:merges|size)=(\d+)")
    _ALPHABET = re.compile(r"Alphabet size=(\d+)")
    _LOADED = re.compile(r"(?:Loaded all|Sampled) (\d+) sentences")

    def __init__(self, vocab_size: int, on_progress: ProgressCallback | None) -> None:
        self.vocab_size = vocab_size
        self.on_progress = on_progress
        self.alphabet = 0
        self.meta = 0
        self.sentences = 0
        self.lines: list[str] = []

    def feed(self, line: str) -> None:
        self.lines = [*self.lines[-19:], line]
        if "Adding meta_piece" in line:
            self.meta += 1
        elif "Loading corpus" in line:
            _report(self.on_progress, 0, 0, "reading")
        elif match := self._LOADED.search(line):
            self.sentences = int(match.group(1))
            _report(self.on_progress, 0, 0, "normalizing")
        elif match := self._ALPHABET.search(line):
            self.alphabet = int(match.group(1))
        elif "Tokenizing input sentences" in line or "Making suffix array" in line:
            _report(self.on_progress, 0, self._total(), "training")
        elif ("Merged:" in line or "Added:" in line) and (match := self._MERGES.search(line)):
            total = self._total()
            done = int(match.group(1))
            _report(self.on_progress, min(done, total) if total else done, total, "training")
        elif "Saving model" in line:
            _report(self.on_progress, self._total(), self._total(), "saving")

    def _total(self) -> int:
        # BPE adds one piece per merge after the characters and the meta pieces (<unk>, <s>, bytes).
        return max(self.vocab_size - self.alphabet - self.meta, 0)


def _capture_stderr(feed: Callable[[str], None]) -> Callable[[], None]:
    """Route this process's fd 2 (where sentencepiece's C++ code logs) through ``feed``.

    Lines are still copied to the original stderr. Returns the function that undoes it. Meant for a
    job process, where nothing else shares fd 2.
    """
    original = os.dup(2)
    read_end, write_end = os.pipe()
    os.dup2(write_end, 2)
    os.close(write_end)

    def pump() -> None:
        with os.fdopen(read_end, "rb") as pipe:
            for raw in pipe:
                os.write(original, raw)
                feed(raw.decode("utf-8", errors="replace").rstrip())

    reader = threading.Thread(target=pump, name="trainer-log", daemon=True)
    reader.start()

    def restore() -> None:
        os.dup2(original, 2)  # closes the pipe's last write end, so the pump sees the end
        reader.join(5)
        os.close(original)

    return restore


def _training_error(exc: Exception, corpus: Path, size: int) -> TokenizerError:
    text = str(exc)
    if match := re.search(r"Vocabulary size is smaller than required_chars\. (\d+) vs (\d+)", text):
        required = int(match.group(2))
        return TokenizerError(
            f"A vocabulary of {size:,} pieces is too small for {corpus}: its characters alone (at this character "
            f"coverage) need {required:,}. Choose a size above {required:,}, or lower the character coverage.",
            code="vocab_size_too_small",
            params={"path": str(corpus), "size": size, "required": required},
        )
    if match := re.search(r"Vocabulary size is too high \((\d+)\)\. Please set it to a value <= (\d+)", text):
        largest = int(match.group(2))
        return TokenizerError(
            f"{corpus} is too small for a vocabulary of {size:,} pieces: at most {largest:,} can be learned from it. "
            f"Choose a size of {largest:,} or less, or use a larger corpus.",
            code="vocab_size_too_large",
            params={"path": str(corpus), "size": size, "largest": largest},
        )
    return TokenizerError(
        f"Training a vocabulary on {corpus} failed: {text}",
        code="vocab_train_failed",
        params={"path": str(corpus), "detail": text},
    )


def train_vocabulary(
    corpus: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    size: int = 20_000,
    model_type: str = "bpe",
    character_coverage: float = 0.9995,
    max_sentences: int = 2_000_000,
    threads: int | None = None,
    on_progress: ProgressCallback | None = None,
    on_scratch: ScratchCallback | None = None,
) -> dict[str, Any]:
    """Train a SentencePiece model on a corpus, the paper's way (BPE, 20,000 pieces by default).

    Settings: character coverage 0.9995 (Chinese has thousands of rare characters), byte fallback
    (a character outside the vocabulary becomes UTF-8 byte pieces instead of ``<unk>``), digits
    split one by one, and at most ``max_sentences`` lines, sampled at random from a larger corpus.
    Progress comes from sentencepiece's log, which this captures from file descriptor 2: run it in
    a job process (``vocab-train``), not in the GUI process.

    Args:
        corpus: A UTF-8 text file, one sentence or paragraph per line.
        out: The ``.model`` file to write; the ``.vocab`` listing is written beside it.
        size: Pieces of the vocabulary.
        model_type: ``"bpe"`` or ``"unigram"``.
        character_coverage: Share of the corpus's characters that must be pieces of their own.
        max_sentences: Lines sampled at most (``input_sentence_size``).
        threads: Training threads (default: the CPU count).
        on_progress: Called with stages ``reading``, ``normalizing``, ``training`` (merges done of
            about ``total`` for BPE), ``saving``, ``done``.
        on_scratch: Called with the temporary folder, so a caller can remove it if the process dies.

    Returns:
        ``{"path", "vocab_path", "vocab_size", "sentences", "seconds"}``.

    Raises:
        TokenizerError: The corpus is missing or empty, the size does not fit it, or training failed.
    """
    import sentencepiece

    corpus_path, target = Path(corpus), Path(out)
    if model_type not in MODEL_TYPES:
        raise TokenizerError(
            f"Unknown model type {model_type!r}; choose one of {', '.join(MODEL_TYPES)}.",
            code="vocab_model_type",
            params={"model_type": model_type},
        )
    if not corpus_path.is_file():
        raise TokenizerError(
            f"The corpus {corpus_path} does not exist. Choose a UTF-8 text file.",
            code="corpus_not_found",
            params={"path": str(corpus_path)},
        )
    if corpus_path.stat().st_size == 0:
        raise TokenizerError(
            f"The corpus {corpus_path} is empty. Choose a UTF-8 text file with the text to learn from.",
            code="corpus_empty",
            params={"path": str(corpus_path)},
        )
    started = time.monotonic()
    _report(on_progress, 0, 0, "starting")
    scratch = _scratch_dir(target, on_scratch)
    log = _TrainerLog(size, on_progress)
    try:
        restore = _capture_stderr(log.feed)
        try:
            sentencepiece.SentencePieceTrainer.train(
                input=str(corpus_path),
                model_prefix=str(scratch / "spm"),
                model_type=model_type,
                vocab_size=size,
                character_coverage=character_coverage,
                byte_fallback=True,
                split_digits=True,
                input_sentence_size=max_sentences,
                shuffle_input_sentence=True,
                max_sentence_length=MAX_SENTENCE_BYTES,
                num_threads=threads or os.cpu_count() or 1,
            )
        except (RuntimeError, OSError) as exc:
            raise _training_error(exc, corpus_path, size) from exc
        finally:
            restore()
        vocab_target = target.with_suffix(".vocab")
        os.replace(scratch / "spm.vocab", vocab_target)
        os.replace(scratch / "spm.model", target)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    vocab_size = load_sentencepiece(target).vocab_size()
    _report(on_progress, log._total(), log._total(), "done")
    return {
        "path": str(target),
        "vocab_path": str(target.with_suffix(".vocab")),
        "vocab_size": vocab_size,
        "sentences": log.sentences,
        "seconds": round(time.monotonic() - started, 2),
    }


# -- merging ---------------------------------------------------------------------------------------


def _sample_text(path: Path, limit: int) -> str:
    try:
        with path.open(encoding="utf-8", errors="replace") as handle:
            return valid_text(handle.read(limit))
    except OSError as exc:
        raise TokenizerError(
            f"Cannot read the sample text {path}: {exc.strerror or exc}. Choose a readable UTF-8 text file.",
            code="corpus_not_found",
            params={"path": str(path)},
        ) from exc


def merge_vocabulary(
    base: str | os.PathLike[str],
    addition: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    *,
    pad: bool = False,
    pad_token: str = DEFAULT_PAD_TOKEN,
    sample: str | os.PathLike[str] | None = None,
    sample_chars: int = SAMPLE_CHARS,
    on_progress: ProgressCallback | None = None,
    on_scratch: ScratchCallback | None = None,
) -> dict[str, Any]:
    """Merge ``addition`` into ``base`` (:func:`runtime.tokens.merge_sentencepiece`) and write a folder.

    The folder gets ``tokenizer.model`` plus the Hugging Face tokenizer files (see
    :func:`runtime.tokens.write_merged`); it is assembled in a temporary folder and moved into
    place at the end.

    Args:
        base: The base ``tokenizer.model`` (LLaMA's).
        addition: The SentencePiece model whose new pieces are appended (e.g. from ``vocab-train``).
        out_dir: The folder to write (created; files of the same names are replaced).
        pad: Append a pad token, as Chinese-Alpaca did (49,953 + 1 = 49,954).
        pad_token: Its spelling.
        sample: A text file whose first ``sample_chars`` characters are counted under the base and
            the merged tokenizer (the paper's "about half the tokens").
        on_progress: Stages ``reading``, ``merging``, ``writing``, ``counting``, ``done``.
        on_scratch: Called with the temporary folder.

    Returns:
        ``{"path", "model_path", "base_size", "added", "final_size", "pad_token"}`` and, with a sample,
        ``"sample": {"path", "chars", "tokens_before", "tokens_after", "ratio"}``.
    """
    target = Path(out_dir)
    _report(on_progress, 0, 4, "reading")
    base_sp = load_sentencepiece(base) if sample is not None else None
    _report(on_progress, 1, 4, "merging")
    merged = merge_sentencepiece(base, addition, pad_token=pad_token if pad else None)
    _report(on_progress, 2, 4, "writing")
    scratch = _scratch_dir(target, on_scratch)
    try:
        write_merged(merged, scratch)
        if not target.exists():
            if os.name == "posix":
                os.chmod(scratch, 0o755)  # mkdtemp's folder is private; the result is an ordinary folder
            os.replace(scratch, target)
        else:
            for item in scratch.iterdir():
                os.replace(item, target / item.name)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    result: dict[str, Any] = {
        "path": str(target),
        "model_path": str(target / "tokenizer.model"),
        "base_size": merged.base_size,
        "added": merged.added,
        "final_size": merged.final_size,
        "pad_token": merged.pad_token,
    }
    if sample is not None and base_sp is not None:
        _report(on_progress, 3, 4, "counting")
        text = _sample_text(Path(sample), sample_chars)
        before = len(base_sp.encode(text))
        after = len(merged.processor().encode(text))
        result["sample"] = {
            "path": str(sample),
            "chars": len(text),
            "tokens_before": before,
            "tokens_after": after,
            "ratio": round(after / before, 4) if before else 1.0,
        }
    _report(on_progress, 4, 4, "done")
    return result


# -- checking an untrusted tokenizer ---------------------------------------------------------------


def check_tokenizer(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Load a tokenizer file and encode a little text with it (run in a ``tokenizer-check`` job).

    Returns:
        ``{"kind", "path", "label", "n_vocab", "add_bos", "sample_tokens"}``.
    """
    spec = resolve_tokenizer(path)
    tokenizer = load_tokenizer(spec)
    sample = tokenizer.encode("白日依山尽，黄河入海流。Hello, world! 🦙")
    return {
        "kind": spec.kind,
        "path": spec.path,
        "label": spec.label,
        "n_vocab": tokenizer.n_vocab,
        "add_bos": tokenizer.add_bos,
        "sample_tokens": len(sample),
    }


# -- the job adapters ------------------------------------------------------------------------------


def train_job(context: JobContext, **options: Any) -> dict[str, Any]:
    """``vocab-train``."""
    return train_vocabulary(on_progress=context.progress, on_scratch=context.scratch, **options)


def merge_job(context: JobContext, *, base: str, addition: str, out: str, pad: bool, sample: str | None) -> dict:
    """``vocab-merge``."""
    return merge_vocabulary(
        base, addition, out, pad=pad, sample=sample, on_progress=context.progress, on_scratch=context.scratch
    )


def check_job(context: JobContext, *, path: str) -> dict[str, Any]:
    """``tokenizer-check``."""
    context.progress(Progress(0, 1, "loading"))
    return check_tokenizer(path)
