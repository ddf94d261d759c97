"""Alembic environment: Calmline runs migrations in-process (``app.store.db.migrate``) on a
connection it passes in; there is no alembic.ini."""

from alembic import context

from app.store.schema import Base

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=True,  # SQLite can only alter tables by copying them
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
