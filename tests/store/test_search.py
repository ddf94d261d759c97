"""Full-text search over calls, on a real SQLite file and, when its server answers, on a real
PostgreSQL database: what is found where, phrases, accents, search syntax in the user's text,
filters, ordering, the index following every change, the filtered call list, migrations.

The PostgreSQL cases need the server of ``scripts/postgres-server.sh start`` (or the admin
URL in ``CALMLINE_TEST_PG_ADMIN_URL``); without it they are skipped, unless that variable is
set, in which case they fail.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import Engine, delete, text, update
from sqlalchemy.engine import make_url

from app.calls.records import (
    CallInfo,
    CallRecord,
    FlagRecord,
    IncidentRecord,
    MoodPoint,
    SegmentRecord,
)
from app.store import CallStore
from app.store.calls import new_uid
from app.store.db import MIGRATIONS, create_store_engine
from app.store.schema import Base, Call, Segment
from app.store.search import (
    NO_FILTER,
    CallFilter,
    include_in_autogenerate,
    list_filtered,
    parse_query,
    search_calls,
)

DAY = datetime(2026, 3, 4, 9, 0, tzinfo=UTC)
PG_DEFAULT_URL = "postgresql://calmline_admin:calmline_admin@127.0.0.1:5432/calmline_test"
PG_TABLES = "calls"  # TRUNCATE … CASCADE empties every table that refers to it


# -- stores ------------------------------------------------------------------------------------


def _pg_admin_url() -> str:
    explicit = os.environ.get("CALMLINE_TEST_PG_ADMIN_URL")
    url = explicit or PG_DEFAULT_URL
    try:
        psycopg.connect(url, connect_timeout=3).close()
    except psycopg.Error as exc:
        reason = f"PostgreSQL at {make_url(url).render_as_string()} does not answer: {exc}"
        if explicit:
            pytest.fail(reason)
        pytest.skip(f"{reason} (scripts/postgres-server.sh start provides it)")
    return url


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    """A database of its own on the test server for this module, dropped afterwards."""
    admin_url = _pg_admin_url()
    name = f"calmline_search_test_{os.getpid()}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {name}")
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path) -> Iterator[CallStore]:
    if request.param == "sqlite":
        store = CallStore.open(f"sqlite:///{tmp_path / 'calls.db'}")
    else:
        store = CallStore.open(request.getfixturevalue("pg_url"))
        with store.engine.begin() as connection:
            connection.execute(text(f"TRUNCATE {PG_TABLES} RESTART IDENTITY CASCADE"))
    yield store
    store.close()


@pytest.fixture
def sqlite_store(tmp_path) -> Iterator[CallStore]:
    store = CallStore.open(f"sqlite:///{tmp_path / 'calls.db'}")
    yield store
    store.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request, tmp_path) -> Iterator[str]:
    """A database without any table yet."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    admin_url = _pg_admin_url()
    name = f"calmline_search_empty_{os.getpid()}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {name}")
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def add_call(
    store: CallStore,
    started: datetime = DAY,
    lines: tuple[str, ...] = (),
    notes: str = "",
    client: str = "",
    ticket: str = "",
    subject: str = "",
    flags: tuple[str, ...] = (),
    mood: tuple[float, ...] = (),
) -> int:
    record = CallRecord(
        info=CallInfo(
            uid=new_uid(),
            started_at=started,
            ended_at=started + timedelta(minutes=5),
            agent="sam",
            client_name=client,
            ticket_id=ticket,
            subject=subject,
            status="ended",
        ),
        segments=tuple(
            SegmentRecord(seq, "client" if seq % 2 else "agent", seq * 5.0, seq * 5.0 + 4, line)
            for seq, line in enumerate(lines, start=1)
        ),
        flags=tuple(FlagRecord(12.0, "abusive_language", excerpt) for excerpt in flags),
        mood=tuple(MoodPoint(5.0 * i, value, "steady") for i, value in enumerate(mood)),
        notes=notes,
    )
    return store.save_record(record)


def found(store: CallStore, query: str, filters: CallFilter = NO_FILTER) -> list[int]:
    return [hit.call_id for hit in search_calls(store, query, filters)]


# -- what is found, and where ------------------------------------------------------------------


def test_words_are_found_in_the_transcript_notes_details_and_flags(store):
    transcript = add_call(store, lines=("Hello", "My VPN keeps dropping since Monday"))
    notes = add_call(store, notes="Printer driver reinstalled remotely")
    client = add_call(store, client="Dana Okafor", subject="Invoice copy")
    ticket = add_call(store, ticket="RT-4521")
    flag = add_call(store, lines=("Good morning",), flags=("Are you a complete imbecile?",))

    hits = {hit.call_id: hit for hit in search_calls(store, "vpn")}
    assert list(hits) == [transcript] and hits[transcript].where == "transcript"
    assert "«VPN»" in hits[transcript].snippet
    assert [(h.call_id, h.where) for h in search_calls(store, "driver")] == [(notes, "notes")]
    assert [(h.call_id, h.where) for h in search_calls(store, "okafor")] == [(client, "details")]
    assert [(h.call_id, h.where) for h in search_calls(store, "invoice")] == [(client, "details")]
    assert found(store, "RT-4521") == [ticket]
    assert found(store, "4521") == [ticket]
    assert [(h.call_id, h.where) for h in search_calls(store, "imbecile")] == [(flag, "flag")]
    hit = search_calls(store, "okafor")[0]
    assert (hit.client_name, hit.ticket_id, hit.started_at) == ("Dana Okafor", "", DAY)


def test_word_forms_and_case_do_not_matter(store):
    call = add_call(store, lines=("I was promised two refunds last week",))
    assert found(store, "refund") == found(store, "REFUNDS") == [call]
    assert found(store, "promise") == [call]


def test_accents_do_not_matter(store):
    umlaut = add_call(store, client="Jürgen Müller")
    plain = add_call(store, started=DAY - timedelta(days=1), lines=("This is Mr Muller again",))
    assert found(store, "Muller") == [umlaut, plain]
    assert found(store, "müller") == [umlaut, plain]
    assert found(store, "jurgen") == [umlaut]
    hit = search_calls(store, "muller")[0]
    assert "«Müller»" in hit.snippet


def test_a_quoted_phrase_needs_its_words_together_and_in_order(store):
    together = add_call(store, lines=("I asked for a password reset yesterday",))
    apart = add_call(store, lines=("Reset it, the password is wrong",))
    assert found(store, '"password reset"') == [together]
    assert sorted(found(store, "password reset")) == sorted([together, apart])
    assert found(store, "“password reset”") == [together]  # typographic quotes too


def test_every_word_must_be_in_the_call_but_not_in_the_same_place(store):
    call = add_call(store, client="Anna Müller", lines=("I want my refund now",))
    add_call(store, client="Anna Müller", lines=("The printer is jammed",))
    add_call(store, lines=("I want my refund now",))
    assert found(store, "Müller refund") == [call]
    assert found(store, "Müller refund zeppelin") == []


@pytest.mark.parametrize(
    "query",
    [
        "AND",
        "vpn AND",
        "OR vpn",
        "NOT vpn",
        "-vpn",
        "vpn*",
        "*",
        '"',
        '"vpn',
        'v"p"n',
        "NEAR(vpn printer)",
        "NEAR(",
        "(vpn",
        "vpn)",
        "^vpn",
        "text:vpn",
        "call_search:vpn",
        "vpn <-> printer",
        "vpn & !printer | x",
        "'; DROP TABLE calls; --",
        "100%",
        "under_score",
        "back\\slash",
        "nul\x00byte",
        "tab\tand\nnewline",
        "🙂 vpn",
        "«vpn»",
        "a" * 5000,
        " ".join(f"w{i}" for i in range(100)),
    ],
)
def test_search_syntax_in_the_query_is_plain_text(store, query):
    call = add_call(store, lines=("My VPN keeps dropping",))
    hits = search_calls(store, query)
    assert all(hit.call_id == call for hit in hits)
    assert found(store, "vpn") == [call]  # and the database is fine afterwards


def test_operator_characters_around_a_word_still_find_it(store):
    call = add_call(store, lines=("My VPN keeps dropping",))
    for query in ('"vpn', "vpn*", "(vpn", "vpn)", "^vpn", "-vpn", "«vpn»", "vpn!"):
        assert found(store, query) == [call], query


def test_a_query_without_any_word_finds_nothing_and_a_blank_one_lists_calls(store):
    older = add_call(store, started=DAY - timedelta(days=2), subject="Printer")
    newer = add_call(store, notes="Called back\nabout the invoice")
    assert found(store, "* ( ) \" ' -") == []
    assert found(store, "") == found(store, "   ") == [newer, older]
    hits = search_calls(store, "")
    assert [(h.snippet, h.where) for h in hits] == [
        ("Called back", "notes"),
        ("Printer", "details"),
    ]


# -- ordering ----------------------------------------------------------------------------------


def test_one_hit_per_call_newest_first(store):
    calls = [
        add_call(
            store,
            started=DAY + timedelta(hours=hours),
            lines=("The printer is broken", "Still the printer", "printer printer"),
            notes="printer",
            subject="Printer",
        )
        for hours in (1, 3, 2)
    ]
    assert found(store, "printer") == [calls[1], calls[2], calls[0]]
    assert all(hit.where == "notes" for hit in search_calls(store, "printer"))
    assert len(found(store, "printer", CallFilter())) == 3


def test_calls_with_all_the_words_in_one_place_come_first(store):
    together = add_call(store, started=DAY, lines=("Hi", "The VPN password expired"))
    apart = add_call(store, started=DAY + timedelta(days=1), lines=("VPN is down", "password?"))
    newest = add_call(store, started=DAY + timedelta(days=2), lines=("New VPN password please",))
    assert found(store, "vpn password") == [newest, together, apart]
    best = search_calls(store, "vpn password")
    assert best[1].snippet == "The «VPN» «password» expired"


def test_the_limit_keeps_the_best_hits(store):
    ids = [add_call(store, started=DAY + timedelta(minutes=i), notes="toner") for i in range(5)]
    assert [hit.call_id for hit in search_calls(store, "toner", limit=2)] == ids[:-3:-1]


def test_a_long_text_gives_a_short_snippet(store):
    words = " ".join(f"filler{i}" for i in range(80))
    add_call(store, notes=f"{words} the customer wants a refund {words}")
    (hit,) = search_calls(store, "refund")
    assert "«refund»" in hit.snippet and len(hit.snippet.split()) <= 20
    assert "\n" not in hit.snippet


# -- filters -----------------------------------------------------------------------------------


def test_filters_by_date_flags_and_mood(store):
    old = add_call(store, started=DAY - timedelta(days=40), lines=("invoice",), mood=(0.2, -0.7))
    flagged = add_call(store, started=DAY - timedelta(days=5), lines=("invoice",), flags=("you!",))
    calm = add_call(store, started=DAY, lines=("invoice",), mood=(0.3, 0.1))
    other = add_call(store, started=DAY, lines=("printer",), mood=(-0.9,))

    for query in ("invoice", ""):
        matching = [calm, flagged, old] if query else [other, calm, flagged, old]
        assert sorted(found(store, query)) == sorted(matching)
        since = CallFilter(since=DAY - timedelta(days=10))
        assert sorted(found(store, query, since)) == sorted(set(matching) - {old})
        window = CallFilter(since=DAY - timedelta(days=50), until=DAY - timedelta(days=1))
        assert found(store, query, window) == [flagged, old]
        assert found(store, query, CallFilter(flagged=True)) == [flagged]
        bad_mood = [c for c in matching if c in (old, other)]
        assert found(store, query, CallFilter(worst_mood_below=-0.5)) == bad_mood
        assert found(store, query, CallFilter(worst_mood_below=-0.5, since=DAY)) == (
            [other] if not query else []
        )


def test_the_filtered_call_list_matches_the_store_list(store):
    first = add_call(store, started=DAY - timedelta(days=3), lines=("a", "b"), mood=(0.5, -0.25))
    second = add_call(store, started=DAY, lines=("c",), flags=("x", "y"))
    third = add_call(store, started=DAY - timedelta(days=1))

    summaries = list_filtered(store)
    assert [s.id for s in summaries] == [second, third, first]
    assert summaries == store.list_calls()
    assert list_filtered(store, CallFilter(flagged=True)) == store.list_calls(flagged=True)
    assert [s.id for s in list_filtered(store, CallFilter(worst_mood_below=0))] == [first]
    assert [s.id for s in list_filtered(store, CallFilter(until=DAY))] == [third, first]
    assert [s.id for s in list_filtered(store, limit=1)] == [second]
    assert [s.id for s in list_filtered(store, call_ids=[first, second])] == [second, first]
    assert list_filtered(store, CallFilter(flagged=True), call_ids=[first]) == []
    assert list_filtered(store, call_ids=[]) == []
    by_id = {s.id: s for s in summaries}
    assert by_id[first].worst_mood == -0.25 and by_id[first].segments == 2
    assert by_id[second].flags == ("abusive_language", "abusive_language")
    assert by_id[third].flags == () and by_id[third].duration_s == 300.0


# -- the index follows every change ------------------------------------------------------------


def test_the_index_follows_edits_new_lines_and_deletions(store):
    call_id = store.start_call(CallInfo(uid=new_uid(), started_at=DAY, client_name="Lee"))
    store.add_segment(call_id, SegmentRecord(1, "client", 0.0, 2.0, "My laptop will not boot"))
    assert found(store, "laptop") == [call_id]

    store.add_segment(call_id, SegmentRecord(2, "agent", 2.0, 4.0, "Let us try safe mode"))
    assert found(store, "safe mode") == [call_id]

    store.save_notes(call_id, "Docking station suspected", 1)
    assert found(store, "docking") == [call_id]
    store.save_notes(call_id, "Battery replaced", 2)
    assert found(store, "docking") == [] and found(store, "battery") == [call_id]

    store.update_info(call_id, client_name="Lee Nakamura", ticket_id="RT-77", subject="Boot loop")
    assert found(store, "nakamura") == found(store, "RT-77") == found(store, "boot") == [call_id]
    store.update_info(call_id, subject="Dead screen")
    assert found(store, "loop") == [] and found(store, "dead screen") == [call_id]

    store.add_flag(call_id, FlagRecord(3.0, "manager_request", "get me your supervisor"))
    store.add_incident(call_id, IncidentRecord(3.0, "Escalation demanded", "supervisor now"))
    assert [(h.call_id, h.where) for h in search_calls(store, "supervisor")] == [(call_id, "flag")]
    assert found(store, "escalation") == [call_id]

    with store.engine.begin() as connection:
        connection.execute(
            update(Segment)
            .where(Segment.call_id == call_id, Segment.seq == 1)
            .values(text="My tablet will not boot")
        )
    assert found(store, "laptop") == [] and found(store, "tablet") == [call_id]
    with store.engine.begin() as connection:
        connection.execute(delete(Segment).where(Segment.call_id == call_id, Segment.seq == 2))
    assert found(store, "safe") == []

    other = add_call(store, lines=("tablet",))
    with store.engine.begin() as connection:
        connection.execute(delete(Call).where(Call.id == call_id))
    for query in ("tablet", "nakamura", "battery", "supervisor", "escalation", ""):
        assert call_id not in found(store, query), query
    assert found(store, "tablet") == [other]


def test_deleting_a_call_leaves_nothing_of_it_in_the_sqlite_index(sqlite_store):
    store = sqlite_store
    call_id = add_call(store, lines=("one", "two"), notes="n", client="c", flags=("f",))
    kept = add_call(store, lines=("three",), notes="m", flags=("g",))
    with store.engine.begin() as connection:
        connection.execute(delete(Call).where(Call.id == call_id))
    with store.engine.connect() as connection:
        calls = connection.execute(text("SELECT DISTINCT rowid >> 24 FROM call_search"))
        assert calls.scalars().all() == [kept]


def test_odd_segment_numbers_never_fail_a_write(store):
    call_id = store.start_call(CallInfo(uid=new_uid(), started_at=DAY))
    for seq in (0, -1, 2**24, 2**31 - 1, -(2**31)):
        store.add_segment(call_id, SegmentRecord(seq, "agent", 0.0, 1.0, f"line number {seq}"))
    assert found(store, "number") == [call_id]
    assert len(store.get(call_id).segments) == 5


def test_huge_segment_numbers_stay_inside_their_call_in_the_sqlite_index(sqlite_store):
    store = sqlite_store
    first, second = (store.start_call(CallInfo(uid=new_uid(), started_at=DAY)) for _ in "ab")
    for seq in (2**40, -(2**62), 2**63 - 1, -(2**63)):
        store.add_segment(first, SegmentRecord(seq, "agent", 0.0, 1.0, f"huge number {seq}"))
    store.add_segment(second, SegmentRecord(1, "agent", 0.0, 1.0, "small number"))
    assert found(store, "huge") == [first] and found(store, "small") == [second]


# -- migrations --------------------------------------------------------------------------------

TRIGGERS = {
    f"call_search_{table}_{event}"
    for table in ("segments", "flags", "incidents")
    for event in ("insert", "update", "delete")
} | {f"call_search_calls_{event}" for event in ("insert", "details", "notes", "delete")}


def test_migrations_and_models_agree_apart_from_the_search_index(store):
    with store.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"include_name": include_in_autogenerate}
        )
        assert compare_metadata(context, Base.metadata) == []
        if store.engine.dialect.name == "sqlite":
            names = connection.execute(text("SELECT name FROM sqlite_master WHERE type='trigger'"))
            assert set(names.scalars()) >= TRIGGERS


def _migrate(engine: Engine, revision: str, down: bool = False) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        (command.downgrade if down else command.upgrade)(config, revision)


def test_the_migration_indexes_existing_calls_and_can_be_undone(empty_url):
    engine = create_store_engine(empty_url)
    try:
        _migrate(engine, "0002")
        before = CallStore(engine)  # calls written by a Calmline without search
        call_id = add_call(
            before, lines=("printer jammed",), notes="toner", client="Zoë", flags=("rude",)
        )
        _migrate(engine, "head")
        store = CallStore(engine)
        for query in ("printer", "toner", "zoe", "rude"):
            assert found(store, query) == [call_id], query
        _migrate(engine, "0002", down=True)
        _migrate(engine, "head")
        assert found(store, "jammed") == [call_id]
        assert add_call(store, lines=("new line",)) and len(found(store, "")) == 2
    finally:
        engine.dispose()


# -- PostgreSQL: row-level security ------------------------------------------------------------


def test_search_sees_only_what_row_level_security_lets_the_role_see(pg_url):
    store = CallStore.open(pg_url)
    suffix = uuid.uuid4().hex[:8]
    roles = [f"calmline_search_agent_{n}_{suffix}" for n in ("a", "b")]
    agents: list[CallStore] = []
    try:
        with store.engine.begin() as connection:
            connection.execute(text("TRUNCATE calls RESTART IDENTITY CASCADE"))
            for role in roles:
                connection.execute(text(f"CREATE ROLE {role} LOGIN PASSWORD 'pw'"))
                connection.execute(text(f"GRANT ALL ON ALL TABLES IN SCHEMA public TO {role}"))
                connection.execute(text(f"GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO {role}"))
            connection.execute(text("ALTER TABLE calls ENABLE ROW LEVEL SECURITY"))
            connection.execute(
                text("CREATE POLICY own_calls ON calls USING (owner_role = current_user)")
            )
        for role in roles:
            url = make_url(pg_url).set(username=role, password="pw")
            agents.append(CallStore(create_store_engine(url.render_as_string(False))))
        mine = add_call(agents[0], lines=("refund for the router",), notes="router")
        theirs = add_call(agents[1], lines=("refund for the modem",), notes="modem")
        assert found(agents[0], "refund") == [mine]
        assert found(agents[1], "refund") == [theirs]
        assert found(agents[0], "modem") == []
        assert [s.id for s in list_filtered(agents[0])] == [mine]
        assert sorted(found(store, "refund")) == sorted([mine, theirs])  # the owner sees all
    finally:
        for agent in agents:
            agent.close()
        with store.engine.begin() as connection:
            connection.execute(text("DROP POLICY IF EXISTS own_calls ON calls"))
            connection.execute(text("ALTER TABLE calls DISABLE ROW LEVEL SECURITY"))
            for role in roles:
                connection.execute(text(f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {role}"))
                connection.execute(
                    text(f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {role}")
                )
                connection.execute(text(f"DROP ROLE IF EXISTS {role}"))
        store.close()


# -- the query ---------------------------------------------------------------------------------


def test_the_query_is_split_into_words_and_phrases():
    assert parse_query('vpn "password  reset" VPN, ') == ["vpn", "password reset"]
    assert parse_query('* "" ( "  " - vpn') == ["vpn"]
    assert parse_query("„Müller“ «refund»") == ["Müller", "refund"]
    assert len(parse_query(" ".join(f"w{i}" for i in range(50)))) == 12
