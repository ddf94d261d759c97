"""Colours and font sizes, derived from the system colour scheme and the user's font."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont, QGuiApplication, QPalette
from PySide6.QtWidgets import QWidget

from audio.sides import Side


@dataclass(frozen=True)
class Theme:
    dark: bool
    text: str
    muted_text: str
    surface: str  # panels (plot background)
    speaker: dict[Side, str]
    cue_background: str
    cue_border: str
    cue_text: str
    abuse_background: str
    abuse_border: str
    mood_negative: str
    mood_neutral: str
    mood_positive: str
    warning: str
    error_background: str


LIGHT = Theme(
    dark=False,
    text="#1f2328",
    muted_text="#6b7280",
    surface="#fafafa",
    speaker={Side.AGENT: "#1d6fa5", Side.CLIENT: "#a3541a"},
    cue_background="#e6f0f5",
    cue_border="#7fa7bd",
    cue_text="#16384a",
    abuse_background="#f8eadf",
    abuse_border="#c0763a",
    mood_negative="#c2603a",
    mood_neutral="#9a9a9a",
    mood_positive="#3f8f5a",
    warning="#9a5b00",
    error_background="#fbeaea",
)
DARK = Theme(
    dark=True,
    text="#e6e6e6",
    muted_text="#9aa0a6",
    surface="#202326",
    speaker={Side.AGENT: "#6cb6e0", Side.CLIENT: "#e7a464"},
    cue_background="#1f3440",
    cue_border="#4d7890",
    cue_text="#dcecf5",
    abuse_background="#43301f",
    abuse_border="#c98b52",
    mood_negative="#e08a63",
    mood_neutral="#8a8a8a",
    mood_positive="#6fc08a",
    warning="#e0a84a",
    error_background="#4a2626",
)


def system_is_dark() -> bool:
    """The system colour scheme; when the platform does not say, the palette decides."""
    scheme = QGuiApplication.styleHints().colorScheme()
    if scheme == Qt.ColorScheme.Dark:
        return True
    if scheme == Qt.ColorScheme.Light:
        return False
    return QGuiApplication.palette().color(QPalette.ColorRole.Window).lightness() < 128


def current_theme() -> Theme:
    return DARK if system_is_dark() else LIGHT


def scaled_font(base: QFont, factor: float, bold: bool = False) -> QFont:
    """``base`` scaled by ``factor``, so sizes follow the user's own font size."""
    font = QFont(base)
    if base.pointSizeF() > 0:
        font.setPointSizeF(base.pointSizeF() * factor)
    else:
        font.setPixelSize(round(base.pixelSize() * factor))
    font.setBold(bold)
    return font


def set_text_colour(widget: QWidget, colour: str) -> None:
    """Recolour a label's text through its palette (cheaper than a style sheet)."""
    palette = widget.palette()
    palette.setColor(QPalette.ColorRole.WindowText, QColor(colour))
    widget.setPalette(palette)
