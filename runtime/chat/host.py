"""The inference host: a child process that owns the llama.cpp model.

Run as ``python -m runtime.chat.host`` (or ``alpaca-desk host`` in a frozen build). It reads one
JSON request per line on stdin and writes one JSON event per line on its protocol pipe
(the original stdout; fd 1 is pointed at stderr so that stray native prints can never corrupt
the protocol). A native abort or an out-of-memory kill costs this process, never the window.

Requests (``id`` is chosen by the client and echoed in every event of that request)::

    {"id": 1, "op": "load", "path": ..., "n_ctx": 2048, "n_threads": null, "n_gpu_layers": 0}
    {"id": 2, "op": "chat", "template": "chinese-alpaca", "system": null, "turns": [...],
     "params": {...}, "jinja": false}
    {"id": 3, "op": "generate", "prompt": "Once upon a time", "params": {...}, "stop": []}
    {"id": 4, "op": "cancel", "target": 2}        # handled at once by the reader thread;
                                                  # target null: every request sent so far
    {"id": 5, "op": "tokenize", "text": ..., "add_bos": false, "special": false}
    {"id": 6, "op": "detokenize", "tokens": [...]}
    {"id": 7, "op": "info"}    {"id": 8, "op": "unload"}    {"id": 9, "op": "shutdown"}

Events: ``ready``, ``loaded`` (info), ``prompt`` (n_tokens, dropped_turns, text), ``token``
(text), ``finished`` (stats), ``result`` (tokens / text / info), ``unloaded``, ``error``
(message, kind).
"""

from __future__ import annotations

import ctypes
import json
import os
import queue
import secrets
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, BinaryIO

from runtime._exit import end_with_parent
from runtime.chat import templates
from runtime.chat._threads import CpuUse, ThreadTuner, default_threads, usable_cores
from runtime.chat.streaming import StopMatcher, Utf8Stream
from runtime.decoding import RANGES, DecodingParams
from runtime.errors import AppError, HostError, ModelLoadError, NotLoaded, ParameterError
from runtime.models import ModelInfo, native_log
from runtime.models.loader import check_model, open_llama

# Tokens of recent history the repetition penalty looks at (llama.cpp's default).
PENALTY_LAST_N = 64
PROMPT_BATCH = 512
# Longest time streamed text waits in the host before it is sent (a 60 Hz frame).
STREAM_INTERVAL_S = 0.016


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
        self._kv_tokens: list[int] = []
        self._pieces: dict[int, bytes] = {}
        self._tuner = ThreadTuner(default_threads())

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
    ) -> ModelInfo:
        """Load a GGUF model, replacing the current one.

        Raises:
            ModelLoadError: the file is missing, not GGUF, truncated, or llama.cpp rejects it.
        """
        info = check_model(path)
        self.unload()
        import llama_cpp

        self._tuner = ThreadTuner(default_threads(), fixed=n_threads)
        options: dict[str, Any] = {
            "n_ctx": n_ctx,
            "n_batch": PROMPT_BATCH,
            "n_threads": self._tuner.current,
            "n_threads_batch": self._tuner.best,
            "n_gpu_layers": n_gpu_layers,
            "seed": seed if seed is not None else llama_cpp.LLAMA_DEFAULT_SEED,
        }
        if n_gpu_layers == 0:
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
        self._kv_tokens = []
        self._pieces = {}
        return info

    def unload(self) -> None:
        """Free the model (no-op when none is loaded)."""
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
    ) -> GenerationStats:
        """Evaluate ``tokens`` and sample up to ``params.max_tokens`` new ones.

        Text goes to ``on_text`` as soon as it is whole (no split characters, no partial
        stop strings). Checks ``is_cancelled`` between prompt batches and after every token.
        ``strip_leading_space`` drops the space SentencePiece puts before an answer's first
        word; a plain continuation keeps it (``Once upon a time`` + `` there``).
        """
        import llama_cpp

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
        try:
            # A prompt batch of a big model takes seconds on a CPU: while the prompt is evaluated,
            # llama.cpp asks this callback between graph nodes whether to stop. It is removed
            # for token generation, where one check per token is enough and a Python call per
            # graph node would cost speed.
            abort = llama_cpp.ggml_abort_callback(lambda _data: bool(is_cancelled()))
            llama_cpp.llama_set_abort_callback(ctx, abort, None)
            try:
                for start in range(prefix, len(tokens), PROMPT_BATCH):
                    if is_cancelled() or not self._decode(ctx, tokens[start : start + PROMPT_BATCH], start):
                        return self._stats("cancelled", tokens, prefix, 0, t_start, None, seed, cpu_use)
            finally:
                llama_cpp.llama_set_abort_callback(ctx, llama_cpp.ggml_abort_callback(), None)

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
            while True:
                if len(self._kv_tokens) >= n_ctx:
                    reason = "context_full"
                    break
                token = sample(sampler, ctx, -1)
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
                one[0] = token
                count = tuner.next_count()
                if count != active:
                    set_threads(ctx, count, tuner.best)
                    active = count
                t_decode = clock()
                if decode(ctx, batch_one) != 0:
                    raise HostError("llama.cpp failed to evaluate a token (out of memory?).")
                tuner.record(count, clock() - t_decode)
                self._kv_tokens.append(token)
            if reason != "stop_string":
                text, _ = stopper.feed(stream.flush())
                pending += text + stopper.flush()
            if pending:
                on_text(pending)
            return self._stats(reason, tokens, prefix, n_generated, t_start, t_first, seed, cpu_use)
        finally:
            llama_cpp.llama_sampler_free(sampler)

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


class Host:
    """Request loop around an :class:`Engine`; one request at a time, cancel at any time."""

    def __init__(self, out: BinaryIO) -> None:
        self.engine = Engine()
        self._out = out
        self._write_lock = threading.Lock()
        self._requests: queue.Queue[dict[str, Any] | None] = queue.Queue()
        # Cancels, read by the decode loop after every token (an int read and a set lookup are
        # atomic under the GIL, so no lock is needed on that hot path).
        self._cancel_upto = -1  # a cancel without a target: every request up to this id
        self._cancelled_ids: set[int] = set()  # cancels of one request
        # Highest request id received so far: a cancel without a target stops the requests
        # already sent (running or queued), never the ones that follow it.
        self._last_request_id = -1

    def emit(self, request_id: int | None, event: str, **fields: Any) -> None:
        """Write one event line to the protocol pipe."""
        line = json.dumps({"id": request_id, "event": event, **fields}, ensure_ascii=False) + "\n"
        with self._write_lock:
            self._out.write(line.encode("utf-8"))
            self._out.flush()

    def read_requests(self, stream: BinaryIO) -> None:
        """Reader thread: queue requests, apply cancels immediately."""
        for raw in stream:
            try:
                request = json.loads(raw)  # the client's own protocol, from the process that started us
                if not isinstance(request, dict):
                    raise ValueError("request is not an object")
            except ValueError as exc:
                self.emit(None, "error", message=f"Bad request line: {exc}", kind="protocol")
                continue
            if request.get("op") == "cancel":
                target = request.get("target")
                if target is not None and (not isinstance(target, int) or isinstance(target, bool)):
                    self.emit(None, "error", message=f"Bad cancel target {target!r}.", kind="protocol")
                    continue
                if target is None:
                    upto = self._last_request_id
                    self._cancel_upto = max(self._cancel_upto, upto)
                else:
                    upto = target
                    self._cancelled_ids.add(target)
                # Acknowledge at once, from this thread: the main thread may be inside a long
                # native call (a prompt batch, a load) and act on the cancel only when it returns.
                # The client ends the host only when not even this arrives.
                self.emit(None, "cancelling", upto=upto)
                continue
            request_id = request.get("id")
            if isinstance(request_id, int) and not isinstance(request_id, bool):
                self._last_request_id = max(self._last_request_id, request_id)
            self._requests.put(request)
        # stdin closed: the client is gone. Stop any answer in progress, then exit.
        self._cancel_upto = 1 << 62
        self._requests.put(None)

    def serve(self) -> None:
        """Handle requests until ``shutdown`` or the end of stdin."""
        self.emit(None, "ready", pid=os.getpid())
        while True:
            request = self._requests.get()
            if request is None or request.get("op") == "shutdown":
                break
            self.handle(request)
        self.engine.unload()

    def handle(self, request: dict[str, Any]) -> None:
        """Run one request, turning every failure into an ``error`` event."""
        request_id = request.get("id")
        op = request.get("op")
        handler = getattr(self, f"op_{op}", None) if isinstance(op, str) else None
        try:
            if handler is None:
                raise HostError(f"Unknown request '{op}'.")
            handler(request_id, request)
        except AppError as exc:
            self.emit(request_id, "error", message=str(exc), kind=type(exc).__name__, code=exc.code, params=exc.params)
        except Exception as exc:  # noqa: BLE001 - the host must survive any single request
            self.emit(request_id, "error", message=f"{type(exc).__name__}: {exc}", kind="internal")

    def _cancelled(self, request_id: int) -> Callable[[], bool]:
        cancelled = self._cancelled_ids
        return lambda: request_id in cancelled or self._cancel_upto >= request_id

    # -- operations --------------------------------------------------------------------------

    def op_load(self, rid: int, req: dict[str, Any]) -> None:
        try:
            self._load(rid, req)
        except AppError as exc:
            # Say which model (if any) is still loaded: a file refused by the checks leaves the
            # previous one in place, a file llama.cpp refused does not.
            still = self.engine.info.to_dict() if self.engine.info is not None else None
            self.emit(
                rid,
                "error",
                message=str(exc),
                kind=type(exc).__name__,
                code=exc.code,
                params=exc.params,
                loaded=still,
                n_ctx=self.engine.llm.n_ctx() if self.engine.llm is not None else None,
            )

    def _load(self, rid: int, req: dict[str, Any]) -> None:
        # Before llama.cpp first runs: its log and a failed assertion's message must reach the
        # log file and the client, whatever llama-cpp-python does to stderr meanwhile.
        native_log.install()
        info = self.engine.load(
            str(req.get("path", "")),
            n_ctx=_requested_n_ctx(req),
            n_threads=req.get("n_threads"),
            n_gpu_layers=int(req.get("n_gpu_layers") or 0),
            seed=req.get("seed"),
        )
        # What was allocated: llama.cpp rounds the context up (to a multiple of 256).
        self.emit(rid, "loaded", info=info.to_dict(), n_ctx=int(self.engine._require().n_ctx()))

    def op_unload(self, rid: int, req: dict[str, Any]) -> None:
        self.engine.unload()
        self.emit(rid, "unloaded")

    def op_info(self, rid: int, req: dict[str, Any]) -> None:
        self.engine._require()
        assert self.engine.info is not None
        self.emit(rid, "result", info=self.engine.info.to_dict())

    def op_tokenize(self, rid: int, req: dict[str, Any]) -> None:
        tokens = self.engine.tokenize(
            str(req.get("text", "")), add_bos=bool(req.get("add_bos")), special=bool(req.get("special"))
        )
        self.emit(rid, "result", tokens=tokens)

    def op_detokenize(self, rid: int, req: dict[str, Any]) -> None:
        self.emit(rid, "result", text=self.engine.detokenize([int(t) for t in req.get("tokens", [])]))

    def _render(self, req: dict[str, Any], params: DecodingParams) -> templates.FittedPrompt:
        info = self.engine.info
        turns = [
            templates.Turn(
                user=str(t.get("user", "")),
                assistant=t.get("assistant"),
                input=str(t.get("input", "") or ""),
            )
            for t in req.get("turns", [])
        ]
        name = str(req.get("template") or "raw")
        jinja = info.chat_template if info is not None and name == "embedded" else None
        return templates.fit_prompt(
            name,
            turns,
            count_tokens=lambda p: len(self.engine.prompt_tokens(p)),
            n_ctx=params.n_ctx,
            max_tokens=params.max_tokens,
            system=req.get("system"),
            jinja_source=jinja,
            jinja_origin=info.file_name if info is not None else None,
        )

    def op_count(self, rid: int, req: dict[str, Any]) -> None:
        params = DecodingParams.from_dict(req.get("params") or {})
        fitted = self._render(req, params)
        self.emit(rid, "result", n_tokens=fitted.n_tokens, dropped_turns=fitted.dropped_turns)

    def op_chat(self, rid: int, req: dict[str, Any]) -> None:
        self.engine._require()
        self._threads(req)
        params = self._params(req)
        fitted = self._render(req, params)
        tokens = self.engine.prompt_tokens(fitted.prompt)
        self.emit(rid, "prompt", n_tokens=len(tokens), dropped_turns=fitted.dropped_turns)
        self._generate(rid, tokens, params, fitted.prompt.stop, strip=str(req.get("template")) != "raw")

    def op_generate(self, rid: int, req: dict[str, Any]) -> None:
        self.engine._require()
        self._threads(req)
        params = self._params(req)
        tokens = self.engine.tokenize(str(req.get("prompt", "")), add_bos=True)
        self.emit(rid, "prompt", n_tokens=len(tokens), dropped_turns=0)
        self._generate(rid, tokens, params, tuple(req.get("stop") or ()), strip=False)

    def _threads(self, req: dict[str, Any]) -> None:
        # A request may name a thread count (or null: automatic); the choice lasts until changed.
        if "threads" in req:
            value = req["threads"]
            count = value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None
            self.engine.set_threads(count)

    def _params(self, req: dict[str, Any]) -> DecodingParams:
        params = DecodingParams.from_dict(req.get("params") or {})
        llm = self.engine.llm
        if llm is not None and params.n_ctx > llm.n_ctx():
            # The context is fixed at load time; budget against what was allocated.
            params = params.replace(n_ctx=llm.n_ctx(), max_tokens=min(params.max_tokens, llm.n_ctx() - 1))
        return params

    def _generate(
        self, rid: int, tokens: list[int], params: DecodingParams, stop: tuple[str, ...], *, strip: bool
    ) -> None:
        stats = self.engine.generate(
            tokens,
            params,
            stop=stop,
            strip_leading_space=strip,
            is_cancelled=self._cancelled(rid),
            on_text=lambda text: self.emit(rid, "token", text=text),
        )
        self.emit(rid, "finished", **stats.__dict__)


def _requested_n_ctx(req: dict[str, Any]) -> int:
    """The context size a load asks for (default 2048), within the range the app allocates.

    The context is allocated at once, as the user set it, whatever the model file says it was
    trained for; a request outside the range (a damaged settings file, a client bug) is refused
    here rather than becoming a native allocation failure.
    """
    value = req.get("n_ctx") or 2048
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # settings files may hold 2048.0; DecodingParams accepts it too
    bounds = RANGES["n_ctx"]
    if isinstance(value, bool) or not isinstance(value, int) or not bounds.low <= value <= bounds.high:
        raise ParameterError(
            f"The context size {value!r} is not a whole number in {bounds.low:.0f}..{bounds.high:.0f}; "
            "choose a context size in that range."
        )
    return value


def serve_stdio() -> int:
    """Entry point of the host process."""
    # A host whose client (the window, the command line) was killed must not load on as an orphan.
    end_with_parent()
    # Keep the real stdout for the protocol and send fd 1 to stderr: llama.cpp and ggml may
    # printf, and one stray line on the pipe would corrupt the stream of events.
    protocol_fd = os.dup(1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    out = os.fdopen(protocol_fd, "wb")
    host = Host(out)
    reader = threading.Thread(target=host.read_requests, args=(sys.stdin.buffer,), daemon=True)
    reader.start()
    host.serve()
    return 0


if __name__ == "__main__":
    raise SystemExit(serve_stdio())
