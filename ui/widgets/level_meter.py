"""A small horizontal input-level meter (dBFS), repainted when a new level is set."""

from __future__ import annotations

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent
from PySide6.QtWidgets import QSizePolicy, QWidget

FLOOR_DBFS = -60.0
LOUD_DBFS = -6.0  # above this the bar turns amber (close to clipping)


class LevelMeter(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._dbfs = FLOOR_DBFS
        self._active = False
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setAccessibleName("input level")

    def sizeHint(self) -> QSize:
        return QSize(80, max(8, self.fontMetrics().height() // 2))

    def minimumSizeHint(self) -> QSize:
        return QSize(40, 6)

    @property
    def level_dbfs(self) -> float:
        return self._dbfs

    def set_level(self, dbfs: float) -> None:
        dbfs = max(FLOOR_DBFS, min(0.0, dbfs))
        if dbfs != self._dbfs or not self._active:
            self._dbfs = dbfs
            self._active = True
            self.setToolTip(f"{dbfs:.0f} dBFS")
            self.update()

    def reset(self) -> None:
        self._dbfs = FLOOR_DBFS
        self._active = False
        self.setToolTip("")
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        rect = QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5)
        groove = self.palette().color(self.backgroundRole()).darker(115)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(groove)
        radius = rect.height() / 2
        painter.drawRoundedRect(rect, radius, radius)
        if self._active:
            fraction = (self._dbfs - FLOOR_DBFS) / -FLOOR_DBFS
            filled = QRectF(rect.left(), rect.top(), rect.width() * fraction, rect.height())
            colour = QColor("#d9a441") if self._dbfs > LOUD_DBFS else QColor("#4f9d69")
            painter.setBrush(colour)
            painter.drawRoundedRect(filled, radius, radius)
        painter.end()
