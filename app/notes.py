"""The agent's call notes on disk, and the ticket update built from them. Qt-free.

Notes are written atomically (a temporary file beside the target, then a rename), so a
crash mid-write leaves the previous version intact. :class:`NotesFile` serialises writers
and never lets an older text overwrite a newer one, so saves may run on any thread.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from app.coach import clock
from app.playbook import CHECKLIST, CHECKLIST_LABELS


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
    kind: str  # "cue" | "flag" | "incident" | "phrase"
    text: str

    def line(self) -> str:
        return f"[{clock(self.t)}] {self.kind} — {self.text}"


def describe_duration(seconds: float) -> str:
    minutes, secs = divmod(round(max(seconds, 0.0)), 60)
    return f"{minutes} min {secs:02d} s" if minutes else f"{secs} s"


def ticket_update_markdown(
    started: datetime,
    duration_s: float,
    notes: str,
    moments: Sequence[KeyMoment],
    checklist: Mapping[str, bool],
    mood_summary: str | None = None,
) -> str:
    """The ticket update: a summary line, the agent's notes, key moments, flags, checklist."""
    flags = [m for m in moments if m.kind == "flag"]
    done = sum(1 for item in CHECKLIST if checklist.get(item))
    summary = (
        f"Phone call on {started:%Y-%m-%d at %H:%M}, {describe_duration(duration_s)}; "
        f"{len(flags)} flag{'s' if len(flags) != 1 else ''} for review; "
        f"checklist {done}/{len(CHECKLIST)}"
    )
    if mood_summary:
        summary += f"; client mood: {mood_summary}"
    lines = ["# Ticket update", "", summary + ".", "", "## Notes", ""]
    lines.append(notes.strip() or "_No notes taken._")
    lines += ["", "## Key moments", ""]
    lines += [f"- {m.line()}" for m in moments] or ["_None._"]
    lines += ["", "## Flags for review", ""]
    lines += [f"- [{clock(f.t)}] {f.text}" for f in flags] or ["_None._"]
    lines += ["", "## Checklist", ""]
    lines += [f"- [{'x' if checklist.get(i) else ' '}] {CHECKLIST_LABELS[i]}" for i in CHECKLIST]
    return "\n".join(lines) + "\n"
