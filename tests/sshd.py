"""A real OpenSSH server on 127.0.0.1 for the tests, run as the current user from a temporary folder.

It has its own host key and authorizes one client key, both made with ssh-keygen; sshd runs in the
foreground (``-D``) with every path in the folder, and is stopped at the end of the test. The set-up
(``make test``) installs Debian's ``openssh-server`` when ``/usr/sbin/sshd`` is missing
(packaging/ensure_sshd.sh): a missing sshd fails the tests, it does not skip them.
"""

from __future__ import annotations

import getpass
import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

SSHD = Path("/usr/sbin/sshd")
START_TIMEOUT_S = 20.0


def keygen(path: Path, *, passphrase: str = "", kind: str = "ed25519") -> Path:
    """A new key pair at ``path`` (private) and ``path.pub``."""
    subprocess.run(
        ["ssh-keygen", "-q", "-t", kind, "-N", passphrase, "-C", "alpaca-desk-test", "-f", str(path)],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return path


def fingerprint(public_key: Path) -> str:
    """``SHA256:...`` of a public key file, as ssh-keygen prints it."""
    out = subprocess.run(["ssh-keygen", "-lf", str(public_key)], check=True, capture_output=True, text=True)
    return out.stdout.split()[1]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Sshd:
    """A running sshd: its port, host key, the authorized client key, the login user."""

    folder: Path
    port: int
    host_key: Path
    client_key: Path
    user: str
    process: subprocess.Popen[bytes] | None = None

    @property
    def log(self) -> Path:
        """sshd's own log (-e)."""
        return self.folder / "sshd.log"

    def start(self) -> Sshd:
        """Start sshd and wait until it answers with its SSH banner."""
        if not SSHD.exists():
            raise RuntimeError(f"{SSHD} is missing: install openssh-server (packaging/ensure_sshd.sh)")
        if os.geteuid() == 0:
            # Run as root, sshd insists on its privilege-separation folder (a tmpfs folder that
            # Debian's service creates at boot, which a container has not run).
            Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
        config = self.folder / "sshd_config"
        config.write_text(
            "\n".join(
                [
                    f"Port {self.port}",
                    "ListenAddress 127.0.0.1",
                    f"HostKey {self.host_key}",
                    f"AuthorizedKeysFile {self.folder / 'authorized_keys'}",
                    f"PidFile {self.folder / 'sshd.pid'}",
                    "StrictModes no",
                    "UsePAM no",
                    "PasswordAuthentication no",
                    "KbdInteractiveAuthentication no",
                    "PubkeyAuthentication yes",
                    "PermitRootLogin prohibit-password",
                    "Subsystem sftp internal-sftp",
                    "LogLevel VERBOSE",
                    "MaxStartups 50",
                    "",
                ]
            )
        )
        self.process = subprocess.Popen(
            [str(SSHD), "-D", "-e", "-f", str(config)],
            stdin=subprocess.DEVNULL,
            stdout=self.log.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"sshd ended at start: {self.log.read_text(errors='replace')[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                    if sock.recv(64).startswith(b"SSH-"):
                        return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("sshd did not answer within 20 s")

    def connection_pids(self) -> list[int]:
        """The pids of sshd's per-connection processes (its children, and theirs, named sshd)."""
        if self.process is None:
            return []
        found: list[int] = []
        todo = [self.process.pid]
        while todo:
            pid = todo.pop()
            try:
                children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
            except OSError:
                continue
            for child in map(int, children):
                try:
                    name = Path(f"/proc/{child}/comm").read_text().strip()
                except OSError:
                    continue
                if name.startswith("sshd"):
                    found.append(child)
                    todo.append(child)
        return found

    def drop_connections(self) -> int:
        """Kill every open connection's sshd processes (the network cable pulled); returns how many."""
        pids = self.connection_pids()
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        return len(pids)

    def stop(self) -> None:
        """Stop sshd and its connections."""
        if self.process is None:
            return
        self.drop_connections()
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)
        self.process = None


def make_sshd(folder: Path, *, host_key: Path | None = None, client_key: Path | None = None) -> Sshd:
    """A configured (not started) sshd in ``folder``: new keys unless given, a free port."""
    folder.mkdir(parents=True, exist_ok=True)
    host_key = host_key or keygen(folder / "host_key")
    client_key = client_key or keygen(folder / "client_key")
    (folder / "authorized_keys").write_text(Path(f"{client_key}.pub").read_text())
    return Sshd(folder, _free_port(), host_key, client_key, getpass.getuser())
