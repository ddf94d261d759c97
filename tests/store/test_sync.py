"""Offline-then-sync on a real PostgreSQL (scripts/postgres-server.sh): calls recorded on
this PC while the team database is down are copied once it is back, exactly once."""

from __future__ import annotations

import uuid

import psycopg
import pytest
from sqlalchemy import text
from support.team import ADMIN_URL, STARTED, record_call

from app.calls.records import SegmentRecord
from app.store import CallStore
from app.store.sync import TeamSync


@pytest.fixture
def team_url():
    """A fresh team database for the test, dropped afterwards."""
    name = f"calmline_sync_{uuid.uuid4().hex[:8]}"
    try:
        admin = psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        pytest.fail(f"PostgreSQL is not running ({exc}): bash scripts/postgres-server.sh start")
    admin.execute(f'CREATE DATABASE "{name}"')
    yield ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    admin.close()


@pytest.fixture
def local(tmp_path):
    store = CallStore.open(f"sqlite:///{tmp_path / 'local.db'}")
    yield store
    store.close()


def counts(url: str) -> dict[str, int]:
    store = CallStore.open(url)
    try:
        with store.engine.connect() as connection:
            return {
                table: connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
                for table in ("calls", "segments", "flags", "mood_points", "checklist")
            }
    finally:
        store.close()


def test_calls_wait_while_the_team_database_is_down_then_sync_once(local, team_url):
    first = record_call(local, "Lee")
    down = TeamSync(local, "postgresql://calmline_admin:calmline_admin@127.0.0.1:1/none")
    result = down.sync_once()
    assert result.pushed == 0 and result.waiting == 1 and result.error
    record_call(local, "Ana")  # recording goes on while the team database is down

    sync = TeamSync(local, team_url)
    assert sync.sync_once().pushed == 2
    assert counts(team_url) == {"calls": 2, "segments": 4, "flags": 2, "mood_points": 2,
                                "checklist": 2}  # fmt: skip
    assert sync.sync_once().pushed == 0  # nothing changed: nothing copied again

    local.save_notes(first, "Abusive caller; supervisor told", 9)
    local.add_segment(first, SegmentRecord(3, "agent", 10.0, 12.0, "Let's keep it respectful."))
    assert sync.sync_once().pushed == 1
    assert counts(team_url)["calls"] == 2 and counts(team_url)["segments"] == 5
    team = CallStore.open(team_url)
    try:
        uid = local.get(first).info.uid
        copied = team.get(uid)
        assert copied.notes == "Abusive caller; supervisor told"
        assert copied.info.started_at == STARTED and copied.flags[0].excerpt == "You idiot."
        assert copied.segments[1].sentiment == {"label": "negative", "scores": {}}
    finally:
        team.close()
        sync.close()
