"""The ASGI app (Starlette): the OpenAI endpoints over one :class:`HostBackend`.

``GET /v1/models``, ``POST /v1/chat/completions``, ``POST /v1/completions``, and llama.cpp's
``POST /tokenize`` and ``POST /detokenize``. A chat is rendered by the host with the model's
template, as the window renders a conversation, and decoded with the window's defaults where a
request names no value. Streams are server-sent events ending with ``data: [DONE]``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import time
from collections.abc import AsyncIterator, Sequence
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from runtime.errors import PromptTooLong, UntrustedJsonError
from runtime.serve.backend import NO_MODEL_MESSAGE, HostBackend, HostCalls, LoadedModel, Plan, Run
from runtime.serve.guard import AccessLog, HostGuard, KeyGuard
from runtime.serve.requests import (
    MAX_BODY_BYTES,
    ApiError,
    ChatRequest,
    CompletionRequest,
    context_exceeded,
    parse_chat,
    parse_completion,
    parse_detokenize,
    parse_tokenize,
)
from runtime.untrusted_json import parse_json

#: The host's reasons for ending an answer, in OpenAI's words.
FINISH_REASONS = {"stop": "stop", "stop_string": "stop", "length": "length", "context_full": "length"}


async def read_json(request: Request) -> Any:
    """The body as JSON; over :data:`MAX_BODY_BYTES` is refused while it is read, never after."""
    too_large = ApiError(
        413, "request_too_large", f"The request body is larger than {MAX_BODY_BYTES // (1024 * 1024)} MiB."
    )
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > MAX_BODY_BYTES):
        if not declared.isdigit():
            raise ApiError(400, "invalid_request", "The Content-Length header is not a number.")
        raise too_large
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise too_large
        chunks.append(chunk)
    try:
        return parse_json(b"".join(chunks), source="the request body", max_bytes=MAX_BODY_BYTES)
    except UntrustedJsonError as exc:
        raise ApiError(400, "invalid_json", f"The request body is not valid JSON: {exc.reason}.") from exc


def _event_error(event: dict[str, Any] | None) -> ApiError:
    """The HTTP answer for a run that ended in an error before its answer began."""
    if event is None:
        return ApiError(500, "server_error", "The request ended without an answer.", type="server_error")
    kind = event.get("kind")
    params = event.get("params") or {}
    if kind == "PromptTooLong":
        return context_exceeded(int(params.get("n_tokens", 0)), int(params.get("n_ctx", 0)))
    if kind == "ParameterError":
        return ApiError(400, "invalid_value", str(event.get("message")))
    if kind == "ServeNoModel":
        return ApiError(503, "model_not_loaded", NO_MODEL_MESSAGE, type="server_error")
    if kind == "cancelled":
        return ApiError(503, "cancelled", str(event.get("message")), type="server_error")
    if event.get("died"):
        message = "The inference process ended; the next request starts it again. " + str(event.get("message"))
        return ApiError(503, "host_died", message, type="server_error")
    return ApiError(500, "server_error", str(event.get("message")), type="server_error")


def _usage(prompt_tokens: int, finished: dict[str, Any] | None) -> dict[str, Any]:
    completion = int(finished.get("generated_tokens", 0)) if finished else 0
    usage: dict[str, Any] = {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion,
        "total_tokens": prompt_tokens + completion,
    }
    drafted = int(finished.get("drafted", 0) or 0) if finished else 0
    if drafted:
        # Speculative decoding (serve --speculative): OpenAI reports the tokens of a predicted
        # output that the answer kept and those it did not under these two names.
        accepted = int(finished.get("accepted", 0) or 0)  # type: ignore[union-attr]
        usage["completion_tokens_details"] = {
            "accepted_prediction_tokens": accepted,
            "rejected_prediction_tokens": drafted - accepted,
        }
    return usage


async def _watch_disconnect(request: Request, run: Run) -> None:
    """Cancel the run when the client goes away while it waits or is answered without a stream."""
    while True:
        message = await request.receive()
        if message["type"] == "http.disconnect":
            run.cancel()
            return


class Api:
    """The endpoints, bound to one backend."""

    def __init__(self, backend: HostBackend) -> None:
        self.backend = backend

    @property
    def model(self) -> LoadedModel:
        model = self.backend.model
        if model is None:
            # Only the window's server is without a model at times (``alpaca-desk serve`` loads first).
            raise ApiError(503, "model_not_loaded", NO_MODEL_MESSAGE, type="server_error")
        return model

    async def models(self, request: Request) -> Response:
        model = self.model
        card = {"id": model.id, "object": "model", "created": model.created, "owned_by": "alpaca-desk"}
        return JSONResponse({"object": "list", "data": [card]})

    async def chat(self, request: Request) -> Response:
        req = parse_chat(await read_json(request))
        model = self.model
        req.sampling.params(n_ctx=model.n_ctx, max_tokens=1)  # a bad value is refused before the queue
        return await self._answer(request, _chat_plan(req, model), req.stream, req.include_usage, chat=True)

    async def completions(self, request: Request) -> Response:
        req = parse_completion(await read_json(request))
        model = self.model
        req.sampling.params(n_ctx=model.n_ctx, max_tokens=1)
        return await self._answer(request, _completion_plan(req, model), req.stream, req.include_usage, chat=False)

    async def tokenize(self, request: Request) -> Response:
        req = parse_tokenize(await read_json(request))
        _ = self.model  # 503 while the window has none
        result = await self.backend.call(
            "tokenize", text=req.content, add_bos=req.add_special, special=req.parse_special
        )
        return JSONResponse({"tokens": result["tokens"]})

    async def detokenize(self, request: Request) -> Response:
        tokens = parse_detokenize(await read_json(request), self.model.vocab_size)
        result = await self.backend.call("detokenize", tokens=tokens)
        return JSONResponse({"content": result["text"]})

    async def _answer(self, request: Request, plan: Plan, stream: bool, include_usage: bool, *, chat: bool) -> Response:
        run = self.backend.start(plan)
        watcher = asyncio.create_task(_watch_disconnect(request, run))
        try:
            first = await run.events.get()
            if first is None or first["event"] != "prompt":
                raise _event_error(first)
            prompt_tokens = int(first["n_tokens"])
            if not stream:
                return await self._whole(request, run, prompt_tokens, chat=chat)
        except BaseException:
            run.cancel()
            raise
        finally:
            # Whole answers are complete here; a stream is watched by Starlette from now on.
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
        # From here Starlette's streaming response watches for the client leaving.
        return StreamingResponse(
            self._events(request, run, prompt_tokens, include_usage, chat=chat),
            media_type="text/event-stream",
            headers={"cache-control": "no-cache", "x-accel-buffering": "no"},
        )

    async def _whole(self, request: Request, run: Run, prompt_tokens: int, *, chat: bool) -> Response:
        parts: list[str] = []
        finished: dict[str, Any] | None = None
        while (event := await run.events.get()) is not None:
            if event["event"] == "token":
                parts.append(event["text"])
            elif event["event"] == "finished":
                finished = event
            elif event["event"] == "error":
                raise _event_error(event)
        usage = _usage(prompt_tokens, finished)
        _record(request, usage, finished)
        reason = FINISH_REASONS.get(str(finished.get("reason")), "stop") if finished else "stop"
        text = "".join(parts)
        ident, created = _ident(chat), int(time.time())
        if chat:
            choice: dict[str, Any] = {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "logprobs": None,
                "finish_reason": reason,
            }
        else:
            choice = {"index": 0, "text": text, "logprobs": None, "finish_reason": reason}
        return JSONResponse(
            {
                "id": ident,
                "object": "chat.completion" if chat else "text_completion",
                "created": created,
                "model": self.model.id,
                "system_fingerprint": None,
                "choices": [choice],
                "usage": usage,
            }
        )

    async def _events(
        self, request: Request, run: Run, prompt_tokens: int, include_usage: bool, *, chat: bool
    ) -> AsyncIterator[bytes]:
        ident, created, model = _ident(chat), int(time.time()), self.model.id
        kind = "chat.completion.chunk" if chat else "text_completion"

        def chunk(text: str | None, reason: str | None, *, role: bool = False) -> bytes:
            if chat:
                delta: dict[str, str] = {"role": "assistant", "content": ""} if role else {}
                if text is not None:
                    delta["content"] = text
                choice: dict[str, Any] = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": reason}
            else:
                choice = {"index": 0, "text": text or "", "logprobs": None, "finish_reason": reason}
            body = {"id": ident, "object": kind, "created": created, "model": model, "choices": [choice]}
            if include_usage:
                body["usage"] = None
            return _sse(body)

        finished: dict[str, Any] | None = None
        try:
            if chat:
                yield chunk(None, None, role=True)
            while (event := await run.events.get()) is not None:
                if event["event"] == "token":
                    yield chunk(event["text"], None)
                elif event["event"] == "finished":
                    finished = event
                elif event["event"] == "error":
                    yield _sse(_event_error(event).body())
                    return
            usage = _usage(prompt_tokens, finished)
            _record(request, usage, finished)
            yield chunk(None, FINISH_REASONS.get(str(finished.get("reason")), "stop") if finished else "stop")
            if include_usage:
                yield _sse(
                    {"id": ident, "object": kind, "created": created, "model": model, "choices": [], "usage": usage}
                )
            yield b"data: [DONE]\n\n"
        finally:
            if finished is None:
                run.cancel()  # the client left (or the host failed): stop decoding for nobody
                _record(request, {"prompt_tokens": prompt_tokens}, {"reason": "cancelled"})


def _sse(body: dict[str, Any]) -> bytes:
    return b"data: " + json.dumps(body, ensure_ascii=False).encode("utf-8") + b"\n\n"


def _ident(chat: bool) -> str:
    return ("chatcmpl-" if chat else "cmpl-") + secrets.token_hex(12)


def _record(request: Request, usage: dict[str, int], finished: dict[str, Any] | None) -> None:
    counts: dict[str, object] = {k: v for k, v in usage.items() if k != "total_tokens"}
    if finished:
        counts["finish"] = finished.get("reason")
    request.scope.setdefault("state", {})["usage"] = counts


def _chat_plan(req: ChatRequest, model: LoadedModel) -> Plan:
    def plan(host: HostCalls) -> tuple[str, dict[str, Any]]:
        conversation = {
            "template": model.template,
            "system": req.system,
            "turns": [{"user": t.user, "assistant": t.assistant} for t in req.turns],
        }
        probe = req.sampling.params(n_ctx=model.n_ctx, max_tokens=1)
        counted = host.call("count", **conversation, params=probe.to_dict())
        n_tokens = int(counted["n_tokens"])
        if counted["dropped_turns"]:
            # The window leaves the oldest turns out to fit; a client that sent its whole
            # conversation is told instead, as OpenAI's API does.
            n_tokens = int(host.call("count", **conversation, params=probe.to_dict(), keep_all=True)["n_tokens"])
            raise _too_long(n_tokens, model.n_ctx)
        params = req.sampling.params(n_ctx=model.n_ctx, max_tokens=req.sampling.answer_budget(n_tokens, model.n_ctx))
        return "chat", {**conversation, "params": params.to_dict(), "stop": list(req.sampling.stop)}

    return plan


def _completion_plan(req: CompletionRequest, model: LoadedModel) -> Plan:
    def plan(host: HostCalls) -> tuple[str, dict[str, Any]]:
        n_tokens = len(host.call("tokenize", text=req.prompt, add_bos=True)["tokens"])
        if n_tokens >= model.n_ctx:
            raise _too_long(n_tokens, model.n_ctx)
        budget = req.sampling.answer_budget(n_tokens, model.n_ctx)
        params = req.sampling.params(n_ctx=model.n_ctx, max_tokens=budget)
        return "generate", {"prompt": req.prompt, "params": params.to_dict(), "stop": list(req.sampling.stop)}

    return plan


def _too_long(n_tokens: int, n_ctx: int) -> PromptTooLong:
    error = context_exceeded(n_tokens, n_ctx)
    return PromptTooLong(error.message, code="prompt_too_long", params={"n_tokens": n_tokens, "n_ctx": n_ctx})


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return JSONResponse(exc.body(), status_code=exc.status)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = "not_found" if exc.status_code == 404 else "method_not_allowed" if exc.status_code == 405 else None
    error = ApiError(exc.status_code, code, f"{request.method} {request.url.path}: {exc.detail}")
    return JSONResponse(error.body(), status_code=exc.status_code, headers=exc.headers)


async def _internal_error(request: Request, exc: Exception) -> Response:
    error = ApiError(500, "server_error", "The server failed this request; see its log.", type="server_error")
    return JSONResponse(error.body(), status_code=500)


def create_app(
    backend: HostBackend, *, key: str | None, bound: str, port: int, cors_origins: Sequence[str] = ()
) -> Starlette:
    """The server's ASGI app, its gates around it (see :mod:`runtime.serve.guard`)."""
    api = Api(backend)
    routes = [
        Route("/v1/models", api.models, methods=["GET"]),
        Route("/v1/chat/completions", api.chat, methods=["POST"]),
        Route("/v1/completions", api.completions, methods=["POST"]),
        Route("/tokenize", api.tokenize, methods=["POST"]),
        Route("/detokenize", api.detokenize, methods=["POST"]),
    ]
    middleware = [Middleware(AccessLog), Middleware(HostGuard, bound=bound, port=port)]
    if cors_origins:
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=list(cors_origins),
                allow_methods=["GET", "POST"],
                allow_headers=["authorization", "content-type"],
                max_age=600,
            )
        )
    middleware.append(Middleware(KeyGuard, key=key))
    return Starlette(
        routes=routes,
        middleware=middleware,
        exception_handlers={ApiError: _api_error, HTTPException: _http_error, Exception: _internal_error},
    )
