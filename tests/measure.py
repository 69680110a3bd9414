"""A child process run as a user would run it, with what it cost: its own peak memory (from
``wait4``, so no other child of the test run counts), its wall time, and the processes it left.

The figures are for the safety nets of the hostile-input tests ("within 1 GB") and for reports;
they are never speed limits.
"""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

#: Every process the child starts inherits this variable, with a value of its own per run.
MARK_VARIABLE = "ALPACA_DESK_TEST_MARK"
#: Seconds a child of the run may take to end after the run ended, before it counts as left behind.
LEFT_BEHIND_GRACE_S = 10.0


@dataclass(frozen=True)
class Measured:
    returncode: int
    stdout: str
    stderr: str
    peak_kib: int  # the child's largest resident set (and that of the children it waited for)
    wall_s: float
    left_behind: list[int]  # processes carrying the run's mark after it ended

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def marked_processes(mark: str) -> list[int]:
    """The processes whose environment holds ``MARK_VARIABLE=mark`` (Linux: /proc)."""
    needle = f"{MARK_VARIABLE}={mark}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if needle in (entry / "environ").read_bytes().split(b"\0"):
                found.append(int(entry.name))
        except OSError:
            continue  # gone, or not ours
    return found


def run_measured(argv: list[str], *, env: dict[str, str], cwd: Path, timeout: float) -> Measured:
    """Run ``argv`` to its end (killed after ``timeout`` seconds: a safety net for a hang)."""
    mark = uuid.uuid4().hex
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.monotonic()
        proc = subprocess.Popen(
            argv, cwd=cwd, env={**env, MARK_VARIABLE: mark}, stdout=out, stderr=err, stdin=subprocess.DEVNULL,
            start_new_session=True,
        )  # fmt: skip
        timer = threading.Timer(timeout, lambda: os.killpg(proc.pid, signal.SIGKILL))
        timer.start()
        try:
            _pid, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        wall = time.monotonic() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        # A child that is ending (its parent is gone) gets a moment; one still there after it is left behind.
        left = marked_processes(mark)
        settle = time.monotonic() + LEFT_BEHIND_GRACE_S
        while left and time.monotonic() < settle:
            time.sleep(0.1)
            left = marked_processes(mark)
        out.seek(0)
        err.seek(0)
        return Measured(
            returncode=proc.returncode,
            stdout=out.read().decode("utf-8", errors="replace"),
            stderr=err.read().decode("utf-8", errors="replace"),
            peak_kib=usage.ru_maxrss,
            wall_s=wall,
            left_behind=left,
        )
