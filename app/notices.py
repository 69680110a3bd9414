"""What the start-up found and the user must hear once, in the window's banner.

runtime/ reports it as :class:`runtime.errors.Notice` items (a setting reset to its default, a
settings file kept aside); :mod:`app.main` calls :func:`show_startup_notices` once, after the
first window is built.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from app.messages import user_message
from runtime.errors import Notice

if TYPE_CHECKING:
    from app.main_window import MainWindow


def notice_text(notice: Notice) -> str:
    """The notice in the interface language (its English text where no translation exists)."""
    return user_message(notice.code, notice.params, notice.message)


def show_startup_notices(window: MainWindow, extra: Sequence[Notice] = ()) -> None:
    """Show the context's notices and ``extra`` in ``window``'s banner, one per line."""
    notices = [*window.ctx.notices, *extra]
    if not notices:
        return
    window.banner.show_message("\n".join(notice_text(notice) for notice in notices))
