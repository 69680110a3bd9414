"""What the start-up found and the user must hear once, in the window's banner.

runtime/ reports it as :class:`runtime.errors.Notice` items (a setting reset to its default, a
settings file or a damaged conversation database kept aside); :mod:`app.main` adds its own (no
log file) and calls :func:`show_startup_notices` once, after the first window is built. A
damaged conversation database gets a button that copies its readable messages into the new one
(:func:`runtime.store.recover_conversations`), off the GUI thread.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QApplication

from app.messages import error_text, user_message
from app.tasks import run_task
from runtime.errors import Notice
from runtime.store import ConversationStore, RecoveryReport, recover_conversations

if TYPE_CHECKING:
    from app.main_window import MainWindow

log = logging.getLogger(__name__)

#: The notice of runtime.store.open_store that comes with the recovery button.
KEPT_ASIDE = "store_kept_aside"


def notice_text(notice: Notice) -> str:
    """The notice in the interface language (its English text where no translation exists)."""
    return user_message(notice.code, notice.params, notice.message)


def show_startup_notices(window: MainWindow, extra: Sequence[Notice] = ()) -> None:
    """Show the context's notices and ``extra`` in ``window``'s banner, one per line."""
    notices = [*window.ctx.notices, *extra]
    if not notices:
        return
    text = "\n".join(notice_text(notice) for notice in notices)
    damaged = next((n for n in notices if n.code == KEPT_ASIDE), None)
    if damaged is None:
        window.banner.show_message(text)
        return
    kept = Path(str(damaged.params["kept"]))
    window.banner.show_message(
        text,
        severity="error",
        action=QCoreApplication.translate("Notices", "Recover messages"),
        callback=lambda: recover_messages(window, kept),
    )


def recover_messages(window: MainWindow, kept: Path) -> None:
    """Copy the readable messages of the damaged file ``kept`` into the window's store, off the GUI thread."""
    window.banner.show_message(
        QCoreApplication.translate("Notices", "Recovering the messages that can still be read from {0}…").format(kept)
    )
    store_path = window.ctx.store.path
    context = window.ctx

    def work() -> RecoveryReport:
        # A connection of its own: a store is used from one thread only. It must not mark the
        # answer the window may be writing as interrupted.
        with ConversationStore(store_path, mark_interrupted=False) as store:
            return recover_conversations(kept, store)

    def done(report: RecoveryReport | None, error: BaseException | None) -> None:
        # A language switch may have replaced the window in the meantime.
        target = _current_window(context) or window
        if error is not None or report is None:
            log.error("recovery from %s failed: %s", kept, error)
            target.show_error(error_text(error) if error is not None else "")
            return
        target.refresh_conversations()
        if report.messages:
            text = QCoreApplication.translate(
                "Notices",
                "Recovered {0} messages in {1} conversations from {2}. The file stays where it is.",
            ).format(report.messages, report.conversations, kept)
        else:
            text = QCoreApplication.translate(
                "Notices", "No message could be read from {0}. The file stays where it is."
            ).format(kept)
        target.banner.show_message(text)

    run_task(work, done)


def _current_window(context: object) -> MainWindow | None:
    from app.main_window import MainWindow

    for widget in QApplication.topLevelWidgets():
        if isinstance(widget, MainWindow) and widget.ctx is context and widget.isVisible():
            return widget
    return None
