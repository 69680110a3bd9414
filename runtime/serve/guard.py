"""The server's gates, as ASGI middleware around the endpoints, outermost first:

1. :class:`AccessLog`: one line per request: method, path, status, token counts, seconds. Never a
   prompt, an answer, a query string or a key.
2. :class:`HostGuard`: the ``Host`` header must name this server (``127.0.0.1:PORT``,
   ``localhost:PORT`` or the bound address), else 403. A web page that rebinds its own DNS name to
   127.0.0.1 sends its own name, so it cannot reach the model through the visitor's browser.
3. CORS (Starlette's middleware, set up in :mod:`runtime.serve.app`): headers only for the
   origins the user allowed.
4. :class:`KeyGuard`: with a key set, ``Authorization: Bearer KEY`` or 401, compared in
   constant time.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import logging
import time
from collections.abc import Iterable
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from runtime.serve.requests import ApiError

log = logging.getLogger("alpaca_desk.serve")


async def send_error(send: Send, error: ApiError, headers: Iterable[tuple[bytes, bytes]] = ()) -> None:
    """Answer with an OpenAI error object (from middleware, below the endpoints)."""
    body = json.dumps(error.body()).encode("utf-8")
    await send(
        {
            "type": "http.response.start",
            "status": error.status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def allowed_hosts(bound: str, port: int) -> frozenset[str]:
    """The ``Host`` header values this server answers (lowercase)."""
    names = {"127.0.0.1", "localhost", "[::1]", _host_literal(bound)}
    hosts = {f"{name}:{port}" for name in names}
    if port == 80:
        hosts |= names  # a client leaves the default port out
    return frozenset(hosts)


def _host_literal(address: str) -> str:
    return f"[{address}]" if ":" in address and not address.startswith("[") else address.lower()


def is_wildcard(address: str) -> bool:
    """Whether ``address`` listens on every interface (0.0.0.0, ::)."""
    try:
        return ipaddress.ip_address(address.strip("[]")).is_unspecified
    except ValueError:
        return False


class HostGuard:
    """403 unless the ``Host`` header names this server.

    On a wildcard address (``--host 0.0.0.0``) any IP literal with the right port is accepted as
    well: the machine's addresses are not known in advance, and an IP literal cannot be rebound
    to another machine the way a DNS name can (a key is required there anyway).
    """

    def __init__(self, app: ASGIApp, *, bound: str, port: int) -> None:
        self.app = app
        self.port = port
        self.hosts = allowed_hosts(bound, port)
        self.wildcard = is_wildcard(bound)

    def _allowed(self, host: str) -> bool:
        host = host.strip().lower()
        if host in self.hosts:
            return True
        if not self.wildcard:
            return False
        name, _, port = host.rpartition(":")
        try:
            ipaddress.ip_address(name.strip("[]"))
        except ValueError:
            return False
        return port == str(self.port)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        host = dict(scope["headers"]).get(b"host", b"").decode("latin-1")
        if not self._allowed(host):
            await send_error(
                send,
                ApiError(
                    403,
                    "host_not_allowed",
                    "The Host header does not name this server; use http://127.0.0.1:PORT or http://localhost:PORT.",
                    type="permission_error",
                ),
            )
            return
        await self.app(scope, receive, send)


class KeyGuard:
    """401 unless ``Authorization: Bearer KEY`` carries the key (when one is set)."""

    def __init__(self, app: ASGIApp, *, key: str | None) -> None:
        self.app = app
        self.key = key.encode("utf-8") if key else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.key is None:
            await self.app(scope, receive, send)
            return
        header = dict(scope["headers"]).get(b"authorization", b"")
        scheme, _, given = header.partition(b" ")
        # compare_digest on bytes takes the same time wherever the first difference is.
        if scheme.lower() == b"bearer" and hmac.compare_digest(given.strip(), self.key):
            await self.app(scope, receive, send)
            return
        await send_error(
            send,
            ApiError(
                401,
                "invalid_api_key",
                "This server needs its API key: send 'Authorization: Bearer KEY'.",
                type="authentication_error",
            ),
            headers=[(b"www-authenticate", b"Bearer")],
        )


class AccessLog:
    """Logs one line per request; endpoints put token counts in ``scope["state"]["usage"]``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status: list[int] = []
        state: dict[str, Any] = scope.setdefault("state", {})

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                status.append(int(message["status"]))
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            usage = state.get("usage") or {}
            counts = " ".join(f"{k}={v}" for k, v in usage.items())
            log.info(
                "%s %s %s %s%.3fs",
                scope.get("method", "-"),
                scope.get("path", "-"),
                status[0] if status else "-",
                f"{counts} " if counts else "",
                time.perf_counter() - started,
            )
