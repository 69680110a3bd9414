"""The "Get models" flow: the catalogue (snapshot, refreshed from the hub when online), search,
downloads through :class:`app.controllers.downloads.DownloadManager`, "Chat with it", and the hub
settings (endpoint, proxy, token, models folder, offline mode, the network log)."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QWidget
from shiboken6 import isValid

from app.catalogue_texts import catalogue_text
from app.controllers import dialog_parent
from app.controllers.downloads import DONE, FAILED, PAUSED, QUEUED, RUNNING, Download, DownloadManager
from app.controllers.drafter_offer import DrafterOffer
from app.messages import error_text
from app.plan_texts import file_plan, star_reason
from app.tasks import run_task
from app.views.hub_view import HubDialog, size_text
from app.window_geometry import fit_to_screen
from runtime.errors import AppError
from runtime.hub import (
    Catalogue,
    CatalogueEntry,
    HubClient,
    files_on_disk,
    find_gguf_files,
    hub_config_from_settings,
    load_catalogue,
    recommend,
    refresh_entry,
)
from runtime.hub.catalogue import SEARCH_RESULT_LICENCE, free_disk, memory_needed, total_memory
from runtime.models.machine import Machine, this_machine

if TYPE_CHECKING:
    from app.context import AppContext

log = logging.getLogger(__name__)


def has_any_model(context: AppContext) -> bool:
    """Whether a model is installed: a recent model, or a GGUF file in the models folder."""
    if context.settings.recent_models:
        return True
    manager = context.downloads
    folder = manager.models_dir if manager is not None else context.paths.models
    return bool(find_gguf_files(folder, limit=1))


class HubController(QObject):
    """Fills the :class:`HubDialog` and carries out what the user asks in it.

    Signals:
        open_model(str): "Chat with it": load this GGUF file.
        convert_requested(str, str): "Convert to GGUF…" on downloaded full weights: the folder, and
            the quantization recommended for this computer ("" when unknown). The convert-and-quantize
            wizard (issue 10) connects here; until it does, the dialog only says where the weights are.
        error(str): A message for the window.
    """

    open_model = Signal(str)
    convert_requested = Signal(str, str)
    error = Signal(str)

    def __init__(self, context: AppContext, downloads: DownloadManager, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = context
        self.downloads = downloads
        self.dialog: HubDialog | None = None
        self.catalogue: Catalogue | None = None
        self.entries: dict[str, CatalogueEntry] = {}
        self._refreshing: set[str] = set()
        self._ram = total_memory()
        # This computer's figures for the planner: None until the probe's cache is read or the
        # probe (off this thread) ends.
        self.machine: Machine | None = None
        self._probing = False
        # Set by whoever connects the convert wizard to :attr:`convert_requested` (issue 10).
        self.convert_wizard_connected = False
        # The "Merge with LLaMA weights…" flow of a LoRA entry (app.controllers.lora_merge), while open.
        self.merge_controller: Any = None
        downloads.added.connect(self._show_download)
        downloads.changed.connect(self._show_download)
        downloads.removed.connect(self._remove_download)
        downloads.completed.connect(self._on_completed)
        # "Speed up with the 1.3B model": its ready(path) makes the download the draft model.
        self.drafter_offer = DrafterOffer(self, self)

    # -- the dialog --------------------------------------------------------------------------------

    def open_dialog(self) -> HubDialog:
        """Show the catalogue and downloads (built once per window)."""
        if self.dialog is None:
            dialog = HubDialog(dialog_parent(self))
            dialog.entry_selected.connect(self._on_entry_selected)
            dialog.verify_requested.connect(self.verify_repo)
            dialog.download_requested.connect(self.download)
            dialog.search_requested.connect(self.search)
            dialog.settings_requested.connect(self.open_settings)
            dialog.pause_requested.connect(self.downloads.pause)
            dialog.resume_requested.connect(self.downloads.resume)
            dialog.cancel_requested.connect(self.downloads.cancel)
            dialog.open_requested.connect(self.open_download)
            dialog.merge_requested.connect(self.open_merge)
            dialog.drafter_requested.connect(self.drafter_offer.start)
            self.dialog = dialog
            for item in self.downloads.items:
                self._show_download(item)
            self.load_catalogue()
            self._probe_machine()
        self.dialog.show()
        fit_to_screen(self.dialog)  # opened at 1000x720, more than a small or scaled screen has
        self.dialog.raise_()
        return self.dialog

    def _probe_machine(self) -> None:
        if self.machine is not None or self._probing:
            return
        machine = this_machine(measure=False)
        if machine is not None:
            self.set_machine(machine)
            return
        # Nothing cached for this CPU: the probe takes a few hundred ms, never on this thread.
        self._probing = True
        run_task(this_machine, self._on_probed)

    def _on_probed(self, machine: Machine | None, error: BaseException | None) -> None:
        self._probing = False
        if not isValid(self) or (self.dialog is not None and not isValid(self.dialog)):
            return  # the window closed while the probe ran
        if error is not None:
            log.warning("machine probe failed: %s", error)
        if machine is not None and self.machine is None:
            self.set_machine(machine)

    def set_machine(self, machine: Machine) -> None:
        """Plan the catalogue's files on ``machine`` (this computer's figures, or a test's) and show it."""
        self.machine = machine
        self._show_entries()
        if self.dialog is not None and self.dialog.selected_repo() in self.entries:
            self._show_details(self.entries[self.dialog.selected_repo()])

    def load_catalogue(self) -> None:
        """Read the shipped snapshot (bounded and checked) and show it."""
        try:
            catalogue = load_catalogue()
        except AppError as exc:
            self.error.emit(error_text(exc))
            return
        self.catalogue = catalogue
        for entry in catalogue.entries:
            self.entries.setdefault(entry.repo, entry)
        for problem in catalogue.problems:
            log.warning("catalogue: %s", problem)
        self._show_source()
        self._show_entries()

    def _online(self) -> bool:
        return not self.ctx.settings.hub_offline

    def _show_source(self, problem: str = "") -> None:
        if self.dialog is None or self.catalogue is None:
            return
        if not self._online():
            text = self.tr(
                "Offline mode is on: this is the catalogue shipped with Alpaca Desk ({0}); sizes are estimates. "
                "Nothing is sent anywhere."
            ).format(self.catalogue.snapshot)
        elif problem:
            text = self.tr("The hub could not be asked, so this is the shipped catalogue ({0}): {1}").format(
                self.catalogue.snapshot, problem
            )
        else:
            text = self.tr(
                "The Chinese-LLaMA / Chinese-Alpaca family on {0}. A model's file list and sizes are "
                "asked of the hub when you choose it."
            ).format(self.ctx.settings.hub_endpoint)
        self.dialog.set_source(text)

    def _show_entries(self) -> None:
        if self.dialog is None:
            return
        models_dir = self.downloads.models_dir
        pick = self._recommendation()
        rows = []
        for repo, entry in self.entries.items():
            on_disk = files_on_disk(entry, models_dir)
            name = repo.split("/", 1)[1]
            if pick is not None and pick.repo == repo:
                name = "★ " + name
            rows.append(
                (
                    repo,
                    [
                        name,
                        self._kind_text(entry, short=True),
                        _size_range(entry),
                        f"{entry.context // 1024}K",
                        self.tr("{0} file(s)").format(len(on_disk)) if on_disk else "",
                    ],
                )
            )
        self.dialog.set_entries(rows)
        if pick is not None:
            text = self.tr("★ Recommended for this computer ({0} memory, {1} free): {2}, file {3}.").format(
                size_text(self._ram), size_text(free_disk(models_dir)), pick.repo, pick.file
            )
            reason = star_reason(pick)
            self.dialog.set_recommendation(self.tr("{0} Expected: {1}.").format(text, reason) if reason else text)
        else:
            self.dialog.set_recommendation("")

    def _recommendation(self) -> Any:
        if self.catalogue is None:
            return None
        catalogue = Catalogue(tuple(self.entries.values()), self.catalogue.snapshot)
        # The memory-only rule until the machine's figures are known (:meth:`_probe_machine`).
        return recommend(catalogue, ram=self._ram, free=free_disk(self.downloads.models_dir), machine=self.machine)

    def _kind_text(self, entry: CatalogueEntry, *, short: bool = False) -> str:
        role = self.tr("instruct") if entry.role == "instruct" else self.tr("base")
        fmt = {
            "gguf": self.tr("GGUF"),
            "full": self.tr("full weights"),
            "lora": self.tr("LoRA, needs merge"),
        }[entry.format]
        if short:
            return f"{role} · {fmt}"
        params = f" {entry.params}" if entry.params else ""
        variant = f" {entry.variant}" if entry.variant else ""
        return self.tr("{role} · gen {gen}{params}{variant} · {fmt}").format(
            role=role, gen=entry.generation, params=params, variant=variant, fmt=fmt
        )

    def _on_entry_selected(self, repo: str) -> None:
        entry = self.entries.get(repo)
        if entry is None:
            return
        self._show_details(entry)
        if self._online() and not entry.exact and repo not in self._refreshing:
            self._refreshing.add(repo)
            settings, logs = self.ctx.settings, self.ctx.paths.logs

            def ask() -> CatalogueEntry:
                return refresh_entry(entry, HubClient(hub_config_from_settings(settings, logs=logs)))

            run_task(ask, lambda result, error, r=repo: self._on_refreshed(r, result, error))

    def _on_refreshed(self, repo: str, entry: CatalogueEntry | None, error: BaseException | None) -> None:
        self._refreshing.discard(repo)
        if not isValid(self) or (self.dialog is not None and not isValid(self.dialog)):
            return  # the window closed while the hub was asked
        if error is not None or entry is None:
            self._show_source(error_text(error) if isinstance(error, Exception) else "")
            return
        self.entries[repo] = entry
        self._show_entries()
        if self.dialog is not None and self.dialog.selected_repo() == repo:
            self._show_details(entry)

    def _show_details(self, entry: CatalogueEntry) -> None:
        if self.dialog is None:
            return
        on_disk = files_on_disk(entry, self.downloads.models_dir)
        pick = self._recommendation()
        what = {
            "gguf": self.tr("Ready to chat: download one file (a quantization level)."),
            "full": self.tr(
                "Full Hugging Face weights: after the download, the convert wizard makes a GGUF file "
                "with the quantization recommended for this computer."
            ),
            "lora": self.tr(
                "First-generation LoRA weights: they need the original LLaMA weights from Meta and a merge "
                "before they can be converted and used."
            ),
        }[entry.format]
        if entry.merge_after:
            what += " " + self.tr("The paper's recipe merges it on top of {0}: LLaMA + {0} + {1}.").format(
                entry.merge_after, entry.repo
            )
        drafter = Catalogue(tuple(self.entries.values())).drafter_for(entry)
        if drafter is not None:
            what += " " + self.tr(
                "{0}, of the same vocabulary, can draft for it in speculative decoding (Speed up with the 1.3B model)."
            ).format(drafter.repo)
        # The interface's language, whichever way it was chosen ("system" included).
        licence = catalogue_text(entry.licence, entry.licence_zh)
        sizes = self.tr("Sizes from the hub.") if entry.exact else self.tr("Sizes are the snapshot's estimates.")
        html = self.tr(
            "<b>{repo}</b><br>{kind}<br>{what}<br>Context: {ctx} tokens · Template: {template}<br>"
            "Licence: {licence}<br><i>{sizes}</i>"
        ).format(
            repo=entry.repo,
            kind=self._kind_text(entry),
            what=what,
            ctx=f"{entry.context:,}",
            template=entry.template,
            licence=licence,
            sizes=sizes,
        )
        files = []
        for file in entry.files:
            recommended = pick is not None and pick.repo == entry.repo and pick.file == file.name
            planned = (
                file_plan(entry, file, self.machine) if self.machine is not None and entry.format == "gguf" else None
            )
            texts = [
                file.name,
                file.quant,
                size_text(file.size),
                planned.text if planned is not None else size_text(memory_needed(entry, file)),
                self.tr("yes") if file.name in on_disk else "",
            ]
            tip = planned.tooltip if planned is not None else ""
            if recommended and pick.tokens_per_second:
                tip = "★ " + star_reason(pick) + ("\n" + tip if tip else "")
            files.append((file.name, texts, recommended, tip))
        if not entry.files:
            texts = [self.tr("(every file of the repository)"), "", size_text(entry.size) if entry.size else "", "", ""]
            files.append(("", texts, False, ""))
        label = self.tr("Download") if entry.files else self.tr("Download all files")
        self.dialog.set_details(html, files, download_label=label)
        self.dialog.set_drafter(shown=drafter is not None)
        if entry.format == "lora":
            from runtime.training.published import adapter_folder

            # Downloaded here, or put into the models folder by hand (huggingface-cli --local-dir).
            whole = adapter_folder(self.downloads.models_dir, entry.repo) is not None
            self.dialog.set_merge(shown=True, enabled=whole)
        else:
            self.dialog.set_merge(shown=False, enabled=False)

    def verify_repo(self, repo: str) -> None:
        """Re-check the files of ``repo`` on disk against the SHA-256 recorded when they were downloaded."""
        from runtime.hub import verify
        from runtime.hub.manifest import repo_folder

        if not repo or self.dialog is None:
            return
        models_dir = self.downloads.models_dir
        folder = repo_folder(models_dir, repo)
        self.dialog.verify_result.setText(self.tr("Verifying…"))

        def check() -> list[Any]:
            return verify(folder, models_dir=models_dir) if folder.exists() else []

        run_task(check, lambda results, error: self._on_verified(repo, results, error))

    def _on_verified(self, repo: str, results: list[Any] | None, error: BaseException | None) -> None:
        if self.dialog is None or self.dialog.selected_repo() != repo:
            return
        if error is not None or results is None:
            text = error_text(error) if isinstance(error, Exception) else ""
        elif not results:
            text = self.tr("Nothing of this model is on disk.")
        else:
            bad = [Path(r.path).name for r in results if r.status in ("mismatch", "missing")]
            if bad:
                text = self.tr("Damaged or missing: {0}. Download them again.").format(", ".join(bad))
            else:
                text = self.tr("{0} file(s) checked: each matches the hub's SHA-256.").format(len(results))
        self.dialog.verify_result.setText(text)

    # -- search ------------------------------------------------------------------------------------

    def search(self, text: str) -> None:
        """Find GGUF repositories on the hub whose name contains ``text`` and list them."""
        if not text:
            return
        if not self._online():
            self._show_source()
            return
        settings, logs = self.ctx.settings, self.ctx.paths.logs
        run_task(
            lambda: HubClient(hub_config_from_settings(settings, logs=logs)).search_gguf(text),
            self._on_found,
        )

    def _on_found(self, repos: list[str] | None, error: BaseException | None) -> None:
        if error is not None or repos is None:
            self._show_source(error_text(error) if isinstance(error, Exception) else "")
            return
        for repo in repos:
            if repo not in self.entries:
                self.entries[repo] = CatalogueEntry(
                    repo=repo, format="gguf", role="instruct" if "alpaca" in repo.lower() else "base",
                    generation=2 if "-2" in repo else 1, params="", variant="", context=4096, template="auto",
                    needs_merge=False, licence=SEARCH_RESULT_LICENCE, licence_zh="",
                )  # fmt: skip
        self._show_entries()
        if repos and self.dialog is not None:
            self.dialog.select_repo(repos[0])

    # -- downloads ---------------------------------------------------------------------------------

    def download(self, repo: str, name: str) -> Download | None:
        """Queue ``name`` of ``repo`` ("" = every file)."""
        entry = self.entries.get(repo)
        kind = entry.format if entry is not None else "gguf"
        try:
            return self.downloads.enqueue(repo, [name] if name else [], kind=kind)
        except AppError as exc:
            self.error.emit(error_text(exc))
            return None

    def _show_download(self, item: Download) -> None:
        if self.dialog is None:
            return
        name = f"{item.repo} · {', '.join(item.files) or self.tr('every file')}"
        percent = int(1000 * item.done / item.total) if item.total else 0
        speed = f"{item.speed / 1e6:.1f} MB/s" if item.state == RUNNING and item.speed else ""
        eta = duration_text(item.eta) if item.state == RUNNING and item.eta is not None else ""
        state = {
            QUEUED: self.tr("Waiting"),
            RUNNING: self.tr("Downloading {0}: {1}%").format(item.file, item.file_done * 100 // item.file_total)
            if item.file and item.file_total
            else self.tr("Starting"),
            PAUSED: self.tr("Paused"),
            DONE: self.tr("Verified"),
            FAILED: self.tr("Failed"),
        }.get(item.state, item.state)
        busy = item.state == RUNNING and not item.total
        self.dialog.show_download(item, [name, speed, eta, state], percent=percent, busy=busy, error=item.error)

    def _remove_download(self, item: Download) -> None:
        if self.dialog is not None:
            self.dialog.remove_download(item)

    def _on_completed(self, item: Download) -> None:
        if self.dialog is not None:
            self._show_entries()
            repo = self.dialog.selected_repo()
            if repo in self.entries:
                self._show_details(self.entries[repo])

    def open_download(self, item: Download) -> None:
        """ "Chat with it" for a GGUF; the convert wizard for full weights."""
        ggufs = [p for p in item.paths if p.lower().endswith(".gguf")]
        if item.kind == "gguf" and ggufs:
            self.open_model.emit(ggufs[0])
            if self.dialog is not None:
                self.dialog.hide()
            return
        if item.kind == "lora":
            self.open_merge(item.repo)
            return
        folder = str(Path(item.paths[0]).parent) if item.paths else ""
        self.open_in_convert_wizard(folder, self.recommended_quant(item.repo))

    def recommended_quant(self, repo: str) -> str:
        """The quantization to preselect for full weights: the best one of the same model's GGUF
        repository (``REPO-gguf``) that fits this computer, or ""."""
        from runtime.hub.catalogue import best_quant

        sibling = self.entries.get(f"{repo}-gguf")
        if sibling is None:
            return ""
        return best_quant(sibling, ram=self._ram, free=free_disk(self.downloads.models_dir))

    def open_in_convert_wizard(self, path: str, quant: str = "") -> None:
        """Hand downloaded full weights to the convert-and-quantize wizard (issue 10).

        The hook: the wizard connects to :attr:`convert_requested` (the folder and the recommended
        quantization). Until it exists, the dialog says where the weights are.
        """
        self.convert_requested.emit(path, quant)
        if self.dialog is not None and not self.convert_wizard_connected:
            self.dialog.download_error.setText(
                self.tr("The weights are in {0}. Converting them to GGUF comes with the convert wizard.").format(path)
            )

    def open_merge(self, repo: str) -> Any:
        """ "Merge with LLaMA weights…" of a LoRA entry: the merge dialog; its result goes to the
        convert wizard with the recommended quantization. Returns the dialog."""
        from app.controllers.lora_merge import LoraMergeController

        if not repo or repo not in self.entries:
            return None
        previous = self.merge_controller
        if previous is not None and previous.dialog.isVisible() and previous.repo == repo:
            previous.dialog.raise_()
            return previous.dialog
        parent = self.dialog if self.dialog is not None else dialog_parent(self)
        controller = LoraMergeController(self.entries, self.downloads, repo, ram=self._ram, parent=parent)
        controller.merged.connect(self.open_in_convert_wizard)
        self.merge_controller = controller
        return controller.start()

    # -- settings ----------------------------------------------------------------------------------

    def open_settings(self) -> None:
        """The hub settings: endpoint, proxy, token, models folder, offline mode, downloads in the
        tray, network log."""
        from app.views.hub_settings_view import HubSettingsDialog

        parent = self.dialog if self.dialog is not None and self.dialog.isVisible() else dialog_parent(self)
        settings = self.ctx.settings
        dialog = HubSettingsDialog(parent)
        dialog.set_values(
            endpoint=settings.hub_endpoint,
            proxy=settings.hub_proxy,
            offline=settings.hub_offline,
            models_folder=settings.models_folder or str(self.ctx.paths.models),
            keep_in_tray=settings.keep_downloading_in_tray,
        )
        dialog.show_log(self.ctx.paths.logs / "network.log")
        dialog.applied.connect(lambda values: self.apply_settings(values, dialog))
        dialog.show()
        self._settings_dialog = dialog

    def apply_settings(self, values: dict[str, Any], dialog: Any = None) -> bool:
        """Check and save hub settings; the token goes to the keyring. Applied at once (no restart)."""
        from runtime.hub.endpoint import normalize_endpoint
        from runtime.hub.token import save_token

        try:
            endpoint = normalize_endpoint(values["endpoint"])
            proxy = str(values.get("proxy") or "").strip()
            if proxy:
                normalize_endpoint(proxy)
        except AppError as exc:
            if dialog is not None:
                dialog.show_problem(error_text(exc))
            return False
        settings = self.ctx.settings
        changed = endpoint != settings.hub_endpoint or bool(values.get("offline")) != settings.hub_offline
        settings.hub_endpoint = endpoint
        settings.hub_proxy = proxy
        settings.hub_offline = bool(values.get("offline"))
        if "keep_in_tray" in values:
            settings.keep_downloading_in_tray = bool(values["keep_in_tray"])
        folder = str(values.get("models_folder") or "").strip()
        settings.models_folder = "" if folder == str(self.ctx.paths.models) else folder
        self.ctx.save_settings()
        token = values.get("token")
        if token is not None:

            def store() -> None:
                save_token(endpoint, str(token))

            def stored(_result: Any, error: BaseException | None) -> None:
                if error is not None and dialog is not None:
                    dialog.show_problem(error_text(error) if isinstance(error, Exception) else str(error))

            run_task(store, stored)
        if changed:
            self.entries = {repo: replace(e, exact=False) for repo, e in self.entries.items()}
        self._show_source()
        self._show_entries()
        return True


def _size_range(entry: CatalogueEntry) -> str:
    """A GGUF repository's smallest to largest file (one is downloaded), else the whole size."""
    sizes = [f.size for f in entry.files]
    if entry.format == "gguf" and len(sizes) > 1:
        return f"{size_text(min(sizes))} – {size_text(max(sizes))}"
    return size_text(entry.size) if entry.size else ""


def duration_text(seconds: float) -> str:
    """A time left, as "2 h 05 min", "3 min 20 s" or "40 s"."""
    seconds = int(seconds)
    if seconds >= 3600:
        return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"
    if seconds >= 60:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds} s"
