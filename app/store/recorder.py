"""Recording a live call as it happens, without making the call wait on the disk.

The pipeline thread (segments, mood, cues) and the window (notes, checklist, call details)
hand their writes to :class:`CallRecorder`, which only queues them. One writer thread
commits them in order, each in its own transaction, so a crash or ``kill -9`` loses only
what was still queued (milliseconds). A write that fails (disk full, database locked or
unreachable) is kept and retried with backoff — never dropped — and :attr:`problem` says
what is wrong until it succeeds.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import assert_never

from app.calls.mapping import cue_record, flag_record, incident_record, mood_point, segment_record
from app.calls.records import CallInfo, CallRecord
from app.events import (
    ChecklistTick,
    Committed,
    Cue,
    CueCleared,
    Degraded,
    Discarded,
    Event,
    Flag,
    IncidentNote,
    InputLost,
    InputRestored,
    MoodUpdate,
    Partial,
    Revised,
    SpeechStarted,
    Summary,
    SummaryDraft,
)
from app.store.calls import CallStore, utcnow

log = logging.getLogger(__name__)

RETRY_FIRST_S = 0.5
RETRY_MAX_S = 10.0

Write = Callable[[CallStore, int], None]


def event_writes(event: Event) -> Write | None:
    """How a pipeline event is stored (None: not stored, e.g. interim text)."""
    match event:
        case Revised():
            record, replaces = segment_record(event.segment), event.replaces
            return lambda store, call_id: store.revise_segment(call_id, record, replaces)
        case Committed():
            record = segment_record(event.segment)
            return lambda store, call_id: store.add_segment(call_id, record)
        case MoodUpdate():
            point = mood_point(event)
            return lambda store, call_id: store.add_mood(call_id, point)
        case Cue():
            cue = cue_record(event)
            return lambda store, call_id: store.add_cue(call_id, cue)
        case CueCleared():
            if event.reason != "dismissed":
                return None  # expired or replaced: the cue's record says enough
            kind, t = event.kind, event.t
            return lambda store, call_id: store.dismiss_cue(call_id, kind, t)
        case Flag():
            flag = flag_record(event)
            return lambda store, call_id: store.add_flag(call_id, flag)
        case IncidentNote():
            incident = incident_record(event)
            return lambda store, call_id: store.add_incident(call_id, incident)
        case ChecklistTick():
            item, t = event.item, event.t
            return lambda store, call_id: store.set_checklist(call_id, item, True, t, by="coach")
        case SummaryDraft():
            summary = event.summary
            return lambda store, call_id: store.set_summary(call_id, summary)
        case (
            Partial() | SpeechStarted() | Discarded() | Degraded() | InputLost() | InputRestored()
        ):  # fmt: skip
            return None
        case _:
            assert_never(event)


class CallRecorder:
    """One call's writes, in order, on one writer thread."""

    def __init__(
        self, store: CallStore, info: CallInfo, call_id: int | None = None, notes_version: int = 0
    ) -> None:
        self.store = store
        self.info = info
        # A new call is created now (an error here means the call is not recorded).
        self.call_id = store.start_call(info) if call_id is None else call_id
        self._queue: deque[Write] = deque()
        self._wake = threading.Condition()
        self._closing = False
        self._problem: str | None = None
        self._notes_version = notes_version
        self._thread = threading.Thread(target=self._run, name="calmline-recorder", daemon=True)
        self._thread.start()

    @classmethod
    def attach(cls, store: CallStore, record: CallRecord) -> CallRecorder:
        """Go on writing to a stored call (one recovered after a crash)."""
        assert record.id is not None
        return cls(store, record.info, record.id, store.notes_version(record.id))

    # -- from any thread -------------------------------------------------------------------
    def __call__(self, event: Event) -> None:
        """A pipeline event (called on the pipeline thread): queued, never waits."""
        write = event_writes(event)
        if write is not None:
            self._put(write)

    def save_notes(self, text: str) -> None:
        self._notes_version += 1
        version = self._notes_version
        self._put(lambda store, call_id: store.save_notes(call_id, text, version))

    def set_summary(self, summary: Summary) -> None:
        """The ticket note as the agent kept it (edited, accepted, removed items): later
        drafts from the pipeline no longer replace it."""
        self._put(lambda store, call_id: store.set_summary(call_id, summary, by_agent=True))

    def set_checklist(self, item: str, done: bool, t: float | None = None) -> None:
        self._put(lambda store, call_id: store.set_checklist(call_id, item, done, t, by="agent"))

    def keep_audio(self, folder: str, expires_at: datetime) -> None:
        self._put(lambda store, call_id: store.set_audio(call_id, folder, expires_at))

    def update_info(self, **fields: str) -> None:
        self.info = replace(self.info, **fields)
        self._put(lambda store, call_id: store.update_info(call_id, **fields))

    @property
    def problem(self) -> str | None:
        """Why writes are waiting (None when everything is saved or being saved)."""
        return self._problem

    @property
    def unsaved(self) -> int:
        with self._wake:
            return len(self._queue)

    def end_call(self, ended_at: datetime | None = None) -> None:
        """The call is over; notes and details written afterwards still belong to it."""
        ended = ended_at or utcnow()
        self._put(lambda store, call_id: store.end_call(call_id, ended))

    def flush(self, timeout: float | None = 30.0) -> bool:
        """Wait until everything queued so far is written (False: still failing)."""
        with self._wake:
            return self._wake.wait_for(lambda: not self._queue, timeout)

    def close(self, timeout: float | None = 30.0) -> bool:
        """Write what is queued, then stop the writer; False if writes are still failing
        when ``timeout`` runs out (they stay queued and keep being retried meanwhile)."""
        with self._wake:
            self._closing = True
            self._wake.notify_all()
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def finish(self, ended_at: datetime | None = None, timeout: float | None = 30.0) -> bool:
        """End the call and close the recorder (command-line calls: nothing comes after)."""
        self.end_call(ended_at)
        return self.close(timeout)

    # -- the writer thread -----------------------------------------------------------------
    def _put(self, write: Write) -> None:
        with self._wake:
            self._queue.append(write)
            self._wake.notify_all()

    def _run(self) -> None:
        delay = RETRY_FIRST_S
        while True:
            with self._wake:
                while not self._queue and not self._closing:
                    self._wake.wait()
                if not self._queue:
                    return  # closing, all written
                write = self._queue[0]
            try:
                write(self.store, self.call_id)
            except Exception as exc:  # disk full, locked, server gone: keep it, retry
                self._problem = describe_write_failure(exc)
                log.warning("saving the call failed, retrying in %.1f s: %s", delay, exc)
                with self._wake:
                    self._wake.wait(delay)
                delay = min(RETRY_MAX_S, delay * 2)
                continue
            with self._wake:
                self._queue.popleft()
                self._wake.notify_all()  # flush() waits for an empty queue
            self._problem = None
            delay = RETRY_FIRST_S


# What the agent is told while writes fail: the cause in plain words, and what helps.
_FAILURES = (
    (
        ("locked", "busy"),
        "another program holds the call database locked (a backup, or another Calmline); close it",
    ),
    (("full", "no space"), "the disk is full; free some disk space"),
    (
        ("readonly", "read-only", "permission denied"),
        "the call database cannot be written; check the permissions of its folder",
    ),
    (
        (
            "connection refused",
            "could not connect",
            "server closed",
            "connection timed out",
            "terminating connection",
        ),
        "the team database cannot be reached; check the network, "
        "or ask your admin whether the server is up",
    ),
)


def describe_write_failure(exc: BaseException) -> str:
    """Why a write failed, for the agent: SQLAlchemy's own wrapper text (``(raised as a
    result of Query-invoked autoflush …)``) is left out; the driver's error is kept."""
    cause = getattr(exc, "orig", None) or exc
    detail = next((line.strip() for line in str(cause).splitlines() if line.strip()), "")
    detail = detail or cause.__class__.__name__
    lowered = detail.lower()
    for needles, advice in _FAILURES:
        if any(needle in lowered for needle in needles):
            return f"{detail}: {advice}"
    return detail
