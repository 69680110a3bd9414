"""What a detached job is: its specification, its folder on the host, and the agent's JSON lines.

A job's folder on the host (``REMOTE_DIR/JOB_ID``)::

    agent.py        the job agent (runtime/training/remote/agent.py), run by the host's Python
    spec.json       the agent's specification: module, interpreter, arguments, environment
    job.json        the script's own specification (``--spec``), when the job has one
    code/           on PYTHONPATH: copies of the packages the job needs (e.g. ``runtime``)
    data/...        the data files the job reads
    out/            what the job writes (downloaded when it finishes)
    log.jsonl       the job's stdout: JSON lines      stderr.log   its stderr
    agent.json      the agent's pid and process group  exit.json   how the job ended

The job's command is fixed (``PYTHON -m MODULE --spec SPEC ARGS...``) and reaches the host as an
argv in ``spec.json``, never as text for a shell. :func:`environment_spec` is one such job: the
virtual environment ``alpaca-desk hosts setup`` makes on a host.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runtime.errors import RemoteError
from runtime.training.remote import records, sources
from runtime.training.remote.connection import CONNECTION_ERRORS, Connection, lost
from runtime.untrusted_json import parse_json

#: A line of the remote log (or of the agent's answer) longer than this is shown as text, not decoded.
MAX_EVENT_CHARS = 1024 * 1024
#: A name that may stand in a job folder: no control characters (checked part by part besides).
RELATIVE_NAME = re.compile(r"^[^\x00-\x1f\x7f]+$")
#: Where :func:`environment_spec` puts the virtual environment (relative: in the login folder).
DEFAULT_VENV = ".alpaca-desk/venv"


@dataclass(frozen=True)
class RemoteJobSpec:
    """What to run on the host.

    Attributes:
        module: The module the job runs (``python -m MODULE --spec SPEC``), e.g. ``runtime.training.sft``.
        script_spec: The script's own specification (a JSON object), uploaded as ``job.json`` and
            passed as ``--spec``; relative paths in it resolve against the job folder (the job's
            working directory): ``data/train.json``, ``out``. None: ``--spec`` names ``spec.json``.
        args: More arguments after ``--spec SPEC``; each reaches the script as one argument, whatever
            it holds (spaces, quotes, ``$(...)``, newlines): no shell parses them.
        python: The interpreter for the job on the host (empty: the host's, e.g. a virtual
            environment's ``bin/python``).
        code: Local package folders copied whole to ``code/`` (on the job's PYTHONPATH).
        code_files: Single source files and their names under ``code/``
            (``runtime/training/sft.py``): a package's modules that a job needs, and no more
            (:func:`runtime.training.remote.sources.module_sources`).
        files: Local files and the relative names they get in the job folder (``data/train.json``).
        env: Environment variables for the job.
        stop_grace_s: Seconds a stopped job gets after SIGINT before SIGTERM (a training run
            saves a checkpoint in that time).
    """

    module: str
    script_spec: dict[str, Any] | None = None
    args: tuple[str, ...] = ()
    python: str = ""
    code: tuple[Path, ...] = ()
    code_files: tuple[tuple[Path, str], ...] = ()
    files: tuple[tuple[Path, str], ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    stop_grace_s: float = 3.0


def parse_line(line: str) -> dict[str, Any]:
    """A log line as an event: its JSON object, or ``{"event": "log", "line": line}``."""
    try:
        # A line from another computer's disk: bounded like any other JSON from outside.
        event = parse_json(line, source="a line of the remote log", max_bytes=MAX_EVENT_CHARS)
    except ValueError:
        event = None
    if isinstance(event, dict) and isinstance(event.get("event"), str):
        return event
    return {"event": "log", "line": line}


def last_json(text: str) -> dict[str, Any] | None:
    """The last line of the agent's answer that is a JSON object (None: there is none)."""
    for line in reversed(text.strip().splitlines()):
        try:
            data = parse_json(line, source="the agent's answer", max_bytes=MAX_EVENT_CHARS)
        except ValueError:
            continue
        if isinstance(data, dict):
            return data
    return None


def check_relative(name: str) -> str:
    """``name`` if it may name a file in a job folder (relative, no ``..``, not the agent's own files).

    Raises:
        RemoteError: ``remote_spec_invalid``.
    """
    parts = name.split("/")
    if (
        not name
        or name.startswith("/")
        or not RELATIVE_NAME.match(name)
        or any(part in ("", ".", "..") for part in parts)
        or parts[0] in ("agent.py", "spec.json", "job.json", "log.jsonl", "agent.json", "exit.json", "code")
    ):
        raise RemoteError(
            f"{name!r} cannot be a file's name in a job folder (a relative path without '..', not one of the "
            "agent's own files).",
            code="remote_spec_invalid",
            params={"reason": f"bad file name {name!r}"},
        )
    return name


def job_dir_for(conn: Connection, job_id: str) -> str:
    """The job's folder on the host: ``remote_dir/JOB_ID`` (relative remote_dir: in the login folder)."""
    base = conn.host.remote_dir
    if not base.startswith("/"):
        base = posixpath.join(conn.home(), base)
    return posixpath.join(posixpath.normpath(base), records.check_job_id(job_id))


def exists(conn: Connection, path: str) -> bool:
    """Whether ``path`` is on the host (a cheap SFTP stat).

    Raises:
        RemoteError: ``ssh_connection_lost``.
    """
    try:
        conn.sftp.stat(path)
    except FileNotFoundError:
        return False
    except CONNECTION_ERRORS as exc:
        raise lost(conn.host, "following the job", exc) from exc
    return True


def train_requirements() -> list[str]:
    """The ``train`` extra's requirements of this installation (``torch>=2.1``, ...), from its metadata."""
    from importlib.metadata import PackageNotFoundError, requires

    try:
        declared = requires("alpaca-desk") or []
    except PackageNotFoundError:
        return []
    found = []
    for requirement in declared:
        name, _, marker = requirement.partition(";")
        if re.search(r"""extra\s*==\s*["']train["']""", marker):
            found.append(name.strip())
    return found


def environment_spec(
    *, venv: str = DEFAULT_VENV, requirements: Sequence[str] = (), pip_args: Sequence[str] = ()
) -> RemoteJobSpec:
    """A job that creates a virtual environment on the host and installs ``requirements`` into it.

    Its ``result`` event names the environment's Python (``{"event": "result", "python": ...}``): set
    it as the host's Python so that later jobs run with those packages.
    """
    return RemoteJobSpec(
        module="envsetup",
        script_spec={"venv": venv, "requirements": list(requirements), "pip_args": list(pip_args)},
        files=((sources.source_file(sources.ENVSETUP), "envsetup.py"),),
    )
