"""Speculative decoding in the inference host: drafts verified by the model in one batch.

A drafter guesses the next few tokens; the model evaluates the last sampled token and the guesses
in one batch, with logits at every position, and the decode loop samples each position with the
answer's own sampler chain, in order. A guess is kept while it equals what the sampler drew; the
first draw that differs is kept too (it is what plain decoding would have produced there), and
the rest of the guesses leave the KV cache. The sampler sees exactly the tokens plain decoding
would have shown it, one sample call per answer token, so the repetition penalty, the seed's
random draws and the stop rules are those of plain decoding: what changes is only how many
tokens one ``llama_decode`` call evaluates.

It pays when a batch of ``k + 1`` tokens costs less than the tokens it yields would cost one by
one. On a GPU a small batch costs about one token; on a busy 2-core CPU it can cost nearly
``k + 1`` tokens, so the automatic mode measures both during the answer (:class:`Payoff`) and stops
drafting when it loses time.

Drafters plug in through :class:`Drafter`. :class:`PromptLookup` needs no second model: it copies
what followed the latest earlier occurrence of the answer's last few tokens in the prompt and the
answer so far, which pays when the answer repeats its input (rewriting, proofreading, quoting,
code edits). A draft model (:class:`runtime.chat.draft_model.DraftModel`) is another Drafter.
"""

from __future__ import annotations

import collections
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from runtime.errors import HostError, ParameterError

#: ``off``: plain decoding. ``lookup``: prompt lookup on every token it finds a draft for.
#: ``auto``: prompt lookup that turns itself off for the rest of an answer once it costs time.
#: ``draft``: a draft model's guesses (:mod:`runtime.chat.draft_model`; the host must have one loaded).
#: The default stays ``off``: with flash attention off (the CPU default, engine.load), llama.cpp's
#: batched logits differ from one-token logits past a batch's second row (SmolLM2: up to 0.77),
#: so the text could differ from plain decoding; with flash attention they are bit-identical.
MODES = ("off", "lookup", "auto", "draft")
DEFAULT_MODE = "off"

#: The most drafted tokens one verification batch carries (prompt lookup; a draft model says its own).
#: Under 63: from a batch of 64 rows llama.cpp's CPU flash attention takes a tiled path, whose
#: sums differ from one-token decoding's.
MAX_DRAFT = 32
#: Drafts of an answer's first verification batch. A batch whose drafts were all accepted doubles
#: the next one's (up to the most), and one with a rejection cuts it to the drafts accepted plus
#: one (at least MIN_DRAFT): a long copy is then verified in few batches, and a copy that keeps
#: breaking off early wastes little (on a CPU each token of a batch costs most of a single decode).
FIRST_DRAFT = 8
MIN_DRAFT = 2
#: Longest and shortest n-gram of the latest tokens that prompt lookup searches for.
MAX_NGRAM = 3
MIN_NGRAM = 1

#: In ``auto``, the first decodes of an answer are plain: they measure one token's cost.
PROBE_TOKENS = 4
#: In ``auto``, drafting stops once the time it lost exceeds this many single-token decodes plus
#: this share of the answer's decode time so far.
LOSS_BUDGET_TOKENS = 3.0
LOSS_BUDGET_SHARE = 0.02


def next_draft_length(current: int, *, drafted: int, accepted: int, most: int) -> int:
    """The drafts the next verification batch may carry, after one that carried ``drafted`` of at
    most ``current`` and had ``accepted`` of them kept (see :data:`FIRST_DRAFT`)."""
    if accepted < drafted:
        return min(most, max(MIN_DRAFT, accepted + 1))
    if drafted >= current:  # all accepted, and the batch was full
        return min(most, 2 * current)
    return current  # all accepted of a shorter draft: the drafter had no more to say


def check_mode(value: object) -> str:
    """``value`` as a speculative mode; None means the default.

    Raises:
        ParameterError: not one of :data:`MODES`.
    """
    if value is None:
        return DEFAULT_MODE
    if not isinstance(value, str) or value not in MODES:
        raise ParameterError(f"speculative must be one of {', '.join(MODES)}; got {value!r}.")
    return value


class Drafter(Protocol):
    """What proposes tokens for the model to verify."""

    def draft(self, tokens: Sequence[int], max_n: int) -> list[int]:
        """Up to ``max_n`` guesses of the tokens that follow ``tokens`` (prompt and answer so far).

        Within one answer ``tokens`` only grows (the same list, appended to), so a drafter may
        index it incrementally.
        """
        ...

    def accepted(self, n: int) -> None:
        """How many tokens of the latest draft the model kept."""
        ...


class PromptLookup:
    """Drafts by copying what followed the latest earlier occurrence of the last n tokens.

    The longest n from ``max_ngram`` down to ``min_ngram`` that occurred before wins. An index of
    every n-gram's latest continuation is kept up to date as tokens arrive, so a draft costs a few
    dict lookups whatever the length of the conversation. A continuation that reaches the end of
    ``tokens`` goes on copying its own draft (as LZ77 copies overlap), which drafts a repeating
    pattern in full.
    """

    def __init__(self, *, max_ngram: int = MAX_NGRAM, min_ngram: int = MIN_NGRAM) -> None:
        self.max_ngram = max_ngram
        self.min_ngram = min_ngram
        self._source: Sequence[int] | None = None
        self._indexed = 0
        # (n-gram) -> the position right after its latest occurrence that has a token there.
        self._after: dict[tuple[int, ...], int] = {}

    def draft(self, tokens: Sequence[int], max_n: int) -> list[int]:
        if tokens is not self._source or len(tokens) < self._indexed:
            self._source, self._indexed, self._after = tokens, 0, {}
        self._index(tokens)
        end = len(tokens)
        for n in range(min(self.max_ngram, end), self.min_ngram - 1, -1):
            start = self._after.get(tuple(tokens[end - n :]))
            if start is not None:
                out: list[int] = []
                for i in range(max_n):
                    at = start + i
                    out.append(tokens[at] if at < end else out[at - end])
                return out
        return []

    def accepted(self, n: int) -> None:
        pass

    def _index(self, tokens: Sequence[int]) -> None:
        # Position p gets the n-grams that end right before it: their continuation starts at p.
        # The last position has no token after it yet, so the n-grams ending there (the ones a
        # draft looks up) are added only once the next token has arrived: a lookup never finds
        # its own occurrence.
        after = self._after
        for p in range(max(self._indexed, 1), len(tokens)):
            for n in range(self.min_ngram, min(self.max_ngram, p) + 1):
                after[tuple(tokens[p - n : p])] = p
        self._indexed = max(self._indexed, len(tokens))


@dataclass
class Counts:
    """What speculative decoding did during one answer (reported with its stats)."""

    drafted: int = 0
    accepted: int = 0
    verifications: int = 0
    # Answer tokens decoded when the automatic mode turned drafting off (None: it never did).
    stopped_at: int | None = None


class Payoff:
    """Whether drafting saves time in this answer, from the answer's own measurements.

    Each verification batch is compared with what plain decoding would have spent on the tokens it
    yielded (accepted + 1, at the recent mean single-token time). The time lost so far (negative
    when it gains) may not exceed :data:`LOSS_BUDGET_TOKENS` single tokens plus
    :data:`LOSS_BUDGET_SHARE` of the answer's decode time; past that, drafting stops for the rest
    of the answer. Only in ``auto``: ``lookup`` drafts whatever it costs.
    """

    def __init__(self, *, automatic: bool) -> None:
        self.automatic = automatic
        self.drafting = True
        self._single: collections.deque[float] = collections.deque(maxlen=32)
        self._decode_s = 0.0
        self._lost_s = 0.0

    @property
    def probing(self) -> bool:
        """True while the single-token cost is not measured yet (``auto`` decodes plainly then)."""
        return self.automatic and len(self._single) < PROBE_TOKENS

    def single(self, seconds: float) -> None:
        self._single.append(seconds)
        self._decode_s += seconds

    def verified(self, produced: int, seconds: float) -> None:
        """A verification batch took ``seconds`` and yielded ``produced`` answer tokens."""
        self._decode_s += seconds
        if not self._single:
            return
        one = sum(self._single) / len(self._single)
        self._lost_s += seconds - produced * one
        if self.automatic and self._lost_s > LOSS_BUDGET_TOKENS * one + LOSS_BUDGET_SHARE * self._decode_s:
            self.drafting = False


class Speculation:
    """The decode loop's side of speculative decoding for one answer.

    The loop samples each token as usual (at the logits index :meth:`step` returned), runs its
    checks (end of text, stop strings, length, cancel), and then calls :meth:`step`, which either
    finds the token already in the KV cache (an accepted draft), or evaluates it with new drafts in
    one batch, or leaves it to the loop's plain single-token decode (returns None).

    Args:
        ctx: the llama.cpp context.
        kv_tokens: the engine's list of the tokens in the KV cache, kept in step here.
        history: the prompt's tokens; answer tokens are appended as they come (the drafter reads it).
        drafter: what drafts.
        payoff: the automatic mode's measurements.
        n_ctx: the context size.
        max_draft: the most drafted tokens one verification batch carries.
        clock: the time source.
    """

    def __init__(
        self,
        ctx: Any,
        kv_tokens: list[int],
        history: list[int],
        drafter: Drafter,
        payoff: Payoff,
        *,
        n_ctx: int,
        max_draft: int = MAX_DRAFT,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        import llama_cpp

        self.counts = Counts()
        self.payoff = payoff
        self._ctx = ctx
        self._kv = kv_tokens
        self._history = history
        self._prompt_len = len(history)
        self._drafter = drafter
        self._n_ctx = n_ctx
        self._max_draft = max_draft
        self._clock = clock
        self._pending: collections.deque[int] = collections.deque()  # drafts in the cache, unverified
        self._index = -1  # logits index of the next sample
        self._verifying = False
        self._batch_accepted = 0
        self._batch_drafted = 0
        self._batch_s = 0.0
        self._draft_len = min(FIRST_DRAFT, max_draft)
        self._batch = llama_cpp.llama_batch_init(max_draft + 1, 0, 1)

    def close(self) -> None:
        """Drop drafts still in the cache and free the batch."""
        import llama_cpp

        self._drop_pending()
        if self._batch is not None:
            llama_cpp.llama_batch_free(self._batch)
            self._batch = None

    def single(self, seconds: float) -> None:
        """The loop decoded one token alone in ``seconds``."""
        self.payoff.single(seconds)
        self._index = -1

    def step(self, token: int, tokens_left: int) -> int | None:
        """After ``token`` was sampled and kept: the logits index of the next sample, or None when
        the loop must decode ``token`` alone. ``tokens_left``: answer tokens still allowed after it."""
        self._history.append(token)
        if self._pending:
            if token == self._pending[0]:
                self._pending.popleft()
                self._batch_accepted += 1
                self.counts.accepted += 1
                self._index += 1
                return self._index
            self._drop_pending()
        if self._verifying:
            self._verifying = False
            self._drafter.accepted(self._batch_accepted)
            self.payoff.verified(self._batch_accepted + 1, self._batch_s)
            self._draft_len = next_draft_length(
                self._draft_len, drafted=self._batch_drafted, accepted=self._batch_accepted, most=self._max_draft
            )
            if not self.payoff.drafting and self.counts.stopped_at is None:
                self.counts.stopped_at = len(self._history) - self._prompt_len
        if not self.payoff.drafting or self.payoff.probing:
            return None
        # Room: every sample inside the batch must see a cache shorter than the context (as plain
        # decoding's would), and no draft past the answer's last allowed token.
        room = min(self._draft_len, self._n_ctx - len(self._kv) - 2, tokens_left - 1)
        if room <= 0:
            return None
        t_start = self._clock()
        drafts = self._drafter.draft(self._history, room)[:room]
        if not drafts:
            return None
        self._decode([token, *drafts])
        self._batch_s = self._clock() - t_start
        self._pending.extend(drafts)
        self._verifying = True
        self._batch_accepted = 0
        self._batch_drafted = len(drafts)
        self.counts.drafted += len(drafts)
        self.counts.verifications += 1
        self._index = 0
        return 0

    def _decode(self, tokens: list[int]) -> None:
        import llama_cpp

        batch = self._batch
        start = len(self._kv)
        for i, token in enumerate(tokens):
            batch.token[i] = token
            batch.pos[i] = start + i
            batch.n_seq_id[i] = 1
            batch.seq_id[i][0] = 0
            batch.logits[i] = 1  # every position: each one is sampled
        batch.n_tokens = len(tokens)
        if llama_cpp.llama_decode(self._ctx, batch) != 0:
            self._kv_drop_from(start)
            raise HostError("llama.cpp failed to evaluate a token (out of memory?).")
        self._kv.extend(tokens)

    def _drop_pending(self) -> None:
        if self._pending:
            self._kv_drop_from(len(self._kv) - len(self._pending))
            self._pending.clear()

    def _kv_drop_from(self, position: int) -> None:
        import llama_cpp

        llama_cpp.llama_memory_seq_rm(llama_cpp.llama_get_memory(self._ctx), 0, position, -1)
        del self._kv[position:]
