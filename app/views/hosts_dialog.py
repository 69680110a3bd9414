"""Tools → Training hosts: the saved SSH hosts, each with a Test button.

The form edits one host (name, address, port, user, key file or SSH agent, the host's Python, the
folder where jobs go). Test connects in a worker and shows the GPUs, Python, free disk and what is
missing. A host whose key is not known yet shows the key's SHA256 fingerprint in a panel of its own;
nothing more is sent until the user accepts exactly that key. Passphrases are typed for the test and
kept only in the system keyring when asked, never in the hosts file.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.controllers.hosts import HostsController
from app.messages import error_text
from runtime.errors import RemoteError
from runtime.training.remote import Host, HostKey, HostReport
from runtime.training.remote.hosts import DEFAULT_PYTHON, DEFAULT_REMOTE_DIR
from runtime.training.remote.probe import LOW_DISK_BYTES, TRAIN_MODULES


class HostsDialog(QDialog):
    """Add, edit, remove and test the SSH hosts that training can run on."""

    def __init__(self, parent: QWidget | None = None, *, controller: HostsController | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Training hosts"))
        self.resize(760, 560)
        self.controller = controller or HostsController(self)
        self._editing: str | None = None  # the saved name of the host in the form
        self._pending_key: tuple[Host, HostKey] | None = None

        self.list = QListWidget()
        self.list.setMinimumWidth(180)
        self.new_button = QPushButton(self.tr("New"))
        self.remove_button = QPushButton(self.tr("Remove"))
        left = QVBoxLayout()
        left.addWidget(QLabel(self.tr("Saved hosts")))
        left.addWidget(self.list, 1)
        row = QHBoxLayout()
        row.addWidget(self.new_button)
        row.addWidget(self.remove_button)
        left.addLayout(row)

        self.name = QLineEdit()
        self.name.setPlaceholderText(self.tr("e.g. lab A100"))
        self.address = QLineEdit()
        self.address.setPlaceholderText(self.tr("host name or IP address"))
        self.port = QSpinBox()
        self.port.setRange(1, 65535)
        self.port.setValue(22)
        self.user = QLineEdit()
        self.key_file = QLineEdit()
        self.key_file.setPlaceholderText(self.tr("empty: the SSH agent's keys"))
        browse = QPushButton(self.tr("Browse…"))
        browse.clicked.connect(self._browse_key)
        key_row = QHBoxLayout()
        key_row.addWidget(self.key_file, 1)
        key_row.addWidget(browse)
        self.use_agent = QCheckBox(self.tr("Also use the SSH agent's keys"))
        self.use_agent.setChecked(True)
        self.python = QLineEdit(DEFAULT_PYTHON)
        self.python.setToolTip(
            self.tr("The Python on the host that runs the jobs (a name on its PATH or a full path).")
        )
        self.remote_dir = QLineEdit(DEFAULT_REMOTE_DIR)
        self.remote_dir.setToolTip(self.tr("Where job folders go on the host (relative: in the login folder)."))
        self.passphrase = QLineEdit()
        self.passphrase.setEchoMode(QLineEdit.EchoMode.Password)
        self.passphrase.setPlaceholderText(self.tr("only if the key has one; never saved in a file"))
        self.remember = QCheckBox(self.tr("Remember the passphrase in the system keyring"))

        form = QFormLayout()
        form.addRow(self.tr("Name:"), self.name)
        form.addRow(self.tr("Address:"), self.address)
        form.addRow(self.tr("Port:"), self.port)
        form.addRow(self.tr("User:"), self.user)
        form.addRow(self.tr("Key file:"), key_row)
        form.addRow("", self.use_agent)
        form.addRow(self.tr("Python on the host:"), self.python)
        form.addRow(self.tr("Jobs folder on the host:"), self.remote_dir)
        form.addRow(self.tr("Key passphrase:"), self.passphrase)
        form.addRow("", self.remember)

        self.save_button = QPushButton(self.tr("Save"))
        self.test_button = QPushButton(self.tr("Test connection"))
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.save_button)
        buttons.addWidget(self.test_button)

        # The new host key, shown for the user to compare before anything else is sent.
        self.key_panel = QFrame()
        self.key_panel.setFrameShape(QFrame.Shape.StyledPanel)
        self.key_label = QLabel()
        self.key_label.setWordWrap(True)
        self.key_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.accept_key_button = QPushButton(self.tr("Accept this key and test"))
        self.reject_key_button = QPushButton(self.tr("Do not connect"))
        key_buttons = QHBoxLayout()
        key_buttons.addStretch(1)
        key_buttons.addWidget(self.reject_key_button)
        key_buttons.addWidget(self.accept_key_button)
        key_layout = QVBoxLayout(self.key_panel)
        key_layout.addWidget(self.key_label)
        key_layout.addLayout(key_buttons)
        self.key_panel.hide()

        self.report = QPlainTextEdit()
        self.report.setReadOnly(True)
        self.report.setPlaceholderText(self.tr("Test a host to see its GPUs, Python and free disk."))

        right = QVBoxLayout()
        right.addLayout(form)
        right.addLayout(buttons)
        right.addWidget(self.key_panel)
        right.addWidget(self.report, 1)
        layout = QHBoxLayout(self)
        layout.addLayout(left)
        layout.addLayout(right, 1)

        self.list.currentItemChanged.connect(self._on_selected)
        self.new_button.clicked.connect(self.new_host)
        self.remove_button.clicked.connect(self.remove_host)
        self.save_button.clicked.connect(self.save)
        self.test_button.clicked.connect(self.test)
        self.accept_key_button.clicked.connect(self.accept_key)
        self.reject_key_button.clicked.connect(self._hide_key)
        self.controller.hosts_changed.connect(self._show_hosts)
        self.controller.testing.connect(self._on_testing)
        self.controller.tested.connect(self._on_tested)
        self.controller.key_unknown.connect(self._on_key_unknown)
        self.controller.failed.connect(self._show_message)
        self.controller.notice.connect(self._show_message)
        self.controller.load()
        if not self.controller.hosts:
            self.new_host()

    # -- the form ------------------------------------------------------------------------------

    def host_from_form(self) -> Host | None:
        """The host the form describes, or None (the reason is shown)."""
        try:
            return Host(
                name=self.name.text().strip(),
                address=self.address.text().strip(),
                port=self.port.value(),
                user=self.user.text().strip(),
                key_file=self.key_file.text().strip(),
                use_agent=self.use_agent.isChecked(),
                python=self.python.text().strip(),
                remote_dir=self.remote_dir.text().strip(),
            )
        except RemoteError as exc:
            self._show_message(error_text(exc))
            return None

    def show_host(self, host: Host | None) -> None:
        """Fill the form with ``host`` (None: an empty form for a new one)."""
        self._editing = host.name if host else None
        self.name.setText(host.name if host else "")
        self.address.setText(host.address if host else "")
        self.port.setValue(host.port if host else 22)
        self.user.setText(host.user if host else "")
        self.key_file.setText(host.key_file if host else "")
        self.use_agent.setChecked(host.use_agent if host else True)
        self.python.setText(host.python if host else DEFAULT_PYTHON)
        self.remote_dir.setText(host.remote_dir if host else DEFAULT_REMOTE_DIR)
        self.passphrase.clear()
        self.remove_button.setEnabled(host is not None)
        self._hide_key()

    def new_host(self) -> None:
        """An empty form."""
        self.list.setCurrentItem(None)
        self.show_host(None)
        self.report.clear()
        self.name.setFocus()

    def save(self) -> Host | None:
        """Save the form's host; returns it, or None when it was refused."""
        host = self.host_from_form()
        if host is None:
            return None
        if not self.controller.save(host, previous_name=self._editing):
            return None
        self._editing = host.name
        self._select(host.name)
        return host

    def remove_host(self) -> None:
        """Remove the host in the form from the saved hosts."""
        if self._editing is not None:
            self.controller.remove(self._editing)
            self.new_host()

    def test(self) -> None:
        """Save the form's host, then test it."""
        host = self.save()
        if host is None:
            return
        self._hide_key()
        self.report.setPlainText(self.tr("Connecting to {0}…").format(host.target))
        self.controller.test(host, passphrase=self.passphrase.text(), remember=self.remember.isChecked())

    def accept_key(self) -> None:
        """Record the shown key (the user compared its fingerprint), then test again."""
        if self._pending_key is None:
            return
        host, key = self._pending_key
        self._hide_key()
        if self.controller.accept_key(host, key):
            self.report.setPlainText(self.tr("Connecting to {0}…").format(host.target))
            self.controller.test(host, passphrase=self.passphrase.text(), remember=self.remember.isChecked())

    # -- controller events ---------------------------------------------------------------------

    def _show_hosts(self, hosts: list[Host]) -> None:
        current = self._editing
        self.list.blockSignals(True)
        self.list.clear()
        for host in hosts:
            item = QListWidgetItem(host.name)
            item.setToolTip(host.target)
            item.setData(Qt.ItemDataRole.UserRole, host.name)
            self.list.addItem(item)
        self.list.blockSignals(False)
        if current is not None:
            self._select(current)

    def _select(self, name: str) -> None:
        for row in range(self.list.count()):
            item = self.list.item(row)
            if item.data(Qt.ItemDataRole.UserRole) == name:
                self.list.blockSignals(True)
                self.list.setCurrentItem(item)
                self.list.blockSignals(False)
                return

    def _on_selected(self, item: QListWidgetItem | None, _previous: QListWidgetItem | None) -> None:
        if item is None:
            return
        name = item.data(Qt.ItemDataRole.UserRole)
        host = next((h for h in self.controller.hosts if h.name == name), None)
        self.show_host(host)
        self.report.clear()

    def _on_testing(self, busy: bool) -> None:
        self.test_button.setEnabled(not busy)
        self.save_button.setEnabled(not busy)

    def _on_key_unknown(self, host: Host, key: HostKey) -> None:
        self._pending_key = (host, key)
        self.key_label.setText(
            self.tr(
                "<b>{0}</b> ({1}:{2}) presents a host key this computer has not seen before:<br><br>"
                "<tt>{3}</tt> ({4})<br><br>Compare this fingerprint with the one the host's administrator "
                "gives (<tt>ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub</tt> on the host). Accept it only "
                "if they match: nothing else is sent until you do."
            ).format(host.name, host.address, host.port, key.fingerprint, key.key_type)
        )
        self.key_panel.show()
        self.report.setPlainText(self.tr("Waiting for you to check the host key of {0}.").format(host.name))

    def _hide_key(self) -> None:
        self._pending_key = None
        self.key_panel.hide()

    def _on_tested(self, host: Host, report: HostReport) -> None:
        lines = [self.tr("Connected to {0} ({1}).").format(host.name, host.target)]
        if report.gpus:
            lines.append(self.tr("GPUs:"))
            lines += [f"  {gpu}" for gpu in report.gpus]
        else:
            lines.append(self.tr("GPUs: none found (nvidia-smi is missing or lists none)."))
        lines.append(
            self.tr("Python: {0}").format(report.python)
            if report.python
            else self.tr("Python: none usable at {0}.").format(host.python)
        )
        if report.free_bytes is not None:
            lines.append(self.tr("Free disk in {0}: {1:.1f} GB").format(report.disk_path, report.free_bytes / 1024**3))
        missing = []
        if not report.python:
            missing.append(self.tr("Python 3.8 or newer on the host"))
        absent = [name for name in TRAIN_MODULES if not report.modules.get(name)]
        if report.python and absent:
            missing.append(
                self.tr("the training packages {0} (pip install 'alpaca-desk[train]' on the host)").format(
                    ", ".join(absent)
                )
            )
        if not report.gpus:
            missing.append(self.tr("a CUDA GPU"))
        if report.free_bytes is not None and report.free_bytes < LOW_DISK_BYTES:
            missing.append(self.tr("free disk: at least 10 GB is advised"))
        if missing:
            lines.append(self.tr("Missing:"))
            lines += [f"  • {item}" for item in missing]
        else:
            lines.append(self.tr("Ready to train."))
        self.report.setPlainText("\n".join(lines))

    def _show_message(self, text: str) -> None:
        self.report.setPlainText(text)

    def _browse_key(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, self.tr("Choose a private key file"), self.key_file.text())
        if path:
            self.key_file.setText(path)
