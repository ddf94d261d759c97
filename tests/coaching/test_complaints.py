"""Complaints read as negative: the playbook's complaint phrases over the sentiment model."""

from __future__ import annotations

import pytest

from app.coaching.mood import COMPLAINT_NEGATIVE, ClientMood, complaint_style
from app.coaching.playbook import load_playbook
from app.coaching.wording import PhraseList
from app.events import Committed, MoodUpdate, Segment
from app.tooling.complaint_eval import (
    load_callcentre_lines,
    load_complaint_lines,
    macro_recall,
    score_set,
)
from audio.sides import Side

NEUTRAL = {"label": "neutral", "scores": {"negative": 0.1, "neutral": 0.83, "positive": 0.07}}


def phrases() -> PhraseList:
    return PhraseList(load_playbook().lexicon["complaint"])


@pytest.mark.parametrize(
    "line",
    [
        "I have explained this three times already.",
        "You keep telling me it is fixed and it is not fixed.",
        "I've been on hold for forty minutes and nobody can tell me anything.",
        "You people never listen to what I'm saying.",
    ],
)
def test_the_issues_complaints_read_negative(line):
    adjusted = complaint_style(NEUTRAL, line, phrases())
    assert adjusted["label"] == "negative" and adjusted["complaint"]
    assert adjusted["scores"]["negative"] == COMPLAINT_NEGATIVE
    assert sum(adjusted["scores"].values()) == pytest.approx(1.0)


def test_a_sure_positive_or_a_plain_line_is_left_alone():
    happy = {"label": "positive", "scores": {"negative": 0.02, "neutral": 0.2, "positive": 0.78}}
    line = "I thought I'd be on hold for ages, but you picked up straight away, thank you."
    assert complaint_style(happy, line, phrases()) == happy
    assert complaint_style(NEUTRAL, "It's the third floor printer.", phrases()) == NEUTRAL


class Neutral:
    def classify(self, texts):
        return [type("S", (), {"to_json": lambda self: dict(NEUTRAL)})() for _ in texts]


def test_the_mood_falls_on_a_complaint():
    stage = ClientMood(Neutral(), complaints=load_playbook().lexicon["complaint"])
    line = Segment(1, Side.CLIENT, 0.0, 3.0, "This is the second time I've been promised a call.")
    out = stage([Committed(line)])
    assert out[0].segment.sentiment["label"] == "negative"
    assert next(e for e in out if isinstance(e, MoodUpdate)).value < 0


@pytest.mark.slow
def test_the_complaint_set_and_the_call_centre_lines(sentiment_model):
    """Measured (README, "Client sentiment"): on the held-out complaint-style lines negative
    recall 0.25 with the model alone and 0.36 with the phrases; neutral and positive
    unchanged on both sets. Floors leave room for a retrained model to move a line or two."""
    playbook = load_playbook()
    complaints = score_set("complaints", load_complaint_lines(), sentiment_model, playbook)
    assert complaints.lines == 108
    right, of = complaints.after["negative"]
    assert right / of >= 0.33
    assert complaints.after["neutral"] == complaints.before["neutral"]
    assert complaints.after["positive"] == complaints.before["positive"]
    calls = score_set("call-centre", load_callcentre_lines(), sentiment_model, playbook)
    assert macro_recall(calls.after) >= macro_recall(calls.before)
