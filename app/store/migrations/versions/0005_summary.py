"""the drafted ticket note: ``calls.summary`` (JSON: the note, and whether the agent edited it)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 10:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN (no batch rebuild on SQLite), so the search triggers on calls stay.
    op.add_column("calls", sa.Column("summary", sa.JSON(), nullable=True))


def downgrade() -> None:
    # ALTER TABLE … DROP COLUMN (SQLite 3.35+), not a batch rebuild that drops the triggers
    op.drop_column("calls", "summary")
