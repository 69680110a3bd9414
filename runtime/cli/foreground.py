"""A job of :mod:`runtime.jobs` run in the foreground of a command: progress on stderr, Ctrl-C cancels."""

from __future__ import annotations

import sys
from typing import Any


def run_job(job: str, **options: Any) -> dict[str, Any] | None:
    """Run ``job`` to its end and return its result; None when it was cancelled (Ctrl-C).

    Raises:
        JobError: the job failed; its message, code and parameters are the job's own.
    """
    from runtime.jobs import JobError, JobProcess, build_command

    process = JobProcess(build_command(job, **options))
    process.start()
    try:
        for event in process.events():
            if event["event"] == "progress":
                figures = f" {event['done']:,}/{event['total']:,}" if event["total"] else ""
                sys.stderr.write(f"[{event['stage']}{figures}]\n")
                sys.stderr.flush()
        outcome = process.wait()
    except KeyboardInterrupt:
        sys.stderr.write("cancelling...\n")
        process.cancel()
        process.wait()
        sys.stderr.write("cancelled; nothing was written\n")
        return None
    if outcome.cancelled:
        return None
    if not outcome.ok:
        raise JobError(outcome.error or f"{job} failed", code=outcome.code, params=outcome.params)
    return outcome.result or {}
