"""``CallStore.save_record`` (``analyze --save``): a whole call in one transaction."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from app.calls.records import CallInfo, CallRecord, CueRecord, FlagRecord, SegmentRecord
from app.store import CallStore


def analysed_call(uid: str = "5b0c3a52-0000-4000-8000-000000000001") -> CallRecord:
    return CallRecord(
        info=CallInfo(uid=uid, started_at=datetime(2026, 12, 1, 9, 0, tzinfo=UTC), status="ended"),
        segments=(
            SegmentRecord(1, "client", 0.0, 2.0, "you are an idiot"),
            SegmentRecord(2, "agent", 2.5, 4.0, "I want to help, and I need us to keep it civil."),
        ),
        cues=(CueRecord(2.1, "abuse", "Not personal — set a boundary", ("I want to help",), 1),),
        flags=(FlagRecord(2.1, "abusive_language", "you are an idiot", 1),),
    )


def test_a_save_that_fails_part_way_leaves_nothing(tmp_path, monkeypatch):
    store = CallStore.open(f"sqlite:///{tmp_path / 'calls.db'}")

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(store, "add_flag", disk_full)
    with pytest.raises(OSError):
        store.save_record(analysed_call())
    assert store.list_calls(limit=10) == []  # not a half call marked "ended"
    assert store.interrupted_calls() == []
    monkeypatch.undo()
    call_id = store.save_record(analysed_call())  # the same call, saved again
    record = store.get(call_id)
    assert record is not None and record.info.status == "ended"
    assert [s.text for s in record.segments] == [s.text for s in analysed_call().segments]
    assert len(record.flags) == 1 and len(record.cues) == 1
    store.close()


def test_saving_the_same_call_twice_keeps_one(tmp_path):
    store = CallStore.open(f"sqlite:///{tmp_path / 'calls.db'}")
    first = store.save_record(analysed_call())
    assert store.save_record(analysed_call()) == first
    assert len(store.list_calls(limit=10)) == 1
    store.close()
