"""The documents made from a stored call: the ticket update (Markdown or plain text), the
transcript, the whole call as JSON, and the follow-up e-mail as a draft ``.eml``. Qt-free,
standard library only.

The ticket update goes through :func:`app.calls.notes.render_ticket`, the same renderer the notes
pane uses live, so a stored call's ticket looks like the one exported during the call.

The follow-up e-mail comes from ``resources/templates/follow_up_email.txt``: a
:class:`string.Template` whose first line is ``Subject: …``, then a blank line, then the body.
Its placeholders:

``${first_name}``
    the client's first name, or ``there`` when the call has no client name ("Hi there,")
``${client_name}``
    the client's name as stored (may be empty)
``${subject}``
    what the call was about, one line (may be empty)
``${topic}``
    the subject, or ``your call`` without one
``${about}``
    `` (subject)`` with a leading space, or nothing without a subject
``${day}``
    when the call was, relative to the moment the e-mail is made: ``today``, ``yesterday``
    or ``on Monday 3 March`` (the year is added when it is not this year)
``${ticket_id}``
    the ticket id as stored (may be empty)
``${ticket_ref}``
    `` (ticket #4521)`` with a leading space, or nothing without a ticket
``${the_ticket}``
    ``ticket #4521``, or ``the ticket`` without one
``${sender_name}``, ``${sender_address}``, ``${team}``, ``${agent}``
    the agent writing the e-mail, their address, their team, and the agent stored with the call
``${issue}``
    what the call's note says the problem was about: ``the VPN and e-mail problem``, or
    ``the issue`` when it names nothing Calmline knows
``${what_we_did}``
    the steps of the call as a short list ("What we did on the call:" and up to five lines),
    or nothing without steps
``${status_line}``
    by the call's outcome: resolved or unknown asks whether it works now and offers to close
    the ticket; not resolved and escalated say it is still being worked on
"""

from __future__ import annotations

import json
import re
import string
import unicodedata
from collections.abc import Sequence
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from importlib import resources
from pathlib import Path

from app.calls.notes import KeyMoment, TicketParts, one_line, render_ticket, ticket_label
from app.calls.records import CallRecord, CueRecord, FlagRecord, IncidentRecord, MoodPoint
from app.events import Summary, clock
from app.summary.topics import issue_phrase

# Cues about the client that make a key moment (the agent's own cues — pace, jargon — don't).
CLIENT_CUE_KINDS = (
    "frustration",
    "anger",
    "profanity",
    "abuse",
    "abuse_continues",
    "manager_request",
)
FLAG_WORDS = {
    "abusive_language": "abusive language",
    "manager_request": "asked for a manager",
    "sustained_negative": "upset for a long time",
}
SPEAKERS = {"agent": "Agent", "client": "Client"}
EXPORT_KINDS = {
    "update": "update.md",  # ticket_markdown
    "update_text": "update.txt",  # ticket_plain_text
    "transcript": "transcript.txt",  # transcript_text
    "json": "call.json",  # call_json
    "follow_up": "follow-up.eml",  # follow_up_email + write_eml
}
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December")  # fmt: skip
_EMAIL_ADDRESS = re.compile(r"^[^@\s<>\"]+@[^@\s<>\"]+\.[^@\s<>\"]+$")


def default_template_path() -> Path:
    return Path(str(resources.files("resources"))) / "templates" / "follow_up_email.txt"


# -- the pieces ----------------------------------------------------------------------------


def mood_word(value: float) -> str:
    """The client's mood (−1 … +1) in words; the same bands as the mood gauge."""
    if value <= -0.45:
        return "very upset"
    if value <= -0.15:
        return "upset"
    if value < 0.15:
        return "neutral"
    if value < 0.45:
        return "content"
    return "happy"


def mood_summary(points: Sequence[MoodPoint]) -> str | None:
    """The mood over the call in words, e.g. ``started upset, ended neutral (lowest at 01:05:
    very upset)``; the lowest point is named when it was clearly below the start and the end.
    None without mood points."""
    if not points:
        return None
    ordered = sorted(points, key=lambda m: m.t)
    first, last = ordered[0], ordered[-1]
    lowest = min(ordered, key=lambda m: m.value)
    text = f"started {mood_word(first.value)}, ended {mood_word(last.value)}"
    if lowest.value < min(first.value, last.value) - 0.1:
        text += f" (lowest at {clock(lowest.t)}: {mood_word(lowest.value)})"
    return text


def key_moment(item: CueRecord | IncidentRecord | FlagRecord) -> KeyMoment | None:
    """The line a cue about the client, an incident note (with the exact words) or a flag
    gives the notes and the ticket; None for a cue about the agent's own manner. The notes
    pane shows these live and the stored call's ticket lists the same lines."""
    match item:
        case CueRecord():
            return KeyMoment(item.t, "cue", item.message) if item.kind in CLIENT_CUE_KINDS else None
        case IncidentRecord():
            return KeyMoment(item.t, "incident", f"{item.text} Client said: “{item.excerpt}”")
        case FlagRecord():
            what = FLAG_WORDS.get(item.kind, item.kind.replace("_", " "))
            return KeyMoment(item.t, "flag", f"{what}: “{item.excerpt}”")


def key_moments(record: CallRecord) -> list[KeyMoment]:
    """Cues about the client, incident notes with the exact words, and flags, by call time."""
    items = [*record.cues, *record.incidents, *record.flags]
    moments = [m for m in map(key_moment, items) if m is not None]
    return sorted(moments, key=lambda m: m.t)  # stable: cue, incident, flag at the same time


def transcript_lines(record: CallRecord) -> list[str]:
    """``[MM:SS] Agent: …`` / ``[MM:SS] Client: …``, one line per segment, in call order."""
    segments = sorted(record.segments, key=lambda s: (s.start, s.seq))
    return [
        f"[{clock(s.start)}] {SPEAKERS.get(s.speaker, s.speaker.capitalize())}: "
        f"{' '.join(s.text.split())}"
        for s in segments
    ]


def ticket_parts(record: CallRecord, include_transcript: bool = False) -> TicketParts:
    info = record.info
    return TicketParts(
        started=info.started_at,
        duration_s=record.duration_s,
        notes=record.notes,
        moments=key_moments(record),
        checklist=record.checklist,
        mood_summary=mood_summary(record.mood),
        client=info.client_name,
        ticket_id=info.ticket_id,
        transcript=transcript_lines(record) if include_transcript else None,
        summary=record.summary,
    )


# -- the documents -------------------------------------------------------------------------


def ticket_markdown(record: CallRecord, include_transcript: bool = False) -> str:
    """The ticket update as Markdown that also reads well as plain text."""
    return render_ticket(ticket_parts(record, include_transcript), markdown=True)


def ticket_plain_text(record: CallRecord, include_transcript: bool = False) -> str:
    """The ticket update without Markdown syntax, for helpdesks that show plain text."""
    return render_ticket(ticket_parts(record, include_transcript), markdown=False)


def transcript_text(record: CallRecord) -> str:
    """The transcript alone (the ``transcript.txt`` attachment); empty without segments."""
    lines = transcript_lines(record)
    return "\n".join(lines) + "\n" if lines else ""


def call_json(record: CallRecord) -> str:
    """The whole call as JSON (see :meth:`CallRecord.to_json`)."""
    return json.dumps(record.to_json(), indent=2, ensure_ascii=False)


def follow_up_email(
    record: CallRecord,
    sender_name: str,
    sender_address: str,
    team: str = "IT Support",
    template: Path | None = None,
    now: datetime | None = None,
) -> EmailMessage:
    """The follow-up e-mail to the client, as a draft to review and send.

    Made from ``template`` (default ``resources/templates/follow_up_email.txt``; see the module
    docstring for its placeholders), with the call's date told relative to ``now`` (default:
    the current time). Headers: Subject, From (left out without ``sender_address``), To (the
    client's contact *only if it is an e-mail address* — a phone number or an empty contact
    gives no To header, for the agent to fill in), Date (``now``) and ``X-Unsent: 1``, so
    Outlook and Thunderbird open the saved ``.eml`` as an editable draft. The body is
    text/plain UTF-8.

    Raises ValueError if the template has no ``Subject:`` first line or uses an unknown
    placeholder (the message names the file and the placeholder).
    """
    info = record.info
    path = template or default_template_path()
    text = path.read_text(encoding="utf-8")
    if now is None:
        now = datetime.now(info.started_at.tzinfo)
    subject_value = one_line(info.subject)
    ticket_id = one_line(info.ticket_id)
    values = {
        "first_name": _first_name(info.client_name) or "there",
        "client_name": one_line(info.client_name),
        "subject": subject_value,
        "topic": subject_value or "your call",
        "about": f" ({subject_value})" if subject_value else "",
        "day": day_reference(info.started_at, now),
        "ticket_id": ticket_id,
        "ticket_ref": f" (ticket {ticket_label(ticket_id)})" if ticket_id else "",
        "the_ticket": f"ticket {ticket_label(ticket_id)}" if ticket_id else "the ticket",
        "sender_name": one_line(sender_name),
        "sender_address": sender_address.strip(),
        "team": one_line(team),
        "agent": one_line(info.agent),
        "issue": issue_phrase(record.summary),
        "what_we_did": _what_we_did(record.summary),
        "status_line": _status_line(record.summary, ticket_id),
    }
    try:
        filled = string.Template(text).substitute(values)
    except KeyError as exc:
        known = ", ".join(f"${{{name}}}" for name in values)
        raise ValueError(f"{path}: unknown placeholder ${{{exc.args[0]}}}; use {known}") from exc
    except ValueError as exc:  # a lone "$": write "$$" for a dollar sign
        raise ValueError(f"{path}: {exc} (write $$ for a dollar sign)") from exc
    first, _, body = filled.partition("\n")
    name, colon, subject = first.partition(":")
    if not colon or name.strip().lower() != "subject":
        raise ValueError(f"{path}: the first line must be 'Subject: …', not {first!r}")

    message = EmailMessage()
    message["Subject"] = one_line(subject)
    if sender_address.strip():
        message["From"] = formataddr((one_line(sender_name), sender_address.strip()))
    contact = info.client_contact.strip()
    if _EMAIL_ADDRESS.match(contact):
        message["To"] = formataddr((one_line(info.client_name), contact))
    message["Date"] = format_datetime(now if now.tzinfo else now.astimezone())
    message["X-Unsent"] = "1"
    message.set_content(body.strip("\n") + "\n", subtype="plain", charset="utf-8", cte="8bit")
    return message


def write_eml(message: EmailMessage, path: Path) -> Path:
    """Save ``message`` as an ``.eml`` file (CRLF line endings), creating the folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(message.as_bytes(policy=message.policy.clone(linesep="\r\n")))
    return path


def export_filename(record: CallRecord, kind: str) -> str:
    """A file name for one export of the call, e.g. ``2025-03-04_1405_ticket-4521_update.md``
    (or ``…_call-1a2b3c4d_…`` without a ticket id): ASCII letters, digits, ``-``, ``_`` and
    ``.`` only. ``kind`` is one of :data:`EXPORT_KINDS`."""
    if kind not in EXPORT_KINDS:
        raise ValueError(f"unknown export kind {kind!r}; use one of {', '.join(EXPORT_KINDS)}")
    info = record.info
    ticket = _safe(info.ticket_id)
    who = f"ticket-{ticket}" if ticket else "-".join(filter(None, ("call", _safe(info.uid)[:8])))
    return f"{info.started_at:%Y-%m-%d_%H%M}_{who}_{EXPORT_KINDS[kind]}"


def day_reference(when: datetime, now: datetime) -> str:
    """``today``, ``yesterday`` or ``on Monday 3 March`` (with the year if not ``now``'s),
    in ``when``'s time zone; English, whatever the locale."""
    if when.tzinfo is not None and now.tzinfo is not None:
        now = now.astimezone(when.tzinfo)
    day, today = when.date(), now.date()
    if day == today:
        return "today"
    if (today - day).days == 1:
        return "yesterday"
    text = f"on {WEEKDAYS[day.weekday()]} {day.day} {MONTHS[day.month - 1]}"
    return text if day.year == today.year else f"{text} {day.year}"


# -- helpers -------------------------------------------------------------------------------


EMAIL_STEPS = 5


def _what_we_did(summary: Summary | None) -> str:
    """The steps of the call as a short list for the e-mail (empty without steps)."""
    if summary is None or not summary.steps:
        return ""
    steps = [f"- {one_line(step.text)}" for step in summary.steps[:EMAIL_STEPS]]
    return "\n".join(["What we did on the call:", *steps]) + "\n\n"


def _status_line(summary: Summary | None, ticket_id: str) -> str:
    the_ticket = f"ticket {ticket_label(ticket_id)}" if ticket_id else "the ticket"
    status = summary.outcome.status if summary is not None else "unknown"
    if status == "escalated":
        return (
            "I've passed it on to the team that can fix it, and I'll keep you informed as "
            "they work on it."
        )
    if status == "unresolved":
        return "It isn't fixed yet: I'm still working on it and I'll keep you informed."
    return (
        "Please let me know if it's working properly now. If everything looks good, I'll go "
        f"ahead and close {the_ticket}."
    )


def _first_name(name: str) -> str:
    """``Marie Dupont`` → ``Marie``; ``Dupont, Marie`` → ``Marie``."""
    name = one_line(name)
    if "," in name:
        name = name.split(",", 1)[1].strip()
    return name.split(" ", 1)[0] if name else ""


def _safe(text: str) -> str:
    """Only ASCII letters and digits, other runs as one ``-``; at most 40 characters."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^A-Za-z0-9]+", "-", ascii_text).strip("-")[:40].strip("-")
