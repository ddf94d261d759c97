"""Offline-then-sync to the team database.

An agent's calls are always written to the local database first, so a call never depends
on the network. :class:`TeamSync` copies every call that changed since its last copy to the
team database (PostgreSQL): the call row is upserted by its ``uid`` (the idempotent key),
its lines, cues, flags, incidents, mood, checklist and notes history are replaced, all in
one transaction. Running it again, or after a failure half-way, never duplicates anything;
a team database that is unreachable just leaves the calls waiting for the next run.
Supervisors' reviews live only in the team database and are never touched.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, delete, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import SQLAlchemyError

from app.store.calls import CallStore, aware
from app.store.db import StoreError, open_engine
from app.store.schema import (
    Call,
    ChecklistRow,
    CueRow,
    FlagRow,
    Incident,
    MoodRow,
    NoteVersion,
    Segment,
)

log = logging.getLogger(__name__)

CHILDREN = (Segment, CueRow, FlagRow, Incident, MoodRow, ChecklistRow, NoteVersion)
# Columns that belong to one PC (or are set by the team database itself) are not copied.
LOCAL_ONLY = {"id", "owner_role", "synced_at", "audio_dir", "audio_expires_at"}


@dataclass(frozen=True)
class SyncResult:
    pushed: int  # calls copied this time
    waiting: int  # calls still to copy (the team database could not be reached, or failed)
    error: str | None = None


class TeamSync:
    def __init__(self, local: CallStore, team_url: str) -> None:
        self.local = local
        self.team_url = team_url
        self._team: Engine | None = None

    @property
    def where(self) -> str:
        return self._team.url.render_as_string(hide_password=True) if self._team else "?"

    def _team_engine(self) -> Engine:
        if self._team is None:
            self._team = open_engine(self.team_url)  # runs (no-op) migrations: a reachability check
        return self._team

    def close(self) -> None:
        if self._team is not None:
            self._team.dispose()
            self._team = None

    def changed_calls(self) -> list[tuple[int, datetime]]:
        """Local calls changed since their last copy: (local id, updated time)."""
        with self.local.engine.connect() as connection:
            rows = connection.execute(
                select(Call.id, Call.updated_at).where(
                    (Call.synced_at.is_(None)) | (Call.updated_at > Call.synced_at)
                )
            ).all()
        return [(call_id, updated) for call_id, updated in rows]

    def sync_once(self) -> SyncResult:
        changed = self.changed_calls()
        if not changed:
            return SyncResult(0, 0)
        try:
            team = self._team_engine()
        except StoreError as exc:
            return SyncResult(0, len(changed), str(exc))
        pushed = 0
        for call_id, updated_at in changed:
            try:
                self._push(team, call_id)
            except SQLAlchemyError as exc:
                self.close()  # reconnect next time
                message = f"{exc.__class__.__name__}: {str(exc).splitlines()[0]}"
                log.warning("syncing call %s to the team database failed: %s", call_id, message)
                return SyncResult(pushed, len(changed) - pushed, message)
            with self.local.engine.begin() as connection:
                # The time read before copying: a change made meanwhile is copied next time.
                connection.execute(
                    update(Call).where(Call.id == call_id).values(synced_at=updated_at)
                )
            pushed += 1
        return SyncResult(pushed, 0)

    def _push(self, team: Engine, call_id: int) -> None:
        with self.local.engine.connect() as source:
            call = source.execute(select(Call.__table__).where(Call.id == call_id)).mappings().one()
            children = {
                model: source.execute(select(model.__table__).where(model.call_id == call_id))
                .mappings()
                .all()
                for model in CHILDREN
            }
        values = {k: v for k, v in call.items() if k not in LOCAL_ONLY}
        for key in ("started_at", "ended_at", "updated_at"):
            values[key] = aware(values[key])  # SQLite gives UTC without a zone
        with team.begin() as target:
            statement = pg_insert(Call.__table__).values(**values)
            statement = statement.on_conflict_do_update(
                index_elements=[Call.uid],
                set_={k: statement.excluded[k] for k in values if k != "uid"},
            ).returning(Call.id)
            team_id = target.execute(statement).scalar_one()
            for model, rows in children.items():
                target.execute(delete(model.__table__).where(model.call_id == team_id))
                copies = []
                for row in rows:
                    copy = dict(row)
                    copy["call_id"] = team_id
                    if "id" in copy and model is not ChecklistRow:
                        copy.pop("id")
                    if model is NoteVersion:
                        copy["saved_at"] = aware(copy["saved_at"])
                    copies.append(copy)
                if copies:
                    target.execute(insert(model.__table__), copies)
