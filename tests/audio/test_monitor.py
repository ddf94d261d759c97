"""The input check between calls (audio/monitor.py), on fake sources."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from audio.buffer import CaptureBuffer
from audio.errors import AudioInputError
from audio.monitor import InputMonitor, switch_monitor
from audio.sides import Side


class FakeSource:
    opened: ClassVar[list[str]] = []

    def __init__(self, side: Side, spec: int | str) -> None:
        if spec == "busy":
            raise AudioInputError(f"cannot open the {side.value} input: device busy")
        self.side = side
        self.spec = spec
        self.buffer = CaptureBuffer(16_000)
        self.error = None
        self.running = False

    def start(self, clock_start=None) -> None:
        self.running = True
        FakeSource.opened.append(f"open {self.spec}")

    def stop(self) -> None:
        self.running = False
        FakeSource.opened.append(f"close {self.spec}")

    def stats(self):
        return self.buffer.stats()


def test_levels_are_reported_and_the_audio_thrown_away():
    sources: dict[Side, FakeSource] = {}

    def open_device(side, spec):
        sources[side] = FakeSource(side, spec)
        return sources[side]

    monitor = InputMonitor({Side.AGENT: 1, Side.CLIENT: 2}, open_device)
    sources[Side.CLIENT].buffer.push(np.full((320, 1), 0.1, dtype=np.float32))
    levels = monitor.levels()
    assert round(levels[Side.CLIENT]) == -20
    assert levels[Side.AGENT] < -100
    assert sources[Side.CLIENT].buffer.stats().queued_seconds == 0
    monitor.close()
    assert not any(s.running for s in sources.values())


def test_a_device_that_cannot_open_is_reported_and_the_other_still_checked():
    monitor = InputMonitor({Side.AGENT: "busy", Side.CLIENT: 2}, FakeSource)
    assert "device busy" in monitor.errors[Side.AGENT]
    assert set(monitor.levels()) == {Side.CLIENT}
    monitor.close()


def test_switching_releases_the_old_devices_before_opening_the_new():
    FakeSource.opened = []
    first = switch_monitor(None, {Side.AGENT: 1, Side.CLIENT: 2}, FakeSource)
    second = switch_monitor(first, {Side.AGENT: 3, Side.CLIENT: 2}, FakeSource)
    assert FakeSource.opened == ["open 1", "open 2", "close 1", "close 2", "open 3", "open 2"]
    assert switch_monitor(second, None, FakeSource) is None
    assert FakeSource.opened[-2:] == ["close 3", "close 2"]


def test_a_device_lost_during_the_check_is_reported_until_it_is_back():
    sources: dict[Side, FakeSource] = {}

    def open_device(side, spec):
        sources[side] = FakeSource(side, spec)
        return sources[side]

    monitor = InputMonitor({Side.AGENT: "busy", Side.CLIENT: 2}, open_device)
    sources[Side.CLIENT].error = "client input lost (device 2: headset): unplugged"
    monitor.levels()
    assert monitor.errors[Side.CLIENT].endswith("unplugged")
    sources[Side.CLIENT].error = None  # plugged back in
    monitor.levels()
    assert Side.CLIENT not in monitor.errors
    assert "device busy" in monitor.errors[Side.AGENT]  # an open failure stays
    monitor.close()
