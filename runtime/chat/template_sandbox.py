"""The template sandbox process: renders chat templates that model files carry, under hard limits.

A GGUF file's ``tokenizer.chat_template`` is Jinja code from whoever made the file. Jinja's
immutable sandbox stops it from reaching Python's internals, but not from spending time and
memory: one filter call (``''|center(3000000000)``), a ``%`` format, a ``join`` or a string
doubled in a loop runs in C, where no Python-level check can interrupt it, and Jinja computes
constant expressions while it compiles. So such templates are compiled and rendered only in
this separate process, which its parent can kill:

- on POSIX it limits its own address space (``RLIMIT_AS``) before it renders anything, so growing a
  value past :data:`MEMORY_LIMIT_BYTES` raises ``MemoryError`` instead of taking the machine's
  memory, and it allows each request a few seconds of CPU (``RLIMIT_CPU``) as a backstop for a
  parent that is gone;
- its parent (:func:`runtime.chat._jinja_sandbox.render_sandboxed`) kills it when a request
  runs past a wall-clock limit, and starts a new one for the next request.

Inside, the first line of defence stays: limits on the source size, the output size and the
operands of ``*`` and ``**``, and a trace function that ends pure-Python loops after
:data:`TIME_LIMIT_S`, so ordinary mistakes are refused without losing the process.

Run as ``python -m runtime.chat.template_sandbox`` (``alpaca-desk template-sandbox`` in a frozen
build). It speaks JSON lines: first ``{"ready": true, "pid": N}``, then for each request
``{"source": ..., "variables": {...}}`` one answer, ``{"ok": true, "text": ..., "peak_rss": N}``
or ``{"ok": false, "reason": ..., ...}`` (see :class:`Refusal`). It ends at the end of stdin.
On POSIX, ``pid`` is the render worker's (the process to kill), and the process started keeps
waiting for it: when the worker ends, it writes ``{"ended": true, "status": N, "peak_rss": N}``
(the worker's own peak, see :func:`_report_worker_end`) and exits.
"""

from __future__ import annotations

import json
import operator
import os
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from functools import lru_cache
from types import FrameType
from typing import Any, BinaryIO, NoReturn

from runtime.models import MAX_CHAT_TEMPLATE_CHARS

#: The address space the sandbox process may use. Python with Jinja needs about 30 MiB; the
#: rest is room for values, so an honest template never comes near it.
MEMORY_LIMIT_BYTES = 768 * 1024 * 1024
#: Seconds a pure-Python loop may run before the trace function ends it (the process survives).
TIME_LIMIT_S = 1.0
#: CPU seconds one request may use before the kernel ends the process (SIGXCPU). The parent's
#: wall-clock kill comes first; this one holds when the parent died during a request.
CPU_LIMIT_S = 5
MAX_OUTPUT_BYTES = 256 * 1024
#: Real chat templates are a few KiB; a much larger one is not worth compiling.
MAX_SOURCE_CHARS = MAX_CHAT_TEMPLATE_CHARS
#: Integer powers beyond this many bits are refused before Python computes them.
MAX_INT_BITS = 1 << 16


class Refusal(Exception):
    """A template refused for a reason the parent turns into a message.

    Args:
        reason: ``source_too_large``, ``syntax``, ``forbidden``, ``timeout``,
            ``output_too_large``, ``memory`` or ``error``.
        fields: what the message names (``line``, ``detail``).
    """

    def __init__(self, reason: str, **fields: Any) -> None:
        super().__init__(reason)
        self.reason = reason
        self.fields = fields


class _TimeoutError(Exception):
    """Raised from the trace function when a template runs past :data:`TIME_LIMIT_S`."""


class _TooLargeError(Exception):
    """Raised when the output (or one value a template builds) exceeds the size limit."""


def _raise_exception(message: str) -> NoReturn:
    """The ``raise_exception`` global of Hugging Face chat templates."""
    from jinja2.exceptions import TemplateError as JinjaTemplateError

    raise JinjaTemplateError(message)


def _strftime_now(fmt: str) -> str:
    """The ``strftime_now`` global of Hugging Face chat templates (Llama-3.1 uses it)."""
    return datetime.now().strftime(fmt)


def _sized(value: Any) -> int | None:
    """Length of a str/bytes/list/tuple operand, or ``None`` for anything else."""
    return len(value) if isinstance(value, str | bytes | list | tuple) else None


@lru_cache(maxsize=1)
def _environment() -> Any:
    """The shared sandboxed environment (built on first use)."""
    from jinja2.exceptions import SecurityError
    from jinja2.ext import loopcontrols
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    class _LimitedEnvironment(ImmutableSandboxedEnvironment):
        # One C-level operation such as 'a' * 10**10 or 9 ** 10**9 runs without reaching a
        # line of Python; checking the operands first refuses it at once, with a clearer
        # message than the memory or time limit would give. Intercepted operators are also
        # never computed while compiling (Jinja folds other constant expressions then).
        intercepted_binops = frozenset({"*", "**"})

        def call_binop(self, context: Any, op: str, left: Any, right: Any) -> Any:
            if op == "*":
                for seq, times in ((left, right), (right, left)):
                    length = _sized(seq)
                    if length is not None and isinstance(times, int) and length * times > MAX_OUTPUT_BYTES:
                        raise _TooLargeError
                return operator.mul(left, right)
            if op == "**":
                if (
                    isinstance(left, int)
                    and isinstance(right, int)
                    and right > 0
                    and left.bit_length() * right > MAX_INT_BITS
                ):
                    raise _TooLargeError
                return operator.pow(left, right)
            return super().call_binop(context, op, left, right)

        def unsafe_undefined(self, obj: Any, attribute: str) -> NoReturn:
            # The sandbox's default answers a forbidden attribute with an Undefined that
            # prints as nothing, so {{ f.__globals__ }} would render quietly. No honest chat
            # template reaches for such attributes; refuse the whole template instead.
            raise SecurityError(f"access to attribute {attribute!r} of {type(obj).__name__!r} object is unsafe")

    # trim_blocks, lstrip_blocks and loopcontrols are what Hugging Face and llama.cpp use, so
    # templates written for them render the same whitespace here.
    env = _LimitedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols])
    env.globals["raise_exception"] = _raise_exception
    env.globals["strftime_now"] = _strftime_now
    return env


@lru_cache(maxsize=8)
def _compile(source: str) -> Any:
    """Compile a template once; fit_prompt renders the same one several times."""
    return _environment().from_string(source)


def _generate_limited(template: Any, variables: dict[str, Any]) -> str:
    """Render with the time and output-size limits; may raise anything the template raises."""
    deadline = time.monotonic() + TIME_LIMIT_S

    # Jinja compiles a template to Python code, so a loop that produces no output (nested
    # range() loops, recursive macros) never returns to us. A line-trace callback runs inside
    # that code, and an exception raised from it propagates into the traced frame, ending the
    # render wherever it is, and the process lives on for the next request. It cannot stop
    # one long C call: the parent's wall-clock kill does that.
    def tracer(frame: FrameType, event: str, arg: Any) -> Any:
        if time.monotonic() > deadline:
            raise _TimeoutError
        return tracer

    chunks: list[str] = []
    size = 0
    previous = sys.gettrace()
    sys.settrace(tracer)
    try:
        # generate() yields the output piece by piece, so a template that writes a lot is
        # stopped soon after it passes the limit instead of after building all of it.
        stream: Iterator[str] = template.generate(**variables)
        for chunk in stream:
            # Characters first: a huge chunk is refused without encoding a copy of it.
            if len(chunk) > MAX_OUTPUT_BYTES:
                raise _TooLargeError
            size += len(chunk.encode("utf-8", errors="surrogatepass"))
            if size > MAX_OUTPUT_BYTES:
                raise _TooLargeError
            chunks.append(chunk)
    finally:
        sys.settrace(previous)
    return "".join(chunks)


def render(source: str, variables: dict[str, Any]) -> str:
    """Compile and render an untrusted template with the in-process limits.

    The memory limit is the process's own (set by :func:`serve`); called elsewhere, this has
    only the checks above, so nothing outside this process should call it.

    Raises:
        Refusal: the template is too large, invalid, forbidden, or runs past a limit.
    """
    from jinja2.exceptions import SecurityError, TemplateSyntaxError

    if len(source) > MAX_SOURCE_CHARS:
        raise Refusal("source_too_large")
    # The template is untrusted, so whatever goes wrong in it (including errors in Python
    # code it calls, recursion and memory errors) is reported as a refusal.
    try:
        return _generate_limited(_compile(source), variables)
    except TemplateSyntaxError as e:
        raise Refusal("syntax", line=e.lineno, detail=str(e.message)) from e
    except SecurityError as e:
        raise Refusal("forbidden", detail=str(e)) from e
    except _TimeoutError as e:
        raise Refusal("timeout", seconds=TIME_LIMIT_S) from e
    except _TooLargeError as e:
        raise Refusal("output_too_large") from e
    except MemoryError as e:
        raise Refusal("memory") from e
    except Exception as e:
        raise Refusal("error", detail=f"{type(e).__name__}: {e}") from e


def _peak_rss() -> int | None:
    """This process's largest resident size so far, in bytes (``None`` where unknown)."""
    # Linux: VmHWM belongs to this program's own memory map. getrusage's ru_maxrss would not do:
    # it carries over the parent's peak through fork and exec (a 900 MB test runner made a
    # 20 MB sandbox report 900 MB).
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        import resource
    except ImportError:  # Windows
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux counts KiB, macOS bytes.
    return int(peak) if sys.platform == "darwin" else int(peak) * 1024


def _limit_memory() -> None:
    """Cap this process's address space at :data:`MEMORY_LIMIT_BYTES` (POSIX)."""
    try:
        import resource
    except ImportError:
        # Windows has no RLIMIT_AS; a Job Object with a process memory limit would be the
        # equivalent and is not implemented yet, so there only the parent's wall-clock kill
        # bounds a template (memory can grow until then).
        return
    try:
        # Soft and hard alike: nothing in this process has any reason to raise it again.
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT_BYTES, MEMORY_LIMIT_BYTES))
        # A process ended by the CPU limit would otherwise leave a core file behind.
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    except (ValueError, OSError):
        # macOS refuses RLIMIT_AS below its current mappings and does not enforce it anyway;
        # the wall-clock kill still holds there.
        pass


def _allow_cpu(seconds: int) -> None:
    """Let the next request use ``seconds`` more CPU time before the kernel ends this process.

    RLIMIT_CPU counts the process's whole life, so its soft limit is moved on before each
    request (the hard limit stays where it is, so the soft one can keep moving).
    """
    try:
        import resource
    except ImportError:
        return
    usage = resource.getrusage(resource.RUSAGE_SELF)
    soft = int(usage.ru_utime + usage.ru_stime) + seconds + 1
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    try:
        resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))
    except (ValueError, OSError):
        pass


def _answer(request: Any) -> dict[str, Any]:
    if not isinstance(request, dict) or not isinstance(request.get("source"), str):
        return {"ok": False, "reason": "error", "detail": "bad request"}
    variables = request.get("variables")
    try:
        text = render(request["source"], variables if isinstance(variables, dict) else {})
    except Refusal as refusal:
        return {"ok": False, "reason": refusal.reason, **refusal.fields, "peak_rss": _peak_rss()}
    return {"ok": True, "text": text, "peak_rss": _peak_rss()}


def serve(requests: BinaryIO, answers: BinaryIO) -> int:
    """Answer render requests until the end of ``requests``.

    On POSIX the renders happen in a worker forked from this process, which stays behind only to
    wait for it and report how it ended (see :func:`_report_worker_end`).
    """

    def write(message: dict[str, Any]) -> None:
        # ASCII JSON: any text (lone surrogates included) survives the pipe unchanged.
        answers.write(json.dumps(message, ensure_ascii=True).encode("ascii") + b"\n")
        answers.flush()

    # Imported before the fork, so a broken installation fails at start, not on a render, and the
    # worker starts with Jinja already loaded.
    _environment()
    if hasattr(os, "fork"):
        worker = os.fork()
        if worker != 0:
            return _report_worker_end(worker, write)
    _limit_memory()
    write({"ready": True, "pid": os.getpid()})
    for line in requests:
        try:
            request = json.loads(line)  # from the parent that started us (our own protocol)
        except ValueError:
            write({"ok": False, "reason": "error", "detail": "bad request line"})
            continue
        _allow_cpu(CPU_LIMIT_S)
        try:
            answer = _answer(request)
        except MemoryError:
            # Out of memory outside the render (decoding the request, building the answer).
            answer = {"ok": False, "reason": "memory"}
        write(answer)
    if hasattr(os, "fork"):
        os._exit(0)  # the worker: nothing of the relay's stack to unwind
    return 0


def _report_worker_end(worker: int, write: Any) -> int:
    """Wait for the render worker and write one last line: how it ended and its peak memory.

    Why a worker at all: the kernel carries a parent's peak resident size over into a child
    through fork and exec, so a sandbox started by a large process (a GUI that has loaded much,
    a test runner) would report that process's peak when killed, not its own. A worker forked
    from this small, freshly started process counts only what it used itself, and this process
    outlives it to read that figure from ``wait4``, which its parent (the killer) cannot.
    The worker writes the protocol's other lines through the same pipes; this process reads
    nothing and writes only ``{"ended": true, "status": N, "peak_rss": BYTES}``.
    """
    import signal

    # A Ctrl-C or SIGTERM meant for the group must not end the relay before its report.
    for name in ("SIGINT", "SIGTERM", "SIGHUP"):
        signal.signal(getattr(signal, name), signal.SIG_IGN)
    while True:
        try:
            _, status, usage = os.wait4(worker, 0)
            break
        except InterruptedError:
            continue
        except ChildProcessError:
            return 0
    peak = int(usage.ru_maxrss) * (1 if sys.platform == "darwin" else 1024)
    try:
        write({"ended": True, "status": os.waitstatus_to_exitcode(status), "peak_rss": peak})
    except OSError:
        pass  # the parent is gone
    return 0


def main() -> int:
    """Entry point of the sandbox process (``python -m runtime.chat.template_sandbox``)."""
    # Keep the real stdout for the answers and send fd 1 to stderr: nothing else may write a
    # line into the protocol (the host does the same).
    protocol = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return serve(sys.stdin.buffer, protocol)


if __name__ == "__main__":
    raise SystemExit(main())
