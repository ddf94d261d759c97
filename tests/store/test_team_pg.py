"""Team mode on a real PostgreSQL with real roles (scripts/postgres-server.sh start): the
migrations, `calmline team …`, and what row-level security lets each role see and write.
Every refusal here comes from the database itself, not from Calmline's code."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from psycopg import sql
from sqlalchemy import delete, insert, select, text, update
from sqlalchemy.exc import DBAPIError
from support import REPO
from support.team import pg_admin_connection, pg_url

from app.calls.records import CallInfo, FlagRecord, SegmentRecord
from app.store import CallStore
from app.store.calls import new_uid
from app.store.db import MIGRATIONS
from app.store.review import add_review
from app.store.schema import Base, Call, Review, Segment
from app.store.team import TeamError, add_member, init_team, team_member, team_role

STARTED = datetime(2026, 3, 4, 14, 5, 6, tzinfo=UTC)


@pytest.fixture
def stores(team_db) -> Iterator[dict[str, CallStore]]:
    """One open store per role; all closed after the test (the database is dropped at the end
    of the run, which needs every connection gone)."""
    opened = {key: CallStore.open(getattr(team_db, key)) for key in team_db.roles}
    yield opened
    for store in opened.values():
        store.close()


def record_call(store: CallStore, agent: str, lines: int = 2) -> int:
    """A short call recorded through the store, the way the live path does it."""
    call_id = store.start_call(
        CallInfo(uid=new_uid(), started_at=STARTED, agent=agent, client_name="Dana Smith")
    )
    for seq in range(1, lines + 1):
        store.add_segment(call_id, SegmentRecord(seq, "client", seq * 2.0, seq * 2.0 + 1.5,
                                                 f"line {seq} of {agent}"))  # fmt: skip
    store.add_flag(call_id, FlagRecord(2.5, "abusive_language", f"line 1 of {agent}", 1))
    assert store.save_notes(call_id, f"notes by {agent}", 1)
    store.end_call(call_id, STARTED.replace(minute=9))
    return call_id


def refused(error: pytest.ExceptionInfo[DBAPIError]) -> str:
    return str(error.value.orig)


def _is_removal(difference: Any) -> bool:
    changes = difference if isinstance(difference, list) else [difference]
    return all(change[0].startswith("remove_") for change in changes)


# -- schema and roles --------------------------------------------------------------------
def test_migrations_build_the_models_schema_on_postgres(team_db, stores):
    admin = CallStore.open(team_db.admin_url)  # migrations: a no-op the second time
    try:
        with admin.engine.connect() as connection:
            diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
            version = connection.execute(text("SELECT version_num FROM alembic_version")).all()
            default = connection.execute(
                text(
                    "SELECT column_default FROM information_schema.columns "
                    "WHERE table_name = 'calls' AND column_name = 'owner_role'"
                )
            ).scalar()
    finally:
        admin.close()
    # Every table, column and index of the models is there as modelled; objects the models
    # leave out on purpose (search indexes, generated columns) may come on top.
    missing_or_different = [d for d in diff if not _is_removal(d)]
    assert missing_or_different == []
    head = ScriptDirectory(str(MIGRATIONS)).get_current_head()
    assert version == [(head,)]
    assert default == "CURRENT_USER"
    # An agent opens the store (running the migrations: a no-op for it) and reads.
    assert stores["agent_a"].engine.dialect.name == "postgresql"
    stores["agent_a"].list_calls()


def test_each_url_says_what_it_logs_in_as(team_db, tmp_path):
    assert team_role(team_db.agent_a) == "agent"
    assert team_role(team_db.supervisor) == "supervisor"
    assert team_role(team_db.admin_url) == "admin"
    assert team_role(f"sqlite:///{tmp_path / 'calls.db'}") == "local"
    member = team_member(team_db.agent_b)
    assert member.role == team_db.roles["agent_b"] and "***" in member.where


# -- agents ------------------------------------------------------------------------------
def test_an_agent_records_a_call_and_reads_it_back(team_db, stores):
    store = stores["agent_a"]
    call_id = record_call(store, "alice", lines=3)
    record = store.get(call_id)
    assert record is not None
    assert [s.text for s in record.segments] == ["line 1 of alice", "line 2 of alice",
                                                 "line 3 of alice"]  # fmt: skip
    assert [f.kind for f in record.flags] == ["abusive_language"]
    assert record.notes == "notes by alice" and record.info.status == "ended"
    assert call_id in [c.id for c in store.list_calls()]
    with store.engine.connect() as connection:
        owner = connection.execute(select(Call.owner_role).where(Call.id == call_id)).scalar()
    assert owner == team_db.roles["agent_a"]


def test_an_agent_sees_and_touches_only_their_own_calls(team_db, stores):
    alice, bob = stores["agent_a"], stores["agent_b"]
    alices = record_call(alice, "alice")
    bobs = record_call(bob, "bob", lines=1)

    assert bob.get(alices) is None
    assert bob.get(alice.get(alices).info.uid) is None
    listed = [c.id for c in bob.list_calls()]
    assert bobs in listed and alices not in listed
    count_segments = text("SELECT count(*) FROM segments")
    with bob.engine.connect() as connection:
        seen = connection.execute(count_segments).scalar()
    with stores["supervisor"].engine.connect() as connection:
        everyone = connection.execute(count_segments).scalar()
        bobs_segments = connection.execute(
            text(
                "SELECT count(*) FROM segments s JOIN calls c ON c.id = s.call_id "
                "WHERE c.owner_role = :bob"
            ),
            {"bob": team_db.roles["agent_b"]},
        ).scalar()
    assert 1 <= seen == bobs_segments < everyone

    # Writing into Alice's call: the database refuses the new row...
    with pytest.raises(DBAPIError) as error:
        bob.add_segment(alices, SegmentRecord(9, "agent", 30.0, 31.0, "injected"))
    assert "row-level security" in refused(error)
    # ...and updates or deletes find no row of hers to change.
    assert bob.save_notes(alices, "overwritten", 99) is False
    bob.update_info(alices, client_name="someone else")
    with bob.engine.begin() as connection:
        gone = connection.execute(delete(Segment).where(Segment.call_id == alices)).rowcount
    assert gone == 0
    after = alice.get(alices)
    assert after is not None
    assert after.notes == "notes by alice" and after.info.client_name == "Dana Smith"
    assert len(after.segments) == 2


def test_an_agent_cannot_give_a_call_to_someone_else(team_db, stores):
    bob = stores["agent_b"]
    now = datetime.now(UTC)
    row = dict(uid=new_uid(), agent="bob", client_name="", client_contact="", ticket_id="",
               subject="", source="live", status="live", started_at=now, updated_at=now,
               devices={}, model={}, owner_host="", redacted=True, notes="",
               notes_version=0)  # fmt: skip
    with pytest.raises(DBAPIError) as error, bob.engine.begin() as connection:
        connection.execute(insert(Call).values(**row, owner_role=team_db.roles["agent_a"]))
    assert "row-level security" in refused(error)

    bobs = record_call(bob, "bob", lines=1)
    with pytest.raises(DBAPIError) as error, bob.engine.begin() as connection:
        connection.execute(
            update(Call).where(Call.id == bobs).values(owner_role=team_db.roles["agent_a"])
        )
    assert "row-level security" in refused(error)


def test_an_agent_cannot_review_calls(team_db, stores):
    alice = stores["agent_a"]
    call_id = record_call(alice, "alice", lines=1)
    with pytest.raises(DBAPIError) as error:
        add_review(alice, call_id, "no_action", "my own call is fine")
    assert "permission denied" in refused(error)


def test_offline_calls_sync_as_their_agent_and_never_onto_another_agents_call(
    team_db, stores, tmp_path
):
    from app.store.sync import TeamSync

    local = CallStore.open(f"sqlite:///{tmp_path / 'alice.db'}")
    try:
        call_id = record_call(local, "alice")
        uid = local.get(call_id).info.uid
        for _ in range(2):  # the second run replaces the children: agents may delete them
            local.add_segment(call_id, SegmentRecord(9, "agent", 20.0, 21.0, "added offline"))
            sync = TeamSync(local, team_db.agent_a)
            try:
                assert sync.sync_once().error is None
            finally:
                sync.close()
    finally:
        local.close()
    synced = stores["agent_a"].get(uid)
    assert synced is not None and len(synced.segments) == 3
    with stores["agent_a"].engine.connect() as connection:
        owner = connection.execute(select(Call.owner_role).where(Call.uid == uid)).scalar()
    assert owner == team_db.roles["agent_a"]

    # Bob's PC sending a call with Alice's uid must not take hers over.
    bobs_pc = CallStore.open(f"sqlite:///{tmp_path / 'bob.db'}")
    try:
        bobs_pc.start_call(CallInfo(uid=uid, started_at=STARTED, agent="bob"))
        sync = TeamSync(bobs_pc, team_db.agent_b)
        try:
            result = sync.sync_once()
        finally:
            sync.close()
    finally:
        bobs_pc.close()
    assert result.pushed == 0 and "row-level security" in (result.error or "")
    assert stores["agent_a"].get(uid).info.agent == "alice"


# -- supervisors -------------------------------------------------------------------------
def test_a_supervisor_sees_every_call_and_reviews_but_changes_nothing(team_db, stores):
    alice, bob, supervisor = stores["agent_a"], stores["agent_b"], stores["supervisor"]
    alices, bobs = record_call(alice, "alice"), record_call(bob, "bob", lines=1)

    listed = {c.id: c for c in supervisor.list_calls()}
    assert {alices, bobs} <= set(listed)
    assert listed[alices].flags == ("abusive_language",) and listed[alices].segments == 2
    record = supervisor.get(alices)
    assert record is not None and record.notes == "notes by alice"
    assert [s.text for s in record.segments] == ["line 1 of alice", "line 2 of alice"]

    add_review(supervisor, alices, "coaching", "talk it through with Alice")
    with supervisor.engine.connect() as connection:
        reviewer = connection.execute(
            select(Review.reviewer).where(Review.call_id == alices)
        ).scalar()
    assert reviewer == team_db.roles["supervisor"]
    # The reviewed agent sees the review of her call; the other agent does not.
    with alice.engine.connect() as connection:
        assert connection.execute(select(Review.outcome).where(Review.call_id == alices)).all()
    with bob.engine.connect() as connection:
        assert connection.execute(select(Review.id)).all() == []

    # A review in someone else's name is refused, and so is any change to the calls.
    with pytest.raises(DBAPIError) as error, supervisor.engine.begin() as connection:
        connection.execute(
            insert(Review).values(call_id=alices, reviewer=team_db.roles["agent_a"],
                                  outcome="no_action", comment="", reviewed_at=STARTED)
        )  # fmt: skip
    assert "row-level security" in refused(error)
    for statement in (
        update(Call).where(Call.id == alices).values(notes="edited by the supervisor"),
        delete(Call).where(Call.id == alices),
        update(Segment).where(Segment.call_id == alices).values(text="edited"),
        delete(Segment).where(Segment.call_id == alices),
    ):
        with pytest.raises(DBAPIError) as error, supervisor.engine.begin() as connection:
            connection.execute(statement)
        assert "permission denied" in refused(error)
    with pytest.raises(DBAPIError) as error:
        supervisor.save_notes(alices, "edited by the supervisor", 50)
    assert "permission denied" in refused(error)
    assert alice.get(alices).notes == "notes by alice"


def test_the_admin_who_owns_the_tables_sees_no_calls(team_db, stores):
    """FORCE ROW LEVEL SECURITY: the tables' owner gets no pass; admins administer, they do
    not read calls (a supervisor does)."""
    record_call(stores["agent_a"], "alice", lines=1)
    admin = CallStore.open(team_db.admin_url)
    try:
        assert admin.list_calls() == []
        with admin.engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM segments")).scalar() == 0
    finally:
        admin.close()


# -- administration ----------------------------------------------------------------------
def test_init_again_keeps_everything_working(team_db, stores):
    call_id = record_call(stores["agent_a"], "alice", lines=1)
    init_team(team_db.admin_url)
    init_team(team_db.admin_url)
    assert stores["agent_a"].get(call_id) is not None
    assert stores["agent_b"].get(call_id) is None
    assert stores["supervisor"].get(call_id) is not None
    record_call(stores["agent_b"], "bob", lines=1)  # sequences and privileges still granted


def test_administration_refuses_what_it_must_and_says_why(team_db):
    for bad in ("bad-name", "1abc", "pg_monitor", "public", "x" * 64, "calmline_agent", ""):
        with pytest.raises(TeamError, match="not a usable role name"):
            add_member(team_db.admin_url, bad, "secret", "calmline_agent")
    with pytest.raises(TeamError, match="unknown team group"):
        add_member(team_db.admin_url, "carol", "secret", "calmline_admin")
    with pytest.raises(TeamError, match="admin role"):
        add_member(team_db.admin_url, "calmline_admin", "secret", "calmline_agent")
    with pytest.raises(TeamError, match="CREATEROLE"):
        init_team(team_db.agent_a)
    with pytest.raises(TeamError, match="CREATEROLE"):
        add_member(team_db.supervisor, "carol", "secret", "calmline_agent")
    wrong = pg_url(team_db.admin_url, team_db.name, team_db.roles["agent_a"], "wrong")
    with pytest.raises(TeamError, match="wrong password"):
        team_role(wrong)
    with pytest.raises(TeamError, match=r"127\.0\.0\.1:9\b.*postgres-server\.sh start"):
        team_role("postgresql://someone:pw@127.0.0.1:9/calmline")
    with pytest.raises(TeamError, match="PostgreSQL"):
        init_team("sqlite:///calls.db")


def test_adding_an_existing_member_resets_the_password(team_db):
    role = f"{team_db.name}_c"
    admin = pg_admin_connection()
    try:
        assert add_member(team_db.admin_url, role, "first", "calmline_agent") is True
        assert add_member(team_db.admin_url, role, "second", "calmline_agent") is False
        assert team_role(pg_url(team_db.admin_url, team_db.name, role, "second")) == "agent"
        with pytest.raises(TeamError, match="wrong password"):
            team_role(pg_url(team_db.admin_url, team_db.name, role, "first"))
    finally:
        admin.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))
        admin.close()


# -- the command line --------------------------------------------------------------------
def calmline(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    # No settings.toml (the config folder is empty): every command is given --store.
    env = dict(os.environ, XDG_CONFIG_HOME=os.environ["XDG_DATA_HOME"] + "-config")
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        input=stdin,
        env=env,
    )


def test_team_commands(team_db):
    role = f"{team_db.name}_{secrets.token_hex(2)}"
    admin = pg_admin_connection()
    try:
        init = calmline("team", "init", "--store", team_db.admin_url)
        assert init.returncode == 0, init.stderr
        assert "team mode ready" in init.stdout and "***" in init.stdout

        added = calmline("team", "add-agent", role, "--store", team_db.admin_url, stdin="pw\n")
        assert added.returncode == 0, added.stderr
        assert f"agent {role} added" in added.stdout
        url = pg_url(team_db.admin_url, team_db.name, role, "pw")
        whoami = calmline("team", "whoami", "--store", url)
        assert whoami.returncode == 0, whoami.stderr
        assert whoami.stdout.strip().startswith(f"{role}: agent on ")

        bad = calmline("team", "add-supervisor", "no-dashes", "--password", "x",
                       "--store", team_db.admin_url)  # fmt: skip
        assert bad.returncode == 2 and "not a usable role name" in bad.stderr
        assert len(bad.stderr.strip().splitlines()) == 1
        not_admin = calmline("team", "init", "--store", team_db.agent_a)
        assert not_admin.returncode == 2 and "CREATEROLE" in not_admin.stderr
    finally:
        admin.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))
        admin.close()
