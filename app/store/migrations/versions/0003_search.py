"""full-text search over calls: transcript lines, notes, details (client, ticket, subject), flags

SQLite: an FTS5 table ``call_search`` (one column, ``text``) kept up to date by triggers.
Its rowid says where a row comes from, so that triggers and searches never read its content
to find a call: ``rowid = call_id << 24 | slot`` with slot 0 the call's details, 1 its notes,
2 its flags and incidents (one row per call), and ``16 + seq`` a transcript line.

PostgreSQL: a text search configuration ``calmline_search`` (English stemming, accents
removed when the ``unaccent`` extension can be had), a generated ``search_vector`` column on
``segments`` and GIN expression indexes on calls, flags and incidents; no triggers.

None of these objects is in the models: ``app.store.search.include_in_autogenerate`` keeps
Alembic's autogenerate from proposing to drop them. A later SQLite batch migration that
rebuilds ``calls``, ``segments``, ``flags`` or ``incidents`` drops that table's triggers: it
must create them again (``SQLITE_TRIGGERS`` below); ``tests/store/test_search.py`` checks they
exist at head.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 10:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# -- SQLite ------------------------------------------------------------------------------------

# Segment numbers are small per-call counters; the modulo only keeps an absurd one inside its
# call's rowid range (a clash then replaces the other line's entry instead of failing a write).
_LINE_SLOTS = 16777200


def _line_rowid(row: str) -> str:
    slot = f"(({row}.seq % {_LINE_SLOTS}) + {_LINE_SLOTS}) % {_LINE_SLOTS}"
    return f"(({row}.call_id << 24) + 16 + {slot})"


def _details(row: str) -> str:
    """Client name · ticket · subject, without separators around empty parts."""
    return (
        f"ltrim(CASE WHEN {row}.client_name <> '' THEN {row}.client_name ELSE '' END"
        f" || CASE WHEN {row}.ticket_id <> '' THEN ' · ' || {row}.ticket_id ELSE '' END"
        f" || CASE WHEN {row}.subject <> '' THEN ' · ' || {row}.subject ELSE '' END, ' ·')"
    )


def _rebuild_flags(call_id: str) -> str:
    """The statements that rewrite a call's flags row (all its flag and incident excerpts)."""
    return f"""
    DELETE FROM call_search WHERE rowid = ({call_id} << 24) + 2;
    INSERT INTO call_search(rowid, text)
    SELECT ({call_id} << 24) + 2,
           (SELECT group_concat(body, char(10)) FROM (
               SELECT excerpt AS body FROM flags WHERE call_id = {call_id}
                   AND excerpt NOT IN (SELECT excerpt FROM incidents WHERE call_id = {call_id})
               UNION ALL
               SELECT text || ': ' || excerpt FROM incidents WHERE call_id = {call_id}))
    WHERE EXISTS (SELECT 1 FROM calls WHERE id = {call_id})
      AND (EXISTS (SELECT 1 FROM flags WHERE call_id = {call_id})
           OR EXISTS (SELECT 1 FROM incidents WHERE call_id = {call_id}));"""


SQLITE_TABLE = (
    "CREATE VIRTUAL TABLE call_search USING fts5("
    "text, tokenize = 'porter unicode61 remove_diacritics 2')"
)

SQLITE_TRIGGERS = {
    "call_search_calls_insert": f"""
        CREATE TRIGGER call_search_calls_insert AFTER INSERT ON calls BEGIN
            INSERT OR REPLACE INTO call_search(rowid, text)
            VALUES (new.id << 24, {_details("new")}), ((new.id << 24) + 1, new.notes);
        END""",
    "call_search_calls_details": f"""
        CREATE TRIGGER call_search_calls_details
        AFTER UPDATE OF client_name, ticket_id, subject ON calls
        WHEN old.client_name IS NOT new.client_name OR old.ticket_id IS NOT new.ticket_id
             OR old.subject IS NOT new.subject
        BEGIN
            INSERT OR REPLACE INTO call_search(rowid, text)
            VALUES (new.id << 24, {_details("new")});
        END""",
    "call_search_calls_notes": """
        CREATE TRIGGER call_search_calls_notes AFTER UPDATE OF notes ON calls
        WHEN old.notes IS NOT new.notes
        BEGIN
            INSERT OR REPLACE INTO call_search(rowid, text) VALUES ((new.id << 24) + 1, new.notes);
        END""",
    # The whole rowid range: also what cascading deletes of its lines already removed.
    "call_search_calls_delete": """
        CREATE TRIGGER call_search_calls_delete AFTER DELETE ON calls BEGIN
            DELETE FROM call_search
            WHERE rowid >= (old.id << 24) AND rowid < ((old.id + 1) << 24);
        END""",
    "call_search_segments_insert": f"""
        CREATE TRIGGER call_search_segments_insert AFTER INSERT ON segments BEGIN
            INSERT OR REPLACE INTO call_search(rowid, text) VALUES ({_line_rowid("new")}, new.text);
        END""",
    "call_search_segments_update": f"""
        CREATE TRIGGER call_search_segments_update AFTER UPDATE OF call_id, seq, text ON segments
        WHEN old.call_id IS NOT new.call_id OR old.seq IS NOT new.seq OR old.text IS NOT new.text
        BEGIN
            DELETE FROM call_search WHERE rowid = {_line_rowid("old")};
            INSERT OR REPLACE INTO call_search(rowid, text) VALUES ({_line_rowid("new")}, new.text);
        END""",
    "call_search_segments_delete": f"""
        CREATE TRIGGER call_search_segments_delete AFTER DELETE ON segments BEGIN
            DELETE FROM call_search WHERE rowid = {_line_rowid("old")};
        END""",
    "call_search_flags_insert": f"""
        CREATE TRIGGER call_search_flags_insert AFTER INSERT ON flags BEGIN
            {_rebuild_flags("new.call_id")}
        END""",
    "call_search_flags_update": f"""
        CREATE TRIGGER call_search_flags_update AFTER UPDATE OF call_id, excerpt ON flags BEGIN
            {_rebuild_flags("old.call_id")}
            {_rebuild_flags("new.call_id")}
        END""",
    "call_search_flags_delete": f"""
        CREATE TRIGGER call_search_flags_delete AFTER DELETE ON flags BEGIN
            {_rebuild_flags("old.call_id")}
        END""",
    "call_search_incidents_insert": f"""
        CREATE TRIGGER call_search_incidents_insert AFTER INSERT ON incidents BEGIN
            {_rebuild_flags("new.call_id")}
        END""",
    "call_search_incidents_update": f"""
        CREATE TRIGGER call_search_incidents_update
        AFTER UPDATE OF call_id, text, excerpt ON incidents BEGIN
            {_rebuild_flags("old.call_id")}
            {_rebuild_flags("new.call_id")}
        END""",
    "call_search_incidents_delete": f"""
        CREATE TRIGGER call_search_incidents_delete AFTER DELETE ON incidents BEGIN
            {_rebuild_flags("old.call_id")}
        END""",
}

SQLITE_BACKFILL = (
    f"INSERT INTO call_search(rowid, text) SELECT calls.id << 24, {_details('calls')} FROM calls",
    "INSERT INTO call_search(rowid, text) SELECT (id << 24) + 1, notes FROM calls",
    f"INSERT OR REPLACE INTO call_search(rowid, text) "
    f"SELECT {_line_rowid('segments')}, text FROM segments",
    """INSERT INTO call_search(rowid, text)
       SELECT (call_id << 24) + 2, group_concat(body, char(10)) FROM (
           SELECT call_id, id AS n, 0 AS source, excerpt AS body FROM flags
           WHERE NOT EXISTS (SELECT 1 FROM incidents
                             WHERE incidents.call_id = flags.call_id
                               AND incidents.excerpt = flags.excerpt)
           UNION ALL
           SELECT call_id, id, 1, text || ': ' || excerpt FROM incidents
           ORDER BY call_id, source, n)
       GROUP BY call_id""",
)

# -- PostgreSQL --------------------------------------------------------------------------------
# app/store/search.py repeats these expressions word for word: an expression index is only
# used by a query that spells the same expression.

PG_CONFIG = "calmline_search"
PG_DETAILS = (
    "client_name || ' ' || ticket_id || ' ' || translate(ticket_id, '-#/_.:', '      ')"
    " || ' ' || subject"
)
PG_INDEXES = {
    "ix_search_segments": "segments USING gin (search_vector)",
    "ix_search_calls_details": (
        f"calls USING gin (to_tsvector('{PG_CONFIG}'::regconfig, {PG_DETAILS}))"
    ),
    "ix_search_calls_notes": f"calls USING gin (to_tsvector('{PG_CONFIG}'::regconfig, notes))",
    "ix_search_flags": f"flags USING gin (to_tsvector('{PG_CONFIG}'::regconfig, excerpt))",
    "ix_search_incidents": (
        f"incidents USING gin (to_tsvector('{PG_CONFIG}'::regconfig, text || ' ' || excerpt))"
    ),
}


def _pg_unaccent(connection: sa.Connection) -> bool:
    """Add accent folding to the configuration ("Müller" finds "Muller") if the unaccent
    extension is there or may be created (it is trusted: the database owner may)."""
    try:
        with connection.begin_nested():
            connection.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS unaccent")
            connection.exec_driver_sql(
                f"ALTER TEXT SEARCH CONFIGURATION {PG_CONFIG} "
                "ALTER MAPPING FOR hword, hword_part, word WITH unaccent, english_stem"
            )
    except sa.exc.DBAPIError:
        return False
    return True


def upgrade() -> None:
    connection = op.get_bind()
    if connection.dialect.name == "sqlite":
        op.execute(SQLITE_TABLE)
        for statement in SQLITE_BACKFILL:
            op.execute(statement)
        for statement in SQLITE_TRIGGERS.values():
            op.execute(statement)
    elif connection.dialect.name == "postgresql":
        op.execute(f"CREATE TEXT SEARCH CONFIGURATION {PG_CONFIG} (COPY = pg_catalog.english)")
        _pg_unaccent(connection)
        op.execute(
            "ALTER TABLE segments ADD COLUMN search_vector tsvector GENERATED ALWAYS AS "
            f"(to_tsvector('{PG_CONFIG}'::regconfig, text)) STORED"
        )
        for name, target in PG_INDEXES.items():
            op.execute(f"CREATE INDEX {name} ON {target}")


def downgrade() -> None:
    connection = op.get_bind()
    if connection.dialect.name == "sqlite":
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS call_search")
    elif connection.dialect.name == "postgresql":
        for name in PG_INDEXES:
            op.execute(f"DROP INDEX IF EXISTS {name}")
        op.execute("ALTER TABLE segments DROP COLUMN IF EXISTS search_vector")
        op.execute(f"DROP TEXT SEARCH CONFIGURATION IF EXISTS {PG_CONFIG}")
