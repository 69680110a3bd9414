"""Settings → Local server…: the switch, the address, the port, the key and the server's status."""

from __future__ import annotations

from PySide6.QtCore import Slot
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.controllers.server import LISTENING, OFF, STARTING, ServerController
from runtime.serve.server import url_of


class ServerDialog(QDialog):
    """A view of :class:`ServerController`: every change goes to it, and it redraws on ``changed``."""

    def __init__(self, controller: ServerController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.setWindowTitle(self.tr("Local server"))
        settings = controller.ctx.settings

        self.switch = QCheckBox(self.tr("Serve the loaded model to other programs on this computer"))
        self.switch.setChecked(settings.serve_enabled)
        self.host_edit = QLineEdit(settings.serve_host)
        self.host_edit.setToolTip(
            self.tr("127.0.0.1: this computer only. Any other address lets other computers connect, with the key.")
        )
        self.port_box = QSpinBox()
        self.port_box.setRange(0, 65535)
        self.port_box.setSpecialValueText(self.tr("any free port"))
        self.port_box.setValue(settings.serve_port)
        self.require_key_box = QCheckBox(self.tr("Require the API key"))
        self.require_key_box.setChecked(settings.serve_require_key)
        self.key_edit = QLineEdit()
        self.key_edit.setReadOnly(True)
        self.key_edit.setEchoMode(QLineEdit.EchoMode.PasswordEchoOnEdit)
        self.copy_url_button = QPushButton(self.tr("Copy URL"))
        self.copy_key_button = QPushButton(self.tr("Copy key"))
        self.new_key_button = QPushButton(self.tr("New key"))
        self.status_label = QLabel()
        self.status_label.setWordWrap(True)

        form = QFormLayout()
        form.addRow(self.tr("Address:"), self.host_edit)
        form.addRow(self.tr("Port:"), self.port_box)
        form.addRow("", self.require_key_box)
        key_row = QHBoxLayout()
        key_row.addWidget(self.key_edit, 1)
        key_row.addWidget(self.copy_key_button)
        key_row.addWidget(self.new_key_button)
        form.addRow(self.tr("API key:"), key_row)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.addButton(self.copy_url_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(self.switch)
        layout.addLayout(form)
        layout.addWidget(self.status_label)
        layout.addWidget(buttons)

        self.switch.clicked.connect(self._switch_clicked)
        self.host_edit.editingFinished.connect(self._apply_address)
        self.port_box.editingFinished.connect(self._apply_address)
        self.require_key_box.clicked.connect(self._apply_address)
        self.copy_url_button.clicked.connect(self._copy_url)
        self.copy_key_button.clicked.connect(lambda: QGuiApplication.clipboard().setText(controller.api_key))
        self.new_key_button.clicked.connect(controller.new_key)
        controller.changed.connect(self.refresh)
        self.refresh()

    def _apply_address(self) -> None:
        self.controller.configure(
            host=self.host_edit.text(), port=self.port_box.value(), require_key=self.require_key_box.isChecked()
        )

    @Slot(bool)
    def _switch_clicked(self, checked: bool) -> None:
        self._apply_address()  # the address as typed, even before its field lost focus
        self.controller.set_enabled(checked)

    def _copy_url(self) -> None:
        settings = self.controller.ctx.settings
        QGuiApplication.clipboard().setText(self.controller.url or url_of(settings.serve_host, settings.serve_port))

    @Slot()
    def refresh(self) -> None:
        controller = self.controller
        self.switch.setChecked(controller.ctx.settings.serve_enabled)
        self.key_edit.setText(controller.api_key)
        self.status_label.setText(self.status_text())

    def status_text(self) -> str:
        controller = self.controller
        if controller.state == OFF:
            text = controller.last_error or self.tr("Off.")
        elif controller.state == STARTING:
            text = self.tr("Starting…")
        elif controller.state != LISTENING:
            text = self.tr("Stopping…")
        else:
            text = self.tr("Listening at {0}. Requests served: {1}.").format(controller.url, controller.served)
            if controller.activity == "answering":
                text += " " + self.tr("Answering now.")
            elif controller.activity == "waiting":
                text += " " + self.tr("A request waits its turn.")
            if controller.model_name() is None:
                text += " " + self.tr("No model is loaded: requests are answered with an error until one is.")
        if not controller.key_saved:
            text += " " + self.tr("The key could not be saved in a keyring; it lasts until Alpaca Desk quits.")
        return text


def open_server_dialog(controller: ServerController, parent: QWidget | None) -> None:
    """Settings → Local server…: one dialog, raised again when already open."""
    if controller.dialog is None:
        controller.dialog = ServerDialog(controller, parent)
    controller.dialog.show()
    controller.dialog.raise_()
    controller.dialog.activateWindow()
