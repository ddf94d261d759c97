"""Transcribing a recorded call: offline (as fast as possible) or through the live path."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any, TypeVar, assert_never

import numpy as np

from app import __version__
from app.calls.mapping import cue_record, flag_record, incident_record, mood_point, segment_record
from app.calls.records import CallInfo, CallRecord
from app.calls.talk import talk_time
from app.events import (
    ChecklistTick,
    Committed,
    Cue,
    CueCleared,
    Degraded,
    Discarded,
    Event,
    Flag,
    IncidentNote,
    InputLost,
    InputRestored,
    MoodUpdate,
    Partial,
    Revised,
    Segment,
    SpeechStarted,
    Summary,
    SummaryDraft,
)
from app.pipeline.call import CallSetup, replay_sources
from app.pipeline.live import LiveSettings, LiveTranscriber
from app.pipeline.session import CallSession, Listener
from audio import SAMPLE_RATE
from audio.resample import resample_to_16k
from audio.sides import Side
from audio.sources import FileChannel, read_channel


@dataclass
class CallResult:
    """A whole call's results: what ``analyze --json`` and ``coach --json`` write."""

    model: dict[str, Any] | None
    duration_s: float
    segments: list[Segment]
    mode: str  # "offline" | "realtime" | "text"
    capture: dict[str, Any] = field(default_factory=dict)
    mood: list[MoodUpdate] = field(default_factory=list)
    sentiment_model: dict[str, Any] | None = None
    cues: list[Cue] = field(default_factory=list)
    flags: list[Flag] = field(default_factory=list)
    incidents: list[IncidentNote] = field(default_factory=list)
    checklist: list[str] = field(default_factory=list)  # items the coach heard done
    latencies: list[float] = field(default_factory=list)  # of each first commit (realtime)
    degraded: list[Degraded] = field(default_factory=list)  # parts that failed on the way
    summary: Summary = field(default_factory=Summary)  # the drafted ticket note

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
            segments=tuple(segment_record(s) for s in self.segments),
            cues=tuple(cue_record(c) for c in self.cues),
            flags=tuple(flag_record(f) for f in self.flags),
            incidents=tuple(incident_record(n) for n in self.incidents),
            mood=tuple(mood_point(m) for m in self.mood),
            checklist=dict.fromkeys(self.checklist, True),
            summary=self.summary,
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
            "incidents": [n.to_json() for n in self.incidents],
            "summary": self.summary.to_json(),
            "talk": talk_time((s.speaker.value, s.start, s.end) for s in self.segments).to_json(),
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
        if self.degraded:
            data["degraded"] = [
                {"component": d.component, "message": d.message} for d in self.degraded
            ]
        return data


class Collector:
    """Gathers a call's results from the pipeline's events (thread-safe)."""

    def __init__(self) -> None:
        self.segments: list[Segment] = []
        self.mood: list[MoodUpdate] = []
        self.cues: list[Cue] = []
        self.flags: list[Flag] = []
        self.incidents: list[IncidentNote] = []
        self.checklist: list[str] = []
        self.degraded: list[Degraded] = []
        self.latencies: list[float] = []  # every first commit's, revised lines included
        self.summary = Summary()
        self._lock = threading.Lock()

    def __call__(self, event: Event) -> None:
        with self._lock:
            self._collect(event)

    def _collect(self, event: Event) -> None:
        match event:
            case Revised():
                gone = set(event.replaces)
                self.segments[:] = [s for s in self.segments if s.id not in gone]
                self.segments.append(event.segment)
                self.cues[:] = [_repointed(c, gone, event.segment.id) for c in self.cues]
                self.flags[:] = [_repointed(f, gone, event.segment.id) for f in self.flags]
                self.incidents[:] = [_repointed(n, gone, event.segment.id) for n in self.incidents]
            case Committed():
                self.segments.append(event.segment)
                if event.segment.latency_s is not None:
                    self.latencies.append(event.segment.latency_s)
            case MoodUpdate():
                self.mood.append(event)
            case Cue():
                self.cues.append(event)
            case Flag():
                self.flags.append(event)
            case IncidentNote():
                self.incidents.append(event)
            case ChecklistTick():
                if event.item not in self.checklist:
                    self.checklist.append(event.item)
            case Degraded():
                self.degraded.append(event)
            case SummaryDraft():
                self.summary = event.summary
            case (
                Partial() | SpeechStarted() | Discarded() | CueCleared() | InputLost()
                | InputRestored()
            ):  # fmt: skip
                pass  # not part of a call's results
            case _:
                assert_never(event)

    def result(
        self, setup: CallSetup, duration: float | None, mode: str, **extra: Any
    ) -> CallResult:
        self.segments.sort(key=lambda s: (s.start, s.speaker.value))
        if duration is None:  # a written transcript: as long as its last line
            duration = max((s.end for s in self.segments), default=0.0)
        models = setup.describe_models()
        return CallResult(
            models["speech_to_text"] if mode != "text" else None,
            duration,
            self.segments,
            mode=mode,
            mood=self.mood,
            cues=self.cues,
            flags=self.flags,
            incidents=self.incidents,
            checklist=self.checklist,
            latencies=self.latencies,
            degraded=self.degraded,
            summary=self.summary,
            sentiment_model=models["sentiment"],
            **extra,
        )


_Pointing = TypeVar("_Pointing", Cue, Flag, IncidentNote)


def _repointed(item: _Pointing, gone: set[int], segment_id: int) -> _Pointing:
    return replace(item, segment_id=segment_id) if item.segment_id in gone else item


def analyze_offline(
    channels: dict[Side, FileChannel],
    setup: CallSetup,
    settings: LiveSettings | None = None,
    listeners: Sequence[Listener] = (),
) -> CallResult:
    """The live path's segmentation and decoding, fed as fast as the CPU allows.

    Same utterances, crosstalk handling and invented-text filter as a live call, without
    the waiting and without interim hypotheses; a speaker's stretch (pieces with short
    pauses between) is decoded once when it ends, which is what a live call's revisions
    arrive at. The coach sees the call clock advance with the audio; cue times assume text
    appears as soon as an utterance ends.
    """
    audio = {}
    for side, channel in channels.items():
        samples, rate = read_channel(channel)
        audio[side] = resample_to_16k(samples, rate)
    settings = replace(settings or setup.live_settings(), hold_stretches=True)
    live = LiveTranscriber(setup.engine, settings)
    stages = setup.stages()
    collector = Collector()
    deliver = [collector, *listeners]

    def emit(events: list[Event]) -> None:
        for event in events:
            for listener in deliver:
                listener(event)

    block = SAMPLE_RATE  # one second per side per step keeps both sides' levels in step
    length = max(len(a) for a in audio.values())
    for offset in range(0, length, block):
        for side in Side:
            live.feed(side, audio[side][offset : offset + block])
        emit(stages.process(live.step(allow_interim=False)))
        # the coach's clock waits for lines still held, so a cue is timed at its line's end
        emit(stages.tick(min(min(offset + block, length) / SAMPLE_RATE, live.settled_until)))
    live.finish()
    emit(stages.process(live.drain()))
    emit(stages.tick(length / SAMPLE_RATE))
    return collector.result(setup, length / SAMPLE_RATE, "offline")


def analyze_realtime(
    channels: dict[Side, FileChannel],
    setup: CallSetup,
    pace: float = 1.0,
    listeners: Sequence[Listener] = (),
    settings: LiveSettings | None = None,
) -> CallResult:
    """Replay the call at ``pace`` × real time through the live path (sources, buffers,
    resampling, VAD, streaming decode, mood, coach) and record each segment's latency."""
    sources = replay_sources(channels, pace)
    collector = Collector()
    session: CallSession = setup.session(sources, [collector, *listeners], pace, live=settings)
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
    return collector.result(setup, duration, "realtime", capture=capture)
