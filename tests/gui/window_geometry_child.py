"""The main window in a process of its own, for tests/gui/test_window_keys.py: Qt reads the scale
factor and the (offscreen) screens once per process, so a window saved on one set of screens and
restored on another, or at another scale, needs a process each.

``python -m tests.gui.window_geometry_child [X Y WIDTH HEIGHT]`` opens the app's context and main
window, shows it, puts it at the given geometry when one is given, closes it (which saves the
geometry as the app does) and prints one JSON line: the window's frame once shown, its frame
where it was put, and each screen's available area.
"""

from __future__ import annotations

import json
import sys

from PySide6.QtCore import QRect
from PySide6.QtWidgets import QApplication


def _rect(rect: QRect) -> list[int]:
    return [rect.x(), rect.y(), rect.width(), rect.height()]


def main(argv: list[str]) -> int:
    app = QApplication([])
    from app.main_window import AppContext, MainWindow

    ctx = AppContext.open(show_errors=False)
    try:
        window = MainWindow(ctx)
        window._replaced = True  # closing it must not quit before the answer is printed
        window.show()
        # The fit after showing waits for the event loop, as it does when the app starts.
        for _ in range(5):
            app.processEvents()
        shown = window.frameGeometry()
        placed = shown
        if argv:
            x, y, width, height = (int(value) for value in argv)
            window.setGeometry(QRect(x, y, width, height))
            app.processEvents()
            placed = window.frameGeometry()
        window.close()
        sys.stdout.write(
            json.dumps(
                {
                    "frame": _rect(shown),
                    "placed": _rect(placed),
                    "screens": [_rect(screen.availableGeometry()) for screen in app.screens()],
                    "scale": app.primaryScreen().devicePixelRatio(),
                }
            )
            + "\n"
        )
    finally:
        ctx.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
