"""A child process run as a user would run it, with what it cost: its own peak memory (from
``wait4``, so no other child of the test run counts), its wall time, and the processes it left.

Linux carries a parent's resident set over into a child's peak through fork and exec (a command
started by a 1 GB test runner reports a peak of 1 GB, whatever it did). So the command is started
by a small relay process (:data:`RELAY`), freshly executed, which forks it and reports the
``wait4`` figures: the command's peak then starts from the relay's few megabytes.

The figures are for the safety nets of the hostile-input tests ("within 1 GB") and for reports;
they are never speed limits.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

#: Every process the child starts inherits this variable, with a value of its own per run.
MARK_VARIABLE = "ALPACA_DESK_TEST_MARK"
#: The relay: fork and exec the command, wait for it, write "MAXRSS_KIB WAIT_STATUS" to the file
#: named by the environment's ``ALPACA_DESK_MEASURE_REPORT``; only ``os`` and ``sys`` are imported.
RELAY = """
import os, sys
report = os.environ.pop("ALPACA_DESK_MEASURE_REPORT")
pid = os.fork()
if pid == 0:
    try:
        os.execvp(sys.argv[1], sys.argv[1:])
    finally:
        os._exit(127)
_pid, status, usage = os.wait4(pid, 0)
with open(report, "w") as handle:
    handle.write(f"{usage.ru_maxrss} {status}")
"""
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
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "wait4"
        started = time.monotonic()
        proc = subprocess.Popen(
            [sys.executable, "-I", "-S", "-c", RELAY, *argv], cwd=cwd,
            env={**env, MARK_VARIABLE: mark, "ALPACA_DESK_MEASURE_REPORT": str(report)},
            stdout=out, stderr=err, stdin=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        timer = threading.Timer(timeout, lambda: os.killpg(proc.pid, signal.SIGKILL))
        timer.start()
        try:
            proc.wait()
        finally:
            timer.cancel()
        wall = time.monotonic() - started
        if report.exists():
            peak_kib, status = (int(field) for field in report.read_text().split())
            returncode = os.waitstatus_to_exitcode(status)
        else:  # the relay was killed (the timeout) before the command ended
            peak_kib, returncode = 0, proc.returncode
        # A child that is ending (its parent is gone) gets a moment; one still there after it is left behind.
        left = marked_processes(mark)
        settle = time.monotonic() + LEFT_BEHIND_GRACE_S
        while left and time.monotonic() < settle:
            time.sleep(0.1)
            left = marked_processes(mark)
        out.seek(0)
        err.seek(0)
        return Measured(
            returncode=returncode,
            stdout=out.read().decode("utf-8", errors="replace"),
            stderr=err.read().decode("utf-8", errors="replace"),
            peak_kib=peak_kib,
            wall_s=wall,
            left_behind=left,
        )
