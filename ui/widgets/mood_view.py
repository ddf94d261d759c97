"""The client's mood: a word and a gauge for now, and a timeline over the call.

The level and word change when a mood update arrives (cheap); the timeline is redrawn by a
timer at a few hertz, never per event, and not at all while hidden.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import QRectF, QSize, Qt, QTimer
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from app.calls.exports import mood_word as exported_mood_word
from app.coaching.mood import MoodSettings
from app.events import MoodUpdate, Trend, clock
from ui.theme import Theme, scaled_font, set_text_colour

REDRAW_MS = 333
DECAY_STEP_S = 2.0
MIN_SPAN_S = 60.0
TREND_WORDS = {Trend.RISING: "▲ rising", Trend.STEADY: "● steady", Trend.FALLING: "▼ falling"}


def mood_word(value: float) -> str:
    return exported_mood_word(value).capitalize()


def mood_colour(theme: Theme, value: float) -> QColor:
    """Neutral grey blending towards the negative or positive colour."""
    target = QColor(theme.mood_negative if value < 0 else theme.mood_positive)
    neutral = QColor(theme.mood_neutral)
    amount = min(1.0, abs(value) / 0.5)
    return QColor(
        round(neutral.red() + (target.red() - neutral.red()) * amount),
        round(neutral.green() + (target.green() - neutral.green()) * amount),
        round(neutral.blue() + (target.blue() - neutral.blue()) * amount),
    )


class MoodGauge(QWidget):
    """A horizontal −1 … +1 bar with a centre line; filled from the centre to the value."""

    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._theme = theme
        self._value: float | None = None
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def sizeHint(self) -> QSize:
        return QSize(160, max(12, self.fontMetrics().height() * 3 // 4))

    def set_value(self, value: float | None) -> None:
        self._value = value
        self.update()

    def apply_theme(self, theme: Theme) -> None:
        self._theme = theme
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        rect = QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5)
        radius = rect.height() / 2
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(self.palette().color(self.backgroundRole()).darker(112))
        painter.drawRoundedRect(rect, radius, radius)
        centre = rect.center().x()
        if self._value is not None:
            end = centre + self._value * rect.width() / 2
            bar = QRectF(min(centre, end), rect.top(), abs(end - centre), rect.height())
            painter.setBrush(mood_colour(self._theme, self._value))
            painter.drawRoundedRect(bar, radius, radius)
        painter.setPen(QPen(QColor(self._theme.muted_text), 1))
        painter.drawLine(round(centre), round(rect.top()), round(centre), round(rect.bottom()))
        painter.end()


class MoodView(QWidget):
    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._theme = theme
        self._updates: list[MoodUpdate] = []
        self._now = 0.0
        self._dirty = False
        self._available = True
        self._half_life = MoodSettings().half_life_s

        self.title = QLabel("Client mood")
        self.word_label = QLabel("Waiting for the client…")
        self.word_label.setFont(scaled_font(self.font(), 1.35, bold=True))
        self.word_label.setAccessibleName("client mood")
        self.trend_label = QLabel("")
        self.trend_label.setFont(scaled_font(self.font(), 1.1))
        self.gauge = MoodGauge(theme)

        self.plot = pg.PlotWidget()
        self.plot.setMenuEnabled(False)
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.hideButtons()
        self.plot.setYRange(-1, 1, padding=0.05)
        self.plot.setXRange(0, MIN_SPAN_S, padding=0)
        self.plot.hideAxis("left")  # the gauge above says upset ← → happy; time runs right
        self.plot.hideAxis("bottom")
        self.plot.setToolTip("Client mood over the call: above the line happier, below upset")
        self.plot.setMinimumHeight(self.fontMetrics().height() * 4)
        self.plot.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.plot.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self._zero = pg.InfiniteLine(pos=0, angle=0)
        self.plot.addItem(self._zero)
        self._curve = self.plot.plot([], [])
        self._points = pg.ScatterPlotItem(size=7)
        self.plot.addItem(self._points)

        level = QHBoxLayout()
        level.addWidget(self.title, 0, Qt.AlignmentFlag.AlignBaseline)
        level.addSpacing(4)
        level.addWidget(self.word_label)
        level.addSpacing(8)
        level.addWidget(self.trend_label)
        level.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(3)
        layout.addLayout(level)
        layout.addWidget(self.gauge)
        layout.addWidget(self.plot, 1)

        self._timer = QTimer(self)
        self._timer.setInterval(REDRAW_MS)
        self._timer.timeout.connect(self._redraw)
        self._timer.start()
        self.apply_theme(theme)

    # -- data ----------------------------------------------------------------------------
    def add_update(self, update: MoodUpdate) -> None:
        self._updates.append(update)
        self._now = max(self._now, update.t)
        self.word_label.setText(mood_word(update.value))
        set_text_colour(self.word_label, mood_colour(self._theme, update.value).name())
        self.trend_label.setText(TREND_WORDS[update.trend])
        self.gauge.set_value(update.value)
        self._dirty = True

    def set_call_time(self, seconds: float) -> None:
        if seconds > self._now:
            self._now = seconds
            self._dirty = True

    def set_unavailable(self, reason: str) -> None:
        self._available = False
        self.word_label.setText("Client mood unavailable")
        set_text_colour(self.word_label, self._theme.muted_text)
        self.trend_label.setText("")
        self.word_label.setToolTip(reason)
        self.gauge.set_value(None)
        self.plot.setVisible(False)
        self.gauge.setVisible(False)

    @property
    def available(self) -> bool:
        return self._available

    def clear(self) -> None:
        self._updates.clear()
        self._now = 0.0
        self._dirty = True
        if self._available:
            self.word_label.setText("Waiting for the client…")
            set_text_colour(self.word_label, self._theme.muted_text)
            self.trend_label.setText("")
            self.gauge.set_value(None)

    def summary(self) -> str | None:
        """The mood over the call in words, for the ticket update."""
        if not self._updates:
            return None
        first, last = self._updates[0], self._updates[-1]
        lowest = min(self._updates, key=lambda u: u.value)
        text = f"started {mood_word(first.value).lower()}, ended {mood_word(last.value).lower()}"
        if lowest.value < min(first.value, last.value) - 0.1:
            text += f" (lowest at {clock(lowest.t)}: {mood_word(lowest.value).lower()})"
        return text

    # -- drawing -------------------------------------------------------------------------
    def timeline(self) -> tuple[list[float], list[float]]:
        """The mood curve: each update, relaxing towards neutral until the next one."""
        xs: list[float] = []
        ys: list[float] = []
        for index, update in enumerate(self._updates):
            until = self._updates[index + 1].t if index + 1 < len(self._updates) else self._now
            t = update.t
            while True:
                xs.append(t)
                ys.append(update.value * 0.5 ** ((t - update.t) / self._half_life))
                if t >= until:
                    break
                t = min(until, t + DECAY_STEP_S)
        return xs, ys

    def _redraw(self) -> None:
        if not self._dirty or not self.plot.isVisible():
            return
        self._dirty = False
        xs, ys = self.timeline()
        self._curve.setData(xs, ys)
        self._points.setData(
            [u.t for u in self._updates],
            [u.value for u in self._updates],
            brush=[pg.mkBrush(mood_colour(self._theme, u.value)) for u in self._updates],
            pen=None,
        )
        self.plot.setXRange(0, max(MIN_SPAN_S, self._now), padding=0.02)

    def apply_theme(self, theme: Theme) -> None:
        self._theme = theme
        self.gauge.apply_theme(theme)
        set_text_colour(self.title, theme.muted_text)
        self.plot.setBackground(theme.surface)
        self._zero.setPen(pg.mkPen(theme.muted_text, width=1, style=Qt.PenStyle.DashLine))
        self._curve.setPen(pg.mkPen(theme.text, width=2))
        if not self._updates and self._available:
            set_text_colour(self.word_label, theme.muted_text)
        self._dirty = True
