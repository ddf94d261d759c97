"""Start/Stop, the two input pickers with live level meters, the call timer and the lag."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from app.events import clock
from app.pipeline.session import SessionStatus
from audio.devices import InputDevice
from audio.sides import Side
from ui.theme import Theme, scaled_font, set_text_colour
from ui.widgets.level_meter import LevelMeter

BACKLOG_WARNING_S = 5.0

SIDE_TITLES = {Side.AGENT: "Your mic", Side.CLIENT: "Client line"}


class CallBar(QWidget):
    start_clicked = Signal()
    stop_clicked = Signal()
    devices_chosen = Signal()  # either picker changed

    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._theme = theme
        self._live = False
        self._last_latency: float | None = None
        self._behind = False

        self.start_button = QPushButton("Start call")
        self.start_button.setFont(scaled_font(self.font(), 1.1, bold=True))
        self.start_button.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        self.start_button.setEnabled(False)
        self.start_button.clicked.connect(self._on_button)
        self.timer_label = QLabel("00:00")
        self.timer_label.setFont(scaled_font(self.font(), 1.5, bold=True))
        self.timer_label.setAccessibleName("call time")
        self.lag_label = QLabel("")
        self.lag_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.lag_label.setToolTip(
            "delay: how long after speech its text appeared; "
            "backlog: audio still waiting to be transcribed"
        )

        top = QHBoxLayout()
        top.addWidget(self.start_button)
        top.addSpacing(8)
        top.addWidget(self.timer_label)
        top.addStretch(1)
        top.addWidget(self.lag_label)

        self.pickers: dict[Side, QComboBox] = {}
        self.meters: dict[Side, LevelMeter] = {}
        grid = QGridLayout()
        grid.setHorizontalSpacing(8)
        grid.setVerticalSpacing(4)
        for row, side in enumerate(Side):
            title = QLabel(SIDE_TITLES[side])
            picker = QComboBox()
            picker.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
            picker.setMinimumContentsLength(12)
            picker.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
            )
            picker.setFocusPolicy(Qt.FocusPolicy.TabFocus)
            picker.setPlaceholderText("looking for inputs…")
            picker.currentIndexChanged.connect(self.devices_chosen)
            picker.setAccessibleName(SIDE_TITLES[side])
            meter = LevelMeter()
            grid.addWidget(title, row, 0)
            grid.addWidget(picker, row, 1)
            grid.addWidget(meter, row, 2, Qt.AlignmentFlag.AlignVCenter)
            self.pickers[side] = picker
            self.meters[side] = meter
        grid.setColumnStretch(1, 1)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addLayout(grid)
        self.apply_theme(theme)

    # -- devices -------------------------------------------------------------------------
    def set_devices(self, devices: list[InputDevice], preferred: dict[Side, str]) -> None:
        """Fill both pickers; keep the previously used device names when present, else
        propose the default input for the agent and the loopback of the default output
        (where the softphone plays) for the client."""
        proposed = {
            Side.AGENT: next((d for d in devices if d.default and d.loopback is None), None),
            Side.CLIENT: next((d for d in devices if d.default and d.loopback), None),
        }
        for index, side in enumerate(Side):
            picker = self.pickers[side]
            picker.blockSignals(True)
            picker.clear()
            for device in devices:
                picker.addItem(f"{device.name}", device.index)
            names = [d.name for d in devices]
            default = proposed[side]
            if preferred.get(side) in names:
                picker.setCurrentIndex(names.index(preferred[side]))
            elif default is not None:
                picker.setCurrentIndex(devices.index(default))
            elif devices:
                picker.setCurrentIndex(min(index, len(devices) - 1))
            picker.setPlaceholderText("no input devices found" if not devices else "")
            picker.blockSignals(False)

    def show_replay(self, description: dict[Side, str]) -> None:
        """The demo: both sides come from a recording, the pickers say so."""
        for side, picker in self.pickers.items():
            picker.clear()
            picker.addItem(description[side])
            picker.setCurrentIndex(0)
            picker.setEnabled(False)

    def chosen_device(self, side: Side) -> int | None:
        data = self.pickers[side].currentData()
        return int(data) if data is not None else None

    def chosen_name(self, side: Side) -> str:
        return self.pickers[side].currentText()

    # -- the call ------------------------------------------------------------------------
    def _on_button(self) -> None:
        (self.stop_clicked if self._live else self.start_clicked).emit()

    def set_live(self, live: bool) -> None:
        self._live = live
        self.start_button.setText("Stop call" if live else "Start call")
        for picker in self.pickers.values():
            if picker.count() and picker.itemData(0) is not None:
                picker.setEnabled(not live)
        if live:
            self._last_latency = None
            self.timer_label.setText("00:00")
            self.lag_label.setText("")
        else:
            for meter in self.meters.values():
                meter.reset()

    def set_finishing(self) -> None:
        self.start_button.setText("Finishing…")
        self.start_button.setEnabled(False)

    def show_status(self, status: SessionStatus) -> None:
        self.timer_label.setText(clock(status.call_seconds))
        for side, capture in status.capture.items():
            self.meters[side].set_level(capture.level_dbfs)
        parts = []
        if self._last_latency is not None:
            parts.append(f"delay {self._last_latency:.1f} s")
        parts.append(f"backlog {status.backlog_seconds:.1f} s")
        self.lag_label.setText(" · ".join(parts))
        behind = status.backlog_seconds >= BACKLOG_WARNING_S
        if behind != self._behind:
            self._behind = behind
            self._colour_lag()

    def note_latency(self, latency_s: float | None) -> None:
        if latency_s is not None:
            self._last_latency = latency_s

    def _colour_lag(self) -> None:
        colour = self._theme.warning if self._behind else self._theme.muted_text
        set_text_colour(self.lag_label, colour)

    def apply_theme(self, theme: Theme) -> None:
        self._theme = theme
        self._colour_lag()
