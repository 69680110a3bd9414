"""Validation: the held-out share of the training sequences, perplexity, and the evaluation lines.

The scripts hold out ``--validation_split_percentage`` of the tokenized corpus with
``datasets.train_test_split(test_size=...)``: ``ceil(share * n)`` sequences chosen at random. Here
the choice is made by index with the spec's seed, so the same sequences are held out on every
rank and in a resumed run, and nothing but the held-out indices is kept in memory: the training
side is the complement, computed index by index (:class:`Complement`), whatever the corpus's size.

torch-free: the script wraps these indices in ``torch.utils.data.Subset``; the launcher, the
registry and the window read the ``evaluation`` lines through :func:`parse_evaluation`.
"""

from __future__ import annotations

import bisect
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, overload

#: A loss above this gives the perplexity of this loss: exp() of a diverged run's loss would
#: overflow a float (the scripts write ``inf``, which JSON cannot hold).
MAX_PERPLEXITY_LOSS = 100.0


def held_out_count(count: int, share: float) -> int:
    """How many of ``count`` sequences a share holds out: ``ceil(share * count)`` as
    ``train_test_split`` counts them, but always leaving one to train on (none of a single one)."""
    if share <= 0 or count < 2:
        return 0
    return min(count - 1, math.ceil(share * count))


def held_out_indices(count: int, share: float, seed: int) -> list[int]:
    """The indices (sorted) of the sequences held out for validation: chosen with ``seed``, the same
    on every call; memory in proportion to how many are held out, not to ``count``."""
    chosen = random.Random(seed).sample(range(count), held_out_count(count, share))
    return sorted(chosen)


class Complement(Sequence[int]):
    """The indices ``0..count-1`` without ``excluded`` (sorted), in order, without listing them.

    The ``i``-th index is ``i`` plus the number of excluded indices at or below it; ``excluded[t] - t``
    never decreases, so that number is one bisection.
    """

    def __init__(self, count: int, excluded: Sequence[int]) -> None:
        self._count = count
        self._shifted = [index - position for position, index in enumerate(excluded)]

    def __len__(self) -> int:
        return self._count - len(self._shifted)

    @overload
    def __getitem__(self, position: int) -> int: ...

    @overload
    def __getitem__(self, position: slice) -> Sequence[int]: ...

    def __getitem__(self, position: int | slice) -> int | Sequence[int]:
        if isinstance(position, slice):
            return [self[i] for i in range(*position.indices(len(self)))]
        if position < 0:
            position += len(self)
        if not 0 <= position < len(self):
            raise IndexError(position)
        return position + bisect.bisect_right(self._shifted, position)


def perplexity(loss: float) -> float:
    """``exp(loss)``, the loss capped at :data:`MAX_PERPLEXITY_LOSS` so it stays a finite number."""
    return math.exp(min(loss, MAX_PERPLEXITY_LOSS))


@dataclass(frozen=True)
class Evaluation:
    """One ``evaluation`` line: the validation loss after ``step`` updates, and its perplexity."""

    step: int
    total: int
    eval_loss: float
    perplexity: float
    examples: int | None


def _number(value: object) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def parse_evaluation(event: Any) -> Evaluation | None:
    """The :class:`Evaluation` of an ``evaluation`` event, or None for any other or malformed one
    (events come from another process, possibly another computer)."""
    if not isinstance(event, dict) or event.get("event") != "evaluation":
        return None
    step, total, loss = _number(event.get("step")), _number(event.get("total")), _number(event.get("eval_loss"))
    if step is None or total is None or loss is None or step < 0 or total < 0:
        return None
    examples = _number(event.get("examples"))
    return Evaluation(
        step=int(step),
        total=int(total),
        eval_loss=loss,
        perplexity=perplexity(loss),
        examples=int(examples) if examples is not None else None,
    )
