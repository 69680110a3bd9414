"""A draft model: a second, smaller GGUF in the host process that drafts for the loaded model.

It has its own llama.cpp context and KV cache. Before each draft its cache is brought in step with
the answer so far: the positions past the longest prefix it shares with the answer's tokens (its
rejected drafts, or a new conversation's differing tail) leave the cache, and the tokens it lacks
(the accepted drafts and the model's own correction, or a new prompt) are evaluated in one batch.
It then drafts greedily, one token at a time, while its top probability stays at or above
``p_min``, as llama.cpp's ``common_speculative_gen_draft`` does; a draft of fewer than
:data:`MIN_DRAFT` tokens is not worth a verification batch and is dropped.

The model verifies the drafts with its own sampler (:class:`runtime.chat.speculative.Speculation`),
so the text is plain decoding's whatever the drafter proposes: a poor drafter costs time, never a
different answer. A drafter must share the model's vocabulary (:func:`check_compatible`), or its
token ids mean other text and nothing it drafts would be accepted.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from runtime.errors import DraftModelIncompatible, HostError
from runtime.models import ModelInfo

#: Most tokens one draft proposes (llama.cpp's maintainers advise at least 16).
MAX_DRAFT = 16
#: A token is drafted only while the drafter's probability for its top choice is at least this.
P_MIN = 0.75
#: Fewer drafted tokens than this: no verification batch (it would cost about what it saves).
MIN_DRAFT = 2
#: As llama.cpp's speculative.cpp: vocabulary sizes may differ by this many (added special
#: tokens), and the ids below the first checked one are control tokens whose texts vary.
VOCAB_MAX_SIZE_DIFFERENCE = 128
VOCAB_CHECK_START_TOKEN_ID = 5
#: Tokens evaluated per batch while the drafter catches up with a prompt.
CATCH_UP_BATCH = 512


def compatibility_problem(target: Any, draft: Any) -> str | None:
    """What makes ``draft`` (a llama_cpp.Llama) unfit to draft for ``target``, or None.

    The checks of llama.cpp's ``common_speculative_are_compatible``: the same vocabulary type, the
    same BOS and EOS tokens and whether they are added, vocabulary sizes within
    :data:`VOCAB_MAX_SIZE_DIFFERENCE`, and the same text for every token id both have (from
    :data:`VOCAB_CHECK_START_TOKEN_ID` on).
    """
    import llama_cpp

    v_target = llama_cpp.llama_model_get_vocab(target.model)
    v_draft = llama_cpp.llama_model_get_vocab(draft.model)
    type_target, type_draft = llama_cpp.llama_vocab_type(v_target), llama_cpp.llama_vocab_type(v_draft)
    if type_target != type_draft:
        names = _VOCAB_TYPES.get(type_target, type_target), _VOCAB_TYPES.get(type_draft, type_draft)
        return f"vocabulary type {names[0]} vs {names[1]}"
    for what, read in (
        ("BOS token", llama_cpp.llama_vocab_bos),
        ("EOS token", llama_cpp.llama_vocab_eos),
        ("adds BOS", llama_cpp.llama_vocab_get_add_bos),
        ("adds EOS", llama_cpp.llama_vocab_get_add_eos),
    ):
        a, b = read(v_target), read(v_draft)
        if a != b:
            return f"{what} {a} vs {b}"
    n_target, n_draft = llama_cpp.llama_vocab_n_tokens(v_target), llama_cpp.llama_vocab_n_tokens(v_draft)
    if abs(n_target - n_draft) > VOCAB_MAX_SIZE_DIFFERENCE:
        return f"vocabulary size {n_target:,} vs {n_draft:,}"
    text = llama_cpp.llama_vocab_get_text
    for token in range(VOCAB_CHECK_START_TOKEN_ID, min(n_target, n_draft)):
        a, b = text(v_target, token), text(v_draft, token)
        if a != b:
            shown_a = (a or b"").decode("utf-8", "replace")
            shown_b = (b or b"").decode("utf-8", "replace")
            return f"token {token} is {shown_a!r} vs {shown_b!r}"
    return None


_VOCAB_TYPES = {0: "none", 1: "SPM", 2: "BPE", 3: "WPM", 4: "UGM", 5: "RWKV", 6: "PLaMo-2"}


def check_compatible(target: Any, target_info: ModelInfo, draft: Any, draft_info: ModelInfo) -> None:
    """Raises :class:`DraftModelIncompatible`, naming both files and the difference, when ``draft``
    cannot draft for ``target`` (:func:`compatibility_problem`)."""
    problem = compatibility_problem(target, draft)
    if problem is not None:
        raise DraftModelIncompatible(
            f"{draft_info.file_name} cannot draft for {target_info.file_name}: their vocabularies "
            f"differ ({problem}). A draft model must share the model's vocabulary: choose a smaller "
            "model of the same family.",
            code="draft_model_incompatible",
            params={"draft": draft_info.file_name, "model": target_info.file_name, "difference": problem},
        )


class DraftModel:
    """The :class:`runtime.chat.speculative.Drafter` of a second model.

    Args:
        llm: the drafter's ``llama_cpp.Llama`` (this object closes it in :meth:`close`).
        info: its file's facts.
        max_draft: most tokens one draft proposes.
        p_min: the drafter's least top probability for a drafted token.
    """

    def __init__(self, llm: Any, info: ModelInfo, *, max_draft: int = MAX_DRAFT, p_min: float = P_MIN) -> None:
        import llama_cpp

        self.llm = llm
        self.info = info
        self.max_draft = max_draft
        self.p_min = p_min
        self._ctx = llm.ctx
        self._n_ctx = llama_cpp.llama_n_ctx(self._ctx)
        self._n_vocab = llama_cpp.llama_vocab_n_tokens(llama_cpp.llama_model_get_vocab(llm.model))
        self._kv: list[int] = []  # the tokens in the drafter's KV cache
        self._source: Sequence[int] | None = None
        self._synced = 0  # this many tokens of _source are known to be in the cache as they are
        self._batch = llama_cpp.llama_batch_init(CATCH_UP_BATCH, 0, 1)

    def close(self) -> None:
        import llama_cpp

        if self._batch is not None:
            llama_cpp.llama_batch_free(self._batch)
            self._batch = None
        self.llm.close()

    def draft(self, tokens: Sequence[int], max_n: int) -> list[int]:
        max_n = min(max_n, self.max_draft)
        if max_n < MIN_DRAFT or len(tokens) + max_n >= self._n_ctx:
            return []
        self._catch_up(tokens)
        out: list[int] = []
        index = self._last_index
        while True:
            token, p = self._top(index)
            if p < self.p_min:
                break
            out.append(token)
            if len(out) >= max_n:
                break
            self._evaluate([token], len(self._kv))
            index = 0
        return out if len(out) >= MIN_DRAFT else []

    def accepted(self, n: int) -> None:
        pass  # the next draft's catch-up finds what was kept by comparing with the answer

    def _catch_up(self, tokens: Sequence[int]) -> None:
        """The drafter's cache holds ``tokens`` exactly, with the last one's logits at hand."""
        import llama_cpp

        # Within an answer the list only grows, and what was synced stays as it was: compare from
        # there. Another list (the next answer) is compared from the start, so a conversation's
        # earlier turns are not evaluated again.
        same = self._synced if tokens is self._source and self._synced <= len(tokens) else 0
        limit = min(len(self._kv), len(tokens))
        while same < limit and self._kv[same] == tokens[same]:
            same += 1
        same = min(same, len(tokens) - 1)  # the last token is evaluated again for its logits
        if same < len(self._kv):
            if not llama_cpp.llama_memory_seq_rm(llama_cpp.llama_get_memory(self._ctx), 0, same, -1):
                llama_cpp.llama_memory_clear(llama_cpp.llama_get_memory(self._ctx), True)
                same = 0
            del self._kv[same:]
        for start in range(same, len(tokens), CATCH_UP_BATCH):
            self._evaluate(list(tokens[start : start + CATCH_UP_BATCH]), start)
        self._source, self._synced = tokens, len(tokens)

    @property
    def _last_index(self) -> int:
        return self._batch.n_tokens - 1

    def _evaluate(self, chunk: list[int], start: int) -> None:
        import llama_cpp

        batch = self._batch
        for i, token in enumerate(chunk):
            batch.token[i] = token
            batch.pos[i] = start + i
            batch.n_seq_id[i] = 1
            batch.seq_id[i][0] = 0
            batch.logits[i] = 0
        batch.logits[len(chunk) - 1] = 1
        batch.n_tokens = len(chunk)
        if llama_cpp.llama_decode(self._ctx, batch) != 0:
            llama_cpp.llama_memory_seq_rm(llama_cpp.llama_get_memory(self._ctx), 0, start, -1)
            del self._kv[start:]
            raise HostError("llama.cpp failed to evaluate a token on the draft model (out of memory?).")
        self._kv.extend(chunk)

    def _top(self, index: int) -> tuple[int, float]:
        """The drafter's top token at logits row ``index`` of the last batch, and its probability."""
        import llama_cpp
        import numpy as np

        logits = np.ctypeslib.as_array(llama_cpp.llama_get_logits_ith(self._ctx, index), shape=(self._n_vocab,))
        token = int(logits.argmax())
        return token, float(1.0 / np.exp(logits - logits[token]).sum())
