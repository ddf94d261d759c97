"""The one current cue, large and calm, with a dismiss button. It never takes keyboard
focus: the agent keeps typing notes while cues come and go.

The frame paints its own background and border (no style sheet), so a new cue costs a
repaint, not a re-polish of the window.
"""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPalette, QPen
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from app.events import Cue, CueCleared
from ui.theme import Theme, scaled_font

STRONG_KINDS = ("abuse", "abuse_continues")
IDLE_TEXT = "No cue right now"


class CueBanner(QFrame):
    dismiss_clicked = Signal()

    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._theme = theme
        self._cue: Cue | None = None
        self.setAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setAccessibleName("coaching cue")

        self.message_label = QLabel(IDLE_TEXT)
        self.message_label.setWordWrap(True)
        self.message_label.setFont(scaled_font(self.font(), 1.6, bold=True))
        self.message_label.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
        self.practice_label = QLabel("")
        self.practice_label.setWordWrap(True)
        self.practice_label.setFont(scaled_font(self.font(), 0.95))
        self.practice_label.setVisible(False)
        self.dismiss_button = QPushButton("Dismiss")
        self.dismiss_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.dismiss_button.setToolTip("Dismiss this cue (Esc)")
        self.dismiss_button.clicked.connect(self.dismiss_clicked)
        self.dismiss_button.setEnabled(False)

        text = QVBoxLayout()
        text.setSpacing(2)
        text.addWidget(self.message_label)
        text.addWidget(self.practice_label)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 8, 8, 8)
        layout.addLayout(text, 1)
        layout.addWidget(self.dismiss_button, 0, Qt.AlignmentFlag.AlignTop)
        self._recolour()

    @property
    def cue(self) -> Cue | None:
        return self._cue

    @property
    def strong(self) -> bool:
        return self._cue is not None and self._cue.kind in STRONG_KINDS

    def show_cue(self, cue: Cue) -> None:
        self._cue = cue
        self.message_label.setText(cue.message)
        self.practice_label.setText(cue.practice)
        self.practice_label.setVisible(bool(cue.practice))
        self.dismiss_button.setEnabled(True)
        self._recolour()

    def clear_cue(self, cleared: CueCleared | None = None) -> None:
        """Back to idle; a ``CueCleared`` for another kind (already replaced) is ignored."""
        if cleared is not None and (self._cue is None or cleared.kind != self._cue.kind):
            return
        self._cue = None
        self.message_label.setText(IDLE_TEXT)
        self.practice_label.setVisible(False)
        self.dismiss_button.setEnabled(False)
        self._recolour()

    def apply_theme(self, theme: Theme) -> None:
        self._theme = theme
        self._recolour()

    def _recolour(self) -> None:
        colour = self._theme.cue_text if self._cue is not None else self._theme.muted_text
        for label in (self.message_label, self.practice_label):
            palette = label.palette()
            palette.setColor(QPalette.ColorRole.WindowText, QColor(colour))
            label.setPalette(palette)
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        theme = self._theme
        if self._cue is None:
            background, border, width = None, QColor(theme.muted_text), 1.0
        elif self.strong:
            background, border, width = QColor(theme.abuse_background), theme.abuse_border, 3.0
        else:
            background, border, width = QColor(theme.cue_background), theme.cue_border, 2.0
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        rect = QRectF(self.rect()).adjusted(width / 2, width / 2, -width / 2, -width / 2)
        painter.setPen(QPen(QColor(border), width))
        painter.setBrush(background if background is not None else Qt.BrushStyle.NoBrush)
        painter.drawRoundedRect(rect, 8, 8)
        painter.end()
