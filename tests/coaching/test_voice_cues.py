"""Coaching from the voice: `raised_voice` (the agent's level against their own earlier in the
call) and `interrupting` (talking over an upset client, not a backchannel)."""

from __future__ import annotations

from app.coaching.coach import Coach
from app.coaching.playbook import load_playbook
from app.events import Committed, Cue, MoodUpdate, Segment, Trend
from audio.sides import Side

NEGATIVE = {"label": "negative", "scores": {"negative": 0.9, "neutral": 0.08, "positive": 0.02}}
CALM = {"label": "neutral", "scores": {"negative": 0.1, "neutral": 0.8, "positive": 0.1}}


def agent(n: int, start: float, level: float, text: str = "Let me look at the settings now.",
          end: float | None = None) -> Segment:  # fmt: skip
    return Segment(n, Side.AGENT, start, end or start + 2.0, text, level_db=level)


def kinds(coach: Coach, *events) -> list[str]:
    out = []
    for event in events:
        out += [e.kind for e in coach([event]) if isinstance(e, Cue)]
    return out


def test_a_voice_raised_over_two_lines_gets_the_cue():
    coach = Coach(load_playbook())
    ordinary = [Committed(agent(n, 10.0 + 4 * n, -30.0 + (n % 2))) for n in range(1, 5)]
    loud = [Committed(agent(10 + n, 40.0 + 4 * n, -22.0)) for n in range(2)]
    assert kinds(coach, *ordinary, *loud) == ["raised_voice"]


def test_one_loud_line_a_settling_gain_and_a_loud_client_are_not_a_raised_voice():
    coach = Coach(load_playbook())
    settling = [Committed(agent(n, 1.0 + 2 * n, -15.0)) for n in range(3)]  # first seconds
    ordinary = [Committed(agent(10 + n, 10.0 + 4 * n, -30.0)) for n in range(4)]
    client = [Committed(Segment(20 + n, Side.CLIENT, 30.0 + 3 * n, 32.0 + 3 * n, "Listen!",
                                sentiment=CALM, level_db=-5.0)) for n in range(3)]  # fmt: skip
    one_loud = [Committed(agent(30, 42.0, -21.0)), Committed(agent(31, 46.0, -30.5))]
    assert kinds(coach, *settling, *ordinary, *client, *one_loud) == []


def client_line(n: int, start: float, end: float, sentiment=NEGATIVE) -> Segment:
    text = "It has crashed three times today and I keep losing my work"
    return Segment(n, Side.CLIENT, start, end, text, sentiment=sentiment)


def test_talking_over_an_upset_client_gets_the_cue():
    coach = Coach(load_playbook())
    events = [
        Committed(client_line(1, 10.0, 16.0)),
        MoodUpdate(16.0, -0.5, Trend.FALLING, 1),
        Committed(agent(2, 13.0, -30.0, "No, wait, that's not how it works, listen.", 15.5)),
    ]
    assert kinds(coach, *events) == ["interrupting"]


def test_the_agent_speaking_first_and_the_client_talking_over_is_found_at_the_client_line():
    coach = Coach(load_playbook())
    coach([Committed(agent(1, 12.0, -30.0, "Let me explain what we will do next here.", 15.0))])
    events = [Committed(client_line(2, 10.0, 18.0))]
    assert "interrupting" in kinds(coach, *events)


def test_the_client_line_talked_over_need_not_be_the_clients_last_line():
    """Live, the client's next short line ("It's outrageous.") can commit before the agent's
    overlapping line does."""
    coach = Coach(load_playbook())
    events = [
        Committed(client_line(1, 35.0, 41.7)),
        MoodUpdate(41.7, -0.2, Trend.FALLING, 1),
        Committed(Segment(2, Side.CLIENT, 41.9, 42.8, "It's outrageous.", sentiment=CALM)),
        Committed(agent(3, 39.8, -30.0, "I hear you, it's charged by the megabyte.", 44.9)),
    ]
    assert kinds(coach, *events) == ["interrupting"]


def test_backchannels_a_calm_client_and_turn_taking_are_not_interrupting():
    for line, sentiment in (
        (agent(2, 13.0, -30.0, "Mm-hm, okay.", 14.5), NEGATIVE),  # a backchannel
        (agent(2, 13.0, -30.0, "Sorry, I see, go on.", 13.6), NEGATIVE),  # too short
        (agent(2, 13.0, -30.0, "Could you read me the error message?", 15.5), CALM),
        (agent(2, 16.5, -30.0, "I see, let me check that for you now.", 19.0), NEGATIVE),
        (agent(2, 13.0, -30.0, "No problem, no problem.", 14.4), NEGATIVE),  # reassurance
        (
            agent(2, 13.0, -30.0, "Which model is it, do you know the year?", 15.5),
            {"label": "negative", "scores": {"negative": 0.5, "neutral": 0.34, "positive": 0.16}},
        ),
    ):
        coach = Coach(load_playbook())
        events = [Committed(client_line(1, 10.0, 16.0, sentiment)), Committed(line)]
        assert kinds(coach, *events) == [], line.text
