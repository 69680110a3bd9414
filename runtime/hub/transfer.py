"""One file from a URL to disk: resumable, retried, verified, renamed into place.

This is deliberately ours, not ``huggingface_hub.hf_hub_download``: recent ``huggingface_hub``
releases no longer resume a partial download left by another process (a killed job, a closed
app), and the app must (issue 11). We keep their URL and metadata helpers (the caller gets the
address, size and ETag with :meth:`runtime.hub.client.HubClient.file_metadata`) and do the
transfer: bytes go to ``NAME.part`` beside the destination (kept between runs), a restart sends
``Range: bytes=<size of the .part>-`` and expects ``206``; a dropped or stalled connection is
retried from the bytes on disk, with back-off when no byte arrived; the finished file's SHA-256
(or git blob hash) is compared with the hub's, then the file is flushed to disk and renamed.
"""

from __future__ import annotations

import errno
import os
import queue
import random
import shutil
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

from runtime.errors import DownloadError
from runtime.hub.manifest import Hasher, hash_file, part_path

#: Bytes handed from the connection to the file (and the hash) at a time.
READ_SIZE = 256 * 1024
#: Pieces waiting for the writer thread at most.
QUEUE_PIECES = 4
#: The disk's write-back is started every this many bytes.
SYNC_EVERY = 64 * 1024 * 1024
#: Free disk space kept beyond what a download still needs.
SPACE_MARGIN = 64 * 1024 * 1024
#: Failed attempts in a row (no byte received) before giving up.
MAX_FAILURES = 6
#: Times a transfer may start again from zero (a server that ignores Range, a changed file).
MAX_RESTARTS = 3
#: Seconds of back-off after the first failure without progress; doubled each time, capped.
BACKOFF_FIRST_S = 0.5
BACKOFF_MAX_S = 30.0


class DownloadCancelled(DownloadError):
    """The caller cancelled; the partial file is kept for resuming."""


@dataclass(frozen=True)
class TransferProgress:
    """How far one file is.

    Attributes:
        name: The file's name in its repository.
        done: Bytes on disk.
        total: The file's size.
        speed: Bytes per second over the last few seconds.
        eta: Seconds left at that speed, or None when unknown.
        attempt: The connection attempt (1 for the first).
    """

    name: str
    done: int
    total: int
    speed: float
    eta: float | None
    attempt: int


class SpeedMeter:
    """Bytes per second over a sliding window of ``window`` seconds."""

    def __init__(self, window: float = 5.0) -> None:
        self._window = window
        self._samples: deque[tuple[float, int]] = deque()

    def add(self, done: int, now: float | None = None) -> float:
        """Record ``done`` bytes at ``now``; return the speed."""
        now = time.monotonic() if now is None else now
        self._samples.append((now, done))
        while len(self._samples) > 2 and now - self._samples[0][0] > self._window:
            self._samples.popleft()
        first_time, first_done = self._samples[0]
        elapsed = now - first_time
        return (done - first_done) / elapsed if elapsed > 0 else 0.0


def _opener(path: Path, mode: str) -> IO[bytes]:
    return path.open(mode)


class _Retry(Exception):
    """An attempt ended early; try again from the bytes on disk."""


def check_space(folder: Path, needed: int, *, name: str) -> None:
    """Refuse before the first byte when ``folder``'s disk lacks ``needed`` bytes plus a margin.

    Raises:
        DownloadError: ``not_enough_space``.
    """
    try:
        free = shutil.disk_usage(folder).free
    except OSError:
        return  # unknown: the write itself will tell
    if needed + SPACE_MARGIN > free:
        raise DownloadError(
            f"Not enough disk space for {name}: it needs {_gb(needed + SPACE_MARGIN)} and {folder} has "
            f"{_gb(free)} free. Free some space or choose another models folder in Settings → Model hub.",
            code="not_enough_space",
            params={"name": name, "needed": _gb(needed + SPACE_MARGIN), "free": _gb(free), "folder": str(folder)},
        )


def _gb(n: int) -> str:
    return f"{n / 1e9:.2f} GB" if n >= 10_000_000 else f"{n / 1e6:.1f} MB"


def transfer(
    url: str,
    target: Path,
    *,
    name: str,
    size: int,
    digest: tuple[str, str],
    client: Any,
    headers: dict[str, str] | None = None,
    on_progress: Callable[[TransferProgress], None] | None = None,
    cancel: threading.Event | None = None,
    max_failures: int = MAX_FAILURES,
    opener: Callable[[Path, str], IO[bytes]] = _opener,
    sleep: Callable[[float], None] = time.sleep,
) -> Path:
    """Download ``url`` to ``target`` through ``target``'s ``.part`` file; return ``target``.

    Args:
        url: The file's address (from the hub's metadata).
        target: The final path; its folder is created.
        name: The file's name in its repository (for messages and progress).
        size: The size the hub announced.
        digest: (kind, hex) from :func:`runtime.hub.manifest.expected_digest`: ``sha256`` or ``git-sha1``.
        client: An ``httpx2.Client`` (see :func:`runtime.hub.client.http_client`).
        headers: Extra request headers (the approved token, never for another origin).
        on_progress: Called after every chunk.
        cancel: Set to stop; the ``.part`` is kept (:class:`DownloadCancelled`).
        max_failures: Attempts in a row without a byte before giving up.
        opener: Opens the ``.part`` file (tests simulate a full disk with it).
        sleep: Waits between retries (tests make it instant).

    Raises:
        DownloadError: ``not_enough_space`` (before the first byte), ``disk_full`` (mid-way; the
            ``.part`` is kept), ``checksum_mismatch`` (the file is removed), ``size_mismatch``,
            ``download_failed`` (repeated failures; the ``.part`` is kept), ``download_refused``
            (the server refused: 401/403/404).
        DownloadCancelled: ``cancel`` was set.
    """
    kind, expected = digest
    if kind not in ("sha256", "git-sha1") or not expected:
        raise DownloadError(
            f"The hub gave no checksum for {name}, so it could not be verified and was not downloaded. "
            f"Try again later or another hub address.",
            code="hub_no_checksum",
            params={"name": name},
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    part = part_path(target)
    have = part.stat().st_size if part.exists() else 0
    if have > size:
        part.unlink()
        have = 0
    check_space(target.parent, size - have, name=name)
    if size == 0:
        part.touch()  # an empty file (a placeholder in a repository) has nothing to fetch
    # Resuming: the bytes already on disk are hashed again (they are not trusted to be what an
    # earlier process wrote, and a hash object cannot be saved between processes).
    state = _State(have, hash_file(part, kind, size=size) if have else Hasher(kind, size))
    meter = SpeedMeter()
    failures = 0
    attempt = 0
    request_headers = {"Accept-Encoding": "identity", **(headers or {})}
    while state.have < size:
        if cancel is not None and cancel.is_set():
            raise DownloadCancelled(f"The download of {name} was paused.", code="cancelled", params={"name": name})
        attempt += 1
        before = state.have
        try:
            _attempt(
                url, part, state, name=name, size=size, kind=kind, client=client, headers=request_headers,
                meter=meter, attempt=attempt, on_progress=on_progress, cancel=cancel, opener=opener,
            )  # fmt: skip
        except _Retry as why:
            failures = 0 if state.have > before else failures + 1
            if failures >= max_failures:
                raise DownloadError(
                    f"The download of {name} failed {failures} times in a row ({why}). The {_gb(state.have)} "
                    f"already downloaded are kept and the next try resumes from there: check the network or the "
                    f"proxy, or try a mirror in Settings → Model hub.",
                    code="download_failed",
                    params={"name": name, "reason": str(why)[:200], "kept": _gb(state.have)},
                ) from why
            if failures:
                delay = min(BACKOFF_MAX_S, BACKOFF_FIRST_S * 2 ** (failures - 1))
                sleep(delay * random.uniform(0.8, 1.2))
    _finish(part, target, name=name, size=size, kind=kind, expected=expected, actual=state.hasher.hexdigest())
    return target


@dataclass
class _State:
    """Bytes in the ``.part`` file and their hash, kept in step by :func:`_attempt`."""

    have: int
    hasher: Hasher
    restarts: int = 0

    def restart(self, kind: str, size: int, name: str) -> None:
        """Start again from byte 0 (at most :data:`MAX_RESTARTS` times: a server that never lets a
        transfer finish must end in an error, not a loop)."""
        self.restarts += 1
        if self.restarts > MAX_RESTARTS:
            raise DownloadError(
                f"The hub made the download of {name} start again from the beginning {self.restarts} times "
                f"(it does not resume, or the file changes, or its size is not the one announced). Try again "
                f"later or another hub address.",
                code="download_failed",
                params={"name": name, "reason": "restarted too often", "kept": "0 MB"},
            )
        self.have, self.hasher = 0, Hasher(kind, size)


def _attempt(
    url: str,
    part: Path,
    state: _State,
    *,
    name: str,
    size: int,
    kind: str,
    client: Any,
    headers: dict[str, str],
    meter: SpeedMeter,
    attempt: int,
    on_progress: Callable[[TransferProgress], None] | None,
    cancel: threading.Event | None,
    opener: Callable[[Path, str], IO[bytes]],
) -> None:
    """One connection: GET from ``state.have`` and append to ``part`` until the end or an error."""
    import httpx2

    have = state.have
    request_headers = dict(headers)
    if have:
        request_headers["Range"] = f"bytes={have}-"
    try:
        with client.stream("GET", url, headers=request_headers) as response:
            status = response.status_code
            if status in (401, 403, 404):
                raise DownloadError(
                    f"The hub refused {name} (HTTP {status}). If the model is gated, accept its licence on the "
                    f"hub and save an access token for this hub in Settings → Model hub.",
                    code="download_refused",
                    params={"name": name, "status": status},
                )
            if status == 416 and have:
                # Our .part does not fit the file on the server (it changed): start again.
                part.unlink(missing_ok=True)
                state.restart(kind, size, name)
                raise _Retry("the server refused to resume; starting again")
            if status >= 400:
                raise _Retry(f"HTTP {status}")
            mode = "ab"
            if have and status == 206:
                start = _range_start(response.headers.get("Content-Range", ""))
                if start != have:
                    raise _Retry(f"the server resumed at byte {start}, not {have}")
            elif have:
                # 200 to a Range request: the server ignores Range, so the whole file comes again.
                state.restart(kind, size, name)
                mode = "wb"
            with opener(part, mode) as handle:
                sink = _Sink(handle, state)
                try:
                    received = state.have
                    # Pieces of READ_SIZE: large enough that the per-piece Python work is small next
                    # to the copying, small enough that a killed process loses little it had received.
                    for chunk in response.iter_bytes(READ_SIZE):
                        if cancel is not None and cancel.is_set():
                            raise DownloadCancelled(
                                f"The download of {name} was paused.", code="cancelled", params={"name": name}
                            )
                        if received + len(chunk) > size:
                            sink.close()
                            handle.close()
                            part.unlink(missing_ok=True)
                            raise DownloadError(
                                f"The hub sent more bytes for {name} than the {size} it announced; the file "
                                f"was removed. Try again later or another hub address.",
                                code="size_mismatch",
                                params={"name": name, "size": size},
                            )
                        if not sink.put(chunk):
                            break  # a write failed: raised below, after the thread has stopped
                        received += len(chunk)
                        if on_progress is not None:
                            speed = meter.add(received)
                            eta = (size - received) / speed if speed > 0 else None
                            on_progress(TransferProgress(name, received, size, speed, eta, attempt))
                finally:
                    failure = sink.close()
                if failure is not None:
                    raise _disk_error(failure, name, part, state.have) from failure
    except (httpx2.TransportError, httpx2.StreamError) as exc:
        lookup_error = _name_lookup_error(exc)
        if lookup_error is not None:
            # The network went away mid-download (or never was there): retrying cannot help.
            host = urlsplit(url).hostname or url
            raise DownloadError(
                f"The hub's address {host} cannot be resolved ({lookup_error}), so the download of {name} "
                f"cannot go on: this computer looks offline, or its name server blocks the hub. The "
                f"{_gb(state.have)} already downloaded are kept. Turn on offline mode in Settings → Model hub "
                f"to use only the models you have, or enter a mirror's address there.",
                code="hub_name_unresolved",
                params={"host": host, "what": f"the download of {name}", "reason": str(lookup_error)[:200]},
            ) from exc
        # A dropped connection, a stall past the read timeout, a proxy error, a short body.
        raise _Retry(f"{type(exc).__name__}: {exc}") from exc
    except _Retry:
        raise
    if state.have < size:
        raise _Retry(f"the connection ended after {state.have} of {size} bytes")


class _Sink:
    """Writes and hashes received pieces on a thread of its own, so that hashing and writing overlap
    with receiving (hashlib and file writes release the GIL), and starts the disk's write-back every
    :data:`SYNC_EVERY` bytes, so the final flush before the rename has little left to do.

    The queue holds at most :data:`QUEUE_PIECES` pieces: a killed process loses at most those.
    ``state`` (bytes on disk and their hash) is updated by the thread, piece by piece; after
    :meth:`close` it is exact.
    """

    def __init__(self, handle: IO[bytes], state: _State) -> None:
        self._handle = handle
        self._state = state
        self._queue: queue.Queue[bytes | None] = queue.Queue(QUEUE_PIECES)
        self._failure: OSError | None = None
        self._since_sync = 0
        self._thread = threading.Thread(target=self._run, name="download-writer", daemon=True)
        self._thread.start()

    def put(self, chunk: bytes) -> bool:
        """Hand over a piece (blocks while the queue is full); False once a write has failed (the
        disk is full, ...): nothing more is written, and :meth:`close` returns the error."""
        if self._failure is not None:
            return False
        self._queue.put(chunk)
        return True

    def close(self) -> OSError | None:
        """Write what is queued, stop the thread, flush; the write error if there was one."""
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()
        if self._failure is None:
            try:
                self._handle.flush()
            except OSError as exc:
                self._failure = exc
        return self._failure

    def _run(self) -> None:
        while True:
            chunk = self._queue.get()
            if chunk is None:
                return
            if self._failure is not None:
                continue  # drain: the main thread learns of the failure at its next put or close
            try:
                self._handle.write(chunk)
            except OSError as exc:
                self._failure = exc
                continue
            self._state.hasher.update(chunk)
            self._state.have += len(chunk)
            self._since_sync += len(chunk)
            if self._since_sync >= SYNC_EVERY:
                self._since_sync = 0
                _start_writeback(self._handle)


def _start_writeback(handle: IO[bytes]) -> None:
    """Ask the OS to write the file's dirty pages out now, without waiting (Linux); elsewhere nothing."""
    try:
        handle.flush()
        os.posix_fadvise(handle.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)  # type: ignore[attr-defined]
    except (AttributeError, OSError, ValueError):
        pass


def _name_lookup_error(exc: BaseException) -> socket.gaierror | None:
    """The failed host-name lookup behind a connection error, if that is what it was."""
    seen: BaseException | None = exc
    for _ in range(8):  # a chain of causes is short; a cycle must not loop
        if seen is None:
            return None
        if isinstance(seen, socket.gaierror):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def _range_start(content_range: str) -> int | None:
    # "bytes 100-199/200"
    try:
        unit, rest = content_range.split(" ", 1)
        return int(rest.split("-", 1)[0]) if unit == "bytes" else None
    except ValueError:
        return None


def _disk_error(exc: OSError, name: str, part: Path, have: int) -> DownloadError:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        return DownloadError(
            f"The disk is full: {name} stopped after {_gb(have)}. What was downloaded is kept in {part.name}; "
            f"free some space (or choose another models folder) and resume.",
            code="disk_full",
            params={"name": name, "kept": _gb(have), "part": str(part)},
        )
    return DownloadError(
        f"{name} could not be written to {part} ({exc.strerror or exc}). Check the models folder's permissions.",
        code="download_write_failed",
        params={"name": name, "path": str(part), "reason": str(exc.strerror or exc)},
    )


def _finish(part: Path, target: Path, *, name: str, size: int, kind: str, expected: str, actual: str) -> None:
    if actual != expected:
        part.unlink(missing_ok=True)
        raise DownloadError(
            f"Checksum mismatch: {name} is not the file the hub describes (its {kind} is {actual[:12]}…, the hub "
            f"says {expected[:12]}…). The damaged file was removed; download it again.",
            code="checksum_mismatch",
            params={"name": name, "expected": expected, "actual": actual},
        )
    on_disk = part.stat().st_size
    if on_disk != size:
        part.unlink(missing_ok=True)
        raise DownloadError(
            f"{name} has {on_disk} bytes, not the {size} the hub announced; it was removed.",
            code="size_mismatch",
            params={"name": name, "size": size},
        )
    fd = os.open(part, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(part, target)
