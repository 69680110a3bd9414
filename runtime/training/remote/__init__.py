"""Training on a GPU over SSH: saved hosts, host-key checks, and detached jobs that survive the app.

Qt-free. The pieces, each usable on its own:

* :mod:`~runtime.training.remote.hosts`: the saved hosts (``hosts.json``).
* :mod:`~runtime.training.remote.connection`: one connection (paramiko), the app's own
  known-hosts file, accepting and forgetting host keys.
* :mod:`~runtime.training.remote.probe`: a host's GPUs, Python, free disk and what is missing.
* :mod:`~runtime.training.remote.runner`: a detached job: upload, start, status, log, stop,
  download, re-attach (:func:`~runtime.training.remote.runner.follow`), gathered from
  :mod:`~runtime.training.remote.jobspec` (the job and its folder),
  :mod:`~runtime.training.remote.upload` (checks and sending the files),
  :mod:`~runtime.training.remote.process` (start, state, log, stop) and
  :mod:`~runtime.training.remote.results` (downloading).
* :mod:`~runtime.training.remote.records`: this computer's record of its remote runs.
* :mod:`~runtime.training.remote.agent`: the script that runs the job on the host (standard
  library only; uploaded into each job's folder).
* :mod:`~runtime.training.remote.envsetup`: a job that makes a virtual environment on the host
  (``alpaca-desk hosts setup``).
* :mod:`~runtime.training.remote.secrets`: key passphrases in the operating system's keyring.
"""

from runtime.training.remote.connection import (
    Connection,
    HostKey,
    HostKeyUnknown,
    accept_host_key,
    connect,
    forget_host_key,
    known_hosts_file,
)
from runtime.training.remote.hosts import Host, add_host, get_host, load_hosts, remove_host, save_hosts
from runtime.training.remote.probe import HostReport, probe_host
from runtime.training.remote.records import RemoteRun, list_runs, load_run, read_mirror
from runtime.training.remote.runner import (
    JobStatus,
    RemoteJobSpec,
    download,
    follow,
    job_status,
    start_job,
    stop_job,
)

__all__ = [
    "Connection",
    "Host",
    "HostKey",
    "HostKeyUnknown",
    "HostReport",
    "JobStatus",
    "RemoteJobSpec",
    "RemoteRun",
    "accept_host_key",
    "add_host",
    "connect",
    "download",
    "follow",
    "forget_host_key",
    "get_host",
    "job_status",
    "known_hosts_file",
    "list_runs",
    "load_hosts",
    "load_run",
    "probe_host",
    "read_mirror",
    "remove_host",
    "save_hosts",
    "start_job",
    "stop_job",
]
