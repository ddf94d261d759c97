"""`calmline bench-search`: how fast full-text search over calls answers, against a baseline
measured in the same process on the same database.

Generates realistic support calls (about 30 transcript lines each, notes, client details,
mood, some flags and incidents) into a fresh database — a temporary SQLite file, or a new
database on the PostgreSQL server of ``--store`` — then times ``search_calls`` on varied
queries (words, names with and without accents, ticket ids, phrases, two words, words that
are nowhere, filters by date, flags and mood) and the same queries answered by a naive
``LIKE '%word%'`` scan of transcript lines, notes, details and flags.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
import tomllib
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, insert, or_, select, text, union
from sqlalchemy.engine import make_url

from app.paths import resources_dir
from app.store.calls import CallStore
from app.store.schema import Call, FlagRow, Incident, MoodRow, Segment
from app.store.search import CallFilter, apply_filters, parse_query, search_calls

TARGET_P95_MS = 100.0
LIMIT = 100
NOW = datetime(2026, 11, 20, 17, 0, tzinfo=UTC)

# -- a generator of support calls --------------------------------------------------------------


@dataclass(frozen=True)
class Topic:
    subject: str
    words: tuple[str, ...]  # words the client and agent use about it
    client: tuple[str, ...]
    agent: tuple[str, ...]
    notes: tuple[str, ...]
    phrases: tuple[str, ...]  # phrases a user would search for


def _word_lists() -> dict[str, Any]:
    with (resources_dir() / "bench" / "search_calls.toml").open("rb") as file:
        return tomllib.load(file)


_WORDS = _word_lists()
FIRST_NAMES = tuple(_WORDS["first_names"])
LAST_NAMES = tuple(_WORDS["last_names"])
AGENTS = tuple(_WORDS["agents"])
TOPICS = tuple(
    Topic(t["subject"], *(tuple(t[f]) for f in ("words", "client", "agent", "notes", "phrases")))
    for t in _WORDS["topics"]
)
GENERIC_AGENT = tuple(_WORDS["generic_agent"])
GENERIC_CLIENT = tuple(_WORDS["generic_client"])
ANGRY_CLIENT = tuple(_WORDS["angry_client"])
DAYS = tuple(_WORDS["days"])
FLOORS = tuple(_WORDS["floors"])
FLAG_KINDS = ("abusive_language", "manager_request", "sustained_negative")


def _fill(template: str, rng: random.Random, agent: str, client: str) -> str:
    return template.format(
        agent=agent.title(),
        client=client,
        n=rng.randint(2, 30),
        day=rng.choice(DAYS),
        floor=rng.choice(FLOORS),
        amount=rng.choice((19, 49, 99, 120, 349)),
    )


def _call_rows(
    index: int, rng: random.Random
) -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]], list, list]:
    """One call: its calls row and its lines, mood points, flags and incidents."""
    call_id = index + 1
    topic, other = rng.sample(TOPICS, 2)
    agent = rng.choice(AGENTS)
    client = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
    started = NOW - timedelta(days=rng.uniform(0, 365))
    flagged = rng.random() < 0.08
    lines: list[tuple[str, str]] = [
        ("agent", _fill(GENERIC_AGENT[0], rng, agent, client)),
        ("client", _fill(GENERIC_CLIENT[0], rng, agent, client)),
    ]
    for turn in range(rng.randint(11, 17)):
        if rng.random() < 0.55:
            pool = topic if rng.random() < 0.85 else other
            client_line, agent_line = rng.choice(pool.client), rng.choice(pool.agent)
        else:
            client_line, agent_line = rng.choice(GENERIC_CLIENT[1:]), rng.choice(GENERIC_AGENT[1:])
        if flagged and turn % 4 == 3:
            client_line = rng.choice(ANGRY_CLIENT)
        lines.append(("client", _fill(client_line, rng, agent, client)))
        lines.append(("agent", _fill(agent_line, rng, agent, client)))
    clock, segments = 0.0, []
    for seq, (speaker, line) in enumerate(lines, start=1):
        length = 1.0 + len(line) / 15
        segments.append(
            {
                "call_id": call_id,
                "seq": seq,
                "speaker": speaker,
                "start": clock,
                "end": clock + length,
                "text": line,
                "latency_s": 0.4,
                "sentiment_label": None,
                "sentiment": None,
            }
        )
        clock += length + rng.uniform(0.2, 1.5)
    low = -0.85 if flagged else rng.uniform(-0.5, 0.4)
    mood = [
        dict(
            call_id=call_id, t=clock * k / 5, value=round(rng.uniform(low, 0.6), 3), trend="steady"
        )
        for k in range(1, 6)
    ]
    flags, incidents = [], []
    if flagged:
        angry = [s for s in segments if s["text"] in ANGRY_CLIENT] or segments[-2:]
        for segment in angry[:2]:
            kind = rng.choice(FLAG_KINDS)
            excerpt = segment["text"]
            flags.append(
                {
                    "call_id": call_id,
                    "t": segment["end"],
                    "kind": kind,
                    "excerpt": excerpt,
                    "segment_seq": segment["seq"],
                }
            )
            if kind == "abusive_language":
                incidents.append(
                    {
                        "call_id": call_id,
                        "t": segment["end"],
                        "text": "Abusive language",
                        "excerpt": excerpt,
                        "segment_seq": segment["seq"],
                    }
                )
    notes = " ".join(
        _fill(note, rng, agent, client) for note in rng.sample(topic.notes, rng.randint(1, 2))
    )
    ticket = f"RT-{10_000 + call_id}" if rng.random() < 0.9 else ""
    started_utc = started.replace(tzinfo=None)  # stored as UTC wall-clock digits, like the store
    call = dict(
        id=call_id,
        uid=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        agent=agent,
        client_name=client,
        client_contact=f"{client.split()[0].lower()}@example.com",
        ticket_id=ticket,
        subject=topic.subject if ticket else "",
        source="live",
        status="ended",
        started_at=started_utc,
        ended_at=started_utc + timedelta(seconds=clock),
        updated_at=started_utc + timedelta(seconds=clock),
        devices={},
        model={},
        owner_host="bench",
        owner_pid=None,
        redacted=True,
        notes=notes if rng.random() < 0.85 else "",
        notes_version=1,
    )
    return call, segments, mood, flags, incidents


def generate_calls(engine: Engine, calls: int, seed: int = 7, batch: int = 500) -> int:
    """Bulk-insert ``calls`` generated calls (through the search triggers on SQLite);
    returns the number of transcript lines."""
    rng = random.Random(seed)
    tables = (Call, Segment, MoodRow, FlagRow, Incident)
    lines = 0
    for first in range(0, calls, batch):
        rows: list[list[dict[str, Any]]] = [[] for _ in tables]
        for index in range(first, min(calls, first + batch)):
            call, segments, mood, flags, incidents = _call_rows(index, rng)
            for bucket, part in zip(rows, ([call], segments, mood, flags, incidents), strict=True):
                bucket.extend(part)
        with engine.begin() as connection:
            for table, bucket in zip(tables, rows, strict=True):
                if bucket:
                    connection.execute(insert(table), bucket)
        lines += len(rows[1])
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            # Ids were given explicitly; the next real call must not reuse one.
            connection.execute(text("SELECT setval('calls_id_seq', (SELECT max(id) FROM calls))"))
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("ANALYZE"))  # what autovacuum does soon after a big load
    return lines


# -- the queries -------------------------------------------------------------------------------


@dataclass(frozen=True)
class BenchQuery:
    text: str
    filters: CallFilter
    kind: str


def make_queries(count: int, calls: int, seed: int = 11) -> list[BenchQuery]:
    rng = random.Random(seed)
    fold = str.maketrans("üöäéèëïçñøłśščřžíáóúıżńğ", "uoaeeeicnolsscrziaouizng")

    def word() -> str:
        return rng.choice(rng.choice(TOPICS).words)

    makers: list[tuple[str, Callable[[], str]]] = [
        ("word", word),
        ("word", lambda: rng.choice(("manager", "patience", "waiting", "ridiculous"))),
        ("name", lambda: rng.choice(LAST_NAMES)),
        ("name", lambda: rng.choice(LAST_NAMES).lower().translate(fold)),
        ("ticket", lambda: f"RT-{10_001 + rng.randrange(calls)}"),
        ("phrase", lambda: f'"{rng.choice(rng.choice(TOPICS).phrases)}"'),
        ("two words", lambda: f"{word()} {word()}"),
        ("name + word", lambda: f"{rng.choice(LAST_NAMES)} {word()}"),
        ("nowhere", lambda: rng.choice(("zeppelin", "kumquat", "xylophone quartz"))),
        ("operators", lambda: rng.choice(('refund AND "', "NEAR(vpn", "print* -queue", "(toner"))),
        ("filters only", lambda: ""),
    ]
    queries = []
    for i in range(count):
        kind, make = makers[i % len(makers)]
        filters = CallFilter()
        if kind == "filters only" or rng.random() < 0.3:
            filters = rng.choice(
                (
                    CallFilter(since=NOW - timedelta(days=30)),
                    CallFilter(since=NOW - timedelta(days=120), until=NOW - timedelta(days=60)),
                    CallFilter(flagged=True),
                    CallFilter(worst_mood_below=-0.4),
                    CallFilter(since=NOW - timedelta(days=90), flagged=True),
                )
            )
        queries.append(BenchQuery(make(), filters, kind))
    return queries


def naive_search(store: CallStore, query: str, filters: CallFilter, limit: int = LIMIT) -> list:
    """The baseline: every word or phrase as a case-insensitive substring of a transcript
    line, the notes, the details or a flag excerpt of the call (a full scan each)."""
    statement = select(Call.id, Call.started_at, Call.client_name, Call.ticket_id)
    for term in parse_query(query):
        statement = statement.where(
            Call.id.in_(
                union(
                    select(Segment.call_id).where(Segment.text.icontains(term, autoescape=True)),
                    select(Call.id).where(
                        or_(
                            *(
                                column.icontains(term, autoescape=True)
                                for column in (Call.notes, Call.client_name, Call.ticket_id)
                            ),
                            Call.subject.icontains(term, autoescape=True),
                        )
                    ),
                    select(FlagRow.call_id).where(FlagRow.excerpt.icontains(term, autoescape=True)),
                )
            )
        )
    statement = apply_filters(statement, filters)
    statement = statement.order_by(Call.started_at.desc(), Call.id.desc()).limit(limit)
    with store.engine.connect() as connection:
        return connection.execute(statement).all()


# -- running it --------------------------------------------------------------------------------


@contextmanager
def fresh_database(url: str | None) -> Iterator[str]:
    """A new empty database for the run: a temporary SQLite file, or a new database on the
    server of a PostgreSQL ``url`` (its role needs CREATEDB), dropped afterwards."""
    if url is None or make_url(url).get_backend_name() == "sqlite":
        with tempfile.TemporaryDirectory(prefix="calmline-search-bench-") as folder:
            yield f"sqlite:///{Path(folder) / 'calls.db'}"
        return
    server = make_url(url)
    if server.drivername == "postgresql":
        server = server.set(drivername="postgresql+psycopg")
    name = f"calmline_search_bench_{os.getpid()}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            connection.execute(text(f"CREATE DATABASE {name}"))
        try:
            yield server.set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as connection:
                connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    finally:
        admin.dispose()


def _percentiles(samples: Sequence[float]) -> tuple[float, float, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered), p95, ordered[-1]


def _size_mb(store: CallStore) -> float:
    with store.engine.connect() as connection:
        if store.engine.dialect.name == "postgresql":
            size = connection.execute(text("SELECT pg_database_size(current_database())"))
        else:
            size = connection.execute(
                text("SELECT page_count * page_size FROM pragma_page_count, pragma_page_size")
            )
        return float(size.scalar() or 0) / 1e6


def run_search_bench(
    url: str | None,
    calls: int = 10_000,
    queries: int = 200,
    log: Callable[[str], None] = print,
) -> str:
    """Generate ``calls`` calls into a fresh database and time ``queries`` searches against
    the naive scan; returns the report table."""
    with fresh_database(url) as database:
        store = CallStore.open(database)
        try:
            log(f"generating {calls:,} calls into {store.where} …")
            started = time.perf_counter()
            lines = generate_calls(store.engine, calls)
            generation_s = time.perf_counter() - started
            size_mb = _size_mb(store)
            log(f"  {lines:,} transcript lines in {generation_s:.1f} s, {size_mb:.0f} MB")
            workload = make_queries(queries, calls)
            for query in workload[:10]:  # warm the caches of both the same way
                search_calls(store, query.text, query.filters, LIMIT)
                naive_search(store, query.text, query.filters, LIMIT)
            timings = []
            for index, query in enumerate(workload):
                runs = {"fts": search_calls, "naive": naive_search}
                order = list(runs) if index % 2 == 0 else list(reversed(runs))
                measured: dict[str, tuple[float, int]] = {}
                for label in order:  # neither always runs second, on the warmer cache
                    began = time.perf_counter()
                    found = len(runs[label](store, query.text, query.filters, LIMIT))
                    measured[label] = ((time.perf_counter() - began) * 1000, found)
                timings.append(Timing(query, *measured["fts"], *measured["naive"]))
            header = (
                f"Calmline search benchmark — {store.engine.dialect.name}, "
                f"{os.cpu_count()} CPU(s) visible\n"
                f"{calls:,} calls, {lines:,} transcript lines, generated in {generation_s:.1f} s,"
                f" database {size_mb:.0f} MB"
            )
            return format_report(header, timings)
        finally:
            store.close()


@dataclass(frozen=True)
class Timing:
    query: BenchQuery
    fts_ms: float
    fts_hits: int
    naive_ms: float
    naive_hits: int


def format_report(header: str, timings: Sequence[Timing]) -> str:
    fts = _percentiles([t.fts_ms for t in timings])
    naive = _percentiles([t.naive_ms for t in timings])
    filtered = sum(1 for t in timings if t.query.filters != CallFilter())
    verdict = "ok" if fts[1] <= TARGET_P95_MS else "MISS"
    width = 28
    out = [
        header,
        f"{len(timings)} queries, {filtered} of them with filters; up to {LIMIT} hits each",
        "",
        f"{'':<{width}} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'hits/query':>11}",
        f"{'full-text search':<{width}} {fts[0]:>8.1f} {fts[1]:>8.1f} {fts[2]:>8.1f} "
        f"{sum(t.fts_hits for t in timings) / len(timings):>11.1f}",
        f"{'baseline: LIKE %word% scan':<{width}} {naive[0]:>8.1f} {naive[1]:>8.1f} "
        f"{naive[2]:>8.1f} {sum(t.naive_hits for t in timings) / len(timings):>11.1f}",
        f"{'ratio baseline / full-text':<{width}} {naive[0] / fts[0]:>7.1f}× "
        f"{naive[1] / fts[1]:>7.1f}× {naive[2] / fts[2]:>7.1f}×",
        "",
        f"target: full-text p95 ≤ {TARGET_P95_MS:.0f} ms — {verdict}",
        "",
        "by kind of query (full-text / baseline)",
        f"{'kind':<{width}} {'queries':>8} {'p50 ms':>15} {'max ms':>15}",
    ]
    for kind in dict.fromkeys(t.query.kind for t in timings):
        mine = [t for t in timings if t.query.kind == kind]
        f50, _, fmax = _percentiles([t.fts_ms for t in mine])
        n50, _, nmax = _percentiles([t.naive_ms for t in mine])
        out.append(
            f"{kind:<{width}} {len(mine):>8} {f50:>7.1f} / {n50:>5.0f} {fmax:>7.1f} / {nmax:>5.0f}"
        )
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="calmline bench-search", description="Time full-text search over calls."
    )
    parser.add_argument(
        "--store",
        metavar="URL",
        help="a PostgreSQL URL whose role may create databases (default: a temporary SQLite file)",
    )
    parser.add_argument("--calls", type=int, default=10_000, help="calls to generate")
    parser.add_argument("--queries", type=int, default=200, help="queries to time")
    args = parser.parse_args(argv)
    print(run_search_bench(args.store, args.calls, args.queries), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
