"""A small Hugging Face hub for tests and benchmarks: a real HTTP server on 127.0.0.1, random port.

It answers the requests ``huggingface_hub`` (and the app's downloader) makes:

- ``GET /api/models/ORG/NAME[/revision/REV]``: model info (``sha``, ``siblings``)
- ``GET /api/models/ORG/NAME/tree/REV[/PATH]``: the file list with sizes, blob ids and LFS SHA-256
- ``GET /api/models?search=...&filter=gguf``: a search
- ``HEAD|GET /ORG/NAME/resolve/REV/PATH``: the file, with ``ETag``, ``X-Repo-Commit``,
  ``X-Linked-Etag``, ``X-Linked-Size``, ``Content-Length``, ``Accept-Ranges`` and ``206`` answers
  to ``Range``; or a ``302`` to another :class:`FakeHub` (a CDN on another origin) when ``cdn`` is set

and has fault switches (:class:`Faults`): drop the connection after N bytes of each answer,
ignore Range, flip a byte, stall, announce a wrong length, leave out the checksum headers, serve
slowly. :meth:`FakeHub.allow` holds file content back until the test lets more through, so that a
download is still running at a given step however slow the machine is. It counts the bytes of file
content it sent and records every request with its headers and the bytes sent in answer to it.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

COMMIT = "0123456789abcdef0123456789abcdef01234567"


@dataclass
class Faults:
    """What goes wrong, for every answer while set (tests switch them on and off)."""

    drop_after: int = 0  # close the connection after this many body bytes of each GET (0: never)
    ignore_range: bool = False  # answer 200 with the whole file to a Range request
    flip_byte: int | None = None  # serve this offset with its bits inverted
    stall_after: int | None = None  # stop sending for stall_seconds after this many body bytes
    stall_seconds: float = 0.0
    wrong_length: int = 0  # announce the size as this many bytes more than it is
    missing_headers: bool = False  # no ETag, X-Linked-Etag, X-Repo-Commit
    rate: int = 0  # bytes per second per answer (0: as fast as possible)
    status: int = 0  # answer every file request with this status (0: normally)
    tree_page: int = 0  # the file list in pages of this many entries, joined by Link rel="next" (0: one page)
    # A file list that never ends: pages of folders only, each with a Link rel="next" to the same
    # address ("same") or to a new cursor ("new"); "" for the real list.
    tree_endless: str = ""
    tree_body: bytes | None = None  # answer every file list with these bytes (a broken or hostile answer)


@dataclass
class FakeFile:
    """A file of a repository: content from ``read(offset, length)``, with its hashes."""

    size: int
    sha256: str
    blob_id: str
    read: Callable[[int, int], bytes]
    lfs: bool = True

    @classmethod
    def from_bytes(cls, data: bytes, *, lfs: bool = True) -> FakeFile:
        """A file holding ``data``."""
        blob = hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()
        return cls(len(data), hashlib.sha256(data).hexdigest(), blob, lambda o, n: data[o : o + n], lfs)

    @classmethod
    def from_path(cls, path: Path) -> FakeFile:
        """A file served from disk (large benchmark files)."""
        sha = hashlib.sha256()
        with path.open("rb") as handle:
            while chunk := handle.read(1 << 20):
                sha.update(chunk)

        handle = path.open("rb")
        lock = threading.Lock()

        def read(offset: int, length: int) -> bytes:
            # One open file for every answer (no open per piece); pread where there is one.
            if hasattr(os, "pread"):
                return os.pread(handle.fileno(), length, offset)
            with lock:
                handle.seek(offset)
                return handle.read(length)

        return cls(path.stat().st_size, sha.hexdigest(), "0" * 40, read)


def random_bytes(size: int, seed: int = 0) -> bytes:
    """``size`` reproducible pseudo-random bytes (incompressible, like model weights)."""
    return random.Random(seed).randbytes(size)


@dataclass
class Request:
    """One request the hub received."""

    method: str
    path: str
    headers: dict[str, str]  # names in lower case
    served: int = 0  # bytes of file content sent in answer to it
    finished: bool = False  # the server is done with it (answered, or the connection dropped)


@dataclass
class FakeHub:
    """The server. ``with FakeHub() as hub: hub.add(...); hub.url ...``."""

    repos: dict[str, dict[str, FakeFile]] = field(default_factory=dict)
    faults: Faults = field(default_factory=Faults)
    cdn: FakeHub | None = None
    requests: list[Request] = field(default_factory=list)
    served: dict[str, int] = field(default_factory=dict)
    extra_listing: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._allowance: int | None = None  # bytes of file content still to send; None: no limit
        self._allowance_changed = threading.Condition(self._lock)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- content -----------------------------------------------------------------------------------

    def add(self, repo: str, name: str, data: bytes | FakeFile, *, lfs: bool = True) -> FakeFile:
        """Put a file in ``repo`` (the CDN, if any, gets it too)."""
        file = data if isinstance(data, FakeFile) else FakeFile.from_bytes(data, lfs=lfs)
        self.repos.setdefault(repo, {})[name] = file
        if self.cdn is not None:
            self.cdn.repos.setdefault(repo, {})[name] = file
        return file

    def file_gets(self, repo: str, name: str) -> list[Request]:
        """The GET requests of ``name``'s content so far, oldest first (this server's, then its CDN's).

        Each carries its headers (``range`` when it resumed), the bytes sent in answer to it
        (``served``) and whether the server is done with it (``finished``).
        """
        with self._lock:
            own = [r for r in self.requests if r.method == "GET" and _file_of(r.path) == (repo, name)]
        return own + (self.cdn.file_gets(repo, name) if self.cdn is not None else [])

    def allow(self, count: int | None) -> None:
        """Send ``count`` more bytes of file content (all answers together), then hold every answer
        until more are allowed; None sends everything (the start, and what :meth:`stop` does).
        Held answers only wait: the connections stay open."""
        with self._lock:
            self._allowance = count
            self._allowance_changed.notify_all()

    def _take(self, want: int) -> tuple[int, bool]:
        """How much of a ``want``-byte piece may go now, and whether it had to wait for it (it waits
        while nothing is allowed)."""
        waited = False
        with self._lock:
            while self._allowance is not None and self._allowance <= 0:
                waited = True
                self._allowance_changed.wait()
            if self._allowance is None:
                return want, waited
            count = min(want, self._allowance)
            self._allowance -= count
            return count, waited

    def served_bytes(self, repo: str, name: str) -> int:
        """Bytes of ``name``'s content sent so far (by this server and its CDN)."""
        key = f"{repo}/{name}"
        own = self.served.get(key, 0)
        return own + (self.cdn.served_bytes(repo, name) if self.cdn is not None else 0)

    # -- the server --------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> FakeHub:
        """Listen on a random port, in a thread."""
        hub = self

        class Handler(_Handler):
            server_hub = hub

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="fakehub", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening (held answers are let go)."""
        self.allow(None)
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeHub:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def _record(self, request: Request) -> None:
        with self._lock:
            self.requests.append(request)

    def _count(self, key: str, n: int, request: Request) -> None:
        with self._lock:
            self.served[key] = self.served.get(key, 0) + n
            request.served += n

    def _finish(self, request: Request) -> None:
        with self._lock:
            request.finished = True


def _file_of(path: str) -> tuple[str, str] | None:
    """(repo, file name) of a file request's path (``resolve`` or the CDN's), else None."""
    path = unquote(urlsplit(path).path)
    match = _RESOLVE.match(path) or _CDN.match(path)
    return (match["repo"], match["path"]) if match else None


_RESOLVE = re.compile(r"^/(?P<repo>[^/]+/[^/]+)/resolve/(?P<rev>[^/]+)/(?P<path>.+)$")
_CDN = re.compile(r"^/cdn/(?P<repo>[^/]+/[^/]+)/(?P<path>.+)$")
_TREE = re.compile(r"^/api/models/(?P<repo>[^/]+/[^/]+)/tree/(?P<rev>[^/]+)(?:/(?P<path>.*))?$")
_INFO = re.compile(r"^/api/models/(?P<repo>[^/]+/[^/]+)(?:/revision/(?P<rev>[^/]+))?$")


class _Handler(BaseHTTPRequestHandler):
    server_hub: FakeHub
    _request: Request  # the one being answered
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - BaseHTTPRequestHandler's name
        pass  # quiet

    def do_HEAD(self) -> None:  # noqa: N802 - http.server's naming
        self._handle(head=True)

    def do_GET(self) -> None:  # noqa: N802
        self._handle(head=False)

    # -- dispatch ----------------------------------------------------------------------------------

    def _handle(self, *, head: bool) -> None:
        hub = self.server_hub
        parts = urlsplit(self.path)
        path = unquote(parts.path)
        request = Request(self.command, self.path, {k.lower(): v for k, v in self.headers.items()})
        self._request = request
        hub._record(request)
        try:
            if match := _RESOLVE.match(path):
                self._file(match["repo"], match["path"], head=head, redirect=True)
            elif match := _CDN.match(path):
                self._file(match["repo"], match["path"], head=head, redirect=False)
            elif match := _TREE.match(path):
                self._tree(match["repo"], parse_qs(parts.query))
            elif path == "/api/models":
                self._search(parse_qs(parts.query))
            elif match := _INFO.match(path):
                self._info(match["repo"])
            else:
                self._json(404, {"error": "not found"})
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        finally:
            hub._finish(request)

    def _json(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        if status == 404:
            self.send_header("X-Error-Code", "RepoNotFound")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _repo(self, repo: str) -> dict[str, FakeFile] | None:
        files = self.server_hub.repos.get(repo)
        if files is None:
            self._json(404, {"error": "Repository not found"})
        return files

    def _info(self, repo: str) -> None:
        files = self._repo(repo)
        if files is not None:
            siblings = [{"rfilename": name} for name in files]
            self._json(200, {"id": repo, "modelId": repo, "sha": COMMIT, "private": False, "tags": ["gguf"],
                             "siblings": siblings})  # fmt: skip

    def _tree(self, repo: str, query: dict[str, list[str]]) -> None:
        files = self._repo(repo)
        if files is None:
            return
        faults = self.server_hub.faults
        if faults.tree_body is not None:
            self._raw(200, faults.tree_body)
            return
        cursor = int((query.get("cursor") or ["0"])[0])
        if faults.tree_endless:
            folders = [{"type": "directory", "oid": f"{cursor:040x}", "path": f"d{cursor}/{i}"} for i in range(100)]
            target = self.path if faults.tree_endless == "same" else f"{urlsplit(self.path).path}?cursor={cursor + 1}"
            self._json(200, folders, {"Link": f'<{self.server_hub.url}{target}>; rel="next"'})
            return
        listing = []
        for name, file in files.items():
            item: dict[str, Any] = {"type": "file", "oid": file.blob_id, "size": file.size, "path": name}
            if file.lfs:
                item["lfs"] = {"oid": file.sha256, "size": file.size, "pointerSize": 134}
            listing.append(item)
        listing += self.server_hub.extra_listing.get(repo, [])
        if not faults.tree_page:
            self._json(200, listing)
            return
        page = listing[cursor : cursor + faults.tree_page]
        headers = {}
        if cursor + faults.tree_page < len(listing):
            after = cursor + faults.tree_page
            headers["Link"] = f'<{self.server_hub.url}{urlsplit(self.path).path}?cursor={after}>; rel="next"'
        self._json(200, page, headers)

    def _raw(self, status: int, data: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _search(self, query: dict[str, list[str]]) -> None:
        text = (query.get("search") or [""])[0].lower()
        repos = self.server_hub.repos
        found = [{"id": repo, "modelId": repo, "tags": ["gguf"]} for repo in repos if text in repo.lower()]
        self._json(200, found)

    # -- files -------------------------------------------------------------------------------------

    def _file(self, repo: str, name: str, *, head: bool, redirect: bool) -> None:
        hub = self.server_hub
        faults = hub.faults
        files = self._repo(repo)
        if files is None:
            return
        file = files.get(name)
        if file is None:
            self._json(404, {"error": "Entry not found"}, {"X-Error-Code": "EntryNotFound"})
            return
        if faults.status:
            self._json(faults.status, {"error": "fault"})
            return
        announced = file.size + faults.wrong_length
        etag = file.sha256 if file.lfs else file.blob_id
        common = {} if faults.missing_headers else {"X-Repo-Commit": COMMIT, "ETag": f'"{etag}"'}
        if file.lfs and not faults.missing_headers:
            common["X-Linked-Etag"] = f'"{etag}"'
            common["X-Linked-Size"] = str(announced)
        if redirect and hub.cdn is not None:
            self.send_response(302)
            self.send_header("Location", f"{hub.cdn.url}/cdn/{repo}/{name}")
            self.send_header("Content-Length", "0")
            for key, value in common.items():
                self.send_header(key, value)
            self.end_headers()
            return
        start = 0
        range_header = self.headers.get("Range")
        if range_header and not faults.ignore_range:
            match = re.match(r"bytes=(\d+)-$", range_header.strip())
            if match:
                start = int(match.group(1))
                if start >= file.size:
                    self.send_response(416)
                    self.send_header("Content-Range", f"bytes */{file.size}")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
        length = file.size - start
        self.send_response(206 if start else 200)
        for key, value in common.items():
            self.send_header(key, value)
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Length", str(length + (faults.wrong_length if not start else 0)))
        if start:
            self.send_header("Content-Range", f"bytes {start}-{file.size - 1}/{file.size}")
        self.end_headers()
        if head:
            return
        self._send_body(f"{repo}/{name}", file, start)

    def _send_body(self, key: str, file: FakeFile, start: int) -> None:
        hub = self.server_hub
        faults = hub.faults
        sent = 0
        offset = start
        # Small pieces when a fault needs precise byte counts or pacing, large ones otherwise.
        plain = not (faults.drop_after or faults.rate or faults.stall_after is not None)
        chunk_size = 1024 * 1024 if plain else 64 * 1024
        began, paced = time.monotonic(), 0  # the pace is kept from here, over these bytes
        stalled = False
        while offset < file.size:
            limit = chunk_size
            if faults.drop_after:
                limit = min(limit, faults.drop_after - sent)
                if limit <= 0:
                    self._drop()
                    return
            if faults.stall_after is not None and not stalled and sent >= faults.stall_after:
                stalled = True
                time.sleep(faults.stall_seconds)
            count, held = hub._take(min(limit, file.size - offset))
            if held:  # the pace starts again after a hold, rather than catching up at once
                began, paced = time.monotonic(), 0
            data = file.read(offset, count)
            if faults.flip_byte is not None and offset <= faults.flip_byte < offset + len(data):
                index = faults.flip_byte - offset
                data = data[:index] + bytes([data[index] ^ 0xFF]) + data[index + 1 :]
            self.wfile.write(data)
            hub._count(key, len(data), self._request)
            sent += len(data)
            paced += len(data)
            offset += len(data)
            if faults.rate:
                ahead = paced / faults.rate - (time.monotonic() - began)
                if ahead > 0:
                    time.sleep(ahead)
        if faults.wrong_length and start == 0:
            self._drop()

    def _drop(self) -> None:
        self.wfile.flush()
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def main() -> None:
    """``python -m tests.fakehub REPO NAME=PATH ...``: serve files until stdin closes (benchmarks).

    Prints the server's URL as the first line on stdout.
    """
    import sys

    repo, *specs = sys.argv[1:]
    with FakeHub() as hub:
        for spec in specs:
            name, path = spec.split("=", 1)
            hub.add(repo, name, FakeFile.from_path(Path(path)))
        sys.stdout.write(hub.url + "\n")
        sys.stdout.flush()
        sys.stdin.read()


if __name__ == "__main__":
    main()
