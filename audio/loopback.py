"""The client's side as the softphone plays it: an output device's loopback as an input.

A softphone (Zoiper, MicroSIP, Teams, a browser contact-centre client) plays the client into
the agent's headset; Calmline records what that output device plays. The ``soundcard``
library does it through one API on Linux (the PulseAudio/PipeWire monitor of the sink) and
on Windows (WASAPI loopback); PortAudio cannot record outputs on Windows.

A loopback keeps its own clock. WASAPI delivers nothing while nothing plays and its reads
block (SoundCard #137/#166), and a monitor stops when its sink is removed; so a reader thread
takes what the device gives, and a pacer fills every gap with silence at real-time pace.
Both sides of the call then stay on one clock through silence, hold music stopping and
starting, and the device going away and coming back — which is detected and reported like
a lost input (:class:`audio.sources.InputHealth`).
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np

from audio.buffer import CaptureBuffer
from audio.health import WatchedInput
from audio.sides import Side

log = logging.getLogger(__name__)

LOOPBACK_RATE = 48_000  # what output devices run at; the session resamples to 16 kHz
BLOCK_SECONDS = 0.02
READER_STOP_WAIT_S = 3.0  # for the readers to close their streams at stop
BUFFER_SECONDS = 30.0
WATCH_SECONDS = 0.05
GAP_SECONDS = 0.25  # a reader this far behind the clock is not delivering: silence fills in
AHEAD_SECONDS = 0.5  # audio beyond this ahead of the clock is dropped (counted)
RETRY_SECONDS = 1.0
DEFAULT_CHECK_SECONDS = 0.2


def loopback_name(speaker: str) -> str:
    """How a person sees the loopback of an output device: what they hear on it."""
    return f"Loopback: {speaker} (what you hear)"


@dataclass(frozen=True)
class LoopbackDevice:
    name: str  # loopback_name(speaker)
    speaker: str  # the output device, as the system names it
    speaker_id: str  # soundcard's id of the output device
    channels: int
    default: bool = False  # the system's default output (where a softphone plays)
    follows_default: bool = False  # whichever output is the default, switching with it


DEFAULT_OUTPUT = LoopbackDevice(
    loopback_name("default output"), "default output", "", 2, default=True, follows_default=True
)


def soundcard_module() -> ModuleType | None:
    """``soundcard``, or None where it cannot work (no sound server, unsupported system):
    then there are no loopback devices, and the reason is in the log."""
    argv = sys.argv
    if argv[:1] == ["-c"]:  # soundcard names its PulseAudio client after argv[1] then
        sys.argv = ["-c", "calmline"]
    try:
        import soundcard
    except Exception as exc:  # no PulseAudio/PipeWire server, no libpulse, macOS
        log.info("loopback capture unavailable: %s", exc)
        return None
    finally:
        sys.argv = argv
    return soundcard


def list_loopback_devices(sc: Any = None) -> list[LoopbackDevice]:
    """Each output device's loopback, named for a person to pick."""
    sc = sc if sc is not None else soundcard_module()
    if sc is None:
        return []
    try:
        speakers = sc.all_speakers()
        default = sc.default_speaker()
    except Exception as exc:
        log.warning("cannot list output devices: %s", exc)
        return []
    default_id = getattr(default, "id", None)
    devices = [
        LoopbackDevice(
            loopback_name(s.name), s.name, s.id, max(1, int(s.channels)), s.id == default_id
        )
        for s in speakers
    ]
    return [DEFAULT_OUTPUT, *devices] if devices else []


class LoopbackSource(WatchedInput):
    """What one output device plays, captured for one side of the call."""

    def __init__(
        self,
        side: Side,
        device: LoopbackDevice,
        sc: Any = None,
        samplerate: int = LOOPBACK_RATE,
        clock: Any = time.monotonic,
    ) -> None:
        self._sc = sc if sc is not None else soundcard_module()
        if self._sc is None:
            from audio.errors import AudioInputError

            raise AudioInputError(
                "loopback capture needs a running PulseAudio or PipeWire (Linux) or Windows; "
                "pick a microphone-type input instead"
            )
        self.side = side
        self.device = device
        self.samplerate = int(samplerate)
        self.buffer = CaptureBuffer(self.samplerate, BUFFER_SECONDS)
        self.description = device.name
        self._clock = clock
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._reader: threading.Thread | None = None
        self._readers: list[threading.Thread] = []  # every reader started, old ones too
        self._reader_stop = threading.Event()
        self._target = device.speaker_id  # the output recorded now (the default's, if following)
        self._default_checked = 0.0
        self._pacer: threading.Thread | None = None
        self._started_at = 0.0
        self._delivered = 0  # frames pushed since start, audio and silence
        self._reader_failed: str | None = None
        self._init_health(clock())
        self._next_retry = 0.0
        self._reading = False  # the reader has delivered audio since it (re)opened

    # -- control -----------------------------------------------------------------------------
    def start(self, clock_start: float | None = None) -> None:
        if self.device.follows_default:
            self._target = self._default_id() or ""
        microphone = self._microphone()  # fails here, before the call, if it is not there
        self._started_at = clock_start if clock_start is not None else self._clock()
        self._start_reader(microphone)
        self._pacer = threading.Thread(
            target=self._pace, name=f"loopback-pace-{self.side.value}", daemon=True
        )
        self._pacer.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._pacer is not None:
            self._pacer.join()
        # a reader may be blocked in a read that never returns (WASAPI, nothing playing):
        # it is a daemon thread and drops what it reads once stopping. Closing the sound
        # server's stream can take a while on a busy machine, so each gets a bounded wait;
        # readers left behind by a device switch are waited for too.
        deadline = time.monotonic() + READER_STOP_WAIT_S
        for reader in self._readers:
            reader.join(timeout=max(0.0, deadline - time.monotonic()))
        self._readers = [r for r in self._readers if r.is_alive()]
        self.buffer.close()

    # -- the device ----------------------------------------------------------------------------
    def _microphone(self) -> Any:
        from audio.errors import AudioInputError

        try:
            for microphone in self._sc.all_microphones(include_loopback=True):
                # PulseAudio/PipeWire: the sink's monitor source; WASAPI: the speaker's own id
                if getattr(microphone, "isloopback", False) and microphone.id in (
                    self._target,
                    f"{self._target}.monitor",
                ):
                    return microphone
            return self._sc.get_microphone(self._target, include_loopback=True)
        except Exception as exc:
            raise AudioInputError(
                f"cannot open the {self.side.value} input ({self.description}): the output "
                f"device is not there ({exc}). Run 'calmline devices' to see what is."
            ) from exc

    def _present(self) -> bool:
        try:
            return any(s.id == self._target for s in self._sc.all_speakers())
        except Exception:
            return True  # the sound server did not answer: judge by the audio alone

    def _default_id(self) -> str | None:
        try:
            return getattr(self._sc.default_speaker(), "id", None)
        except Exception:
            return None

    def _start_reader(self, microphone: Any) -> None:
        self._reader_failed = None
        self._reading = False
        self._reader_stop = threading.Event()
        self._reader = threading.Thread(
            target=self._read,
            args=(microphone, self._reader_stop),
            name=f"loopback-{self.side.value}",
            daemon=True,
        )
        self._reader.start()
        self._readers = [*(r for r in self._readers if r.is_alive()), self._reader]

    def _read(self, microphone: Any, stop: threading.Event) -> None:
        block = int(self.samplerate * BLOCK_SECONDS)
        try:
            with microphone.recorder(
                samplerate=self.samplerate, channels=1, blocksize=block
            ) as rec:
                while not (self._stopping.is_set() or stop.is_set()):
                    data = np.asarray(rec.record(numframes=block), dtype=np.float32)
                    if self._stopping.is_set() or stop.is_set():
                        return
                    if data.ndim > 1:
                        data = data.mean(axis=1)
                    self._reading = True
                    self._push(data)
        except Exception as exc:  # the sink went away mid-read, the server restarted, …
            if not (self._stopping.is_set() or stop.is_set()):
                log.info("%s loopback read ended: %s", self.side.value, exc)
                self._reader_failed = str(exc) or type(exc).__name__

    # -- one clock -----------------------------------------------------------------------------
    def _expected(self) -> int:
        return int((self._clock() - self._started_at) * self.samplerate)

    def _push(self, data: np.ndarray) -> None:
        with self._lock:
            room = self._expected() + int(AHEAD_SECONDS * self.samplerate) - self._delivered
            if room < len(data):  # after silence was filled in, the device caught up
                data = data[: max(0, room)]
            if not len(data):
                return
            self._delivered += len(data)
            self.buffer.push(data)

    def _fill_gap(self) -> None:
        with self._lock:
            behind = self._expected() - self._delivered
            if behind <= int(GAP_SECONDS * self.samplerate):
                return
            frames = behind - int(BLOCK_SECONDS * self.samplerate)  # leave the reader a block
            self._delivered += frames
            self.buffer.push(np.zeros(frames, dtype=np.float32))

    def _pace(self) -> None:
        while not self._stopping.wait(WATCH_SECONDS):
            self._fill_gap()
            self._watch()

    def _watch(self) -> None:
        now = self._clock()
        if self._lost is None:
            reason = self._default_switched(now) or self._why_lost()
            if reason is not None:
                log.info("%s loopback lost (%s): %s", self.side.value, self.description, reason)
                self._mark_lost(reason, now)
                self._reading = False
                self._next_retry = now  # try at once (a new default is there already)
            return
        if self._reader is not None and self._reader.is_alive():
            if self._reading and self._present():
                log.info("%s loopback is back after %.1f s", self.side.value, now - self._since)
                self._mark_back(now)
            return
        if now >= self._next_retry:
            self._next_retry = now + RETRY_SECONDS
            if self.device.follows_default:
                self._target = self._default_id() or self._target
            if self._present():
                try:
                    self._start_reader(self._microphone())
                except Exception as exc:
                    log.debug("%s loopback not back yet: %s", self.side.value, exc)

    def _why_lost(self) -> str | None:
        if self._reader_failed is not None:
            return f"the output device stopped ({self._reader_failed})"
        if not self._present():
            return "the output device was removed"
        return None

    def _default_switched(self, now: float) -> str | None:
        """Following the default output: it became another device (the agent switched to
        speakers, plugged in a headset). The reader moves to it, reported as lost, then
        back once audio flows from the new one."""
        if not self.device.follows_default or now - self._default_checked < DEFAULT_CHECK_SECONDS:
            return None
        self._default_checked = now
        current = self._default_id()
        if not current or current == self._target:
            return None
        self._reader_stop.set()  # a reader blocked in a read drops what it gets from now on
        self._reader = None
        self._target = current
        name = next((s.name for s in self._sc.all_speakers() if s.id == current), current)
        return f"the default output changed to {name}"
