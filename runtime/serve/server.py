"""Running the server: the address checks, the socket, the host, uvicorn, and a clean stop.

Safe by default: 127.0.0.1 unless another address is asked for, and then only with an API key.
SIGINT and SIGTERM stop whatever the host decodes, close the connections and end the host.
"""

from __future__ import annotations

import ipaddress
import logging
import secrets
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

import uvicorn

from runtime.errors import ServeError
from runtime.serve.backend import HostBackend, LoadedModel

log = logging.getLogger("alpaca_desk.serve")

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080
#: How long open streams may take to end after Ctrl-C (they are cancelled at once; this is for
#: clients that do not read their last bytes).
SHUTDOWN_GRACE_S = 3


def new_api_key() -> str:
    """A fresh random key (256 bits, URL-safe), for the window's "new key" button."""
    return "ad-" + secrets.token_urlsafe(32)


def is_loopback(host: str) -> bool:
    """Whether ``host`` is reachable from this machine only."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class ServeConfig:
    """What ``alpaca-desk serve`` was asked for."""

    model: str
    template: str
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    api_key: str | None = None
    n_ctx: int = 2048
    threads: int | None = None
    cors_origins: tuple[str, ...] = field(default_factory=tuple)
    #: Speculative decoding for every answer (runtime.chat.speculative.MODES); "draft" needs ``draft``.
    speculative: str = "off"
    draft: str | None = None

    def check(self) -> None:
        """Refuse what is unsafe or impossible before anything starts."""
        if not is_loopback(self.host) and not self.api_key:
            raise ServeError(
                f"The server would listen on {self.host}, where other computers can reach it, without an API "
                "key. Give one with --api-key-file FILE (or --api-key KEY), or keep the default --host 127.0.0.1.",
                code="serve_key_required",
                params={"host": self.host},
            )
        if not 0 <= self.port <= 65535:
            raise ServeError(
                f"The port {self.port} is not in 0..65535; choose another with --port.",
                code="serve_bad_port",
                params={"port": self.port},
            )


def bind_socket(host: str, port: int) -> socket.socket:
    """Bind (not yet listen on) ``host:port``; port 0 takes a free one."""
    try:
        # An IP address is used as it is: no name lookup (the offline test counts each one).
        literal = ipaddress.ip_address(host.strip("[]"))
        family = socket.AF_INET6 if literal.version == 6 else socket.AF_INET
        address: tuple[Any, ...] = (str(literal), port)
    except ValueError:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
        except socket.gaierror as exc:
            raise ServeError(
                f"The address {host} is not one this computer has; give an IP address with --host.",
                code="serve_bad_address",
                params={"host": host},
            ) from exc
        family, _kind, _proto, _name, address = infos[0]
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError as exc:
        sock.close()
        raise ServeError(
            f"Cannot listen on {host}:{port} ({exc.strerror}); another program may use that port. "
            "Choose another with --port.",
            code="serve_port_busy",
            params={"host": host, "port": port},
        ) from exc
    sock.set_inheritable(False)
    return sock


def url_of(host: str, port: int) -> str:
    """The address a client uses (a wildcard address is shown as this machine's loopback)."""
    shown = host
    try:
        address = ipaddress.ip_address(host.strip("[]"))
        if address.is_unspecified:
            shown = "127.0.0.1" if address.version == 4 else "[::1]"
        elif address.version == 6:
            shown = f"[{address}]"
    except ValueError:
        pass
    return f"http://{shown}:{port}/v1"


def serve(
    config: ServeConfig,
    *,
    log_file: Path,
    on_listening: Callable[[str, LoadedModel], None],
    network_log: Callable[[str, str], None] | None = None,
) -> None:
    """Run the server until SIGINT or SIGTERM.

    Args:
        config: what to serve, where.
        log_file: the host's stderr.
        on_listening: called with the URL and the model once the socket accepts connections
            (the command line prints its banner).
        network_log: ``(event, url)`` for the network log ("listening", "closed").
    """
    from runtime.serve.app import create_app

    config.check()
    sock = bind_socket(config.host, config.port)
    backend = HostBackend(
        config.model,
        n_ctx=config.n_ctx,
        threads=config.threads,
        template=config.template,
        log_file=log_file,
        speculative=config.speculative,
        draft=config.draft,
    )
    try:
        model = backend.load()
        port = sock.getsockname()[1]
        app = create_app(backend, key=config.api_key, bound=config.host, port=port, cors_origins=config.cors_origins)
        settings = _uvicorn_config(app)
        url = url_of(config.host, port)
        server = _Server(settings, on_exit=backend.cancel_all, on_started=lambda: on_listening(url, model))
        if network_log is not None:
            network_log("listening", url)
        try:
            server.run(sockets=[sock])
        finally:
            if network_log is not None:
                network_log("closed", url)
    finally:
        sock.close()
        backend.close()


def _uvicorn_config(app: Any) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        log_config=None,  # the command line's logging; uvicorn's own would print client addresses
        access_log=False,  # runtime.serve.guard.AccessLog writes the one line per request
        lifespan="off",
        # Named, not "auto": the same pure-Python stack everywhere, frozen build included
        # (no probing for httptools, uvloop or websockets).
        http="h11",
        ws="none",
        loop="asyncio",
        timeout_graceful_shutdown=SHUTDOWN_GRACE_S,
        server_header=False,
    )


class BackgroundServer:
    """The server on a thread of this process, over a backend someone else owns (the window's).

    :meth:`start` and :meth:`stop` block (call them off a GUI thread); :meth:`stop` may be called
    from any thread. The backend's host is left as it is.

    Args:
        backend: usually :meth:`HostBackend.sharing`.
        host, port: where to listen (port 0: a free one); checked as ``alpaca-desk serve`` checks them.
        api_key: the key every request must bring (required off the loopback).
        network_log: ``(event, url)`` for the network log ("listening", "closed").
    """

    def __init__(
        self,
        backend: HostBackend,
        *,
        host: str = DEFAULT_HOST,
        port: int = DEFAULT_PORT,
        api_key: str | None = None,
        network_log: Callable[[str, str], None] | None = None,
    ) -> None:
        self.backend = backend
        self._config = ServeConfig(model="", template="", host=host, port=port, api_key=api_key)
        self._network_log = network_log
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.url = ""

    def check(self) -> None:
        """Refuse an unsafe address or a bad port before anything starts (quick; any thread).

        Raises:
            ServeError: ``serve_key_required`` or ``serve_bad_port``.
        """
        self._config.check()

    def start(self, timeout: float = 30.0) -> str:
        """Bind, listen, and return the URL once connections are accepted.

        Raises:
            ServeError: an unsafe address without a key, a bad port or address, a port in use.
        """
        from runtime.serve.app import create_app

        config = self._config
        config.check()
        sock = bind_socket(config.host, config.port)
        port = sock.getsockname()[1]
        app = create_app(self.backend, key=config.api_key, bound=config.host, port=port)
        started = threading.Event()
        server = _Server(_uvicorn_config(app), on_exit=self.backend.cancel_all, on_started=started.set)
        self._server = server
        self.url = url_of(config.host, port)

        def run() -> None:
            try:
                server.run(sockets=[sock])
            except BaseException:  # noqa: BLE001 - a thread's end is reported through `started`
                log.exception("the local server stopped with an error")
            finally:
                sock.close()
                started.set()
                if self._network_log is not None:
                    self._network_log("closed", self.url)

        if self._network_log is not None:
            self._network_log("listening", self.url)
        self._thread = threading.Thread(target=run, name="serve-http", daemon=True)
        self._thread.start()
        if not started.wait(timeout) or not server.started:
            self.stop()
            raise ServeError(
                f"The server on {self.url} did not start.",
                code="serve_port_busy",
                params={"host": config.host, "port": port},
            )
        return self.url

    def stop(self, timeout: float = 10.0) -> None:
        """Stop answering (running answers are cancelled), close the socket, wait for the thread."""
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        self.backend.cancel_all()
        server.should_exit = True
        thread.join(timeout)
        self._server = None
        self._thread = None
        self.backend.close()


class _Server(uvicorn.Server):
    """uvicorn's server with this program's signals: the first stops the host's work at once, and
    the server returns (uvicorn would raise the signal again after its shutdown, which ends the
    process before the host is ended)."""

    def __init__(self, config: uvicorn.Config, *, on_exit: Callable[[], None], on_started: Callable[[], None]) -> None:
        super().__init__(config)
        self._on_exit = on_exit
        self._on_started = on_started

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        super().handle_exit(sig, frame)
        self._captured_signals.clear()
        self._on_exit()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if self.started:
            self._on_started()
