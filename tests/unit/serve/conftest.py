"""``alpaca-desk serve`` as a real process on a free port, over the real host and stories260K.gguf.

One server (with an API key and one allowed CORS origin) is shared by the tests of this folder;
tests that stop a server start their own.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import TEST_DATA, data_file

REPO_ROOT = Path(__file__).resolve().parents[3]
KEY = "test-key-5f2c0a"
ALLOWED_ORIGIN = "http://allowed.example"
#: The shared server's context: room for a long answer the drop test cancels.
SERVER_CTX = 4096
#: A patient limit for conditions that a busy machine reaches late (never a speed requirement).
PATIENT_S = 120.0


@dataclass
class Server:
    """A running ``alpaca-desk serve``."""

    proc: subprocess.Popen[str]
    url: str  # http://127.0.0.1:PORT/v1
    port: int
    stderr: Path
    banner: list[str]

    @property
    def base(self) -> str:
        return self.url.removesuffix("/v1")

    def log(self) -> str:
        return self.stderr.read_text(encoding="utf-8", errors="replace")

    def wait_for_log(self, pattern: str, count: int = 1) -> list[re.Match[str]]:
        """The log's matches of ``pattern``, once there are ``count`` of them."""
        deadline = time.monotonic() + PATIENT_S
        while True:
            found = list(re.finditer(pattern, self.log()))
            if len(found) >= count:
                return found
            assert time.monotonic() < deadline, f"not {count} log lines matching {pattern!r}:\n{self.log()}"
            time.sleep(0.05)

    def stop(self, sig: int = signal.SIGINT) -> int:
        """Stop it as a user does; its exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(PATIENT_S)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()


def cli_command(command: str, *args: str) -> list[str]:
    """``alpaca-desk COMMAND stories260K.gguf ARGS`` from this checkout."""
    model = data_file(TEST_DATA / "stories260K.gguf")
    return [sys.executable, "-m", "runtime.cli", command, str(model), *args]


def start_server(folder: Path, *args: str) -> Server:
    """Start ``alpaca-desk serve stories260K.gguf --port 0 ARGS`` and wait for its banner."""
    folder.mkdir(parents=True, exist_ok=True)
    stderr = folder / "serve.stderr"
    env = {**os.environ, "ALPACA_DESK_HOME": str(folder / "home"), "PYTHONIOENCODING": "utf-8"}
    with stderr.open("w", encoding="utf-8") as err:
        proc = subprocess.Popen(
            cli_command("serve", "--port", "0", *args),
            cwd=REPO_ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
            encoding="utf-8",
        )
    banner: list[str] = []
    assert proc.stdout is not None
    for line in proc.stdout:  # ends at EOF if the server fails to start
        banner.append(line.rstrip("\n"))
        if line.startswith("Press Ctrl-C"):
            break
    text = "\n".join(banner)
    found = re.search(r"http://127\.0\.0\.1:(\d+)/v1", text)
    if found is None:
        proc.kill()
        proc.wait()
        raise AssertionError(f"the server did not start:\n{text}\n{stderr.read_text(encoding='utf-8')}")
    return Server(proc, found.group(0), int(found.group(1)), stderr, banner)


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The shared server: key in a key file, one allowed origin, a 4096-token context."""
    folder = tmp_path_factory.mktemp("serve")
    key_file = folder / "key.txt"
    key_file.write_text(KEY + "\n", encoding="utf-8")
    running = start_server(
        folder, "--api-key-file", str(key_file), "--cors-origin", ALLOWED_ORIGIN, "--ctx", str(SERVER_CTX)
    )
    yield running
    assert running.stop(signal.SIGINT) == 0, running.log()


@pytest.fixture
def own_server(tmp_path: Path) -> Iterator[Callable[..., Server]]:
    """Start servers of the test's own (stopped after it, if the test did not)."""
    started: list[Server] = []

    def start(*args: str) -> Server:
        started.append(start_server(tmp_path / f"server{len(started)}", *args))
        return started[-1]

    yield start
    for running in started:
        running.stop(signal.SIGKILL)
