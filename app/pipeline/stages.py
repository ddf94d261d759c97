"""Running a call's stages: one runner, one failure policy, for live calls, recordings and
written transcripts alike.

A stage that raises is skipped for that step (its input passes on unchanged) and the call
goes on with what still works. The first failure of a component — on events, on the clock
tick or on a dismissal — is reported as a :class:`~app.events.Degraded` event naming it;
while it keeps failing the log has each failure and the agent is not told again; once it
has worked again, a new failure is reported again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from app.events import Degraded, Event, Stage
from app.pipeline.memory import HeapTrim

log = logging.getLogger(__name__)


class StageRunner:
    """The stages of one call, in order, plus the heap housekeeping long calls need."""

    def __init__(self, stages: Sequence[Stage], housekeeping: HeapTrim | None = None) -> None:
        self.stages = list(stages)
        self._housekeeping = housekeeping
        self._failing: set[tuple[str, str]] = set()  # (component, what) that last failed

    def process(self, events: list[Event]) -> list[Event]:
        """One step's events through every stage."""
        for stage in self.stages:
            events = self._guarded(stage, "events", lambda s, ev=events: s(ev), fallback=events)
        return events

    def tick(self, now: float) -> list[Event]:
        """The call clock at ``now``: what time-driven stages (the coach) have to say."""
        out: list[Event] = []
        for stage in self.stages:
            out.extend(self._guarded(stage, "clock tick", lambda s: s.tick(now), fallback=[]))
        if self._housekeeping is not None:
            self._housekeeping.tick()
        return out

    def dismiss(self, now: float) -> list[Event]:
        """The agent dismissed the cue in front."""
        out: list[Event] = []
        for stage in self.stages:
            out.extend(self._guarded(stage, "dismissal", lambda s: s.dismiss(now), fallback=[]))
        return out

    def _guarded(
        self,
        stage: Stage,
        what: str,
        call: Callable[[Stage], list[Event]],
        fallback: list[Event],
    ) -> list[Event]:
        component = stage.component
        try:
            result = call(stage)
        except Exception as exc:
            log.exception(
                "%s failed on the %s; its output is missing for this step", component, what
            )
            if (component, what) in self._failing:
                return fallback
            self._failing.add((component, what))
            message = f"{component} failed ({exc}); it is missing for this part of the call"
            return [*fallback, Degraded(component, message)]
        self._failing.discard((component, what))
        return result
