"""The Engine: one loaded llama.cpp model, its tokens, and the decode loop over llama.cpp's sampler chain.

The host process (:mod:`runtime.chat.host`) owns one :class:`Engine`. The Engine knows nothing of
requests, ids or pipes: the host turns each request into a call (:meth:`Engine.load`,
:meth:`Engine.tokenize`, :meth:`Engine.generate`, ...) and the text and :class:`GenerationStats`
it gets back into events. It is apart from that protocol because it is the hot path, measured by
``bench/chat_throughput.py``, and its changes (KV-cache reuse, the sampler chain, the thread count
per token) are of another kind than the protocol's. The file checks and the opening of the model
are :mod:`runtime.models.loader`'s; :meth:`Engine.load` only chooses the options.
"""

from __future__ import annotations

import ctypes
import dataclasses
import os
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from runtime.chat import templates
from runtime.chat._threads import CpuUse, ThreadTuner, default_threads, usable_cores
from runtime.chat.draft_model import MAX_DRAFT, P_MIN, DraftModel, check_compatible
from runtime.chat.speculative import Counts, Payoff, PromptLookup, Speculation, check_mode
from runtime.chat.streaming import StopMatcher, Utf8Stream
from runtime.decoding import DecodingParams
from runtime.errors import HostError, ModelLoadError, NotLoaded, ParameterError
from runtime.models import ModelInfo
from runtime.models.loader import check_model, open_llama

#: KV cache types the host offers, by name, with their GGML type ids (llama.cpp's ggml_type).
KV_TYPES = {"f16": 1, "q8_0": 8, "q4_0": 2}
# Tokens of recent history the repetition penalty looks at (llama.cpp's default).
PENALTY_LAST_N = 64
PROMPT_BATCH = 512
# Longest time streamed text waits in the host before it is sent (a 60 Hz frame).
STREAM_INTERVAL_S = 0.016
#: From this position on, a load with exact_batches decodes single tokens on one thread
#: (Engine._one_thread_at): llama.cpp's CPU flash attention splits a lone token's attention
#: across threads once the cache span it reads reaches 512 cells (spans are padded to 256).
SPLIT_ATTENTION_FROM = 256


@dataclass(frozen=True)
class GenerationStats:
    """What the host reports when an answer ends."""

    reason: str  # "stop" (end of text), "stop_string", "length", "context_full", "cancelled"
    prompt_tokens: int
    prompt_tokens_evaluated: int
    generated_tokens: int
    time_to_first_token_s: float
    tokens_per_s: float
    total_s: float
    seed: int
    threads: int = 0  # the thread count that decoded fastest (what "Automatic" settled on)
    load_1m: float | None = None  # the machine's load average when the answer ended (POSIX)
    # Cores other programs at normal priority kept busy while the answer was written (Linux;
    # None elsewhere or for answers under half a second). Niced background work is not counted.
    others_busy_cores: float | None = None
    # Speculative decoding (runtime.chat.speculative): the mode asked for, tokens drafted, drafts
    # the model kept, verification batches, and the answer token where "auto" stopped drafting.
    speculative: str = "off"
    drafted: int = 0
    accepted: int = 0
    verifications: int = 0
    drafting_stopped_at: int | None = None


class Engine:
    """One loaded model and the decode loop over llama.cpp's native sampler chain.

    The loop calls llama.cpp directly (decode, sample, token-to-piece) instead of
    ``Llama.create_completion``: the high-level path does per-token Python work (logits
    copies, numpy sampling bookkeeping) that costs about a quarter of decode speed on a
    small model (see bench/chat_throughput.py).
    """

    def __init__(self) -> None:
        self.llm: Any = None
        self.info: ModelInfo | None = None
        #: The KV cache type of the loaded model.
        self.kv_type = "f16"
        self._kv_tokens: list[int] = []
        self._pieces: dict[int, bytes] = {}
        self._tuner = ThreadTuner(default_threads())
        self._exact_cpu = False
        self.draft: DraftModel | None = None

    def set_threads(self, count: int | None) -> None:
        """Decode with ``count`` threads from the next answer on, or choose by measuring (``None``)."""
        count = min(count, 4 * usable_cores()) if count else None  # a typo must not start 10,000 threads
        if count != (self._tuner.candidates[0] if self._tuner.fixed else None):
            self._tuner = ThreadTuner(default_threads(), fixed=count)

    # -- loading ---------------------------------------------------------------------------

    def load(
        self,
        path: str,
        *,
        n_ctx: int = 2048,
        n_threads: int | None = None,
        n_gpu_layers: int = 0,
        seed: int | None = None,
        kv_type: str = "f16",
        checked: ModelInfo | None = None,
        exact_batches: bool = False,
    ) -> ModelInfo:
        """Load a GGUF model, replacing the current one.

        Args:
            kv_type: the KV cache's type, ``f16``, ``q8_0`` or ``q4_0`` (:data:`KV_TYPES`).
            exact_batches: a batch's logits equal one-token decoding's, as speculative decoding
                needs for its text to be plain decoding's: flash attention on, also on the CPU.
            checked: what :func:`runtime.models.loader.check_model` returned for ``path`` already
                (the host read the header for its plan): not read again.

        Raises:
            ModelLoadError: the file is missing, not GGUF, truncated, or llama.cpp rejects it.
        """
        if kv_type not in KV_TYPES:
            raise ParameterError(
                f"The KV cache type {kv_type!r} is not one of {', '.join(KV_TYPES)}.",
                code="kv_type_unknown",
                params={"kv": str(kv_type), "known": ", ".join(KV_TYPES)},
            )
        info = checked if checked is not None and checked.path == os.path.realpath(path) else check_model(path)
        self.unload()  # the draft model too: it was checked against the model it drafted for
        import llama_cpp

        self._tuner = ThreadTuner(default_threads(), fixed=n_threads)
        options: dict[str, Any] = {
            "n_ctx": n_ctx,
            "n_batch": PROMPT_BATCH,
            "n_threads": self._tuner.current,
            "n_threads_batch": self._tuner.best,
            "n_gpu_layers": n_gpu_layers,
            "seed": seed if seed is not None else llama_cpp.LLAMA_DEFAULT_SEED,
            "type_k": KV_TYPES[kv_type],
            "type_v": KV_TYPES[kv_type],
        }
        self._exact_cpu = exact_batches and n_gpu_layers == 0
        if exact_batches and n_gpu_layers == 0:
            # Without flash attention, llama.cpp's CPU path gives the third and later rows of a
            # batch logits that differ from one-token decoding (by 0.5 to 0.8 on SmolLM2), enough
            # to turn a near tie: a verified draft could change the text. With it they are equal
            # bit for bit (measured); it costs decode speed in long conversations (below).
            self.llm = open_llama(info, **options, flash_attn=True)
        elif kv_type != "f16" and n_gpu_layers == 0:
            # llama.cpp stores a quantized V cache only with flash attention, so it is on for
            # that case, at the cost described below: on the CPU its kernel decodes more slowly
            # as the conversation grows (the price of a KV cache a half or a quarter the size).
            self.llm = open_llama(info, **options, flash_attn=True)
        elif n_gpu_layers == 0:
            # Flash attention off on the CPU: its CPU kernel decodes slower as the
            # conversation grows (160M bench model, 2 threads: 33 vs 24.5 tokens/s at
            # 1,150 tokens of context, equal at 40), and llama-bench leaves it off too.
            self.llm = open_llama(info, **options, flash_attn=False)
        else:
            try:
                # On a GPU it is the faster path (llama.cpp's own "auto" picks it).
                self.llm = open_llama(info, **options, flash_attn=True)
            except ModelLoadError:
                # A model or backend that cannot use it fails context creation: retry.
                self.llm = open_llama(info, **options, flash_attn=False)
        self.info = info
        self.kv_type = kv_type
        self._kv_tokens = []
        self._pieces = {}
        return info

    def load_draft(self, path: str, *, max_draft: int = MAX_DRAFT, p_min: float = P_MIN) -> ModelInfo:
        """Load a draft model for the loaded model (replacing the current one), with the model
        files' usual checks and a context of the model's size.

        Raises:
            NotLoaded: no model is loaded.
            ModelLoadError: the file fails the checks or llama.cpp rejects it.
            DraftModelIncompatible: it does not share the model's vocabulary.
        """
        llm = self._require()
        assert self.info is not None
        info = check_model(path)
        self.unload_draft()
        # Flash attention as the CPU default has it (off): the drafter's batches need not equal
        # its one-token logits, since the model verifies every draft with its own.
        draft_llm = open_llama(
            info,
            n_ctx=llm.n_ctx(),
            n_batch=PROMPT_BATCH,
            n_threads=self._tuner.best,
            n_threads_batch=self._tuner.best,
            flash_attn=False,
        )
        try:
            check_compatible(llm, self.info, draft_llm, info)
        except BaseException:
            draft_llm.close()
            raise
        self.draft = DraftModel(draft_llm, info, max_draft=max_draft, p_min=p_min)
        return info

    def unload_draft(self) -> None:
        """Free the draft model (no-op when none is loaded)."""
        if self.draft is not None:
            self.draft.close()
        self.draft = None

    def resident_model_bytes(self) -> int:
        """Memory that unloading the current model would give back (0 when none is loaded): this
        process's resident set above the host's own (Linux; 0 elsewhere)."""
        if self.llm is None:
            return 0
        from runtime.models.plan import HOST_BASELINE_BYTES

        try:
            with open("/proc/self/statm", encoding="ascii") as handle:
                resident = int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, ValueError, IndexError):
            return 0
        return max(0, resident - HOST_BASELINE_BYTES)

    def unload(self) -> None:
        """Free the model and its draft model (no-op when none is loaded)."""
        self.unload_draft()
        if self.llm is not None:
            self.llm.close()
        self.llm = None
        self.info = None
        self._kv_tokens = []

    def _require(self) -> Any:
        if self.llm is None:
            raise NotLoaded("No model is loaded. Open a GGUF model file first.", code="not_loaded")
        return self.llm

    # -- tokens ------------------------------------------------------------------------------

    def tokenize(self, text: str, *, add_bos: bool = False, special: bool = False) -> list[int]:
        """The model's own tokenization of ``text``."""
        return self._tokenize(text.encode("utf-8"), add_bos=add_bos, special=special)

    def _tokenize(self, data: bytes, *, add_bos: bool, special: bool) -> list[int]:
        """``llama_tokenize`` with a buffer sized by the text.

        ``Llama.tokenize`` sizes its buffer by the model's training context, a number the file
        states: a huge one costs gigabytes per call, and one past 2**31 (read as negative) makes
        every call fail. A token covers at least one byte, so the text's length plus BOS and EOS
        is always enough; a negative count (llama.cpp's "need more room") is honoured anyway.
        """
        import llama_cpp

        llm = self._require()
        vocab = llama_cpp.llama_model_get_vocab(llm.model)
        size = len(data) + 2
        for _attempt in range(2):
            buffer = (llama_cpp.llama_token * size)()
            n = llama_cpp.llama_tokenize(vocab, data, len(data), buffer, size, add_bos, special)
            if n >= 0:
                return list(buffer[:n])
            size = -n
        raise HostError(f"llama.cpp could not tokenize a text of {len(data):,} bytes.")

    def detokenize(self, tokens: list[int]) -> str:
        """Text of ``tokens`` (invalid byte sequences become U+FFFD)."""
        llm = self._require()
        return bytes(llm.detokenize(tokens)).decode("utf-8", errors="replace")

    def prompt_tokens(self, prompt: templates.ChatPrompt) -> list[int]:
        """Tokens of a rendered chat prompt; special parts map to the model's own ids."""
        import llama_cpp

        llm = self._require()
        vocab = llama_cpp.llama_model_get_vocab(llm.model)
        tokens: list[int] = []
        for part in prompt.parts:
            if part is templates.Special.BOS:
                tokens.append(llama_cpp.llama_vocab_bos(vocab))
            elif part is templates.Special.EOS:
                tokens.append(llama_cpp.llama_vocab_eos(vocab))
            elif part:
                tokens.extend(self._tokenize(part.encode("utf-8"), add_bos=False, special=prompt.parse_special))
        return tokens

    def _piece_cache(self, vocab: Any) -> Callable[[int], bytes]:
        """``token -> bytes`` of its piece, remembered for the model's lifetime (a dict lookup is
        cheaper than the ctypes call on every token)."""
        import llama_cpp

        cache = self._pieces
        buf = ctypes.create_string_buffer(64)

        def piece(token: int) -> bytes:
            data = cache.get(token)
            if data is None:
                n = llama_cpp.llama_token_to_piece(vocab, token, buf, len(buf), 0, False)
                if n < 0:
                    bigger = ctypes.create_string_buffer(-n)
                    n = llama_cpp.llama_token_to_piece(vocab, token, bigger, -n, 0, False)
                    data = bigger.raw[:n]
                else:
                    data = buf.raw[:n]
                cache[token] = data
            return data

        return piece

    # -- generation ----------------------------------------------------------------------------

    def generate(
        self,
        tokens: list[int],
        params: DecodingParams,
        *,
        stop: tuple[str, ...] = (),
        is_cancelled: Callable[[], bool] = lambda: False,
        on_text: Callable[[str], None],
        strip_leading_space: bool = True,
        speculative: str = "off",
    ) -> GenerationStats:
        """Evaluate ``tokens`` and sample up to ``params.max_tokens`` new ones.

        Text goes to ``on_text`` as soon as it is whole (no split characters, no partial
        stop strings). Checks ``is_cancelled`` between prompt batches and after every token.
        ``strip_leading_space`` drops the space SentencePiece puts before an answer's first
        word; a plain continuation keeps it (``Once upon a time`` + `` there``).
        ``speculative``: ``off``, ``lookup``, ``auto`` or ``draft`` (:mod:`runtime.chat.speculative`;
        ``draft`` needs :meth:`load_draft` first); the text is the same in every mode.
        """
        import llama_cpp

        speculative = check_mode(speculative)
        if speculative == "draft" and self.draft is None:
            raise ParameterError(
                "Speculative decoding with a draft model needs a draft model: load one first (--draft FILE).",
                code="draft_model_missing",
            )

        llm = self._require()
        t_start = time.perf_counter()
        cpu_use = CpuUse()
        ctx = llm.ctx
        vocab = llama_cpp.llama_model_get_vocab(llm.model)
        n_ctx = llama_cpp.llama_n_ctx(ctx)
        if not tokens:
            raise HostError("The prompt is empty: type a message first.")
        if len(tokens) >= n_ctx:
            raise HostError(
                f"The prompt has {len(tokens)} tokens, more than the context size {n_ctx}. "
                "Shorten it or raise the context size."
            )

        # Reuse the KV cache for the prefix this prompt shares with the previous one: in a
        # chat, each turn's prompt starts with the whole previous conversation.
        prefix = 0
        for a, b in zip(self._kv_tokens, tokens, strict=False):
            if a != b:
                break
            prefix += 1
        prefix = min(prefix, len(tokens) - 1)  # the last prompt token is evaluated for its logits
        memory = llama_cpp.llama_get_memory(ctx)
        if not llama_cpp.llama_memory_seq_rm(memory, 0, prefix, -1):
            llama_cpp.llama_memory_clear(memory, True)
            prefix = 0
        self._kv_tokens = self._kv_tokens[:prefix]

        seed = params.seed if params.seed is not None else secrets.randbits(32)
        sampler = self._sampler(vocab, params, seed, history=tokens[-PENALTY_LAST_N:])
        tuner = self._tuner
        set_threads = llama_cpp.llama_set_n_threads
        active = tuner.best
        set_threads(ctx, active, active)  # a prompt batch uses the count that decoded fastest
        spec: Speculation | None = None
        try:
            # A prompt batch of a big model takes seconds on a CPU: while the prompt is evaluated,
            # llama.cpp asks this callback between graph nodes whether to stop. It is removed
            # for token generation, where one check per token is enough and a Python call per
            # graph node would cost speed.
            abort = llama_cpp.ggml_abort_callback(lambda _data: bool(is_cancelled()))
            llama_cpp.llama_set_abort_callback(ctx, abort, None)
            try:
                # The last prompt token goes alone, after the batches: inside a long batch its
                # logits differ slightly from a one-token decode's (even with flash attention), and
                # a prompt that reuses the cache evaluates only that token. Alone every time, the
                # same prompt gives the same text whatever the cache held (regenerating at
                # temperature 0; speculative against plain decoding), for one token's decode time.
                last = len(tokens) - 1
                starts = [*range(prefix, last, PROMPT_BATCH), last]
                for start, end in zip(starts, [*starts[1:], len(tokens)], strict=True):
                    if start == last and self._one_thread_at(last):
                        set_threads(ctx, 1, active)
                        active = 1
                    if is_cancelled() or not self._decode(ctx, tokens[start:end], start):
                        stats = self._stats("cancelled", tokens, prefix, 0, t_start, None, seed, cpu_use)
                        return _with_counts(stats, speculative, Counts())
            finally:
                llama_cpp.llama_set_abort_callback(ctx, llama_cpp.ggml_abort_callback(), None)
            if speculative == "draft" and self.draft is not None:
                payoff = Payoff(automatic=False)
                spec = Speculation(
                    ctx, self._kv_tokens, list(tokens), self.draft, payoff, n_ctx=n_ctx, max_draft=self.draft.max_draft
                )
            elif speculative != "off":
                payoff = Payoff(automatic=speculative == "auto")
                spec = Speculation(ctx, self._kv_tokens, list(tokens), PromptLookup(), payoff, n_ctx=n_ctx)

            stream = Utf8Stream(strip_leading_space=strip_leading_space)
            stopper = StopMatcher(stop)
            one = (llama_cpp.llama_token * 1)()
            batch_one = llama_cpp.llama_batch_get_one(one, 1)
            piece = self._piece_cache(vocab)
            sample = llama_cpp.llama_sampler_sample
            is_eog = llama_cpp.llama_vocab_is_eog
            decode = llama_cpp.llama_decode
            clock = time.perf_counter
            reason = "length"
            n_generated = 0
            t_first: float | None = None
            # Text is sent at most once per STREAM_INTERVAL_S (the first piece at once): a
            # message per token costs the client CPU that, on a 2-core laptop, decode needs.
            pending = ""
            last_sent = 0.0
            index = -1  # the logits to sample: the last decoded token's, or a verification batch's
            while True:
                if len(self._kv_tokens) >= n_ctx:
                    reason = "context_full"
                    break
                token = sample(sampler, ctx, index)
                if t_first is None:
                    t_first = clock()
                if is_eog(vocab, token):
                    reason = "stop"
                    break
                n_generated += 1
                text, hit = stopper.feed(stream.feed(piece(token)))
                pending += text
                if pending and (hit or clock() - last_sent >= STREAM_INTERVAL_S):
                    on_text(pending)
                    pending = ""
                    last_sent = clock()
                if hit:
                    reason = "stop_string"
                    break
                if is_cancelled():
                    reason = "cancelled"
                    break
                if n_generated >= params.max_tokens:
                    break  # no decode for a token nothing will follow
                if spec is not None:
                    # An accepted draft is in the KV cache already; a token with new drafts goes
                    # out in one verification batch. None: decode it alone, as plain decoding does.
                    next_index = spec.step(token, params.max_tokens - n_generated)
                    if next_index is not None:
                        index = next_index
                        continue
                one[0] = token
                count = 1 if self._one_thread_at(len(self._kv_tokens)) else tuner.next_count()
                if count != active:
                    set_threads(ctx, count, tuner.best)
                    active = count
                t_decode = clock()
                if decode(ctx, batch_one) != 0:
                    raise HostError("llama.cpp failed to evaluate a token (out of memory?).")
                t_token = clock() - t_decode
                tuner.record(count, t_token)
                self._kv_tokens.append(token)
                index = -1
                if spec is not None:
                    spec.single(t_token)
            if reason != "stop_string":
                text, _ = stopper.feed(stream.flush())
                pending += text + stopper.flush()
            if pending:
                on_text(pending)
            stats = self._stats(reason, tokens, prefix, n_generated, t_start, t_first, seed, cpu_use)
            return _with_counts(stats, speculative, spec.counts if spec is not None else Counts())
        finally:
            if spec is not None:
                spec.close()  # drafts left in the cache past where the answer ended go
            llama_cpp.llama_sampler_free(sampler)

    def _one_thread_at(self, position: int) -> bool:
        """Whether a one-token decode at ``position`` must use one thread for its logits to equal a
        batch row's (a load with ``exact_batches`` on the CPU).

        llama.cpp's CPU flash attention splits one token's attention across the threads once the
        KV cache span it reads reaches 512 cells (spans are padded to 256: from position 256 on),
        and sums the parts in another order than a batch row, which one thread computes whole.
        With two threads a verified draft then changed SmolLM2's text in 6 of 10 free-form
        answers; with one, every text was plain decoding's.
        """
        return self._exact_cpu and position >= SPLIT_ATTENTION_FROM

    def _decode(self, ctx: Any, chunk: list[int], start: int) -> bool:
        """Evaluate prompt tokens at positions ``start``...; False when the abort callback stopped it."""
        import llama_cpp

        array = (llama_cpp.llama_token * len(chunk))(*chunk)
        result = llama_cpp.llama_decode(ctx, llama_cpp.llama_batch_get_one(array, len(chunk)))
        if result == 2:
            # Aborted: part of the batch may be in the KV cache; drop it, keep what came before.
            llama_cpp.llama_memory_seq_rm(llama_cpp.llama_get_memory(ctx), 0, start, -1)
            del self._kv_tokens[start:]
            return False
        if result != 0:
            self._kv_tokens = []
            llama_cpp.llama_memory_clear(llama_cpp.llama_get_memory(ctx), True)
            raise HostError("llama.cpp failed to evaluate the prompt (out of memory?).")
        self._kv_tokens.extend(chunk)
        return True

    def _sampler(self, vocab: Any, params: DecodingParams, seed: int, *, history: list[int]) -> Any:
        """The native sampler chain, in llama.cpp's usual order: penalties, top-k, top-p, temperature."""
        import llama_cpp

        chain = llama_cpp.llama_sampler_chain_init(llama_cpp.llama_sampler_chain_default_params())
        add = llama_cpp.llama_sampler_chain_add
        n_vocab = llama_cpp.llama_vocab_n_tokens(vocab)
        if params.repeat_penalty != 1.0:
            if params.temperature <= 0.0 or params.top_k > 0:
                # The penalty only lowers the logits of at most PENALTY_LAST_N tokens, so the final
                # top-k (or greedy) choice is always among the top k + PENALTY_LAST_N before it:
                # cutting to those first gives the same result while the penalty then looks at
                # ~100 candidates instead of the whole 50k vocabulary (160 us -> 20 us per token).
                keep = (params.top_k if params.temperature > 0.0 else 1) + PENALTY_LAST_N
                add(chain, llama_cpp.llama_sampler_init_top_k(keep))
            add(
                chain,
                llama_cpp.llama_sampler_init_penalties(n_vocab, PENALTY_LAST_N, params.repeat_penalty, 0.0, 0.0),
            )
        if params.temperature <= 0.0:
            add(chain, llama_cpp.llama_sampler_init_greedy())
        else:
            if params.top_k > 0:
                add(chain, llama_cpp.llama_sampler_init_top_k(params.top_k))
            if params.top_p < 1.0:
                add(chain, llama_cpp.llama_sampler_init_top_p(params.top_p, 1))
            add(chain, llama_cpp.llama_sampler_init_temp(params.temperature))
            add(chain, llama_cpp.llama_sampler_init_dist(seed))
        # The penalty looks back over the prompt too, as in llama.cpp's own tools.
        for token in history:
            llama_cpp.llama_sampler_accept(chain, token)
        return chain

    def _stats(
        self,
        reason: str,
        tokens: list[int],
        prefix: int,
        n_generated: int,
        t_start: float,
        t_first: float | None,
        seed: int,
        cpu_use: CpuUse,
    ) -> GenerationStats:
        t_end = time.perf_counter()
        ttft = (t_first - t_start) if t_first is not None else 0.0
        decode_time = (t_end - t_first) if t_first is not None else 0.0
        return GenerationStats(
            reason=reason,
            prompt_tokens=len(tokens),
            prompt_tokens_evaluated=len(tokens) - prefix,
            generated_tokens=n_generated,
            time_to_first_token_s=round(ttft, 4),
            tokens_per_s=round(n_generated / decode_time, 2) if decode_time > 0 and n_generated else 0.0,
            total_s=round(t_end - t_start, 4),
            seed=seed,
            threads=self._tuner.best,
            load_1m=round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None,
            others_busy_cores=None if (busy := cpu_use.others_busy()) is None else round(busy, 2),
        )


def _with_counts(stats: GenerationStats, mode: str, counts: Counts) -> GenerationStats:
    return dataclasses.replace(
        stats,
        speculative=mode,
        drafted=counts.drafted,
        accepted=counts.accepted,
        verifications=counts.verifications,
        drafting_stopped_at=counts.stopped_at,
    )
