"""The heights a widget or layout that wraps needs, remembered per width.

A layout asks ``heightForWidth`` several times per pass, for the same few widths, and laying out a
long answer again for each ask made streaming stutter. A window being resized asks for many widths
once each, so only the last few are kept.
"""

from __future__ import annotations

from collections.abc import Callable


class HeightsByWidth:
    """Heights by width: measured once per width, forgotten all at once when the content changes."""

    def __init__(self, keep: int = 8) -> None:
        self._heights: dict[int, int] = {}
        self._keep = keep

    def height(self, width: int, measure: Callable[[int], int]) -> int:
        """The height at ``width``: remembered, or ``measure(width)`` the first time it is asked."""
        height = self._heights.get(width)
        if height is None:
            if len(self._heights) >= self._keep:
                self._heights.clear()
            height = self._heights[width] = measure(width)
        return height

    def clear(self) -> None:
        """The content, font or style changed: every height is measured again."""
        self._heights.clear()
