"""The parent side of the template sandbox: chat templates from model files render in a child.

A model file's chat template is code from whoever made the file, and Jinja can spend unbounded
time and memory in C where no check in this process could stop it. :func:`render_sandboxed`
therefore sends each render to a separate process (:mod:`runtime.chat.template_sandbox`) that
runs under a memory limit, and kills that process when a render runs past
:data:`HARD_TIME_LIMIT_S`; the next render starts a fresh one. A refusal becomes a
:class:`~runtime.errors.TemplateError` whose code and params name the model file and the reason.

One child serves the whole process, started on first use. Renders are serialised by a lock,
so the host, the command line and the GUI's worker threads may all call this. Never call it
on a GUI thread: a hostile template holds the caller for up to :data:`HARD_TIME_LIMIT_S`.
"""

from __future__ import annotations

import atexit
import collections
import hashlib
import json
import logging
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from typing import Any

from runtime._exit import describe_exit
from runtime.errors import TemplateError
from runtime.untrusted_json import parse_json

log = logging.getLogger(__name__)

#: Wall-clock seconds one render (compiling included) may take before the child is killed.
#: An honest template renders in milliseconds; the child's own trace limit (1 s) ends Python
#: loops first and keeps the process, so this catches what runs in C.
HARD_TIME_LIMIT_S = 2.0
#: How long a starting child may take to say it is ready (Python start-up and the Jinja import,
#: on a loaded machine).
START_TIMEOUT_S = 30.0
#: Templates refused for time or memory (or that ended the child) are remembered by digest
#: and refused at once afterwards: a preview re-rendered on each keystroke must not spend two
#: seconds and a new process every time.
REMEMBERED_REFUSALS = 32
#: Why a template can be refused; each is the error code ``embedded_template_<reason>``.
REFUSAL_REASONS = (
    "source_too_large",
    "syntax",
    "forbidden",
    "timeout",
    "output_too_large",
    "memory",
    "crashed",
    "error",
)
#: Refusals that do not depend on the conversation rendered, and so are worth remembering.
_LASTING = frozenset({"syntax", "timeout", "memory", "crashed"})


def sandbox_command() -> list[str]:
    """The argv that starts a sandbox: the frozen executable's ``template-sandbox`` subcommand,
    or this Python."""
    if getattr(sys, "frozen", False):
        return [sys.executable, "template-sandbox"]
    return [sys.executable, "-m", "runtime.chat.template_sandbox"]


@dataclass
class SandboxStats:
    """What the parent knows about its sandbox children (for tests and the log).

    Attributes:
        started: children started so far.
        killed: children killed for running past the time limit.
        last_peak_rss: the largest resident size of the child that answered (or ended) last,
            in bytes; ``None`` where the platform does not say.
    """

    started: int = 0
    killed: int = 0
    last_peak_rss: int | None = None


class _Sandbox:
    """The one sandbox child of this process and the lock that serialises renders to it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._proc: subprocess.Popen[bytes] | None = None
        # The process that renders: on POSIX a worker the started process forked (see
        # template_sandbox._report_worker_end); elsewhere the started process itself.
        self._worker_pid: int | None = None
        self._answers: queue.Queue[bytes | None] = queue.Queue()
        self._refused: collections.OrderedDict[str, tuple[str, dict[str, Any]]] = collections.OrderedDict()
        self.stats = SandboxStats()

    def render(self, source: str, variables: dict[str, Any]) -> tuple[str | None, str, dict[str, Any]]:
        """Render in the child: ``(text, "", {})`` or ``(None, reason, fields)``."""
        digest = hashlib.sha256(source.encode("utf-8", errors="surrogatepass")).hexdigest()
        request = (json.dumps({"source": source, "variables": variables}, ensure_ascii=True) + "\n").encode("ascii")
        with self._lock:
            remembered = self._refused.get(digest)
            if remembered is not None:
                self._refused.move_to_end(digest)
                return None, remembered[0], dict(remembered[1])
            text, reason, fields = self._exchange(request)
            if text is None and reason in _LASTING:
                self._refused[digest] = (reason, fields)
                while len(self._refused) > REMEMBERED_REFUSALS:
                    self._refused.popitem(last=False)
            return text, reason, fields

    def _exchange(self, request: bytes) -> tuple[str | None, str, dict[str, Any]]:
        proc = self._send(request)
        try:
            line = self._answers.get(timeout=HARD_TIME_LIMIT_S)
        except queue.Empty:
            # Still inside one long C call (or a compile): only ending the process stops it.
            self.stats.killed += 1
            log.warning("template sandbox %s ran past %.1f s; killed", proc.pid, HARD_TIME_LIMIT_S)
            self._stop(proc, kill=True)
            return None, "timeout", {"seconds": HARD_TIME_LIMIT_S}
        answer = _parse(line)
        if line is None or (isinstance(answer, dict) and answer.get("ended") is True):
            return self._ended(proc, answer)
        if not isinstance(answer, dict):
            self._stop(proc, kill=True)
            return None, "error", {"detail": "the template sandbox gave an answer that is not JSON"}
        self.stats.last_peak_rss = answer.get("peak_rss")
        if answer.get("ok"):
            return str(answer.get("text", "")), "", {}
        fields = {k: v for k, v in answer.items() if k not in ("ok", "reason", "peak_rss")}
        return None, str(answer.get("reason") or "error"), fields

    def _send(self, request: bytes) -> subprocess.Popen[bytes]:
        """Send ``request`` to a running child; returns that child.

        A child that ended while idle (killed from outside) is only found out when the write
        fails; that costs a second try with a new child, not a refusal of the template.
        """
        for last_try in (False, True):
            proc = self._ensure_started()
            assert proc.stdin is not None
            try:
                proc.stdin.write(request)
                proc.stdin.flush()
                return proc
            except OSError as exc:
                self._stop(proc, kill=True)
                if last_try:
                    raise _sandbox_failed(proc) from exc
        raise AssertionError("the loop returns or raises")

    def _ended(self, proc: subprocess.Popen[bytes], report: Any) -> tuple[None, str, dict[str, Any]]:
        """The child ended during a request: out of memory (or a crash the limit caused).

        ``report`` is the started process's last line about its worker (POSIX), or None.
        """
        status: int | None = None
        if isinstance(report, dict):
            status = report.get("status") if isinstance(report.get("status"), int) else None
            self._note_peak(report)
            self._worker_pid = None  # reaped already: its pid may belong to another process now
        self._stop(proc, kill=True)
        if status is None:
            status = proc.returncode
        how = describe_exit(status)
        log.warning("template sandbox %s ended during a render (%s)", proc.pid, how)
        if status == -getattr(signal, "SIGXCPU", -1):
            # Its CPU backstop ended it before the wall-clock limit could (a slow clock, a
            # suspended parent): the same refusal as a timeout.
            from runtime.chat.template_sandbox import CPU_LIMIT_S

            return None, "timeout", {"seconds": CPU_LIMIT_S}
        return None, "crashed", {"how": how}

    def _ensure_started(self) -> subprocess.Popen[bytes]:
        proc = self._proc
        if proc is not None and proc.poll() is None:
            return proc
        if proc is not None:
            self._stop(proc, kill=True)
        answers: queue.Queue[bytes | None] = queue.Queue()
        kwargs: dict[str, Any] = {}
        if os.name == "posix":
            # Its own session: a Ctrl-C in the terminal goes to the CLI, not to the sandbox.
            kwargs["start_new_session"] = True
        else:
            kwargs["creationflags"] = subprocess.CREATE_NEW_PROCESS_GROUP  # type: ignore[attr-defined]
        proc = subprocess.Popen(sandbox_command(), stdin=subprocess.PIPE, stdout=subprocess.PIPE, **kwargs)
        self.stats.started += 1
        threading.Thread(target=self._read_answers, args=(proc, answers), name="template-sandbox", daemon=True).start()
        try:
            ready = answers.get(timeout=START_TIMEOUT_S)
        except queue.Empty:
            ready = None
        if not _is_ready(ready):
            self._stop(proc, kill=True)
            raise _sandbox_failed(proc)
        pid = _parse(ready).get("pid")
        self._worker_pid = pid if isinstance(pid, int) and pid > 0 and pid != proc.pid else None
        self._proc = proc
        self._answers = answers
        return proc

    @staticmethod
    def _read_answers(proc: subprocess.Popen[bytes], answers: queue.Queue[bytes | None]) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            answers.put(line)
        answers.put(None)

    def _stop(self, proc: subprocess.Popen[bytes], *, kill: bool) -> None:
        """End ``proc`` (kill it, or close its input and let it exit) and reap it."""
        worker = self._worker_pid if self._proc is proc else None
        if self._proc is proc:
            self._proc = None
            self._worker_pid = None
        try:
            if proc.stdin is not None:
                proc.stdin.close()
        except OSError:
            pass
        if kill and worker is not None and proc.returncode is None:
            # Kill the worker alone: the started process then reports the worker's own peak
            # memory and exits by itself (a kill of both would lose that figure).
            try:
                os.kill(worker, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self._note_peak(self._last_report(proc))
        if kill:
            _kill(proc)
        _reap(proc, timeout=None if kill else 2.0)
        if proc.stdout is not None:
            proc.stdout.close()

    def _last_report(self, proc: subprocess.Popen[bytes]) -> Any:
        """The started process's ``ended`` line after its worker was killed (None if none comes)."""
        deadline = time.monotonic() + START_TIMEOUT_S
        while proc.poll() is None or not self._answers.empty():
            try:
                line = self._answers.get(timeout=max(0.0, min(0.5, deadline - time.monotonic())))
            except queue.Empty:
                if time.monotonic() > deadline:
                    return None
                continue
            if line is None:
                return None
            report = _parse(line)
            if isinstance(report, dict) and report.get("ended") is True:
                return report
        return None

    def _note_peak(self, report: Any) -> None:
        peak = report.get("peak_rss") if isinstance(report, dict) else None
        if isinstance(peak, int):
            self.stats.last_peak_rss = peak

    def close(self) -> None:
        """End the child (at exit): it leaves on the end of its input, or is killed."""
        with self._lock:
            if self._proc is not None:
                self._stop(self._proc, kill=False)


def _sandbox_failed(proc: subprocess.Popen[bytes]) -> TemplateError:
    how = describe_exit(proc.returncode)
    return TemplateError(
        f"The template sandbox process did not start ({how}); see the log. Choose a built-in chat template meanwhile.",
        code="template_sandbox_failed",
        params={"how": how},
    )


def _parse(line: bytes | None) -> Any:
    """One protocol line as JSON (None for no line or a line that is not JSON).

    The child renders code from model files: its lines are bounded like input from outside.
    """
    if line is None:
        return None
    try:
        return parse_json(line, source="the template sandbox's answer", max_bytes=len(line))
    except ValueError:
        return None


def _is_ready(line: bytes | None) -> bool:
    """Whether a child's first line is its ``ready`` message."""
    message = _parse(line)
    return isinstance(message, dict) and message.get("ready") is True


def _kill(proc: subprocess.Popen[bytes]) -> None:
    """Kill ``proc`` (the started process; its worker too, when it is still there)."""
    if proc.poll() is not None:
        return
    if os.name == "posix":
        # Its own session: the group is the started process and the worker it forked.
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            proc.kill()
    else:
        proc.kill()


def _reap(proc: subprocess.Popen[bytes], *, timeout: float | None) -> None:
    """Wait for ``proc`` to end, killing it if it runs past ``timeout`` seconds."""
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        _kill(proc)
        proc.wait()


_SANDBOX = _Sandbox()
atexit.register(_SANDBOX.close)


def sandbox_stats() -> SandboxStats:
    """How many sandbox children this process started and killed, and the last one's peak memory."""
    return _SANDBOX.stats


def _refused(origin: str | None, reason: str, fields: dict[str, Any]) -> TemplateError:
    """The error for a refused template: it names the model file and the way out."""
    from runtime.chat.template_sandbox import MAX_OUTPUT_BYTES, MAX_SOURCE_CHARS, MEMORY_LIMIT_BYTES

    name = origin or "the model file"
    limit_kib = MAX_SOURCE_CHARS // 1024
    if reason == "source_too_large":
        what = f"it is larger than {limit_kib} KiB"
        params: dict[str, object] = {"limit_kib": limit_kib}
    elif reason == "syntax":
        what = f"syntax error on line {fields.get('line')}: {fields.get('detail')}"
        params = {"line": fields.get("line"), "detail": fields.get("detail")}
    elif reason == "forbidden":
        what = f"it tried something the sandbox forbids ({fields.get('detail')})"
        params = {"detail": fields.get("detail")}
    elif reason == "timeout":
        seconds = f"{float(fields.get('seconds') or HARD_TIME_LIMIT_S):g}"
        what = f"rendering took longer than {seconds} s"
        params = {"seconds": seconds}
    elif reason == "output_too_large":
        what = f"its output grew past {MAX_OUTPUT_BYTES // 1024} KiB"
        params = {"limit_kib": MAX_OUTPUT_BYTES // 1024}
    elif reason == "memory":
        limit_mib = MEMORY_LIMIT_BYTES // (1024 * 1024)
        what = f"its output or values grew past the memory limit ({limit_mib} MiB)"
        params = {"limit_mib": limit_mib}
    elif reason == "crashed":
        limit_mib = MEMORY_LIMIT_BYTES // (1024 * 1024)
        what = (
            f"its output or values grew past the memory limit ({limit_mib} MiB) and ended the sandbox "
            f"process ({fields.get('how')})"
        )
        params = {"limit_mib": limit_mib, "how": fields.get("how")}
    else:
        reason = "error"
        what = str(fields.get("detail") or "it failed")
        params = {"detail": what}
    return TemplateError(
        f"The embedded chat template cannot be used: {what}. It is the template inside {name}; choose "
        "another chat template for this model in the decoding panel, such as the built-in Chinese-Alpaca-2 "
        "(Llama-2 chat).",
        code=f"embedded_template_{reason}",
        params={"name": name, **params},
    )


def render_sandboxed(source: str, variables: dict[str, Any], *, origin: str | None = None) -> str:
    """Render an untrusted chat template in the sandbox process, within its limits.

    Args:
        source: The Jinja source (a GGUF file's ``tokenizer.chat_template``).
        variables: The template's variables; must be JSON data (they cross a pipe).
        origin: The model file the template came from, named in the error.

    Returns:
        The rendered text.

    Raises:
        TemplateError: the template is too large, invalid, forbidden, runs past the time or
            memory limit, or ends the sandbox; the code (``embedded_template_<reason>``) and
            message say which, and name ``origin``.
    """
    # Imported here, not at the top: runtime.chat imports this module, and the sandbox runs as
    # ``python -m runtime.chat.template_sandbox``, which must not find itself imported already.
    from runtime.chat.template_sandbox import MAX_SOURCE_CHARS

    if len(source) > MAX_SOURCE_CHARS:
        # Not worth a trip to the child, nor a copy of it through the pipe.
        raise _refused(origin, "source_too_large", {})
    text, reason, fields = _SANDBOX.render(source, variables)
    if text is None:
        raise _refused(origin, reason, fields)
    return text
