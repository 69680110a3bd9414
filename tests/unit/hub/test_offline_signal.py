"""A hub name that does not resolve is said at once (issue 26: offline within 3 s, not after 40 s of retries).

The system's resolver is the one piece replaced here: a test must not ask a real name server, and a
laptop that loses its network is a resolver that starts failing. The HTTP server, the client and
the files are real.
"""

from __future__ import annotations

import socket
import threading
from pathlib import Path
from typing import Any

import pytest

from runtime.errors import DownloadError, HubError
from runtime.hub import client as client_module
from runtime.hub.client import HubConfig, http_client
from runtime.hub.download import download_files
from runtime.hub.manifest import expected_digest
from runtime.hub.transfer import transfer
from tests.fakehub import FakeHub, random_bytes

REPO = "hfl/chinese-alpaca-2-test-gguf"
NAME = "ggml-model-q4_k.gguf"
HOST = "hub.alpaca-desk.test"


class Resolver:
    """``socket.getaddrinfo`` for :data:`HOST`: 127.0.0.1 while online, "Name or service not known" when not."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self.online = True
        self.asked: list[str] = []

    def __call__(self, host: Any, *args: Any, **kwargs: Any) -> Any:
        if host != HOST:
            return self.real(host, *args, **kwargs)
        self.asked.append(host)
        if not self.online:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return self.real("127.0.0.1", *args, **kwargs)


@pytest.fixture
def resolver(monkeypatch: pytest.MonkeyPatch) -> Resolver:
    fake = Resolver(socket.getaddrinfo)
    monkeypatch.setattr(socket, "getaddrinfo", fake)
    return fake


def test_a_download_from_a_hub_whose_name_does_not_resolve_is_refused_at_once(
    resolver: Resolver, hub: FakeHub, models_dir: Path
) -> None:
    hub.add(REPO, NAME, random_bytes(1000, seed=1))
    resolver.online = False
    port = hub.url.rsplit(":", 1)[1]
    with pytest.raises(HubError) as refused:
        download_files(HubConfig(endpoint=f"http://{HOST}:{port}"), REPO, [], models_dir)
    error = refused.value
    assert error.code == "hub_name_unresolved" and error.params["host"] == HOST
    assert "offline mode" in str(error) and "mirror" in str(error) and "Name or service not known" in str(error)
    assert resolver.asked == [HOST], "one lookup, no retries"
    assert hub.requests == [] and list(models_dir.rglob("*")) == []


def test_a_lookup_that_never_answers_is_given_up_after_the_bound() -> None:
    answered = threading.Event()

    def silent(host: str, port: Any) -> None:
        answered.wait(60)  # a resolver whose server never answers (the system's retries take longer)

    try:
        with pytest.raises(HubError) as refused:
            HubConfig(endpoint=f"https://{HOST}").check_resolvable("the model list", lookup=silent)
    finally:
        answered.set()
    assert refused.value.code == "hub_name_unresolved"
    assert refused.value.params["reason"] == f"no answer within {client_module.NAME_LOOKUP_S:.0f} s"


def test_no_lookup_through_a_proxy_or_for_a_numeric_address() -> None:
    def unexpected(host: str, port: Any) -> None:
        raise AssertionError(f"{host} was looked up")

    HubConfig(endpoint=f"https://{HOST}", proxy="http://127.0.0.1:3128").check_resolvable("x", lookup=unexpected)
    HubConfig(endpoint="http://127.0.0.1:8080").check_resolvable("x", lookup=unexpected)
    HubConfig(endpoint="http://[::1]:8080").check_resolvable("x", lookup=unexpected)
    asked: list[str] = []
    HubConfig(endpoint=f"https://{HOST}").check_resolvable("x", lookup=lambda host, port: asked.append(host))
    assert asked == [HOST], "a name is looked up"


def test_a_download_that_loses_the_network_keeps_its_bytes_and_resumes(
    resolver: Resolver, hub: FakeHub, tmp_path: Path
) -> None:
    data = random_bytes(3 * 1024 * 1024, seed=2)
    file = hub.add(REPO, NAME, data)
    target = tmp_path / "out" / NAME
    target.parent.mkdir()
    part = target.with_name(NAME + ".part")
    part.write_bytes(data[:1_000_000])  # an earlier run got this far
    port = hub.url.rsplit(":", 1)[1]
    url = f"http://{HOST}:{port}/{REPO}/resolve/main/{NAME}"
    waits: list[float] = []
    kwargs: dict[str, Any] = {
        "name": NAME,
        "size": file.size,
        "digest": expected_digest(file.sha256),
        "sleep": waits.append,
    }
    resolver.online = False
    with http_client(HubConfig()) as client, pytest.raises(DownloadError) as stopped:
        transfer(url, target, client=client, **kwargs)
    assert stopped.value.code == "hub_name_unresolved" and "offline mode" in str(stopped.value)
    assert waits == [], "no retry waits for a name that does not resolve"
    assert part.stat().st_size == 1_000_000 and not target.exists()
    resolver.online = True
    with http_client(HubConfig()) as client:
        transfer(url, target, client=client, **kwargs)
    assert target.read_bytes() == data
    assert hub.served_bytes(REPO, NAME) == len(data) - 1_000_000
