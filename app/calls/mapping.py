"""The one place where what the pipeline said becomes what is stored: each event that is
kept has its record here; the recorder (live calls) and ``analyze --save`` both use it."""

from __future__ import annotations

from app.calls.records import CueRecord, FlagRecord, IncidentRecord, MoodPoint, SegmentRecord
from app.events import Cue, Flag, IncidentNote, MoodUpdate, Segment


def segment_record(segment: Segment) -> SegmentRecord:
    s = segment
    return SegmentRecord(s.id, s.speaker.value, s.start, s.end, s.text, s.latency_s, s.sentiment)


def cue_record(cue: Cue) -> CueRecord:
    return CueRecord(cue.t, cue.kind, cue.message, tuple(cue.phrases), cue.segment_id)


def flag_record(flag: Flag) -> FlagRecord:
    return FlagRecord(flag.t, flag.kind, flag.excerpt, flag.segment_id)


def incident_record(note: IncidentNote) -> IncidentRecord:
    return IncidentRecord(note.t, note.text, note.excerpt, note.segment_id)


def mood_point(update: MoodUpdate) -> MoodPoint:
    return MoodPoint(update.t, update.value, update.trend.value)
