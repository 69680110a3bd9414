"""Connecting to a real sshd: host keys (unknown, accepted, changed), keys and passphrases, bad addresses."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import pytest

from runtime.errors import RemoteError
from runtime.training.remote import (
    HostKeyUnknown,
    accept_host_key,
    add_host,
    connect,
    forget_host_key,
    known_hosts_file,
    load_hosts,
)
from runtime.training.remote.connection import host_with
from tests.sshd import Sshd, fingerprint, keygen, make_sshd

from .conftest import host_for, server_key


def test_unknown_host_key_is_refused_until_accepted(sshd: Sshd, remote_root: Path) -> None:
    host = host_for(sshd, remote_root)
    with pytest.raises(HostKeyUnknown) as refused:
        connect(host)
    # The fingerprint shown is the one ssh-keygen gives for the server's key, for the user to compare.
    assert refused.value.key.fingerprint == fingerprint(sshd.host_key.with_suffix(".pub"))
    assert refused.value.params["fingerprint"] in str(refused.value)
    assert refused.value.code == "ssh_host_key_unknown"
    assert not known_hosts_file().exists()  # never accepted on its own
    with pytest.raises(HostKeyUnknown):
        connect(host)  # still refused: refusing records nothing

    accept_host_key(host, refused.value.key)
    with connect(host) as conn:
        result = conn.run(["echo", "hello"])
    assert result.returncode == 0 and result.text == "hello\n"
    assert f"[127.0.0.1]:{sshd.port} ssh-ed25519 " in known_hosts_file().read_text()


def test_changed_host_key_is_refused(sshd: Sshd, remote_root: Path, tmp_path: Path) -> None:
    host = host_for(sshd, remote_root)
    accept_host_key(host, server_key(sshd))
    with connect(host) as conn:
        assert conn.run(["true"]).returncode == 0
    sshd.stop()
    # The same address and port, another host key: a reinstalled host, or someone in between.
    impostor = make_sshd(tmp_path / "impostor", client_key=sshd.client_key)
    impostor.port = sshd.port
    impostor.start()
    try:
        with pytest.raises(RemoteError) as refused:
            connect(host)
        assert refused.value.code == "ssh_host_key_changed"
        assert fingerprint(impostor.host_key.with_suffix(".pub")) in str(refused.value)
        with pytest.raises(RemoteError) as again:
            accept_host_key(host, server_key(impostor))  # a new key is not accepted over an old one
        assert again.value.code == "ssh_host_key_changed"
        assert forget_host_key(host)
        with pytest.raises(HostKeyUnknown):
            connect(host)
        accept_host_key(host, server_key(impostor))
        with connect(host) as conn:
            assert conn.run(["true"]).returncode == 0
    finally:
        impostor.stop()


def test_a_key_the_host_does_not_authorize_is_refused(trusted_host, sshd: Sshd, tmp_path: Path) -> None:
    stranger = keygen(tmp_path / "stranger")
    with pytest.raises(RemoteError) as refused:
        connect(host_with(trusted_host, key_file=str(stranger)))
    assert refused.value.code == "ssh_auth_failed"
    assert trusted_host.user in str(refused.value)


def test_missing_key_file(trusted_host, tmp_path: Path) -> None:
    with pytest.raises(RemoteError) as refused:
        connect(host_with(trusted_host, key_file=str(tmp_path / "no-such-key")))
    assert refused.value.code == "ssh_key_unreadable"
    assert "no-such-key" in str(refused.value)


def test_passphrase_is_asked_and_never_saved(tmp_path: Path, remote_root: Path) -> None:
    client_key = keygen(tmp_path / "locked_key", passphrase="羊驼 secret")
    server = make_sshd(tmp_path / "sshd-locked", client_key=client_key).start()
    try:
        host = host_for(server, remote_root)
        add_host(host)
        accept_host_key(host, server_key(server))
        with pytest.raises(RemoteError) as needed:
            connect(host)
        assert needed.value.code == "ssh_passphrase_needed"
        with pytest.raises(RemoteError) as wrong:
            connect(host, passphrase="wrong")
        assert wrong.value.code in ("ssh_passphrase_needed", "ssh_auth_failed", "ssh_key_unreadable")
        with connect(host, passphrase="羊驼 secret") as conn:
            assert conn.run(["true"]).returncode == 0
        config = known_hosts_file().parent
        for path in config.rglob("*"):
            if path.is_file():
                assert "secret" not in path.read_text(encoding="utf-8", errors="replace"), path
        assert load_hosts().hosts == [host]
    finally:
        server.stop()


def test_nothing_listening(trusted_host) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    with pytest.raises(RemoteError) as refused:
        connect(host_with(trusted_host, port=port), timeout=5)
    assert refused.value.code == "ssh_connect_failed"
    assert str(port) in str(refused.value)


def test_not_an_ssh_server(trusted_host) -> None:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    port = server.getsockname()[1]

    def answer_http() -> None:
        conn, _ = server.accept()
        conn.sendall(b"HTTP/1.1 400 Bad Request\r\n\r\n")
        conn.close()

    thread = threading.Thread(target=answer_http, daemon=True)
    thread.start()
    try:
        with pytest.raises(RemoteError) as refused:
            connect(host_with(trusted_host, port=port), timeout=5)
        assert refused.value.code == "ssh_connect_failed"
        assert "not an SSH server" in str(refused.value)
    finally:
        thread.join(10)
        server.close()
