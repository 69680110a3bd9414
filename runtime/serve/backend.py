"""The server's side of the inference host: one host, one model, one request at a time.

Every call to the host runs on one worker thread, in the order the requests came (a
single-thread executor is the first-come-first-served queue). The host is started from that
thread too, which lives as long as the server: on Linux a host ends with the thread that started
it (``runtime._exit.end_with_parent``). A run's events reach the event loop through an
:class:`asyncio.Queue`; cancelling a run that waits skips it, cancelling one that runs asks the
host to stop, which it does within one token.

The window shares its own host instead (:meth:`HostBackend.sharing`): the server's requests then
join the window's in the host's one queue, in the order they were sent, and the server neither
starts, loads nor ends that host. Its cancels name their request, never the window's.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runtime.chat import HostClient, HostEvent, raise_for_error
from runtime.errors import AppError, HostDied, ServeError

log = logging.getLogger("alpaca_desk.serve")  # the access log's: the command line shows it

#: The answer to a request while the window that shares its host has no model.
NO_MODEL_MESSAGE = "no model is loaded in Alpaca Desk"

#: What a run does in the worker thread: ``plan(host)`` makes any preparatory calls (count the
#: prompt) and returns the streamed request to send, as ``(op, fields)``.
Plan = Callable[["HostCalls"], tuple[str, dict[str, Any]]]


@dataclass(frozen=True)
class LoadedModel:
    """What the server says about its model."""

    id: str
    path: str
    n_ctx: int
    vocab_size: int
    template: str
    created: int


class HostCalls:
    """The blocking host calls a :data:`Plan` may make (in the worker thread)."""

    def __init__(self, client: HostClient) -> None:
        self._client = client

    def call(self, op: str, **fields: Any) -> HostEvent:
        return self._client.call(op, **fields)


class Run:
    """One streamed request in the host; its events (then ``None``) arrive on :attr:`events`."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.events: asyncio.Queue[HostEvent | None] = asyncio.Queue()
        self._loop = loop
        self._lock = threading.Lock()
        self._cancelled = False
        self._started = False
        self._cancel: Callable[[], None] | None = None

    def put(self, event: HostEvent | None) -> None:
        """From the worker thread: hand an event to the event loop (``None``: the run is over)."""
        self._loop.call_soon_threadsafe(self.events.put_nowait, event)

    def begin(self, cancel: Callable[[], None]) -> bool:
        """From the worker thread: False when the run was cancelled before its turn."""
        with self._lock:
            self._started = not self._cancelled
            self._cancel = cancel
            return self._started

    @property
    def cancelled(self) -> bool:
        return self._cancelled

    def cancel(self) -> None:
        """Stop this run (its client left). Safe from any thread, at any time, more than once."""
        with self._lock:
            if self._cancelled:
                return
            self._cancelled = True
            cancel = self._cancel if self._started else None
        if cancel is not None:
            # Off this thread: writing to the host's pipe must never wait inside the event loop
            # (or a signal handler that interrupted a write).
            threading.Thread(target=cancel, name="serve-cancel", daemon=True).start()


class HostBackend:
    """The inference host as the server uses it.

    Args:
        model_path: the GGUF file (already checked by the caller).
        n_ctx: the context to allocate.
        threads: decode threads, or None for the host's own choice.
        template: the chat template name (as ``alpaca-desk chat`` chooses it).
        log_file: where the host's stderr goes.
        speculative: the speculative decoding mode of every answer (``alpaca-desk chat``'s).
        draft: the draft model's file, for ``speculative="draft"``.
    """

    def __init__(
        self,
        model_path: str,
        *,
        n_ctx: int,
        threads: int | None,
        template: str,
        log_file: Path,
        speculative: str = "off",
        draft: str | None = None,
    ) -> None:
        self._path = model_path
        self._n_ctx = n_ctx
        self._threads = threads
        self._template = template
        self._speculative = speculative
        self._draft = draft if speculative == "draft" else None
        owned = HostClient(log_file=log_file)
        self._client_source: Callable[[], HostClient] = lambda: owned
        self._owns_host = True
        #: ``(state, served)`` from the worker thread: "waiting" (sent, behind other requests),
        #: "answering" (its first event came), "idle" (done); served counts finished requests.
        self.on_activity: Callable[[str, int], None] | None = None
        self.served = 0
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="serve-host")
        # Held while a cancel is sent and while a run is marked over: a cancel without a target
        # stops every request sent so far, so it must never be sent once the next one may be.
        self._turn = threading.Lock()
        self._running: Run | None = None
        self._request_id: int | None = None
        self.model: LoadedModel | None = None
        self._closing = False

    @classmethod
    def sharing(cls, client: Callable[[], HostClient], model: LoadedModel | None) -> HostBackend:
        """A backend over a host someone else owns (the window's): it never starts, loads or ends it.

        Args:
            client: the owner's current client (the owner replaces it when its host dies).
            model: the model the owner has loaded, or None; :meth:`set_model` follows changes.
        """
        backend = cls("", n_ctx=0, threads=None, template="", log_file=Path())
        backend._client_source = client
        backend._owns_host = False
        backend.model = model
        return backend

    def set_model(self, model: LoadedModel | None) -> None:
        """The owner loaded another model (or none): the next requests use it."""
        self.model = model

    @property
    def _client(self) -> HostClient:
        return self._client_source()

    @property
    def host_pid(self) -> int | None:
        return self._client.pid

    def load(self) -> LoadedModel:
        """Start the host and load the model (blocking; before the server listens)."""
        return self._worker.submit(self._load).result()

    def _load(self) -> LoadedModel:
        import time

        loaded = self._client.call(
            "load",
            path=self._path,
            n_ctx=self._n_ctx,
            n_threads=self._threads,
            n_gpu_layers=0,
            # Drafts are verified in batches: their logits must equal one-token decoding's.
            exact_batches=self._speculative != "off",
            draft=self._draft,
            timeout=600,
        )
        info = loaded["info"]
        self.model = LoadedModel(
            id=str(info["file_name"]),
            path=str(info["path"]),
            n_ctx=int(loaded["n_ctx"]),
            vocab_size=int(info["vocab_size"]),
            template=self._template,
            created=int(time.time()),
        )
        return self.model

    async def call(self, op: str, **fields: Any) -> HostEvent:
        """One short request (tokenize, detokenize) in its turn; its error raised as the AppError."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._worker, lambda: self._checked(lambda: self._client.call(op, **fields)))

    def start(self, plan: Plan) -> Run:
        """Queue a streamed request; its events arrive on the returned run's queue."""
        run = Run(asyncio.get_running_loop())
        self._worker.submit(self._stream, run, plan)
        return run

    def _checked(self, work: Callable[[], HostEvent]) -> HostEvent:
        if not self._owns_host:
            if self.model is None or not self._client.alive:
                # The owner's model is gone (or its host with it): a request would start a bare host.
                raise ServeNoModel(NO_MODEL_MESSAGE, code="serve_no_model")
            return work()
        if not self._client.alive:
            # The host died (a native abort): a fresh one with the same model serves the next request.
            log.warning("the inference host is not running; starting it again")
            self._load()
        return work()

    def _cancel_if_running(self, run: Run) -> None:
        with self._turn:
            if self._running is run and (self._owns_host or self._request_id is not None):
                # A shared host runs the owner's requests too: only this one may be stopped.
                self._client.cancel(None if self._owns_host else self._request_id)

    def _stream(self, run: Run, plan: Plan) -> None:
        if self._closing:
            run.cancel()
        with self._turn:
            self._running = run
            self._request_id = None
        self._report("waiting")
        try:
            self._stream_run(run, plan)
        finally:
            with self._turn:
                self._running = None
                self._request_id = None
            self.served += 1
            self._report("idle")
            run.put(None)

    def _report(self, state: str) -> None:
        if self.on_activity is not None:
            try:
                self.on_activity(state, self.served)
            except Exception:  # noqa: BLE001 - a listener's bug must not end the worker
                log.exception("the server's activity listener failed")

    def _sent(self, request_id: int) -> None:
        with self._turn:
            self._request_id = request_id

    def _stream_run(self, run: Run, plan: Plan) -> None:
        if not run.begin(lambda: self._cancel_if_running(run)):
            message = "The server is stopping." if self._closing else "The client left before its turn."
            run.put({"event": "error", "kind": "cancelled", "message": message})
            return
        cancel_sent = False
        try:
            op, fields = self._checked_plan(plan)
            answering = False
            for event in self._client.stream(op, sent=self._sent, **fields):
                if run.cancelled and not cancel_sent:
                    # The client left before the host had this request: stop it now (this thread
                    # sends the next request only after this one ended, so no lock is needed).
                    self._client.cancel(None if self._owns_host else event.get("id"))
                    cancel_sent = True
                if not answering:
                    answering = True
                    self._report("answering")
                run.put(event)
                if event["event"] == "finished" and event.get("reason") == "cancelled":
                    log.info("cancelled answer stopped after %s tokens", event.get("generated_tokens"))
        except AppError as exc:
            run.put(
                {
                    "event": "error",
                    "kind": type(exc).__name__,
                    "message": str(exc),
                    "code": exc.code,
                    "params": exc.params,
                    "died": isinstance(exc, HostDied),
                }
            )
        except Exception as exc:  # noqa: BLE001 - one request's failure must not end the worker
            log.exception("a request failed in the server's host worker")
            run.put({"event": "error", "kind": "internal", "message": f"{type(exc).__name__}: {exc}"})

    def _checked_plan(self, plan: Plan) -> tuple[str, dict[str, Any]]:
        result: list[tuple[str, dict[str, Any]]] = []

        def work() -> HostEvent:
            op, fields = plan(HostCalls(self._client))
            if op in ("chat", "generate") and self._speculative != "off":
                fields = {**fields, "speculative": self._speculative}
            result.append((op, fields))
            return {}

        self._checked(work)
        return result[0]

    def cancel_all(self) -> None:
        """Stop whatever the host runs and skip what waits (shutdown). Safe from a signal handler:
        it writes from a thread."""
        self._closing = True
        running = self._running
        if running is not None:
            # From a thread: the signal may have interrupted this very run's cancel, holding its lock.
            threading.Thread(target=running.cancel, name="serve-cancel", daemon=True).start()

    def close(self) -> None:
        """End the host (one this backend owns), then the worker thread."""
        if not self._owns_host:
            self._worker.shutdown(wait=False, cancel_futures=True)
            return
        self._client.cancel(None)
        try:
            self._worker.submit(self._client.stop).result(timeout=10)
        except Exception:  # noqa: BLE001 - a host that does not stop is killed below
            self._client.kill()
        self._worker.shutdown(wait=False, cancel_futures=True)


class ServeNoModel(ServeError):
    """The window that shares its host with the server has no model loaded."""


def raise_event_error(event: HostEvent) -> None:
    """Raise the AppError an ``error`` event stands for."""
    raise_for_error(event)
