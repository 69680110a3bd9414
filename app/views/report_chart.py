"""The quantization report's chart: file size against perplexity, one labelled point per file.

The picture of the Chinese-LLaMA papers' quantization tables: how much each step down in size
costs in perplexity (lower left is better). Drawn with pyqtgraph, a maintained plotting widget on
the Qt and numpy the app already ships; see pyproject.toml for why not Qt Charts.

pyqtgraph is imported here only, and this module only when a report window opens: the import takes
about a second, which the chat window should not pay at start-up.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QBuffer, QIODevice, Qt
from PySide6.QtGui import QColor, QFont, QGuiApplication, QImage, QPalette
from PySide6.QtWidgets import QVBoxLayout, QWidget

# pyqtgraph picks a Qt binding by itself (PyQt6 first when several are installed); the app runs on
# PySide6, and a second binding in one process would not share its widgets.
os.environ["PYQTGRAPH_QT_LIB"] = "PySide6"
import pyqtgraph as pg  # noqa: E402 - after the binding is chosen
from pyqtgraph.exporters import ImageExporter  # noqa: E402

from app.theme import Colours, follow_scheme  # noqa: E402

#: Width in pixels of the exported PNG (the height follows the chart's shape on screen).
EXPORT_WIDTH = 1200
#: Files of at least this size are shown in GiB, smaller ones in MiB (as the table shows them).
GIB = 2**30
MIB = 2**20


@dataclass(frozen=True)
class ChartPoint:
    """One file on the chart, in the chart's units."""

    label: str
    size: float
    perplexity: float


def chart_points(rows: Sequence[dict[str, Any]]) -> tuple[str, list[ChartPoint]]:
    """The unit of the size axis ("MiB" or "GiB") and a point per report row, smallest file first.

    A row whose perplexity is not a finite number (a broken file's infinite loss) has no place on
    the axis and is left out; the table still shows it.
    """
    largest = max((int(row["bytes"]) for row in rows), default=0)
    unit, scale = ("GiB", GIB) if largest >= GIB else ("MiB", MIB)
    points = [
        ChartPoint(str(row["quantization"]), int(row["bytes"]) / scale, float(row["perplexity"]))
        for row in rows
        if math.isfinite(float(row["perplexity"]))
    ]
    return unit, sorted(points, key=lambda p: p.size)


class ReportChart(QWidget):
    """Size (x) against perplexity (y), each point labelled with its quantization type."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.plot = pg.PlotWidget()
        # A chart to read, not to explore: pyqtgraph's menu (untranslated, with its own export
        # dialog) and the auto-range button are hidden, panning and zooming off.
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.showGrid(x=True, y=True, alpha=0.25)
        # Room around the outermost points for their labels.
        self.plot.getViewBox().setDefaultPadding(0.15)
        self.line = pg.PlotDataItem()
        self.scatter = pg.ScatterPlotItem(size=10, antialias=True)
        self.plot.addItem(self.line)
        self.plot.addItem(self.scatter)
        self.labels: list[pg.TextItem] = []
        self.points: list[ChartPoint] = []
        self.unit = "MiB"
        self._text_color = QGuiApplication.palette().color(QPalette.ColorRole.Text)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plot)
        follow_scheme(self, self._restyle)

    def _restyle(self, scheme: Colours) -> None:
        """Background, axes, points and labels in the palette's and ``scheme``'s colours."""
        palette = QGuiApplication.palette()
        text = palette.color(QPalette.ColorRole.Text)
        self._text_color = text
        self.plot.setBackground(palette.color(QPalette.ColorRole.Base))
        for side in ("left", "bottom"):
            axis = self.plot.getAxis(side)
            axis.setPen(pg.mkPen(text))
            axis.setTextPen(pg.mkPen(text))
        accent = QColor(scheme.chart_line)
        self.line.setPen(pg.mkPen(accent, width=1, style=Qt.PenStyle.DashLine))
        self.scatter.setBrush(pg.mkBrush(accent))
        self.scatter.setPen(pg.mkPen(text))
        for label in self.labels:
            label.setColor(text)
        self._set_axis_labels()

    def _set_axis_labels(self) -> None:
        self.plot.setLabel("bottom", self.tr("File size ({0})").format(self.unit), color=self._text_color)
        self.plot.setLabel("left", self.tr("Perplexity (lower is better)"), color=self._text_color)

    def set_rows(self, rows: Sequence[dict[str, Any]]) -> None:
        """Show the report's rows (``bytes``, ``perplexity`` and ``quantization`` of each file)."""
        for label in self.labels:
            self.plot.removeItem(label)
        self.labels = []
        self.unit, self.points = chart_points(rows)
        self._set_axis_labels()
        xs = [p.size for p in self.points]
        ys = [p.perplexity for p in self.points]
        self.scatter.setData(xs, ys)
        # The dashed line joins the files from the smallest to the largest: the trade-off curve.
        self.line.setData(xs, ys)
        font = QFont(self.font())
        font.setBold(True)
        for i, point in enumerate(self.points):
            # Above and below in turn: neighbouring quantizations (Q4_0, Q4_K, Q5_K) lie close
            # together and their labels would overlap on one side.
            anchor = (0.5, 1.25) if i % 2 == 0 else (0.5, -0.25)
            label = pg.TextItem(point.label, color=self._text_color, anchor=anchor)
            label.setFont(font)
            label.setPos(point.size, point.perplexity)
            self.plot.addItem(label)
            self.labels.append(label)
        self.plot.autoRange()

    def image(self, width: int = EXPORT_WIDTH) -> QImage:
        """The chart rendered at ``width`` pixels (independent of the window's size)."""
        exporter = ImageExporter(self.plot.getPlotItem())
        exporter.parameters()["width"] = width
        return exporter.export(toBytes=True)

    def png_bytes(self, width: int = EXPORT_WIDTH) -> bytes:
        """The chart as a PNG file's bytes."""
        buffer = QBuffer()
        buffer.open(QIODevice.OpenModeFlag.WriteOnly)
        if not self.image(width).save(buffer, "PNG"):
            raise OSError("the chart could not be encoded as PNG")
        return bytes(buffer.data().data())
