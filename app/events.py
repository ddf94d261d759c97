"""What the live path produces: plain data, safe to pass between threads."""

from __future__ import annotations

import typing
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from audio.sides import Side


def clock(seconds: float) -> str:
    """Call time as the agent reads it: ``mm:ss`` from the call's start."""
    minutes, secs = divmod(int(max(seconds, 0)), 60)
    return f"{minutes:02d}:{secs:02d}"


@dataclass
class Segment:
    """A committed piece of one speaker's speech, in call time (seconds from call start)."""

    id: int
    speaker: Side
    start: float
    end: float
    text: str
    latency_s: float | None = None
    sentiment: dict[str, Any] | None = None
    revised: bool = False  # decoded again over a longer stretch (see Revised)
    level_db: float | None = None  # the speaker's speech level in this line (dBFS, own channel)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id,
            "speaker": self.speaker.value,
            "start": round(self.start, 2),
            "end": round(self.end, 2),
            "text": self.text,
        }
        if self.latency_s is not None:
            data["latency_s"] = round(self.latency_s, 3)
        data["sentiment"] = self.sentiment
        if self.level_db is not None:
            data["level_db"] = round(self.level_db, 1)
        if self.revised:
            data["revised"] = True
        return data


@dataclass(frozen=True)
class Committed:
    segment: Segment


@dataclass(frozen=True)
class Revised(Committed):
    """A committed line decoded again with more of the speaker's speech: they went on after
    a short pause, and the whole stretch decodes better than its pieces. ``segment`` (with
    the id of the first line) replaces the lines ``replaces``; the other ids are gone.

    A subclass of :class:`Committed`, so stages that change a line's text (redaction,
    sentiment) treat a revision exactly like a first commit; consumers that keep lines
    replace instead of adding (``isinstance(event, Revised)`` first)."""

    replaces: tuple[int, ...] = ()


@dataclass(frozen=True)
class Partial:
    """Interim text for what ``speaker`` is saying now; empty text clears it."""

    speaker: Side
    start: float
    text: str


@dataclass(frozen=True)
class SpeechStarted:
    """``speaker``'s own voice began at ``t`` (voice activity, before any text): the coach
    knows who holds the turn a second before the first interim text could say so."""

    speaker: Side
    t: float


@dataclass(frozen=True)
class Discarded:
    """An utterance that produced no text (crosstalk from the other side, or noise)."""

    speaker: Side
    start: float
    end: float
    reason: str


@dataclass(frozen=True)
class Degraded:
    """Part of the call's processing failed; the call goes on with what still works."""

    component: str  # "speech-to-text", "client mood", "coaching", …
    message: str  # what happened and what it means for the agent


@dataclass(frozen=True)
class InputLost:
    """A live input stopped delivering (unplugged, removed by the sound server). Its side
    gets silence until the device is back; the other side goes on."""

    speaker: Side
    t: float  # call time
    device: str
    reason: str

    @property
    def message(self) -> str:
        what = "Client line" if self.speaker is Side.CLIENT else "Your microphone"
        other = "Your side" if self.speaker is Side.CLIENT else "The client's side"
        return (
            f"{what} lost — {self.reason} ({self.device}). Check the headset or cable, or the "
            f"softphone's audio output; Calmline reconnects by itself. {other} keeps "
            "transcribing."
        )


@dataclass(frozen=True)
class InputRestored:
    """A lost input delivers again."""

    speaker: Side
    t: float
    device: str
    after_s: float  # how long it was away

    @property
    def message(self) -> str:
        what = "Client line" if self.speaker is Side.CLIENT else "Your microphone"
        return f"{what} back after {self.after_s:.0f} s ({self.device})."


# -- the client's mood ------------------------------------------------------------------
class Trend(StrEnum):
    RISING = "rising"
    STEADY = "steady"
    FALLING = "falling"


@dataclass(frozen=True)
class MoodUpdate:
    """The client's mood after a client utterance, at call time ``t``."""

    t: float
    value: float
    trend: Trend
    segment_id: int

    def to_json(self) -> dict[str, Any]:
        return {"t": round(self.t, 2), "value": round(self.value, 3), "trend": self.trend.value}


# -- the coach ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Cue:
    t: float  # call time when the cue appears
    kind: str
    message: str
    phrases: tuple[str, ...]
    segment_id: int | None
    practice: str = ""
    priority: int = 0
    expires_at: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "t": round(self.t, 2),
            "kind": self.kind,
            "message": self.message,
            "phrases": list(self.phrases),
            "segment_id": self.segment_id,
        }


@dataclass(frozen=True)
class CueCleared:
    """The cue in front went away: expired, dismissed by the agent, or replaced."""

    t: float
    kind: str
    reason: str  # "expired" | "dismissed" | "replaced"


@dataclass(frozen=True)
class Flag:
    t: float
    kind: str  # "abusive_language" | "manager_request" | "sustained_negative"
    excerpt: str
    segment_id: int | None

    def to_json(self) -> dict[str, Any]:
        return {
            "t": round(self.t, 2),
            "kind": self.kind,
            "excerpt": self.excerpt,
            "segment_id": self.segment_id,
        }


@dataclass(frozen=True)
class IncidentNote:
    """A timestamped note for the notes pane, with the exact words said."""

    t: float
    text: str
    excerpt: str
    segment_id: int | None

    def to_json(self) -> dict[str, Any]:
        return {
            "t": round(self.t, 2),
            "text": self.text,
            "excerpt": self.excerpt,
            "segment_id": self.segment_id,
        }


# What an agent does on a good call (the seeds' practices), ticked by the coach or the agent.
CHECKLIST = ("listened", "acknowledged", "next_step", "kept_informed", "follow_up")
CHECKLIST_LABELS = {
    "listened": "Listened to the whole problem",
    "acknowledged": "Acknowledged how they feel",
    "next_step": "Explained the next step",
    "kept_informed": "Kept them informed",
    "follow_up": "Planned the follow-up",
}


@dataclass(frozen=True)
class ChecklistTick:
    """The coach heard the agent do one of the checklist items (see ``CHECKLIST``)."""

    t: float
    item: str
    segment_id: int | None


# -- the drafted ticket note (app.summary drafts it) -----------------------------------------
SUMMARY_SECTIONS = ("reason", "cause", "steps", "follow_up")
SUMMARY_TITLES = {
    "reason": "Reason for the call",
    "cause": "Found",
    "steps": "Steps",
    "outcome": "Outcome",
    "follow_up": "Follow-up",
}
OUTCOMES = ("resolved", "unresolved", "escalated", "unknown")
OUTCOME_WORDS = {
    "resolved": "Resolved",
    "unresolved": "Not resolved",
    "escalated": "Escalated",
    "unknown": "Unknown",
}


@dataclass(frozen=True)
class SummaryItem:
    """One line of the note, linked to the transcript line (``segment_id``) it comes from."""

    text: str
    t: float  # call time of that line
    segment_id: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {"text": self.text, "t": round(self.t, 2), "segment_id": self.segment_id}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SummaryItem:
        segment = data.get("segment_id")
        return cls(str(data["text"]), float(data.get("t") or 0.0), _optional_int(segment))


@dataclass(frozen=True)
class Outcome:
    status: str = "unknown"  # one of OUTCOMES
    text: str = ""  # the line that shows it
    segment_id: int | None = None
    t: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "text": self.text,
            "segment_id": self.segment_id,
            "t": None if self.t is None else round(self.t, 2),  # when the line was said
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Outcome:
        status = str(data.get("status") or "unknown")
        if status not in OUTCOMES:
            known = ", ".join(OUTCOMES)
            raise ValueError(f"unknown outcome status {status!r}; use one of {known}")
        t = data.get("t")
        return cls(status, str(data.get("text") or ""), _optional_int(data.get("segment_id")),
                   None if t is None else float(t))  # fmt: skip


@dataclass(frozen=True)
class Summary:
    """Reason, cause, steps, outcome and follow-up of one call."""

    reason: tuple[SummaryItem, ...] = ()
    cause: tuple[SummaryItem, ...] = ()
    steps: tuple[SummaryItem, ...] = ()
    outcome: Outcome = field(default_factory=Outcome)
    follow_up: tuple[SummaryItem, ...] = ()

    def section(self, name: str) -> tuple[SummaryItem, ...]:
        if name not in SUMMARY_SECTIONS:
            known = ", ".join(SUMMARY_SECTIONS)
            raise ValueError(f"unknown section {name!r}; use one of {known}")
        items: tuple[SummaryItem, ...] = getattr(self, name)
        return items

    @property
    def empty(self) -> bool:
        has_items = any(self.section(name) for name in SUMMARY_SECTIONS)
        return not has_items and self.outcome.status == "unknown"

    def to_json(self) -> dict[str, Any]:
        items = {name: [i.to_json() for i in self.section(name)] for name in SUMMARY_SECTIONS}
        return {
            "reason": items["reason"],
            "cause": items["cause"],
            "steps": items["steps"],
            "outcome": self.outcome.to_json(),
            "follow_up": items["follow_up"],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Summary:
        """The inverse of :meth:`to_json`; raises ValueError on a malformed summary."""
        try:
            sections = {
                name: tuple(SummaryItem.from_json(i) for i in data.get(name) or ())
                for name in SUMMARY_SECTIONS
            }
            return cls(**sections, outcome=Outcome.from_json(data.get("outcome") or {}))
        except (KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"not a call summary: {exc}") from exc


def _optional_int(value: Any) -> int | None:
    return None if value is None else int(value)


@dataclass(frozen=True)
class SummaryDraft:
    """The ticket note drafted again from the call so far (see ``app.summary``): the whole
    note each time, so a consumer keeps only the latest."""

    t: float  # call time of the newest line it includes
    summary: Summary


Event = (
    Committed
    | Revised
    | Partial
    | SpeechStarted
    | Discarded
    | Degraded
    | InputLost
    | InputRestored
    | MoodUpdate
    | Cue
    | CueCleared
    | Flag
    | IncidentNote
    | ChecklistTick
    | SummaryDraft
)
"""Everything the pipeline produces. Each consumer dispatches in one ``match`` ending in
``assert_never``, and ``tests/pipeline/test_events.py`` feeds every member to every consumer."""
EVENT_TYPES: tuple[type, ...] = typing.get_args(Event)


class Stage(Protocol):
    """A step of the call after transcription: redaction, client mood, the coach.

    ``__call__`` takes one step's events and returns them, possibly changed, with its own
    added; ``tick`` shows it the call clock (silences, cue expiry); ``dismiss`` is the agent
    dismissing the cue in front. :class:`EventStage` gives the last two to stages that only
    react to events. What happens when a stage fails is the runner's
    (:class:`app.pipeline.stages.StageRunner`)."""

    component: str  # named to the agent when it fails: "client mood", "coaching", …

    def __call__(self, events: list[Event]) -> list[Event]: ...

    def tick(self, now: float) -> list[Event]: ...

    def dismiss(self, now: float) -> list[Event]: ...


class EventStage:
    """Base for a stage that reacts to events only: no clock, nothing to dismiss."""

    component = "stage"

    def tick(self, now: float) -> list[Event]:
        return []

    def dismiss(self, now: float) -> list[Event]:
        return []
