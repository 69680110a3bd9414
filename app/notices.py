"""What the start-up found and the user must hear once, in the window's banner.

runtime/ reports it as :class:`runtime.errors.Notice` items (a setting reset to its default, a
settings file or a damaged conversation database kept aside); :mod:`app.main` adds its own (no
log file) and calls :func:`show_startup_notices` once, after the first window is built; they
queue in the banner, none replacing another, and survive a language switch. A
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
from app.views.banner import BannerMessage
from runtime.errors import Notice
from runtime.store import ConversationStore, RecoveryReport, recover_conversations

if TYPE_CHECKING:
    from app.main_window import MainWindow

log = logging.getLogger(__name__)

#: The notice of runtime.store.open_store that comes with the recovery button.
KEPT_ASIDE = "store_kept_aside"
#: The banner key of the recovery's progress and result.
RECOVERY = "store_recovery"


def notice_text(notice: Notice) -> str:
    """The notice in the interface language (its English text where no translation exists)."""
    return user_message(notice.code, notice.params, notice.message)


def show_startup_notices(window: MainWindow, extra: Sequence[Notice] = (), *, offer_models: bool = False) -> None:
    """Queue in ``window``'s banner what the start found: none replaces another.

    Shown first, the damaged conversation database kept aside (with its "Recover messages"
    button), then a conversation file that could not be opened, then the other notices (one per
    line), and last, with ``offer_models`` and no model installed, the offer of the catalogue.
    Each is rebuilt in the new language, with its button, when the language is switched.
    """
    notices = [*window.ctx.notices, *extra]
    damaged = next((n for n in notices if n.code == KEPT_ASIDE), None)
    plain = [n for n in notices if n is not damaged]
    if offer_models:
        window.offer_models()
    if plain:
        window.banner.push(_plain_notices(window, plain))
    if window.ctx.store_warning:
        window.banner.push(_store_warning(window, window.ctx.store_warning))
    if damaged is not None:
        window.banner.push(_damaged_store(window, damaged))


def _plain_notices(window: MainWindow, notices: Sequence[Notice]) -> BannerMessage:
    return BannerMessage(
        "\n".join(notice_text(notice) for notice in notices),
        key="startup_notices",
        rebuild=lambda target: _plain_notices(target, notices),
    )


def _store_warning(window: MainWindow, warning: str) -> BannerMessage:
    text = QCoreApplication.translate(
        "Notices",
        "Your conversation file could not be opened and was left untouched; new chats go to a new file. Details: {0}",
    )
    return BannerMessage(
        text.format(warning),
        severity="error",
        key="store_warning",
        rebuild=lambda target: _store_warning(target, warning),
    )


def _damaged_store(window: MainWindow, damaged: Notice) -> BannerMessage:
    kept = Path(str(damaged.params["kept"]))
    return BannerMessage(
        notice_text(damaged),
        severity="error",
        action=QCoreApplication.translate("Notices", "Recover messages"),
        callback=lambda: recover_messages(window, kept),
        key=KEPT_ASIDE,
        rebuild=lambda target: _damaged_store(target, damaged),
    )


def recover_messages(window: MainWindow, kept: Path) -> None:
    """Copy the readable messages of the damaged file ``kept`` into the window's store, off the GUI thread."""
    window.banner.show_message(
        QCoreApplication.translate("Notices", "Recovering the messages that can still be read from {0}…").format(kept),
        key=RECOVERY,
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
        target.banner.show_message(text, key=RECOVERY)

    run_task(work, done)


def _current_window(context: object) -> MainWindow | None:
    from app.main_window import MainWindow

    for widget in QApplication.topLevelWidgets():
        if isinstance(widget, MainWindow) and widget.ctx is context and widget.isVisible():
            return widget
    return None
