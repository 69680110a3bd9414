"""Light and dark: the colour scheme the window uses, and the few colours the app picks itself.

The scheme follows the system (``QStyleHints.colorScheme`` and its ``colorSchemeChanged``
signal) unless the user forces light or dark (the ``colour_scheme`` setting). Where the
native style does not follow a requested scheme (Xvfb, offscreen, older Windows styles), the
app switches to Fusion with its own palette for that scheme. Every colour the app draws itself
(message bubbles, banners, tokenizer pieces, charts, warning text) comes from :data:`LIGHT` or
:data:`DARK`, chosen by :func:`colours`, and widgets that use them register with
:func:`follow_scheme` to be repainted on a live change.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication, QLabel, QWidget

from runtime.settings import COLOUR_SCHEMES


@dataclass(frozen=True)
class Colours:
    """The colours the app chooses itself, for one scheme (the rest come from the palette)."""

    dark: bool
    user_bubble: str
    assistant_bubble: str
    detail_text: str
    placeholder_text: str
    banner: str
    banner_border: str
    banner_error: str
    banner_error_border: str
    notice: str
    notice_text: str
    error_text: str
    warning_text: str
    pieces: tuple[str, str]
    byte_piece: str
    chart_line: str
    chart_second_line: str
    chart_eval_line: str


LIGHT = Colours(
    dark=False,
    user_bubble="#eef3fb",
    assistant_bubble="#f6f6f4",
    detail_text="#616161",
    placeholder_text="#6e6e6e",
    banner="#fff4d6",
    banner_border="#e6c877",
    banner_error="#fde7e7",
    banner_error_border="#e39a9a",
    notice="#fff3cd",
    notice_text="#664d03",
    error_text="#b00020",
    warning_text="#b54708",
    pieces=("#dbeafe", "#fde68a"),
    byte_piece="#fca5a5",
    chart_line="#286edc",
    chart_second_line="#c26a0a",
    chart_eval_line="#138a4e",
)

DARK = Colours(
    dark=True,
    user_bubble="#1f2c40",
    assistant_bubble="#2b2b2b",
    detail_text="#a8a8a8",
    placeholder_text="#9a9a9a",
    banner="#3d3214",
    banner_border="#8a7332",
    banner_error="#4a1f1f",
    banner_error_border="#a35454",
    notice="#3d3214",
    notice_text="#ffe08a",
    error_text="#ff8a80",
    warning_text="#f5a524",
    pieces=("#1e3a5f", "#5b4a14"),
    byte_piece="#7f1d1d",
    chart_line="#6ea8ff",
    chart_second_line="#f5b041",
    chart_eval_line="#4ade80",
)

#: The palettes the app sets when the native style does not follow the scheme (role: colour;
#: the disabled group greys its text).
_PALETTES: dict[bool, dict[QPalette.ColorRole, str]] = {
    True: {
        QPalette.ColorRole.Window: "#2b2b2b",
        QPalette.ColorRole.WindowText: "#e6e6e6",
        QPalette.ColorRole.Base: "#1e1e1e",
        QPalette.ColorRole.AlternateBase: "#262626",
        QPalette.ColorRole.ToolTipBase: "#2b2b2b",
        QPalette.ColorRole.ToolTipText: "#e6e6e6",
        QPalette.ColorRole.PlaceholderText: "#9a9a9a",
        QPalette.ColorRole.Text: "#e6e6e6",
        QPalette.ColorRole.Button: "#353535",
        QPalette.ColorRole.ButtonText: "#e6e6e6",
        QPalette.ColorRole.BrightText: "#ff6b6b",
        QPalette.ColorRole.Light: "#4a4a4a",
        QPalette.ColorRole.Midlight: "#3c3c3c",
        QPalette.ColorRole.Mid: "#2f2f2f",
        QPalette.ColorRole.Dark: "#1a1a1a",
        QPalette.ColorRole.Shadow: "#000000",
        QPalette.ColorRole.Highlight: "#3d7bd9",
        QPalette.ColorRole.HighlightedText: "#ffffff",
        QPalette.ColorRole.Link: "#7fb2ff",
        QPalette.ColorRole.LinkVisited: "#c39bff",
    },
    False: {
        QPalette.ColorRole.Window: "#efefef",
        QPalette.ColorRole.WindowText: "#1a1a1a",
        QPalette.ColorRole.Base: "#ffffff",
        QPalette.ColorRole.AlternateBase: "#f5f5f5",
        QPalette.ColorRole.ToolTipBase: "#ffffdc",
        QPalette.ColorRole.ToolTipText: "#1a1a1a",
        QPalette.ColorRole.PlaceholderText: "#6e6e6e",
        QPalette.ColorRole.Text: "#1a1a1a",
        QPalette.ColorRole.Button: "#efefef",
        QPalette.ColorRole.ButtonText: "#1a1a1a",
        QPalette.ColorRole.BrightText: "#ffffff",
        QPalette.ColorRole.Light: "#ffffff",
        QPalette.ColorRole.Midlight: "#e3e3e3",
        QPalette.ColorRole.Mid: "#a0a0a0",
        QPalette.ColorRole.Dark: "#9f9f9f",
        QPalette.ColorRole.Shadow: "#767676",
        QPalette.ColorRole.Highlight: "#308cc6",
        QPalette.ColorRole.HighlightedText: "#ffffff",
        QPalette.ColorRole.Link: "#0b57d0",
        QPalette.ColorRole.LinkVisited: "#7b1fa2",
    },
}
_DISABLED_TEXT = {True: "#7a7a7a", False: "#9a9a9a"}


def palette_is_dark(palette: QPalette) -> bool:
    """Whether ``palette`` draws light text on a dark background."""
    return palette.color(QPalette.ColorRole.Base).lightness() < 128


def colours() -> Colours:
    """The app's own colours for the scheme the application's palette has now."""
    return DARK if palette_is_dark(QGuiApplication.palette()) else LIGHT


def scheme_palette(dark: bool) -> QPalette:
    """The palette the app sets for a scheme the native style does not draw."""
    palette = QPalette()
    for role, colour in _PALETTES[dark].items():
        palette.setColor(role, QColor(colour))
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.WindowText, QPalette.ColorRole.ButtonText):
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor(_DISABLED_TEXT[dark]))
    return palette


def window_style_sheet(scheme: Colours) -> str:
    """The main window's style sheet in ``scheme``'s colours."""
    return f"""
#chatContent {{ background: palette(base); }}
#userMessage {{ background: {scheme.user_bubble}; border-radius: 8px; }}
#assistantMessage {{ background: {scheme.assistant_bubble}; border-radius: 8px; }}
#roleLabel {{ font-weight: 600; }}
#detailLabel {{ color: {scheme.detail_text}; font-size: 11px; }}
#placeholder {{ color: {scheme.placeholder_text}; font-size: 14px; }}
#banner {{ background: {scheme.banner}; border: 1px solid {scheme.banner_border}; border-radius: 6px; }}
#banner[severity="error"] {{ background: {scheme.banner_error}; border-color: {scheme.banner_error_border}; }}
"""


class Theme(QObject):
    """The application's colour scheme: the setting, the system's scheme, and the palette they give.

    Signals:
        changed(bool): the palette was set again; True when it is dark now.
    """

    changed = Signal(bool)

    def __init__(self, app: QApplication) -> None:
        super().__init__(app)
        self._app = app
        self._native_style = app.style().name()
        self.scheme = "system"
        hints = app.styleHints()
        self._system = hints.colorScheme()
        self._applying = False
        self._applied = False
        self._wanted: bool | None = None
        self._dark = palette_is_dark(app.palette())
        hints.colorSchemeChanged.connect(self.on_system_scheme)

    @property
    def dark(self) -> bool:
        """Whether the application draws dark now."""
        return self._dark

    def set_scheme(self, scheme: str) -> None:
        """Use ``scheme`` (``system``, ``light`` or ``dark``) from now on."""
        if scheme not in COLOUR_SCHEMES:
            raise ValueError(f"unknown colour scheme {scheme!r}")
        self.scheme = scheme
        hints = self._app.styleHints()
        if scheme == "system":
            self._applying = True
            try:
                if hasattr(hints, "unsetColorScheme"):
                    hints.unsetColorScheme()  # a forced scheme asked for earlier is the system's no more
                self._system = hints.colorScheme()
            finally:
                self._applying = False
        self.apply()

    def on_system_scheme(self, scheme: Qt.ColorScheme) -> None:
        """The system's scheme changed (``colorSchemeChanged``); followed in the ``system`` setting."""
        if self.scheme != "system" or self._applying:
            # Our own request (a forced scheme) echoes back here; it says nothing of the system.
            return
        self._system = scheme
        self.apply()

    def apply(self) -> None:
        """Set the palette and style for the current setting, then tell the followers."""
        wanted = self._wanted_dark()
        if self._applied and wanted == self._wanted:
            return  # each new window sets the scheme: repolishing every window again would be waste
        self._applied, self._wanted = True, wanted
        self._applying = True
        try:
            self._request(wanted)
            app = self._app
            if app.style().name().lower() != self._native_style.lower():
                app.setStyle(self._native_style)
            # An empty palette is the style's and platform's own (the system's scheme).
            app.setPalette(QPalette())
            if wanted is not None and palette_is_dark(app.palette()) != wanted:
                app.setStyle("Fusion")
                app.setPalette(scheme_palette(wanted))
        finally:
            self._applying = False
        self._dark = palette_is_dark(self._app.palette())
        self.changed.emit(self._dark)

    def _wanted_dark(self) -> bool | None:
        """True or False for a scheme to draw; None to keep whatever the platform draws."""
        if self.scheme != "system":
            return self.scheme == "dark"
        if self._system == Qt.ColorScheme.Dark:
            return True
        if self._system == Qt.ColorScheme.Light:
            return False
        return None

    def _request(self, wanted: bool | None) -> None:
        """Ask the platform for the scheme (Qt 6.8+), so native dialogs and title bars match."""
        hints = self._app.styleHints()
        if not hasattr(hints, "setColorScheme"):
            return
        if self.scheme != "system":
            hints.setColorScheme(Qt.ColorScheme.Dark if wanted else Qt.ColorScheme.Light)


_theme: Theme | None = None


def theme() -> Theme:
    """The application's :class:`Theme` (made on first use)."""
    global _theme
    app = QApplication.instance()
    assert isinstance(app, QApplication), "a QApplication must exist"
    if _theme is None or _theme.parent() is not app:
        _theme = Theme(app)
    return _theme


class _Follower(QObject):
    """Calls ``apply(colours)`` for its widget whenever the theme changes (dies with the widget)."""

    def __init__(self, widget: QWidget, apply: Callable[[Colours], Any]) -> None:
        super().__init__(widget)
        self._apply = apply
        theme().changed.connect(self.refresh)

    def refresh(self, _dark: bool = False) -> None:
        self._apply(colours())


def follow_scheme(widget: QWidget, apply: Callable[[Colours], Any]) -> None:
    """Call ``apply`` with the current colours now and again after every scheme change."""
    _Follower(widget, apply).refresh()


def colour_text(label: QLabel, role: str | None) -> None:
    """Draw ``label``'s text in the scheme's colour ``role`` (a :class:`Colours` field; None: the
    palette's), now and after every scheme change."""
    followed = label.property("colourRole") is not None
    label.setProperty("colourRole", role or "")

    def apply(scheme: Colours) -> None:
        name = label.property("colourRole")
        label.setStyleSheet(f"color: {getattr(scheme, name)};" if name else "")

    if followed:
        apply(colours())
    else:
        follow_scheme(label, apply)
