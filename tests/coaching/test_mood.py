"""Client mood: smoothing, decay, trend, and the pipeline stage that scores client lines."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from app.coaching.mood import ClientMood, MoodSettings, MoodTracker
from app.events import Committed, EventStage, MoodUpdate, Partial, Segment, Trend
from app.pipeline.stages import StageRunner
from audio.sides import Side


@dataclass(frozen=True)
class FixedSentiment:
    label: str
    scores: dict[str, float]

    def to_json(self) -> dict:
        return {"label": self.label, "scores": self.scores}


class KeywordScorer:
    """Negative for lines with 'useless', positive for 'thanks', neutral otherwise."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def classify(self, texts):
        self.calls.extend(texts)
        out = []
        for text in texts:
            if "useless" in text:
                out.append(
                    FixedSentiment("negative", {"negative": 0.9, "neutral": 0.08, "positive": 0.02})
                )
            elif "thanks" in text:
                out.append(
                    FixedSentiment("positive", {"negative": 0.02, "neutral": 0.08, "positive": 0.9})
                )
            else:
                out.append(
                    FixedSentiment("neutral", {"negative": 0.1, "neutral": 0.8, "positive": 0.1})
                )
        return out


def committed(segment_id: int, speaker: Side, end: float, text: str) -> Committed:
    return Committed(Segment(segment_id, speaker, end - 2, end, text))


def test_one_utterance_moves_the_mood_part_way():
    tracker = MoodTracker(MoodSettings(weight=0.5))
    assert tracker.add(10, -1.0) == pytest.approx(-0.5)
    assert tracker.add(12, -1.0) < -0.7  # sustained negativity accumulates


def test_mood_decays_towards_neutral_while_the_client_is_quiet():
    tracker = MoodTracker(MoodSettings(weight=1.0, half_life_s=60))
    tracker.add(0, -0.8)
    assert tracker.value_at(60) == pytest.approx(-0.4)
    assert tracker.value_at(600) == pytest.approx(0, abs=0.001)


def test_trend_follows_the_change_over_the_window():
    tracker = MoodTracker(MoodSettings(weight=0.5, trend_window_s=30))
    for t in range(0, 40, 5):
        tracker.add(t, 0.0)
    assert tracker.trend(40) is Trend.STEADY
    for t in range(40, 70, 5):
        tracker.add(t, -0.9)
    assert tracker.trend(70) is Trend.FALLING
    for t in range(70, 95, 5):
        tracker.add(t, 0.9)
    assert tracker.trend(95) is Trend.RISING
    assert tracker.trend(200) is Trend.STEADY  # nothing said for a long while


def test_stage_scores_client_lines_only_and_reports_mood():
    scorer = KeywordScorer()
    stage = ClientMood(scorer)
    events = [
        committed(1, Side.AGENT, 3, "this is useless, said the agent"),
        committed(2, Side.CLIENT, 6, "this is useless"),
        Partial(Side.CLIENT, 6, "and"),
    ]
    out = stage(events)
    assert scorer.calls == ["this is useless"]
    agent, client, mood, partial = out
    assert agent.segment.sentiment is None
    assert client.segment.sentiment["label"] == "negative"
    assert isinstance(mood, MoodUpdate) and mood.value < 0 and mood.segment_id == 2
    assert mood.to_json()["t"] == 6
    assert partial == events[2]


class Failing(EventStage):
    def __call__(self, events):
        return 1 / 0


def test_a_failing_model_leaves_the_text_flowing():
    class Broken:
        def classify(self, texts):
            raise RuntimeError("onnxruntime fell over")

    events = [committed(1, Side.CLIENT, 4, "hello")]
    out = StageRunner([ClientMood(Broken())]).process(events)
    assert out == events
    out = StageRunner([Failing(), ClientMood(KeywordScorer())]).process(events)
    assert out[0].segment.sentiment["label"] == "neutral"
