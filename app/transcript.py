"""What the live path produces: plain data, safe to pass between threads."""

from __future__ import annotations

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
        return data


@dataclass(frozen=True)
class Committed:
    segment: Segment


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


Event = Committed | Partial | Discarded


@dataclass
class CallTranscript:
    segments: list[Segment] = field(default_factory=list)

    def add(self, segment: Segment) -> None:
        self.segments.append(segment)
