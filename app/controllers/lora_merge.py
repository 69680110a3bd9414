"""A published LoRA repository of the catalogue → merged model → the convert wizard.

Fills :class:`app.views.lora_merge_dialog.LoraMergeDialog` and runs the flow: is the ``train``
extra here (a child process asks), which adapters of the chain are on disk (a missing one is
downloaded through the download queue), is the chosen folder the original LLaMA in Hugging Face
format (a quick look, then the ``convert-inspect`` job, which reads the shards in an isolated
process), is there space for the merged folder; then the ``lora-merge`` job, with progress and
Cancel, and on success :attr:`LoraMergeController.merged` (the folder and the quantization to
preselect). The checks themselves are :mod:`runtime.training.published` (Qt-free).
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QWidget

from app.controllers.downloads import Download, DownloadManager
from app.job_runner import JobRunner
from app.messages import error_text, user_message
from app.tasks import run_task
from app.views.hub_view import size_text
from app.views.lora_merge_dialog import LoraMergeDialog
from runtime.errors import AppError
from runtime.hub import CatalogueEntry
from runtime.hub.catalogue import free_disk
from runtime.models.convert import free_bytes
from runtime.training.published import (
    ExtraCheck,
    adapter_folder,
    check_base_folder,
    check_base_summary,
    check_space,
    default_out,
    final_vocabulary,
    merge_chain,
    merge_extra_check,
    merge_job_options,
    merged_bytes,
    recommended_quant,
)


class LoraMergeController(QObject):
    """One merge of one catalogue entry.

    Signals:
        merged(str, str): The merged folder and the quantization to preselect ("" when unknown).
    """

    merged = Signal(str, str)
    #: The Python whose train extra is checked (None: this one). Tests point it at one without.
    python: str | None = None

    def __init__(
        self,
        entries: Mapping[str, CatalogueEntry],
        downloads: DownloadManager,
        repo: str,
        *,
        ram: int,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.entries = entries
        self.downloads = downloads
        self.repo = repo
        self.ram = ram
        self.entry = entries.get(repo)
        self.dialog = LoraMergeDialog(repo, parent)
        self.chain: list[str] = []
        self.chain_error = ""
        self.extra: ExtraCheck | None = None
        self.summary: dict[str, Any] | None = None
        self.base_error = ""
        self._pending_base: str | None = None
        self._inspector = JobRunner(self)
        self._inspector.finished.connect(self._on_inspected)
        self._merger = JobRunner(self)
        self._merger.progress.connect(lambda done, total, _stage: self.dialog.set_progress(done, total))
        self._merger.finished.connect(self._on_merged)
        self.dialog.base_changed.connect(self.check_base)
        self.dialog.out_changed.connect(lambda _text: self.update())
        self.dialog.download_requested.connect(self.download_missing)
        self.dialog.merge_requested.connect(self.merge)
        self.dialog.cancel_requested.connect(self._merger.cancel)
        downloads.completed.connect(self._on_download_completed)
        try:
            self.chain = merge_chain(entries, repo)
        except AppError as exc:
            self.chain_error = error_text(exc)
        self.dialog.out_edit.setText(str(default_out(downloads.models_dir, repo)))
        self.refresh_chain()

    def start(self) -> LoraMergeDialog:
        """Show the dialog and ask (in a child process) whether torch is here."""
        self.dialog.status.setText(self.tr("Checking that this computer has what merging needs…"))
        python = self.python
        run_task(lambda: merge_extra_check(python), self._on_extra_checked)
        self.dialog.show()
        self.dialog.raise_()
        return self.dialog

    def _on_extra_checked(self, check: ExtraCheck | None, error: BaseException | None) -> None:
        if error is not None or check is None:
            check = ExtraCheck(False, str(error or ""), "", {})
        self.extra = check
        self.dialog.status.clear()
        self.update()

    # -- the chain ---------------------------------------------------------------------------------

    def adapters(self) -> dict[str, Path | None]:
        """Each repository of the chain and its folder on disk (None: not there whole)."""
        return {repo: adapter_folder(self.downloads.models_dir, repo) for repo in self.chain}

    def missing(self) -> list[str]:
        """The chain's repositories that are not on disk."""
        return [repo for repo, folder in self.adapters().items() if folder is None]

    def refresh_chain(self) -> None:
        """Show the chain: LLaMA + each adapter, on disk or not."""
        parts = [self.tr("LLaMA (the folder above)")]
        for repo, folder in self.adapters().items():
            state = self.tr("on disk") if folder is not None else self.tr("not downloaded")
            parts.append(f"<b>{html.escape(repo)}</b> ({state})")
        text = " + ".join(parts)
        if len(self.chain) > 1:
            text += "<br>" + self.tr(
                "The paper's recipe: this adapter is merged on top of {0}, which is merged into LLaMA first."
            ).format(html.escape(self.chain[-2]))
        self.dialog.set_chain(text, missing=bool(self.missing()))
        self.update()

    def download_missing(self) -> None:
        """Queue every missing adapter of the chain (they are small: about 1 GB each)."""
        for repo in self.missing():
            try:
                self.downloads.enqueue(repo, [], kind="lora")
            except AppError as exc:
                self.dialog.set_problem(error_text(exc))
                return
        self.dialog.download_button.setEnabled(False)
        self.dialog.status.setText(self.tr("Downloading the missing adapters; the merge can start when they are here."))

    def _on_download_completed(self, item: Download) -> None:
        if item.repo in self.chain:
            self.dialog.download_button.setEnabled(True)
            self.dialog.status.clear()
            self.refresh_chain()

    # -- the base ----------------------------------------------------------------------------------

    def check_base(self, folder: str) -> None:
        """Look at the chosen LLaMA folder: quickly here, then its shards in the ``convert-inspect`` job."""
        self.summary = None
        self.base_error = ""
        self.dialog.base_status.clear()
        if not folder:
            self.update()
            return
        try:
            check_base_folder(folder)
        except AppError as exc:
            self.base_error = error_text(exc)
            self.update()
            return
        if self._inspector.running:
            self._pending_base = folder  # checked when the running inspection ends
            return
        self.dialog.base_status.setText(self.tr("Checking {0}…").format(folder))
        self._inspector.start("convert-inspect", folder=folder)
        self.update()

    def _on_inspected(self, outcome: Any) -> None:
        pending, self._pending_base = self._pending_base, None
        if pending is not None and pending != self.dialog.base_edit.text().strip():
            self.check_base(self.dialog.base_edit.text().strip())
            return
        self.dialog.base_status.clear()
        if not outcome.ok:
            self.base_error = user_message(outcome.code, outcome.params, outcome.error or "")
        else:
            summary = dict((outcome.result or {}).get("checkpoint") or {})
            try:
                check_base_summary(summary, self.entry.params if self.entry is not None else "")
            except AppError as exc:
                self.base_error = error_text(exc)
            else:
                self.summary = summary
                self.dialog.base_status.setText(
                    self.tr("LLaMA, {layers} layers, hidden size {hidden}, {rows} tokens, {dtype}, {size}").format(
                        layers=summary.get("n_layers", 0),
                        hidden=summary.get("hidden", 0),
                        rows=f"{int(summary.get('embedding_rows') or 0):,}",
                        dtype=summary.get("dtype", ""),
                        size=size_text(int(summary.get("total_bytes") or 0)),
                    )
                )
        self.update()

    # -- what stops the merge ----------------------------------------------------------------------

    def needed_bytes(self) -> int:
        """Bytes the merged folder takes (0 until the base and the adapters are known)."""
        adapters = self.adapters()
        if self.summary is None or any(folder is None for folder in adapters.values()):
            return 0
        rows = final_vocabulary([folder for folder in adapters.values() if folder is not None])
        return merged_bytes(self.summary, rows)

    def problem(self) -> str:
        """The first thing that stops the merge now, translated ("" when nothing does)."""
        if self.chain_error:
            return self.chain_error
        if self.extra is not None and not self.extra.ready:
            return user_message(self.extra.code, self.extra.params, self.extra.message)
        if self.base_error:
            return self.base_error
        out = self.dialog.out_edit.text().strip()
        if not out:
            return self.tr("Choose a folder for the merged model.")
        if Path(out).expanduser().exists():
            return user_message("merge_out_exists", {"path": out}, f"{out} exists already.")
        needed = self.needed_bytes()
        if needed:
            try:
                check_space(out, needed)
            except AppError as exc:
                return error_text(exc)
        return ""

    def update(self) -> None:
        """Show the space needed and what stops the merge; enable Merge when nothing does."""
        if self.dialog.running:
            return
        needed = self.needed_bytes()
        out = self.dialog.out_edit.text().strip()
        if needed and out:
            parent = Path(out).expanduser().parent
            self.dialog.space_label.setText(
                self.tr("The merged model takes about {0}; {1} is free there.").format(
                    size_text(needed), size_text(free_bytes(parent))
                )
            )
        else:
            self.dialog.space_label.setText(self.tr("Known when the LLaMA folder has been checked."))
        problem = self.problem()
        self.dialog.set_problem(problem)
        ready = (
            not problem
            and self.extra is not None
            and self.summary is not None
            and not self.missing()
            and not self._inspector.running
        )
        self.dialog.set_ready(ready)
        if not ready and not problem and self.missing() and not self.dialog.status.text():
            self.dialog.status.setText(self.tr("Download the missing adapters first."))

    # -- the merge ---------------------------------------------------------------------------------

    def merge(self) -> None:
        """Run the ``lora-merge`` job (checked once more first)."""
        self.update()
        if not self.dialog.merge_button.isEnabled() or self._merger.running:
            return
        folders = [folder for folder in self.adapters().values() if folder is not None]
        out = Path(self.dialog.out_edit.text().strip()).expanduser()
        out.parent.mkdir(parents=True, exist_ok=True)
        base = Path(self.dialog.base_edit.text().strip()).expanduser()
        self.dialog.set_problem("")
        self.dialog.status.setText(self.tr("Merging {0} into {1}…").format(" + ".join(self.chain), base))
        self.dialog.set_running(True)
        self._merger.start("lora-merge", **merge_job_options(base, folders, out))

    def _on_merged(self, outcome: Any) -> None:
        self.dialog.set_running(False)
        if outcome.ok:
            out = str((outcome.result or {}).get("out", ""))
            self.dialog.status.setText(
                self.tr("Merged into {0}. The convert wizard makes a GGUF file of it.").format(out)
            )
            quant = ""
            if self.entry is not None:
                quant = recommended_quant(self.entry, ram=self.ram, free=free_disk(Path(out)))
            self.dialog.accept()
            self.merged.emit(out, quant)
            return
        if outcome.cancelled:
            self.dialog.status.setText(self.tr("The merge was cancelled; nothing was kept."))
        else:
            self.dialog.status.clear()
            self.dialog.set_problem(user_message(outcome.code, outcome.params, outcome.error or ""))
        self.dialog.set_ready(not self.problem())
