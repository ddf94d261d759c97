"""The live-input watch of :class:`audio.sources.DeviceSource` on a scripted PortAudio and
sound server: each way a device can go, the silence that bridges the gap, the way back.
(The same path with a real PulseAudio device unplugged: tests/audio/test_device_loss.py.)"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import pytest

import audio.sources as sources
from audio.errors import AudioInputError
from audio.sides import Side
from audio.sources import DeviceSource

RATE = 8000


class Server:
    """The sound server: which sources exist, which source our streams record from."""

    def __init__(self) -> None:
        self.present = {"headset.monitor"}
        self.streams: dict[int, str] = {}
        self.connections = 0
        self.closed = 0

    def connect(self) -> Routes:
        self.connections += 1
        return Routes(self)


class Routes:
    def __init__(self, server: Server) -> None:
        self.server = server

    def our_streams(self) -> dict[int, str]:
        return dict(self.server.streams)

    def sources(self) -> set[str]:
        return set(self.server.present)

    def close(self) -> None:
        self.server.closed += 1


class PortAudio:
    """Enough of sounddevice: one input device; streams that deliver while ``flowing``."""

    def __init__(self, server: Server, name: str = "headset") -> None:
        self.server = server
        self.name = name
        self.flowing = True
        self.open_fails = False
        self.opened: list[Stream] = []

    def query_hostapis(self):
        return [{"name": "ALSA"}]

    def query_devices(self):
        return [{"name": self.name, "max_input_channels": 1, "default_samplerate": RATE,
                 "hostapi": 0}]  # fmt: skip

    def InputStream(self, **kwargs):
        if self.open_fails or "headset.monitor" not in self.server.present:
            raise RuntimeError("Unanticipated host error [PaErrorCode -9999]")
        stream = Stream(self, kwargs["callback"], kwargs["finished_callback"])
        self.opened.append(stream)
        return stream


class Stream:
    def __init__(self, pa: PortAudio, callback, finished) -> None:
        self.pa, self.callback, self.finished = pa, callback, finished
        self.running = threading.Event()
        self.index = len(pa.opened) + 1
        self.thread = threading.Thread(target=self._deliver, daemon=True)

    def start(self) -> None:
        self.pa.server.streams[self.index] = "headset.monitor"
        self.running.set()
        self.thread.start()

    def _deliver(self) -> None:
        block = np.full((RATE // 50, 1), 0.25, dtype=np.float32)
        while self.running.is_set():
            if self.pa.flowing:
                self.callback(block, len(block), None, None)
            time.sleep(0.02)

    def abort(self) -> None:
        self.running.clear()
        self.pa.server.streams.pop(self.index, None)

    def close(self) -> None:
        self.running.clear()


@pytest.fixture(autouse=True)
def quick_watch(monkeypatch):
    monkeypatch.setattr(sources, "STALL_SECONDS", 0.3)
    monkeypatch.setattr(sources, "STARTUP_SECONDS", 0.5)
    monkeypatch.setattr(sources, "RETRY_SECONDS", 0.1)


def wait_until(condition, seconds: float = 3.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return False


def source(server: Server, pa: PortAudio) -> DeviceSource:
    return DeviceSource(Side.CLIENT, pa.name, sd=pa, routes=server.connect)


@contextmanager
def live_line(name: str = "headset", flowing: bool = True) -> Iterator[tuple]:
    """A started client input on a scripted server and PortAudio; stopped on the way out."""
    server = Server()
    pa = PortAudio(server, name)
    pa.flowing = flowing
    line = source(server, pa)
    line.start()
    try:
        yield server, pa, line
    finally:
        line.stop()


def test_a_removed_source_is_lost_bridged_with_silence_and_resumed():
    with live_line() as (server, pa, line):
        assert wait_until(lambda: line.stats().frames_captured > 0)
        line.buffer.drain()
        server.present.clear()  # unplugged: the server would move our stream elsewhere
        assert wait_until(lambda: line.health.lost is not None)
        assert line.health.lost == "unplugged"
        assert line.health.changes == 1 and not pa.opened[0].running.is_set()
        line.buffer.drain()  # up to one watch interval from before the loss was seen
        time.sleep(0.5)
        gap = line.buffer.drain()
        assert 0.4 * RATE <= len(gap) <= 0.7 * RATE  # silence at real-time pace …
        assert not gap.any()  # … and nothing from whatever the server moved us to
        assert len(pa.opened) == 1  # no reopening while the source is absent

        server.present.add("headset.monitor")
        assert wait_until(lambda: line.health.lost is None)
        assert line.health.changes == 2 and len(pa.opened) == 2
        assert wait_until(lambda: line.buffer.drain().max(initial=0) == np.float32(0.25))
    assert line.error is None and line.finished
    assert server.closed == server.connections  # every server connection closed


def test_a_stream_that_stalls_is_lost_and_retried_until_it_delivers():
    with live_line() as (_, pa, line):
        assert wait_until(lambda: line.stats().frames_captured > 0)
        pa.flowing = False  # a device that hangs: PortAudio says nothing, no blocks come
        assert wait_until(lambda: line.health.lost is not None)
        assert line.health.lost.startswith("no audio for")
        assert wait_until(lambda: len(pa.opened) >= 3)  # reopened, silent, closed, again …
        assert line.health.lost is not None and line.health.changes == 1
        pa.flowing = True
        assert wait_until(lambda: line.health.lost is None)


def test_a_stream_that_portaudio_ends_is_lost():
    with live_line() as (_, pa, line):
        assert wait_until(lambda: line.stats().frames_captured > 0)
        pa.open_fails = True
        pa.opened[0].running.clear()
        pa.opened[0].finished()  # what PortAudio does when the device goes away
        assert wait_until(lambda: line.health.lost is not None)
        assert "the device stopped" in line.health.lost
    assert line.error is not None and line.error.startswith("client input lost (device 0")


def test_a_device_that_never_delivers_is_lost_after_the_startup_grace():
    with live_line(flowing=False) as (_, _, line):
        time.sleep(0.3)
        assert line.health.lost is None  # PulseAudio can take ~2 s for the first block
        assert wait_until(lambda: line.health.lost is not None)
        assert "since it opened" in line.health.lost


def test_devices_that_follow_the_default_source_are_not_watched_on_the_server():
    with live_line(name="pulse") as (server, _, line):
        server.present.clear()  # the default moved: what the user asked for with "pulse"
        time.sleep(0.4)
        assert line.health.lost is None and server.connections == 0


def test_a_device_that_cannot_open_says_what_to_check():
    server = Server()
    pa = PortAudio(server)
    pa.open_fails = True
    line = source(server, pa)
    with pytest.raises(AudioInputError, match="Check that the device is plugged in"):
        line.start()
    assert server.closed == server.connections == 1
