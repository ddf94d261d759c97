"""The live note: a stage that drafts the ticket note again after every new or revised line."""

from __future__ import annotations

from app.events import Committed, Event, EventStage, Revised, Summary, SummaryDraft
from app.summary.draft import SummaryDrafter


class SummaryStage(EventStage):
    """After redaction, so the note only ever holds redacted text. Emits a
    :class:`~app.events.SummaryDraft` when the note changed."""

    component = "ticket note"

    def __init__(self) -> None:
        self._drafter = SummaryDrafter()
        self._last = Summary()
        self._newest = 0.0

    def __call__(self, events: list[Event]) -> list[Event]:
        changed = False
        for event in events:
            if isinstance(event, Committed):
                replaces = event.replaces if isinstance(event, Revised) else ()
                self._drafter.add(event.segment, replaces)
                self._newest = max(self._newest, event.segment.end)
                changed = True
        if not changed:
            return events
        summary = self._drafter.draft()
        if summary == self._last:
            return events
        self._last = summary
        return [*events, SummaryDraft(self._newest, summary)]
