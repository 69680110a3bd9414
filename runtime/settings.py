"""The user's settings: one typed schema with defaults, saved atomically as JSON.

Unknown keys are ignored (a newer version's file still opens) and ``version`` drives
upgrades. Window geometry is Qt's business (QSettings), not this file's.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runtime.chat.params import DecodingParams

log = logging.getLogger(__name__)

SETTINGS_VERSION = 1
MAX_RECENT = 10
LANGUAGES = ("system", "en", "zh_CN")


@dataclass
class Settings:
    """Everything the app remembers between runs."""

    version: int = SETTINGS_VERSION
    language: str = "system"  # "system" follows the OS locale
    recent_models: list[str] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=lambda: DecodingParams().to_dict())
    n_threads: int | None = None
    n_gpu_layers: int = 0
    show_decoding_panel: bool = True
    show_tokenizer_panel: bool = False

    def decoding_params(self) -> DecodingParams:
        """The saved decoding parameters, or the paper's defaults if they are invalid."""
        if not isinstance(self.params, dict):
            return DecodingParams()
        try:
            return DecodingParams.from_dict(self.params)
        except (ValueError, TypeError):
            return DecodingParams()

    def add_recent_model(self, path: str) -> None:
        """Put ``path`` first in the recent models list."""
        self.recent_models = [path, *(p for p in self.recent_models if p != path)][:MAX_RECENT]


def load_settings(path: Path) -> Settings:
    """Read settings; a missing or unreadable file gives the defaults (and a log line)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return Settings()
    except (OSError, ValueError) as exc:
        log.warning("settings file %s unreadable (%s); using defaults", path, exc)
        return Settings()
    if not isinstance(data, dict):
        return Settings()
    known = {f.name for f in dataclasses.fields(Settings)}
    settings = Settings(**{k: v for k, v in data.items() if k in known})
    if settings.language not in LANGUAGES:
        settings.language = "system"
    if not isinstance(settings.recent_models, list):
        settings.recent_models = []
    settings.recent_models = [str(p) for p in settings.recent_models][:MAX_RECENT]
    settings.version = SETTINGS_VERSION
    return settings


def save_settings(settings: Settings, path: Path) -> None:
    """Write settings atomically: a crash mid-write leaves the previous file intact."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".settings-", suffix=".json", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(dataclasses.asdict(settings), handle, ensure_ascii=False, indent=2)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
