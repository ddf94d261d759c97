"""What the live path produces: plain data, safe to pass between threads."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from audio.sides import Side


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


Event = Committed | Revised | Partial | Discarded | Degraded | InputLost | InputRestored

# A stage of the call pipeline after transcription (sentiment, coach): takes the events of
# one step and returns them, possibly changed, with its own events added.
Stage = Callable[[list[Any]], list[Any]]

log = logging.getLogger(__name__)


def run_stages(stages: Sequence[Stage], events: list[Any]) -> list[Any]:
    """Pass ``events`` through each stage; a stage that fails is skipped for this step
    (the call goes on with what still works), logged, and reported as :class:`Degraded`."""
    for stage in stages:
        try:
            events = stage(events)
        except Exception as exc:
            log.exception("pipeline stage %r failed; its output is missing for this step", stage)
            component = getattr(stage, "component", type(stage).__name__)
            message = f"{component} failed ({exc}); it is missing for this part of the call"
            events = [*events, Degraded(component, message)]
    return events


@dataclass
class CallTranscript:
    segments: list[Segment] = field(default_factory=list)

    def add(self, segment: Segment) -> None:
        self.segments.append(segment)
