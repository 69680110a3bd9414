"""The one place that knows where Alpaca Desk keeps its files.

Every directory comes from platformdirs and can be overridden by an environment variable
(``ALPACA_DESK_CONFIG_DIR``, ``..._DATA_DIR``, ``..._CACHE_DIR``, ``..._LOG_DIR``,
``..._MODELS_DIR``) or all at once with ``ALPACA_DESK_HOME`` / ``--data-dir DIR``, which tests use.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from platformdirs import PlatformDirs

APP_NAME = "AlpacaDesk"
APP_AUTHOR = "AlpacaDesk"
HOME_ENV = "ALPACA_DESK_HOME"


@dataclass(frozen=True)
class AppPaths:
    """Resolved directories. Created on first use by :func:`ensure`."""

    config: Path
    data: Path
    cache: Path
    logs: Path
    models: Path

    @property
    def conversations_db(self) -> Path:
        """SQLite file holding every conversation."""
        return self.data / "conversations.sqlite3"

    @property
    def settings_file(self) -> Path:
        """JSON settings (see runtime.settings)."""
        return self.config / "settings.json"

    def ensure(self) -> AppPaths:
        """Create the directories that do not exist yet and return self.

        The log folder is optional: when it cannot be created the app runs without a log file
        (app/main.py says so), so that failure is not raised here.

        Raises:
            OSError: one of the other folders cannot be created.
        """
        for path in (self.config, self.data, self.cache, self.models):
            path.mkdir(parents=True, exist_ok=True)
        try:
            self.logs.mkdir(parents=True, exist_ok=True)
        except OSError:
            pass
        return self

    def startup_problem(self) -> tuple[Path, str] | None:
        """The first folder the app cannot start without, and why; None when all are usable.

        The data folder must be writable (the conversation database and the single-instance
        lock live there); the config, cache and models folders must exist or be creatable (they
        may be read-only: settings then are not saved, and models are only read). The log folder
        is not needed: the app runs without a log file (see :func:`unwritable_reason`).
        """
        reason = unwritable_reason(self.data)
        if reason is not None:
            return self.data, reason
        for folder in (self.config, self.cache, self.models):
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                return folder, exc.strerror or str(exc)
        return None


#: The environment variable that overrides each directory (documented above; "logs" is LOG_DIR).
DIR_ENV = {
    "config": "ALPACA_DESK_CONFIG_DIR",
    "data": "ALPACA_DESK_DATA_DIR",
    "cache": "ALPACA_DESK_CACHE_DIR",
    "logs": "ALPACA_DESK_LOG_DIR",
    "models": "ALPACA_DESK_MODELS_DIR",
}


def set_base_dir(base: str | os.PathLike[str]) -> None:
    """Point every directory under ``base`` (``--data-dir``); child processes inherit it."""
    os.environ[HOME_ENV] = str(Path(base).resolve())


def app_paths() -> AppPaths:
    """Resolve the directories from the environment, then platformdirs."""
    home = os.environ.get(HOME_ENV)
    if home:
        base = Path(home)
        defaults = {
            "config": base / "config",
            "data": base / "data",
            "cache": base / "cache",
            "logs": base / "logs",
            "models": base / "models",
        }
    else:
        dirs = PlatformDirs(APP_NAME, APP_AUTHOR)
        defaults = {
            "config": Path(dirs.user_config_dir),
            "data": Path(dirs.user_data_dir),
            "cache": Path(dirs.user_cache_dir),
            "logs": Path(dirs.user_log_dir),
            "models": Path(dirs.user_data_dir) / "models",
        }
    resolved = {key: Path(os.environ.get(DIR_ENV[key]) or value) for key, value in defaults.items()}
    return AppPaths(**resolved)


def unwritable_reason(folder: Path) -> str | None:
    """Why files cannot be created in ``folder`` (created first if missing), or None if they can.

    It really creates (and removes) a file: permission bits say nothing for root, read-only
    mounts, ACLs or a path that runs through a regular file, and a folder that cannot be written
    must be found at start, not at the first message the user sends.
    """
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".write-test-", dir=folder)
    except OSError as exc:
        return exc.strerror or str(exc)
    os.close(fd)
    try:
        os.unlink(probe)
    except OSError:
        pass  # a stray empty probe file harms nothing
    return None


def keep_aside(path: Path, label: str, *, sidecars: Sequence[str] = (), now: float | None = None) -> Path:
    """Rename ``path`` to ``<name>.<label>-YYYYmmdd-HHMMSS`` beside it, never over an existing file.

    The user's file is kept, not deleted: a damaged settings file or conversation database may
    still hold something worth saving. If that name is taken (two in the same second), ``-2``,
    ``-3``, ... is added.

    Args:
        path: the file (or folder) to move aside.
        label: what it is, e.g. ``"bad"`` or ``"damaged"``.
        sidecars: suffixes of files that belong to it and move with it under the same new name
            (SQLite's ``"-wal"``, ``"-shm"``, ``"-journal"``); the missing ones are skipped.
        now: the time to name it after (default: the current time).

    Returns:
        The new path of ``path``.

    Raises:
        OSError: it could not be renamed (then nothing was moved).
    """
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now))
    present = [suffix for suffix in sidecars if os.path.lexists(f"{path}{suffix}")]
    for attempt in range(1, 1000):
        target = path.with_name(f"{path.name}.{label}-{stamp}" + (f"-{attempt}" if attempt > 1 else ""))
        names = [target, *(Path(f"{target}{suffix}") for suffix in sidecars)]
        if any(os.path.lexists(name) for name in names):
            continue
        # Checked, then renamed: only one Alpaca Desk uses a data folder at a time (the lock in
        # app/main.py), so nothing else creates these names in between.
        os.rename(path, target)
        moved = [(path, target)]
        try:
            for suffix in present:
                os.rename(f"{path}{suffix}", f"{target}{suffix}")
                moved.append((Path(f"{path}{suffix}"), Path(f"{target}{suffix}")))
        except OSError:
            # A database without its -wal file would lose the latest commits: put back what moved.
            for source, moved_to in reversed(moved):
                try:
                    os.rename(moved_to, source)
                except OSError:
                    pass
            raise
        return target
    raise FileExistsError(f"no free name to keep {path} aside")


def assets_dir() -> Path:
    """The ``assets`` folder: beside the packages in a checkout, inside the bundle when frozen."""
    import sys

    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        return Path(bundle) / "assets"
    return Path(__file__).resolve().parent.parent / "assets"


def write_atomic(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` so that a reader (or a crash) never sees half a file.

    The bytes go to a temporary file beside ``path``, flushed to disk, then renamed over it; an
    existing file stays whole until the rename. The name carries the process and thread ids, so
    two writers of one file never share a temporary file.

    Raises:
        OSError: the folder is not writable, the disk is full, ...; ``path`` is then unchanged.
    """
    import threading

    target = Path(path)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        with tmp.open("wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
