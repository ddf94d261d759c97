"""Alembic environment: Calmline runs migrations in-process (``app.store.db.migrate``) on a
connection it passes in; there is no alembic.ini."""

from alembic import context

from app.store.schema import Base
from app.store.search import include_in_autogenerate

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=True,  # SQLite can only alter tables by copying them
    compare_type=True,
    include_name=include_in_autogenerate,  # the search index is not in the models
)
with context.begin_transaction():
    context.run_migrations()
