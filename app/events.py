"""What the live path produces: plain data, safe to pass between threads."""

from __future__ import annotations

import typing
from dataclasses import dataclass
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


Event = (
    Committed
    | Revised
    | Partial
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
