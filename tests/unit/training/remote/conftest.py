"""A real sshd on 127.0.0.1, a saved host for it, and a tiny job package the runner uploads.

The "remote" host is this machine reached through sshd, so a test can look at the job's processes
directly (``os.killpg(pgid, 0)``). Every job a test started is ended at teardown, whatever the test
did, by the process groups their agents recorded.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import paramiko
import pytest

from runtime.training.remote import Host, HostKey, accept_host_key, add_host
from tests.sshd import Sshd, make_sshd

#: The job the tests run: prints its arguments and spec, then numbered lines, then writes out/.
COUNT_JOB = '''
"""A test job: what a training script does, in miniature (JSON lines on stdout, files in out/)."""
import json, os, subprocess, sys, time

def main():
    argv = sys.argv[1:]
    at = argv.index("--spec")
    spec_path, extra = argv[at + 1], argv[at + 2:]
    with open(spec_path, encoding="utf-8") as handle:
        spec = json.load(handle)
    print(json.dumps({"event": "started", "argv": extra, "spec": spec, "pid": os.getpid(),
                      "pgid": os.getpgid(0), "cwd": os.getcwd()}, ensure_ascii=False), flush=True)
    if spec.get("child"):
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
        print(json.dumps({"event": "child", "pid": child.pid}), flush=True)
    for n in range(spec.get("count", 3)):
        print(json.dumps({"event": "tick", "n": n, "text": "第%d行" % n}, ensure_ascii=False), flush=True)
        time.sleep(spec.get("delay", 0))
    os.makedirs("out/sub", exist_ok=True)
    with open("out/result.txt", "w", encoding="utf-8") as handle:
        handle.write("适配器 adapter\\n")
    with open("out/sub/weights.bin", "wb") as handle:
        handle.write(bytes(range(256)) * spec.get("weights_kb", 4) * 4)
    print(json.dumps({"event": "result", "adapter": "out"}), flush=True)
    sys.exit(spec.get("exit", 0))

main()
'''


@pytest.fixture
def sshd(tmp_path: Path) -> Iterator[Sshd]:
    """A started sshd with fresh host and client keys."""
    server = make_sshd(tmp_path / "sshd").start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def remote_root(tmp_path: Path) -> Iterator[Path]:
    """Where the host keeps job folders; every job left running there is ended at teardown."""
    root = tmp_path / "remote jobs"
    yield root
    for agent in root.rglob("agent.json"):
        try:
            pgid = json.loads(agent.read_text())["pgid"]
        except (OSError, ValueError, KeyError):
            continue
        if isinstance(pgid, int) and pgid > 1:
            try:
                os.killpg(pgid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def host_for(server: Sshd, remote_root: Path, **changes: object) -> Host:
    """A host for ``server`` (its Python: this interpreter, whose standard library the agent needs)."""
    values: dict[str, object] = {
        "name": "gpu-box",
        "address": "127.0.0.1",
        "port": server.port,
        "user": server.user,
        "key_file": str(server.client_key),
        "use_agent": False,
        "python": sys.executable,
        "remote_dir": str(remote_root),
    }
    values.update(changes)
    return Host(**values)  # type: ignore[arg-type]


def server_key(server: Sshd) -> HostKey:
    """The server's host key as the user would accept it, read from its public key file."""
    key_type, body = server.host_key.with_suffix(".pub").read_text().split()[:2]
    pkey = paramiko.PKey.from_type_string(key_type, base64.b64decode(body))
    return HostKey(key_type, body, pkey.fingerprint)


@pytest.fixture
def trusted_host(sshd: Sshd, remote_root: Path) -> Host:
    """A saved host whose key the user has accepted."""
    host = host_for(sshd, remote_root)
    add_host(host)
    accept_host_key(host, server_key(sshd))
    return host


@pytest.fixture
def job_code(tmp_path: Path) -> Path:
    """The package ``jobpkg`` with the test job ``jobpkg.count``."""
    package = tmp_path / "src" / "jobpkg"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "count.py").write_text(textwrap.dedent(COUNT_JOB), encoding="utf-8")
    return package


def wait_for(predicate, timeout: float = 60.0, what: str = "the condition"):  # noqa: ANN001, ANN201
    """Poll ``predicate`` until it returns something true (a hang fails the test, it does not time it)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"{what} did not happen within {timeout} s")
