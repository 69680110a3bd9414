"""Qt face of the inference host: its events become queued signals on the GUI thread."""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot

from app.messages import user_message
from runtime.chat.client import HostClient, HostEvent
from runtime.errors import HostDied
from runtime.paths import app_paths

log = logging.getLogger(__name__)


class InferenceClient(QObject):
    """Owns one inference host process and turns its events into signals.

    Every method returns at once; nothing here waits for the host. The host's reader thread
    emits ``_event``, which Qt queues to this object's (GUI) thread, where it is dispatched.

    Signals:
        loading(bool): a model load started (True) or ended, either way (False).
        loaded(dict): the model is ready; the dict is ``runtime.models.ModelInfo.to_dict()``
            plus ``n_ctx``, ``kv`` (the KV cache type), ``speculative`` (the mode its answers use)
            and ``draft`` (the draft model's path, "" without one).
        unloaded(): the model was released.
        prompt_ready(int, int): the request's prompt has this many tokens; this many oldest
            turns were left out to fit the context.
        token(str): the next piece of the answer's text (whole characters only).
        finished(dict): the answer ended; the stats of ``runtime.chat.engine.GenerationStats``.
        failed(str): the request failed; a message for the user.
        context_full(str): the chat request was refused, not failed: its prompt would leave turns
            out and the caller asked to stop instead (a message for the user).
        host_died(str): the host process ended unexpectedly (``host died: ...``).
        counted(int, int): tokens the conversation's prompt takes now, and turns left out.
    """

    loading = Signal(bool)
    loaded = Signal(object)
    unloaded = Signal()
    prompt_ready = Signal(int, int)
    token = Signal(str)
    finished = Signal(object)
    failed = Signal(str)
    context_full = Signal(str)
    host_died = Signal(str)
    counted = Signal(int, int)
    _event = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._event.connect(self._dispatch)
        self._client = self._new_client()
        self._load_id: int | None = None
        # The mode and draft model of the load in progress, and of the last load that succeeded:
        # a load refused before the model was released leaves that one, drafting as before.
        self._loading_mode = ("off", "")
        self._loaded_mode = ("off", "")
        self._generation_id: int | None = None
        self._count_id: int | None = None
        self._model_info: dict[str, Any] | None = None

    def _new_client(self) -> HostClient:
        # Events carry their client: one from a host that was replaced (a late "host died",
        # a token already in flight) must not be taken for the current host's.
        holder: list[HostClient] = []
        client = HostClient(
            on_event=lambda event: self._event.emit((holder[0], event)), log_file=app_paths().logs / "host.log"
        )
        holder.append(client)
        return client

    # -- state -----------------------------------------------------------------------------

    @property
    def model_info(self) -> dict[str, Any] | None:
        """The loaded model's info, or None."""
        return self._model_info

    @property
    def is_loading(self) -> bool:
        """Whether a load is in progress."""
        return self._load_id is not None

    @property
    def is_generating(self) -> bool:
        """Whether an answer is streaming."""
        return self._generation_id is not None

    @property
    def current_host(self) -> HostClient:
        """The host's client now (replaced when the host dies); the local server shares it."""
        return self._client

    @property
    def host_pid(self) -> int | None:
        """The host's process id (tests kill it to check recovery)."""
        return self._client.pid if self._client.alive else None

    # -- requests --------------------------------------------------------------------------

    def start(self) -> None:
        """Start the host early so its imports are done before the first load."""
        self._client.start()

    def load(
        self,
        path: str,
        *,
        n_ctx: int,
        n_threads: int | None = None,
        n_gpu_layers: int = 0,
        kv_type: str = "f16",
        speculative: str = "off",
        draft: str = "",
    ) -> None:
        """Load a model (replacing the current one) with a ``kv_type`` KV cache (f16, q8_0 or q4_0)
        and a ``speculative`` decoding mode for its answers (off, lookup, auto, or draft with the
        ``draft`` model file); ``loaded`` or ``failed`` follows. A refused draft model fails the
        load but leaves the model loaded, drafting off (``failed``, then ``loaded``)."""
        if self._generation_id is not None:
            self.stop()
        if speculative == "draft" and not draft:
            speculative = "off"  # no draft model: every answer would be refused (the caller says why)
        # The host drops the current model before loading the new one, so from here on there
        # is none to chat with, whatever the outcome.
        self._model_info = None
        try:
            self._load_id = self._client.request(
                "load",
                path=path,
                n_ctx=n_ctx,
                n_threads=n_threads,
                n_gpu_layers=n_gpu_layers,
                kv=kv_type,
                # Drafts are verified in batches: their logits must equal one-token decoding's.
                exact_batches=speculative != "off",
                draft=draft if speculative == "draft" else None,
            )
            self._loading_mode = (speculative, draft if speculative == "draft" else "")
        except HostDied as exc:
            self._on_died(str(exc))
            return
        self.loading.emit(True)

    def cancel_load(self) -> None:
        """Abandon a load. llama.cpp offers no way to interrupt one from outside, so the host
        is ended; a fresh one starts with the next request. The previous model is gone too."""
        if self._load_id is None:
            return
        self._load_id = None
        self._restart_host()
        self._model_info = None
        self.loading.emit(False)
        self.unloaded.emit()

    def chat(
        self,
        *,
        template: str,
        system: str | None,
        turns: list[dict[str, Any]],
        params: dict,
        threads: int | None = None,
        on_full: str = "drop_oldest",
    ) -> None:
        """Answer the conversation ``turns`` (the last one is the new instruction).

        ``threads``: the decode thread count, or ``None`` to let the host choose by measuring.
        ``on_full``: ``"drop_oldest"`` leaves the oldest turns out when the prompt does not fit;
        ``"stop"`` has the host refuse it instead (``context_full``, before any token).
        """
        try:
            self._generation_id = self._client.request(
                "chat",
                template=template,
                system=system,
                turns=turns,
                params=params,
                threads=threads,
                on_full=on_full,
                speculative=(self._model_info or {}).get("speculative", "off"),
            )
        except HostDied as exc:
            self._on_died(str(exc))

    def count(self, *, template: str, system: str | None, turns: list[dict[str, Any]], params: dict) -> None:
        """Count the tokens of the prompt ``turns`` would make (for the context meter)."""
        if self._model_info is None or self._load_id is not None:
            return
        try:
            self._count_id = self._client.request("count", template=template, system=system, turns=turns, params=params)
        except HostDied as exc:
            self._on_died(str(exc))

    def stop(self) -> None:
        """Stop the answer in progress (the host acts within one token, or is ended)."""
        if self._generation_id is not None:
            self._client.cancel(self._generation_id)

    def unload(self) -> None:
        """Release the model."""
        if self._client.alive:
            try:
                self._client.request("unload")
            except HostDied:
                pass
        self._model_info = None

    def shutdown(self) -> None:
        """End the host (window closing)."""
        self._client.stop(timeout=2.0)

    def _restart_host(self) -> None:
        old = self._client
        self._client = self._new_client()
        old.close_nowait()  # never wait on the GUI thread

    # -- events ------------------------------------------------------------------------------

    @Slot(object)
    def _dispatch(self, payload: tuple[HostClient, HostEvent]) -> None:
        source, event = payload
        if source is not self._client:
            return
        kind = event.get("event")
        request_id = event.get("id")
        if kind == "host_died":
            self._on_died(str(event.get("message", "host died")))
            return
        if request_id is not None and request_id == self._load_id:
            self._load_id = None
            self.loading.emit(False)
            if kind == "loaded":
                self._loaded_mode = self._loading_mode
                self._model_info = self._info(event["info"], event)
                self.loaded.emit(self._model_info)
            elif kind == "error":
                self.failed.emit(_error_text(event))
                if isinstance(event.get("loaded"), dict):
                    if event.get("draft_refused"):
                        # The model loaded and its draft model was refused: it answers without drafts.
                        self._loaded_mode = ("off", "")
                    # Else the file was refused before the previous model was released: it is still
                    # usable, with the mode and draft model it was loaded with.
                    self._model_info = self._info(event["loaded"], event)
                    self.loaded.emit(self._model_info)
            return
        if request_id is not None and request_id == self._generation_id:
            if kind == "token":
                self.token.emit(event["text"])
            elif kind == "prompt":
                self.prompt_ready.emit(int(event["n_tokens"]), int(event["dropped_turns"]))
            elif kind == "finished":
                self._generation_id = None
                self.finished.emit({k: v for k, v in event.items() if k not in ("id", "event")})
            elif kind == "error":
                self._generation_id = None
                if event.get("code") == "context_full":
                    self.context_full.emit(_error_text(event))
                else:
                    self.failed.emit(_error_text(event))
            return
        if request_id is not None and request_id == self._count_id:
            self._count_id = None
            if kind == "result":
                self.counted.emit(int(event.get("n_tokens", 0)), int(event.get("dropped_turns", 0)))
            return
        if kind == "unloaded":
            self.unloaded.emit()
        elif kind == "error":
            log.info("host error for request %s: %s", request_id, event.get("message"))

    def _info(self, info: dict[str, Any], event: HostEvent) -> dict[str, Any]:
        speculative, draft = self._loaded_mode
        extra = {"n_ctx": event.get("n_ctx"), "kv": event.get("kv") or "f16", "speculative": speculative}
        return {**info, **extra, "draft": draft}

    def _on_died(self, message: str) -> None:
        was_loading = self._load_id is not None
        self._load_id = None
        self._generation_id = None
        self._model_info = None
        # A new client (and process) starts lazily with the next request. The old one may have
        # restarted its process meanwhile (a request sent before this event arrived): end it.
        old = self._client
        self._client = self._new_client()
        old.close_nowait()
        if was_loading:
            self.loading.emit(False)
        self.host_died.emit(message)


def _error_text(event: HostEvent) -> str:
    params = event.get("params")
    return user_message(
        str(event.get("code") or ""), params if isinstance(params, dict) else None, str(event.get("message"))
    )
