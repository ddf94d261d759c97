"""Live flag alerts on a real PostgreSQL with real roles (scripts/postgres-server.sh start):
the notification carries only the call's id, the listener reads the flag as its own role
(row-level security decides what it learns), and it comes back after losing its connection."""

from __future__ import annotations

import queue
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from sqlalchemy import text
from support.team import flagged_call, pg_admin_connection

from app.calls.records import FlagRecord, SegmentRecord
from app.store import CallStore
from app.store.alerts import CHANNEL, FlagAlert, FlagListener, alert_message
from app.store.sync import TeamSync
from app.store.team import init_team

WAIT_S = 5.0  # the longest wait for an alert; "within a couple of seconds" is asserted apart


class Alerts:
    """A listener on its own thread, its alerts in a queue."""

    def __init__(self, url: str) -> None:
        self.received: queue.Queue[FlagAlert] = queue.Queue()
        self.states: list[tuple[bool, str]] = []
        self.listener = FlagListener(
            url,
            self.received.put,
            lambda up, message: self.states.append((up, message)),
            poll_s=0.1,
            first_retry_s=0.2,
        )

    def next(self, timeout: float = WAIT_S) -> FlagAlert:
        return self.received.get(timeout=timeout)

    def nothing_within(self, seconds: float) -> bool:
        try:
            alert = self.received.get(timeout=seconds)
        except queue.Empty:
            return True
        pytest.fail(f"unexpected alert: {alert}")


@pytest.fixture
def listen() -> Iterator:
    started: list[Alerts] = []

    def start(url: str) -> Alerts:
        alerts = Alerts(url)
        alerts.listener.start()
        started.append(alerts)
        assert alerts.listener.connected.wait(WAIT_S), alerts.states
        return alerts

    yield start
    for alerts in started:
        alerts.listener.stop()


def test_a_supervisor_online_is_alerted_when_an_agents_flag_is_synced(team_db, listen, tmp_path):
    supervisor = listen(team_db.supervisor)
    local = CallStore.open(f"sqlite:///{tmp_path / 'ana.db'}")
    sync = TeamSync(local, team_db.agent_a)
    try:
        started = datetime(2026, 3, 4, 14, 1, 0, tzinfo=UTC)
        call_id = flagged_call(local, "ana", "You are an idiot!", at=started)
        synced_at = time.monotonic()
        assert sync.sync_once().error is None
        alert = supervisor.next()
        delay = time.monotonic() - synced_at
        team_call = local.get(call_id)
        assert team_call is not None
        assert alert.kind == "abusive_language" and alert.agent == "ana"
        assert alert.excerpt == "You are an idiot!"
        assert alert.at == started + timedelta(seconds=61)
        assert delay < 2.0, f"the alert took {delay:.2f} s"
        local_time = alert.at.astimezone()
        assert alert_message(alert) == (
            f"Flagged call: abusive language — agent ana, {local_time:%H:%M}: “You are an idiot!”"
        )

        # Syncing the call again replaces its flags: not a new flag, no new alert...
        local.add_segment(call_id, SegmentRecord(2, "agent", 63.0, 64.0, "Let's stay calm."))
        assert sync.sync_once().pushed == 1
        supervisor.nothing_within(1.0)
        # ...but a second flag on the same call is one.
        local.add_flag(call_id, FlagRecord(90.0, "manager_request", "Get me your manager", 2))
        assert sync.sync_once().pushed == 1
        second = supervisor.next()
        assert (second.call_id, second.kind) == (alert.call_id, "manager_request")
        supervisor.nothing_within(0.5)
    finally:
        sync.close()
        local.close()


def test_an_agents_listener_learns_nothing_of_another_agents_flags(team_db, listen):
    bob = listen(team_db.agent_b)
    raw = psycopg.connect(team_db.agent_b, autocommit=True)  # what any role can hear
    ana_store, bob_store = CallStore.open(team_db.agent_a), CallStore.open(team_db.agent_b)
    try:
        raw.execute(f"LISTEN {CHANNEL}")
        anas = flagged_call(ana_store, "ana", "Ana's client swore at her")
        heard = [n.payload for n in raw.notifies(timeout=WAIT_S, stop_after=1)]
        assert heard == [str(anas)]  # the id only: no words, no agent
        bob.nothing_within(1.0)  # the listener heard it too, but may not read Ana's call

        bobs = flagged_call(bob_store, "bob", "Bob's client swore at him")
        alert = bob.next()
        assert (alert.call_id, alert.agent, alert.excerpt) == (
            bobs, "bob", "Bob's client swore at him"
        )  # fmt: skip
    finally:
        raw.close()
        ana_store.close()
        bob_store.close()


def test_team_init_again_keeps_the_alerts_and_sqlite_has_none(team_db, listen, tmp_path):
    init_team(team_db.admin_url)  # after upgrading Calmline: grants and policies redone
    supervisor = listen(team_db.supervisor)
    store = CallStore.open(team_db.agent_a)
    try:
        call_id = flagged_call(store, "ana", "still heard")
        assert supervisor.next().call_id == call_id
    finally:
        store.close()
    local = CallStore.open(f"sqlite:///{tmp_path / 'calls.db'}")
    try:
        with local.engine.connect() as connection:
            triggers = connection.execute(
                text("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'flags'")
            ).scalars()
            assert "calmline_flag_notify" not in set(triggers)
    finally:
        local.close()


@pytest.mark.reliability(
    "fault", "team database kills the supervisor's alert connection: it reconnects, no flag lost"
)
def test_the_listener_comes_back_after_its_connection_is_killed(team_db, listen, reliability_note):
    supervisor = listen(team_db.supervisor)
    store = CallStore.open(team_db.agent_a)
    admin = pg_admin_connection()
    try:
        flagged_call(store, "ana", "before the cut")
        assert supervisor.next().excerpt == "before the cut"

        pid = supervisor.listener.backend_pid
        killed_at = time.monotonic()
        assert admin.execute("SELECT pg_terminate_backend(%s)", (pid,)).fetchone() == (True,)
        # Said while the listener is (probably) still reconnecting: reported once it is back.
        meanwhile = flagged_call(store, "ana", "during the cut")
        alert = supervisor.next()
        back_after = time.monotonic() - killed_at
        assert (alert.call_id, alert.excerpt) == (meanwhile, "during the cut")
        assert supervisor.listener.connected.wait(WAIT_S)
        assert supervisor.listener.backend_pid not in (None, pid)
        assert supervisor.listener.connections == 2
        assert any(not up for up, _ in supervisor.states)  # it said alerts were paused

        after = flagged_call(store, "ana", "after the cut")
        assert supervisor.next().call_id == after
        supervisor.nothing_within(0.5)  # nothing twice, and the first flag not again
        reliability_note(f"the flag raised during the cut was alerted {back_after:.1f} s after it")
    finally:
        admin.close()
        store.close()
