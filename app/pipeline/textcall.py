"""The coach on a written transcript, without audio: what it would have said on that call.

Reads a Calmline JSON (``calmline analyze --json``), an Azure conversation transcript
(``conversationItems`` with ``participantId``), or a call script (``AGENT: …`` /
``CLIENT: …`` lines). Turns without times get speaking times from their length.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.events import Committed, Event, Segment
from app.pipeline.analyze import CallResult, Collector
from app.pipeline.call import CallSetup
from app.pipeline.session import Listener
from audio.sides import Side

WORDS_PER_SECOND = 2.6  # conversational speech, for transcripts without times
GAP_S = 0.8
_SCRIPT_LINE = re.compile(r"^\s*(AGENT|CLIENT)(?:@\d+)?\s*:\s*(.+)$", re.IGNORECASE)
_PAUSE_LINE = re.compile(r"^\s*PAUSE\s*:\s*([0-9.]+)\s*$", re.IGNORECASE)
_AGENT_NAMES = {"agent", "rep", "representative", "support", "2"}


class TranscriptError(Exception):
    """A transcript file that cannot be read; the message says why and what is expected."""


@dataclass(frozen=True)
class Turn:
    speaker: Side
    text: str
    start: float | None = None
    end: float | None = None
    pause_before: float | None = None


def _azure(document: dict[str, Any]) -> list[Turn]:
    turns = []
    for conversation in document.get("analysisInput", {}).get("conversations", []):
        for item in conversation.get("conversationItems", []):
            who = str(item.get("participantId", "")).lower()
            speaker = Side.AGENT if who in _AGENT_NAMES else Side.CLIENT
            text = item.get("text") or item.get("itn") or ""
            if text.strip():
                turns.append(Turn(speaker, text.strip()))
    return turns


def _calmline(document: dict[str, Any]) -> list[Turn]:
    return [
        Turn(Side(s["speaker"]), s["text"], float(s["start"]), float(s["end"]))
        for s in document["segments"]
        if s.get("text", "").strip()
    ]


def _script(text: str) -> list[Turn]:
    turns = []
    pause = None
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if match := _PAUSE_LINE.match(line):
            pause = float(match.group(1))
            continue
        if match := _SCRIPT_LINE.match(line):
            speaker = Side(match.group(1).lower())
            turns.append(Turn(speaker, match.group(2).strip(), pause_before=pause))
            pause = None
    return turns


def load_turns(path: Path) -> list[Turn]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise TranscriptError(f"cannot read {path}: {exc}") from None
    turns: list[Turn] = []
    if text.lstrip().startswith("{"):
        try:
            document = json.loads(text)
        except json.JSONDecodeError as exc:
            raise TranscriptError(f"{path} is not valid JSON: {exc}") from None
        if "segments" in document:
            try:
                turns = _calmline(document)
            except (KeyError, ValueError, TypeError) as exc:
                raise TranscriptError(
                    f"{path}: a segment lacks speaker/start/end/text ({exc})"
                ) from None
        else:
            turns = _azure(document)
    else:
        turns = _script(text)
    if not turns:
        raise TranscriptError(
            f"{path}: no turns found; expected Calmline JSON (segments), an Azure conversation "
            "transcript (conversationItems) or a script of 'AGENT: …' / 'CLIENT: …' lines"
        )
    return turns


def timed_segments(turns: list[Turn]) -> list[Segment]:
    segments = []
    clock = 0.5
    for index, turn in enumerate(turns, start=1):
        if turn.start is not None and turn.end is not None:
            start, end = turn.start, turn.end
        else:
            start = clock + (turn.pause_before if turn.pause_before is not None else GAP_S)
            end = start + max(0.8, len(turn.text.split()) / WORDS_PER_SECOND)
        segments.append(Segment(index, turn.speaker, start, end, turn.text))
        clock = end
    return segments


def coach_transcript(
    turns: list[Turn], setup: CallSetup, listeners: Sequence[Listener] = ()
) -> CallResult:
    """Run the turns through the call's stages (redaction, mood, coach), ticking the clock
    second by second in the gaps between turns (so silences count); every event also goes
    to ``listeners`` as it happens."""
    stages = setup.stages()
    collector = Collector()
    deliver = [collector, *listeners]

    def emit(events: list[Event]) -> None:
        for event in events:
            for listener in deliver:
                listener(event)

    now = 0.0
    for segment in timed_segments(turns):
        while now + 1 <= segment.start:
            now += 1
            emit(stages.tick(now))
        emit(stages.process([Committed(segment)]))
        now = max(now, segment.end)
    emit(stages.tick(now + 1))
    return collector.result(setup, None, "text")
