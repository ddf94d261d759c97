"""flag alerts: PostgreSQL notifies ``calmline_flags`` when a flag reaches the team database

An AFTER INSERT trigger on ``flags`` calls ``pg_notify('calmline_flags', call_id)``. Any role
may LISTEN on any channel, so the payload is only the call's id: the flag's kind, excerpt and
agent are read by the listener (``app.store.alerts``) through row-level security, as the
role it connects as. Notifications are sent on commit, and identical payloads of one
transaction are sent once: a sync that copies a call's flags gives one notification.

SQLite (one agent's PC) has no listeners: nothing to do there.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 10:00:00.000000
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

CHANNEL = "calmline_flags"  # app.store.alerts.CHANNEL
NAME = "calmline_flag_notify"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        f"CREATE OR REPLACE FUNCTION {NAME}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"PERFORM pg_notify('{CHANNEL}', NEW.call_id::text); RETURN NULL; END $$"
    )
    op.execute(
        f"CREATE TRIGGER {NAME} AFTER INSERT ON flags FOR EACH ROW EXECUTE FUNCTION {NAME}()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"DROP TRIGGER IF EXISTS {NAME} ON flags")
    op.execute(f"DROP FUNCTION IF EXISTS {NAME}()")
