"""The system tray icon that keeps downloads company while the window is closed, and the question
asked when the window is closed with downloads running and no tray to keep them in.

Layout only: :class:`app.controllers.tray.TrayController` decides when they appear, fills them
and carries out what the user chooses.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QAction, QGuiApplication, QIcon
from PySide6.QtWidgets import QMenu, QMessageBox, QSystemTrayIcon, QWidget

from runtime.paths import assets_dir

#: How long a tray message stays up (milliseconds; desktops may cap or ignore it).
MESSAGE_MS = 10_000


def app_icon() -> QIcon:
    """The application's icon: the one the start-up set for every window, else the shipped PNGs."""
    icon = QGuiApplication.windowIcon()
    if not icon.isNull() and icon.availableSizes():
        return icon
    icon = QIcon()
    for png in sorted((assets_dir() / "icons").glob("alpaca-desk-*.png")):
        icon.addFile(str(png))
    return icon


class DownloadTrayIcon(QSystemTrayIcon):
    """The tray icon: the downloads' progress in its tooltip and menu, and the way back to the window.

    Signals:
        show_requested(): "Show Alpaca Desk", or a click on the icon.
        pause_all_requested(), resume_all_requested(): Pause every download, or resume the paused ones.
        quit_requested(): "Quit": stop the downloads (they resume at the next start) and end the app.

    :attr:`messageClicked` (Qt's) says the user clicked the last message shown by :meth:`say`.
    """

    show_requested = Signal()
    pause_all_requested = Signal()
    resume_all_requested = Signal()
    quit_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(app_icon(), parent)
        # A tray icon does not own its menu (QSystemTrayIcon.setContextMenu), and a menu with a
        # parent widget would be a child window of it: a parentless menu, deleted with the icon.
        self.menu = QMenu()
        self.destroyed.connect(self.menu.deleteLater)
        self.progress_actions: list[QAction] = []
        self._first_fixed = self.menu.addSeparator()
        self.show_action = self.menu.addAction(self.tr("Show Alpaca Desk"))
        self.show_action.triggered.connect(self.show_requested.emit)
        self.pause_action = self.menu.addAction(self.tr("Pause all downloads"))
        self.pause_action.triggered.connect(self.pause_all_requested.emit)
        self.resume_action = self.menu.addAction(self.tr("Resume downloads"))
        self.resume_action.triggered.connect(self.resume_all_requested.emit)
        self.menu.addSeparator()
        self.quit_action = self.menu.addAction(self.tr("Quit Alpaca Desk"))
        self.quit_action.triggered.connect(self.quit_requested.emit)
        self.setContextMenu(self.menu)
        self.activated.connect(self._on_activated)
        #: Every message shown (title, text), newest last: what the user was told, also where the
        #: desktop shows no messages.
        self.messages: list[tuple[str, str]] = []

    def set_progress(self, summary: str, lines: list[str], *, can_pause: bool, can_resume: bool) -> None:
        """Show ``summary`` as the tooltip and one disabled menu line per download in ``lines``."""
        self.setToolTip(summary)
        # The lines are updated in place (progress comes several times a second), so that a menu
        # the user has open does not lose the item under the pointer.
        while len(self.progress_actions) > len(lines):
            action = self.progress_actions.pop()
            self.menu.removeAction(action)
            action.deleteLater()
        while len(self.progress_actions) < len(lines):
            action = QAction(self.menu)
            action.setEnabled(False)
            self.menu.insertAction(self._first_fixed, action)
            self.progress_actions.append(action)
        for action, line in zip(self.progress_actions, lines, strict=True):
            action.setText(line)
        self._first_fixed.setVisible(bool(lines))
        self.pause_action.setEnabled(can_pause)
        self.resume_action.setEnabled(can_resume)

    def say(self, title: str, text: str, *, warning: bool = False) -> None:
        """A message from the tray (a balloon or a desktop notification, as the desktop shows them)."""
        self.messages.append((title, text))
        icon = QSystemTrayIcon.MessageIcon.Warning if warning else QSystemTrayIcon.MessageIcon.Information
        self.showMessage(title, text, icon, MESSAGE_MS)

    def _on_activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        # A click opens the window; a right click (Context) shows the menu, which Qt does itself.
        if reason in (QSystemTrayIcon.ActivationReason.Trigger, QSystemTrayIcon.ActivationReason.DoubleClick):
            self.show_requested.emit()


class QuitWithDownloadsBox(QMessageBox):
    """Closing the window with downloads running where they cannot go on in the tray: quit (they
    resume at the next start, from the bytes on disk) or keep downloading (the window stays)."""

    def __init__(self, count: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setIcon(QMessageBox.Icon.Question)
        self.setWindowTitle(self.tr("Downloads are running"))
        if count == 1:
            text = self.tr("A download is running. Quit and resume it the next time you start Alpaca Desk?")
        else:
            text = self.tr(
                "{0} downloads are running. Quit and resume them the next time you start Alpaca Desk?"
            ).format(count)
        self.setText(text)
        self.setInformativeText(
            self.tr("What is already downloaded stays on disk; the downloads go on from there, not from zero.")
        )
        self.quit_button = self.addButton(self.tr("Quit"), QMessageBox.ButtonRole.DestructiveRole)
        self.keep_button = self.addButton(self.tr("Keep downloading"), QMessageBox.ButtonRole.RejectRole)
        # Enter or Escape must never stop a download by accident.
        self.setDefaultButton(self.keep_button)
        self.setEscapeButton(self.keep_button)
