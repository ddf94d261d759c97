"""The call database's tables (SQLAlchemy 2). The same schema runs on SQLite (one agent's PC)
and PostgreSQL (a team). Changes go through an Alembic migration in ``migrations/versions``;
``tests/store/test_store.py`` checks that the migrations and these models agree."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    FetchedValue,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    type_annotation_map = {  # noqa: RUF012 (SQLAlchemy's own class attribute)
        datetime: DateTime(timezone=True),
        dict[str, Any]: JSON,
        list[str]: JSON,
    }


class Call(Base):
    __tablename__ = "calls"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[str] = mapped_column(String(36), unique=True)  # idempotent key for team sync
    agent: Mapped[str] = mapped_column(String(200), default="")
    client_name: Mapped[str] = mapped_column(String(200), default="")
    client_contact: Mapped[str] = mapped_column(String(320), default="")
    ticket_id: Mapped[str] = mapped_column(String(100), default="")
    subject: Mapped[str] = mapped_column(String(500), default="")
    source: Mapped[str] = mapped_column(String(20), default="live")
    status: Mapped[str] = mapped_column(String(20), default="live", index=True)
    started_at: Mapped[datetime] = mapped_column(index=True)
    ended_at: Mapped[datetime | None]
    updated_at: Mapped[datetime]
    devices: Mapped[dict[str, Any]] = mapped_column(default=dict)
    model: Mapped[dict[str, Any]] = mapped_column(default=dict)
    owner_host: Mapped[str] = mapped_column(String(200), default="")
    owner_pid: Mapped[int | None]
    redacted: Mapped[bool] = mapped_column(Boolean, default=True)
    notes: Mapped[str] = mapped_column(Text, default="")
    notes_version: Mapped[int] = mapped_column(Integer, default=0)
    # The drafted ticket note: {"note": app.events.Summary as JSON, "by_agent": bool}. Once
    # the agent has edited it (by_agent), later drafts no longer replace it. No default, so
    # an INSERT leaves it out; deferred, so only reading a whole call loads it.
    summary: Mapped[dict[str, Any] | None] = mapped_column(JSON, deferred=True)
    audio_dir: Mapped[str | None] = mapped_column(String(1000))
    audio_expires_at: Mapped[datetime | None]
    # Team mode (PostgreSQL): the database role that owns the call; row-level security
    # lets an agent's role see only its own calls. Local SQLite leaves it empty.
    # FetchedValue: the INSERT leaves it out, so PostgreSQL's default (current_user) applies.
    owner_role: Mapped[str | None] = mapped_column(
        String(63), index=True, server_default=FetchedValue()
    )
    # When this call was last copied to the team database (offline-then-sync).
    synced_at: Mapped[datetime | None]

    segments: Mapped[list[Segment]] = relationship(
        order_by="Segment.start", cascade="all, delete-orphan", passive_deletes=True
    )
    cues: Mapped[list[CueRow]] = relationship(
        order_by="CueRow.t", cascade="all, delete-orphan", passive_deletes=True
    )
    flags: Mapped[list[FlagRow]] = relationship(
        order_by="FlagRow.t", cascade="all, delete-orphan", passive_deletes=True
    )
    incidents: Mapped[list[Incident]] = relationship(
        order_by="Incident.t", cascade="all, delete-orphan", passive_deletes=True
    )
    mood: Mapped[list[MoodRow]] = relationship(
        order_by="MoodRow.t", cascade="all, delete-orphan", passive_deletes=True
    )
    checklist: Mapped[list[ChecklistRow]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True
    )
    note_versions: Mapped[list[NoteVersion]] = relationship(
        order_by="NoteVersion.version", cascade="all, delete-orphan", passive_deletes=True
    )
    exports: Mapped[list[Export]] = relationship(
        order_by="Export.id", cascade="all, delete-orphan", passive_deletes=True
    )
    reviews: Mapped[list[Review]] = relationship(
        order_by="Review.reviewed_at", cascade="all, delete-orphan", passive_deletes=True
    )


def _call_fk() -> Mapped[int]:
    return mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)


class Segment(Base):
    __tablename__ = "segments"
    __table_args__ = (UniqueConstraint("call_id", "seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    call_id: Mapped[int] = _call_fk()
    seq: Mapped[int] = mapped_column(Integer)
    speaker: Mapped[str] = mapped_column(String(10))
    start: Mapped[float] = mapped_column(Float)
    end: Mapped[float] = mapped_column(Float)
    text: Mapped[str] = mapped_column(Text)
    latency_s: Mapped[float | None] = mapped_column(Float)
    sentiment_label: Mapped[str | None] = mapped_column(String(10))
    sentiment: Mapped[dict[str, Any] | None]


class CueRow(Base):
    __tablename__ = "cues"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    call_id: Mapped[int] = _call_fk()
    t: Mapped[float] = mapped_column(Float)
    kind: Mapped[str] = mapped_column(String(40))
    message: Mapped[str] = mapped_column(Text)
    phrases: Mapped[list[str]] = mapped_column(default=list)
    segment_seq: Mapped[int | None]
    dismissed_t: Mapped[float | None] = mapped_column(Float)


class FlagRow(Base):
    __tablename__ = "flags"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    call_id: Mapped[int] = _call_fk()
    t: Mapped[float] = mapped_column(Float)
    kind: Mapped[str] = mapped_column(String(40), index=True)
    excerpt: Mapped[str] = mapped_column(Text)
    segment_seq: Mapped[int | None]


class Incident(Base):
    __tablename__ = "incidents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    call_id: Mapped[int] = _call_fk()
    t: Mapped[float] = mapped_column(Float)
    text: Mapped[str] = mapped_column(Text)
    excerpt: Mapped[str] = mapped_column(Text)
    segment_seq: Mapped[int | None]


class MoodRow(Base):
    __tablename__ = "mood_points"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    call_id: Mapped[int] = _call_fk()
    t: Mapped[float] = mapped_column(Float)
    value: Mapped[float] = mapped_column(Float)
    trend: Mapped[str] = mapped_column(String(10))


class ChecklistRow(Base):
    __tablename__ = "checklist"

    call_id: Mapped[int] = mapped_column(
        ForeignKey("calls.id", ondelete="CASCADE"), primary_key=True
    )
    item: Mapped[str] = mapped_column(String(40), primary_key=True)
    done: Mapped[bool] = mapped_column(Boolean)
    t: Mapped[float | None] = mapped_column(Float)  # call time the coach heard it
    by: Mapped[str] = mapped_column(String(10))  # "coach" | "agent"


class NoteVersion(Base):
    """The notes' history: one row per minute of editing at most (the latest text of
    that minute), so a long call keeps a readable history without a row per keystroke."""

    __tablename__ = "note_versions"
    __table_args__ = (UniqueConstraint("call_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    call_id: Mapped[int] = _call_fk()
    version: Mapped[int] = mapped_column(Integer)
    saved_at: Mapped[datetime]
    text: Mapped[str] = mapped_column(Text)


class Export(Base):
    """One export of a call; helpdesk exports that could not be delivered wait here
    (status "pending") with their next attempt time: the outbox."""

    __tablename__ = "exports"
    __table_args__ = (Index("ix_exports_status_next", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    call_id: Mapped[int] = _call_fk()
    target: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))  # "done" | "pending" | "failed"
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None]
    last_error: Mapped[str] = mapped_column(Text, default="")
    result: Mapped[str] = mapped_column(Text, default="")
    request: Mapped[dict[str, Any]] = mapped_column(default=dict)  # where to, e.g. queue


class Review(Base):
    """A supervisor's review of a flagged call."""

    __tablename__ = "reviews"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    call_id: Mapped[int] = _call_fk()
    reviewer: Mapped[str] = mapped_column(String(63))
    outcome: Mapped[str] = mapped_column(String(40))  # see app.calls.records.REVIEW_OUTCOMES
    comment: Mapped[str] = mapped_column(Text, default="")
    reviewed_at: Mapped[datetime]
