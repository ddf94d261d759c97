"""One instance of every pipeline event, for the tests that prove each consumer handles
them all (app/events.py: ``Event``)."""

from __future__ import annotations

from app.events import (
    EVENT_TYPES,
    ChecklistTick,
    Committed,
    Cue,
    CueCleared,
    Degraded,
    Discarded,
    Flag,
    IncidentNote,
    InputLost,
    InputRestored,
    MoodUpdate,
    Partial,
    Revised,
    Segment,
    SpeechStarted,
    Summary,
    SummaryDraft,
    SummaryItem,
    Trend,
)
from audio.sides import Side


def one_of_each() -> list:
    """Every member of the ``Event`` union once, in an order a call could produce them."""
    line = Segment(1, Side.CLIENT, 0.5, 2.0, "this is ridiculous", 0.4)
    events = [
        SpeechStarted(Side.CLIENT, 0.5),
        Partial(Side.CLIENT, 0.5, "this is"),
        Committed(line),
        Revised(Segment(1, Side.CLIENT, 0.5, 3.0, "this is ridiculous, honestly", 0.4), (1,)),
        Discarded(Side.AGENT, 1.0, 1.4, "crosstalk"),
        MoodUpdate(3.0, -0.6, Trend.FALLING, 1),
        Cue(3.1, "frustration", "Validate, then give the next step", ("I understand.",), 1),
        CueCleared(9.0, "frustration", "dismissed"),
        Flag(3.2, "abusive_language", "this is ridiculous", 1),
        IncidentNote(3.3, "[00:00] Abusive language continued.", "this is ridiculous", 1),
        ChecklistTick(4.0, "listened", 1),
        Degraded("client mood", "client mood failed (boom); it is missing"),
        InputLost(Side.CLIENT, 5.0, "Monitor of softphone", "device removed"),
        InputRestored(Side.CLIENT, 6.0, "Monitor of softphone", 1.0),
        SummaryDraft(3.0, Summary(reason=(SummaryItem("this is ridiculous", 0.5, 1),))),
    ]
    assert {type(e) for e in events} == set(EVENT_TYPES), "one_of_each() misses an event type"
    return events
