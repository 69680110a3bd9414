"""How a child process ended, in words (shared by the host client and job processes)."""

from __future__ import annotations

import signal


def describe_exit(returncode: int | None) -> str:
    """``exit status 1``, ``signal SIGKILL`` or ``not running`` for a process's return code."""
    if returncode is None:
        return "not running"
    if returncode >= 0:
        return f"exit status {returncode}"
    try:
        return f"signal {signal.Signals(-returncode).name}"
    except ValueError:
        return f"signal {-returncode}"
