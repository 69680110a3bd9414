"""The saved SSH hosts flow: load, save, remove, and test a host off the GUI thread.

A test connects (paramiko, in a worker through ``run_task``), then reports the GPUs, Python, free
disk and what is missing. A host key the app does not know yet is never accepted here on its own:
the controller emits :attr:`HostsController.key_unknown` with the key, the view shows its SHA256
fingerprint, and only :meth:`HostsController.accept_key` (the user's click) records it.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from app.messages import error_text
from app.tasks import run_task
from runtime.errors import AppError, RemoteError
from runtime.training.remote import (
    Host,
    HostKey,
    HostKeyUnknown,
    HostReport,
    accept_host_key,
    connect,
    load_hosts,
    probe_host,
    save_hosts,
)
from runtime.training.remote.connection import needs_passphrase
from runtime.training.remote.secrets import remember_passphrase, stored_passphrase


class HostsController(QObject):
    """Keeps the saved hosts and tests them.

    Signals:
        hosts_changed(list): The saved hosts (a list of :class:`Host`) after loading or a change.
        testing(bool): A test started (True) or ended (False).
        tested(object, object): The host and its :class:`HostReport`.
        key_unknown(object, object): The host and its :class:`HostKey`, for the user to compare.
        failed(str): A translated message (a refused login, a changed key, no connection, ...).
        notice(str): Something to tell once (a damaged hosts file kept aside).
    """

    hosts_changed = Signal(list)
    testing = Signal(bool)
    tested = Signal(object, object)
    key_unknown = Signal(object, object)
    failed = Signal(str)
    notice = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.hosts: list[Host] = []
        self.busy = False

    def load(self) -> None:
        """Read ``hosts.json`` (a small file: read on the GUI thread like the settings)."""
        loaded = load_hosts()
        self.hosts = loaded.hosts
        for notice in loaded.notices:
            self.notice.emit(str(notice))
        self.hosts_changed.emit(list(self.hosts))

    def save(self, host: Host, *, previous_name: str | None = None) -> bool:
        """Save ``host`` (replacing ``previous_name`` when it was renamed); False with a message if refused."""
        names = {other.name for other in self.hosts if other.name != (previous_name or host.name)}
        if host.name in names:
            self.failed.emit(
                self.tr("A host called {0} is already saved; choose another name or remove it first.").format(host.name)
            )
            return False
        kept = [other for other in self.hosts if other.name not in (host.name, previous_name)]
        try:
            save_hosts([*kept, host])
        except OSError as exc:
            self.failed.emit(self.tr("Cannot save the hosts: {0}").format(exc.strerror or exc))
            return False
        self.hosts = [*kept, host]
        self.hosts_changed.emit(list(self.hosts))
        return True

    def remove(self, name: str) -> None:
        """Forget the saved host ``name``."""
        kept = [host for host in self.hosts if host.name != name]
        try:
            save_hosts(kept)
        except OSError as exc:
            self.failed.emit(self.tr("Cannot save the hosts: {0}").format(exc.strerror or exc))
            return
        self.hosts = kept
        self.hosts_changed.emit(list(self.hosts))

    def test(self, host: Host, *, passphrase: str = "", remember: bool = False) -> None:
        """Connect to ``host`` in a worker and report (:attr:`tested`, :attr:`key_unknown` or :attr:`failed`)."""
        if self.busy:
            return
        self.busy = True
        self.testing.emit(True)

        def work() -> HostReport:
            # An empty field: the passphrase the user asked the keyring to remember, if any.
            typed = passphrase or (stored_passphrase(host) if needs_passphrase(host) else None)
            with connect(host, passphrase=typed or None) as conn:
                report = probe_host(conn)
            if remember and passphrase:
                remember_passphrase(host, passphrase)
            return report

        def done(report: HostReport | None, error: BaseException | None) -> None:
            self.busy = False
            self.testing.emit(False)
            if isinstance(error, HostKeyUnknown):
                self.key_unknown.emit(host, error.key)
            elif isinstance(error, AppError):
                self.failed.emit(error_text(error))
            elif error is not None:
                self.failed.emit(self.tr("The test failed: {0}").format(error))
            else:
                self.tested.emit(host, report)

        run_task(work, done)

    def accept_key(self, host: Host, key: HostKey) -> bool:
        """Record ``key`` for ``host`` (the user compared the fingerprint and accepted it)."""
        try:
            accept_host_key(host, key)
        except (RemoteError, OSError) as exc:
            self.failed.emit(error_text(exc))
            return False
        return True
