"""Carry the W3C trace context of each change to the events it queues, so that one trace runs from the
request through the outbox relay, JetStream and the consumers.

The application row keeps the trace context of the request that last wrote it; a trigger copies it to
every outbox row queued for the application, in the same transaction.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28
"""

from intake.migrate import execute_script

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

UPGRADE = r"""
ALTER TABLE applications ADD COLUMN trace_context text;
ALTER TABLE outbox_events ADD COLUMN trace_context text;

CREATE FUNCTION outbox_events_trace_context() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    SELECT a.trace_context INTO NEW.trace_context FROM applications a WHERE a.id = NEW.application_id;
    RETURN NEW;
END $$;
CREATE TRIGGER outbox_events_trace_context BEFORE INSERT ON outbox_events
    FOR EACH ROW EXECUTE FUNCTION outbox_events_trace_context();
"""

DOWNGRADE = r"""
DROP TRIGGER outbox_events_trace_context ON outbox_events;
DROP FUNCTION outbox_events_trace_context();
ALTER TABLE outbox_events DROP COLUMN trace_context;
ALTER TABLE applications DROP COLUMN trace_context;
"""


def upgrade() -> None:
    execute_script(UPGRADE)


def downgrade() -> None:
    execute_script(DOWNGRADE)
