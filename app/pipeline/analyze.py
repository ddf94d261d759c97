"""Transcribing a recorded call: offline (as fast as possible) or through the live path."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any

import numpy as np

from app import __version__
from app.calls.records import (
    CallInfo,
    CallRecord,
    CueRecord,
    FlagRecord,
    IncidentRecord,
    MoodPoint,
    SegmentRecord,
)
from app.coaching.coach import ChecklistTick, Coach, Cue, Flag, IncidentNote
from app.coaching.mood import ClientMood, MoodUpdate, SentimentScorer
from app.coaching.playbook import Playbook
from app.events import Committed, Revised, Segment, Stage, run_stages
from app.pipeline.live import LiveSettings, LiveTranscriber
from app.pipeline.memory import HeapTrim
from app.pipeline.session import CallSession
from app.privacy.redact import ALL_KINDS, RedactStage
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
    mood: list[MoodUpdate] = field(default_factory=list)
    sentiment_model: dict[str, Any] | None = None
    cues: list[Cue] = field(default_factory=list)
    flags: list[Flag] = field(default_factory=list)
    notes: list[IncidentNote] = field(default_factory=list)
    checklist: list[str] = field(default_factory=list)  # items the coach heard done
    latencies: list[float] = field(default_factory=list)  # of each first commit (realtime)

    @property
    def input_errors(self) -> dict[str, str]:
        """Sides whose audio stopped early (read error), with the reason."""
        return {
            side: part["error"]
            for side, part in self.capture.items()
            if isinstance(part, dict) and part.get("error")
        }

    def to_record(self, info: CallInfo) -> CallRecord:
        """The analysed recording as a stored call, exactly like a live one."""
        ended = info.ended_at or info.started_at + timedelta(seconds=self.duration_s)
        model = {"speech_to_text": self.model, "sentiment": self.sentiment_model}
        return CallRecord(
            info=replace(info, ended_at=ended, status="ended", model=model),
            segments=tuple(
                SegmentRecord(
                    s.id, s.speaker.value, s.start, s.end, s.text, s.latency_s, s.sentiment
                )
                for s in self.segments
            ),
            cues=tuple(
                CueRecord(c.t, c.kind, c.message, tuple(c.phrases), c.segment_id) for c in self.cues
            ),
            flags=tuple(FlagRecord(f.t, f.kind, f.excerpt, f.segment_id) for f in self.flags),
            incidents=tuple(
                IncidentRecord(n.t, n.text, n.excerpt, n.segment_id) for n in self.notes
            ),
            mood=tuple(MoodPoint(m.t, m.value, m.trend.value) for m in self.mood),
            checklist=dict.fromkeys(self.checklist, True),
        )

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "calmline": __version__,
            "model": self.model,
            "mode": self.mode,
            "duration_s": round(self.duration_s, 2),
            "sentiment_model": self.sentiment_model,
            "segments": [s.to_json() for s in self.segments],
            "mood": [m.to_json() for m in self.mood],
            "cues": [c.to_json() for c in self.cues],
            "flags": [f.to_json() for f in self.flags],
            "notes": [n.to_json() for n in self.notes],
        }
        latencies = self.latencies or [
            s.latency_s for s in self.segments if s.latency_s is not None
        ]
        if latencies:
            data["latency_s"] = {
                "p50": round(float(np.percentile(latencies, 50)), 3),
                "p95": round(float(np.percentile(latencies, 95)), 3),
                "max": round(max(latencies), 3),
            }
        if self.capture:
            data["capture"] = self.capture
        return data


def live_settings(playbook: Playbook | None) -> LiveSettings:
    """The live path's settings for a call coached with ``playbook`` (its vocabulary)."""
    return LiveSettings(vocabulary=playbook.vocabulary if playbook is not None else ())


def call_stages(
    sentiment: SentimentScorer | None,
    playbook: Playbook | None,
    redact: Sequence[str] = ALL_KINDS,
) -> list[Stage]:
    """What runs after transcription: redaction of personal data (so nothing after it —
    screen, coach, storage, exports — sees card numbers, e-mails or phone numbers), client
    mood (with a sentiment model), then the coach; last, heap housekeeping for long calls."""
    stages: list[Stage] = [RedactStage(redact)] if redact else []
    if sentiment is not None:
        stages.append(ClientMood(sentiment))
    if playbook is not None:
        stages.append(Coach(playbook, sentiment))
    stages.append(HeapTrim())  # long calls: free heap pages back to the OS (app/pipeline/memory.py)
    return stages


class _Collector:
    """Gathers a call's results from the pipeline's events (thread-safe)."""

    def __init__(self) -> None:
        self.segments: list[Segment] = []
        self.mood: list[MoodUpdate] = []
        self.cues: list[Cue] = []
        self.flags: list[Flag] = []
        self.notes: list[IncidentNote] = []
        self.checklist: list[str] = []
        self.latencies: list[float] = []  # every first commit's, revised lines included
        self._lock = threading.Lock()
        self._lists: dict[type, list[Any]] = {
            MoodUpdate: self.mood, Cue: self.cues, Flag: self.flags, IncidentNote: self.notes
        }  # fmt: skip

    def __call__(self, event: Any) -> None:
        with self._lock:
            if isinstance(event, Revised):
                gone = set(event.replaces)
                self.segments[:] = [s for s in self.segments if s.id not in gone]
                self.segments.append(event.segment)
                for items in (self.cues, self.flags, self.notes):
                    items[:] = [
                        replace(i, segment_id=event.segment.id) if i.segment_id in gone else i
                        for i in items
                    ]
            elif isinstance(event, Committed):
                self.segments.append(event.segment)
                if event.segment.latency_s is not None:
                    self.latencies.append(event.segment.latency_s)
            elif type(event) in self._lists:
                self._lists[type(event)].append(event)
            elif isinstance(event, ChecklistTick) and event.item not in self.checklist:
                self.checklist.append(event.item)

    def result_json(self, sentiment: SentimentScorer | None) -> dict[str, Any]:
        """The JSON contract for a call that had no audio (a written transcript)."""
        self.segments.sort(key=lambda s: (s.start, s.speaker.value))
        return {
            "calmline": __version__,
            "model": None,
            "mode": "text",
            "sentiment_model": _describe(sentiment),
            "duration_s": round(max((s.end for s in self.segments), default=0.0), 2),
            "segments": [s.to_json() for s in self.segments],
            "mood": [m.to_json() for m in self.mood],
            "cues": [c.to_json() for c in self.cues],
            "flags": [f.to_json() for f in self.flags],
            "notes": [n.to_json() for n in self.notes],
        }

    def result(self, engine: WhisperEngine, duration: float, mode: str, **extra: Any) -> CallResult:
        self.segments.sort(key=lambda s: (s.start, s.speaker.value))
        return CallResult(
            engine.describe(),
            duration,
            self.segments,
            mode=mode,
            mood=self.mood,
            cues=self.cues,
            flags=self.flags,
            notes=self.notes,
            checklist=self.checklist,
            latencies=self.latencies,
            **extra,
        )


def _describe(sentiment: SentimentScorer | None) -> dict[str, Any] | None:
    describe = getattr(sentiment, "describe", None)
    return describe() if describe else None


def analyze_offline(
    channels: dict[Side, FileChannel],
    engine: WhisperEngine,
    settings: LiveSettings | None = None,
    sentiment: SentimentScorer | None = None,
    playbook: Playbook | None = None,
    redact: Sequence[str] = ALL_KINDS,
) -> CallResult:
    """The live path's segmentation and decoding, fed as fast as the CPU allows.

    Same utterances, crosstalk handling and invented-text filter as a live call, without
    the waiting and without interim hypotheses; a speaker's stretch (pieces with short
    pauses between) is decoded once when it ends, which is what a live call's revisions
    arrive at. The coach sees the call clock advance with
    the audio; cue times assume text appears as soon as an utterance ends.
    """
    audio = {}
    for side, channel in channels.items():
        samples, rate = read_channel(channel)
        audio[side] = resample_to_16k(samples, rate)
    settings = replace(settings or live_settings(playbook), hold_stretches=True)
    live = LiveTranscriber(engine, settings)
    stages = call_stages(sentiment, playbook, redact)
    collector = _Collector()

    def collect(events: list[Any]) -> None:
        for event in run_stages(stages, events):
            collector(event)

    def tick(now: float) -> None:
        for stage in stages:
            if hasattr(stage, "tick"):
                for event in stage.tick(now):
                    collector(event)

    block = SAMPLE_RATE  # one second per side per step keeps both sides' levels in step
    length = max(len(a) for a in audio.values())
    for offset in range(0, length, block):
        for side in Side:
            live.feed(side, audio[side][offset : offset + block])
        collect(live.step(allow_interim=False))
        # the coach's clock waits for lines still held, so a cue is timed at its line's end
        tick(min(min(offset + block, length) / SAMPLE_RATE, live.settled_until))
    live.finish()
    collect(live.drain())
    tick(length / SAMPLE_RATE)
    return collector.result(
        engine, length / SAMPLE_RATE, "offline", sentiment_model=_describe(sentiment)
    )


def analyze_realtime(
    channels: dict[Side, FileChannel],
    engine: WhisperEngine,
    settings: LiveSettings | None = None,
    pace: float = 1.0,
    on_event: Callable[[Any], None] | None = None,
    sentiment: SentimentScorer | None = None,
    playbook: Playbook | None = None,
    redact: Sequence[str] = ALL_KINDS,
) -> CallResult:
    """Replay the call at ``pace`` × real time through the live path (sources, buffers,
    resampling, VAD, streaming decode, mood, coach) and record each segment's latency."""
    sources = {side: FileReplaySource(side, ch, pace=pace) for side, ch in channels.items()}
    collector = _Collector()

    def collect(event: Any) -> None:
        collector(event)
        if on_event is not None:
            on_event(event)

    session = CallSession(
        sources,
        LiveTranscriber(engine, settings or live_settings(playbook)),
        collect,
        pace=pace,
        stages=call_stages(sentiment, playbook, redact),
    )
    session.start()
    try:
        session.wait()
    except KeyboardInterrupt:
        session.stop()
    if session.failure is not None:
        raise session.failure
    capture: dict[str, Any] = {
        side.value: {
            "source": src.description,
            "frames_dropped": src.stats().frames_dropped,
            "overflows": src.stats().overflows,
        }
        for side, src in sources.items()
    }
    for side, error in session.status().errors.items():  # a file that went bad mid-way
        capture[side.value]["error"] = error
        capture[side.value]["stopped_at_s"] = round(sources[side].duration, 2)
    capture["backlog_max_s"] = round(session.max_backlog_seconds, 2)
    duration = max(src.duration for src in sources.values())
    return collector.result(
        engine, duration, "realtime", capture=capture, sentiment_model=_describe(sentiment)
    )
