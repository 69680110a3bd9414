"""What outlives a main window: paths, settings, the conversation store, the inference host, the downloads.

Apart from the window so that the controllers the window builds can name it without importing
the window back.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from app.inference_client import InferenceClient
from app.messages import error_text
from runtime.errors import Notice, StoreError
from runtime.paths import AppPaths, app_paths
from runtime.settings import Settings, load_settings, save_settings
from runtime.store import ConversationStore, open_store

log = logging.getLogger(__name__)


@dataclass
class AppContext:
    """What outlives a main window (a language switch rebuilds the window, not these)."""

    paths: AppPaths
    settings: Settings
    store: ConversationStore
    client: InferenceClient
    store_warning: str = ""
    #: What opening the settings and the store found (a setting reset, a damaged file kept
    #: aside); app.notices shows them once, in the first window's banner.
    notices: tuple[Notice, ...] = ()
    # The download queue (app.controllers.downloads), made by the first window; it outlives windows.
    downloads: Any = None

    @classmethod
    def open(cls, *, show_errors: bool = True) -> AppContext:
        """Open settings, the conversation store and start the inference host."""
        paths = app_paths().ensure()
        settings, notices = load_settings(paths.settings_file)
        warning = ""
        try:
            # A damaged file is kept aside there, and a new one started at the same path.
            store, store_notices = open_store(paths.conversations_db)
            notices += store_notices
        except StoreError as exc:
            # Never overwrite the user's file: keep it for recovery and chat in a new one.
            fallback = paths.data / f"conversations-{time.strftime('%Y%m%d-%H%M%S')}.sqlite3"
            log.error("cannot open %s: %s; using %s", paths.conversations_db, exc, fallback)
            warning = error_text(exc)
            store = ConversationStore(fallback)
        client = InferenceClient()
        client.start()
        return cls(
            paths=paths, settings=settings, store=store, client=client, store_warning=warning, notices=tuple(notices)
        )

    def save_settings(self) -> None:
        """Write the settings file (atomic)."""
        try:
            save_settings(self.settings, self.paths.settings_file)
        except OSError as exc:
            log.warning("could not save settings: %s", exc)

    def close(self) -> None:
        """End the host and the running download (resumed at the next start), close the store."""
        if self.downloads is not None:
            self.downloads.shutdown()
        self.client.shutdown()
        self.store.close()
