"""The client's mood over the call: each client utterance scored for sentiment, smoothed
over recent utterances, decaying towards neutral while the client says nothing new, with
a trend the coach and the window use.

Mood runs from −1 (very negative) to +1 (very positive): an utterance counts as
P(positive) − P(negative).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

from app.coaching.wording import PhraseList, split_words
from app.events import Committed, Event, EventStage, MoodUpdate, Revised, Trend
from audio.sides import Side

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MoodSettings:
    weight: float = 0.45  # how much one new utterance moves the mood (0–1)
    half_life_s: float = 60.0  # silence after which the mood has relaxed halfway to neutral
    trend_window_s: float = 30.0  # the trend compares now with this long ago
    trend_threshold: float = 0.15  # change in mood that counts as rising/falling


class SentimentScorer(Protocol):
    def classify(self, texts: Sequence[str]) -> Sequence[Any]: ...


def utterance_score(scores: dict[str, float]) -> float:
    return float(scores.get("positive", 0.0) - scores.get("negative", 0.0))


class MoodTracker:
    """Exponentially smoothed mood with time decay; pure arithmetic, no threads."""

    def __init__(self, settings: MoodSettings | None = None) -> None:
        self.settings = settings or MoodSettings()
        self._value = 0.0
        self._at: float | None = None
        self.history: list[tuple[float, float]] = []  # (t, value) after each utterance

    def value_at(self, t: float) -> float:
        """The mood at call time ``t`` (decayed since the last utterance)."""
        if self._at is None:
            return 0.0
        elapsed = max(0.0, t - self._at)
        return self._value * 0.5 ** (elapsed / self.settings.half_life_s)

    def add(self, t: float, score: float) -> float:
        before = self.value_at(t)
        self._value = before + self.settings.weight * (score - before)
        self._at = t
        self.history.append((t, self._value))
        return self._value

    def trend(self, t: float) -> Trend:
        """Compare the mood now with the mood ``trend_window_s`` earlier; with nothing said
        in that window the trend is steady (relaxing towards neutral is not a change)."""
        earlier_t = t - self.settings.trend_window_s
        if not self.history or self.history[-1][0] <= earlier_t:
            return Trend.STEADY
        earlier = 0.0
        for when, value in self.history:
            if when > earlier_t:
                break
            earlier = value * 0.5 ** ((earlier_t - when) / self.settings.half_life_s)
        change = self.value_at(t) - earlier
        if change >= self.settings.trend_threshold:
            return Trend.RISING
        if change <= -self.settings.trend_threshold:
            return Trend.FALLING
        return Trend.STEADY


COMPLAINT_NEGATIVE = 0.75  # P(negative) of a line that sounds like a complaint, at least
COMPLAINT_POSITIVE_KEEPS = 0.6  # …unless the model is this sure the line is positive


def complaint_style(sentiment: dict[str, Any], text: str, complaints: PhraseList) -> dict[str, Any]:
    """A sentiment model trained on tweets reads "I have explained this three times
    already" as neutral; on a support line it is a complaint. A client line with one of the
    playbook's complaint phrases counts as negative (the phrase is kept as ``complaint``),
    unless the model is sure it is positive ("I was worried I'd wait for ages, but…")."""
    if not complaints.phrases:
        return sentiment
    scores = dict(sentiment.get("scores", {}))
    if scores.get("positive", 0.0) >= COMPLAINT_POSITIVE_KEEPS:
        return sentiment
    found = complaints.find(split_words(text))
    if not found:
        return sentiment
    negative = max(scores.get("negative", 0.0), COMPLAINT_NEGATIVE)
    rest = sum(v for k, v in scores.items() if k != "negative")
    scale = (1.0 - negative) / rest if rest > 0 else 0.0
    adjusted = {k: (negative if k == "negative" else v * scale) for k, v in scores.items()}
    adjusted.setdefault("negative", negative)
    return {**sentiment, "label": "negative", "scores": adjusted, "complaint": found[0].phrase}


class ClientMood(EventStage):
    """A pipeline stage: scores each committed client segment and follows it with a
    :class:`MoodUpdate`. Agent segments pass through unscored."""

    component = "client mood"

    def __init__(
        self,
        scorer: SentimentScorer,
        settings: MoodSettings | None = None,
        complaints: Sequence[str] = (),
    ) -> None:
        self._scorer = scorer
        self.tracker = MoodTracker(settings)
        self._complaints = PhraseList(complaints)

    def __call__(self, events: list[Event]) -> list[Any]:
        out: list[Any] = []
        for event in events:
            if not (isinstance(event, Committed) and event.segment.speaker is Side.CLIENT):
                out.append(event)
                continue
            segment = event.segment
            try:
                sentiment = self._scorer.classify([segment.text])[0].to_json()
                sentiment = complaint_style(sentiment, segment.text, self._complaints)
            except Exception:  # a failing model degrades the call, never stops it
                log.exception("sentiment scoring failed for segment %s", segment.id)
                out.append(event)
                continue
            out.append(replace(event, segment=replace(segment, sentiment=sentiment)))
            if isinstance(event, Revised):  # the line is re-scored; the mood moved already
                continue
            value = self.tracker.add(segment.end, utterance_score(sentiment["scores"]))
            out.append(MoodUpdate(segment.end, value, self.tracker.trend(segment.end), segment.id))
        return out
