"""A layout that puts its items in rows and starts a new row when the width runs out."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QRect, QSize, Qt
from PySide6.QtWidgets import QLayout, QLayoutItem, QWidget

from app.views.heights import HeightsByWidth


class FlowLayout(QLayout):
    """Items side by side, wrapped onto further rows in a narrow space (height for width).

    An item added with ``Qt.AlignmentFlag.AlignRight`` goes to the right end of its row together
    with the right-aligned items after it (a message's buttons). An item whose hint is wider than
    the row gets the row's width and, if it has a height for width (a word-wrapped label), the
    height it needs there; so the layout is never wider than what it is given, down to the width
    of its widest item's minimum.
    """

    def __init__(self, parent: QWidget | None = None, *, spacing: int = 6, row_spacing: int = 2) -> None:
        super().__init__(parent)
        self._items: list[QLayoutItem] = []
        self._spacing = spacing
        self._row_spacing = row_spacing
        # QScrollArea asks every message for its height at the width many times per layout pass
        # (thousands of calls while an answer streams); the answer holds until an item changes.
        self._heights = HeightsByWidth()
        self._hint: QSize | None = None
        self._minimum: QSize | None = None

    def add_widget(self, widget: QWidget, alignment: Qt.AlignmentFlag = Qt.AlignmentFlag.AlignLeft) -> None:
        """Append ``widget``; ``AlignRight`` puts it at its row's right end."""
        self.addWidget(widget)
        self._items[-1].setAlignment(alignment)

    def addItem(self, item: QLayoutItem) -> None:  # noqa: N802 - Qt's name
        """Append ``item`` (QLayout calls this for addWidget)."""
        self._items.append(item)

    def count(self) -> int:
        """How many items the layout holds."""
        return len(self._items)

    def itemAt(self, index: int) -> QLayoutItem | None:  # noqa: N802 - Qt's name
        """The item at ``index``, or None past the end."""
        return self._items[index] if 0 <= index < len(self._items) else None

    def takeAt(self, index: int) -> QLayoutItem | None:  # noqa: N802 - Qt's name
        """Remove and return the item at ``index``."""
        return self._items.pop(index) if 0 <= index < len(self._items) else None

    def expandingDirections(self) -> Qt.Orientation:  # noqa: N802 - Qt's name
        """The layout takes no more room than its rows need."""
        return Qt.Orientation(0)

    def hasHeightForWidth(self) -> bool:  # noqa: N802 - Qt's name
        """Rows depend on the width."""
        return True

    def heightForWidth(self, width: int) -> int:  # noqa: N802 - Qt's name
        """The height of the rows at ``width``."""
        return self._heights.height(width, lambda at: self._arrange(QRect(0, 0, at, 0), apply=False))

    def invalidate(self) -> None:
        """An item changed (its text, its visibility): forget the heights."""
        self._heights.clear()
        self._hint = self._minimum = None
        super().invalidate()

    def setGeometry(self, rect: QRect) -> None:  # noqa: N802 - Qt's name
        """Place the items in ``rect``."""
        super().setGeometry(rect)
        self._arrange(rect, apply=True)

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        """Everything on one row."""
        if self._hint is None:
            self._hint = self._one_row()
        return self._hint

    def _one_row(self) -> QSize:
        visible = [item for item in self._items if not item.isEmpty()]
        margins = self.contentsMargins()
        width = sum(item.sizeHint().width() for item in visible) + self._spacing * max(0, len(visible) - 1)
        height = max((item.sizeHint().height() for item in visible), default=0)
        return QSize(width + margins.left() + margins.right(), height + margins.top() + margins.bottom())

    def minimumSize(self) -> QSize:  # noqa: N802 - Qt's name
        """The widest item's minimum: any narrower and something would be cut."""
        if self._minimum is None:
            self._minimum = self._widest_minimum()
        return self._minimum

    def _widest_minimum(self) -> QSize:
        size = QSize()
        for item in self._items:
            if not item.isEmpty():
                size = size.expandedTo(item.minimumSize())
        margins = self.contentsMargins()
        return size + QSize(margins.left() + margins.right(), margins.top() + margins.bottom())

    def _arrange(self, rect: QRect, *, apply: bool) -> int:
        margins = self.contentsMargins()
        area = rect.adjusted(margins.left(), margins.top(), -margins.right(), -margins.bottom())
        rows: list[list[tuple[QLayoutItem, int, QSize]]] = [[]]
        x = area.x()
        visible = [item for item in self._items if not item.isEmpty()]
        for index, item in enumerate(visible):
            hint = item.sizeHint()
            smallest = item.minimumSize().width()
            wraps = item.hasHeightForWidth()
            # A word-wrapped item (a label) leaves room on its row for the right-aligned items
            # after it, and wraps its text rather than pushing them down, while it keeps a
            # third of the row at least.
            reserve = self._trailing_width(visible[index + 1 :]) if wraps else 0
            wanted = max(smallest, area.width() // 3)
            room = area.right() + 1 - x
            if rows[-1] and hint.width() > room and not (wraps and room - reserve >= wanted):
                rows.append([])
                x = area.x()
                room = area.width()
            if wraps and hint.width() > room - reserve and room - reserve >= wanted:
                width = room - reserve
            else:
                width = max(smallest, min(hint.width(), room))
            height = item.heightForWidth(width) if wraps else hint.height()
            rows[-1].append((item, x, QSize(width, max(height, item.minimumSize().height()))))
            x += width + self._spacing
        y = area.y()
        for row in rows:
            if not row:
                continue
            row_height = max(size.height() for _item, _x, size in row)
            if apply:
                self._place_row(row, area, y, row_height)
            y += row_height + self._row_spacing
        used = y - self._row_spacing - area.y() if any(rows) else 0
        return used + margins.top() + margins.bottom()

    def _trailing_width(self, items: list[QLayoutItem]) -> int:
        right = [item for item in items if item.alignment() & Qt.AlignmentFlag.AlignRight]
        return sum(item.sizeHint().width() + self._spacing for item in right)

    def _place_row(self, row: list[tuple[QLayoutItem, int, QSize]], area: QRect, y: int, row_height: int) -> None:
        first_right = len(row)
        while first_right > 0 and row[first_right - 1][0].alignment() & Qt.AlignmentFlag.AlignRight:
            first_right -= 1
        shift = 0
        if first_right < len(row):
            _item, last_x, last_size = row[-1]
            shift = max(0, area.right() + 1 - (last_x + last_size.width()))
        for index, (item, x, size) in enumerate(row):
            offset = shift if index >= first_right else 0
            top = y + (row_height - size.height()) // 2
            item.setGeometry(QRect(QPoint(x + offset, top), size))
