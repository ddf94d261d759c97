"""`no_without_reason`: a refusal needs a reason or an alternative, in its line or the next."""

from __future__ import annotations

import glob
import json
from pathlib import Path

import pytest

from app.coaching.coach import Coach
from app.coaching.playbook import load_playbook
from app.events import Committed, Cue, Partial, Segment, SpeechStarted
from app.pipeline.call import CallSetup
from app.pipeline.textcall import Turn, coach_transcript, load_turns
from audio.sides import Side

REPO = Path(__file__).resolve().parents[2]


def cues(*lines: str) -> list[tuple[str, str]]:
    turns = [Turn(Side.AGENT if who == "A" else Side.CLIENT, text)
             for who, _, text in (line.partition(": ") for line in lines)]  # fmt: skip
    result = coach_transcript(turns, CallSetup(None, None, load_playbook()))
    by_id = {s.id: s.text for s in result.segments}
    return [(c.kind, by_id[c.segment_id]) for c in result.cues if c.kind == "no_without_reason"]


@pytest.mark.parametrize(
    "refusal",
    ["No, we can't do that.", "That's not possible.", "I'm not able to extend it.",
     "I can't give you a refund.", "I cannot extend the deadline.",
     "We don't really do exchanges on sale items."],
)  # fmt: skip
def test_a_bare_refusal_gets_the_cue(refusal):
    found = cues(
        "C: Can you extend my licence to next year?", f"A: {refusal}", "C: Oh.", "A: Sorry."
    )
    assert found == [("no_without_reason", refusal)]


@pytest.mark.parametrize(
    "next_line",
    ["I'm sorry, I know it's a stressful time for you.", "Let me look at the software list.",
     "Is there anything else on the account I can help with today?", "Okay."],
    ids=["sympathy", "a-hold", "moving-on", "okay"],
)  # fmt: skip
def test_sympathy_a_hold_or_moving_on_is_no_reason(next_line):
    found = cues("C: Can I have another week?", "A: That's not possible.", f"A: {next_line}")
    assert found == [("no_without_reason", "That's not possible.")]


@pytest.mark.parametrize(
    "line",
    ["I can't see your account on my screen yet.", "I can't hear you very well.",
     "We don't have any outage reported.", "You can't change it yourself, I'll do it."],
)  # fmt: skip
def test_saying_cannot_is_not_always_a_refusal(line):
    assert cues("C: Hello?", f"A: {line}", "C: Okay.", "A: Sorry.") == []


@pytest.mark.parametrize(
    "lines",
    [
        ("A: We can't do that, because licences are bought by your department.",),
        ("A: That's not possible.", "A: Licences come from your department's budget."),
        ("A: I'm not able to extend it, but I can send your manager the request form.",),
        ("A: No, we can't do that.", "A: What I can do is put you on the waiting list."),
    ],
    ids=["reason-same-line", "reason-next-line", "alternative-same-line", "alternative-next"],
)
def test_a_reason_or_an_alternative_settles_it(lines):
    assert cues("C: Can you extend my licence to next year?", *lines, "C: Okay.") == []


def test_the_cue_waits_while_the_agent_is_still_speaking():
    coach = Coach(load_playbook())
    refusal = Segment(1, Side.AGENT, 1.0, 2.0, "That's not possible.")
    coach([Committed(refusal)])
    coach([Partial(Side.AGENT, 3.2, "licences come from")])
    assert [e for e in coach.tick(4.5) if getattr(e, "kind", "") == "no_without_reason"] == []
    reason = Segment(2, Side.AGENT, 3.2, 6.0, "Licences come from your department's budget.")
    coach([Committed(reason)])
    assert [c.kind for c in coach.cues] == []
    coach([Committed(Segment(3, Side.AGENT, 7.0, 8.0, "That's not possible."))])
    assert coach.tick(9.1) == []  # a pause is not the end of the agent's turn
    raised = [e for e in coach.tick(10.1) if getattr(e, "kind", "") == "no_without_reason"]
    assert len(raised) == 1 and raised[0].t == pytest.approx(10.1)  # 2 s of silence


def test_the_agents_next_line_decides_even_after_the_client_spoke():
    coach = Coach(load_playbook())
    coach([Committed(Segment(1, Side.AGENT, 1.0, 2.0, "No, we can't do that."))])
    coach([SpeechStarted(Side.AGENT, 1.2)])  # the refusal line's own start: not news
    coach([SpeechStarted(Side.CLIENT, 2.9)])
    coach([Committed(Segment(2, Side.CLIENT, 2.9, 3.6, "Why not?"))])
    assert coach.tick(9.0) == []  # the client asked: the agent gets to answer
    coach([Committed(Segment(3, Side.AGENT, 4.0, 7.0, "Licences are bought by your department."))])
    assert coach.cues == []

    coach = Coach(load_playbook())
    coach([Committed(Segment(1, Side.AGENT, 1.0, 2.0, "That's not possible."))])
    coach([SpeechStarted(Side.CLIENT, 2.5)])
    coach([Committed(Segment(2, Side.CLIENT, 2.5, 3.6, "Oh. Why not?"))])
    out = coach([Committed(Segment(3, Side.AGENT, 4.0, 5.0, "I'm sorry."))])
    assert [e.kind for e in out if isinstance(e, Cue)] == ["no_without_reason"]
    assert out[-1].t == pytest.approx(5.0)


def _expects_a_bare_no(script: str) -> bool:
    expected = Path(script).with_suffix(".expected.json")
    if not expected.exists():
        return False
    return any(e["kind"] == "no_without_reason" for e in json.loads(expected.read_text())["expect"])


def test_the_cue_only_where_the_agent_says_a_bare_no():
    scripts = sorted(glob.glob(str(REPO / "resources" / "scenarios" / "*.txt")))
    scripts += sorted(glob.glob(str(REPO / "resources" / "summary_calls" / "*.txt")))
    scripts.append(str(REPO / "resources" / "demo" / "demo_call.txt"))
    playbook = load_playbook()
    for script in scripts:
        result = coach_transcript(load_turns(Path(script)), CallSetup(None, None, playbook))
        found = [c for c in result.cues if c.kind == "no_without_reason"]
        assert bool(found) == _expects_a_bare_no(script), script


def test_a_refusal_that_arrives_after_the_client_began_gets_no_silence_cue():
    """Offline a line is committed when its stretch is over: the client's voice can come
    first in the event stream, and then the refusal was not followed by silence."""
    coach = Coach(load_playbook())
    coach([SpeechStarted(Side.CLIENT, 3.0)])
    out = coach([Committed(Segment(1, Side.AGENT, 1.0, 2.0, "No, we can't do that."))])
    assert [e for e in out if isinstance(e, Cue)] == [] and coach.tick(10.0) == []
