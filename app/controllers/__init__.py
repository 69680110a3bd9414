"""Controllers: the logic of the window's flows, one module per flow (models, conversations, chat).

A controller is a QObject that holds one flow's logic and wires the signals of the views it
drives to it. Views in ``app/views/`` hold only layout and report what the user did through
signals. A controller is given what it needs (the store, the settings, the inference client,
the views) rather than the window, and reports what only the window shows (an error, controls to
enable) through its own signals, so it can be built and tested without a window.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QWidget


class HostEventsController(QObject):
    """A controller that reacts to the inference host's events, and lets go of them on request.

    The host (its :class:`~app.inference_client.InferenceClient`) outlives a window replaced by a
    language switch, so its signals are connected and disconnected explicitly rather than left
    to die with the window. Subclasses list their slots in :meth:`_client_slots`.
    """

    def _client_slots(self) -> list[tuple[Any, Any]]:
        """(signal, slot) pairs to connect."""
        raise NotImplementedError

    def connect_client(self) -> None:
        """React to the host's events."""
        for signal, slot in self._client_slots():
            signal.connect(slot)

    def disconnect_client(self) -> None:
        """Stop reacting to the host (the window was replaced; the host is shared)."""
        for signal, slot in self._client_slots():
            try:
                signal.disconnect(slot)
            except (RuntimeError, TypeError):
                pass


def dialog_parent(controller: QObject) -> QWidget | None:
    """The window a controller belongs to (its QObject parent), to parent its dialogs.

    Asked of Qt each time, not kept in an attribute: a reference from a controller back to the
    window would be a reference cycle that keeps a closed window's Python object alive until the
    garbage collector runs.
    """
    parent = controller.parent()
    return parent if isinstance(parent, QWidget) else None
