"""Transcribing a recorded call: offline (as fast as possible) or through the live path."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from app import __version__
from app.live import LiveSettings, LiveTranscriber
from app.session import CallSession
from app.transcript import Committed, Event, Segment
from audio.resample import resample_to_16k
from audio.sides import Side
from audio.sources import FileChannel, FileReplaySource, read_channel
from audio.vad import SAMPLE_RATE
from models.stt import WhisperEngine


@dataclass
class CallResult:
    model: dict[str, Any]
    duration_s: float
    segments: list[Segment]
    mode: str
    capture: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "calmline": __version__,
            "model": self.model,
            "mode": self.mode,
            "duration_s": round(self.duration_s, 2),
            "segments": [s.to_json() for s in self.segments],
            "cues": [],
            "flags": [],
        }
        latencies = [s.latency_s for s in self.segments if s.latency_s is not None]
        if latencies:
            data["latency_s"] = {
                "p50": round(float(np.percentile(latencies, 50)), 3),
                "p95": round(float(np.percentile(latencies, 95)), 3),
                "max": round(max(latencies), 3),
            }
        if self.capture:
            data["capture"] = self.capture
        return data


def analyze_offline(
    channels: dict[Side, FileChannel], engine: WhisperEngine, settings: LiveSettings | None = None
) -> CallResult:
    """The live path's segmentation and decoding, fed as fast as the CPU allows.

    Same utterances, crosstalk handling and invented-text filter as a live call, without
    the waiting and without interim hypotheses.
    """
    audio = {}
    for side, channel in channels.items():
        samples, rate = read_channel(channel)
        audio[side] = resample_to_16k(samples, rate)
    live = LiveTranscriber(engine, settings)
    segments: list[Segment] = []
    block = SAMPLE_RATE  # one second per side per step keeps both sides' levels in step
    length = max(len(a) for a in audio.values())
    for offset in range(0, length, block):
        for side in Side:
            live.feed(side, audio[side][offset : offset + block])
        for event in live.step(allow_interim=False):
            if isinstance(event, Committed):
                segments.append(event.segment)
    live.finish()
    segments.extend(e.segment for e in live.drain() if isinstance(e, Committed))
    segments.sort(key=lambda s: (s.start, s.speaker.value))
    return CallResult(engine.describe(), length / SAMPLE_RATE, segments, mode="offline")


def analyze_realtime(
    channels: dict[Side, FileChannel],
    engine: WhisperEngine,
    settings: LiveSettings | None = None,
    pace: float = 1.0,
    on_event=None,
) -> CallResult:
    """Replay the call at ``pace`` × real time through the live path (sources, buffers,
    resampling, VAD, streaming decode) and record each segment's latency."""
    sources = {side: FileReplaySource(side, ch, pace=pace) for side, ch in channels.items()}
    segments: list[Segment] = []
    lock = threading.Lock()

    def collect(event: Event) -> None:
        if isinstance(event, Committed):
            with lock:
                segments.append(event.segment)
        if on_event is not None:
            on_event(event)

    session = CallSession(sources, LiveTranscriber(engine, settings), collect, pace=pace)
    session.start()
    try:
        session.wait()
    except KeyboardInterrupt:
        session.stop()
    if session.failure is not None:
        raise session.failure
    capture = {
        side.value: {
            "source": src.description,
            "frames_dropped": src.stats().frames_dropped,
            "overflows": src.stats().overflows,
        }
        for side, src in sources.items()
    }
    capture["backlog_max_s"] = round(session.max_backlog_seconds, 2)
    duration = max(src.duration for src in sources.values())
    segments.sort(key=lambda s: (s.start, s.speaker.value))
    return CallResult(engine.describe(), duration, segments, mode="realtime", capture=capture)
