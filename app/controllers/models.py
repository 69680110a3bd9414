"""The model flow: choose and load a GGUF file, the recent models, cancel a load, unload, and
show in the status bar which model is loaded."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFileDialog, QLabel, QMenu, QProgressBar, QPushButton, QWidget
from shiboken6 import isValid

from app.controllers import HostEventsController, dialog_parent
from app.inference_client import InferenceClient
from app.messages import error_text
from app.plan_texts import gb_text, loaded_plan_text
from app.tasks import run_task
from app.views.banner import Banner
from app.views.decoding_panel import DecodingPanel
from app.views.tokenizer_panel import TokenizerPanel
from runtime.chat import templates
from runtime.errors import AppError
from runtime.models import check_model_file, params_label

if TYPE_CHECKING:
    from app.context import AppContext


class ModelsController(HostEventsController):
    """Loads and unloads models in the inference host and shows which one is loaded.

    It owns what the window knows about the loaded model beyond the client's ``model_info``:
    the context size it was loaded with (:attr:`n_ctx_loaded`, which the chat's context meter
    reads) and the path being loaded (:attr:`loading_path`, offered again when the host dies).

    Signals:
        error(str): A message for the user (a refused file, ...).
        controls_changed(): Loading started or ended, or the model changed: the controls that
            depend on it need updating.
        model_loaded(dict): A model is ready and shown here (its ``InferenceClient.loaded``
            info); the chat reacts after this controller, so it sees the chosen template.
        model_unloaded(): There is no model any more (unloaded, or the host died).
    """

    error = Signal(str)
    controls_changed = Signal()
    model_loaded = Signal(object)
    model_unloaded = Signal()

    def __init__(
        self,
        context: AppContext,
        client: InferenceClient,
        *,
        decoding: DecodingPanel,
        tokenizer_panel: TokenizerPanel,
        model_label: QLabel,
        busy_bar: QProgressBar,
        cancel_load_button: QPushButton,
        banner: Banner,
        parent: QWidget | None = None,
    ) -> None:
        """Wire the views' model requests (cancel a load, decoding parameters changed).

        Args:
            context: The settings (recent models, threads, saved parameters) and paths.
            client: The inference host's client.
            decoding: The decoding panel: its context size is used to load; the chosen
                template and the model's Jinja template are shown in it.
            tokenizer_panel: Told which model is loaded (its tokenizer and context size).
            model_label: The status bar's label naming the loaded model.
            busy_bar: Shown while a model loads.
            cancel_load_button: Shown while a model loads; abandons the load.
            banner: Where a reload is offered (the host died, the context size changed).
            parent: The window: owns this controller and parents its file dialog.
        """
        super().__init__(parent)
        self.ctx = context
        self.client = client
        self.decoding = decoding
        self.tokenizer_panel = tokenizer_panel
        self.model_label = model_label
        self.busy_bar = busy_bar
        self.cancel_load_button = cancel_load_button
        self.banner = banner
        self.n_ctx_loaded = 0
        self.loading_path = ""
        # The header read for the last plan shown: (path, mtime, size) -> shape, one file.
        self._shapes: dict[tuple[str, int, int], Any] = {}
        self.cancel_load_button.clicked.connect(self.cancel_load)
        self.decoding.params_changed.connect(self._on_params_changed)
        self.decoding.set_kv_type(context.settings.kv_type)
        self.decoding.kv_type_changed.connect(self._on_kv_type_changed)
        self.decoding.set_context_full(context.settings.context_full)
        self.decoding.set_speculative(context.settings.speculative)
        self.decoding.set_draft_model(context.settings.draft_model)
        self.decoding.speculative_changed.connect(self._on_speculative_changed)
        self.decoding.draft_model_changed.connect(self._on_draft_model_changed)
        self.decoding.draft_model_requested.connect(self.choose_draft_model)
        self.decoding.context_full_changed.connect(self._on_context_full_changed)

    def _client_slots(self) -> list[tuple[Any, Any]]:
        return [
            (self.client.loading, self._on_loading),
            (self.client.loaded, self._on_loaded),
            (self.client.unloaded, self._on_unloaded),
            (self.client.failed, self._on_failed),
            (self.client.host_died, self._on_host_died),
        ]

    def show_client_state(self) -> None:
        """Show the model the host already holds, or the load in progress (a new window joins
        a running host)."""
        info = self.client.model_info
        if info:
            self._on_loaded(info)
        self._on_loading(self.client.is_loading)

    def choose_model(self) -> None:
        """Ask for a .gguf file and load it."""
        start = str(self.ctx.paths.models)
        if self.ctx.settings.recent_models:
            start = str(Path(self.ctx.settings.recent_models[0]).parent)
        path, _ = QFileDialog.getOpenFileName(
            dialog_parent(self), self.tr("Open a GGUF model"), start, self.tr("GGUF models (*.gguf);;All files (*)")
        )
        if path:
            self.open_model(path)

    def choose_draft_model(self) -> None:
        """Ask for the .gguf file that drafts (speculative decoding's "Draft model") and show it."""
        current = self.decoding.draft_model()
        start = str(Path(current).parent) if current else str(self.ctx.paths.models)
        path, _ = QFileDialog.getOpenFileName(
            dialog_parent(self), self.tr("Choose a draft model"), start, self.tr("GGUF models (*.gguf);;All files (*)")
        )
        if path:
            self.decoding.set_draft_model(path)

    def use_draft_model(self, path: str) -> None:
        """Make ``path`` the draft model and choose "Draft model" (the hub's 1.3B download)."""
        self.decoding.set_draft_model(path)
        self.decoding.set_speculative("draft")

    def _wanted_mode(self) -> tuple[str, str]:
        """The speculative mode and draft model file the next load asks for."""
        mode = self.decoding.speculative()
        return (mode, self.decoding.draft_model()) if mode == "draft" else (mode, "")

    def open_model(self, path: str) -> None:
        """Load ``path`` in the host; a bad file gets a message and changes nothing else."""
        try:
            check_model_file(path)  # reads 4 bytes: quick enough for the GUI thread
        except AppError as exc:
            self.error.emit(error_text(exc))
            return
        if self.client.is_generating:
            self.client.stop()
        self.loading_path = path
        n_ctx, kv_type = self.decoding.params().n_ctx, self.decoding.kv_type()
        speculative, draft = self._wanted_mode()
        if speculative == "draft" and not draft:
            self.error.emit(
                self.tr(
                    "Speculative decoding is set to Draft model, but no draft model file is chosen: the model "
                    "is loaded without drafting. Choose one with Draft model… in the decoding panel."
                )
            )
        self.client.load(
            path,
            n_ctx=n_ctx,
            n_threads=self.ctx.settings.n_threads,
            n_gpu_layers=self.ctx.settings.n_gpu_layers,
            kv_type=kv_type,
            speculative=speculative,
            draft=draft,
        )
        self.model_label.setText(self.tr("Loading {0}…").format(Path(path).name))
        self._show_plan(path, n_ctx, kv_type)

    def cancel_load(self) -> None:
        """Abandon the model being loaded."""
        self.client.cancel_load()
        self.model_label.setText(self.tr("Loading cancelled. No model loaded"))

    def unload_model(self) -> None:
        """Release the model's memory."""
        if self.client.is_generating:
            self.client.stop()
        self.client.unload()
        self._on_unloaded()

    def fill_recent_menu(self, menu: QMenu) -> None:
        """Fill ``menu`` (about to be shown) with the recently loaded models."""
        menu.clear()
        recent = self.ctx.settings.recent_models
        if not recent:
            empty = menu.addAction(self.tr("(none yet)"))
            empty.setEnabled(False)
            return
        for path in recent:
            action = menu.addAction(Path(path).name)
            action.setToolTip(path)
            action.setStatusTip(path)
            action.triggered.connect(lambda _checked=False, p=path: self.open_model(p))

    def _on_loading(self, busy: bool) -> None:
        self.busy_bar.setVisible(busy)
        self.cancel_load_button.setVisible(busy)
        self.controls_changed.emit()

    def _on_loaded(self, info: dict[str, Any]) -> None:
        self.n_ctx_loaded = int(info.get("n_ctx") or 0)
        self.ctx.settings.add_recent_model(info["path"])
        self.ctx.save_settings()
        auto = templates.choose_template(
            vocab_size=info.get("vocab_size"),
            name=f"{info.get('name', '')} {info.get('file_name', '')}",
            has_chat_template=bool(info.get("has_chat_template")),
        )
        self.decoding.set_auto_template(auto)
        # Up to the length the model was trained for (0: the file does not say).
        self.decoding.set_context_limit(int(info.get("context_length") or 0) or None, self.n_ctx_loaded)
        self.tokenizer_panel.set_model(info.get("path"), self.n_ctx_loaded)
        self.decoding.set_jinja_source(info.get("chat_template"), info.get("file_name"))
        self.model_label.setText(
            self.tr("{name} · {params} · {quant} · vocabulary {vocab}").format(
                name=info.get("file_name", ""),
                params=params_label(int(info.get("n_params") or 0)),
                quant=info.get("quantization", ""),
                vocab=f"{int(info.get('vocab_size') or 0):,}",
            )
        )
        self.model_label.setToolTip(info.get("path", ""))
        self._show_plan(str(info.get("path", "")), self.n_ctx_loaded or 2048, str(info.get("kv") or "f16"))
        self.controls_changed.emit()
        self.model_loaded.emit(info)

    def _show_plan(self, path: str, n_ctx: int, kv_type: str) -> None:
        """Add the planner's figures for ``path`` at ``n_ctx`` and ``kv_type`` to the status bar
        (the file being loaded, then the loaded one). Reading the header (seconds and 160 MB for a
        50,000-piece vocabulary: once per file) and, the first time on this CPU, the machine probe
        happen off this thread."""
        from runtime.models.machine import this_machine
        from runtime.models.plan import plan, read_shape

        threads = self.ctx.settings.n_threads
        shown = self.model_label.text()
        try:
            stat = os.stat(path)
            key = (path, stat.st_mtime_ns, stat.st_size)
        except OSError:
            return
        known = self._shapes.get(key)

        def work() -> Any:
            shape = known or read_shape(path)
            machine = this_machine()
            return shape, machine, plan(shape, machine, n_ctx=n_ctx, kv_type=kv_type, threads=threads)

        def done(result: Any, error: BaseException | None) -> None:
            if result is None or not isValid(self) or not isValid(self.model_label):
                return  # a header the planner does not read: the model works, without a plan
            shape, machine, planned = result
            self._shapes = {key: shape}
            info = self.client.model_info
            if info and info.get("path") == path and isValid(self.decoding):
                # The decoding panel plans each context chosen for the loaded model from these.
                self.decoding.set_plan_inputs(shape, machine)
            if self.model_label.text() != shown:
                return  # another model, or none, is shown by now
            self.model_label.setText(f"{shown} · {loaded_plan_text(planned)}")
            self.model_label.setToolTip(
                self.tr(
                    "{path}\nPlanned at {ctx} tokens of context, {kv} KV cache: weights {weights}, KV cache {kv_size}."
                ).format(
                    path=path,
                    ctx=f"{planned.n_ctx:,}",
                    kv=planned.kv_type,
                    weights=gb_text(planned.weights_bytes),
                    kv_size=gb_text(planned.kv_cache_bytes),
                )
            )

        run_task(work, done)

    def _on_unloaded(self) -> None:
        self.n_ctx_loaded = 0
        self.decoding.set_context_limit(None)
        self.decoding.set_plan_inputs(None)
        self.tokenizer_panel.set_model(None, 0)
        self.tokenizer_panel.set_prompt_count(None, 0)
        self.model_label.setText(self.tr("No model loaded"))
        self.model_unloaded.emit()
        self.controls_changed.emit()

    def _on_failed(self, _message: str) -> None:
        # The chat shows the message (a load and an answer fail alike); here only the label.
        if self.client.model_info is None:
            self.model_label.setText(self.tr("No model loaded"))

    def _on_host_died(self, message: str) -> None:
        self._on_unloaded()
        path = self.loading_path or (self.ctx.settings.recent_models[:1] or [""])[0]
        self.banner.show_message(
            self.tr("The model process stopped unexpectedly. Your conversation is safe.\n{0}").format(message),
            severity="error",
            action=self.tr("Restart and reload the model") if path else "",
            callback=(lambda: self.open_model(path)) if path else None,
        )

    def _on_kv_type_changed(self, kv_type: str) -> None:
        self.ctx.settings.kv_type = kv_type
        self.ctx.save_settings()
        info = self.client.model_info
        if info and info.get("kv", "f16") != kv_type:
            self._offer_reload(
                self.tr("The KV cache type {0} takes effect when the model is loaded again.").format(kv_type), "kv_type"
            )

    def _on_speculative_changed(self, mode: str) -> None:
        self.ctx.settings.speculative = mode
        self.ctx.save_settings()
        self._offer_speculative_reload()

    def _on_draft_model_changed(self, path: str) -> None:
        self.ctx.settings.draft_model = path
        self.ctx.save_settings()
        self._offer_speculative_reload()

    def _offer_speculative_reload(self) -> None:
        info = self.client.model_info
        wanted = self._wanted_mode()
        if wanted == ("draft", ""):
            return  # nothing to load yet: the panel says to choose a file, and choosing one comes back here
        if info and (info.get("speculative", "off"), info.get("draft", "")) != wanted:
            # The model is opened with flash attention for it (so that its text stays plain
            # decoding's), and a draft model is loaded beside it: a reload, as for the KV cache type.
            self._offer_reload(
                self.tr("The speculative decoding choice takes effect when the model is loaded again."), "speculative"
            )

    def _offer_reload(self, message: str, key: str) -> None:
        """A banner with ``message`` and "Reload now", which loads the model shown again."""
        path = (self.client.model_info or {}).get("path", "")
        self.banner.show_message(message, action=self.tr("Reload now"), callback=lambda: self.open_model(path), key=key)

    def _on_context_full_changed(self, choice: str) -> None:
        # Read by the chat at each message: applies at once, no reload.
        self.ctx.settings.context_full = choice
        self.ctx.save_settings()

    def _on_params_changed(self, params: Any) -> None:
        self.ctx.settings.params = params.to_dict()
        self.ctx.save_settings()
        if self.n_ctx_loaded and params.n_ctx != self.n_ctx_loaded and self.client.model_info:
            path = self.client.model_info.get("path", "")
            self.banner.show_message(
                self.tr("The context size {0} takes effect when the model is loaded again.").format(params.n_ctx),
                action=self.tr("Reload now"),
                callback=lambda: self.open_model(path),
            )
