"""The first training sequences as text, with what the loss learns marked (the training tab's preview).

A sequence's tokens are cut into runs that are learned (label != -100: the answer and EOS of an SFT
example, every token of a pre-training block) or masked (BOS and the prompt); each run is decoded
back to text. Control tokens (``<s>``, ``</s>``, an added ``[PAD]``) are shown by name, since they
decode to nothing and EOS is part of what is learned.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sentencepiece

from runtime.training import prepare
from runtime.training.data import IGNORE_INDEX
from runtime.training.spec import JobSpec


@dataclass(frozen=True)
class Segment:
    """A run of a sequence's text and whether the loss learns it."""

    text: str
    learned: bool


def learned_segments(
    processor: sentencepiece.SentencePieceProcessor,
    input_ids: Sequence[int],
    labels: Sequence[int],
    added: dict[int, str] | None = None,
) -> list[Segment]:
    """``input_ids`` as text runs, each learned or masked by its ``labels``.

    Args:
        processor: The tokenizer's SentencePiece model.
        input_ids, labels: One training sequence.
        added: Names of ids beyond the pieces (``[PAD]``).
    """
    pieces = int(processor.get_piece_size())
    names = added or {}
    segments: list[Segment] = []
    run: list[int] = []
    run_learned = False
    after_control = True  # the sequence's start: no word-start space, as after <s>

    def add(text: str, learned: bool) -> None:
        if segments and segments[-1].learned == learned:
            segments[-1] = Segment(segments[-1].text + text, learned)
        elif text:
            segments.append(Segment(text, learned))

    def flush() -> None:
        nonlocal after_control
        if not run:
            return
        text = processor.decode(run)
        # decode() drops the word-start space of a run's first piece, which only the sequence's (or a
        # control token's) next word lacks.
        if not after_control and processor.id_to_piece(run[0]).startswith("\u2581") and not text.startswith(" "):
            text = " " + text
        add(text, run_learned)
        run.clear()
        after_control = False

    for token, label in zip(input_ids, labels, strict=True):
        learned = label != IGNORE_INDEX
        control = token >= pieces or processor.is_control(token)
        if control or learned != run_learned:
            flush()
        run_learned = learned
        if control:
            add(names.get(token, f"<{token}>") if token >= pieces else processor.id_to_piece(token), learned)
            after_control = True
        else:
            run.append(token)
    flush()
    return segments


def marked_examples(spec: JobSpec, *, examples: int = 3) -> list[list[Segment]]:
    """The first ``examples`` training sequences of ``spec`` (as the run builds them: its recipe,
    tokenizer, prompt and truncation), marked.

    Raises:
        DatasetError, TokenizerError: As for a run.
    """
    resolved, tokenizer = prepare.resolve_spec(spec)
    sequences = prepare.token_dataset(resolved, tokenizer, prepare.preview_cache_dir())
    added = {index: token for token, index in tokenizer.added.items()}
    first = [sequences[index] for index in range(min(examples, len(sequences)))]
    return [learned_segments(tokenizer.processor, example.input_ids, example.labels, added) for example in first]
