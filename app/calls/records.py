"""A stored call as plain data: what the store returns and every export is made from.

Times inside a call (``t``, ``start``, ``end``) are seconds from the call's start; wall-clock
times are timezone-aware datetimes. Text here is already redacted (see ``app.privacy.redact``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from app import __version__
from app.calls.talk import TalkTime, talk_time
from app.events import Summary

CALL_STATUSES = ("live", "ended", "interrupted", "recovered")


@dataclass(frozen=True)
class CallInfo:
    uid: str  # stable across machines and syncs (issue 7): a UUID4 string
    started_at: datetime
    ended_at: datetime | None = None
    agent: str = ""
    client_name: str = ""
    client_contact: str = ""  # e-mail address (or phone) for the follow-up
    ticket_id: str = ""
    source: str = "live"  # "live" | "replay" | "analyze"
    status: str = "live"  # see CALL_STATUSES
    devices: dict[str, str] = field(default_factory=dict)  # side → device or file
    model: dict[str, Any] = field(default_factory=dict)  # speech-to-text and sentiment models
    subject: str = ""  # what the call was about, one line (the ticket's subject)
    audio_dir: str | None = None  # the kept audio (agent.flac, client.flac), if any


@dataclass(frozen=True)
class SegmentRecord:
    seq: int  # the segment id within the call
    speaker: str  # "agent" | "client"
    start: float
    end: float
    text: str
    latency_s: float | None = None
    sentiment: dict[str, Any] | None = None  # {"label", "scores": {...}} for client lines


@dataclass(frozen=True)
class CueRecord:
    t: float
    kind: str
    message: str
    phrases: tuple[str, ...] = ()
    segment_seq: int | None = None
    dismissed_t: float | None = None  # when the agent dismissed it, if they did


@dataclass(frozen=True)
class FlagRecord:
    t: float
    kind: str  # "abusive_language" | "manager_request" | "sustained_negative"
    excerpt: str
    segment_seq: int | None = None


@dataclass(frozen=True)
class IncidentRecord:
    t: float
    text: str
    excerpt: str
    segment_seq: int | None = None


@dataclass(frozen=True)
class MoodPoint:
    t: float
    value: float  # -1 … +1
    trend: str  # "rising" | "steady" | "falling"


@dataclass(frozen=True)
class ExportRecord:
    target: str  # "markdown" | "json" | "email" | "rt" | "webhook"
    status: str  # "done" | "pending" (in the outbox) | "failed"
    created_at: datetime
    result: str = ""  # a file path, a ticket URL, …
    attempts: int = 0
    last_error: str = ""


@dataclass(frozen=True)
class CallRecord:
    info: CallInfo
    segments: tuple[SegmentRecord, ...] = ()
    cues: tuple[CueRecord, ...] = ()
    flags: tuple[FlagRecord, ...] = ()
    incidents: tuple[IncidentRecord, ...] = ()
    mood: tuple[MoodPoint, ...] = ()
    notes: str = ""  # the agent's notes, latest version
    checklist: dict[str, bool] = field(default_factory=dict)  # item → done
    exports: tuple[ExportRecord, ...] = ()
    id: int | None = None  # the local database id
    summary: Summary | None = None  # the drafted ticket note, as the agent kept it

    @property
    def duration_s(self) -> float:
        if self.info.ended_at is not None:
            return max(0.0, (self.info.ended_at - self.info.started_at).total_seconds())
        return max((s.end for s in self.segments), default=0.0)

    @property
    def worst_mood(self) -> float | None:
        return min((m.value for m in self.mood), default=None)

    @property
    def talk(self) -> TalkTime:
        """Talk time and overtalk per side, from the stored lines' times."""
        return talk_time((s.speaker, s.start, s.end) for s in self.segments)

    def to_json(self) -> dict[str, Any]:
        """The whole record; the segment, mood, cue and flag entries keep the shape of
        ``calmline analyze`` JSON."""
        info = self.info
        return {
            "calmline": __version__,
            "id": self.id,
            "uid": info.uid,
            "started_at": info.started_at.isoformat(),
            "ended_at": info.ended_at.isoformat() if info.ended_at else None,
            "duration_s": round(self.duration_s, 2),
            "status": info.status,
            "source": info.source,
            "agent": info.agent,
            "client": {"name": info.client_name, "contact": info.client_contact},
            "ticket_id": info.ticket_id,
            "subject": info.subject,
            "devices": info.devices,
            "model": info.model,
            "audio_dir": info.audio_dir,
            "segments": [
                {
                    "id": s.seq,
                    "speaker": s.speaker,
                    "start": round(s.start, 2),
                    "end": round(s.end, 2),
                    "text": s.text,
                    **({"latency_s": round(s.latency_s, 3)} if s.latency_s is not None else {}),
                    "sentiment": s.sentiment,
                }
                for s in self.segments
            ],
            "mood": [
                {"t": round(m.t, 2), "value": round(m.value, 3), "trend": m.trend}
                for m in self.mood
            ],
            "cues": [
                {
                    "t": round(c.t, 2),
                    "kind": c.kind,
                    "message": c.message,
                    "phrases": list(c.phrases),
                    "segment_id": c.segment_seq,
                    "dismissed_t": None if c.dismissed_t is None else round(c.dismissed_t, 2),
                }
                for c in self.cues
            ],
            "flags": [
                {
                    "t": round(f.t, 2),
                    "kind": f.kind,
                    "excerpt": f.excerpt,
                    "segment_id": f.segment_seq,
                }
                for f in self.flags
            ],
            "incidents": [
                {
                    "t": round(i.t, 2),
                    "text": i.text,
                    "excerpt": i.excerpt,
                    "segment_id": i.segment_seq,
                }
                for i in self.incidents
            ],
            "summary": self.summary.to_json() if self.summary is not None else None,
            "talk": self.talk.to_json(),
            "notes": self.notes,
            "checklist": dict(self.checklist),
            "exports": [
                {
                    "target": e.target,
                    "status": e.status,
                    "created_at": e.created_at.isoformat(),
                    "result": e.result,
                    "attempts": e.attempts,
                    "last_error": e.last_error,
                }
                for e in self.exports
            ],
        }
