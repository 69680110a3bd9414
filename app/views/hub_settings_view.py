"""Settings → Model hub: the hub address (a mirror works), proxy, access token (kept in the
operating system's keyring, sent only to the address it was saved for), models folder, offline
mode, and the network log (every request the app made). Layout only: the hub controller checks
and applies the values (:meth:`app.controllers.hub.HubController.apply_settings`)."""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.theme import colour_text
from runtime.hub.client import read_network_log


class HubSettingsDialog(QDialog):
    """The hub settings.

    Signals:
        applied(object): The values the user accepted (a dict: endpoint, proxy, offline,
            models_folder, keep_in_tray, token: None to keep the saved token, "" to remove it).
    """

    applied = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Model hub settings"))
        self.resize(640, 560)
        self.endpoint = QLineEdit()
        self.endpoint.setToolTip(
            self.tr("https://huggingface.co, or a mirror such as https://hf-mirror.com. Applied at once.")
        )
        self.proxy = QLineEdit()
        self.proxy.setPlaceholderText(self.tr("Empty: the system's proxy settings"))
        self.token = QLineEdit()
        self.token.setEchoMode(QLineEdit.EchoMode.Password)
        self.token.setPlaceholderText(self.tr("Only for gated models; empty keeps the saved token"))
        self.remove_token = QCheckBox(self.tr("Remove the token saved for this hub"))
        token_note = QLabel(
            self.tr(
                "The token is kept by the operating system's keyring, never in a file, and is sent only to "
                "the hub address it was saved for."
            )
        )
        token_note.setWordWrap(True)
        token_note.setObjectName("detailLabel")
        self.models_folder = QLineEdit()
        browse = QPushButton(self.tr("Browse…"))
        browse.clicked.connect(self._choose_folder)
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.models_folder, 1)
        folder_row.addWidget(browse)
        self.offline = QCheckBox(self.tr("Offline mode: make no network connection at all"))
        self.keep_in_tray = QCheckBox(self.tr("Keep downloading in the tray when the window is closed"))
        self.keep_in_tray.setToolTip(
            self.tr(
                "Where the desktop has no system tray, or with this off, closing the window while downloads "
                "run asks first; stopped downloads resume the next time you start Alpaca Desk."
            )
        )
        self.problem = QLabel()
        self.problem.setWordWrap(True)
        colour_text(self.problem, "error_text")
        self.problem.hide()

        form = QFormLayout()
        form.addRow(self.tr("Hub address"), self.endpoint)
        form.addRow(self.tr("Proxy"), self.proxy)
        form.addRow(self.tr("Access token"), self.token)
        form.addRow("", self.remove_token)
        form.addRow("", token_note)
        form.addRow(self.tr("Models folder"), folder_row)
        form.addRow("", self.offline)
        form.addRow("", self.keep_in_tray)

        self.log_view = QPlainTextEdit()
        self.log_view.setReadOnly(True)
        self.log_view.setPlaceholderText(self.tr("No request has been made."))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.problem)
        layout.addWidget(QLabel(self.tr("<b>Network log</b>: every request Alpaca Desk made (newest last)")))
        layout.addWidget(self.log_view, 1)
        layout.addWidget(buttons)

    def set_values(
        self, *, endpoint: str, proxy: str, offline: bool, models_folder: str, keep_in_tray: bool = True
    ) -> None:
        """Show the current settings."""
        self.endpoint.setText(endpoint)
        self.proxy.setText(proxy)
        self.offline.setChecked(offline)
        self.keep_in_tray.setChecked(keep_in_tray)
        self.models_folder.setText(models_folder)

    def show_log(self, log: Path) -> None:
        """Fill the network log view from ``log`` (its newest 500 requests)."""
        lines = []
        for entry in read_network_log(log):
            stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(float(entry.get("time") or 0)))
            lines.append(f"{stamp}  {entry.get('method', '')} {entry.get('url', '')}  {entry.get('status', '')}")
        self.log_view.setPlainText("\n".join(lines))

    def show_problem(self, text: str) -> None:
        """Say what is wrong with a value (the dialog stays open)."""
        self.problem.setText(text)
        self.problem.setVisible(bool(text))
        self.show()

    def values(self) -> dict[str, object]:
        """What the user entered."""
        token: str | None = self.token.text().strip() or None
        if self.remove_token.isChecked():
            token = ""
        return {
            "endpoint": self.endpoint.text().strip(),
            "proxy": self.proxy.text().strip(),
            "offline": self.offline.isChecked(),
            "keep_in_tray": self.keep_in_tray.isChecked(),
            "models_folder": self.models_folder.text().strip(),
            "token": token,
        }

    def _accept(self) -> None:
        self.problem.hide()
        self.applied.emit(self.values())
        if not self.problem.isVisible():
            self.accept()

    def _choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, self.tr("Models folder"), self.models_folder.text())
        if folder:
            self.models_folder.setText(folder)
