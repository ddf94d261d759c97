"""The call store: every call's record, written as it happens, read back as plain data.

Each method is one short transaction, safe to call from any thread (each opens its own
SQLAlchemy session). Wall-clock times are stored in UTC and returned timezone-aware.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, Select, delete, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from app.calls.records import (
    CallInfo,
    CallRecord,
    CueRecord,
    ExportRecord,
    FlagRecord,
    IncidentRecord,
    MoodPoint,
    SegmentRecord,
)
from app.events import Segment as Line
from app.events import Summary
from app.store.db import open_engine
from app.store.schema import (
    Call,
    ChecklistRow,
    CueRow,
    Export,
    FlagRow,
    Incident,
    MoodRow,
    NoteVersion,
    Segment,
)
from app.summary.draft import draft_summary
from audio.sides import Side

NOTE_HISTORY_STEP = timedelta(seconds=60)
EDITABLE_INFO = ("agent", "client_name", "client_contact", "ticket_id", "subject")

log = logging.getLogger(__name__)


def utcnow() -> datetime:
    return datetime.now(UTC)


def aware(moment: datetime | None) -> datetime | None:
    """A stored time in this machine's time zone. Everything is stored in UTC; SQLite
    hands it back without a zone."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone()


def to_utc(moment: datetime | None) -> datetime | None:
    """For storing: SQLite keeps the wall-clock digits only, so always store UTC."""
    if moment is None:
        return None
    return (moment if moment.tzinfo else moment.astimezone()).astimezone(UTC)


def new_uid() -> str:
    return str(uuid.uuid4())


@dataclass(frozen=True)
class CallSummary:
    """One line of the call list."""

    id: int
    uid: str
    started_at: datetime
    duration_s: float
    status: str
    agent: str
    client_name: str
    ticket_id: str
    worst_mood: float | None
    flags: tuple[str, ...]  # flag kinds
    segments: int


@dataclass(frozen=True)
class PendingExport:
    id: int
    call_id: int
    target: str
    status: str
    request: dict[str, Any]
    attempts: int
    next_attempt_at: datetime | None
    last_error: str


def _pid_alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class CallStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._session = sessionmaker(engine, expire_on_commit=False)

    @classmethod
    def open(cls, url: str | None = None) -> CallStore:
        """Open (creating and migrating as needed) the database at ``url``; the default is
        a SQLite file in the user's data folder. Raises ``StoreError``."""
        return cls(open_engine(url))

    def close(self) -> None:
        self.engine.dispose()

    @property
    def where(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)

    # -- writing a call as it happens --------------------------------------------------------
    @contextmanager
    def _writing(self, session: Session | None) -> Iterator[Session]:
        """Each write is its own transaction, unless it is part of a larger one."""
        if session is not None:
            yield session
            return
        with self._session.begin() as own:
            yield own

    def start_call(self, info: CallInfo, session: Session | None = None) -> int:
        now = utcnow()
        with self._writing(session) as session:
            row = Call(
                uid=info.uid,
                agent=info.agent,
                client_name=info.client_name,
                client_contact=info.client_contact,
                ticket_id=info.ticket_id,
                subject=info.subject,
                source=info.source,
                status=info.status,
                started_at=to_utc(info.started_at),
                ended_at=to_utc(info.ended_at),
                updated_at=now,
                devices=dict(info.devices),
                model=dict(info.model),
                owner_host=socket.gethostname(),
                owner_pid=os.getpid(),
            )
            session.add(row)
            session.flush()
            return row.id

    def _touch(self, session: Session, call_id: int) -> None:
        session.execute(update(Call).where(Call.id == call_id).values(updated_at=utcnow()))

    def add_segment(
        self, call_id: int, segment: SegmentRecord, session: Session | None = None
    ) -> None:
        """Idempotent: the same segment number twice is stored once (a retried write)."""
        with self._writing(session) as session:
            exists = session.scalar(
                select(Segment.id).where(Segment.call_id == call_id, Segment.seq == segment.seq)
            )
            if exists is not None:
                return
            sentiment = segment.sentiment or None
            session.add(
                Segment(
                    call_id=call_id,
                    seq=segment.seq,
                    speaker=segment.speaker,
                    start=segment.start,
                    end=segment.end,
                    text=segment.text,
                    latency_s=segment.latency_s,
                    sentiment_label=sentiment.get("label") if sentiment else None,
                    sentiment=sentiment,
                )
            )
            self._touch(session, call_id)

    def revise_segment(self, call_id: int, segment: SegmentRecord, replaces: Iterable[int]) -> None:
        """A line decoded again over a longer stretch: ``segment`` takes the place of the
        lines ``replaces`` (its own number among them); cues, flags and incident notes on
        the replaced lines move to it. Idempotent, like every write (a retried write)."""
        gone = [seq for seq in replaces if seq != segment.seq]
        sentiment = segment.sentiment or None
        with self._session.begin() as session:
            row = session.scalar(
                select(Segment).where(Segment.call_id == call_id, Segment.seq == segment.seq)
            )
            if row is None:
                row = Segment(call_id=call_id, seq=segment.seq, speaker=segment.speaker)
                session.add(row)
            row.start, row.end, row.text = segment.start, segment.end, segment.text
            row.latency_s = segment.latency_s if segment.latency_s is not None else row.latency_s
            row.sentiment_label = sentiment.get("label") if sentiment else None
            row.sentiment = sentiment
            if gone:
                session.execute(
                    delete(Segment).where(Segment.call_id == call_id, Segment.seq.in_(gone))
                )
                for table in (CueRow, FlagRow, Incident):
                    session.execute(
                        update(table)
                        .where(table.call_id == call_id, table.segment_seq.in_(gone))
                        .values(segment_seq=segment.seq)
                    )
            self._touch(session, call_id)

    def add_cue(self, call_id: int, cue: CueRecord, session: Session | None = None) -> None:
        with self._writing(session) as session:
            self._touch(session, call_id)
            session.add(
                CueRow(
                    call_id=call_id,
                    t=cue.t,
                    kind=cue.kind,
                    message=cue.message,
                    phrases=list(cue.phrases),
                    segment_seq=cue.segment_seq,
                    dismissed_t=cue.dismissed_t,
                )
            )

    def dismiss_cue(self, call_id: int, kind: str, t: float) -> None:
        """The agent dismissed the latest cue of ``kind``."""
        with self._session.begin() as session:
            self._touch(session, call_id)
            row = session.scalars(
                select(CueRow)
                .where(CueRow.call_id == call_id, CueRow.kind == kind)
                .order_by(CueRow.t.desc(), CueRow.id.desc())
                .limit(1)
            ).first()
            if row is not None and row.dismissed_t is None:
                row.dismissed_t = t

    def add_flag(self, call_id: int, flag: FlagRecord, session: Session | None = None) -> None:
        with self._writing(session) as session:
            self._touch(session, call_id)
            session.add(
                FlagRow(
                    call_id=call_id,
                    t=flag.t,
                    kind=flag.kind,
                    excerpt=flag.excerpt,
                    segment_seq=flag.segment_seq,
                )
            )

    def add_incident(
        self, call_id: int, incident: IncidentRecord, session: Session | None = None
    ) -> None:
        with self._writing(session) as session:
            self._touch(session, call_id)
            session.add(
                Incident(
                    call_id=call_id,
                    t=incident.t,
                    text=incident.text,
                    excerpt=incident.excerpt,
                    segment_seq=incident.segment_seq,
                )
            )

    def add_mood(self, call_id: int, point: MoodPoint, session: Session | None = None) -> None:
        with self._writing(session) as session:
            self._touch(session, call_id)
            session.add(MoodRow(call_id=call_id, t=point.t, value=point.value, trend=point.trend))

    def set_checklist(
        self,
        call_id: int,
        item: str,
        done: bool,
        t: float | None = None,
        by: str = "agent",
        session: Session | None = None,
    ) -> None:
        with self._writing(session) as session:
            self._touch(session, call_id)
            row = session.get(ChecklistRow, (call_id, item))
            if row is None:
                session.add(ChecklistRow(call_id=call_id, item=item, done=done, t=t, by=by))
            else:
                row.done, row.t, row.by = done, t, by

    def save_notes(
        self,
        call_id: int,
        text: str,
        version: int,
        now: datetime | None = None,
        session: Session | None = None,
    ) -> bool:
        """Store edit number ``version`` of the notes; an older version never overwrites a
        newer one (saves may arrive out of order). False if it was older."""
        now = to_utc(now) or utcnow()
        with self._writing(session) as session:
            call = session.get(Call, call_id)
            if call is None or version <= call.notes_version:
                return False
            call.notes, call.notes_version, call.updated_at = text, version, now
            last = session.scalars(
                select(NoteVersion)
                .where(NoteVersion.call_id == call_id)
                .order_by(NoteVersion.version.desc())
                .limit(1)
            ).first()
            if last is not None and now - aware(last.saved_at) < NOTE_HISTORY_STEP:
                last.text, last.version = text, version
            else:
                session.add(NoteVersion(call_id=call_id, version=version, saved_at=now, text=text))
            return True

    def set_summary(
        self,
        call_id: int,
        summary: Summary,
        by_agent: bool = False,
        session: Session | None = None,
    ) -> bool:
        """Store the call's ticket note. A draft (``by_agent`` False) never replaces a note
        the agent has edited; False if it was not stored for that reason."""
        with self._writing(session) as session:
            call = session.get(Call, call_id)
            edited = bool(call is not None and call.summary and call.summary.get("by_agent"))
            if call is None or (edited and not by_agent):
                return False
            call.summary = {"note": summary.to_json(), "by_agent": edited or by_agent}
            call.updated_at = utcnow()
            return True

    def notes_version(self, call_id: int) -> int:
        with self._session() as session:
            return session.scalar(select(Call.notes_version).where(Call.id == call_id)) or 0

    def set_audio(self, call_id: int, folder: str, expires_at: datetime) -> None:
        """The call's audio is kept in ``folder`` until ``expires_at``."""
        with self._session.begin() as session:
            session.execute(
                update(Call)
                .where(Call.id == call_id)
                .values(audio_dir=folder, audio_expires_at=to_utc(expires_at))
            )

    def purge_expired_audio(self, now: datetime | None = None) -> list[int]:
        """Delete the kept audio of calls past their retention date (the files, then the
        reference); returns those calls' ids. The transcript and notes stay."""
        now = to_utc(now) or utcnow()
        with self._session() as session:
            expired = session.execute(
                select(Call.id, Call.audio_dir).where(
                    Call.audio_dir.is_not(None), Call.audio_expires_at <= now
                )
            ).all()
        purged = []
        for call_id, folder in expired:
            shutil.rmtree(folder, ignore_errors=True)
            if not Path(folder).exists():
                with self._session.begin() as session:
                    session.execute(
                        update(Call)
                        .where(Call.id == call_id)
                        .values(audio_dir=None, audio_expires_at=None)
                    )
                purged.append(call_id)
        return purged

    def update_info(self, call_id: int, **fields: str) -> None:
        unknown = set(fields) - set(EDITABLE_INFO)
        if unknown:
            raise ValueError(f"not editable: {sorted(unknown)}")
        with self._session.begin() as session:
            session.execute(
                update(Call).where(Call.id == call_id).values(**fields, updated_at=utcnow())
            )

    def end_call(
        self,
        call_id: int,
        ended_at: datetime | None = None,
        status: str = "ended",
        session: Session | None = None,
    ) -> None:
        with self._writing(session) as session:
            session.execute(
                update(Call)
                .where(Call.id == call_id)
                .values(ended_at=to_utc(ended_at) or utcnow(), status=status, updated_at=utcnow())
            )

    def save_record(self, record: CallRecord) -> int:
        """Store a whole call at once (an analysed recording), exactly like a live one.

        One transaction: a failure or crash part-way leaves nothing, and saving the same
        call again (same uid) returns the call already stored instead of a second one."""
        info = record.info
        with self._session.begin() as session:
            existing = session.scalar(select(Call.id).where(Call.uid == info.uid))
            if existing is not None:
                return existing
            call_id = self.start_call(replace(info, status="live"), session=session)
            for segment in record.segments:
                self.add_segment(call_id, segment, session=session)
            for cue in record.cues:
                self.add_cue(call_id, cue, session=session)
            for flag in record.flags:
                self.add_flag(call_id, flag, session=session)
            for incident in record.incidents:
                self.add_incident(call_id, incident, session=session)
            for point in record.mood:
                self.add_mood(call_id, point, session=session)
            for item, done in record.checklist.items():
                self.set_checklist(call_id, item, done, by="coach", session=session)
            if record.notes:
                self.save_notes(call_id, record.notes, 1, session=session)
            if record.summary is not None:
                self.set_summary(call_id, record.summary, session=session)
            ended = info.ended_at or info.started_at + timedelta(seconds=record.duration_s)
            self.end_call(call_id, ended, status="ended", session=session)
        return call_id

    # -- reading -------------------------------------------------------------------------
    def get(self, call: int | str) -> CallRecord | None:
        """A call by local id or uid."""
        with self._session() as session:
            query = select(Call).where(
                Call.uid == call if isinstance(call, str) else Call.id == call
            )
            row = session.scalars(query).first()
            return None if row is None else _record(row)

    def list_calls(
        self,
        flagged: bool = False,
        since: datetime | None = None,
        status: Iterable[str] | None = None,
        limit: int = 200,
    ) -> list[CallSummary]:
        query = summary_query().order_by(Call.started_at.desc()).limit(limit)
        if flagged:
            query = query.where(select(FlagRow.id).where(FlagRow.call_id == Call.id).exists())
        if since is not None:
            query = query.where(Call.started_at >= to_utc(since))
        if status is not None:
            query = query.where(Call.status.in_(list(status)))
        with self.engine.connect() as connection:
            return read_summaries(connection.execute(query))

    def interrupted_calls(self) -> list[CallSummary]:
        """This PC's calls still marked live whose Calmline process is gone (a crash, a
        kill, a power cut). Calls of other PCs (a team database) are theirs to recover."""
        host = socket.gethostname()
        with self._session() as session:
            rows = session.execute(
                select(Call.id, Call.owner_pid).where(
                    Call.status == "live", Call.owner_host == host
                )
            ).all()
        gone = {call_id for call_id, pid in rows if pid != os.getpid() and not _pid_alive(pid)}
        return [s for s in self.list_calls(status=("live",), limit=1000) if s.id in gone]

    def recover(self, call_id: int) -> CallRecord:
        """Close an interrupted call with what was saved; its end is its last saved moment."""
        with self._session.begin() as session:
            row = session.get(Call, call_id)
            if row is None:
                raise KeyError(call_id)
            last_end = session.scalar(
                select(func.max(Segment.end)).where(Segment.call_id == call_id)
            )
            started = aware(row.started_at)
            assert started is not None
            candidates = [aware(row.updated_at), started + timedelta(seconds=last_end or 0.0)]
            row.ended_at = to_utc(max(c for c in candidates if c is not None))
            row.status = "recovered"
            row.updated_at = utcnow()
        record = self.get(call_id)
        assert record is not None
        return record

    # -- exports and the outbox ------------------------------------------------------------
    def add_export(
        self,
        call_id: int,
        target: str,
        status: str,
        result: str = "",
        request: dict[str, Any] | None = None,
        error: str = "",
        next_attempt_at: datetime | None = None,
        attempts: int = 0,
    ) -> int:
        now = utcnow()
        with self._session.begin() as session:
            row = Export(
                call_id=call_id,
                target=target,
                status=status,
                created_at=now,
                updated_at=now,
                attempts=attempts,
                next_attempt_at=to_utc(next_attempt_at),
                last_error=error,
                result=result,
                request=dict(request or {}),
            )
            session.add(row)
            session.flush()
            return row.id

    def update_export(self, export_id: int, **fields: Any) -> None:
        if fields.get("next_attempt_at") is not None:
            fields["next_attempt_at"] = to_utc(fields["next_attempt_at"])
        with self._session.begin() as session:
            session.execute(
                update(Export).where(Export.id == export_id).values(**fields, updated_at=utcnow())
            )

    def pending_exports(
        self, due_by: datetime | None = None, statuses: Iterable[str] = ("pending",)
    ) -> list[PendingExport]:
        """The outbox: exports waiting to be sent (all, or those due by ``due_by``).
        "pending" ones wait for their next attempt; "auth" ones for credentials."""
        with self._session() as session:
            query = select(Export).where(Export.status.in_(list(statuses))).order_by(Export.id)
            if due_by is not None:
                query = query.where(Export.next_attempt_at <= to_utc(due_by))
            return [
                PendingExport(
                    row.id,
                    row.call_id,
                    row.target,
                    row.status,
                    dict(row.request),
                    row.attempts,
                    aware(row.next_attempt_at),
                    row.last_error,
                )
                for row in session.scalars(query)
            ]


def summary_query() -> Select[Any]:
    """The call list's columns, one row per call, in one query (narrow it with ``where``)."""
    worst = select(func.min(MoodRow.value)).where(MoodRow.call_id == Call.id)
    lines = select(func.count(Segment.id)).where(Segment.call_id == Call.id)
    last_end = select(func.max(Segment.end)).where(Segment.call_id == Call.id)
    kinds = select(func.aggregate_strings(FlagRow.kind, ",")).where(FlagRow.call_id == Call.id)
    return select(
        Call.id,
        Call.uid,
        Call.started_at,
        Call.ended_at,
        Call.status,
        Call.agent,
        Call.client_name,
        Call.ticket_id,
        worst.scalar_subquery().label("worst"),
        kinds.scalar_subquery().label("kinds"),
        lines.scalar_subquery().label("lines"),
        last_end.scalar_subquery().label("last_end"),
    )


def read_summaries(rows: Iterable[Any]) -> list[CallSummary]:
    """The rows of :func:`summary_query` as call summaries."""
    summaries = []
    for row in rows:
        started, ended = aware(row.started_at), aware(row.ended_at)
        assert started is not None
        duration = (ended - started).total_seconds() if ended else float(row.last_end or 0.0)
        summaries.append(
            CallSummary(
                id=row.id,
                uid=row.uid,
                started_at=started,
                duration_s=max(0.0, duration),
                status=row.status,
                agent=row.agent,
                client_name=row.client_name,
                ticket_id=row.ticket_id,
                worst_mood=row.worst,
                flags=tuple(row.kinds.split(",")) if row.kinds else (),
                segments=int(row.lines or 0),
            )
        )
    return summaries


def _record(row: Call) -> CallRecord:
    started = aware(row.started_at)
    assert started is not None
    segments = tuple(
        SegmentRecord(s.seq, s.speaker, s.start, s.end, s.text, s.latency_s, s.sentiment)
        for s in sorted(row.segments, key=lambda s: (s.start, s.seq))
    )
    return CallRecord(
        id=row.id,
        info=CallInfo(
            uid=row.uid,
            started_at=started,
            ended_at=aware(row.ended_at),
            agent=row.agent,
            client_name=row.client_name,
            client_contact=row.client_contact,
            ticket_id=row.ticket_id,
            source=row.source,
            status=row.status,
            devices=dict(row.devices or {}),
            model=dict(row.model or {}),
            subject=row.subject,
            audio_dir=row.audio_dir,
        ),
        segments=segments,
        cues=tuple(
            CueRecord(c.t, c.kind, c.message, tuple(c.phrases or ()), c.segment_seq, c.dismissed_t)
            for c in row.cues
        ),
        flags=tuple(FlagRecord(f.t, f.kind, f.excerpt, f.segment_seq) for f in row.flags),
        incidents=tuple(
            IncidentRecord(i.t, i.text, i.excerpt, i.segment_seq) for i in row.incidents
        ),
        mood=tuple(MoodPoint(m.t, m.value, m.trend) for m in row.mood),
        notes=row.notes,
        summary=_summary(row, segments),
        checklist={c.item: c.done for c in row.checklist},
        exports=tuple(
            ExportRecord(
                e.target,
                e.status,
                aware(e.created_at) or utcnow(),
                e.result,
                e.attempts,
                e.last_error,
            )
            for e in row.exports
        ),
    )


def _summary(row: Call, segments: Sequence[SegmentRecord]) -> Summary | None:
    """The stored note; drafted now for a call stored before notes were drafted (or whose
    stored note is unreadable); None for a call without lines."""
    if row.summary:
        try:
            return Summary.from_json(row.summary["note"])
        except (ValueError, KeyError, TypeError):
            log.warning("call %s: its stored ticket note is unreadable; drafted again", row.uid)
    if not segments:
        return None
    return draft_summary([Line(s.seq, Side(s.speaker), s.start, s.end, s.text) for s in segments])
