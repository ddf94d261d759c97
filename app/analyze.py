"""Transcribing a recorded call: offline (as fast as possible) or through the live path."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from app import __version__
from app.crosstalk import SpeechLevel, is_crosstalk, loud_level
from app.live import LiveSettings, LiveTranscriber
from app.session import CallSession
from app.transcript import Committed, Event, Segment
from audio.levels import rms_dbfs
from audio.resample import resample_to_16k
from audio.sides import Side
from audio.sources import FileChannel, FileReplaySource, read_channel
from audio.vad import FRAME, SAMPLE_RATE
from models.stt import WhisperEngine, is_invented


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


def frame_levels(audio: np.ndarray) -> np.ndarray:
    frames = len(audio) // FRAME
    return np.array(
        [rms_dbfs(audio[i * FRAME : (i + 1) * FRAME]) for i in range(frames)], dtype=np.float32
    )


def analyze_offline(channels: dict[Side, FileChannel], engine: WhisperEngine) -> CallResult:
    """Each side through faster-whisper's whole-file ``transcribe()``, then the same
    crosstalk and invented-text filters as the live path."""
    audio = {}
    for side, channel in channels.items():
        samples, rate = read_channel(channel)
        audio[side] = resample_to_16k(samples, rate)
    levels = {side: frame_levels(a) for side, a in audio.items()}
    candidates: list[tuple[Side, Any]] = []
    for side in Side:
        candidates.extend((side, t) for t in engine.transcribe(audio[side]))
    candidates.sort(key=lambda item: (item[1].start, item[0].value))
    typical = {side: SpeechLevel() for side in Side}
    kept: list[Segment] = []
    for side, timed in candidates:
        first = int(timed.start * SAMPLE_RATE / FRAME)
        last = max(first + 1, int(timed.end * SAMPLE_RATE / FRAME))
        own, other = levels[side][first:last], levels[side.other][first:last]
        if is_crosstalk(own, other, typical[side].typical, typical[side.other].typical):
            continue
        if is_invented(
            timed.text, timed.avg_logprob, timed.no_speech_prob, timed.end - timed.start
        ):
            continue
        typical[side].add(loud_level(own)[0])
        kept.append(Segment(len(kept) + 1, side, timed.start, timed.end, timed.text))
    duration = max(len(a) for a in audio.values()) / SAMPLE_RATE
    return CallResult(engine.describe(), duration, kept, mode="offline")


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
    duration = max(src.duration for src in sources.values())
    segments.sort(key=lambda s: (s.start, s.speaker.value))
    return CallResult(engine.describe(), duration, segments, mode="realtime", capture=capture)
