"""The download manager: a queue of hub downloads, each run as a ``hub-download`` job process.

One download runs at a time (the others wait in the queue: two transfers would only share the
same connection). Pause cancels the job and keeps its ``.part`` files; resume queues it again and
the job continues from the bytes on disk; cancel also removes the ``.part`` files. The queue is
saved in the data folder (``downloads.json``), so downloads that were running or waiting when
the app closed or crashed start again at the next start (:meth:`DownloadManager.resume_pending`).

The manager lives in :class:`app.main_window.AppContext`, not in a window: a language switch
rebuilds the window, not the downloads.
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal, Slot

from app.messages import user_message
from runtime import jobs
from runtime.errors import AppError, Notice, UntrustedJsonError
from runtime.hub.catalogue import models_dir_from_settings
from runtime.hub.download import discard_partial
from runtime.hub.manifest import check_repo_id, safe_repo_path
from runtime.paths import keep_aside, write_atomic
from runtime.untrusted_json import read_json_file

log = logging.getLogger(__name__)

QUEUED, RUNNING, PAUSED, DONE, FAILED = "queued", "running", "paused", "done", "failed"
# The saved queue is read up to this size (it is the app's own file, but a file on disk all the same).
MAX_QUEUE_BYTES = 1_000_000


@dataclass
class Download:
    """One download in the queue.

    Attributes:
        repo: The repository.
        files: The file names (all files when empty).
        state: queued, running, paused, done or failed.
        done, total: Bytes of all its files.
        file: The file in transfer; ``file_done`` of its ``file_total`` bytes are there.
        speed: Bytes per second.
        eta: Seconds left, or None.
        error: The message of a failed download.
        paths: The verified files once done.
        kind: The catalogue entry's format (gguf, full, lora): what "open" does with it.
    """

    repo: str
    files: list[str]
    state: str = QUEUED
    done: int = 0
    total: int = 0
    file: str = ""
    file_done: int = 0
    file_total: int = 0
    speed: float = 0.0
    eta: float | None = None
    error: str = ""
    paths: list[str] = field(default_factory=list)
    kind: str = "gguf"

    @property
    def key(self) -> str:
        """What identifies it in the queue."""
        return f"{self.repo}|{'|'.join(self.files)}"


class DownloadManager(QObject):
    """The queue of downloads.

    Signals:
        changed(object): A :class:`Download` changed (progress, state).
        added(object): A :class:`Download` joined the queue.
        removed(object): A :class:`Download` left the queue (cancelled or cleared).
        completed(object): A :class:`Download` finished and every file was verified.
    """

    changed = Signal(object)
    added = Signal(object)
    removed = Signal(object)
    completed = Signal(object)
    _event = Signal(object, object)
    _waited = Signal(object, object, object)

    def __init__(self, context: Any, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.ctx = context
        self.items: list[Download] = []
        self._process: jobs.JobProcess | None = None
        self._current: Download | None = None
        self._pausing = False
        self._closing = False
        self._event.connect(self._on_event)
        self._waited.connect(self._on_done, Qt.ConnectionType.QueuedConnection)
        self._load()

    # -- what the user does ------------------------------------------------------------------------

    @property
    def models_dir(self) -> Path:
        """The models folder of the settings."""
        return models_dir_from_settings(self.ctx.settings, self.ctx.paths.models)

    def enqueue(self, repo: str, files: list[str], *, kind: str = "gguf") -> Download:
        """Queue a download (or resume the same one if it is already there)."""
        check_repo_id(repo)
        for name in files:
            safe_repo_path(name)
        existing = next((d for d in self.items if d.repo == repo and d.files == files), None)
        if existing is not None:
            if existing.state in (PAUSED, FAILED, DONE):
                self.resume(existing)
            return existing
        item = Download(repo=repo, files=list(files), kind=kind)
        self.items.append(item)
        self.added.emit(item)
        self._save()
        self._next()
        return item

    def pause(self, item: Download) -> None:
        """Stop a running or queued download; its bytes on disk are kept."""
        if item is self._current and self._process is not None:
            self._pausing = True
            self._process.cancel()
        if item.state in (QUEUED, RUNNING):
            item.state = PAUSED
            item.speed, item.eta = 0.0, None
            self.changed.emit(item)
            self._save()

    def resume(self, item: Download) -> None:
        """Queue a paused or failed download again: it continues from the bytes on disk."""
        if item.state in (PAUSED, FAILED, DONE):
            item.state, item.error = QUEUED, ""
            self.changed.emit(item)
            self._save()
            self._next()

    def cancel(self, item: Download) -> None:
        """Stop a download and remove its partial files."""
        running = item is self._current and self._process is not None
        self.items = [d for d in self.items if d is not item]
        if running:
            self._pausing = True
            assert self._process is not None
            self._process.cancel()
        else:
            discard_partial(self.models_dir, item.repo, item.files)
        item.state = PAUSED if item.state != DONE else DONE
        self.removed.emit(item)
        self._save()

    def active(self) -> list[Download]:
        """The downloads running or waiting their turn (what closing the app would stop)."""
        return [d for d in self.items if d.state in (QUEUED, RUNNING)]

    def pause_all(self) -> None:
        """Pause every running or waiting download (their bytes on disk are kept)."""
        for item in self.active():
            self.pause(item)

    def resume_all(self) -> None:
        """Queue every paused download again."""
        for item in [d for d in self.items if d.state == PAUSED]:
            self.resume(item)

    def resume_pending(self) -> None:
        """Start the downloads that were running or waiting when the app last closed."""
        self._next()

    def shutdown(self) -> None:
        """Stop the running job: its bytes stay, and the saved queue still names it as running, so
        the next start resumes it (a pause would not)."""
        self._closing = True
        if self._process is not None:
            self._process.cancel()

    # -- the queue ---------------------------------------------------------------------------------

    def _next(self) -> None:
        if self._process is not None or self._closing:
            return
        item = next((d for d in self.items if d.state in (QUEUED, RUNNING)), None)
        if item is None:
            return
        settings = self.ctx.settings
        if settings.hub_offline:
            item.state = PAUSED
            item.error = self.tr("Offline mode is on: turn it off in Settings → Model hub to download.")
            self.changed.emit(item)
            return
        command = jobs.build_command(
            "hub-download",
            repo=item.repo,
            files=json.dumps(item.files, ensure_ascii=False) if item.files else None,
            endpoint=settings.hub_endpoint,
            proxy=settings.hub_proxy or None,
            models_dir=str(self.models_dir),
            network_log=str(self.ctx.paths.logs / "network.log"),
        )
        item.state, item.error = RUNNING, ""
        self._current = item
        self._pausing = False
        process = jobs.JobProcess(command, on_event=lambda event, it=item: self._event.emit(it, event))
        self._process = process
        process.start()
        self.changed.emit(item)
        self._save()
        # Waited for on a thread of its own, not Qt's global pool (as app.job_runner does): a
        # download runs for minutes to hours, and the pool's few threads serve the views' short tasks.
        threading.Thread(target=self._wait, args=(item, process), name="wait-hub-download", daemon=True).start()

    def _wait(self, item: Download, process: jobs.JobProcess) -> None:
        try:
            outcome, error = process.wait(), None
        except Exception as exc:  # noqa: BLE001 - reported as the download's failure
            outcome, error = None, exc
        try:
            self._waited.emit(item, outcome, error)
        except RuntimeError:
            pass  # the manager was deleted: nobody is left to tell

    @Slot(object, object)
    def _on_event(self, item: Download, event: dict[str, Any]) -> None:
        if event.get("event") != "progress" or item is not self._current:
            return
        try:
            item.done = int(event.get("done") or 0)
            item.total = int(event.get("total") or 0)
            item.file = str(event.get("file") or "")[:300]
            item.file_done = int(event.get("file_done") or 0)
            item.file_total = int(event.get("file_total") or 0)
            item.speed = float(event.get("speed") or 0.0)
            eta = event.get("eta")
            item.eta = float(eta) if isinstance(eta, int | float) else None
        except (TypeError, ValueError):
            return
        self.changed.emit(item)

    def _on_done(self, item: Download, outcome: Any, error: BaseException | None) -> None:
        if self._closing:
            return  # the app is closing: the saved queue keeps the download for the next start
        self._process = None
        self._current = None
        pausing, self._pausing = self._pausing, False
        if item not in self.items:
            # Cancelled while running: the job has ended, so its partial files can go.
            discard_partial(self.models_dir, item.repo, item.files)
        elif error is None and outcome.ok:
            item.state = DONE
            item.paths = [str(p) for p in (outcome.result or {}).get("files", [])]
            item.done = item.total = max(item.total, item.done)
            item.speed, item.eta = 0.0, None
            self.changed.emit(item)
            self.completed.emit(item)
        elif pausing or (outcome is not None and outcome.cancelled):
            item.state = PAUSED
            item.speed, item.eta = 0.0, None
            self.changed.emit(item)
        else:
            item.state = FAILED
            if error is not None:
                item.error = str(error)
            else:
                item.error = user_message(outcome.code, outcome.params, outcome.error or "")
            item.speed, item.eta = 0.0, None
            self.changed.emit(item)
        self._save()
        self._next()

    # -- the saved queue ---------------------------------------------------------------------------

    @property
    def _file(self) -> Path:
        return Path(self.ctx.paths.data) / "downloads.json"

    def _keep_bad_queue(self, reason: str) -> None:
        """Move an unreadable queue aside (saving would overwrite it) and tell the first window's banner."""
        path = self._file
        try:
            kept = keep_aside(path, "bad")
        except OSError as exc:
            log.warning("download queue %s unusable (%s), and not moved aside: %s", path, reason, exc)
            return
        log.warning("download queue %s unusable (%s); kept as %s", path, reason, kept)
        notice = Notice(
            f"The download queue {path} could not be read ({reason}). It was kept as {kept.name}; start the "
            f"downloads that were waiting again from the model hub.",
            code="downloads_queue_kept_aside",
            params={"path": str(path), "reason": reason, "kept": kept.name},
        )
        self.ctx.notices = (*self.ctx.notices, notice)

    def _save(self) -> None:
        data = [asdict(d) for d in self.items if d.state != DONE]
        try:
            write_atomic(self._file, json.dumps({"version": 1, "downloads": data}, ensure_ascii=False).encode())
        except OSError as exc:
            log.warning("could not save the download queue: %s", exc)

    def _load(self) -> None:
        try:
            raw = read_json_file(self._file, max_bytes=MAX_QUEUE_BYTES)
        except UntrustedJsonError as exc:
            self._keep_bad_queue(exc.reason)
            return
        except OSError:
            return  # none yet (or unreadable: then it cannot be replaced either)
        if not isinstance(raw, dict) or not isinstance(raw.get("downloads", []), list):
            self._keep_bad_queue("it is not a download queue (an object with a list of downloads)")
            return
        saved = raw.get("downloads")
        for entry in saved if isinstance(saved, list) else []:
            try:
                repo = check_repo_id(entry["repo"])
                files = [str(safe_repo_path(name)) for name in entry.get("files") or []]
                state = entry.get("state") if entry.get("state") in (QUEUED, RUNNING, PAUSED, FAILED) else PAUSED
                kind = entry.get("kind") if entry.get("kind") in ("gguf", "full", "lora") else "gguf"
            except (KeyError, TypeError, AttributeError, ValueError, AppError):  # a bad entry is skipped
                continue
            self.items.append(
                Download(
                    repo=repo,
                    files=files,
                    state=QUEUED if state == RUNNING else state,
                    kind=kind,
                    done=int(entry.get("done") or 0) if isinstance(entry.get("done"), int) else 0,
                    total=int(entry.get("total") or 0) if isinstance(entry.get("total"), int) else 0,
                )  # fmt: skip
            )
