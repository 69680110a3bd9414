"""Long jobs in a child process: the one pattern every long job follows (see ARCHITECTURE.md).

1. A pure argv builder, :func:`build_command` (unit-tested on its argv).
2. A child process, ``python -m runtime.jobs JOB --option=value ...`` (in a frozen build, the
   executable's ``job`` subcommand), in its own process group / session.
3. Progress as JSON lines on the child's stdout, one object per line::

       {"event": "started", "job": "vocab-train", "pid": 1234}
       {"event": "scratch", "path": "/out/.zh.model.partial-x1y2"}      # temporary output to clean
       {"event": "progress", "done": 300, "total": 1435, "stage": "training"}
       {"event": "result", ...}                                           # the job's figures
       {"event": "error", "message": "...", "code": "...", "params": {...}}
       {"event": "cancelled"}

   Anything else the child or a native library prints goes to stderr, which the parent keeps
   (the last lines) for the error message of a job that dies.
4. Cancel ends the process group: SIGINT, then SIGTERM after :data:`CANCEL_GRACE_S` seconds,
   then SIGKILL. The child stops at the first signal (the work runs in a thread; the main
   thread removes the temporary output and exits). Output is written under a temporary name
   beside its destination and renamed into place only when complete, so a cancelled or failed
   job leaves nothing behind; should the child be killed before it cleans up, the parent removes
   the ``scratch`` paths it announced.
5. :meth:`JobProcess.wait` returns an :class:`Outcome`.

The jobs (:data:`JOBS`): ``vocab-train``, ``vocab-merge`` and ``tokenizer-check``, implemented in
:mod:`runtime.tokens.vocab_jobs`; ``hub-download`` in :mod:`runtime.hub.download` (its ``.part``
files are kept, not scratch: a cancelled or killed download resumes from them); ``convert-inspect``,
``convert``, ``quantize`` and ``report``, in :mod:`runtime.models.model_jobs`; ``lora-merge``
(:mod:`runtime.training.merge`).

Modules (their public names are re-exported here: import them from ``runtime.jobs``):
    protocol: what both processes agree on (events, :class:`Progress`, :class:`JobError`, the
        cancel's grace, the test gate :data:`GATE_ENV`).
    table: the jobs (:data:`JOBS`) and their argv (:func:`build_command`, :func:`job_command`).
    scratch: naming temporary output and removing what ended processes left.
    process: the parent side (:class:`JobProcess`, :class:`Outcome`, :func:`run_job`).
    child: the child side (:class:`JobContext`, :class:`Emitter`, :func:`main`); ``__main__``
        runs it for ``python -m runtime.jobs``.
"""

from runtime.jobs.child import Emitter, JobContext, event_stream, main
from runtime.jobs.process import STDERR_TAIL_LINES, JobProcess, Outcome, run_job
from runtime.jobs.protocol import CANCEL_GRACE_S, GATE_ENV, JobError, JobEvent, Progress, ProgressCallback
from runtime.jobs.scratch import remove_stale_scratch, scratch_path, scratch_prefix
from runtime.jobs.table import JOBS, JobDefinition, JobOption, build_command, job_command

__all__ = [
    "CANCEL_GRACE_S",
    "GATE_ENV",
    "JOBS",
    "STDERR_TAIL_LINES",
    "Emitter",
    "JobContext",
    "JobDefinition",
    "JobError",
    "JobEvent",
    "JobOption",
    "JobProcess",
    "Outcome",
    "Progress",
    "ProgressCallback",
    "build_command",
    "event_stream",
    "job_command",
    "main",
    "remove_stale_scratch",
    "run_job",
    "scratch_path",
    "scratch_prefix",
]
