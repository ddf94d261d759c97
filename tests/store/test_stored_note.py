"""The drafted ticket note in the store: drafts replace drafts, never the agent's note."""

from __future__ import annotations

from datetime import UTC, datetime

from app.calls.records import CallInfo, CallRecord, SegmentRecord
from app.events import Outcome, Segment, Summary, SummaryDraft, SummaryItem
from app.store import CallStore
from app.store.recorder import CallRecorder
from app.summary.draft import draft_summary
from audio.sides import Side


def drafted(text: str, status: str = "resolved") -> Summary:
    return Summary(
        reason=(SummaryItem(text, 1.0, 1),),
        outcome=Outcome(status, "It works now.", 2, 9.0),
    )


def new_call(store: CallStore) -> int:
    info = CallInfo(uid="5b0c3a52-0000-4000-8000-0000000000aa", started_at=datetime.now(UTC))
    return store.start_call(info)


def test_a_draft_never_replaces_the_note_the_agent_edited(tmp_path):
    store = CallStore.open(f"sqlite:///{tmp_path / 'calls.db'}")
    call_id = new_call(store)
    assert store.set_summary(call_id, drafted("Printer offline."))
    assert store.set_summary(call_id, drafted("Printer offline on floor two."))
    agent = drafted("Printer on floor two offline since Monday.")
    assert store.set_summary(call_id, agent, by_agent=True)
    assert not store.set_summary(call_id, drafted("Printer offline, later draft."))
    record = store.get(call_id)
    assert record is not None and record.summary == agent
    assert record.to_json()["summary"] == agent.to_json()
    later = drafted("Printer on floor two offline since Monday; toner low.")
    assert store.set_summary(call_id, later, by_agent=True)  # the agent edits again
    assert store.get(call_id).summary == later


def test_the_recorder_stores_drafts_and_the_agents_note_in_order(tmp_path):
    store = CallStore.open(f"sqlite:///{tmp_path / 'calls.db'}")
    info = CallInfo(uid="5b0c3a52-0000-4000-8000-0000000000bb", started_at=datetime.now(UTC))
    recorder = CallRecorder(store, info)
    recorder(SummaryDraft(1.0, drafted("VPN drops.")))
    kept = drafted("VPN drops every ten minutes.")
    recorder.set_summary(kept)
    recorder(SummaryDraft(5.0, drafted("VPN drops, e-mail won't load.")))  # arrives after
    assert recorder.finish()
    assert store.get(recorder.call_id).summary == kept


def test_an_analysed_call_keeps_its_note_and_an_older_call_gets_one_drafted(tmp_path):
    store = CallStore.open(f"sqlite:///{tmp_path / 'calls.db'}")
    info = CallInfo(uid="5b0c3a52-0000-4000-8000-0000000000cc", started_at=datetime.now(UTC))
    segments = (SegmentRecord(1, "client", 0.0, 2.0, "My printer is offline."),)
    note = drafted("My printer is offline.")
    call_id = store.save_record(CallRecord(info=info, segments=segments, summary=note))
    assert store.get(call_id).summary == note
    old = CallRecord(info=CallInfo(uid="5b0c3a52-0000-4000-8000-0000000000dd",
                                   started_at=datetime.now(UTC)), segments=segments)  # fmt: skip
    assert store.get(store.save_record(old)).summary == draft_summary(
        [Segment(1, Side.CLIENT, 0.0, 2.0, "My printer is offline.")]
    )
