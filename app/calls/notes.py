"""The agent's call notes on disk, and the ticket update built from them. Qt-free.

Notes are written atomically (a temporary file beside the target, then a rename), so a
crash mid-write leaves the previous version intact. :class:`NotesFile` serialises writers
and never lets an older text overwrite a newer one, so saves may run on any thread.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from app.events import (
    CHECKLIST,
    CHECKLIST_LABELS,
    OUTCOME_WORDS,
    SUMMARY_TITLES,
    Summary,
    SummaryItem,
    clock,
)


def notes_path(notes_dir: Path, started: datetime) -> Path:
    """Where the notes of the call that started at ``started`` live."""
    return notes_dir / f"{started:%Y-%m-%d_%H-%M-%S}.md"


def ticket_path(notes: Path) -> Path:
    """The exported ticket update, next to the notes."""
    return notes.with_name(f"{notes.stem}-ticket.md")


def save_notes(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically, creating the folder if needed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    with tmp.open("w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


class NotesFile:
    """One notes file saved from several threads: the newest text always wins."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._saved_version = -1

    def save(self, text: str, version: int) -> bool:
        """Save ``text`` (edit number ``version``); False if a newer one is already saved."""
        with self._lock:
            if version <= self._saved_version:
                return False
            save_notes(self.path, text)
            self._saved_version = version
            return True


@dataclass(frozen=True)
class KeyMoment:
    """Something worth a line in the ticket: a cue, a flag, an incident note, a phrase used."""

    t: float
    kind: str  # "cue" | "flag" | "incident" | "phrase" | "input" (a line lost or back)
    text: str

    def line(self, quote: Callable[[str], str] = str) -> str:
        """``[MM:SS] kind — text``; ``quote`` escapes the text (a time already leading the
        text, as in incident notes, is left out)."""
        return f"[{clock(self.t)}] {self.kind} — {quote(_LEADING_TIME.sub('', self.text))}"


def describe_duration(seconds: float) -> str:
    minutes, secs = divmod(round(max(seconds, 0.0)), 60)
    return f"{minutes} min {secs:02d} s" if minutes else f"{secs} s"


def ticket_label(ticket_id: str) -> str:
    """``4521`` → ``#4521``; other ids (``INC0012345``) as they are."""
    ticket_id = ticket_id.strip()
    return f"#{ticket_id}" if ticket_id.isdigit() else ticket_id


@dataclass(frozen=True)
class TicketParts:
    """Everything a ticket update is made of, from the live notes pane or from a stored call."""

    started: datetime
    duration_s: float
    notes: str
    moments: Sequence[KeyMoment]
    checklist: Mapping[str, bool]
    mood_summary: str | None = None
    client: str = ""
    ticket_id: str = ""
    transcript: Sequence[str] | None = None  # "[MM:SS] Agent: …" lines; None leaves it out
    summary: Summary | None = None  # the drafted note as the agent kept it


def render_ticket(parts: TicketParts, markdown: bool = True) -> str:
    """The ticket update as Markdown (readable as plain text too) or as plain text without
    Markdown syntax: a summary line, the agent's notes, key moments, flags for review, the
    checklist and, if given, the transcript. The one renderer every ticket update goes through.
    """
    quote = _escape if markdown else str
    flags = [m for m in parts.moments if m.kind == "flag"]
    done = sum(1 for item in CHECKLIST if parts.checklist.get(item))
    summary = [
        f"Phone call on {parts.started:%Y-%m-%d at %H:%M}, {describe_duration(parts.duration_s)}"
    ]
    if parts.client.strip():
        summary.append(f"client: {quote(one_line(parts.client))}")
    if parts.ticket_id.strip():
        summary.append(f"ticket {quote(ticket_label(one_line(parts.ticket_id)))}")
    summary.append(f"{len(flags)} flag{'s' if len(flags) != 1 else ''} for review")
    summary.append(f"checklist {done}/{len(CHECKLIST)}")
    if parts.mood_summary:
        summary.append(f"client mood: {parts.mood_summary}")

    def placeholder(text: str) -> str:
        return f"_{text}_" if markdown else text

    lines = [*_heading("Ticket update", 1, markdown), "", "; ".join(summary) + "."]
    if parts.summary is not None and not parts.summary.empty:
        lines += _note_sections(parts.summary, parts.moments, quote, markdown)
    lines += ["", *_heading("Notes", 2, markdown), ""]
    notes = parts.notes.strip()
    lines.append((_hard_breaks(notes) if markdown else notes) or placeholder("No notes taken."))
    lines += ["", *_heading("Key moments", 2, markdown), ""]
    lines += [f"- {m.line(quote)}" for m in parts.moments] or [placeholder("None.")]
    lines += ["", *_heading("Flags for review", 2, markdown), ""]
    flag_lines = [f"- [{clock(f.t)}] {quote(_LEADING_TIME.sub('', f.text))}" for f in flags]
    lines += flag_lines or [placeholder("None.")]
    lines += ["", *_heading("Checklist", 2, markdown), ""]
    box = "- [{}] {}" if markdown else "[{}] {}"
    lines += [
        box.format("x" if parts.checklist.get(item) else " ", CHECKLIST_LABELS[item])
        for item in CHECKLIST
    ]
    if parts.transcript is not None:
        lines += ["", *_heading("Transcript", 2, markdown), ""]
        if not parts.transcript:
            lines.append(placeholder("No transcript."))
        elif markdown:
            fence = _fence(parts.transcript)
            lines += [f"{fence}text", *parts.transcript, fence]
        else:
            lines += list(parts.transcript)
    return "\n".join(lines) + "\n"


def ticket_update_markdown(
    started: datetime,
    duration_s: float,
    notes: str,
    moments: Sequence[KeyMoment],
    checklist: Mapping[str, bool],
    mood_summary: str | None = None,
    summary: Summary | None = None,
) -> str:
    """The ticket update of the call in progress (the notes pane), before it is stored;
    a stored call's is :func:`app.calls.exports.ticket_markdown`. Both go through
    :func:`render_ticket`.
    """
    parts = TicketParts(
        started, duration_s, notes, moments, checklist, mood_summary, summary=summary
    )
    return render_ticket(parts)


def _note_sections(
    summary: Summary,
    moments: Sequence[KeyMoment],
    quote: Callable[[str], str],
    markdown: bool,
) -> list[str]:
    """Reason, what was found, steps, outcome and follow-up — what the ticket leads with —
    plus the abuse documented on the call; each line with the call time it was said."""

    def items(chosen: Sequence[SummaryItem], empty: str) -> list[str]:
        lines = [f"- [{clock(i.t)}] {quote(one_line(i.text))}" for i in chosen]
        return lines or [f"_{empty}_" if markdown else empty]

    outcome = summary.outcome
    outcome_line = OUTCOME_WORDS[outcome.status]
    if outcome.text:
        said = f" [{clock(outcome.t)}]" if outcome.t is not None else ""
        outcome_line += f" —{said} “{quote(one_line(outcome.text))}”"
    lines: list[str] = []
    for name, chosen, empty in (
        ("reason", summary.reason, "Not stated."),
        ("cause", summary.cause, "No cause stated."),
        ("steps", summary.steps, "None."),
    ):
        lines += ["", *_heading(SUMMARY_TITLES[name], 2, markdown), "", *items(chosen, empty)]
    lines += ["", *_heading(SUMMARY_TITLES["outcome"], 2, markdown), "", outcome_line]
    lines += ["", *_heading(SUMMARY_TITLES["follow_up"], 2, markdown), ""]
    lines += items(summary.follow_up, "None promised.")
    incidents = [m for m in moments if m.kind == "incident"]
    if incidents:
        lines += ["", *_heading("Incident (abusive language documented)", 2, markdown), ""]
        lines += [f"- {m.line(quote)}" for m in incidents]
    return lines


_LEADING_TIME = re.compile(r"^\[\d+:\d\d\]\s*")
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_<])")


def _escape(text: str) -> str:
    """Backslash the characters that would turn quoted words into Markdown (a masked
    "f**king" is not bold, an "<error>" is not an HTML tag)."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def one_line(text: str) -> str:
    """``text`` with every run of whitespace (line breaks too) as one space."""
    return " ".join(text.split())


def _hard_breaks(text: str) -> str:
    """Keep the agent's line breaks in rendered Markdown: two trailing spaces on each line
    followed by another line of the same paragraph (invisible in plain text)."""
    lines = [line.rstrip() for line in text.splitlines()]
    return "\n".join(
        line + "  " if line and index + 1 < len(lines) and lines[index + 1] else line
        for index, line in enumerate(lines)
    )


def _heading(text: str, level: int, markdown: bool) -> list[str]:
    if markdown:
        return [f"{'#' * level} {text}"]
    return [text, ("=" if level == 1 else "-") * len(text)]


def _fence(lines: Sequence[str]) -> str:
    """A code fence longer than any run of backticks inside ``lines``."""
    longest = max((len(run) for line in lines for run in re.findall(r"`+", line)), default=0)
    return "`" * max(3, longest + 1)
