"""llama.cpp's own log and its last words, kept where the host's log file and the client see them.

llama-cpp-python with ``verbose=False`` drops llama.cpp's log and, while a model loads, points
file descriptors 1 and 2 at the null device. A ``GGML_ASSERT`` that fails then aborts the host
with its message printed to nowhere, and the user learns only "signal SIGABRT". This module,
installed once in the host:

* routes llama.cpp's log (``llama_log_set``) to a duplicate of the host's stderr taken before
  any redirection: warnings and errors are written at once, the rest is kept as a bounded tail;
* replaces ggml's abort handler (``ggml_set_abort_callback``, which also stops ggml from attaching
  a debugger for a backtrace) with one that writes that tail and then the failed assertion, as
  one line starting with :data:`ABORT_PREFIX`, just before the process aborts. The host's client
  shows that line in its "host died" message; a job process also tells its parent, through a
  listener (:meth:`NativeLog.on_abort_call`), as its error event.

Every process that runs llama.cpp on a model file installs it: :func:`runtime.models.loader.open_llama`
does, and so does the quantize job.
"""

from __future__ import annotations

import collections
import ctypes
import os
import re
import threading
from collections.abc import Callable
from typing import Any

#: Start of the line the host writes to stderr when llama.cpp aborts; the client looks for it.
ABORT_PREFIX = "llama.cpp aborted: "
#: Lines of llama.cpp's log kept in memory and written out before an abort.
TAIL_LINES = 20

# ggml_log_level (ggml.h): NONE 0, DEBUG 1, INFO 2, WARN 3, ERROR 4, CONT 5 (continues the previous).
_LEVEL_WARN = 3
_LEVEL_CONT = 5
# "/long/build/path/vendor/llama.cpp/src/llama-model.cpp:1362: GGML_ASSERT(...) failed": the
# build machine's folders say nothing to the user; the file name and line do.
_SOURCE_PATH = re.compile(r"^[^:\s]*[/\\](?=[^/\\]+:\d+: )")

_installed: NativeLog | None = None


class NativeLog:
    """The log and abort callbacks, and what they keep (one per process: see :func:`install`)."""

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._tail: collections.deque[str] = collections.deque(maxlen=TAIL_LINES)
        self._partial = ""
        self._partial_level = 0
        self._lock = threading.Lock()
        # ctypes callbacks must outlive every call from native code: kept here for the process.
        self._callbacks: list[Any] = []
        self._log_callback: Any = None
        self._abort_listeners: list[Callable[[str], None]] = []

    def on_abort_call(self, listener: Callable[[str], None]) -> None:
        """Call ``listener`` with the failed assertion's text (``file.cpp:12: GGML_ASSERT(...) failed``)
        just before the process aborts, from the thread that aborts."""
        self._abort_listeners.append(listener)

    def restore_log(self) -> None:
        """Route llama.cpp's log here again, after code that routed it elsewhere for a while."""
        import llama_cpp

        if self._log_callback is not None:
            llama_cpp.llama_log_set(self._log_callback, ctypes.c_void_p(0))

    def write(self, text: str) -> None:
        """Write ``text`` to the saved stderr, whatever fd 2 points at now."""
        data = text.encode("utf-8", errors="replace")
        try:
            while data:
                data = data[os.write(self._fd, data) :]
        except OSError:
            pass  # the client is gone; nobody is left to read it

    def tail(self) -> list[str]:
        """The last lines llama.cpp logged (all levels)."""
        with self._lock:
            return list(self._tail)

    def on_log(self, level: int, text: bytes | None) -> None:
        """llama.cpp's log callback: whole lines go to the tail; warnings and errors to stderr too."""
        chunk = (text or b"").decode("utf-8", errors="replace")
        out: list[str] = []
        with self._lock:
            if level != _LEVEL_CONT:
                self._partial_level = level
            self._partial += chunk
            *lines, self._partial = self._partial.split("\n")
            for line in lines:
                if line.strip():
                    self._tail.append(line)
                    if self._partial_level >= _LEVEL_WARN:
                        out.append(line)
        if out:
            self.write("".join(f"llama.cpp: {line}\n" for line in out))

    def on_abort(self, message: bytes | None) -> None:
        """ggml's abort callback: write the log's tail and the failure; the process aborts after it."""
        text = _SOURCE_PATH.sub("", (message or b"").decode("utf-8", errors="replace").strip())
        # No lock: the abort may come from inside a log call on another thread; a copy of the
        # deque is good enough for the last words.
        lines = list(self._tail)
        if self._partial.strip():
            lines.append(self._partial)
        report = "".join(f"llama.cpp log: {line}\n" for line in lines)
        self.write(f"{report}{ABORT_PREFIX}{text}\n")
        for listener in self._abort_listeners:
            try:
                listener(text)
            except Exception:  # noqa: BLE001 - the process aborts next whatever a listener does
                pass


def install() -> NativeLog:
    """Route llama.cpp's log and aborts as described above (once per process; imports llama_cpp).

    Where ggml's abort hook cannot be found (a llama-cpp-python that does not reach it through
    ``libllama``), aborts keep ggml's own message, printed to fd 2.
    """
    global _installed
    if _installed is not None:
        return _installed
    import llama_cpp

    native = NativeLog(os.dup(2))
    log_callback = llama_cpp.llama_log_callback(lambda level, text, _data: native.on_log(level, text))
    llama_cpp.llama_log_set(log_callback, ctypes.c_void_p(0))
    native._callbacks.append(log_callback)
    native._log_callback = log_callback
    abort_type = ctypes.CFUNCTYPE(None, ctypes.c_char_p)
    abort_callback = abort_type(native.on_abort)
    try:
        # ggml_set_abort_callback lives in libggml-base, which llama-cpp-python does not bind. Looked
        # up through libllama's handle, the symbol comes from the copy libllama itself uses (the
        # wheel ships look-alike copies under other names; loading one by path would set the hook
        # in a library nobody calls).
        library: Any = llama_cpp.llama_cpp._lib  # type: ignore[attr-defined]
        set_abort = library.ggml_set_abort_callback
    except AttributeError:
        pass
    else:
        set_abort.argtypes = [abort_type]
        set_abort.restype = ctypes.c_void_p
        set_abort(abort_callback)
        native._callbacks.append(abort_callback)
    _installed = native
    return native
