"""Team mode on PostgreSQL: the roles, privileges and row-level security that let every agent
write to one shared database yet see only their own calls, while supervisors see everyone's.

Each person logs in as their own database role. Agents belong to the group role
``calmline_agent``, supervisors to ``calmline_supervisor``; privileges go to the groups, and
row-level policies compare ``calls.owner_role`` (which defaults to ``current_user`` on
PostgreSQL, migration 0002) with the connecting role. The database refuses what the app must
not do, so a modified client cannot read or write another agent's calls.

An admin (a role with CREATEROLE that owns the tables) runs :func:`init_team` once, and again
after upgrading Calmline (it migrates the schema and brings privileges and policies up to date),
then :func:`add_member` for each person.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from app.store.db import StoreError, create_store_engine, migrate
from app.store.schema import Base

AGENT_GROUP = "calmline_agent"
SUPERVISOR_GROUP = "calmline_supervisor"
TEAM_GROUPS = (AGENT_GROUP, SUPERVISOR_GROUP)
CALLS_TABLE = "calls"
REVIEWS_TABLE = "reviews"
ALEMBIC_TABLE = "alembic_version"
POLICY_PREFIX = "calmline_"
OWNER_TRIGGER = "calmline_call_owner"
CONNECT_TIMEOUT_S = 5

ROLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")
# CREATE ROLE refuses these (or they would stand for something else in a GRANT).
RESERVED_ROLE_NAMES = {"public", "none", "current_user", "current_role", "session_user"}
START_SERVER_HINT = "on this machine: bash scripts/postgres-server.sh start"
ADMIN_HINT = "run `calmline team init` with an admin role (CREATEROLE) that owns the tables"


class TeamError(StoreError):
    """Team mode cannot be set up or used; the message says why and what to do."""


@dataclass(frozen=True)
class TeamMember:
    """Who a database URL logs in as."""

    role: str  # the database role ("" for a local database)
    kind: str  # "agent" | "supervisor" | "admin" | "local"
    where: str  # the database, without the password


# -- connecting --------------------------------------------------------------------------
def _parse(url: str) -> URL:
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise TeamError(
            f"not a database URL: {url!r}; team mode needs postgresql://USER:PASSWORD@HOST/DB"
        ) from exc
    return parsed


def _where(parsed: URL) -> str:
    return f"{parsed.host or 'localhost (socket)'}:{parsed.port or 5432}"


def _require_postgres(parsed: URL) -> None:
    if parsed.get_backend_name() != "postgresql":
        raise TeamError(
            f"team mode needs a PostgreSQL database, not {parsed.get_backend_name()}: pass "
            "--store postgresql://USER:PASSWORD@HOST/DB"
        )


def _connect_kwargs(parsed: URL) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"connect_timeout": CONNECT_TIMEOUT_S}
    for key, value in parsed.query.items():  # e.g. ?sslmode=require
        kwargs[key] = value[-1] if isinstance(value, tuple) else value
    for key, value in (
        ("host", parsed.host),
        ("port", parsed.port),
        ("user", parsed.username),
        ("password", parsed.password),
        ("dbname", parsed.database),
    ):
        if value is not None:
            kwargs[key] = value
    return kwargs


def _connection_error(exc: psycopg.Error, parsed: URL) -> TeamError:
    text = str(exc)
    where = _where(parsed)
    user = parsed.username or "(the OS user)"
    if "password authentication failed" in text:
        return TeamError(
            f"wrong password for role {user!r} at {where} (or there is no such role): check the "
            "URL's USER:PASSWORD; an admin sets it with `calmline team add-agent NAME --password …`"
        )
    if "password" in text and "no password supplied" in text:
        return TeamError(
            f"PostgreSQL at {where} wants a password for role {user!r}: "
            "put it in the URL, postgresql://USER:PASSWORD@HOST/DB"
        )
    if "does not exist" in text and "database" in text:
        return TeamError(
            f"there is no database {parsed.database!r} at {where}: create it as an admin "
            f"(CREATE DATABASE {parsed.database}) or fix the URL"
        )
    if "no pg_hba.conf entry" in text:
        return TeamError(
            f"PostgreSQL at {where} does not accept role {user!r} from here (pg_hba.conf): "
            "ask its administrator to allow password logins"
        )
    return TeamError(
        f"cannot reach PostgreSQL at {where}: {_first_line(text)}. Start it "
        f"({START_SERVER_HINT}) or fix the host and port in the URL"
    )


def _first_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    first = lines[0] if lines else text
    return first.removeprefix("connection failed: ")


def _sql_error(exc: psycopg.Error, doing: str) -> TeamError:
    if isinstance(exc, psycopg.errors.InsufficientPrivilege):
        return TeamError(f"{doing}: permission denied ({_first_line(str(exc))}); {ADMIN_HINT}")
    return TeamError(f"{doing}: {exc.__class__.__name__}: {_first_line(str(exc))}")


def open_connection(url: str) -> psycopg.Connection[Any]:
    """An autocommit psycopg connection to the team database at ``url``, as its role; a
    TeamError saying what to do if it cannot be had."""
    parsed = _parse(url)
    _require_postgres(parsed)
    try:
        # Autocommit: each `with connection.transaction()` is then a real transaction
        # (not a savepoint of an implicit one that closing the connection would roll back).
        return psycopg.connect(**_connect_kwargs(parsed), autocommit=True)
    except psycopg.OperationalError as exc:
        raise _connection_error(exc, parsed) from exc


@contextmanager
def _connect(url: str) -> Iterator[psycopg.Connection[Any]]:
    connection = open_connection(url)
    try:
        yield connection
    finally:
        connection.close()


def _require_admin(connection: psycopg.Connection[Any]) -> str:
    row = connection.execute(
        "SELECT current_user, rolsuper OR rolcreaterole FROM pg_roles WHERE rolname = current_user"
    ).fetchone()
    assert row is not None
    role, is_admin = row
    if not is_admin:
        raise TeamError(f"role {role!r} cannot create roles; {ADMIN_HINT}")
    return str(role)


# -- the admin's commands ------------------------------------------------------------------
def init_team(admin_url: str) -> None:
    """Migrate the schema, create the group roles, grant their privileges and set up
    row-level security. Idempotent: run it again after upgrading Calmline."""
    parsed = _parse(admin_url)
    _require_postgres(parsed)
    with _connect(admin_url) as connection:
        _require_admin(connection)
        _migrate(admin_url, parsed)
        try:
            with connection.transaction():
                schema = connection.execute("SELECT current_schema()").fetchone()
                assert schema is not None and schema[0], "no schema on the search path"
                for statement in _team_statements(connection, str(schema[0])):
                    connection.execute(statement)
        except psycopg.Error as exc:
            raise _sql_error(exc, "setting up team mode failed") from exc


def _migrate(admin_url: str, parsed: URL) -> None:
    engine = create_store_engine(admin_url)
    try:
        migrate(engine)
    except SQLAlchemyError as exc:
        original = getattr(exc, "orig", None)
        if isinstance(original, psycopg.Error):
            raise _sql_error(original, f"migrating the database at {_where(parsed)}") from exc
        raise TeamError(f"migrating the database at {_where(parsed)} failed: {exc}") from exc
    finally:
        engine.dispose()


def _call_tables() -> tuple[list[str], list[str]]:
    """The tables row-level security guards: ([calls, reviews], the call's children). A table
    of the schema with no rule here stops ``init_team``, so a new one is never left open."""
    children = []
    for name, table in Base.metadata.tables.items():
        if name in (CALLS_TABLE, REVIEWS_TABLE):
            continue
        if "call_id" not in table.c:
            raise TeamError(f"table {name!r} has no team-mode rule; add one in app/store/team.py")
        children.append(name)
    return [CALLS_TABLE, REVIEWS_TABLE], sorted(children)


def _team_statements(connection: psycopg.Connection[Any], schema: str) -> list[sql.Composable]:
    agent, supervisor = sql.Identifier(AGENT_GROUP), sql.Identifier(SUPERVISOR_GROUP)
    both = sql.SQL("{}, {}").format(agent, supervisor)
    (calls_name, reviews_name), children_names = _call_tables()

    def table(name: str) -> sql.Composable:
        return sql.Identifier(schema, name)

    calls, reviews = table(calls_name), table(reviews_name)
    children = [table(name) for name in children_names]
    guarded = [calls, reviews, *children]
    statements: list[sql.Composable] = [_create_group(name) for name in TEAM_GROUPS]
    database = connection.execute("SELECT current_database()").fetchone()
    assert database is not None
    statements += [
        sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(sql.Identifier(database[0]), both),
        sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(sql.Identifier(schema), both),
    ]
    # From nothing, so that running it again converges on exactly these privileges.
    statements += [
        sql.SQL("REVOKE ALL ON {} FROM {}").format(t, both)
        for t in [*guarded, table(ALEMBIC_TABLE)]
    ]
    statements += [
        sql.SQL("GRANT SELECT ON {} TO {}").format(table(ALEMBIC_TABLE), both),
        sql.SQL("GRANT SELECT, INSERT, UPDATE ON {} TO {}").format(calls, agent),
        # Syncing a call replaces its children, so agents delete them too.
        sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON {} TO {}").format(
            sql.SQL(", ").join(children), agent
        ),
        sql.SQL("GRANT SELECT ON {} TO {}").format(reviews, agent),
        sql.SQL("GRANT SELECT ON {} TO {}").format(sql.SQL(", ").join(guarded), supervisor),
        sql.SQL("GRANT INSERT, UPDATE ON {} TO {}").format(reviews, supervisor),
    ]
    statements += _sequence_grants(connection, schema, calls_name, reviews_name, children_names)
    for t in guarded:
        statements += [
            sql.SQL("ALTER TABLE {} ENABLE ROW LEVEL SECURITY").format(t),
            # The admin who ran the migrations owns the tables, and owners skip row-level
            # security unless it is forced: then the owner sees no calls at all.
            sql.SQL("ALTER TABLE {} FORCE ROW LEVEL SECURITY").format(t),
        ]
    statements += _owner_role_trigger(schema, calls)
    statements += _drop_our_policies(
        connection, schema, [calls_name, reviews_name, *children_names]
    )
    own = sql.SQL("owner_role = current_user")
    statements += [
        _policy(calls, "agent_own", "ALL", agent, using=own, check=own),
        _policy(calls, "supervisor_read", "SELECT", supervisor, using=sql.SQL("true")),
    ]
    for name, t in zip(children_names, children, strict=True):
        own_call = _own_call(calls, name)
        statements += [
            _policy(t, "agent_own", "ALL", agent, using=own_call, check=own_call),
            _policy(t, "supervisor_read", "SELECT", supervisor, using=sql.SQL("true")),
        ]
    own_review = sql.SQL("reviewer = current_user")
    statements += [
        _policy(reviews, "agent_read", "SELECT", agent, using=_own_call(calls, reviews_name)),
        _policy(reviews, "supervisor_read", "SELECT", supervisor, using=sql.SQL("true")),
        _policy(reviews, "supervisor_insert", "INSERT", supervisor, check=own_review),
        _policy(
            reviews, "supervisor_update", "UPDATE", supervisor, using=own_review, check=own_review
        ),
    ]
    return statements


def _create_group(name: str) -> sql.Composable:
    # Two admins running init at once may both find the role missing: the loser's
    # CREATE ROLE fails with a duplicate, which is fine.
    return sql.SQL(
        "DO $$ BEGIN "
        "IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = {name}) THEN "
        "CREATE ROLE {role} NOLOGIN; "
        "END IF; "
        "EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; "
        "END $$"
    ).format(name=sql.Literal(name), role=sql.Identifier(name))


def _owner_role_trigger(schema: str, calls: sql.Composable) -> list[sql.Composable]:
    """A call inserted without an owner belongs to the inserting role. The column's default
    (current_user) is not enough: SQLAlchemy's INSERT names every column, NULL included."""
    function = sql.Identifier(schema, OWNER_TRIGGER)
    return [
        sql.SQL(
            "CREATE OR REPLACE FUNCTION {}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "IF NEW.owner_role IS NULL THEN NEW.owner_role := current_user; END IF; "
            "RETURN NEW; END $$"
        ).format(function),
        sql.SQL("DROP TRIGGER IF EXISTS {} ON {}").format(sql.Identifier(OWNER_TRIGGER), calls),
        # BEFORE triggers run before the policies' WITH CHECK, which then sees the owner.
        sql.SQL("CREATE TRIGGER {} BEFORE INSERT ON {} FOR EACH ROW EXECUTE FUNCTION {}()").format(
            sql.Identifier(OWNER_TRIGGER), calls, function
        ),
    ]


def _sequence_grants(
    connection: psycopg.Connection[Any],
    schema: str,
    calls_name: str,
    reviews_name: str,
    children_names: list[str],
) -> list[sql.Composable]:
    """USAGE (nextval) on the id sequences: agents insert calls and their children,
    supervisors reviews."""
    agent, supervisor = sql.Identifier(AGENT_GROUP), sql.Identifier(SUPERVISOR_GROUP)
    statements: list[sql.Composable] = []
    for name in [calls_name, reviews_name, *children_names]:
        if "id" not in Base.metadata.tables[name].c:
            continue  # checklist: keyed by (call_id, item)
        row = connection.execute(
            "SELECT pg_get_serial_sequence(%s, 'id')",
            (sql.Identifier(schema, name).as_string(connection),),
        ).fetchone()
        if row is None or row[0] is None:
            continue
        # pg_get_serial_sequence returns the name quoted as SQL needs it.
        sequence = sql.SQL(row[0])  # type: ignore[arg-type]
        statements.append(
            sql.SQL("REVOKE ALL ON SEQUENCE {} FROM {}, {}").format(sequence, agent, supervisor)
        )
        group = supervisor if name == reviews_name else agent
        statements.append(sql.SQL("GRANT USAGE ON SEQUENCE {} TO {}").format(sequence, group))
    return statements


def _drop_our_policies(
    connection: psycopg.Connection[Any], schema: str, tables: list[str]
) -> list[sql.Composable]:
    """Every policy this module made before, so a renamed or removed one does not linger."""
    rows = connection.execute(
        "SELECT tablename, policyname FROM pg_policies "
        "WHERE schemaname = %s AND tablename = ANY(%s) AND policyname LIKE %s",
        (schema, tables, POLICY_PREFIX + "%"),
    ).fetchall()
    return [
        sql.SQL("DROP POLICY IF EXISTS {} ON {}").format(
            sql.Identifier(policy), sql.Identifier(schema, table)
        )
        for table, policy in rows
    ]


def _own_call(calls: sql.Composable, table_name: str) -> sql.Composable:
    return sql.SQL(
        "EXISTS (SELECT 1 FROM {calls} c WHERE c.id = {table}.call_id "
        "AND c.owner_role = current_user)"
    ).format(calls=calls, table=sql.Identifier(table_name))


def _policy(
    table: sql.Composable,
    name: str,
    command: str,
    role: sql.Composable,
    using: sql.Composable | None = None,
    check: sql.Composable | None = None,
) -> sql.Composable:
    parts = [
        sql.SQL("CREATE POLICY {} ON {} FOR {} TO {}").format(
            sql.Identifier(POLICY_PREFIX + name), table, sql.SQL(command), role
        )
    ]
    if using is not None:
        parts.append(sql.SQL("USING ({})").format(using))
    if check is not None:
        parts.append(sql.SQL("WITH CHECK ({})").format(check))
    return sql.SQL(" ").join(parts)


def validate_role_name(name: str) -> str:
    """A new member's role name, or TeamError saying what is allowed."""
    if (
        not ROLE_NAME.fullmatch(name)
        or name.lower() in RESERVED_ROLE_NAMES
        or name.lower().startswith("pg_")
        or name in TEAM_GROUPS
    ):
        raise TeamError(
            f"not a usable role name: {name!r}; use letters, digits and underscores (at most 63, "
            f"not starting with a digit or pg_, not {' or '.join(TEAM_GROUPS)})"
        )
    return name


def add_member(admin_url: str, name: str, password: str, group: str) -> bool:
    """Create the login role ``name`` in ``group`` (``calmline_agent`` or
    ``calmline_supervisor``), or set its password and add it to ``group`` if it exists.
    True if the role was created."""
    if group not in TEAM_GROUPS:
        raise TeamError(f"unknown team group {group!r}; use {' or '.join(TEAM_GROUPS)}")
    validate_role_name(name)
    if not password:
        raise TeamError(f"give {name} a password (--password)")
    with _connect(admin_url) as connection:
        admin = _require_admin(connection)
        missing = set(TEAM_GROUPS) - _existing_roles(connection, list(TEAM_GROUPS))
        if missing:
            raise TeamError(
                f"team mode is not set up on this database (no {', '.join(sorted(missing))}): "
                "run `calmline team init --store ADMIN_URL` first"
            )
        existing = connection.execute(
            "SELECT rolsuper OR rolcreaterole FROM pg_roles WHERE rolname = %s", (name,)
        ).fetchone()
        if name == admin or (existing is not None and existing[0]):
            raise TeamError(
                f"{name!r} is an admin role; team members need ordinary roles: pick another name"
            )
        # Hashed here, so the password itself never reaches the server (nor its logs).
        verifier = connection.pgconn.encrypt_password(
            password.encode(), name.encode(), b"scram-sha-256"
        ).decode()
        role, group_role = sql.Identifier(name), sql.Identifier(group)
        try:
            with connection.transaction():
                if existing is None:
                    connection.execute(
                        sql.SQL("CREATE ROLE {} LOGIN PASSWORD {} IN ROLE {}").format(
                            role, sql.Literal(verifier), group_role
                        )
                    )
                else:
                    connection.execute(
                        sql.SQL("ALTER ROLE {} LOGIN PASSWORD {}").format(
                            role, sql.Literal(verifier)
                        )
                    )
                    connection.execute(sql.SQL("GRANT {} TO {}").format(group_role, role))
        except psycopg.Error as exc:
            raise _sql_error(exc, f"adding {name} to {group} failed") from exc
    return existing is None


def _existing_roles(connection: psycopg.Connection[Any], names: list[str]) -> set[str]:
    rows = connection.execute(
        "SELECT rolname FROM pg_roles WHERE rolname = ANY(%s)", (names,)
    ).fetchall()
    return {row[0] for row in rows}


# -- anyone ----------------------------------------------------------------------------------
def team_member(url: str) -> TeamMember:
    """Who ``url`` logs in as, and as what kind of team member."""
    parsed = _parse(url)
    where = parsed.render_as_string(hide_password=True)
    if parsed.get_backend_name() == "sqlite":
        return TeamMember("", "local", where)
    with _connect(url) as connection:
        row = connection.execute(
            "SELECT current_user, rolsuper OR rolcreaterole FROM pg_roles "
            "WHERE rolname = current_user"
        ).fetchone()
        assert row is not None
        role, is_admin = str(row[0]), bool(row[1])
        groups = {
            name
            for (name,) in connection.execute(
                "SELECT rolname FROM pg_roles WHERE rolname = ANY(%s) "
                "AND pg_has_role(current_user, oid, 'member')",
                (list(TEAM_GROUPS),),
            ).fetchall()
        }
    if is_admin:
        return TeamMember(role, "admin", where)
    if SUPERVISOR_GROUP in groups:
        return TeamMember(role, "supervisor", where)
    if AGENT_GROUP in groups:
        return TeamMember(role, "agent", where)
    raise TeamError(
        f"role {role!r} is not in the team on {where}: an admin adds it with "
        f"`calmline team add-agent {role} --password … --store ADMIN_URL`"
    )


def team_role(url: str) -> str:
    """ "agent", "supervisor", "admin" (a role that can create roles) or "local" (SQLite)."""
    return team_member(url).kind
