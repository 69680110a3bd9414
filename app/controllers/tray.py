"""Downloads that go on when the window is closed: the system tray, and what closing the window does.

Closing the main window while downloads run or wait:

- with a system tray (and the setting "Keep downloading in the tray when the window is closed",
  on by default), the window and its dialogs hide and the downloads go on; a tray icon shows their
  progress and offers "Show Alpaca Desk", "Pause all", "Resume" and "Quit". A message says so the
  first time. When the last download finishes while the window is hidden, a message says the model
  is ready, and clicking it opens the window with the model ("Chat with it" for a GGUF, the convert
  wizard for full weights). The app keeps running in the tray until the user quits or reopens it.
- without a tray (many Linux desktops, offscreen), or with the setting off, the window asks first:
  "Quit" stops the downloads, which resume at the next start from the bytes on disk, as before;
  "Keep downloading" cancels the close.

The tray icon is shown only while downloads run or wait (and, once shown, while some are paused),
or while the window is hidden in the tray; not for the whole life of the app: a chat app has
nothing to report there otherwise, and an icon the user did not ask for is clutter (while the
window is hidden it is the only way back).

Quit (the tray's, Model → Quit, or the question's) takes the app's one shutdown path: the window
closes, ``app.exec()`` returns and :meth:`app.main_window.AppContext.close` stops the download job
(which stays "running" in the saved queue, so the next start resumes it), the inference host and
the store. The download job is also asked to stop at once, so that nothing more is written after
the user chose to quit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QApplication, QMessageBox, QSystemTrayIcon, QWidget

from app.controllers import dialog_parent
from app.controllers.downloads import DONE, FAILED, PAUSED, QUEUED, RUNNING, Download, DownloadManager
from app.controllers.hub import duration_text
from app.views.hub_view import size_text
from app.views.tray import DownloadTrayIcon, QuitWithDownloadsBox

if TYPE_CHECKING:
    from app.context import AppContext

#: Downloads listed one per line in the tray menu; more are summed up in one line.
MAX_MENU_LINES = 6


class TrayController(QObject):
    """What closing the main window does while downloads run, and the tray icon that follows them.

    Attributes:
        tray_available: Whether the desktop has a system tray; None (the default) asks Qt
            (:meth:`QSystemTrayIcon.isSystemTrayAvailable`) each time. Offscreen there is none,
            so tests set it to exercise the tray path.
        tray: The tray icon, made when it is first needed (None until then).
        hidden_in_tray: The window is hidden and the app runs on in the tray.
    """

    def __init__(
        self,
        context: AppContext,
        downloads: DownloadManager,
        *,
        open_download: Callable[[Download], Any],
        open_downloads_view: Callable[[], Any],
        parent: QWidget,
    ) -> None:
        super().__init__(parent)
        self.ctx = context
        self.downloads = downloads
        self._open_download = open_download
        self._open_downloads_view = open_downloads_view
        self.tray_available: bool | None = None
        self.tray: DownloadTrayIcon | None = None
        self.hidden_in_tray = False
        self.quitting = False
        self.question: QuitWithDownloadsBox | None = None
        self._hidden_dialogs: list[QWidget] = []
        self._quit_on_last_window_closed = True
        self._message_item: Download | None = None
        self._states: dict[str, str] = {}
        downloads.added.connect(self._on_changed)
        downloads.changed.connect(self._on_changed)
        downloads.removed.connect(self._on_changed)
        downloads.completed.connect(self._on_completed)
        self._update()

    # -- closing the window ------------------------------------------------------------------------

    def is_tray_available(self) -> bool:
        """Whether the desktop shows tray icons (see :attr:`tray_available`)."""
        if self.tray_available is not None:
            return self.tray_available
        return QSystemTrayIcon.isSystemTrayAvailable()

    def keeps_window_open(self) -> bool:
        """Called when the window is asked to close: True when it must not close now (the event is
        to be ignored) because downloads run and the window went to the tray or the user is asked."""
        if self.quitting:
            return False
        active = self.downloads.active()
        if not active:
            return False
        if self.ctx.settings.keep_downloading_in_tray and self.is_tray_available():
            self.hide_to_tray()
        else:
            self.ask_before_quitting(len(active))
        return True

    def request_quit(self) -> None:
        """Model → Quit: quit, after asking when downloads would be stopped."""
        active = self.downloads.active()
        if active:
            self.ask_before_quitting(len(active))
        else:
            self.quit()

    def ask_before_quitting(self, count: int) -> None:
        """Ask "Quit and resume them next time?" (window-modal, without blocking the downloads'
        progress); "Keep downloading" leaves everything as it was."""
        if self.question is not None and self.question.isVisible():
            self.question.raise_()
            return
        window = dialog_parent(self)
        if window is not None and not window.isVisible():
            self.show_window()  # the question needs its window (Model → Quit cannot come from a hidden one)
        box = QuitWithDownloadsBox(count, window)
        box.finished.connect(lambda _result, b=box: self._on_answered(b))
        self.question = box
        box.open()

    def _on_answered(self, box: QMessageBox) -> None:
        if box is self.question:
            self.question = None
        quit_chosen = isinstance(box, QuitWithDownloadsBox) and box.clickedButton() is box.quit_button
        box.deleteLater()
        if quit_chosen:
            self.quit()

    def quit(self) -> None:
        """End the app: the downloads stop (their bytes stay; the next start resumes them)."""
        self.quitting = True
        QApplication.setQuitOnLastWindowClosed(self._quit_on_last_window_closed)
        self.downloads.shutdown()
        if self.tray is not None:
            self.tray.hide()
        window = dialog_parent(self)
        if window is not None:
            window.close()  # the window's close is the app's shutdown path (app.main)

    # -- the tray ----------------------------------------------------------------------------------

    def hide_to_tray(self) -> None:
        """Hide the window and its dialogs; the app runs on with the tray icon."""
        window = dialog_parent(self)
        if not self.hidden_in_tray:
            self._quit_on_last_window_closed = QApplication.quitOnLastWindowClosed()
        # Hiding the last window must not end the app now; restored when the window comes back.
        QApplication.setQuitOnLastWindowClosed(False)
        self.hidden_in_tray = True
        if window is not None:
            # The window's own dialogs (Get models, the convert wizard, ...) are windows of their
            # own that Qt leaves on screen when their parent hides.
            self._hidden_dialogs = [
                w for w in window.findChildren(QWidget) if w.isWindow() and w.isVisible() and w is not window
            ]
            for dialog in self._hidden_dialogs:
                dialog.hide()
            window.hide()
        self._update()
        settings = self.ctx.settings
        if self.tray is not None and not settings.tray_notice_shown:
            self.tray.say(
                self.tr("Alpaca Desk is still downloading"),
                self.tr(
                    "The downloads go on with the window closed. Click this icon to open the window again; "
                    "Quit in its menu stops them (they resume the next time you start Alpaca Desk)."
                ),
            )
            settings.tray_notice_shown = True
            self.ctx.save_settings()

    def show_window(self) -> None:
        """Bring the window (and the dialogs hidden with it) back from the tray."""
        window = dialog_parent(self)
        if self.hidden_in_tray:
            QApplication.setQuitOnLastWindowClosed(self._quit_on_last_window_closed)
        self.hidden_in_tray = False
        if window is not None:
            window.showNormal() if window.isMinimized() else window.show()
            for dialog in self._hidden_dialogs:
                dialog.show()
            self._hidden_dialogs = []
            window.raise_()
            window.activateWindow()
        self._update()

    def _make_tray(self) -> DownloadTrayIcon:
        if self.tray is None:
            tray = DownloadTrayIcon(self)
            tray.show_requested.connect(self.show_window)
            tray.pause_all_requested.connect(self.downloads.pause_all)
            tray.resume_all_requested.connect(self.downloads.resume_all)
            tray.quit_requested.connect(self.quit)
            tray.messageClicked.connect(self._on_message_clicked)
            self.tray = tray
        return self.tray

    def _update(self) -> None:
        """Show or hide the tray icon; its tooltip and menu follow the downloads."""
        active = self.downloads.active()
        paused = any(d.state == PAUSED for d in self.downloads.items)
        # Downloads paused from the tray keep the icon (it must not vanish under the pointer that
        # paused them, and it offers Resume); paused ones found at start do not bring it up.
        showing = self.tray is not None and self.tray.isVisible()
        wanted = (
            not self.quitting
            and (bool(active) or self.hidden_in_tray or (showing and paused))
            and self.is_tray_available()
        )
        if not wanted:
            if self.tray is not None:
                self.tray.hide()
            return
        tray = self._make_tray()
        shown = [d for d in self.downloads.items if d.state in (RUNNING, QUEUED, PAUSED, FAILED)]
        lines = [self._line(d) for d in shown[:MAX_MENU_LINES]]
        if len(shown) > MAX_MENU_LINES:
            lines.append(self.tr("… and {0} more").format(len(shown) - MAX_MENU_LINES))
        tray.set_progress(
            self._summary(active),
            lines,
            can_pause=bool(active),
            can_resume=paused,
        )
        tray.show()

    def _summary(self, active: list[Download]) -> str:
        """The tooltip: all the downloads in progress together."""
        if not active:
            return self.tr("Alpaca Desk: no download in progress")
        done = sum(d.done for d in active)
        total = sum(d.total for d in active)
        running = next((d for d in active if d.state == RUNNING), None)
        parts = [self.tr("Alpaca Desk: downloading {0} file(s)").format(sum(max(1, len(d.files)) for d in active))]
        if total:
            parts.append(self.tr("{0}% of {1}").format(done * 100 // total, size_text(total)))
        if running is not None and running.speed:
            parts.append(f"{running.speed / 1e6:.1f} MB/s")
            if running.eta is not None:
                parts.append(self.tr("{0} left").format(duration_text(running.eta)))
        return " · ".join(parts)

    def _line(self, item: Download) -> str:
        """One download in the tray menu: its name and where it is."""
        name = _name(item)
        if item.state == RUNNING:
            if not item.total:
                return self.tr("{0}: starting").format(name)
            text = self.tr("{0}: {1}%").format(name, item.done * 100 // item.total)
            return f"{text} · {item.speed / 1e6:.1f} MB/s" if item.speed else text
        state = {QUEUED: self.tr("waiting"), PAUSED: self.tr("paused"), FAILED: self.tr("failed")}[item.state]
        return self.tr("{0}: {1}").format(name, state)

    # -- the downloads -----------------------------------------------------------------------------

    def _on_changed(self, item: Download) -> None:
        before = self._states.get(item.key)
        self._states[item.key] = item.state
        if item.state == FAILED and before != FAILED and self.hidden_in_tray and self.tray is not None:
            self._message_item = None
            self.tray.say(
                self.tr("Download failed"),
                self.tr("{0}: {1} Click to open the downloads.").format(_name(item), item.error),
                warning=True,
            )
        self._update()

    def _on_completed(self, item: Download) -> None:
        self._update()
        if not self.hidden_in_tray or self.tray is None or self.downloads.active():
            return
        # The last download finished with the window hidden: say so, and open the model on a click.
        self._message_item = item
        ggufs = [p for p in item.paths if p.lower().endswith(".gguf")]
        if item.kind == "gguf" and ggufs:
            text = self.tr("{0} is downloaded and verified. Click to chat with it.")
        else:
            text = self.tr("{0} is downloaded and verified. Click to convert it to GGUF.")
        self.tray.say(self.tr("Download finished"), text.format(_name(item)))

    def _on_message_clicked(self) -> None:
        item, self._message_item = self._message_item, None
        self.show_window()
        if item is not None and item.state == DONE:
            self._open_download(item)
        elif self.downloads.items:
            self._open_downloads_view()


def _name(item: Download) -> str:
    """A download as the user knows it: its file, or its repository for a whole repository."""
    return item.files[0].rsplit("/", 1)[-1] if len(item.files) == 1 else item.repo
