"""A run's events, progress and states, shared by the targets (:mod:`runtime.training.launcher`,
the SSH target) and the registry that records runs.

The scripts report JSON lines (see :func:`parse_progress`); a target turns them into
:data:`TrainEvent` dicts in an :class:`EventQueue`, and a run ends in a :class:`RunOutcome`.
"""

from __future__ import annotations

import enum
import math
import os
import queue
import signal
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

TrainEvent = dict[str, Any]

_END = object()

#: Seconds a stopped run gets to finish its step and save a checkpoint before it is ended by force
#: (a step of a 7B model with gradient accumulation takes seconds; the checkpoint of an adapter
#: with trained embeddings another few).
STOP_GRACE_S = 60.0


# -- progress --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrainProgress:
    """One ``progress`` line, checked: every figure a number (None where the script had none)."""

    step: int
    total: int
    loss: float | None
    lr: float | None
    tokens_per_s: float | None
    gpu_memory_mb: float | None
    eta_s: float | None
    epoch: float | None


def _number(value: object) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def parse_progress(event: TrainEvent) -> TrainProgress | None:
    """The :class:`TrainProgress` of a ``progress`` event, or None for any other or malformed event.

    Events come from another process (possibly another computer): a line missing its step, or with
    a non-number where a number belongs, is ignored rather than trusted.
    """
    if not isinstance(event, dict) or event.get("event") != "progress":
        return None
    step, total = _number(event.get("step")), _number(event.get("total"))
    if step is None or total is None or step < 0 or total < 0:
        return None
    return TrainProgress(
        step=int(step),
        total=int(total),
        loss=_number(event.get("loss")),
        lr=_number(event.get("lr")),
        tokens_per_s=_number(event.get("tokens_per_s")),
        gpu_memory_mb=_number(event.get("gpu_memory_mb")),
        eta_s=_number(event.get("eta_s")),
        epoch=_number(event.get("epoch")),
    )


# -- runs ------------------------------------------------------------------------------------------


class RunState(enum.StrEnum):
    """Where a run is."""

    STARTING = "starting"
    RUNNING = "running"
    FINISHED = "finished"
    FAILED = "failed"
    STOPPED = "stopped"

    @property
    def ended(self) -> bool:
        """Whether the run is over (finished, failed or stopped)."""
        return self in (RunState.FINISHED, RunState.FAILED, RunState.STOPPED)


@dataclass(frozen=True)
class RunOutcome:
    """How a run ended.

    Attributes:
        state: FINISHED, FAILED or STOPPED.
        adapter: The adapter folder on the target (FINISHED), else None.
        last_step: The last step a progress line reported.
        error, code, params: Why it failed (``code`` for the GUI's translation).
        checkpoint: The checkpoint a stopped run saved (a rerun resumes from it), or None.
    """

    state: RunState
    adapter: str | None = None
    last_step: int = 0
    error: str | None = None
    code: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    checkpoint: str | None = None


@dataclass(frozen=True)
class LogChunk:
    """Text of a run's log from an offset, and the offset to ask for next."""

    text: str
    next_offset: int


class EventQueue:
    """A run's events, from the thread that follows the run to whoever polls or iterates.

    The end, once put, stays visible to every later :meth:`poll` and :meth:`events` call.
    Both handles (this computer's, and the SSH target's) keep their events in one.
    """

    def __init__(self, job_id: str) -> None:
        self._job_id = job_id
        self._queue: queue.Queue[Any] = queue.Queue()

    def put(self, event: TrainEvent) -> None:
        """Add one event."""
        self._queue.put(event)

    def end(self) -> None:
        """No event follows."""
        self._queue.put(_END)

    def poll(self) -> list[TrainEvent]:
        """The events since the last call (none after the end)."""
        taken: list[TrainEvent] = []
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return taken
            if item is _END:
                self._queue.put(_END)  # the end stays visible to later calls
                return taken
            taken.append(item)

    def events(self, timeout: float | None = None) -> Iterator[TrainEvent]:
        """The events as they arrive, until the end; TimeoutError after ``timeout`` s without one."""
        while True:
            try:
                item = self._queue.get(timeout=timeout)
            except queue.Empty as exc:
                raise TimeoutError(f"no event from run {self._job_id} within {timeout} s") from exc
            if item is _END:
                self._queue.put(_END)
                return
            yield item


def interrupt_group(pid: int) -> bool:
    """Send the interrupt (SIGINT; CTRL_BREAK on Windows) to the process group that ``pid`` leads.

    :class:`runtime.jobs.JobProcess` escalates to SIGTERM after 3 s, too soon for a training step
    and its checkpoint, so a run's stop sends the first signal itself and escalates after
    :data:`STOP_GRACE_S`. Returns False when the group is gone.
    """
    try:
        if os.name == "posix":
            os.killpg(pid, signal.SIGINT)
        else:
            os.kill(pid, signal.CTRL_BREAK_EVENT)  # type: ignore[attr-defined]
    except (ProcessLookupError, PermissionError, OSError):
        return False
    return True
