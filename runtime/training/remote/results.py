"""Bringing a job's results home: which folder to download (the adapter, or all of ``out``), and the download.

Files go into a temporary folder beside the destination and are renamed into place when all are
complete, so an interrupted download leaves nothing that looks finished.
"""

from __future__ import annotations

import dataclasses
import os
import posixpath
import shutil
import stat
from collections.abc import Iterator
from pathlib import Path

from runtime.errors import RemoteError
from runtime.jobs import Progress, ProgressCallback
from runtime.training.remote import records
from runtime.training.remote.connection import CONNECTION_ERRORS, Connection, lost
from runtime.training.remote.jobspec import RELATIVE_NAME, check_relative, exists
from runtime.training.remote.records import RemoteRun

#: Files and folders a download may hold.
MAX_DOWNLOAD_ENTRIES = 20_000
#: Where a training run's adapter is in its job folder (the checkpoints are beside it in ``out``).
ADAPTER_FOLDER = "out/adapter"


def _walk(conn: Connection, root: str) -> Iterator[tuple[str, int]]:
    """(path relative to ``root``, size) of every regular file under ``root`` (links are skipped)."""
    stack = [""]
    seen = 0
    while stack:
        relative = stack.pop()
        for entry in conn.sftp.listdir_attr(posixpath.join(root, relative) if relative else root):
            seen += 1
            if seen > MAX_DOWNLOAD_ENTRIES:
                raise RemoteError(
                    f"{root} on {conn.host.name} holds more than {MAX_DOWNLOAD_ENTRIES} files; not downloaded.",
                    code="remote_download_failed",
                    params={"name": conn.host.name, "path": root, "reason": "too many files"},
                )
            name = entry.filename
            if name in (".", "..") or "/" in name or not RELATIVE_NAME.match(name):
                continue
            path = f"{relative}/{name}" if relative else name
            mode = entry.st_mode or 0
            if stat.S_ISDIR(mode):
                stack.append(path)
            elif stat.S_ISREG(mode):
                yield path, entry.st_size or 0


def download(
    conn: Connection,
    run: RemoteRun,
    destination: Path,
    *,
    remote: str = "out",
    on_progress: ProgressCallback | None = None,
) -> Path:
    """Download the folder ``remote`` of the job's folder (default: ``out``) to ``destination``.

    The files go into a temporary folder beside ``destination``, renamed into place when all are
    complete (an existing ``destination`` is refused, never overwritten).

    Raises:
        RemoteError: ``remote_download_failed`` (no such folder, too many files, not enough room
            here, an existing destination), ``ssh_connection_lost``.
    """
    source = f"{run.job_dir}/{_check_download_name(remote)}"
    destination = Path(destination)
    if destination.exists():
        raise _download_failed(conn, source, f"{destination} exists already")
    try:
        files = sorted(_walk(conn, source))
    except FileNotFoundError as exc:
        raise _download_failed(conn, source, "the job wrote no such folder") from exc
    except CONNECTION_ERRORS as exc:
        raise lost(conn.host, "listing the results", exc) from exc
    total = sum(size for _, size in files)
    destination.parent.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(destination.parent).free
    if total > free:
        raise _download_failed(
            conn, source, f"it needs {total} bytes and {destination.parent} has {free} free on this computer"
        )
    partial = destination.with_name(f".{destination.name}.partial-{os.getpid()}")
    shutil.rmtree(partial, ignore_errors=True)
    done = 0
    try:
        for relative, size in files:
            target = partial.joinpath(*relative.split("/"))
            target.parent.mkdir(parents=True, exist_ok=True)
            base = done

            def callback(sent: int, _total: int, base: int = base) -> None:
                if on_progress is not None:
                    on_progress(Progress(base + sent, total, "downloading"))

            conn.sftp.get(f"{source}/{relative}", str(target), callback=callback)
            done += size
        if on_progress is not None:
            on_progress(Progress(total, total, "downloading"))
        os.replace(partial, destination)
    except CONNECTION_ERRORS as exc:
        shutil.rmtree(partial, ignore_errors=True)
        raise lost(conn.host, "downloading the results (download them again)", exc) from exc
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    records.save_run(dataclasses.replace(records.load_run(run.job_id), downloaded=str(destination)))
    return destination


def results_folder(conn: Connection, run: RemoteRun, *, with_checkpoints: bool = False) -> str:
    """What to download of a finished job: ``out/adapter`` when the job wrote one (a training
    run; its checkpoints are only wanted to resume there), else, or ``with_checkpoints``, ``out``.

    Raises:
        RemoteError: ``ssh_connection_lost``.
    """
    if with_checkpoints:
        return "out"
    return ADAPTER_FOLDER if exists(conn, f"{run.job_dir}/{ADAPTER_FOLDER}") else "out"


def _check_download_name(name: str) -> str:
    if name == "out":
        return name
    return check_relative(name)


def _download_failed(conn: Connection, path: str, reason: str) -> RemoteError:
    return RemoteError(
        f"Cannot download {path} from {conn.host.name}: {reason}.",
        code="remote_download_failed",
        params={"name": conn.host.name, "path": path, "reason": reason},
    )
