"""The one place that knows where Alpaca Desk keeps its files.

Every directory comes from platformdirs and can be overridden by an environment variable
(``ALPACA_DESK_CONFIG_DIR``, ``..._DATA_DIR``, ``..._CACHE_DIR``, ``..._LOG_DIR``,
``..._MODELS_DIR``) or all at once with ``ALPACA_DESK_HOME`` / ``--data-dir DIR``, which tests use.
"""

from __future__ import annotations

import os
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
        """Create the directories that do not exist yet and return self."""
        for path in (self.config, self.data, self.cache, self.logs, self.models):
            path.mkdir(parents=True, exist_ok=True)
        return self


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
    resolved = {key: Path(os.environ.get(f"ALPACA_DESK_{key.upper()}_DIR") or value) for key, value in defaults.items()}
    return AppPaths(**resolved)


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
