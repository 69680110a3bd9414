"""The inference host: a child process that owns the llama.cpp model.

Run as ``python -m runtime.chat.host`` (or ``alpaca-desk host`` in a frozen build). It reads one
JSON request per line on stdin and writes one JSON event per line on its protocol pipe
(the original stdout; fd 1 is pointed at stderr so that stray native prints can never corrupt
the protocol). A native abort or an out-of-memory kill costs this process, never the window.

Requests (``id`` is chosen by the client and echoed in every event of that request)::

    {"id": 1, "op": "load", "path": ..., "n_ctx": 2048, "n_threads": null, "n_gpu_layers": 0,
     "kv": "f16", "exact_batches": false, "draft": null}  # KV cache type: f16, q8_0 or q4_0;
                                                  # exact_batches: see Engine.load; draft: a
                                                  # draft model's path, loaded after the model
    {"id": 11, "op": "load_draft", "path": ...}   # a draft model for the loaded one (null: none)
    {"id": 2, "op": "chat", "template": "chinese-alpaca", "system": null, "turns": [...],
     "params": {...}, "jinja": false, "stop": []}      # stop: added to the template's
                                                  # chat: "on_full": "stop" refuses (error
                                                  # context_full) a prompt that would leave
                                                  # turns out; by default they are left out
    {"id": 10, "op": "count", ... as chat, "keep_all": false}  # keep_all: no turn left out
    {"id": 3, "op": "generate", "prompt": "Once upon a time", "params": {...}, "stop": []}
                                                  # chat and generate: "speculative": "off",
                                                  # "lookup", "auto" or "draft"; "off" by default
    {"id": 4, "op": "cancel", "target": 2}        # handled at once by the reader thread;
                                                  # target null: every request sent so far
    {"id": 5, "op": "tokenize", "text": ..., "add_bos": false, "special": false}
    {"id": 6, "op": "detokenize", "tokens": [...]}
    {"id": 7, "op": "info"}    {"id": 8, "op": "unload"}    {"id": 9, "op": "shutdown"}

Events: ``ready``, ``loaded`` (info, n_ctx, kv, draft), ``prompt`` (n_tokens, dropped_turns, text), ``token``
(text), ``finished`` (stats), ``result`` (tokens / text / info), ``unloaded``, ``error``
(message, kind; a load's error also: loaded, the model still loaded or null, and draft_refused,
true when that is the requested model and only its draft model was refused).

The protocol is this module (:class:`Host`: the reader thread, the request loop, one ``op_*`` per
request); the model and the decode loop are :class:`runtime.chat.engine.Engine`'s.
"""

from __future__ import annotations

import json
import os
import queue
import sys
import threading
from collections.abc import Callable
from typing import Any, BinaryIO

from runtime._exit import end_with_parent
from runtime.chat import templates
from runtime.chat._threads import default_threads
from runtime.chat.engine import KV_TYPES, PENALTY_LAST_N, PROMPT_BATCH, STREAM_INTERVAL_S, Engine, GenerationStats
from runtime.chat.speculative import check_mode
from runtime.decoding import RANGES, DecodingParams
from runtime.errors import AppError, ContextFull, HostError, ParameterError
from runtime.models import native_log
from runtime.models.plan import check_fits, read_info_and_shape

# What this module offered before the Engine moved to runtime.chat.engine (and default_threads,
# which bench/ imports from here).
__all__ = [
    "PENALTY_LAST_N",
    "PROMPT_BATCH",
    "STREAM_INTERVAL_S",
    "Engine",
    "GenerationStats",
    "Host",
    "default_threads",
    "serve_stdio",
]


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
        # Whether the load in progress has replaced the model (a draft model refused after it).
        self._model_replaced = False

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
        self._model_replaced = False
        try:
            self._load(rid, req)
        except AppError as exc:
            # Say which model (if any) is still loaded: a file refused by the checks leaves the
            # previous one in place, a file llama.cpp refused does not, and a refused draft model
            # leaves the requested model loaded without one (draft_refused: the client must not
            # take it for the previous model, which drafted as it was loaded).
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
                kv=self.engine.kv_type if still is not None else None,
                draft_refused=self._model_replaced and still is not None,
            )

    def _load(self, rid: int, req: dict[str, Any]) -> None:
        # Before llama.cpp first runs: its log and a failed assertion's message must reach the
        # log file and the client, whatever llama-cpp-python does to stderr meanwhile.
        native_log.install()
        # The request's own values first: a wrong one is named whatever the file is.
        n_ctx = _requested_n_ctx(req)
        kv_type = str(req.get("kv") or "f16")
        if kv_type not in KV_TYPES:
            raise ParameterError(
                f"The KV cache type {kv_type!r} is not one of {', '.join(KV_TYPES)}.",
                code="kv_type_unknown",
                params={"kv": kv_type, "known": ", ".join(KV_TYPES)},
            )
        path = str(req.get("path", ""))
        checked = None
        if not int(req.get("n_gpu_layers") or 0):
            # A setting that does not fit is refused here, with the figures, before the current
            # model is unloaded or llama.cpp allocates anything (a GPU build's layers are in its
            # memory instead: not checked). The header is read once, for the checks and the plan.
            checked, shape = read_info_and_shape(path)
            if shape is not None:
                check_fits(
                    shape,
                    n_ctx=n_ctx,
                    kv_type=kv_type,
                    released_bytes=self.engine.resident_model_bytes(),
                )
        info = self.engine.load(
            path,
            checked=checked,
            n_ctx=n_ctx,
            n_threads=req.get("n_threads"),
            n_gpu_layers=int(req.get("n_gpu_layers") or 0),
            seed=req.get("seed"),
            kv_type=kv_type,
            exact_batches=bool(req.get("exact_batches")),
        )
        self._model_replaced = True
        draft = self.engine.load_draft(str(req["draft"])) if req.get("draft") else None
        # What was allocated: llama.cpp rounds the context up (to a multiple of 256).
        self.emit(
            rid,
            "loaded",
            info=info.to_dict(),
            n_ctx=int(self.engine._require().n_ctx()),
            kv=kv_type,
            draft=draft.to_dict() if draft is not None else None,
        )

    def op_load_draft(self, rid: int, req: dict[str, Any]) -> None:
        native_log.install()
        if req.get("path"):
            draft = self.engine.load_draft(str(req["path"]))
            self.emit(rid, "loaded", info=draft.to_dict())
        else:
            self.engine.unload_draft()
            self.emit(rid, "unloaded")

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
        # keep_all: every turn, counted as it is (the local server refuses a conversation that
        # does not fit rather than leave turns out, and says how long it was).
        keep_all = bool(req.get("keep_all"))
        return templates.fit_prompt(
            name,
            turns,
            count_tokens=lambda p: len(self.engine.prompt_tokens(p)),
            n_ctx=sys.maxsize if keep_all else params.n_ctx,
            max_tokens=0 if keep_all else params.max_tokens,
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
        speculative = check_mode(req.get("speculative"))
        fitted = self._render(req, params)
        if fitted.dropped_turns and req.get("on_full") == "stop":
            # Refused before a token is made, so the caller can keep the message unsent.
            raise ContextFull(
                f"The conversation no longer fits the context of {params.n_ctx} tokens with room for "
                f"{params.max_tokens} new ones: {fitted.dropped_turns} earlier turn(s) would be left out. "
                "Start a new conversation or raise the context size.",
                code="context_full",
                params={"n_ctx": params.n_ctx, "dropped_turns": fitted.dropped_turns},
            )
        tokens = self.engine.prompt_tokens(fitted.prompt)
        self.emit(rid, "prompt", n_tokens=len(tokens), dropped_turns=fitted.dropped_turns)
        strip = str(req.get("template")) != "raw"
        # The caller's stop strings (the local server's requests) come after the template's own.
        stop = fitted.prompt.stop + tuple(str(s) for s in req.get("stop") or () if s)
        self._generate(rid, tokens, params, stop, strip=strip, speculative=speculative)

    def op_generate(self, rid: int, req: dict[str, Any]) -> None:
        self.engine._require()
        self._threads(req)
        params = self._params(req)
        speculative = check_mode(req.get("speculative"))
        tokens = self.engine.tokenize(str(req.get("prompt", "")), add_bos=True)
        self.emit(rid, "prompt", n_tokens=len(tokens), dropped_turns=0)
        self._generate(rid, tokens, params, tuple(req.get("stop") or ()), strip=False, speculative=speculative)

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
        self,
        rid: int,
        tokens: list[int],
        params: DecodingParams,
        stop: tuple[str, ...],
        *,
        strip: bool,
        speculative: str,
    ) -> None:
        stats = self.engine.generate(
            tokens,
            params,
            stop=stop,
            strip_leading_space=strip,
            is_cancelled=self._cancelled(rid),
            on_text=lambda text: self.emit(rid, "token", text=text),
            speculative=speculative,
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
