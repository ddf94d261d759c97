"""The call store on a real SQLite file: migrations, a call recorded as it happens, reading
back, the call list, interrupted calls and the outbox rows."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from support import REPO

from app.calls.records import CallInfo, CallRecord, FlagRecord, MoodPoint, SegmentRecord
from app.events import (
    ChecklistTick,
    Committed,
    Cue,
    CueCleared,
    Flag,
    IncidentNote,
    MoodUpdate,
    Partial,
    Revised,
    Segment,
    Summary,
    SummaryItem,
    Trend,
)
from app.store import CallRecorder, CallStore, StoreError
from app.store.calls import new_uid
from app.store.schema import Base
from app.store.search import include_in_autogenerate
from audio.sides import Side

STARTED = datetime(2026, 3, 4, 14, 5, 6, tzinfo=UTC)


@pytest.fixture
def store(tmp_path):
    store = CallStore.open(f"sqlite:///{tmp_path / 'calls.db'}")
    yield store
    store.close()


def info(**fields) -> CallInfo:
    return CallInfo(uid=new_uid(), started_at=STARTED, agent="sam", **fields)


def test_migrations_build_exactly_the_models_schema(store):
    with store.engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={"include_name": include_in_autogenerate},  # not the search index
        )
        diff = compare_metadata(context, Base.metadata)
        assert diff == []
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    CallStore.open(str(store.engine.url)).close()  # opening again: migrations are a no-op


def test_a_live_call_is_recorded_as_it_happens(store):
    recorder = CallRecorder(store, info(client_name="Dana Smith", ticket_id="4521"))
    segment = Segment(1, Side.CLIENT, 5.7, 12.6, "Are you an idiot?", 0.8,
                      {"label": "negative", "scores": {"negative": 0.9, "neutral": 0.08,
                                                       "positive": 0.02}})  # fmt: skip
    events = [
        Partial(Side.CLIENT, 5.7, "Are you"),
        Committed(Segment(2, Side.AGENT, 0.5, 4.8, "Help desk, how can I help?")),
        Committed(segment),
        MoodUpdate(12.6, -0.41, Trend.FALLING, 1),
        Cue(13.1, "abuse", "Not personal — set a boundary", ("Let's keep it respectful.",), 1),
        CueCleared(15.0, "abuse", "dismissed"),
        Flag(13.1, "abusive_language", "Are you an idiot?", 1),
        IncidentNote(13.1, "Abusive language", "Are you an idiot?", 1),
        ChecklistTick(4.8, "listened", 2),
    ]
    for event in events:
        recorder(event)
    recorder.save_notes("VPN down")
    recorder.save_notes("VPN down; password expired")
    recorder.set_checklist("follow_up", True)
    recorder.update_info(subject="VPN drops")
    assert recorder.finish(timeout=10)

    record = store.get(recorder.call_id)
    assert record is not None and record.info.status == "ended" and record.info.ended_at
    assert [s.text for s in record.segments] == ["Help desk, how can I help?", "Are you an idiot?"]
    assert record.segments[1].sentiment["label"] == "negative"
    assert record.mood == (MoodPoint(12.6, -0.41, "falling"),)
    assert record.cues[0].kind == "abuse" and record.cues[0].dismissed_t == 15.0
    assert record.flags[0].excerpt == "Are you an idiot?"
    assert record.incidents[0].excerpt == "Are you an idiot?"
    assert record.checklist == {"listened": True, "follow_up": True}
    assert record.notes == "VPN down; password expired"
    assert record.info.subject == "VPN drops" and record.info.client_name == "Dana Smith"
    assert store.get(record.info.uid) == record


def test_a_revised_line_replaces_the_lines_it_covers(store):
    recorder = CallRecorder(store, info())
    for segment in (
        Segment(1, Side.CLIENT, 2.0, 3.0, "You are", 0.6),
        Segment(2, Side.AGENT, 3.2, 3.6, "Mm."),
        Segment(3, Side.CLIENT, 3.8, 5.0, "an idiot.", 0.7),
    ):
        recorder(Committed(segment))
    recorder(Flag(5.5, "abusive_language", "an idiot.", 3))
    revised = Segment(1, Side.CLIENT, 2.0, 5.0, "You are an idiot.", 0.6,
                      {"label": "negative", "scores": {"negative": 0.9}}, revised=True)  # fmt: skip
    recorder(Revised(revised, replaces=(1, 3)))
    recorder(Revised(revised, replaces=(1, 3)))  # a retried write changes nothing
    assert recorder.finish(timeout=10)
    record = store.get(recorder.call_id)
    assert [(s.seq, s.text) for s in record.segments] == [(1, "You are an idiot."), (2, "Mm.")]
    assert record.segments[0].end == 5.0 and record.segments[0].latency_s == 0.6
    assert record.segments[0].sentiment["label"] == "negative"
    assert record.flags[0].segment_seq == 1


def test_an_older_notes_version_never_overwrites_a_newer_one(store):
    call_id = store.start_call(info())
    assert store.save_notes(call_id, "newer", 2)
    assert not store.save_notes(call_id, "older", 1)
    assert store.get(call_id).notes == "newer"


def test_notes_history_keeps_one_version_per_minute(store):
    call_id = store.start_call(info())
    for second in range(0, 150, 10):
        store.save_notes(call_id, f"at {second}", second + 1, STARTED + timedelta(seconds=second))
    with store.engine.connect() as connection:
        history = (
            connection.execute(
                text("SELECT text FROM note_versions WHERE call_id = :id ORDER BY version"),
                {"id": call_id},
            )
            .scalars()
            .all()
        )
    assert history == ["at 50", "at 110", "at 140"]


def test_a_whole_record_saves_and_reads_back_the_same(store):
    record = CallRecord(
        info=info(client_name="Lee", status="ended", ended_at=STARTED + timedelta(seconds=90)),
        segments=(SegmentRecord(1, "agent", 0.5, 3.0, "Hello"),),
        flags=(FlagRecord(40.0, "manager_request", "Get me your manager", 1),),
        mood=(MoodPoint(3.0, -0.2, "falling"),),
        notes="Wants a manager",
        checklist={"listened": True},
        summary=Summary(reason=(SummaryItem("Get me your manager", 40.0, 1),)),
    )
    call_id = store.save_record(record)
    again = store.get(call_id)
    instants = ("started_at", "ended_at")
    assert [again.to_json()[k] for k in instants] != [None, None]
    for key in instants:  # the same instant, shown in this machine's time zone
        assert datetime.fromisoformat(again.to_json()[key]) == getattr(record.info, key)
    same = {"id": None} | dict.fromkeys(instants)
    assert again.to_json() | same == record.to_json() | same


def test_call_list_filters_flagged_and_since(store):
    calm = store.save_record(CallRecord(info=info()))
    flagged = store.save_record(
        CallRecord(
            info=CallInfo(uid=new_uid(), started_at=STARTED + timedelta(days=1)),
            flags=(FlagRecord(1.0, "abusive_language", "idiot"),),
            mood=(MoodPoint(1.0, -0.7, "falling"),),
        )
    )
    assert [c.id for c in store.list_calls()] == [flagged, calm]
    assert [c.id for c in store.list_calls(flagged=True)] == [flagged]
    assert [c.id for c in store.list_calls(since=STARTED + timedelta(hours=1))] == [flagged]
    summary = store.list_calls(flagged=True)[0]
    assert summary.flags == ("abusive_language",) and summary.worst_mood == -0.7


def test_a_call_left_live_by_a_dead_process_is_interrupted_and_recoverable(store):
    call_id = store.start_call(info())
    store.add_segment(call_id, SegmentRecord(1, "client", 1.0, 30.0, "still talking"))
    assert store.interrupted_calls() == []  # this process is alive: still its call
    with store.engine.begin() as connection:
        connection.execute(text("UPDATE calls SET owner_pid = 999999999"))
    assert [c.id for c in store.interrupted_calls()] == [call_id]
    record = store.recover(call_id)
    assert record.info.status == "recovered"
    assert record.info.ended_at >= STARTED + timedelta(seconds=30)
    assert store.interrupted_calls() == []


@pytest.mark.reliability("fault", "Database writes fail twice (locked / full)")
def test_a_write_that_fails_is_retried_until_it_succeeds(store, monkeypatch):
    recorder = CallRecorder(store, info())
    real_add = store.add_segment
    failures = iter([True, True, False])
    failed_twice = threading.Event()

    def flaky_add(call_id, segment):
        if next(failures):
            raise OperationalError("INSERT", {}, Exception("database or disk is full"))
        failed_twice.set()
        real_add(call_id, segment)

    monkeypatch.setattr(store, "add_segment", flaky_add)
    monkeypatch.setattr("app.store.recorder.RETRY_FIRST_S", 0.01)
    recorder(Committed(Segment(1, Side.AGENT, 0.0, 1.0, "kept")))
    assert recorder.finish(timeout=10)
    assert failed_twice.is_set()
    assert [s.text for s in store.get(recorder.call_id).segments] == ["kept"]
    assert recorder.problem is None


def test_a_bad_database_url_says_what_to_use(tmp_path):
    with pytest.raises(StoreError, match="sqlite:///PATH"):
        CallStore.open("not a url")
    (tmp_path / "dir.db").mkdir()
    with pytest.raises(StoreError, match="cannot open the call database"):
        CallStore.open(f"sqlite:///{tmp_path / 'dir.db'}")


@pytest.mark.reliability("fault", "Four programs create the database at the same moment")
def test_programs_opening_a_new_database_at_once_do_not_collide(tmp_path):
    url = f"sqlite:///{tmp_path / 'new.db'}"
    code = f"from app.store import CallStore; CallStore.open({url!r}).close()"
    openers = [
        subprocess.Popen([sys.executable, "-c", code], cwd=REPO, stderr=subprocess.PIPE)
        for _ in range(4)
    ]
    errors = [p.communicate(timeout=120)[1].decode() for p in openers]
    assert [p.returncode for p in openers] == [0] * 4, errors


@pytest.mark.slow
@pytest.mark.reliability("fault", "Another program locks the call database mid-call (8 s)")
def test_lines_wait_while_another_program_holds_the_database_locked(
    store, tmp_path, reliability_note
):
    """A real lock: another process takes SQLite's exclusive write lock (a backup tool, a
    second Calmline stuck in a transaction) for longer than the 5 s busy timeout."""
    recorder = CallRecorder(store, info())
    recorder(Committed(Segment(1, Side.CLIENT, 0.0, 1.0, "before the lock")))
    assert recorder.flush(timeout=10)
    holder = subprocess.Popen(
        [sys.executable, "-c", (
            "import sqlite3, sys, time\n"
            f"db = sqlite3.connect({str(tmp_path / 'calls.db')!r}, isolation_level=None)\n"
            "db.execute('BEGIN EXCLUSIVE')\n"
            "print('locked', flush=True)\n"
            "time.sleep(8)\n"
            "db.execute('ROLLBACK')\n"
        )],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert holder.stdout.readline().strip() == "locked"
    for i in range(2, 12):
        recorder(Committed(Segment(i, Side.AGENT, float(i), i + 0.5, f"line {i} during the lock")))
    deadline = time.monotonic() + 7
    while recorder.problem is None and time.monotonic() < deadline:
        time.sleep(0.1)
    warned = recorder.problem
    assert (
        warned == "database is locked: another program holds the call database locked (a "
        "backup, or another Calmline); close it"
    )  # what the window shows
    assert recorder.unsaved >= 10
    holder.wait(timeout=20)
    assert recorder.finish(timeout=60)
    saved = [s.text for s in store.get(recorder.call_id).segments]
    assert saved == ["before the lock"] + [f"line {i} during the lock" for i in range(2, 12)]
    assert recorder.problem is None
    reliability_note(f"warned ({warned}); 11 of 11 lines saved after the lock; 0 lost")


def test_write_failures_are_told_in_plain_words():
    from app.store.recorder import describe_write_failure

    full = OperationalError("INSERT", {}, Exception("database or disk is full"))
    assert describe_write_failure(full) == (
        "database or disk is full: the disk is full; free some disk space"
    )
    gone = OperationalError("SELECT", {}, Exception("connection refused\n\tIs the server up?"))
    assert describe_write_failure(gone).startswith("connection refused: the team database")
    assert describe_write_failure(OSError(28, "No space left on device")).endswith(
        "free some disk space"
    )
    assert describe_write_failure(RuntimeError()) == "RuntimeError"
