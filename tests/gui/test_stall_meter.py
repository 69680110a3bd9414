"""The stall meter the GUI tests rely on sees work done on the GUI thread, and not other threads' work."""

from __future__ import annotations

import threading
import time

from PySide6.QtCore import QEventLoop, QTimer

from tests.gui.stall import stall_meter


def spin(seconds: float) -> None:
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass


def run_loop_for(ms: int) -> None:
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def test_work_on_the_gui_thread_is_a_stall(qtbot) -> None:
    with stall_meter() as stall:
        QTimer.singleShot(50, lambda: spin(0.3))
        run_loop_for(600)
    assert stall.worst >= 250
    assert stall.worst_wall >= stall.worst * 0.9


def test_work_on_another_thread_is_not(qtbot) -> None:
    worker = threading.Thread(target=lambda: spin(0.3))
    with stall_meter() as stall:
        worker.start()
        run_loop_for(500)
    worker.join()
    assert stall.worst < 100
