"""The team database on a real PostgreSQL (scripts/postgres-server.sh start): the admin's
connection, URLs per role, and the calls the team tests record. (The ``team_db`` fixture in
tests/conftest.py makes a fresh team database with real roles.)"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import pytest

from app.calls.records import CallInfo, CallRecord, FlagRecord, MoodPoint, SegmentRecord
from app.store import CallStore
from app.store.calls import new_uid

PG_ADMIN_URL = os.environ.get(
    "CALMLINE_PG_ADMIN_URL",
    "postgresql://calmline_admin:calmline_admin@127.0.0.1:5432/calmline_test",
)
# The same server as the sync and flapping tests name it (their variable of old).
ADMIN_URL = os.environ.get(
    "CALMLINE_TEST_PG_ADMIN_URL",
    "postgresql://calmline_admin:calmline_admin@127.0.0.1:5432/calmline_test",
)
STARTED = datetime(2026, 3, 4, 14, 5, tzinfo=UTC)


class TeamDatabase:
    """A fresh team database for the run, with two agents and a supervisor (real roles)."""

    def __init__(self, name: str, admin_url: str, urls: dict[str, str], roles: dict[str, str]):
        self.name = name
        self.admin_url = admin_url
        # URLs that log in as each role; roles: "agent_a" / "agent_b" / "supervisor" -> name
        self.agent_a, self.agent_b, self.supervisor = (
            urls["agent_a"],
            urls["agent_b"],
            urls["supervisor"],
        )
        self.roles = roles


def pg_url(base: str, database: str, user: str | None = None, password: str | None = None):
    from sqlalchemy.engine import make_url

    url = make_url(base).set(database=database)
    if user is not None:
        url = url.set(username=user, password=password)
    return url.render_as_string(hide_password=False)


def pg_admin_connection(url: str = PG_ADMIN_URL):
    """An autocommit psycopg connection as the admin, or the test fails saying how to start
    PostgreSQL (never skipped: team mode is tested for real)."""
    import psycopg

    try:
        return psycopg.connect(url, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        pytest.fail(
            f"PostgreSQL is not reachable as the test admin ({exc}); start it with "
            "`bash scripts/postgres-server.sh start` (or set CALMLINE_PG_ADMIN_URL)"
        )


def record_call(store: CallStore, client: str) -> int:
    """A whole one-minute call by agent "sam" with ``client``: two lines, an abusive-language
    flag, a mood point, notes and a checklist."""
    return store.save_record(
        CallRecord(
            info=CallInfo(
                uid=new_uid(),
                started_at=STARTED,
                agent="sam",
                client_name=client,
                ended_at=STARTED + timedelta(seconds=60),
            ),
            segments=(
                SegmentRecord(1, "agent", 0.5, 3.0, "Help desk."),
                SegmentRecord(
                    2,
                    "client",
                    4.0,
                    9.0,
                    "You idiot.",
                    sentiment={"label": "negative", "scores": {}},
                ),
            ),
            flags=(FlagRecord(9.0, "abusive_language", "You idiot.", 2),),
            mood=(MoodPoint(9.0, -0.6, "falling"),),
            notes="Abusive caller",
            checklist={"listened": True},
        )
    )


def flagged_call(store: CallStore, agent: str, said: str, at: datetime | None = None) -> int:
    """A call with a line and an abusive-language flag on it, as the live path writes it."""
    started = at or datetime.now(UTC).replace(microsecond=0)
    call_id = store.start_call(CallInfo(uid=new_uid(), started_at=started, agent=agent))
    store.add_segment(call_id, SegmentRecord(1, "client", 60.0, 62.0, said))
    store.add_flag(call_id, FlagRecord(61.0, "abusive_language", said, 1))
    store.end_call(call_id, started + timedelta(minutes=3))
    return call_id
