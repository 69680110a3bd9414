"""The hub's "Speed up with the 1.3B model": download the 1.3B model that drafts for a 7B or 13B
second-generation entry (:meth:`runtime.hub.Catalogue.drafter_for`) as the user's own Download
would, and once its file is verified, make it the draft model of speculative decoding."""

from __future__ import annotations

from typing import Any, Protocol

from PySide6.QtCore import QObject, Signal

from app.controllers.downloads import Download, DownloadManager
from runtime.hub import Catalogue, CatalogueEntry

__all__ = ["DrafterOffer", "Hub", "drafter_file"]

#: The drafter's quantization when the entry's chosen file names none the drafter has: small and
#: quick to decode, which is what a drafter is for.
DEFAULT_DRAFTER_QUANT = "Q4_0"


def drafter_file(target: CatalogueEntry, chosen: str, drafter: CatalogueEntry) -> str:
    """The file of ``drafter`` to download: the quantization of ``target``'s file ``chosen`` where the
    drafter has it, else :data:`DEFAULT_DRAFTER_QUANT`, else its first file; "" (every file) for
    full weights, which have no files listed."""
    if not drafter.files:
        return ""
    quant = next((f.quant for f in target.files if f.name == chosen), "")
    for wanted in (quant, DEFAULT_DRAFTER_QUANT):
        for file in drafter.files:
            if wanted and file.quant.upper() == wanted.upper():
                return file.name
    return drafter.files[0].name


class Hub(Protocol):
    """What the offer uses of :class:`app.controllers.hub.HubController` (which imports this module)."""

    entries: dict[str, CatalogueEntry]
    downloads: DownloadManager
    dialog: Any

    def download(self, repo: str, name: str) -> Download | None: ...


class DrafterOffer(QObject):
    """Starts drafter downloads for the hub dialog and follows them to their end.

    The request is remembered by this window's hub controller only: a download that outlives the
    window (a language switch, a restart) finishes, but is not made the draft model.

    Signals:
        ready(str): A drafter's GGUF file is verified on disk: make it the draft model.
    """

    ready = Signal(str)

    def __init__(self, hub: Hub, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.hub = hub
        self._pending: set[str] = set()  # the Download keys of drafters asked for
        hub.downloads.completed.connect(self._on_completed)

    def start(self, repo: str, chosen: str = "") -> Download | None:
        """Download the drafter of ``repo`` (its file ``chosen`` gives the quantization)."""
        entry = self.hub.entries.get(repo)
        drafter = Catalogue(tuple(self.hub.entries.values())).drafter_for(entry) if entry is not None else None
        if entry is None or drafter is None:
            return None
        item = self.hub.download(drafter.repo, drafter_file(entry, chosen, drafter))
        if item is None:
            return None  # refused: the hub controller said why
        self._pending.add(item.key)
        if item.kind == "gguf":
            text = self.tr("Downloading {0}: once it is verified, it becomes the draft model.")
        else:
            text = self.tr(
                "Downloading {0} (full weights): convert it to GGUF, then choose the file with Draft model… "
                "in the decoding panel."
            )
        self._note(text.format(drafter.repo))
        return item

    def _on_completed(self, item: Download) -> None:
        if item.key not in self._pending:
            return
        self._pending.discard(item.key)
        ggufs = [p for p in item.paths if p.lower().endswith(".gguf")]
        if item.kind != "gguf" or not ggufs:
            return  # full weights: the note said what to do
        self.ready.emit(ggufs[0])
        self._note(
            self.tr(
                "{0} is the draft model now (Speculative decoding: Draft model); it drafts from the next load "
                "of the model."
            ).format(item.repo)
        )

    def _note(self, text: str) -> None:
        if self.hub.dialog is not None:
            self.hub.dialog.show_drafter_note(text)
