"""Four-eyes approvals and the erasure of applicants' personal data, both audited by the database.

- A pending approval (the first of two an amount above the country's threshold needs) lives on the
  application; setting it writes an APPROVAL_REQUESTED audit row, and every status change clears it.
- Erasure destroys the record's data key and ciphertexts and its blind index; it writes a PII_ERASED
  audit row.
- Re-wrapping a data key under a new key-encryption key keeps the etag: nothing anyone reads changes.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

from intake.migrate import execute_script

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

UPGRADE = r"""
ALTER TABLE applications
    ADD COLUMN pending_approval_by text,
    ADD COLUMN pending_approval_reason text,
    ADD COLUMN pending_approval_at timestamptz,
    ADD COLUMN pii_erased_by text,
    ADD COLUMN pii_erasure_reason text,
    ADD COLUMN pii_erased_at timestamptz,
    ALTER COLUMN document_blind_index DROP NOT NULL,
    ALTER COLUMN full_name_ciphertext DROP NOT NULL,
    ALTER COLUMN document_ciphertext DROP NOT NULL,
    ADD CONSTRAINT applications_erasure_complete CHECK (
        pii_erased_at IS NULL
        OR (pii_wrapped_key IS NULL AND full_name_ciphertext IS NULL AND document_ciphertext IS NULL
            AND document_blind_index IS NULL));

ALTER TABLE application_events DROP CONSTRAINT application_events_kind_check;
ALTER TABLE application_events ADD CONSTRAINT application_events_kind_check CHECK (
    kind IN ('CREATED', 'STATUS_CHANGED', 'BANK_CONFIRMATION_RECORDED', 'PII_REVEALED', 'APPROVAL_REQUESTED',
             'PII_ERASED'));

CREATE OR REPLACE FUNCTION applications_touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- Re-wrapping a data key under another key-encryption key changes nothing anyone reads: same etag.
    IF to_jsonb(NEW) - 'pii_key_id' - 'pii_wrapped_key'
       = to_jsonb(OLD) - 'pii_key_id' - 'pii_wrapped_key' THEN
        RETURN NEW;
    END IF;
    NEW.version := OLD.version + 1;
    NEW.updated_at := now();
    RETURN NEW;
END $$;

CREATE OR REPLACE FUNCTION applications_record_approval_and_erasure() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.pending_approval_by IS NOT NULL AND OLD.pending_approval_by IS NULL THEN
        INSERT INTO application_events
            (application_id, kind, actor, from_status, to_status, reason, occurred_at)
        VALUES (NEW.id, 'APPROVAL_REQUESTED', NEW.pending_approval_by, NEW.status, NEW.status,
                NEW.pending_approval_reason, NEW.pending_approval_at);
    END IF;
    IF NEW.pii_erased_at IS NOT NULL AND OLD.pii_erased_at IS NULL THEN
        INSERT INTO application_events
            (application_id, kind, actor, from_status, to_status, reason, occurred_at)
        VALUES (NEW.id, 'PII_ERASED', NEW.pii_erased_by, NEW.status, NEW.status, NEW.pii_erasure_reason,
                NEW.pii_erased_at);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER applications_record_approval_and_erasure
    AFTER UPDATE OF pending_approval_by, pii_erased_at ON applications
    FOR EACH ROW EXECUTE FUNCTION applications_record_approval_and_erasure();
"""

DOWNGRADE = r"""
DROP TRIGGER applications_record_approval_and_erasure ON applications;
DROP FUNCTION applications_record_approval_and_erasure();
CREATE OR REPLACE FUNCTION applications_touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.version := OLD.version + 1;
    NEW.updated_at := now();
    RETURN NEW;
END $$;
ALTER TABLE application_events DROP CONSTRAINT application_events_kind_check;
ALTER TABLE application_events ADD CONSTRAINT application_events_kind_check CHECK (
    kind IN ('CREATED', 'STATUS_CHANGED', 'BANK_CONFIRMATION_RECORDED', 'PII_REVEALED'));
ALTER TABLE applications
    DROP CONSTRAINT applications_erasure_complete,
    DROP COLUMN pending_approval_by,
    DROP COLUMN pending_approval_reason,
    DROP COLUMN pending_approval_at,
    DROP COLUMN pii_erased_by,
    DROP COLUMN pii_erasure_reason,
    DROP COLUMN pii_erased_at;
"""


def upgrade() -> None:
    execute_script(UPGRADE)


def downgrade() -> None:
    execute_script(DOWNGRADE)
