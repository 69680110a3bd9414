"""What a job's two processes agree on: the event dicts, progress, the failure, the cancel's grace and the gate.

The parent (:mod:`runtime.jobs.process`) and the child (:mod:`runtime.jobs.child`) both use these;
neither side's code is needed to read the other's events.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from runtime.errors import AppError

#: Seconds between the escalation steps of :meth:`JobProcess.cancel` (SIGINT, SIGTERM, SIGKILL).
CANCEL_GRACE_S = 3.0
#: ``STAGE=PATH`` or ``STAGE@SHARE=PATH``: a job that reports progress in ``STAGE`` (at or past
#: ``SHARE`` of its total, 0.9 for nine tenths) waits there until the file ``PATH`` exists. For
#: tests of cancelling: a cancel that must come while the job works cannot lose the race against a
#: fast machine, and a test that opens the gate shows the job then goes on.
GATE_ENV = "ALPACA_DESK_JOB_GATE"

JobEvent = dict[str, Any]


class JobError(AppError):
    """A job failed, or its process ended without saying why."""


@dataclass(frozen=True)
class Progress:
    """How far a job is: ``done`` of ``total`` (0 when unknown) in ``stage``."""

    done: int
    total: int
    stage: str


ProgressCallback = Callable[[Progress], None]
