"""Supervision: the flagged-calls queue, review outcomes, and per-agent weekly figures.

On the team database each query runs as the connecting role, so row-level security decides
what it sees: a supervisor sees every agent's calls, an agent only their own.
"""

from __future__ import annotations

import csv
import getpass
import io
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select

from app.calls.talk import TalkTime, talk_time
from app.store.calls import CallStore, aware, utcnow
from app.store.schema import Call, FlagRow, MoodRow, Review, Segment

REVIEW_OUTCOMES = ("no_action", "coaching", "escalated", "client_contacted", "false_flag")
FLAG_PRIORITY = ("abusive_language", "manager_request", "sustained_negative")


@dataclass(frozen=True)
class FlaggedCall:
    call_id: int
    uid: str
    started_at: datetime
    agent: str  # the agent's name, else their database role
    client_name: str
    reasons: tuple[str, ...]  # flag kinds, most serious first
    excerpt: str  # the worst thing said (the most serious flag's words)
    worst_mood: float | None
    review_outcome: str | None  # None: not reviewed yet
    review_comment: str = ""


@dataclass(frozen=True)
class AgentWeek:
    agent: str
    week: date  # the Monday of the week
    calls: int
    flagged_calls: int
    flags: int
    average_mood: float | None
    talk: TalkTime = field(default_factory=TalkTime)  # talk time and overtalk, the week's calls


def _agent(row: Any) -> str:
    return row.agent or row.owner_role or "—"


def flagged_queue(store: CallStore, include_reviewed: bool = False) -> list[FlaggedCall]:
    """Flagged calls, newest first; reviewed ones only with ``include_reviewed``."""
    with store.engine.connect() as connection:
        flags = connection.execute(
            select(FlagRow.call_id, FlagRow.kind, FlagRow.excerpt).order_by(FlagRow.t)
        ).all()
        by_call: dict[int, list[tuple[str, str]]] = defaultdict(list)
        for call_id, kind, excerpt in flags:
            by_call[call_id].append((kind, excerpt))
        if not by_call:
            return []
        calls = connection.execute(
            select(Call.id, Call.uid, Call.started_at, Call.agent, Call.owner_role,
                   Call.client_name)
            .where(Call.id.in_(list(by_call)))
            .order_by(Call.started_at.desc())
        ).all()  # fmt: skip
        moods = dict(
            connection.execute(
                select(MoodRow.call_id, func.min(MoodRow.value))
                .where(MoodRow.call_id.in_(list(by_call)))
                .group_by(MoodRow.call_id)
            ).all()
        )
        reviews: dict[int, tuple[str, str]] = {}
        for call_id, outcome, comment in connection.execute(
            select(Review.call_id, Review.outcome, Review.comment).order_by(Review.reviewed_at)
        ).all():
            reviews[call_id] = (outcome, comment)  # the latest review wins
    queue = []
    for row in calls:
        review = reviews.get(row.id)
        if review is not None and not include_reviewed:
            continue
        found = sorted(
            by_call[row.id],
            key=lambda f: FLAG_PRIORITY.index(f[0]) if f[0] in FLAG_PRIORITY else 99,
        )
        started = aware(row.started_at)
        assert started is not None
        queue.append(
            FlaggedCall(
                call_id=row.id,
                uid=row.uid,
                started_at=started,
                agent=_agent(row),
                client_name=row.client_name,
                reasons=tuple(dict.fromkeys(kind for kind, _ in found)),
                excerpt=found[0][1],
                worst_mood=moods.get(row.id),
                review_outcome=review[0] if review else None,
                review_comment=review[1] if review else "",
            )
        )
    return queue


def add_review(
    store: CallStore, call_id: int, outcome: str, comment: str = "", reviewer: str | None = None
) -> None:
    """Record a review. On PostgreSQL the reviewer is the connecting role (row-level
    security checks it); on a local database, the given name or the OS user."""
    if outcome not in REVIEW_OUTCOMES:
        raise ValueError(f"unknown outcome {outcome!r}; use one of {', '.join(REVIEW_OUTCOMES)}")
    postgres = store.engine.dialect.name == "postgresql"
    who = func.current_user() if postgres else (reviewer or getpass.getuser())
    with store.engine.begin() as connection:
        connection.execute(
            insert(Review).values(
                call_id=call_id,
                reviewer=who,
                outcome=outcome,
                comment=comment,
                reviewed_at=utcnow(),
            )
        )


def weekly_stats(store: CallStore, since: datetime | None = None) -> list[AgentWeek]:
    """Per agent and week: calls, flagged calls, flags, average client mood."""
    with store.engine.connect() as connection:
        query = select(Call.id, Call.agent, Call.owner_role, Call.started_at)
        if since is not None:
            query = query.where(Call.started_at >= since)
        calls = connection.execute(query).all()
        ids = [c.id for c in calls]
        if not ids:
            return []
        flag_counts = dict(
            connection.execute(
                select(FlagRow.call_id, func.count(FlagRow.id))
                .where(FlagRow.call_id.in_(ids))
                .group_by(FlagRow.call_id)
            ).all()
        )
        moods = dict(
            connection.execute(
                select(MoodRow.call_id, func.avg(MoodRow.value))
                .where(MoodRow.call_id.in_(ids))
                .group_by(MoodRow.call_id)
            ).all()
        )
        lines: dict[int, list[tuple[str, float, float]]] = defaultdict(list)
        for call_id, speaker, start, end in connection.execute(
            select(Segment.call_id, Segment.speaker, Segment.start, Segment.end).where(
                Segment.call_id.in_(ids)
            )
        ):
            lines[call_id].append((speaker, start, end))
    groups: dict[tuple[str, date], list[int]] = defaultdict(list)
    for call_id, agent, role, started in calls:
        local = aware(started)
        assert local is not None
        monday = local.date() - timedelta(days=local.weekday())
        groups[(agent or role or "—", monday)].append(call_id)
    rows = []
    for (agent, week), call_ids in sorted(groups.items(), key=lambda g: (g[0][1], g[0][0])):
        call_moods = [float(moods[c]) for c in call_ids if moods.get(c) is not None]
        rows.append(
            AgentWeek(
                agent=agent,
                week=week,
                calls=len(call_ids),
                flagged_calls=sum(1 for c in call_ids if flag_counts.get(c)),
                flags=sum(flag_counts.get(c, 0) for c in call_ids),
                average_mood=sum(call_moods) / len(call_moods) if call_moods else None,
                talk=sum((talk_time(lines[c]) for c in call_ids), TalkTime()),
            )
        )
    return rows


def to_csv(rows: Iterable[FlaggedCall] | Iterable[AgentWeek]) -> str:
    """The queue or the weekly figures as CSV (for a spreadsheet)."""
    out = io.StringIO()
    writer = csv.writer(out)
    items = list(rows)
    if items and isinstance(items[0], FlaggedCall):
        writer.writerow(["call", "started", "agent", "client", "reasons", "excerpt",
                         "worst mood", "review"])  # fmt: skip
        for f in items:
            assert isinstance(f, FlaggedCall)
            writer.writerow([
                f.call_id, f.started_at.isoformat(timespec="minutes"), f.agent, f.client_name,
                " ".join(f.reasons), f.excerpt,
                "" if f.worst_mood is None else f"{f.worst_mood:.2f}", f.review_outcome or "",
            ])  # fmt: skip
    else:
        writer.writerow(["agent", "week", "calls", "flagged calls", "flags", "average mood",
                         "agent talk share", "agent overtalk s", "client overtalk s"])  # fmt: skip
        for w in items:
            assert isinstance(w, AgentWeek)
            mood = "" if w.average_mood is None else f"{w.average_mood:.2f}"
            share = w.talk.agent_share
            writer.writerow([
                w.agent, w.week.isoformat(), w.calls, w.flagged_calls, w.flags, mood,
                "" if share is None else f"{share:.2f}", f"{w.talk.agent_overtalk_s:.1f}",
                f"{w.talk.client_overtalk_s:.1f}",
            ])  # fmt: skip
    return out.getvalue()
