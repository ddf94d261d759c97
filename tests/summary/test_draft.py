"""Drafting the ticket note from a call's lines: sections, outcome, links, redaction."""

from __future__ import annotations

import json

import pytest

from app.events import Committed, Revised, Segment, Summary, SummaryDraft, SummaryItem
from app.paths import DEMO_CALL
from app.pipeline.call import CallSetup
from app.pipeline.textcall import Turn, coach_transcript, load_turns, timed_segments
from app.summary.draft import condense, draft_summary, problem_statement, read_sentence
from app.summary.stage import SummaryStage
from audio.sides import Side


def script(*lines: str) -> list[Turn]:
    turns = []
    for line in lines:
        who, _, text = line.partition(": ")
        turns.append(Turn(Side.AGENT if who == "A" else Side.CLIENT, text))
    return turns


def note(*lines: str) -> Summary:
    return draft_summary(timed_segments(script(*lines)))


def texts(items: tuple[SummaryItem, ...]) -> str:
    return " | ".join(i.text for i in items).lower()


def test_the_demo_call_drafts_what_it_was_about():
    segments = timed_segments(load_turns(DEMO_CALL.with_suffix(".txt")))
    summary = draft_summary(segments)
    assert "vpn keeps dropping" in texts(summary.reason)
    assert "email won't load" in texts(summary.reason)
    assert "deadline" not in texts(summary.reason)  # context, not the problem
    assert "damn" not in texts(summary.reason) and "idiot" not in texts(summary.reason)
    assert "password expired" in texts(summary.cause)
    steps = texts(summary.steps)
    assert "password page" in steps and "restart the vpn" in steps
    assert summary.outcome.status == "resolved"
    assert "messages are coming in" in summary.outcome.text.lower()
    assert "follow up email" in texts(summary.follow_up)
    by_id = {s.id: s for s in segments}
    for item in (*summary.reason, *summary.cause, *summary.steps, *summary.follow_up):
        line = by_id[item.segment_id]  # every item links to the line it comes from
        assert item.t == line.start
        assert item.text.rstrip(".!?").split()[-1].lower() in line.text.lower()


@pytest.mark.parametrize(
    ("lines", "status", "shown_by"),
    [
        (
            ("C: My printer says offline.", "A: Turn it off and on again.",
             "C: It's printing now, thanks."),
            "resolved", "printing now",
        ),
        (
            ("C: Outlook won't open.", "A: Restart the laptop, please.",
             "C: Still the same error.", "A: I'll keep looking into it and call you back."),
            "unresolved", "keep looking",
        ),
        (
            ("C: I can't reach the staff portal over the VPN.", "A: Restart the VPN client.",
             "C: No luck, it still fails.",
             "A: I'm passing this to our network team, they'll call you tomorrow.",
             "C: Fine, thanks."),
            "escalated", "network team",
        ),
        (
            ("C: The scanner won't send.", "A: Unplug it and plug it back in.",
             "C: Okay, that did it, it works now.",
             "A: If it happens again, we'll escalate it to second line."),
            "resolved", "that did it",
        ),
        (
            ("C: My laptop is really slow.", "A: Close the browser tabs you don't need.",
             "C: It still doesn't work.", "A: Try the restart button.", "C: Oh, that worked!"),
            "resolved", "that worked",
        ),
        (("C: Hello, I have a question about my account.", "A: Sure, go ahead."), "unknown", ""),
    ],
    ids=["resolved", "unresolved", "escalated", "if-escalation", "second-try", "unknown"],
)  # fmt: skip
def test_the_outcome_is_the_last_decisive_line(lines, status, shown_by):
    outcome = note(*lines).outcome
    assert outcome.status == status
    assert shown_by in outcome.text.lower()
    assert (outcome.segment_id is None) == (status == "unknown")


def test_what_the_client_tried_before_calling_is_no_outcome():
    outcome = note(
        "C: My VPN drops. I've restarted my laptop twice and it didn't help.",
        "A: Let me check your account.",
    ).outcome
    assert outcome.status == "unknown"


def test_a_follow_up_needs_a_promise_from_the_agent():
    summary = note(
        "C: Teams has no sound.",
        "A: Open the settings and pick your headset.",
        "C: I can hear you now.",
        "A: Great. I'll give you a call tomorrow morning to make sure it holds.",
        "A: If you need anything else, feel free to call us.",
    )
    assert (
        texts(summary.follow_up) == "i'll give you a call tomorrow morning to make sure it holds."
    )


def test_a_cause_and_the_action_it_leads_to_are_two_items():
    summary = note(
        "C: My VPN keeps dropping.",
        "A: Your VPN app is an old version, so I'm sending you the new one now.",
    )
    assert texts(summary.cause) == "your vpn app is an old version."
    assert texts(summary.steps) == "i'm sending you the new one now."


def test_condensing_keeps_the_words_and_drops_the_fillers():
    assert condense("Okay, so now restart the VPN.") == "Restart the VPN."
    assert condense("Yeah. Hi, I'm calling because my screen is black.") == "My screen is black."
    segment = Segment(1, Side.CLIENT, 0, 1, "")
    sentence = "Finally! My VPN keeps dropping, my email won't load, and I have a deadline today."
    assert (
        problem_statement(read_sentence(segment, sentence))
        == "My VPN keeps dropping, my email won't load."
    )


def test_the_live_note_grows_and_follows_revised_lines():
    stage = SummaryStage()
    first = Segment(1, Side.CLIENT, 0.5, 2.0, "My printer says")
    out = stage([Committed(first)])
    assert not any(isinstance(e, SummaryDraft) for e in out)  # nothing to say yet
    revised = Segment(1, Side.CLIENT, 0.5, 4.0, "My printer says offline and won't print.")
    drafts = [e for e in stage([Revised(revised, (1,))]) if isinstance(e, SummaryDraft)]
    assert len(drafts) == 1 and drafts[0].t == 4.0
    assert texts(drafts[0].summary.reason) == "my printer says offline and won't print."
    agent = Segment(2, Side.AGENT, 4.5, 6.0, "Thanks for calling.")
    assert not any(isinstance(e, SummaryDraft) for e in stage([Committed(agent)]))  # unchanged


def test_the_json_contract():
    result = coach_transcript(load_turns(DEMO_CALL.with_suffix(".txt")), CallSetup(None))
    data = json.loads(json.dumps(result.to_json()))["summary"]
    assert list(data) == ["reason", "cause", "steps", "outcome", "follow_up"]
    for name in ("reason", "cause", "steps", "follow_up"):
        assert data[name], name
        for item in data[name]:
            assert set(item) == {"text", "t", "segment_id"}
            assert isinstance(item["text"], str) and isinstance(item["t"], float)
            assert isinstance(item["segment_id"], int)
    assert set(data["outcome"]) == {"status", "text", "segment_id", "t"}
    assert data["outcome"]["status"] == "resolved"
    assert Summary.from_json(data).to_json() == data


def test_personal_data_is_redacted_before_the_note_is_drafted():
    turns = script(
        "C: My card 4111 1111 1111 1111 was declined on the expense site.",
        "C: You can reach me on 555 867 5309 or at jo.smith@example.com if the page won't load.",
        "A: The card on file is out of date, so I've removed it. Add the new one again.",
        "A: I'll e-mail you at jo.smith@example.com tomorrow to check it worked.",
    )
    result = coach_transcript(turns, CallSetup(None))
    note_text = json.dumps(result.summary.to_json())
    assert result.summary.reason and result.summary.follow_up
    digits = "".join(ch for ch in note_text if ch.isdigit())
    for secret in ("4111111111111111", "5558675309"):
        assert secret not in digits
    assert "jo.smith" not in note_text and "example.com" not in note_text


def test_a_malformed_note_is_refused():
    with pytest.raises(ValueError, match="outcome status"):
        Summary.from_json({"outcome": {"status": "fine"}})
    with pytest.raises(ValueError, match="not a call summary"):
        Summary.from_json({"reason": [{"t": 1.0}]})
