"""Where a window may be: inside the available area of a screen, at any scale and on any screen."""

from __future__ import annotations

from PySide6.QtCore import QRect
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QWidget


def fit_inside(frame: QRect, available: QRect) -> QRect:
    """``frame`` made no larger than ``available`` and moved, as little as it takes, into it."""
    width = min(frame.width(), available.width())
    height = min(frame.height(), available.height())
    x = min(max(frame.x(), available.left()), available.left() + available.width() - width)
    y = min(max(frame.y(), available.top()), available.top() + available.height() - height)
    return QRect(x, y, width, height)


def fit_to_screen(window: QWidget) -> None:
    """Shrink ``window`` to the available area of the screen it is on and move it onto that
    screen where it is partly or wholly off it. A geometry saved at another scale (150% and
    200% make the logical screen smaller), on a larger screen or on one no longer attached
    would otherwise put the input box and the side panels out of reach."""
    if window.isMaximized() or window.isFullScreen():
        return
    frame = window.frameGeometry()
    screen = (
        QGuiApplication.screenAt(frame.center())
        or QGuiApplication.screenAt(frame.topLeft())
        or window.screen()
        or QGuiApplication.primaryScreen()
    )
    if screen is None:
        return
    fitted = fit_inside(frame, screen.availableGeometry())
    if fitted == frame:
        return
    # The decorations are known only once the window is shown (zero before): the client
    # area gets what the frame leaves.
    if fitted.size() != frame.size():
        window.resize(
            fitted.width() - (frame.width() - window.width()),
            fitted.height() - (frame.height() - window.height()),
        )
    if fitted.topLeft() != frame.topLeft():
        window.move(fitted.topLeft())  # a window's position is its frame's
