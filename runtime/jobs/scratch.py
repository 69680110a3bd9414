"""A job's temporary output: how it is named beside its destination, and removing what ended processes left."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path


def scratch_prefix(destination: Path) -> str:
    """How a job names its temporary output beside ``destination`` (``.NAME.partial-``)."""
    return f".{destination.name}.partial-"


def scratch_path(destination: Path) -> Path:
    """This process's temporary output for ``destination``: ``.NAME.partial-PID`` beside it.

    The process id in the name is what lets a later run see that nobody writes it any more
    (:func:`remove_stale_scratch`).
    """
    return destination.with_name(f"{scratch_prefix(destination)}{os.getpid()}")


def remove_stale_scratch(folder: Path, *, names_ending: str) -> list[Path]:
    """Remove the ``.NAME.partial-PID`` left in ``folder`` by processes that no longer run.

    A job killed outright (SIGKILL, a power cut, a parent killed while the job was stuck in
    native code) leaves its temporary output, often as large as the file it was writing, and
    nobody else will ever remove it. Only names this pattern makes, for destinations ending in
    ``names_ending``, are considered, and only when no process with that id runs, or the one that
    does started after the file was last written (its id was reused). Symbolic links are left.

    Returns:
        What was removed.
    """
    pattern = re.compile(r"\.(.+)\.partial-(\d+)")
    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        match = pattern.fullmatch(entry.name)
        if match is None or not match.group(1).endswith(names_ending):
            continue
        try:
            if entry.is_symlink() or not _written_by_an_ended_process(int(match.group(2)), entry.stat().st_mtime):
                continue
            if entry.is_dir():
                shutil.rmtree(entry.path)
            else:
                os.unlink(entry.path)
        except OSError:
            continue  # gone meanwhile, or not ours to remove: leave it
        removed.append(Path(entry.path))
    return removed


def _written_by_an_ended_process(pid: int, last_written: float) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except (PermissionError, OSError):
        return False  # runs, as another user
    started = _process_start_time(pid)
    return started is not None and started > last_written + 1.0


def _process_start_time(pid: int) -> float | None:
    """When process ``pid`` started (seconds since the epoch), on Linux; None elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8").rsplit(")", 1)[1].split()
        ticks = int(fields[19])  # field 22 of proc(5): starttime, counted from field 3 here
        boot = next(
            int(line.split()[1])
            for line in Path("/proc/stat").read_text(encoding="utf-8").splitlines()
            if line.startswith("btime ")
        )
        return boot + ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, StopIteration):
        return None
