"""Full-text search over calls, and the call list filtered by date, flags and mood.

A call matches when every word and "quoted phrase" of the query occurs somewhere in it: a
transcript line, the notes, the details (client name, ticket id, subject) or a flag's or
incident's excerpt. Calls where all of them occur in one place (one line, the notes…) come
first; otherwise newest first. Each call is one hit, with the best excerpt: one holding
every term if any, then notes before flags before the transcript before the details.

The query is plain text: operators, brackets, stars and stray quotes are just characters,
never search syntax. SQLite uses the FTS5 table of migration 0003 (stemmed, accents folded);
PostgreSQL its ``calmline_search`` text search configuration (English stemming and stop words,
accents folded when the unaccent extension is installed) and GIN indexes. Everything runs as
the connecting role, so row-level security on a team database applies as usual.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Connection,
    Integer,
    Select,
    bindparam,
    column,
    exists,
    select,
    text,
)

from app.store.calls import CallStore, CallSummary, aware, read_summaries, summary_query, to_utc
from app.store.schema import Call, FlagRow, MoodRow

MAX_TERMS = 12  # a pasted paragraph searches for its first words only
SNIPPET_WORDS = 12
MARK_START, MARK_END, ELLIPSIS = "«", "»", "…"
WHERES = ("notes", "flag", "transcript", "details")  # the excerpt a hit prefers, in order


@dataclass(frozen=True)
class SearchHit:
    call_id: int
    started_at: datetime
    client_name: str
    ticket_id: str
    snippet: str  # an excerpt around the match, matched words in «»
    where: str  # "transcript" | "notes" | "details" | "flag"


@dataclass(frozen=True)
class CallFilter:
    """Which calls to keep; moments are timezone-aware (naive ones are taken as local time)."""

    since: datetime | None = None  # calls started at or after this moment
    until: datetime | None = None  # calls started before this moment
    flagged: bool = False  # only calls with at least one flag
    worst_mood_below: float | None = None  # only calls whose mood fell below this (-1 … +1)


NO_FILTER = CallFilter()


def search_calls(
    store: CallStore, query: str, filters: CallFilter = NO_FILTER, limit: int = 100
) -> list[SearchHit]:
    """The calls matching ``query`` and ``filters``, one hit per call, best first. A blank
    query lists the calls matching the filters, newest first; a query without any word
    (only punctuation) finds nothing."""
    terms = parse_query(query)
    with store.engine.connect() as connection:
        postgres = connection.dialect.name == "postgresql"
        if terms and postgres:
            terms = _pg_searchable(connection, terms)
            if not terms:  # only stop words ("the", "and"): they are in nearly every call
                return _browse(connection, filters, limit)
        if not terms:
            return _browse(connection, filters, limit) if not query.strip() else []
        search = _pg_search if postgres else _sqlite_search
        return search(connection, terms, filters, limit)


def list_filtered(
    store: CallStore,
    filters: CallFilter = NO_FILTER,
    limit: int = 200,
    call_ids: Collection[int] | None = None,
) -> list[CallSummary]:
    """The call list (newest first) of the calls matching ``filters`` — and among
    ``call_ids`` if given, e.g. the hits of a search — in one query."""
    query = summary_query()
    if call_ids is not None:
        query = query.where(Call.id.in_(list(call_ids)))
    with store.engine.connect() as connection:
        return read_summaries(connection.execute(_page(query, filters, limit)))


# -- the query ---------------------------------------------------------------------------------

_TERM = re.compile(r'"([^"]*)"|(\S+)')
_WORD = re.compile(r"[^\W_]+")  # letters and digits: what a tokenizer keeps
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_QUOTES = str.maketrans(dict.fromkeys("“”„«»", '"'))


def parse_query(query: str) -> list[str]:
    """The query's words and quoted phrases, as typed, without repeats (case and punctuation
    aside) and without those that hold no letter or digit."""
    query = _CONTROL.sub(" ", query).translate(_QUOTES)
    terms: list[str] = []
    seen = {""}
    for match in _TERM.finditer(query):
        term = " ".join((match.group(1) if match.group(1) is not None else match.group(2)).split())
        words = " ".join(_WORD.findall(term)).casefold()
        if words not in seen:
            seen.add(words)
            terms.append(term)
    return terms[:MAX_TERMS]


def apply_filters(query: Select[Any], filters: CallFilter) -> Select[Any]:
    """``query`` (over ``calls``) narrowed to the calls matching ``filters``."""
    if filters.since is not None:
        query = query.where(Call.started_at >= to_utc(filters.since))
    if filters.until is not None:
        query = query.where(Call.started_at < to_utc(filters.until))
    if filters.flagged:
        query = query.where(exists().where(FlagRow.call_id == Call.id))
    if filters.worst_mood_below is not None:
        query = query.where(
            exists().where(MoodRow.call_id == Call.id, MoodRow.value < filters.worst_mood_below)
        )
    return query


def _page(query: Select[Any], filters: CallFilter, limit: int) -> Select[Any]:
    return (
        apply_filters(query, filters).order_by(Call.started_at.desc(), Call.id.desc()).limit(limit)
    )


def _call_ids(sql: str) -> Any:
    return text(sql).columns(column("call_id", Integer))


def _browse(connection: Connection, filters: CallFilter, limit: int) -> list[SearchHit]:
    columns = (Call.id, Call.started_at, Call.client_name, Call.ticket_id, Call.subject, Call.notes)
    hits = []
    for row in connection.execute(_page(select(*columns), filters, limit)):
        notes = row.notes.strip().splitlines()[0] if row.notes.strip() else ""
        snippet, where = (row.subject, "details") if row.subject or not notes else (notes, "notes")
        started = aware(row.started_at)
        assert started is not None
        hits.append(SearchHit(row.id, started, row.client_name, row.ticket_id, snippet, where))
    return hits


def _hits(rows: Sequence[Any], excerpts: Mapping[int, tuple[str, str]]) -> list[SearchHit]:
    hits = []
    for row in rows:
        snippet, where = excerpts.get(row.id, ("", "details"))
        snippet = " ".join(snippet.split())  # one line in a list, whatever the notes' layout
        started = aware(row.started_at)
        assert started is not None
        hits.append(SearchHit(row.id, started, row.client_name, row.ticket_id, snippet, where))
    return hits


# -- SQLite: FTS5 ------------------------------------------------------------------------------
# The rowid of a call_search row is call_id << 24 | slot (see migration 0003): slot 0 the
# details, 1 the notes, 2 the flags, 16 + seq a transcript line.

_SLOT_WHERE = {0: "details", 1: "notes", 2: "flag"}


def _where(rowid: int) -> str:
    return _SLOT_WHERE.get(rowid & 0xFFFFFF, "transcript")


def _fts5_phrase(term: str) -> str:
    """A term as an FTS5 string: searched as a phrase of the tokens in it, whatever it holds."""
    return '"' + term.replace('"', '""') + '"'


def _sqlite_search(
    connection: Connection, terms: list[str], filters: CallFilter, limit: int
) -> list[SearchHit]:
    phrases = [_fts5_phrase(term) for term in terms]
    params = {f"t{i}": phrase for i, phrase in enumerate(phrases)}
    query = select(Call.id, Call.started_at, Call.client_name, Call.ticket_id)
    for i in range(len(phrases)):
        matching = _call_ids(f"SELECT rowid >> 24 FROM call_search WHERE call_search MATCH :t{i}")
        query = query.where(Call.id.in_(matching))
    if len(phrases) > 1:
        params["together"] = " ".join(phrases)
        together = _call_ids(
            "SELECT rowid >> 24 FROM call_search WHERE call_search MATCH :together"
        )
        query = query.order_by(Call.id.in_(together).desc())
    rows = connection.execute(_page(query, filters, limit), params).all()
    return _hits(rows, _sqlite_excerpts(connection, [row.id for row in rows], phrases))


# Each term is one scan of the whole index (fast, whatever the term): restricting an FTS5
# MATCH to a few rowids instead costs a full query per rowid. The "+" keeps SQLite from
# handing the rowid list to FTS5 that way.
_SNIPPETS = text(
    "SELECT rowid, snippet(call_search, 0, :start, :end, :ellipsis, :words) FROM call_search"
    " WHERE call_search MATCH :query AND +rowid IN (SELECT value FROM json_each(:rows))"
)


def _sqlite_excerpts(
    connection: Connection, call_ids: list[int], phrases: list[str]
) -> dict[int, tuple[str, str]]:
    """For each call, the snippet of its best row: one holding every term, then by WHERES."""
    if not call_ids:
        return {}
    scans = " UNION ALL ".join(
        f"SELECT rowid AS row FROM call_search WHERE call_search MATCH :t{i}"
        for i in range(len(phrases))
    )
    rows = text(
        f"SELECT row, count(*) FROM ({scans})"
        " WHERE row >> 24 IN (SELECT value FROM json_each(:calls)) GROUP BY row"
    )
    params = {f"t{i}": phrase for i, phrase in enumerate(phrases)}
    best: dict[int, tuple[bool, int, int]] = {}
    for rowid, terms in connection.execute(rows, {**params, "calls": json.dumps(call_ids)}):
        key = (terms < len(phrases), WHERES.index(_where(rowid)), rowid)
        best[rowid >> 24] = min(best.get(rowid >> 24, key), key)
    snippets = {
        "rows": json.dumps([rowid for _, _, rowid in best.values()]),
        "query": " OR ".join(phrases),
        "start": MARK_START,
        "end": MARK_END,
        "ellipsis": ELLIPSIS,
        "words": SNIPPET_WORDS,
    }
    return {
        rowid >> 24: (snippet, _where(rowid))
        for rowid, snippet in connection.execute(_SNIPPETS, snippets)
    }


# -- PostgreSQL: tsvector, GIN -----------------------------------------------------------------
# Word for word the expressions of migration 0003's indexes: PostgreSQL uses an expression
# index only for the same expression.

_PG_CONFIG = "'calmline_search'::regconfig"
_PG_DETAILS = (
    "client_name || ' ' || ticket_id || ' ' || translate(ticket_id, '-#/_.:', '      ')"
    " || ' ' || subject"
)
_PG_DETAILS_SHOWN = (
    "concat_ws(' · ', nullif(client_name, ''), nullif(ticket_id, ''), nullif(subject, ''))"
)
_PG_HEADLINE = (
    f"StartSel={MARK_START}, StopSel={MARK_END}, MaxWords={SNIPPET_WORDS + 4}, MinWords=6, "
    f'MaxFragments=1, FragmentDelimiter=" {ELLIPSIS} "'
)
# A fragment drops a short text's edge words ("you «idiot»" → "«idiot»"): short texts whole.
_PG_HEADLINE_WHOLE = f"StartSel={MARK_START}, StopSel={MARK_END}, HighlightAll=true"
_PG_SHORT = 100  # characters


def _pg_tsquery(i: int) -> str:
    # Phrase semantics for every term: no operator in the user's text means anything.
    return f"phraseto_tsquery({_PG_CONFIG}, :t{i})"


def _pg_searchable(connection: Connection, terms: list[str]) -> list[str]:
    """The terms that are more than stop words to PostgreSQL."""
    sizes = ", ".join(f"numnode({_pg_tsquery(i)})" for i in range(len(terms)))
    counts = connection.execute(
        text(f"SELECT {sizes}"), {f"t{i}": term for i, term in enumerate(terms)}
    ).one()
    return [term for term, count in zip(terms, counts, strict=True) if count > 0]


def _pg_matching_calls(tsquery: str) -> Any:
    """The calls with a line, notes, details, flag or incident matching ``tsquery``; each
    branch can use its GIN index."""
    return _call_ids(
        f"SELECT call_id FROM segments WHERE search_vector @@ {tsquery}"
        f" UNION ALL SELECT id FROM calls WHERE to_tsvector({_PG_CONFIG}, {_PG_DETAILS})"
        f" @@ {tsquery}"
        f" UNION ALL SELECT id FROM calls WHERE to_tsvector({_PG_CONFIG}, notes) @@ {tsquery}"
        f" UNION ALL SELECT call_id FROM flags WHERE to_tsvector({_PG_CONFIG}, excerpt)"
        f" @@ {tsquery}"
        f" UNION ALL SELECT call_id FROM incidents"
        f" WHERE to_tsvector({_PG_CONFIG}, text || ' ' || excerpt) @@ {tsquery}"
    )


def _pg_search(
    connection: Connection, terms: list[str], filters: CallFilter, limit: int
) -> list[SearchHit]:
    params = {f"t{i}": term for i, term in enumerate(terms)}
    query = select(Call.id, Call.started_at, Call.client_name, Call.ticket_id)
    for i in range(len(terms)):
        query = query.where(Call.id.in_(_pg_matching_calls(_pg_tsquery(i))))
    every_term = " && ".join(_pg_tsquery(i) for i in range(len(terms)))
    if len(terms) > 1:
        together = _pg_matching_calls(f"({every_term})")
        query = query.order_by(Call.id.in_(together).desc())
    rows = connection.execute(_page(query, filters, limit), params).all()
    any_term = " || ".join(_pg_tsquery(i) for i in range(len(terms)))
    return _hits(
        rows, _pg_excerpts(connection, [row.id for row in rows], params, any_term, every_term)
    )


def _pg_excerpts(
    connection: Connection,
    call_ids: list[int],
    params: dict[str, str],
    any_term: str,
    every_term: str,
) -> dict[int, tuple[str, str]]:
    if not call_ids:
        return {}
    kinds = {name: i for i, name in enumerate(WHERES)}
    candidates = (
        f"SELECT id AS call_id, {kinds['notes']} AS kind, 0 AS n, notes AS body,"
        f" to_tsvector({_PG_CONFIG}, notes) AS v FROM calls WHERE id IN :calls"
        f" UNION ALL SELECT id, {kinds['details']}, 0, {_PG_DETAILS_SHOWN},"
        f" to_tsvector({_PG_CONFIG}, {_PG_DETAILS}) FROM calls WHERE id IN :calls"
        f" UNION ALL SELECT call_id, {kinds['flag']}, id, excerpt,"
        f" to_tsvector({_PG_CONFIG}, excerpt) FROM flags WHERE call_id IN :calls"
        f" UNION ALL SELECT call_id, {kinds['flag']}, id, text || ': ' || excerpt,"
        f" to_tsvector({_PG_CONFIG}, text || ' ' || excerpt) FROM incidents"
        f" WHERE call_id IN :calls"
        f" UNION ALL SELECT call_id, {kinds['transcript']}, seq, text, search_vector"
        f" FROM segments WHERE call_id IN :calls AND search_vector @@ ({any_term})"
    )
    sql = text(
        f"SELECT call_id, kind, ts_headline({_PG_CONFIG}, body, ({any_term}),"
        f" CASE WHEN length(body) <= {_PG_SHORT} THEN :whole ELSE :headline END)"
        f" FROM (SELECT DISTINCT ON (call_id) call_id, kind, body FROM ({candidates}) AS c"
        f" WHERE v @@ ({any_term})"
        f" ORDER BY call_id, v @@ ({every_term}) DESC, kind, n) AS best"
    ).bindparams(bindparam("calls", expanding=True))
    rows = connection.execute(
        sql, {**params, "calls": call_ids, "headline": _PG_HEADLINE, "whole": _PG_HEADLINE_WHOLE}
    )
    return {call_id: (snippet, WHERES[kind]) for call_id, kind, snippet in rows}


# -- Alembic -----------------------------------------------------------------------------------


def include_in_autogenerate(
    name: str | None, type_: str, parent_names: Mapping[str, str | None]
) -> bool:
    """Alembic ``include_name`` hook: the search index (migration 0003) is not in the models,
    so comparing the models with a database must not see it."""
    if type_ == "table":
        return not (name or "").startswith("call_search")
    if type_ == "column":
        return not (parent_names.get("table_name") == "segments" and name == "search_vector")
    if type_ == "index":
        return not (name or "").startswith("ix_search_")
    return True
