"""The window's local server (Settings → Local server…): runtime.serve over the window's own host.

One model in memory, one inference host: the server's backend shares the window's
:class:`~app.inference_client.InferenceClient` host (``HostBackend.sharing``), so the server's
requests and the window's answers queue in the host in the order they were sent. The server
follows the window's model: a new one is served from the next request, none answers 503.

uvicorn runs on a thread of its own; starting and stopping it runs on the task pool, so the GUI
thread never waits. Its activity comes back by queued signals: the status bar says when the
server answers and when its request waits behind the window's answer.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtWidgets import QDialog, QLabel, QStatusBar

from app.context import AppContext
from app.inference_client import InferenceClient
from app.messages import error_text
from app.tasks import run_task
from runtime.errors import ServeError
from runtime.hub.client import log_request
from runtime.serve.backend import HostBackend, LoadedModel
from runtime.serve.key import load_api_key, make_api_key
from runtime.serve.server import BackgroundServer

OFF, STARTING, LISTENING, STOPPING = "off", "starting", "listening", "stopping"


class ServerController(QObject):
    """Starts and stops the server as the settings ask, and reports what it does.

    Signals:
        changed(): the state, the URL, the count or the key changed (the dialog redraws).
        error(str): the server could not start; a message for the user.
    """

    changed = Signal()
    error = Signal(str)
    _activity = Signal(str, int)

    def __init__(
        self,
        ctx: AppContext,
        client: InferenceClient,
        *,
        template: Any,
        status_bar: QStatusBar,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.client = client
        self._template = template  # () -> the template the window answers with now
        self.state = OFF
        self.url = ""
        self.served = 0
        self.activity = "idle"
        self.last_error = ""
        self._server: BackgroundServer | None = None
        self._key: str | None = None
        self.key_saved = True
        #: Settings → Local server…, once opened (app.views.server_dialog.open_server_dialog).
        self.dialog: QDialog | None = None
        self._model = _model_of(client.model_info, template())
        self.label = QLabel()
        self.label.setAccessibleName(self.tr("Local server"))
        self.label.hide()
        status_bar.addPermanentWidget(self.label)
        self._activity.connect(self._on_activity, Qt.ConnectionType.QueuedConnection)
        client.loading.connect(self._on_loading)
        client.unloaded.connect(self._forget_model)
        client.host_died.connect(self._forget_model)

    # -- what the dialog asks ----------------------------------------------------------------

    @property
    def api_key(self) -> str:
        """The key, made and saved on first use."""
        if self._key is None:
            self._key = load_api_key()
        if self._key is None:
            self._key, self.key_saved = make_api_key()
        return self._key

    def new_key(self) -> None:
        """Replace the key; a running server is restarted with it."""
        self._key, self.key_saved = make_api_key()
        self._restart()

    def configure(self, *, host: str, port: int, require_key: bool) -> None:
        """New address or key choice: saved, and a running server is restarted with them."""
        settings = self.ctx.settings
        host = host.strip() or "127.0.0.1"
        if (host, port, require_key) == (settings.serve_host, settings.serve_port, settings.serve_require_key):
            return
        settings.serve_host, settings.serve_port, settings.serve_require_key = host, port, require_key
        self.ctx.save_settings()
        self._restart()

    def set_enabled(self, enabled: bool) -> None:
        """The switch: saved, then the server follows (off the GUI thread)."""
        self.ctx.settings.serve_enabled = enabled
        self.ctx.save_settings()
        self.last_error = ""
        self.reconcile()

    def model_name(self) -> str | None:
        return self._model.id if self._model is not None else None

    # -- starting and stopping -----------------------------------------------------------------

    def reconcile(self) -> None:
        """Start or stop the server to match the switch (one change at a time)."""
        wanted = self.ctx.settings.serve_enabled
        if self.state == OFF and wanted:
            self._start()
        elif self.state == LISTENING and not wanted:
            self._stop()

    def _restart(self) -> None:
        if self.state == LISTENING:
            self._stop()  # reconcile starts it again with the new choices
        self.changed.emit()

    def _start(self) -> None:
        settings = self.ctx.settings
        backend = HostBackend.sharing(lambda: self.client.current_host, self._model)
        backend.on_activity = self._activity.emit  # from the worker thread: queued to this one
        server = BackgroundServer(
            backend,
            host=settings.serve_host,
            port=settings.serve_port,
            api_key=self.api_key if settings.serve_require_key else None,
            network_log=self._network_log,
        )
        try:
            server.check()  # an unsafe address is refused here, before anything starts
        except ServeError as exc:
            self._refused(error_text(exc))
            return
        self._server = server
        self.state = STARTING
        self.changed.emit()
        run_task(server.start, self._on_started)

    def _network_log(self, event: str, url: str) -> None:
        # As `alpaca-desk serve` writes it: Settings → Model hub shows where the app listens too.
        log_request(self.ctx.paths.logs / "network.log", "SERVE", url, event)

    def _on_started(self, url: Any, exc: BaseException | None) -> None:
        if exc is not None:
            self._server = None
            self.state = OFF
            self._refused(error_text(exc))
            return
        self.state, self.url, self.served, self.activity = LISTENING, str(url), 0, "idle"
        self._show_activity()
        self.changed.emit()
        self.reconcile()  # switched off meanwhile

    def _refused(self, message: str) -> None:
        self.last_error = message
        self.ctx.settings.serve_enabled = False
        self.ctx.save_settings()
        self.changed.emit()
        self.error.emit(message)

    def _stop(self) -> None:
        server = self._server
        if server is None:
            return
        self.state = STOPPING
        self.changed.emit()
        run_task(server.stop, self._on_stopped)

    def _on_stopped(self, _result: Any, _exc: BaseException | None) -> None:
        self._server = None
        self.state, self.url, self.activity = OFF, "", "idle"
        self._show_activity()
        self.changed.emit()
        self.reconcile()  # switched on again meanwhile, or restarted with new choices

    def shutdown(self) -> None:
        """The window closes: stop listening now (running answers are cancelled)."""
        if self._server is not None:
            self._server.stop(timeout=3.0)
            self._server = None
        self.state = OFF

    # -- the model and the activity -----------------------------------------------------------

    @Slot(bool)
    def _on_loading(self, loading: bool) -> None:
        if loading:
            self._set_model(None)  # the host drops the old model before it loads the new one

    @Slot(object)
    def on_model_loaded(self, info: Any) -> None:
        """The window's model is ready (after the models controller chose its template)."""
        self._set_model(_model_of(info, self._template()))

    @Slot()
    def _forget_model(self, *_args: Any) -> None:
        self._set_model(None)

    @Slot(object)
    def template_changed(self, *_args: Any) -> None:
        """The window answers with another template now: so does the server."""
        if self._model is not None:
            self._set_model(dataclasses.replace(self._model, template=self._template()))

    def _set_model(self, model: LoadedModel | None) -> None:
        self._model = model
        if self._server is not None:
            self._server.backend.set_model(model)
        self.changed.emit()

    @Slot(str, int)
    def _on_activity(self, state: str, served: int) -> None:
        self.activity, self.served = state, served
        self._show_activity()
        self.changed.emit()

    def _show_activity(self) -> None:
        if self.state != LISTENING:
            self.label.hide()
            return
        if self.activity == "answering":
            text = self.tr("Local server: answering a request")
        elif self.activity == "waiting" and self.client.is_generating:
            text = self.tr("Local server: a request waits for the answer in this window")
        elif self.activity == "waiting":
            text = self.tr("Local server: a request waits its turn")
        else:
            text = self.tr("Local server: on")
        self.label.setText(text)
        self.label.setToolTip(self.url)
        self.label.show()


def _model_of(info: Any, template: str) -> LoadedModel | None:
    """The server's facts about the window's model (``InferenceClient.loaded``'s dict)."""
    if not isinstance(info, dict):
        return None
    return LoadedModel(
        id=str(info["file_name"]),
        path=str(info["path"]),
        n_ctx=int(info["n_ctx"]),
        vocab_size=int(info["vocab_size"]),
        template=template,
        created=int(time.time()),
    )
