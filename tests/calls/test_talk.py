"""Talk time and overtalk from a call's lines."""

from __future__ import annotations

import pytest

from app.calls.talk import TalkTime, talk_time


def test_overtalk_counts_for_the_side_that_started_second():
    lines = [
        ("client", 0.0, 6.0),
        ("agent", 4.5, 8.0),  # the agent starts while the client is still speaking: 1.5 s
        ("client", 7.5, 10.0),  # the client comes back in over the agent: 0.5 s
        ("agent", 11.0, 12.0),
    ]
    talk = talk_time(lines)
    assert talk.agent_s == pytest.approx(4.5) and talk.client_s == pytest.approx(8.5)
    assert talk.agent_overtalk_s == pytest.approx(1.5)
    assert talk.client_overtalk_s == pytest.approx(0.5)
    assert talk.agent_share == pytest.approx(4.5 / 13.0)


def test_weeks_add_up_and_an_empty_call_has_no_share():
    assert talk_time([]).agent_share is None
    total = talk_time([("agent", 0, 2)]) + talk_time([("client", 0, 2)])
    assert total == TalkTime(2.0, 2.0, 0.0, 0.0) and total.agent_share == 0.5


def test_each_call_carries_its_talk_time_in_json_and_in_words():
    from datetime import UTC, datetime

    from app.calls.records import CallInfo, CallRecord, SegmentRecord

    record = CallRecord(
        CallInfo(uid="u1", started_at=datetime(2026, 12, 1, 9, 0, tzinfo=UTC)),
        segments=(
            SegmentRecord(1, "client", 0.0, 6.0, "It has been down all morning and nobody…"),
            SegmentRecord(2, "agent", 4.0, 8.0, "Right, but which drive letter is it?"),
        ),
    )
    assert record.to_json()["talk"] == {
        "agent_s": 4.0,
        "client_s": 6.0,
        "agent_share": 0.4,
        "agent_overtalk_s": 2.0,
        "client_overtalk_s": 0.0,
    }
    assert record.talk.describe() == (
        "You talked 40% of the time · you over the client 2 s · the client over you 0 s"
    )
    assert CallRecord(record.info).talk.describe() == "No speech recorded."
