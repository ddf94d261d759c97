"""The documents made from a stored call (app/calls/exports.py), against golden files.

The golden files in tests/golden/ are the expected output, byte for byte (line endings aside).
After an intended change of format, regenerate them with

    CALMLINE_UPDATE_GOLDEN=1 .venv/bin/python -m pytest -q tests/calls/test_exports.py

and review the diff before keeping it.
"""

from __future__ import annotations

import email
import email.policy
import json
import os
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from support import GOLDEN

from app import __version__
from app.calls.exports import (
    call_json,
    day_reference,
    export_filename,
    follow_up_email,
    mood_summary,
    ticket_markdown,
    ticket_plain_text,
    transcript_text,
    write_eml,
)
from app.calls.records import (
    CallInfo,
    CallRecord,
    CueRecord,
    FlagRecord,
    IncidentRecord,
    MoodPoint,
    SegmentRecord,
)
from app.events import Outcome, Segment
from app.summary.draft import draft_summary
from audio.sides import Side

UPDATE_GOLDEN = "CALMLINE_UPDATE_GOLDEN"
CET = timezone(timedelta(hours=1))
STARTED = datetime(2025, 3, 4, 14, 5, 6, tzinfo=CET)  # a Tuesday
NOW = datetime(2025, 3, 5, 9, 30, 0, tzinfo=CET)  # the next morning
VERSION_LINE = f'"calmline": {json.dumps(__version__)},'
BOUNDARY = "I want to help you, but I need you to stop the personal remarks."


def _line(seq, speaker, start, end, text, negative=None, positive=None) -> SegmentRecord:
    scores = {"negative": negative} if negative is not None else {"positive": positive}
    label = "negative" if negative is not None else "positive"
    sentiment = {"label": label, "scores": scores} if speaker == "client" else None
    return SegmentRecord(seq, speaker, start, end, text, 0.4, sentiment)


def difficult_call() -> CallRecord:
    """A client locked out of the VPN: frustration, profanity, abuse, a boundary, abuse again
    (incident note + flag), then the fix and the follow-up."""
    segments = (
        _line(0, "agent", 1.0, 4.2, "IT Support, this is Kizito. How can I help?"),
        _line(1, "client", 5.0, 11.5, "I've been locked out of the VPN all morning.", 0.71),
        _line(2, "agent", 12.0, 17.0, "I'm sorry, that's frustrating. Let's fix it now."),
        _line(3, "client", 18.0, 26.0, "This is f**king useless, third time this week!", 0.93),
        _line(4, "client", 40.0, 46.5, "Are you an idiot? Just do your job.", 0.95),
        _line(5, "agent", 47.0, 55.0, BOUNDARY),
        _line(6, "client", 62.0, 66.0, "You people are idiots.", 0.97),
        _line(7, "agent", 70.0, 80.0, "Your password had expired. I've reset it; please log in."),
        _line(8, "client", 95.0, 99.0, "OK, it works now. Thanks.", positive=0.81),
        _line(9, "agent", 100.0, 108.0, "Great. I'll e-mail you tomorrow to check it still works."),
    )
    return CallRecord(
        info=CallInfo(
            uid="6f1c2d3e-4b5a-4c6d-8e7f-001122334455",
            started_at=STARTED,
            ended_at=STARTED + timedelta(seconds=112),
            agent="Kizito",
            client_name="Marie Dupont",
            client_contact="marie.dupont@example.com",
            ticket_id="4521",
            source="live",
            status="ended",
            devices={"agent": "Headset Microphone", "client": "Softphone Output"},
            model={"speech": "small.en", "sentiment": "twitter-roberta-base-sentiment"},
            subject="VPN password expired",
        ),
        segments=segments,
        cues=(
            CueRecord(
                11.6,
                "frustration",
                "Validate, then give the next step",
                ("I'm sorry, that's frustrating.",),
                1,
                17.2,
            ),
            CueRecord(
                26.1,
                "profanity",
                "Not about you — focus on the fix",
                ("Let's focus on getting this fixed.",),
                3,
            ),
            CueRecord(
                46.6,
                "abuse",
                "Not personal — set a boundary",
                (BOUNDARY,),
                4,
                55.1,
            ),
            CueRecord(66.1, "abuse_continues", "Abuse noted — you may escalate", (), 6),
            CueRecord(74.0, "jargon", "Say it in plain words", (), 7),  # the agent's: not a moment
            CueRecord(99.1, "resolution", "Confirm and plan the follow-up", (), 8),
        ),
        flags=(FlagRecord(66.1, "abusive_language", "You people are idiots.", 6),),
        incidents=(
            IncidentRecord(
                66.1,
                "[01:02] Abusive language continued after a respectful boundary was set. "
                "Supervisor alerted.",
                "You people are idiots.",
                6,
            ),
        ),
        mood=(
            MoodPoint(11.5, -0.35, "falling"),
            MoodPoint(26.0, -0.62, "falling"),
            MoodPoint(46.5, -0.7, "falling"),
            MoodPoint(66.0, -0.74, "steady"),
            MoodPoint(99.0, 0.05, "rising"),
        ),
        notes="VPN login failed: password expired.\nReset the password; client logged in.\n"
        "Follow up by e-mail tomorrow.",
        checklist={
            "listened": True,
            "acknowledged": True,
            "next_step": True,
            "kept_informed": False,
            "follow_up": True,
        },
        id=42,
        summary=draft_summary(
            [Segment(s.seq, Side(s.speaker), s.start, s.end, s.text) for s in segments]
        ),
    )


def check_golden(name: str, actual: str) -> None:
    """Compare ``actual`` with tests/golden/``name``; rewrite the file instead when
    CALMLINE_UPDATE_GOLDEN=1."""
    path = GOLDEN / name
    if os.environ.get(UPDATE_GOLDEN) == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual.replace("\r\n", "\n"), encoding="utf-8", newline="\n")
        return
    assert path.exists(), f"{path} is missing; create it with {UPDATE_GOLDEN}=1"
    expected = path.read_text(encoding="utf-8")  # universal newlines: a CRLF checkout is fine
    assert actual.replace("\r\n", "\n") == expected, (
        f"the output differs from {path}; if the change is intended, regenerate the golden "
        f"files with {UPDATE_GOLDEN}=1 and review the diff"
    )


def eml_bytes(record: CallRecord, tmp_path: Path, **kwargs) -> bytes:
    message = follow_up_email(record, "Kizito", "kizito@helpdesk.example", now=NOW, **kwargs)
    return write_eml(message, tmp_path / "follow-up.eml").read_bytes()


# -- golden files ----------------------------------------------------------------------------


def test_ticket_markdown_matches_the_golden_file():
    check_golden("ticket.md", ticket_markdown(difficult_call()))


def test_ticket_markdown_with_transcript_matches_the_golden_file():
    check_golden("ticket_with_transcript.md", ticket_markdown(difficult_call(), True))


def test_ticket_plain_text_matches_the_golden_file():
    check_golden("ticket.txt", ticket_plain_text(difficult_call()))


def test_call_json_matches_the_golden_file():
    text = call_json(difficult_call())
    assert VERSION_LINE in text  # the version is the one thing allowed to change
    check_golden("call.json", text.replace(VERSION_LINE, '"calmline": "<version>",') + "\n")


def test_follow_up_eml_matches_the_golden_file(tmp_path):
    raw = eml_bytes(difficult_call(), tmp_path)
    assert b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b"")  # CRLF throughout
    check_golden("follow_up.eml", raw.decode("utf-8"))


def test_a_different_output_fails_the_golden_comparison(monkeypatch):
    monkeypatch.delenv(UPDATE_GOLDEN, raising=False)
    changed = ticket_markdown(difficult_call()).replace("checklist 4/5", "checklist 5/5")
    with pytest.raises(AssertionError, match="differs from"):
        check_golden("ticket.md", changed)


# -- the ticket update -----------------------------------------------------------------------


def test_ticket_summary_moments_flags_and_checklist():
    markdown = ticket_markdown(difficult_call())
    summary = markdown.splitlines()[2]
    assert summary.startswith("Phone call on 2025-03-04 at 14:05, 1 min 52 s; client: Marie")
    assert "ticket #4521; 1 flag for review; checklist 4/5" in summary
    assert "client mood: started upset, ended neutral (lowest at 01:06: very upset)" in summary
    assert "- [00:26] cue — Not about you — focus on the fix" in markdown
    assert "Say it in plain words" not in markdown  # a cue about the agent, not the client
    assert "Confirm and plan the follow-up" not in markdown
    # the incident: its own text once (no second time stamp), then the exact words
    assert (
        "- [01:06] incident — Abusive language continued after a respectful boundary was set. "
        "Supervisor alerted. Client said: “You people are idiots.”"
    ) in markdown
    assert "- [01:06] abusive language: “You people are idiots.”" in markdown
    assert "- [x] Planned the follow-up" in markdown
    assert "- [ ] Kept them informed" in markdown
    assert "## Transcript" not in markdown


def test_masked_profanity_is_escaped_in_markdown_but_not_in_plain_text():
    record = difficult_call()
    record = replace(
        record, flags=(*record.flags, FlagRecord(26.0, "abusive_language", "f**king useless", 3))
    )
    assert "abusive language: “f\\*\\*king useless”" in ticket_markdown(record)
    assert "abusive language: “f**king useless”" in ticket_plain_text(record)


def test_transcript_lines_and_the_fence_around_them():
    record = difficult_call()
    text = transcript_text(record)
    lines = text.splitlines()
    assert lines[0] == "[00:01] Agent: IT Support, this is Kizito. How can I help?"
    assert lines[3] == "[00:18] Client: This is f**king useless, third time this week!"
    assert len(lines) == len(record.segments)
    with_transcript = ticket_markdown(record, include_transcript=True)
    assert with_transcript.endswith("## Transcript\n\n```text\n" + text + "```\n")
    assert transcript_text(replace(record, segments=())) == ""


def test_plain_text_has_no_markdown_syntax():
    text = ticket_plain_text(difficult_call(), include_transcript=True)
    assert "#" not in text.replace("#4521", "")
    assert "```" not in text and "- [x]" not in text and "_None._" not in text
    assert text.startswith("Ticket update\n=============\n")
    assert "[x] Listened to the whole problem" in text


def test_an_empty_call_gets_placeholders():
    started = datetime(2025, 3, 4, 9, 0, tzinfo=UTC)
    record = CallRecord(info=CallInfo(uid="u", started_at=started))
    markdown = ticket_markdown(record, include_transcript=True)
    assert markdown.splitlines()[2] == (
        "Phone call on 2025-03-04 at 09:00, 0 s; 0 flags for review; checklist 0/5."
    )
    sections = markdown.split("\n## ")
    assert sections[1] == "Notes\n\n_No notes taken._\n"
    assert sections[2] == "Key moments\n\n_None._\n"
    assert sections[3] == "Flags for review\n\n_None._\n"
    assert sections[5] == "Transcript\n\n_No transcript._\n"
    plain = ticket_plain_text(record)
    assert "No notes taken." in plain and "_" not in plain
    assert mood_summary(()) is None


# -- the follow-up e-mail --------------------------------------------------------------------


def test_the_eml_parses_back_as_a_draft(tmp_path):
    raw = eml_bytes(difficult_call(), tmp_path)
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert parsed["Subject"] == "Follow-up on VPN password expired (ticket #4521)"
    assert parsed["To"] == "Marie Dupont <marie.dupont@example.com>"
    assert parsed["From"] == "Kizito <kizito@helpdesk.example>"
    assert parsed["X-Unsent"] == "1"
    assert parsed["Date"].datetime == NOW
    assert parsed.get_content_type() == "text/plain"
    assert parsed.get_content_charset() == "utf-8"
    body = parsed.get_content().replace("\r\n", "\n")  # the .eml's CRLF, as on the wire
    assert body.startswith("Hi Marie,\n")
    assert "I wanted to check in regarding the sign-in and VPN problem you had yesterday" in body
    assert "What we did on the call:\n- I've reset it; please log in.\n" in body
    assert "Please let me know if it's working properly now." in body
    assert "close ticket #4521" in body
    assert "If you're still experiencing any trouble, feel free to reply" in body
    assert body.endswith("Kind regards,\nKizito\nIT Support\n")


def test_a_client_without_a_name_or_e_mail_address(tmp_path):
    record = difficult_call()
    info = replace(
        record.info, client_name="", client_contact="+33 6 12 34 56 78", subject="", ticket_id=""
    )
    message = follow_up_email(replace(record, info=info), "Kizito", "k@helpdesk.example", now=NOW)
    assert message["To"] is None  # a phone number is no address: the agent fills it in
    assert message["Subject"] == "Follow-up on your call"
    body = message.get_content()
    assert body.startswith("Hi there,\n")
    assert "regarding the sign-in and VPN problem you had yesterday." in body
    assert "close the ticket." in body


def test_non_ascii_names_survive_the_round_trip(tmp_path):
    record = difficult_call()
    info = replace(record.info, client_name="Zoë Brontë", client_contact="zoe@example.com")
    raw = eml_bytes(replace(record, info=info), tmp_path, team="Support informatique")
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert parsed["To"] == "Zoë Brontë <zoe@example.com>"
    body = parsed.get_content().replace("\r\n", "\n")
    assert body.startswith("Hi Zoë,\n")
    assert body.endswith("Kizito\nSupport informatique\n")


def test_day_reference_relative_to_now():
    assert day_reference(STARTED, STARTED + timedelta(hours=3)) == "today"
    assert day_reference(STARTED, NOW) == "yesterday"
    assert day_reference(datetime(2025, 3, 3, 10, 0, tzinfo=CET), NOW) == "on Monday 3 March"
    assert day_reference(datetime(2024, 12, 30, tzinfo=CET), NOW) == "on Monday 30 December 2024"
    # judged in the call's time zone: 23:30 UTC on the 4th is already the 5th in CET
    assert day_reference(STARTED, datetime(2025, 3, 4, 23, 30, tzinfo=UTC)) == "yesterday"


def test_a_template_with_an_unknown_placeholder_or_no_subject(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text("Subject: Hi\n\nDear ${nickname},\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"unknown placeholder \$\{nickname\}"):
        follow_up_email(difficult_call(), "Kizito", "k@helpdesk.example", template=bad, now=NOW)
    bad.write_text("Hi ${first_name},\n", encoding="utf-8")
    with pytest.raises(ValueError, match="first line must be 'Subject: …'"):
        follow_up_email(difficult_call(), "Kizito", "k@helpdesk.example", template=bad, now=NOW)


# -- file names ------------------------------------------------------------------------------


def test_export_filenames_use_safe_characters_only():
    record = difficult_call()
    assert export_filename(record, "update") == "2025-03-04_1405_ticket-4521_update.md"
    assert export_filename(record, "follow_up") == "2025-03-04_1405_ticket-4521_follow-up.eml"
    assert export_filename(record, "json") == "2025-03-04_1405_ticket-4521_call.json"
    odd = replace(record.info, ticket_id=" INC/00 42: Café\\..\\x ")
    assert export_filename(replace(record, info=odd), "transcript") == (
        "2025-03-04_1405_ticket-INC-00-42-Cafe-x_transcript.txt"
    )
    no_ticket = replace(record.info, ticket_id="")
    assert export_filename(replace(record, info=no_ticket), "update_text") == (
        "2025-03-04_1405_call-6f1c2d3e_update.txt"
    )
    with pytest.raises(ValueError, match="unknown export kind"):
        export_filename(record, "../../etc/passwd")


def test_the_ticket_leads_with_the_drafted_note():
    ticket = ticket_markdown(difficult_call())
    sections = [line for line in ticket.splitlines() if line.startswith("## ")]
    assert sections[:6] == [
        "## Reason for the call", "## Found", "## Steps", "## Outcome", "## Follow-up",
        "## Incident (abusive language documented)",
    ]  # fmt: skip
    assert "- [00:05] I've been locked out of the VPN all morning." in ticket
    assert "- [01:10] Your password had expired." in ticket
    assert "Resolved — [01:35] “It works now.”" in ticket
    assert "- [01:40] I'll e-mail you tomorrow to check it still works." in ticket
    assert ticket.index("## Follow-up") < ticket.index("## Notes")
    plain = ticket_plain_text(difficult_call())
    assert "Reason for the call\n-------------------" in plain and "##" not in plain


def test_the_e_mail_says_how_the_call_ended():
    record = difficult_call()
    escalated = replace(record.summary, outcome=Outcome("escalated", "Passing it on.", 9, 100.0))
    body = follow_up_email(replace(record, summary=escalated), "Kizito", "", now=NOW).get_content()
    assert "I've passed it on to the team that can fix it" in body
    assert "close ticket" not in body
    unresolved = replace(record.summary, outcome=Outcome("unresolved", "Still broken.", 8, 95.0))
    body = follow_up_email(replace(record, summary=unresolved), "Kizito", "", now=NOW).get_content()
    assert "It isn't fixed yet" in body
