"""Tools → Training hosts against a real sshd: the new key's fingerprint is shown and accepted by a
click, then the test reports Python and disk; a refused key is explained."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from PySide6.QtCore import Qt

from app.views.hosts_dialog import HostsDialog
from runtime.training.remote import known_hosts_file, load_hosts
from tests.sshd import fingerprint, keygen, make_sshd


def fill(dialog: HostsDialog, server, remote_root: Path, key: Path) -> None:  # noqa: ANN001
    dialog.name.setText("实验室")
    dialog.address.setText("127.0.0.1")
    dialog.port.setValue(server.port)
    dialog.user.setText(server.user)
    dialog.key_file.setText(str(key))
    dialog.use_agent.setChecked(False)
    dialog.python.setText(sys.executable)
    dialog.remote_dir.setText(str(remote_root))


def test_test_button_shows_the_fingerprint_then_the_host(qtbot, tmp_path: Path) -> None:
    server = make_sshd(tmp_path / "sshd").start()
    try:
        dialog = HostsDialog()
        qtbot.addWidget(dialog)
        dialog.show()
        fill(dialog, server, tmp_path / "jobs", server.client_key)
        qtbot.mouseClick(dialog.test_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: dialog.key_panel.isVisible(), timeout=30_000)
        assert fingerprint(server.host_key.with_suffix(".pub")) in dialog.key_label.text()
        assert not known_hosts_file().exists()  # nothing accepted by itself
        assert [host.name for host in load_hosts().hosts] == ["实验室"]

        qtbot.mouseClick(dialog.accept_key_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: "Python: " in dialog.report.toPlainText(), timeout=30_000)
        text = dialog.report.toPlainText()
        assert ".".join(map(str, sys.version_info[:3])) in text
        assert "Free disk in" in text
        if shutil.which("nvidia-smi") is None:  # no GPU here (the host is this machine): said so
            assert "Missing:" in text and "CUDA GPU" in text
        assert not dialog.key_panel.isVisible()
        assert dialog.test_button.isEnabled()

        # A key the host does not authorize: the message says what to check.
        dialog.key_file.setText(str(keygen(tmp_path / "stranger")))
        qtbot.mouseClick(dialog.test_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: "refused the login" in dialog.report.toPlainText(), timeout=30_000)
        assert "authorized_keys" in dialog.report.toPlainText()
    finally:
        server.stop()


def test_bad_values_are_explained_and_not_saved(qtbot) -> None:
    dialog = HostsDialog()
    qtbot.addWidget(dialog)
    dialog.name.setText("box")
    dialog.address.setText("-oProxyCommand=sh")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert "address" in dialog.report.toPlainText()
    assert load_hosts().hosts == []
