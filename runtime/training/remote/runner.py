"""Detached jobs on an SSH host, in one place: upload, start, status, log tail, stop, download, re-attach.

This module only gathers the runner's names from the modules that do each part, so that callers
need one import:

* :mod:`~runtime.training.remote.jobspec`: what a job is (:class:`RemoteJobSpec`), its folder on
  the host, the log's lines as events, the host-setup job (:func:`environment_spec`).
* :mod:`~runtime.training.remote.upload`: the host's Python and free disk, and sending the job's
  files (``NAME.part``, renamed when whole; a start cut off is resumed with the same job id).
* :mod:`~runtime.training.remote.process`: starting the job detached through its agent, its
  state, following its log across reconnects (:func:`follow`), stopping it.
* :mod:`~runtime.training.remote.results`: downloading its results (the adapter, or all of ``out``).
"""

from runtime.training.remote.jobspec import (
    DEFAULT_VENV,
    MAX_EVENT_CHARS,
    RemoteJobSpec,
    environment_spec,
    job_dir_for,
    parse_line,
    train_requirements,
)
from runtime.training.remote.process import (
    LOG_CHUNK_BYTES,
    STATUS_EVERY_S,
    JobStatus,
    LogChunk,
    follow,
    job_status,
    read_log,
    start_job,
    stop_job,
)
from runtime.training.remote.results import ADAPTER_FOLDER, MAX_DOWNLOAD_ENTRIES, download, results_folder
from runtime.training.remote.upload import MIN_PYTHON, _plan, agent_source, check_python, free_space

__all__ = [
    "ADAPTER_FOLDER",
    "DEFAULT_VENV",
    "LOG_CHUNK_BYTES",
    "MAX_DOWNLOAD_ENTRIES",
    "MAX_EVENT_CHARS",
    "MIN_PYTHON",
    "STATUS_EVERY_S",
    "JobStatus",
    "LogChunk",
    "RemoteJobSpec",
    "_plan",  # the upload's file list, checked by tests/unit/training/remote/test_sources.py
    "agent_source",
    "check_python",
    "download",
    "environment_spec",
    "follow",
    "free_space",
    "job_dir_for",
    "job_status",
    "parse_line",
    "read_log",
    "results_folder",
    "start_job",
    "stop_job",
    "train_requirements",
]
