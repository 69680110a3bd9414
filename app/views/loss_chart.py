"""A small live chart of a training run: the loss (line, left axis) and the learning rate (dashed, right axis).

Drawn with QPainter: a plotting library (QtCharts, matplotlib) would add megabytes to the bundle
for two polylines.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPen, QPolygonF
from PySide6.QtWidgets import QSizePolicy, QWidget

from app.theme import colours, follow_scheme

#: Points kept; older ones are thinned (every other one dropped) so a long run stays cheap to draw.
MAX_POINTS = 2000


class LossChart(QWidget):
    """Loss and learning rate against the step."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumSize(320, 180)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self._points: list[tuple[int, float, float | None]] = []
        self._total = 0
        follow_scheme(self, lambda _scheme: self.update())

    @property
    def points(self) -> list[tuple[int, float, float | None]]:
        """(step, loss, learning rate) in order."""
        return list(self._points)

    def clear(self) -> None:
        """Forget the run."""
        self._points = []
        self._total = 0
        self.update()

    def add_point(self, step: int, loss: float, lr: float | None, total: int = 0) -> None:
        """Add one progress line's figures (a repeated or older step replaces the newer ones: a resumed run)."""
        if not math.isfinite(loss):
            return
        while self._points and self._points[-1][0] >= step:
            self._points.pop()
        self._points.append((step, loss, lr))
        self._total = max(self._total, total)
        if len(self._points) > MAX_POINTS:
            self._points = self._points[::2]
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt's name
        """Draw the axes, the loss and the learning rate."""
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        palette = self.palette()
        scheme = colours()
        painter.fillRect(self.rect(), palette.base())
        metrics = painter.fontMetrics()
        margin_left = metrics.horizontalAdvance("00.000") + 8
        margin_right = metrics.horizontalAdvance("0.0e-00") + 8
        plot = QRectF(margin_left, 10, self.width() - margin_left - margin_right, self.height() - 20 - metrics.height())
        text = palette.text().color()
        painter.setPen(QPen(text, 1))
        painter.drawRect(plot)
        if not self._points:
            # Wrapped: the chart may be narrower than the sentence (a small window, Chinese or not).
            flags = Qt.AlignmentFlag.AlignCenter.value | Qt.TextFlag.TextWordWrap.value
            painter.drawText(plot.adjusted(6, 0, -6, 0), flags, self.tr("The loss appears here once the run reports."))
            return
        steps = [p[0] for p in self._points]
        losses = [p[1] for p in self._points]
        first, last = min(steps), max(max(steps), self._total)
        low, high = min(losses), max(losses)
        if high - low < 1e-9:
            low, high = low - 0.5, high + 0.5
        span = max(1, last - first)

        def x(step: int) -> float:
            return plot.left() + (step - first) / span * plot.width()

        def y(value: float, bottom: float, top: float) -> float:
            return plot.bottom() - (value - bottom) / (top - bottom) * plot.height()

        painter.drawText(QPointF(2, plot.top() + metrics.ascent()), f"{high:.3f}")
        painter.drawText(QPointF(2, plot.bottom()), f"{low:.3f}")
        painter.drawText(QPointF(plot.left(), self.height() - 4), str(first))
        label = str(last)
        painter.drawText(QPointF(plot.right() - metrics.horizontalAdvance(label), self.height() - 4), label)

        rates = [p[2] for p in self._points if p[2] is not None]
        if rates:
            top_rate = max(rates) or 1.0
            painter.setPen(QPen(QColor(scheme.chart_second_line), 1, Qt.PenStyle.DashLine))
            line = QPolygonF([QPointF(x(s), y(r, 0.0, top_rate)) for s, _, r in self._points if r is not None])
            painter.drawPolyline(line)
            painter.drawText(QPointF(plot.right() + 4, plot.top() + metrics.ascent()), f"{top_rate:.1e}")
        painter.setPen(QPen(QColor(scheme.chart_line), 2))
        painter.drawPolyline(QPolygonF([QPointF(x(s), y(v, low, high)) for s, v, _ in self._points]))
        painter.setPen(QPen(text, 1))
        legend = self.tr("loss (solid), learning rate (dashed) by step")
        painter.drawText(QPointF(plot.center().x() - metrics.horizontalAdvance(legend) / 2, self.height() - 4), legend)
