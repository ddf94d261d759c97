"""Opening the call database: the engine, SQLite's settings, and migrations to the latest
schema (Alembic, run in-process on every open; a no-op when up to date)."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from app.paths import default_database_url

try:
    import fcntl
except ImportError:  # Windows: one Calmline at a time creates the database
    fcntl = None  # type: ignore[assignment]

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


class StoreError(Exception):
    """The call database cannot be used; the message says which and what to do."""


def default_url() -> str:
    return default_database_url()


def _sqlite_settings(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL: readers never block the writer; synchronous=NORMAL: a commit survives the
    # process being killed (kill -9), only a power cut may lose the last commits.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def create_store_engine(url: str | None = None) -> Engine:
    url = url or default_url()
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise StoreError(
            f"not a database URL: {url!r}; use sqlite:///PATH or postgresql://USER:PASSWORD@HOST/DB"
        ) from exc
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed)
        event.listen(engine, "connect", _sqlite_settings)
        return engine
    if parsed.get_backend_name() not in ("postgresql",):
        raise StoreError(
            f"unsupported database {parsed.drivername!r} in {url!r}; use sqlite:///PATH or "
            "postgresql://USER:PASSWORD@HOST/DB"
        )
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    try:
        # A team database that is down must fail fast: calls wait locally and sync later.
        return create_engine(parsed, pool_pre_ping=True, connect_args={"connect_timeout": 5})
    except (ImportError, NoSuchModuleError) as exc:
        raise StoreError(
            f"the PostgreSQL driver is missing ({exc}); install it: pip install 'psycopg[binary]'"
        ) from exc


def migrate(engine: Engine) -> None:
    """Bring the schema to the latest version."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with _migration_lock(engine), engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


@contextlib.contextmanager
def _migration_lock(engine: Engine) -> Iterator[None]:
    """Two programs opening a new SQLite file at once (the window and a command) must not
    both create the tables: a lock file beside the database serialises the migrations.
    (PostgreSQL runs each migration in a transaction that takes its own locks.)"""
    database = engine.url.database if engine.url.get_backend_name() == "sqlite" else None
    if not database or database == ":memory:" or fcntl is None:
        yield
        return
    with open(f"{database}.migrate-lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def open_engine(url: str | None = None) -> Engine:
    engine = create_store_engine(url)
    try:
        migrate(engine)
    except SQLAlchemyError as exc:
        engine.dispose()
        where = engine.url.render_as_string(hide_password=True)
        raise StoreError(
            f"cannot open the call database {where}: {exc.__class__.__name__}: "
            f"{str(exc).splitlines()[0]}. Check that the file or server is reachable and "
            "writable (and that there is free disk space)."
        ) from exc
    return engine
