"""A small live chart of a training run: the training loss (line, left axis), the validation loss (a second
line with a dot at each evaluation, same axis) and the learning rate (dashed, right axis), with a legend.

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
    """Training loss, validation loss and learning rate against the step."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumSize(320, 180)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self._points: list[tuple[int, float, float | None]] = []
        self._evals: list[tuple[int, float]] = []
        self._total = 0
        follow_scheme(self, lambda _scheme: self.update())

    @property
    def points(self) -> list[tuple[int, float, float | None]]:
        """(step, loss, learning rate) in order."""
        return list(self._points)

    @property
    def eval_points(self) -> list[tuple[int, float]]:
        """(step, validation loss) in order."""
        return list(self._evals)

    def legend(self) -> list[str]:
        """The legend's entries for what is drawn now."""
        entries = [self.tr("training loss")]
        if self._evals:
            entries.append(self.tr("validation loss"))
        if any(p[2] is not None for p in self._points):
            entries.append(self.tr("learning rate"))
        return entries

    def clear(self) -> None:
        """Forget the run."""
        self._points = []
        self._evals = []
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

    def add_eval_point(self, step: int, loss: float, total: int = 0) -> None:
        """Add one evaluation's validation loss (a repeated or older step replaces the newer ones)."""
        if not math.isfinite(loss):
            return
        while self._evals and self._evals[-1][0] >= step:
            self._evals.pop()
        self._evals.append((step, loss))
        self._total = max(self._total, total)
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt's name
        """Draw the axes, the losses, the learning rate and the legend."""
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        palette = self.palette()
        scheme = colours()
        painter.fillRect(self.rect(), palette.base())
        metrics = painter.fontMetrics()
        margin_left = metrics.horizontalAdvance("00.000") + 8
        margin_right = metrics.horizontalAdvance("0.0e-00") + 8
        line = metrics.height()
        # Below the plot: the step labels, then the legend.
        plot = QRectF(margin_left, 10, self.width() - margin_left - margin_right, self.height() - 16 - 2 * line)
        text = palette.text().color()
        painter.setPen(QPen(text, 1))
        painter.drawRect(plot)
        if not self._points and not self._evals:
            # Wrapped: the chart may be narrower than the sentence (a small window, Chinese or not).
            flags = Qt.AlignmentFlag.AlignCenter.value | Qt.TextFlag.TextWordWrap.value
            painter.drawText(plot.adjusted(6, 0, -6, 0), flags, self.tr("The loss appears here once the run reports."))
            return
        steps = [p[0] for p in self._points] + [e[0] for e in self._evals]
        losses = [p[1] for p in self._points] + [e[1] for e in self._evals]
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
        labels_y = plot.bottom() + 4 + metrics.ascent()
        painter.drawText(QPointF(plot.left(), labels_y), str(first))
        label = str(last)
        painter.drawText(QPointF(plot.right() - metrics.horizontalAdvance(label), labels_y), label)

        rates = [p[2] for p in self._points if p[2] is not None]
        if rates:
            top_rate = max(rates) or 1.0
            painter.setPen(QPen(QColor(scheme.chart_second_line), 1, Qt.PenStyle.DashLine))
            rate_line = QPolygonF([QPointF(x(s), y(r, 0.0, top_rate)) for s, _, r in self._points if r is not None])
            painter.drawPolyline(rate_line)
            painter.drawText(QPointF(plot.right() + 4, plot.top() + metrics.ascent()), f"{top_rate:.1e}")
        painter.setPen(QPen(QColor(scheme.chart_line), 2))
        painter.drawPolyline(QPolygonF([QPointF(x(s), y(v, low, high)) for s, v, _ in self._points]))
        if self._evals:
            # Evaluations are sparse (every eval_steps updates): a dot marks each, even a single one.
            painter.setPen(QPen(QColor(scheme.chart_eval_line), 2))
            points = [QPointF(x(s), y(v, low, high)) for s, v in self._evals]
            painter.drawPolyline(QPolygonF(points))
            painter.setBrush(QColor(scheme.chart_eval_line))
            for point in points:
                painter.drawEllipse(point, 3.5, 3.5)
            painter.setBrush(Qt.BrushStyle.NoBrush)
        self._draw_legend(painter, self.height() - 4)

    def _draw_legend(self, painter: QPainter, baseline: float) -> None:
        """Each entry: a short sample of its line, then its name; the whole row centred."""
        metrics = painter.fontMetrics()
        scheme = colours()
        styles = {
            self.tr("training loss"): QPen(QColor(scheme.chart_line), 2),
            self.tr("validation loss"): QPen(QColor(scheme.chart_eval_line), 2),
            self.tr("learning rate"): QPen(QColor(scheme.chart_second_line), 1, Qt.PenStyle.DashLine),
        }
        sample, gap = 18, 14
        entries = self.legend()
        width = sum(sample + 4 + metrics.horizontalAdvance(name) for name in entries) + gap * (len(entries) - 1)
        left = max(2.0, (self.width() - width) / 2)
        middle = baseline - metrics.ascent() / 2 + 1
        for name in entries:
            painter.setPen(styles[name])
            painter.drawLine(QPointF(left, middle), QPointF(left + sample, middle))
            if name == self.tr("validation loss"):
                painter.setBrush(QColor(scheme.chart_eval_line))
                painter.drawEllipse(QPointF(left + sample / 2, middle), 3.0, 3.0)
                painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.setPen(QPen(self.palette().text().color(), 1))
            painter.drawText(QPointF(left + sample + 4, baseline), name)
            left += sample + 4 + metrics.horizontalAdvance(name) + gap
