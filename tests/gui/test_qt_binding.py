"""Guards against a Qt binding that corrupts reference counts (PySide6 6.12.0 did)."""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject, Signal


class _Emitter(QObject):
    text = Signal(str)


def test_signal_emit_keeps_bool_reference_counts(qapp) -> None:
    emitter = _Emitter()
    emitter.text.connect(lambda _value: None)
    before = sys.getrefcount(True) + sys.getrefcount(False)
    results = [emitter.text.emit("x") for _ in range(200)]
    del results
    after = sys.getrefcount(True) + sys.getrefcount(False)
    # Each emit returns a bool; a correct binding hands out a new reference with it, so
    # dropping the results leaves the counts where they were.
    assert after == before, f"Signal.emit() leaked {before - after} references to True/False"
