"""The inference host's client: starts the host process and speaks its JSON-lines protocol.

Qt-free. The GUI wraps it in ``app.inference_client.InferenceClient`` (events become queued
signals); the command line and the tests use its blocking helpers :meth:`HostClient.call`
and :meth:`HostClient.stream`.
"""

from __future__ import annotations

import collections
import itertools
import json
import logging
import os
import queue
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from runtime._exit import describe_exit
from runtime.errors import (
    AppError,
    ContextFull,
    DraftModelIncompatible,
    HostDied,
    HostError,
    ModelLoadError,
    NotLoaded,
    ParameterError,
    PromptTooLong,
    TemplateError,
)
from runtime.models.native_log import ABORT_PREFIX

log = logging.getLogger(__name__)

HostEvent = dict[str, Any]
TERMINAL_EVENTS = frozenset({"loaded", "unloaded", "result", "finished", "error"})
# Request ids are unique in the whole process, not per client, so a late event from a host
# that was replaced can never be taken for a request to its successor.
_REQUEST_IDS = itertools.count(1)
# A cancel that the host has not acted on within this time means the host is stuck (in a
# native call that does not return): it is ended, as the architecture promises.
CANCEL_GRACE_S = 0.5
# A host that acknowledged a cancel but is still inside one native call after this long is stuck.
CANCEL_STUCK_S = 60.0
# How long a dead host's stderr may take to be read to its end before the "host died" message
# is made without the rest.
STDERR_DRAIN_S = 2.0
# The host names each error by its class; these are raised as that class again, so a caller
# can tell a prompt that is too long from a model that failed to load. Others are HostError.
ERROR_KINDS: dict[str, type[AppError]] = {
    "ModelLoadError": ModelLoadError,
    "DraftModelIncompatible": DraftModelIncompatible,
    "NotLoaded": NotLoaded,
    "PromptTooLong": PromptTooLong,
    "ContextFull": ContextFull,
    "TemplateError": TemplateError,
    "ParameterError": ParameterError,
    "HostError": HostError,
}


def host_command() -> list[str]:
    """The argv that starts a host: the frozen executable's ``host`` subcommand, or this Python."""
    if getattr(sys, "frozen", False):
        return [sys.executable, "host"]
    return [sys.executable, "-m", "runtime.chat.host"]


class HostClient:
    """One inference host process.

    Args:
        on_event: called from the reader thread for every event (including the synthetic
            ``host_died`` with ``message``) but those of requests made with :meth:`stream` or
            :meth:`call`, which go to their caller alone. Must be quick and thread-safe.
        command: argv to start the host (tests may start a host under a wrapper).
        log_file: where the host's stderr is appended; the last lines are also kept in memory
            for the ``host died`` message.
    """

    def __init__(
        self,
        *,
        on_event: Callable[[HostEvent], None] | None = None,
        command: list[str] | None = None,
        log_file: Path | None = None,
    ) -> None:
        self._on_event = on_event
        self._command = command or host_command()
        self._log_file = log_file
        self._proc: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()
        self._waiters: dict[int, queue.Queue[HostEvent]] = {}
        self._active: set[int] = set()
        self._stderr_tail: collections.deque[str] = collections.deque(maxlen=30)
        self._stopping = False
        self._cancel_acked = False
        self._ready = threading.Event()

    # -- process ---------------------------------------------------------------------------

    @property
    def alive(self) -> bool:
        """Whether the host process is running."""
        return self._proc is not None and self._proc.poll() is None

    @property
    def pid(self) -> int | None:
        """The host's process id, while it runs."""
        return self._proc.pid if self._proc is not None else None

    def start(self) -> None:
        """Start the host process (no-op when it already runs). Returns at once.

        Start it (or make the first request) from a thread that lives as long as the host should:
        on Linux the host ends when the thread that started it ends (see
        ``runtime._exit.end_with_parent``).
        """
        if self.alive:
            return
        self._stopping = False
        self._ready.clear()
        self._stderr_tail.clear()
        kwargs: dict[str, Any] = {}
        if os.name == "posix":
            # Own session: a Ctrl-C in the terminal reaches the CLI, which turns it into a
            # cancel, instead of killing the host along with it.
            kwargs["start_new_session"] = True
        else:
            kwargs["creationflags"] = subprocess.CREATE_NEW_PROCESS_GROUP  # type: ignore[attr-defined]
        self._proc = subprocess.Popen(
            self._command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**os.environ, "PYTHONIOENCODING": "utf-8"},
            **kwargs,
        )
        proc = self._proc
        stderr_reader = threading.Thread(target=self._read_stderr, args=(proc,), name="host-stderr", daemon=True)
        stderr_reader.start()
        threading.Thread(target=self._read_events, args=(proc, stderr_reader), name="host-events", daemon=True).start()

    def wait_ready(self, timeout: float = 30.0) -> bool:
        """Block until the host said ``ready`` (imports done). Returns False on timeout."""
        return self._ready.wait(timeout)

    def stop(self, timeout: float = 3.0) -> None:
        """Ask the host to exit; end it if it does not within ``timeout`` seconds."""
        proc = self._proc
        if proc is None:
            return
        self._stopping = True
        if proc.poll() is None:
            try:
                self._send({"id": 0, "op": "cancel", "target": None})
                self._send({"id": 0, "op": "shutdown"})
                proc.stdin.close()  # type: ignore[union-attr]
            except OSError:
                pass
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self._proc = None

    def close_nowait(self) -> None:
        """End the host without waiting (GUI thread): kill it and reap it on a thread.

        No ``host_died`` is reported for it."""
        proc = self._proc
        self._stopping = True
        self._proc = None
        if proc is not None and proc.poll() is None:
            proc.kill()
            threading.Thread(target=proc.wait, name="host-reap", daemon=True).start()

    def kill(self) -> None:
        """End the host at once (a stuck load, a stop that did not arrive). Reports ``host_died``
        unless :meth:`stop` was called."""
        proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.kill()

    # -- requests --------------------------------------------------------------------------

    def _send(self, message: dict[str, Any]) -> None:
        proc = self._proc
        if proc is None or proc.poll() is not None or proc.stdin is None:
            raise HostDied(self._death_message())
        data = (json.dumps(message, ensure_ascii=False) + "\n").encode("utf-8")
        with self._lock:
            try:
                proc.stdin.write(data)
                proc.stdin.flush()
            except (BrokenPipeError, OSError) as exc:
                raise HostDied(self._death_message()) from exc

    def request(self, op: str, **fields: Any) -> int:
        """Send a request and return its id; its events arrive through ``on_event``."""
        self.start()
        request_id = next(_REQUEST_IDS)
        with self._lock:
            self._active.add(request_id)
        self._send_or_forget(request_id, {"id": request_id, "op": op, **fields})
        return request_id

    def _send_or_forget(self, request_id: int, message: dict[str, Any]) -> None:
        """Send a request; if it never reached the host, stop tracking it as active (else a
        later cancel would wait for it and end a healthy host)."""
        try:
            self._send(message)
        except BaseException:
            with self._lock:
                self._active.discard(request_id)
            raise

    def cancel(self, target: int | None = None) -> None:
        """Stop a generation (``None``: whatever runs or waits). The host stops within one token
        (or one prompt batch) and acknowledges at once; a host that does not acknowledge within
        0.5 s is stuck and is ended (``host_died`` follows)."""
        if not self.alive:
            return
        with self._lock:
            self._cancel_acked = False
        try:
            self._send({"id": 0, "op": "cancel", "target": target})
        except HostDied:
            return
        with self._lock:
            pending = set(self._active) if target is None else {target} & self._active
        if pending:
            timer = threading.Timer(CANCEL_GRACE_S, self._enforce_cancel, args=(pending,))
            timer.daemon = True
            timer.start()

    def _enforce_cancel(self, pending: set[int], *, grace: float = CANCEL_GRACE_S) -> None:
        with self._lock:
            still = pending & self._active
            acked = self._cancel_acked and grace == CANCEL_GRACE_S
        if still and acked and self.alive:
            # Acknowledged but still busy (a long prompt batch or load): give it longer, then end it.
            timer = threading.Timer(
                CANCEL_STUCK_S, self._enforce_cancel, args=(still,), kwargs={"grace": CANCEL_STUCK_S}
            )
            timer.daemon = True
            timer.start()
        elif still and self.alive:
            log.warning("host did not answer a cancel within %.1f s; ending it", grace)
            self._stderr_tail.append(f"(the host did not stop within {grace:.1f} s and was ended)")
            self.kill()

    def stream(
        self,
        op: str,
        *,
        timeout: float | None = None,
        sent: Callable[[int], None] | None = None,
        **fields: Any,
    ) -> Iterator[HostEvent]:
        """Send a request and yield its events until the terminal one (which is yielded too).

        ``sent`` is told the request's id once it is sent (to cancel this request alone).

        Raises:
            HostDied: the host ended before the request finished.
            queue.Empty: no event within ``timeout`` seconds.
        """
        waiter: queue.Queue[HostEvent] = queue.Queue()
        self.start()
        request_id = next(_REQUEST_IDS)
        with self._lock:
            self._waiters[request_id] = waiter
            self._active.add(request_id)
        try:
            self._send_or_forget(request_id, {"id": request_id, "op": op, **fields})
            if sent is not None:
                sent(request_id)
            while True:
                event = waiter.get(timeout=timeout)
                if event["event"] == "host_died":
                    raise HostDied(event["message"])
                yield event
                if event["event"] in TERMINAL_EVENTS:
                    return
        finally:
            with self._lock:
                self._waiters.pop(request_id, None)

    def call(self, op: str, *, timeout: float | None = 120.0, **fields: Any) -> HostEvent:
        """Send a request and wait for its terminal event; raise its error as an exception."""
        for event in self.stream(op, timeout=timeout, **fields):
            if event["event"] == "error":
                raise_for_error(event)
            if event["event"] in TERMINAL_EVENTS:
                return event
        raise HostError(f"The host ended request '{op}' without an answer.")

    # -- reader threads --------------------------------------------------------------------

    def _deliver(self, event: HostEvent) -> None:
        request_id = event.get("id")
        with self._lock:
            waiter = self._waiters.get(request_id) if isinstance(request_id, int) else None
            if event["event"] in TERMINAL_EVENTS and isinstance(request_id, int):
                self._active.discard(request_id)
        if event["event"] == "ready":
            self._ready.set()
        elif event["event"] == "cancelling":
            with self._lock:
                self._cancel_acked = True
            return
        if waiter is not None:
            # Its caller reads it: the local server's answers on the window's host would otherwise
            # also cross into the GUI thread, token by token, to be dropped there.
            waiter.put(event)
            return
        if self._on_event is not None:
            try:
                self._on_event(event)
            except Exception:  # noqa: BLE001 - a listener bug must not kill the reader thread
                log.exception("host event listener failed")

    def _read_events(self, proc: subprocess.Popen[bytes], stderr_reader: threading.Thread) -> None:
        assert proc.stdout is not None
        for raw in proc.stdout:
            try:
                event = json.loads(raw)  # the host's own protocol (runtime.untrusted_json is for input from outside)
            except ValueError:
                log.warning("host wrote a line that is not JSON: %r", raw[:200])
                continue
            self._deliver(event)
        proc.wait()
        if self._stopping:
            return
        # The host's last words (a failed assertion) are written just before it ends: let the
        # stderr reader take them in before the message is made.
        stderr_reader.join(STDERR_DRAIN_S)
        message = self._death_message(proc.returncode)
        with self._lock:
            waiters = list(self._waiters.values())
            self._active.clear()
        died = {"id": None, "event": "host_died", "message": message, "returncode": proc.returncode}
        for waiter in waiters:
            waiter.put(died)
        if self._on_event is not None:
            self._on_event(died)

    def _read_stderr(self, proc: subprocess.Popen[bytes]) -> None:
        assert proc.stderr is not None
        log_handle = None
        if self._log_file is not None:
            try:
                self._log_file.parent.mkdir(parents=True, exist_ok=True)
                log_handle = self._log_file.open("a", encoding="utf-8")
            except OSError:
                log_handle = None
        try:
            for raw in proc.stderr:
                line = raw.decode("utf-8", errors="replace").rstrip()
                if line:
                    self._stderr_tail.append(line)
                    if log_handle is not None:
                        log_handle.write(line + "\n")
                        log_handle.flush()
        finally:
            if log_handle is not None:
                log_handle.close()

    def _death_message(self, returncode: int | None = None) -> str:
        if returncode is None and self._proc is not None:
            returncode = self._proc.poll()
        how = describe_exit(returncode)
        lines = list(self._stderr_tail)
        # A native abort's own line says what failed; the log lines before it are in the log file.
        aborts = [line for line in lines if line.startswith(ABORT_PREFIX)]
        tail = aborts[-1] if aborts else "\n".join(lines[-8:])
        message = f"host died: the inference process ended ({how})."
        if tail:
            message += f"\n{tail}"
        return message


def raise_for_error(event: HostEvent) -> None:
    """Raise the exception an ``error`` event stands for."""
    cls = ERROR_KINDS.get(str(event.get("kind")), HostError)
    params = event.get("params")
    raise cls(
        str(event.get("message", "unknown error")),
        code=str(event.get("code") or ""),
        params=params if isinstance(params, dict) else None,
    )
