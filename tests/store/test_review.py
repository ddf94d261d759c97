"""Supervision on a real SQLite file: the flagged queue, reviews, weekly figures, CSV."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta

import pytest

from app.calls.records import CallInfo, CallRecord, FlagRecord, MoodPoint, SegmentRecord
from app.store import CallStore
from app.store.calls import new_uid
from app.store.review import add_review, flagged_queue, to_csv, weekly_stats

MONDAY = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def store(tmp_path):
    store = CallStore.open(f"sqlite:///{tmp_path / 'calls.db'}")
    yield store
    store.close()


def call(store, agent, started, flags=(), mood=(), lines=()) -> int:
    return store.save_record(
        CallRecord(
            info=CallInfo(uid=new_uid(), started_at=started, agent=agent, client_name="Lee"),
            flags=tuple(FlagRecord(t, kind, excerpt) for t, kind, excerpt in flags),
            mood=tuple(MoodPoint(t, value, "steady") for t, value in mood),
            segments=tuple(
                SegmentRecord(n, who, start, end, "words")
                for n, (who, start, end) in enumerate(lines, 1)
            ),
        )
    )


def test_the_queue_is_newest_first_with_the_worst_excerpt(store):
    call(store, "sam", MONDAY)  # calm: not in the queue
    older = call(
        store,
        "sam",
        MONDAY + timedelta(hours=1),
        flags=[(10, "manager_request", "get me your manager")],
        mood=[(5, -0.3)],
    )
    newer = call(store, "ana", MONDAY + timedelta(hours=2),
                 flags=[(5, "manager_request", "a manager, now"),
                        (9, "abusive_language", "you idiot")], mood=[(5, -0.8)])  # fmt: skip
    queue = flagged_queue(store)
    assert [q.call_id for q in queue] == [newer, older]
    assert queue[0].reasons == ("abusive_language", "manager_request")
    assert queue[0].excerpt == "you idiot" and queue[0].worst_mood == -0.8
    assert queue[0].agent == "ana" and queue[0].review_outcome is None


def test_a_reviewed_call_leaves_the_queue_and_keeps_its_outcome(store):
    flagged = call(store, "sam", MONDAY, flags=[(10, "abusive_language", "idiot")])
    add_review(store, flagged, "coaching", "Talked it through with Sam", reviewer="lead")
    assert flagged_queue(store) == []
    reviewed = flagged_queue(store, include_reviewed=True)[0]
    assert reviewed.review_outcome == "coaching"
    assert reviewed.review_comment == "Talked it through with Sam"
    with pytest.raises(ValueError, match="unknown outcome"):
        add_review(store, flagged, "fired")


def test_weekly_figures_per_agent_and_csv(store):
    call(store, "sam", MONDAY, mood=[(1, -0.4), (2, 0.0)])
    call(store, "sam", MONDAY + timedelta(days=2), flags=[(3, "abusive_language", "x"),
                                                          (4, "manager_request", "y")],
         mood=[(1, -0.6)])  # fmt: skip
    call(store, "sam", MONDAY + timedelta(days=7))
    call(store, "ana", MONDAY + timedelta(days=1), mood=[(1, 0.5)],
         lines=[("client", 0.0, 6.0), ("agent", 4.0, 10.0)])  # fmt: skip
    call(store, "ana", MONDAY + timedelta(days=3), lines=[("agent", 0.0, 2.0)])
    weeks = weekly_stats(store)
    first = {w.agent: w for w in weeks if w.week == date(2026, 3, 2)}
    assert first["sam"].calls == 2 and first["sam"].flagged_calls == 1 and first["sam"].flags == 2
    assert first["sam"].average_mood == pytest.approx((-0.2 + -0.6) / 2)
    assert first["ana"].average_mood == pytest.approx(0.5)
    assert first["ana"].talk.agent_s == pytest.approx(8.0)  # two calls added up
    assert first["ana"].talk.agent_overtalk_s == pytest.approx(2.0)
    assert first["ana"].talk.agent_share == pytest.approx(8.0 / 14.0)
    assert [w.week for w in weeks if w.agent == "sam"][-1] == date(2026, 3, 9)
    table = list(csv.reader(io.StringIO(to_csv(weeks))))
    assert table[0] == ["agent", "week", "calls", "flagged calls", "flags", "average mood",
                        "agent talk share", "agent overtalk s", "client overtalk s"]  # fmt: skip
    ana = next(row for row in table if row[0] == "ana")
    assert ana[6:] == ["0.57", "2.0", "0.0"]
    assert len(table) == 1 + len(weeks)
    queue_csv = list(csv.reader(io.StringIO(to_csv(flagged_queue(store)))))
    assert queue_csv[1][2] == "sam" and queue_csv[1][4] == "abusive_language manager_request"
