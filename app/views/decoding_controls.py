"""The decoding panel's value widgets: one parameter's label, slider and spin box, and the wheel guard.

A :class:`NumberControl` is built from one entry of :data:`runtime.decoding.RANGES`, so it never
offers a value that :class:`runtime.decoding.DecodingParams` would refuse. The
:class:`WheelGuard` keeps a scroll of the panel from changing the value under the pointer.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QSignalBlocker, Qt
from PySide6.QtWidgets import QAbstractSpinBox, QDoubleSpinBox, QLabel, QSlider, QSpinBox, QWidget

from runtime.decoding import Range

__all__ = ["NumberControl", "WheelGuard"]


class NumberControl:
    """A label, a slider and a spin box for one entry of ``RANGES``, kept in sync.

    The spin box holds the value; the slider is a coarse view of it in units of the range's
    step, so a typed value between two steps (a context of 3000) is kept exactly.
    """

    def __init__(self, rng: Range, label: str, tooltip: str, parent: QWidget) -> None:
        self.rng = rng
        self.label = QLabel(label, parent)
        self.slider = QSlider(Qt.Orientation.Horizontal, parent)
        self.spin: QSpinBox | QDoubleSpinBox
        if rng.is_int:
            spin = QSpinBox(parent)
            spin.setRange(int(rng.low), int(rng.high))
            spin.setSingleStep(int(rng.step))
            self.spin = spin
        else:
            dspin = QDoubleSpinBox(parent)
            dspin.setDecimals(2)
            dspin.setRange(rng.low, rng.high)
            dspin.setSingleStep(rng.step)
            self.spin = dspin
        self.spin.setAlignment(Qt.AlignmentFlag.AlignRight)
        # Holding an arrow key or the mouse on a spin box arrow should step smoothly.
        self.spin.setAccelerated(True)
        self.spin.setCorrectionMode(QAbstractSpinBox.CorrectionMode.CorrectToNearestValue)
        self.slider.setRange(0, self._index(rng.high))
        self.slider.setPageStep(max(1, self.slider.maximum() // 20))
        for widget in (self.label, self.slider, self.spin):
            widget.setToolTip(tooltip)
        self.label.setBuddy(self.spin)
        self.slider.valueChanged.connect(self._slider_moved)
        self.spin.valueChanged.connect(self._spin_changed)

    def _index(self, value: float) -> int:
        return round((value - self.rng.low) / self.rng.step)

    def _slider_moved(self, index: int) -> None:
        value = self.rng.low + index * self.rng.step
        if isinstance(self.spin, QSpinBox):
            self.spin.setValue(round(value))
        else:
            self.spin.setValue(round(value, 2))

    def _spin_changed(self, value: float) -> None:
        # Blocked, so that moving the slider to the nearest step does not write the rounded
        # value back into the spin box.
        with QSignalBlocker(self.slider):
            self.slider.setValue(self._index(value))

    def value(self) -> int | float:
        """The current value: an int for whole-number parameters, else rounded to 2 places."""
        if isinstance(self.spin, QSpinBox):
            return self.spin.value()
        return round(self.spin.value(), 2)

    def set_value(self, value: float) -> None:
        """Show ``value`` (clamped to the current range)."""
        if isinstance(self.spin, QSpinBox):
            self.spin.setValue(round(value))
        else:
            self.spin.setValue(float(value))

    def set_maximum(self, maximum: int) -> None:
        """Lower or raise the upper bound; the value is clamped if it is above it."""
        if isinstance(self.spin, QSpinBox):
            self.spin.setMaximum(maximum)
        else:
            self.spin.setMaximum(float(maximum))
        self.slider.setMaximum(self._index(maximum))


class WheelGuard(QObject):
    """Keeps the wheel from changing a value while the pointer only passes over its control.

    Scrolling the panel must not change a value just because the pointer passes over a slider or
    spin box: a guarded control takes wheel events only once focused, and passes them on to the
    scroll area around it until then.
    """

    def guard(self, widget: QWidget) -> None:
        """Let ``widget`` take wheel events only when it has the focus."""
        widget.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        widget.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Pass wheel events over unfocused controls on to the scroll area."""
        if event.type() == QEvent.Type.Wheel and isinstance(watched, QWidget) and not watched.hasFocus():
            # Ignored and filtered: Qt then offers the event to the parents, the scroll area.
            event.ignore()
            return True
        return super().eventFilter(watched, event)
