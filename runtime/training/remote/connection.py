"""One SSH connection to a saved host, its host key checked against the app's own known-hosts file.

Why paramiko and not asyncssh: everything that waits in this app runs in a worker thread (the
GUI's ``run_task``, a job's reader thread) and paramiko's API is plain blocking calls, SFTP with a
per-chunk progress callback included; asyncssh would need an event loop run in each of those
threads. Both check host keys the same way; paramiko's SSHClient does it before authenticating, so
no key or user name is offered to a host whose key is unknown or changed.

Host keys live in ``known_hosts`` in the config folder (OpenSSH's format, never the user's
``~/.ssh/known_hosts``, which the app does not write). An unknown key is refused with
:class:`HostKeyUnknown`, which carries the key and its SHA256 fingerprint for the user to compare;
only :func:`accept_host_key`, called on the user's word, records it. A key that differs from the
recorded one is refused (``ssh_host_key_changed``) until the user forgets the old one.

Commands run on the host are argv lists, each word quoted with :func:`shlex.quote`, so nothing in
them is parsed by the remote shell.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import shlex
import socket
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import paramiko

from runtime.errors import RemoteError
from runtime.paths import app_paths, write_atomic
from runtime.training.remote.hosts import Host

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 15.0
#: Seconds a command may take before it counts as hanging (host tests, agent start, status, stop).
COMMAND_TIMEOUT_S = 60.0
#: The most output read from one command (it is decoded and parsed whole).
MAX_COMMAND_OUTPUT = 1024 * 1024
MAX_KNOWN_HOSTS_BYTES = 4 * 1024 * 1024
#: How long the transport waits without traffic before it calls the connection lost.
KEEPALIVE_S = 15


@dataclass(frozen=True)
class HostKey:
    """A host's public key: ``key_type`` (ssh-ed25519, ...), base64 body, SHA256 fingerprint."""

    key_type: str
    key_base64: str
    fingerprint: str


class HostKeyUnknown(RemoteError):
    """The host's key is not in the app's known-hosts file: the user must compare and accept it.

    Attributes:
        key: The key the host presented (record it with :func:`accept_host_key`).
    """

    def __init__(self, host: Host, key: HostKey) -> None:
        super().__init__(
            f"The host key of {host.name} ({host.address}:{host.port}) is not known yet. Its fingerprint is "
            f"{key.fingerprint} ({key.key_type}). Compare it with the one the host's administrator gives "
            "(ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub on the host) and accept it only if they match.",
            code="ssh_host_key_unknown",
            params={"name": host.name, "address": host.address, "port": host.port, "fingerprint": key.fingerprint},
        )
        self.key = key


def known_hosts_file() -> Path:
    """The app's own known-hosts file (config folder)."""
    return app_paths().config / "known_hosts"


def _key_of(pkey: paramiko.PKey) -> HostKey:
    return HostKey(pkey.get_name(), pkey.get_base64(), pkey.fingerprint)


def _load_known_hosts(path: Path) -> paramiko.HostKeys:
    keys = paramiko.HostKeys()
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return keys
    if size > MAX_KNOWN_HOSTS_BYTES:
        raise RemoteError(
            f"The known-hosts file {path} is larger than {MAX_KNOWN_HOSTS_BYTES // (1024 * 1024)} MiB; "
            "it is not one the app wrote. Move it away and accept the host keys again.",
            code="known_hosts_bad",
            params={"path": str(path)},
        )
    # paramiko skips lines it cannot read (a damaged line costs that entry, never the file).
    keys.load(str(path))
    return keys


def _save_known_hosts(keys: paramiko.HostKeys, path: Path) -> None:
    lines = []
    for name in keys:
        for key_type, key in keys[name].items():
            lines.append(f"{name} {key_type} {key.get_base64()}\n")
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, "".join(lines).encode("ascii"))


def accept_host_key(host: Host, key: HostKey, *, known_hosts: Path | None = None) -> None:
    """Record ``key`` as ``host``'s key: call it only when the user has compared and accepted it.

    Raises:
        RemoteError: The key cannot be read, or the host already has a different key recorded
            (forget that one first: :func:`forget_host_key`).
    """
    path = known_hosts or known_hosts_file()
    keys = _load_known_hosts(path)
    try:
        pkey = paramiko.PKey.from_type_string(key.key_type, _b64decode(key.key_base64))
    except (ValueError, paramiko.SSHException) as exc:
        raise RemoteError(
            f"The host key to accept for {host.name} cannot be read: {exc}.",
            code="ssh_host_key_bad",
            params={"name": host.name},
        ) from exc
    if pkey.fingerprint != key.fingerprint:
        raise RemoteError(
            f"The host key to accept for {host.name} does not match its fingerprint {key.fingerprint}.",
            code="ssh_host_key_bad",
            params={"name": host.name},
        )
    known = keys.lookup(host.known_hosts_name)
    if known and any(other.get_base64() != key.key_base64 for other in known.values()):
        raise _changed(host, key.fingerprint, next(iter(known.values())).fingerprint)
    keys.add(host.known_hosts_name, pkey.get_name(), pkey)
    _save_known_hosts(keys, path)


def forget_host_key(host: Host, *, known_hosts: Path | None = None) -> bool:
    """Remove every recorded key of ``host`` (after it was reinstalled); True when one was there."""
    path = known_hosts or known_hosts_file()
    keys = _load_known_hosts(path)
    if keys.lookup(host.known_hosts_name) is None:
        return False
    kept = paramiko.HostKeys()
    for name in keys:
        if name == host.known_hosts_name:
            continue
        for key_type, key in keys[name].items():
            kept.add(name, key_type, key)
    _save_known_hosts(kept, path)
    return True


def _b64decode(text: str) -> bytes:
    import base64

    return base64.b64decode(text.encode("ascii"), validate=True)


def _changed(host: Host, fingerprint: str, known: str) -> RemoteError:
    return RemoteError(
        f"The host key of {host.name} ({host.address}:{host.port}) has changed: it is now {fingerprint}, "
        f"the recorded one is {known}. Someone may be intercepting the connection, or the host was "
        f"reinstalled. Nothing was sent. If the administrator confirms the new key, forget the old one "
        f"(alpaca-desk hosts forget-key {host.name}) and accept the new one.",
        code="ssh_host_key_changed",
        params={"name": host.name, "address": host.address, "port": host.port, "fingerprint": fingerprint},
    )


class _RefuseUnknown(paramiko.MissingHostKeyPolicy):
    """Refuse a host whose key is not recorded, keeping the key for the user to compare."""

    def __init__(self, host: Host) -> None:
        self.host = host

    def missing_host_key(self, client: paramiko.SSHClient, hostname: str, key: paramiko.PKey) -> None:
        raise HostKeyUnknown(self.host, _key_of(key))


@dataclass(frozen=True)
class CommandResult:
    """A finished command: exit status (None: it ended without one), output (cut at the limit)."""

    returncode: int | None
    stdout: bytes
    stderr: bytes

    @property
    def text(self) -> str:
        """stdout as text."""
        return self.stdout.decode("utf-8", errors="replace")

    @property
    def error_text(self) -> str:
        """The last lines of stderr as text."""
        return "\n".join(self.stderr.decode("utf-8", errors="replace").strip().splitlines()[-5:])


def lost(host: Host, action: str, exc: BaseException) -> RemoteError:
    """The error for a connection that broke while ``action`` (e.g. "uploading the job")."""
    return RemoteError(
        f"The connection to {host.name} ({host.address}) was lost while {action}: {exc or type(exc).__name__}.",
        code="ssh_connection_lost",
        params={"name": host.name, "action": action},
    )


#: What breaks when a connection drops in the middle of something.
CONNECTION_ERRORS: tuple[type[BaseException], ...] = (paramiko.SSHException, EOFError, OSError)


class Connection:
    """An authenticated SSH connection to ``host``; use it as a context manager or call :meth:`close`."""

    def __init__(self, host: Host, client: paramiko.SSHClient) -> None:
        self.host = host
        self._client = client
        self._sftp: paramiko.SFTPClient | None = None

    def __enter__(self) -> Connection:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the SFTP session and the connection."""
        if self._sftp is not None:
            try:
                self._sftp.close()
            except CONNECTION_ERRORS:
                pass
            self._sftp = None
        self._client.close()

    @property
    def alive(self) -> bool:
        """Whether the transport still runs."""
        transport = self._client.get_transport()
        return transport is not None and transport.is_active()

    @property
    def sftp(self) -> paramiko.SFTPClient:
        """The connection's SFTP session (opened on first use)."""
        if self._sftp is None:
            try:
                self._sftp = self._client.open_sftp()
                channel = self._sftp.get_channel()
                if channel is not None:
                    channel.settimeout(COMMAND_TIMEOUT_S)
            except CONNECTION_ERRORS as exc:
                raise lost(self.host, "opening SFTP", exc) from exc
        return self._sftp

    def drop(self) -> None:
        """Close the transport abruptly (tests and the GUI's "disconnect")."""
        transport = self._client.get_transport()
        if transport is not None:
            transport.close()

    def run(
        self,
        argv: Sequence[str],
        *,
        stdin: bytes | None = None,
        timeout: float = COMMAND_TIMEOUT_S,
        action: str = "running a command",
    ) -> CommandResult:
        """Run one command on the host; each word of ``argv`` reaches it as one word (quoted).

        Raises:
            RemoteError: The connection broke or the command took longer than ``timeout``.
        """
        command = shlex.join(argv)
        try:
            transport = self._client.get_transport()
            if transport is None:
                raise EOFError("the connection is closed")
            channel = transport.open_session(timeout=timeout)
            channel.settimeout(timeout)
            channel.exec_command(command)
            if stdin is not None:
                channel.sendall(stdin)
            channel.shutdown_write()
            stdout, stderr = _read_bounded(channel, time.monotonic() + timeout)
            status = channel.recv_exit_status()  # -1: the channel closed without one
            channel.close()
            if status < 0 and not self.alive:
                raise EOFError("the connection closed before the command ended")
        except TimeoutError as exc:
            raise RemoteError(
                f"{self.host.name} did not finish {action} within {timeout:.0f} s.",
                code="ssh_command_timeout",
                params={"name": self.host.name, "action": action, "seconds": int(timeout)},
            ) from exc
        except CONNECTION_ERRORS as exc:
            raise lost(self.host, action, exc) from exc
        return CommandResult(status if status >= 0 else None, stdout, stderr)

    def home(self) -> str:
        """The login folder's absolute path on the host."""
        try:
            return self.sftp.normalize(".")
        except CONNECTION_ERRORS as exc:
            raise lost(self.host, "reading the login folder", exc) from exc


def _read_bounded(channel: paramiko.Channel, deadline: float) -> tuple[bytes, bytes]:
    out = bytearray()
    err = bytearray()
    while True:
        got = False
        if channel.recv_ready():
            chunk = channel.recv(65536)
            if len(out) < MAX_COMMAND_OUTPUT:
                out += chunk[: MAX_COMMAND_OUTPUT - len(out)]
            got = True
        if channel.recv_stderr_ready():
            chunk = channel.recv_stderr(65536)
            if len(err) < MAX_COMMAND_OUTPUT:
                err += chunk[: MAX_COMMAND_OUTPUT - len(err)]
            got = True
        if not got:
            pending = channel.recv_ready() or channel.recv_stderr_ready()
            if not pending and (channel.closed or (channel.exit_status_ready() and channel.eof_received)):
                break
            if time.monotonic() > deadline:
                raise TimeoutError("command timed out")
            time.sleep(0.01)
    return bytes(out), bytes(err)


def connect(
    host: Host,
    *,
    passphrase: str | None = None,
    known_hosts: Path | None = None,
    timeout: float = CONNECT_TIMEOUT_S,
) -> Connection:
    """Connect to ``host`` and log in with its key file (and/or the SSH agent).

    Args:
        host: The saved host.
        passphrase: The key file's passphrase, if it has one (asked from the user, or from the
            keyring: :mod:`runtime.training.remote.secrets`); never stored by this function.
        known_hosts: The known-hosts file (default: :func:`known_hosts_file`).
        timeout: Seconds for the TCP connection, the SSH banner and the login.

    Raises:
        HostKeyUnknown: The host's key is not recorded (the user must accept it).
        RemoteError: ``ssh_connect_failed`` (no answer, refused, not SSH), ``ssh_host_key_changed``,
            ``ssh_key_unreadable``, ``ssh_passphrase_needed``, ``ssh_auth_failed``.
    """
    path = known_hosts or known_hosts_file()
    key_file = os.path.expanduser(host.key_file) if host.key_file else None
    if key_file is not None:
        try:
            with open(key_file, "rb") as handle:
                handle.read(1)
        except OSError as exc:
            raise RemoteError(
                f"The key file {key_file} of {host.name} cannot be read: {exc.strerror or exc}. "
                "Choose another key file in the host's settings.",
                code="ssh_key_unreadable",
                params={"name": host.name, "path": key_file, "reason": exc.strerror or str(exc)},
            ) from exc
    client = paramiko.SSHClient()
    # The app's own file, not ~/.ssh/known_hosts; and not SSHClient.load_host_keys, which would
    # remember the file to save back to: every write goes through accept_host_key.
    table = client.get_host_keys()
    recorded = _load_known_hosts(path)
    for name in recorded:
        for key_type, key in recorded[name].items():
            table.add(name, key_type, key)
    client.set_missing_host_key_policy(_RefuseUnknown(host))
    options: dict[str, Any] = {
        "hostname": host.address,
        "port": host.port,
        "username": host.user,
        "timeout": timeout,
        "banner_timeout": timeout,
        "auth_timeout": timeout,
        "allow_agent": host.use_agent or key_file is None,
        "look_for_keys": False,
        "key_filename": key_file,
        "passphrase": passphrase,
    }
    try:
        client.connect(**options)
    except HostKeyUnknown:
        client.close()
        raise
    except paramiko.BadHostKeyException as exc:
        client.close()
        raise _changed(host, exc.key.fingerprint, exc.expected_key.fingerprint) from exc
    except paramiko.PasswordRequiredException as exc:
        client.close()
        raise RemoteError(
            f"The key file {key_file} of {host.name} is protected by a passphrase: enter it.",
            code="ssh_passphrase_needed",
            params={"name": host.name, "path": key_file or ""},
        ) from exc
    except paramiko.AuthenticationException as exc:
        client.close()
        how = f"the key {key_file}" if key_file else "the SSH agent's keys"
        raise RemoteError(
            f"{host.name} refused the login as {host.user} with {how} ({exc}). Check the user name, and that "
            "the public key is in ~/.ssh/authorized_keys on the host (and the passphrase, if the key has one).",
            code="ssh_auth_failed",
            params={"name": host.name, "user": host.user},
        ) from exc
    except (socket.gaierror, socket.herror) as exc:
        client.close()
        raise _connect_failed(host, f"the address cannot be resolved ({exc.strerror or exc})") from exc
    except paramiko.ssh_exception.NoValidConnectionsError as exc:
        client.close()
        raise _connect_failed(host, "nothing accepts connections at that address and port") from exc
    except TimeoutError as exc:
        client.close()
        raise _connect_failed(host, f"no answer within {timeout:.0f} s") from exc
    except (paramiko.SSHException, EOFError, OSError) as exc:
        client.close()
        reason = str(exc) or type(exc).__name__
        if isinstance(exc, paramiko.SSHException) and "banner" in reason.lower():
            reason = "what answers there is not an SSH server"
        if isinstance(exc, paramiko.SSHException) and "key" in reason.lower() and key_file:
            raise RemoteError(
                f"The key file {key_file} of {host.name} cannot be used: {reason}.",
                code="ssh_key_unreadable",
                params={"name": host.name, "path": key_file, "reason": reason},
            ) from exc
        raise _connect_failed(host, reason) from exc
    transport = client.get_transport()
    if transport is not None:
        transport.set_keepalive(KEEPALIVE_S)
    return Connection(host, client)


def needs_passphrase(host: Host) -> bool:
    """Whether ``host``'s key file is protected by a passphrase (False: no key file, or none)."""
    if not host.key_file:
        return False
    try:
        paramiko.PKey.from_path(os.path.expanduser(host.key_file))
    except paramiko.PasswordRequiredException:
        return True
    except TypeError as exc:
        # PKey.from_path hands OpenSSH-format keys to cryptography, which says it this way.
        return "password" in str(exc).lower()
    except (OSError, paramiko.SSHException, ValueError):
        return False  # unreadable or not a key: connect() says so
    return False


def _connect_failed(host: Host, reason: str) -> RemoteError:
    return RemoteError(
        f"Cannot connect to {host.name} at {host.address}:{host.port}: {reason}. Check the address and port, "
        "and that the host is on and reachable from this computer.",
        code="ssh_connect_failed",
        params={"name": host.name, "address": host.address, "port": host.port, "reason": reason},
    )


def host_with(host: Host, **changes: Any) -> Host:
    """A copy of ``host`` with ``changes`` (validated)."""
    return dataclasses.replace(host, **changes)
