"""A job of :mod:`runtime.jobs` run in the foreground of a command: progress on stderr, Ctrl-C cancels."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from typing import Any


def run_job(job: str, *, written: Sequence[str] = (), **options: Any) -> dict[str, Any] | None:
    """Run ``job`` to its end and return its result; None when it was cancelled (Ctrl-C).

    ``written``: files that earlier jobs of the same command finished, which a cancel keeps; the
    message after Ctrl-C names them.

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
        if written:
            kept = "".join(f"\n  {path}" for path in written)
            sys.stderr.write(f"cancelled; the {job} in progress wrote nothing. Kept, finished before:{kept}\n")
        else:
            sys.stderr.write("cancelled; nothing was written\n")
        return None
    if outcome.cancelled:
        return None
    if not outcome.ok:
        raise JobError(outcome.error or f"{job} failed", code=outcome.code, params=outcome.params)
    return outcome.result or {}


def print_result(result: dict[str, Any] | None, *, as_json: bool, summary: Callable[[dict[str, Any]], str]) -> int:
    """Print what :func:`run_job` returned and give the command's exit status.

    None (cancelled): nothing printed, 130. Otherwise 0, with the result as one JSON object on
    stdout (``as_json``) or the one line ``summary`` makes of it.
    """
    if result is None:
        return 130
    if as_json:
        sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
    else:
        sys.stdout.write(summary(result) + "\n")
    return 0
