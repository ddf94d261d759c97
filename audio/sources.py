"""Audio sources, one per call side, all delivering into a :class:`CaptureBuffer`.

A live device and a file replay share the same path: both hand blocks to
``_on_block`` exactly as a PortAudio callback would, and the consumer drains the buffer
the same way. The file replay paces itself to real time so latency measured on it is the
latency an agent would see.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import soundfile

from audio.buffer import CaptureBuffer, CaptureStats
from audio.devices import _sounddevice, find_capture_device, find_input_device
from audio.errors import AudioInputError
from audio.health import InputHealth, WatchedInput
from audio.pulse import PulseRoutes, follows_default
from audio.sides import Side

log = logging.getLogger(__name__)

BLOCK_SECONDS = 0.02
BUFFER_SECONDS = 30.0
READ_FRAMES = 1 << 18  # offline reads, per block (~5 s at 48 kHz)


class AudioSource(Protocol):
    side: Side
    samplerate: int
    buffer: CaptureBuffer
    description: str

    def start(self, clock_start: float | None = None) -> None: ...

    def stop(self) -> None: ...

    @property
    def finished(self) -> bool:
        """No more audio will arrive (stopped, file ended, or device lost)."""
        ...

    @property
    def error(self) -> str | None: ...

    @property
    def health(self) -> InputHealth | None:
        """Whether a live input is delivering (None: a file, which cannot be lost)."""
        ...

    def stats(self) -> CaptureStats: ...


# A live input is watched every WATCH_SECONDS. It is lost when PortAudio ends its stream,
# when no block arrives for STALL_SECONDS (a device that hangs), or when the sound server
# removes its source (PulseAudio/PipeWire would silently move the stream to another mic).
WATCH_SECONDS = 0.1
STALL_SECONDS = 2.0
STARTUP_SECONDS = 5.0  # PulseAudio's ALSA plugin can take 2 s to deliver the first block
RETRY_SECONDS = 1.0
_opening = threading.Lock()  # one stream opening at a time, so each one can find its route


class DeviceSource(WatchedInput):
    """One input device through a sounddevice ``InputStream``, watched while the call runs.

    A lost device does not end the call: its side gets silence at real-time pace (so what
    was being said is committed and both sides stay on one clock), and the device is
    reopened every ``RETRY_SECONDS`` until it is back.
    """

    def __init__(
        self,
        side: Side,
        device: str | int,
        sd: Any = None,
        channels: int = 1,
        routes: Callable[[], PulseRoutes | None] = PulseRoutes.connect,
    ) -> None:
        self._sd = sd or _sounddevice()
        info = find_input_device(device, self._sd)
        self.side = side
        self.device = info
        self.samplerate = info.default_samplerate
        self.channels = max(1, min(channels, info.channels))
        self.buffer = CaptureBuffer(self.samplerate, BUFFER_SECONDS)
        self.description = f"device {info.index}: {info.name}"
        self._connect_routes = routes
        self._routes: PulseRoutes | None = None
        self._source_name: str | None = None  # the sound-server source we record from
        self._stream: Any = None
        self._stream_ended = False
        self._last_block_at = 0.0
        self._opened_at = 0.0
        self._stopping = threading.Event()
        self._watcher: threading.Thread | None = None
        self._init_health(time.monotonic())
        self._silence_until = 0.0
        self._next_retry = 0.0

    # -- the PortAudio callbacks -----------------------------------------------------------
    def _on_block(self, indata: np.ndarray, frames: int, time_info: Any, status: Any) -> None:
        self._last_block_at = time.monotonic()
        self.buffer.push(indata, overflowed=bool(status and status.input_overflow))

    def _on_finished(self) -> None:
        self._stream_ended = True  # the watcher decides whether that was asked for

    # -- control -----------------------------------------------------------------------------
    def start(self, clock_start: float | None = None) -> None:
        if not follows_default(self.device.name):
            self._routes = self._connect_routes()
        try:
            self._open()
        except AudioInputError:
            self._close_routes()
            raise
        self._watcher = threading.Thread(
            target=self._watch, name=f"input-watch-{self.side.value}", daemon=True
        )
        self._watcher.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._watcher is not None and self._watcher is not threading.current_thread():
            self._watcher.join()
        self._close_stream()
        self._close_routes()
        self.buffer.close()

    # -- opening and closing ---------------------------------------------------------------
    def _open(self) -> None:
        with _opening:
            before = self._our_streams()
            try:
                stream = self._sd.InputStream(
                    device=self.device.index,
                    samplerate=self.samplerate,
                    channels=self.channels,
                    dtype="float32",
                    blocksize=int(self.samplerate * BLOCK_SECONDS),
                    callback=self._on_block,
                    finished_callback=self._on_finished,
                )
                self._stream_ended = False
                self._last_block_at = 0.0  # set by the first block
                self._opened_at = time.monotonic()
                stream.start()
            except Exception as exc:  # PortAudioError and friends
                raise AudioInputError(
                    f"cannot open the {self.side.value} input ({self.description}): {exc}. "
                    "Check that the device is plugged in and not used exclusively by another "
                    "program."
                ) from exc
            self._stream = stream
            source = self._find_source(before)
        if self._source_name is None:
            self._source_name = source
        elif source is not None and source != self._source_name:
            self._close_stream()  # the server put us on another microphone: not ours
            raise AudioInputError(f"{self._source_name} is not back yet (opened {source})")

    def _our_streams(self) -> dict[int, str]:
        if self._routes is None:
            return {}
        try:
            return self._routes.our_streams()
        except Exception:
            self._server_gone()
            return {}

    def _find_source(self, before: dict[int, str]) -> str | None:
        """The source our new stream records from: the stream of this process that was not
        there before the open (it can take a moment to show up)."""
        deadline = time.monotonic() + 1.0
        while self._routes is not None:
            new = {i: name for i, name in self._our_streams().items() if i not in before}
            if new:
                return next(iter(new.values()))
            if time.monotonic() >= deadline:
                return None
            time.sleep(0.02)
        return None

    def _close_stream(self) -> None:
        stream, self._stream = self._stream, None
        if stream is None:
            return
        try:
            stream.abort()
            stream.close()
        except Exception:  # a stream whose device vanished may fail to close
            log.debug("closing the %s input failed", self.side.value, exc_info=True)

    def _close_routes(self) -> None:
        routes, self._routes = self._routes, None
        if routes is not None:
            routes.close()

    # -- the watcher thread ------------------------------------------------------------------
    def _watch(self) -> None:
        while not self._stopping.wait(WATCH_SECONDS):
            if self._lost is None:
                reason = self._why_lost()
                if reason is not None:
                    self._lose(reason)
                continue
            self._fill_silence()
            if self._stream is None:
                if time.monotonic() >= self._next_retry:
                    self._try_reopen()
            elif self._last_block_at:  # reopened, and audio flows again
                self._restored()
            elif time.monotonic() - self._opened_at > STARTUP_SECONDS:
                self._close_stream()  # opened but silent: try again

    def _why_lost(self) -> str | None:
        if self._stream_ended:
            return "the device stopped (unplugged or switched off?)"
        now = time.monotonic()
        if not self._last_block_at:
            if now - self._opened_at > STARTUP_SECONDS:
                return f"no audio in the {STARTUP_SECONDS:.0f} s since it opened"
        elif now - self._last_block_at > STALL_SECONDS:
            return f"no audio for {now - self._last_block_at:.0f} s"
        if not self._source_present():
            return "unplugged"  # the sound server removed its source
        return None

    def _source_present(self) -> bool:
        """False only when the sound server says our source is gone."""
        if self._routes is None or not self._source_name:
            return True
        try:
            return self._source_name in self._routes.sources()
        except Exception:
            self._server_gone()
            return True

    def _server_gone(self) -> None:
        """The sound server stopped answering: watch with PortAudio's signals only (a later
        reopen connects again)."""
        log.warning("lost the sound-server connection; inputs are watched by PortAudio only")
        self._close_routes()

    def _lose(self, reason: str) -> None:
        self._close_stream()  # never keep recording from whatever the server moved us to
        now = time.monotonic()
        log.info("%s input lost (%s, sound-server source %s): %s", self.side.value,
                 self.description, self._source_name, reason)  # fmt: skip
        self._mark_lost(reason, now)
        self._silence_until = now
        self._next_retry = now + RETRY_SECONDS

    def _fill_silence(self) -> None:
        """The lost side gets silence for the time it is away: what was being said is
        committed by the voice detector, and the call clock stays shared."""
        now = time.monotonic()
        frames = int((now - self._silence_until) * self.samplerate)
        if frames > 0:
            self.buffer.push(np.zeros((frames, self.channels), dtype=np.float32))
            self._silence_until += frames / self.samplerate

    def _try_reopen(self) -> None:
        self._next_retry = time.monotonic() + RETRY_SECONDS
        if self._routes is None and not follows_default(self.device.name):
            self._routes = self._connect_routes()
        if not self._source_present():
            return  # not back: don't make PortAudio print its failure every second
        try:
            self._open()
        except AudioInputError as exc:
            log.debug("%s input not back yet: %s", self.side.value, exc)

    def _restored(self) -> None:
        now = time.monotonic()
        log.info("%s input is back after %.1f s", self.side.value, now - self._since)
        self._mark_back(now)


@dataclass(frozen=True)
class FileChannel:
    path: Path
    channel: int | None  # None: mix all channels (a mono file)


def open_audio_file(path: str | Path) -> soundfile.SoundFile:
    """Open an audio file or raise an :class:`AudioInputError` that says what is wrong."""
    path = Path(path)
    try:  # exists() raises, not returns False, inside a folder we may not enter
        exists, is_dir = path.exists(), path.is_dir()
    except OSError as exc:
        raise AudioInputError(
            f"cannot open {path}: {exc.strerror or exc}; check the permissions of the file "
            "and of the folders above it"
        ) from exc
    if not exists:
        raise AudioInputError(f"audio file not found: {path}")
    if is_dir:
        raise AudioInputError(f"{path} is a directory; give an audio file (WAV, FLAC, OGG)")
    if not os.access(path, os.R_OK):
        raise AudioInputError(f"cannot read {path}: permission denied; make it readable (chmod)")
    try:
        handle = soundfile.SoundFile(str(path))
    except Exception as exc:  # LibsndfileError, RuntimeError on odd headers
        raise AudioInputError(
            f"cannot read {path} as audio ({exc}). Give a WAV, FLAC or OGG file "
            "(convert others with: sox input.ext output.wav)"
        ) from exc
    if handle.samplerate < 4000 or handle.samplerate > 384_000:
        handle.close()
        raise AudioInputError(
            f"{path} has an unusable sample rate of {handle.samplerate} Hz; expected 4 000 "
            "to 384 000 Hz (resample it: sox input.wav -r 16000 output.wav)"
        )
    if handle.frames == 0:
        handle.close()
        raise AudioInputError(f"{path} contains no audio frames")
    return handle


class FileReplaySource:
    """Replays one channel of a file into a capture buffer at ``pace`` × real time."""

    def __init__(self, side: Side, source: FileChannel, pace: float = 1.0) -> None:
        self.side = side
        self._source = source
        with open_audio_file(source.path) as handle:
            self.samplerate = handle.samplerate
            self.duration = handle.frames / handle.samplerate
            if source.channel is not None and source.channel >= handle.channels:
                raise AudioInputError(
                    f"{source.path} has {handle.channels} channel(s); "
                    f"channel {source.channel + 1} does not exist"
                )
        self.pace = pace
        self.buffer = CaptureBuffer(self.samplerate, BUFFER_SECONDS)
        self.description = f"file {source.path.name}" + (
            f" channel {source.channel + 1}" if source.channel is not None else ""
        )
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._error: str | None = None

    def _on_block(self, indata: np.ndarray, frames: int, time_info: Any, status: Any) -> None:
        self.buffer.push(indata, overflowed=False)

    def _run(self, clock_start: float) -> None:
        block = int(self.samplerate * BLOCK_SECONDS)
        sent = 0
        try:
            with open_audio_file(self._source.path) as handle:
                # Not handle.blocks(): it trusts the header's frame count and, past the real
                # end of a file whose header lies, repeats the last block (for years).
                while len(data := handle.read(block, dtype="float32", always_2d=True)):
                    chunk = (
                        data if self._source.channel is None else data[:, [self._source.channel]]
                    )
                    sent += len(chunk)
                    due = clock_start + sent / self.samplerate / self.pace
                    delay = due - time.monotonic()
                    if delay > 0 and self._stop.wait(delay):
                        break
                    self._on_block(chunk, len(chunk), None, None)
        except Exception as exc:  # a file that goes bad mid-way
            self._error = f"reading {self._source.path} failed: {exc}"
        finally:
            self.duration = sent / self.samplerate  # what was there, not what the header said
            self.buffer.close()

    def start(self, clock_start: float | None = None) -> None:
        start = time.monotonic() if clock_start is None else clock_start
        self._thread = threading.Thread(
            target=self._run, args=(start,), name=f"replay-{self.side.value}", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    @property
    def finished(self) -> bool:
        return self.buffer.closed

    @property
    def error(self) -> str | None:
        return self._error

    @property
    def health(self) -> None:
        return None  # a file cannot be unplugged; a read error ends it (``error``)

    def stats(self) -> CaptureStats:
        return self.buffer.stats()


def call_file_channels(
    call: str | Path | None = None,
    agent_channel: str = "left",
    agent_file: str | Path | None = None,
    client_file: str | Path | None = None,
) -> dict[Side, FileChannel]:
    """Map a stereo call file (or two mono files) to one channel per side."""
    if call is not None:
        path = Path(call)
        with open_audio_file(path) as handle:
            channels = handle.channels
        if channels < 2:
            raise AudioInputError(
                f"{path} is mono, so the two sides cannot be told apart; give a stereo file "
                "(one side per channel) or two files: --agent A.wav --client C.wav"
            )
        if agent_channel not in ("left", "right"):
            raise AudioInputError("--agent-channel must be 'left' or 'right'")
        agent = 0 if agent_channel == "left" else 1
        return {Side.AGENT: FileChannel(path, agent), Side.CLIENT: FileChannel(path, 1 - agent)}
    if agent_file is None or client_file is None:
        raise AudioInputError("give a stereo call file, or both --agent FILE and --client FILE")
    for f in (agent_file, client_file):
        open_audio_file(f).close()
    return {
        Side.AGENT: FileChannel(Path(agent_file), None),
        Side.CLIENT: FileChannel(Path(client_file), None),
    }


def read_channel(source: FileChannel) -> tuple[np.ndarray, int]:
    """The whole channel as float32 mono with its sample rate (offline analysis).

    Read in blocks until the data ends: the header's frame count is not trusted (a damaged
    one can claim terabytes), and only the one channel is kept in memory."""
    parts = []
    try:
        with open_audio_file(source.path) as handle:
            rate = handle.samplerate
            while len(data := handle.read(READ_FRAMES, dtype="float32", always_2d=True)):
                if source.channel is None:
                    parts.append(data.mean(axis=1, dtype=np.float32))
                else:
                    parts.append(np.ascontiguousarray(data[:, source.channel]))
    except AudioInputError:
        raise
    except MemoryError as exc:
        raise AudioInputError(
            f"{source.path} is too long to analyse in memory; split it "
            "(sox input.wav part.wav trim 0 3600 : newfile : restart)"
        ) from exc
    except Exception as exc:
        raise AudioInputError(
            f"reading {source.path} failed ({exc}): the file is damaged or cut short; "
            "re-export it, or convert what is readable: sox input output.wav"
        ) from exc
    return (np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)), rate


def open_input(side: Side, spec: str | int) -> AudioSource:
    """A side of the call recorded from ``spec`` (as ``calmline devices`` lists it): a
    microphone or line input, or the loopback of an output device."""
    from audio.loopback import LoopbackSource

    device = find_capture_device(spec)
    if device.loopback is not None:
        return LoopbackSource(side, device.loopback)
    return DeviceSource(side, device.index)
